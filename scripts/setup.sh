#!/usr/bin/env bash
# Install what libxmm builds, tests and benchmarks with: Debian 12 packages only.
# Idempotent: does nothing when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config         # toolchain (CMake 3.25 on Debian 12)
  libck-dev liburcu-dev libhwloc-dev       # atomics, RCU, topology
  libcriterion-dev libbenchmark-dev        # tests, benchmarks
  gnuplot-nox strace                       # report plots, the pinpool syscall check
  util-linux bsdextrautils procps git      # setarch (TSan), column, free, the report header
  # the hardening stages of scripts/test.sh (fuzz, model, arm64)
  clang-14 libclang-rt-14-dev              # libFuzzer with ASan/UBSan/TSan
  spin                                     # model checking (tests/model)
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static   # arm64 cross build and run
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Install what libxmm builds, tests and benchmarks with: Debian 12 packages only.
# Idempotent: does nothing when everything is already there.
# Usage: scripts/setup.sh [--ports | --page]   (--ports: also what the ports' tests need,
#        ports/*/test.sh; --page: the browser that scripts/check_report_page.sh opens the report in)
set -euo pipefail

packages=(
  build-essential cmake pkg-config         # toolchain (CMake 3.25 on Debian 12)
  libck-dev liburcu-dev libhwloc-dev       # atomics, RCU, topology
  libcriterion-dev libbenchmark-dev        # tests, benchmarks
  gnuplot-nox strace                       # report plots, the pinpool syscall check
  util-linux bsdextrautils procps git      # setarch (TSan), column, free, the report header
  doxygen python3 man-db                   # the API reference and its man pages (docs/)
  # the hardening stages of scripts/test.sh (fuzz, model, arm64)
  clang-14 libclang-rt-14-dev              # libFuzzer with ASan/UBSan/TSan
  spin                                     # model checking (tests/model)
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static   # arm64 cross build and run
)
if [ "${1:-}" = --page ]; then
  packages+=(chromium)                     # the report page, opened as a reader would
fi
if [ "${1:-}" = --ports ]; then
  packages+=(
    qemu-system-x86 busybox-static           # the VMs the ports boot, their initramfs
    cpio gzip xz-utils zstd kmod             # initramfs packing, kernel/module tools
    dpkg-dev debian-archive-keyring          # dpkg-source -x, the private apt lists' keyring
    flex bison bc libelf-dev libssl-dev python3   # building Linux modules and Xen
  )
fi

# Native packages by name and architecture: with a foreign architecture added (the arm64
# stage's), a bare name can answer for the other architecture's package.
arch=$(dpkg --print-architecture)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status} ${Architecture}\n' "$p" 2>/dev/null |
       grep -Eq "^install ok installed ($arch|all)$"; then
    case "$p" in *:*) missing+=("$p") ;; *) missing+=("$p:$arch") ;; esac
  fi
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

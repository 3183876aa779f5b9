#!/usr/bin/env bash
# The arm64 stage (scripts/test.sh arm64): the freestanding core checked with
# aarch64 kernel flags, then the library and every test cross-built with
# gcc-aarch64-linux-gnu against Debian's arm64 libraries (multiarch, Criterion
# unpacked into the cache) and the tests that run under qemu-aarch64 user
# emulation run (see the end).
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=${XMM_JOBS:-2}
cache=${XMM_CACHE:-/var/cache/libxmm}
extra=$cache/arm64-criterion-2.4.1
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
# hwloc and liburcu install beside the amd64 ones (Multi-Arch: same).
if ! dpkg-query -W -f='${Status}\n' libhwloc-dev:arm64 liburcu-dev:arm64 2>/dev/null |
     grep -c 'install ok installed' | grep -qx 2; then
  echo "arm64: adding the arm64 architecture, libhwloc-dev:arm64 and liburcu-dev:arm64"
  $sudo dpkg --add-architecture arm64
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    libhwloc-dev:arm64 liburcu-dev:arm64 >/dev/null
fi
# Criterion does not (installing libcriterion-dev:arm64 removes the amd64 one):
# its arm64 .debs are unpacked into the cache instead (cmake/aarch64.cmake).
if [ ! -f "$extra/usr/lib/aarch64-linux-gnu/pkgconfig/criterion.pc" ]; then
  echo "arm64: unpacking Criterion for arm64 into $extra"
  debs=$cache/arm64-debs
  mkdir -p "$debs" "$extra"
  (cd "$debs" && apt-get download libcriterion3:arm64 libcriterion-dev:arm64 libnanomsg5:arm64 \
     libgit2-1.5:arm64 2>/dev/null)
  for d in "$debs"/*.deb; do dpkg -x "$d" "$extra"; done
  # Our prefix; no private requirements (linked shared; its deps have no .pc here).
  sed -i -e "s|^prefix=.*|prefix=$extra/usr|" -e "/^Requires.private/d" -e "/^Libs.private/d" \
    "$extra/usr/lib/aarch64-linux-gnu/pkgconfig/criterion.pc"
fi
cmake --preset freestanding-arm64 >/dev/null
cmake --build --preset freestanding-arm64 -j "$jobs" >/dev/null
ctest --preset freestanding-arm64
cmake --preset arm64 >/dev/null
cmake --build --preset arm64 -j "$jobs" >/dev/null
# What runs under qemu-aarch64 today: the single-threaded fuzz replays. Every
# threaded test (stress, the multi-threaded fuzz inputs, faults, soak) and the
# Criterion tests hang under Debian 12's qemu-user 7.2 here (not diagnosed yet:
# issue 15's report); they are built, so the cross build covers them.
ctest --preset arm64 -j "$jobs" --timeout 120 -R '^fuzz\.(flush|zero|zerosweep)$' |
  tee build/arm64/ctest.log | tail -8
echo "=== arm64: freestanding check (aarch64 kernel flags) passed; library and every test cross-built;" \
     "$(grep -E 'tests passed' build/arm64/ctest.log) under qemu-aarch64 (single-threaded subset)"

#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run):
#   freestanding  the core compiled with kernel flags against ports/freestanding,
#                 objects checked for symbols other than the platform hooks
#   release       unit, model and stress tests, example, install check
#   asan          the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan          the concurrency stress tests under ThreadSanitizer
#   xen           ports/xen/test.sh: Xen 4.17 patched with libxmm, both configs built and booted with a dom0
#   linux         ports/linux/test.sh: the core in Debian's kernel under QEMU, bare and as Xen dom0
#   page          scripts/check_report_page.sh: a quick report, its page opened in headless Chromium
# Usage: scripts/test.sh [stage ...]   (default: all, in that order; a stage X with a
#        ports/X/test.sh runs that script instead of a CMake preset)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(freestanding release asan tsan page xen linux) # xen first: linux boots its patched Xen
jobs=$(nproc)
start=$SECONDS
for p in "${presets[@]}"; do
  echo "=== $p"
  t0=$SECONDS
  if [ -x "ports/$p/test.sh" ]; then "ports/$p/test.sh"; echo "=== $p passed in $((SECONDS - t0)) s"; continue; fi
  if [ "$p" = page ]; then scripts/check_report_page.sh; echo "=== $p passed in $((SECONDS - t0)) s"; continue; fi
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs"
  if [ "$p" = tsan ]; then
    # TSan needs its fixed memory layout; some kernels' mmap randomization breaks it.
    setarch "$(uname -m)" -R ctest --preset "$p" -j "$jobs"
  else
    ctest --preset "$p" -j "$jobs"
  fi
  echo "=== $p passed in $((SECONDS - t0)) s"
done
echo "=== all passed in $((SECONDS - start)) s"

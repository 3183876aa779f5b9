#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run):
#   freestanding  the core compiled with kernel flags against ports/freestanding,
#                 objects checked for symbols other than the platform hooks
#   release       unit, model and stress tests, fuzz corpora replayed, example, install check
#   asan          the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan          the concurrency stress tests (and the fuzz corpora) under ThreadSanitizer
#   page          scripts/check_report_page.sh: a quick report, its page opened in headless Chromium
#   fuzz          libFuzzer targets, XMM_FUZZ_SECONDS each (tests/fuzz/run.sh)
#   model         spin models of the tagged stack and the flush clock (tests/model/run.sh)
#   faults        fail the Nth allocation for every N, under LeakSanitizer (tests/faults)
#   arm64         cross build, tests under qemu-aarch64, aarch64 freestanding check
#   soak          scrub daemon + p2m + pinpool under RLIMIT_AS, XMM_SOAK_SECONDS
#   xen           ports/xen/test.sh: Xen 4.17 patched with libxmm, both configs built and booted with a dom0
#   linux         ports/linux/test.sh: the core in Debian's kernel under QEMU, bare and as Xen dom0
# Usage: scripts/test.sh [stage ...]   (default: all, in that order; xen before linux, which
#        boots the patched Xen that xen leaves)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(freestanding release asan tsan page fuzz model faults arm64 soak xen linux)
jobs=$(nproc)
export XMM_JOBS=$jobs
start=$SECONDS
for p in "${stages[@]}"; do
  echo "=== $p"
  t0=$SECONDS
  case $p in
    freestanding|release|asan|tsan)
      cmake --preset "$p" >/dev/null
      cmake --build --preset "$p" -j "$jobs"
      if [ "$p" = tsan ]; then
        # TSan needs its fixed memory layout; some kernels' mmap randomization breaks it.
        setarch "$(uname -m)" -R ctest --preset "$p" -j "$jobs"
      else
        ctest --preset "$p" -j "$jobs"
      fi
      ;;
    fuzz) tests/fuzz/run.sh ;;
    model) tests/model/run.sh ;;
    faults) tests/faults/run.sh ;;
    arm64) tests/arm64/run.sh ;;
    soak) tests/soak/run.sh ;;
    page) scripts/check_report_page.sh ;;
    xen|linux) "ports/$p/test.sh" ;;
    *) echo "test.sh: unknown stage '$p'" >&2; exit 2 ;;
  esac
  echo "=== $p passed in $((SECONDS - t0)) s"
done
echo "=== all passed in $((SECONDS - start)) s"

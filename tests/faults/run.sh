#!/usr/bin/env bash
# The faults stage (scripts/test.sh faults): the fault-injection test under
# ASan + LeakSanitizer (the asan build), one line per scenario.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset asan >/dev/null
cmake --build --preset asan -j "${XMM_JOBS:-2}" --target faults >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build/asan/tests/faults/faults
n=$(build/asan/tests/faults/faults | grep -c 'allocation points')
echo "=== faults: $n scenarios, every allocation point failed once, no leak"

#!/usr/bin/env bash
# The fuzz stage (scripts/test.sh fuzz): every target of tests/fuzz under
# libFuzzer with ASan + UBSan for XMM_FUZZ_SECONDS each (default 20: CI's
# share is 7 x 20 s plus 3 x 10 s under TSan, about 4 minutes with the
# builds), starting from the committed corpus; then the multi-threaded modes
# (scrub, p2m, pinpool) under TSan for half that. Any crash, leak, sanitizer
# report or timeout fails the stage; the reproducer is left in
# build/fuzz/artifacts/<target>/ (make it a regression: tests/fuzz/README.md).
# Prints one line per target: executions, coverage (edges), features, corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${XMM_FUZZ_SECONDS:-20}
targets=(${XMM_FUZZ_TARGETS:-flush scrub p2m pinpool zero zerosweep topo})
mt_targets=(scrub p2m pinpool)
jobs=${XMM_JOBS:-2}
sup=$PWD/tests/fuzz

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs" >/dev/null
cmake --preset fuzz-tsan >/dev/null
cmake --build --preset fuzz-tsan -j "$jobs" >/dev/null

fail=0 total=0
summary=()
run_one() { # build-dir target seconds env...
  local dir=$1 t=$2 s=$3; shift 3
  local work=$dir/corpus/$t art=$dir/artifacts/$t log=$dir/fuzz_$t.log
  mkdir -p "$work" "$art"
  rm -f "$art"/*
  if ! env "$@" timeout $((s + 120)) "$dir/tests/fuzz/fuzz_$t" -max_total_time="$s" -timeout=20 \
       -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$art/" "$work" \
       tests/fuzz/corpus/"$t" >"$log" 2>&1; then
    echo "fuzz: $t FAILED ($dir): reproducer in $art, log $log" >&2
    grep -E 'check failed|ERROR|WARNING|SUMMARY' "$log" | head -5 >&2 || true
    fail=1
  fi
  local execs cov ft corp
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -Eo 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -Eo 'corp: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  total=$((total + ${execs:-0}))
  summary+=("$(printf '%-10s %-9s %10s execs %5s cov %6s ft %5s inputs' "$t" \
              "$(basename "$dir")" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")")
}

for t in "${targets[@]}"; do
  run_one build/fuzz "$t" "$secs" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    LSAN_OPTIONS=suppressions=$sup/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
done
for t in "${mt_targets[@]}"; do
  # The input's first byte picks the multi-threaded mode about half the time.
  run_one build/fuzz-tsan "$t" $(((secs + 1) / 2)) \
    TSAN_OPTIONS=halt_on_error=1:suppressions=$sup/tsan.supp setarch "$(uname -m)" -R
done
printf '%s\n' "${summary[@]}"
if [ $fail -ne 0 ]; then
  echo "=== fuzz FAILED"
  exit 1
fi
echo "=== fuzz: ${#targets[@]} targets x ${secs} s (ASan+UBSan) + ${#mt_targets[@]} x $(((secs + 1) / 2)) s (TSan): $total executions, no failure"

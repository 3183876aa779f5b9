#!/usr/bin/env bash
# The model stage (scripts/test.sh model): spin exhausts each model on a small
# configuration (about 40 s and 2 GiB in all). Each "expect pass" run must end
# with 0 errors over its whole state space; each "expect fail" run is a check
# that the model can fail at all: a tag too narrow for the configuration (the
# ABA wrap becomes reachable), or a planted off-by-one in the filter.
# Prints one line per run: states stored, depth, errors, time.
set -euo pipefail
cd "$(dirname "$0")"
work=../../build/model
mkdir -p "$work"
fail=0
summary=()

check() { # expect(pass|fail) model.pml spin-defines...
  local expect=$1 model=$2; shift 2
  local name="$model $*" dir log t0=$SECONDS errors states depth
  dir=$work/$(basename "$model" .pml)$(echo "$*" | tr -c 'A-Za-z0-9=' _)
  mkdir -p "$dir"
  cp "$model" "$dir/"
  log=$dir/pan.log
  (cd "$dir" && spin -a "$@" "$model" >/dev/null &&
     gcc -O2 -DSAFETY -DMEMLIM=4096 -w -o pan pan.c && ./pan -m200000 >pan.log 2>&1) || true
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$log" | tail -1)
  states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$log" | tail -1)
  depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$log" | tail -1)
  if grep -q 'max search depth too small\|out of memory' "$log"; then errors=incomplete; fi
  summary+=("$(printf '%-34s %12s states  depth %4s  errors %s  (%d s, expect %s)' "$name" \
              "${states:-?}" "${depth:-?}" "${errors:-?}" $((SECONDS - t0)) "$expect")")
  if { [ "$expect" = pass ] && [ "${errors:-x}" != 0 ]; } ||
     { [ "$expect" = fail ] && { [ -z "$errors" ] || [ "$errors" = 0 ] || [ "$errors" = incomplete ]; }; }; then
    echo "model: $name: expected $expect, got errors=${errors:-none} (log $log)" >&2
    fail=1
  fi
}

check pass tagstack.pml -DTAGBITS=3 -DNOPS=4   # 3-bit tag: no wrap within 7 changes
check fail tagstack.pml -DTAGBITS=2 -DNOPS=4   # 2-bit tag: the ABA wrap is reachable
check pass flush.pml
check fail flush.pml -DMUTANT=1                # a filter dropping e == stamp
printf '%s\n' "${summary[@]}"
[ $fail -eq 0 ] || { echo "=== model FAILED"; exit 1; }
echo "=== model: 2 models exhausted, 2 planted failures found"

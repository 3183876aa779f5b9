#!/usr/bin/env bash
# The main job: build the benchmarks, run every seed scenario against its
# baselines in the same run, and print the report table.
#   scripts/report.sh [--quick] [--out DIR]     (default DIR: report/)
# Writes DIR/report.tsv (the table), DIR/<primitive>.json (Google Benchmark),
# DIR/*.png (plots) and DIR/machine.txt (what it ran on).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
out=report
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null

rm -rf "$out"
mkdir -p "$out"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)"
  # A virtual machine's model name can hide the CPU generation ("AMD EPYC"); family
  # and model tell it (AMD: family 25 is Zen 3/4, 26 Zen 5), and with it the figures.
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
    "(family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')," \
    "model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' ');" \
    "L3 $(lscpu 2>/dev/null | awk -F: '/^L3 cache/ {gsub(/^ +/, "", $2); print $2}'))"
  echo "cpus: $(nproc)  memory: $(free -g | awk '/Mem:/ {print $2}') GiB  kernel: $(uname -r)"
  echo "mode: ${quick:-default}"
} > "$out/machine.txt"
cat "$out/machine.txt"

for b in build/release/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "=== $(basename "$b")"
  "$b" $quick --report "$out" --benchmark_color=false > "$out/$(basename "$b").log" 2>&1 || {
    echo "$(basename "$b") failed; see $out/$(basename "$b").log" >&2
    tail -20 "$out/$(basename "$b").log" >&2
    exit 1
  }
done

for gp in bench/plot/*.gp; do
  name=$(basename "$gp" .gp)
  [ -f "$out/$name.dat" ] && gnuplot -e "dir='$out'" "$gp"
done

echo
echo "libxmm seed-scenario report (ratio: how many times better libxmm is than the baseline)"
column -t -s $'\t' "$out/report.tsv"
echo
echo "targets met: $(awk -F'\t' 'NR > 1 && $10 == "yes"' "$out/report.tsv" | wc -l)," \
     "missed: $(awk -F'\t' 'NR > 1 && $10 == "NO"' "$out/report.tsv" | wc -l)"
echo "files: $out/report.tsv $out/*.json $(ls "$out"/*.png 2>/dev/null | tr '\n' ' ')"

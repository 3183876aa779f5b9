#!/usr/bin/env bash
# The main job: build the benchmarks, run every seed scenario against its
# baselines in the same run, and write the report.
#
#   scripts/report.sh [--quick] [--strict] [--out DIR] [BENCH FLAGS...]
#
#   --quick    short runs, fewer sizes, single samples (under a minute)
#   --strict   exit 1 when a target is missed (the default run exits 0 and
#              says which were missed)
#   --out DIR  where the report goes (default report/). A directory that exists
#              must be one an earlier report.sh made (it holds .libxmm-report)
#              or be empty; report.sh replaces only what it made.
#   anything else goes to every bench_<primitive>, e.g. --samples 5 or
#   --benchmark_filter=REGEX (see bench_<primitive> --help)
#
# Writes DIR/report.md and DIR/index.html (the one-page report: machine,
# commit, summary of targets, one section per seed with its table and plot),
# DIR/report.tsv (every row, in seed order), DIR/<primitive>.json (Google
# Benchmark), DIR/<primitive>.log, DIR/*.png and DIR/machine.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
strict=0
out=report
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick ;;
    --strict) strict=1 ;;
    --out) [ $# -ge 2 ] || { echo "report.sh: --out needs a directory" >&2; exit 2; }
           out=$2; shift ;;
    --help|-h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) pass+=("$1") ;;
  esac
  shift
done

# Replace only a report directory this script made.
if [ -e "$out" ] && [ ! -f "$out/.libxmm-report" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  echo "report.sh: $out exists and is not a report directory (no .libxmm-report); not touching it" >&2
  exit 2
fi
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null

if [ -f "$out/.libxmm-report" ]; then
  rm -f "$out"/*.json "$out"/*.log "$out"/*.dat "$out"/*.png "$out"/report.tsv \
        "$out"/report.md "$out"/index.html "$out"/machine.txt
fi
mkdir -p "$out"
touch "$out/.libxmm-report"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo none)
git diff --quiet HEAD 2>/dev/null || commit="$commit+dirty"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $commit"
  # A virtual machine's model name can hide the CPU generation ("AMD EPYC"); family
  # and model tell it (AMD: family 25 is Zen 3/4, 26 Zen 5), and with it the figures.
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
    "(family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')," \
    "model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' ');" \
    "L3 $(lscpu 2>/dev/null | awk -F: '/^L3 cache/ {gsub(/^ +/, "", $2); print $2}'))"
  echo "cpus: $(nproc)  memory: $(free -g | awk '/Mem:/ {print $2}') GiB  kernel: $(uname -r)"
  echo "mode: ${quick:-default}${pass[*]:+ (${pass[*]})}"
} > "$out/machine.txt"
cat "$out/machine.txt"

# Seed order: 000 flush, 001 scrub, 002 pinpool, 003 zero and zerosweep, 004 p2m.
benches=()
for b in flush scrub pinpool zero zerosweep p2m; do
  [ -x "build/release/bench/bench_$b" ] && benches+=("bench_$b")
done
start=$SECONDS
i=0
for b in "${benches[@]}"; do
  i=$((i + 1))
  echo "=== [$i/${#benches[@]}] $b (report so far: $((SECONDS - start)) s)"
  # The bench prints its own progress to stderr on long steps; keep it on the terminal.
  if ! "build/release/bench/$b" $quick --report "$out" --benchmark_color=false ${pass[@]+"${pass[@]}"} \
       > "$out/$b.log" 2> >(tee -a "$out/$b.log" | grep --line-buffered '^\[' >&2); then
    echo "$b failed; see $out/$b.log" >&2
    tail -20 "$out/$b.log" >&2
    exit 1
  fi
done

# Rows in seed order (each bench appends its own; a stable sort keeps their order).
if [ -f "$out/report.tsv" ]; then
  { head -1 "$out/report.tsv"; tail -n +2 "$out/report.tsv" | sort -s -t$'\t' -k1,1; } > "$out/report.tsv.tmp"
  mv "$out/report.tsv.tmp" "$out/report.tsv"
fi

caption="commit $commit, $(sed -n 's/^cpu: //p' "$out/machine.txt"), ${quick:+quick run, }$(date -u +%F)"
for gp in bench/plot/*.gp; do
  name=$(basename "$gp" .gp)
  [ -f "$out/$name.dat" ] || continue
  gnuplot -e "dir='$out'; caption='${caption//\'/}'" "$gp" || echo "report.sh: plot $name failed" >&2
done
scripts/report_page.sh "$out"

echo
echo "libxmm seed-scenario report (ratio: how many times better libxmm is than the baseline)"
cut -f1-10 "$out/report.tsv" | column -t -s $'\t'
echo
met=$(awk -F'\t' 'NR > 1 && $10 == "yes"' "$out/report.tsv" | wc -l)
missed=$(awk -F'\t' 'NR > 1 && $10 == "NO"' "$out/report.tsv" | wc -l)
echo "targets met: $met, missed: $missed"
awk -F'\t' 'NR > 1 && $10 == "NO" {
  printf "  missed: seed %s, %s (%s) vs %s: %sx, target %s\n", $1, $2, $3, $4, $8, $9 }' "$out/report.tsv"
echo "report: $out/report.md $out/index.html (plots: $(ls "$out"/*.png 2>/dev/null | tr '\n' ' '))"
echo "took $((SECONDS - start)) s"
if [ "$strict" = 1 ] && [ "$missed" -gt 0 ]; then
  exit 1
fi

#!/usr/bin/env bash
# Write the README's measured table from report directories (scripts/report.sh --out DIR):
#   scripts/readme_table.sh DIR [DIR ...]
# One column per report (its machine and commit), one row per target, in seed order;
# a missed target is bold. The table replaces what stands between the README's
# "<!-- measured:begin -->" and "<!-- measured:end -->" lines; nothing else changes.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 DIR [DIR ...]" >&2; exit 2; }
table=$(mktemp)
trap 'rm -f "$table"' EXIT
{
  printf '| seed | scenario | parameters | baseline | target |'
  for d in "$@"; do
    cpu=$(sed -n 's/^cpu: //p' "$d/machine.txt" | sed 's/ *(/ (/; s/; L3.*)/)/')
    printf ' %s, %s |' "$cpu" "$(sed -n 's/^commit: //p' "$d/machine.txt")"
  done
  printf '\n|---|---|---|---|---|'
  for _ in "$@"; do printf -- '---|'; done
  printf '\n'
  # Keyed by seed, scenario, parameters and baseline, in the first report's order.
  awk -F'\t' -v n=$# '
    FNR == 1 { f++; next }
    $10 != "yes" && $10 != "NO" { next }
    {
      k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
      if (!(k in seen)) { seen[k] = ++nk; key[nk] = k; tgt[k] = $9 }
      v = sprintf("%.3gx", $8)
      if ($11 != "-") v = v sprintf(" (%.3g-%.3g)", $11, $12)
      cell[k, f] = ($10 == "NO") ? "**" v "**" : v
    }
    END {
      for (i = 1; i <= nk; i++) {
        split(key[i], p, SUBSEP)
        printf "| %s | %s | %s | %s | %s |", p[1], p[2], p[3], p[4], tgt[key[i]]
        for (j = 1; j <= n; j++) printf " %s |", ((key[i], j) in cell) ? cell[key[i], j] : "-"
        printf "\n"
      }
    }' $(for d in "$@"; do echo "$d/report.tsv"; done)
} > "$table"
grep -q '^<!-- measured:begin -->$' README.md || { echo "README.md has no measured markers" >&2; exit 1; }
awk -v t="$table" '
  /^<!-- measured:begin -->$/ { print; while ((getline l < t) > 0) print l; skip = 1; next }
  /^<!-- measured:end -->$/ { skip = 0 }
  !skip' README.md > README.md.tmp
mv README.md.tmp README.md
echo "readme_table.sh: README.md's measured table from $*"

#!/usr/bin/env bash
# The one-page report of a report directory (scripts/report.sh calls it):
#   scripts/report_page.sh DIR
# reads DIR/machine.txt, DIR/report.tsv and DIR/*.png and writes DIR/report.md
# and DIR/index.html (the same page, self-contained: the plots are embedded).
# It opens with the machine, the commit and a summary of the targets (met,
# missed, by how much, with the range of the ratio over the repetitions), then
# one section per seed with its table and its plots.
set -euo pipefail
dir=${1:?usage: report_page.sh DIR}
tsv=$dir/report.tsv
[ -f "$tsv" ] || { echo "report_page.sh: no $tsv" >&2; exit 1; }

seed_title() {
  case "$1" in
    000) echo "Seed 000: TLB-flush filter (xmm/flush.h)" ;;
    001) echo "Seed 001: scrubbing a dying guest (xmm/scrub.h)" ;;
    002) echo "Seed 002: pinned hypercall buffers (xmm/pinpool.h)" ;;
    003) echo "Seed 003: zero detection and the PoD sweep (xmm/zero.h, xmm/zerosweep.h)" ;;
    004) echo "Seed 004: sparse linear p2m (xmm/p2m.h)" ;;
    *) echo "Seed $1" ;;
  esac
}
seed_plots() {
  case "$1" in
    000) echo flush ;;
    001) echo "scrub scrub_destroy" ;;
    002) echo pinpool ;;
    003) echo "zero zerosweep" ;;
    004) echo p2m ;;
  esac
}

# The summary: one line per target, with the margin (ratio / target) and the range.
summary() {
  awk -F'\t' '
    NR == 1 { next }
    $10 == "yes" || $10 == "NO" {
      n++; if ($10 == "yes") met++; else missed++
      margin = ($13 > 0 && $13 != "inf") ? $8 / $13 : 0
      range = ($11 == "-") ? "single run" : sprintf("%s-%sx", $11, $12)
      verdict = ($10 == "yes") ? "met" : "**missed**"
      if ($10 == "NO" && $12 != "-" && $13 > 0 && $12 + 0 >= $13 + 0) verdict = verdict " (within the spread)"
      line[n] = sprintf("| %s | %s | %s | %s | %.3gx | %s | %s | %s |", $1, $2, $3, $4, $8, $9,
                        margin > 0 ? sprintf("%.2f", margin) : "-", range " " verdict)
    }
    END {
      printf "**Targets: %d met, %d missed** (of %d). Margin: the ratio over the target ratio (1.00 is exactly on target); range: the lowest and highest ratio over the repetitions.\n\n", met, missed, n
      print "| seed | scenario | parameters | baseline | ratio | target | margin | range, verdict |"
      print "|---|---|---|---|---|---|---|---|"
      for (i = 1; i <= n; i++) print line[i]
    }' "$tsv"
}

seed_table() {
  awk -F'\t' -v s="$1" '
    NR == 1 { next }
    $1 == s {
      if ($10 ~ /^not measured/) {
        printf "| %s | %s | - | - | - | - | %s |\n", $2, $3, $10
        next
      }
      range = ($11 == "-") ? "" : sprintf(" (%s-%s)", $11, $12)
      met = ($10 == "NO") ? "**NO**" : $10
      printf "| %s | %s | %s: %s | %s %s | %sx%s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, range, $9, met
    }' "$tsv"
}

{
  echo "# libxmm seed-scenario report"
  echo
  sed 's/^/    /' "$dir/machine.txt"
  echo
  echo "Every ratio compares libxmm with a baseline measured in the same run: how many times better"
  echo "libxmm is (baseline / libxmm for costs, libxmm / baseline for throughputs). The machine is the"
  echo "one above; on a shared virtual machine, single runs vary by a few percent."
  echo
  echo "## Summary"
  echo
  summary
  for s in 000 001 002 003 004; do
    awk -F'\t' -v s=$s 'NR > 1 && $1 == s {f = 1} END {exit !f}' "$tsv" || continue
    echo
    echo "## $(seed_title $s)"
    echo
    for p in $(seed_plots $s); do
      [ -f "$dir/$p.png" ] && echo "![$p]($p.png)" && echo
    done
    echo "| scenario | parameters | baseline | libxmm | ratio (range) | target | met |"
    echo "|---|---|---|---|---|---|---|"
    seed_table $s
  done
  echo
  echo "Files: report.tsv (every row), <primitive>.json (Google Benchmark), <primitive>.log, machine.txt."
} > "$dir/report.md"

# The HTML page: the same content, tables and plots inline (base64), no external file.
md_to_html() {
  awk -v dir="$dir" '
    function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
    function inline(s) {
      s = esc(s)
      while (match(s, /\*\*[^*]+\*\*/)) s = substr(s, 1, RSTART - 1) "<b>" substr(s, RSTART + 2, RLENGTH - 4) "</b>" substr(s, RSTART + RLENGTH)
      return s
    }
    function close_table() { if (intable) { print "</tbody></table>"; intable = 0 } }
    function flush_para() { if (para != "") { print "<p>" para "</p>"; para = "" } }
    /^# / { flush_para(); close_table(); print "<h1>" inline(substr($0, 3)) "</h1>"; next }
    /^## / { flush_para(); close_table(); print "<h2>" inline(substr($0, 4)) "</h2>"; next }
    /^    / { flush_para(); close_table(); if (!inpre) { print "<pre>"; inpre = 1 } print esc(substr($0, 5)); next }
    { if (inpre) { print "</pre>"; inpre = 0 } }
    /^!\[/ {
      flush_para(); close_table()
      f = $0; sub(/^!\[[^]]*\]\(/, "", f); sub(/\)$/, "", f)
      cmd = "base64 -w0 \"" dir "/" f "\""; cmd | getline b64; close(cmd)
      print "<p><img alt=\"" f "\" src=\"data:image/png;base64," b64 "\"></p>"; next
    }
    /^\|---/ { next }
    /^\|/ {
      flush_para()
      n = split($0, c, "|")
      if (!intable) { print "<table><thead><tr>"; for (i = 2; i < n; i++) print "<th>" inline(c[i]) "</th>"; print "</tr></thead><tbody>"; intable = 1; next }
      cls = ($0 ~ /\*\*(NO|missed)\*\*/) ? " class=\"miss\"" : ""
      printf "<tr%s>", cls; for (i = 2; i < n; i++) printf "<td>%s</td>", inline(c[i]); print "</tr>"; next
    }
    /^$/ { close_table(); flush_para(); next }
    { close_table(); para = para (para == "" ? "" : " ") inline($0) }
    END { close_table(); flush_para(); if (inpre) print "</pre>" }' "$dir/report.md"
}
{
  cat <<'EOF'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>libxmm seed-scenario report</title>
<style>
body { font-family: sans-serif; max-width: 1250px; margin: 1em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 13px; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
tr.miss td { background: #fde2e2; }
pre { background: #f6f6f6; padding: 0.6em; }
img { max-width: 100%; border: 1px solid #ddd; }
</style></head><body>
EOF
  md_to_html
  echo "</body></html>"
} > "$dir/index.html"
echo "report_page.sh: $dir/report.md, $dir/index.html"

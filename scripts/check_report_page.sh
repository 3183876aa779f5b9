#!/usr/bin/env bash
# The report a person reads, checked as a person would read it (scripts/test.sh page):
# a quick report into DIR (default build/report-check), its index.html opened in
# headless Chromium, and a screenshot DIR/screenshot.png of the top of the page
# (the machine, the summary of targets, the first plots). Fails if the page lacks
# the summary or a plot, or if the screenshot is missing or blank.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/report-check}
scripts/setup.sh --page
mkdir -p "$(dirname "$dir")"
scripts/report.sh --quick --out "$dir" > "$dir.log" 2>&1 || { tail -30 "$dir.log"; exit 1; }
html=$dir/index.html
grep -q '<h2>Summary</h2>' "$html" || { echo "check_report_page: no summary in $html" >&2; exit 1; }
imgs=$(grep -o '<img alt=' "$html" | wc -l)
[ "$imgs" -ge 5 ] || { echo "check_report_page: $imgs plots in $html, want 5 or more" >&2; exit 1; }
shot=$dir/screenshot.png
rm -f "$shot"
# Root needs --no-sandbox; a fresh profile keeps the run from touching the user's.
timeout 120 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$(mktemp -d)" --window-size=1280,2600 --screenshot="$shot" \
  "file://$(realpath "$html")" > "$dir/chromium.log" 2>&1 || true
[ -s "$shot" ] || { echo "check_report_page: no screenshot"; tail -5 "$dir/chromium.log"; exit 1; } >&2
size=$(stat -c %s "$shot")
[ "$size" -gt 100000 ] || { echo "check_report_page: screenshot is only $size bytes: blank?" >&2; exit 1; }
echo "check_report_page: $html has the summary and $imgs plots; screenshot $shot ($size bytes)"

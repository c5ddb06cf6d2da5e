#!/usr/bin/env bash
# The whole-process table of benches/README.md: each cxm pipeline beside its
# scan floor (benches/scripts/floors.py), A and B in turn, medians of 3, with
# ../shared/bench/bench.py. Usage (from a folder holding gen.py's data/t1m and
# data/t10m and a venv with ../shared/bench/requirements.txt):
#
#   bash /path/to/cxm/benches/scripts/measure.sh /path/to/cxm-binary [data/t1m data/t10m]
set -euo pipefail
cxm="$1"; shift
here="$(cd "$(dirname "$0")" && pwd)"
bench="$here/../../../shared/bench/bench.py"
py=".venv/bin/python"
dirs=("$@")
[ ${#dirs[@]} -eq 0 ] && dirs=(data/t1m data/t10m)
for d in "${dirs[@]}"; do
  for fmt in parquet; do
    t="$d/tickets.$fmt"; s="$d/subscriptions.$fmt"; r="$d/survey_responses.$fmt"
    declare -A cmd=(
      [tickets]="support --tickets $t"
      [subscriptions]="revenue --subscriptions $s"
      [surveys]="surveys --surveys $r"
      [report]="report --tickets $t --subscriptions $s --surveys $r"
    )
    for table in tickets subscriptions surveys report; do
      echo "== $d $fmt: cxm ${cmd[$table]%% *}"
      "$py" "$bench" -n 3 --vs "$py $here/floors.py --data $d --table $table --format $fmt" \
        -- "$cxm" ${cmd[$table]} --tz UTC --format csv -q --output "/tmp/cxm-measure-$table" | tail -9
    done
  done
done

#!/usr/bin/env bash
# `cxm sql --dialect duckdb` executed by DuckDB equals `cxm support`, cell by
# cell, on 100k generated tickets (../shared/bench/gen.py, seed 1): UTC; Europe/Berlin
# by channel with extra percentiles; America/New_York by priority with an
# explicit as-of; daily and monthly periods. The python packages (DuckDB,
# and numpy and pyarrow for gen.py) go into a venv beside the cargo target
# folder, made once.
#
#   bash tests/sql/run.sh PATH_TO_CXM_BINARY      (from the repo root, next to ../shared)
set -euo pipefail
cxm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/../.."
bench=../shared/bench
if [ ! -f "$bench/gen.py" ]; then
  echo "tests/sql: ../shared/bench not found; the SQL checks were skipped"
  exit 0
fi
venv="${CARGO_TARGET_DIR:-$HOME/.cache/cxm-target}/../cxm-sql-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$bench/requirements.txt"
fi
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
"$venv/bin/python" "$bench/gen.py" --rows 100000 --seed 1 --out "$data" --format parquet > /dev/null 2>&1
check() { "$venv/bin/python" tests/sql/check_duckdb.py --cxm "$cxm" --tickets "$data/tickets.parquet" "$@"; }
check --since 2024-01-01 --until 2025-12-31
check --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin --by channel --percentiles 95,99
check --since 2024-06-01 --until 2025-03-31 --tz America/New_York --by priority --as-of 2025-03-15T12:00:00Z
check --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin --period day
check --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin --period month --by group

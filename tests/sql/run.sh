#!/usr/bin/env bash
# `cxm sql`, executed by DuckDB, by DataFusion and by Spark (a local Sail server
# through Spark Connect), equals `cxm support`, `cxm surveys`, `cxm revenue`, `cxm
# cohorts` and `cxm purchases`, cell by cell, on 100k generated tickets, their survey responses and subscriptions
# (../shared/bench/gen.py, seed 1):
# support in UTC; Europe/Berlin by channel with extra percentiles;
# America/New_York by priority with an explicit as-of; daily and monthly periods;
# the surveys weekly in UTC (NPS only, and NPS, CSAT and CES with text scores) and
# monthly in Europe/Berlin by the accounts' segment; revenue monthly
# in UTC and in Europe/Berlin (and by the accounts' segment), weekly in UTC and quarterly
# in Europe/Berlin by segment, from amounts and intervals, and in several currencies; cohorts monthly in
# Europe/Berlin (and by the accounts' region) and quarterly; purchases monthly in UTC,
# weekly in Europe/Berlin by the accounts' segment, and monthly in America/New_York
# from a --since after the first purchases. The python packages (DuckDB, DataFusion, pysail and the Spark
# Connect client, and numpy and pyarrow for gen.py) go into a venv beside the cargo
# target folder, made once.
#
#   bash tests/sql/run.sh PATH_TO_CXM_BINARY [with-engine]   (from the repo root, next to ../shared)
set -euo pipefail
cxm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/../.."
bench=../shared/bench
if [ ! -f "$bench/gen.py" ]; then
  echo "tests/sql: ../shared/bench not found; the SQL checks were skipped"
  exit 0
fi
venv="${CARGO_TARGET_DIR:-$HOME/.cache/cxm-target}/../cxm-sql-venv"
if [ ! -x "$venv/bin/sail" ] || ! "$venv/bin/python" -c "import datafusion" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$bench/requirements.txt" "pysail==0.7.2" "pyspark-client==4.2.0" \
    "datafusion==55.0.0"
fi
data=$(mktemp -d)
sail_pid=""
tls_pid=""
cleanup() {
  # Sail's wrapper swallows SIGINT: stop it with SIGTERM, by PID.
  if [ -n "$sail_pid" ]; then kill -TERM "$sail_pid" 2>/dev/null || true; fi
  if [ -n "$tls_pid" ]; then kill "$tls_pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT
"$venv/bin/python" "$bench/gen.py" --rows 100000 --seed 1 --out "$data" --format both --amount-form > /dev/null 2>&1
# The same lines in several currencies (EUR, GBP, USD, empty), and their rates.
"$venv/bin/python" tests/sql/currencies.py "$data/subscriptions.parquet" "$data"
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/sail" spark server --ip 127.0.0.1 --port "$port" > "$data/sail.log" 2>&1 &
sail_pid=$!
# Sail starts in about a second; wait for its port (at most 60 s).
"$venv/bin/python" - "$port" <<'PY'
import socket, sys, time
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("the Sail server did not start")
PY
check() {
  "$venv/bin/python" -W ignore tests/sql/check_sql.py --cxm "$cxm" --tickets "$data/tickets.parquet" \
    --remote "sc://127.0.0.1:$port" "$@"
}
revenue() {
  "$venv/bin/python" -W ignore tests/sql/check_sql.py --cxm "$cxm" --subscriptions "$data/subscriptions.parquet" \
    --remote "sc://127.0.0.1:$port" "$@"
}
# The tickets as CSV: the engines register the text file themselves (types inferred).
check_csv() {
  "$venv/bin/python" -W ignore tests/sql/check_sql.py --cxm "$cxm" --tickets "$data/tickets.csv" \
    --remote "sc://127.0.0.1:$port" "$@"
}
surveys() {
  "$venv/bin/python" -W ignore tests/sql/check_sql.py --cxm "$cxm" --surveys "$data/survey_responses.parquet" \
    --remote "sc://127.0.0.1:$port" "$@"
}
# NPS, CSAT and CES responses, the scores as text (`Good`, `4.0`, `Offered`, ...).
surveys_all() {
  "$venv/bin/python" -W ignore tests/sql/check_sql.py --cxm "$cxm" --surveys "$data/survey_responses_all.parquet" \
    --remote "sc://127.0.0.1:$port" "$@"
}
revenue_as() {
  "$venv/bin/python" -W ignore tests/sql/check_sql.py --cxm "$cxm" --remote "sc://127.0.0.1:$port" "$@"
}
purchases() {
  "$venv/bin/python" -W ignore tests/sql/check_sql.py --cxm "$cxm" --transactions "$data/transactions.parquet" \
    --remote "sc://127.0.0.1:$port" "$@"
}
engines="duckdb datafusion spark"
# With a second argument `with-engine`, the binary has the `spark` feature (and with
# it `datafusion`): its own `cxm sql --engine datafusion` and `--engine spark` (on the
# Sail server) are checked the same way.
if [ "${2:-}" = "with-engine" ]; then
  engines="$engines cxm-datafusion cxm-spark"
fi
for engine in $engines; do
  check --engine $engine --since 2024-01-01 --until 2025-12-31
  check --engine $engine --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin --by channel --percentiles 95,99
  check --engine $engine --since 2024-06-01 --until 2025-03-31 --tz America/New_York --by priority --as-of 2025-03-15T12:00:00Z
  check --engine $engine --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin --period day
  check --engine $engine --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin --period month --by group
  surveys --engine $engine --since 2024-01-01 --until 2025-12-31
  surveys_all --engine $engine --since 2024-01-01 --until 2025-12-31
  surveys_all --engine $engine --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin --period month \
    --accounts "$data/accounts.parquet" --by segment
  revenue --engine $engine --since 2024-01-01 --until 2025-12-31
  revenue --engine $engine --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin
  revenue --engine $engine --cohorts --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin
  revenue --engine $engine --cohorts --since 2024-01-01 --until 2025-12-31 --period quarter
  revenue --engine $engine --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin \
    --accounts "$data/accounts.parquet" --by segment
  revenue --engine $engine --since 2024-01-01 --until 2025-12-31 --period week
  revenue --engine $engine --since 2024-01-01 --until 2025-12-31 --period quarter --tz Europe/Berlin \
    --accounts "$data/accounts.parquet" --by segment
  revenue --engine $engine --cohorts --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin \
    --accounts "$data/accounts.parquet" --by region
  # A dimension of the lines (their plan): each (account, plan) pair moves on its own.
  revenue --engine $engine --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin --by plan
  revenue --engine $engine --cohorts --since 2024-01-01 --until 2025-12-31 --by plan
  # The amount form (amount x quantity x f / interval_count), and currencies converted by rates.
  revenue_as --engine $engine --subscriptions "$data/subscriptions_amount.parquet" --mrr-source amount \
    --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin
  revenue_as --engine $engine --subscriptions "$data/subscriptions_fx.parquet" --rates "$data/rates.csv" \
    --since 2024-01-01 --until 2025-12-31
  revenue_as --engine $engine --subscriptions "$data/subscriptions_fx.parquet" --rates "$data/rates.csv" \
    --currency eur --cohorts --since 2024-01-01 --until 2025-12-31
  purchases --engine $engine --since 2024-01-01 --until 2025-12-31
  purchases --engine $engine --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin --period week \
    --accounts "$data/accounts.parquet" --by segment
  purchases --engine $engine --since 2024-09-01 --until 2025-06-30 --tz America/New_York
done
if [ "${2:-}" = "with-engine" ]; then
  # An empty table: the engine sends a result without rows (its schema only), and cxm
  # stops as `cxm purchases` does (exit 1).
  "$venv/bin/python" -c "import pyarrow.parquet as pq, sys; t = pq.read_table(sys.argv[1]); \
pq.write_table(t.slice(0, 0), sys.argv[2])" "$data/transactions.parquet" "$data/no_transactions.parquet"
  for engine in datafusion spark; do
    remote=""
    if [ "$engine" = spark ]; then remote="--remote sc://127.0.0.1:$port"; fi
    # shellcheck disable=SC2086
    if "$cxm" sql --engine $engine $remote --section purchases --transactions "$data/no_transactions.parquet" \
      --since 2024-01-01 --until 2024-03-31 2> "$data/empty.err"; then
      echo "cxm-$engine: an empty table gave a table"; exit 1
    fi
    grep -q "no usable row" "$data/empty.err" || { cat "$data/empty.err"; exit 1; }
    echo "cxm-$engine purchases of an empty table: no usable row (exit 1), as in process"
  done
  # TLS and a token: the same Sail server behind a TLS front with a throw-away CA
  # (tests/sql/tls_proxy.py), reached with use_ssl, a token and a header.
  tls_port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir "$data/tls"
  "$venv/bin/python" tests/sql/tls_proxy.py "$data/tls" "$tls_port" "$port" > "$data/tls.log" 2>&1 &
  tls_pid=$!
  for _ in $(seq 100); do [ -f "$data/tls/ready" ] && break; sleep 0.1; done
  SSL_CERT_FILE="$data/tls/ca.pem" "$venv/bin/python" -W ignore tests/sql/check_sql.py --cxm "$cxm" \
    --tickets "$data/tickets.parquet" --engine cxm-spark \
    --remote "sc://localhost:$tls_port/;use_ssl=true;token=test-token;x-cxm-test=1" \
    --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin --by channel
  kill "$tls_pid" 2>/dev/null || true
  # `plan` is a column of the lines and of the accounts: cxm's engines read the lines'
  # (one row shows it), as `cxm revenue` does; segment comes from the accounts.
  for engine in cxm-datafusion cxm-spark; do
    revenue --engine $engine --since 2024-01-01 --until 2025-12-31 --period quarter \
      --accounts "$data/accounts.parquet" --by plan,segment
  done
  # A `by` of the responses' own (survey, as written) beside one of the accounts (segment):
  # cxm's engines find the table's columns first, as `cxm surveys` does.
  for engine in cxm-datafusion cxm-spark; do
    surveys_all --engine $engine --since 2024-01-01 --until 2025-12-31 --period month \
      --accounts "$data/accounts.parquet" --by survey,segment
  done
  for engine in cxm-datafusion cxm-spark; do
    check_csv --engine $engine --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin --by channel
    "$venv/bin/python" -W ignore tests/sql/check_sql.py --cxm "$cxm" --surveys "$data/survey_responses_all.csv" \
      --remote "sc://127.0.0.1:$port" --engine $engine --since 2024-01-01 --until 2025-12-31 --tz Europe/Berlin \
      --accounts "$data/accounts.csv" --by segment
  done
fi
# A real export: the RavenStack subscriptions and accounts (../shared/realdata, read where
# they are), through the worked example's config in process and through the printed
# DuckDB SQL on views with cxm's column names (tests/sql/ravenstack.py).
if [ -d ../shared/realdata/ravenstack_saas ]; then
  "$venv/bin/python" -W ignore tests/sql/ravenstack.py "$cxm" ../shared/realdata
else
  echo "tests/sql: ../shared/realdata not found; the RavenStack check was skipped"
fi

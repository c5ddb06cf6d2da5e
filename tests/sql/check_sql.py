#!/usr/bin/env python3
"""`cxm sql`, executed by DuckDB, DataFusion or Spark (Sail), against cxm in process, cell by cell.

  check_sql.py --cxm BIN --tickets FILE.parquet --since DATE --until DATE [--tz ZONE] [--by COL]
               [--as-of INSTANT] [--percentiles P,...] [--period P]
               [--engine duckdb | datafusion | spark --remote sc://HOST:PORT]

Runs both on the same tickets with the same settings: cxm in process (CSV on
stdout) and the rendered SQL in the engine (the table `tickets` a view over
the file). Headers must be equal, and every cell: text exactly, numbers within a
relative 1e-9 (absolute 1e-9 near zero), empty = null. Prints a line and
exits 0 when they agree; prints the first differences and exits 1 when not.
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import subprocess
import sys



def cxm(args: list[str]) -> str:
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)}: exit {out.returncode}\n{out.stderr}")
    return out.stdout


def same(a: str, b) -> bool:
    if b is None:
        return a == ""
    if isinstance(b, bool):
        return a == str(b).lower()
    if hasattr(b, "isoformat"):
        return a == b.isoformat()
    if isinstance(b, (int, float)) or type(b).__name__ == "Decimal":
        if a == "":
            return False
        x, y = float(a), float(b)
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
    return a == str(b)


def number_or_text(v: str):
    """A CSV cell as a number when it reads as one (compared within 1e-9), else its text."""
    try:
        return float(v) if any(c.isdigit() for c in v) and "-" not in v[1:] else v
    except ValueError:
        return v


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cxm", required=True)
    ap.add_argument("--tickets", help="the tickets file (the support section)")
    ap.add_argument("--surveys", help="the survey responses file (the surveys section)")
    ap.add_argument("--subscriptions", help="the subscriptions file (the revenue section)")
    ap.add_argument("--transactions", help="the transactions file (the purchases section)")
    ap.add_argument("--cohorts", action="store_true", help="with --subscriptions: the cohorts section")
    ap.add_argument("--rates", help="a rates file (currency, rate) for revenue and cohorts")
    ap.add_argument("--currency", help="the reporting currency")
    ap.add_argument("--mrr-source", default=None, help="`cxm sql --mrr-source` for the printed SQL (amount)")
    ap.add_argument("--accounts", help="the accounts file, for --by on revenue, cohorts, surveys and purchases")
    ap.add_argument("--since", required=True)
    ap.add_argument("--until", required=True)
    ap.add_argument("--tz", default="UTC")
    ap.add_argument("--period", default=None)
    ap.add_argument("--by", default=None)
    ap.add_argument("--as-of", default=None)
    ap.add_argument("--percentiles", default=None)
    ap.add_argument("--engine", choices=["duckdb", "datafusion", "spark", "cxm-datafusion", "cxm-spark"],
                    default="duckdb",
                    help="cxm-datafusion, cxm-spark: cxm's own `cxm sql --engine datafusion|spark` "
                         "(cargo features datafusion, spark)")
    ap.add_argument("--remote", default="sc://127.0.0.1:50051")
    a = ap.parse_args()
    common = ["--tz", a.tz, "--since", a.since, "--until", a.until]
    if a.period:
        common += ["--period", a.period]
    if a.by:
        common += ["--by", a.by]
    if a.as_of:
        common += ["--as-of", a.as_of]
    if a.percentiles:
        common += ["--percentiles", a.percentiles]
    if a.rates:
        common += ["--rates", a.rates]
    if a.currency:
        common += ["--currency", a.currency]
    if a.surveys:
        section, table, path, flag = "surveys", "survey_responses", a.surveys, "--surveys"
    elif a.transactions:
        section, table, path, flag = "purchases", "transactions", a.transactions, "--transactions"
    elif a.subscriptions:
        section = "cohorts" if a.cohorts else "revenue"
        table, path, flag = "subscriptions", a.subscriptions, "--subscriptions"
    else:
        section, table, path, flag = "support", "tickets", a.tickets, "--tickets"
    extra_in = ["--accounts", a.accounts] if a.accounts else []
    extra_sql = ["--table", "accounts=accounts"] if a.accounts else []
    want = list(csv.reader(io.StringIO(cxm([a.cxm, section, "-q", "--format", "csv", flag, path, *extra_in, *common]))))
    views = [(table, path)] + ([("accounts", a.accounts)] if a.accounts else [])
    own = a.engine.startswith("cxm-")
    if not own:
        form = ["--mrr-source", a.mrr_source] if a.mrr_source else []
        sql = cxm([a.cxm, "sql", "--dialect", a.engine, "--section", section, "--table", f"{table}={table}",
                   *extra_sql, *form, *common])
    if own:
        # cxm runs the SQL itself (in process, or on the Spark Connect server) and writes
        # the result as it writes a section.
        engine = a.engine.removeprefix("cxm-")
        remote = ["--remote", a.remote] if engine == "spark" else []
        got = list(csv.reader(io.StringIO(cxm([a.cxm, "sql", "--engine", engine, *remote, "--section", section, "-q",
                                                "--format", "csv", flag, path, *extra_in, *common]))))
        header = got[0]
        rows = [tuple(None if v == "" else number_or_text(v) for v in r) for r in got[1:]]
    elif a.engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        for name, file in views:
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{file}')")
        cur = con.execute(sql)
        header = [d[0] for d in cur.description]
        rows = cur.fetchall()
    elif a.engine == "datafusion":
        from datafusion import SessionContext

        ctx = SessionContext()
        for name, file in views:
            ctx.register_parquet(name, file)
        df = ctx.sql(sql)
        header = df.schema().names
        rows = [tuple(r[c] for c in header) for r in df.to_pylist()]
    else:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.remote(a.remote).getOrCreate()
        for name, file in views:
            spark.read.parquet(file).createOrReplaceTempView(name)
        df = spark.sql(sql)
        header = df.columns
        rows = [tuple(r) for r in df.collect()]
    problems = []
    if section == "surveys" and not own:
        # The printed SQL gives every survey's columns; `cxm surveys` leaves out those of
        # a survey with no valid response in the table (and so does `cxm sql --engine`).
        # Such columns must hold counts 0 and null scores, and are then set aside.
        extra = [i for i, c in enumerate(header) if c not in want[0]]
        for i in extra:
            bad = [r[i] for r in rows if r[i] not in (None, 0)]
            if bad:
                problems.append(f"{header[i]}: not in cxm's table, yet the SQL gives {bad[0]!r}")
        header = [c for i, c in enumerate(header) if i not in extra]
        rows = [tuple(v for i, v in enumerate(r) if i not in extra) for r in rows]
    if header != want[0]:
        problems.append(f"header: cxm {want[0]}\n        sql {header}")
    if len(rows) != len(want) - 1:
        problems.append(f"rows: cxm {len(want) - 1}, sql {len(rows)}")
    for i, (w, g) in enumerate(zip(want[1:], rows)):
        for name, x, y in zip(header, w, g):
            if not same(x, y):
                problems.append(f"row {i + 1} ({w[0]}) {name}: cxm {x!r}, sql {y!r}")
    label = f"{a.engine} {section} {a.tz}{' by ' + a.by if a.by else ''}"
    if a.engine == "cxm-spark" and "use_ssl=true" in a.remote:
        label += " (over TLS, with a token)"
    if problems:
        print(f"{label}: {len(problems)} differences", *problems[:20], sep="\n  ")
        return 1
    print(f"{label}: {len(rows)} rows x {len(header)} columns equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())

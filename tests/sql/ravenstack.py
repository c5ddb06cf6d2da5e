"""`cxm sql --dialect duckdb` on a real export equals `cxm revenue` and `cxm cohorts`.

The RavenStack subscriptions and accounts (../shared/realdata/ravenstack_saas, read
where they are, never copied) through the worked example's config
(docs/examples/ravenstack/cxm.toml) in process; the printed SQL run by DuckDB on views
that give the file's columns cxm's names (start_date, end_date, mrr_amount). Cell by
cell, relative 1e-9; nulls equal empty cells.

    python tests/sql/ravenstack.py CXM_BINARY REALDATA_DIR
"""
import csv
import os
import subprocess
import sys
import tempfile

import duckdb

cxm, realdata = sys.argv[1], sys.argv[2]
rs = os.path.join(realdata, "ravenstack_saas")
config = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "examples", "ravenstack", "cxm.toml")
con = duckdb.connect()
con.execute(
    "CREATE VIEW subs AS SELECT account_id, CAST(start_date AS TIMESTAMP) AS start_at, "
    "CAST(end_date AS TIMESTAMP) AS end_at, mrr_amount AS mrr, plan_tier "
    f"FROM read_csv('{rs}/ravenstack_subscriptions.csv', all_varchar = true, header = true)"
)
con.execute(f"CREATE VIEW accts AS SELECT * FROM read_csv('{rs}/ravenstack_accounts.csv', header = true)")

# (section, flags, the SQL reads `by` from the accounts table). plan_tier is a column of
# the lines (and of the accounts): cxm uses the lines' value, each (account, plan) pair
# moving on its own (498 accounts have lines on several plans); the SQL without an
# accounts table reads it from the lines too.
cases = [
    ("revenue", ["--by", "industry", "--since", "2023-01-01", "--until", "2024-12-31"], True),
    ("cohorts", ["--by", "industry", "--since", "2023-01-01", "--until", "2024-12-31"], True),
    ("revenue", ["--by", "country", "--period", "quarter", "--tz", "Europe/Berlin",
                 "--since", "2023-01-01", "--until", "2024-12-31"], True),
    ("revenue", ["--by", "plan_tier", "--since", "2023-01-01", "--until", "2024-12-31"], False),
    ("cohorts", ["--by", "plan_tier", "--period", "quarter", "--since", "2023-01-01", "--until", "2024-12-31"], False),
]
failed = False
with tempfile.TemporaryDirectory() as tmp:
    for section, flags, accounts in cases:
        out = os.path.join(tmp, "in.csv")
        subprocess.run([cxm, section, "--config", config, "--quiet", "--format", "csv", "-o", out, *flags],
                       check=True, capture_output=True)
        sql = subprocess.run(
            [cxm, "sql", "--dialect", "duckdb", "--section", section, "--table", "subscriptions=subs",
             *(["--table", "accounts=accts"] if accounts else []), *flags],
            check=True, capture_output=True, text=True,
        ).stdout
        got = con.execute(sql).fetchall()
        rows = list(csv.reader(open(out)))
        head, want = rows[0], rows[1:]
        bad = abs(len(got) - len(want))
        for g, w in zip(got, want):
            for v, e in zip(g, w):
                if v is None and e == "":
                    continue
                try:
                    if abs(float(v) - float(e)) <= 1e-9 * max(1.0, abs(float(e))):
                        continue
                except (TypeError, ValueError):
                    if str(v) == e:
                        continue
                bad += 1
        label = f"ravenstack {section} {' '.join(flags)}"
        if bad or not want:
            print(f"{label}: {bad} cells differ ({len(got)} rows from DuckDB, {len(want)} from cxm)")
            failed = True
        else:
            print(f"{label}: {len(want)} rows x {len(head)} columns equal")
sys.exit(1 if failed else 0)

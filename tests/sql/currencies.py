#!/usr/bin/env python3
"""A multi-currency copy of generated subscription lines, for tests/sql/run.sh.

  currencies.py IN.parquet OUT_DIR

Writes OUT_DIR/subscriptions_fx.parquet: the lines of IN with a `currency`
column, drawn per account (deterministic, from the account id): a third in
EUR (written `EUR`, ` eur ` or `Eur`), a sixth in GBP, a sixth with an empty
cell (the reporting currency), the rest in USD (`usd`). The amounts are left
as they are: each line is then converted by cxm and by the SQL alike.
Also writes OUT_DIR/rates.csv (USD 1, EUR 1.08, GBP 1.27: USD per unit).
"""
import sys
import zlib

import pyarrow as pa
import pyarrow.parquet as pq

src, out = sys.argv[1], sys.argv[2]
t = pq.read_table(src)
codes = ["EUR", " eur ", "Eur", "GBP", "", "usd"]
cur = [codes[zlib.crc32(a.encode()) % len(codes)] if a is not None else None
       for a in t["account_id"].to_pylist()]
pq.write_table(t.append_column("currency", pa.array(cur, pa.string())), f"{out}/subscriptions_fx.parquet")
with open(f"{out}/rates.csv", "w") as f:
    f.write("currency,rate\nUSD,1\nEUR,1.08\nGBP,1.27\n")

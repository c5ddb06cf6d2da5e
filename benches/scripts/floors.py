#!/usr/bin/env python3
"""Scan floors of every cxm pipeline: read the columns a section needs, once,
each reduced to one number (polars), so every column is read and decoded but
nothing is computed.  What cxm spends above this is metric work.

  floors.py --data DIR --table tickets|subscriptions|surveys|report [--format parquet|csv]

`tickets` reads the same 8 columns as ../shared/bench/scan_floor.py;
`report` reads the three tables' columns one after another (the floor of
`cxm report` with tickets, subscriptions and survey responses).
"""
from __future__ import annotations

import argparse
import os

import polars as pl

TABLES = {
    "tickets": ("tickets", ["created_at", "first_response_at", "solved_at", "reopens", "agent_replies",
                            "escalated", "csat", "csat_at"]),
    "subscriptions": ("subscriptions", ["account_id", "subscription_id", "start_at", "end_at", "mrr"]),
    "surveys": ("survey_responses", ["responded_at", "score", "survey"]),
}


def floor(data: str, table: str, fmt: str):
    name, cols = TABLES[table]
    path = os.path.join(data, f"{name}.{fmt}")
    if fmt == "parquet":
        lf = pl.scan_parquet(path).select(cols)
    else:
        ts = [c for c in cols if c.endswith("_at")]
        lf = pl.scan_csv(path, schema_overrides={c: pl.String for c in cols}).select(
            [pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC", strict=False)
             if c in ts else pl.col(c) for c in cols])
    return lf.select([pl.col(c).null_count() for c in cols]).collect().row(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--table", choices=[*TABLES, "report"], required=True)
    ap.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    a = ap.parse_args()
    for t in (list(TABLES) if a.table == "report" else [a.table]):
        floor(a.data, t, a.format)


if __name__ == "__main__":
    main()

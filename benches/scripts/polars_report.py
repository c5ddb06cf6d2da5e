#!/usr/bin/env python3
"""Timing baseline: the support, revenue and NPS tables of `cxm report`, written
the way an analyst would in polars (lazy API).  Not a correctness reference.

  polars_report.py --data DIR [--format parquet|csv] --out DIR

DIR holds tickets, subscriptions and survey_responses (.parquet or .csv, as
../../../shared/bench/gen.py writes them).  Writes support.csv (weekly),
revenue.csv (monthly) and surveys.csv (weekly, NPS) into --out.  All periods in
UTC, weeks starting on Monday.  Prints nothing unless something fails.
"""
from __future__ import annotations

import argparse
import os

import polars as pl

UTC = "UTC"
TS = pl.Datetime("us", UTC)
FAR_FUTURE = pl.datetime(9999, 1, 1, time_zone=UTC)  # stands in for "still open"

TICKET_COLS = {
    "created_at": TS, "first_response_at": TS, "solved_at": TS, "reopens": pl.Int32,
    "agent_replies": pl.Int32, "escalated": pl.Boolean, "csat": pl.Int32, "csat_at": TS,
}
SUB_COLS = {"account_id": pl.String, "start_at": TS, "end_at": TS, "mrr": pl.Float64}
SURVEY_COLS = {"responded_at": TS, "score": pl.Int32, "survey": pl.String}


def scan(data: str, table: str, fmt: str, cols: dict) -> pl.LazyFrame:
    """Only the needed columns; CSV timestamps are ISO 8601 UTC text (2025-03-04T09:15:00Z)."""
    path = os.path.join(data, f"{table}.{fmt}")
    if fmt == "parquet":
        return pl.scan_parquet(path).select(list(cols))
    text = {c: (pl.String if t == TS else t) for c, t in cols.items()}
    return pl.scan_csv(path, schema_overrides=text).select(
        [pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone=UTC)
         if t == TS else pl.col(c) for c, t in cols.items()])


def week(c: str | pl.Expr) -> pl.Expr:
    c = pl.col(c) if isinstance(c, str) else c
    return c.dt.truncate("1w").dt.date()  # "1w" truncates to Monday 00:00


def stats(dur: pl.Expr, prefix: str, unit: str) -> list[pl.Expr]:
    """count / mean / median / p90 (linear interpolation) of the non-negative durations."""
    d = dur.filter(dur >= 0)
    return [
        d.count().alias(f"{prefix}_count"),
        d.mean().alias(f"{prefix}_mean_{unit}"),
        d.quantile(0.5, "linear").alias(f"{prefix}_median_{unit}"),
        d.quantile(0.9, "linear").alias(f"{prefix}_p90_{unit}"),
    ]


def minutes(end: str, start: str) -> pl.Expr:
    return (pl.col(end) - pl.col(start)).dt.total_microseconds() / 6e7


def hours(end: str, start: str) -> pl.Expr:
    return (pl.col(end) - pl.col(start)).dt.total_microseconds() / 3.6e9


def rate(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den))


def support(t: pl.LazyFrame) -> pl.DataFrame:

    # as-of: the latest instant anywhere in the export; weeks run from the first
    # created_at's week to as-of's week, every week with a row.
    bounds = t.select(
        first=week("created_at").min(),
        last=week(pl.max_horizontal(pl.col(c).max() for c in
                                    ("created_at", "first_response_at", "solved_at", "csat_at"))),
    )

    by_created = t.group_by(period_start=week("created_at")).agg(
        tickets_created=pl.len(),
        *stats(minutes("first_response_at", "created_at"), "frt", "minutes"),
        unanswered_count=pl.col("first_response_at").is_null().sum(),
        escalated_count=pl.col("escalated").fill_null(False).sum(),
    )

    fcr = (pl.col("reopens") == 0) & (pl.col("agent_replies") <= 1)
    by_solved = t.filter(pl.col("solved_at").is_not_null()).group_by(
        period_start=week("solved_at")).agg(
        tickets_solved=pl.len(),
        *stats(hours("solved_at", "created_at"), "resolution", "hours"),
        fcr_count=fcr.fill_null(False).sum(),
        reopened_count=(pl.col("reopens") > 0).fill_null(False).sum(),
        reopens_total=pl.col("reopens").sum(),
    )

    by_rated = t.filter(pl.col("csat").is_between(1, 5)).group_by(
        period_start=week(pl.coalesce("csat_at", "solved_at"))).agg(
        csat_responses=pl.len(),
        csat_satisfied=(pl.col("csat") >= 4).sum(),
    ).filter(pl.col("period_start").is_not_null())

    bounds_df, created, solved, rated = pl.collect_all([bounds, by_created, by_solved, by_rated])
    first, last = bounds_df.row(0)
    weeks = pl.DataFrame({"period_start": pl.date_range(first, last, "1w", eager=True)})

    # Backlog, the naive way: join every week end to every ticket open across it
    # (a range join of week ends x tickets), then count per week end.  It
    # materialises one row per (week, open ticket) instead of sweeping once.
    week_ends = weeks.lazy().with_columns(
        week_end=(pl.col("period_start") + pl.duration(days=7)).cast(pl.Datetime("us")).dt.replace_time_zone(UTC))
    backlog = week_ends.join_where(
        t.select("created_at", solved=pl.col("solved_at").fill_null(FAR_FUTURE)),
        pl.col("created_at") < pl.col("week_end"),
        pl.col("solved") >= pl.col("week_end"),
    ).group_by("period_start").agg(backlog_count=pl.len()).collect()

    out = (weeks.join(created, on="period_start", how="left")
           .join(solved, on="period_start", how="left")
           .join(backlog, on="period_start", how="left")
           .join(rated, on="period_start", how="left"))
    counts = ["tickets_created", "frt_count", "unanswered_count", "escalated_count", "tickets_solved",
              "resolution_count", "fcr_count", "reopened_count", "reopens_total", "backlog_count",
              "csat_responses", "csat_satisfied"]
    out = out.with_columns(pl.col(counts).fill_null(0))
    out = out.with_columns(
        fcr_rate=rate("fcr_count", "tickets_solved"),
        escalation_rate=rate("escalated_count", "tickets_created"),
        reopen_rate=rate("reopened_count", "tickets_solved"),
        csat_pct=100 * rate("csat_satisfied", "csat_responses"),
    )
    return out.select(
        "period_start", "tickets_created", "tickets_solved",
        "frt_count", "frt_mean_minutes", "frt_median_minutes", "frt_p90_minutes", "unanswered_count",
        "resolution_count", "resolution_mean_hours", "resolution_median_hours", "resolution_p90_hours",
        "fcr_count", "fcr_rate", "escalated_count", "escalation_rate",
        "reopened_count", "reopen_rate", "reopens_total", "backlog_count",
        "csat_responses", "csat_pct",
    )


def revenue(lines: pl.LazyFrame) -> pl.DataFrame:
    # usable lines: an account, a start, an mrr, and not ending before it starts
    lines = lines.filter(pl.col("account_id").is_not_null() & pl.col("start_at").is_not_null()
                         & pl.col("mrr").is_not_null()
                         & (pl.col("end_at").is_null() | (pl.col("end_at") > pl.col("start_at")))).cache()
    lo, hi = lines.select(
        lo=pl.col("start_at").min(), hi=pl.max_horizontal(pl.col("start_at").max(), pl.col("end_at").max())
    ).collect().row(0)
    months = pl.date_range(lo.date().replace(day=1), hi.date().replace(day=1), "1mo", eager=True)
    # month starts, plus the end of the last month: the instants MRR is measured at
    edges = pl.DataFrame({"edge": pl.concat([months, months.tail(1).dt.offset_by("1mo")])}).lazy().with_columns(
        at=pl.col("edge").cast(pl.Datetime("us")).dt.replace_time_zone(UTC))

    # MRR of each account just before each edge: lines with start_at < at <= end_at
    # (a range join of edges x lines), summed, floored at 0, tiny sums snapped to 0.
    snap = (edges.join_where(
        lines.with_columns(end=pl.col("end_at").fill_null(FAR_FUTURE)),
        pl.col("start_at") < pl.col("at"), pl.col("end") >= pl.col("at"))
        .group_by("edge", "account_id").agg(mrr=pl.col("mrr").sum())
        .with_columns(mrr=pl.when(pl.col("mrr") > 1e-6).then(pl.col("mrr")).otherwise(0.0))
        .filter(pl.col("mrr") > 0))

    # paid before the month: the first line with mrr > 0, by month of its start
    first_paid = lines.filter(pl.col("mrr") > 0).group_by("account_id").agg(
        first_paid_month=pl.col("start_at").min().dt.truncate("1mo").dt.date())

    before = snap.rename({"edge": "period_start", "mrr": "b"})
    after = snap.with_columns(period_start=pl.col("edge").dt.offset_by("-1mo")).select(
        "period_start", "account_id", a=pl.col("mrr"))
    acc = (before.join(after, on=["period_start", "account_id"], how="full", coalesce=True)
           .with_columns(pl.col("a", "b").fill_null(0.0))
           .join(first_paid, on="account_id", how="left")
           .with_columns(paid_before=pl.col("first_paid_month") < pl.col("period_start")))
    a, b = pl.col("a"), pl.col("b")
    is_new = (b == 0) & (a > 0) & ~pl.col("paid_before").fill_null(False)
    is_react = (b == 0) & (a > 0) & pl.col("paid_before").fill_null(False)
    is_churn = (b > 0) & (a == 0)
    per_month = acc.group_by("period_start").agg(
        mrr_start=b.sum(), mrr_end=a.sum(),
        new_mrr=a.filter(is_new).sum(),
        expansion_mrr=(a - b).filter((b > 0) & (a > b)).sum(),
        contraction_mrr=(b - a).filter((b > 0) & (a > 0) & (a < b)).sum(),
        churned_mrr=b.filter(is_churn).sum(),
        reactivation_mrr=a.filter(is_react).sum(),
        customers_start=(b > 0).sum(), customers_end=(a > 0).sum(),
        new_customers=is_new.sum(), reactivated_customers=is_react.sum(), churned_customers=is_churn.sum(),
    )
    out = pl.DataFrame({"period_start": months}).lazy().join(per_month, on="period_start", how="left")
    out = out.with_columns(pl.exclude("period_start").fill_null(0)).with_columns(
        net_new_mrr=pl.col("mrr_end") - pl.col("mrr_start"),
        nrr=pl.when(pl.col("mrr_start") > 0).then(
            (pl.col("mrr_start") + pl.col("expansion_mrr") - pl.col("contraction_mrr") - pl.col("churned_mrr"))
            / pl.col("mrr_start")),
        grr=pl.when(pl.col("mrr_start") > 0).then(
            (pl.col("mrr_start") - pl.col("contraction_mrr") - pl.col("churned_mrr")) / pl.col("mrr_start")),
    )
    return out.select(
        "period_start", "mrr_start", "mrr_end", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
        "reactivation_mrr", "net_new_mrr", "customers_start", "customers_end", "new_customers",
        "reactivated_customers", "churned_customers", "nrr", "grr",
    ).sort("period_start").collect()


def surveys(r: pl.LazyFrame) -> pl.DataFrame:
    r = r.filter((pl.col("survey") == "nps") & pl.col("score").is_between(0, 10)
                 & pl.col("responded_at").is_not_null())
    per_week = r.group_by(period_start=week("responded_at")).agg(
        nps_responses=pl.len(),
        promoters=(pl.col("score") >= 9).sum(),
        passives=pl.col("score").is_between(7, 8).sum(),
        detractors=(pl.col("score") <= 6).sum(),
    ).collect()
    if per_week.height == 0:
        return per_week.with_columns(nps=pl.lit(None, pl.Float64))
    weeks = pl.date_range(per_week["period_start"].min(), per_week["period_start"].max(), "1w", eager=True)
    out = pl.DataFrame({"period_start": weeks}).join(per_week, on="period_start", how="left")
    return out.with_columns(pl.exclude("period_start").fill_null(0)).with_columns(
        nps=pl.when(pl.col("nps_responses") > 0).then(
            100 * (pl.col("promoters") - pl.col("detractors")) / pl.col("nps_responses")))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    support(scan(a.data, "tickets", a.format, TICKET_COLS)).write_csv(os.path.join(a.out, "support.csv"))
    revenue(scan(a.data, "subscriptions", a.format, SUB_COLS)).write_csv(os.path.join(a.out, "revenue.csv"))
    surveys(scan(a.data, "survey_responses", a.format, SURVEY_COLS)).write_csv(os.path.join(a.out, "surveys.csv"))


if __name__ == "__main__":
    main()

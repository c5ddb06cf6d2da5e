#!/usr/bin/env python3
"""Timing baseline: the support, revenue and NPS tables of `cxm report`, written
the way an analyst would in DuckDB SQL (run through the duckdb Python module).
Not a correctness reference.

  duckdb_report.py --data DIR [--format parquet|csv] --out DIR

DIR holds tickets, subscriptions and survey_responses (.parquet or .csv, as
../../../shared/bench/gen.py writes them).  Writes support.csv (weekly),
revenue.csv (monthly) and surveys.csv (weekly, NPS) into --out.  All periods in
UTC, weeks starting on Monday (date_trunc('week', ...) is ISO).  Prints
nothing unless something fails.
"""
from __future__ import annotations

import argparse
import os

import duckdb

TICKET_COLS = {
    "created_at": "TIMESTAMPTZ", "first_response_at": "TIMESTAMPTZ", "solved_at": "TIMESTAMPTZ",
    "reopens": "INTEGER", "agent_replies": "INTEGER", "escalated": "BOOLEAN", "csat": "INTEGER",
    "csat_at": "TIMESTAMPTZ",
}
SUB_COLS = {"account_id": "VARCHAR", "start_at": "TIMESTAMPTZ", "end_at": "TIMESTAMPTZ", "mrr": "DOUBLE"}
SURVEY_COLS = {"responded_at": "TIMESTAMPTZ", "score": "INTEGER", "survey": "VARCHAR"}

SUPPORT = """
WITH
bounds AS (   -- weeks run from the first created_at's week to as-of's week (the latest instant)
    SELECT date_trunc('week', min(created_at))::DATE AS first_week,
           date_trunc('week', greatest(max(created_at), max(first_response_at),
                                       max(solved_at), max(csat_at)))::DATE AS last_week
    FROM tickets
),
weeks AS (
    SELECT unnest(generate_series(first_week, last_week, INTERVAL 7 DAY))::DATE AS period_start
    FROM bounds
),
created AS (
    SELECT date_trunc('week', created_at)::DATE AS period_start,
           count(*) AS tickets_created,
           count(frt) AS frt_count,
           avg(frt) AS frt_mean_minutes,
           quantile_cont(frt, 0.5) AS frt_median_minutes,
           quantile_cont(frt, 0.9) AS frt_p90_minutes,
           count(*) FILTER (WHERE first_response_at IS NULL) AS unanswered_count,
           count(*) FILTER (WHERE escalated) AS escalated_count
    FROM (SELECT created_at, first_response_at, escalated,
                 CASE WHEN first_response_at >= created_at
                      THEN (epoch_us(first_response_at) - epoch_us(created_at)) / 6e7 END AS frt
          FROM tickets)
    GROUP BY 1
),
solved AS (
    SELECT date_trunc('week', solved_at)::DATE AS period_start,
           count(*) AS tickets_solved,
           count(res) AS resolution_count,
           avg(res) AS resolution_mean_hours,
           quantile_cont(res, 0.5) AS resolution_median_hours,
           quantile_cont(res, 0.9) AS resolution_p90_hours,
           count(*) FILTER (WHERE reopens = 0 AND agent_replies <= 1) AS fcr_count,
           count(*) FILTER (WHERE reopens > 0) AS reopened_count,
           coalesce(sum(reopens), 0) AS reopens_total
    FROM (SELECT solved_at, reopens, agent_replies,
                 CASE WHEN solved_at >= created_at
                      THEN (epoch_us(solved_at) - epoch_us(created_at)) / 3.6e9 END AS res
          FROM tickets WHERE solved_at IS NOT NULL)
    GROUP BY 1
),
rated AS (
    SELECT date_trunc('week', coalesce(csat_at, solved_at))::DATE AS period_start,
           count(*) AS csat_responses,
           count(*) FILTER (WHERE csat >= 4) AS csat_satisfied
    FROM tickets
    WHERE csat BETWEEN 1 AND 5 AND coalesce(csat_at, solved_at) IS NOT NULL
    GROUP BY 1
),
-- Backlog, the naive way: join every week end to every ticket open across it
-- (a join on ranges of week ends x tickets), then count per week end.  It
-- materialises one row per (week, open ticket) instead of sweeping once.
backlog AS (
    SELECT w.period_start, count(*) AS backlog_count
    FROM (SELECT period_start, (period_start + INTERVAL 7 DAY)::TIMESTAMPTZ AS week_end FROM weeks) w
    JOIN tickets t
      ON t.created_at < w.week_end
     AND coalesce(t.solved_at, 'infinity'::TIMESTAMPTZ) >= w.week_end
    GROUP BY 1
)
SELECT w.period_start,
       coalesce(tickets_created, 0) AS tickets_created,
       coalesce(tickets_solved, 0) AS tickets_solved,
       coalesce(frt_count, 0) AS frt_count, frt_mean_minutes, frt_median_minutes, frt_p90_minutes,
       coalesce(unanswered_count, 0) AS unanswered_count,
       coalesce(resolution_count, 0) AS resolution_count,
       resolution_mean_hours, resolution_median_hours, resolution_p90_hours,
       coalesce(fcr_count, 0) AS fcr_count,
       fcr_count / nullif(tickets_solved, 0) AS fcr_rate,
       coalesce(escalated_count, 0) AS escalated_count,
       escalated_count / nullif(tickets_created, 0) AS escalation_rate,
       coalesce(reopened_count, 0) AS reopened_count,
       reopened_count / nullif(tickets_solved, 0) AS reopen_rate,
       coalesce(reopens_total, 0) AS reopens_total,
       coalesce(backlog_count, 0) AS backlog_count,
       coalesce(csat_responses, 0) AS csat_responses,
       100.0 * csat_satisfied / nullif(csat_responses, 0) AS csat_pct
FROM weeks w
LEFT JOIN created USING (period_start)
LEFT JOIN solved USING (period_start)
LEFT JOIN backlog USING (period_start)
LEFT JOIN rated USING (period_start)
ORDER BY w.period_start
"""

REVENUE = """
WITH
lines AS (    -- usable lines: an account, a start, an mrr, and not ending before it starts
    SELECT account_id, start_at, end_at, mrr
    FROM subscriptions
    WHERE account_id IS NOT NULL AND start_at IS NOT NULL AND mrr IS NOT NULL
      AND (end_at IS NULL OR end_at > start_at)
),
bounds AS (
    SELECT date_trunc('month', min(start_at))::DATE AS lo,
           date_trunc('month', greatest(max(start_at), max(end_at)))::DATE AS hi
    FROM lines
),
months AS (
    SELECT unnest(generate_series(lo, hi, INTERVAL 1 MONTH))::DATE AS period_start FROM bounds
),
edges AS (    -- month starts, plus the end of the last month: the instants MRR is measured at
    SELECT period_start AS edge FROM months
    UNION ALL
    SELECT (max(period_start) + INTERVAL 1 MONTH)::DATE FROM months
),
-- MRR of each account just before each edge: lines with start_at < edge <= end_at
-- (a join on ranges of edges x lines), summed; sums of 1e-6 or less (negatives
-- included) count as no MRR.
snap AS (
    SELECT e.edge, l.account_id, sum(l.mrr) AS mrr
    FROM edges e
    JOIN lines l
      ON l.start_at < e.edge::TIMESTAMPTZ
     AND coalesce(l.end_at, 'infinity'::TIMESTAMPTZ) >= e.edge::TIMESTAMPTZ
    GROUP BY ALL
    HAVING sum(l.mrr) > 1e-6
),
first_paid AS (   -- "paid before the month": the first line with mrr > 0, by month of its start
    SELECT account_id, date_trunc('month', min(start_at))::DATE AS first_paid_month
    FROM lines WHERE mrr > 0 GROUP BY 1
),
acc AS (      -- each account's MRR at month start (b) and month end (a)
    SELECT coalesce(s.edge, (e.edge - INTERVAL 1 MONTH)::DATE) AS period_start,
           coalesce(s.account_id, e.account_id) AS account_id,
           coalesce(s.mrr, 0) AS b,
           coalesce(e.mrr, 0) AS a
    FROM snap s
    FULL JOIN snap e
      ON e.account_id = s.account_id AND e.edge = (s.edge + INTERVAL 1 MONTH)::DATE
),
moves AS (
    SELECT acc.*, coalesce(f.first_paid_month < acc.period_start, false) AS paid_before
    FROM acc LEFT JOIN first_paid f USING (account_id)
),
per_month AS (
    SELECT period_start,
           sum(b) AS mrr_start,
           sum(a) AS mrr_end,
           coalesce(sum(a) FILTER (WHERE b = 0 AND a > 0 AND NOT paid_before), 0) AS new_mrr,
           coalesce(sum(a - b) FILTER (WHERE b > 0 AND a > b), 0) AS expansion_mrr,
           coalesce(sum(b - a) FILTER (WHERE b > 0 AND a > 0 AND a < b), 0) AS contraction_mrr,
           coalesce(sum(b) FILTER (WHERE b > 0 AND a = 0), 0) AS churned_mrr,
           coalesce(sum(a) FILTER (WHERE b = 0 AND a > 0 AND paid_before), 0) AS reactivation_mrr,
           count(*) FILTER (WHERE b > 0) AS customers_start,
           count(*) FILTER (WHERE a > 0) AS customers_end,
           count(*) FILTER (WHERE b = 0 AND a > 0 AND NOT paid_before) AS new_customers,
           count(*) FILTER (WHERE b = 0 AND a > 0 AND paid_before) AS reactivated_customers,
           count(*) FILTER (WHERE b > 0 AND a = 0) AS churned_customers
    FROM moves
    GROUP BY 1
)
SELECT m.period_start,
       coalesce(mrr_start, 0) AS mrr_start,
       coalesce(mrr_end, 0) AS mrr_end,
       coalesce(new_mrr, 0) AS new_mrr,
       coalesce(expansion_mrr, 0) AS expansion_mrr,
       coalesce(contraction_mrr, 0) AS contraction_mrr,
       coalesce(churned_mrr, 0) AS churned_mrr,
       coalesce(reactivation_mrr, 0) AS reactivation_mrr,
       coalesce(mrr_end, 0) - coalesce(mrr_start, 0) AS net_new_mrr,
       coalesce(customers_start, 0) AS customers_start,
       coalesce(customers_end, 0) AS customers_end,
       coalesce(new_customers, 0) AS new_customers,
       coalesce(reactivated_customers, 0) AS reactivated_customers,
       coalesce(churned_customers, 0) AS churned_customers,
       CASE WHEN mrr_start > 0
            THEN (mrr_start + expansion_mrr - contraction_mrr - churned_mrr) / mrr_start END AS nrr,
       CASE WHEN mrr_start > 0
            THEN (mrr_start - contraction_mrr - churned_mrr) / mrr_start END AS grr
FROM months m
LEFT JOIN per_month USING (period_start)
ORDER BY m.period_start
"""

SURVEYS = """
WITH
nps AS (
    SELECT responded_at, score FROM survey_responses
    WHERE survey = 'nps' AND score BETWEEN 0 AND 10 AND responded_at IS NOT NULL
),
per_week AS (
    SELECT date_trunc('week', responded_at)::DATE AS period_start,
           count(*) AS nps_responses,
           count(*) FILTER (WHERE score >= 9) AS promoters,
           count(*) FILTER (WHERE score BETWEEN 7 AND 8) AS passives,
           count(*) FILTER (WHERE score <= 6) AS detractors
    FROM nps GROUP BY 1
),
weeks AS (
    SELECT unnest(generate_series(min(period_start), max(period_start), INTERVAL 7 DAY))::DATE AS period_start
    FROM per_week
)
SELECT w.period_start,
       coalesce(nps_responses, 0) AS nps_responses,
       coalesce(promoters, 0) AS promoters,
       coalesce(passives, 0) AS passives,
       coalesce(detractors, 0) AS detractors,
       100.0 * (promoters - detractors) / nullif(nps_responses, 0) AS nps
FROM weeks w
LEFT JOIN per_week USING (period_start)
ORDER BY w.period_start
"""


def source(data: str, table: str, fmt: str, cols: dict) -> str:
    """The table's needed columns, by name; CSV timestamps are ISO 8601 UTC text (2025-03-04T09:15:00Z)."""
    path = os.path.join(data, f"{table}.{fmt}").replace("'", "''")
    if fmt == "parquet":   # a view: each query reads only the columns it needs from the file
        return f"CREATE VIEW {table} AS SELECT {', '.join(cols)} FROM read_parquet('{path}')"
    # CSV is loaded once into a temporary table, rather than parsed again by every query
    types = ", ".join(f"'{c}': '{t}'" for c, t in cols.items())
    return (f"CREATE TEMP TABLE {table} AS SELECT {', '.join(cols)} "
            f"FROM read_csv('{path}', header = true, types = {{{types}}})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(source(a.data, "tickets", a.format, TICKET_COLS))
    con.execute(source(a.data, "subscriptions", a.format, SUB_COLS))
    con.execute(source(a.data, "survey_responses", a.format, SURVEY_COLS))
    for name, sql in (("support", SUPPORT), ("revenue", REVENUE), ("surveys", SURVEYS)):
        out = os.path.join(a.out, f"{name}.csv").replace("'", "''")
        con.execute(f"COPY ({sql}) TO '{out}' (HEADER, DELIMITER ',')")


if __name__ == "__main__":
    main()

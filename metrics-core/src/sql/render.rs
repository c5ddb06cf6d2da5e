//! Rendering [`super::support_columns`] as one SQL query.

use std::fmt::Write as _;

use super::{Attribution, Column, Cond, Measure, SqlRequest, Value, support_columns};
use crate::{Error, Result};

/// Instants missing from a column compare as never (`coalesce(x, NEVER)`).
const NEVER: i64 = i64::MAX;

/// The support table as one query in `r.dialect`: `period_start`, the `by`
/// columns, then every column of [`support_columns`] (helper columns left
/// out), rows ordered by period then group (nulls last), as `cxm support`
/// prints them. A dialect cxm does not render yet is refused.
///
/// ```
/// use metrics_core::period::{Period, Spine};
/// use metrics_core::sql::{Dialect, SqlRequest, support_sql};
/// use metrics_core::support::SupportOptions;
/// let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
/// let spine = Spine::new(Period::Week, chrono_tz::UTC, d("2026-03-02"), d("2026-03-09"));
/// let sql = support_sql(&SqlRequest::new(Dialect::DuckDb, "tickets", SupportOptions::default(), spine))?;
/// assert!(sql.contains("quantile_cont(") && sql.contains("FROM tickets"));
/// assert!(support_sql(&SqlRequest::new(Dialect::Trino, "t", SupportOptions::default(),
///     Spine::new(Period::Week, chrono_tz::UTC, d("2026-03-02"), d("2026-03-02")))).is_err());
/// # Ok::<(), metrics_core::Error>(())
/// ```
pub fn support_sql(r: &SqlRequest) -> Result<String> {
    if !r.dialect.capabilities().rendered {
        return Err(Error::invalid_option(
            "dialect",
            r.dialect.name(),
            "is not rendered yet (duckdb is; docs/sql.md lists the plan for the others)",
        ));
    }
    let o = r.options.validated()?;
    let cols = support_columns(&o);
    let by: Vec<String> = o.by.iter().map(|b| ident(b)).collect();
    let mut q = String::from("WITH\n");
    spine_cte(&mut q, r);
    tickets_ctes(&mut q, r, &by);
    for at in [Attribution::Created, Attribution::Solved, Attribution::Rated] {
        attributed_cte(&mut q, at, &cols, &by, &o.csat);
    }
    backlog_cte(&mut q, &by);
    grid_cte(&mut q, &by);
    select(&mut q, &cols, &by);
    Ok(q)
}

/// A quoted identifier when it is not a plain lower-case word.
fn ident(name: &str) -> String {
    let plain = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !matches!(name, "group" | "order" | "select" | "from" | "where" | "asof" | "end" | "start");
    if plain { name.to_owned() } else { format!("\"{}\"", name.replace('"', "\"\"")) }
}

/// The periods: start date and UTC bounds in epoch microseconds.
fn spine_cte(q: &mut String, r: &SqlRequest) {
    let sp = &r.spine;
    q.push_str("spine(period_start, lo, hi) AS (VALUES\n");
    let rows: Vec<String> = sp
        .starts
        .iter()
        .zip(sp.end_instants())
        .map(|(d, hi)| {
            let lo = crate::period::day_start(*d, sp.tz);
            format!("  (DATE '{d}', CAST({lo} AS BIGINT), CAST({hi} AS BIGINT))")
        })
        .collect();
    q.push_str(&rows.join(",\n"));
    q.push_str("\n),\n");
}

/// `raw`: the tickets' instants as epoch microseconds; `asof`; `t`: the
/// tickets as of as-of (later events not yet happened, later tickets not
/// yet created, a rating after as-of dropped).
fn tickets_ctes(q: &mut String, r: &SqlRequest, by: &[String]) {
    let us = |c: &str| format!("epoch_us({c}) AS {c}");
    let dims: String = by.iter().map(|b| format!(", CAST({b} AS VARCHAR) AS {b}")).collect();
    let _ = writeln!(
        q,
        "raw AS (\n  SELECT {}, {}, {}, {}, reopens, agent_replies, escalated, csat{dims}\n  FROM {}\n  WHERE created_at IS NOT NULL\n),",
        us("created_at"),
        us("first_response_at"),
        us("solved_at"),
        us("csat_at"),
        r.tickets
    );
    match r.as_of {
        Some(a) => {
            let _ = writeln!(q, "cutoff(at_us) AS (SELECT CAST({a} AS BIGINT)),");
        }
        None => q.push_str(
            "cutoff(at_us) AS (SELECT greatest(max(created_at), coalesce(max(first_response_at), 0), \
             coalesce(max(solved_at), 0), coalesce(max(csat_at), 0)) FROM raw),\n",
        ),
    }
    let cut = |c: &str| format!("CASE WHEN {c} <= a.at_us THEN {c} END AS {c}");
    let dims: String = by.iter().map(|b| format!(", {b}")).collect();
    let _ = writeln!(
        q,
        "t AS (\n  SELECT created_at, {}, {}, {},\n    reopens, agent_replies, escalated,\n    \
         CASE WHEN coalesce(csat_at > a.at_us, false) OR (csat_at IS NULL AND coalesce(solved_at > a.at_us, false))\n      \
         THEN NULL ELSE csat END AS csat{dims}\n  FROM raw, cutoff a\n  WHERE created_at <= a.at_us\n),",
        cut("first_response_at"),
        cut("solved_at"),
        cut("csat_at")
    );
}

fn value(v: &Value) -> String {
    match v {
        Value::Duration { from, to, unit_micros } => {
            format!("CASE WHEN {to} >= {from} THEN CAST({to} - {from} AS DOUBLE) / {unit_micros:?} END")
        }
        Value::Int(c) => format!("coalesce({c}, 0)"),
    }
}

fn cond(c: &Cond, csat: &crate::support::CsatScale) -> String {
    let valid = format!("csat BETWEEN {} AND {} AND csat = floor(csat)", csat.min, csat.max);
    match c {
        Cond::IsNull(col) => format!("{col} IS NULL"),
        Cond::Flag(col) => format!("coalesce({col}, false)"),
        Cond::AtMost(col, n) => format!("coalesce({col} <= {n}, false)"),
        Cond::Equals(col, n) => format!("coalesce({col} = {n}, false)"),
        Cond::Above(col, n) => format!("coalesce({col} > {n}, false)"),
        Cond::And(a, b) => format!("({} AND {})", cond(a, csat), cond(b, csat)),
        Cond::Rated => format!("coalesce({valid}, false)"),
        Cond::Satisfied => format!("coalesce({valid} AND csat >= {}, false)", csat.satisfied_min),
    }
}

/// The instant of `at` on the ticket row `x`.
fn instant(at: Attribution) -> &'static str {
    match at {
        Attribution::Created => "x.created_at",
        Attribution::Solved => "x.solved_at",
        _ => "coalesce(x.csat_at, x.solved_at)",
    }
}

fn cte_name(at: Attribution) -> &'static str {
    match at {
        Attribution::Created => "by_created",
        Attribution::Solved => "by_solved",
        Attribution::Rated => "by_rated",
        Attribution::PeriodEnd => "backlog",
    }
}

/// One group-by of the tickets whose `at` instant falls in a period: a
/// range join against the spine.
fn attributed_cte(q: &mut String, at: Attribution, cols: &[Column], by: &[String], csat: &crate::support::CsatScale) {
    let mut aggs = Vec::new();
    for c in cols.iter().filter(|c| c.attribution == at) {
        let e = match &c.measure {
            Measure::Count => "count(*)".to_owned(),
            Measure::CountIf(x) => format!("count(*) FILTER (WHERE {})", cond(x, csat)),
            Measure::CountValues(v) => format!("count({})", value(v)),
            Measure::Mean(v) => format!("avg({})", value(v)),
            Measure::Quantile(v, p) => format!("quantile_cont({}, {p:?})", value(v)),
            Measure::Sum(v) => format!("sum({})", value(v)),
            _ => continue,
        };
        aggs.push(format!("    {e} AS {}", ident(&c.name)));
    }
    let keys: String = by.iter().map(|b| format!(", x.{b}")).collect();
    let _ = writeln!(
        q,
        "{} AS (\n  SELECT s.period_start{keys},\n{}\n  FROM t x JOIN spine s ON {i} >= s.lo AND {i} < s.hi\n  GROUP BY ALL\n),",
        cte_name(at),
        aggs.join(",\n"),
        i = instant(at),
    );
}

/// The tickets open at each period's end (or at as-of when earlier: then
/// after every event at that instant), per group: a range join.
fn backlog_cte(q: &mut String, by: &[String]) {
    let keys: String = by.iter().map(|b| format!(", x.{b}")).collect();
    let _ = writeln!(
        q,
        "ends AS (\n  SELECT period_start, least(hi, a.at_us) AS at,\n    \
         CASE WHEN hi <= a.at_us THEN least(hi, a.at_us) ELSE a.at_us + 1 END AS bound\n  FROM spine, cutoff a\n),\n\
         open_at_end AS (\n  SELECT e.period_start{keys}, CAST(e.at - x.created_at AS DOUBLE) / 3.6e9 AS age\n  \
         FROM t x JOIN ends e ON x.created_at < e.bound AND coalesce(x.solved_at, {NEVER}) >= e.bound\n  \
         WHERE coalesce(x.solved_at, {NEVER}) >= x.created_at\n),\nbacklog AS (\n  SELECT period_start{k},\n    \
         count(*) AS backlog_count,\n    count(*) FILTER (WHERE age > 168) AS backlog_over_7d_count,\n    \
         quantile_cont(age, 0.5) AS backlog_median_age_hours\n  FROM open_at_end\n  GROUP BY ALL\n),",
        k = by.iter().map(|b| format!(", {b}")).collect::<String>()
    );
}

/// Every period for every group found in the tickets.
fn grid_cte(q: &mut String, by: &[String]) {
    if by.is_empty() {
        q.push_str("grid AS (SELECT period_start FROM spine)\n");
    } else {
        let _ = writeln!(
            q,
            "grid AS (SELECT s.period_start, g.* FROM spine s CROSS JOIN (SELECT DISTINCT {} FROM t) g)",
            by.join(", ")
        );
    }
}

fn select(q: &mut String, cols: &[Column], by: &[String]) {
    let mut out = vec!["g.period_start".to_owned()];
    out.extend(by.iter().map(|b| format!("g.{b}")));
    let alias = |c: &Column| match c.attribution {
        Attribution::Created => "c",
        Attribution::Solved => "s",
        Attribution::Rated => "r",
        Attribution::PeriodEnd => "b",
    };
    for c in cols.iter().filter(|c| !c.name.starts_with("__")) {
        let a = alias(c);
        let name = ident(&c.name);
        out.push(match &c.measure {
            Measure::Ratio { num, den, scale } => format!(
                "CASE WHEN coalesce({a}.{d}, 0) > 0 THEN {scale:?} * CAST({a}.{n} AS DOUBLE) / {a}.{d} END AS {name}",
                n = ident(num),
                d = ident(den)
            ),
            _ if c.count => format!("coalesce({a}.{name}, 0) AS {name}"),
            _ => format!("{a}.{name} AS {name}"),
        });
    }
    let on = |a: &str| {
        let mut keys = vec![format!("{a}.period_start = g.period_start")];
        keys.extend(by.iter().map(|b| format!("{a}.{b} IS NOT DISTINCT FROM g.{b}")));
        format!("({})", keys.join(" AND "))
    };
    let order: Vec<String> =
        std::iter::once("g.period_start".to_owned()).chain(by.iter().map(|b| format!("g.{b} NULLS LAST"))).collect();
    let _ = write!(
        q,
        "SELECT\n  {}\nFROM grid g\nLEFT JOIN by_created c ON {}\nLEFT JOIN by_solved s ON {}\n\
         LEFT JOIN by_rated r ON {}\nLEFT JOIN backlog b ON {}\nORDER BY {}\n",
        out.join(",\n  "),
        on("c"),
        on("s"),
        on("r"),
        on("b"),
        order.join(", ")
    );
}

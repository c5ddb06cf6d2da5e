//! Rendering [`super::support_columns`] as one SQL query.

use std::fmt::Write as _;

use super::{Attribution, Column, Cond, Dialect, Measure, SqlRequest, Value, support_columns};
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
            "is not rendered yet (duckdb and spark are; docs/sql.md lists the plan for the others)",
        ));
    }
    let o = r.options.validated()?;
    let cols = support_columns(&o);
    let d = r.dialect;
    let by: Vec<String> = o.by.iter().map(|b| quoted(d, b)).collect();
    let mut q = String::from("WITH\n");
    spine_cte(&mut q, r);
    tickets_ctes(&mut q, r, &by);
    for at in [Attribution::Created, Attribution::Solved, Attribution::Rated] {
        attributed_cte(&mut q, d, at, &cols, &by, &o.csat);
    }
    backlog_cte(&mut q, d, &by);
    grid_cte(&mut q, &by);
    select(&mut q, &cols, &by);
    Ok(q)
}

/// A metric's column name (always a plain lower-case word).
fn ident(name: &str) -> String {
    quoted(Dialect::DuckDb, name)
}

/// An identifier, quoted in the dialect's way (`"x"`, Spark's `` `x` ``)
/// when it is not a plain lower-case word.
fn quoted(d: Dialect, name: &str) -> String {
    let plain = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !matches!(name, "group" | "order" | "select" | "from" | "where" | "asof" | "end" | "start");
    match (plain, d) {
        (true, _) => name.to_owned(),
        (false, Dialect::Spark) => format!("`{}`", name.replace('`', "``")),
        (false, _) => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// Epoch microseconds of a timestamp column.
fn epoch_us(d: Dialect, c: &str) -> String {
    match d {
        Dialect::Spark => format!("unix_micros({c})"),
        _ => format!("epoch_us({c})"),
    }
}

/// The exact linear-interpolation quantile aggregate.
fn quantile(d: Dialect, v: &str, p: f64) -> String {
    match d {
        Dialect::Spark => format!("percentile({v}, {p:?})"),
        _ => format!("quantile_cont({v}, {p:?})"),
    }
}

/// The periods: start date and UTC bounds in epoch microseconds.
fn spine_cte(q: &mut String, r: &SqlRequest) {
    let sp = &r.spine;
    q.push_str("spine AS (SELECT * FROM (VALUES\n");
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
    q.push_str("\n) AS v(period_start, lo, hi)),\n");
}

/// `raw`: the tickets' instants as epoch microseconds; `asof`; `t`: the
/// tickets as of as-of (later events not yet happened, later tickets not
/// yet created, a rating after as-of dropped).
fn tickets_ctes(q: &mut String, r: &SqlRequest, by: &[String]) {
    let us = |c: &str| format!("{} AS {c}", epoch_us(r.dialect, c));
    let dims: String = by.iter().map(|b| format!(", CAST({b} AS STRING) AS {b}")).collect();
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
            let _ = writeln!(q, "cutoff AS (SELECT CAST({a} AS BIGINT) AS at_us),");
        }
        None => q.push_str(
            "cutoff AS (SELECT greatest(max(created_at), coalesce(max(first_response_at), 0), \
             coalesce(max(solved_at), 0), coalesce(max(csat_at), 0)) AS at_us FROM raw),\n",
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
            format!("CASE WHEN {to} >= {from} THEN CAST({to} - {from} AS DOUBLE) / {unit_micros:e} END")
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
fn attributed_cte(
    q: &mut String,
    d: Dialect,
    at: Attribution,
    cols: &[Column],
    by: &[String],
    csat: &crate::support::CsatScale,
) {
    let mut aggs = Vec::new();
    for c in cols.iter().filter(|c| c.attribution == at) {
        let e = match &c.measure {
            Measure::Count => "count(*)".to_owned(),
            Measure::CountIf(x) => format!("count(*) FILTER (WHERE {})", cond(x, csat)),
            Measure::CountValues(v) => format!("count({})", value(v)),
            Measure::Mean(v) => format!("avg({})", value(v)),
            Measure::Quantile(v, p) => quantile(d, &value(v), *p),
            Measure::Sum(v) => format!("sum({})", value(v)),
            _ => continue,
        };
        aggs.push(format!("    {e} AS {}", ident(&c.name)));
    }
    let keys: String = by.iter().map(|b| format!(", x.{b}")).collect();
    let _ = writeln!(
        q,
        "{} AS (\n  SELECT s.period_start{keys},\n{}\n  FROM t x JOIN spine s ON {i} >= s.lo AND {i} < s.hi\n  \
         GROUP BY s.period_start{keys}\n),",
        cte_name(at),
        aggs.join(",\n"),
        i = instant(at),
    );
}

/// The tickets open at each period's end (or at as-of when earlier: then
/// after every event at that instant), per group: a range join.
fn backlog_cte(q: &mut String, d: Dialect, by: &[String]) {
    let keys: String = by.iter().map(|b| format!(", x.{b}")).collect();
    let _ = writeln!(
        q,
        "ends AS (\n  SELECT period_start, least(hi, a.at_us) AS snap_us,\n    \
         CASE WHEN hi <= a.at_us THEN least(hi, a.at_us) ELSE a.at_us + 1 END AS bound\n  FROM spine, cutoff a\n),\n\
         open_at_end AS (\n  SELECT e.period_start{keys}, CAST(e.snap_us - x.created_at AS DOUBLE) / 3.6e9 AS age\n  \
         FROM t x JOIN ends e ON x.created_at < e.bound AND coalesce(x.solved_at, {NEVER}) >= e.bound\n  \
         WHERE coalesce(x.solved_at, {NEVER}) >= x.created_at\n),\nbacklog AS (\n  SELECT period_start{k},\n    \
         count(*) AS backlog_count,\n    count(*) FILTER (WHERE age > 168) AS backlog_over_7d_count,\n    \
         {median} AS backlog_median_age_hours\n  FROM open_at_end\n  GROUP BY period_start{k}\n),",
        k = by.iter().map(|b| format!(", {b}")).collect::<String>(),
        median = quantile(d, "age", 0.5)
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

//! The purchases table as SQL (metrics.md, "Purchases (transactions)"):
//! each transaction's local purchase day from a table of the zone's UTC
//! offsets, the period rates from each customer's distinct days within a
//! period, and the lifetime rate from each customer's first and second
//! purchase days, counted into the period holding them and summed by a
//! window over the periods (nothing is joined customers x periods).

use std::fmt::Write as _;

use chrono::{Datelike as _, NaiveDate, Offset, TimeZone as _};
use chrono_tz::Tz;

use super::render::{Dims, Syntax, grid_cte, refuse_internal, source_with_dims};
use super::{Attribution, Column, Dialect, Measure, purchase_columns};
use crate::period::{Spine, date_to_days};
use crate::{Error, Result};

/// What the purchases SQL is rendered for: a transactions table with
/// `account_id`, `at` (a timestamp) and, unless `amount` is false, a
/// numeric `amount` (docs/sql.md, "Purchases").
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PurchasesRequest {
    /// The dialect.
    pub dialect: Dialect,
    /// The engine's identifier of the transactions table.
    pub table: String,
    /// Whether the table has `amount`: `revenue` and
    /// `average_order_value` are then given (default true).
    pub amount: bool,
    /// Dimensions: columns of the transactions, or with `accounts` of the
    /// accounts table.
    pub by: Vec<String>,
    /// The periods (monthly by default in cxm).
    pub spine: Spine,
    /// The `by` names the table itself holds: read from it even with an
    /// accounts table, as cxm looks at a section's own table first
    /// (`cxm sql --engine` finds them in one row of the table; empty by
    /// default).
    pub own_by: Vec<String>,
    /// An accounts table: the other `by` columns are then read from it, joined on
    /// the transactions' `account_id`.
    pub accounts: Option<String>,
}

impl PurchasesRequest {
    /// A request for the table `table` in `dialect`, with amounts, ungrouped.
    pub fn new(dialect: Dialect, table: impl Into<String>, spine: Spine) -> Self {
        Self { dialect, table: table.into(), amount: true, by: Vec::new(), own_by: Vec::new(), spine, accounts: None }
    }
}

/// Column names of the query's own, which a `by` name may not take.
const INTERNAL: &[&str] = &[
    "period_start",
    "account_id",
    "at_us",
    "amount",
    "pday",
    "orders",
    "days",
    "revenue",
    "__priced",
    "customers_purchasing",
    "__repeaters",
    "k",
    "d1",
    "d2",
    "b",
    "n",
    "__buyers",
    "__lifetime_repeaters",
    "purchase_frequency",
    "average_order_value",
    "repeat_purchase_rate",
    "repeat_purchase_rate_lifetime",
];

/// One microsecond instant no export reaches, either way (2^62 µs is about
/// 146,000 years): the open ends of the zone table.
const FAR: i64 = 1 << 62;

/// The purchases table as one query in `r.dialect`: `period_start`, the
/// `by` columns, `customers_purchasing`, `orders`, `purchase_frequency`,
/// `revenue` and `average_order_value` (with `amount`),
/// `repeat_purchase_rate` and `repeat_purchase_rate_lifetime` (metrics.md,
/// "The `purchases` table"), rows ordered by period then group (nulls
/// last), as `cxm purchases` prints them.
///
/// A transaction counts when `at` is set and `account_id` is not empty.
/// Its purchase day is its local date in the spine's zone, from a table of
/// the zone's UTC offsets (exact from 1900 to two years after the last
/// period; the first and last offsets hold beyond). `amount` is read as a
/// number where it is one (text that is not, NaN and infinities give an
/// order without an amount).
///
/// Units and nulls: counts; `purchase_frequency` in orders per customer;
/// `revenue` and `average_order_value` in the amounts' own units (no
/// currency conversion); the rates are fractions 0-1. `purchase_frequency`
/// and `repeat_purchase_rate` are null when no customer purchased in the
/// period, `average_order_value` when no order had an amount, the lifetime
/// rate when no customer had purchased by the period's end; counts and
/// `revenue` are 0.
///
/// ```
/// use metrics_core::period::{Period, Spine};
/// use metrics_core::sql::{Dialect, PurchasesRequest, purchases_sql};
/// let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
/// let spine = Spine::new(Period::Month, chrono_tz::Europe::Berlin, d("2026-01-01"), d("2026-03-31"));
/// let sql = purchases_sql(&PurchasesRequest::new(Dialect::DuckDb, "shop.orders", spine))?;
/// assert!(sql.contains("FROM shop.orders") && sql.contains("AS repeat_purchase_rate_lifetime"));
/// // Berlin's offsets: +1 h in winter, +2 h in summer (3,600,000,000 µs and twice that).
/// assert!(sql.contains("CAST(3600000000 AS BIGINT)") && sql.contains("CAST(7200000000 AS BIGINT)"));
/// # Ok::<(), metrics_core::Error>(())
/// ```
///
/// # Errors
/// An empty spine (`--since` after `--until`), or a `by` name the query
/// uses for a column of its own.
pub fn purchases_sql(r: &PurchasesRequest) -> Result<String> {
    let (Some(first), Some(last)) = (r.spine.starts.first(), r.spine.starts.last()) else {
        return Err(Error::invalid_option("since", "", "is after --until: there is no period"));
    };
    refuse_internal(&r.by, INTERNAL)?;
    let x = Syntax(r.dialect);
    let d = Dims::quoted(&x, &r.by);
    let mut q = x.with_spine_buckets(&r.spine);
    days_ctes(&x, &mut q, &r.spine, 1900, last.year() + 2);
    let cols = purchase_columns(r.amount);
    transactions_ctes(&x, &mut q, r, &d);
    local_days_cte(&x, &mut q);
    within_ctes(&x, &mut q, &cols, &d);
    lifetime_ctes(&mut q, date_to_days(*first), &cols, &d);
    grid_cte(&mut q, &d.0);
    q.pop();
    select(&x, &mut q, &cols, &d);
    Ok(q)
}

/// One query that returns one row of the transactions table (all its
/// columns), for `cxm sql --engine` to see whether it has `amount`.
///
/// ```
/// use metrics_core::sql::probe_sql;
/// assert_eq!(probe_sql("shop.orders"), "SELECT * FROM shop.orders LIMIT 1\n");
/// ```
pub fn probe_sql(table: &str) -> String {
    format!("SELECT * FROM {table} LIMIT 1\n")
}

/// One query giving the transactions table's rows (`rows_read`) and the
/// usable ones the purchases query uses (`rows_used`: with `at` and an
/// `account_id`), one row.
pub fn purchases_usage_sql(r: &PurchasesRequest) -> String {
    let x = Syntax(r.dialect);
    let mut r = r.clone();
    (r.by, r.own_by) = (Vec::new(), Vec::new());
    let mut q = String::from("WITH\n");
    transactions_ctes(&x, &mut q, &r, &Dims(Vec::new()));
    super::render::usage(q, &r.table, "tx")
}

/// `spine_days`: each period's first and last local day, in days since
/// 1970-01-01; `offsets`: the zone's UTC offsets by instant, in µs.
fn days_ctes(x: &Syntax, q: &mut String, sp: &Spine, first_year: i32, last_year: i32) {
    let big = x.bigint();
    let int = |v: i64| format!("CAST({v} AS {big})");
    let days: Vec<Vec<String>> = sp
        .starts
        .iter()
        .map(|d| {
            let last = date_to_days(sp.period.next(*d)) - 1;
            vec![format!("DATE '{d}'"), int(date_to_days(*d).into()), int(last.into())]
        })
        .collect();
    let offsets: Vec<Vec<String>> = zone_offsets(sp.tz, first_year, last_year)
        .into_iter()
        .map(|(lo, hi, off)| vec![int(lo), int(hi), int(off)])
        .collect();
    let _ = writeln!(q, "{},", x.rows("spine_days", &["period_start", "first_day", "last_day"], &days));
    let _ = writeln!(q, "{},", x.rows("offsets", &["lo", "hi", "off"], &offsets));
}

/// `tx`: the usable transactions, instants in µs, with their dimensions.
fn transactions_ctes(x: &Syntax, q: &mut String, r: &PurchasesRequest, d: &Dims) {
    let s = x.string();
    let src = source_with_dims(x, q, &r.table, r.accounts.as_deref(), (d, &r.by), &r.own_by);
    let (from, dims, own) = (src.from, src.dims, src.own);
    let at = x.quote("at");
    let amount = if r.amount { format!(", {} AS amount", x.number(&format!("{own}amount"))) } else { String::new() };
    let _ = writeln!(
        q,
        "tx AS (\n  SELECT CAST({own}account_id AS {s}) AS account_id, {} AS at_us{amount}{dims}\n  FROM {from}\n  \
         WHERE {own}{at} IS NOT NULL AND {own}account_id IS NOT NULL AND trim(CAST({own}account_id AS {s})) <> ''\n),",
        x.epoch_us(&format!("{own}{at}")),
    );
}

/// `t`: each usable transaction of `tx` with its local purchase day, from
/// the zone's `offsets`.
fn local_days_cte(x: &Syntax, q: &mut String) {
    let _ = writeln!(
        q,
        "t AS (\n  SELECT x.*, CAST(floor(CAST(x.at_us + z.off AS {}) / 86400000000.0) AS {}) AS pday\n  \
         FROM tx x JOIN offsets z ON x.at_us >= z.lo AND x.at_us < z.hi\n),",
        x.double(),
        x.bigint()
    );
}

/// `per_customer`: each customer's partial counts and sums and distinct
/// days per period and group; `in_period`: the period's columns from them
/// (a count or sum adds its partials; [`Measure::Customers`] counts the
/// customers with enough distinct days).
fn within_ctes(x: &Syntax, q: &mut String, cols: &[Column], d: &Dims) {
    let (keys, k) = (d.list("x"), d.list(""));
    let (mut partial, mut total) = (vec!["count(DISTINCT x.pday) AS days".to_owned()], Vec::new());
    for c in cols.iter().filter(|c| c.attribution == Attribution::Purchased) {
        match &c.measure {
            Measure::Customers { min_days } => {
                total.push(format!("count(CASE WHEN days >= {min_days} THEN 1 END) AS {}", c.name));
            }
            m @ (Measure::Count | Measure::CountValues(_) | Measure::Sum(_)) => {
                if let Some(e) = x.aggregate(m) {
                    partial.push(format!("{e} AS {}", c.name));
                    total.push(format!("sum({0}) AS {0}", c.name));
                }
            }
            _ => {}
        }
    }
    let _ = writeln!(
        q,
        "per_customer AS (\n  SELECT s.period_start{keys}, x.account_id,\n    {}\n  \
         FROM t x {}\n  GROUP BY s.period_start{keys}, x.account_id\n),",
        partial.join(", "),
        x.in_period("x.at_us")
    );
    let _ = writeln!(
        q,
        "in_period AS (\n  SELECT period_start{k},\n    {}\n  FROM per_customer\n  GROUP BY period_start{k}\n),",
        total.join(",\n    ")
    );
}

/// The running counts of [`Attribution::NthPurchaseDay`], in `cols`' order.
fn running(cols: &[Column]) -> Vec<(&Column, u32)> {
    cols.iter()
        .filter_map(|c| match (c.attribution, &c.measure) {
            (Attribution::NthPurchaseDay(n), Measure::RunningCount) if n > 0 => Some((c, n)),
            _ => None,
        })
        .collect()
}

/// `firsts`: each customer's n-th distinct purchase days (`d1`, `d2`, ...;
/// null with fewer days) and its group, that of its first day (with
/// several, the least: a table has no row order); one `new_N` per running
/// count: customers by the period holding their n-th day (days before the
/// range in the first period, after it in none).
fn lifetime_ctes(q: &mut String, range_first_day: i32, cols: &[Column], d: &Dims) {
    let runs = running(cols);
    let Some(most) = runs.iter().map(|(_, n)| *n).max() else { return };
    let k = d.list("");
    let _ = writeln!(
        q,
        "ranked AS (\n  SELECT account_id, pday, row_number() OVER (PARTITION BY account_id ORDER BY pday) AS k\n  \
         FROM (SELECT DISTINCT account_id, pday FROM t) d\n),"
    );
    let days: Vec<String> = (1..=most).map(|n| format!("min(CASE WHEN k = {n} THEN pday END) AS d{n}")).collect();
    let _ = writeln!(
        q,
        "firsts AS (\n  SELECT account_id, {}\n  FROM ranked WHERE k <= {most} GROUP BY account_id\n),",
        days.join(", ")
    );
    let (source, keys) = if d.0.is_empty() {
        ("firsts f".to_owned(), String::new())
    } else {
        let order = d.nulls_last("");
        let _ = writeln!(
            q,
            "first_groups AS (\n  SELECT account_id{k} FROM (\n    SELECT account_id{k}, \
             row_number() OVER (PARTITION BY account_id ORDER BY pday{order}) AS k\n    \
             FROM (SELECT DISTINCT account_id, pday{k} FROM t) d\n  ) g WHERE k = 1\n),"
        );
        ("firsts f JOIN first_groups g ON g.account_id = f.account_id".to_owned(), d.list("g"))
    };
    let outer = d.list("f");
    for (i, (_, n)) in runs.iter().enumerate() {
        let _ = writeln!(
            q,
            "new_{i} AS (\n  SELECT p.period_start{outer}, count(*) AS n\n  \
             FROM (SELECT f.*{keys}, greatest(f.d{n}, {range_first_day}) AS b FROM {source} WHERE f.d{n} IS NOT NULL) f\n  \
             JOIN spine_days p ON f.b BETWEEN p.first_day AND p.last_day\n  GROUP BY p.period_start{outer}\n),",
        );
    }
}

/// The final select: every period and group, the period's columns, the
/// running counts summed over the periods so far, then the output columns
/// (ratios from them).
fn select(x: &Syntax, q: &mut String, cols: &[Column], d: &Dims) {
    let gkeys = d.list("g");
    let on = |a: &str| d.same(a, "g");
    let part = d.partition("g");
    let mut totals: Vec<String> = cols
        .iter()
        .filter(|c| c.attribution == Attribution::Purchased && x.derived(&c.measure, "").is_none())
        .map(|c| match c.count {
            true => format!("coalesce(w.{0}, 0) AS {0}", c.name),
            false => format!("w.{0} AS {0}", c.name),
        })
        .collect();
    let mut joins = format!("  LEFT JOIN in_period w ON w.period_start = g.period_start{}\n", on("w"));
    for (i, (c, _)) in running(cols).into_iter().enumerate() {
        totals.push(format!(
            "sum(coalesce(l{i}.n, 0)) OVER ({part}ORDER BY g.period_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS {}",
            c.name
        ));
        let _ =
            writeln!(joins, "  LEFT JOIN new_{i} l{i} ON l{i}.period_start = g.period_start{}", on(&format!("l{i}")));
    }
    let _ = writeln!(
        q,
        ",\ntotals AS (\n  SELECT g.period_start{gkeys},\n    {}\n  FROM grid g\n{joins})",
        totals.join(",\n    ")
    );
    let _ = write!(
        q,
        "SELECT period_start{},\n  {}\nFROM totals\nORDER BY period_start{}\n",
        d.list(""),
        x.outputs(cols),
        d.nulls_last("")
    );
}

/// The UTC offsets of `tz` as `(from, to, offset)` in epoch µs, covering
/// every instant: exact from `first_year` to the end of `last_year` (each
/// change found to the second), the first offset before and the last after.
fn zone_offsets(tz: Tz, first_year: i32, last_year: i32) -> Vec<(i64, i64, i64)> {
    let offset = |s: i64| -> i64 {
        chrono::DateTime::from_timestamp(s, 0)
            .map_or(0, |d| i64::from(tz.offset_from_utc_datetime(&d.naive_utc()).fix().local_minus_utc()))
    };
    let second = |year: i32| {
        NaiveDate::from_ymd_opt(year, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).map_or(0, |d| d.and_utc().timestamp())
    };
    let (start, end) = (second(first_year), second(last_year + 1));
    let (mut rows, mut from, mut current) = (Vec::new(), -FAR, offset(start));
    let mut s = start;
    while s < end {
        let mut next = s + 86_400;
        if offset(next) != current {
            // The change lies in (s, next]: its first second, by bisection.
            let (mut lo, mut hi) = (s, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset(mid) == current { lo = mid } else { hi = mid }
            }
            rows.push((from, hi * 1_000_000, current * 1_000_000));
            (from, current) = (hi * 1_000_000, offset(hi));
            // Go on from the change: a second one within the day is found too.
            next = hi;
        }
        s = next;
    }
    rows.push((from, FAR, current * 1_000_000));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_has_one_offset_and_berlin_changes_twice_a_year() {
        assert_eq!(zone_offsets(chrono_tz::UTC, 1900, 2030), vec![(-FAR, FAR, 0)]);
        let berlin = zone_offsets(chrono_tz::Europe::Berlin, 1900, 2026);
        // 2026: summer time from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC.
        let summer = berlin.iter().find(|r| r.0 == 1_774_746_000_000_000).expect("the March change");
        assert_eq!((summer.1, summer.2), (1_792_890_000_000_000, 7_200_000_000));
        // The rows tile the line: each starts where the previous ends.
        assert!(berlin.windows(2).all(|w| w[0].1 == w[1].0));
        assert_eq!((berlin[0].0, berlin.last().unwrap().1), (-FAR, FAR));
    }
}

//! The revenue table as SQL (metrics.md, "MRR and movements" to "CLV
//! (historic)"): account MRR just before each period edge by a range join
//! of the lines against the edges, net movements per account and period,
//! then customers, rates, CLV and historic CLV.

use std::fmt::Write as _;

use super::render::{Dims, Syntax};
use super::{Attribution, Column, Dialect, Measure, cohort_columns, revenue_columns};
use crate::period::{Period, Spine};
use crate::{Error, Result};

/// What the revenue SQL is rendered for: a subscriptions table of lines
/// (`account_id`, `start_at`, `end_at`, and `mrr` or the amount form),
/// any period.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RevenueRequest {
    /// The dialect.
    pub dialect: Dialect,
    /// The engine's identifier of the subscriptions table.
    pub table: String,
    /// Where a line's MRR comes from (default: the `mrr` column).
    pub mrr_source: MrrSource,
    /// Currency conversion: the factor of each upper-case code into the
    /// reporting currency ([`crate::revenue::lines::currency_factors`]).
    /// With it the query reads the table's `currency` (trimmed, any case):
    /// an empty one takes 1, and a code without a factor fails the query
    /// (a cast of `cxm: no rate for currency X` to an integer) rather than
    /// drop the line. None: no conversion, `currency` is not read.
    pub currency: Option<std::collections::BTreeMap<String, f64>>,
    /// `[revenue] gross_margin`, in (0, 1].
    pub gross_margin: f64,
    /// The periods (monthly).
    pub spine: crate::period::Spine,
    /// Dimensions: columns of the accounts table, joined on `account_id`,
    /// or of the lines themselves (those of `own_by`, and every one without
    /// an accounts table): each (account, value) pair then moves on its
    /// own (metrics.md, "A dimension of the lines").
    pub by: Vec<String>,
    /// The `by` names the lines hold: read from them even with an accounts
    /// table, as `cxm revenue` does (`cxm sql --engine` finds them in one
    /// row of the table; empty by default).
    pub own_by: Vec<String>,
    /// The engine's identifier of the accounts table.
    pub accounts: Option<String>,
}

impl RevenueRequest {
    /// A request for the table `table` in `dialect`, gross margin 1, ungrouped.
    pub fn new(dialect: Dialect, table: impl Into<String>, spine: crate::period::Spine) -> Self {
        Self {
            dialect,
            table: table.into(),
            mrr_source: MrrSource::Mrr,
            currency: None,
            gross_margin: 1.0,
            spine,
            by: Vec::new(),
            own_by: Vec::new(),
            accounts: None,
        }
    }
}

/// Where a line's MRR comes from (`meta.rules.mrr_source`;
/// data-contract.md, "The subscriptions table").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MrrSource {
    /// The `mrr` column, as given.
    #[default]
    Mrr,
    /// `amount × quantity × f / interval_count`, f the months per
    /// `interval` (month 1, year 1/12, week 52/12, day 365/12; trimmed,
    /// any case); a line with another interval or `interval_count <= 0` is
    /// left out. `quantity` and `interval_count` are read when the table
    /// has them; empty (or absent) they are 1.
    Amount {
        /// The table has `quantity`.
        quantity: bool,
        /// The table has `interval_count`.
        interval_count: bool,
    },
}

/// One query giving the distinct currency codes (trimmed, upper-case, not
/// empty) of the lines the revenue query accepts, column `code`: what
/// `cxm sql --engine` needs to choose the reporting currency and the
/// factors as `cxm revenue` does. The request's `currency` is ignored.
///
/// ```
/// use metrics_core::period::{Period, Spine};
/// use metrics_core::sql::{Dialect, RevenueRequest, revenue_currencies_sql};
/// let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
/// let spine = Spine::new(Period::Month, chrono_tz::UTC, d("2026-01-01"), d("2026-06-30"));
/// let sql = revenue_currencies_sql(&RevenueRequest::new(Dialect::DuckDb, "subscriptions", spine))?;
/// assert!(sql.contains("SELECT DISTINCT code FROM"));
/// # Ok::<(), metrics_core::Error>(())
/// ```
pub fn revenue_currencies_sql(r: &RevenueRequest) -> Result<String> {
    let x = Syntax(r.dialect);
    let mut q = String::from("WITH\n");
    let mut r = r.clone();
    r.currency = Some(std::collections::BTreeMap::new());
    lines_cte(&x, &mut q, &r, true, &Dims(Vec::new()))?;
    q.truncate(q.trim_end().trim_end_matches(',').len());
    q.push_str("\nSELECT DISTINCT code FROM lines WHERE code <> '' ORDER BY code\n");
    Ok(q)
}

/// One query giving the subscriptions table's rows (`rows_read`) and the
/// lines the revenue and cohorts queries accept (`rows_used`: an
/// `account_id`, a `start_at`, an end after the start, an MRR), one row.
/// The request's `currency` is ignored (the main query converts every
/// accepted line or fails; it drops none).
///
/// # Errors
/// None today (the signature matches the other requests').
pub fn revenue_usage_sql(r: &RevenueRequest) -> Result<String> {
    let x = Syntax(r.dialect);
    let mut r = r.clone();
    r.currency = None;
    let mut q = String::from("WITH\n");
    lines_cte(&x, &mut q, &r, false, &Dims(Vec::new()))?;
    Ok(super::render::usage(q, &r.table, "lines"))
}

/// The `by` columns of revenue and cohorts and where each is read: from
/// the lines (a dimension of the lines: the unit is then the (account,
/// value) pair) or from the accounts table, through `account_dims`.
struct Groups {
    /// Every `by` column, quoted, in order.
    d: Dims,
    /// Per `by` column: read from the lines.
    line: Vec<bool>,
    /// The lines' `by` columns: with `account_id`, the unit that moves.
    unit: Dims,
}

impl Groups {
    fn new(x: &Syntax, r: &RevenueRequest) -> Self {
        let d = Dims::quoted(x, &r.by);
        let line: Vec<bool> = r.by.iter().map(|b| r.accounts.is_none() || r.own_by.contains(b)).collect();
        let unit = Dims(d.0.iter().zip(&line).filter(|(_, l)| **l).map(|(b, _)| b.clone()).collect());
        Self { d, line, unit }
    }

    /// The columns read from the accounts table.
    fn accounts(&self) -> Vec<String> {
        self.d.0.iter().zip(&self.line).filter(|(_, l)| !**l).map(|(b, _)| b.clone()).collect()
    }

    /// `, {a}.b` for a column of the lines (of the row `a`), `, ad.b` for
    /// one of the accounts table, in `by` order.
    fn cols(&self, a: &str) -> String {
        self.d.0.iter().zip(&self.line).map(|(b, l)| format!(", {}.{b}", if *l { a } else { "ad" })).collect()
    }

    /// ` LEFT JOIN account_dims ad ON ad.account_id = {account}` when a
    /// column is read from the accounts table.
    fn join(&self, account: &str) -> String {
        match self.accounts().is_empty() {
            true => String::new(),
            false => format!("\n  LEFT JOIN account_dims ad ON ad.account_id = {account}"),
        }
    }
}

/// The `account_dims` CTE (each account's `by` values from the accounts
/// table, when one is read from it) and the grid of every period and
/// group of the lines' units.
fn dims_ctes(x: &Syntax, q: &mut String, r: &RevenueRequest, g: &Groups) -> Result<()> {
    let d = &g.d;
    if d.0.is_empty() {
        q.push_str("grid AS (SELECT period_start FROM spine),\n");
        return Ok(());
    }
    // The query's own columns beside the `by` ones: its steps' and every
    // output column.
    let own = revenue_columns(r.gross_margin);
    let mut internal = vec![
        "account_id",
        "period_start",
        "a",
        "b",
        "paid_before",
        "revenue",
        "churned",
        "rate",
        "c",
        "v",
        "i",
        "n",
        "mrr",
        "total",
        "cohort",
        "ci",
        "accounts",
        "active",
        "__active",
        "__mrr",
        "__mrr_at_0",
    ];
    internal.extend(own.iter().map(|c| c.name.as_str()));
    internal.extend(crate::revenue::cohorts::COLUMNS);
    super::render::refuse_internal(&r.by, &internal)?;
    // A column of the lines also sits beside the lines' own steps.
    let of_lines: Vec<String> = r.by.iter().zip(&g.line).filter(|(_, l)| **l).map(|(b, _)| b.clone()).collect();
    super::render::refuse_internal(&of_lines, &["s", "e", "t", "m", "cur", "first_paid"])?;
    let acct = g.accounts();
    if let (Some(accounts), false) = (&r.accounts, acct.is_empty()) {
        let _ = writeln!(q, "{}", super::render::account_dims_cte(x, accounts, &acct));
    }
    let _ = writeln!(
        q,
        "grid AS (\n  SELECT p.period_start{}\n  FROM spine p CROSS JOIN (\n    SELECT DISTINCT {}\n    \
         FROM (SELECT DISTINCT account_id{} FROM lines) l{}\n  ) g\n),",
        d.list("g"),
        g.cols("l").trim_start_matches(", "),
        g.unit.list(""),
        g.join("l.account_id"),
    );
    Ok(())
}

/// Microseconds in a month of 365/12 days (historic CLV).
const MONTH_US: f64 = 365.0 / 12.0 * 86_400e6;

/// The revenue table as one query in `r.dialect`, with the columns and
/// rows of `cxm revenue`, for any period. `clv` needs the monthly
/// `logo_churn_rate` of the six calendar months ending with the month that
/// holds each row's last day: for monthly periods a window over the rows;
/// for others a side table of the months from the one holding the first
/// period's start to the one holding the last period's last day
/// (metrics.md, "CLV (formula)").
///
/// ```
/// use metrics_core::period::{Period, Spine};
/// use metrics_core::sql::{Dialect, RevenueRequest, revenue_sql};
/// let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
/// let spine = Spine::new(Period::Month, chrono_tz::UTC, d("2026-01-01"), d("2026-06-30"));
/// let sql = revenue_sql(&RevenueRequest::new(Dialect::DuckDb, "subscriptions", spine))?;
/// assert!(sql.contains("FULL OUTER JOIN") && sql.contains("FROM subscriptions"));
/// // Weekly: the monthly churn comes from a side table of months.
/// let weeks = Spine::new(Period::Week, chrono_tz::UTC, d("2026-01-05"), d("2026-06-28"));
/// let sql = revenue_sql(&RevenueRequest::new(Dialect::DuckDb, "subscriptions", weeks))?;
/// assert!(sql.contains("months AS (") && sql.contains("(DATE '2026-06-01',"));
/// # Ok::<(), metrics_core::Error>(())
/// ```
pub fn revenue_sql(r: &RevenueRequest) -> Result<String> {
    let months = months_of(&r.spine);
    let (x, g, mut q) = accounts_over_time(r, months.as_ref())?;
    let d = &g.d;
    let cols = revenue_columns(r.gross_margin);
    let dbl = x.double();
    let _ = writeln!(
        q,
        "at_start AS (SELECT p.period_start, n.account_id{un}, n.total AS mrr FROM spine p JOIN snap n ON n.t = p.lo WHERE n.total > 1e-6),\n\
         at_end AS (SELECT p.period_start, n.account_id{un}, n.total AS mrr FROM spine p JOIN snap n ON n.t = p.hi WHERE n.total > 1e-6),\n\
         moves AS (\n  SELECT coalesce(b.period_start, a.period_start) AS period_start,\n    \
         coalesce(b.account_id, a.account_id) AS account_id,{units}\n    \
         coalesce(b.mrr, CAST(0 AS {dbl})) AS b, coalesce(a.mrr, CAST(0 AS {dbl})) AS a\n  \
         FROM at_start b FULL OUTER JOIN at_end a ON b.period_start = a.period_start AND b.account_id = a.account_id{ba}\n),\n\
         classified AS (\n  SELECT m.period_start{}, m.b, m.a, coalesce(f.first_paid < p.lo, false) AS paid_before\n  \
         FROM moves m JOIN spine p ON p.period_start = m.period_start\n  \
         LEFT JOIN first_paid f ON f.account_id = m.account_id{fm}{}\n),",
        g.cols("m"),
        g.join("m.account_id"),
        un = g.unit.list("n"),
        units = g.unit.0.iter().map(|u| format!(" coalesce(b.{u}, a.{u}) AS {u},")).collect::<String>(),
        ba = g.unit.same("b", "a"),
        fm = g.unit.same("f", "m"),
    );
    books(&x, &mut q, &cols, d);
    let rated = rated(&x, &mut q, &cols);
    history(&x, &mut q, &cols, &g);
    let clv = cols.iter().find_map(|c| match &c.measure {
        Measure::Clv { arpa, churn, months: n, gross_margin } => Some((c, arpa, churn, *n, *gross_margin)),
        _ => None,
    });
    if let (Some(_), Some((_, _, _, n, _))) = (&months, clv) {
        monthly_churn(&x, &mut q, &g, n);
    }
    select(&mut q, &cols, &rated, d, months.is_some());
    Ok(q)
}

/// `books`: the aggregates of [`Attribution::AccountPeriod`] over each
/// period's accounts and group (sums 0 where there are none).
fn books(x: &Syntax, q: &mut String, cols: &[Column], d: &Dims) {
    let aggs: Vec<String> = x
        .aggregates(cols, Attribution::AccountPeriod)
        .into_iter()
        .map(|(c, e)| match c.measure {
            Measure::Sum(_) => format!("coalesce({e}, 0) AS {}", c.name),
            _ => format!("{e} AS {}", c.name),
        })
        .collect();
    let _ = writeln!(
        q,
        "books AS (\n  SELECT g.period_start{gk},\n    {}\n  \
         FROM grid g LEFT JOIN classified m ON m.period_start = g.period_start{same}\n  GROUP BY g.period_start{gk}\n),",
        aggs.join(",\n    "),
        gk = d.list("g"),
        same = d.same("m", "g")
    );
}

/// `rated_1`, `rated_2`, ...: the columns computed from others
/// ([`Syntax::derived`]), each one step after the columns it reads.
/// Returns the name of the last step (`books` with none).
fn rated(x: &Syntax, q: &mut String, cols: &[Column]) -> String {
    let mut level: Vec<(&str, usize)> = Vec::new();
    let mut steps: Vec<Vec<String>> = Vec::new();
    for c in cols.iter().filter(|c| c.attribution == Attribution::AccountPeriod) {
        let Some(e) = x.derived(&c.measure, "") else { continue };
        let after = c.measure.reads().iter().filter_map(|r| level.iter().find(|(n, _)| n == r)).map(|(_, l)| *l).max();
        let l = after.map_or(0, |l| l + 1);
        level.push((&c.name, l));
        if steps.len() <= l {
            steps.resize(l + 1, Vec::new());
        }
        steps[l].push(format!("{e} AS {}", c.name));
    }
    let mut from = "books".to_owned();
    for (i, exprs) in steps.iter().enumerate() {
        let name = format!("rated_{}", i + 1);
        let _ = writeln!(q, "{name} AS (\n  SELECT *,\n    {}\n  FROM {from}\n),", exprs.join(",\n    "));
        from = name;
    }
    from
}

/// The calendar months of a spine of other periods: from the month holding
/// the first period's start to the month holding the last period's last
/// day. None for monthly periods (the rows are the months) and for an
/// empty spine.
fn months_of(sp: &Spine) -> Option<Spine> {
    let (first, last) = (sp.starts.first()?, sp.starts.last()?);
    let last_day = sp.period.next(*last).pred_opt()?;
    (sp.period != Period::Month).then(|| Spine::new(Period::Month, sp.tz, *first, last_day))
}

/// The monthly `logo_churn_rate` per group over `months` (accounts with
/// MRR just before a month's start, and of them those with none just
/// before its end), and `row_churn`: the mean of the six months ending
/// with the month that holds each period's last instant, null unless all
/// six are in the months and not null.
fn monthly_churn(x: &Syntax, q: &mut String, g: &Groups, months: u32) {
    let (dbl, d) = (x.double(), &g.d);
    let k = d.list("");
    let mgrid = if d.0.is_empty() {
        "SELECT period_start FROM months".to_owned()
    } else {
        format!(
            "SELECT m.period_start{} FROM months m CROSS JOIN (SELECT DISTINCT {} FROM grid) g",
            d.list("g"),
            d.0.join(", ")
        )
    };
    let part = d.partition("");
    let w = format!(
        "OVER ({part}ORDER BY period_start ROWS BETWEEN {} PRECEDING AND CURRENT ROW)",
        months.saturating_sub(1)
    );
    let _ = writeln!(
        q,
        "m_churn AS (\n  SELECT p.period_start{ad}, count(*) AS customers_start,\n    \
         count(CASE WHEN e.account_id IS NULL THEN 1 END) AS churned\n  \
         FROM months p JOIN snap s ON s.t = p.lo AND s.total > 1e-6\n  \
         LEFT JOIN snap e ON e.t = p.hi AND e.account_id = s.account_id{es} AND e.total > 1e-6{jd}\n  \
         GROUP BY p.period_start{ad}\n),\n\
         m_rates AS (\n  SELECT g.period_start{gk},\n    \
         CASE WHEN c.customers_start > 0 THEN CAST(c.churned AS {dbl}) / c.customers_start END AS rate\n  \
         FROM ({mgrid}) g LEFT JOIN m_churn c ON c.period_start = g.period_start{same}\n),\n\
         m_clv AS (\n  SELECT period_start{k}, CASE WHEN count(rate) {w} = {months} THEN avg(rate) {w} END AS c\n  FROM m_rates\n),\n\
         row_churn AS (\n  SELECT p.period_start{mk}, m.c\n  \
         FROM spine p JOIN months ms ON p.hi - 1 >= ms.lo AND p.hi - 1 < ms.hi\n  \
         JOIN m_clv m ON m.period_start = ms.period_start\n),",
        ad = g.cols("s"),
        jd = g.join("s.account_id"),
        es = g.unit.same("e", "s"),
        gk = d.list("g"),
        same = d.same("c", "g"),
        mk = d.list("m"),
    );
}

/// The start shared by the revenue and cohorts queries: the periods, the
/// lines, each account's MRR before each period edge, its first paid
/// instant, and with `by` the accounts' groups ([`lines_ctes`],
/// [`dims_ctes`]).
fn accounts_over_time(r: &RevenueRequest, months: Option<&Spine>) -> Result<(Syntax, Groups, String)> {
    let x = Syntax(r.dialect);
    let g = Groups::new(&x, r);
    let mut q = x.with_spine(&r.spine);
    if let Some(m) = months {
        let _ = writeln!(q, "{},", x.periods("months", m));
    }
    lines_ctes(&x, &mut q, r, months.is_some(), &g.unit)?;
    dims_ctes(&x, &mut q, r, &g)?;
    Ok((x, g, q))
}

/// `lines` (the accepted lines, instants in epoch microseconds), `edges`,
/// `snap` (each account's MRR summed just before each edge) and
/// `first_paid`.
fn lines_ctes(x: &Syntax, q: &mut String, r: &RevenueRequest, months: bool, unit: &Dims) -> Result<()> {
    let never = i64::MAX;
    let more = if months { " UNION SELECT lo AS t FROM months UNION SELECT hi AS t FROM months" } else { "" };
    lines_cte(x, q, r, false, unit)?;
    let (ul, u) = (unit.list("l"), unit.list(""));
    let _ = writeln!(
        q,
        "edges AS (SELECT lo AS t FROM spine UNION SELECT hi AS t FROM spine{more}),\n\
         snap AS (\n  SELECT g.t, l.account_id{ul}, sum(l.mrr) AS total\n  \
         FROM edges g JOIN lines l ON l.s < g.t AND coalesce(l.e, {never}) >= g.t\n  GROUP BY g.t, l.account_id{ul}\n),\n\
         first_paid AS (SELECT account_id{u}, min(s) AS first_paid FROM lines WHERE mrr > 0 GROUP BY account_id{u}),"
    );
    Ok(())
}

/// `lines`: the accepted lines, instants in epoch microseconds, MRR per
/// month in the reporting currency (with `r.currency`, after a
/// `currency_factors` table of the factors); with `code`, each line's
/// currency code instead of the conversion. Numbers are read as cxm reads
/// them: text that is no number, NaN and infinities are none.
fn lines_cte(x: &Syntax, q: &mut String, r: &RevenueRequest, code: bool, unit: &Dims) -> Result<()> {
    let s = x.string();
    let num = |c: &str| x.number(&format!("x.{c}"));
    let money = match r.mrr_source {
        MrrSource::Mrr => num("mrr"),
        MrrSource::Amount { quantity, interval_count } => {
            let per = |words: &[&str], f: f64| {
                let list: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
                format!("WHEN lower(trim(x.{})) IN ({}) THEN {f:?}", x.quote("interval"), list.join(", "))
            };
            let months = format!(
                "CASE {} {} {} {} END",
                per(&["month", "monthly"], 1.0),
                per(&["year", "yearly", "annual", "annually"], 1.0 / 12.0),
                per(&["week", "weekly"], 52.0 / 12.0),
                per(&["day", "daily"], 365.0 / 12.0),
            );
            let qty = if quantity { format!("coalesce({}, 1.0)", num("quantity")) } else { "1.0".into() };
            // A count that is no whole number is none, so 1; one below 1
            // leaves the line out.
            let count = if interval_count {
                let c = num("interval_count");
                format!("coalesce(CASE WHEN {c} = floor({c}) THEN {c} END, 1.0)")
            } else {
                "1.0".into()
            };
            format!("{} * {qty} * ({months} / CASE WHEN {count} > 0 THEN {count} END)", num("amount"))
        }
    };
    let converting = r.currency.is_some();
    let cur =
        if converting { format!(", coalesce(upper(trim(CAST(x.currency AS {s}))), '') AS cur") } else { String::new() };
    let (mrr, join) = match &r.currency {
        Some(factors) if !code => {
            let mut rows = Vec::new();
            for (c, f) in factors {
                // Codes become SQL literals: only plain ones.
                if c.is_empty() || c.len() > 32 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-. ".contains(&b))
                {
                    return Err(Error::invalid_option(
                        "currency",
                        c,
                        "is not a currency code the SQL can name (letters, digits, _ - . and spaces)",
                    ));
                }
                rows.push(vec![format!("'{c}'"), format!("CAST({f:?} AS {})", x.double())]);
            }
            if rows.is_empty() {
                rows.push(vec!["''".into(), format!("CAST(1 AS {})", x.double())]);
            }
            let _ = writeln!(q, "{},", x.rows("currency_factors", &["code", "factor"], &rows));
            let text = "concat('cxm: no rate for currency ', l.cur)";
            let fail = if x.0 == Dialect::Spark {
                format!("CAST(raise_error({text}) AS {})", x.double())
            } else {
                format!("CAST({text} AS {})", x.bigint())
            };
            (
                format!(
                    "CASE WHEN l.m IS NULL THEN NULL WHEN l.cur = '' THEN l.m \
                     WHEN f.factor IS NOT NULL THEN l.m * f.factor ELSE {fail} END"
                ),
                " LEFT JOIN currency_factors f ON f.code = l.cur",
            )
        }
        _ => ("l.m".to_owned(), ""),
    };
    let code = if code { ", l.cur AS code" } else { "" };
    let _ = writeln!(
        q,
        "lines AS (\n  SELECT account_id{u}, s, e, mrr{c} FROM (\n    \
         SELECT l.account_id{ul}, l.s, l.e, {mrr} AS mrr{code}\n    FROM (\n      \
         SELECT CAST(x.account_id AS {s}) AS account_id{ux}, {start} AS s, {end} AS e, {money} AS m{cur}\n      \
         FROM {t} x\n      \
         WHERE x.account_id IS NOT NULL AND trim(CAST(x.account_id AS {s})) <> '' AND x.start_at IS NOT NULL\n        \
         AND (x.end_at IS NULL OR x.end_at > x.start_at)\n    ) l{join}\n  ) z\n  WHERE mrr IS NOT NULL\n),",
        c = if code.is_empty() { "" } else { ", code" },
        u = unit.list(""),
        ul = unit.list("l"),
        ux = unit.0.iter().map(|b| format!(", CAST(x.{b} AS {s}) AS {b}")).collect::<String>(),
        start = x.epoch_us("x.start_at"),
        end = x.epoch_us("x.end_at"),
        t = r.table,
    );
    Ok(())
}

/// `so_far`: each account's revenue so far at each period's end (its
/// lines' MRR times their months up to the end); `history`: the
/// aggregates of [`Attribution::AccountToDate`] per period and group
/// (quantiles by a window where the dialect has no exact aggregate).
fn history(x: &Syntax, q: &mut String, cols: &[Column], g: &Groups) {
    let (dbl, d) = (x.double(), &g.d);
    let _ = writeln!(
        q,
        "so_far AS (\n  SELECT p.period_start{}, l.account_id,\n    \
         sum(l.mrr * CAST(least(coalesce(l.e, p.hi), p.hi) - l.s AS {dbl}) / {MONTH_US:e}) AS revenue\n  \
         FROM spine p JOIN lines l ON l.s < p.hi{}\n  GROUP BY p.period_start{}, l.account_id\n),",
        g.cols("l"),
        g.join("l.account_id"),
        g.cols("l"),
    );
    let k = d.list("");
    let (mut aggs, mut windowed) = (Vec::new(), Vec::new());
    for c in cols.iter().filter(|c| c.attribution == Attribution::AccountToDate) {
        match (x.aggregate(&c.measure), &c.measure) {
            (Some(e), _) => aggs.push(format!("{e} AS {}", c.name)),
            (None, Measure::Quantile(v, p, _)) => windowed.push((c.name.clone(), x.value(v), *p)),
            _ => {}
        }
    }
    let inner = match aggs.is_empty() {
        true => format!("SELECT DISTINCT period_start{k} FROM so_far"),
        false => format!("SELECT period_start{k}, {} FROM so_far GROUP BY period_start{k}", aggs.join(", ")),
    };
    let (mut outs, mut joins) = (vec![format!("s.*")], String::new());
    for (i, (name, v, p)) in windowed.into_iter().enumerate() {
        let cte = format!("history_q{i}");
        let source = format!("SELECT period_start{k}, {v} AS v FROM so_far");
        x.window_quantiles(q, &cte, &source, d, (&[(name.clone(), p)], &[]));
        outs.push(format!("h{i}.{name}"));
        let _ = write!(
            joins,
            "\n  LEFT JOIN {cte} h{i} ON h{i}.period_start = s.period_start{}",
            d.same(&format!("h{i}"), "s")
        );
    }
    match joins.is_empty() {
        true => {
            let _ = writeln!(q, "history AS (\n  {inner}\n),");
        }
        false => {
            let _ = writeln!(q, "history AS (\n  SELECT {}\n  FROM ({inner}) s{joins}\n),", outs.join(", "));
        }
    }
}

/// The output columns in `cxm revenue`'s order: those of `books` and the
/// rated steps from `rated`, CLV over the last months' churn (for monthly
/// rows a window over the rows' own `logo_churn_rate`, for others the side
/// table `row_churn`), and `history`'s.
fn select(q: &mut String, cols: &[Column], rated: &str, d: &Dims, side_months: bool) {
    let part = d.partition("r");
    let out: Vec<String> = cols
        .iter()
        .filter(|c| !c.name.starts_with("__"))
        .map(|c| match (&c.measure, c.attribution) {
            (Measure::Clv { arpa, churn, months, gross_margin }, _) => {
                let w = format!(
                    "OVER ({part}ORDER BY r.period_start ROWS BETWEEN {} PRECEDING AND CURRENT ROW)",
                    months.saturating_sub(1)
                );
                match side_months {
                    true => format!("CASE WHEN c.c > 0 THEN r.{arpa} * {gross_margin:?} / c.c END AS {}", c.name),
                    false => format!(
                        "CASE WHEN count(r.{churn}) {w} = {months} AND avg(r.{churn}) {w} > 0\n    \
                         THEN r.{arpa} * {gross_margin:?} / avg(r.{churn}) {w} END AS {}",
                        c.name
                    ),
                }
            }
            (_, Attribution::AccountToDate) => format!("h.{}", c.name),
            _ => format!("r.{}", c.name),
        })
        .collect();
    // Monthly rows take the mean churn of their own six rows; other periods
    // that of their month, from `row_churn`.
    let join = match side_months {
        true => format!("\nLEFT JOIN row_churn c ON c.period_start = r.period_start{}", d.same("c", "r")),
        false => String::new(),
    };
    // The last CTE's comma.
    q.truncate(q.trim_end().trim_end_matches(',').len());
    let _ = write!(
        q,
        "\nSELECT r.period_start{rk},\n  {}\nFROM {rated} r\nLEFT JOIN history h ON h.period_start = r.period_start{same}{join}\n\
         ORDER BY r.period_start{order}\n",
        out.join(",\n  "),
        rk = d.list("r"),
        same = d.same("h", "r"),
        order = d.nulls_last("r"),
    );
}

/// The cohorts table as one query in `r.dialect` (metrics.md, "The
/// `cohorts` table"; ungrouped, any period): each account's cohort is the
/// period holding its first line with `mrr > 0` (cohorts before the range
/// left out); for every later period, the share of the cohort with MRR just
/// before the period's end, and the cohort's MRR then over its MRR at the
/// end of its own period (null when that base is not above 1e-6).
///
/// ```
/// use metrics_core::period::{Period, Spine};
/// use metrics_core::sql::{Dialect, RevenueRequest, cohorts_sql};
/// let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
/// let spine = Spine::new(Period::Month, chrono_tz::UTC, d("2026-01-01"), d("2026-06-30"));
/// let sql = cohorts_sql(&RevenueRequest::new(Dialect::Postgres, "subscriptions", spine))?;
/// assert!(sql.contains("logo_retention") && sql.contains("row_number() OVER (ORDER BY period_start)"));
/// # Ok::<(), metrics_core::Error>(())
/// ```
pub fn cohorts_sql(r: &RevenueRequest) -> Result<String> {
    let (x, g, mut q) = accounts_over_time(r, None)?;
    let d = &g.d;
    let cols = cohort_columns();
    let (k, ks, ok) = (d.list(""), d.list("s"), g.cols("f"));
    let (sized, kept) = (x.aggregates(&cols, Attribution::Cohort), x.aggregates(&cols, Attribution::CohortAge));
    let list = |a: &[(&Column, String)]| a.iter().map(|(c, e)| format!(", {e} AS {}", c.name)).collect::<String>();
    let _ = writeln!(
        q,
        "spine_i AS (SELECT period_start, lo, hi, row_number() OVER (ORDER BY period_start) AS i FROM spine),\n\
         cohort_of AS (\n  SELECT f.account_id, p.period_start AS cohort, p.i AS ci{ok}\n  \
         FROM first_paid f JOIN spine_i p ON f.first_paid >= p.lo AND f.first_paid < p.hi{jd}\n),\n\
         sizes AS (SELECT cohort, ci{k}{} FROM cohort_of GROUP BY cohort, ci{k}),\n\
         held AS (\n  SELECT o.cohort{ko}, p.i - o.ci AS age, n.total AS a\n  \
         FROM cohort_of o JOIN spine_i p ON p.i >= o.ci\n  JOIN snap n ON n.t = p.hi AND n.account_id = o.account_id{no}\n  \
         WHERE n.total > 1e-6\n),\n\
         kept AS (SELECT cohort{k}, age{} FROM held GROUP BY cohort{k}, age),",
        list(&sized),
        list(&kept),
        jd = g.join("f.account_id"),
        ko = d.list("o"),
        no = g.unit.same("n", "o"),
    );
    // Each cohort and age: the cohort's columns, the age's (0 where none
    // held MRR), and the age-0 values the retentions divide by.
    let mut cells: Vec<String> = sized.iter().map(|(c, _)| format!("s.{}", c.name)).collect();
    cells.extend(kept.iter().map(|(c, _)| match c.count {
        true => format!("coalesce(kp.{0}, 0) AS {0}", c.name),
        false => format!("kp.{0} AS {0}", c.name),
    }));
    for c in &cols {
        if let Measure::OverFirstAge { num, .. } = &c.measure {
            cells.push(format!("b.{num} AS {}", super::render::first_age(num)));
        }
    }
    let _ = writeln!(
        q,
        "cells AS (\n  SELECT s.cohort{ks}, p.i - s.ci AS age,\n    {}\n  \
         FROM sizes s JOIN spine_i p ON p.i >= s.ci\n  \
         LEFT JOIN kept kp ON kp.cohort = s.cohort AND kp.age = p.i - s.ci{}\n  \
         LEFT JOIN kept b ON b.cohort = s.cohort AND b.age = 0{}\n)",
        cells.join(",\n    "),
        d.same("kp", "s"),
        d.same("b", "s"),
    );
    let _ = write!(
        q,
        "SELECT cohort{k}, age,\n  {}\nFROM cells\nORDER BY cohort{}, age\n",
        x.outputs(&cols),
        d.nulls_last("")
    );
    Ok(q)
}

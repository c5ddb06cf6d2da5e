//! Revenue, churn and retention from subscription lines (metrics.md,
//! "Success metrics").
//!
//! [`lines`] stages the `subscriptions` table (MRR per line in one
//! currency); [`movements`] builds the per-account changes and the
//! `revenue` table from them with a sort and a sweep; [`clv`] adds the
//! formula and historic CLV; [`cohorts`] the retention matrix.

pub mod clv;
pub mod cohorts;
pub mod lines;
pub mod movements;

use chrono_tz::Tz;
use polars::prelude::*;

pub use lines::{Lines, LinesOptions};

use crate::Result;
use crate::error::PolarsContext;
use crate::mapping::TableInput;
use crate::period::{Period, Spine};
use crate::quality::{QualityRow, Reason};
use crate::raw::RawTable;
use crate::schema::{ACCOUNTS, subscriptions::ACCOUNT_ID};
use crate::source::Source;

/// Options of the revenue metrics (`[revenue]` in `cxm.toml`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RevenueOptions {
    /// Reporting currency; `None` = the only currency present (or the rates
    /// table's currency at rate 1).
    pub reporting_currency: Option<String>,
    /// Currency rates table (`currency`, `rate`).
    pub rates: Option<TableInput>,
    /// Gross margin for the CLV formula, in (0, 1]; default 1.
    pub gross_margin: f64,
    /// The periods reported (monthly by default).
    pub window: crate::period::Window,
    /// Dimensions, in output order: columns of the lines themselves
    /// (each line's own value), else of the accounts table.
    pub by: Vec<String>,
}

impl Default for RevenueOptions {
    fn default() -> Self {
        Self {
            reporting_currency: None,
            rates: None,
            gross_margin: 1.0,
            window: crate::period::Window::new(Period::Month),
            by: Vec::new(),
        }
    }
}

crate::period::window_setters!(RevenueOptions);

impl RevenueOptions {
    /// Sets the gross margin of the CLV formula.
    #[must_use]
    pub fn with_gross_margin(mut self, m: f64) -> Self {
        self.gross_margin = m;
        self
    }

    /// Checks the options: `gross_margin` in (0, 1].
    pub fn validated(&self) -> Result<Self> {
        if !(self.gross_margin > 0.0 && self.gross_margin <= 1.0) {
            return Err(crate::Error::invalid_option("gross_margin", self.gross_margin, "is not in (0, 1]"));
        }
        Ok(self.clone())
    }
}

/// The lines with their dimensions, the context and each account's changes
/// over the options' window: what the revenue and cohort tables are built
/// from. A dimension is a column of the lines (then each (account, value)
/// pair moves on its own) or of `accounts`.
pub fn prepare(
    lines: &Lines,
    accounts: Option<&Accounts>,
    o: &RevenueOptions,
) -> Result<(LazyFrame, RevenueContext, movements::Changes)> {
    let of_lines = |b: &str| lines.has(b);
    if let Some(b) = o.by.iter().find(|b| !of_lines(b) && !accounts.is_some_and(|a| a.has(b))) {
        let tables = if accounts.is_some() { "subscriptions or accounts" } else { "subscriptions" };
        return Err(crate::Error::from(crate::error::ErrorKind::UnknownDimension {
            name: b.clone(),
            tables: tables.into(),
        }));
    }
    let span = lines
        .span()
        .ok_or_else(|| crate::Error::from(crate::error::ErrorKind::NoUsableRows { table: "subscriptions".into() }))?;
    let spine = o.window.spine("revenue", span)?;
    let per_line = o.by.iter().any(|b| of_lines(b));
    let with = with_dims(lines, accounts, &o.by);
    let cx = RevenueContext { period: o.window.period, tz: o.window.tz, spine, by: o.by.clone(), per_line };
    // `since` after `until`: no periods, empty tables with their columns.
    let changes = if cx.spine.starts.is_empty() {
        movements::Changes::default()
    } else {
        movements::account_changes(&with, &cx)?
    };
    Ok((with, cx, changes))
}

/// The `revenue` table (MRR movements, customers, churn and retention
/// rates, NRR, GRR, ARPA, CLV; `metrics.md`, "Revenue") over the options'
/// window, by dimensions of the lines or of `accounts`.
///
/// ```
/// use metrics_core::mapping::TableInput;
/// use metrics_core::polars::prelude::*;
/// use metrics_core::revenue::{self, Lines, LinesOptions, RevenueOptions};
/// let df = df!(
///     "account_id" => ["A", "B"],
///     "start_at" => ["2026-01-10", "2026-02-01"],
///     "mrr" => [100.0, 50.0],
/// )?;
/// let lines = Lines::from_frame(df, &TableInput::default(), &LinesOptions::default())?;
/// let t = revenue::table(&lines, None, &RevenueOptions::default())?;
/// assert_eq!(t.column("mrr_end")?.f64()?.to_vec(), [Some(100.0), Some(150.0)]);
/// assert_eq!(t.column("new_mrr")?.f64()?.to_vec(), [Some(100.0), Some(50.0)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn table(lines: &Lines, accounts: Option<&Accounts>, o: &RevenueOptions) -> Result<DataFrame> {
    let o = o.validated()?;
    let (with, cx, changes) = prepare(lines, accounts, &o)?;
    Ok(revenue(&with, &changes, &cx, &o)?.0)
}

/// The `cohorts` table (logo and revenue retention by cohort and age;
/// `metrics.md`, "The `cohorts` table") over the options' window.
pub fn cohorts_table(lines: &Lines, accounts: Option<&Accounts>, o: &RevenueOptions) -> Result<DataFrame> {
    let (_, cx, changes) = prepare(lines, accounts, &o.validated()?)?;
    cohorts::cohorts(&changes, &cx)
}

/// What every revenue plan builder needs besides the lines.
#[derive(Debug, Clone)]
pub struct RevenueContext {
    /// Period length.
    pub period: Period,
    /// Report time zone.
    pub tz: Tz,
    /// The reported periods.
    pub spine: Spine,
    /// Dimensions (columns of `accounts`, or of the lines), in output
    /// order.
    pub by: Vec<String>,
    /// Whether some dimension is a column of the lines themselves: each
    /// (account, dimension values) pair then moves on its own, so a plan
    /// switch leaves one plan (churn or contraction there) and enters the
    /// other (new, reactivation or expansion there).
    pub per_line: bool,
}

/// The staged `accounts` table: one row per account, dimensions as text.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// `account_id` and each requested dimension the table has.
    pub df: DataFrame,
    /// The files read.
    pub source: Source,
    /// Rows read.
    pub rows_read: usize,
    /// Findings (empty ids, duplicate ids).
    pub quality: Vec<QualityRow>,
}

impl Accounts {
    /// Reads `account_id` and the dimension columns `dims` the table has;
    /// the last row of a repeated `account_id` wins (`duplicate_id`).
    /// Reads and stages the accounts from files (a path, glob or directory).
    pub fn from_path(input: &TableInput, dims: &[String], tz: Tz) -> Result<Self> {
        Self::stage(None, input, dims, tz)
    }

    /// Stages the accounts from an in-memory frame, with the same mapping
    /// (`input.columns`, preset), conversions and data-quality accounting
    /// as [`Self::from_path`]; `input.path` only labels it in messages.
    pub fn from_frame(df: DataFrame, input: &TableInput, dims: &[String], tz: Tz) -> Result<Self> {
        Self::stage(Some(df), input, dims, tz)
    }

    fn stage(frame: Option<DataFrame>, input: &TableInput, dims: &[String], tz: Tz) -> Result<Self> {
        let raw = RawTable::open(frame, input, "accounts", ACCOUNTS, dims, |_| true, tz)?;
        let n = raw.df.height();
        let mut q = raw.collector();
        let ids = raw.strings(ACCOUNT_ID)?;
        let mut keep = vec![true; n];
        for (i, id) in ids.iter().enumerate() {
            if id.is_none_or(|s| s.trim().is_empty()) {
                q.add(Reason::MissingRequired, ACCOUNT_ID, i);
                keep[i] = false;
            }
        }
        let superseded = crate::raw::superseded_rows(&ids, &keep);
        superseded.iter().for_each(|&i| keep[i] = false);
        raw.count_superseded(&mut q, ACCOUNT_ID, &crate::raw::IdColumn::Text(ids.clone()), &superseded);
        let mut columns = vec![ids.clone().with_name(ACCOUNT_ID.into()).into_column()];
        for e in &raw.extras {
            columns.push(raw.strings(e)?.with_name(e.as_str().into()).into_column());
        }
        let mask = BooleanChunked::from_slice("keep".into(), &keep);
        let df = DataFrame::new_infer_height(columns).ctx("staging accounts")?.filter(&mask).ctx("staging accounts")?;
        Ok(Self { df, source: raw.source.clone(), rows_read: raw.rows_read, quality: q.finish() })
    }

    /// Rows used.
    pub fn rows_used(&self) -> usize {
        self.df.height()
    }

    /// Whether the table has a dimension.
    pub fn has(&self, dim: &str) -> bool {
        dim != ACCOUNT_ID && self.df.column(dim).is_ok()
    }
}

/// The lines with the dimensions `by` that they lack joined from
/// `accounts` (text; null when the account is not in `accounts`).
pub fn with_dims(lines: &Lines, accounts: Option<&Accounts>, by: &[String]) -> LazyFrame {
    let from_accounts: Vec<&String> = by.iter().filter(|b| !lines.has(b)).collect();
    match accounts {
        Some(a) if !from_accounts.is_empty() => {
            let mut sel = vec![col(ACCOUNT_ID)];
            sel.extend(from_accounts.iter().map(|b| col(b.as_str())));
            lines.df.clone().lazy().join(
                a.df.clone().lazy().select(sel),
                [col(ACCOUNT_ID)],
                [col(ACCOUNT_ID)],
                JoinArgs::new(JoinType::Left),
            )
        }
        _ => lines.df.clone().lazy(),
    }
}

/// The `revenue` table: movements, customers, rates, CLV (formula and
/// historic), for the lines `lines` (with their dimensions), from their
/// per-account `changes` over `cx`'s periods; with a note when the CLV
/// formula rests on few churned accounts ([`clv::add_formula`]).
pub fn revenue(
    lines: &LazyFrame,
    changes: &movements::Changes,
    cx: &RevenueContext,
    o: &RevenueOptions,
) -> Result<(DataFrame, Option<String>)> {
    let table = movements::revenue_table(changes, cx)?;
    let monthly = if cx.period == Period::Month || cx.spine.starts.is_empty() {
        table.clone()
    } else {
        let mcx = clv::monthly_context(cx);
        movements::revenue_table(&movements::account_changes(lines, &mcx)?, &mcx)?
    };
    let (table, note) = clv::add_formula(table, &monthly, cx, o.gross_margin)?;
    Ok((clv::add_historic(table, changes, cx)?, note))
}

/// Subscription id -> account id from a subscriptions table (the last row
/// of each id wins, as everywhere), for tables keyed by subscription
/// (usage). Only the two id columns are read.
pub fn subscription_accounts(
    input: &TableInput,
    tz: chrono_tz::Tz,
) -> Result<std::collections::HashMap<String, String>> {
    use crate::schema::SUBSCRIPTIONS;
    use crate::schema::subscriptions::{ACCOUNT_ID as ACCOUNT, SUBSCRIPTION_ID as SUBSCRIPTION};
    let wanted = |d: &crate::schema::ColumnDef| d.name == SUBSCRIPTION || d.name == ACCOUNT;
    let raw = RawTable::read(input, "subscriptions", SUBSCRIPTIONS, &[], wanted, tz)?;
    let mut map = std::collections::HashMap::new();
    if !raw.has(SUBSCRIPTION) {
        return Ok(map);
    }
    let (subs, accounts) = (raw.strings(SUBSCRIPTION)?, raw.strings(ACCOUNT)?);
    for (s, a) in subs.iter().zip(accounts.iter()) {
        if let (Some(s), Some(a)) =
            (s.map(str::trim).filter(|s| !s.is_empty()), a.map(str::trim).filter(|a| !a.is_empty()))
        {
            map.insert(s.to_owned(), a.to_owned());
        }
    }
    Ok(map)
}

crate::raw::staged!(Accounts, |t: &Accounts| t.rows_used());

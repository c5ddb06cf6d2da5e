//! Repeat purchase rate from transactions (metrics.md; docs/metrics.md, "The `purchases` table").
//!
//! A customer's purchase days are the distinct report-zone dates of its
//! transactions. Per period and group:
//!
//! * `customers_purchasing`: customers with a purchase in the period;
//! * `repeat_purchase_rate`: the share of them with purchases on two or
//!   more distinct days within the period;
//! * `repeat_purchase_rate_lifetime`: over customers with any purchase up
//!   to the period end, the share with two or more distinct purchase days
//!   up to then.
//!
//! * `orders`: transactions in the period (one row is one order);
//! * `purchase_frequency` = orders / customers_purchasing;
//! * `revenue`: the sum of `amount` (when mapped; in the amounts' own
//!   units, no currency conversion);
//! * `average_order_value` = revenue / orders with an amount.
//!
//! Rates and ratios are null when no customer purchased (docs/metrics.md, "Common rules"). The lifetime
//! rate comes from each customer's first and second purchase days and a
//! binary search per period end: nothing grows with customers x periods.

use chrono_tz::Tz;
use polars::prelude::*;

use crate::Result;
use crate::error::PolarsContext;
use crate::mapping::TableInput;
use crate::period::{PERIOD_START, Spine, date_to_days, days_to_date};
use crate::quality::{QualityRow, Reason};
use crate::raw::{RawTable, expected};
use crate::schema::transactions::{ACCOUNT_ID, AMOUNT, AT};
use crate::schema::{Kind, TRANSACTIONS};
use crate::source::Source;

/// Output columns of the `purchases` table after the keys (`revenue` and
/// `average_order_value` only when `amount` is mapped).
pub const COLUMNS: [&str; 7] = [
    "customers_purchasing",
    "orders",
    "purchase_frequency",
    "revenue",
    "average_order_value",
    "repeat_purchase_rate",
    "repeat_purchase_rate_lifetime",
];

/// Options of the `purchases` table.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PurchaseOptions {
    /// The periods reported (monthly by default).
    pub window: crate::period::Window,
    /// Dimensions, in output order: columns of the staged transactions.
    pub by: Vec<String>,
}

impl Default for PurchaseOptions {
    fn default() -> Self {
        Self { window: crate::period::Window::new(crate::period::Period::Month), by: Vec::new() }
    }
}

crate::period::window_setters!(PurchaseOptions);

/// The `purchases` table over the options' window and dimensions
/// (customers, orders, frequency, revenue, average order value, repeat
/// purchase rates; see the module docs).
///
/// ```
/// use metrics_core::mapping::TableInput;
/// use metrics_core::polars::prelude::*;
/// use metrics_core::purchases::{self, PurchaseOptions, Transactions};
/// let df = df!(
///     "account_id" => ["C1", "C1", "C2"],
///     "at" => ["2026-01-05T10:00:00Z", "2026-01-20T10:00:00Z", "2026-01-07T10:00:00Z"],
///     "amount" => [10.0, 20.0, 30.0],
/// )?;
/// let t = Transactions::from_frame(df, &TableInput::default(), &[], chrono_tz::UTC)?;
/// let table = purchases::table(&t, &PurchaseOptions::default())?;
/// assert_eq!(table.column("orders")?.u32()?.get(0), Some(3));
/// assert_eq!(table.column("average_order_value")?.f64()?.get(0), Some(20.0));
/// assert_eq!(table.column("repeat_purchase_rate")?.f64()?.get(0), Some(0.5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn table(t: &Transactions, o: &PurchaseOptions) -> Result<DataFrame> {
    if let Some(b) = o.by.iter().find(|b| t.df.column(b.as_str()).is_err()) {
        return Err(crate::Error::from(crate::error::ErrorKind::UnknownDimension {
            name: b.clone(),
            tables: "transactions".into(),
        }));
    }
    let span = t
        .span()
        .ok_or_else(|| crate::Error::from(crate::error::ErrorKind::NoUsableRows { table: "transactions".into() }))?;
    purchases_table(t, &o.window.spine("purchases", span)?, &o.by)
}

/// Staged transactions.
#[derive(Debug, Clone)]
pub struct Transactions {
    /// One row per usable transaction: `account_id`, `at`
    /// (`Datetime(us, UTC)`), `amount` when mapped, and the requested
    /// dimensions as text.
    pub df: DataFrame,
    /// The files read.
    pub source: Source,
    /// Rows read.
    pub rows_read: usize,
    /// Findings.
    pub quality: Vec<QualityRow>,
}

impl Transactions {
    /// Rows used.
    pub fn rows_used(&self) -> usize {
        self.df.height()
    }

    /// Reads and checks a transactions table; `dims` are extra columns to
    /// keep.
    /// Reads and stages the transactions from files (a path, glob or directory).
    pub fn from_path(input: &TableInput, dims: &[String], tz: Tz) -> Result<Self> {
        Self::stage(None, input, dims, tz)
    }

    /// Stages the transactions from an in-memory frame, with the same mapping
    /// (`input.columns`, preset), conversions and data-quality accounting
    /// as [`Self::from_path`]; `input.path` only labels it in messages.
    pub fn from_frame(df: DataFrame, input: &TableInput, dims: &[String], tz: Tz) -> Result<Self> {
        Self::stage(Some(df), input, dims, tz)
    }

    fn stage(frame: Option<DataFrame>, input: &TableInput, dims: &[String], tz: Tz) -> Result<Self> {
        let raw = RawTable::open(frame, input, "transactions", TRANSACTIONS, dims, |_| true, tz)?;
        let n = raw.df.height();
        let mut q = raw.collector();
        let at = raw.timestamps(AT, tz)?;
        if let Some(e) = raw.nothing_parses(AT, &at, expected(Kind::Timestamp)) {
            return Err(e);
        }
        raw.count_timestamps(&mut q, AT, &at);
        let ids = raw.strings(ACCOUNT_ID)?;
        let mut usable = vec![true; n];
        at.bad.iter().for_each(|&i| usable[i] = false);
        for (i, id) in ids.iter().enumerate() {
            if id.is_none_or(|s| s.trim().is_empty()) {
                q.add(Reason::MissingRequired, ACCOUNT_ID, i);
                usable[i] = false;
            } else if usable[i] && at.values.get(i).is_none() {
                q.add(Reason::MissingRequired, AT, i);
                usable[i] = false;
            }
        }
        let mut columns = vec![ids.with_name(ACCOUNT_ID.into()).into_column(), at.values.into_datetime(AT)];
        if raw.has(AMOUNT) {
            let p = raw.floats(AMOUNT)?;
            if let Some(e) = raw.nothing_parses(AMOUNT, &p, expected(Kind::Float)) {
                return Err(e);
            }
            raw.count_values(&mut q, Reason::UnparseableNumber, AMOUNT, &p.bad);
            columns.push(p.values.into_column(AMOUNT));
        }
        for e in &raw.extras {
            columns.push(raw.strings(e)?.with_name(e.as_str().into()).into_column());
        }
        let mask = BooleanChunked::from_slice("usable".into(), &usable);
        let df = DataFrame::new_infer_height(columns).ctx("staging transactions")?.filter(&mask).ctx("staging")?;
        Ok(Self { df, source: raw.source.clone(), rows_read: raw.rows_read, quality: q.finish() })
    }

    /// The earliest and latest `at`.
    pub fn span(&self) -> Option<(i64, i64)> {
        let c = self.df.column(AT).ok()?.cast(&DataType::Int64).ok()?;
        let ca = c.i64().ok()?;
        Some((ca.min()?, ca.max()?))
    }
}

fn zone_of(tz: Tz) -> TimeZone {
    TimeZone::opt_try_new(Some(tz.name())).ok().flatten().unwrap_or(TimeZone::UTC)
}

/// The purchase day (report-zone date) of `at`.
fn day(tz: Tz) -> Expr {
    col(AT).dt().convert_time_zone(zone_of(tz)).dt().date().alias("__day")
}

/// The `purchases` table: one row per period of `spine` and group of `by`,
/// sorted by `period_start` then the groups (nulls last).
pub fn purchases_table(t: &Transactions, spine: &Spine, by: &[String]) -> Result<DataFrame> {
    let (period, tz) = (spine.period, spine.tz);
    let dims: Vec<Expr> = by.iter().map(|b| col(b.as_str()).cast(DataType::String)).collect();
    let mut sel = vec![col(ACCOUNT_ID), day(tz)];
    sel.extend(dims.iter().cloned());
    // One row per customer and purchase day; a customer's group is that of
    // its first transaction row.
    // Stable: with a per-row dimension, a customer's lifetime group is that
    // of its first row on its first purchase day.
    let sort = SortMultipleOptions::default().with_maintain_order(true);
    let days =
        t.df.clone()
            .lazy()
            .select(sel)
            .unique_stable(None, UniqueKeepStrategy::First)
            .sort([ACCOUNT_ID, "__day"], sort);
    let mut keys = vec![col(PERIOD_START)];
    keys.extend(by.iter().map(|b| col(b.as_str())));
    let within = days
        .clone()
        .with_column(spine.bucket_date(col("__day")))
        .group_by(keys.iter().cloned().chain([col(ACCOUNT_ID)]).collect::<Vec<_>>())
        .agg([col("__day").n_unique().alias("__days")])
        .group_by(keys.clone())
        .agg([
            len().cast(DataType::UInt32).alias("customers_purchasing"),
            col("__days").gt_eq(lit(2)).cast(DataType::UInt32).sum().alias("__repeaters"),
        ]);
    // Orders and amounts: every transaction row.
    let has_amount = t.df.column(AMOUNT).is_ok();
    let mut osel = vec![day(tz)];
    osel.extend(dims.iter().cloned());
    let mut oaggs = vec![len().cast(DataType::UInt32).alias("orders")];
    if has_amount {
        osel.push(col(AMOUNT));
        oaggs.push(col(AMOUNT).sum().alias("revenue"));
        oaggs.push(col(AMOUNT).count().alias("__priced"));
    }
    let orders =
        t.df.clone().lazy().select(osel).with_column(spine.bucket_date(col("__day"))).group_by(keys.clone()).agg(oaggs);
    let mut fills = vec![
        col("customers_purchasing").fill_null(lit(0u32)),
        col("__repeaters").fill_null(lit(0u32)),
        col("orders").fill_null(lit(0u32)),
    ];
    if has_amount {
        fills.push(col("revenue").fill_null(lit(0.0)));
        fills.push(col("__priced").fill_null(lit(0u32)));
    }
    let table = spine.on_grid(&t.df, by, vec![within, orders], fills).collect().ctx("computing purchases")?;

    let lifetime = lifetime_repeat_rates(days, &table, by, period)?;
    output(&table, by, has_amount, lifetime)
}

/// `repeat_purchase_rate_lifetime` of each row of `table`: of the customers
/// of the row's group whose first purchase day is before the period's
/// end, the share whose second purchase day is too (sorted first and
/// second days per group, two binary searches per row).
fn lifetime_repeat_rates(
    days: LazyFrame,
    table: &DataFrame,
    by: &[String],
    period: crate::Period,
) -> Result<Vec<Option<f64>>> {
    let mut gsel: Vec<Expr> = by.iter().map(|b| col(b.as_str()).first()).collect();
    gsel.push(col("__day").cast(DataType::Int32).min().alias("__first"));
    gsel.push(
        col("__day")
            .cast(DataType::Int32)
            .unique()
            .sort(SortOptions::default())
            .slice(lit(1), lit(1))
            .first()
            .alias("__second"),
    );
    let customers = days.group_by([col(ACCOUNT_ID)]).agg(gsel).collect().ctx("computing purchases")?;
    let mut firsts: PlHashMap<String, (Vec<i32>, Vec<i32>)> = PlHashMap::new();
    let ck = crate::raw::group_keys(&customers, by)?;
    let f = customers.column("__first").ctx("first")?.i32().ctx("first")?;
    let s = customers.column("__second").ctx("second")?.i32().ctx("second")?;
    for (i, k) in ck.into_iter().enumerate() {
        let e = firsts.entry(k).or_default();
        if let Some(x) = f.get(i) {
            e.0.push(x);
        }
        if let Some(x) = s.get(i) {
            e.1.push(x);
        }
    }
    firsts.values_mut().for_each(|(a, b)| {
        a.sort_unstable();
        b.sort_unstable();
    });
    let tk = crate::raw::group_keys(table, by)?;
    let starts = table.column(PERIOD_START).ctx(PERIOD_START)?.cast(&DataType::Int32).ctx(PERIOD_START)?;
    let starts = starts.i32().ctx(PERIOD_START)?;
    let lifetime: Vec<Option<f64>> = (0..table.height())
        .map(|i| {
            let start = days_to_date(starts.get(i)?);
            let end = date_to_days(period.next(start));
            let (a, b) = firsts.get(&tk[i])?;
            let buyers = a.partition_point(|d| *d < end);
            let repeaters = b.partition_point(|d| *d < end);
            (buyers > 0).then(|| repeaters as f64 / buyers as f64)
        })
        .collect();
    Ok(lifetime)
}

/// The `purchases` columns in order from the joined counts: customers,
/// orders, frequency, revenue and AOV (with an amount), the period and
/// lifetime repeat rates.
fn output(table: &DataFrame, by: &[String], has_amount: bool, lifetime: Vec<Option<f64>>) -> Result<DataFrame> {
    let n = table.column("customers_purchasing").ctx("c")?.u32().ctx("c")?.clone();
    let r = table.column("__repeaters").ctx("r")?.u32().ctx("r")?.clone();
    let rate: Vec<Option<f64>> = n
        .iter()
        .zip(r.iter())
        .map(|(n, r)| n.filter(|n| *n > 0).map(|n| f64::from(r.unwrap_or(0)) / f64::from(n)))
        .collect();
    let mut out: Vec<Column> = vec![table.column(PERIOD_START).ctx(PERIOD_START)?.clone()];
    for b in by {
        out.push(table.column(b).ctx(b)?.clone());
    }
    let orders = table.column("orders").ctx("orders")?.u32().ctx("orders")?.clone();
    let ratio = |a: Option<f64>, b: Option<u32>| b.filter(|b| *b > 0).and_then(|b| Some(a? / f64::from(b)));
    let frequency: Vec<Option<f64>> = orders.iter().zip(n.iter()).map(|(o, c)| ratio(o.map(f64::from), c)).collect();
    out.push(n.into_column());
    out.push(orders.into_column());
    out.push(Float64Chunked::from_iter_options("purchase_frequency".into(), frequency.into_iter()).into_column());
    if has_amount {
        let revenue = table.column("revenue").ctx("revenue")?.f64().ctx("revenue")?.clone();
        let priced = table.column("__priced").ctx("priced")?.cast(&DataType::UInt32).ctx("priced")?;
        let aov: Vec<Option<f64>> =
            revenue.iter().zip(priced.u32().ctx("priced")?.iter()).map(|(r, p)| ratio(r, p)).collect();
        out.push(revenue.into_column());
        out.push(Float64Chunked::from_iter_options("average_order_value".into(), aov.into_iter()).into_column());
    }
    out.push(Float64Chunked::from_iter_options("repeat_purchase_rate".into(), rate.into_iter()).into_column());
    out.push(
        Float64Chunked::from_iter_options("repeat_purchase_rate_lifetime".into(), lifetime.into_iter()).into_column(),
    );
    DataFrame::new_infer_height(out).ctx("purchases table")
}

crate::raw::staged!(Transactions, |t: &Transactions| t.rows_used());

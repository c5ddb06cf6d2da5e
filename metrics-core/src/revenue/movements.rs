//! MRR movements, customer counts and the rates built on them, from a sort
//! and a sweep: nothing grows with accounts x periods.
//!
//! An account's MRR just before an instant t sums its lines with
//! `start_at < t <= end_at`, so a line's start or end at instant x changes
//! the MRR just before every period end after x: it belongs to the period
//! holding x. Each line therefore gives two events (`+mrr` at `start_at`,
//! `-mrr` at `end_at`), each event a period; summing the events per account
//! and period gives the account's net change there, and a running sum per
//! account its MRR before and after (`mrr_start`, `mrr_end`). Periods where
//! an account has no event leave its MRR unchanged and need no row. The
//! per-period totals are sums of those rows; `mrr_start` and `mrr_end` of
//! the whole book are running sums of the net change over periods, opened
//! by the events before the first reported period.
//!
//! An account's MRR is floored at 0 and values within 1e-6 of 0 are 0 (the
//! residue of adding and removing the same amounts in f64), so an account
//! either is a customer (MRR > 0) or is not.

use chrono::Days;
use polars::prelude::*;

use super::RevenueContext;
use crate::error::PolarsContext;
use crate::period::{PERIOD_START, date_to_days, period_of};
use crate::schema::subscriptions::{ACCOUNT_ID, END_AT, MRR, START_AT};
use crate::{Error, Result};

/// Output columns of the `revenue` table from this module, in order.
pub const COLUMNS: [&str; 21] = [
    "mrr_start",
    "mrr_end",
    "new_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "reactivation_mrr",
    "net_new_mrr",
    "customers_start",
    "customers_end",
    "new_customers",
    "reactivated_customers",
    "churned_customers",
    "logo_churn_rate",
    "retention_rate",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
    "nrr",
    "grr",
    "arpa",
    "clv",
];

/// Per-account staged column: MRR just before the period start (floored).
pub const BEFORE: &str = "__mrr_before";
/// Per-account staged column: MRR just before the period end (floored).
pub const AFTER: &str = "__mrr_after";
/// Per-account staged column: whether the account paid before the period.
pub const PAID_BEFORE: &str = "__paid_before";
/// Per-account staged column: the period of the first paid line.
pub const FIRST_PAID: &str = "__first_paid";

const DELTA: &str = "__delta";
const EPSILON: f64 = 1e-6;

/// The day before the first reported period: the bucket of every event
/// before the range (they only open the balance).
pub(crate) fn before_range(cx: &RevenueContext) -> Result<i32> {
    let first = cx.spine.starts.first().ok_or_else(|| Error::Config("the revenue range has no periods".into()))?;
    Ok(date_to_days(*first - Days::new(1)))
}

fn bucket(instant: Expr, cx: &RevenueContext, before: i32) -> Expr {
    let first = cx.spine.starts.first().map_or(0, |d| date_to_days(*d));
    let p = period_of(instant, cx.period, cx.tz);
    when(p.clone().cast(DataType::Int32).lt(lit(first)))
        .then(lit(before).cast(DataType::Date))
        .otherwise(p)
        .alias(PERIOD_START)
}

/// One row per account and period in which its MRR changes (periods before
/// the range folded into one bucket dated the day before it): `account_id`,
/// `period_start`, the dimensions, [`BEFORE`], [`AFTER`], [`PAID_BEFORE`]
/// and [`FIRST_PAID`] (null for an account that never paid).
///
/// `lines` has `account_id`, `start_at`, `end_at`, `mrr` and the
/// dimensions (text, one value per account).
pub fn account_changes(lines: LazyFrame, cx: &RevenueContext) -> Result<LazyFrame> {
    let before = before_range(cx)?;
    let last = cx.spine.starts.last().map_or(0, |d| date_to_days(*d));
    let dims: Vec<Expr> = cx.by.iter().map(|b| col(b.as_str())).collect();
    let mut ev_cols = vec![col(ACCOUNT_ID)];
    ev_cols.extend(dims.iter().cloned());
    let starts = lines
        .clone()
        .select(ev_cols.iter().cloned().chain([col(START_AT).alias("__t"), col(MRR).alias(DELTA)]).collect::<Vec<_>>());
    let ends = lines.clone().filter(col(END_AT).is_not_null()).select(
        ev_cols.iter().cloned().chain([col(END_AT).alias("__t"), (-col(MRR)).alias(DELTA)]).collect::<Vec<_>>(),
    );
    let events = concat([starts, ends], UnionArgs::default()).ctx("planning revenue")?;
    let mut aggs = vec![col(DELTA).sum()];
    aggs.extend(cx.by.iter().map(|b| col(b.as_str()).first()));
    let raw_end = col(DELTA).cum_sum(false).over([col(ACCOUNT_ID)]).ctx("planning revenue")?.alias("__raw_end");
    let changes = events
        .with_column(bucket(col("__t"), cx, before))
        .filter(col(PERIOD_START).cast(DataType::Int32).lt_eq(lit(last)))
        .group_by([col(ACCOUNT_ID), col(PERIOD_START)])
        .agg(aggs)
        .sort([ACCOUNT_ID, PERIOD_START], SortMultipleOptions::default())
        .with_column(raw_end);
    let snap = |e: Expr| when(e.clone().gt(lit(EPSILON))).then(e).otherwise(lit(0.0));
    let first_paid =
        lines
            .filter(col(MRR).gt(lit(0.0)))
            .group_by([col(ACCOUNT_ID)])
            .agg([bucket(col(START_AT), cx, before).min().alias(FIRST_PAID)]);
    let args = JoinArgs::new(JoinType::Left);
    Ok(changes
        .with_columns([snap(col("__raw_end") - col(DELTA)).alias(BEFORE), snap(col("__raw_end")).alias(AFTER)])
        .join(first_paid, [col(ACCOUNT_ID)], [col(ACCOUNT_ID)], args)
        .with_column(col(FIRST_PAID).lt(col(PERIOD_START)).fill_null(lit(false)).alias(PAID_BEFORE))
        .drop(cols([DELTA, "__raw_end"])))
}

fn u32_sum(e: Expr) -> Expr {
    e.cast(DataType::UInt32).sum()
}

/// The `revenue` table (without `clv`, added by [`super::clv`]): one row per
/// reported period and dimension combination, every column of [`COLUMNS`]
/// but `clv`, sorted by `period_start` then the dimensions (nulls last).
///
/// Movements (per account, net over the period; sums over accounts):
/// `new_mrr` = MRR after when it was 0 before and the account never paid
/// before the period; `reactivation_mrr` the same for an account that paid
/// before; `churned_mrr` = MRR before when it is 0 after; `expansion_mrr` /
/// `contraction_mrr` = the rise / fall of an account with MRR on both sides;
/// `net_new_mrr` = new + reactivation + expansion - contraction - churned.
/// Money is per month in the reporting currency; counts are accounts.
/// Rates are null when their denominator is 0 (details 3).
pub fn revenue_table(changes: LazyFrame, combos: Option<LazyFrame>, cx: &RevenueContext) -> Result<LazyFrame> {
    let before = before_range(cx)?;
    let (b, a, paid) = (col(BEFORE), col(AFTER), col(PAID_BEFORE));
    let (cs, ce) = (b.clone().gt(lit(0.0)), a.clone().gt(lit(0.0)));
    let is_new = cs.clone().not().and(ce.clone()).and(paid.clone().not());
    let is_react = cs.clone().not().and(ce.clone()).and(paid);
    let is_churn = cs.clone().and(ce.clone().not());
    let both = cs.clone().and(ce.clone());
    let zero = || lit(0.0);
    let mut keys = vec![col(PERIOD_START)];
    keys.extend(cx.by.iter().map(|d| col(d.as_str())));
    let per_period = changes.group_by(keys.clone()).agg([
        when(is_new.clone()).then(a.clone()).otherwise(zero()).sum().alias("new_mrr"),
        when(both.clone().and(a.clone().gt(b.clone())))
            .then(a.clone() - b.clone())
            .otherwise(zero())
            .sum()
            .alias("expansion_mrr"),
        when(both.clone().and(a.clone().lt(b.clone())))
            .then(b.clone() - a.clone())
            .otherwise(zero())
            .sum()
            .alias("contraction_mrr"),
        when(is_churn.clone()).then(b.clone()).otherwise(zero()).sum().alias("churned_mrr"),
        when(is_react.clone()).then(a.clone()).otherwise(zero()).sum().alias("reactivation_mrr"),
        (a.clone() - b.clone()).sum().alias("net_new_mrr"),
        u32_sum(is_new).alias("new_customers"),
        u32_sum(is_react).alias("reactivated_customers"),
        u32_sum(is_churn).alias("churned_customers"),
        (ce.cast(DataType::Int64) - cs.cast(DataType::Int64)).sum().alias("__customers_delta"),
    ]);
    // The spine, with the bucket of events before the range first.
    let mut days = vec![before];
    days.extend(cx.spine.starts.iter().map(|d| date_to_days(*d)));
    let spine =
        DataFrame::new_infer_height(vec![Int32Chunked::from_vec(PERIOD_START.into(), days).into_date().into_column()])
            .ctx("revenue spine")?
            .lazy();
    let frame = match combos {
        Some(c) => spine.cross_join(c, None),
        None => spine,
    };
    let args = JoinArgs { nulls_equal: true, ..JoinArgs::new(JoinType::Left) };
    let money = ["new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr", "net_new_mrr"];
    let counts = ["new_customers", "reactivated_customers", "churned_customers"];
    let mut fills: Vec<Expr> = money.iter().map(|m| col(*m).fill_null(lit(0.0))).collect();
    fills.extend(counts.iter().map(|c| col(*c).fill_null(lit(0u32))));
    fills.push(col("__customers_delta").fill_null(lit(0i64)));
    let dims: Vec<Expr> = cx.by.iter().map(|d| col(d.as_str())).collect();
    let running = |e: Expr| -> Result<Expr> {
        Ok(if dims.is_empty() {
            e.cum_sum(false)
        } else {
            e.cum_sum(false).over(dims.clone()).ctx("planning revenue")?
        })
    };
    let mut order: Vec<PlSmallStr> = cx.by.iter().map(|d| d.as_str().into()).collect();
    order.push(PERIOD_START.into());
    let sort = SortMultipleOptions::default().with_nulls_last(true).with_maintain_order(true);
    let table = frame
        .join(per_period, keys.clone(), keys.clone(), args)
        .with_columns(fills)
        .sort(order, sort.clone())
        .with_columns([
            running(col("net_new_mrr"))?.alias("mrr_end"),
            running(col("__customers_delta"))?.alias("__customers_end"),
        ])
        .with_columns([
            (col("mrr_end") - col("net_new_mrr")).alias("mrr_start"),
            col("__customers_end").cast(DataType::UInt32).alias("customers_end"),
            (col("__customers_end") - col("__customers_delta")).cast(DataType::UInt32).alias("customers_start"),
        ])
        .filter(col(PERIOD_START).cast(DataType::Int32).gt(lit(before)));
    let ratio = |num: Expr, den: Expr| {
        when(den.clone().gt(lit(0)))
            .then(num.cast(DataType::Float64) / den.cast(DataType::Float64))
            .otherwise(lit(NULL).cast(DataType::Float64))
    };
    let c = |n: &str| col(n);
    let rates = [
        ratio(c("churned_customers"), c("customers_start")).alias("logo_churn_rate"),
        ratio(
            c("customers_end").cast(DataType::Int64)
                - c("new_customers").cast(DataType::Int64)
                - c("reactivated_customers").cast(DataType::Int64),
            c("customers_start"),
        )
        .alias("retention_rate"),
        ratio(c("churned_mrr") + c("contraction_mrr"), c("mrr_start")).alias("gross_mrr_churn_rate"),
        ratio(c("churned_mrr") + c("contraction_mrr") - c("expansion_mrr") - c("reactivation_mrr"), c("mrr_start"))
            .alias("net_mrr_churn_rate"),
        ratio(c("mrr_start") + c("expansion_mrr") - c("contraction_mrr") - c("churned_mrr"), c("mrr_start"))
            .alias("nrr"),
        ratio(c("mrr_start") - c("contraction_mrr") - c("churned_mrr"), c("mrr_start")).alias("grr"),
        ratio(c("mrr_end"), c("customers_end")).alias("arpa"),
    ];
    let mut out = vec![col(PERIOD_START)];
    out.extend(dims);
    out.extend(COLUMNS[..13].iter().map(|n| col(*n)));
    out.extend(rates);
    let mut final_order: Vec<PlSmallStr> = vec![PERIOD_START.into()];
    final_order.extend(cx.by.iter().map(|d| d.as_str().into()));
    Ok(table.select(out).sort(final_order, sort))
}

//! Cohort retention (details 32).
//!
//! An account's cohort is the period holding its earliest line with
//! `mrr > 0`; `accounts` is the cohort's size. At age k (periods after the
//! cohort period), `logo_retention` = share of the cohort with MRR > 0 just
//! before the end of period cohort + k, and `revenue_retention` = the
//! cohort's MRR then over its MRR just before the end of the cohort period
//! (null when that is 0). Built from the per-account changes of
//! [`super::movements::account_changes`]: per cohort and period, the change
//! in paying accounts and in MRR, then running sums; the work grows with
//! the changes plus the matrix, never accounts x periods.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::RevenueContext;
use super::movements::{AFTER, BEFORE, FIRST_PAID, before_range};
use crate::Result;
use crate::error::PolarsContext;
use crate::period::{PERIOD_START, date_to_days};
use crate::schema::subscriptions::ACCOUNT_ID;

/// Output columns of the `cohorts` table after `cohort` and the dimensions.
pub const COLUMNS: [&str; 4] = ["age", "accounts", "logo_retention", "revenue_retention"];

/// The `cohorts` table: `cohort` (date), the dimensions, `age`, `accounts`,
/// `logo_retention`, `revenue_retention`; one row per cohort in the range
/// (and group) and age 0 up to the last reported period; sorted by cohort,
/// dimensions, age.
pub fn cohorts(changes: LazyFrame, cx: &RevenueContext) -> Result<DataFrame> {
    let before = before_range(cx)?;
    let mut keys = vec![col(FIRST_PAID).alias("cohort")];
    keys.extend(cx.by.iter().map(|b| col(b.as_str())));
    let in_range = changes.filter(col(FIRST_PAID).cast(DataType::Int32).gt(lit(before)));
    let flows = in_range
        .clone()
        .group_by(keys.iter().cloned().chain([col(PERIOD_START)]).collect::<Vec<_>>())
        .agg([
            (col(AFTER).gt(lit(0.0)).cast(DataType::Int64) - col(BEFORE).gt(lit(0.0)).cast(DataType::Int64))
                .sum()
                .alias("__d_accounts"),
            (col(AFTER) - col(BEFORE)).sum().alias("__d_mrr"),
        ])
        .collect()
        .ctx("computing cohorts")?;
    let sizes = in_range.group_by(keys).agg([col(ACCOUNT_ID).n_unique().alias("accounts")]).collect().ctx("cohorts")?;

    let index: BTreeMap<i32, usize> = cx.spine.starts.iter().enumerate().map(|(i, d)| (date_to_days(*d), i)).collect();
    let k = cx.spine.starts.len();
    let group_of = |df: &DataFrame| -> Result<Vec<Vec<Option<String>>>> {
        let mut out = vec![Vec::new(); df.height()];
        for b in &cx.by {
            let c = df.column(b).ctx(b)?.cast(&DataType::String).ctx(b)?;
            for (o, v) in out.iter_mut().zip(c.str().ctx(b)?.iter()) {
                o.push(v.map(str::to_owned));
            }
        }
        Ok(out)
    };
    let days = |df: &DataFrame, name: &str| -> Result<Vec<i32>> {
        let c = df.column(name).ctx(name)?.cast(&DataType::Int32).ctx(name)?;
        Ok(c.i32().ctx(name)?.iter().map(|v| v.unwrap_or(i32::MIN)).collect())
    };
    // (cohort index, group) -> per-period flows.
    type Key = (usize, Vec<Option<String>>);
    let mut matrix: BTreeMap<Key, (u32, Vec<i64>, Vec<f64>)> = BTreeMap::new();
    let (s_cohort, s_groups) = (days(&sizes, "cohort")?, group_of(&sizes)?);
    let s_n: Vec<u32> = sizes
        .column("accounts")
        .ctx("accounts")?
        .cast(&DataType::UInt32)
        .ctx("accounts")?
        .u32()
        .ctx("accounts")?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    for ((c, g), n) in s_cohort.into_iter().zip(s_groups).zip(s_n) {
        if let Some(&ci) = index.get(&c) {
            matrix.insert((ci, g), (n, vec![0; k], vec![0.0; k]));
        }
    }
    let (f_cohort, f_groups, f_period) = (days(&flows, "cohort")?, group_of(&flows)?, days(&flows, PERIOD_START)?);
    let d_acc: Vec<i64> =
        flows.column("__d_accounts").ctx("cohorts")?.i64().ctx("cohorts")?.iter().map(|v| v.unwrap_or(0)).collect();
    let d_mrr: Vec<f64> =
        flows.column("__d_mrr").ctx("cohorts")?.f64().ctx("cohorts")?.iter().map(|v| v.unwrap_or(0.0)).collect();
    for i in 0..flows.height() {
        let (Some(&ci), Some(&pi)) = (index.get(&f_cohort[i]), index.get(&f_period[i])) else { continue };
        if let Some(m) = matrix.get_mut(&(ci, f_groups[i].clone())) {
            m.1[pi] += d_acc[i];
            m.2[pi] += d_mrr[i];
        }
    }

    let mut cohort_col = Vec::new();
    let mut group_cols: Vec<Vec<Option<String>>> = vec![Vec::new(); cx.by.len()];
    let (mut age, mut accounts, mut logo, mut revenue) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((ci, g), (n, da, dm)) in &matrix {
        let (mut paying, mut mrr, mut base) = (0i64, 0.0f64, 0.0f64);
        for j in *ci..k {
            paying += da[j];
            mrr += dm[j];
            if j == *ci {
                base = mrr;
            }
            cohort_col.push(date_to_days(cx.spine.starts[*ci]));
            for (gc, v) in group_cols.iter_mut().zip(g) {
                gc.push(v.clone());
            }
            age.push((j - ci) as u32);
            accounts.push(*n);
            logo.push((*n > 0).then(|| paying as f64 / f64::from(*n)));
            revenue.push((base > 1e-6).then(|| mrr.max(0.0) / base));
        }
    }
    let mut columns = vec![Int32Chunked::from_vec("cohort".into(), cohort_col).into_date().into_column()];
    for (b, v) in cx.by.iter().zip(group_cols) {
        columns.push(StringChunked::from_iter_options(b.as_str().into(), v.into_iter()).into_column());
    }
    columns.push(UInt32Chunked::from_vec("age".into(), age).into_column());
    columns.push(UInt32Chunked::from_vec("accounts".into(), accounts).into_column());
    columns.push(Float64Chunked::from_iter_options("logo_retention".into(), logo.into_iter()).into_column());
    columns.push(Float64Chunked::from_iter_options("revenue_retention".into(), revenue.into_iter()).into_column());
    let mut order: Vec<PlSmallStr> = vec!["cohort".into()];
    order.extend(cx.by.iter().map(|b| b.as_str().into()));
    order.push("age".into());
    DataFrame::new_infer_height(columns)
        .ctx("cohorts")?
        .sort(order, SortMultipleOptions::default().with_nulls_last(true))
        .ctx("cohorts")
}

//! Cohort retention (docs/metrics.md, "The `cohorts` table").
//!
//! An account's cohort is the period holding its earliest line with
//! `mrr > 0`; `accounts` is the cohort's size. At age k (periods after the
//! cohort period), `logo_retention` = share of the cohort with MRR > 0 just
//! before the end of period cohort + k, and `revenue_retention` = the
//! cohort's MRR then over its MRR just before the end of the cohort period
//! (null when that is 0). Built from the per-account changes of
//! [`super::movements::account_changes`]: per cohort and period, the change
//! in paying accounts and in MRR, then running sums; the work grows with
//! the changes plus the matrix, never accounts x periods. Cohorts before
//! the reported range are left out.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::RevenueContext;
use super::movements::Changes;
use crate::Result;
use crate::error::PolarsContext;
use crate::period::date_to_days;

/// A cohort's size and, per bucket, the change in paying accounts and MRR.
type Cohort = (u32, Vec<i64>, Vec<f64>);

/// Output columns of the `cohorts` table after `cohort` and the dimensions.
pub const COLUMNS: [&str; 4] = ["age", "accounts", "logo_retention", "revenue_retention"];

/// The `cohorts` table: `cohort` (date), the dimensions, `age`, `accounts`,
/// `logo_retention`, `revenue_retention`; one row per cohort in the range
/// (and group) and age 0 up to the last reported period; sorted by cohort,
/// dimensions (nulls last), age.
pub fn cohorts(ch: &Changes, cx: &RevenueContext) -> Result<DataFrame> {
    let k = cx.spine.starts.len();
    // (cohort bucket, group) -> (size, per-bucket change in paying accounts and MRR).
    let mut matrix: BTreeMap<(u32, u32), Cohort> = BTreeMap::new();
    for (a, fp) in ch.first_paid.iter().enumerate() {
        if let Some(fp) = fp.filter(|b| *b > 0) {
            let entry = matrix.entry((fp, ch.group_of[a])).or_insert_with(|| (0, vec![0; k + 1], vec![0.0; k + 1]));
            entry.0 += 1;
        }
    }
    for c in &ch.rows {
        let Some(fp) = ch.first_paid[c.account as usize].filter(|b| *b > 0) else { continue };
        if let Some(m) = matrix.get_mut(&(fp, ch.group_of[c.account as usize])) {
            m.1[c.bucket as usize] += i64::from(c.after > 0.0) - i64::from(c.before > 0.0);
            m.2[c.bucket as usize] += c.after - c.before;
        }
    }
    let mut cohort_col = Vec::new();
    let mut group_cols: Vec<Vec<Option<&str>>> = vec![Vec::new(); cx.by.len()];
    let (mut age, mut accounts, mut logo, mut revenue) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((fp, g), (n, da, dm)) in &matrix {
        let fp = *fp as usize;
        // Changes before the cohort period (free lines only) sum in too.
        let (mut paying, mut mrr) = (da[..fp].iter().sum::<i64>(), dm[..fp].iter().sum::<f64>());
        let mut base = 0.0;
        for b in fp..=k {
            paying += da[b];
            mrr += dm[b];
            if b == fp {
                base = mrr;
            }
            cohort_col.push(date_to_days(cx.spine.starts[fp - 1]));
            for (gc, v) in group_cols.iter_mut().zip(&ch.groups[*g as usize]) {
                gc.push(v.as_deref());
            }
            age.push(u32::try_from(b - fp).unwrap_or(u32::MAX));
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
    DataFrame::new_infer_height(columns).ctx("cohorts")
}

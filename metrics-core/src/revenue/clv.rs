//! Customer lifetime value: by formula (ChartMogul) and historic.
//!
//! * `clv = arpa x gross_margin / c`, c = the mean monthly
//!   `logo_churn_rate` of the six calendar months ending with the month
//!   that holds the row's last instant; null when any of those months is
//!   outside the report range or has a null rate, or c = 0 (details 30).
//! * `clv_historic_mean` / `clv_historic_median`: over accounts with a line
//!   starting before the period end, each account's MRR integrated from its
//!   first line to the period end, in months of 365/12 days: the revenue it
//!   has brought so far (details 31). Linear-interpolation median.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use polars::prelude::*;

use super::RevenueContext;
use crate::Result;
use crate::error::PolarsContext;
use crate::period::{PERIOD_START, Period, Spine};
use crate::schema::subscriptions::{ACCOUNT_ID, END_AT, MRR, START_AT};

type MeanMedian = (Option<f64>, Option<f64>);

/// Microseconds in a month of 365/12 days.
pub const MONTH_MICROS: f64 = 365.0 / 12.0 * 86_400e6;

/// The same range in calendar months (for the CLV formula's churn).
pub fn monthly_context(cx: &RevenueContext) -> RevenueContext {
    let first = cx.spine.starts.first().copied().unwrap_or_default();
    let last = cx.spine.starts.last().map_or(first, |s| cx.period.next(*s) - Days::new(1));
    RevenueContext { period: Period::Month, spine: Spine::new(Period::Month, cx.tz, first, last), ..cx.clone() }
}

/// A row's group as one text key (`\u{1f}` between values, `\u{0}` for null).
fn group_keys(df: &DataFrame, by: &[String]) -> Result<Vec<String>> {
    let mut keys = vec![String::new(); df.height()];
    for b in by {
        let c = df.column(b).ctx(b)?.cast(&DataType::String).ctx(b)?;
        for (k, v) in keys.iter_mut().zip(c.str().ctx(b)?.iter()) {
            k.push_str(v.unwrap_or("\u{0}"));
            k.push('\u{1f}');
        }
    }
    Ok(keys)
}

fn dates(df: &DataFrame) -> Result<Vec<NaiveDate>> {
    let c = df.column(PERIOD_START).ctx(PERIOD_START)?.cast(&DataType::Int32).ctx(PERIOD_START)?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    Ok(c.i32().ctx(PERIOD_START)?.iter().map(|d| epoch + chrono::Duration::days(i64::from(d.unwrap_or(0)))).collect())
}

fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let c = df.column(name).ctx(name)?.cast(&DataType::Float64).ctx(name)?;
    Ok(c.f64().ctx(name)?.iter().collect())
}

/// Adds `clv` after `arpa`. `monthly` is the revenue table of the same
/// lines and groups by calendar month over the same range.
pub fn add_formula(table: DataFrame, monthly: &DataFrame, cx: &RevenueContext, gross_margin: f64) -> Result<DataFrame> {
    let churn: HashMap<(String, NaiveDate), Option<f64>> = group_keys(monthly, &cx.by)?
        .into_iter()
        .zip(dates(monthly)?)
        .zip(floats(monthly, "logo_churn_rate")?)
        .collect();
    let keys = group_keys(&table, &cx.by)?;
    let arpa = floats(&table, "arpa")?;
    let clv: Vec<Option<f64>> = keys
        .iter()
        .zip(dates(&table)?)
        .zip(arpa)
        .map(|((k, start), arpa)| {
            let last_day = cx.period.next(start) - Days::new(1);
            let month = NaiveDate::from_ymd_opt(last_day.year(), last_day.month(), 1)?;
            let mut sum = 0.0;
            for back in 0..6 {
                let m = month.checked_sub_months(chrono::Months::new(back))?;
                sum += (*churn.get(&(k.clone(), m))?)?;
            }
            let c = sum / 6.0;
            (c > 0.0).then(|| arpa.map(|a| a * gross_margin / c)).flatten()
        })
        .collect();
    let mut table = table;
    table.with_column(Float64Chunked::from_iter_options("clv".into(), clv.into_iter()).into_column()).ctx("clv")?;
    Ok(table)
}

/// Adds `clv_historic_mean` and `clv_historic_median`.
///
/// Time grows with lines x periods (each account's integral is evaluated at
/// every period end); memory holds one value per account.
pub fn add_historic(table: DataFrame, lines: &LazyFrame, cx: &RevenueContext) -> Result<DataFrame> {
    let mut sel =
        vec![col(ACCOUNT_ID), col(START_AT).cast(DataType::Int64), col(END_AT).cast(DataType::Int64), col(MRR)];
    sel.extend(cx.by.iter().map(|b| col(b.as_str())));
    let df =
        lines.clone().select(sel).sort([ACCOUNT_ID], SortMultipleOptions::default()).collect().ctx("historic clv")?;
    let ids: Vec<Option<&str>> = df.column(ACCOUNT_ID).ctx(ACCOUNT_ID)?.str().ctx(ACCOUNT_ID)?.iter().collect();
    let start: Vec<Option<i64>> = df.column(START_AT).ctx(START_AT)?.i64().ctx(START_AT)?.iter().collect();
    let end: Vec<Option<i64>> = df.column(END_AT).ctx(END_AT)?.i64().ctx(END_AT)?.iter().collect();
    let mrr = floats(&df, MRR)?;
    let groups = group_keys(&df, &cx.by)?;
    // Accounts as runs of rows (sorted by account).
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for i in 0..ids.len() {
        match runs.last_mut() {
            Some((s, e)) if ids[*s] == ids[i] => *e = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    let ends = cx.spine.end_instants();
    let mut rows: Vec<(NaiveDate, String, MeanMedian)> = Vec::new();
    for (k, &e) in ends.iter().enumerate() {
        let mut per_group: HashMap<&str, Vec<f64>> = HashMap::new();
        for &(s, t) in &runs {
            let first = (s..t).filter_map(|i| start[i]).min();
            if first.is_none_or(|f| f >= e) {
                continue;
            }
            let total: f64 = (s..t)
                .map(|i| {
                    let (Some(a), Some(m)) = (start[i], mrr[i]) else { return 0.0 };
                    let b = end[i].map_or(e, |x| x.min(e));
                    if b > a { m * (b - a) as f64 / MONTH_MICROS } else { 0.0 }
                })
                .sum();
            per_group.entry(groups[s].as_str()).or_default().push(total);
        }
        for (g, mut v) in per_group {
            v.sort_by(f64::total_cmp);
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            rows.push((cx.spine.starts[k], g.to_owned(), (Some(mean), median(&v))));
        }
    }
    let keys = group_keys(&table, &cx.by)?;
    let index: HashMap<(NaiveDate, &str), MeanMedian> = rows.iter().map(|(d, g, m)| ((*d, g.as_str()), *m)).collect();
    let (mut means, mut medians) = (Vec::new(), Vec::new());
    for (d, k) in dates(&table)?.into_iter().zip(&keys) {
        let (m, md) = index.get(&(d, k.as_str())).copied().unwrap_or((None, None));
        means.push(m);
        medians.push(md);
    }
    let mut table = table;
    table
        .with_column(Float64Chunked::from_iter_options("clv_historic_mean".into(), means.into_iter()).into_column())
        .ctx("historic clv")?;
    table
        .with_column(Float64Chunked::from_iter_options("clv_historic_median".into(), medians.into_iter()).into_column())
        .ctx("historic clv")?;
    Ok(table)
}

/// The median of sorted values, interpolating between the middle two.
fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

//! Customer lifetime value: by formula (ChartMogul) and historic.
//!
//! * `clv = arpa x gross_margin / c`, c = the mean monthly
//!   `logo_churn_rate` of the six calendar months ending with the month
//!   that holds the row's last instant; null when any of those months is
//!   outside the report range or has a null rate, or c = 0 (docs/metrics.md, "CLV (formula)").
//! * `clv_historic_mean` / `clv_historic_median`: over accounts with a line
//!   starting before the period end, each account's MRR integrated from its
//!   first line to the period end, in months of 365/12 days: the revenue it
//!   has brought so far (docs/metrics.md, "CLV (historic)"). Linear-interpolation median.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use polars::prelude::*;

use super::RevenueContext;
use super::movements::Changes;
use crate::Result;
use crate::error::PolarsContext;
use crate::parse::timestamp::Micros;
use crate::period::{PERIOD_START, Period, Spine};

/// Microseconds in a month of 365/12 days.
pub const MONTH_MICROS: f64 = 365.0 / 12.0 * 86_400e6;

/// The same range in calendar months (for the CLV formula's churn).
pub fn monthly_context(cx: &RevenueContext) -> RevenueContext {
    let first = cx.spine.starts.first().copied().unwrap_or_default();
    let last = cx.spine.starts.last().map_or(first, |s| cx.period.next(*s) - Days::new(1));
    RevenueContext { period: Period::Month, spine: Spine::new(Period::Month, cx.tz, first, last), ..cx.clone() }
}

fn dates(df: &DataFrame) -> Result<Vec<NaiveDate>> {
    let c = df.column(PERIOD_START).ctx(PERIOD_START)?.cast(&DataType::Int32).ctx(PERIOD_START)?;
    Ok(c.i32().ctx(PERIOD_START)?.iter().map(|d| crate::period::days_to_date(d.unwrap_or(0))).collect())
}

fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let c = df.column(name).ctx(name)?.cast(&DataType::Float64).ctx(name)?;
    Ok(c.f64().ctx(name)?.iter().collect())
}

/// Adds `clv` after `arpa`. `monthly` is the revenue table of the same
/// lines and groups by calendar month over the same range.
///
/// Also returns a note when some `clv` rests on fewer than
/// [`THIN_CHURN`] churned accounts over its six months: a churn rate from
/// a handful of events makes the lifetime (1 / churn) swing widely.
pub fn add_formula(
    table: DataFrame,
    monthly: &DataFrame,
    cx: &RevenueContext,
    gross_margin: f64,
) -> Result<(DataFrame, Option<String>)> {
    let month_keys: Vec<(String, NaiveDate)> =
        crate::raw::group_keys(monthly, &cx.by)?.into_iter().zip(dates(monthly)?).collect();
    let churn: HashMap<(String, NaiveDate), Option<f64>> =
        month_keys.iter().cloned().zip(floats(monthly, "logo_churn_rate")?).collect();
    let churned: HashMap<(String, NaiveDate), f64> =
        month_keys.into_iter().zip(floats(monthly, "churned_customers")?).map(|(k, v)| (k, v.unwrap_or(0.0))).collect();
    let mut thinnest: Option<(f64, NaiveDate)> = None;
    let keys = crate::raw::group_keys(&table, &cx.by)?;
    let arpa = floats(&table, "arpa")?;
    let clv: Vec<Option<f64>> = keys
        .iter()
        .zip(dates(&table)?)
        .zip(arpa)
        .map(|((k, start), arpa)| {
            let last_day = cx.period.next(start) - Days::new(1);
            let month = NaiveDate::from_ymd_opt(last_day.year(), last_day.month(), 1)?;
            let (mut sum, mut events) = (0.0, 0.0);
            for back in 0..6 {
                let m = month.checked_sub_months(chrono::Months::new(back))?;
                sum += (*churn.get(&(k.clone(), m))?)?;
                events += churned.get(&(k.clone(), m)).copied().unwrap_or(0.0);
            }
            let c = sum / 6.0;
            let value = (c > 0.0).then(|| arpa.map(|a| a * gross_margin / c)).flatten();
            if value.is_some() && events < THIN_CHURN && thinnest.is_none_or(|(e, _)| events < e) {
                thinnest = Some((events, start));
            }
            value
        })
        .collect();
    let mut table = table;
    table.with_column(Float64Chunked::from_iter_options("clv".into(), clv.into_iter()).into_column()).ctx("clv")?;
    let note = thinnest.map(|(events, start)| {
        format!(
            "revenue: clv rests on as few as {events} churned account(s) over six months (period {start}); a churn rate from a handful of events makes the lifetime swing widely: read clv with care"
        )
    });
    Ok((table, note))
}

/// Fewer churned accounts than this over six months make a CLV note.
pub const THIN_CHURN: f64 = 5.0;

/// Adds `clv_historic_mean` and `clv_historic_median` to `table` (rows by
/// period, then group in `ch.groups` order, as
/// [`super::movements::revenue_table`] writes them).
///
/// Time grows with lines x periods (each account's integral is evaluated at
/// every period end); memory holds one value per account.
pub fn add_historic(table: DataFrame, ch: &Changes, cx: &RevenueContext) -> Result<DataFrame> {
    let g = ch.groups.len();
    let ends = cx.spine.end_instants();
    // Accounts as runs of lines (sorted by account).
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, l) in ch.lines.iter().enumerate() {
        match runs.last_mut() {
            Some((s, e)) if ch.lines[*s].0 == l.0 => *e = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    let firsts: Vec<Micros> =
        runs.iter().map(|&(s, e)| ch.lines[s..e].iter().map(|l| l.1).min().unwrap_or(i64::MAX)).collect();
    let (mut means, mut medians) = (Vec::with_capacity(ends.len() * g), Vec::with_capacity(ends.len() * g));
    let mut per_group: Vec<Vec<f64>> = vec![Vec::new(); g];
    for &e in &ends {
        per_group.iter_mut().for_each(Vec::clear);
        for (r, &(s, t)) in runs.iter().enumerate() {
            if firsts[r] >= e {
                continue;
            }
            let total: f64 = ch.lines[s..t]
                .iter()
                .map(|&(_, a, end, m)| {
                    let b = end.map_or(e, |x| x.min(e));
                    if b > a { m * (b - a) as f64 / MONTH_MICROS } else { 0.0 }
                })
                .sum();
            per_group[ch.group_of[ch.lines[s].0 as usize] as usize].push(total);
        }
        for v in &mut per_group {
            means.push((!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64));
            medians.push(median(v));
        }
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

/// The median (linear interpolation between the middle two); reorders `v`.
fn median(v: &mut [f64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let hi = *v.select_nth_unstable_by(n / 2, f64::total_cmp).1;
    if n % 2 == 1 {
        return Some(hi);
    }
    let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lo + hi) / 2.0)
}

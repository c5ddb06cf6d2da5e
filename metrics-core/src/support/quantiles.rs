//! Duration quantiles per period and group by selection, not sorting.
//!
//! polars' grouped `quantile` sorts every group once per quantile. Here the
//! durations are laid out group by group with a counting sort (O(n)), and
//! each group's quantiles come from `select_nth_unstable` on a shrinking
//! slice: for the median and p90 about two passes over the group instead of
//! two sorts. The interpolation is polars' `QuantileMethod::Linear` to the
//! bit (`metrics.md`, "Common rules": h = (n-1)p, x[⌊h⌋] + (h-⌊h⌋)(x[⌊h⌋+1] -
//! x[⌊h⌋])), so the table is the same whichever computes it.

use std::collections::HashMap;

use polars::prelude::*;
use rayon::prelude::*;

use super::{SupportContext, Tickets};
use crate::error::PolarsContext;
use crate::period::PERIOD_START;

/// The value column inside the kernel.
const VALUE: &str = "__quantile_value";

/// Rows of the value evaluated at once.
const CHUNK: usize = 1 << 20;

/// Linear-interpolated quantiles of `v` at `qs` (each in [0, 1]), `None`
/// for an empty sample; `v` is reordered in place.
///
/// ```
/// use metrics_core::support::quantiles::by_selection;
/// let mut v = [5.0, 1.0, 4.0, 2.0, 3.0];
/// assert_eq!(by_selection(&mut v, &[0.9, 0.5, 0.0]), [Some(4.6), Some(3.0), Some(1.0)]);
/// assert_eq!(by_selection(&mut [], &[0.5]), [None]);
/// ```
pub fn by_selection(v: &mut [f64], qs: &[f64]) -> Vec<Option<f64>> {
    let n = v.len();
    let mut out = vec![None; qs.len()];
    if n == 0 {
        return out;
    }
    let mut order: Vec<usize> = (0..qs.len()).collect();
    order.sort_by(|a, b| qs[*a].total_cmp(&qs[*b]));
    // Everything before `from` is at most everything from it on.
    let mut from = 0;
    for k in order {
        let h = (n - 1) as f64 * qs[k];
        let idx = (h as usize).min(n - 1);
        let (_, lower, right) = v[from..].select_nth_unstable_by(idx - from, f64::total_cmp);
        let lower = *lower;
        out[k] = Some(if h.ceil() as usize == idx {
            lower
        } else {
            let upper = right.iter().copied().min_by(f64::total_cmp).unwrap_or(lower);
            if lower == upper { lower } else { (h - idx as f64) * (upper - lower) + lower }
        });
        from = idx;
    }
    out
}

/// The output columns of one sample's statistics.
pub(crate) struct Names<'a> {
    /// The sample's size (`UInt32`).
    pub count: &'a str,
    /// Its mean.
    pub mean: &'a str,
    /// `(column, quantile in [0, 1])`.
    pub quantiles: &'a [(String, f64)],
}

/// The mean of `v`: a compensated (Neumaier) sum in slice order over the
/// length, `None` for an empty slice. The same slice gives the same bits
/// whatever the number of threads.
///
/// ```
/// use metrics_core::support::quantiles::mean;
/// assert_eq!(mean(&[1e16, 1.0, -1e16, 1.0]), Some(0.5));
/// assert_eq!(mean(&[]), None);
/// ```
pub fn mean(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let (mut sum, mut carry) = (0.0f64, 0.0f64);
    for &x in v {
        let t = sum + x;
        carry += if sum.abs() >= x.abs() { (sum - t) + x } else { (x - t) + sum };
        sum = t;
    }
    Some((sum + carry) / v.len() as f64)
}

/// One frame keyed by `period_start` and the `by` dimensions with the
/// count, mean and quantiles of `value` named by `names`, over the tickets
/// attributed to each period by `period_col` (rows where either is null are
/// left out; groups without a value have no row).
pub(crate) fn frame(
    t: &Tickets,
    cx: &SupportContext,
    period_col: &str,
    value: Expr,
    names: &Names<'_>,
) -> crate::Result<DataFrame> {
    let quantiles = names.quantiles;
    let periods = t.df.column(period_col).ctx(period_col)?.cast(&DataType::Int32).ctx(period_col)?;
    let periods = periods.i32().ctx(period_col)?.rechunk().into_owned();
    let dims: Vec<StringChunked> = cx
        .by
        .iter()
        .map(|b| {
            let c = t.df.column(b).ctx(b)?.cast(&DataType::String).ctx(b)?;
            Ok(c.str().ctx(b)?.clone())
        })
        .collect::<crate::Result<_>>()?;
    let Grouped { keys, group_of } = groups(&periods, &dims);
    // A counting sort lays the rows out group by group: each group's slots
    // in row order, filled in one pass over the value (evaluated a slice of
    // rows at a time, never a full-height column of it), then each group's
    // present values moved to the front of its slots, in row order.
    let mut start = vec![0usize; keys.len() + 1];
    for &g in group_of.iter().filter(|g| **g != u32::MAX) {
        start[g as usize + 1] += 1;
    }
    for g in 0..keys.len() {
        start[g + 1] += start[g];
    }
    let mut laid = vec![0f64; start[keys.len()]];
    let mut present = vec![false; start[keys.len()]];
    let mut next = start.clone();
    let n = t.df.height();
    for off in (0..n).step_by(CHUNK) {
        let part = t.df.slice(off as i64, CHUNK.min(n - off)).lazy().select([value.clone().alias(VALUE)]);
        let df = part.collect().ctx("reading durations")?;
        let v = df.column(VALUE).ctx(VALUE)?.f64().ctx(VALUE)?;
        for (g, x) in group_of[off..off + v.len()].iter().zip(v.iter()) {
            if *g != u32::MAX {
                let slot = &mut next[*g as usize];
                (laid[*slot], present[*slot]) = (x.unwrap_or_default(), x.is_some());
                *slot += 1;
            }
        }
    }
    drop(group_of);
    let mut slices: Vec<&mut [f64]> = Vec::with_capacity(keys.len());
    let mut rest = laid.as_mut_slice();
    for g in 0..keys.len() {
        let (head, tail) = rest.split_at_mut(start[g + 1] - start[g]);
        let mut kept = 0;
        for i in 0..head.len() {
            if present[start[g] + i] {
                head[kept] = head[i];
                kept += 1;
            }
        }
        slices.push(&mut head[..kept]);
        rest = tail;
    }
    drop(present);
    let qs: Vec<f64> = quantiles.iter().map(|(_, q)| *q).collect();
    let sizes: Vec<usize> = slices.iter().map(|s| s.len()).collect();
    let results: Vec<(Option<f64>, Vec<Option<f64>>)> =
        slices.into_par_iter().map(|s| (mean(s), by_selection(s, &qs))).collect();
    let mut cols =
        vec![Int32Chunked::from_iter_values(PERIOD_START.into(), keys.iter().map(|k| k.0)).into_date().into_column()];
    for (i, b) in cx.by.iter().enumerate() {
        let v = keys.iter().map(|k| k.1[i].as_deref());
        cols.push(StringChunked::from_iter_options(b.as_str().into(), v).into_column());
    }
    let counts = sizes.iter().map(|&n| n as u32);
    cols.push(UInt32Chunked::from_iter_values(names.count.into(), counts).into_column());
    cols.push(Float64Chunked::from_iter_options(names.mean.into(), results.iter().map(|r| r.0)).into_column());
    for (j, (name, _)) in quantiles.iter().enumerate() {
        let v = results.iter().map(|r| r.1[j]);
        cols.push(Float64Chunked::from_iter_options(name.as_str().into(), v).into_column());
    }
    DataFrame::new_infer_height(cols).ctx("duration quantiles")
}

/// Each row's group (`u32::MAX` when its period is null) and each group's
/// key: the period (days since the epoch) and dimension values.
struct Grouped {
    keys: Vec<(i32, Vec<Option<String>>)>,
    group_of: Vec<u32>,
}

fn groups(periods: &Int32Chunked, dims: &[StringChunked]) -> Grouped {
    let mut keys: Vec<(i32, Vec<Option<String>>)> = Vec::new();
    let mut group_of = Vec::with_capacity(periods.len());
    if dims.is_empty() {
        // Periods are a few hundred days apart at most: a table indexed by
        // day, not a hash; read chunk by chunk.
        let lo = periods.min().unwrap_or(0);
        let span = periods.max().map_or(0, |hi| usize::try_from(i64::from(hi) - i64::from(lo) + 1).unwrap_or(0));
        let mut index = vec![u32::MAX; span];
        for arr in periods.downcast_iter() {
            let valid = arr.validity();
            for (i, &p) in arr.values().iter().enumerate() {
                if valid.is_some_and(|v| !v.get_bit(i)) {
                    group_of.push(u32::MAX);
                    continue;
                }
                let slot = &mut index[(p - lo) as usize];
                if *slot == u32::MAX {
                    keys.push((p, Vec::new()));
                    *slot = (keys.len() - 1) as u32;
                }
                group_of.push(*slot);
            }
        }
    } else {
        let columns: Vec<Vec<Option<&str>>> = dims.iter().map(|d| d.iter().collect()).collect();
        let mut index: HashMap<(i32, Vec<Option<&str>>), u32> = HashMap::new();
        for (i, p) in periods.iter().enumerate() {
            group_of.push(match p {
                Some(p) => {
                    let key = (p, columns.iter().map(|c| c[i]).collect::<Vec<_>>());
                    *index.entry(key).or_insert_with(|| {
                        keys.push((p, columns.iter().map(|c| c[i].map(str::to_owned)).collect()));
                        (keys.len() - 1) as u32
                    })
                }
                None => u32::MAX,
            });
        }
    }
    Grouped { keys, group_of }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The compensated mean of durations (whole microseconds in minutes)
        /// is within an ulp or two of the exact mean, and the same for the
        /// same order.
        #[test]
        fn mean_is_the_exact_mean(micros in proptest::collection::vec(0i64..400 * 86_400_000_000, 1..300)) {
            let v: Vec<f64> = micros.iter().map(|m| *m as f64 / 60e6).collect();
            let exact = micros.iter().map(|m| i128::from(*m)).sum::<i128>() as f64 / 60e6 / v.len() as f64;
            let got = mean(&v).unwrap();
            prop_assert!((got - exact).abs() <= 4.0 * f64::EPSILON * exact.abs(), "{} vs {}", got, exact);
            prop_assert_eq!(mean(&v).map(f64::to_bits), Some(got.to_bits()));
        }

        /// Bit for bit what polars' linear quantile gives on the same sample.
        #[test]
        fn selection_equals_polars_quantiles(
            v in proptest::collection::vec(proptest::sample::select(vec![0.0, 1.5, 2.0, 7.25, 1e9, 3.0, 0.1]), 0..40),
            extra in proptest::collection::vec(0.0f64..1.0, 0..4),
        ) {
            let mut qs = vec![0.5, 0.9];
            qs.extend(extra);
            let mut w = v.clone();
            let got = by_selection(&mut w, &qs);
            let s = Float64Chunked::from_vec("v".into(), v);
            for (q, g) in qs.iter().zip(got) {
                let want = s.quantile(*q, QuantileMethod::Linear).unwrap();
                prop_assert_eq!(g.map(f64::to_bits), want.map(f64::to_bits), "q = {}", q);
            }
        }
    }
}

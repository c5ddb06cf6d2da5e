//! Backlog at each period end, by a sorted sweep (ticket mode).
//!
//! A ticket is open at instant t when `created_at < t` and (`solved_at` is
//! empty or `solved_at >= t`). Tickets enter the open set at `created_at` and
//! leave at `max(created_at, solved_at)`, so with both lists sorted, one pass
//! over the period ends answers every period: O((n + periods) log n), never
//! tickets x periods. A Fenwick tree over the tickets' `created_at` ranks
//! gives the over-7-days count (a prefix sum) and the median age (order
//! statistics) of the open set at each t.

use std::collections::HashMap;

use polars::prelude::*;

use super::{Metric, Part, Planned, SupportContext, Tickets};
use crate::error::PolarsContext;
use crate::parse::timestamp::Micros;
use crate::period::{PERIOD_START, date_to_days};
use crate::schema::tickets::{CREATED_AT, SOLVED_AT};

/// The dimension values of one group (null = missing).
type GroupKey<'a> = Vec<Option<&'a str>>;

/// At one snapshot: open tickets, open over 7 days, median age in hours.
type Snapshot = (u32, u32, Option<f64>);

const WEEK: Micros = 7 * 24 * 3_600_000_000;
const HOUR: f64 = 3.6e9;

/// Backlog state at each period's end: `backlog_count`,
/// `backlog_over_7d_count` (age strictly more than 168 h) and
/// `backlog_median_age_hours` (linear-interpolated median of
/// `t - created_at`, null when nothing is open), where t is the period's
/// exclusive end, or as-of when earlier. Ticket mode: approximate for
/// reopened tickets (a reopened ticket is seen as open from creation to its
/// last solve). Without `solved_at` every created ticket stays open.
///
/// The plan is a [`Part::Backlog`]: the sweep runs over the two
/// timestamp columns and the dimensions when the table is assembled.
pub fn backlog() -> Planned {
    let columns: Vec<String> = COLUMNS.iter().map(|s| (*s).to_owned()).collect();
    Ok(Metric { parts: vec![Part::Backlog], counts: columns[..2].to_vec(), columns })
}

/// The backlog's output columns; the first two are counts.
const COLUMNS: [&str; 3] = ["backlog_count", "backlog_over_7d_count", "backlog_median_age_hours"];

/// The frame of [`backlog`]: one row per period end (and group), keyed by
/// `period_start` and the dimensions.
pub(crate) fn frame(t: &Tickets, cx: &SupportContext) -> crate::Result<DataFrame> {
    // Each ticket as (enter, leave), read straight from the two columns:
    // a ticket leaves at max(created, solved); one never solved never does.
    // Plain slices of one chunk each (staged columns are one chunk).
    let created = micros(&t.df, CREATED_AT)?.rechunk().into_owned();
    let solved = if t.has(SOLVED_AT) { Some(micros(&t.df, SOLVED_AT)?.rechunk().into_owned()) } else { None };
    let (created, solved) = (created.downcast_iter().next(), solved.as_ref().and_then(|s| s.downcast_iter().next()));
    let spans = (0..created.map_or(0, |c| c.len())).map(|i| {
        let c = created.filter(|c| c.validity().is_none_or(|v| v.get_bit(i))).map(|c| c.value(i))?;
        let s = solved.filter(|s| s.validity().is_none_or(|v| v.get_bit(i))).map(|s| s.value(i));
        Some((c, s.map_or(Micros::MAX, |s| s.max(c))))
    });
    // Group tickets by their dimension values (one group without `--by`).
    let dim_columns: Vec<StringChunked> = cx
        .by
        .iter()
        .map(|b| Ok(t.df.column(b).ctx(b)?.cast(&DataType::String).ctx(b)?.str().ctx(b)?.clone()))
        .collect::<crate::Result<_>>()?;
    let dims: Vec<Vec<Option<&str>>> = dim_columns.iter().map(|c| c.iter().collect()).collect();
    let ends = snapshot_instants(cx);
    let mut per_group: Vec<(GroupKey<'_>, Vec<Snapshot>)> = Vec::new();
    if dims.is_empty() {
        per_group.push((Vec::new(), sweep(spans.flatten(), &ends)));
    } else {
        let mut groups: Vec<(GroupKey<'_>, Vec<(Micros, Micros)>)> = Vec::new();
        let mut group_of: HashMap<GroupKey<'_>, usize> = HashMap::new();
        for (i, span) in spans.enumerate() {
            let Some(s) = span else { continue };
            let key: GroupKey<'_> = dims.iter().map(|d| d[i]).collect();
            let g = *group_of.entry(key.clone()).or_insert_with(|| {
                groups.push((key, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(s);
        }
        per_group.extend(groups.into_iter().map(|(key, tickets)| (key, sweep(tickets, &ends))));
    }
    let mut out_period = Vec::new();
    let mut out_dims: Vec<Vec<Option<String>>> = vec![Vec::new(); cx.by.len()];
    let (mut count, mut over, mut median) = (Vec::new(), Vec::new(), Vec::new());
    for (key, stats) in per_group {
        for (k, stats) in stats.into_iter().enumerate() {
            out_period.push(date_to_days(cx.spine.starts[k]));
            for (d, v) in out_dims.iter_mut().zip(&key) {
                d.push(v.map(str::to_owned));
            }
            count.push(stats.0);
            over.push(stats.1);
            median.push(stats.2);
        }
    }
    let mut cols = vec![Int32Chunked::from_vec(PERIOD_START.into(), out_period).into_date().into_column()];
    for (name, vals) in cx.by.iter().zip(out_dims) {
        cols.push(StringChunked::from_iter_options(name.as_str().into(), vals.into_iter()).into_column());
    }
    cols.push(UInt32Chunked::from_vec(COLUMNS[0].into(), count).into_column());
    cols.push(UInt32Chunked::from_vec(COLUMNS[1].into(), over).into_column());
    cols.push(Float64Chunked::from_iter_options(COLUMNS[2].into(), median.into_iter()).into_column());
    DataFrame::new_infer_height(cols).ctx("backlog")
}

fn micros(df: &DataFrame, name: &str) -> crate::Result<Int64Chunked> {
    let c = df.column(name).ctx(name)?.cast(&DataType::Int64).ctx(name)?;
    Ok(c.i64().ctx(name)?.clone())
}

/// The instants the backlog is taken at, ascending: each period's end, or
/// as-of when earlier. A period end counts what happened before it; the
/// as-of snapshot is taken after every event at as-of (`true`: a ticket
/// solved then is solved, one created then is open).
fn snapshot_instants(cx: &SupportContext) -> Vec<(Micros, bool)> {
    cx.spine.end_instants().into_iter().map(|e| if cx.as_of < e { (cx.as_of, true) } else { (e, false) }).collect()
}

/// For each query instant (ascending), `(open, open over 7 days, median age
/// hours)` of tickets given as `(enter, leave)`: open at t when
/// `enter < t` and not `leave < t`; for an instant marked `after` (the
/// as-of snapshot), after the events at t: `enter <= t` and not
/// `leave <= t`. Ages are measured at t.
///
/// Each ticket is open at a contiguous run of query instants `[a, b)`,
/// found by binary search over the (few) instants: the two counts are
/// difference arrays, O(n log k). Only tickets open at some instant (most
/// open and close between two period ends) are sorted, by `enter`, for a
/// Fenwick tree over their ranks that gives the median at each instant.
pub(crate) fn sweep(tickets: impl IntoIterator<Item = (Micros, Micros)>, ends: &[(Micros, bool)]) -> Vec<Snapshot> {
    use rayon::slice::ParallelSliceMut;
    let k = ends.len();
    // Events strictly before a bound have happened (non-decreasing).
    let bounds: Vec<Micros> = ends.iter().map(|&(t, after)| t.saturating_add(i64::from(after))).collect();
    let week_before: Vec<Micros> = ends.iter().map(|&(t, _)| t.saturating_sub(WEEK)).collect();
    let (mut open, mut old) = (vec![0i64; k + 1], vec![0i64; k + 1]);
    let mut spanning: Vec<(Micros, u32, u32)> = Vec::new();
    let (mut hint_a, mut hint_b, mut hint_a7) = (0, 0, 0);
    for (enter, leave) in tickets {
        // Open at j from the first bound after `enter` to the first bound
        // after `leave` (never, for a ticket never solved).
        let a = rank(&bounds, enter, &mut hint_a);
        let b = if leave == Micros::MAX { k } else { rank(&bounds, leave, &mut hint_b) };
        if a >= b {
            continue;
        }
        open[a] += 1;
        open[b] -= 1;
        // Over 7 days at j: created before t_j - 7 days.
        let a7 = rank(&week_before, enter, &mut hint_a7).max(a);
        if a7 < b {
            old[a7] += 1;
            old[b] -= 1;
        }
        spanning.push((enter, a as u32, b as u32));
    }
    spanning.par_sort_unstable();
    // Leaves by instant (a counting sort of ranks); enters come in rank
    // order, as `a` rises with `enter`.
    let mut leave_start = vec![0usize; k + 2];
    for s in &spanning {
        leave_start[s.2 as usize + 1] += 1;
    }
    for j in 0..=k {
        leave_start[j + 1] += leave_start[j];
    }
    let mut leaves = vec![0u32; spanning.len()];
    let mut fill = leave_start.clone();
    for (r, s) in spanning.iter().enumerate() {
        leaves[fill[s.2 as usize]] = u32::try_from(r).unwrap_or(u32::MAX);
        fill[s.2 as usize] += 1;
    }
    let mut tree = Fenwick::new(spanning.len());
    let (mut entered, mut n_open, mut n_old) = (0usize, 0i64, 0i64);
    let mut out = Vec::with_capacity(k);
    for (j, &(t, _)) in ends.iter().enumerate() {
        while entered < spanning.len() && spanning[entered].1 as usize <= j {
            tree.add(entered, 1);
            entered += 1;
        }
        for &r in &leaves[leave_start[j]..leave_start[j + 1]] {
            tree.add(r as usize, -1);
        }
        n_open += open[j];
        n_old += old[j];
        let median = (n_open > 0).then(|| {
            let k = n_open;
            let a = spanning[tree.kth((k - 1) / 2)].0;
            let b = spanning[tree.kth(k / 2)].0;
            let mid = (a as f64 + b as f64) / 2.0;
            (t as f64 - mid) / HOUR
        });
        out.push((u32::try_from(n_open).unwrap_or(u32::MAX), u32::try_from(n_old).unwrap_or(u32::MAX), median));
    }
    out
}

/// How many of the non-decreasing `bounds` are at most `x`
/// (`partition_point(|b| b <= x)`), trying the answer for the previous
/// value first (`hint`): tickets come mostly in time order, so most
/// answers repeat and no binary search runs.
#[inline]
fn rank(bounds: &[Micros], x: Micros, hint: &mut usize) -> usize {
    let h = *hint;
    let holds = (h == 0 || bounds[h - 1] <= x) && (h == bounds.len() || bounds[h] > x);
    if !holds {
        *hint = bounds.partition_point(|&b| b <= x);
    }
    *hint
}

/// A Fenwick (binary indexed) tree of counts over ranks `0..n`.
struct Fenwick {
    tree: Vec<i32>,
}

impl Fenwick {
    fn new(n: usize) -> Self {
        Self { tree: vec![0; n + 1] }
    }

    fn add(&mut self, rank: usize, delta: i32) {
        let mut i = rank + 1;
        while i < self.tree.len() {
            self.tree[i] += delta;
            i += i & i.wrapping_neg();
        }
    }

    /// The rank holding the `k`-th (0-based) counted element.
    fn kth(&self, mut k: i64) -> usize {
        let mut pos = 0;
        let mut step = (self.tree.len() - 1).next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next < self.tree.len() && i64::from(self.tree[next]) <= k {
                pos = next;
                k -= i64::from(self.tree[next]);
            }
            step >>= 1;
        }
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition after the events at t: created at or before t, not
    /// solved at or before t; ages at t.
    fn naive_after(tickets: &[(Micros, Micros)], t: Micros) -> (u32, u32, Option<f64>) {
        let open: Vec<&(Micros, Micros)> = tickets.iter().filter(|(c, l)| *c <= t && *l > t).collect();
        let mut ages: Vec<f64> = open.iter().map(|(c, _)| (t - c) as f64 / HOUR).collect();
        ages.sort_by(f64::total_cmp);
        let over = open.iter().filter(|(c, _)| t - c > WEEK).count() as u32;
        let n = ages.len();
        let median = (n > 0).then(|| (ages[(n - 1) / 2] + ages[n / 2]) / 2.0);
        (n as u32, over, median)
    }

    fn naive(tickets: &[(Micros, Micros)], t: Micros) -> (u32, u32, Option<f64>) {
        let mut ages: Vec<f64> =
            tickets.iter().filter(|(c, l)| *c < t && *l >= t).map(|(c, _)| (t - c) as f64 / HOUR).collect();
        ages.sort_by(f64::total_cmp);
        let over = tickets.iter().filter(|(c, l)| *c < t && *l >= t && t - c > WEEK).count() as u32;
        let n = ages.len();
        let median = (n > 0).then(|| (ages[(n - 1) / 2] + ages[n / 2]) / 2.0);
        (n as u32, over, median)
    }

    #[test]
    fn hand_worked_sweep() {
        let h = 3_600_000_000;
        // Open at t=10h: created 0h (solved 20h), created 5h (never solved); the
        // one created at 1h and solved at 8h has left; created at 10h is not yet open.
        let tickets = [(0, 20 * h), (5 * h, Micros::MAX), (h, 8 * h), (10 * h, Micros::MAX)];
        assert_eq!(sweep(tickets.to_vec(), &[(10 * h, false)]), vec![(2, 0, Some(7.5))]);
        assert_eq!(sweep(tickets.to_vec(), &[(200 * h, false)]), vec![(2, 2, Some(192.5))]);
        // After the events at 10h (an as-of snapshot), the ticket created
        // at 10h is open (age 0); at 20h the ticket solved then is solved.
        assert_eq!(sweep(tickets.to_vec(), &[(10 * h, true)]), vec![(3, 0, Some(5.0))]);
        assert_eq!(sweep(tickets.to_vec(), &[(20 * h, true)]), vec![(2, 0, Some(12.5))]);
        assert_eq!(sweep(tickets.to_vec(), &[(20 * h, false)]), vec![(3, 0, Some(15.0))]);
    }

    proptest! {
        #[test]
        fn sweep_matches_the_definition(raw in proptest::collection::vec((0i64..1000, 0i64..1200, any::<bool>()), 0..60),
                                        mut ends in proptest::collection::vec(0i64..1300, 1..12)) {
            let scale = 3_600_000_000 / 4;
            let tickets: Vec<(Micros, Micros)> = raw.iter()
                .map(|(c, s, solved)| (c * scale, if *solved { (*s).max(*c) * scale } else { Micros::MAX }))
                .collect();
            ends.sort_unstable();
            let ends: Vec<(Micros, bool)> = ends.iter().map(|e| (e * scale, false)).collect();
            let got = sweep(tickets.clone(), &ends);
            for (k, &(t, _)) in ends.iter().enumerate() {
                prop_assert_eq!(got[k], naive(&tickets, t));
            }
            let after: Vec<(Micros, bool)> = ends.iter().map(|&(t, _)| (t, true)).collect();
            let got = sweep(tickets.clone(), &after);
            for (k, &(t, _)) in after.iter().enumerate() {
                prop_assert_eq!(got[k], naive_after(&tickets, t));
            }
        }

        /// As in a report: period ends, then the as-of snapshot (after
        /// its events) for every later period.
        #[test]
        fn sweep_with_an_as_of_matches_the_definition(
            raw in proptest::collection::vec((0i64..400, 0i64..500, any::<bool>()), 0..80),
            mut ends in proptest::collection::vec(0i64..600, 1..10),
            as_of in 0i64..600,
        ) {
            let scale = 3_600_000_000;
            let tickets: Vec<(Micros, Micros)> = raw.iter()
                .map(|(c, s, solved)| (c * scale, if *solved { (*s).max(*c) * scale } else { Micros::MAX }))
                .collect();
            ends.sort_unstable();
            let ends: Vec<(Micros, bool)> = ends.iter()
                .map(|&e| if as_of < e { (as_of * scale, true) } else { (e * scale, false) })
                .collect();
            let got = sweep(tickets.clone(), &ends);
            for (k, &(t, after)) in ends.iter().enumerate() {
                let want = if after { naive_after(&tickets, t) } else { naive(&tickets, t) };
                prop_assert_eq!(got[k], want);
            }
        }
    }
}

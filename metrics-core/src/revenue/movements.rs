//! MRR movements, customer counts and the rates built on them, from a sort
//! and a sweep: nothing grows with accounts x periods.
//!
//! An account's MRR just before an instant t sums its lines with
//! `start_at < t <= end_at`, so a line's start or end at instant x changes
//! the MRR just before every period end after x: it belongs to the period
//! holding x. Each line therefore gives two events (`+mrr` at `start_at`,
//! `-mrr` at `end_at`), each event a period, found by binary search among
//! the period boundaries (local midnights, DST-correct). Events before the
//! first reported period fall in one bucket that only opens the balance;
//! events after the last are dropped. Sorting the events by account and
//! bucket and summing per account gives, for each period where an
//! account's MRR changes, its MRR before and after ([`Change`]); periods
//! without an event leave it unchanged and need no row. The per-period
//! totals are sums over those rows, and `mrr_start` / `mrr_end` of the
//! whole book are running sums of the net change over periods. Plain Rust
//! over four columns: polars' window expressions are slow with one group
//! per account.
//!
//! An account's MRR is floored at 0 and values within 1e-6 of 0 are 0 (the
//! residue of adding and removing the same amounts in f64), so an account
//! either is a customer (MRR > 0) or is not.

use std::cmp::Ordering;

use polars::prelude::*;

use super::RevenueContext;
use crate::error::PolarsContext;
use crate::parse::timestamp::Micros;
use crate::period::{PERIOD_START, date_to_days, day_start};
use crate::schema::subscriptions::{ACCOUNT_ID, END_AT, MRR, START_AT};
use crate::{Error, Result};

/// Output columns of the `revenue` table, in order (after `period_start`
/// and the dimensions).
pub const COLUMNS: [&str; 23] = [
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
    "clv_historic_mean",
    "clv_historic_median",
];

const EPSILON: f64 = 1e-6;

fn snap(x: f64) -> f64 {
    if x > EPSILON { x } else { 0.0 }
}

/// A period an account's MRR changes in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// Account index (see [`Changes::accounts`]).
    pub account: u32,
    /// Bucket: 0 = before the range, k + 1 = the range's k-th period.
    pub bucket: u32,
    /// MRR just before the period start (floored, snapped).
    pub before: f64,
    /// MRR just before the period end (floored, snapped).
    pub after: f64,
}

/// Every account's MRR changes, by account then bucket.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// The changes, sorted by account then bucket.
    pub rows: Vec<Change>,
    /// Per account: its group (index into `groups`).
    pub group_of: Vec<u32>,
    /// Per account: the bucket of its first line with `mrr > 0` (`None` =
    /// it never paid, or only after the range).
    pub first_paid: Vec<Option<u32>>,
    /// Per group: the dimension values, sorted (nulls last).
    pub groups: Vec<Vec<Option<String>>>,
    /// Account ids, by index.
    pub accounts: Vec<String>,
    /// Every line as (account, start, end, mrr), sorted by account.
    pub lines: Vec<(u32, Micros, Option<Micros>, f64)>,
}

/// The bucket of an instant: 0 before the first period, k + 1 in period k,
/// `None` after the last.
fn bucket(first_start: Micros, ends: &[Micros], t: Micros) -> Option<u32> {
    if t < first_start {
        return Some(0);
    }
    let k = ends.partition_point(|e| *e <= t);
    (k < ends.len()).then(|| u32::try_from(k + 1).unwrap_or(u32::MAX))
}

/// Group order: values ascending, null last, column by column.
fn cmp_groups(a: &[Option<String>], b: &[Option<String>]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// The per-account changes of `lines` (`account_id`, `start_at`,
/// `end_at`, `mrr` and the dimensions `cx.by`, one value per account: the
/// first line's).
pub fn account_changes(lines: &LazyFrame, cx: &RevenueContext) -> Result<Changes> {
    let first = cx.spine.starts.first().ok_or_else(|| {
        Error::from(crate::error::ErrorKind::Internal("computing revenue: the range has no periods".into()))
    })?;
    let first_start = day_start(*first, cx.tz);
    let ends = cx.spine.end_instants();
    let mut sel = vec![
        col(ACCOUNT_ID).cast(DataType::String),
        col(START_AT).cast(DataType::Int64),
        col(END_AT).cast(DataType::Int64),
        col(MRR).cast(DataType::Float64),
    ];
    sel.extend(cx.by.iter().map(|b| col(b.as_str()).cast(DataType::String)));
    let df = lines.clone().select(sel).collect().ctx("reading subscription lines")?;
    let ids = df.column(ACCOUNT_ID).ctx(ACCOUNT_ID)?.str().ctx(ACCOUNT_ID)?;
    let start = df.column(START_AT).ctx(START_AT)?.i64().ctx(START_AT)?;
    let end = df.column(END_AT).ctx(END_AT)?.i64().ctx(END_AT)?;
    let mrr = df.column(MRR).ctx(MRR)?.f64().ctx(MRR)?;
    let dims: Vec<&StringChunked> = cx.by.iter().map(|b| df.column(b).ctx(b)?.str().ctx(b)).collect::<Result<_>>()?;

    let Accounts { names: accounts, acc_of, group_of, groups } = account_index(ids, &dims, cx.per_line);
    // Events, then a sort by account and bucket.
    let mut events: Vec<(u32, u32, f64)> = Vec::with_capacity(2 * df.height());
    let mut first_paid: Vec<Option<u32>> = vec![None; accounts.len()];
    let mut line_refs = Vec::with_capacity(df.height());
    for (i, &a) in acc_of.iter().enumerate() {
        let (Some(s), Some(m)) = (start.get(i), mrr.get(i)) else { continue };
        line_refs.push((a, s, end.get(i), m));
        if let Some(b) = bucket(first_start, &ends, s) {
            events.push((a, b, m));
            if m > 0.0 {
                let fp = &mut first_paid[a as usize];
                *fp = Some(fp.map_or(b, |x| x.min(b)));
            }
        }
        if let Some(b) = end.get(i).and_then(|e| bucket(first_start, &ends, e)) {
            events.push((a, b, -m));
        }
    }
    line_refs.sort_unstable_by_key(|l| l.0);
    Ok(Changes { rows: changes(events), group_of, first_paid, groups, accounts, lines: line_refs })
}

/// Accounts as dense indices, with each account's group.
struct Accounts {
    /// The account keys, by index.
    names: Vec<String>,
    /// Each line's account index.
    acc_of: Vec<u32>,
    /// Each account's group index into `groups`.
    group_of: Vec<u32>,
    /// The distinct groups, sorted.
    groups: Vec<Vec<Option<String>>>,
}

/// Indexes the lines' accounts; each account's group is that of its first
/// line. With dimensions of the lines themselves (`per_line`), the key is
/// the account and its line's dimension values: each pair moves on its own.
fn account_index(ids: &StringChunked, dims: &[&StringChunked], per_line: bool) -> Accounts {
    let keys: Vec<std::borrow::Cow<'_, str>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let id = id.unwrap_or_default();
            if !per_line {
                return std::borrow::Cow::Borrowed(id);
            }
            let mut k = id.to_owned();
            for d in dims {
                k.push('\u{1f}');
                k.push_str(d.get(i).unwrap_or("\u{0}"));
            }
            std::borrow::Cow::Owned(k)
        })
        .collect();
    let mut index: PlHashMap<&str, u32> = PlHashMap::with_capacity(keys.len());
    let mut names: Vec<String> = Vec::new();
    let mut group_values: Vec<Vec<Option<String>>> = Vec::new();
    let mut acc_of = Vec::with_capacity(keys.len());
    for (i, id) in keys.iter().enumerate() {
        let next = u32::try_from(names.len()).unwrap_or(u32::MAX);
        let a = *index.entry(id.as_ref()).or_insert_with(|| {
            names.push(id.to_string());
            group_values.push(dims.iter().map(|d| d.get(i).map(str::to_owned)).collect());
            next
        });
        acc_of.push(a);
    }
    let mut groups: Vec<Vec<Option<String>>> = group_values.clone();
    groups.sort_by(|a, b| cmp_groups(a, b));
    groups.dedup();
    let group_of: Vec<u32> = group_values
        .iter()
        .map(|g| groups.binary_search_by(|x| cmp_groups(x, g)).map_or(0, |i| u32::try_from(i).unwrap_or(0)))
        .collect();
    Accounts { names, acc_of, group_of, groups }
}

/// Each account's MRR changes from its `(account, bucket, delta)` events:
/// sorted by account and bucket, summed per bucket, and a row kept where
/// the (snapped) MRR before and after differ.
fn changes(mut events: Vec<(u32, u32, f64)>) -> Vec<Change> {
    events.sort_unstable_by_key(|e| (e.0, e.1));
    let mut rows = Vec::with_capacity(events.len());
    let mut i = 0;
    while i < events.len() {
        let account = events[i].0;
        let mut raw = 0.0;
        while i < events.len() && events[i].0 == account {
            let b = events[i].1;
            let before = snap(raw);
            while i < events.len() && events[i].0 == account && events[i].1 == b {
                raw += events[i].2;
                i += 1;
            }
            let after = snap(raw);
            if after != before {
                rows.push(Change { account, bucket: b, before, after });
            }
        }
    }
    rows
}

/// The book (MRR, customers) at the end of each bucket, per group: running
/// sums of the flows over buckets.
fn running_books(flows: &[Flows], g: usize, k: usize) -> Vec<(f64, i64)> {
    let mut state = vec![(0.0f64, 0i64); g * (k + 1)];
    for gi in 0..g {
        let (mut m, mut c) = (0.0, 0i64);
        for b in 0..=k {
            let f = &flows[gi * (k + 1) + b];
            m += f.net;
            c += f.customers;
            state[gi * (k + 1) + b] = (m, c);
        }
    }
    state
}

impl Flows {
    /// Adds one account change: from 0 to paid is new (reactivation if the
    /// account paid before), to 0 churn, up expansion, down contraction
    /// (`metrics.md`, "MRR movements").
    fn add(&mut self, c: &Change, paid_before: bool) {
        let (cs, ce) = (c.before > 0.0, c.after > 0.0);
        match (cs, ce) {
            (false, true) if paid_before => {
                self.reactivation += c.after;
                self.react_c += 1;
            }
            (false, true) => {
                self.new += c.after;
                self.new_c += 1;
            }
            (true, false) => {
                self.churned += c.before;
                self.churn_c += 1;
            }
            (true, true) if c.after > c.before => self.expansion += c.after - c.before,
            (true, true) => self.contraction += c.before - c.after,
            (false, false) => {}
        }
        self.net += c.after - c.before;
        self.customers += i64::from(ce) - i64::from(cs);
    }

    /// The period's rates from its flows and its books at start and end,
    /// in output order: `logo_churn_rate`, `retention_rate`,
    /// `gross_mrr_churn_rate`, `net_mrr_churn_rate`, `nrr`, `grr`, `arpa`
    /// (null over an empty book).
    fn rates(&self, (start_m, start_c): (f64, i64), (end_m, end_c): (f64, i64)) -> [Option<f64>; 7] {
        let (sc, ec) = (start_c as f64, end_c as f64);
        [
            ratio(f64::from(self.churn_c), sc),
            ratio(ec - f64::from(self.new_c) - f64::from(self.react_c), sc),
            ratio(self.churned + self.contraction, start_m),
            ratio(self.churned + self.contraction - self.expansion - self.reactivation, start_m),
            ratio(start_m + self.expansion - self.contraction - self.churned, start_m),
            ratio(start_m - self.contraction - self.churned, start_m),
            ratio(end_m, ec),
        ]
    }
}

/// Per group and bucket sums of one period's movements.
#[derive(Debug, Clone, Copy, Default)]
struct Flows {
    new: f64,
    expansion: f64,
    contraction: f64,
    churned: f64,
    reactivation: f64,
    net: f64,
    new_c: u32,
    react_c: u32,
    churn_c: u32,
    customers: i64,
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

/// The `revenue` table's movement, customer and rate columns (all of
/// [`COLUMNS`] up to `arpa`): one row per reported period and group, sorted
/// by `period_start` then the dimensions (nulls last).
///
/// Movements (per account, net over the period; sums over accounts):
/// `new_mrr` = MRR after when it was 0 before and the account never paid
/// before the period; `reactivation_mrr` the same for an account that paid
/// before; `churned_mrr` = MRR before when it is 0 after; `expansion_mrr` /
/// `contraction_mrr` = the rise / fall of an account with MRR on both sides;
/// `net_new_mrr` = new + reactivation + expansion - contraction - churned.
/// Money is per month in the reporting currency; counts are accounts.
/// Rates are null when their denominator is 0 (docs/metrics.md, "Common rules"):
/// `logo_churn_rate = churned_customers / customers_start`,
/// `retention_rate = (customers_end - new - reactivated) / customers_start`,
/// `gross_mrr_churn_rate = (churned + contraction) / mrr_start`,
/// `net_mrr_churn_rate = (churned + contraction - expansion - reactivation) / mrr_start`,
/// `nrr = (mrr_start + expansion - contraction - churned) / mrr_start`,
/// `grr = (mrr_start - contraction - churned) / mrr_start`,
/// `arpa = mrr_end / customers_end`.
pub fn revenue_table(ch: &Changes, cx: &RevenueContext) -> Result<DataFrame> {
    let k = cx.spine.starts.len();
    let g = ch.groups.len();
    let mut flows = vec![Flows::default(); g * (k + 1)];
    for c in &ch.rows {
        let paid_before = ch.first_paid[c.account as usize].is_some_and(|p| p < c.bucket);
        flows[ch.group_of[c.account as usize] as usize * (k + 1) + c.bucket as usize].add(c, paid_before);
    }
    let state = running_books(&flows, g, k);
    let n = k * g;
    let mut dates = Vec::with_capacity(n);
    let mut dims: Vec<Vec<Option<&str>>> = (0..cx.by.len()).map(|_| Vec::with_capacity(n)).collect();
    let mut money: Vec<Vec<f64>> = (0..8).map(|_| Vec::with_capacity(n)).collect();
    let mut counts: Vec<Vec<u32>> = (0..5).map(|_| Vec::with_capacity(n)).collect();
    let mut rates: Vec<Vec<Option<f64>>> = (0..7).map(|_| Vec::with_capacity(n)).collect();
    for (p, start) in cx.spine.starts.iter().enumerate() {
        let b = p + 1;
        for gi in 0..g {
            let f = flows[gi * (k + 1) + b];
            // Running sums of f64 leave residues: a book total within 1e-6
            // of 0 is 0, so a rate over an empty book is null, not 1.
            let book = |(m, c): (f64, i64)| (if m.abs() < EPSILON { 0.0 } else { m }, c);
            let (end_m, end_c) = book(state[gi * (k + 1) + b]);
            let (start_m, start_c) = book(state[gi * (k + 1) + b - 1]);
            dates.push(date_to_days(*start));
            for (d, v) in dims.iter_mut().zip(&ch.groups[gi]) {
                d.push(v.as_deref());
            }
            for (col, v) in money.iter_mut().zip([
                start_m,
                end_m,
                f.new,
                f.expansion,
                f.contraction,
                f.churned,
                f.reactivation,
                f.net,
            ]) {
                col.push(v);
            }
            let cust = |x: i64| u32::try_from(x.max(0)).unwrap_or(u32::MAX);
            for (col, v) in counts.iter_mut().zip([cust(start_c), cust(end_c), f.new_c, f.react_c, f.churn_c]) {
                col.push(v);
            }
            for (col, v) in rates.iter_mut().zip(f.rates((start_m, start_c), (end_m, end_c))) {
                col.push(v);
            }
        }
    }
    let mut columns = vec![Int32Chunked::from_vec(PERIOD_START.into(), dates).into_date().into_column()];
    for (b, v) in cx.by.iter().zip(dims) {
        columns.push(StringChunked::from_iter_options(b.as_str().into(), v.into_iter()).into_column());
    }
    for (name, v) in COLUMNS[..8].iter().zip(money) {
        columns.push(Float64Chunked::from_vec((*name).into(), v).into_column());
    }
    for (name, v) in COLUMNS[8..13].iter().zip(counts) {
        columns.push(UInt32Chunked::from_vec((*name).into(), v).into_column());
    }
    for (name, v) in COLUMNS[13..20].iter().zip(rates) {
        columns.push(Float64Chunked::from_iter_options((*name).into(), v.into_iter()).into_column());
    }
    DataFrame::new_infer_height(columns).ctx("revenue table")
}

//! Support metrics from a one-row-per-ticket export.
//!
//! Each metric is a plan builder: it takes the staged [`Tickets`] and a
//! [`SupportContext`] and returns a [`Metric`], lazy frames keyed by
//! `period_start` and the `--by` dimensions that the report joins onto its
//! spine of periods. Backlog is the exception: a sorted sweep in plain Rust
//! (see [`backlog`]), because an expression would explode tickets x periods.

pub mod backlog;
pub mod business;
pub mod csat;
pub mod options;
pub mod quantiles;
pub mod rates;
pub mod resolution;
pub mod response;
pub mod sla;
pub mod tickets;
pub mod volume;

use std::collections::BTreeMap;

use chrono_tz::Tz;
use polars::prelude::*;

pub use options::{CsatScale, DurationSource, FcrRule, Rating, SupportOptions};
pub use tickets::{TicketReadOptions, Tickets};

use crate::error::PolarsContext;
use crate::parse::timestamp::Micros;
use crate::period::{PERIOD_START, Period, Spine};
use crate::schema::tickets::{CREATED_AT, CSAT, CSAT_AT, SOLVED_AT};

/// What every support plan builder needs besides the tickets.
#[derive(Debug, Clone)]
pub struct SupportContext {
    /// Period length.
    pub period: Period,
    /// Report time zone.
    pub tz: Tz,
    /// Dimensions, in output order (columns of the staged tickets).
    pub by: Vec<String>,
    /// The reported periods.
    pub spine: Spine,
    /// The instant treated as now.
    pub as_of: Micros,
    /// Metric options.
    pub options: SupportOptions,
}

/// One piece of a metric's plan.
#[derive(Clone)]
#[non_exhaustive]
pub enum Part {
    /// Aggregations over the tickets grouped by one attribution period
    /// column ([`P_CREATED`], [`P_SOLVED`], [`P_RATED`]) and the dimensions,
    /// then expressions over the aggregates. The report runs every grouped
    /// part of one period column as a single group-by, so their aggregate
    /// names are unique across metrics.
    Grouped {
        /// The staged period column the rows are attributed by.
        period: &'static str,
        /// Aggregations, each aliased.
        aggs: Vec<Expr>,
        /// Expressions over the aggregates (rates), each aliased.
        post: Vec<Expr>,
    },
    /// A computed frame keyed by `period_start` and the dimensions.
    Frame(Box<LazyFrame>),
    /// The backlog at each period's end, by the sorted sweep of
    /// [`backlog::backlog`], run when the table is assembled (beside the
    /// quantile parts, one per core).
    Backlog,
    /// The count, mean and quantiles of a value over the tickets attributed
    /// to each period by one period column, computed group by group in row
    /// order ([`quantiles`]): the same numbers on every run, whatever the
    /// threads do.
    Quantiles {
        /// The staged period column the rows are attributed by.
        period: &'static str,
        /// The value (null = left out of the sample).
        value: Expr,
        /// The output column of the sample's size.
        count: String,
        /// The output column of the sample's mean.
        mean: String,
        /// Output columns and their quantiles.
        quantiles: Vec<(String, f64)>,
    },
}

impl Part {
    /// Adds an expression over the aggregates (a grouped part only).
    #[must_use]
    pub fn with_column(mut self, e: Expr) -> Self {
        if let Part::Grouped { post, .. } = &mut self {
            post.push(e);
        }
        self
    }
}

/// A metric's plan: parts keyed by `period_start` and the dimensions, and
/// its output columns in order.
#[derive(Clone)]
pub struct Metric {
    /// The parts; each yields the keys and some of `columns`, with rows
    /// only for the periods and groups that have data.
    pub parts: Vec<Part>,
    /// Output columns, in the order of `metrics.md`.
    pub columns: Vec<String>,
    /// Columns that are event counts: 0, not null, in a period without data.
    pub counts: Vec<String>,
}

impl std::fmt::Debug for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metric").field("parts", &self.parts.len()).field("columns", &self.columns).finish()
    }
}

/// A metric left out because an input column is absent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// The metric.
    pub metric: String,
    /// The canonical column it needs.
    pub missing_column: String,
}

/// A plan, or the reason the metric cannot be computed from these tickets.
pub type Planned = std::result::Result<Metric, Skipped>;

pub(crate) fn skipped(metric: &str, column: &str) -> Skipped {
    Skipped { metric: metric.to_owned(), missing_column: column.to_owned() }
}

/// The key expressions: `period_start` then the dimensions.
/// Dimension values are grouped as text, whatever their column's type.
pub(crate) fn keys(cx: &SupportContext) -> Vec<Expr> {
    std::iter::once(col(PERIOD_START))
        .chain(cx.by.iter().map(|b| col(b.as_str()).cast(DataType::String).alias(b.as_str())))
        .collect()
}

/// Staged column: the period of `created_at` (see [`add_periods`]).
pub const P_CREATED: &str = "__period_created";
/// Staged column: the period of `solved_at`.
pub const P_SOLVED: &str = "__period_solved";
/// Staged column: the period of `csat_at`, else of `solved_at`.
pub const P_RATED: &str = "__period_rated";

/// Adds the period (local date of the period start, `Date`; null outside
/// the spine) of every instant a metric is attributed to, computed once for
/// all metrics ([`Spine::bucket_instants`], one thread per column):
/// [`P_CREATED`], and [`P_SOLVED`] / [`P_RATED`] when their instants are
/// present.
pub fn add_periods(t: &mut Tickets, spine: &Spine) -> crate::Result<()> {
    let instants = |name| instant_column(t, name);
    let (created, solved, csat_at) = (instants(CREATED_AT)?, instants(SOLVED_AT)?, instants(CSAT_AT)?);
    let bucket = |name: &str, at: &Int64Chunked, fallback: Option<&Int64Chunked>| {
        spine.bucket_column(name, at, fallback).into_series().into_column()
    };
    let columns: Vec<Column> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        if let Some(c) = &created {
            handles.push(s.spawn(move || bucket(P_CREATED, c, None)));
        }
        if let Some(c) = &solved {
            handles.push(s.spawn(move || bucket(P_SOLVED, c, None)));
        }
        // The rating's instant, else the solve's.
        let rated = match (&csat_at, &solved) {
            (Some(r), so) => Some((r, so.as_ref())),
            (None, Some(so)) => Some((so, None)),
            (None, None) => None,
        };
        if let Some((at, fallback)) = rated.filter(|_| t.has(CSAT)) {
            handles.push(s.spawn(move || bucket(P_RATED, at, fallback)));
        }
        handles.into_iter().map(|h| h.join()).collect::<std::result::Result<Vec<_>, _>>()
    })
    .map_err(|_| crate::Error::from(crate::error::ErrorKind::Internal("assigning periods".into())))?;
    for c in columns {
        t.df.with_column(c).ctx("assigning periods")?;
    }
    Ok(())
}

/// A timestamp column of the tickets as epoch microseconds (`Int64`, the
/// same buffer), when the export has it.
pub(crate) fn instant_column(t: &Tickets, name: &str) -> crate::Result<Option<Int64Chunked>> {
    if !t.has(name) {
        return Ok(None);
    }
    let c = t.df.column(name).ctx(name)?.cast(&DataType::Int64).ctx(name)?;
    Ok(Some(c.i64().ctx(name)?.clone()))
}

/// A grouped part: `aggs` over the tickets attributed to the period in
/// `period_col` (rows where it is null are left out), by period and
/// dimensions.
pub(crate) fn grouped(period_col: &'static str, aggs: Vec<Expr>) -> Part {
    Part::Grouped { period: period_col, aggs, post: Vec::new() }
}

/// The merged group-by of every grouped part attributed by `period_col`.
/// Rows without that period fall in a null group, dropped after the
/// aggregation: no filtered copy of the columns is made.
pub(crate) fn group_by_period(t: &Tickets, cx: &SupportContext, period_col: &str, aggs: Vec<Expr>) -> LazyFrame {
    t.df.clone()
        .lazy()
        .with_column(col(period_col).alias(PERIOD_START))
        .group_by(keys(cx))
        .agg(aggs)
        .filter(col(PERIOD_START).is_not_null())
}

/// `end - start` in `unit_micros` units as f64; null when either end is
/// missing or the duration is negative (docs/data-contract.md, "Timestamps": microseconds divided,
/// never rounded).
pub(crate) fn duration(start: &str, end: &str, unit_micros: f64) -> Expr {
    let d = col(end).cast(DataType::Int64) - col(start).cast(DataType::Int64);
    when(d.clone().gt_eq(lit(0i64)))
        .then(d.cast(DataType::Float64) / lit(unit_micros))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// `num / den` as f64, null when `den` is 0 (docs/metrics.md, "Common rules").
pub(crate) fn ratio(num: Expr, den: Expr) -> Expr {
    when(den.clone().gt(lit(0)))
        .then(num.cast(DataType::Float64) / den.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// A count of true values as an integer column.
pub(crate) fn count_true(e: Expr) -> Expr {
    e.fill_null(lit(false)).cast(DataType::UInt32).sum()
}

/// The name part of a percentile: 95 -> `p95`, 99.9 -> `p99_9`.
pub fn percentile_name(p: f64) -> String {
    let s = format!("{p}");
    format!("p{}", s.replace('.', "_"))
}

/// The default output columns of one duration metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationColumns {
    /// `<prefix>`, for extra percentiles (`frt_p95_minutes`).
    pub prefix: &'static str,
    /// `<unit>`: `minutes` or `hours`.
    pub unit: &'static str,
    /// Durations in the sample.
    pub count: &'static str,
    /// Their mean.
    pub mean: &'static str,
    /// Their median (linear interpolation).
    pub median: &'static str,
    /// Their 90th percentile (linear interpolation).
    pub p90: &'static str,
}

/// First response time, minutes (`metrics.md`, "First response time").
pub const FRT: DurationColumns = DurationColumns {
    prefix: "frt",
    unit: "minutes",
    count: "frt_count",
    mean: "frt_mean_minutes",
    median: "frt_median_minutes",
    p90: "frt_p90_minutes",
};

/// Full resolution time, hours (`metrics.md`, "Resolution time (full)").
pub const RESOLUTION: DurationColumns = DurationColumns {
    prefix: "resolution",
    unit: "hours",
    count: "resolution_count",
    mean: "resolution_mean_hours",
    median: "resolution_median_hours",
    p90: "resolution_p90_hours",
};

/// First resolution time, hours (`metrics.md`, "First resolution time").
pub const FIRST_RESOLUTION: DurationColumns = DurationColumns {
    prefix: "first_resolution",
    unit: "hours",
    count: "first_resolution_count",
    mean: "first_resolution_mean_hours",
    median: "first_resolution_median_hours",
    p90: "first_resolution_p90_hours",
};

/// Statistics of a duration column `d` (null = excluded), attributed by
/// `period`: count, mean, each extra percentile (`<prefix>_p<N>_<unit>`),
/// median, p90, named by `cols`, computed group by group in row order
/// ([`quantiles`]; `aggs`, if any, join the period's group-by); the mean is
/// a compensated sum over the count, the quantiles interpolate
/// linearly between closest ranks (numpy's default, DuckDB
/// `quantile_cont`) and are computed by selection ([`quantiles`]); empty
/// samples give null. Returns the parts and the column names in order.
pub(crate) fn duration_parts(
    period: &'static str,
    d: Expr,
    cols: &DurationColumns,
    extra: &[f64],
    aggs: Vec<Expr>,
) -> (Vec<Part>, Vec<String>) {
    let mut names = vec![cols.count.to_owned(), cols.mean.to_owned()];
    let mut quantiles = Vec::new();
    for &p in extra.iter().filter(|p| **p != 50.0 && **p != 90.0) {
        quantiles.push((format!("{}_{}_{}", cols.prefix, percentile_name(p), cols.unit), p / 100.0));
    }
    quantiles.push((cols.median.to_owned(), 0.5));
    quantiles.push((cols.p90.to_owned(), 0.9));
    names.extend(quantiles.iter().map(|(n, _)| n.clone()));
    let sample = Part::Quantiles { period, value: d, count: cols.count.into(), mean: cols.mean.into(), quantiles };
    let mut parts = vec![sample];
    if !aggs.is_empty() {
        parts.push(grouped(period, aggs));
    }
    (parts, names)
}

/// `timestamps`, `vendor` or `none`: the mapped source, `prefer`'s when
/// both are mapped.
fn pick_source(timestamps: bool, vendor: bool, prefer: DurationSource) -> &'static str {
    match (timestamps, vendor, prefer) {
        (true, true, DurationSource::Vendor) | (false, true, _) => "vendor",
        (true, _, _) => "timestamps",
        (false, false, _) => "none",
    }
}

/// Notes for meta when an export has both sources of a duration metric:
/// which one was used and how to choose the other.
pub fn duration_notes(t: &Tickets, prefer: DurationSource) -> Vec<String> {
    use crate::schema::tickets::{FIRST_RESPONSE_AT, FIRST_RESPONSE_MINUTES, RESOLUTION_MINUTES};
    let mut notes = Vec::new();
    for (metric, ts, vendor) in [
        ("first response time", FIRST_RESPONSE_AT, FIRST_RESPONSE_MINUTES),
        ("resolution time", SOLVED_AT, RESOLUTION_MINUTES),
    ] {
        if t.has(ts) && t.has(vendor) {
            let (used, other) = match prefer {
                DurationSource::Vendor => (format!("the export's `{vendor}`"), "timestamps"),
                DurationSource::Timestamps => (format!("`{ts}` - `created_at`"), "vendor"),
            };
            notes.push(format!(
                "{metric}: both `{ts}` and `{vendor}` are mapped; used {used} ([support] durations = \"{other}\" uses the other)"
            ));
        }
    }
    notes
}

/// Joins every metric's parts onto the spine of periods x dimension values,
/// fills event counts with 0, orders rows and columns, and collects once.
pub(crate) fn assemble(t: &Tickets, cx: &SupportContext, metrics: &[Metric]) -> crate::Result<DataFrame> {
    let key_names: Vec<String> = std::iter::once(PERIOD_START.to_owned()).chain(cx.by.iter().cloned()).collect();
    let keys: Vec<Expr> = key_names.iter().map(|k| col(k.as_str())).collect();
    let mut frame = cx.spine.grid(&t.df, &cx.by);
    let args = JoinArgs { nulls_equal: true, ..JoinArgs::new(JoinType::Left) };
    // The sample and sweep parts, one group-by per attribution period for
    // every grouped part, and the computed frames: each a job, each result
    // joined onto the spine.
    let mut by_period: BTreeMap<&str, (Vec<Expr>, Vec<Expr>)> = BTreeMap::new();
    let mut jobs: Vec<Job<'_>> = Vec::new();
    let mut frames: Vec<LazyFrame> = Vec::new();
    for part in metrics.iter().flat_map(|m| &m.parts) {
        match part {
            Part::Grouped { period, aggs, post } => {
                let e = by_period.entry(period).or_default();
                e.0.extend(aggs.iter().cloned());
                e.1.extend(post.iter().cloned());
            }
            Part::Frame(f) => frames.push((**f).clone()),
            Part::Quantiles { .. } | Part::Backlog => jobs.push(Job::Computed(part)),
        }
    }
    for (period, (aggs, post)) in by_period {
        jobs.push(Job::Grouped(Box::new(group_by_period(t, cx, period, aggs).with_columns(post))));
    }
    jobs.extend(frames.into_iter().map(|f| Job::Grouped(Box::new(f))));
    let wanted: Vec<&str> = metrics.iter().flat_map(|m| &m.columns).map(String::as_str).collect();
    for part in run_jobs(t, cx, jobs, &keys, &wanted) {
        frame = frame.join(part?.lazy(), keys.clone(), keys.clone(), args.clone());
    }
    let schema = frame.collect_schema().ctx("planning support")?;
    let mut out_cols = keys.clone();
    for m in metrics {
        for c in &m.columns {
            let is_count = m.counts.contains(c);
            let e = match (schema.contains(c), is_count) {
                (true, true) => col(c.as_str()).fill_null(lit(0u32)),
                (true, false) => col(c.as_str()),
                (false, true) => lit(0u32).alias(c.as_str()),
                (false, false) => lit(NULL).cast(DataType::Float64).alias(c.as_str()),
            };
            out_cols.push(e);
        }
    }
    crate::period::sorted_by_keys(frame.select(out_cols), &cx.by).collect().ctx("computing support metrics")
}

/// One piece of the support table, computed on its own.
enum Job<'a> {
    /// A sample or sweep part ([`Part::Quantiles`], [`Part::Backlog`]): a
    /// pass in plain Rust over full-height columns, mostly on one thread.
    Computed(&'a Part),
    /// A lazy frame: a period's group-by, or a computed frame.
    Grouped(Box<LazyFrame>),
}

/// The frames of `jobs`, in order, each keeping the `keys` and the `wanted`
/// columns it has. The jobs run side by side, as many at a time as there
/// are cores, so one job's single-threaded pass runs beside another's; at
/// most one sample at a time, for memory. A group-by runs in polars'
/// streaming engine: morsel by morsel, so no full-height intermediate (a
/// duration, a flag cast to a count) is ever materialised. Its
/// aggregations are integer counts and sums, whose result does not depend
/// on the order the morsels arrive in; float means come from the sample
/// kernel ([`Part::Quantiles`]), in row order.
fn run_jobs(
    t: &Tickets,
    cx: &SupportContext,
    jobs: Vec<Job<'_>>,
    keys: &[Expr],
    wanted: &[&str],
) -> Vec<crate::Result<DataFrame>> {
    let keep = |mut f: LazyFrame| -> crate::Result<LazyFrame> {
        let schema = f.collect_schema().ctx("planning support")?;
        let mut sel = keys.to_vec();
        sel.extend(wanted.iter().filter(|c| schema.contains(c)).map(|c| col(*c)));
        Ok(f.select(sel))
    };
    let one = |job: Job<'_>| -> crate::Result<DataFrame> {
        let lazy = match job {
            Job::Computed(Part::Quantiles { period, value, count, mean, quantiles }) => {
                let names = quantiles::Names { count, mean, quantiles };
                quantiles::frame(t, cx, period, value.clone(), &names)?.lazy()
            }
            Job::Computed(Part::Backlog) => backlog::frame(t, cx)?.lazy(),
            Job::Computed(_) => {
                return Err(crate::Error::from(crate::error::ErrorKind::Internal("not a computed part".into())));
            }
            Job::Grouped(f) => *f,
        };
        keep(lazy)?.collect_with_engine(Engine::Streaming).map(|r| r.unwrap_single()).ctx("computing support metrics")
    };
    // The samples hold a full-height layout each: one thread runs them in
    // turn (then helps with the rest), the others the light jobs, so that
    // memory holds one layout at a time.
    let count = jobs.len();
    let (heavy, light): (Vec<_>, Vec<_>) =
        jobs.into_iter().enumerate().partition(|(_, j)| matches!(j, Job::Computed(Part::Quantiles { .. })));
    let (heavy, light) = (std::sync::Mutex::new(heavy.into_iter()), std::sync::Mutex::new(light.into_iter()));
    let done: std::sync::Mutex<Vec<(usize, crate::Result<DataFrame>)>> = std::sync::Mutex::new(Vec::new());
    let failed = || Err(crate::Error::from(crate::error::ErrorKind::Internal("computing support metrics".into())));
    std::thread::scope(|s| {
        for worker in 0..crate::cores().min(count) {
            let (heavy, light, done) = (&heavy, &light, &done);
            s.spawn(move || {
                loop {
                    let next = if worker == 0 { pop(heavy).or_else(|| pop(light)) } else { pop(light) };
                    let Some((i, job)) = next else { return };
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| one(job)))
                        .unwrap_or_else(|_| failed());
                    done.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((i, r));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// The next item of a shared queue.
fn pop<T>(q: &std::sync::Mutex<std::vec::IntoIter<T>>) -> Option<T> {
    q.lock().unwrap_or_else(std::sync::PoisonError::into_inner).next()
}

/// The support table with what a report's meta records of it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Computed {
    /// The `support` table.
    pub table: DataFrame,
    /// The rules used (`fcr`, `escalation`, `frt_source`, ...).
    pub rules: Rules,
    /// Metrics left out, with the column they need.
    pub skipped: Vec<Skipped>,
}

/// The periods the support table covers: from `since` (else the period of
/// the first `created_at`) to `until` (else the period holding as-of).
pub fn spine(t: &Tickets, o: &SupportOptions) -> crate::Result<Spine> {
    let w = &o.window;
    let first = w.since.or_else(|| t.first_created().map(|c| crate::period::local_date(c, w.tz)));
    let last = w.until.unwrap_or_else(|| crate::period::local_date(t.as_of, w.tz));
    Spine::checked("support", w.period, w.tz, first.unwrap_or(last), last, w.week_start)
}

/// The `support` table: one row per period of [`spine`] and combination
/// of the `by` dimensions (every period present; counts 0 and statistics
/// null where nothing happened), the columns of `metrics.md` in order:
/// volume, FRT (minutes), resolution and first resolution (hours), FCR,
/// escalation, reopens, backlog and CSAT. Options are checked here
/// ([`SupportOptions::validated`]); a `by` name that is not a column of the
/// tickets is an error.
///
/// ```
/// use metrics_core::mapping::TableInput;
/// use metrics_core::polars::prelude::*;
/// use metrics_core::support::{self, SupportOptions, TicketReadOptions, Tickets};
/// let df = df!(
///     "ticket_id" => ["1", "2", "3"],
///     "created_at" => ["2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z", "2026-03-09T09:00:00Z"],
///     "first_response_at" => [Some("2026-03-02T09:30:00Z"), None, Some("2026-03-09T10:00:00Z")],
/// )?;
/// let tickets = Tickets::from_frame(df, &TableInput::default(), &TicketReadOptions::default())?;
/// let table = support::table(&tickets, &SupportOptions::default())?;
/// assert_eq!(table.column("tickets_created")?.u32()?.to_vec(), [Some(2), Some(1)]);
/// assert_eq!(table.column("frt_mean_minutes")?.f64()?.to_vec(), [Some(30.0), Some(60.0)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn table(t: &Tickets, o: &SupportOptions) -> crate::Result<DataFrame> {
    Ok(compute(t, o)?.table)
}

/// [`table`] with the rules used and the metrics skipped.
pub fn compute(t: &Tickets, o: &SupportOptions) -> crate::Result<Computed> {
    compute_owned(t.clone(), o)
}

/// [`compute`] on tickets the caller no longer needs: a column no metric
/// reads once the periods are assigned (`csat_at`) is released before
/// the metrics run, so the report's peak memory does not hold it.
pub fn compute_owned(mut t: Tickets, o: &SupportOptions) -> crate::Result<Computed> {
    let o = o.validated()?;
    if let Some(b) = o.by.iter().find(|b| t.df.column(b.as_str()).is_err()) {
        return Err(crate::Error::from(crate::error::ErrorKind::UnknownDimension {
            name: b.clone(),
            tables: "tickets".into(),
        }));
    }
    let spine = spine(&t, &o)?;
    add_periods(&mut t, &spine)?;
    if let Some(c) = &o.calendar {
        business::add_business(&mut t, c)?;
    }
    if let Some(sla) = &o.escalation_sla {
        sla::add_outcomes(&mut t, sla)?;
    }
    // The rating's instant lives on in its period column.
    let _ = t.df.drop_in_place(CSAT_AT);
    let (period, tz) = (o.window.period, o.window.tz);
    let cx = SupportContext { period, tz, by: o.by.clone(), spine, as_of: t.as_of, options: o };
    let (planned, rules) = plan_all(&t, &cx)?;
    let (mut metrics, mut skipped) = (Vec::new(), Vec::new());
    for p in planned {
        match p {
            Ok(m) => metrics.push(m),
            Err(s) => skipped.push(s),
        }
    }
    let table = assemble(&t, &cx, &metrics)?;
    Ok(Computed { table, rules, skipped })
}

/// The rules a report used, as (name, value) pairs for meta.
pub type Rules = Vec<(String, String)>;

/// Every support metric, in output order, with the rules used.
pub fn plan_all(t: &Tickets, cx: &SupportContext) -> crate::Result<(Vec<Planned>, Rules)> {
    let mut rules = Vec::new();
    let frt = response::first_response_time(t, cx);
    let prefer = cx.options.durations;
    rules.push(("frt_source".to_owned(), response::source(t, prefer).to_owned()));
    rules.push(("resolution_source".to_owned(), resolution::source(t, prefer).to_owned()));
    rules.push(("fcr".to_owned(), cx.options.fcr.name().to_owned()));
    rules.push((
        "escalation".to_owned(),
        rates::escalation_rule(t, &cx.options).map_or_else(|| "none".to_owned(), |r| r.describe()),
    ));
    rules.push(("backlog_mode".to_owned(), "tickets (approximate for reopened tickets)".to_owned()));
    rules.push(("csat_scale".to_owned(), cx.options.csat.describe()));
    rules.push(("quantiles".to_owned(), "linear interpolation between closest ranks".to_owned()));
    if let Some(c) = &cx.options.calendar {
        rules.push(("calendar".to_owned(), c.describe()));
    }
    let solved = if t.has(SOLVED_AT) { None } else { Some(Err(skipped("tickets_solved", SOLVED_AT))) };
    let with_calendar = cx.options.calendar.is_some();
    let twin = |f: fn(&Tickets, &SupportContext) -> Planned| with_calendar.then(|| f(t, cx));
    let planned = [
        Some(Ok(volume::volume(t))),
        Some(frt),
        twin(business::frt_business),
        Some(resolution::resolution_time(t, cx)),
        twin(business::resolution_business),
        Some(resolution::first_resolution_time(t, cx)),
        twin(business::first_resolution_business),
    ]
    .into_iter()
    .flatten()
    .chain([rates::fcr(t, cx), rates::escalation(t, cx), rates::reopens(t), backlog::backlog(), csat::csat(t)]);
    Ok((solved.into_iter().chain(planned).collect(), rules))
}

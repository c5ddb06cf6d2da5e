//! The staged `tickets` table: typed canonical columns, one row per usable
//! ticket, and the data-quality findings of reading it.

use std::collections::{BTreeSet, HashMap};

use chrono_tz::Tz;
use polars::prelude::*;

use super::options::{CsatScale, Rating};
use crate::error::PolarsContext;
use crate::mapping::TableInput;
use crate::parse::timestamp::Micros;
use crate::quality::{Collector, QualityRow, Reason};
use crate::raw::{Parsed, RawTable, Values, expected};
use crate::schema::{ColumnDef, Kind, TICKETS, tickets::*};
use crate::source::Source;
use crate::{Error, Result};

/// How to stage tickets.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TicketReadOptions {
    /// Zone of naive timestamps.
    pub input_tz: Tz,
    /// Rating scale.
    pub csat: CsatScale,
    /// An explicit as-of (snapshot); `None` = the latest timestamp.
    pub as_of: Option<Micros>,
    /// Columns to keep as dimensions (canonical or source names).
    pub dims: Vec<String>,
    /// Whether `tags` is needed (the escalation tag rule).
    pub tags: bool,
    /// Durations longer than this (microseconds) are counted as
    /// `implausible_duration` warnings (`[support] max_duration_days`,
    /// 365 days by default); they stay in the statistics.
    pub max_duration: Micros,
}

impl Default for TicketReadOptions {
    fn default() -> Self {
        Self {
            input_tz: Tz::UTC,
            csat: CsatScale::default(),
            as_of: None,
            dims: Vec::new(),
            tags: false,
            max_duration: DEFAULT_MAX_DURATION,
        }
    }
}

impl TicketReadOptions {
    /// Keeps these columns as dimensions (for `by`).
    #[must_use]
    pub fn with_dims<S: Into<String>>(mut self, dims: impl IntoIterator<Item = S>) -> Self {
        self.dims = dims.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the zone of naive timestamps.
    #[must_use]
    pub fn with_input_tz(mut self, tz: Tz) -> Self {
        self.input_tz = tz;
        self
    }
}

/// The default `max_duration`: a year.
pub const DEFAULT_MAX_DURATION: Micros = 365 * 86_400_000_000;

/// Staged tickets, ready for the metric plan builders.
#[derive(Debug, Clone)]
pub struct Tickets {
    /// One row per usable ticket. `ticket_id` is `Int64` when the source
    /// column is an integer column, text otherwise. Timestamps are `Datetime(us, UTC)`, counts
    /// `Int64`, flags `Boolean`, `csat_satisfied` `Boolean` (null = no
    /// usable rating), vendor durations `Float64` minutes, dimensions text.
    /// Canonical columns that were not mapped are absent.
    pub df: DataFrame,
    /// Canonical columns present.
    pub present: BTreeSet<&'static str>,
    /// Extra source columns kept as dimensions.
    pub extra_dims: Vec<String>,
    /// The files read.
    pub source: Source,
    /// Rows read from the files.
    pub rows_read: usize,
    /// The as-of instant: the explicit one, or the latest `created_at`,
    /// `first_response_at`, `solved_at` or `csat_at` of rows with a valid
    /// `created_at` (docs/data-contract.md, "as_of").
    pub as_of: Micros,
    /// What set `as_of`: `--as-of`, or the column whose latest value it is.
    pub as_of_source: &'static str,
    /// Findings, by reason then column.
    pub quality: Vec<QualityRow>,
}

impl Tickets {
    /// Whether a canonical column is present.
    pub fn has(&self, name: &str) -> bool {
        self.present.contains(name)
    }

    /// Rows used by the metrics.
    pub fn rows_used(&self) -> usize {
        self.df.height()
    }

    /// The earliest `created_at`, if any row is usable.
    pub fn first_created(&self) -> Option<Micros> {
        let c = self.df.column(CREATED_AT).ok()?.cast(&DataType::Int64).ok()?;
        c.i64().ok()?.min()
    }

    /// Reads and stages the tickets from files (a path, glob or directory).
    pub fn from_path(input: &TableInput, o: &TicketReadOptions) -> Result<Self> {
        Self::stage(None, input, o)
    }

    /// Stages the tickets from an in-memory frame, with the same mapping
    /// (`input.columns`, preset), conversions and data-quality accounting
    /// as [`Self::from_path`]; `input.path` only labels it in messages.
    pub fn from_frame(df: DataFrame, input: &TableInput, o: &TicketReadOptions) -> Result<Self> {
        Self::stage(Some(df), input, o)
    }

    fn stage(frame: Option<DataFrame>, input: &TableInput, o: &TicketReadOptions) -> Result<Self> {
        // Text columns are read only when asked for: they are the widest.
        let wanted =
            |d: &ColumnDef| d.kind != Kind::Text || o.dims.iter().any(|b| b == d.name) || (d.name == TAGS && o.tags);
        let tz = input.input_tz.unwrap_or(o.input_tz);
        let mut raw = RawTable::open(frame, input, "tickets", TICKETS, &o.dims, wanted, tz)?;
        let n = raw.df.height();
        let mut q = crate::raw::collector_of(&raw.source, &raw.ids, &raw.findings);
        let names: Vec<&'static str> =
            TICKETS.iter().filter(|d| d.kind == Kind::Timestamp && raw.has(d.name)).map(|d| d.name).collect();
        // One column per core at a time, each batch released once
        // converted, so the read copies and the converted ones are never
        // all held at once.
        let (mut ts, mut created_bad) = (Timestamps::new(), Vec::new());
        for batch in names.chunks(crate::cores()) {
            let (parsed, bad) = parse_timestamps(&raw, batch, tz, &mut q)?;
            ts.extend(parsed);
            created_bad.extend(bad);
            crate::raw::release(&mut raw.df, batch);
        }
        let ids = raw.ids(TICKET_ID)?;
        let created = ts.remove(CREATED_AT).unwrap_or_default();
        let mut usable = required_rows(&ids, &created, &created_bad, &mut q);
        let (as_of, as_of_source) = resolve_as_of(o.as_of, &created, &ts);
        let rated_late = match o.as_of {
            Some(_) => cut_at_as_of(as_of, &created, &mut ts, &mut usable, &mut q),
            None => vec![false; n],
        };
        // Duplicates: the last usable row read wins (polars' parallel hash).
        let superseded = ids.superseded(&usable);
        for &i in &superseded {
            usable[i] = false;
        }
        raw.count_superseded(&mut q, TICKET_ID, &ids, &superseded);
        crate::raw::release(&mut raw.df, &[TICKET_ID]);
        let kept = usable.iter().filter(|u| **u).count();
        // Columns are built at full height and filtered once at the end
        // (polars filters them in parallel).
        check_durations(&created, &ts, &usable, o.max_duration, &mut q);
        let stamps = Stamps { ts: &ts, usable: &usable, rated_late: &rated_late };
        let present: Vec<&ColumnDef> = TICKETS.iter().filter(|d| raw.has(d.name)).collect();
        // The number and flag columns one per core at a time, each batch
        // released once converted. The text and rating columns convert on
        // a thread of their own beside the first batch, with their own
        // findings (other columns than the numbers').
        let (numbers, others): (Vec<&ColumnDef>, Vec<&ColumnDef>) = present.iter().partition(|d| converts(d.kind));
        let mut typed = Vec::new();
        let mut others_done = None;
        let mut failed = None;
        for batch in numbers.chunks(crate::cores()) {
            let converted = if others_done.is_none() {
                std::thread::scope(|s| {
                    let others = s.spawn(|| other_columns(&raw, &others, &stamps, o));
                    let converted = typed_columns(&raw, batch, &stamps, o, &mut q);
                    others_done = Some(others.join().unwrap_or_else(|_| {
                        Err((0, Error::from(crate::error::ErrorKind::Internal("converting ticket columns".into()))))
                    }));
                    converted
                })
            } else {
                typed_columns(&raw, batch, &stamps, o, &mut q)
            };
            match converted {
                Ok(columns) => typed.extend(columns),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
            crate::raw::release(&mut raw.df, &batch.iter().map(|d| d.name).collect::<Vec<_>>());
        }
        let others_done = others_done.unwrap_or_else(|| other_columns(&raw, &others, &stamps, o));
        // The error of the first failing column in the schema's order, as
        // converting them one by one in that order would stop at: batches
        // run in that order and stop at their first failure.
        let (others_typed, findings) = match (failed, others_done) {
            (Some(f), Err(e)) => return Err(if e.0 < f.0 { e.1 } else { f.1 }),
            (Some(f), Ok(_)) | (None, Err(f)) => return Err(f.1),
            (None, Ok(done)) => done,
        };
        typed.extend(others_typed);
        findings.into_iter().for_each(|row| q.add_labelled(row));
        let converted: Vec<&str> = others.iter().filter(|d| d.kind != Kind::Text).map(|d| d.name).collect();
        crate::raw::release(&mut raw.df, &converted);
        // In the order of the schema, as before.
        typed.sort_by_key(|(name, _)| TICKETS.iter().position(|d| d.name == *name));
        let typed = typed.into_iter().map(|(_, c)| c);
        // The parsed instants move into their columns, no copy.
        let mut columns = vec![ids.into_column(TICKET_ID), created.into_datetime(CREATED_AT)];
        for name in [FIRST_RESPONSE_AT, SOLVED_AT, FIRST_SOLVED_AT, CSAT_AT] {
            if let Some(v) = ts.remove(name) {
                columns.push(v.into_datetime(name));
            }
        }
        columns.extend(typed);
        for extra in &raw.extras {
            columns.push(raw.strings(extra)?.with_name(extra.as_str().into()).into_column());
        }
        let mask = BooleanChunked::from_slice("usable".into(), &usable);
        let df = DataFrame::new_infer_height(columns).ctx("staging tickets")?;
        let df = if kept == n { df } else { df.filter(&mask).ctx("staging tickets")? };
        let present = TICKETS.iter().filter(|d| raw.has(d.name)).map(|d| d.name).collect();
        Ok(Self {
            df,
            present,
            extra_dims: raw.extras.clone(),
            rows_read: raw.rows_read,
            as_of,
            as_of_source,
            quality: q.finish(),
            source: raw.source.clone(),
        })
    }
}

/// Parsed timestamp columns by canonical name, at full height.
type Timestamps = HashMap<&'static str, Values<Micros>>;

/// Converts the timestamp columns `names` (one thread each: parsing text
/// or copying typed instants dominates staging), counts the bad values and
/// returns the columns with the rows whose `created_at` did not parse.
fn parse_timestamps(
    raw: &RawTable,
    names: &[&'static str],
    tz: Tz,
    q: &mut Collector<'_>,
) -> Result<(Timestamps, Vec<usize>)> {
    let parsed = one_thread_each(names, |name| raw.timestamps(name, tz), "parsing ticket timestamps");
    let mut ts = Timestamps::new();
    let mut created_bad = Vec::new();
    for (name, p) in names.iter().zip(parsed) {
        let p = counted(raw, name, p?, q)?;
        if *name == CREATED_AT {
            created_bad = p.bad.clone();
        }
        ts.insert(name, p.values);
    }
    Ok((ts, created_bad))
}

/// A converted timestamp column: an error when no value parses, else its
/// bad values counted.
fn counted(raw: &RawTable, name: &str, p: Parsed<Micros>, q: &mut Collector<'_>) -> Result<Parsed<Micros>> {
    if let Some(e) = raw.nothing_parses(name, &p, expected(Kind::Timestamp)) {
        return Err(e);
    }
    raw.count_timestamps(q, name, &p);
    Ok(p)
}

/// Which rows have both required columns: a missing id or `created_at` is
/// counted as `missing_required` (an unparseable `created_at` is counted
/// already).
fn required_rows(
    ids: &crate::raw::IdColumn,
    created: &Values<Micros>,
    created_bad: &[usize],
    q: &mut Collector<'_>,
) -> Vec<bool> {
    let mut usable = created.validity().to_vec();
    for i in ids.missing() {
        q.add(Reason::MissingRequired, TICKET_ID, i);
        usable[i] = false;
    }
    let mut bad = created_bad.iter().copied().peekable();
    for (i, _) in created.validity().iter().enumerate().filter(|(_, v)| !**v) {
        while bad.next_if(|&b| b < i).is_some() {}
        if bad.next_if_eq(&i).is_none() {
            q.add(Reason::MissingRequired, CREATED_AT, i);
        }
    }
    usable
}

/// The as-of instant and what set it: the explicit one, else the latest
/// timestamp of rows with a valid `created_at` (column by column, no
/// per-row look-ups), else 0.
fn resolve_as_of(explicit: Option<Micros>, created: &Values<Micros>, ts: &Timestamps) -> (Micros, &'static str) {
    let mut latest: Option<Micros> = created.max_where(created.validity());
    let mut source = CREATED_AT;
    for c in [FIRST_RESPONSE_AT, SOLVED_AT, CSAT_AT] {
        if let Some(v) = ts.get(c) {
            let col_max = v.max_where(created.validity());
            if col_max > latest {
                latest = col_max;
                source = c;
            }
        }
    }
    match (explicit, latest) {
        (Some(a), _) => (a, "explicit"),
        (None, Some(l)) => (l, source),
        (None, None) => (0, "no timestamp"),
    }
}

/// With an explicit as-of: tickets created after it are excluded
/// (`after_as_of`) and later events did not happen yet. Returns the rows
/// whose rating was given after the as-of (it did not exist yet).
fn cut_at_as_of(
    as_of: Micros,
    created: &Values<Micros>,
    ts: &mut Timestamps,
    usable: &mut [bool],
    q: &mut Collector<'_>,
) -> Vec<bool> {
    let (rated, solved) = (ts.get(CSAT_AT), ts.get(SOLVED_AT));
    let rated_late: Vec<bool> = (0..created.len())
        .map(|i| {
            let rated_at = rated.and_then(|v| v.get(i));
            let solved_at = solved.and_then(|v| v.get(i));
            rated_at.is_some_and(|t| t > as_of) || (rated_at.is_none() && solved_at.is_some_and(|t| t > as_of))
        })
        .collect();
    for (i, c) in created.iter().enumerate() {
        if usable[i] && c.is_some_and(|c| c > as_of) {
            q.add(Reason::AfterAsOf, CREATED_AT, i);
            usable[i] = false;
        }
    }
    for v in ts.values_mut() {
        v.update(|t| (t <= as_of).then_some(t));
    }
    rated_late
}

/// Counts the usable rows' duration warnings: before `created_at`
/// (`negative_duration`), longer than `max_duration`
/// (`implausible_duration`), solved before the first response
/// (`solved_before_response`).
fn check_durations(
    created: &Values<Micros>,
    ts: &Timestamps,
    usable: &[bool],
    max_duration: Micros,
    q: &mut Collector<'_>,
) {
    // Usable rows have a `created_at`; one zipped pass over plain slices
    // (no bounds checks) finds the few rows to count.
    let c = created.data();
    for name in [FIRST_RESPONSE_AT, SOLVED_AT, FIRST_SOLVED_AT] {
        let Some(v) = ts.get(name) else { continue };
        let rows = usable.iter().zip(v.validity()).zip(v.data()).zip(c);
        for (i, (((&u, &has), &t), &c)) in rows.enumerate() {
            if u && has && (t < c || t - c > max_duration) {
                let reason = if t < c { Reason::NegativeDuration } else { Reason::ImplausibleDuration };
                q.add(reason, name, i);
            }
        }
    }
    if let (Some(solved), Some(answered)) = (ts.get(SOLVED_AT), ts.get(FIRST_RESPONSE_AT)) {
        let present = usable.iter().zip(solved.validity()).zip(answered.validity());
        let rows = present.zip(solved.data()).zip(answered.data()).zip(c);
        for (i, (((((&u, &has_s), &has_a), &s), &a), &c)) in rows.enumerate() {
            // A solve before creation is a negative duration already.
            if u && has_s && has_a && s >= c && s < a {
                q.add(Reason::SolvedBeforeResponse, SOLVED_AT, i);
            }
        }
    }
}

/// What the rating and duration checks need from the timestamp pass.
struct Stamps<'a> {
    ts: &'a Timestamps,
    usable: &'a [bool],
    rated_late: &'a [bool],
}

/// Converts the typed columns of `defs` (one thread each: they are
/// independent) into their output columns, counting bad values; the
/// rating column becomes `csat_satisfied`.
fn typed_columns(
    raw: &RawTable,
    defs: &[&ColumnDef],
    st: &Stamps<'_>,
    o: &TicketReadOptions,
    q: &mut Collector<'_>,
) -> Tagged<Vec<Named>> {
    let mut converted = convert_in_parallel(raw, defs)?;
    let mut columns = Vec::new();
    for def in defs {
        let column = typed_column(raw, def, converted.remove(def.name), st, o, q).map_err(at(def))?;
        columns.extend(column.map(|c| (def.name, c)));
    }
    Ok(columns)
}

/// An output column with the canonical name of the column it came from.
type Named = (&'static str, Column);

/// A result whose error carries the schema position ([`TICKETS`]) of the
/// column that failed, so that of several failures the first in the
/// schema's order is reported.
type Tagged<T> = std::result::Result<T, (usize, Error)>;

/// Tags an error with the schema position of `def`.
fn at(def: &ColumnDef) -> impl FnOnce(Error) -> (usize, Error) + '_ {
    move |e| (TICKETS.iter().position(|d| d.name == def.name).unwrap_or(usize::MAX), e)
}

/// The text and rating columns of `defs` (see [`typed_column`]) with
/// their findings, collected apart (to run beside the number columns).
fn other_columns(
    raw: &RawTable,
    defs: &[&ColumnDef],
    st: &Stamps<'_>,
    o: &TicketReadOptions,
) -> Tagged<(Vec<Named>, Vec<QualityRow>)> {
    let mut q = crate::raw::collector_of(&raw.source, &raw.ids, &[]);
    let mut typed = Vec::new();
    for def in defs {
        typed.extend(typed_column(raw, def, None, st, o, &mut q).map_err(at(def))?.map(|c| (def.name, c)));
    }
    Ok((typed, q.finish()))
}

/// Whether a column of this kind is converted to numbers or flags (by
/// [`convert_in_parallel`]).
fn converts(kind: Kind) -> bool {
    matches!(kind, Kind::Int | Kind::Bool | Kind::Duration | Kind::Float)
}

/// Converts one typed column now (when `converted` is `None`) or takes its
/// conversion, counts its bad values and returns its output column (none
/// for ids and timestamps, staged apart).
fn typed_column(
    raw: &RawTable,
    def: &ColumnDef,
    converted: Option<Converted>,
    st: &Stamps<'_>,
    o: &TicketReadOptions,
    q: &mut Collector<'_>,
) -> Result<Option<Column>> {
    let name = def.name;
    let converted = match (converted, def.kind) {
        (Some(c), _) => Some(c),
        (None, Kind::Int) => Some(Converted::Int(raw.ints(name)?)),
        (None, Kind::Bool) => Some(Converted::Bool(raw.bools(name)?)),
        (None, Kind::Duration | Kind::Float) => Some(Converted::Float(raw.floats(name)?)),
        (None, _) => None,
    };
    Ok(Some(match (def.kind, converted) {
        (Kind::Int, Some(Converted::Int(p))) => {
            check(raw, q, name, &p, Reason::UnparseableNumber, Kind::Int)?;
            p.values.into_narrow_column(name)
        }
        (Kind::Bool, Some(Converted::Bool(p))) => {
            check(raw, q, name, &p, Reason::UnparseableBool, Kind::Bool)?;
            p.values.into_column(name)
        }
        (Kind::Duration | Kind::Float, Some(Converted::Float(p))) => {
            check(raw, q, name, &p, Reason::UnparseableNumber, def.kind)?;
            for i in (0..st.usable.len()).filter(|&i| st.usable[i]) {
                if p.values.get(i).is_some_and(|m| m < 0.0) {
                    q.add(Reason::NegativeDuration, name, i);
                }
            }
            p.values.into_column(name)
        }
        (Kind::Text, _) => raw.strings(name)?.into_column(),
        (Kind::Rating, _) => rating_column(raw, name, st, o, q)?,
        _ => return Ok(None),
    }))
}

/// `f` of every item, each on its own thread, in order; a thread that
/// panicked is an internal error naming `what`.
fn one_thread_each<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> Result<R> + Sync, what: &str) -> Vec<Result<R>> {
    std::thread::scope(|s| {
        let handles: Vec<_> = items.iter().map(|item| s.spawn(|| f(item))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(Error::from(crate::error::ErrorKind::Internal(what.into())))))
            .collect()
    })
}

/// Converts the int, bool, duration and float columns of `defs`, one
/// thread each.
fn convert_in_parallel(raw: &RawTable, defs: &[&ColumnDef]) -> Tagged<HashMap<&'static str, Converted>> {
    let typed: Vec<&ColumnDef> = defs.iter().copied().filter(|d| converts(d.kind)).collect();
    let converted = one_thread_each(
        &typed,
        |d| {
            Ok(match d.kind {
                Kind::Int => Converted::Int(raw.ints(d.name)?),
                Kind::Bool => Converted::Bool(raw.bools(d.name)?),
                _ => Converted::Float(raw.floats(d.name)?),
            })
        },
        "converting ticket columns",
    );
    typed.iter().zip(converted).map(|(d, c)| c.map(|c| (d.name, c)).map_err(at(d))).collect()
}

/// `csat_satisfied` from the rating column: satisfied, not, or null (no
/// usable rating). A rating without a time (no `csat_at`, no `solved_at`)
/// is `csat_without_time`, one off the scale `score_out_of_range`, one
/// given after the as-of none; when no cell is a rating at all the column
/// is unusable (an error naming the first value).
fn rating_column(
    raw: &RawTable,
    name: &'static str,
    st: &Stamps<'_>,
    o: &TicketReadOptions,
    q: &mut Collector<'_>,
) -> Result<Column> {
    // Numeric ratings (a Parquet integer column) are rated as numbers, text
    // as text; both are iterated once, never collected.
    // Whole numbers (the CSV reader's, or Parquet's `Int64`) are rated
    // without a float copy of the column.
    let whole = raw.whole_numbers(name)?;
    let numbers = if whole.is_none() { raw.numbers(name)? } else { None };
    let text = if whole.is_none() && numbers.is_none() { Some(raw.strings(name)?) } else { None };
    let rated = match (&whole, &numbers, &text) {
        (Some(w), _, _) if w.dtype() == &DataType::Int32 => {
            let ratings = w.i32().ctx(name)?.iter().map(|v| v.map_or(Rating::None, |n| o.csat.rate_number(n.into())));
            rate_rows(ratings, name, st, q)
        }
        (Some(w), _, _) => {
            let w = w.cast(&DataType::Int64).ctx(name)?;
            let ratings = w.i64().ctx(name)?.iter().map(|v| v.map_or(Rating::None, |n| o.csat.rate_number(n as f64)));
            rate_rows(ratings, name, st, q)
        }
        (_, Some(f), _) => rate_rows(f.iter().map(|v| v.map_or(Rating::None, |f| o.csat.rate_number(f))), name, st, q),
        (_, _, Some(t)) => rate_rows(t.iter().map(|v| v.map_or(Rating::None, |c| o.csat.rate(c))), name, st, q),
        (None, None, None) => rate_rows(std::iter::empty(), name, st, q),
    };
    let Rated { sat, recognised, unparseable } = rated;
    if let (0, Some(&first)) = (recognised, unparseable.first()) {
        let value = match (&whole, &numbers, &text) {
            (Some(w), _, _) => w.get(first).map(|v| v.to_string()).unwrap_or_default(),
            (_, Some(f), _) => f.get(first).map(|v| v.to_string()).unwrap_or_default(),
            (_, _, t) => t.as_ref().and_then(|t| t.get(first)).unwrap_or_default().to_owned(),
        };
        return Err(raw.nothing_parses_at(name, first, &value, &format!("a rating ({})", o.csat.describe())));
    }
    raw.count_values(q, Reason::UnparseableNumber, name, &unparseable);
    Ok(sat.into_column(CSAT_SATISFIED))
}

/// The ratings of a column, read by [`rate_rows`].
struct Rated {
    /// `csat_satisfied` per row.
    sat: Values<bool>,
    /// Usable rows with a rating on the scale or off it.
    recognised: usize,
    /// Usable rows whose rating is not one.
    unparseable: Vec<usize>,
}

/// Rates every usable row (generic over the ratings, so that the loop is
/// compiled for each source with no call per row): a rating given after
/// the as-of is none; a valid one without a time is counted
/// `csat_without_time`, one off the scale `score_out_of_range`.
fn rate_rows(ratings: impl Iterator<Item = Rating>, name: &str, st: &Stamps<'_>, q: &mut Collector<'_>) -> Rated {
    let (solved, rated) = (st.ts.get(SOLVED_AT), st.ts.get(CSAT_AT));
    let none = vec![false; st.usable.len()];
    let has_solved = solved.map_or(none.as_slice(), Values::validity);
    let has_rated = rated.map_or(none.as_slice(), Values::validity);
    let mut out = Rated { sat: Values::nones(st.usable.len()), recognised: 0, unparseable: Vec::new() };
    for (i, r) in ratings.enumerate() {
        if !st.usable[i] || st.rated_late[i] {
            continue;
        }
        out.recognised += usize::from(!matches!(r, Rating::Unparseable | Rating::None));
        match r {
            Rating::Valid(s) if has_rated[i] || has_solved[i] => out.sat.set(i, s),
            Rating::Valid(_) => q.add(Reason::CsatWithoutTime, name, i),
            Rating::OutOfRange => q.add(Reason::ScoreOutOfRange, name, i),
            Rating::Unparseable => out.unparseable.push(i),
            Rating::None => {}
        }
    }
    out
}

/// A converted non-timestamp column.
enum Converted {
    Int(Parsed<i64>),
    Bool(Parsed<bool>),
    Float(Parsed<f64>),
}

fn check<T>(
    raw: &RawTable,
    q: &mut Collector<'_>,
    name: &str,
    p: &Parsed<T>,
    reason: Reason,
    kind: Kind,
) -> Result<()> {
    if let Some(e) = raw.nothing_parses(name, p, expected(kind)) {
        return Err(e);
    }
    raw.count_values(q, reason, name, &p.bad);
    Ok(())
}

crate::raw::staged!(Tickets, |t: &Tickets| t.rows_used());

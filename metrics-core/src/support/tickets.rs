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
use crate::raw::{Parsed, RawTable, datetime_column, expected};
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
    /// One row per usable ticket. Timestamps are `Datetime(us, UTC)`, counts
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

    /// Reads, converts and checks a tickets table.
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
        let raw = RawTable::open(frame, input, "tickets", TICKETS, &o.dims, wanted, tz)?;
        let n = raw.df.height();
        let mut q = raw.collector();

        let ts_names: Vec<&'static str> =
            TICKETS.iter().filter(|d| d.kind == Kind::Timestamp && raw.has(d.name)).map(|d| d.name).collect();
        // Timestamp parsing dominates staging: one thread per column.
        let parsed: Vec<Result<Parsed<Micros>>> = std::thread::scope(|s| {
            let handles: Vec<_> = ts_names.iter().map(|name| s.spawn(|| raw.timestamps(name, tz))).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::from(crate::error::ErrorKind::Internal("parsing ticket timestamps".into())))
                    })
                })
                .collect()
        });
        let mut ts: HashMap<&'static str, Vec<Option<Micros>>> = HashMap::new();
        let mut created_bad: Vec<usize> = Vec::new();
        for (name, p) in ts_names.iter().zip(parsed) {
            let p = p?;
            if let Some(e) = raw.nothing_parses(name, &p, expected(Kind::Timestamp)) {
                return Err(e);
            }
            raw.count_timestamps(&mut q, name, &p);
            if *name == CREATED_AT {
                created_bad = p.bad.clone();
            }
            ts.insert(name, p.values);
        }

        // Required columns decide which rows are usable.
        let ids = raw.strings(TICKET_ID)?;
        let created = ts.remove(CREATED_AT).unwrap_or_default();
        let mut created_unparseable = vec![false; n];
        for &i in &created_bad {
            created_unparseable[i] = true;
        }
        // Random access into a chunked array is slow; iterate once.
        let id_values: Vec<Option<&str>> = ids.iter().collect();
        let mut usable = vec![true; n];
        for i in 0..n {
            if id_values[i].is_none_or(|s| s.trim().is_empty()) {
                q.add(Reason::MissingRequired, TICKET_ID, i);
                usable[i] = false;
            }
            if created[i].is_none() {
                if !created_unparseable[i] {
                    q.add(Reason::MissingRequired, CREATED_AT, i);
                }
                usable[i] = false;
            }
        }

        // As-of: explicit, else the latest timestamp of rows with a valid created_at.
        // Column by column: no per-row map look-ups on the hot path.
        let mut latest: Option<Micros> = created.iter().copied().max().flatten();
        let mut as_of_source = CREATED_AT;
        for c in [FIRST_RESPONSE_AT, SOLVED_AT, CSAT_AT] {
            if let Some(v) = ts.get(c) {
                let col_max = v.iter().zip(&created).filter(|(_, c)| c.is_some()).filter_map(|(t, _)| *t).max();
                if col_max > latest {
                    latest = col_max;
                    as_of_source = c;
                }
            }
        }
        let (as_of, as_of_source) = match (o.as_of, latest) {
            (Some(a), _) => (a, "explicit"),
            (None, Some(l)) => (l, as_of_source),
            (None, None) => (0, "no timestamp"),
        };
        // A rating given after an explicit as-of did not exist yet.
        let mut rated_late = vec![false; n];
        if o.as_of.is_some() {
            let (rated, solved) = (ts.get(CSAT_AT), ts.get(SOLVED_AT));
            for (i, r) in rated_late.iter_mut().enumerate() {
                let rated_at = rated.and_then(|v| v[i]);
                let solved_at = solved.and_then(|v| v[i]);
                *r =
                    rated_at.is_some_and(|t| t > as_of) || (rated_at.is_none() && solved_at.is_some_and(|t| t > as_of));
            }
            for i in 0..n {
                if usable[i] && created[i].is_some_and(|c| c > as_of) {
                    q.add(Reason::AfterAsOf, CREATED_AT, i);
                    usable[i] = false;
                }
            }
            for v in ts.values_mut() {
                v.iter_mut().filter(|x| x.is_some_and(|t| t > as_of)).for_each(|x| *x = None);
            }
        }
        // Duplicates: the last usable row read wins (polars' parallel hash).
        let superseded = crate::raw::superseded_rows(&ids, &usable);
        for &i in &superseded {
            usable[i] = false;
        }
        raw.count_superseded(&mut q, TICKET_ID, &ids, &superseded);
        let keep: Vec<usize> = (0..n).filter(|&i| usable[i]).collect();
        // Columns are built at full height and filtered once at the end
        // (polars filters them in parallel).
        let mut columns: Vec<Column> = Vec::new();
        columns.push(ids.clone().into_column());
        columns.push(datetime_column(CREATED_AT, created.iter().copied()));
        for name in [FIRST_RESPONSE_AT, SOLVED_AT, FIRST_SOLVED_AT, CSAT_AT] {
            if let Some(v) = ts.get(name) {
                if name != CSAT_AT {
                    for &i in &keep {
                        if v[i].is_some_and(|t| created[i].is_some_and(|c| t < c)) {
                            q.add(Reason::NegativeDuration, name, i);
                        } else if v[i].is_some_and(|t| created[i].is_some_and(|c| t - c > o.max_duration)) {
                            q.add(Reason::ImplausibleDuration, name, i);
                        }
                    }
                }
                columns.push(datetime_column(name, v.iter().copied()));
            }
        }
        if let (Some(solved), Some(answered)) = (ts.get(SOLVED_AT), ts.get(FIRST_RESPONSE_AT)) {
            for &i in &keep {
                // A solve before creation is a negative duration already.
                let before_created = solved[i].is_some_and(|s| created[i].is_some_and(|c| s < c));
                if !before_created && solved[i].is_some_and(|s| answered[i].is_some_and(|a| s < a)) {
                    q.add(Reason::SolvedBeforeResponse, SOLVED_AT, i);
                }
            }
        }
        // The other typed columns convert independently: in parallel.
        let typed: Vec<&ColumnDef> = TICKETS
            .iter()
            .filter(|d| raw.has(d.name) && matches!(d.kind, Kind::Int | Kind::Bool | Kind::Duration | Kind::Float))
            .collect();
        let converted: Vec<Result<Converted>> = std::thread::scope(|s| {
            let handles: Vec<_> = typed
                .iter()
                .map(|d| {
                    let raw = &raw;
                    s.spawn(move || {
                        Ok(match d.kind {
                            Kind::Int => Converted::Int(raw.ints(d.name)?),
                            Kind::Bool => Converted::Bool(raw.bools(d.name)?),
                            _ => Converted::Float(raw.floats(d.name)?),
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::from(crate::error::ErrorKind::Internal("converting ticket columns".into())))
                    })
                })
                .collect()
        });
        let mut converted: HashMap<&str, Converted> =
            typed.iter().map(|d| d.name).zip(converted).map(|(n, c)| c.map(|c| (n, c))).collect::<Result<_>>()?;
        for def in TICKETS.iter().filter(|d| raw.has(d.name)) {
            let name = def.name;
            match def.kind {
                Kind::Int => {
                    let Some(Converted::Int(p)) = converted.remove(name) else { continue };
                    check(&raw, &mut q, name, &p, Reason::UnparseableNumber, Kind::Int)?;
                    columns.push(Int64Chunked::from_iter_options(name.into(), p.values.into_iter()).into_column());
                }
                Kind::Bool => {
                    let Some(Converted::Bool(p)) = converted.remove(name) else { continue };
                    check(&raw, &mut q, name, &p, Reason::UnparseableBool, Kind::Bool)?;
                    columns.push(BooleanChunked::from_iter_options(name.into(), p.values.into_iter()).into_column());
                }
                Kind::Duration | Kind::Float => {
                    let Some(Converted::Float(p)) = converted.remove(name) else { continue };
                    check(&raw, &mut q, name, &p, Reason::UnparseableNumber, def.kind)?;
                    for &i in &keep {
                        if p.values[i].is_some_and(|m| m < 0.0) {
                            q.add(Reason::NegativeDuration, name, i);
                        }
                    }
                    columns.push(Float64Chunked::from_iter_options(name.into(), p.values.into_iter()).into_column());
                }
                Kind::Text => columns.push(raw.strings(name)?.into_column()),
                Kind::Rating => {
                    let cells = raw.strings(name)?;
                    let cell_values: Vec<Option<&str>> = cells.iter().collect();
                    let solved = ts.get(SOLVED_AT);
                    let rated = ts.get(CSAT_AT);
                    let mut sat: Vec<Option<bool>> = vec![None; n];
                    let mut recognised = 0usize;
                    let mut unparseable = Vec::new();
                    for &i in &keep {
                        let r = if rated_late[i] {
                            Rating::None
                        } else {
                            cell_values[i].map_or(Rating::None, |c| o.csat.rate(c))
                        };
                        let timed = rated.is_some_and(|v| v[i].is_some()) || solved.is_some_and(|v| v[i].is_some());
                        sat[i] = match r {
                            Rating::Valid(s) if timed => {
                                recognised += 1;
                                Some(s)
                            }
                            Rating::Valid(_) => {
                                recognised += 1;
                                q.add(Reason::CsatWithoutTime, name, i);
                                None
                            }
                            Rating::OutOfRange => {
                                recognised += 1;
                                q.add(Reason::ScoreOutOfRange, name, i);
                                None
                            }
                            Rating::Unparseable => {
                                unparseable.push(i);
                                None
                            }
                            Rating::None => None,
                        };
                    }
                    if recognised == 0 && !unparseable.is_empty() {
                        let first = unparseable[0];
                        let value = cell_values[first].unwrap_or_default();
                        return Err(raw.nothing_parses_at(
                            name,
                            first,
                            value,
                            &format!("a rating ({})", o.csat.describe()),
                        ));
                    }
                    raw.count_values(&mut q, Reason::UnparseableNumber, name, &unparseable);
                    columns
                        .push(BooleanChunked::from_iter_options(CSAT_SATISFIED.into(), sat.into_iter()).into_column());
                }
                Kind::Id | Kind::Timestamp => {}
            }
        }
        for extra in &raw.extras {
            columns.push(raw.strings(extra)?.with_name(extra.as_str().into()).into_column());
        }
        let mask = BooleanChunked::from_slice("usable".into(), &usable);
        let df = DataFrame::new_infer_height(columns).ctx("staging tickets")?;
        let df = if keep.len() == n { df } else { df.filter(&mask).ctx("staging tickets")? };
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

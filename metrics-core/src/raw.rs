//! Raw tables: resolve a table's mapping against its files, read only the
//! columns it needs, and convert each value to its canonical type, keeping
//! track of every value that fails so it can be counted.
//!
//! Conversion is plain Rust over the read columns (one pass per column,
//! columns in parallel), because each value is tried against every accepted
//! form and each failure must be counted with its row.

use polars::prelude::*;

use crate::error::PolarsContext;
use crate::mapping::{ColumnSpec, DurationUnit, TableInput, duration_minutes};
use crate::parse::timestamp::{Micros, TimestampFormat, TimestampParser, ValidYears, thousands};
use crate::parse::values::{parse_bool, parse_float, parse_int};
use crate::preset::Preset;
use crate::quality::{Collector, FIRST_ROWS, QualityRow, Reason};
use crate::schema::{ColumnDef, Kind};
use crate::source::{FILE_COL, FileFormat, ScanParse, Selected, Source, UNPARSEABLE};
use crate::{Error, Result};

/// What every staged input table tells: its files, how many rows were read
/// and used, and the data-quality findings of staging it.
pub trait Staged {
    /// The files read (or the in-memory frame's label).
    fn source(&self) -> &Source;
    /// Data rows read.
    fn rows_read(&self) -> usize;
    /// Rows the metrics use.
    fn rows_used(&self) -> usize;
    /// Findings, by reason then column.
    fn quality(&self) -> &[QualityRow];
}

/// Implements [`Staged`] for a table with `source`, `rows_read` and
/// `quality` fields and an inherent `rows_used`.
macro_rules! staged {
    ($t:ty, $used:expr) => {
        impl $crate::raw::Staged for $t {
            fn source(&self) -> &$crate::source::Source {
                &self.source
            }
            fn rows_read(&self) -> usize {
                self.rows_read
            }
            fn rows_used(&self) -> usize {
                #[allow(clippy::redundant_closure_call)]
                ($used)(self)
            }
            fn quality(&self) -> &[$crate::quality::QualityRow] {
                &self.quality
            }
        }
    };
}
pub(crate) use staged;

/// A table read from its files with canonical column names, not yet typed.
#[derive(Debug)]
pub struct RawTable {
    /// The files.
    pub source: Source,
    /// `__file`, then one column per mapped canonical column and
    /// per extra column, as read.
    pub df: DataFrame,
    /// Canonical columns present, with their source spec.
    pub mapped: Vec<(ColumnDef, ColumnSpec)>,
    /// Extra (non-canonical) source columns read as dimensions.
    pub extras: Vec<String>,
    /// Each row's file and one-based row number within it.
    pub ids: RowIds,
    /// Whether timestamp columns were parsed during the scan (CSV input).
    pub scan_parsed: bool,
    /// Rows read from the files, before ragged rows were set aside.
    pub rows_read: usize,
    /// Findings made while reading (ragged rows), already labelled.
    pub findings: Vec<QualityRow>,
    /// The years a timestamp may fall in.
    pub valid_years: ValidYears,
}

impl RawTable {
    /// Resolves `input`, checks the mapping against every file and reads the
    /// needed columns (the mapped canonical columns that `wanted` accepts;
    /// a mapping is checked even when its column is not read). `extras` are source columns to keep as dimensions
    /// when the files have them (absent ones are silently not read; the
    /// caller decides whether that is an error).
    pub fn read(
        input: &TableInput,
        table: &str,
        defs: &[ColumnDef],
        extras: &[String],
        wanted: impl Fn(&ColumnDef) -> bool,
        tz: chrono_tz::Tz,
    ) -> Result<Self> {
        check_mapping(input, table, defs)?;
        let source = Source::resolve(&input.path)?;
        // A separator other than `,` that was detected, not set, is noted.
        let (delimiter, note) = match input.delimiter {
            Some(d) => (d, None),
            None => match source.sniff_delimiter() {
                b',' => (b',', None),
                d => {
                    let shown = if d == b'\t' { "tab".to_owned() } else { char::from(d).to_string() };
                    (
                        d,
                        Some(format!(
                            "{}: fields separated by `{shown}` (detected; set `delimiter` to choose)",
                            input.path
                        )),
                    )
                }
            },
        };
        let source = source.with_csv(delimiter, input.encoding);
        Self::read_with(input, table, defs, extras, wanted, tz, source, note, None)
    }

    /// [`RawTable::read`] from files, or [`RawTable::from_frame`] when a
    /// frame is given.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        frame: Option<DataFrame>,
        input: &TableInput,
        table: &str,
        defs: &[ColumnDef],
        extras: &[String],
        wanted: impl Fn(&ColumnDef) -> bool,
        tz: chrono_tz::Tz,
    ) -> Result<Self> {
        match frame {
            Some(df) => Self::from_frame(df, input, table, defs, extras, wanted, tz),
            None => Self::read(input, table, defs, extras, wanted, tz),
        }
    }

    /// [`RawTable::read`] on an in-memory frame instead of files: the same
    /// mapping (`input.columns`, preset), conversions and data-quality
    /// accounting. `input.path` only labels the table in messages (rows are
    /// numbered from 1 in frame order). Text columns are parsed as CSV text
    /// is; typed columns (integers, floats, booleans, dates, datetimes) are
    /// used as Parquet columns are.
    #[allow(clippy::too_many_arguments)]
    pub fn from_frame(
        df: DataFrame,
        input: &TableInput,
        table: &str,
        defs: &[ColumnDef],
        extras: &[String],
        wanted: impl Fn(&ColumnDef) -> bool,
        tz: chrono_tz::Tz,
    ) -> Result<Self> {
        check_mapping(input, table, defs)?;
        let label = if input.path.is_empty() { format!("<{table} frame>") } else { input.path.clone() };
        Self::read_with(input, table, defs, extras, wanted, tz, Source::in_memory(&label), None, Some(df))
    }

    /// [`RawTable::read`] from resolved files with their separator chosen.
    #[allow(clippy::too_many_arguments)]
    fn read_with(
        input: &TableInput,
        table: &str,
        defs: &[ColumnDef],
        extras: &[String],
        wanted: impl Fn(&ColumnDef) -> bool,
        tz: chrono_tz::Tz,
        mut source: Source,
        note: Option<String>,
        frame: Option<DataFrame>,
    ) -> Result<Self> {
        source.notes.extend(note);
        let header = match &frame {
            Some(df) => df.get_column_names().iter().map(|n| n.to_string()).collect(),
            None => source.columns(0)?,
        };
        let mapped = map_columns(input, table, defs, wanted, &source, &header)?;
        note_duplicates(&mut source, &header);
        let taken: Vec<&str> =
            mapped.iter().map(|(d, s)| if s.column.is_empty() { d.name } else { s.column.as_str() }).collect();
        let extras: Vec<String> = extras
            .iter()
            .filter(|e| !defs.iter().any(|d| d.name == e.as_str()) && header.contains(e))
            .filter(|e| !taken.contains(&e.as_str()))
            .cloned()
            .collect();
        for e in &extras {
            if let Some(err) = duplicated(&source, &header, &ColumnSpec::named(e.clone()), e) {
                return Err(err);
            }
        }
        let mut select = selection(&mapped, &extras, tz);
        // A ticket's id only tells copies of one ticket apart: read as a
        // number when every id is one in canonical form (no text column,
        // an integer hash). Other keys join tables, so they stay text. A
        // ticket's rating too: whole numbers in canonical form rate as the
        // same numbers read as text would (`CsatScale::rate`), without a
        // text column; any other cell keeps the column text.
        for (sel, (d, s)) in select.iter_mut().zip(&mapped) {
            let key = d.name == crate::schema::tickets::TICKET_ID || d.kind == Kind::Rating;
            if table == "tickets" && key && s.values.is_empty() {
                sel.scan = Some(ScanParse::Id);
            }
        }
        check_other_files(&source, &select, table)?;
        let (mut df, ragged) = match frame {
            Some(f) => (frame_select(f, &select)?, Vec::new()),
            None => source.read(&select)?,
        };
        source.forget_decoded();
        if df.height() == 0 {
            return Err(Error::from(crate::error::ErrorKind::Empty {
                path: source.spec.clone().into(),
                what: "no data rows".into(),
            }));
        }
        let rows_read = df.height();
        // Rows arrive in file order: numbered within each file, as runs.
        let files = df.column(FILE_COL).ctx(FILE_COL)?.cast(&DataType::UInt32).ctx(FILE_COL)?;
        let ids = RowIds::of_files(files.u32().ctx(FILE_COL)?.into_no_null_iter());
        drop(files);
        let _ = df.drop_in_place(FILE_COL);
        let mut numbered = Numbered { df, ids };
        let findings: Vec<QualityRow> =
            set_ragged_aside(&mut numbered, &ragged, &source, header.len())?.into_iter().collect();
        let Numbered { mut df, ids } = numbered;
        for (d, s) in mapped.iter().filter(|(_, s)| !s.values.is_empty()) {
            df = recode(df, d.name, &s.values)?;
        }
        let df = trim_dimensions(df, &mapped, &extras)?;
        let scan_parsed = source.format == FileFormat::Csv;
        let valid_years = input.valid_years;
        Ok(Self { source, df, mapped, extras, ids, scan_parsed, rows_read, findings, valid_years })
    }

    /// A data-quality collector for this table, holding the findings made
    /// while reading.
    pub(crate) fn collector(&self) -> Collector<'_> {
        collector_of(&self.source, &self.ids, &self.findings)
    }

    /// Counts a converted timestamp column's failures: values outside the
    /// valid years under their own reason, the rest as unparseable, each
    /// with its first values and, when cxm can tell, the format or unit
    /// that would read them.
    pub(crate) fn count_timestamps(&self, q: &mut Collector<'_>, name: &str, p: &Parsed<Micros>) {
        if p.bad.is_empty() {
            return;
        }
        let (mut unparseable, mut out) = (Vec::new(), Vec::new());
        for &i in &p.bad {
            if p.out_of_range.binary_search(&i).is_ok() {
                q.add(Reason::TimestampOutOfRange, name, i);
                out.push(i);
            } else {
                q.add(Reason::UnparseableTimestamp, name, i);
                unparseable.push(i);
            }
        }
        let spec = self.spec(name).cloned().unwrap_or_default();
        for (reason, positions) in [(Reason::UnparseableTimestamp, unparseable), (Reason::TimestampOutOfRange, out)] {
            if positions.is_empty() {
                continue;
            }
            let (texts, hint) = self.timestamp_hint(name, &spec.format, &positions);
            q.describe(reason, name, texts, hint);
        }
    }

    /// The failing timestamps at `positions` (the first
    /// [`DIAGNOSIS_SAMPLE`], as written) and what would read them: the
    /// format or epoch unit of [`crate::parse::timestamp::diagnose`], else
    /// a placeholder to recode, saying how many were tried.
    fn timestamp_hint(
        &self,
        name: &str,
        format: &TimestampFormat,
        positions: &[usize],
    ) -> (Vec<String>, Option<String>) {
        let sample = &positions[..positions.len().min(DIAGNOSIS_SAMPLE)];
        let texts = self.texts_at(name, sample);
        let mut hint =
            crate::parse::timestamp::diagnose(&texts, format, self.valid_years).or_else(|| placeholder_hint(&texts));
        if let Some(h) = hint.as_mut().filter(|_| positions.len() > sample.len()) {
            h.push_str(&format!(" (the first {} of {} tried)", thousands(sample.len()), thousands(positions.len())));
        }
        (texts, hint)
    }

    /// Counts the rows at `positions` under `reason` in column `name`,
    /// with the first values as written.
    pub(crate) fn count_values(&self, q: &mut Collector<'_>, reason: Reason, name: &str, positions: &[usize]) {
        if positions.is_empty() {
            return;
        }
        q.add_all(reason, name, positions);
        let first: Vec<usize> = positions.iter().copied().take(crate::quality::FIRST_VALUES).collect();
        q.describe(reason, name, self.texts_at(name, &first), None);
    }

    /// Counts superseded rows as `duplicate_id` with their ids, and says
    /// how many ids kept their last row (an update log holds many rows per
    /// id: one line, not one finding per row).
    pub(crate) fn count_superseded(&self, q: &mut Collector<'_>, name: &str, ids: &IdColumn, superseded: &[usize]) {
        if superseded.is_empty() {
            return;
        }
        q.add_all(Reason::DuplicateId, name, superseded);
        let distinct = ids.distinct_at(superseded);
        let values = self.texts_at(name, &superseded[..superseded.len().min(crate::quality::FIRST_VALUES)]);
        let hint = match distinct {
            1 => "kept the last row of the one id that occurs more than once".to_owned(),
            n => format!("kept the last row of each of {} ids that occur more than once", thousands(n)),
        };
        q.describe(Reason::DuplicateId, name, values, Some(hint));
    }

    /// The text of a read column at positions `at` (ascending), as written:
    /// taken from the frame when it holds text, else read from the files up
    /// to the last row asked for (a column parsed during the scan keeps no
    /// text).
    pub(crate) fn texts_at(&self, name: &str, at: &[usize]) -> Vec<String> {
        let Ok(c) = self.column(name) else { return Vec::new() };
        if !self.scan_parsed || c.dtype() == &DataType::String {
            let Ok(t) = text(c, name) else { return Vec::new() };
            return at.iter().map(|&i| t.get(i).unwrap_or_default().to_owned()).collect();
        }
        let Some(spec) = self.spec(name) else { return Vec::new() };
        // Read from the files only up to the last row asked for, one field:
        // no second scan of the whole table.
        let Some(index) = self.source.column_index(0, &spec.column, spec.position) else { return Vec::new() };
        let rows: Vec<(u32, u32)> = at.iter().map(|&i| (self.ids.file(i), self.ids.row(i))).collect();
        self.source.cells(&rows, index)
    }

    /// The spec of a canonical column, when present.
    pub fn spec(&self, name: &str) -> Option<&ColumnSpec> {
        self.mapped.iter().find(|(d, _)| d.name == name).map(|(_, s)| s)
    }

    /// Whether a canonical column is present.
    pub fn has(&self, name: &str) -> bool {
        self.spec(name).is_some()
    }

    fn column(&self, name: &str) -> Result<&Column> {
        self.df.column(name).ctx(&format!("reading column {name}"))
    }

    /// The error for a column where no non-empty value parses.
    pub fn nothing_parses<T>(&self, name: &str, p: &Parsed<T>, expected: &str) -> Option<Error> {
        if p.bad.len() != p.nonempty || p.bad.is_empty() {
            return None;
        }
        let all_out_of_range = p.out_of_range.len() == p.bad.len();
        let first = if all_out_of_range {
            p.out_of_range[0]
        } else {
            *p.bad.iter().find(|i| p.out_of_range.binary_search(i).is_err())?
        };
        // A value parsed in the scan left no text behind: read it again.
        let value = match (&p.first_bad, all_out_of_range) {
            (Some(v), false) => v.clone(),
            _ => self.texts_at(name, &[first]).pop().unwrap_or_default(),
        };
        if all_out_of_range {
            return Some(self.out_of_range_at(name, first, &value));
        }
        // For a timestamp column, say which format would read the values.
        let is_timestamp = self.mapped.iter().any(|(d, _)| d.name == name && d.kind == Kind::Timestamp);
        let hint = is_timestamp.then(|| {
            let format = self.spec(name).map(|s| s.format.clone()).unwrap_or_default();
            self.timestamp_hint(name, &format, &p.bad).1.map(|h| format!("{expected}; {h}"))
        });
        let expected = hint.flatten().unwrap_or_else(|| expected.to_owned());
        Some(self.nothing_parses_at(name, first, &value, &expected))
    }

    /// The "no value is a plausible instant" error, with what the value
    /// was read as and which epoch unit would fit.
    fn out_of_range_at(&self, name: &str, i: usize, value: &str) -> Error {
        let spec = self.spec(name).cloned().unwrap_or_default();
        let parser = TimestampParser::new(spec.format.clone(), spec.tz.unwrap_or(chrono_tz::Tz::UTC));
        let read = parser.parse(value);
        let read_as = match read.and_then(chrono::DateTime::from_timestamp_micros) {
            Some(d) if (0..=9999).contains(&chrono::Datelike::year(&d)) => d.format("%Y-%m-%d").to_string(),
            _ => {
                let years = read.map_or(0.0, |t| t as f64 / 31_556_952e6);
                format!("the year {:.0}", 1970.0 + years)
            }
        };
        let fits = |us: Option<f64>| us.is_some_and(|u| u.is_finite() && self.valid_years.contains(u as i64));
        let number = value.trim().parse::<f64>().ok();
        let hint = match spec.format {
            TimestampFormat::EpochSeconds if fits(number.map(|n| n * 1e3)) => {
                "; the values look like epoch milliseconds: set `epoch = \"milliseconds\"` in the column's mapping"
            }
            TimestampFormat::EpochSeconds if fits(number) => {
                "; the values look like epoch microseconds: convert them to seconds or milliseconds"
            }
            TimestampFormat::EpochMillis if fits(number.map(|n| n * 1e6)) => {
                "; the values look like epoch seconds: set `epoch = \"seconds\"` in the column's mapping"
            }
            _ => "",
        };
        Error::from(crate::error::ErrorKind::OutOfRange {
            path: self.source.files[self.ids.file(i) as usize].clone(),
            row: self.source.row_label(self.ids.file(i), self.ids.row(i)),
            column: spec.column.clone(),
            detail: format!(
                "{value:?} reads as {read_as}, outside the valid years {}-{}; no value in this column is a plausible instant{hint}",
                self.valid_years.first(),
                self.valid_years.last()
            ),
        })
    }

    /// The "no value of this column parses" error, shown at the read
    /// position `i` with its text `value` (the column named as in the file).
    pub fn nothing_parses_at(&self, name: &str, i: usize, value: &str, expected: &str) -> Error {
        Error::from(crate::error::ErrorKind::NothingParses {
            path: self.source.files[self.ids.file(i) as usize].clone(),
            row: self.ids.row(i).to_string(),
            column: self.spec(name).map_or(name, |s| s.column.as_str()).to_owned(),
            value: value.to_owned(),
            expected: expected.to_owned(),
        })
    }

    /// Converts a timestamp column to UTC microseconds.
    pub fn timestamps(&self, name: &str, tz: chrono_tz::Tz) -> Result<Parsed<Micros>> {
        let spec = self.spec(name).cloned().unwrap_or_default();
        let parser = TimestampParser::new(spec.format.clone(), spec.tz.unwrap_or(tz));
        let c = self.column(name)?;
        let parsed = match c.dtype() {
            DataType::Int64 if self.scan_parsed => scanned(c.i64().ctx(name)?),
            DataType::Datetime(tu, zone) => {
                let per_us = match tu {
                    TimeUnit::Nanoseconds => 0.001,
                    TimeUnit::Microseconds => 1.0,
                    TimeUnit::Milliseconds => 1000.0,
                };
                let phys = c.cast(&DataType::Int64).ctx(name)?;
                let naive = zone.is_none();
                if per_us == 1.0 && !naive {
                    // Zoned microseconds are the instants as they are:
                    // copied chunk by chunk, no per-value work.
                    return Ok(self.in_valid_years(copied(phys.i64().ctx(name)?)));
                }
                from_ints(phys.i64().ctx(name)?, |v| {
                    let us = if per_us == 0.001 { v.div_euclid(1000) } else { v.checked_mul(per_us as i64)? };
                    if naive {
                        let ndt = chrono::DateTime::from_timestamp_micros(us)?.naive_utc();
                        Some(parser.localize(ndt))
                    } else {
                        Some(us)
                    }
                })
            }
            DataType::Date => {
                let days = c.cast(&DataType::Int32).ctx(name)?;
                let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
                let ca = days.i32().ctx(name)?;
                let mut out = Parsed::with_capacity(ca.len());
                for v in ca.iter() {
                    out.push_opt(v, |d| {
                        let date = epoch.checked_add_signed(chrono::Duration::days(i64::from(d)))?;
                        Some(parser.localize(date.and_time(chrono::NaiveTime::MIN)))
                    });
                }
                out
            }
            _ => from_text(&text(c, name)?, |s| parser.parse(s)),
        };
        Ok(self.in_valid_years(parsed))
    }

    /// Moves parsed instants outside the valid years to `bad` and
    /// `out_of_range`.
    fn in_valid_years(&self, mut p: Parsed<Micros>) -> Parsed<Micros> {
        let (lo, hi) = self.valid_years.bounds();
        let values = &mut p.values;
        for (i, (t, v)) in values.data.iter().zip(values.valid.iter_mut()).enumerate() {
            if *v && (*t < lo || *t >= hi) {
                *v = false;
                p.out_of_range.push(i);
            }
        }
        if !p.out_of_range.is_empty() {
            p.bad.extend_from_slice(&p.out_of_range);
            p.bad.sort_unstable();
        }
        p
    }

    /// Converts an integer column (whole decimals accepted), plus the
    /// mapping's `add`.
    pub fn ints(&self, name: &str) -> Result<Parsed<i64>> {
        let c = self.column(name)?;
        let add = self.spec(name).map_or(0, |s| s.add);
        let mut p = match c.dtype() {
            DataType::Int64 if self.scan_parsed => scanned(c.i64().ctx(name)?),
            DataType::Int64 if !self.scan_parsed => copied(c.i64().ctx(name)?),
            DataType::Int32 => copied(c.i32().ctx(name)?),
            d if d.is_integer() => from_ints(c.cast(&DataType::Int64).ctx(name)?.i64().ctx(name)?, Some),
            d if d.is_float() => from_floats(c.cast(&DataType::Float64).ctx(name)?.f64().ctx(name)?, |f| {
                (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
            }),
            _ => from_text(&text(c, name)?, parse_int),
        };
        if add != 0 {
            p.values.update(|v| Some(v + add));
        }
        Ok(p)
    }

    /// Converts a boolean column.
    pub fn bools(&self, name: &str) -> Result<Parsed<bool>> {
        let c = self.column(name)?;
        Ok(match c.dtype() {
            DataType::Int8 if self.scan_parsed => scanned_flags(c.i8().ctx(name)?),
            DataType::Boolean => {
                // Chunk by chunk: values and validity copied, none fails.
                let ca = c.bool().ctx(name)?;
                let mut out = Parsed::with_capacity(ca.len());
                for arr in ca.downcast_iter() {
                    out.values.extend_from_array(arr.values().iter(), arr.validity().map(|b| b.iter()));
                }
                out.nonempty = ca.len() - ca.null_count();
                out
            }
            _ => from_text(&text(c, name)?, parse_bool),
        })
    }

    /// Converts a decimal column, or a duration column to minutes.
    pub fn floats(&self, name: &str) -> Result<Parsed<f64>> {
        let c = self.column(name)?;
        let unit = self.spec(name).and_then(|s| s.unit);
        let zero_is_missing = self.spec(name).is_some_and(|s| s.zero_is_missing);
        let mut p = match (c.dtype(), unit) {
            (d, u) if d.is_primitive_numeric() && u != Some(DurationUnit::Hms) => {
                let one = duration_minutes("1", u.unwrap_or(DurationUnit::Minutes)).unwrap_or(1.0);
                let factor = if u.is_some() { one } else { 1.0 };
                from_floats(c.cast(&DataType::Float64).ctx(name)?.f64().ctx(name)?, |f| Some(f * factor))
            }
            (_, Some(u)) => from_text(&text(c, name)?, |s| duration_minutes(s, u)),
            _ => from_text(&text(c, name)?, parse_float),
        };
        if zero_is_missing {
            p.values.update(|v| (v != 0.0).then_some(v));
        }
        Ok(p)
    }

    /// An integer column whose every value an `i64` holds exactly, as it
    /// is (no copy), or `None` for any other type (`UInt64` included: a
    /// cast would turn its largest values to nulls).
    pub(crate) fn whole_numbers(&self, name: &str) -> Result<Option<Column>> {
        let c = self.column(name)?;
        let exact = matches!(
            c.dtype(),
            DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::UInt8
                | DataType::UInt16
                | DataType::UInt32
        );
        Ok(exact.then(|| c.clone()))
    }

    /// A numeric column as floats (a Parquet or in-memory number column),
    /// or `None` when the column is text or another type.
    pub(crate) fn numbers(&self, name: &str) -> Result<Option<Float64Chunked>> {
        let c = self.column(name)?;
        if !c.dtype().is_primitive_numeric() {
            return Ok(None);
        }
        Ok(Some(c.cast(&DataType::Float64).ctx(name)?.f64().ctx(name)?.clone()))
    }

    /// An id column: integers as `Int64`, anything else as text.
    pub(crate) fn ids(&self, name: &str) -> Result<IdColumn> {
        let c = self.column(name)?;
        Ok(if c.dtype().is_integer() {
            IdColumn::Int(c.cast(&DataType::Int64).ctx(name)?.i64().ctx(name)?.clone())
        } else {
            IdColumn::Text(text(c, name)?)
        })
    }

    /// The column as text (ids, dimensions, ratings).
    pub fn strings(&self, name: &str) -> Result<StringChunked> {
        text(self.column(name)?, name)
    }
}

/// A collector over a table's parts, so that its read columns can be
/// released (`release`) while findings are still being counted.
pub(crate) fn collector_of<'a>(source: &'a Source, ids: &'a RowIds, findings: &[QualityRow]) -> Collector<'a> {
    let mut q = Collector::new(source, ids);
    for f in findings {
        q.add_labelled(f.clone());
    }
    q
}

/// Frees read columns once they are converted: the scan's copy of a
/// column is not kept beside the converted one (a later read of it fails).
pub(crate) fn release(df: &mut DataFrame, names: &[&str]) {
    for name in names {
        let _ = df.drop_in_place(name);
    }
}

/// Every mapped key is a canonical column of the table, and a preset
/// describes this table.
fn check_mapping(input: &TableInput, table: &str, defs: &[ColumnDef]) -> Result<()> {
    for key in input.columns.keys() {
        if !defs.iter().any(|d| d.name == key) {
            return Err(Error::from(crate::error::ErrorKind::Config(format!(
                "[{table}.columns]: unknown canonical column `{key}` (known: {})",
                defs.iter().map(|d| d.name).collect::<Vec<_>>().join(", ")
            ))));
        }
    }
    if let Some(p) = input.preset.filter(|p| p.table() != table) {
        return Err(Error::from(crate::error::ErrorKind::Config(format!(
            "preset `{}` describes the {} table, not {table}",
            p.name(),
            p.table()
        ))));
    }
    Ok(())
}

/// The selected columns of an in-memory frame under their canonical names,
/// with `__file` = 0 (decimals as floats, as from Parquet).
fn frame_select(df: DataFrame, select: &[Selected]) -> Result<DataFrame> {
    let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    let mut exprs = vec![lit(0u32).alias(FILE_COL)];
    for sel in select {
        let name = match sel.position {
            Some(p) => names.get(p.saturating_sub(1)).cloned().unwrap_or_default(),
            None => sel.source.clone(),
        };
        let dtype = df.column(&name).ctx(&name)?.dtype().clone();
        let c = if dtype.is_decimal() { col(name.as_str()).cast(DataType::Float64) } else { col(name.as_str()) };
        exprs.push(c.alias(sel.canonical.as_str()));
    }
    df.lazy().select(exprs).collect().ctx("reading the frame")
}

/// The error for a table that lacks required columns: every one missing,
/// the closest header names, the config lines that would map them, and a
/// preset whose columns the header matches.
fn missing_columns(
    source: &Source,
    table: &str,
    defs: &[ColumnDef],
    columns: &std::collections::BTreeMap<String, ColumnSpec>,
    header: &[String],
    may_suggest_preset: bool,
) -> Error {
    let missing: Vec<&str> = defs
        .iter()
        .filter(|d| d.required && !columns.contains_key(d.name) && !header.iter().any(|h| h == d.name))
        .map(|d| d.name)
        .collect();
    let closest: Vec<(String, String)> = missing
        .iter()
        .filter_map(|m| crate::mapping::closest(m, header).map(|h| ((*m).to_owned(), h.to_owned())))
        .collect();
    let suggest = if may_suggest_preset {
        Preset::ALL.into_iter().find(|p| p.table() == table && p.recognises(header))
    } else {
        None
    };
    Error::from(crate::error::ErrorKind::MissingColumns(Box::new(crate::error::Missing {
        path: source.files[0].clone(),
        table: table.to_owned(),
        columns: missing.iter().map(|m| (*m).to_owned()).collect(),
        found: header.to_vec(),
        closest,
        suggest,
    })))
}

/// The error for a column cxm reads that the header names more than once
/// (unless the mapping picks one by position).
fn duplicated(source: &Source, header: &[String], spec: &ColumnSpec, canonical: &str) -> Option<Error> {
    let name = if spec.column.is_empty() { canonical } else { spec.column.as_str() };
    let positions: Vec<usize> =
        header.iter().enumerate().filter(|(_, h)| h.as_str() == name).map(|(i, _)| i + 1).collect();
    (positions.len() > 1 && spec.position.is_none()).then(|| {
        Error::from(crate::error::ErrorKind::DuplicateColumn {
            path: source.files[0].clone(),
            column: name.to_owned(),
            canonical: canonical.to_owned(),
            positions,
        })
    })
}

/// Notes every header name that occurs more than once (in columns cxm does
/// not read, or picked by position).
fn note_duplicates(source: &mut Source, header: &[String]) {
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for h in header {
        *seen.entry(h.as_str()).or_default() += 1;
    }
    for (name, n) in seen.into_iter().filter(|(_, n)| *n > 1) {
        source.notes.push(format!("{}: header `{name}` occurs {n} times", source.spec));
    }
}

/// Replaces listed text values of one column (trimmed, exact match).
fn recode(df: DataFrame, name: &str, values: &std::collections::BTreeMap<String, String>) -> Result<DataFrame> {
    let old = Series::new("old".into(), values.keys().cloned().collect::<Vec<_>>());
    let new = Series::new("new".into(), values.values().cloned().collect::<Vec<_>>());
    df.lazy()
        .with_column(
            col(name).cast(DataType::String).str().strip_chars(lit(NULL)).replace(lit(old), lit(new)).alias(name),
        )
        .collect()
        .ctx(&format!("recoding column {name}"))
}

fn text(c: &Column, name: &str) -> Result<StringChunked> {
    Ok(c.cast(&DataType::String).ctx(name)?.str().ctx(name)?.clone())
}

/// The values of one converted column, with the positions that failed.
#[derive(Debug, Clone, Default)]
pub struct Parsed<T> {
    /// One value per read row; `None` for empty or failed values.
    pub values: Values<T>,
    /// Positions of non-empty values that failed.
    pub bad: Vec<usize>,
    /// How many values were non-empty.
    pub nonempty: usize,
    /// The first value that failed, as text.
    pub first_bad: Option<String>,
    /// Positions (ascending, also in `bad`) of timestamps that parsed but
    /// fall outside the valid years.
    pub out_of_range: Vec<usize>,
}

impl<T: Copy + Default> Parsed<T> {
    fn with_capacity(n: usize) -> Self {
        Self {
            values: Values::with_capacity(n),
            bad: Vec::new(),
            nonempty: 0,
            first_bad: None,
            out_of_range: Vec::new(),
        }
    }

    fn push_opt<V: ToString + Copy>(&mut self, v: Option<V>, f: impl Fn(V) -> Option<T>) {
        let out = v.and_then(|v| {
            self.nonempty += 1;
            let r = f(v);
            if r.is_none() {
                if self.first_bad.is_none() {
                    self.first_bad = Some(v.to_string());
                }
                self.bad.push(self.values.len());
            }
            r
        });
        self.values.push(out);
    }
}

/// Every value of an `Int64` or `Int32` column (Parquet's usual integer
/// widths) as an `i64`, chunk by chunk: the values buffer and the validity
/// copied, no per-value closure, no full-height cast first; no value can
/// fail.
fn copied<T>(ca: &ChunkedArray<T>) -> Parsed<i64>
where
    T: PolarsNumericType,
    T::Native: Into<i64>,
{
    let mut out = Parsed::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        out.values.extend_from_array(arr.values().iter().map(|v| (*v).into()), arr.validity().map(|b| b.iter()));
    }
    out.nonempty = ca.len() - ca.null_count();
    out
}

/// A column the CSV reader parsed ([`UNPARSEABLE`] where a value failed),
/// chunk by chunk: the values buffer and the validity copied, then one
/// pass that moves the failures to `bad`. The reader keeps no failing
/// text, so `first_bad` stays `None` (the callers show the values at
/// `bad` from the file).
fn scanned(ca: &Int64Chunked) -> Parsed<i64> {
    let mut out = copied(ca);
    let values = &mut out.values;
    for (i, (d, v)) in values.data.iter().zip(values.valid.iter_mut()).enumerate() {
        if *v && *d == UNPARSEABLE {
            *v = false;
            out.bad.push(i);
        }
    }
    out
}

/// Flags the CSV reader parsed (1, 0, or -1 where a value failed), as
/// [`scanned`] does integers.
fn scanned_flags(ca: &Int8Chunked) -> Parsed<bool> {
    let mut out = Parsed::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        let base = out.values.len();
        out.values.extend_from_array(arr.values().iter().map(|&f| f == 1), arr.validity().map(|b| b.iter()));
        for (i, f) in arr.values().iter().enumerate() {
            if *f < 0 && out.values.valid[base + i] {
                out.values.valid[base + i] = false;
                out.bad.push(base + i);
            }
        }
    }
    out.nonempty = ca.len() - ca.null_count();
    out
}

fn from_ints<T: Copy + Default>(ca: &Int64Chunked, f: impl Fn(i64) -> Option<T>) -> Parsed<T> {
    let mut out = Parsed::with_capacity(ca.len());
    for v in ca.iter() {
        out.push_opt(v, &f);
    }
    out
}

fn from_floats<T: Copy + Default>(ca: &Float64Chunked, f: impl Fn(f64) -> Option<T>) -> Parsed<T> {
    let mut out = Parsed::with_capacity(ca.len());
    for v in ca.iter() {
        out.push_opt(v, |x: f64| if x.is_finite() { f(x) } else { None });
    }
    out
}

fn from_text<T: Copy + Default>(ca: &StringChunked, f: impl Fn(&str) -> Option<T>) -> Parsed<T> {
    let mut out = Parsed::with_capacity(ca.len());
    for v in ca.iter() {
        let v = v.filter(|s| !s.trim().is_empty());
        let r = v.and_then(|s| {
            out.nonempty += 1;
            let r = f(s);
            if r.is_none() {
                if out.first_bad.is_none() {
                    out.first_bad = Some(s.to_owned());
                }
                out.bad.push(out.values.len());
            }
            r
        });
        out.values.push(r);
    }
    out
}

/// One value per row, `None` for an empty or failed value: the values and
/// their validity side by side (9 bytes a row for 8-byte values, where
/// `Vec<Option<i64>>` takes 16), moved into a polars column without a copy.
///
/// ```
/// use metrics_core::raw::Values;
/// let mut v: Values<i64> = [Some(3), None].into_iter().collect();
/// v.push(Some(5));
/// assert_eq!(v.iter().collect::<Vec<_>>(), [Some(3), None, Some(5)]);
/// v.clear(0);
/// assert_eq!((v.get(0), v.get(2), v.len()), (None, Some(5), 3));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values<T> {
    data: Vec<T>,
    valid: Vec<bool>,
}

impl<T: Copy + Default> Values<T> {
    /// Empty, with room for `n` values.
    pub fn with_capacity(n: usize) -> Self {
        Self { data: Vec::with_capacity(n), valid: Vec::with_capacity(n) }
    }

    /// `n` missing values.
    pub fn nones(n: usize) -> Self {
        Self { data: vec![T::default(); n], valid: vec![false; n] }
    }

    /// Appends a run of values with their validity (`None`: all valid).
    fn extend_from_array(
        &mut self,
        values: impl ExactSizeIterator<Item = T>,
        validity: Option<impl Iterator<Item = bool>>,
    ) {
        let n = values.len();
        self.data.extend(values);
        match validity {
            Some(v) => self.valid.extend(v),
            None => self.valid.extend(std::iter::repeat_n(true, n)),
        }
    }

    /// Appends a value.
    pub fn push(&mut self, v: Option<T>) {
        self.data.push(v.unwrap_or_default());
        self.valid.push(v.is_some());
    }

    /// The value of row `i` (panics past the end, like indexing).
    #[inline]
    pub fn get(&self, i: usize) -> Option<T> {
        if self.valid[i] { Some(self.data[i]) } else { None }
    }

    /// Every row's value (a default where missing), for loops that read
    /// [`Self::validity`] beside it.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// Whether each row has a value.
    pub fn validity(&self) -> &[bool] {
        &self.valid
    }

    /// The largest value among the rows that have one and are `true` in
    /// `rows` (as long as the values), or `None`.
    ///
    /// ```
    /// use metrics_core::raw::Values;
    /// let v: Values<i64> = [Some(3), None, Some(9), Some(5)].into_iter().collect();
    /// assert_eq!(v.max_where(&[true, true, false, true]), Some(5));
    /// assert_eq!(v.max_where(&[false, true, false, false]), None);
    /// ```
    pub fn max_where(&self, rows: &[bool]) -> Option<T>
    where
        T: Ord,
    {
        let rows = self.data.iter().zip(&self.valid).zip(rows);
        rows.filter(|((_, v), r)| **v && **r).map(|((d, _), _)| *d).max()
    }

    /// Sets row `i` to `v` (panics past the end, like indexing).
    #[inline]
    pub fn set(&mut self, i: usize, v: T) {
        self.data[i] = v;
        self.valid[i] = true;
    }

    /// Sets row `i` to missing.
    #[inline]
    pub fn clear(&mut self, i: usize) {
        self.valid[i] = false;
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Every row's value in order.
    pub fn iter(&self) -> impl Iterator<Item = Option<T>> + '_ {
        self.data.iter().zip(&self.valid).map(|(d, v)| v.then_some(*d))
    }

    /// Applies `f` to every present value in place.
    pub fn update(&mut self, f: impl Fn(T) -> Option<T>) {
        for (d, v) in self.data.iter_mut().zip(self.valid.iter_mut()) {
            if *v {
                match f(*d) {
                    Some(x) => *d = x,
                    None => *v = false,
                }
            }
        }
    }

    /// The values at rows `keep`, in order.
    pub fn take(&self, keep: &[usize]) -> Self {
        keep.iter().map(|&i| self.get(i)).collect()
    }
}

/// The validity bitmap of a [`Values`] (none when every value is present),
/// built through a boolean array: polars does not re-export the type.
macro_rules! validity {
    ($valid:expr) => {
        $valid.iter().any(|v| !v).then(|| {
            BooleanChunked::from_slice(PlSmallStr::EMPTY, $valid).rechunk().downcast_as_array().values().clone()
        })
    };
}

impl<T: Copy + Default> FromIterator<Option<T>> for Values<T> {
    fn from_iter<I: IntoIterator<Item = Option<T>>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let mut out = Self::with_capacity(iter.size_hint().0);
        iter.for_each(|v| out.push(v));
        out
    }
}

impl Values<i64> {
    /// An `Int64` column, moving the values.
    pub fn into_column(self, name: &str) -> Column {
        let validity = validity!(&self.valid);
        Int64Chunked::from_vec_validity(name.into(), self.data, validity).into_column()
    }

    /// An `Int32` column when every value fits (counts such as `reopens`:
    /// half the memory of `Int64`), else an `Int64` one ([`Self::into_column`]).
    ///
    /// ```
    /// use metrics_core::polars::prelude::DataType;
    /// use metrics_core::raw::Values;
    /// let small: Values<i64> = [Some(3), None].into_iter().collect();
    /// assert_eq!(small.into_narrow_column("n").dtype(), &DataType::Int32);
    /// let big: Values<i64> = [Some(1 << 40)].into_iter().collect();
    /// assert_eq!(big.into_narrow_column("n").dtype(), &DataType::Int64);
    /// ```
    pub fn into_narrow_column(self, name: &str) -> Column {
        if !self.data.iter().all(|v| i32::try_from(*v).is_ok()) {
            return self.into_column(name);
        }
        let validity = validity!(&self.valid);
        let data: Vec<i32> = self.data.iter().map(|v| *v as i32).collect();
        drop(self);
        Int32Chunked::from_vec_validity(name.into(), data, validity).into_column()
    }

    /// A UTC microsecond `Datetime` column, moving the values.
    pub fn into_datetime(self, name: &str) -> Column {
        let validity = validity!(&self.valid);
        Int64Chunked::from_vec_validity(name.into(), self.data, validity)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_column()
    }
}

impl Values<i32> {
    /// A `Date` column of days since the epoch, moving the values.
    pub fn into_date(self, name: &str) -> DateChunked {
        let validity = validity!(&self.valid);
        Int32Chunked::from_vec_validity(name.into(), self.data, validity).into_date()
    }
}

impl Values<f64> {
    /// A `Float64` column, moving the values.
    pub fn into_column(self, name: &str) -> Column {
        let validity = validity!(&self.valid);
        Float64Chunked::from_vec_validity(name.into(), self.data, validity).into_column()
    }
}

impl Values<i8> {
    /// An `Int8` column, moving the values.
    pub fn into_column(self, name: &str) -> Column {
        let validity = validity!(&self.valid);
        Int8Chunked::from_vec_validity(name.into(), self.data, validity).into_column()
    }
}

impl Values<bool> {
    /// A `Boolean` column: the values and the validity as bitmaps.
    pub fn into_column(self, name: &str) -> Column {
        let validity = validity!(&self.valid);
        let values = BooleanChunked::from_slice(name.into(), &self.data);
        let array = values.rechunk().downcast_as_array().clone().with_validity(validity);
        BooleanChunked::with_chunk(name.into(), array).into_column()
    }
}

/// Builds a UTC microsecond Datetime column.
pub fn datetime_column(name: &str, values: impl Iterator<Item = Option<Micros>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values)
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column()
}

/// Each row's group (its values of the columns `by`) as one text key,
/// `\u{1f}` after each value and `\u{0}` for a null: for matching rows of
/// two small tables by group.
pub fn group_keys(df: &DataFrame, by: &[String]) -> Result<Vec<String>> {
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

/// Rows superseded by a later usable row with the same id (docs/data-contract.md, "Duplicates"),
/// ascending: the last usable row of each id wins. Rows that are not
/// `usable` take no part (callers leave empty ids out of `usable`).
/// Whole-number ids (the common case) avoid string hashing: a dense table
/// indexed by id when their range is small, else a hash of integers; other
/// ids hash as text.
pub fn superseded_rows(ids: &StringChunked, usable: &[bool]) -> Vec<usize> {
    // Iterated, never collected: a chunked array's random access is slow
    // and a full-height Vec<Option<&str>> is 16 bytes a row.
    let numeric: Option<Vec<u64>> = ids
        .iter()
        .zip(usable)
        .filter(|(_, u)| **u)
        .map(|(v, _)| {
            let b = v?.as_bytes();
            (!b.is_empty() && b.len() <= 19 && b.iter().all(u8::is_ascii_digit) && (b.len() == 1 || b[0] != b'0'))
                .then(|| b.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0')))
        })
        .collect();
    let mut superseded = match numeric {
        Some(keys) => superseded_by_keys(&keys, usable.len(), (0..usable.len()).filter(|&i| usable[i])),
        None => {
            let mut superseded = Vec::new();
            let mut last: PlHashMap<&str, usize> = PlHashMap::with_capacity(usable.len());
            for (i, id) in ids.iter().enumerate().filter(|(i, _)| usable[*i]) {
                if let Some(prev) = id.and_then(|id| last.insert(id, i)) {
                    superseded.push(prev);
                }
            }
            superseded
        }
    };
    superseded.sort_unstable();
    superseded
}

/// [`superseded_rows`] for an integer id column (a Parquet or in-memory
/// integer column): the integers are the keys, no text is made.
pub fn superseded_int_rows(ids: &Int64Chunked, usable: &[bool]) -> Vec<usize> {
    // Order-preserving map of i64 onto u64.
    let mut keys = Vec::with_capacity(usable.len());
    let mut at = 0;
    for arr in ids.downcast_iter() {
        let usable = &usable[at..at + arr.len()];
        at += arr.len();
        let key = |k: i64| (k as u64) ^ (1 << 63);
        match arr.validity() {
            None => keys.extend(arr.values().iter().zip(usable).filter(|(_, u)| **u).map(|(k, _)| key(*k))),
            Some(valid) => keys.extend(arr.values().iter().zip(valid.iter()).zip(usable).filter(|(_, u)| **u).map(
                |((k, v), _)| {
                    if v { key(*k) } else { 0 }
                },
            )),
        }
    }
    let mut superseded = superseded_by_keys(&keys, usable.len(), (0..usable.len()).filter(|&i| usable[i]));
    superseded.sort_unstable();
    superseded
}

/// The positions (all below `rows`) superseded by a later one with the
/// same key (`keys[j]` is the key of the j-th position): a dense table of
/// the last position per key when the keys' range is small, else a hash of
/// integers.
fn superseded_by_keys(keys: &[u64], rows: usize, positions: impl Iterator<Item = usize>) -> Vec<usize> {
    if keys.windows(2).all(|w| w[0] < w[1]) {
        // Ascending keys (an export sorted by id) are distinct.
        return Vec::new();
    }
    let mut superseded = Vec::new();
    let (lo, hi) = keys.iter().fold((u64::MAX, 0), |(lo, hi), k| (lo.min(*k), hi.max(*k)));
    if !keys.is_empty() && hi - lo <= 8 * keys.len() as u64 && rows < u32::MAX as usize {
        let mut last = vec![u32::MAX; usize::try_from(hi - lo + 1).unwrap_or(0)];
        for (k, i) in keys.iter().zip(positions) {
            let slot = &mut last[(k - lo) as usize];
            if *slot != u32::MAX {
                superseded.push(*slot as usize);
            }
            *slot = u32::try_from(i).unwrap_or(u32::MAX);
        }
    } else {
        let mut last: PlHashMap<u64, usize> = PlHashMap::with_capacity(keys.len());
        for (k, i) in keys.iter().zip(positions) {
            if let Some(prev) = last.insert(*k, i) {
                superseded.push(prev);
            }
        }
    }
    superseded
}

/// A table's id column: integers stay integers (no text copy of millions
/// of ids), anything else is text.
#[derive(Debug, Clone)]
pub enum IdColumn {
    /// An integer column (Parquet, an in-memory frame).
    Int(Int64Chunked),
    /// Text.
    Text(StringChunked),
}

impl IdColumn {
    /// The rows whose id is missing (null, or blank text), ascending.
    pub fn missing(&self) -> Vec<usize> {
        let rows =
            |missing: &mut dyn Iterator<Item = bool>| missing.enumerate().filter(|(_, m)| *m).map(|(i, _)| i).collect();
        match self {
            Self::Int(c) if c.null_count() == 0 => Vec::new(),
            Self::Int(c) => rows(&mut c.iter().map(|v| v.is_none())),
            Self::Text(c) => rows(&mut c.iter().map(|v| v.is_none_or(|s| s.trim().is_empty()))),
        }
    }

    /// Rows superseded by a later usable row with the same id
    /// ([`superseded_rows`]).
    pub fn superseded(&self, usable: &[bool]) -> Vec<usize> {
        match self {
            Self::Int(c) => superseded_int_rows(c, usable),
            Self::Text(c) => superseded_rows(c, usable),
        }
    }

    /// Distinct ids at rows `at`.
    pub fn distinct_at(&self, at: &[usize]) -> usize {
        match self {
            Self::Int(c) => at.iter().map(|&i| c.get(i)).collect::<std::collections::HashSet<_>>().len(),
            Self::Text(c) => at.iter().map(|&i| c.get(i)).collect::<std::collections::HashSet<_>>().len(),
        }
    }

    /// The column, under `name`.
    pub fn into_column(self, name: &str) -> Column {
        match self {
            Self::Int(c) => c.with_name(name.into()).into_column(),
            Self::Text(c) => c.with_name(name.into()).into_column(),
        }
    }
}

/// A hint when every failing value is one short token (`?`, `N/A`, `-`):
/// an export's way of writing "no value", which `values` can recode.
fn placeholder_hint(texts: &[String]) -> Option<String> {
    let first = texts.first()?.trim();
    let same = texts.iter().all(|t| t.trim() == first);
    (same && !first.is_empty() && first.chars().count() <= 6 && !first.chars().any(|c| c.is_ascii_digit())).then(|| {
        format!("every failing value is {first:?}: if it means no value, map it to empty with `values = {{ {first:?} = \"\" }}`")
    })
}

/// How many failing values the format diagnosis looks at.
const DIAGNOSIS_SAMPLE: usize = 200;

/// Kinds' names for error messages.
pub fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Timestamp => "a timestamp",
        Kind::Int => "an integer",
        Kind::Bool => "a boolean",
        Kind::Float | Kind::Duration => "a number",
        Kind::Rating => "a rating",
        Kind::Id | Kind::Text => "text",
    }
}

/// Each wanted canonical column and where it comes from: the mapping
/// (config over preset), else a header of the same name. A required column
/// that is neither is an error naming every missing one; a mapped column
/// not in the header or named twice is an error.
fn map_columns(
    input: &TableInput,
    table: &str,
    defs: &[ColumnDef],
    wanted: impl Fn(&ColumnDef) -> bool,
    source: &Source,
    header: &[String],
) -> Result<Vec<(ColumnDef, ColumnSpec)>> {
    let mut columns = input.preset.map(|p| p.columns(header)).unwrap_or_default();
    columns.extend(input.columns.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut mapped = Vec::new();
    for def in defs {
        let spec = match columns.get(def.name) {
            Some(spec) if !header.contains(&spec.column) => {
                return Err(Error::from(crate::error::ErrorKind::MappedColumnMissing {
                    path: source.files[0].clone(),
                    canonical: def.name.to_owned(),
                    source_column: spec.column.clone(),
                    found: header.to_vec(),
                }));
            }
            Some(spec) => spec.clone(),
            None if header.iter().any(|h| h == def.name) => ColumnSpec::named(def.name),
            None if def.required => {
                return Err(missing_columns(source, table, defs, &columns, header, input.preset.is_none()));
            }
            None => continue,
        };
        if wanted(def) {
            if let Some(e) = duplicated(source, header, &spec, def.name) {
                return Err(e);
            }
            mapped.push((*def, spec));
        }
    }
    Ok(mapped)
}

/// The columns to read and how the scan parses each: timestamps, ints
/// and bools while reading (unless recoded: those are read as text,
/// recoded, then parsed), the rest as text.
fn selection(mapped: &[(ColumnDef, ColumnSpec)], extras: &[String], tz: chrono_tz::Tz) -> Vec<Selected> {
    let mut select: Vec<Selected> = mapped
        .iter()
        .map(|(d, s)| Selected {
            source: s.column.clone(),
            canonical: d.name.to_owned(),
            scan: match d.kind {
                Kind::Timestamp if s.values.is_empty() => {
                    Some(ScanParse::Timestamp(TimestampParser::new(s.format.clone(), s.tz.unwrap_or(tz))))
                }
                Kind::Int if s.values.is_empty() => Some(ScanParse::Int),
                Kind::Bool if s.values.is_empty() => Some(ScanParse::Bool),
                _ => None,
            },
            position: s.position,
        })
        .collect();
    select.extend(extras.iter().map(|e| Selected {
        source: e.clone(),
        canonical: e.clone(),
        scan: None,
        position: None,
    }));
    select
}

/// Every file after the first has every selected column.
fn check_other_files(source: &Source, select: &[Selected], table: &str) -> Result<()> {
    for i in 1..source.files.len() {
        let cols = source.columns(i)?;
        if let Some(sel) = select.iter().find(|sel| !cols.contains(&sel.source)) {
            let (s, c) = (&sel.source, &sel.canonical);
            return Err(Error::from(crate::error::ErrorKind::MissingColumn {
                path: source.files[i].clone(),
                table: table.to_owned(),
                column: if s == c { c.clone() } else { format!("{c} (source column `{s}`)") },
                found: cols,
                suggest: None,
            }));
        }
    }
    Ok(())
}

/// The rows read, with each row's file and row number within it.
struct Numbered {
    df: DataFrame,
    ids: RowIds,
}

/// Sets ragged rows aside (`ragged_row`, found by the CSV check pass) and
/// returns their finding; when no row is left the table is unusable.
fn set_ragged_aside(
    t: &mut Numbered,
    ragged: &[(u32, u32, u32)],
    source: &Source,
    header_len: usize,
) -> Result<Option<QualityRow>> {
    let Some(&(first_file, first_row, first_fields)) = ragged.first() else { return Ok(None) };
    let finding = QualityRow {
        reason: Reason::RaggedRow,
        column: String::new(),
        count: ragged.len() as u64,
        first_rows: ragged.iter().take(FIRST_ROWS).map(|(f, r, _)| source.row_label(*f, *r)).collect(),
        first_values: Vec::new(),
        hint: Some(format!(
            "row {} has {first_fields} fields, the header {header_len}: an unquoted separator or a cut line",
            source.row_label(first_file, first_row),
        )),
    };
    let set: std::collections::HashSet<(u32, u32)> = ragged.iter().map(|(f, r, _)| (*f, *r)).collect();
    let keep: Vec<bool> = (0..t.ids.len()).map(|i| !set.contains(&(t.ids.file(i), t.ids.row(i)))).collect();
    t.df = t.df.filter(&BooleanChunked::from_slice("keep".into(), &keep)).ctx("setting ragged rows aside")?;
    t.ids = t.ids.kept(&keep);
    if t.df.height() == 0 {
        return Err(Error::from(crate::error::ErrorKind::Empty {
            path: source.spec.clone().into(),
            what: format!(
                "no usable rows: every row has a different number of fields than the header (row {first_row} has {first_fields}); check the separator"
            ),
        }));
    }
    Ok(Some(finding))
}

/// Dimensions are trimmed: `Billing ` and `Billing` are one group, and a
/// blank value is no value.
fn trim_dimensions(df: DataFrame, mapped: &[(ColumnDef, ColumnSpec)], extras: &[String]) -> Result<DataFrame> {
    let dims: Vec<&str> = mapped
        .iter()
        .filter(|(d, _)| d.kind == Kind::Text)
        .map(|(d, _)| d.name)
        .chain(extras.iter().map(String::as_str))
        .filter(|n| df.column(n).is_ok_and(|c| c.dtype() == &DataType::String))
        .collect();
    if dims.is_empty() {
        return Ok(df);
    }
    let trimmed: Vec<Expr> = dims
        .iter()
        .map(|n| {
            let t = col(*n).str().strip_chars(lit(NULL));
            when(t.clone().eq(lit(""))).then(lit(NULL).cast(DataType::String)).otherwise(t).alias(*n)
        })
        .collect();
    df.lazy().with_columns(trimmed).collect().ctx("trimming dimensions")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sup(ids: &[Option<&str>], usable: &[bool]) -> Vec<usize> {
        let ca = StringChunked::from_iter_options("id".into(), ids.iter().copied());
        superseded_rows(&ca, usable)
    }

    #[test]
    fn the_last_usable_row_of_an_id_wins_on_every_path() {
        let all = [true; 6];
        // Dense whole numbers.
        assert_eq!(sup(&[Some("1"), Some("2"), Some("1"), Some("3"), Some("2"), Some("1")], &all), [0, 1, 2]);
        // Sparse whole numbers (hashed as integers).
        let sparse = [Some("5"), Some("99999999999"), Some("5"), Some("7"), Some("1"), Some("99999999999")];
        assert_eq!(sup(&sparse, &all), [0, 1]);
        // Text ids, and "007" is not "7".
        let text = [Some("a"), Some("007"), Some("7"), Some("a"), None, Some("b")];
        assert_eq!(sup(&text, &all), [0]);
        // Unusable rows neither win nor lose.
        let usable = [true, true, false, true, true, true];
        assert_eq!(sup(&[Some("1"), Some("2"), Some("1"), Some("3"), Some("2"), Some("4")], &usable), [1]);
    }

    proptest::proptest! {
        /// Integer ids give what the same ids written as text give, on the
        /// dense and the hashed path (negative ids included).
        #[test]
        fn integer_ids_agree_with_their_text(
            ids in proptest::collection::vec(proptest::option::of(-5i64..5), 0..60),
            far in proptest::bool::ANY,
            usable in proptest::collection::vec(proptest::bool::ANY, 60),
        ) {
            let ids: Vec<Option<i64>> = ids.iter().map(|v| v.map(|k| if far { k * 1_000_000_007 } else { k })).collect();
            let usable: Vec<bool> =
                ids.iter().zip(&usable).map(|(id, u)| *u && id.is_some()).collect();
            let ints = Int64Chunked::from_iter_options("id".into(), ids.iter().copied());
            let text: Vec<Option<String>> = ids.iter().map(|v| v.map(|k| k.to_string())).collect();
            let text = StringChunked::from_iter_options("id".into(), text.iter().map(|t| t.as_deref()));
            proptest::prop_assert_eq!(superseded_int_rows(&ints, &usable), superseded_rows(&text, &usable));
        }
    }
}

/// Where each row of a read table came from: its file (index into the
/// source's files) and its one-based row number within that file. Rows
/// arrive in file order, numbered consecutively, so they are kept as runs
/// (one per file, plus one after each row set aside), not two numbers per
/// row.
///
/// ```
/// use metrics_core::raw::RowIds;
/// let ids = RowIds::of_files([0, 0, 0, 1, 1].into_iter());
/// assert_eq!((ids.file(2), ids.row(2), ids.file(3), ids.row(3)), (0, 3, 1, 1));
/// let kept = ids.kept(&[true, false, true, true, true]);
/// assert_eq!((kept.len(), kept.row(1), kept.row(2)), (4, 3, 1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowIds {
    /// Position of each run's first row.
    starts: Vec<usize>,
    /// Each run's file.
    files: Vec<u32>,
    /// Each run's first row number.
    first_rows: Vec<u32>,
    len: usize,
}

impl RowIds {
    /// The rows of files read in order: `files` gives each row's file.
    pub fn of_files(files: impl Iterator<Item = u32>) -> Self {
        let mut ids = Self::default();
        for f in files {
            if ids.files.last() != Some(&f) {
                ids.push_run(f, 1);
            }
            ids.len += 1;
        }
        ids
    }

    fn push_run(&mut self, file: u32, first_row: u32) {
        self.starts.push(self.len);
        self.files.push(file);
        self.first_rows.push(first_row);
    }

    /// Rows in the table.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn run(&self, i: usize) -> usize {
        self.starts.partition_point(|&s| s <= i).saturating_sub(1)
    }

    /// The file of row `i`.
    pub fn file(&self, i: usize) -> u32 {
        self.files.get(self.run(i)).copied().unwrap_or(0)
    }

    /// The one-based row number of row `i` within its file.
    pub fn row(&self, i: usize) -> u32 {
        let r = self.run(i);
        match (self.first_rows.get(r), self.starts.get(r)) {
            (Some(first), Some(start)) => first + (i - start) as u32,
            _ => 0,
        }
    }

    /// The rows where `keep` is true, in order.
    pub fn kept(&self, keep: &[bool]) -> Self {
        let mut out = Self::default();
        let mut last: Option<(u32, u32)> = None;
        for (i, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
            let (f, r) = (self.file(i), self.row(i));
            if last != Some((f, r.wrapping_sub(1))) {
                out.push_run(f, r);
            }
            out.len += 1;
            last = Some((f, r));
        }
        out
    }
}

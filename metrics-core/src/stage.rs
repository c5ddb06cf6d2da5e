//! Staging: resolve a table's mapping against its files, read only the
//! columns it needs, and convert each value to its canonical type, keeping
//! track of every value that fails so it can be counted.
//!
//! Conversion is plain Rust over the read columns (one pass per column,
//! columns in parallel), because each value is tried against every accepted
//! form and each failure must be counted with its row.

use polars::prelude::*;

use crate::error::PolarsContext;
use crate::mapping::{ColumnSpec, DurationUnit, TableInput, duration_minutes};
use crate::parse::timestamp::{Micros, TimestampParser};
use crate::parse::values::{parse_bool, parse_float, parse_int};
use crate::preset::Preset;
use crate::schema::{ColumnDef, Kind};
use crate::source::{FILE_COL, FileFormat, ScanParse, Selected, Source, UNPARSEABLE};
use crate::{Error, Result};

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
    /// File index of each row.
    pub files: Vec<u32>,
    /// One-based row number of each row within its file.
    pub rows: Vec<u32>,
    /// Whether timestamp columns were parsed during the scan (CSV input).
    pub scan_parsed: bool,
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
        for key in input.columns.keys() {
            if !defs.iter().any(|d| d.name == key) {
                return Err(Error::Config(format!(
                    "[{table}.columns]: unknown canonical column `{key}` (known: {})",
                    defs.iter().map(|d| d.name).collect::<Vec<_>>().join(", ")
                )));
            }
        }
        if let Some(p) = input.preset.filter(|p| p.table() != table) {
            return Err(Error::Config(format!("preset `{}` describes the {} table, not {table}", p.name(), p.table())));
        }
        let source = Source::resolve(&input.path)?;
        let header = source.columns(0)?;
        let mut columns = input.preset.map(|p| p.columns(&header)).unwrap_or_default();
        columns.extend(input.columns.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut mapped = Vec::new();
        for def in defs {
            let spec = match columns.get(def.name) {
                Some(spec) => {
                    if !header.contains(&spec.column) {
                        return Err(Error::MappedColumnMissing {
                            path: source.files[0].clone(),
                            canonical: def.name.to_owned(),
                            source_column: spec.column.clone(),
                            found: header,
                        });
                    }
                    spec.clone()
                }
                None if header.iter().any(|h| h == def.name) => ColumnSpec::named(def.name),
                None if def.required => {
                    let suggest = match input.preset {
                        None => Preset::ALL.into_iter().find(|p| p.table() == table && p.recognises(&header)),
                        Some(_) => None,
                    };
                    return Err(Error::MissingColumn {
                        path: source.files[0].clone(),
                        table: table.to_owned(),
                        column: def.name.to_owned(),
                        found: header,
                        suggest,
                    });
                }
                None => continue,
            };
            if wanted(def) {
                mapped.push((*def, spec));
            }
        }
        let taken: Vec<&str> =
            mapped.iter().map(|(d, s)| if s.column.is_empty() { d.name } else { s.column.as_str() }).collect();
        let extras: Vec<String> = extras
            .iter()
            .filter(|e| !defs.iter().any(|d| d.name == e.as_str()) && header.contains(e))
            .filter(|e| !taken.contains(&e.as_str()))
            .cloned()
            .collect();
        let mut select: Vec<Selected> = mapped
            .iter()
            .map(|(d, s)| Selected {
                source: s.column.clone(),
                canonical: d.name.to_owned(),
                scan: match d.kind {
                    Kind::Timestamp => {
                        Some(ScanParse::Timestamp(TimestampParser::new(s.format.clone(), s.tz.unwrap_or(tz))))
                    }
                    Kind::Int if s.values.is_empty() => Some(ScanParse::Int),
                    Kind::Bool if s.values.is_empty() => Some(ScanParse::Bool),
                    _ => None,
                },
            })
            .collect();
        select.extend(extras.iter().map(|e| Selected { source: e.clone(), canonical: e.clone(), scan: None }));
        for i in 1..source.files.len() {
            let cols = source.columns(i)?;
            if let Some(sel) = select.iter().find(|sel| !cols.contains(&sel.source)) {
                let (s, c) = (&sel.source, &sel.canonical);
                return Err(Error::MissingColumn {
                    path: source.files[i].clone(),
                    table: table.to_owned(),
                    column: if s == c { c.clone() } else { format!("{c} (source column `{s}`)") },
                    found: cols,
                    suggest: None,
                });
            }
        }
        let mut df = source.read(&select)?;
        if df.height() == 0 {
            return Err(Error::Empty { path: source.spec.clone().into(), what: "no data rows".into() });
        }
        let files = u32_values(&df, FILE_COL)?;
        // Rows arrive in file order: number them within each file.
        let mut rows = Vec::with_capacity(files.len());
        let mut current = (u32::MAX, 0u32);
        for &f in &files {
            current = if f == current.0 { (f, current.1 + 1) } else { (f, 1) };
            rows.push(current.1);
        }
        for (d, s) in mapped.iter().filter(|(_, s)| !s.values.is_empty()) {
            df = recode(df, d.name, &s.values)?;
        }
        let scan_parsed = source.format == FileFormat::Csv;
        Ok(Self { source, df, mapped, extras, files, rows, scan_parsed })
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
        let first = *p.bad.first()?;
        if p.bad.len() != p.nonempty {
            return None;
        }
        let column = self.spec(name).map_or(name, |s| s.column.as_str());
        // A value parsed in the scan left no text behind: read it again.
        let value = p.first_bad.clone().or_else(|| self.source.cell(self.files[first], self.rows[first], column));
        Some(self.nothing_parses_at(name, first, &value.unwrap_or_default(), expected))
    }

    /// The "no value of this column parses" error, shown at the read
    /// position `i` with its text `value` (the column named as in the file).
    pub fn nothing_parses_at(&self, name: &str, i: usize, value: &str, expected: &str) -> Error {
        Error::NothingParses {
            path: self.source.files[self.files[i] as usize].clone(),
            row: self.rows[i].to_string(),
            column: self.spec(name).map_or(name, |s| s.column.as_str()).to_owned(),
            value: value.to_owned(),
            expected: expected.to_owned(),
        }
    }

    /// Converts a timestamp column to UTC microseconds.
    pub fn timestamps(&self, name: &str, tz: chrono_tz::Tz) -> Result<Parsed<Micros>> {
        let spec = self.spec(name).cloned().unwrap_or_default();
        let parser = TimestampParser::new(spec.format.clone(), spec.tz.unwrap_or(tz));
        let c = self.column(name)?;
        let parsed = match c.dtype() {
            DataType::Int64 if self.scan_parsed => {
                let mut out = from_ints(c.i64().ctx(name)?, |v| (v != UNPARSEABLE).then_some(v));
                out.first_bad = None;
                out
            }
            DataType::Datetime(tu, zone) => {
                let per_us = match tu {
                    TimeUnit::Nanoseconds => 0.001,
                    TimeUnit::Microseconds => 1.0,
                    TimeUnit::Milliseconds => 1000.0,
                };
                let phys = c.cast(&DataType::Int64).ctx(name)?;
                let naive = zone.is_none();
                from_ints(phys.i64().ctx(name)?, |v| {
                    let us = if per_us == 0.001 { v.div_euclid(1000) } else { v * per_us as i64 };
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
        Ok(parsed)
    }

    /// Converts an integer column (whole decimals accepted), plus the
    /// mapping's `add`.
    pub fn ints(&self, name: &str) -> Result<Parsed<i64>> {
        let c = self.column(name)?;
        let add = self.spec(name).map_or(0, |s| s.add);
        let mut p = match c.dtype() {
            DataType::Int64 if self.scan_parsed => {
                let mut out = from_ints(c.i64().ctx(name)?, |v| (v != UNPARSEABLE).then_some(v));
                out.first_bad = None;
                out
            }
            d if d.is_integer() => from_ints(c.cast(&DataType::Int64).ctx(name)?.i64().ctx(name)?, Some),
            d if d.is_float() => from_floats(c.cast(&DataType::Float64).ctx(name)?.f64().ctx(name)?, |f| {
                (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
            }),
            _ => from_text(&text(c, name)?, parse_int),
        };
        if add != 0 {
            p.values.iter_mut().flatten().for_each(|v| *v += add);
        }
        Ok(p)
    }

    /// Converts a boolean column.
    pub fn bools(&self, name: &str) -> Result<Parsed<bool>> {
        let c = self.column(name)?;
        Ok(match c.dtype() {
            DataType::Int8 if self.scan_parsed => {
                let ca = c.i8().ctx(name)?;
                let mut out = Parsed::with_capacity(ca.len());
                for v in ca.iter() {
                    out.push_opt(v, |b| (b >= 0).then_some(b == 1));
                }
                out.first_bad = None;
                out
            }
            DataType::Boolean => {
                let ca = c.bool().ctx(name)?;
                let mut out = Parsed::with_capacity(ca.len());
                for v in ca.iter() {
                    out.push_opt(v, Some);
                }
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
            p.values.iter_mut().filter(|v| **v == Some(0.0)).for_each(|v| *v = None);
        }
        Ok(p)
    }

    /// The column as text (ids, dimensions, ratings).
    pub fn strings(&self, name: &str) -> Result<StringChunked> {
        text(self.column(name)?, name)
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

fn u32_values(df: &DataFrame, name: &str) -> Result<Vec<u32>> {
    let c = df.column(name).ctx(name)?.cast(&DataType::UInt32).ctx(name)?;
    Ok(c.u32().ctx(name)?.into_no_null_iter().collect())
}

fn text(c: &Column, name: &str) -> Result<StringChunked> {
    Ok(c.cast(&DataType::String).ctx(name)?.str().ctx(name)?.clone())
}

/// The values of one converted column, with the positions that failed.
#[derive(Debug, Clone, Default)]
pub struct Parsed<T> {
    /// One value per read row; `None` for empty or failed values.
    pub values: Vec<Option<T>>,
    /// Positions of non-empty values that failed.
    pub bad: Vec<usize>,
    /// How many values were non-empty.
    pub nonempty: usize,
    /// The first value that failed, as text.
    pub first_bad: Option<String>,
}

impl<T> Parsed<T> {
    fn with_capacity(n: usize) -> Self {
        Self { values: Vec::with_capacity(n), bad: Vec::new(), nonempty: 0, first_bad: None }
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

fn from_ints<T>(ca: &Int64Chunked, f: impl Fn(i64) -> Option<T>) -> Parsed<T> {
    let mut out = Parsed::with_capacity(ca.len());
    for v in ca.iter() {
        out.push_opt(v, &f);
    }
    out
}

fn from_floats<T>(ca: &Float64Chunked, f: impl Fn(f64) -> Option<T>) -> Parsed<T> {
    let mut out = Parsed::with_capacity(ca.len());
    for v in ca.iter() {
        out.push_opt(v, |x: f64| if x.is_finite() { f(x) } else { None });
    }
    out
}

fn from_text<T>(ca: &StringChunked, f: impl Fn(&str) -> Option<T>) -> Parsed<T> {
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

/// Rows superseded by a later usable row with the same id (details 15),
/// ascending: the last usable row of each id wins. Rows that are not
/// `usable` take no part (callers leave empty ids out of `usable`).
/// Whole-number ids (the common case) avoid string hashing: a dense table
/// indexed by id when their range is small, else a hash of integers; other
/// ids hash as text.
pub fn superseded_rows(ids: &StringChunked, usable: &[bool]) -> Vec<usize> {
    let values: Vec<Option<&str>> = ids.iter().collect();
    let numeric: Option<Vec<u64>> = (0..usable.len())
        .filter(|&i| usable[i])
        .map(|i| {
            let b = values[i]?.as_bytes();
            (!b.is_empty() && b.len() <= 19 && b.iter().all(u8::is_ascii_digit) && (b.len() == 1 || b[0] != b'0'))
                .then(|| b.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0')))
        })
        .collect();
    let mut superseded = Vec::new();
    match numeric {
        Some(keys) => {
            let positions = (0..usable.len()).filter(|&i| usable[i]);
            let (lo, hi) = keys.iter().fold((u64::MAX, 0), |(lo, hi), k| (lo.min(*k), hi.max(*k)));
            if !keys.is_empty() && hi - lo <= 8 * keys.len() as u64 {
                let mut last = vec![usize::MAX; usize::try_from(hi - lo + 1).unwrap_or(0)];
                for (k, i) in keys.iter().zip(positions) {
                    let slot = &mut last[(k - lo) as usize];
                    if *slot != usize::MAX {
                        superseded.push(*slot);
                    }
                    *slot = i;
                }
            } else {
                let mut last: PlHashMap<u64, usize> = PlHashMap::with_capacity(keys.len());
                for (k, i) in keys.iter().zip(positions) {
                    if let Some(prev) = last.insert(*k, i) {
                        superseded.push(prev);
                    }
                }
            }
        }
        None => {
            let mut last: PlHashMap<&str, usize> = PlHashMap::with_capacity(usable.len());
            for i in (0..usable.len()).filter(|&i| usable[i]) {
                if let Some(prev) = values[i].and_then(|id| last.insert(id, i)) {
                    superseded.push(prev);
                }
            }
        }
    }
    superseded.sort_unstable();
    superseded
}

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
}

//! Column mappings: which source column feeds each canonical column, with
//! the unit or format the source needs.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::parse::timestamp::{TimestampFormat, ValidYears};
use crate::preset::Preset;
use crate::{Error, Result};

/// The unit of a vendor-computed duration column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DurationUnit {
    /// Seconds.
    Seconds,
    /// Minutes (the default).
    #[default]
    Minutes,
    /// Hours.
    Hours,
    /// Milliseconds.
    Milliseconds,
    /// Text `HH:MM:SS`, hours may exceed 24.
    Hms,
}

impl std::str::FromStr for DurationUnit {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "seconds" => Self::Seconds,
            "minutes" => Self::Minutes,
            "hours" => Self::Hours,
            "milliseconds" => Self::Milliseconds,
            "hms" => Self::Hms,
            other => {
                return Err(Error::invalid_option(
                    "unit",
                    other,
                    "is an unknown duration unit (expected seconds, minutes, hours, milliseconds or hms)",
                ));
            }
        })
    }
}

/// Where one canonical column comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnSpec {
    /// The source column's name, exactly as in the file header.
    pub column: String,
    /// For duration columns: the unit.
    pub unit: Option<DurationUnit>,
    /// For timestamp columns: the format.
    pub format: TimestampFormat,
    /// For timestamp columns: the zone of naive values, overriding the
    /// table's `input_tz` (Intercom names it in the header).
    pub tz: Option<Tz>,
    /// For duration columns: a zero duration means "no value" (Freshdesk's
    /// `00:00:00`).
    pub zero_is_missing: bool,
    /// Text recoded before parsing (exact match after trimming), e.g.
    /// HubSpot pipeline stage `4` -> `closed`. Values not listed pass
    /// unchanged.
    pub values: BTreeMap<String, String>,
    /// For integer columns: added to every value (Intercom's reassignments
    /// + 1 = group stations).
    pub add: i64,
    /// The one-based position of the column in the file, to pick one of
    /// several columns with the same header name.
    pub position: Option<usize>,
}

impl ColumnSpec {
    /// A plain rename.
    pub fn named(column: impl Into<String>) -> Self {
        Self { column: column.into(), ..Self::default() }
    }
}

/// How to read one input table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableInput {
    /// A file, a glob (`exports/*.csv`) or a directory of Parquet files.
    pub path: String,
    /// A vendor preset: its mapping applies under `columns`.
    pub preset: Option<Preset>,
    /// Zone of naive timestamps; `None` = the report's `input_tz`.
    pub input_tz: Option<Tz>,
    /// Canonical name -> source, over the preset's mapping. A canonical
    /// column not listed is read from a source column of the same name
    /// when the file has one.
    pub columns: BTreeMap<String, ColumnSpec>,
    /// The years a timestamp may fall in; others are counted as
    /// `timestamp_out_of_range` (`[report] valid_years`).
    pub valid_years: ValidYears,
    /// The text encoding of CSV files (`encoding`); UTF-16 is recognised by
    /// its byte-order mark without being told.
    pub encoding: Encoding,
    /// The field separator of CSV files (`delimiter`): `,` by default.
    pub delimiter: Option<u8>,
}

/// The text encoding of a CSV input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Encoding {
    /// UTF-8 (a byte-order mark is skipped); the default.
    #[default]
    Utf8,
    /// UTF-16, little- or big-endian by its byte-order mark (little-endian
    /// without one).
    Utf16,
    /// Windows-1252 (the superset of Latin-1 that spreadsheet programs write).
    Windows1252,
    /// ISO-8859-1, read as Windows-1252 (as browsers and encoding_rs do).
    Latin1,
}

impl std::str::FromStr for Encoding {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Self::Utf8,
            "utf-16" | "utf16" => Self::Utf16,
            "windows-1252" | "cp1252" => Self::Windows1252,
            "latin-1" | "latin1" | "iso-8859-1" => Self::Latin1,
            other => {
                return Err(Error::invalid_option(
                    "encoding",
                    other,
                    "is unknown (expected utf-8, utf-16, windows-1252 or latin-1)",
                ));
            }
        })
    }
}

impl Encoding {
    /// The name as written in the config.
    pub fn name(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Utf16 => "utf-16",
            Self::Windows1252 => "windows-1252",
            Self::Latin1 => "latin-1",
        }
    }
}

impl TableInput {
    /// A table read from `path` with canonical column names.
    pub fn new(path: impl Into<String>) -> Self {
        Self { path: path.into(), ..Self::default() }
    }
}

/// Parses `HH:MM:SS` (hours may exceed 24, seconds optional) to minutes.
///
/// ```
/// use metrics_core::mapping::parse_hms_minutes;
/// assert_eq!(parse_hms_minutes("25:30:30"), Some(25.0 * 60.0 + 30.5));
/// assert_eq!(parse_hms_minutes("1:2"), None);
/// ```
pub fn parse_hms_minutes(s: &str) -> Option<f64> {
    let mut parts = s.trim().split(':');
    let h: u64 = parts.next()?.parse().ok()?;
    let m = parts.next()?;
    let sec = parts.next().unwrap_or("00");
    if parts.next().is_some() || m.len() != 2 || sec.len() != 2 {
        return None;
    }
    let (m, sec): (u64, u64) = (m.parse().ok()?, sec.parse().ok()?);
    (m < 60 && sec < 60).then(|| h as f64 * 60.0 + m as f64 + sec as f64 / 60.0)
}

/// Converts a vendor duration to minutes.
pub fn duration_minutes(s: &str, unit: DurationUnit) -> Option<f64> {
    let number = || crate::parse::values::parse_float(s);
    match unit {
        DurationUnit::Seconds => number().map(|v| v / 60.0),
        DurationUnit::Minutes => number(),
        DurationUnit::Hours => number().map(|v| v * 60.0),
        DurationUnit::Milliseconds => number().map(|v| v / 60_000.0),
        DurationUnit::Hms => parse_hms_minutes(s),
    }
}

/// The header name closest to canonical column `name`: the same letters
/// and digits ignoring case and separators, or within an edit distance of
/// a third of the name's length (at least 2). `None` when nothing is close.
///
/// ```
/// use metrics_core::mapping::closest;
/// let header = ["Ticket ID".to_owned(), "Opened".to_owned(), "Created At".to_owned()];
/// assert_eq!(closest("created_at", &header), Some("Created At"));
/// assert_eq!(closest("ticket_id", &header), Some("Ticket ID"));
/// assert_eq!(closest("solved_at", &header), None);
/// ```
pub fn closest<'a>(name: &str, header: &'a [String]) -> Option<&'a str> {
    let norm =
        |s: &str| s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect::<String>();
    let target = norm(name);
    let limit = (target.len() / 3).max(2);
    header
        .iter()
        .map(|h| (h, levenshtein(&target, &norm(h))))
        .filter(|(_, d)| *d <= limit)
        .min_by_key(|(_, d)| *d)
        .map(|(h, _)| h.as_str())
}

/// The edit distance between two strings (insertions, deletions,
/// substitutions of one character each).
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

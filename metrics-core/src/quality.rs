//! The data-quality section: every row or value that could not be used,
//! counted under its reason, with the first offending rows.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::source::Source;

/// Why a row or value was not used (details 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// A required column is empty: the row is excluded.
    MissingRequired,
    /// A timestamp that matches no accepted form. Required column: row
    /// excluded; optional column: read as empty.
    UnparseableTimestamp,
    /// A number that does not parse: read as empty.
    UnparseableNumber,
    /// A boolean that does not parse: read as empty.
    UnparseableBool,
    /// A duration that ends before it starts: excluded from that duration's
    /// statistics only.
    NegativeDuration,
    /// A row whose key was seen again later: the last one read is kept.
    DuplicateId,
    /// A score outside its scale: excluded, never clipped.
    ScoreOutOfRange,
    /// A ticket rating with neither `csat_at` nor `solved_at`: no period.
    CsatWithoutTime,
    /// A survey type other than `nps`, `csat`, `ces`.
    UnknownSurvey,
    /// A billing interval other than day, week, month, year.
    UnknownInterval,
    /// A row created after an explicit as-of: excluded from the snapshot.
    AfterAsOf,
    /// A timestamp that parses but lies outside the valid years (1970-2100
    /// unless `[report] valid_years` says otherwise): treated as
    /// unparseable, never turned into periods.
    TimestampOutOfRange,
    /// A CSV row with more or fewer fields than the header: excluded.
    RaggedRow,
}

impl Reason {
    /// The snake_case name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Reason::MissingRequired => "missing_required",
            Reason::UnparseableTimestamp => "unparseable_timestamp",
            Reason::UnparseableNumber => "unparseable_number",
            Reason::UnparseableBool => "unparseable_bool",
            Reason::NegativeDuration => "negative_duration",
            Reason::DuplicateId => "duplicate_id",
            Reason::ScoreOutOfRange => "score_out_of_range",
            Reason::CsatWithoutTime => "csat_without_time",
            Reason::UnknownSurvey => "unknown_survey",
            Reason::UnknownInterval => "unknown_interval",
            Reason::AfterAsOf => "after_as_of",
            Reason::TimestampOutOfRange => "timestamp_out_of_range",
            Reason::RaggedRow => "ragged_row",
        }
    }
}

/// One data-quality finding: a reason in a column, how often, and where first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QualityRow {
    /// Why.
    pub reason: Reason,
    /// The canonical column concerned.
    pub column: String,
    /// How many rows.
    pub count: u64,
    /// Up to five one-based data-row numbers (`path:row` for multi-file inputs).
    pub first_rows: Vec<String>,
}

/// Findings per table name (`tickets`, ...), in a stable order.
pub type DataQuality = BTreeMap<String, Vec<QualityRow>>;

/// How many first rows a finding keeps.
pub const FIRST_ROWS: usize = 5;

/// Collects findings for one table while it is staged.
#[derive(Debug)]
pub(crate) struct Collector<'a> {
    source: &'a Source,
    files: &'a [u32],
    rows: &'a [u32],
    found: BTreeMap<(Reason, String), (u64, Vec<String>)>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(source: &'a Source, files: &'a [u32], rows: &'a [u32]) -> Self {
        Self { source, files, rows, found: BTreeMap::new() }
    }

    /// Counts the row at position `i` of the read frame.
    pub(crate) fn add(&mut self, reason: Reason, column: &str, i: usize) {
        let entry = self.found.entry((reason, column.to_owned())).or_default();
        entry.0 += 1;
        if entry.1.len() < FIRST_ROWS {
            entry.1.push(self.source.row_label(self.files[i], self.rows[i]));
        }
    }

    /// Counts a converted timestamp column's failures: values out of the
    /// valid range under their own reason, the rest as unparseable.
    pub(crate) fn add_timestamps<T>(&mut self, column: &str, p: &crate::stage::Parsed<T>) {
        for &i in &p.bad {
            let reason = if p.out_of_range.binary_search(&i).is_ok() {
                Reason::TimestampOutOfRange
            } else {
                Reason::UnparseableTimestamp
            };
            self.add(reason, column, i);
        }
    }

    /// Adds a finding that was counted and labelled already.
    pub(crate) fn add_labelled(&mut self, row: QualityRow) {
        let entry = self.found.entry((row.reason, row.column)).or_default();
        entry.0 += row.count;
        entry.1.extend(row.first_rows);
        entry.1.truncate(FIRST_ROWS);
    }

    /// Counts every position of `rows`.
    pub(crate) fn add_all(&mut self, reason: Reason, column: &str, rows: &[usize]) {
        for &i in rows {
            self.add(reason, column, i);
        }
    }

    /// The findings, ordered by reason then column.
    pub(crate) fn finish(self) -> Vec<QualityRow> {
        self.found
            .into_iter()
            .map(|((reason, column), (count, first_rows))| QualityRow { reason, column, count, first_rows })
            .collect()
    }
}

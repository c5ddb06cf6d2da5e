//! The data-quality section: every row or value that could not be used,
//! counted under its reason, with the first offending rows.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::source::Source;

/// Why a row or value was not used (docs/data-contract.md, "Data quality").
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
    /// A warning: a duration longer than `max_duration` (a year by
    /// default). The value is kept.
    ImplausibleDuration,
    /// A warning: `solved_at` before `first_response_at`. Both are kept.
    SolvedBeforeResponse,
    /// A usage row whose `subscription_id` is not in the subscriptions
    /// table: no account, row excluded.
    UnknownSubscription,
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
            Reason::ImplausibleDuration => "implausible_duration",
            Reason::SolvedBeforeResponse => "solved_before_response",
            Reason::UnknownSubscription => "unknown_subscription",
        }
    }
}

impl Reason {
    /// Whether the finding is a warning: the value is kept and used, the
    /// finding only says it looks wrong.
    pub fn is_warning(self) -> bool {
        matches!(self, Reason::ImplausibleDuration | Reason::SolvedBeforeResponse)
    }

    /// Whether a large share of rows with this finding means a wrong
    /// mapping, format or separator rather than dirty data, so that it
    /// counts toward the `max_excluded` threshold. Duplicates (update logs
    /// hold many rows per id), snapshot cuts and value-level findings on
    /// usable rows do not.
    ///
    /// ```
    /// use metrics_core::quality::Reason;
    /// assert!(Reason::UnparseableTimestamp.signals_wrong_mapping());
    /// assert!(!Reason::DuplicateId.signals_wrong_mapping());
    /// ```
    pub fn signals_wrong_mapping(self) -> bool {
        matches!(
            self,
            Reason::MissingRequired
                | Reason::UnparseableTimestamp
                | Reason::UnparseableNumber
                | Reason::UnparseableBool
                | Reason::UnknownSurvey
                | Reason::UnknownInterval
                | Reason::TimestampOutOfRange
                | Reason::RaggedRow
                | Reason::UnknownSubscription
        )
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
    /// Up to three of the offending values, as written (empty when the
    /// reason concerns no single value, such as a ragged row).
    pub first_values: Vec<String>,
    /// What would read them, when cxm can tell (`2,344 of 2,400 values
    /// parse as %d/%m/%Y`).
    pub hint: Option<String>,
}

/// How many offending values a finding keeps.
pub const FIRST_VALUES: usize = 3;

/// Findings per table name (`tickets`, ...), in a stable order.
pub type DataQuality = BTreeMap<String, Vec<QualityRow>>;

/// How many first rows a finding keeps.
pub const FIRST_ROWS: usize = 5;

/// Collects findings for one table while it is staged.
#[derive(Debug)]
pub(crate) struct Collector<'a> {
    source: &'a Source,
    ids: &'a crate::raw::RowIds,
    found: BTreeMap<(Reason, String), Found>,
}

/// A finding while it is collected.
#[derive(Debug, Default)]
struct Found {
    count: u64,
    rows: Vec<String>,
    values: Vec<String>,
    hint: Option<String>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(source: &'a Source, ids: &'a crate::raw::RowIds) -> Self {
        Self { source, ids, found: BTreeMap::new() }
    }

    /// Counts the row at position `i` of the read frame.
    pub(crate) fn add(&mut self, reason: Reason, column: &str, i: usize) {
        let entry = self.found.entry((reason, column.to_owned())).or_default();
        entry.count += 1;
        if entry.rows.len() < FIRST_ROWS {
            entry.rows.push(self.source.row_label(self.ids.file(i), self.ids.row(i)));
        }
    }

    /// Sets the first values and the hint of a finding already counted.
    pub(crate) fn describe(&mut self, reason: Reason, column: &str, values: Vec<String>, hint: Option<String>) {
        if let Some(entry) = self.found.get_mut(&(reason, column.to_owned())) {
            entry.values = values.into_iter().take(FIRST_VALUES).collect();
            entry.hint = hint;
        }
    }

    /// Adds a finding that was counted and labelled already.
    pub(crate) fn add_labelled(&mut self, row: QualityRow) {
        let entry = self.found.entry((row.reason, row.column)).or_default();
        entry.count += row.count;
        entry.rows.extend(row.first_rows);
        entry.rows.truncate(FIRST_ROWS);
        entry.values.extend(row.first_values);
        entry.values.truncate(FIRST_VALUES);
        entry.hint = entry.hint.take().or(row.hint);
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
            .map(|((reason, column), f)| QualityRow {
                reason,
                column,
                count: f.count,
                first_rows: f.rows,
                first_values: f.values,
                hint: f.hint,
            })
            .collect()
    }
}

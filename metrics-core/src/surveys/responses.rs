//! The staged `survey_responses` table: each response typed by its survey,
//! its score read on that survey's scale, and the data-quality findings.

use chrono_tz::Tz;
use polars::prelude::*;

use super::{Survey, SurveyOptions};
use crate::Result;
use crate::error::PolarsContext;
use crate::mapping::TableInput;
use crate::parse::values::parse_float;
use crate::quality::{QualityRow, Reason};
use crate::raw::{RawTable, expected};
use crate::schema::surveys::*;
use crate::schema::{Kind, SURVEY_RESPONSES};
use crate::source::Source;
use crate::support::Rating;

/// Staged column: the survey (`nps`, `csat`, `ces`).
pub const KIND: &str = "__survey";
/// Staged column: NPS category (1 promoter, 0 passive, -1 detractor).
pub const NPS_CATEGORY: &str = "__nps_category";
/// Staged column: the NPS score, 0-10.
pub const NPS_SCORE: &str = "__nps_score";
/// Staged column: CSAT satisfied.
pub const CSAT_SATISFIED: &str = "__csat_satisfied";
/// Staged column: CES score.
pub const CES_SCORE: &str = "__ces_score";

/// Staged survey responses.
#[derive(Debug, Clone)]
pub struct Responses {
    /// One row per valid response: `responded_at` (`Datetime(us, UTC)`),
    /// [`KIND`] (text), [`NPS_CATEGORY`] (i8), [`CSAT_SATISFIED`] (bool),
    /// [`CES_SCORE`] (f64), each null when the response is of another
    /// survey, and the requested dimensions as text.
    pub df: DataFrame,
    /// The files read.
    pub source: Source,
    /// Rows read.
    pub rows_read: usize,
    /// Surveys with at least one valid response.
    pub present: Vec<Survey>,
    /// Findings.
    pub quality: Vec<QualityRow>,
}

impl Responses {
    /// Rows used.
    pub fn rows_used(&self) -> usize {
        self.df.height()
    }

    /// Reads and checks a survey responses table; `dims` are extra columns
    /// to keep (source names, or canonical `account_id` / `respondent_id`).
    /// Reads and stages the survey responses from files (a path, glob or directory).
    pub fn from_path(input: &TableInput, o: &SurveyOptions, dims: &[String], tz: Tz) -> Result<Self> {
        Self::stage(None, input, o, dims, tz)
    }

    /// Stages the survey responses from an in-memory frame, with the same mapping
    /// (`input.columns`, preset), conversions and data-quality accounting
    /// as [`Self::from_path`]; `input.path` only labels it in messages.
    pub fn from_frame(df: DataFrame, input: &TableInput, o: &SurveyOptions, dims: &[String], tz: Tz) -> Result<Self> {
        Self::stage(Some(df), input, o, dims, tz)
    }

    fn stage(frame: Option<DataFrame>, input: &TableInput, o: &SurveyOptions, dims: &[String], tz: Tz) -> Result<Self> {
        let wanted = |d: &crate::schema::ColumnDef| d.name != COMMENT || dims.iter().any(|b| b == COMMENT);
        let raw = RawTable::open(frame, input, "survey_responses", SURVEY_RESPONSES, dims, wanted, tz)?;
        let n = raw.df.height();
        let mut q = raw.collector();
        let mut usable = vec![true; n];

        let at = raw.timestamps(RESPONDED_AT, tz)?;
        if let Some(e) = raw.nothing_parses(RESPONDED_AT, &at, expected(Kind::Timestamp)) {
            return Err(e);
        }
        raw.count_timestamps(&mut q, RESPONDED_AT, &at);
        at.bad.iter().for_each(|&i| usable[i] = false);

        let Scores { kind, nps, nps_score, csat, ces } = read_scores(&raw, &at.values, o, &mut usable, &mut q)?;

        let present = Survey::ALL.into_iter().filter(|s| kind.iter().any(|k| *k == Some(s.name()))).collect();
        let mut columns = vec![
            at.values.into_datetime(RESPONDED_AT),
            StringChunked::from_iter_options(KIND.into(), kind.into_iter()).into_column(),
            Int8Chunked::from_iter_options(NPS_CATEGORY.into(), nps.into_iter()).into_column(),
            Float64Chunked::from_iter_options(NPS_SCORE.into(), nps_score.into_iter()).into_column(),
            BooleanChunked::from_iter_options(CSAT_SATISFIED.into(), csat.into_iter()).into_column(),
            Float64Chunked::from_iter_options(CES_SCORE.into(), ces.into_iter()).into_column(),
        ];
        for d in dims {
            let name = if raw.has(d) || raw.extras.contains(d) { Some(d.as_str()) } else { None };
            if let Some(name) = name {
                columns.push(raw.strings(name)?.with_name(name.into()).into_column());
            }
        }
        let mask = BooleanChunked::from_slice("usable".into(), &usable);
        let df = DataFrame::new_infer_height(columns).ctx("staging survey responses")?;
        let df = df.filter(&mask).ctx("staging survey responses")?;
        Ok(Self { df, source: raw.source.clone(), rows_read: raw.rows_read, present, quality: q.finish() })
    }

    /// The earliest and latest `responded_at`.
    pub fn span(&self) -> Option<(i64, i64)> {
        let c = self.df.column(RESPONDED_AT).ok()?.cast(&DataType::Int64).ok()?;
        let ca = c.i64().ok()?;
        Some((ca.min()?, ca.max()?))
    }
}

/// The score columns of the usable rows, at full height.
struct Scores {
    kind: Vec<Option<&'static str>>,
    nps: Vec<Option<i8>>,
    nps_score: Vec<Option<f64>>,
    csat: Vec<Option<bool>>,
    ces: Vec<Option<f64>>,
}

/// Reads each usable row's survey (`survey`, else the default) and score
/// on that survey's scale; a missing time or score is `missing_required`,
/// an unknown survey `unknown_survey`, a score off its scale
/// `score_out_of_range`, one that is no score `unparseable_number` (an
/// error when no score at all is recognised).
fn read_scores(
    raw: &RawTable,
    at: &crate::raw::Values<crate::parse::timestamp::Micros>,
    o: &SurveyOptions,
    usable: &mut [bool],
    q: &mut crate::quality::Collector<'_>,
) -> Result<Scores> {
    let n = at.len();
    let kinds = if raw.has(SURVEY) { Some(raw.strings(SURVEY)?) } else { None };
    let scores = raw.strings(SCORE)?;
    let (mut kind, mut nps, mut csat, mut ces) = (vec![None; n], vec![None; n], vec![None; n], vec![None; n]);
    let mut nps_score = vec![None; n];
    let mut unparseable = Vec::new();
    let mut recognised = 0usize;
    for (i, score) in scores.iter().enumerate() {
        if !usable[i] {
            continue;
        }
        if at.get(i).is_none() {
            q.add(Reason::MissingRequired, RESPONDED_AT, i);
            usable[i] = false;
            continue;
        }
        let survey = match kinds.as_ref().and_then(|k| k.get(i)).map(str::trim).filter(|s| !s.is_empty()) {
            None => o.default_survey,
            Some(s) => match s.parse::<Survey>() {
                Ok(s) => s,
                Err(_) => {
                    q.add(Reason::UnknownSurvey, SURVEY, i);
                    usable[i] = false;
                    continue;
                }
            },
        };
        let Some(cell) = score.map(str::trim).filter(|s| !s.is_empty()) else {
            q.add(Reason::MissingRequired, SCORE, i);
            usable[i] = false;
            continue;
        };
        let valid = match score_cell(survey, cell, o) {
            Scored::Valid(v) => {
                match v {
                    Value::Nps(category, score) => (nps[i], nps_score[i]) = (Some(category), Some(score)),
                    Value::Csat(satisfied) => csat[i] = Some(satisfied),
                    Value::Ces(score) => ces[i] = Some(score),
                }
                Some(true)
            }
            Scored::OutOfRange => Some(false),
            Scored::Unparseable => None,
        };
        match valid {
            Some(true) => {
                recognised += 1;
                kind[i] = Some(survey.name());
            }
            Some(false) => {
                recognised += 1;
                q.add(Reason::ScoreOutOfRange, SCORE, i);
                usable[i] = false;
            }
            None => {
                unparseable.push(i);
                usable[i] = false;
            }
        }
    }
    if recognised == 0 && !unparseable.is_empty() {
        let first = unparseable[0];
        return Err(raw.nothing_parses_at(SCORE, first, scores.get(first).unwrap_or_default(), "a survey score"));
    }
    raw.count_values(q, Reason::UnparseableNumber, SCORE, &unparseable);
    Ok(Scores { kind, nps, nps_score, csat, ces })
}

/// One score read on its survey's scale.
enum Scored {
    Valid(Value),
    OutOfRange,
    Unparseable,
}

/// A valid score: NPS category (1 promoter, 0 passive, -1 detractor) and
/// score, CSAT satisfied or not, CES score.
enum Value {
    Nps(i8, f64),
    Csat(bool),
    Ces(f64),
}

/// Reads one non-empty score cell: NPS and CES whole numbers on their
/// scales (0-10, `ces_scale`), CSAT by the CSAT scale or good/bad text.
fn score_cell(survey: Survey, cell: &str, o: &SurveyOptions) -> Scored {
    let whole_in = |lo: f64, hi: f64| match parse_float(cell) {
        Some(f) if f.fract() == 0.0 && f >= lo && f <= hi => Ok(f),
        Some(_) => Err(Scored::OutOfRange),
        None => Err(Scored::Unparseable),
    };
    let valid = match survey {
        Survey::Nps => whole_in(0.0, 10.0).map(|f| Value::Nps(nps_category(f), f)),
        Survey::Ces => whole_in(o.ces.min, o.ces.max).map(Value::Ces),
        Survey::Csat => match o.csat.rate(cell) {
            Rating::Valid(s) => Ok(Value::Csat(s)),
            Rating::OutOfRange => Err(Scored::OutOfRange),
            Rating::Unparseable | Rating::None => Err(Scored::Unparseable),
        },
    };
    valid.map_or_else(|e| e, Scored::Valid)
}

/// 9-10 promoter (1), 7-8 passive (0), 0-6 detractor (-1).
fn nps_category(score: f64) -> i8 {
    if score >= 9.0 {
        1
    } else if score >= 7.0 {
        0
    } else {
        -1
    }
}

crate::raw::staged!(Responses, |t: &Responses| t.rows_used());

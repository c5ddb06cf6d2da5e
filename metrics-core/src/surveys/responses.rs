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
use crate::raw::{RawTable, datetime_column, expected};
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
            if at.values[i].is_none() {
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
            let valid = match survey {
                Survey::Nps => match parse_float(cell) {
                    Some(f) if f.fract() == 0.0 && (0.0..=10.0).contains(&f) => {
                        nps[i] = Some(if f >= 9.0 {
                            1i8
                        } else if f >= 7.0 {
                            0
                        } else {
                            -1
                        });
                        nps_score[i] = Some(f);
                        Some(true)
                    }
                    Some(_) => Some(false),
                    None => None,
                },
                Survey::Csat => match o.csat.rate(cell) {
                    Rating::Valid(s) => {
                        csat[i] = Some(s);
                        Some(true)
                    }
                    Rating::OutOfRange => Some(false),
                    Rating::Unparseable | Rating::None => None,
                },
                // Whole scores on the scale, like NPS and CSAT.
                Survey::Ces => match parse_float(cell) {
                    Some(f) if f.fract() == 0.0 && f >= o.ces.min && f <= o.ces.max => {
                        ces[i] = Some(f);
                        Some(true)
                    }
                    Some(_) => Some(false),
                    None => None,
                },
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
        raw.count_values(&mut q, Reason::UnparseableNumber, SCORE, &unparseable);

        let present = Survey::ALL.into_iter().filter(|s| kind.iter().any(|k| *k == Some(s.name()))).collect();
        let mut columns = vec![
            datetime_column(RESPONDED_AT, at.values.iter().copied()),
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

crate::raw::staged!(Responses, |t: &Responses| t.rows_used());

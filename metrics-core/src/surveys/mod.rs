//! NPS, CSAT and CES from survey responses (metrics.md; docs/metrics.md, "The `surveys` table: column order").
//!
//! [`responses`] stages the `survey_responses` table; [`surveys_table`]
//! builds the `surveys` table: per period (of `responded_at`) and group,
//! over valid responses:
//!
//! * NPS: `nps_responses`, `promoters` (9-10), `passives` (7-8),
//!   `detractors` (0-6); `nps = 100 x (promoters - detractors) /
//!   responses`; with p and d the promoter and detractor shares,
//!   `var = 100^2 (p + d - (p - d)^2) / n` and the 95% interval
//!   `nps ± z sqrt(var)`, z = 1.959963984540054, each end clamped to
//!   [-100, 100]. Only whole scores 0-10 are valid.
//! * CSAT: `csat_responses`, `csat_pct = 100 x satisfied / responses` on
//!   the configured scale (good/bad text accepted), as for ticket ratings.
//! * CES: `ces_responses`, `ces_mean` on its scale (default 1-7).
//!
//! Statistics are null over an empty sample; counts are 0. The columns of
//! a survey with no valid response are left out.

pub mod responses;

use polars::prelude::*;
use serde::Serialize;

pub use responses::Responses;
use responses::{CES_SCORE, CSAT_SATISFIED, KIND, NPS_CATEGORY};

use crate::error::PolarsContext;
use crate::period::{PERIOD_START, Spine};
use crate::schema::surveys::RESPONDED_AT;
use crate::support::CsatScale;
use crate::{Error, Result};

/// The z of a two-sided 95% normal interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A survey type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Survey {
    /// Net Promoter Score, 0-10.
    #[default]
    Nps,
    /// Customer satisfaction.
    Csat,
    /// Customer effort score.
    Ces,
}

impl Survey {
    /// Every survey, in output order.
    pub const ALL: [Survey; 3] = [Survey::Nps, Survey::Csat, Survey::Ces];

    /// `nps`, `csat` or `ces`.
    pub fn name(self) -> &'static str {
        match self {
            Survey::Nps => "nps",
            Survey::Csat => "csat",
            Survey::Ces => "ces",
        }
    }

    /// Output columns of this survey, in order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Survey::Nps => {
                &["nps_responses", "promoters", "passives", "detractors", "nps", "nps_ci_low", "nps_ci_high"]
            }
            Survey::Csat => &["csat_responses", "csat_pct"],
            Survey::Ces => &["ces_responses", "ces_mean"],
        }
    }
}

impl std::str::FromStr for Survey {
    type Err = Error;
    /// Trimmed, case-insensitive.
    fn from_str(s: &str) -> Result<Self> {
        Survey::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::invalid_option("survey", s, "is unknown (expected nps, csat or ces)"))
    }
}

/// A numeric scale (CES).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scale {
    /// Lowest valid score.
    pub min: f64,
    /// Highest valid score.
    pub max: f64,
}

/// Options of the survey metrics (`[surveys]` in `cxm.toml`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SurveyOptions {
    /// The survey of a response whose `survey` is empty (default `nps`).
    pub default_survey: Survey,
    /// CSAT scale (default 1-5, satisfied >= 4).
    pub csat: CsatScale,
    /// CES scale (default 1-7).
    pub ces: Scale,
    /// The periods reported (weekly by default).
    pub window: crate::period::Window,
    /// Dimensions, in output order: columns of the staged responses.
    pub by: Vec<String>,
}

impl Default for SurveyOptions {
    fn default() -> Self {
        Self {
            default_survey: Survey::Nps,
            csat: CsatScale::default(),
            ces: Scale { min: 1.0, max: 7.0 },
            window: crate::period::Window::new(crate::period::Period::Week),
            by: Vec::new(),
        }
    }
}

crate::period::window_setters!(SurveyOptions);

impl SurveyOptions {
    /// Checks the scales: CSAT min < max with satisfied_min on it; CES
    /// min < max, both finite.
    pub fn validated(&self) -> Result<Self> {
        let mut o = self.clone();
        o.csat = o.csat.validate()?;
        let Scale { min, max } = o.ces;
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(crate::Error::invalid_option(
                "ces_scale",
                format!("{min}-{max}"),
                "is not a scale (need finite min < max)",
            ));
        }
        Ok(o)
    }
}

/// The `surveys` table over the options' window and dimensions: NPS with
/// its 95 % interval, CSAT and CES per period (`metrics.md`, "Surveys").
/// Options are checked here; a `by` name that is not a column of the
/// responses is an error.
///
/// ```
/// use metrics_core::mapping::TableInput;
/// use metrics_core::polars::prelude::*;
/// use metrics_core::surveys::{self, Responses, SurveyOptions};
/// let df = df!(
///     "responded_at" => ["2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z", "2026-03-04T09:00:00Z"],
///     "score" => ["10", "9", "3"],
/// )?;
/// let o = SurveyOptions::default();
/// let r = Responses::from_frame(df, &TableInput::default(), &o, &[], chrono_tz::UTC)?;
/// let t = surveys::table(&r, &o)?;
/// // Two promoters and one detractor of three: NPS = 100 x (2 - 1) / 3.
/// assert!((t.column("nps")?.f64()?.get(0).unwrap() - 100.0 / 3.0).abs() < 1e-9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn table(r: &Responses, o: &SurveyOptions) -> Result<DataFrame> {
    let o = o.validated()?;
    if let Some(b) = o.by.iter().find(|b| r.df.column(b.as_str()).is_err()) {
        return Err(crate::Error::from(crate::error::ErrorKind::UnknownDimension {
            name: b.clone(),
            tables: "survey_responses".into(),
        }));
    }
    let span = r
        .span()
        .ok_or_else(|| crate::Error::from(crate::error::ErrorKind::NoUsableRows { table: "surveys".into() }))?;
    let spine = o.window.spine("surveys", span)?;
    surveys_table(r, &spine, &o.by)
}

/// NPS and its interval from counts: `(nps, low, high)`, null when n = 0.
///
/// ```
/// use metrics_core::surveys::nps;
/// let (score, low, high) = nps(2, 2, 2).unwrap();
/// assert_eq!(score, 0.0);
/// assert!((high - 65.33213281800180).abs() < 1e-9 && low == -high);
/// assert_eq!(nps(1, 0, 0), Some((100.0, 100.0, 100.0)));
/// assert_eq!(nps(0, 0, 0), None);
/// ```
pub fn nps(promoters: u32, passives: u32, detractors: u32) -> Option<(f64, f64, f64)> {
    let n = f64::from(promoters + passives + detractors);
    if n == 0.0 {
        return None;
    }
    let (p, d) = (f64::from(promoters) / n, f64::from(detractors) / n);
    let score = 100.0 * (p - d);
    let var = 100.0 * 100.0 * (p + d - (p - d) * (p - d)) / n;
    let half = Z95 * var.max(0.0).sqrt();
    Some((score, (score - half).clamp(-100.0, 100.0), (score + half).clamp(-100.0, 100.0)))
}

/// The `surveys` table: one row per period of `spine` and group of `by`
/// (every combination present in `r`), sorted by `period_start` then the
/// groups (nulls last), with the columns of each survey present.
pub fn surveys_table(r: &Responses, spine: &Spine, by: &[String]) -> Result<DataFrame> {
    let mut keys = vec![col(PERIOD_START)];
    keys.extend(by.iter().map(|b| col(b.as_str()).cast(DataType::String)));
    let is = |k: Survey| col(KIND).eq(lit(k.name()));
    let count = |e: Expr| e.fill_null(lit(false)).cast(DataType::UInt32).sum();
    let agg = r.df.clone().lazy().with_column(spine.bucket(col(RESPONDED_AT))).group_by(keys.clone()).agg([
        count(col(NPS_CATEGORY).eq(lit(1i8))).alias("promoters"),
        count(col(NPS_CATEGORY).eq(lit(0i8))).alias("passives"),
        count(col(NPS_CATEGORY).eq(lit(-1i8))).alias("detractors"),
        count(is(Survey::Csat)).alias("csat_responses"),
        count(col(CSAT_SATISFIED)).alias("__csat_satisfied"),
        count(is(Survey::Ces)).alias("ces_responses"),
        col(CES_SCORE).mean().alias("ces_mean"),
    ]);
    let counts = ["promoters", "passives", "detractors", "csat_responses", "__csat_satisfied", "ces_responses"];
    let fills = counts.iter().map(|c| col(*c).fill_null(lit(0u32))).collect();
    let df = spine.on_grid(&r.df, by, vec![agg], fills).collect().ctx("computing surveys")?;

    // NPS and its interval, CSAT percentage: plain arithmetic per row.
    let u = |name: &str| -> Result<Vec<u32>> {
        Ok(df.column(name).ctx(name)?.u32().ctx(name)?.iter().map(|v| v.unwrap_or(0)).collect())
    };
    let (pro, pas, det) = (u("promoters")?, u("passives")?, u("detractors")?);
    let (cr, cs) = (u("csat_responses")?, u("__csat_satisfied")?);
    let scores: Vec<Option<(f64, f64, f64)>> = (0..df.height()).map(|i| nps(pro[i], pas[i], det[i])).collect();
    let mut out: Vec<Column> = vec![df.column(PERIOD_START).ctx(PERIOD_START)?.clone()];
    for b in by {
        out.push(df.column(b).ctx(b)?.clone());
    }
    for s in r.present.iter().copied() {
        match s {
            Survey::Nps => {
                let n: Vec<u32> = (0..df.height()).map(|i| pro[i] + pas[i] + det[i]).collect();
                out.push(UInt32Chunked::from_vec("nps_responses".into(), n).into_column());
                for c in ["promoters", "passives", "detractors"] {
                    out.push(df.column(c).ctx(c)?.clone());
                }
                for (k, name) in ["nps", "nps_ci_low", "nps_ci_high"].into_iter().enumerate() {
                    let v = scores.iter().map(|s| s.map(|(a, b, c)| [a, b, c][k]));
                    out.push(Float64Chunked::from_iter_options(name.into(), v).into_column());
                }
            }
            Survey::Csat => {
                out.push(df.column("csat_responses").ctx("csat_responses")?.clone());
                let pct = (0..df.height()).map(|i| (cr[i] > 0).then(|| 100.0 * f64::from(cs[i]) / f64::from(cr[i])));
                out.push(Float64Chunked::from_iter_options("csat_pct".into(), pct).into_column());
            }
            Survey::Ces => {
                out.push(df.column("ces_responses").ctx("ces_responses")?.clone());
                out.push(df.column("ces_mean").ctx("ces_mean")?.clone());
            }
        }
    }
    DataFrame::new_infer_height(out).ctx("surveys table")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn nps_in_range_and_inside_its_interval(p in 0u32..500, q in 0u32..500, d in 0u32..500) {
            match nps(p, q, d) {
                None => prop_assert_eq!(p + q + d, 0),
                Some((score, low, high)) => {
                    prop_assert!((-100.0..=100.0).contains(&score));
                    prop_assert!(-100.0 <= low && low <= score && score <= high && high <= 100.0);
                    let n = f64::from(p + q + d);
                    prop_assert!((score - 100.0 * (f64::from(p) - f64::from(d)) / n).abs() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn survey_names_parse_loosely() {
        assert_eq!(" NPS ".parse::<Survey>().ok(), Some(Survey::Nps));
        assert_eq!("Ces".parse::<Survey>().ok(), Some(Survey::Ces));
        assert!("pulse".parse::<Survey>().is_err());
    }
}

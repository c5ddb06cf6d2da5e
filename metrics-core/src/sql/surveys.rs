//! The surveys table as SQL (metrics.md, "NPS", "CSAT (surveys)", "CES"):
//! each response's survey and score read as `cxm surveys` reads them, then
//! counts, shares and means per period of `responded_at` and group.

use std::fmt::Write as _;

use super::render::{Dims, Syntax, grid_cte, refuse_internal, source_with_dims};
use super::{Attribution, Dialect, survey_columns};
use crate::period::Spine;
use crate::support::CsatScale;
use crate::surveys::{Scale, Survey, SurveyOptions};
use crate::{Error, Result};

/// What the surveys SQL is rendered for: a survey responses table with
/// `responded_at` (a timestamp), `score` (text or a number) and `survey`
/// (text; docs/sql.md, "Surveys").
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SurveysRequest {
    /// The dialect.
    pub dialect: Dialect,
    /// The engine's identifier of the survey responses table.
    pub table: String,
    /// The survey of a response whose `survey` is empty.
    pub default_survey: Survey,
    /// The CSAT scale (`[surveys] csat_scale`).
    pub csat: CsatScale,
    /// The CES scale (`[surveys] ces_scale`).
    pub ces: Scale,
    /// The surveys whose columns the query gives, in output order (all
    /// three by default; `cxm sql --engine` keeps those with a valid
    /// response, as `cxm surveys` does).
    pub surveys: Vec<Survey>,
    /// Dimensions (columns of the table).
    pub by: Vec<String>,
    /// The periods.
    pub spine: Spine,
    /// The `by` names the table itself holds: read from it even with an
    /// accounts table, as cxm looks at a section's own table first
    /// (`cxm sql --engine` finds them in one row of the table; empty by
    /// default).
    pub own_by: Vec<String>,
    /// An accounts table: the other `by` columns are then read from it, joined on
    /// the responses' `account_id`.
    pub accounts: Option<String>,
}

impl SurveysRequest {
    /// A request for the table `table` in `dialect`: every survey, the
    /// default scales, NPS the default survey, ungrouped.
    pub fn new(dialect: Dialect, table: impl Into<String>, spine: Spine) -> Self {
        let d = SurveyOptions::default();
        Self {
            dialect,
            table: table.into(),
            default_survey: d.default_survey,
            csat: d.csat,
            ces: d.ces,
            surveys: Survey::ALL.to_vec(),
            by: Vec::new(),
            own_by: Vec::new(),
            spine,
            accounts: None,
        }
    }

    /// The scales, checked as `cxm surveys` checks them.
    fn validated(&self) -> Result<()> {
        let mut o = SurveyOptions::default();
        (o.csat, o.ces) = (self.csat, self.ces);
        o.validated().map(|_| ())
    }
}

/// The surveys table as one query in `r.dialect`: `period_start`, the `by`
/// columns, then the columns of each survey of `r.surveys` (metrics.md,
/// "The `surveys` table: column order"), rows ordered by period then group
/// (nulls last), as `cxm surveys` prints them.
///
/// A response counts when `responded_at` is set, its survey (`survey`
/// trimmed, any case; an empty one is `r.default_survey`) is `nps`, `csat`
/// or `ces`, and its score (trimmed text, or a number) is valid on that
/// survey's scale: a whole number from 0 to 10 for NPS, on `r.ces` for CES;
/// for CSAT text starting `good` or `bad` (any case), or a whole number on
/// `r.csat`. Every period appears for every group of the valid responses,
/// with counts 0 and the scores null where a period has none.
///
/// ```
/// use metrics_core::period::{Period, Spine};
/// use metrics_core::sql::{Dialect, SurveysRequest, surveys_sql};
/// let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
/// let spine = Spine::new(Period::Week, chrono_tz::UTC, d("2026-03-02"), d("2026-03-09"));
/// let sql = surveys_sql(&SurveysRequest::new(Dialect::Spark, "responses", spine))?;
/// assert!(sql.contains("sqrt(") && sql.contains("FROM responses") && sql.contains("AS ces_mean"));
/// # Ok::<(), metrics_core::Error>(())
/// ```
///
/// # Errors
/// A scale that is not one (as `cxm surveys`), or no survey to render.
pub fn surveys_sql(r: &SurveysRequest) -> Result<String> {
    r.validated()?;
    if r.surveys.is_empty() {
        return Err(Error::invalid_option("surveys", "", "names no survey to render (expected nps, csat or ces)"));
    }
    if r.spine.starts.is_empty() {
        return Err(Error::invalid_option("since", "", "is after --until: there is no period"));
    }
    refuse_internal(&r.by, INTERNAL)?;
    let x = Syntax(r.dialect);
    let d = Dims::quoted(&x, &r.by);
    let mut q = x.with_spine_buckets(&r.spine);
    responses_ctes(&x, &mut q, r, &d);
    let cols = survey_columns(&r.surveys);
    let keys = d.list("x");
    let aggs = x.aggregates(&cols, Attribution::Responded);
    let exprs: Vec<String> = aggs.iter().map(|(c, e)| format!("    {e} AS {}", c.name)).collect();
    let _ = writeln!(
        q,
        "counts AS (\n  SELECT s.period_start{keys},\n{}\n  \
         FROM t x {}\n  GROUP BY s.period_start{keys}\n),",
        exprs.join(",\n"),
        x.in_period("x.responded_at")
    );
    grid_cte(&mut q, &d.0);
    q.pop();
    // Every period and group; counts 0 where nothing was counted.
    let filled: Vec<String> = aggs
        .iter()
        .map(|(c, _)| match c.count {
            true => format!("coalesce(n.{0}, 0) AS {0}", c.name),
            false => format!("n.{0} AS {0}", c.name),
        })
        .collect();
    let _ = write!(
        q,
        ",\nfilled AS (\n  SELECT g.period_start{},\n    {}\n  \
         FROM grid g LEFT JOIN counts n ON n.period_start = g.period_start{}\n)",
        d.list("g"),
        filled.join(",\n    "),
        d.same("n", "g")
    );
    // The shares the net scores read, once each.
    let mut shares: Vec<String> = Vec::new();
    for e in cols.iter().flat_map(|c| x.shares(&c.measure)) {
        if !shares.contains(&e) {
            shares.push(e);
        }
    }
    let from = match shares.is_empty() {
        true => "filled",
        false => {
            let _ = write!(q, ",\nshares AS (\n  SELECT *,\n    {}\n  FROM filled\n)", shares.join(",\n    "));
            "shares"
        }
    };
    q.push('\n');
    let _ = write!(
        q,
        "SELECT period_start{},\n  {}\nFROM {from}\nORDER BY period_start{}\n",
        d.list(""),
        x.outputs(&cols),
        d.nulls_last("")
    );
    Ok(q)
}

/// Column names of the query's own, which a `by` name may not take.
const INTERNAL: &[&str] = &[
    "period_start",
    "responded_at",
    "kind",
    "sc",
    "lc",
    "num",
    "nps_score",
    "csat_satisfied",
    "ces_score",
    "nps_responses",
    "promoters",
    "passives",
    "detractors",
    "csat_responses",
    "ces_responses",
    "ces_mean",
    "__csat_satisfied",
    "__promoters_share",
    "__detractors_share",
    "nps",
    "nps_ci_low",
    "nps_ci_high",
    "csat_pct",
];

/// One query giving, over the whole table (every period, no `--since`),
/// the number of valid responses of each survey: columns `nps`, `csat` and
/// `ces`, one row. `cxm sql --engine` runs it first and leaves out the
/// columns of a survey with none, as `cxm surveys` does.
///
/// ```
/// use metrics_core::period::{Period, Spine};
/// use metrics_core::sql::{Dialect, SurveysRequest, surveys_present_sql};
/// let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
/// let spine = Spine::new(Period::Week, chrono_tz::UTC, d("2026-03-02"), d("2026-03-09"));
/// let sql = surveys_present_sql(&SurveysRequest::new(Dialect::DuckDb, "responses", spine))?;
/// assert!(sql.contains("count(ces_score) AS ces"));
/// # Ok::<(), metrics_core::Error>(())
/// ```
///
/// # Errors
/// A scale that is not one.
pub fn surveys_present_sql(r: &SurveysRequest) -> Result<String> {
    r.validated()?;
    refuse_internal(&r.by, INTERNAL)?;
    let x = Syntax(r.dialect);
    let mut q = String::from("WITH\n");
    responses_ctes(&x, &mut q, r, &Dims(Vec::new()));
    q.truncate(q.trim_end().trim_end_matches(',').len());
    q.push_str("\nSELECT count(nps_score) AS nps, count(csat_satisfied) AS csat, count(ces_score) AS ces FROM t\n");
    Ok(q)
}

/// One query giving the responses table's rows (`rows_read`) and the
/// valid responses the surveys query uses (`rows_used`), one row.
///
/// # Errors
/// A scale that is not one.
pub fn surveys_usage_sql(r: &SurveysRequest) -> Result<String> {
    r.validated()?;
    let x = Syntax(r.dialect);
    let mut q = String::from("WITH\n");
    responses_ctes(&x, &mut q, r, &Dims(Vec::new()));
    Ok(super::render::usage(q, &r.table, "t"))
}

/// `u`: each response's instant, survey and trimmed score text; `parsed`:
/// the score as a number (`num`) where it reads as one; `t`: the valid responses, with
/// `nps_score`, `csat_satisfied` (1 or 0) and `ces_score`, each null when
/// the response is of another survey.
fn responses_ctes(x: &Syntax, q: &mut String, r: &SurveysRequest, d: &Dims) {
    let s = x.string();
    // Dimensions come from the survey table itself, or with an accounts
    // table from its row of the response's `account_id`.
    let src = source_with_dims(x, q, &r.table, r.accounts.as_deref(), (d, &r.by), &r.own_by);
    let (from, dims, own) = (src.from, src.dims, src.own);
    let k = d.list("");
    let _ = writeln!(
        q,
        "u AS (\n  SELECT {} AS responded_at{dims},\n    \
         CASE WHEN {own}survey IS NULL OR trim({own}survey) = '' THEN '{}' ELSE lower(trim({own}survey)) END AS kind,\n    \
         trim(CAST({own}score AS {s})) AS sc\n  FROM {from}\n  WHERE {own}responded_at IS NOT NULL\n),",
        x.epoch_us(&format!("{own}responded_at")),
        r.default_survey.name(),
    );
    let _ =
        writeln!(q, "parsed AS (SELECT responded_at{k}, kind, lower(sc) AS lc, {} AS num FROM u),", x.try_double("sc"));
    let whole = |lo: String, hi: String| format!("num BETWEEN {lo} AND {hi} AND num = floor(num)");
    let c = &r.csat;
    let _ = writeln!(
        q,
        "scored AS (\n  SELECT responded_at{k},\n    \
         CASE WHEN kind = 'nps' AND {} THEN num END AS nps_score,\n    \
         CASE WHEN kind = 'csat' THEN CASE WHEN lc LIKE 'good%' THEN 1 WHEN lc LIKE 'bad%' THEN 0 \
         WHEN {} THEN CASE WHEN num >= {} THEN 1 ELSE 0 END END END AS csat_satisfied,\n    \
         CASE WHEN kind = 'ces' AND {} THEN num END AS ces_score\n  FROM parsed\n),",
        whole("0".into(), "10".into()),
        whole(c.min.to_string(), c.max.to_string()),
        c.satisfied_min,
        whole(format!("{:?}", r.ces.min), format!("{:?}", r.ces.max)),
    );
    let _ = writeln!(
        q,
        "t AS (\n  SELECT * FROM scored\n  \
         WHERE nps_score IS NOT NULL OR csat_satisfied IS NOT NULL OR ces_score IS NOT NULL\n),"
    );
}

/// The surveys with a valid response, in output order, from the one-row
/// result of [`surveys_present_sql`] (integer or float counts) that
/// `engine` computed.
///
/// ```
/// use metrics_core::polars::prelude::*;
/// use metrics_core::sql::present_surveys;
/// use metrics_core::surveys::Survey;
/// let counts = df!("nps" => [120i64], "csat" => [0i64], "ces" => [7i64])?;
/// assert_eq!(present_surveys(&counts, "duckdb")?, vec![Survey::Nps, Survey::Ces]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// No valid response of any survey (`cxm surveys` stops there too), or a
/// result without the three counts.
pub fn present_surveys(counts: &polars::prelude::DataFrame, engine: &str) -> Result<Vec<Survey>> {
    use polars::prelude::DataType;
    let mut present = Vec::new();
    for s in Survey::ALL {
        let n = counts
            .column(s.name())
            .and_then(|c| c.cast(&DataType::Float64))
            .ok()
            .and_then(|c| c.f64().ok().and_then(|v| v.get(0)))
            .ok_or_else(|| {
                let reason = format!("the count of valid {} responses is missing from the result", s.name());
                Error::from(crate::error::ErrorKind::Engine { engine: engine.into(), reason })
            })?;
        if n > 0.0 {
            present.push(s);
        }
    }
    if present.is_empty() {
        return Err(Error::from(crate::error::ErrorKind::NoUsableRows { table: "surveys".into() }));
    }
    Ok(present)
}

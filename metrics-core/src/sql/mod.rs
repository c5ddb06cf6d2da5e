//! The support table as SQL for an engine that already holds the tickets
//! (docs/sql.md): a typed description of every column ([`support_columns`]:
//! what is measured, over which tickets, attributed to which instant,
//! aggregated how) rendered per [`Dialect`].
//!
//! The periods are not computed by the engine: cxm lays the spine out
//! (local period starts in the report's zone, DST-correct) and the SQL
//! carries it as a `VALUES` list of each period's start and its UTC bounds
//! in epoch microseconds, so every dialect attributes an instant the same
//! way, by an integer range join against a table of a few hundred rows.
//! Tickets are never multiplied by periods except in the backlog, where a
//! ticket joins the period ends it is open across (a range join).

#[cfg(feature = "datafusion")]
mod engine;
mod purchases;
mod render;
mod revenue;
#[cfg(feature = "spark")]
mod spark;
mod surveys;

use crate::parse::timestamp::Micros;
use crate::period::Spine;
use crate::support::{FcrRule, SupportOptions};
use crate::{Error, Result};

#[cfg(feature = "datafusion")]
pub use engine::{EngineTable, run_datafusion};
pub use purchases::{PurchasesRequest, probe_sql, purchases_sql};
pub use render::support_sql;
pub use revenue::{MrrSource, RevenueRequest, cohorts_sql, revenue_currencies_sql, revenue_sql};
#[cfg(feature = "spark")]
pub use spark::{SparkRemote, run_spark, spark_endpoint};
pub use surveys::{SurveysRequest, present_surveys, surveys_present_sql, surveys_sql};

/// SQL dialects cxm renders for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// DuckDB (1.x, 2.x).
    DuckDb,
    /// Spark SQL (3.5+), also Sail through Spark Connect.
    Spark,
    /// Apache DataFusion.
    DataFusion,
    /// PostgreSQL.
    Postgres,
    /// Trino.
    Trino,
    /// Snowflake.
    Snowflake,
    /// Google BigQuery.
    BigQuery,
}

impl Dialect {
    /// Every dialect, in the order of docs/sql.md.
    pub const ALL: [Dialect; 7] = [
        Dialect::DuckDb,
        Dialect::Spark,
        Dialect::DataFusion,
        Dialect::Postgres,
        Dialect::Trino,
        Dialect::Snowflake,
        Dialect::BigQuery,
    ];

    /// The dialect's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Spark => "spark",
            Dialect::DataFusion => "datafusion",
            Dialect::Postgres => "postgres",
            Dialect::Trino => "trino",
            Dialect::Snowflake => "snowflake",
            Dialect::BigQuery => "bigquery",
        }
    }

    /// What the dialect can compute exactly (docs/sql.md, "Capabilities").
    pub fn capabilities(self) -> Capabilities {
        use Dialect::*;
        Capabilities {
            exact_percentile: matches!(self, DuckDb | Spark | Postgres | Snowflake),
            filter_clause: !matches!(self, Snowflake | BigQuery),
        }
    }
}

impl std::str::FromStr for Dialect {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Dialect::ALL.into_iter().find(|d| d.name() == s.trim().to_lowercase()).ok_or_else(|| {
            let names: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
            Error::invalid_option("dialect", s, format!("is unknown (expected {})", names.join(", ")))
        })
    }
}

/// What a dialect can do. Where it has no exact aggregate for a metric,
/// the renderer writes an exact fallback (percentiles by a window over the
/// sorted values) or refuses; it never approximates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// An exact linear-interpolation percentile aggregate (DuckDB
    /// `quantile_cont`, Spark `percentile`, `percentile_cont ... WITHIN
    /// GROUP`); DataFusion's rounds its weight to 1e-6 and Trino has only
    /// `approx_percentile`.
    pub exact_percentile: bool,
    /// `count(*) FILTER (WHERE ...)` (the renderer writes `count(CASE
    /// WHEN ... THEN 1 END)`, which every dialect reads).
    pub filter_clause: bool,
}

/// The instant a column's tickets are attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribution {
    /// `created_at`.
    Created,
    /// `solved_at`.
    Solved,
    /// `csat_at`, else `solved_at`.
    Rated,
    /// The state at each period's end, or at as-of when earlier (backlog).
    PeriodEnd,
}

/// A backlog statistic over the tickets open at a period's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backlog {
    /// Open tickets.
    Count,
    /// Open tickets older than 168 hours.
    Over7d,
    /// Median age in hours (linear interpolation).
    MedianAgeHours,
}

/// A per-ticket value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// `to - from` in units of `unit_micros`, null when either is missing
    /// or the difference is negative.
    Duration {
        /// Start instant column.
        from: &'static str,
        /// End instant column.
        to: &'static str,
        /// Microseconds per unit (6e7 for minutes).
        unit_micros: f64,
    },
    /// An integer column, null as 0.
    Int(&'static str),
}

/// A per-ticket condition; a null operand makes it false.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Cond {
    /// The column is null.
    IsNull(&'static str),
    /// A boolean column is true.
    Flag(&'static str),
    /// `column <= n`.
    AtMost(&'static str, i64),
    /// `column = n`.
    Equals(&'static str, i64),
    /// `column > n`.
    Above(&'static str, i64),
    /// Both.
    And(Box<Cond>, Box<Cond>),
    /// A valid rating (a whole number on the scale) that is satisfied.
    Satisfied,
    /// A valid rating.
    Rated,
}

/// How a column aggregates the tickets attributed to a period.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Measure {
    /// Every ticket attributed.
    Count,
    /// Tickets meeting the condition.
    CountIf(Cond),
    /// Tickets whose value is not null.
    CountValues(Value),
    /// Mean of the non-null values (null over none).
    Mean(Value),
    /// Linear-interpolation quantile of the non-null values (null over none).
    Quantile(Value, f64),
    /// Sum of the values (nulls as 0).
    Sum(Value),
    /// A backlog statistic (attribution [`Attribution::PeriodEnd`]).
    Backlog(Backlog),
    /// `scale × num / den` over two other columns of the same attribution,
    /// null when `den` is 0.
    Ratio {
        /// Numerator column.
        num: String,
        /// Denominator column.
        den: String,
        /// Multiplier (100 for percentages).
        scale: f64,
    },
}

/// One output column of the support table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Its name (the contract of docs/metrics.md).
    pub name: String,
    /// The instant its tickets are attributed to.
    pub attribution: Attribution,
    /// What it measures.
    pub measure: Measure,
    /// A count: 0, not null, in a period without tickets.
    pub count: bool,
}

/// What the SQL is rendered for: the dialect, the table names, the
/// support options and the periods.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqlRequest {
    /// The dialect.
    pub dialect: Dialect,
    /// The engine's identifier of the tickets table.
    pub tickets: String,
    /// The support options (percentiles, FCR rule, CSAT scale, `by`).
    pub options: SupportOptions,
    /// The periods (from `--since` to `--until`).
    pub spine: Spine,
    /// As-of; none: the latest timestamp of the tickets, computed by the
    /// engine.
    pub as_of: Option<Micros>,
}

impl SqlRequest {
    /// A request for the tickets table `tickets` in `dialect`.
    pub fn new(dialect: Dialect, tickets: impl Into<String>, options: SupportOptions, spine: Spine) -> Self {
        Self { dialect, tickets: tickets.into(), options, spine, as_of: None }
    }
}

const MINUTE: f64 = 6e7;
const HOUR: f64 = 3.6e9;

fn col(name: &str, attribution: Attribution, measure: Measure, count: bool) -> Column {
    Column { name: name.to_owned(), attribution, measure, count }
}

/// The support table's columns, in output order, for canonical tickets
/// with `created_at`, `first_response_at`, `solved_at`, `reopens`,
/// `agent_replies`, `escalated`, `csat` and `csat_at` (the escalated flag
/// rule): the same definitions as
/// docs/metrics.md and the in-process tables.
///
/// ```
/// use metrics_core::sql::{Attribution, support_columns};
/// use metrics_core::support::SupportOptions;
/// let cols = support_columns(&SupportOptions::default());
/// assert_eq!(cols[0].name, "tickets_created");
/// assert_eq!(cols.iter().find(|c| c.name == "frt_p90_minutes").unwrap().attribution, Attribution::Created);
/// ```
pub fn support_columns(o: &SupportOptions) -> Vec<Column> {
    use Attribution::*;
    let frt = Value::Duration { from: "created_at", to: "first_response_at", unit_micros: MINUTE };
    let res = Value::Duration { from: "created_at", to: "solved_at", unit_micros: HOUR };
    let mut c = vec![
        col("tickets_created", Created, Measure::Count, true),
        col("tickets_solved", Solved, Measure::Count, true),
    ];
    c.extend(durations("frt", "minutes", Created, &frt, &o.percentiles));
    c.push(col("unanswered_count", Created, Measure::CountIf(Cond::IsNull("first_response_at")), true));
    c.extend(durations("resolution", "hours", Solved, &res, &o.percentiles));
    let fcr = match o.fcr {
        FcrRule::OneTouch => Cond::Equals("agent_replies", 1),
        _ => Cond::And(Box::new(Cond::AtMost("agent_replies", 1)), Box::new(Cond::Equals("reopens", 0))),
    };
    let ratio = |num: &str, den: &str, scale: f64| Measure::Ratio { num: num.into(), den: den.into(), scale };
    c.push(col("fcr_count", Solved, Measure::CountIf(fcr), true));
    c.push(col("fcr_rate", Solved, ratio("fcr_count", "tickets_solved", 1.0), false));
    c.push(col("escalated_count", Created, Measure::CountIf(Cond::Flag("escalated")), true));
    c.push(col("escalation_rate", Created, ratio("escalated_count", "tickets_created", 1.0), false));
    c.push(col("reopened_count", Solved, Measure::CountIf(Cond::Above("reopens", 0)), true));
    c.push(col("reopen_rate", Solved, ratio("reopened_count", "tickets_solved", 1.0), false));
    c.push(col("reopens_total", Solved, Measure::Sum(Value::Int("reopens")), true));
    c.push(col("backlog_count", PeriodEnd, Measure::Backlog(Backlog::Count), true));
    c.push(col("backlog_over_7d_count", PeriodEnd, Measure::Backlog(Backlog::Over7d), true));
    c.push(col("backlog_median_age_hours", PeriodEnd, Measure::Backlog(Backlog::MedianAgeHours), false));
    c.push(col("csat_responses", Rated, Measure::CountIf(Cond::Rated), true));
    c.push(col("__csat_satisfied", Rated, Measure::CountIf(Cond::Satisfied), true));
    c.push(col("csat_pct", Rated, ratio("__csat_satisfied", "csat_responses", 100.0), false));
    c
}

/// Count, mean, extra percentiles, median and p90 of a duration.
fn durations(prefix: &str, unit: &str, at: Attribution, v: &Value, extra: &[f64]) -> Vec<Column> {
    let mut c = vec![
        col(&format!("{prefix}_count"), at, Measure::CountValues(v.clone()), true),
        col(&format!("{prefix}_mean_{unit}"), at, Measure::Mean(v.clone()), false),
    ];
    for &p in extra.iter().filter(|p| **p != 50.0 && **p != 90.0) {
        let name = format!("{prefix}_{}_{unit}", crate::support::percentile_name(p));
        c.push(col(&name, at, Measure::Quantile(v.clone(), p / 100.0), false));
    }
    c.push(col(&format!("{prefix}_median_{unit}"), at, Measure::Quantile(v.clone(), 0.5), false));
    c.push(col(&format!("{prefix}_p90_{unit}"), at, Measure::Quantile(v.clone(), 0.9), false));
    c
}

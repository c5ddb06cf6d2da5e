//! Report sections as SQL for an engine that already holds the data
//! (docs/sql.md). The support, surveys, purchases and revenue tables start
//! from a typed description of every column ([`support_columns`],
//! [`survey_columns`], [`purchase_columns`], [`revenue_columns`],
//! [`cohort_columns`]:
//! the input columns, which rows count, what is measured, the instant a
//! row is attributed to, the aggregation with its quantile method), rendered
//! per [`Dialect`]; the period grain and zone are the request's [`Spine`].
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
use crate::support::{CsatScale, FcrRule, SupportOptions};
use crate::surveys::Survey;
use crate::{Error, Result};

#[cfg(feature = "datafusion")]
pub use engine::{EngineTable, run_datafusion};
pub use purchases::{PurchasesRequest, probe_sql, purchases_sql, purchases_usage_sql};
pub use render::{support_sql, support_usage_sql};
pub use revenue::{MrrSource, RevenueRequest, cohorts_sql, revenue_currencies_sql, revenue_sql, revenue_usage_sql};
#[cfg(feature = "spark")]
pub use spark::{SparkConnection, SparkRemote, run_spark, spark_endpoint};
pub use surveys::{SurveysRequest, present_surveys, surveys_present_sql, surveys_sql, surveys_usage_sql};

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
            exact_median: !matches!(self, Trino | BigQuery),
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
    /// An exact median aggregate: the percentile's, or DataFusion's
    /// `median` (which keeps every value); Trino and BigQuery have none.
    pub exact_median: bool,
    /// `count(*) FILTER (WHERE ...)` (the renderer writes `count(CASE
    /// WHEN ... THEN 1 END)`, which every dialect reads).
    pub filter_clause: bool,
}

/// What a column's rows are attributed to a period by: a ticket's instant,
/// a response's, a transaction's, or an account's state over the period.
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
    /// A survey response's `responded_at`.
    Responded,
    /// A transaction's `at` (its local purchase day for distinct days).
    Purchased,
    /// A customer's n-th distinct local purchase day (1: the first), in the
    /// period holding it; a day before the first period counts in the
    /// first period.
    NthPurchaseDay(u32),
    /// An account over a period: its MRR just before the period's start
    /// and just before its end (its lines summed by a range join at the
    /// period edges; below 1e-6 is none), and whether it paid before the
    /// period. Every account with MRR at either edge.
    AccountPeriod,
    /// An account with a line started before the period's end, with its
    /// revenue so far.
    AccountToDate,
    /// An account in its cohort: the period holding its first line with
    /// MRR > 0 (cohorts before the range left out).
    Cohort,
    /// An account of a cohort at the end of the period `age` periods after
    /// the cohort's own, with its MRR then (at least 1e-6 to count).
    CohortAge,
}

/// How an account's MRR moved over a period (metrics.md, "MRR and
/// movements"); `b` is its MRR at the start, `a` at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Move {
    /// `b = 0 < a`, never paid before: amount `a`.
    New,
    /// `0 < b < a`: amount `a − b`.
    Expansion,
    /// `0 < a < b`: amount `b − a`.
    Contraction,
    /// `b > 0 = a`: amount `b`.
    Churn,
    /// `b = 0 < a`, paid before: amount `a`.
    Reactivation,
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

/// A per-row value (of a ticket or a survey response).
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
    /// A survey response's valid score on that survey's scale, null for a
    /// response of another survey (metrics.md, "Common rules (surveys)"):
    /// NPS 0-10 and CES on its scale, whole numbers; CSAT 1 when the
    /// response reads as satisfied, 0 when it reads as not.
    Score(Survey),
    /// A number column read as cxm reads numbers (text that is no number,
    /// NaN and infinities are null): the section parses it once where it
    /// reads the row, and aggregates read the parsed column.
    Number(&'static str),
    /// An account's MRR at the period's start ([`Attribution::AccountPeriod`]).
    MrrAtStart,
    /// An account's MRR at the period's end.
    MrrAtEnd,
    /// The amount of an account's move when it moved that way, else 0.
    Moved(Move),
    /// An account's revenue so far at the period's end: each line's MRR
    /// times its months (of 365/12 days) up to then
    /// ([`Attribution::AccountToDate`]).
    RevenueSoFar,
}

/// A per-row condition; a null operand makes it false.
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
    Satisfied(CsatScale),
    /// A valid rating on the scale.
    Rated(CsatScale),
    /// A survey response's valid score ([`Value::Score`]) from `lo` to
    /// `hi`, both included.
    ScoreIn(Survey, i64, i64),
    /// An account moved that way over the period.
    Moved(Move),
    /// An account had MRR at the period's start.
    PaidAtStart,
    /// An account had MRR at the period's end.
    PaidAtEnd,
}

/// How a quantile is computed from the sorted values of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuantileMethod {
    /// Linear interpolation between closest ranks (Hyndman-Fan type 7,
    /// numpy's default, DuckDB `quantile_cont`, Spark `percentile`): with
    /// the n values sorted, `x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋])` at
    /// `h = (n − 1)p` (metrics.md, "Common rules").
    Linear,
}

/// How a column aggregates the rows attributed to a period (tickets,
/// responses, transactions, accounts), or computes from other columns.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Measure {
    /// Every row attributed.
    Count,
    /// Rows meeting the condition.
    CountIf(Cond),
    /// Tickets whose value is not null.
    CountValues(Value),
    /// Mean of the non-null values (null over none).
    Mean(Value),
    /// Quantile `p` (0-1) of the non-null values by the method (null over
    /// none).
    Quantile(Value, f64, QuantileMethod),
    /// Sum of the values (nulls as 0).
    Sum(Value),
    /// A backlog statistic (attribution [`Attribution::PeriodEnd`]).
    Backlog(Backlog),
    /// Distinct customers (`account_id`) whose rows attributed fall on at
    /// least `min_days` distinct local days.
    Customers {
        /// The least number of distinct days (1: every customer).
        min_days: u32,
    },
    /// The rows attributed to this period or an earlier one of the same
    /// group: a running count over the periods.
    RunningCount,
    /// `scale × num / den` over two other columns, null when `den` is 0.
    Ratio {
        /// Numerator column.
        num: String,
        /// Denominator column.
        den: String,
        /// Multiplier (100 for percentages).
        scale: f64,
    },
    /// A net score, `100 × (pos − neg) / den` (NPS: promoters less
    /// detractors over responses), null when `den` is 0; the three are
    /// other columns of the same attribution.
    NetScore {
        /// Count of the positive responses.
        pos: String,
        /// Count of the negative responses.
        neg: String,
        /// Count of all responses.
        den: String,
    },
    /// `num` over its own value at age 0 (the cohort's own period), null
    /// when that base is not above `floor` ([`Attribution::CohortAge`]).
    OverFirstAge {
        /// The column.
        num: String,
        /// The least base that divides (1e-6 for money).
        floor: f64,
    },
    /// `Σ coefficient × column` over other columns (nulls are not expected:
    /// they are counts or sums).
    Linear(Vec<(f64, String)>),
    /// Customer lifetime value, `arpa × gross_margin / c`, where c is the
    /// mean of the monthly `churn` over the `months` calendar months ending
    /// with the month holding the period's last day; null unless all of
    /// them have a rate and c > 0 (metrics.md, "CLV (formula)").
    Clv {
        /// The column of the revenue per account.
        arpa: String,
        /// The column of the logo churn rate, computed by calendar month.
        churn: String,
        /// How many months the mean takes (6).
        months: u32,
        /// `[revenue] gross_margin`, in (0, 1].
        gross_margin: f64,
    },
    /// A bound of the net score's normal-approximation interval: with
    /// `p = pos/den` and `d = neg/den`, `100(p − d) ± z × 100 ×
    /// sqrt((p + d − (p − d)²) / den)`, clamped to −100..100; null when
    /// `den` is 0 (metrics.md, "NPS").
    NetScoreBound {
        /// Count of the positive responses.
        pos: String,
        /// Count of the negative responses.
        neg: String,
        /// Count of all responses.
        den: String,
        /// The normal quantile (1.96 for 95 %).
        z: f64,
        /// The upper bound (`+`), else the lower (`−`).
        upper: bool,
    },
}

impl Measure {
    /// The other columns it is computed from, none for an aggregate.
    ///
    /// ```
    /// use metrics_core::sql::Measure;
    /// let m = Measure::Ratio { num: "fcr_count".into(), den: "tickets_solved".into(), scale: 1.0 };
    /// assert_eq!(m.reads(), ["fcr_count", "tickets_solved"]);
    /// ```
    pub fn reads(&self) -> Vec<&str> {
        match self {
            Measure::Ratio { num, den, .. } => vec![num, den],
            Measure::NetScore { pos, neg, den } | Measure::NetScoreBound { pos, neg, den, .. } => vec![pos, neg, den],
            Measure::Linear(terms) => terms.iter().map(|(_, c)| c.as_str()).collect(),
            Measure::Clv { arpa, churn, .. } => vec![arpa, churn],
            Measure::OverFirstAge { num, .. } => vec![num],
            _ => Vec::new(),
        }
    }
}

/// One output column of a section's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Its name (the contract of docs/metrics.md).
    pub name: String,
    /// What its rows are attributed to a period by.
    pub attribution: Attribution,
    /// What it measures.
    pub measure: Measure,
    /// A count (or a sum of money): 0, not null, in a period without rows.
    pub count: bool,
}

impl Column {
    /// The input columns of its section's table (tickets, survey
    /// responses, transactions, subscriptions) it reads, in a fixed order
    /// without repeats: those that attribute its rows, then those its
    /// measure reads. A computed column (ratio, net score, linear, CLV)
    /// adds none to its attribution's. Revenue lists `mrr`: with the
    /// amount form the query reads `amount`, `quantity`, `interval`,
    /// `interval_count` and `currency` instead; a `--by` column of the
    /// accounts table is not listed.
    ///
    /// ```
    /// use metrics_core::sql::{support_columns, survey_columns};
    /// use metrics_core::support::SupportOptions;
    /// use metrics_core::surveys::Survey;
    /// let frt = support_columns(&SupportOptions::default()).into_iter().find(|c| c.name == "frt_median_minutes").unwrap();
    /// assert_eq!(frt.inputs(), ["created_at", "first_response_at"]);
    /// let promoters = &survey_columns(&[Survey::Nps])[1];
    /// assert_eq!(promoters.inputs(), ["responded_at", "survey", "score"]);
    /// ```
    pub fn inputs(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = match self.attribution {
            Attribution::Created => vec!["created_at"],
            Attribution::Solved => vec!["created_at", "solved_at"],
            Attribution::Rated => vec!["created_at", "csat_at", "solved_at"],
            Attribution::PeriodEnd => vec!["created_at", "solved_at"],
            Attribution::Responded => vec!["responded_at"],
            Attribution::Purchased | Attribution::NthPurchaseDay(_) => vec!["account_id", "at"],
            Attribution::AccountPeriod | Attribution::AccountToDate | Attribution::Cohort | Attribution::CohortAge => {
                vec!["account_id", "start_at", "end_at", "mrr"]
            }
        };
        match &self.measure {
            Measure::CountIf(c) => cond_inputs(c, &mut out),
            Measure::CountValues(v) | Measure::Mean(v) | Measure::Sum(v) | Measure::Quantile(v, ..) => {
                value_inputs(v, &mut out)
            }
            _ => {}
        }
        let mut seen = Vec::new();
        out.retain(|c| {
            !seen.contains(c) && {
                seen.push(*c);
                true
            }
        });
        out
    }
}

fn value_inputs(v: &Value, out: &mut Vec<&'static str>) {
    match v {
        Value::Duration { from, to, .. } => out.extend([*from, *to]),
        Value::Int(c) => out.push(c),
        Value::Score(_) => out.extend(["survey", "score"]),
        Value::Number(c) => out.push(c),
        Value::MrrAtStart | Value::MrrAtEnd | Value::Moved(_) | Value::RevenueSoFar => {}
    }
}

fn cond_inputs(c: &Cond, out: &mut Vec<&'static str>) {
    match c {
        Cond::IsNull(c) | Cond::Flag(c) | Cond::AtMost(c, _) | Cond::Equals(c, _) | Cond::Above(c, _) => out.push(c),
        Cond::And(a, b) => {
            cond_inputs(a, out);
            cond_inputs(b, out);
        }
        Cond::Satisfied(_) | Cond::Rated(_) => out.push("csat"),
        Cond::ScoreIn(..) => out.extend(["survey", "score"]),
        Cond::Moved(_) | Cond::PaidAtStart | Cond::PaidAtEnd => {}
    }
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
    c.push(col("csat_responses", Rated, Measure::CountIf(Cond::Rated(o.csat)), true));
    c.push(col("__csat_satisfied", Rated, Measure::CountIf(Cond::Satisfied(o.csat)), true));
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
        c.push(col(&name, at, quantile(v, p / 100.0), false));
    }
    c.push(col(&format!("{prefix}_median_{unit}"), at, quantile(v, 0.5), false));
    c.push(col(&format!("{prefix}_p90_{unit}"), at, quantile(v, 0.9), false));
    c
}

fn quantile(v: &Value, p: f64) -> Measure {
    Measure::Quantile(v.clone(), p, QuantileMethod::Linear)
}

/// The surveys table's columns for `surveys`, in output order (each survey
/// once, in the order given), attributed to `responded_at`: the same
/// definitions as docs/metrics.md ("NPS", "CSAT (surveys)", "CES") and
/// `cxm surveys`. A column whose name starts `__` is a helper the output
/// leaves out.
///
/// ```
/// use metrics_core::sql::{Measure, survey_columns};
/// use metrics_core::surveys::Survey;
/// let cols = survey_columns(&[Survey::Csat, Survey::Nps]);
/// assert_eq!(cols[0].name, "csat_responses");
/// assert!(matches!(cols.iter().find(|c| c.name == "nps").unwrap().measure, Measure::NetScore { .. }));
/// ```
pub fn survey_columns(surveys: &[Survey]) -> Vec<Column> {
    let at = Attribution::Responded;
    let count = |name: &str, m: Measure| col(name, at, m, true);
    let within = |s: Survey, lo: i64, hi: i64| Measure::CountIf(Cond::ScoreIn(s, lo, hi));
    let net = |name: &str, bound: Option<bool>| {
        let (pos, neg, den) = ("promoters".to_owned(), "detractors".to_owned(), "nps_responses".to_owned());
        let m = match bound {
            None => Measure::NetScore { pos, neg, den },
            Some(upper) => Measure::NetScoreBound { pos, neg, den, z: crate::surveys::Z95, upper },
        };
        col(name, at, m, false)
    };
    let mut c = Vec::new();
    let mut done = Vec::new();
    for s in surveys.iter().copied().filter(|s| {
        !done.contains(s) && {
            done.push(*s);
            true
        }
    }) {
        match s {
            Survey::Nps => c.extend([
                count("nps_responses", Measure::CountValues(Value::Score(s))),
                count("promoters", within(s, 9, 10)),
                count("passives", within(s, 7, 8)),
                count("detractors", within(s, 0, 6)),
                net("nps", None),
                net("nps_ci_low", Some(false)),
                net("nps_ci_high", Some(true)),
            ]),
            Survey::Csat => c.extend([
                count("csat_responses", Measure::CountValues(Value::Score(s))),
                count("__csat_satisfied", within(s, 1, 1)),
                col(
                    "csat_pct",
                    at,
                    Measure::Ratio { num: "__csat_satisfied".into(), den: "csat_responses".into(), scale: 100.0 },
                    false,
                ),
            ]),
            Survey::Ces => c.extend([
                count("ces_responses", Measure::CountValues(Value::Score(s))),
                col("ces_mean", at, Measure::Mean(Value::Score(s)), false),
            ]),
        }
    }
    c
}

/// The purchases table's columns, in output order (`revenue`,
/// `average_order_value` and their helper only with `amount`): the same
/// definitions as docs/metrics.md ("Purchases (transactions)") and `cxm
/// purchases`. A column whose name starts `__` is a helper the output
/// leaves out.
///
/// ```
/// use metrics_core::sql::{Attribution, Measure, purchase_columns};
/// let cols = purchase_columns(false);
/// assert_eq!(cols[0].name, "customers_purchasing");
/// assert!(cols.iter().all(|c| c.name != "revenue"));
/// let buyers = cols.iter().find(|c| c.name == "__buyers").unwrap();
/// assert_eq!((buyers.attribution, &buyers.measure), (Attribution::NthPurchaseDay(1), &Measure::RunningCount));
/// ```
pub fn purchase_columns(amount: bool) -> Vec<Column> {
    use Attribution::{NthPurchaseDay, Purchased};
    let ratio = |name: &str, num: &str, den: &str, at| {
        col(name, at, Measure::Ratio { num: num.into(), den: den.into(), scale: 1.0 }, false)
    };
    let customers = |name: &str, min_days| col(name, Purchased, Measure::Customers { min_days }, true);
    let mut c = vec![
        customers("customers_purchasing", 1),
        col("orders", Purchased, Measure::Count, true),
        ratio("purchase_frequency", "orders", "customers_purchasing", Purchased),
    ];
    if amount {
        let v = Value::Number("amount");
        c.push(col("revenue", Purchased, Measure::Sum(v.clone()), true));
        c.push(col("__priced", Purchased, Measure::CountValues(v), true));
        c.push(ratio("average_order_value", "revenue", "__priced", Purchased));
    }
    c.push(customers("__repeaters", 2));
    c.push(ratio("repeat_purchase_rate", "__repeaters", "customers_purchasing", Purchased));
    c.push(col("__buyers", NthPurchaseDay(1), Measure::RunningCount, true));
    c.push(col("__lifetime_repeaters", NthPurchaseDay(2), Measure::RunningCount, true));
    c.push(ratio("repeat_purchase_rate_lifetime", "__lifetime_repeaters", "__buyers", NthPurchaseDay(1)));
    c
}

/// The revenue table's columns, in output order, with `[revenue]
/// gross_margin` for `clv`: the same definitions as docs/metrics.md ("MRR
/// and movements" to "CLV (historic)") and `cxm revenue`. The lines' MRR
/// is `mrr`, or the amount form (`amount`, `quantity`, `interval`,
/// `interval_count`) converted by currency, as the request says. A column
/// whose name starts `__` is a helper the output leaves out.
///
/// ```
/// use metrics_core::sql::{Measure, revenue_columns};
/// let cols = revenue_columns(1.0);
/// let nrr = cols.iter().find(|c| c.name == "nrr").unwrap();
/// assert_eq!(nrr.measure.reads(), ["__nrr_num", "mrr_start"]);
/// ```
pub fn revenue_columns(gross_margin: f64) -> Vec<Column> {
    use Attribution::{AccountPeriod, AccountToDate};
    let sum = |name: &str, v: Value| col(name, AccountPeriod, Measure::Sum(v), true);
    let count = |name: &str, c: Cond| col(name, AccountPeriod, Measure::CountIf(c), true);
    let linear = |name: &str, terms: &[(f64, &str)]| {
        let terms = terms.iter().map(|(k, c)| (*k, (*c).to_owned())).collect();
        col(name, AccountPeriod, Measure::Linear(terms), true)
    };
    let ratio = |name: &str, num: &str, den: &str| {
        col(name, AccountPeriod, Measure::Ratio { num: num.into(), den: den.into(), scale: 1.0 }, false)
    };
    let moved = |m: Move| Value::Moved(m);
    let so_far = Value::RevenueSoFar;
    vec![
        sum("mrr_start", Value::MrrAtStart),
        sum("mrr_end", Value::MrrAtEnd),
        sum("new_mrr", moved(Move::New)),
        sum("expansion_mrr", moved(Move::Expansion)),
        sum("contraction_mrr", moved(Move::Contraction)),
        sum("churned_mrr", moved(Move::Churn)),
        sum("reactivation_mrr", moved(Move::Reactivation)),
        linear(
            "net_new_mrr",
            &[
                (1.0, "new_mrr"),
                (1.0, "reactivation_mrr"),
                (1.0, "expansion_mrr"),
                (-1.0, "contraction_mrr"),
                (-1.0, "churned_mrr"),
            ],
        ),
        count("customers_start", Cond::PaidAtStart),
        count("customers_end", Cond::PaidAtEnd),
        count("new_customers", Cond::Moved(Move::New)),
        count("reactivated_customers", Cond::Moved(Move::Reactivation)),
        count("churned_customers", Cond::Moved(Move::Churn)),
        ratio("logo_churn_rate", "churned_customers", "customers_start"),
        linear("__retained", &[(1.0, "customers_end"), (-1.0, "new_customers"), (-1.0, "reactivated_customers")]),
        ratio("retention_rate", "__retained", "customers_start"),
        linear("__gross_churn", &[(1.0, "churned_mrr"), (1.0, "contraction_mrr")]),
        ratio("gross_mrr_churn_rate", "__gross_churn", "mrr_start"),
        linear(
            "__net_churn",
            &[(1.0, "churned_mrr"), (1.0, "contraction_mrr"), (-1.0, "expansion_mrr"), (-1.0, "reactivation_mrr")],
        ),
        ratio("net_mrr_churn_rate", "__net_churn", "mrr_start"),
        linear(
            "__nrr_num",
            &[(1.0, "mrr_start"), (1.0, "expansion_mrr"), (-1.0, "contraction_mrr"), (-1.0, "churned_mrr")],
        ),
        ratio("nrr", "__nrr_num", "mrr_start"),
        linear("__grr_num", &[(1.0, "mrr_start"), (-1.0, "contraction_mrr"), (-1.0, "churned_mrr")]),
        ratio("grr", "__grr_num", "mrr_start"),
        ratio("arpa", "mrr_end", "customers_end"),
        col(
            "clv",
            AccountPeriod,
            Measure::Clv { arpa: "arpa".into(), churn: "logo_churn_rate".into(), months: 6, gross_margin },
            false,
        ),
        col("clv_historic_mean", AccountToDate, Measure::Mean(so_far.clone()), false),
        col("clv_historic_median", AccountToDate, Measure::Quantile(so_far, 0.5, QuantileMethod::Linear), false),
    ]
}

/// The cohorts table's columns after `cohort`, the `by` columns and `age`,
/// in output order: the same definitions as docs/metrics.md ("The
/// `cohorts` table") and `cxm cohorts`. A column whose name starts `__` is
/// a helper the output leaves out.
///
/// ```
/// use metrics_core::sql::{Measure, cohort_columns};
/// let cols = cohort_columns();
/// let rr = cols.iter().find(|c| c.name == "revenue_retention").unwrap();
/// assert!(matches!(&rr.measure, Measure::OverFirstAge { num, .. } if num == "__mrr"));
/// ```
pub fn cohort_columns() -> Vec<Column> {
    use Attribution::{Cohort, CohortAge};
    vec![
        col("accounts", Cohort, Measure::Count, true),
        col("__active", CohortAge, Measure::CountIf(Cond::PaidAtEnd), true),
        col("__mrr", CohortAge, Measure::Sum(Value::MrrAtEnd), true),
        col(
            "logo_retention",
            CohortAge,
            Measure::Ratio { num: "__active".into(), den: "accounts".into(), scale: 1.0 },
            false,
        ),
        col("revenue_retention", CohortAge, Measure::OverFirstAge { num: "__mrr".into(), floor: 1e-6 }, false),
    ]
}

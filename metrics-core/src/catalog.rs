//! What an output column means for a reader: which way is good, and
//! whether it is a fraction shown as a percentage (docs/metrics.md).
//! Renderers use it to colour changes and format rates; the numbers
//! themselves never depend on it.

/// Which way a metric should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Direction {
    /// Up is good (FCR, CSAT, NPS, retention, NRR, SLA attainment, MRR).
    HigherIsBetter,
    /// Down is good (response and resolution times, backlog, churn,
    /// escalation and reopen rates, SLA breaches).
    LowerIsBetter,
    /// Neither (volumes, counts of events, keys).
    Neutral,
}

/// Columns where down is good, by exact name.
const LOWER: [&str; 14] = [
    "unanswered_count",
    "escalated_count",
    "escalation_rate",
    "reopened_count",
    "reopen_rate",
    "reopens_total",
    "backlog_count",
    "backlog_over_7d_count",
    "backlog_median_age_hours",
    "churned_mrr",
    "contraction_mrr",
    "churned_customers",
    "detractors",
    "health_red",
];

/// Columns where up is good, by exact name.
const HIGHER: [&str; 26] = [
    "fcr_count",
    "fcr_rate",
    "csat_pct",
    "nps",
    "promoters",
    "nrr",
    "grr",
    "mrr_end",
    "new_mrr",
    "expansion_mrr",
    "reactivation_mrr",
    "net_new_mrr",
    "customers_end",
    "new_customers",
    "reactivated_customers",
    "arpa",
    "clv",
    "retention_rate",
    "logo_retention",
    "revenue_retention",
    "repeat_purchase_rate",
    "revenue",
    "average_order_value",
    "health_mean",
    "health_green",
    "health_score",
];

/// Which way `column` should move.
///
/// Durations (`frt_*`, `resolution_*` and `first_resolution_*` statistics
/// other than their counts), churn rates and SLA breaches should fall; SLA
/// attainment should rise; everything not listed is neutral.
///
/// ```
/// use metrics_core::catalog::{Direction, direction};
/// assert_eq!(direction("frt_business_p90_minutes"), Direction::LowerIsBetter);
/// assert_eq!(direction("sla_frt_rate"), Direction::HigherIsBetter);
/// assert_eq!(direction("tickets_created"), Direction::Neutral);
/// assert_eq!(direction("frt_count"), Direction::Neutral);
/// ```
pub fn direction(column: &str) -> Direction {
    let duration = ["frt_", "resolution_", "first_resolution_"].iter().any(|p| column.starts_with(p))
        && (column.ends_with("_minutes") || column.ends_with("_hours"));
    if duration || LOWER.contains(&column) || column.ends_with("_churn_rate") || column.ends_with("_breached") {
        Direction::LowerIsBetter
    } else if HIGHER.contains(&column) || (column.starts_with("sla_") && column.ends_with("_rate")) {
        Direction::HigherIsBetter
    } else {
        Direction::Neutral
    }
}

/// Whether `column` holds a fraction in [0, 1] that people read as a
/// percentage (`*_rate`, retention, NRR, GRR); `csat_pct` and `nps` are
/// already on a 0-100 scale and are not.
///
/// ```
/// use metrics_core::catalog::is_fraction;
/// assert!(is_fraction("fcr_rate") && is_fraction("logo_retention") && is_fraction("nrr"));
/// assert!(!is_fraction("csat_pct") && !is_fraction("nps") && !is_fraction("frt_mean_minutes"));
/// ```
pub fn is_fraction(column: &str) -> bool {
    column.ends_with("_rate") || column.ends_with("_retention") || matches!(column, "nrr" | "grr")
}

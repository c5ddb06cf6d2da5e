//! Customer satisfaction from ticket ratings.

use polars::prelude::*;

use super::{Metric, P_RATED, Planned, Tickets, count_true, grouped, ratio, skipped};
use crate::schema::tickets::{CSAT, CSAT_AT, CSAT_SATISFIED, SOLVED_AT};

/// CSAT, attributed to the period of `csat_at`, else of `solved_at`.
///
/// `csat_responses` = valid ratings in the period (offered-but-unanswered,
/// out-of-scale and timeless ratings excluded and counted in data quality);
/// `csat_pct = 100 x satisfied / csat_responses`, null when there is none.
pub fn csat(t: &Tickets) -> Planned {
    if !t.has(CSAT) {
        return Err(skipped("csat", CSAT));
    }
    if !t.has(CSAT_AT) && !t.has(SOLVED_AT) {
        return Err(skipped("csat", CSAT_AT));
    }
    let aggs = vec![
        col(CSAT_SATISFIED).count().cast(DataType::UInt32).alias("csat_responses"),
        count_true(col(CSAT_SATISFIED)).alias("__csat_satisfied"),
    ];
    let part = grouped(P_RATED, aggs)
        .with_column((ratio(col("__csat_satisfied"), col("csat_responses")) * lit(100.0)).alias("csat_pct"));
    Ok(Metric {
        parts: vec![part],
        columns: vec!["csat_responses".to_owned(), "csat_pct".to_owned()],
        counts: vec!["csat_responses".to_owned()],
    })
}

//! First response time.

use polars::prelude::*;

use super::{DurationSource, Metric, P_CREATED, Planned, SupportContext, Tickets, duration, duration_parts, skipped};
use crate::schema::tickets::{CREATED_AT, FIRST_RESPONSE_AT, FIRST_RESPONSE_MINUTES};

const MINUTE: f64 = 6e7;

/// Where FRT comes from: `timestamps` (`first_response_at`) or `vendor`
/// (the export's `first_response_minutes`), whichever is mapped, the one
/// `prefer` names when both are; `none` when neither is.
pub fn source(t: &Tickets, prefer: DurationSource) -> &'static str {
    super::pick_source(t.has(FIRST_RESPONSE_AT), t.has(FIRST_RESPONSE_MINUTES), prefer)
}

/// First response time, attributed to the period of `created_at`.
///
/// FRT = `first_response_at - created_at` in minutes (microseconds / 6e7).
/// Tickets without a response are excluded from the statistics and counted
/// in `unanswered_count`; a negative FRT is excluded from the statistics but
/// is not unanswered. Columns: `frt_count`, `frt_mean_minutes`, extra
/// percentiles, `frt_median_minutes`, `frt_p90_minutes` (null over an empty
/// sample), `unanswered_count`. With only a vendor `first_response_minutes`
/// column, that value is the FRT and empty means unanswered.
pub fn first_response_time(t: &Tickets, cx: &SupportContext) -> Planned {
    let (d, answered) = match source(t, cx.options.durations) {
        "timestamps" => (duration(CREATED_AT, FIRST_RESPONSE_AT, MINUTE), col(FIRST_RESPONSE_AT).is_not_null()),
        "vendor" => {
            let m = col(FIRST_RESPONSE_MINUTES);
            (
                when(m.clone().gt_eq(lit(0.0))).then(m.clone()).otherwise(lit(NULL).cast(DataType::Float64)),
                m.is_not_null(),
            )
        }
        _ => return Err(skipped("first_response_time", FIRST_RESPONSE_AT)),
    };
    let unanswered = answered.not().cast(DataType::UInt32).sum().alias("unanswered_count");
    let (parts, mut columns) = duration_parts(P_CREATED, d, &super::FRT, &cx.options.percentiles, vec![unanswered]);
    columns.push("unanswered_count".to_owned());
    let counts = vec![super::FRT.count.to_owned(), "unanswered_count".to_owned()];
    Ok(Metric { parts, columns, counts })
}

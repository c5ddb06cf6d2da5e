//! Full and first resolution time.

use polars::prelude::*;

use super::{
    DurationSource, Metric, P_CREATED, P_SOLVED, Planned, SupportContext, Tickets, duration, duration_parts, skipped,
};
use crate::schema::tickets::{CREATED_AT, FIRST_SOLVED_AT, RESOLUTION_MINUTES, SOLVED_AT};

const HOUR: f64 = 3.6e9;

/// Where full resolution time comes from: `timestamps` (`solved_at`) or
/// `vendor` (`resolution_minutes`), the one `prefer` names when both are
/// mapped; `none` when neither is.
pub fn source(t: &Tickets, prefer: DurationSource) -> &'static str {
    super::pick_source(t.has(SOLVED_AT), t.has(RESOLUTION_MINUTES), prefer)
}

/// Full resolution time, attributed to the period of `solved_at`.
///
/// `solved_at - created_at` in hours (microseconds / 3.6e9) over tickets
/// solved in the period; negative durations excluded. Columns:
/// `resolution_count`, `resolution_mean_hours`, extra percentiles,
/// `resolution_median_hours`, `resolution_p90_hours`; null over an empty
/// sample. Without `solved_at`, the vendor `resolution_minutes` / 60 is used,
/// attributed to `created_at` (the only instant such an export has).
pub fn resolution_time(t: &Tickets, cx: &SupportContext) -> Planned {
    let extra = &cx.options.percentiles;
    let (parts, columns) = match source(t, cx.options.durations) {
        "timestamps" => {
            duration_parts(P_SOLVED, duration(CREATED_AT, SOLVED_AT, HOUR), &super::RESOLUTION, extra, Vec::new())
        }
        "vendor" => {
            let m = col(RESOLUTION_MINUTES);
            let h = when(m.clone().gt_eq(lit(0.0))).then(m / lit(60.0)).otherwise(lit(NULL).cast(DataType::Float64));
            duration_parts(P_CREATED, h, &super::RESOLUTION, extra, Vec::new())
        }
        _ => return Err(skipped("resolution_time", SOLVED_AT)),
    };
    Ok(Metric { parts, counts: vec![super::RESOLUTION.count.to_owned()], columns })
}

/// First resolution time (docs/metrics.md, "First resolution time"): `first_solved_at - created_at` in
/// hours over tickets whose `solved_at` is in the period and that have a
/// `first_solved_at`; no fallback to `solved_at`. Columns
/// `first_resolution_count`, `first_resolution_mean_hours`, ...
pub fn first_resolution_time(t: &Tickets, cx: &SupportContext) -> Planned {
    if !t.has(FIRST_SOLVED_AT) {
        return Err(skipped("first_resolution_time", FIRST_SOLVED_AT));
    }
    if !t.has(SOLVED_AT) {
        return Err(skipped("first_resolution_time", SOLVED_AT));
    }
    let d = duration(CREATED_AT, FIRST_SOLVED_AT, HOUR);
    // A ticket without first_solved_at has a null duration: the statistics
    // skip it.
    let (parts, columns) = duration_parts(P_SOLVED, d, &super::FIRST_RESOLUTION, &cx.options.percentiles, Vec::new());
    Ok(Metric { parts, counts: vec![super::FIRST_RESOLUTION.count.to_owned()], columns })
}

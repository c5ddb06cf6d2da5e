//! Duration metrics in business time (docs/calendars.md): the business
//! twins of FRT, resolution and first resolution time.

use polars::prelude::*;
use rayon::prelude::*;

use super::{DurationColumns, Metric, P_CREATED, P_SOLVED, Planned, SupportContext, Tickets, duration_parts, skipped};
use crate::calendar::{BusinessCalendar, Prepared};
use crate::error::PolarsContext;
use crate::parse::timestamp::Micros;
use crate::schema::tickets::{CREATED_AT, CSAT_AT, FIRST_RESPONSE_AT, FIRST_SOLVED_AT, SOLVED_AT};

/// Staged column: business microseconds from `created_at` to `first_response_at`.
pub const B_FRT: &str = "__business_frt";
/// Staged column: business microseconds from `created_at` to `solved_at`.
pub const B_RESOLUTION: &str = "__business_resolution";
/// Staged column: business microseconds from `created_at` to `first_solved_at`.
pub const B_FIRST_RESOLUTION: &str = "__business_first_resolution";

/// First response time in business minutes.
pub const FRT_BUSINESS: DurationColumns = DurationColumns {
    prefix: "frt_business",
    unit: "minutes",
    count: "frt_business_count",
    mean: "frt_business_mean_minutes",
    median: "frt_business_median_minutes",
    p90: "frt_business_p90_minutes",
};

/// Full resolution time in business hours.
pub const RESOLUTION_BUSINESS: DurationColumns = DurationColumns {
    prefix: "resolution_business",
    unit: "hours",
    count: "resolution_business_count",
    mean: "resolution_business_mean_hours",
    median: "resolution_business_median_hours",
    p90: "resolution_business_p90_hours",
};

/// First resolution time in business hours.
pub const FIRST_RESOLUTION_BUSINESS: DurationColumns = DurationColumns {
    prefix: "first_resolution_business",
    unit: "hours",
    count: "first_resolution_business_count",
    mean: "first_resolution_business_mean_hours",
    median: "first_resolution_business_median_hours",
    p90: "first_resolution_business_p90_hours",
};

/// The instants of a timestamp column as microseconds, if present.
pub(crate) fn instants(t: &Tickets, name: &str) -> crate::Result<Option<Vec<Option<Micros>>>> {
    Ok(super::instant_column(t, name)?.map(|c| c.iter().collect()))
}

/// `cal`'s open time over every instant of the tickets and as-of.
pub(crate) fn prepared(t: &Tickets, cal: &BusinessCalendar) -> crate::Result<Prepared> {
    let (mut lo, mut hi) = (t.as_of, t.as_of);
    for name in [CREATED_AT, FIRST_RESPONSE_AT, SOLVED_AT, FIRST_SOLVED_AT, CSAT_AT] {
        if let Some(c) = super::instant_column(t, name)? {
            lo = c.min().map_or(lo, |m| lo.min(m));
            hi = c.max().map_or(hi, |m| hi.max(m));
        }
    }
    let date = |m: Micros| crate::period::local_date(m, cal.tz());
    Ok(cal.prepare(date(lo), date(hi)))
}

/// Business microseconds from each `start` to its `end` (null when either
/// is missing or `end` is before `start`).
pub(crate) fn durations(p: &Prepared, start: &[Option<Micros>], end: &[Option<Micros>]) -> Vec<Option<i64>> {
    start
        .par_iter()
        .zip(end.par_iter())
        .map(|(s, e)| match (s, e) {
            (Some(s), Some(e)) => p.business(*s, *e),
            _ => None,
        })
        .collect()
}

/// Adds [`B_FRT`], [`B_RESOLUTION`] and [`B_FIRST_RESOLUTION`] for the
/// end instants present, computed with `cal`.
pub fn add_business(t: &mut Tickets, cal: &BusinessCalendar) -> crate::Result<()> {
    let p = prepared(t, cal)?;
    let Some(created) = instants(t, CREATED_AT)? else { return Ok(()) };
    for (end, name) in [(FIRST_RESPONSE_AT, B_FRT), (SOLVED_AT, B_RESOLUTION), (FIRST_SOLVED_AT, B_FIRST_RESOLUTION)] {
        if let Some(e) = instants(t, end)? {
            let d = durations(&p, &created, &e);
            t.df.with_column(Int64Chunked::from_iter_options(name.into(), d.into_iter()).into_column())
                .ctx("business durations")?;
        }
    }
    Ok(())
}

/// One business twin: `staged / unit` over the tickets attributed by `period`.
fn twin(t: &Tickets, cx: &SupportContext, metric: &str, needs: &str, twin: (&str, &'static str, f64)) -> Planned {
    let (staged, period, unit) = twin;
    if !t.has(needs) || t.df.column(staged).is_err() {
        return Err(skipped(metric, needs));
    }
    let cols = match metric {
        "frt_business" => &FRT_BUSINESS,
        "resolution_business" => &RESOLUTION_BUSINESS,
        _ => &FIRST_RESOLUTION_BUSINESS,
    };
    let d = col(staged).cast(DataType::Float64) / lit(unit);
    let (parts, columns) = duration_parts(period, d, cols, &cx.options.percentiles, Vec::new());
    Ok(Metric { parts, counts: vec![cols.count.to_owned()], columns })
}

/// FRT in business minutes, attributed like FRT (the period of `created_at`).
pub fn frt_business(t: &Tickets, cx: &SupportContext) -> Planned {
    twin(t, cx, "frt_business", FIRST_RESPONSE_AT, (B_FRT, P_CREATED, 6e7))
}

/// Resolution time in business hours, attributed like resolution time
/// (the period of `solved_at`).
pub fn resolution_business(t: &Tickets, cx: &SupportContext) -> Planned {
    twin(t, cx, "resolution_business", SOLVED_AT, (B_RESOLUTION, P_SOLVED, 3.6e9))
}

/// First resolution time in business hours, over tickets solved in the
/// period that have a `first_solved_at`.
pub fn first_resolution_business(t: &Tickets, cx: &SupportContext) -> Planned {
    if !t.has(SOLVED_AT) {
        return Err(skipped("first_resolution_business", SOLVED_AT));
    }
    twin(t, cx, "first_resolution_business", FIRST_SOLVED_AT, (B_FIRST_RESOLUTION, P_SOLVED, 3.6e9))
}

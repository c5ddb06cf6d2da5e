//! SLA compliance (docs/calendars.md, "SLA compliance"): first response and
//! resolution targets per priority, met or breached per ticket, attributed
//! to the period of `created_at`.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::Deserialize;

use super::{Metric, P_CREATED, SupportContext, SupportOptions, Tickets, business, grouped, ratio};
use crate::calendar::{BusinessCalendar, CalendarSection, Prepared};
use crate::error::PolarsContext;
use crate::parse::timestamp::Micros;
use crate::schema::tickets::{CREATED_AT, FIRST_RESPONSE_AT, PRIORITY, SOLVED_AT};
use crate::{Error, Result};

/// `[sla]` in `cxm.toml`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSection {
    /// The `[calendars.NAME]` elapsed time is measured in (none: calendar time).
    pub calendar: Option<String>,
    /// Targets by priority; `default` for priorities not listed.
    #[serde(default)]
    pub targets: BTreeMap<String, TargetEntry>,
}

/// One `[sla.targets]` entry: `{ first_response = "1h", resolution = "8h" }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetEntry {
    /// First response target (`30m`, `4h`, `2d`, `1h30m`).
    pub first_response: Option<String>,
    /// Resolution target.
    pub resolution: Option<String>,
}

/// A priority's targets in microseconds of the SLA's time (none: no
/// target for that clock).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    /// First response target.
    pub first_response: Option<i64>,
    /// Resolution target.
    pub resolution: Option<i64>,
}

/// SLA rules: targets by priority (trimmed, lower case), the default for
/// priorities not listed, and the calendar of elapsed time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaOptions {
    /// Business calendar of elapsed time (none: calendar time).
    pub calendar: Option<BusinessCalendar>,
    /// Targets by priority, keys trimmed and lower case.
    pub targets: BTreeMap<String, Targets>,
    /// Targets of priorities not listed (and of tickets without one); none
    /// excludes them.
    pub default: Option<Targets>,
}

/// A target duration: `30m`, `4h`, `2d` (48 hours of the SLA's time),
/// `1h30m`; parts in the order d, h, m, each a whole number.
///
/// ```
/// use metrics_core::support::sla::parse_target;
/// assert_eq!(parse_target("1h30m"), Some(90 * 60_000_000));
/// assert_eq!(parse_target("2d"), Some(48 * 3_600_000_000));
/// assert_eq!((parse_target("90"), parse_target("30m1h"), parse_target("")), (None, None, None));
/// ```
pub fn parse_target(s: &str) -> Option<i64> {
    let mut rest = s.trim();
    let mut total: i64 = 0;
    let mut last_unit = usize::MAX;
    let units = [('d', 86_400_000_000i64), ('h', 3_600_000_000), ('m', 60_000_000)];
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: i64 = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        let k = units.iter().position(|(u, _)| *u == unit)?;
        if last_unit != usize::MAX && k <= last_unit {
            return None;
        }
        total = total.checked_add(n.checked_mul(units[k].1)?)?;
        last_unit = k;
        rest = &rest[digits + 1..];
    }
    (last_unit != usize::MAX).then_some(total)
}

impl SlaOptions {
    /// The rules of an `[sla]` section, its calendar taken from `calendars`.
    pub fn from_section(s: &SlaSection, calendars: &BTreeMap<String, CalendarSection>) -> Result<Self> {
        let calendar = match &s.calendar {
            None => None,
            Some(name) => {
                let section = calendars.get(name).ok_or_else(|| {
                    Error::invalid_option("sla.calendar", name, "names no [calendars.*] section of the config")
                })?;
                Some(BusinessCalendar::from_section(name, section)?)
            }
        };
        let mut o = SlaOptions { calendar, ..Self::default() };
        for (priority, e) in &s.targets {
            let target = |v: &Option<String>, clock: &str| {
                v.as_deref()
                    .map(|t| {
                        parse_target(t).ok_or_else(|| {
                            let why = "is not a duration such as 30m, 4h, 2d or 1h30m";
                            Error::invalid_option(&format!("sla.targets.{priority}.{clock}"), t, why)
                        })
                    })
                    .transpose()
            };
            let t = Targets {
                first_response: target(&e.first_response, "first_response")?,
                resolution: target(&e.resolution, "resolution")?,
            };
            match priority.trim().to_lowercase().as_str() {
                "default" => o.default = Some(t),
                p => {
                    o.targets.insert(p.to_owned(), t);
                }
            }
        }
        Ok(o)
    }

    /// The targets of a priority (trimmed, case-insensitive), else the default.
    pub fn targets_of(&self, priority: Option<&str>) -> Option<Targets> {
        priority.and_then(|p| self.targets.get(&p.trim().to_lowercase()).copied()).or(self.default)
    }
}

/// One clock of one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done within the target (exactly on target is met).
    Met,
    /// Done late, or not done and as-of past the target.
    Breached,
    /// No target, still running, or the event precedes creation.
    Excluded,
}

/// The outcome of a clock started at `created`, ended at `end` (none: not
/// yet), against `target`, with `elapsed` the SLA's time between instants.
pub fn outcome(
    created: Micros,
    end: Option<Micros>,
    as_of: Micros,
    target: Option<i64>,
    elapsed: impl Fn(Micros, Micros) -> Option<i64>,
) -> Outcome {
    let Some(target) = target else { return Outcome::Excluded };
    match end {
        Some(e) => match elapsed(created, e) {
            Some(d) if d <= target => Outcome::Met,
            Some(_) => Outcome::Breached,
            None => Outcome::Excluded,
        },
        None => match elapsed(created, as_of) {
            Some(d) if d > target => Outcome::Breached,
            _ => Outcome::Excluded,
        },
    }
}

/// Staged columns: each clock's met and breached flags.
const FLAGS: [&str; 4] = ["__sla_frt_met", "__sla_frt_breached", "__sla_resolution_met", "__sla_resolution_breached"];

/// Whether a ticket breached either target (after [`add_outcomes`]).
pub(crate) fn breached_any() -> Expr {
    col(FLAGS[1]).or(col(FLAGS[3]))
}

/// Adds the four flag columns ([`FLAGS`]) of every ticket.
pub(crate) fn add_outcomes(t: &mut Tickets, sla: &SlaOptions) -> Result<()> {
    let prepared: Option<Prepared> = sla.calendar.as_ref().map(|c| business::prepared(t, c)).transpose()?;
    let elapsed = |a: Micros, b: Micros| match &prepared {
        Some(p) => p.business(a, b),
        None => (b >= a).then_some(b - a),
    };
    let n = t.df.height();
    let none = || vec![None; n];
    let created = business::instants(t, CREATED_AT)?.unwrap_or_else(none);
    let responded = business::instants(t, FIRST_RESPONSE_AT)?.unwrap_or_else(none);
    let solved = business::instants(t, SOLVED_AT)?.unwrap_or_else(none);
    let priority = match t.df.column(PRIORITY) {
        Ok(c) => c.cast(&DataType::String).ctx(PRIORITY)?.str().ctx(PRIORITY)?.clone(),
        Err(_) => StringChunked::full_null(PRIORITY.into(), n),
    };
    // A priority is matched once, not once per ticket.
    let mut targets_by: HashMap<Option<&str>, Option<Targets>> = HashMap::new();
    let mut flags = [vec![false; n], vec![false; n], vec![false; n], vec![false; n]];
    // A clock whose end column is not in the export is not measured: it
    // would never end (or end only at the solve), and breach by as-of.
    let (frt_known, res_known) = (t.has(FIRST_RESPONSE_AT), t.has(SOLVED_AT));
    for (i, p) in priority.iter().enumerate() {
        let targets = *targets_by.entry(p).or_insert_with(|| sla.targets_of(p));
        let (Some(c), Some(targets)) = (created[i], targets) else { continue };
        let frt_target = targets.first_response.filter(|_| frt_known);
        let frt = outcome(c, responded[i].or(solved[i]), t.as_of, frt_target, elapsed);
        let res = outcome(c, solved[i], t.as_of, targets.resolution.filter(|_| res_known), elapsed);
        for (k, o) in [frt, res].into_iter().enumerate() {
            flags[2 * k][i] = o == Outcome::Met;
            flags[2 * k + 1][i] = o == Outcome::Breached;
        }
    }
    for (name, v) in FLAGS.iter().zip(flags) {
        t.df.with_column(BooleanChunked::from_slice((*name).into(), &v).into_column()).ctx("SLA outcomes")?;
    }
    Ok(())
}

/// The SLA clocks the tickets cannot measure, with the column each needs:
/// first response without `first_response_at`, resolution without
/// `solved_at` (their counts are 0 and their rates null).
pub fn unmeasured(t: &Tickets) -> Vec<super::Skipped> {
    let mut out = Vec::new();
    if !t.has(FIRST_RESPONSE_AT) {
        out.push(super::skipped("sla_first_response", FIRST_RESPONSE_AT));
    }
    if !t.has(SOLVED_AT) {
        out.push(super::skipped("sla_resolution", SOLVED_AT));
    }
    out
}

/// The `sla` table: one row per period of the support spine and `by`
/// group, tickets attributed to the period of `created_at`. A clock whose
/// end column is not mapped ([`unmeasured`]) counts nothing. Columns
/// `sla_frt_met`, `sla_frt_breached`, `sla_frt_rate` (met / (met +
/// breached), null when 0), `sla_resolution_met`, `sla_resolution_breached`,
/// `sla_resolution_rate`.
pub fn table(t: &Tickets, o: &SupportOptions, sla: &SlaOptions) -> Result<DataFrame> {
    let o = o.validated()?;
    let spine = super::spine(t, &o)?;
    let mut t = t.clone();
    super::add_periods(&mut t, &spine)?;
    add_outcomes(&mut t, sla)?;
    let (period, tz) = (o.window.period, o.window.tz);
    let cx = SupportContext { period, tz, by: o.by.clone(), spine, as_of: t.as_of, options: o };
    let count = |flag: &str, name: &str| super::count_true(col(flag)).alias(name);
    let aggs = vec![
        count(FLAGS[0], "sla_frt_met"),
        count(FLAGS[1], "sla_frt_breached"),
        count(FLAGS[2], "sla_resolution_met"),
        count(FLAGS[3], "sla_resolution_breached"),
    ];
    let rate = |met: &str, breached: &str, name: &str| {
        ratio(col(met), col(met).cast(DataType::UInt32) + col(breached).cast(DataType::UInt32)).alias(name)
    };
    let part = grouped(P_CREATED, aggs)
        .with_column(rate("sla_frt_met", "sla_frt_breached", "sla_frt_rate"))
        .with_column(rate("sla_resolution_met", "sla_resolution_breached", "sla_resolution_rate"));
    let columns: Vec<String> = [
        "sla_frt_met",
        "sla_frt_breached",
        "sla_frt_rate",
        "sla_resolution_met",
        "sla_resolution_breached",
        "sla_resolution_rate",
    ]
    .map(str::to_owned)
    .to_vec();
    let counts = vec![columns[0].clone(), columns[1].clone(), columns[3].clone(), columns[4].clone()];
    super::assemble(&t, &cx, &[Metric { parts: vec![part], columns, counts }])
}

#[cfg(test)]
mod tests;

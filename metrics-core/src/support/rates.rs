//! First contact resolution, escalation and reopen rates.

use polars::prelude::*;

use super::{
    FcrRule, Metric, P_CREATED, P_SOLVED, Planned, SupportContext, SupportOptions, Tickets, count_true, grouped, ratio,
    skipped,
};
use crate::schema::tickets::{
    AGENT_REPLIES, ESCALATED, ESCALATION_COUNT, FIRST_CONTACT_RESOLVED, GROUP_STATIONS, REOPENS, SOLVED_AT, TAGS,
};

fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// First contact resolution, attributed to the period of `solved_at`.
///
/// `fcr_count` = solved tickets meeting the rule ([`FcrRule`]: `zendesk`
/// `agent_replies <= 1 and reopens = 0`; `one-touch` `agent_replies = 1`;
/// `flag` `first_contact_resolved`), a null input meaning not FCR.
/// `fcr_rate = fcr_count / tickets_solved` (every ticket solved in the
/// period, negative durations included); null when none was solved.
pub fn fcr(t: &Tickets, cx: &SupportContext) -> Planned {
    if !t.has(SOLVED_AT) {
        return Err(skipped("fcr", SOLVED_AT));
    }
    let rule = match cx.options.fcr {
        FcrRule::Zendesk => {
            for c in [AGENT_REPLIES, REOPENS] {
                if !t.has(c) {
                    return Err(skipped("fcr", c));
                }
            }
            col(AGENT_REPLIES).lt_eq(lit(1i64)).and(col(REOPENS).eq(lit(0i64)))
        }
        FcrRule::OneTouch if t.has(AGENT_REPLIES) => col(AGENT_REPLIES).eq(lit(1i64)),
        FcrRule::OneTouch => return Err(skipped("fcr", AGENT_REPLIES)),
        FcrRule::Flag if t.has(FIRST_CONTACT_RESOLVED) => col(FIRST_CONTACT_RESOLVED),
        FcrRule::Flag => return Err(skipped("fcr", FIRST_CONTACT_RESOLVED)),
    };
    let part = grouped(P_SOLVED, vec![count_true(rule).alias("fcr_count"), len().alias("__fcr_solved")])
        .with_column(ratio(col("fcr_count"), col("__fcr_solved")).alias("fcr_rate"));
    Ok(Metric { parts: vec![part], columns: owned(&["fcr_count", "fcr_rate"]), counts: owned(&["fcr_count"]) })
}

/// The escalation rule in force: the first whose column is mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EscalationRule {
    /// The export's `escalated` flag.
    Flag,
    /// `group_stations > 1`.
    GroupStations,
    /// A tag in the `tags` column.
    Tag(String),
    /// `escalation_count >= min` (a count column such as ServiceNow's
    /// `reassignment_count`).
    CountAtLeast(i64),
    /// The ticket breached a first-response or resolution target of the
    /// SLA rules ([`SupportOptions::escalation_sla`], docs/calendars.md).
    SlaBreach,
}

impl EscalationRule {
    /// The rule as meta shows it.
    pub fn describe(&self) -> String {
        match self {
            EscalationRule::Flag => "escalated flag".to_owned(),
            EscalationRule::GroupStations => "group_stations > 1".to_owned(),
            EscalationRule::Tag(t) => format!("tag `{t}`"),
            EscalationRule::CountAtLeast(min) => format!("escalation_count >= {min}"),
            EscalationRule::SlaBreach => "sla_breach (a first-response or resolution target breached)".to_owned(),
        }
    }
}

/// The first available rule, per column (not per row): SLA breach when
/// configured, a configured count rule when `escalation_count` is mapped,
/// then `escalated`, then `group_stations`, then the configured tag when
/// `tags` is mapped.
pub fn escalation_rule(t: &Tickets, o: &SupportOptions) -> Option<EscalationRule> {
    if o.escalation_sla.is_some() {
        Some(EscalationRule::SlaBreach)
    } else if let Some(min) = o.escalation_min.filter(|_| t.has(ESCALATION_COUNT)) {
        Some(EscalationRule::CountAtLeast(min))
    } else if t.has(ESCALATED) {
        Some(EscalationRule::Flag)
    } else if t.has(GROUP_STATIONS) {
        Some(EscalationRule::GroupStations)
    } else {
        o.escalation_tag.as_ref().filter(|_| t.has(TAGS)).map(|tag| EscalationRule::Tag(tag.clone()))
    }
}

/// Escalation rate, attributed to the period of `created_at`.
///
/// `escalated_count` = tickets created in the period that the rule marks
/// (a null means not escalated); `escalation_rate = escalated_count /
/// tickets_created`, null when no ticket was created.
pub fn escalation(t: &Tickets, cx: &SupportContext) -> Planned {
    let rule = match escalation_rule(t, &cx.options) {
        Some(EscalationRule::Flag) => col(ESCALATED),
        Some(EscalationRule::GroupStations) => col(GROUP_STATIONS).gt(lit(1i64)),
        Some(EscalationRule::CountAtLeast(min)) => col(ESCALATION_COUNT).gt_eq(lit(min)),
        Some(EscalationRule::Tag(tag)) => {
            let pattern = format!(r"(^|[\s,;|]){}($|[\s,;|])", regex_escape(&tag));
            col(TAGS).str().contains(lit(pattern), false)
        }
        Some(EscalationRule::SlaBreach) => super::sla::breached_any(),
        None => return Err(skipped("escalation", ESCALATED)),
    };
    let part = grouped(P_CREATED, vec![count_true(rule).alias("escalated_count"), len().alias("__esc_created")])
        .with_column(ratio(col("escalated_count"), col("__esc_created")).alias("escalation_rate"));
    Ok(Metric {
        parts: vec![part],
        columns: owned(&["escalated_count", "escalation_rate"]),
        counts: owned(&["escalated_count"]),
    })
}

fn regex_escape(s: &str) -> String {
    s.chars().fold(String::new(), |mut out, c| {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

/// Reopen rate, attributed to the period of `solved_at` (docs/metrics.md, "Reopen rate").
///
/// `reopened_count` = solved tickets with `reopens > 0` (null = not
/// reopened); `reopen_rate = reopened_count / tickets_solved`, null when none
/// was solved; `reopens_total` = sum of `reopens` of tickets solved in the
/// period.
pub fn reopens(t: &Tickets) -> Planned {
    for c in [SOLVED_AT, REOPENS] {
        if !t.has(c) {
            return Err(skipped("reopen_rate", c));
        }
    }
    let aggs = vec![
        count_true(col(REOPENS).gt(lit(0i64))).alias("reopened_count"),
        col(REOPENS).fill_null(lit(0i64)).sum().alias("reopens_total"),
        len().alias("__reopen_solved"),
    ];
    let part =
        grouped(P_SOLVED, aggs).with_column(ratio(col("reopened_count"), col("__reopen_solved")).alias("reopen_rate"));
    Ok(Metric {
        parts: vec![part],
        columns: owned(&["reopened_count", "reopen_rate", "reopens_total"]),
        counts: owned(&["reopened_count", "reopens_total"]),
    })
}

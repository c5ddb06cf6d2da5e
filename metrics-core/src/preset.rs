//! Presets: the column mappings of common helpdesk and billing exports
//! (data contract, "Presets").
//!
//! A preset maps each canonical column to the column name the vendor's
//! export uses. Its required columns (the key and the creation or start
//! instant) always apply, so an export without them fails with an error
//! naming the vendor's column; every other entry applies only when the
//! export has that column, so a trimmed export still reads. An entry the
//! user gives in `columns` replaces the preset's entry for that canonical
//! column.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::mapping::{ColumnSpec, DurationUnit};
use crate::{Error, Result};

/// A vendor export layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Preset {
    /// Zendesk Explore/CSV ticket export (timestamps in the account's zone:
    /// give `input_tz`).
    Zendesk,
    /// Freshdesk ticket export (`HH:MM:SS` business durations; `00:00:00`
    /// means no value).
    Freshdesk,
    /// HubSpot tickets (API property names; durations in milliseconds;
    /// default support pipeline stages 1-4 mapped to statuses).
    Hubspot,
    /// Intercom conversations export (the zone is read from each
    /// timestamp column's header, e.g. `Conversation started at (UTC)`).
    Intercom,
    /// Stripe subscriptions export.
    Stripe,
}

impl std::str::FromStr for Preset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "zendesk" => Self::Zendesk,
            "freshdesk" => Self::Freshdesk,
            "hubspot" => Self::Hubspot,
            "intercom" => Self::Intercom,
            "stripe" => Self::Stripe,
            other => {
                return Err(Error::invalid_option(
                    "preset",
                    other,
                    "is unknown (expected zendesk, freshdesk, hubspot, intercom or stripe)",
                ));
            }
        })
    }
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 5] = [Self::Zendesk, Self::Freshdesk, Self::Hubspot, Self::Intercom, Self::Stripe];

    /// The preset's name as written in config and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Zendesk => "zendesk",
            Self::Freshdesk => "freshdesk",
            Self::Hubspot => "hubspot",
            Self::Intercom => "intercom",
            Self::Stripe => "stripe",
        }
    }

    /// The table the preset describes (`tickets` or `subscriptions`).
    pub fn table(self) -> &'static str {
        match self {
            Self::Stripe => "subscriptions",
            _ => "tickets",
        }
    }

    /// The mapping for a file whose header is `header`: canonical column ->
    /// source spec. Required entries are always present; the others only
    /// when `header` has their column.
    pub fn columns(self, header: &[String]) -> BTreeMap<String, ColumnSpec> {
        let mut out = BTreeMap::new();
        for e in self.entries() {
            let source = e.source.resolve(header);
            let Some(column) = source.or_else(|| e.required.then(|| e.source.first().to_owned())) else {
                continue;
            };
            let tz = match e.source {
                Src::Zoned(_) => zone_of_header(&column),
                _ => None,
            };
            let spec = ColumnSpec {
                column,
                unit: e.unit,
                tz,
                zero_is_missing: self == Self::Freshdesk && e.unit == Some(DurationUnit::Hms),
                values: e.values.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect(),
                add: e.add,
                ..ColumnSpec::default()
            };
            out.insert(e.canonical.to_owned(), spec);
        }
        out
    }

    /// Whether `header` has every column the preset requires.
    pub fn recognises(self, header: &[String]) -> bool {
        self.entries().iter().filter(|e| e.required).all(|e| e.source.resolve(header).is_some())
    }

    fn entries(self) -> Vec<Entry> {
        use crate::schema::tickets as t;
        let e = |canonical, source| Entry { canonical, source: Src::One(source), ..Entry::default() };
        let any = |canonical, sources| Entry { canonical, source: Src::Any(sources), ..Entry::default() };
        let zoned = |canonical, prefix| Entry { canonical, source: Src::Zoned(prefix), ..Entry::default() };
        let req = |x: Entry| Entry { required: true, ..x };
        let unit = |x: Entry, u| Entry { unit: Some(u), ..x };
        match self {
            Self::Zendesk => vec![
                req(e(t::TICKET_ID, "Id")),
                req(e(t::CREATED_AT, "Created at")),
                e(t::SOLVED_AT, "Solved at"),
                unit(e(t::FIRST_RESPONSE_MINUTES, "First reply time in minutes"), DurationUnit::Minutes),
                unit(e(t::RESOLUTION_MINUTES, "Full resolution time in minutes"), DurationUnit::Minutes),
                e(t::REOPENS, "Reopens"),
                e(t::AGENT_REPLIES, "Replies"),
                e(t::GROUP_STATIONS, "Group stations"),
                e(t::CSAT, "Satisfaction Score"),
                e(t::STATUS, "Status"),
                e(t::PRIORITY, "Priority"),
                e(t::CHANNEL, "Via"),
                e(t::GROUP, "Group"),
                e(t::ASSIGNEE, "Assignee"),
                e(t::REQUESTER_ID, "Requester"),
                e(t::ACCOUNT_ID, "Organization"),
                e(t::TAGS, "Tags"),
            ],
            Self::Freshdesk => vec![
                req(e(t::TICKET_ID, "Ticket ID")),
                req(e(t::CREATED_AT, "Created time")),
                any(t::SOLVED_AT, &["Resolved time", "Closed time"]),
                e(t::FIRST_RESPONSE_AT, "Initial response time"),
                unit(e(t::FIRST_RESPONSE_MINUTES, "First response time (in hrs)"), DurationUnit::Hms),
                unit(e(t::RESOLUTION_MINUTES, "Resolution time (in hrs)"), DurationUnit::Hms),
                e(t::AGENT_REPLIES, "Agent interactions"),
                Entry {
                    values: &[
                        ("Awesome", "good"),
                        ("Extremely satisfied", "good"),
                        ("Neutral", "bad"),
                        ("Not Good", "bad"),
                    ],
                    ..e(t::CSAT, "Survey results")
                },
                e(t::STATUS, "Status"),
                e(t::PRIORITY, "Priority"),
                e(t::CHANNEL, "Source"),
                e(t::GROUP, "Group"),
                e(t::ASSIGNEE, "Agent"),
                e(t::ACCOUNT_ID, "Company Name"),
                e(t::TAGS, "Tags"),
            ],
            Self::Hubspot => vec![
                req(e(t::TICKET_ID, "hs_object_id")),
                req(e(t::CREATED_AT, "createdate")),
                e(t::SOLVED_AT, "closed_date"),
                e(t::FIRST_RESPONSE_AT, "first_agent_reply_date"),
                unit(e(t::FIRST_RESPONSE_MINUTES, "time_to_first_agent_reply"), DurationUnit::Milliseconds),
                unit(e(t::RESOLUTION_MINUTES, "time_to_close"), DurationUnit::Milliseconds),
                e(t::FIRST_CONTACT_RESOLVED, "hs_is_one_touch_ticket"),
                Entry {
                    values: &[("1", "new"), ("2", "pending"), ("3", "open"), ("4", "closed")],
                    ..e(t::STATUS, "hs_pipeline_stage")
                },
                e(t::PRIORITY, "hs_ticket_priority"),
                e(t::CHANNEL, "source_type"),
                e(t::ASSIGNEE, "hubspot_owner_id"),
                e(t::TAGS, "hs_tag_ids"),
            ],
            Self::Intercom => vec![
                req(e(t::TICKET_ID, "Conversation ID")),
                req(zoned(t::CREATED_AT, "Conversation started at")),
                zoned(t::FIRST_RESPONSE_AT, "Conversation first replied at"),
                zoned(t::SOLVED_AT, "Conversation last closed at"),
                zoned(t::FIRST_SOLVED_AT, "Conversation first closed at"),
                e(t::FIRST_CONTACT_RESOLVED, "Resolved on first contact"),
                Entry { add: 1, ..e(t::GROUP_STATIONS, "Number of reassignments") },
                e(t::CHANNEL, "Channel"),
                e(t::GROUP, "Team currently assigned"),
                e(t::ASSIGNEE, "Teammate currently assigned"),
                e(t::TAGS, "Conversation tags"),
            ],
            Self::Stripe => {
                use crate::schema::subscriptions as s;
                vec![
                    req(e(s::ACCOUNT_ID, "Customer ID")),
                    req(any(s::START_AT, &["Start (UTC)", "Start Date (UTC)"])),
                    any(s::END_AT, &["Ended At (UTC)", "Canceled At (UTC)"]),
                    req(e(s::AMOUNT, "Amount")),
                    req(e(s::INTERVAL, "Interval")),
                    e(s::INTERVAL_COUNT, "Interval Count"),
                    e(s::QUANTITY, "Quantity"),
                    e(s::CURRENCY, "Currency"),
                    e(s::SUBSCRIPTION_ID, "id"),
                    e(s::PLAN, "Plan"),
                ]
            }
        }
    }
}

/// Where a preset finds a column.
#[derive(Debug, Clone, Copy)]
enum Src {
    /// Exactly this header.
    One(&'static str),
    /// The first of these headers the file has.
    Any(&'static [&'static str]),
    /// A header `<prefix> (<zone>)`: the zone applies to the column.
    Zoned(&'static str),
}

impl Default for Src {
    fn default() -> Self {
        Self::One("")
    }
}

impl Src {
    fn resolve(self, header: &[String]) -> Option<String> {
        match self {
            Self::One(name) => header.iter().find(|h| *h == name).cloned(),
            Self::Any(names) => names.iter().find_map(|n| header.iter().find(|h| h == n)).cloned(),
            Self::Zoned(prefix) => header
                .iter()
                .find(|h| {
                    h.strip_prefix(prefix).is_some_and(|rest| rest.trim_start().starts_with('(') && h.ends_with(')'))
                })
                .cloned(),
        }
    }

    fn first(self) -> &'static str {
        match self {
            Self::One(name) | Self::Zoned(name) => name,
            Self::Any(names) => names.first().copied().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    canonical: &'static str,
    source: Src,
    required: bool,
    unit: Option<DurationUnit>,
    values: &'static [(&'static str, &'static str)],
    add: i64,
}

/// The zone in a header like `Conversation started at (America/New_York)`;
/// `GMT` and `UTC` read as UTC. `None` when the parenthesis holds no zone.
///
/// ```
/// use metrics_core::preset::zone_of_header;
/// assert_eq!(zone_of_header("Conversation started at (Europe/Berlin)"), Some(chrono_tz::Europe::Berlin));
/// assert_eq!(zone_of_header("Conversation started at (GMT)"), Some(chrono_tz::UTC));
/// assert_eq!(zone_of_header("Conversation started at"), None);
/// ```
pub fn zone_of_header(header: &str) -> Option<Tz> {
    let inner = header.strip_suffix(')')?.rsplit_once('(')?.1.trim();
    match inner {
        "UTC" | "GMT" => Some(Tz::UTC),
        z => z.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn required_entries_apply_even_when_absent() {
        let m = Preset::Zendesk.columns(&header(&["Id", "Priority"]));
        assert_eq!(m["ticket_id"].column, "Id");
        assert_eq!(m["created_at"].column, "Created at");
        assert_eq!(m["priority"].column, "Priority");
        assert!(!m.contains_key("solved_at"));
    }

    #[test]
    fn intercom_reads_the_zone_from_the_header() {
        let m = Preset::Intercom.columns(&header(&[
            "Conversation ID",
            "Conversation started at (America/New_York)",
            "Number of reassignments",
        ]));
        assert_eq!(m["created_at"].column, "Conversation started at (America/New_York)");
        assert_eq!(m["created_at"].tz, Some(chrono_tz::America::New_York));
        assert_eq!(m["group_stations"].add, 1);
    }

    #[test]
    fn freshdesk_prefers_resolved_time_and_treats_zero_durations_as_missing() {
        let m = Preset::Freshdesk.columns(&header(&[
            "Ticket ID",
            "Closed time",
            "Resolved time",
            "Resolution time (in hrs)",
        ]));
        assert_eq!(m["solved_at"].column, "Resolved time");
        assert!(m["resolution_minutes"].zero_is_missing);
        assert_eq!(m["resolution_minutes"].unit, Some(DurationUnit::Hms));
    }

    #[test]
    fn names_round_trip() {
        for p in Preset::ALL {
            assert_eq!(p.name().parse::<Preset>().ok(), Some(p));
        }
        assert!("salesforce".parse::<Preset>().is_err());
    }
}

//! Canonical tables: every column cxm knows, its kind and whether it is
//! required. Metric code uses the column-name constants, never literals.

/// How a canonical column's values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A key, read as text (integers are accepted and kept as text).
    Id,
    /// An instant; see [`crate::parse::timestamp`].
    Timestamp,
    /// A whole number (`2.0` accepted).
    Int,
    /// A boolean (`true/false`, `t/f`, `yes/no`, `y/n`, `1/0`).
    Bool,
    /// A decimal number.
    Float,
    /// Free text, used as a dimension.
    Text,
    /// A satisfaction rating: a whole number on the configured scale or a
    /// `good`/`bad` text.
    Rating,
    /// A vendor-computed duration with a unit, read as minutes.
    Duration,
}

/// One canonical column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDef {
    /// Canonical name.
    pub name: &'static str,
    /// How its values are read.
    pub kind: Kind,
    /// Whether a table without it cannot be used at all.
    pub required: bool,
}

const fn c(name: &'static str, kind: Kind, required: bool) -> ColumnDef {
    ColumnDef { name, kind, required }
}

/// Column names of the `tickets` table.
pub mod tickets {
    #![allow(missing_docs)]
    pub const TICKET_ID: &str = "ticket_id";
    pub const CREATED_AT: &str = "created_at";
    pub const FIRST_RESPONSE_AT: &str = "first_response_at";
    pub const SOLVED_AT: &str = "solved_at";
    pub const FIRST_SOLVED_AT: &str = "first_solved_at";
    pub const STATUS: &str = "status";
    pub const REOPENS: &str = "reopens";
    pub const AGENT_REPLIES: &str = "agent_replies";
    pub const ESCALATED: &str = "escalated";
    pub const GROUP_STATIONS: &str = "group_stations";
    pub const ESCALATION_COUNT: &str = "escalation_count";
    pub const FIRST_CONTACT_RESOLVED: &str = "first_contact_resolved";
    pub const PRIORITY: &str = "priority";
    pub const CHANNEL: &str = "channel";
    pub const GROUP: &str = "group";
    pub const ASSIGNEE: &str = "assignee";
    pub const REQUESTER_ID: &str = "requester_id";
    pub const ACCOUNT_ID: &str = "account_id";
    pub const CSAT: &str = "csat";
    pub const CSAT_AT: &str = "csat_at";
    pub const FIRST_RESPONSE_MINUTES: &str = "first_response_minutes";
    pub const RESOLUTION_MINUTES: &str = "resolution_minutes";
    pub const TAGS: &str = "tags";
    /// Staged column: whether the ticket's rating is satisfied (null = no rating).
    pub const CSAT_SATISFIED: &str = "csat_satisfied";
}

/// The `tickets` table of the data contract, one row per ticket.
pub const TICKETS: &[ColumnDef] = {
    use tickets::*;
    &[
        c(TICKET_ID, Kind::Id, true),
        c(CREATED_AT, Kind::Timestamp, true),
        c(FIRST_RESPONSE_AT, Kind::Timestamp, false),
        c(SOLVED_AT, Kind::Timestamp, false),
        c(FIRST_SOLVED_AT, Kind::Timestamp, false),
        c(STATUS, Kind::Text, false),
        c(REOPENS, Kind::Int, false),
        c(AGENT_REPLIES, Kind::Int, false),
        c(ESCALATED, Kind::Bool, false),
        c(GROUP_STATIONS, Kind::Int, false),
        c(ESCALATION_COUNT, Kind::Int, false),
        c(FIRST_CONTACT_RESOLVED, Kind::Bool, false),
        c(PRIORITY, Kind::Text, false),
        c(CHANNEL, Kind::Text, false),
        c(GROUP, Kind::Text, false),
        c(ASSIGNEE, Kind::Text, false),
        c(REQUESTER_ID, Kind::Text, false),
        c(ACCOUNT_ID, Kind::Text, false),
        c(CSAT, Kind::Rating, false),
        c(CSAT_AT, Kind::Timestamp, false),
        c(FIRST_RESPONSE_MINUTES, Kind::Duration, false),
        c(RESOLUTION_MINUTES, Kind::Duration, false),
        c(TAGS, Kind::Text, false),
    ]
};

/// Column names of the `subscriptions` table.
pub mod subscriptions {
    #![allow(missing_docs)]
    pub const SUBSCRIPTION_ID: &str = "subscription_id";
    pub const ACCOUNT_ID: &str = "account_id";
    pub const START_AT: &str = "start_at";
    pub const END_AT: &str = "end_at";
    pub const MRR: &str = "mrr";
    pub const AMOUNT: &str = "amount";
    pub const INTERVAL: &str = "interval";
    pub const INTERVAL_COUNT: &str = "interval_count";
    pub const QUANTITY: &str = "quantity";
    pub const CURRENCY: &str = "currency";
    pub const PLAN: &str = "plan";
}

/// The `subscriptions` table, one row per subscription line. Either `mrr`
/// or `amount` + `interval` must be present (checked when reading).
pub const SUBSCRIPTIONS: &[ColumnDef] = {
    use subscriptions::*;
    &[
        c(SUBSCRIPTION_ID, Kind::Id, false),
        c(ACCOUNT_ID, Kind::Id, true),
        c(START_AT, Kind::Timestamp, true),
        c(END_AT, Kind::Timestamp, false),
        c(MRR, Kind::Float, false),
        c(AMOUNT, Kind::Float, false),
        c(INTERVAL, Kind::Text, false),
        c(INTERVAL_COUNT, Kind::Int, false),
        c(QUANTITY, Kind::Float, false),
        c(CURRENCY, Kind::Text, false),
        c(PLAN, Kind::Text, false),
    ]
};

/// The `accounts` table: `account_id` and any dimension columns.
pub const ACCOUNTS: &[ColumnDef] = &[c("account_id", Kind::Id, true)];

/// The currency rates table: reporting-currency units per one unit.
pub const RATES: &[ColumnDef] = &[c("currency", Kind::Text, true), c("rate", Kind::Float, true)];

/// Column names of the `survey_responses` table.
pub mod surveys {
    #![allow(missing_docs)]
    pub const RESPONDED_AT: &str = "responded_at";
    pub const SCORE: &str = "score";
    pub const SURVEY: &str = "survey";
    pub const ACCOUNT_ID: &str = "account_id";
    pub const RESPONDENT_ID: &str = "respondent_id";
    pub const TICKET_ID: &str = "ticket_id";
    pub const COMMENT: &str = "comment";
}

/// The `survey_responses` table, one row per response.
pub const SURVEY_RESPONSES: &[ColumnDef] = {
    use surveys::*;
    &[
        c(RESPONDED_AT, Kind::Timestamp, true),
        c(SCORE, Kind::Text, true),
        c(SURVEY, Kind::Text, false),
        c(ACCOUNT_ID, Kind::Id, false),
        c(RESPONDENT_ID, Kind::Id, false),
        c(TICKET_ID, Kind::Id, false),
        c(COMMENT, Kind::Text, false),
    ]
};

/// Column names of the `transactions` table.
pub mod transactions {
    #![allow(missing_docs)]
    pub const ACCOUNT_ID: &str = "account_id";
    pub const AT: &str = "at";
    pub const AMOUNT: &str = "amount";
}

/// The `transactions` table, one row per purchase.
pub const TRANSACTIONS: &[ColumnDef] = {
    use transactions::*;
    &[c(ACCOUNT_ID, Kind::Id, true), c(AT, Kind::Timestamp, true), c(AMOUNT, Kind::Float, false)]
};

/// Column names of the `usage` table.
pub mod usage {
    #![allow(missing_docs)]
    pub const ACCOUNT_ID: &str = "account_id";
    pub const SUBSCRIPTION_ID: &str = "subscription_id";
    pub const DATE: &str = "date";
    pub const METRIC: &str = "metric";
    pub const VALUE: &str = "value";
}

/// The `usage` table, one row per account (or subscription), day and
/// metric. One of `account_id` and `subscription_id` is required; a
/// subscription is mapped to its account through the subscriptions table.
pub const USAGE: &[ColumnDef] = {
    use usage::*;
    &[
        c(ACCOUNT_ID, Kind::Id, false),
        c(SUBSCRIPTION_ID, Kind::Id, false),
        c(DATE, Kind::Timestamp, true),
        c(METRIC, Kind::Text, true),
        c(VALUE, Kind::Float, true),
    ]
};

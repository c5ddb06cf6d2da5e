//! SLA outcomes worked by hand (fixtures/README.md, "SLA compliance").

use super::*;
use crate::mapping::TableInput;
use crate::support::TicketReadOptions;

const H: i64 = 3_600_000_000;

fn at(s: &str) -> Micros {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
}

fn calendar_time(a: Micros, b: Micros) -> Option<i64> {
    (b >= a).then_some(b - a)
}

#[test]
fn outcomes_of_one_clock() {
    let o = |end: Option<i64>, as_of: i64, target: Option<i64>| outcome(0, end, as_of, target, calendar_time);
    assert_eq!(o(Some(H), 10 * H, Some(H)), Outcome::Met, "exactly on target is met");
    assert_eq!(o(Some(H + 1), 10 * H, Some(H)), Outcome::Breached);
    assert_eq!(o(None, H, Some(H)), Outcome::Excluded, "at the target, still running");
    assert_eq!(o(None, H + 1, Some(H)), Outcome::Breached, "as-of past the target");
    assert_eq!(o(Some(-H), 10 * H, Some(H)), Outcome::Excluded, "before creation");
    assert_eq!(o(Some(H), 10 * H, None), Outcome::Excluded, "no target");
}

fn options() -> SlaOptions {
    let s: SlaSection = toml::from_str(
        r#"
        [targets]
        urgent = { first_response = "1h", resolution = "8h" }
        High = { first_response = "4h", resolution = "1d" }
        default = { first_response = "24h" }
        "#,
    )
    .unwrap();
    SlaOptions::from_section(&s, &BTreeMap::new()).unwrap()
}

/// Six tickets of the UTC week of Monday 3 March 2025, as-of Wednesday
/// 00:00 (targets: urgent 1h / 8h, high 4h / 24h, default 24h / none):
/// 1. " Urgent ": answered after exactly 1 h (met), solved after 9 h (breached).
/// 2. "HIGH": answered after 5 h (breached), solved after 23 h (met).
/// 3. "low" (default): no answer after 48 h (breached); no resolution target.
/// 4. no priority (default): solved after 1 h without an answer, which ends
///    the first-response clock (met).
/// 5. "urgent", created 30 minutes before as-of: both clocks running.
/// 6. "urgent": an answer before creation (excluded), solved after 2 h (met).
///
/// First response: met 1 and 4, breached 2 and 3: rate 0.5. Resolution:
/// met 2 and 6, breached 1: rate 2/3.
fn week() -> Tickets {
    let df = df!(
        "ticket_id" => ["1", "2", "3", "4", "5", "6"],
        "priority" => [Some(" Urgent "), Some("HIGH"), Some("low"), None, Some("urgent"), Some("urgent")],
        "created_at" => ["2025-03-03T00:00:00Z", "2025-03-03T00:00:00Z", "2025-03-03T00:00:00Z",
            "2025-03-04T12:00:00Z", "2025-03-04T23:30:00Z", "2025-03-03T10:00:00Z"],
        "first_response_at" => [Some("2025-03-03T01:00:00Z"), Some("2025-03-03T05:00:00Z"), None, None, None,
            Some("2025-03-03T09:00:00Z")],
        "solved_at" => [Some("2025-03-03T09:00:00Z"), Some("2025-03-03T23:00:00Z"), None,
            Some("2025-03-04T13:00:00Z"), None, Some("2025-03-03T12:00:00Z")],
    )
    .unwrap();
    let read = TicketReadOptions {
        as_of: Some(at("2025-03-05T00:00:00Z")),
        dims: vec!["priority".into()],
        ..Default::default()
    };
    Tickets::from_frame(df, &TableInput::default(), &read).unwrap()
}

#[test]
fn a_week_of_priorities_worked_by_hand() {
    let table = table(&week(), &SupportOptions::default(), &options()).unwrap();
    assert_eq!(table.height(), 1);
    let u = |c: &str| table.column(c).unwrap().u32().unwrap().get(0);
    let f = |c: &str| table.column(c).unwrap().f64().unwrap().get(0);
    assert_eq!((u("sla_frt_met"), u("sla_frt_breached"), f("sla_frt_rate")), (Some(2), Some(2), Some(0.5)));
    assert_eq!(
        (u("sla_resolution_met"), u("sla_resolution_breached"), f("sla_resolution_rate")),
        (Some(2), Some(1), Some(2.0 / 3.0))
    );
}

#[test]
fn bad_targets_name_the_key() {
    let s: SlaSection = toml::from_str("[targets]\nurgent = { first_response = \"1 hour\" }").unwrap();
    let e = SlaOptions::from_section(&s, &BTreeMap::new()).unwrap_err().to_string();
    assert!(e.contains("sla.targets.urgent.first_response") && e.contains("1 hour"), "{e}");
    let s: SlaSection = toml::from_str("calendar = \"office\"").unwrap();
    assert!(SlaOptions::from_section(&s, &BTreeMap::new()).unwrap_err().to_string().contains("office"));
}

/// Escalation by SLA breach over the same week: tickets 1 (resolution),
/// 2 and 3 (first response) breached a target: 3 of 6 created.
#[test]
fn escalation_by_sla_breach() {
    let o = SupportOptions::default().with_escalation_sla(options());
    let c = crate::support::compute(&week(), &o).unwrap();
    let t = &c.table;
    assert_eq!(t.column("escalated_count").unwrap().u32().unwrap().get(0), Some(3));
    assert_eq!(t.column("escalation_rate").unwrap().f64().unwrap().get(0), Some(0.5));
    assert!(c.rules.iter().any(|(k, v)| k == "escalation" && v.starts_with("sla_breach")));
}

/// Without `first_response_at` the first-response clock is not measured
/// (the solve would end every clock); without `solved_at`, neither is the
/// resolution clock (it would breach by as-of): counts 0, rates null.
#[test]
fn clocks_without_their_column_count_nothing() {
    let df = df!(
        "ticket_id" => ["1", "2"],
        "priority" => ["urgent", "urgent"],
        "created_at" => ["2025-03-03T00:00:00Z", "2025-03-03T00:00:00Z"],
        "solved_at" => [Some("2025-03-03T02:00:00Z"), None],
    )
    .unwrap();
    let read = TicketReadOptions {
        as_of: Some(at("2025-03-05T00:00:00Z")),
        dims: vec!["priority".into()],
        ..Default::default()
    };
    let t = Tickets::from_frame(df, &TableInput::default(), &read).unwrap();
    let table = table(&t, &SupportOptions::default(), &options()).unwrap();
    let u = |c: &str| table.column(c).unwrap().u32().unwrap().get(0);
    assert_eq!((u("sla_frt_met"), u("sla_frt_breached")), (Some(0), Some(0)));
    assert_eq!(table.column("sla_frt_rate").unwrap().f64().unwrap().get(0), None);
    // Ticket 1 solved after 2 h (met), ticket 2 unsolved for 48 h (breached).
    assert_eq!((u("sla_resolution_met"), u("sla_resolution_breached")), (Some(1), Some(1)));
    let skipped = unmeasured(&t);
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        (skipped[0].metric.as_str(), skipped[0].missing_column.as_str()),
        ("sla_first_response", "first_response_at")
    );
}

//! Business-time twins of the support table, worked by hand
//! (fixtures/README.md, "Business time in the support table").

use chrono::Weekday;
use metrics_core::calendar::BusinessCalendar;
use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::support::{self, SupportOptions, TicketReadOptions, Tickets};

/// Weekdays 09:00-17:00 in New York.
fn weekdays() -> BusinessCalendar {
    let mut c = BusinessCalendar::new("office", metrics_core::chrono_tz::America::New_York);
    for d in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri] {
        c = c.with_hours(d, &["09:00-17:00"]).unwrap();
    }
    c
}

/// Three tickets created in the UTC week of Monday 3 March 2025 (EST,
/// UTC-5; New York moves to EDT on Sunday 9 March):
/// 1. Mon 16:30 EST, answered Tue 09:15, solved Tue 10:00: FRT 30 + 15 =
///    45 business minutes (1005 calendar), resolution 0.5 + 1 = 1.5 h.
/// 2. Mon 10:00, answered 10:20, solved Wed 10:00: 20 minutes; 7 + 8 + 1 = 16 h.
/// 3. Fri 16:00 EST, answered Mon 10 March 09:30 EDT: 60 + 30 = 90 minutes.
fn tickets() -> Tickets {
    let df = df!(
        "ticket_id" => ["1", "2", "3"],
        "created_at" => ["2025-03-03T21:30:00Z", "2025-03-03T15:00:00Z", "2025-03-07T21:00:00Z"],
        "first_response_at" => ["2025-03-04T14:15:00Z", "2025-03-03T15:20:00Z", "2025-03-10T13:30:00Z"],
        "solved_at" => [Some("2025-03-04T15:00:00Z"), Some("2025-03-05T15:00:00Z"), None],
    )
    .unwrap();
    Tickets::from_frame(df, &TableInput::default(), &TicketReadOptions::default()).unwrap()
}

fn first(t: &DataFrame, c: &str) -> Option<f64> {
    t.column(c).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().get(0)
}

#[test]
fn business_twins_are_worked_by_hand() {
    let o = SupportOptions::default().with_calendar(weekdays()).with_percentiles([95.0]);
    let c = support::compute(&tickets(), &o).unwrap();
    let t = &c.table;
    let close = |c: &str, want: f64| {
        let got = first(t, c).unwrap();
        assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{c}: {got} vs {want}");
    };
    // FRT [20, 45, 90] business minutes: mean 155/3, median 45, p90 at
    // h = 1.8: 45 + 0.8 * 45 = 81, p95 at h = 1.9: 85.5.
    assert_eq!(first(t, "frt_business_count"), Some(3.0));
    close("frt_business_mean_minutes", 155.0 / 3.0);
    close("frt_business_median_minutes", 45.0);
    close("frt_business_p90_minutes", 81.0);
    close("frt_business_p95_minutes", 85.5);
    // Resolution [1.5, 16] business hours: mean and median 8.75, p90 at
    // h = 0.9: 1.5 + 0.9 * 14.5 = 14.55.
    assert_eq!(first(t, "resolution_business_count"), Some(2.0));
    close("resolution_business_mean_hours", 8.75);
    close("resolution_business_median_hours", 8.75);
    close("resolution_business_p90_hours", 14.55);
    // The calendar twin of ticket 1 is 1005 minutes: the business figure
    // is never above it.
    // Ticket 3 waits Fri 21:00Z to Mon 13:30Z: 3870 calendar minutes.
    close("frt_mean_minutes", (1005.0 + 20.0 + 3870.0) / 3.0);
    // Column order: each business block right after its calendar twin.
    let names: Vec<&str> = t.get_column_names().iter().map(|n| n.as_str()).collect();
    let at = |c: &str| names.iter().position(|n| *n == c).unwrap();
    assert_eq!(at("frt_business_count"), at("unanswered_count") + 1);
    assert_eq!(at("frt_business_p95_minutes"), at("frt_business_mean_minutes") + 1);
    assert_eq!(at("resolution_business_count"), at("resolution_p90_hours") + 1);
    assert!(c.rules.iter().any(|(k, v)| k == "calendar" && v.starts_with("office (America/New_York; 40 h a week")));
}

#[test]
fn without_a_calendar_there_are_no_business_columns() {
    let t = support::table(&tickets(), &SupportOptions::default()).unwrap();
    assert!(t.get_column_names().iter().all(|n| !n.contains("business")));
}

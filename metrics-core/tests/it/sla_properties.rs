//! Properties of the `sla` section: a 24x7 calendar changes nothing,
//! business time can only turn breaches into met targets, and with a target
//! no duration reaches, the met first responses are exactly the support
//! table's `frt_count` (the SLA agrees with the FRT durations).

use chrono::Weekday;
use metrics_core::calendar::BusinessCalendar;
use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::support::sla::{self, SlaOptions, Targets};
use metrics_core::support::{self, SupportOptions, TicketReadOptions, Tickets};
use proptest::prelude::*;

const NY: metrics_core::chrono_tz::Tz = metrics_core::chrono_tz::America::New_York;

/// (created, response offset, solve offset, priority) in minutes after
/// Monday 2025-03-03 00:00 UTC.
type Row = (i64, Option<i64>, Option<i64>, u8);

fn rows() -> impl Strategy<Value = Vec<Row>> {
    let row =
        (0i64..28 * 1440, proptest::option::of(-30i64..4 * 1440), proptest::option::of(-30i64..10 * 1440), 0u8..4);
    proptest::collection::vec(row, 1..60)
}

fn tickets(rows: &[Row]) -> Tickets {
    let ts = |m: i64| {
        let t = chrono::DateTime::from_timestamp(1_740_960_000 + m * 60, 0).unwrap();
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    };
    let priorities = ["urgent", "High", " normal ", "other"];
    let df = df!(
        "ticket_id" => (0..rows.len()).map(|i| i.to_string()).collect::<Vec<_>>(),
        "priority" => rows.iter().map(|r| priorities[r.3 as usize]).collect::<Vec<_>>(),
        "created_at" => rows.iter().map(|r| ts(r.0)).collect::<Vec<_>>(),
        "first_response_at" => rows.iter().map(|r| r.1.map(|o| ts(r.0 + o))).collect::<Vec<_>>(),
        "solved_at" => rows.iter().map(|r| r.2.map(|o| ts(r.0 + o))).collect::<Vec<_>>(),
    )
    .unwrap();
    let read = TicketReadOptions::default().with_dims(["priority"]);
    Tickets::from_frame(df, &TableInput::default(), &read).unwrap()
}

fn targets(frt_hours: i64, calendar: Option<BusinessCalendar>) -> SlaOptions {
    let h = 3_600_000_000;
    let mut o = SlaOptions { calendar, ..SlaOptions::default() };
    o.targets.insert("urgent".into(), Targets { first_response: Some(frt_hours * h), resolution: Some(8 * h) });
    o.targets.insert("high".into(), Targets { first_response: Some(2 * frt_hours * h), resolution: Some(24 * h) });
    o.default = Some(Targets { first_response: Some(3 * frt_hours * h), resolution: None });
    o
}

fn counts(t: &DataFrame, c: &str) -> Vec<u32> {
    t.column(c).unwrap().u32().unwrap().into_no_null_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn always_open_calendar_changes_nothing(rows in rows(), frt in 1i64..12) {
        let t = tickets(&rows);
        let o = SupportOptions::default();
        let plain = sla::table(&t, &o, &targets(frt, None)).unwrap();
        let open = sla::table(&t, &o, &targets(frt, Some(BusinessCalendar::always_open("24x7", NY)))).unwrap();
        prop_assert!(plain.equals_missing(&open));
    }

    #[test]
    fn business_time_only_turns_breaches_into_met(rows in rows(), frt in 1i64..12) {
        let t = tickets(&rows);
        let o = SupportOptions::default();
        let mut office = BusinessCalendar::new("office", NY);
        for d in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri] {
            office = office.with_hours(d, &["09:00-17:00"]).unwrap();
        }
        let cal = sla::table(&t, &o, &targets(frt, None)).unwrap();
        let bus = sla::table(&t, &o, &targets(frt, Some(office))).unwrap();
        for clock in ["frt", "resolution"] {
            let (met, breached) = (format!("sla_{clock}_met"), format!("sla_{clock}_breached"));
            for (b, c) in counts(&bus, &met).iter().zip(counts(&cal, &met)) {
                prop_assert!(*b >= c);
            }
            for (b, c) in counts(&bus, &breached).iter().zip(counts(&cal, &breached)) {
                prop_assert!(*b <= c);
            }
        }
    }

    /// Without solves, and with targets no duration reaches, a first
    /// response is met exactly when its FRT is counted.
    #[test]
    fn met_first_responses_are_the_frt_count(rows in rows()) {
        let rows: Vec<Row> = rows.into_iter().map(|(c, r, _, p)| (c, r, None, p)).collect();
        let t = tickets(&rows);
        let o = SupportOptions::default();
        let s = sla::table(&t, &o, &targets(10_000, None)).unwrap();
        let table = support::table(&t, &o).unwrap();
        prop_assert_eq!(counts(&s, "sla_frt_met"), counts(&table, "frt_count"));
        prop_assert!(counts(&s, "sla_frt_breached").iter().all(|b| *b == 0));
    }
}

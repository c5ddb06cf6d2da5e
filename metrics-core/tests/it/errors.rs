//! Typed errors: a library caller matches on `Error::kind()` and finds the
//! file, row, column, value or option key in the fields, not in text.

use metrics_core::ErrorKind;
use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::support::{SupportOptions, TicketReadOptions, Tickets};
use metrics_core::surveys::{self, Responses, SurveyOptions};

#[test]
fn an_invalid_option_names_its_key_and_value() {
    let e = SupportOptions::default().with_percentiles([50.0, 150.0]).validated().unwrap_err();
    match e.kind() {
        ErrorKind::InvalidOption { key, value, .. } => {
            assert_eq!((key.as_str(), value.as_str()), ("percentiles", "150"))
        }
        other => panic!("expected InvalidOption, got {other:?}"),
    }
    assert_eq!(e.to_string(), "percentiles `150` is not between 0 and 100 (exclusive)");
    let e = "fortnight".parse::<metrics_core::period::Period>().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidOption { key, .. } if key == "period"));
}

#[test]
fn a_column_where_nothing_parses_names_file_row_column_and_value() {
    let df = df!(
        "ticket_id" => ["t1", "t2"],
        "created_at" => ["2026-13-01", "2026-14-01"],
    )
    .unwrap();
    let input = TableInput::new("tickets.csv");
    let e = Tickets::from_frame(df, &input, &TicketReadOptions::default()).unwrap_err();
    match e.kind() {
        ErrorKind::NothingParses { path, row, column, value, .. } => {
            assert_eq!(path.to_str(), Some("tickets.csv"));
            assert_eq!((row.as_str(), column.as_str(), value.as_str()), ("1", "created_at", "2026-13-01"));
        }
        other => panic!("expected NothingParses, got {other:?}"),
    }
}

#[test]
fn a_table_without_a_usable_row_says_so() {
    // Every score is recognised but off the 0-10 NPS scale: excluded, so
    // no row is left to report on.
    let df = df!(
        "responded_at" => ["2026-03-02T09:00:00Z", "2026-03-03T10:00:00Z"],
        "survey" => ["nps", "nps"],
        "score" => ["11", "12"],
    )
    .unwrap();
    let o = SurveyOptions::default();
    let r = Responses::from_frame(df, &TableInput::new("answers"), &o, &[], chrono_tz::UTC).unwrap();
    assert_eq!(r.quality.iter().map(|q| q.count).sum::<u64>(), 2);
    let e = surveys::table(&r, &o).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NoUsableRows { table } if table == "surveys"), "{e}");
}

#[test]
fn of_two_unusable_columns_the_first_in_the_schema_is_named() {
    // `csat` comes before `first_response_minutes` in the tickets schema:
    // the rating, converted on its own thread, still wins over the number.
    for (csat, minutes) in [("meh", "abc"), ("4", "abc"), ("meh", "12")] {
        let df = df!(
            "ticket_id" => ["t1"],
            "created_at" => ["2026-01-05T00:00:00Z"],
            "csat" => [csat],
            "first_response_minutes" => [minutes],
        )
        .unwrap();
        let e = Tickets::from_frame(df, &TableInput::new("tickets.csv"), &TicketReadOptions::default()).unwrap_err();
        let want = if csat == "meh" { "csat" } else { "first_response_minutes" };
        match e.kind() {
            ErrorKind::NothingParses { column, .. } => assert_eq!(column, want, "{csat} {minutes}"),
            other => panic!("expected NothingParses, got {other:?}"),
        }
    }
}

#[test]
fn a_rating_too_large_for_a_signed_integer_is_off_the_scale() {
    // A UInt64 sentinel: rated as the number it is (out of range), not
    // lost to a cast.
    let df = df!(
        "ticket_id" => ["t1", "t2"],
        "created_at" => ["2026-01-05T00:00:00Z", "2026-01-05T01:00:00Z"],
        "solved_at" => ["2026-01-05T02:00:00Z", "2026-01-05T03:00:00Z"],
        "csat" => [u64::MAX, 5u64],
    )
    .unwrap();
    let t = Tickets::from_frame(df, &TableInput::new("tickets"), &TicketReadOptions::default()).unwrap();
    let out: Vec<(String, u64)> =
        t.quality.iter().filter(|q| q.column == "csat").map(|q| (q.reason.name().to_owned(), q.count)).collect();
    assert_eq!(out, [("score_out_of_range".to_owned(), 1)]);
}

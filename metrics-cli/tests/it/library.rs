//! The library on in-memory frames gives, cell for cell, what `cxm` prints
//! for the same rows written to CSV: the one-engine guarantee for Rust
//! callers (`from_frame` + `support::table`, `revenue::table`,
//! `surveys::table` against `cxm support`, `cxm revenue`, `cxm surveys`).

use assert_cmd::Command;
use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::revenue::{self, Lines, LinesOptions, RevenueOptions};
use metrics_core::support::{self, SupportOptions, TicketReadOptions, Tickets};
use metrics_core::surveys::{self, Responses, SurveyOptions};

fn to_csv(df: &DataFrame) -> String {
    let mut out = Vec::new();
    CsvWriter::new(&mut out).finish(&mut df.clone()).unwrap();
    String::from_utf8(out).unwrap()
}

fn rows(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    r.records().map(|rec| rec.unwrap().iter().map(str::to_owned).collect()).collect()
}

/// Equal cell for cell: numbers within 1e-12 relative, text exactly.
fn assert_same(library: &str, cli: &str) {
    let (a, b) = (rows(library), rows(cli));
    assert_eq!(a.len(), b.len(), "rows differ:\n{library}\n---\n{cli}");
    for (i, (ra, rb)) in a.iter().zip(&b).enumerate() {
        assert_eq!(ra.len(), rb.len(), "row {i} width");
        for (x, y) in ra.iter().zip(rb) {
            match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(p), Ok(q)) => assert!((p - q).abs() <= 1e-12 * p.abs().max(1.0), "row {i}: {x} vs {y}"),
                _ => assert_eq!(x, y, "row {i}"),
            }
        }
    }
}

fn cxm(args: &[&str], file: &std::path::Path) -> String {
    let out = Command::cargo_bin("cxm").unwrap().args(args).arg(file).args(["--format", "csv", "-q"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn write(dir: &std::path::Path, name: &str, df: &DataFrame) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, to_csv(df)).unwrap();
    p
}

#[test]
fn support_from_a_frame_equals_the_cli() {
    let df = df!(
        "ticket_id" => ["1", "2", "3", "4", "5"],
        "created_at" => ["2026-03-02T09:00:00Z", "2026-03-03T10:00:00Z", "2026-03-09T08:00:00Z", "2026-03-10T12:00:00Z", "2026-03-17T07:00:00Z"],
        "first_response_at" => [Some("2026-03-02T09:20:00Z"), Some("2026-03-03T11:00:00Z"), None, Some("2026-03-10T12:05:00Z"), Some("2026-03-17T08:00:00Z")],
        "solved_at" => [Some("2026-03-02T15:00:00Z"), None, Some("2026-03-09T10:00:00Z"), None, Some("2026-03-18T07:00:00Z")],
        "reopens" => [Some(0i64), None, Some(1), None, Some(0)],
        "agent_replies" => [Some(1i64), Some(2), Some(1), None, Some(1)],
        "csat" => [Some("5"), None, Some("2"), None, Some("good")],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "tickets.csv", &df);
    let tickets = Tickets::from_frame(df, &TableInput::default(), &TicketReadOptions::default()).unwrap();
    let table = support::table(&tickets, &SupportOptions::default()).unwrap();
    assert_eq!(table.height(), 3);
    assert_same(&to_csv(&table), &cxm(&["support", "--tickets"], &path));
}

#[test]
fn revenue_from_a_frame_equals_the_cli() {
    let df = df!(
        "subscription_id" => ["s1", "s2", "s3", "s4"],
        "account_id" => ["A", "B", "A", "C"],
        "start_at" => ["2026-01-05", "2026-01-20", "2026-03-01", "2026-02-10"],
        "end_at" => [None, Some("2026-04-01"), None, Some("2026-03-15")],
        "mrr" => [100.0, 40.0, 25.0, 60.0],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "subscriptions.csv", &df);
    let lines = Lines::from_frame(df, &TableInput::default(), &LinesOptions::default()).unwrap();
    let table = revenue::table(&lines, None, &RevenueOptions::default()).unwrap();
    assert_same(&to_csv(&table), &cxm(&["revenue", "--subscriptions"], &path));
}

#[test]
fn surveys_from_a_frame_equal_the_cli() {
    let df = df!(
        "responded_at" => ["2026-03-02T09:00:00Z", "2026-03-03T10:00:00Z", "2026-03-04T11:00:00Z", "2026-03-10T09:00:00Z", "2026-03-11T09:00:00Z"],
        "survey" => ["nps", "nps", "csat", "ces", "nps"],
        "score" => ["10", "6", "5", "2", "8"],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "survey_responses.csv", &df);
    let o = SurveyOptions::default();
    let responses = Responses::from_frame(df, &TableInput::default(), &o, &[], chrono_tz::UTC).unwrap();
    let table = surveys::table(&responses, &o).unwrap();
    assert_same(&to_csv(&table), &cxm(&["surveys", "--surveys"], &path));
}

//! Every support column of the hand-worked fixtures (fixtures/README.md),
//! for CSV input and for Parquet written from typed data by a helper that
//! does not use cxm's loader.

use std::path::Path;

use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::quality::Reason;
use metrics_core::report::{self, Command, Inputs, Report, ReportOptions};

use crate::common::*;

fn run(path: &Path, o: &ReportOptions) -> Report {
    let mut inputs = Inputs::default();
    let mut t = TableInput::new(path.to_string_lossy());
    t.input_tz = Some(o.input_tz);
    inputs.tickets = Some(t);
    report::run(&inputs, o, Command::Support).expect("report")
}

/// fixtures/README.md, "Fixture 1": weekly, UTC, zendesk FCR.
fn check_support_fixture(r: &Report) {
    let df = r.section("support").expect("support section");
    assert_eq!(dates(df), ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]);
    check(df, "tickets_created", &[v(6.), v(0.), v(0.), v(4.)]);
    check(df, "tickets_solved", &[v(3.), v(2.), v(0.), v(2.)]);
    check(df, "frt_count", &[v(3.), v(0.), v(0.), v(2.)]);
    check(df, "frt_mean_minutes", &[v(110. / 3.), N, N, v(22.5)]);
    check(df, "frt_median_minutes", &[v(30.), N, N, v(22.5)]);
    check(df, "frt_p90_minutes", &[v(54.), N, N, v(40.5)]);
    check(df, "unanswered_count", &[v(2.), v(0.), v(0.), v(2.)]);
    check(df, "resolution_count", &[v(3.), v(2.), v(0.), v(1.)]);
    check(df, "resolution_mean_hours", &[v(35. / 3.), v(85.5), N, v(24.)]);
    check(df, "resolution_median_hours", &[v(10.), v(85.5), N, v(24.)]);
    check(df, "resolution_p90_hours", &[v(21.2), v(151.5), N, v(24.)]);
    check(df, "first_resolution_count", &[v(3.), v(2.), v(0.), v(1.)]);
    check(df, "first_resolution_mean_hours", &[v(35. / 3.), v(13.5), N, v(24.)]);
    check(df, "first_resolution_median_hours", &[v(10.), v(13.5), N, v(24.)]);
    check(df, "first_resolution_p90_hours", &[v(21.2), v(21.9), N, v(24.)]);
    check(df, "fcr_count", &[v(2.), v(1.), v(0.), v(2.)]);
    check(df, "fcr_rate", &[v(2. / 3.), v(0.5), N, v(1.)]);
    check(df, "escalated_count", &[v(1.), v(0.), v(0.), v(1.)]);
    check(df, "escalation_rate", &[v(1. / 6.), N, N, v(0.25)]);
    check(df, "reopened_count", &[v(0.), v(1.), v(0.), v(0.)]);
    check(df, "reopen_rate", &[v(0.), v(0.5), N, v(0.)]);
    check(df, "reopens_total", &[v(0.), v(1.), v(0.), v(0.)]);
    check(df, "backlog_count", &[v(3.), v(1.), v(1.), v(3.)]);
    check(df, "backlog_over_7d_count", &[v(0.), v(1.), v(1.), v(1.)]);
    check(df, "backlog_median_age_hours", &[v(136.), v(327.), v(495.), v(36.)]);
    check(df, "csat_responses", &[v(2.), v(1.), v(0.), v(2.)]);
    check(df, "csat_pct", &[v(50.), v(0.), N, v(100.)]);
    assert_eq!(r.meta.as_of.as_deref(), Some("2026-03-26T12:00:00Z"));
    assert_eq!(r.meta.rules["escalation"], "group_stations > 1");
    assert!(r.meta.skipped.is_empty(), "{:?}", r.meta.skipped);
    let input = &r.meta.inputs["tickets"];
    assert_eq!((input.rows_read, input.rows_used), (13, 10));
}

#[test]
fn support_fixture_csv() {
    let r = run(&fixture("support/tickets.csv"), &ReportOptions::default());
    check_support_fixture(&r);
    assert_eq!(
        quality(&r),
        vec![
            row(Reason::MissingRequired, "ticket_id", &["9"]),
            row(Reason::UnparseableTimestamp, "created_at", &["8"]),
            row(Reason::UnparseableTimestamp, "first_response_at", &["13"]),
            row(Reason::UnparseableNumber, "agent_replies", &["13"]),
            row(Reason::NegativeDuration, "first_response_at", &["5"]),
            row(Reason::NegativeDuration, "first_solved_at", &["11"]),
            row(Reason::NegativeDuration, "solved_at", &["11"]),
            row(Reason::DuplicateId, "ticket_id", &["7"]),
            row(Reason::ScoreOutOfRange, "csat", &["6"]),
        ]
    );
}

/// Parses an RFC 3339 text with chrono directly (not cxm's parser).
fn micros(s: &str) -> Option<i64> {
    (!s.is_empty()).then(|| chrono::DateTime::parse_from_rfc3339(s).expect(s).timestamp_micros())
}

fn ts_col(name: &str, v: &[&str]) -> Column {
    Int64Chunked::from_iter_options(name.into(), v.iter().map(|s| micros(s)))
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column()
}

fn opt_i64(name: &str, v: &[Option<i64>]) -> Column {
    Int64Chunked::from_iter_options(name.into(), v.iter().copied()).into_column()
}

fn text(name: &str, v: &[Option<&str>]) -> Column {
    StringChunked::from_iter_options(name.into(), v.iter().copied()).into_column()
}

/// The valid rows of fixture 1 as typed Parquet columns (the CSV's invalid
/// rows have no typed equivalent except the duplicate, kept here).
fn write_support_parquet(path: &Path) {
    let ids = ["1", "2", "3", "4", "5", "6", "7", "7", "8", "9", "11"];
    let created = [
        "2026-03-02T00:00:00Z",
        "2026-03-02T09:00:00Z",
        "2026-03-03T08:00:00Z",
        "2026-03-04T12:00:00Z",
        "2026-03-05T10:00:00Z",
        "2026-03-08T23:50:00Z",
        "2026-03-20T10:00:00Z",
        "2026-03-23T09:00:00Z",
        "2026-03-24T10:00:00Z",
        "2026-03-25T00:00:00Z",
        "2026-03-26T12:00:00Z",
    ];
    let frt = [
        "2026-03-02T00:30:00Z",
        "",
        "2026-03-03T09:00:00Z",
        "",
        "2026-03-05T09:50:00Z",
        "2026-03-09T00:10:00Z",
        "2026-03-20T11:00:00Z",
        "2026-03-23T09:45:00Z",
        "2026-03-24T10:00:00Z",
        "",
        "",
    ];
    let solved = [
        "2026-03-02T10:00:00Z",
        "",
        "2026-03-10T08:00:00Z",
        "2026-03-04T13:00:00Z",
        "2026-03-06T10:00:00Z",
        "2026-03-09T02:50:00Z",
        "",
        "2026-03-24T09:00:00Z",
        "2026-03-24T08:00:00Z",
        "",
        "",
    ];
    let first_solved = [
        "2026-03-02T10:00:00Z",
        "",
        "2026-03-04T08:00:00Z",
        "2026-03-04T13:00:00Z",
        "2026-03-06T10:00:00Z",
        "2026-03-09T02:50:00Z",
        "",
        "2026-03-24T09:00:00Z",
        "2026-03-24T08:00:00Z",
        "",
        "",
    ];
    let csat_at = [
        "2026-03-03T09:00:00Z",
        "",
        "",
        "",
        "2026-03-06T12:00:00Z",
        "2026-03-09T03:00:00Z",
        "",
        "2026-03-24T10:00:00Z",
        "",
        "",
        "",
    ];
    let mut df = DataFrame::new_infer_height(vec![
        StringChunked::from_iter_values("ticket_id".into(), ids.iter().copied()).into_column(),
        ts_col("created_at", &created),
        ts_col("first_response_at", &frt),
        ts_col("solved_at", &solved),
        ts_col("first_solved_at", &first_solved),
        opt_i64(
            "reopens",
            &[Some(0), Some(0), Some(1), Some(0), Some(0), Some(0), Some(0), Some(0), Some(0), None, Some(0)],
        ),
        opt_i64(
            "agent_replies",
            &[Some(1), Some(0), Some(3), Some(0), Some(2), Some(1), Some(1), Some(1), Some(1), None, None],
        ),
        opt_i64(
            "group_stations",
            &[Some(1), Some(1), Some(2), Some(1), Some(1), Some(1), Some(1), Some(1), Some(1), Some(3), Some(1)],
        ),
        text(
            "csat",
            &[
                Some("5"),
                None,
                Some("bad"),
                Some("offered"),
                Some("3"),
                Some("7"),
                None,
                Some("4"),
                Some("good"),
                None,
                None,
            ],
        ),
        ts_col("csat_at", &csat_at),
    ])
    .unwrap();
    let f = std::fs::File::create(path).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
}

#[test]
fn support_fixture_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tickets.parquet");
    write_support_parquet(&path);
    let r = run(&path, &ReportOptions::default());
    let df = r.section("support").unwrap();
    // Same metrics as the CSV: the CSV's unparseable cells are nulls here,
    // which the metrics treat alike.
    check_support_fixture_values_only(df);
    let reasons: Vec<Reason> = r.data_quality["tickets"].iter().map(|q| q.reason).collect();
    assert_eq!(
        reasons,
        [
            Reason::NegativeDuration,
            Reason::NegativeDuration,
            Reason::NegativeDuration,
            Reason::DuplicateId,
            Reason::ScoreOutOfRange
        ]
    );
}

fn check_support_fixture_values_only(df: &DataFrame) {
    let mut r = run(&fixture("support/tickets.csv"), &ReportOptions::default());
    r.sections = vec![("support".into(), df.clone())];
    r.meta.inputs.get_mut("tickets").unwrap().rows_read = 13;
    r.meta.inputs.get_mut("tickets").unwrap().rows_used = 10;
    check_support_fixture(&r);
}

/// fixtures/README.md, "Fixture 2": naive times in America/New_York across
/// the 2026-03-08 spring-forward, weekly periods in the same zone.
#[test]
fn dst_fixture_naive_input_tz() {
    let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
    let mut o = ReportOptions::default();
    o.tz = ny;
    o.input_tz = ny;
    let r = run(&fixture("dst/tickets.csv"), &o);
    let df = r.section("support").unwrap();
    assert_eq!(dates(df), ["2026-03-02", "2026-03-09"]);
    check(df, "tickets_created", &[v(4.), v(2.)]);
    check(df, "tickets_solved", &[v(1.), v(1.)]);
    check(df, "frt_count", &[v(3.), v(1.)]);
    check(df, "frt_mean_minutes", &[v(50.), v(15.)]);
    check(df, "frt_median_minutes", &[v(60.), v(15.)]);
    check(df, "frt_p90_minutes", &[v(60.), v(15.)]);
    check(df, "unanswered_count", &[v(1.), v(1.)]);
    check(df, "resolution_count", &[v(1.), v(1.)]);
    check(df, "resolution_mean_hours", &[v(146.), v(1.5)]);
    check(df, "resolution_median_hours", &[v(146.), v(1.5)]);
    check(df, "resolution_p90_hours", &[v(146.), v(1.5)]);
    check(df, "backlog_count", &[v(3.), v(4.)]);
    check(df, "backlog_over_7d_count", &[v(0.), v(0.)]);
    check(df, "backlog_median_age_hours", &[v(20.5), v(43.25)]);
    assert_eq!(r.meta.as_of.as_deref(), Some("2026-03-10T13:00:00Z"));
    let skipped: Vec<&str> = r.meta.skipped.iter().map(|s| s.metric.as_str()).collect();
    assert_eq!(skipped, ["first_resolution_time", "fcr", "escalation", "reopen_rate", "csat"]);
    for c in ["fcr_rate", "csat_pct", "first_resolution_count"] {
        assert!(df.column(c).is_err(), "{c} is left out when its input is absent");
    }
}

/// fixtures/README.md, "Fixture 1 as a snapshot": `--as-of 2026-03-09`.
/// Rows created later are `after_as_of`; later timestamps read as empty, so
/// ticket 6 is unanswered and unsolved, ticket 3 unsolved, and ratings given
/// after as-of do not exist yet.
#[test]
fn support_fixture_snapshot_as_of() {
    let mut o = ReportOptions::default();
    o.as_of = Some(report::parse_instant("2026-03-09T00:00:00Z", chrono_tz::Tz::UTC).unwrap());
    let r = run(&fixture("support/tickets.csv"), &o);
    let df = r.section("support").unwrap();
    assert_eq!(dates(df), ["2026-03-02", "2026-03-09"]);
    check(df, "tickets_created", &[v(6.), v(0.)]);
    check(df, "tickets_solved", &[v(3.), v(0.)]);
    check(df, "frt_count", &[v(2.), v(0.)]);
    check(df, "frt_mean_minutes", &[v(45.), N]);
    check(df, "frt_median_minutes", &[v(45.), N]);
    check(df, "frt_p90_minutes", &[v(57.), N]);
    check(df, "unanswered_count", &[v(3.), v(0.)]);
    check(df, "resolution_mean_hours", &[v(35. / 3.), N]);
    check(df, "first_resolution_count", &[v(3.), v(0.)]);
    check(df, "fcr_rate", &[v(2. / 3.), N]);
    check(df, "escalation_rate", &[v(1. / 6.), N]);
    check(df, "reopen_rate", &[v(0.), N]);
    check(df, "backlog_count", &[v(3.), v(3.)]);
    check(df, "backlog_over_7d_count", &[v(0.), v(0.)]);
    check(df, "backlog_median_age_hours", &[v(136.), v(136.)]);
    check(df, "csat_responses", &[v(2.), v(0.)]);
    check(df, "csat_pct", &[v(50.), N]);
    assert_eq!(r.meta.as_of.as_deref(), Some("2026-03-09T00:00:00Z"));
    assert_eq!(
        quality(&r),
        vec![
            row(Reason::MissingRequired, "ticket_id", &["9"]),
            row(Reason::UnparseableTimestamp, "created_at", &["8"]),
            row(Reason::UnparseableTimestamp, "first_response_at", &["13"]),
            row(Reason::UnparseableNumber, "agent_replies", &["13"]),
            row(Reason::NegativeDuration, "first_response_at", &["5"]),
            row(Reason::AfterAsOf, "created_at", &["7", "10", "11", "12", "13"]),
        ]
    );
}

/// An export with only the two required columns: volume and backlog, and
/// every other metric named in meta as skipped with its missing column.
#[test]
fn minimal_export_skips_what_it_cannot_compute() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(
        &path,
        "ticket_id,created_at\n1,2026-03-02T10:00:00Z\n2,2026-03-03T10:00:00Z\n3,2026-03-10T10:00:00Z\n",
    )
    .unwrap();
    let r = run(&path, &ReportOptions::default());
    let df = r.section("support").unwrap();
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(
        names,
        ["period_start", "tickets_created", "backlog_count", "backlog_over_7d_count", "backlog_median_age_hours"]
    );
    check(df, "tickets_created", &[v(2.), v(1.)]);
    // t = 2026-03-09 00:00: ages 158 h and 134 h; then t = as-of = ticket 3's
    // creation (2026-03-10 10:00), where ticket 3 is not yet open: 192 h and
    // exactly 168 h, which is not over 7 days.
    check(df, "backlog_count", &[v(2.), v(3.)]);
    check(df, "backlog_median_age_hours", &[v(146.), v(168.)]);
    check(df, "backlog_over_7d_count", &[v(0.), v(1.)]);
    let skipped: Vec<(&str, &str)> =
        r.meta.skipped.iter().map(|s| (s.metric.as_str(), s.missing_column.as_str())).collect();
    assert_eq!(
        skipped,
        [
            ("tickets_solved", "solved_at"),
            ("first_response_time", "first_response_at"),
            ("resolution_time", "solved_at"),
            ("first_resolution_time", "first_solved_at"),
            ("fcr", "solved_at"),
            ("escalation", "escalated"),
            ("reopen_rate", "solved_at"),
            ("csat", "csat"),
        ]
    );
}

/// Fixture 1 split over two files read by a glob: the same table, and rows
/// named `path:row` within their own file.
#[test]
fn support_fixture_as_a_glob_of_two_files() {
    let text = std::fs::read_to_string(fixture("support/tickets.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let dir = tempfile::tempdir().unwrap();
    // Data rows 1-6 in part-1, rows 7-13 in part-2.
    std::fs::write(dir.path().join("part-1.csv"), format!("{}\n{}\n", lines[0], lines[1..7].join("\n"))).unwrap();
    std::fs::write(dir.path().join("part-2.csv"), format!("{}\n{}\n", lines[0], lines[7..].join("\n"))).unwrap();
    let glob = dir.path().join("part-*.csv");
    let r = run(&glob, &ReportOptions::default());
    check_support_fixture(&r);
    let part2 = dir.path().join("part-2.csv").display().to_string();
    let dup = r.data_quality["tickets"].iter().find(|q| q.reason == Reason::DuplicateId).unwrap();
    assert_eq!(dup.first_rows, [format!("{part2}:1")]);
    let negative: Vec<String> = r.data_quality["tickets"]
        .iter()
        .filter(|q| q.reason == Reason::NegativeDuration)
        .flat_map(|q| q.first_rows.clone())
        .collect();
    let part1 = dir.path().join("part-1.csv").display().to_string();
    assert_eq!(negative, [format!("{part1}:5"), format!("{part2}:5"), format!("{part2}:5")]);
}

/// fixtures/README.md, "Vendor durations": an export with the vendor's own
/// minutes (FRT) and `HH:MM:SS` (resolution) columns under its own names,
/// read through a mapping with units (docs/data-contract.md, "Vendor durations").
#[test]
fn vendor_durations_through_a_mapping() {
    use metrics_core::mapping::{ColumnSpec, DurationUnit};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    std::fs::write(
        &path,
        "Id,Created at,First reply time in minutes,Resolution time (in hrs)\n\
         V1,2026-03-02T10:00:00Z,30,02:30:00\n\
         V2,2026-03-03T10:00:00Z,,\n\
         V3,2026-03-04T10:00:00Z,90.5,25:00:00\n\
         V4,2026-03-10T09:00:00Z,-5,00:00:00\n",
    )
    .unwrap();
    let mut t = TableInput::new(path.to_string_lossy());
    t.columns.insert("ticket_id".into(), ColumnSpec::named("Id"));
    t.columns.insert("created_at".into(), ColumnSpec::named("Created at"));
    let minutes = ColumnSpec { unit: Some(DurationUnit::Minutes), ..ColumnSpec::named("First reply time in minutes") };
    t.columns.insert("first_response_minutes".into(), minutes);
    let hms = ColumnSpec { unit: Some(DurationUnit::Hms), ..ColumnSpec::named("Resolution time (in hrs)") };
    t.columns.insert("resolution_minutes".into(), hms);
    let mut inputs = Inputs::default();
    inputs.tickets = Some(t);
    let r = report::run(&inputs, &ReportOptions::default(), Command::Support).unwrap();
    let df = r.section("support").unwrap();
    assert_eq!(dates(df), ["2026-03-02", "2026-03-09"]);
    check(df, "frt_count", &[v(2.), v(0.)]);
    check(df, "frt_mean_minutes", &[v(60.25), N]);
    check(df, "frt_median_minutes", &[v(60.25), N]);
    check(df, "frt_p90_minutes", &[v(84.45), N]);
    check(df, "unanswered_count", &[v(1.), v(0.)]);
    check(df, "resolution_count", &[v(2.), v(1.)]);
    check(df, "resolution_mean_hours", &[v(13.75), v(0.)]);
    check(df, "resolution_median_hours", &[v(13.75), v(0.)]);
    check(df, "resolution_p90_hours", &[v(22.75), v(0.)]);
    check(df, "backlog_count", &[v(3.), v(4.)]);
    check(df, "backlog_over_7d_count", &[v(0.), v(1.)]);
    check(df, "backlog_median_age_hours", &[v(134.), v(155.)]);
    assert_eq!(r.meta.rules["frt_source"], "vendor");
    assert_eq!(r.meta.rules["resolution_source"], "vendor");
    let q = &r.data_quality["tickets"];
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].reason, q[0].column.as_str(), q[0].first_rows.clone()),
        (Reason::NegativeDuration, "first_response_minutes", vec!["4".to_owned()])
    );
}

/// fixtures/README.md, "Fixture 1 with weeks from Sunday".
#[test]
fn support_fixture_with_sunday_weeks() {
    let mut o = ReportOptions::default();
    o.week_start = chrono::Weekday::Sun;
    let r = run(&fixture("support/tickets.csv"), &o);
    let df = r.section("support").unwrap();
    assert_eq!(dates(df), ["2026-03-01", "2026-03-08", "2026-03-15", "2026-03-22"]);
    check(df, "tickets_created", &[v(5.), v(1.), v(0.), v(4.)]);
}

//! Rendering snapshots (insta): how tables look in a terminal and in
//! Markdown. Metric values are asserted elsewhere, against the fixtures'
//! hand-worked numbers; these snapshots only guard the layout.

use std::path::Path;

use assert_cmd::Command;

fn render(format: &str, extra: &[&str]) -> String {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/support/tickets.csv");
    let out = Command::cargo_bin("cxm")
        .unwrap()
        .args(["report", "--format", format, "--tickets"])
        .arg(&fixture)
        .args(extra)
        .assert()
        .success();
    // The input path differs between machines.
    String::from_utf8(out.get_output().stdout.clone()).unwrap().replace(&fixture.display().to_string(), "tickets.csv")
}

#[test]
fn terminal_table() {
    insta::assert_snapshot!(render("table", &[]));
}

#[test]
fn terminal_table_by_group() {
    insta::assert_snapshot!(render("table", &["--by", "channel", "--period", "month"]));
}

#[test]
fn markdown_table() {
    insta::assert_snapshot!(render("markdown", &[]));
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Runs `cxm` with `args`, replacing the fixtures folder by `fixtures/`.
fn render_args(args: &[&str]) -> String {
    let out = Command::cargo_bin("cxm").unwrap().args(args).assert().success();
    let dir = fixtures().display().to_string();
    String::from_utf8(out.get_output().stdout.clone()).unwrap().replace(&dir, "fixtures")
}

#[test]
fn terminal_cohort_triangles() {
    let f = fixtures();
    let subs = f.join("revenue/subscriptions.csv");
    let rates = f.join("revenue/rates.csv");
    insta::assert_snapshot!(render_args(&[
        "cohorts",
        "--format",
        "table",
        "--currency",
        "USD",
        "--subscriptions",
        subs.to_str().unwrap(),
        "--rates",
        rates.to_str().unwrap(),
    ]));
}

#[test]
fn terminal_health_at_risk() {
    let cfg = fixtures().join("health/cxm.toml");
    insta::assert_snapshot!(render_args(&[
        "health",
        "--at-risk",
        "--format",
        "table",
        "--config",
        cfg.to_str().unwrap()
    ]));
}

/// A small HTML report (the support fixture): tiles, charts with their
/// data tables, data quality and meta.
#[test]
fn html_report() {
    insta::assert_snapshot!(render("html", &["--tz", "UTC"]));
}

/// The SQL of a grouped weekly support table in Berlin with an extra
/// percentile, in every dialect. DuckDB, DataFusion and Spark are executed
/// and compared with `cxm support` by tests/sql/run.sh; the others are
/// parsed by metrics-core's tests (docs/sql.md).
#[test]
fn sql_every_dialect() {
    let sql = |args: &[&str]| {
        let out = Command::cargo_bin("cxm").unwrap().arg("sql").args(args).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    for dialect in ["duckdb", "spark", "datafusion", "postgres", "trino", "snowflake", "bigquery"] {
        let d = ["--dialect", dialect];
        let support = [&d[..], &["--table", "tickets=analytics.support.tickets", "--tz", "Europe/Berlin"]].concat();
        let support = [&support[..], &["--since", "2026-03-01", "--until", "2026-04-05", "--by", "group"]].concat();
        insta::assert_snapshot!(format!("sql_{dialect}"), sql(&[&support[..], &["--percentiles", "95"]].concat()));
        let berlin = ["--tz", "Europe/Berlin", "--since", "2026-01-01"];
        let surveys = [&d[..], &berlin, &["--section", "surveys", "--period", "month", "--until", "2026-03-31"]];
        insta::assert_snapshot!(format!("sql_surveys_{dialect}"), sql(&surveys.concat()));
        let revenue = [&d[..], &berlin, &["--section", "revenue", "--until", "2026-06-30"]];
        insta::assert_snapshot!(format!("sql_revenue_{dialect}"), sql(&revenue.concat()));
        let cohorts = [&d[..], &["--section", "cohorts", "--period", "quarter", "--since", "2026-01-01"]];
        let cohorts = [&cohorts.concat()[..], &["--until", "2026-12-31"]].concat();
        insta::assert_snapshot!(format!("sql_cohorts_{dialect}"), sql(&cohorts));
        // Tokyo has kept one UTC offset since 1970: a one-row zone table.
        let purchases = [&d[..], &["--section", "purchases", "--tz", "Asia/Tokyo", "--since", "2026-01-01"]];
        let purchases = [&purchases.concat()[..], &["--until", "2026-03-31", "--by", "segment"]].concat();
        let purchases = [&purchases[..], &["--table", "accounts=crm.accounts"]].concat();
        insta::assert_snapshot!(format!("sql_purchases_{dialect}"), sql(&purchases));
    }
}

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
    for dialect in ["duckdb", "spark", "datafusion", "postgres", "trino", "snowflake", "bigquery"] {
        let out = Command::cargo_bin("cxm")
            .unwrap()
            .args(["sql", "--dialect", dialect, "--table", "tickets=analytics.support.tickets"])
            .args(["--since", "2026-03-01", "--until", "2026-04-05", "--tz", "Europe/Berlin"])
            .args(["--by", "group", "--percentiles", "95"])
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        insta::assert_snapshot!(format!("sql_{dialect}"), text);
        let out = Command::cargo_bin("cxm")
            .unwrap()
            .args(["sql", "--dialect", dialect, "--section", "surveys", "--period", "month"])
            .args(["--since", "2026-01-01", "--until", "2026-03-31", "--tz", "Europe/Berlin"])
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        insta::assert_snapshot!(format!("sql_surveys_{dialect}"), text);
        let out = Command::cargo_bin("cxm")
            .unwrap()
            .args(["sql", "--dialect", dialect, "--section", "revenue"])
            .args(["--since", "2026-01-01", "--until", "2026-06-30", "--tz", "Europe/Berlin"])
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        insta::assert_snapshot!(format!("sql_revenue_{dialect}"), text);
        let out = Command::cargo_bin("cxm")
            .unwrap()
            .args(["sql", "--dialect", dialect, "--section", "cohorts", "--period", "quarter"])
            .args(["--since", "2026-01-01", "--until", "2026-12-31"])
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        insta::assert_snapshot!(format!("sql_cohorts_{dialect}"), text);
    }
}

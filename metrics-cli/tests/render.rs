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

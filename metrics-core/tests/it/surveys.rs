//! The survey fixture (fixtures/README.md, "Fixture 5"): every column of
//! the `surveys` table, ungrouped and by segment, against the values worked
//! out by hand there, and its data quality.

use metrics_core::mapping::TableInput;
use metrics_core::quality::Reason;
use metrics_core::report::{self, Command, Inputs, ReportOptions};

use crate::common::*;

fn run(by: &[&str]) -> report::Report {
    let mut inputs = Inputs::default();
    inputs.surveys = Some(TableInput::new(fixture("surveys/survey_responses.csv").to_string_lossy()));
    inputs.accounts = Some(TableInput::new(fixture("surveys/accounts.csv").to_string_lossy()));
    let mut o = ReportOptions::default();
    o.by = by.iter().map(|s| (*s).to_owned()).collect();
    report::run(&inputs, &o, Command::Surveys).expect("report")
}

#[test]
fn surveys_by_hand() {
    let r = run(&[]);
    let df = r.section("surveys").unwrap();
    compare(df, "### Expected `surveys` table");
    check(df, "nps", &[v(0.), v(0.)]);
    check(df, "nps_ci_high", &[v(1.959963984540054 * 100. / 3.), v(100.)]);
    check(df, "csat_pct", &[N, v(50.)]);
    check(df, "ces_mean", &[N, v(3.5)]);
    assert_eq!(
        quality_in(&r, "survey_responses"),
        [
            row(Reason::UnparseableTimestamp, "responded_at", &["18"]),
            row(Reason::ScoreOutOfRange, "score", &["7", "13", "19"]),
            row(Reason::UnknownSurvey, "survey", &["16"]),
        ]
    );
    assert_eq!(r.meta.inputs["survey_responses"].rows_read, 19);
    assert_eq!(r.meta.inputs["survey_responses"].rows_used, 14);
}

#[test]
fn surveys_by_segment_by_hand() {
    compare(run(&["segment"]).section("surveys").unwrap(), "### Expected `surveys` by segment");
}

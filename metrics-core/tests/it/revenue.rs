//! The revenue fixture (fixtures/README.md, "Fixture 3"): every column of
//! the `revenue` table, ungrouped and by segment, and the `cohorts` table,
//! against the values worked out by hand there. The expected tables are
//! the CSV blocks of that section, read as text; a few key values are also
//! written out here.

use metrics_core::mapping::TableInput;
use metrics_core::quality::Reason;
use metrics_core::report::{self, Command, Inputs, Report, ReportOptions};

use crate::common::*;

fn run(by: &[&str], command: Command) -> Report {
    let mut inputs = Inputs::default();
    inputs.subscriptions = Some(TableInput::new(fixture("revenue/subscriptions.csv").to_string_lossy()));
    inputs.accounts = Some(TableInput::new(fixture("revenue/accounts.csv").to_string_lossy()));
    let mut o = ReportOptions::default();
    o.revenue.rates = Some(TableInput::new(fixture("revenue/rates.csv").to_string_lossy()));
    o.revenue.reporting_currency = Some("USD".into());
    o.by = by.iter().map(|s| (*s).to_owned()).collect();
    report::run(&inputs, &o, command).expect("report")
}

#[test]
fn revenue_table_by_hand() {
    let r = run(&[], Command::Report);
    let df = r.section("revenue").expect("revenue section");
    compare(df, "### Expected `revenue` table");
    // Every clv of the fixture (July to October) rests on one churned
    // account in its six months (April's, then October's): noted.
    assert!(
        r.meta.notes.iter().any(|n| n.contains("as few as 1 churned account(s)") && n.contains("2026-07-01")),
        "{:?}",
        r.meta.notes
    );
    // A few of the hand-worked values, literally.
    check(
        df,
        "mrr_end",
        &[
            v(399.),
            v(499.),
            v(1777. / 3.),
            v(1477. / 3.),
            v(1378. / 3.),
            v(1828. / 3.),
            v(2008. / 3.),
            v(2008. / 3.),
            v(2008. / 3.),
            v(1708. / 3.),
        ],
    );
    check(df, "contraction_mrr", &[v(0.), v(0.), v(0.), v(0.), v(33.), v(0.), v(0.), v(0.), v(0.), v(0.)]);
    check(df, "reactivation_mrr", &[v(0.), v(0.), v(0.), v(0.), v(0.), v(150.), v(0.), v(0.), v(0.), v(0.)]);
    check(df, "clv", &[N, N, N, N, N, N, v(20080. / 7.), v(20080. / 7.), v(20080. / 7.), v(11956. / 3.)]);
    assert_eq!(r.meta.first_period.as_deref(), Some("2026-01-01"));
    assert_eq!(r.meta.last_period.as_deref(), Some("2026-10-01"));
    assert_eq!(r.meta.inputs["subscriptions"].rows_read, 15);
    assert_eq!(r.meta.inputs["subscriptions"].rows_used, 11);
    assert_eq!(r.meta.inputs["accounts"].rows_read, 8);
    assert_eq!(
        quality_in(&r, "subscriptions"),
        [
            row(Reason::UnparseableTimestamp, "start_at", &["13"]),
            row(Reason::NegativeDuration, "end_at", &["10"]),
            row(Reason::DuplicateId, "subscription_id", &["14"]),
            row(Reason::UnknownInterval, "interval", &["11"]),
        ]
    );
    let cohorts = r.section("cohorts").expect("cohorts section");
    compare(cohorts, "### Expected `cohorts` table");
}

#[test]
fn revenue_by_segment_by_hand() {
    let r = run(&["segment"], Command::Revenue);
    assert!(r.section("cohorts").is_none(), "cxm revenue has no cohorts");
    compare(r.section("revenue").unwrap(), "### Expected `revenue` by segment");
}

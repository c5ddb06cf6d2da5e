//! Repeat purchase rate on the hand-worked fixture (fixtures/README.md,
//! "Fixture 6").

use metrics_core::mapping::TableInput;
use metrics_core::period::Period;
use metrics_core::quality::Reason;
use metrics_core::report::{self, Command, Inputs, ReportOptions};

use crate::common::*;

#[test]
fn repeat_purchase_rate_by_hand() {
    let mut inputs = Inputs::default();
    inputs.transactions = Some(TableInput::new(fixture("purchases/transactions.csv").to_string_lossy()));
    let mut o = ReportOptions::default();
    o.period = Some(Period::Month);
    let r = report::run(&inputs, &o, Command::Report).expect("report");
    let df = r.section("purchases").expect("purchases section");
    assert_eq!(dates(df), ["2026-01-01", "2026-02-01", "2026-03-01"]);
    check(df, "customers_purchasing", &[v(2.), v(2.), v(2.)]);
    check(df, "repeat_purchase_rate", &[v(0.5), v(0.), v(0.)]);
    check(df, "repeat_purchase_rate_lifetime", &[v(0.5), v(2. / 3.), v(0.75)]);
    check(df, "orders", &[v(4.), v(2.), v(2.)]);
    check(df, "revenue", &[v(55.), v(19.), v(16.)]);
    check(df, "purchase_frequency", &[v(2.), v(1.), v(1.)]);
    check(df, "average_order_value", &[v(13.75), v(9.5), v(8.)]);
    let cmd = report::run(&inputs, &o, Command::Purchases).expect("purchases");
    assert_eq!(cmd.sections.len(), 1);
    assert!(cmd.section("purchases").expect("purchases").equals_missing(df));
    assert_eq!(
        quality_in(&r, "transactions"),
        [row(Reason::MissingRequired, "account_id", &["9"]), row(Reason::UnparseableTimestamp, "at", &["10"])]
    );
    assert_eq!(r.meta.inputs["transactions"].rows_used, 8);
}

#[test]
fn progress_reports_each_step_before_it_starts() {
    let mut inputs = Inputs::default();
    inputs.transactions = Some(TableInput::new(fixture("purchases/transactions.csv").to_string_lossy()));
    let mut steps = Vec::new();
    report::run_with_progress(&inputs, &ReportOptions::default(), Command::Report, &mut |s| {
        steps.push((s.done, s.total, s.what.to_owned()));
    })
    .expect("report");
    assert_eq!(steps, [(0, 2, "reading transactions".to_owned()), (1, 2, "computing purchases".to_owned())]);
}

/// A dimension that varies within one customer: within a period each
/// group counts the customer's days in it; over the lifetime a customer
/// belongs to the group of its first row, and repeat means two distinct days.
#[test]
fn repeat_purchases_by_a_per_row_dimension() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tx.csv");
    std::fs::write(
        &path,
        "account_id,at,channel\n\
         C1,2026-01-05T10:00:00Z,web\n\
         C1,2026-01-05T12:00:00Z,app\n\
         C1,2026-02-05T10:00:00Z,app\n\
         C2,2026-01-06T10:00:00Z,app\n\
         C2,2026-01-07T10:00:00Z,web\n",
    )
    .unwrap();
    let mut inputs = Inputs::default();
    inputs.transactions = Some(TableInput::new(path.to_string_lossy()));
    let mut o = ReportOptions::default();
    o.by = vec!["channel".into()];
    for _ in 0..3 {
        let r = report::run(&inputs, &o, Command::Report).expect("report");
        let df = r.section("purchases").unwrap();
        // Rows: Jan app, Jan web, Feb app, Feb web.
        check(df, "customers_purchasing", &[v(2.), v(2.), v(1.), v(0.)]);
        check(df, "repeat_purchase_rate", &[v(0.), v(0.), v(0.), N]);
        // app: C2 (days 01-06, 01-07); web: C1 (days 01-05, 02-05).
        check(df, "repeat_purchase_rate_lifetime", &[v(1.), v(0.), v(1.), v(1.)]);
        // Orders count rows: C1's two rows on 01-05 are two orders, one in
        // each channel. Jan app: C1, C2; Jan web: C1, C2; Feb app: C1.
        check(df, "orders", &[v(2.), v(2.), v(1.), v(0.)]);
        check(df, "purchase_frequency", &[v(1.), v(1.), v(1.), N]);
        assert!(df.column("revenue").is_err(), "no amount column, no revenue");
    }
}

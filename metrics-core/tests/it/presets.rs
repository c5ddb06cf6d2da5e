//! Vendor presets on small exports with the vendors' own headers
//! (fixtures/presets; values worked out in fixtures/README.md, "Presets").

use metrics_core::mapping::TableInput;
use metrics_core::preset::Preset;
use metrics_core::report::{self, Command, Inputs, Report, ReportOptions};
use metrics_core::support::FcrRule;

use crate::common::*;

fn run(file: &str, preset: Preset, o: &ReportOptions) -> Report {
    let mut t = TableInput::new(fixture(&format!("presets/{file}")).to_string_lossy());
    t.preset = Some(preset);
    let mut inputs = Inputs::default();
    inputs.tickets = Some(t);
    let r = report::run(&inputs, o, Command::Support).expect("report");
    assert_eq!(r.meta.inputs["tickets"].preset.as_deref(), Some(preset.name()));
    r
}

#[test]
fn zendesk_export_in_the_account_zone() {
    let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
    let mut o = ReportOptions::default();
    o.tz = ny;
    o.input_tz = ny;
    let r = run("zendesk.csv", Preset::Zendesk, &o);
    let df = r.section("support").unwrap();
    assert_eq!(dates(df), ["2026-03-02", "2026-03-09"]);
    assert_eq!(r.meta.as_of.as_deref(), Some("2026-03-10T13:00:00Z"));
    assert_eq!(r.meta.rules["frt_source"], "vendor");
    assert_eq!(r.meta.rules["resolution_source"], "timestamps");
    check(df, "tickets_created", &[v(3.), v(1.)]);
    check(df, "tickets_solved", &[v(2.), v(1.)]);
    check(df, "frt_count", &[v(2.), v(1.)]);
    check(df, "frt_mean_minutes", &[v(45.), v(15.)]);
    check(df, "unanswered_count", &[v(1.), v(0.)]);
    check(df, "resolution_count", &[v(2.), v(1.)]);
    check(df, "resolution_mean_hours", &[v(25.), v(1.)]);
    check(df, "fcr_count", &[v(1.), v(1.)]);
    check(df, "fcr_rate", &[v(0.5), v(1.)]);
    check(df, "escalation_rate", &[v(1. / 3.), v(0.)]);
    check(df, "reopened_count", &[v(1.), v(0.)]);
    check(df, "reopens_total", &[v(1.), v(0.)]);
    check(df, "csat_responses", &[v(2.), v(0.)]);
    check(df, "csat_pct", &[v(50.), N]);
    check(df, "backlog_count", &[v(1.), v(1.)]);
    check(df, "backlog_median_age_hours", &[v(107.), v(140.)]);
    assert!(quality(&r).is_empty(), "{:?}", quality(&r));
}

#[test]
fn freshdesk_zero_durations_are_missing() {
    let r = run("freshdesk.csv", Preset::Freshdesk, &ReportOptions::default());
    let df = r.section("support").unwrap();
    assert_eq!(dates(df), ["2026-03-02"]);
    assert_eq!(r.meta.as_of.as_deref(), Some("2026-03-04T09:00:00Z"));
    assert_eq!(r.meta.rules["frt_source"], "vendor");
    assert_eq!(r.meta.rules["resolution_source"], "timestamps");
    check(df, "tickets_created", &[v(3.)]);
    check(df, "tickets_solved", &[v(2.)]);
    check(df, "frt_count", &[v(2.)]);
    check(df, "frt_mean_minutes", &[v(75.)]);
    check(df, "unanswered_count", &[v(1.)]);
    check(df, "resolution_mean_hours", &[v(13.75)]);
    check(df, "csat_responses", &[v(2.)]);
    check(df, "csat_pct", &[v(50.)]);
    check(df, "backlog_count", &[v(1.)]);
    check(df, "backlog_median_age_hours", &[v(0.)]);
}

#[test]
fn hubspot_stages_and_one_touch_flag() {
    let mut o = ReportOptions::default();
    o.support.fcr = FcrRule::Flag;
    o.by = vec!["status".into()];
    let r = run("hubspot.csv", Preset::Hubspot, &o);
    let df = r.section("support").unwrap();
    let status = df.column("status").unwrap().str().unwrap().iter().map(|s| s.unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(status, ["closed", "new"]);
    check(df, "tickets_created", &[v(2.), v(1.)]);
    check(df, "frt_mean_minutes", &[v(52.5), N]);
    check(df, "unanswered_count", &[v(0.), v(1.)]);
    check(df, "resolution_mean_hours", &[v(13.), N]);
    check(df, "fcr_rate", &[v(0.5), N]);
}

#[test]
fn intercom_zone_from_the_header() {
    let mut o = ReportOptions::default();
    o.support.fcr = FcrRule::Flag;
    let r = run("intercom.csv", Preset::Intercom, &o);
    let df = r.section("support").unwrap();
    assert_eq!(dates(df), ["2026-03-02", "2026-03-09"]);
    check(df, "tickets_created", &[v(2.), v(1.)]);
    check(df, "frt_mean_minutes", &[v(135.), N]);
    check(df, "unanswered_count", &[v(0.), v(1.)]);
    check(df, "resolution_mean_hours", &[v(5.), N]);
    check(df, "fcr_rate", &[v(0.5), N]);
    check(df, "escalation_rate", &[v(0.5), v(0.)]);
    assert_eq!(r.meta.rules["escalation"], "group_stations > 1");
}

#[test]
fn a_preset_for_another_table_is_an_error() {
    let mut t = TableInput::new(fixture("presets/zendesk.csv").to_string_lossy());
    t.preset = Some(Preset::Stripe);
    let mut inputs = Inputs::default();
    inputs.tickets = Some(t);
    let err = report::run(&inputs, &ReportOptions::default(), Command::Support).unwrap_err().to_string();
    assert!(err.contains("preset `stripe` describes the subscriptions table"), "{err}");
}

#[test]
fn a_preset_export_without_its_key_names_the_vendor_column() {
    let mut t = TableInput::new(fixture("presets/freshdesk.csv").to_string_lossy());
    t.preset = Some(Preset::Zendesk);
    let mut inputs = Inputs::default();
    inputs.tickets = Some(t);
    let err = report::run(&inputs, &ReportOptions::default(), Command::Support).unwrap_err().to_string();
    assert!(err.contains("`Id`"), "{err}");
}

#[test]
fn stripe_subscriptions_export() {
    let mut t = TableInput::new(fixture("presets/stripe.csv").to_string_lossy());
    t.preset = Some(Preset::Stripe);
    let mut inputs = Inputs::default();
    inputs.subscriptions = Some(t);
    let r = report::run(&inputs, &ReportOptions::default(), Command::Revenue).expect("report");
    assert_eq!(r.meta.inputs["subscriptions"].preset.as_deref(), Some("stripe"));
    assert_eq!(r.meta.rules["currency"], "USD");
    let df = r.section("revenue").unwrap();
    assert_eq!(dates(df), ["2026-01-01", "2026-02-01", "2026-03-01"]);
    // sub_1: 2 x 50 a month; sub_2: 1200 a year = 100 a month, ended 03-10; sub_3: 20.
    check(df, "mrr_end", &[v(200.), v(220.), v(120.)]);
    check(df, "new_mrr", &[v(200.), v(20.), v(0.)]);
    check(df, "churned_mrr", &[v(0.), v(0.), v(100.)]);
    check(df, "customers_end", &[v(2.), v(3.), v(2.)]);
}

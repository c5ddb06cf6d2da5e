//! The health score on the hand-worked fixture (fixtures/README.md,
//! "Fixture 7"), and its properties: scores lie in [0, 100], and doubling
//! every weight changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use metrics_core::health::{HealthConfig, HealthData, HealthSection, score_all};
use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::report::{self, Command, Inputs, ReportOptions};
use proptest::prelude::*;

use crate::common::*;

fn config() -> HealthConfig {
    let text = std::fs::read_to_string(fixture("health/cxm.toml")).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    let section: HealthSection = value["health"].clone().try_into().unwrap();
    HealthConfig::from_section(&section).unwrap()
}

fn run(at_risk: bool) -> report::Report {
    let mut inputs = Inputs::default();
    inputs.usage = Some(TableInput::new(fixture("health/usage.csv").to_string_lossy()));
    inputs.surveys = Some(TableInput::new(fixture("health/survey_responses.csv").to_string_lossy()));
    let mut o = ReportOptions::default();
    o.health = Some(config());
    o.at_risk = at_risk;
    report::run(&inputs, &o, Command::Health).expect("report")
}

fn texts(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let c = df.column(name).unwrap().cast(&DataType::String).unwrap();
    c.str().unwrap().iter().map(|v| v.map(str::to_owned)).collect()
}

#[test]
fn health_by_hand() {
    let r = run(false);
    assert_eq!(r.meta.rules["health_as_of"], "2026-03-02");
    let df = r.section("health").unwrap();
    let s = |v: &[&str]| v.iter().map(|x| Some((*x).to_owned())).collect::<Vec<_>>();
    assert_eq!(texts(df, "account_id"), s(&["H1", "H2", "H3", "H4", "H5"]));
    check(df, "logins_value", &[v(30.), v(5.), v(0.), v(15.), v(15.)]);
    check(df, "logins_points", &[v(100.), v(50. / 3.), v(0.), v(50.), v(50.)]);
    // H2's 10 on 03-05 is after as_of: its latest NPS is the 6.
    check(df, "nps_value", &[v(9.), v(6.), v(8.), N, v(0.)]);
    check(df, "nps_points", &[v(100.), v(0.), v(50.), N, v(0.)]);
    check(df, "inactive_days_value", &[v(0.), v(0.), v(10.), v(0.), v(0.)]);
    check(df, "inactive_days_points", &[v(100.), v(100.), v(0.), v(100.), v(100.)]);
    // H4 has no NPS: weights re-normalise over logins (2) and inactivity (1).
    check(df, "health_score", &[v(100.), v(100. / 3.), v(12.5), v(200. / 3.), v(50.)]);
    // H5 sits exactly on the yellow boundary.
    assert_eq!(texts(df, "health_band"), s(&["green", "red", "red", "yellow", "yellow"]));
    let summary = r.section("health_summary").unwrap();
    let last = summary.height() - 1;
    assert_eq!(dates(summary).last().map(String::as_str), Some("2026-03-02"));
    assert_eq!(column(summary, "health_green")[last], v(1.));
    assert_eq!(column(summary, "health_yellow")[last], v(2.));
    assert_eq!(column(summary, "health_red")[last], v(2.));
    assert!((column(summary, "health_mean")[last].unwrap() - 52.5).abs() < 1e-12);
}

#[test]
fn at_risk_lists_red_accounts_weakest_first() {
    let r = run(true);
    let df = r.section("health").unwrap();
    assert_eq!(texts(df, "account_id"), [Some("H3".to_owned()), Some("H2".to_owned())]);
    // H3: logins and inactivity both at 0 points; the first in config order wins.
    assert_eq!(texts(df, "weakest_component"), [Some("logins".to_owned()), Some("nps".to_owned())]);
}

#[test]
fn config_errors_name_the_entry() {
    let bad = |extra: &str| {
        let text = format!(
            "[[components]]\nname = \"x\"\nsource = \"usage\"\nmetric = \"m\"\nnormalize = \"percentile\"\nweight = 1\n{extra}"
        );
        let section: HealthSection = toml::from_str(&text).unwrap();
        HealthConfig::from_section(&section).unwrap_err().to_string()
    };
    assert!(
        bad("[[components]]\nname = \"y\"\nsource = \"weather\"\nnormalize = \"percentile\"\nweight = 1\n")
            .contains("#2 (`y`): unknown source `weather`")
    );
    assert!(
        bad("[[components]]\nname = \"z\"\nsource = \"nps\"\nnormalize = \"percentile\"\nweight = 0\n")
            .contains("#2 (`z`): weight must be > 0")
    );
    assert!(bad("[bands]\nyellow = 80\ngreen = 60\n").contains("bands: yellow = 80 and green = 60 overlap"));
}

fn data(rows: &[(u8, u8, u16)]) -> HealthData {
    let mut d = HealthData::default();
    for (acc, day, v) in rows {
        d.usage.push((format!("a{acc}"), 20_500 + i32::from(*day), "logins".into(), f64::from(*v)));
        d.usage.push((format!("a{acc}"), 20_500 + i32::from(*day), "seats".into(), f64::from(*v % 7)));
    }
    d
}

fn section(weights: [f64; 3]) -> HealthSection {
    let text = format!(
        r#"
[[components]]
name = "logins"
source = "usage"
metric = "logins"
window_days = 10
normalize = "percentile"
weight = {}
[[components]]
name = "seats"
source = "usage"
metric = "seats"
agg = "mean"
normalize = "range"
min = 1
max = 5
weight = {}
[[components]]
name = "inactive"
source = "last_activity"
normalize = "thresholds"
thresholds = [[0, 100], [3, 40], [8, 0]]
invert = true
weight = {}
"#,
        weights[0], weights[1], weights[2]
    );
    toml::from_str(&text).unwrap()
}

proptest! {
    #[test]
    fn scores_are_bounded_and_weights_only_matter_by_ratio(
        rows in proptest::collection::vec((0u8..8, 0u8..20, 0u16..50), 1..60),
        w in proptest::array::uniform3(0.1f64..10.0),
    ) {
        let d = data(&rows);
        let accounts: BTreeSet<String> = d.accounts();
        let as_of = 86_400_000_000 * (20_500 + 20);
        let once = score_all(&HealthConfig::from_section(&section(w)).unwrap(), &d, &accounts, as_of);
        let twice = score_all(&HealthConfig::from_section(&section(w.map(|x| 2.0 * x))).unwrap(), &d, &accounts, as_of);
        let mut by: BTreeMap<String, Option<f64>> = BTreeMap::new();
        for s in &once {
            if let Some(v) = s.score {
                prop_assert!((0.0..=100.0).contains(&v), "score {}", v);
            }
            for p in s.points.iter().flatten() {
                prop_assert!((0.0..=100.0).contains(p));
            }
            by.insert(s.account_id.clone(), s.score);
        }
        for s in &twice {
            match (by[&s.account_id], s.score) {
                (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-9, "{} vs {}", a, b),
                (a, b) => prop_assert_eq!(a, b),
            }
        }
    }
}

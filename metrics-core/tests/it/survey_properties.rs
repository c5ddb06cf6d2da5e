//! Properties of the surveys table over random responses: NPS lies in
//! [-100, 100] and its interval contains it, counts add up to the valid
//! responses, and groups add up to the whole.

use std::fmt::Write as _;

use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::report::{self, Command, Inputs, ReportOptions};
use proptest::prelude::*;

fn floats(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
    c.f64().unwrap().iter().collect()
}

fn run(path: &std::path::Path, by: &[&str]) -> DataFrame {
    let mut inputs = Inputs::default();
    inputs.surveys = Some(TableInput::new(path.to_string_lossy()));
    let mut o = ReportOptions::default();
    o.by = by.iter().map(|s| (*s).to_owned()).collect();
    report::run(&inputs, &o, Command::Surveys).expect("report").section("surveys").unwrap().clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn nps_is_bounded_and_inside_its_interval(
        responses in proptest::collection::vec((0i64..40 * 24, 0u8..12, 0u8..3, 0u8..2), 1..80)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let mut text = String::from("responded_at,score,survey,channel\n");
        for (h, score, kind, ch) in &responses {
            let at = chrono::DateTime::from_timestamp(1_772_409_600 + h * 3600, 0).unwrap();
            let kind = ["nps", "csat", "ces"][*kind as usize];
            let _ = writeln!(text, "{},{score},{kind},c{ch}", at.format("%Y-%m-%dT%H:%M:%SZ"));
        }
        std::fs::write(&path, text).unwrap();
        let valid_nps = responses.iter().filter(|r| r.2 == 0 && r.1 <= 10).count();
        prop_assume!(valid_nps > 0 || responses.iter().any(|r| (r.2 == 1 && (1..=5).contains(&r.1)) || (r.2 == 2 && (1..=7).contains(&r.1))));
        let flat = run(&path, &[]);
        if valid_nps > 0 {
            let (nps, low, high) = (floats(&flat, "nps"), floats(&flat, "nps_ci_low"), floats(&flat, "nps_ci_high"));
            for k in 0..flat.height() {
                if let Some(v) = nps[k] {
                    let (l, h) = (low[k].unwrap(), high[k].unwrap());
                    prop_assert!((-100.0..=100.0).contains(&v), "nps {}", v);
                    prop_assert!(-100.0 <= l && l <= v && v <= h && h <= 100.0, "{} <= {} <= {}", l, v, h);
                } else {
                    prop_assert!(low[k].is_none() && high[k].is_none());
                }
            }
            let total: f64 = floats(&flat, "nps_responses").iter().map(|v| v.unwrap()).sum();
            prop_assert_eq!(total as usize, valid_nps);
            let parts: f64 = ["promoters", "passives", "detractors"]
                .iter()
                .map(|c| floats(&flat, c).iter().map(|v| v.unwrap()).sum::<f64>())
                .sum();
            prop_assert_eq!(parts as usize, valid_nps);
            // Groups add up to the whole.
            let grouped = run(&path, &["channel"]);
            let g: f64 = floats(&grouped, "nps_responses").iter().map(|v| v.unwrap()).sum();
            prop_assert_eq!(g as usize, valid_nps);
        }
    }
}

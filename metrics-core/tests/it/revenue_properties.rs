//! Properties of the revenue table over random subscription histories: the
//! MRR identity, agreement with a brute-force reading of the definitions
//! (MRR just before each boundary, account by account), `--by` groups
//! adding up to the whole, and independence from row order.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::report::{self, Command, Inputs, ReportOptions};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Line {
    account: u8,
    /// Half-days after 2026-01-01T00:00Z.
    start: i64,
    end: Option<i64>,
    mrr: f64,
}

fn line() -> impl Strategy<Value = Line> {
    (0u8..6, 0i64..700, proptest::option::weighted(0.6, 1i64..300), prop::sample::select(vec![0.0, 10.0, 25.5, 100.0]))
        .prop_map(|(account, start, len, mrr)| Line { account, start, end: len.map(|l| start + l), mrr })
}

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn instant(half_days: i64) -> i64 {
    T0 + half_days * 43_200
}

fn csv(lines: &[Line], order: &[usize]) -> String {
    let ts = |h: i64| chrono::DateTime::from_timestamp(instant(h), 0).unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut out = String::from("subscription_id,account_id,start_at,end_at,mrr\n");
    for &i in order {
        let l = &lines[i];
        let _ = writeln!(out, "s{i},acc{},{},{},{}", l.account, ts(l.start), l.end.map(ts).unwrap_or_default(), l.mrr);
    }
    out
}

fn accounts_csv() -> String {
    // acc5 has no row: its segment is null, its own group.
    "account_id,segment\nacc0,a\nacc1,b\nacc2,a\nacc3,b\nacc4,c\n".to_owned()
}

fn revenue(dir: &Path, by: &[&str]) -> DataFrame {
    let mut inputs = Inputs::default();
    inputs.subscriptions = Some(TableInput::new(dir.join("s.csv").to_string_lossy()));
    inputs.accounts = Some(TableInput::new(dir.join("a.csv").to_string_lossy()));
    let mut o = ReportOptions::default();
    o.by = by.iter().map(|s| (*s).to_owned()).collect();
    let r = report::run(&inputs, &o, Command::Revenue).expect("report");
    r.section("revenue").unwrap().clone()
}

fn floats(df: &DataFrame, name: &str) -> Vec<f64> {
    let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
    c.f64().unwrap().iter().map(|v| v.unwrap_or(f64::NAN)).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Month starts (as UTC instants) from the month of the first start to the
/// month of the latest start or end, plus the end of the last month.
fn boundaries(lines: &[Line]) -> Vec<i64> {
    let month = |h: i64| {
        let d = chrono::DateTime::from_timestamp(instant(h), 0).unwrap().date_naive();
        NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap()
    };
    let first = month(lines.iter().map(|l| l.start).min().unwrap());
    let last = month(lines.iter().map(|l| l.end.unwrap_or(l.start).max(l.start)).max().unwrap());
    let mut out = Vec::new();
    let mut m = first;
    loop {
        out.push(m.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp());
        if m > last {
            break;
        }
        m = m.checked_add_months(chrono::Months::new(1)).unwrap();
    }
    out
}

/// The definitions read literally: per period, per account, MRR just before
/// s and e; paid before s; classify. Returns column -> per-period values.
fn brute_force(lines: &[Line]) -> BTreeMap<&'static str, Vec<f64>> {
    let b = boundaries(lines);
    let before = |acc: u8, t: i64| -> f64 {
        lines
            .iter()
            .filter(|l| l.account == acc && instant(l.start) < t && l.end.is_none_or(|e| t <= instant(e)))
            .map(|l| l.mrr)
            .sum()
    };
    let paid_before = |acc: u8, s: i64| lines.iter().any(|l| l.account == acc && l.mrr > 0.0 && instant(l.start) < s);
    let names = [
        "mrr_start",
        "mrr_end",
        "new_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "reactivation_mrr",
        "customers_start",
        "customers_end",
        "new_customers",
        "reactivated_customers",
        "churned_customers",
    ];
    let mut out: BTreeMap<&'static str, Vec<f64>> = names.iter().map(|n| (*n, Vec::new())).collect();
    for w in b.windows(2) {
        let (s, e) = (w[0], w[1]);
        let mut v = [0.0f64; 12];
        for acc in 0..6u8 {
            let (x, y) = (before(acc, s), before(acc, e));
            v[0] += x;
            v[1] += y;
            v[7] += f64::from(u8::from(x > 0.0));
            v[8] += f64::from(u8::from(y > 0.0));
            match (x > 0.0, y > 0.0) {
                (false, true) if paid_before(acc, s) => {
                    v[6] += y;
                    v[10] += 1.0;
                }
                (false, true) => {
                    v[2] += y;
                    v[9] += 1.0;
                }
                (true, false) => {
                    v[5] += x;
                    v[11] += 1.0;
                }
                (true, true) if y > x => v[3] += y - x,
                (true, true) => v[4] += x - y,
                (false, false) => {}
            }
        }
        for (n, x) in names.iter().zip(v) {
            out.get_mut(n).unwrap().push(x);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn identity_definition_groups_and_order(lines in proptest::collection::vec(line(), 1..30), seed in any::<u64>()) {
        let dir = tempfile::tempdir().unwrap();
        let order: Vec<usize> = (0..lines.len()).collect();
        std::fs::write(dir.path().join("s.csv"), csv(&lines, &order)).unwrap();
        std::fs::write(dir.path().join("a.csv"), accounts_csv()).unwrap();
        let flat = revenue(dir.path(), &[]);

        // The identity, period by period, and continuity between periods.
        let col = |n: &str| floats(&flat, n);
        let (start, end) = (col("mrr_start"), col("mrr_end"));
        let (new, exp, con, churn, react, net) =
            (col("new_mrr"), col("expansion_mrr"), col("contraction_mrr"), col("churned_mrr"), col("reactivation_mrr"), col("net_new_mrr"));
        for k in 0..flat.height() {
            let lhs = start[k] + new[k] + react[k] + exp[k] - con[k] - churn[k];
            prop_assert!(close(lhs, end[k]), "identity in period {}: {} vs {}", k, lhs, end[k]);
            prop_assert!(close(net[k], end[k] - start[k]));
            if k + 1 < flat.height() {
                prop_assert!(close(end[k], start[k + 1]));
            }
        }

        // The definitions, read literally.
        let expected = brute_force(&lines);
        prop_assert_eq!(flat.height(), expected["mrr_start"].len());
        for (name, values) in &expected {
            let got = col(name);
            for (k, (g, e)) in got.iter().zip(values).enumerate() {
                prop_assert!(close(*g, *e), "{} in period {}: got {}, expected {}", name, k, g, e);
            }
        }

        // Groups add up to the whole.
        let grouped = revenue(dir.path(), &["segment"]);
        let fd = flat.column("period_start").unwrap().cast(&DataType::Int32).unwrap();
        let fd: Vec<i32> = fd.i32().unwrap().into_no_null_iter().collect();
        let gd = grouped.column("period_start").unwrap().cast(&DataType::Int32).unwrap();
        let gd: Vec<i32> = gd.i32().unwrap().into_no_null_iter().collect();
        for name in expected.keys() {
            let (f, g) = (col(name), floats(&grouped, name));
            for (k, d) in fd.iter().enumerate() {
                let sum: f64 = gd.iter().zip(&g).filter(|(x, _)| *x == d).map(|(_, v)| v).sum();
                prop_assert!(close(sum, f[k]), "{} in period {}: groups {} vs {}", name, k, sum, f[k]);
            }
        }

        // Row order does not matter.
        let mut shuffled = order.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        std::fs::write(dir.path().join("s.csv"), csv(&lines, &shuffled)).unwrap();
        let again = revenue(dir.path(), &[]);
        prop_assert_eq!(again.get_column_names(), flat.get_column_names());
        for name in flat.get_column_names().iter().skip(1) {
            let (a, b) = (floats(&again, name), col(name));
            for (x, y) in a.iter().zip(&b) {
                prop_assert!(close(*x, *y), "{} changed with row order: {} vs {}", name, x, y);
            }
        }
    }
}

//! Helpers shared by the fixture tests: compare a computed table column by
//! column with values worked out by hand in fixtures/README.md.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use metrics_core::polars::prelude::*;
use metrics_core::quality::Reason;
use metrics_core::report::Report;

pub(crate) fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(rel)
}

/// A column as optional f64 (counts included).
pub(crate) fn column(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let c = df.column(name).unwrap_or_else(|_| panic!("column {name}")).cast(&DataType::Float64).unwrap();
    c.f64().unwrap().iter().collect()
}

pub(crate) fn dates(df: &DataFrame) -> Vec<String> {
    let c = df.column("period_start").unwrap().cast(&DataType::String).unwrap();
    c.str().unwrap().iter().map(|s| s.unwrap().to_owned()).collect()
}

/// Compares within a relative 1e-12 (values are worked out as exact
/// fractions; floats differ only in the last bits).
pub(crate) fn check(df: &DataFrame, name: &str, expected: &[Option<f64>]) {
    let got = column(df, name);
    assert_eq!(got.len(), expected.len(), "{name}: rows");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        match (g, e) {
            (None, None) => {}
            (Some(g), Some(e)) => {
                assert!((g - e).abs() <= 1e-12 * e.abs().max(1.0), "{name}[{i}]: got {g}, expected {e}")
            }
            _ => panic!("{name}[{i}]: got {g:?}, expected {e:?}"),
        }
    }
}

pub(crate) const N: Option<f64> = None;
pub(crate) fn v(x: f64) -> Option<f64> {
    Some(x)
}

/// One expected data-quality finding: its count is the number of rows given.
pub(crate) fn row(reason: Reason, column: &str, rows: &[&str]) -> (Reason, String, u64, Vec<String>) {
    (reason, column.to_owned(), rows.len() as u64, rows.iter().map(|s| (*s).to_owned()).collect())
}

pub(crate) fn quality(r: &Report) -> Vec<(Reason, String, u64, Vec<String>)> {
    quality_in(r, "tickets")
}

pub(crate) fn quality_in(r: &Report, table: &str) -> Vec<(Reason, String, u64, Vec<String>)> {
    r.data_quality[table].iter().map(|q| (q.reason, q.column.clone(), q.count, q.first_rows.clone())).collect()
}

/// The first ```csv block after `heading` in fixtures/README.md.
pub(crate) fn expected(heading: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(fixture("README.md")).unwrap();
    let at = text.find(heading).unwrap_or_else(|| panic!("{heading} in fixtures/README.md"));
    let block = &text[at..];
    let block = &block[block.find("```csv\n").unwrap() + 7..];
    let block = &block[..block.find("```").unwrap()];
    let mut lines = block.lines().map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>());
    let header = lines.next().unwrap();
    (header, lines.collect())
}

/// Every cell of `df` against the expected table: same columns in the same
/// order, text equal, numbers within a relative 1e-9 (docs/metrics.md, "Common rules (revenue)").
pub(crate) fn compare(df: &DataFrame, heading: &str) {
    let (header, rows) = expected(heading);
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(names, header, "{heading}: columns");
    assert_eq!(df.height(), rows.len(), "{heading}: rows");
    for (j, name) in header.iter().enumerate() {
        let c = df.column(name).unwrap().cast(&DataType::String).unwrap();
        for (i, got) in c.str().unwrap().iter().enumerate() {
            let want = rows[i][j].as_str();
            match (got, want.parse::<f64>()) {
                (None, _) => assert_eq!(want, "", "{heading} row {i} {name}: got null"),
                (Some(g), Ok(w)) if g.parse::<f64>().is_ok() => {
                    let g: f64 = g.parse().unwrap();
                    assert!(
                        (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                        "{heading} row {i} {name}: got {g}, expected {w}"
                    );
                }
                (Some(g), _) => assert_eq!(g, want, "{heading} row {i} {name}"),
            }
        }
    }
}

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

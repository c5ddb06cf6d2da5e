//! The customer health score (metrics.md; docs/health.md, "As-of and windows"-36).
//!
//! Each configured component gives a raw value per account as of a date
//! ([`sources`]), normalised to 0-100 points (`range` with clamp,
//! `thresholds`, `percentile`; `invert` for lower-is-better). The score is
//! the weighted mean of the points of the components that have data for
//! the account, weights re-normalised over them (Gainsight-style); an
//! account with no component data has a null score and band. Bands: red
//! below `yellow`, yellow below `green`, green from `green` (50 and 75 by
//! default).

pub mod config;
pub mod sources;

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

pub use config::{Agg, Bands, Component, HealthConfig, HealthSection, Normalize, Source};
pub use sources::{HealthData, Usage};

use crate::Result;
use crate::error::PolarsContext;
use crate::parse::timestamp::Micros;
use crate::period::{PERIOD_START, Spine, date_to_days};

/// One account's score as of a date.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountHealth {
    /// The account.
    pub account_id: String,
    /// Weighted mean of the points (null without component data).
    pub score: Option<f64>,
    /// `red`, `yellow`, `green` (null with the score).
    pub band: Option<&'static str>,
    /// Per component (config order): raw value.
    pub values: Vec<Option<f64>>,
    /// Per component: points, 0-100.
    pub points: Vec<Option<f64>>,
}

impl AccountHealth {
    /// The component with the fewest points (ties: the first in config
    /// order); `None` without points.
    pub fn weakest(&self, config: &HealthConfig) -> Option<String> {
        let mut best: Option<(usize, f64)> = None;
        for (i, p) in self.points.iter().enumerate() {
            if let Some(p) = p
                && best.is_none_or(|(_, b)| *p < b)
            {
                best = Some((i, *p));
            }
        }
        best.map(|(i, _)| config.components[i].name.clone())
    }
}

/// Points of `v` under a range or thresholds rule (percentile needs every
/// account: see [`percentile_points`]), inverted when asked.
///
/// ```
/// use metrics_core::health::{Normalize, points};
/// let range = Normalize::Range { min: 0.0, max: 20.0 };
/// assert_eq!(points(&range, 5.0, false), Some(25.0));
/// assert_eq!(points(&range, 50.0, false), Some(100.0)); // clamped
/// assert_eq!(points(&range, 5.0, true), Some(75.0));
/// let steps = Normalize::Thresholds(vec![(1.0, 30.0), (10.0, 100.0)]);
/// assert_eq!((points(&steps, 0.5, false), points(&steps, 3.0, false)), (Some(0.0), Some(30.0)));
/// ```
pub fn points(n: &Normalize, v: f64, invert: bool) -> Option<f64> {
    let p = match n {
        Normalize::Range { min, max } => (100.0 * (v - min) / (max - min)).clamp(0.0, 100.0),
        Normalize::Thresholds(t) => t.iter().rev().find(|(at, _)| v >= *at).map_or(0.0, |(_, p)| *p),
        Normalize::Percentile => return None,
    };
    Some(if invert { 100.0 - p } else { p })
}

/// Percentile points of every value: `100 x (average rank - 1) / (n - 1)`,
/// ties sharing their average rank, 50 when n = 1 (docs/health.md, "As-of and windows").
pub fn percentile_points(values: &BTreeMap<String, f64>, invert: bool) -> BTreeMap<String, f64> {
    let mut sorted: Vec<(&String, f64)> = values.iter().map(|(k, v)| (k, *v)).collect();
    sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
    let n = sorted.len();
    let mut out = BTreeMap::new();
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && sorted[j + 1].1 == sorted[i].1 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let p = if n == 1 { 50.0 } else { 100.0 * (rank - 1.0) / (n - 1) as f64 };
        for s in &sorted[i..=j] {
            out.insert(s.0.clone(), if invert { 100.0 - p } else { p });
        }
        i = j + 1;
    }
    out
}

/// Scores every account of `accounts` as of the instant `as_of` (exclusive
/// bound; windows are the report-zone dates ending with the date before
/// it), sorted by `account_id`.
pub fn score_all(
    config: &HealthConfig,
    data: &HealthData,
    accounts: &BTreeSet<String>,
    as_of: Micros,
) -> Vec<AccountHealth> {
    // Only the scored accounts take part (percentile ranks among them).
    let raws: Vec<BTreeMap<String, f64>> = config
        .components
        .iter()
        .map(|c| data.raw(c, as_of).into_iter().filter(|(k, _)| accounts.contains(k)).collect())
        .collect();
    let pts: Vec<BTreeMap<String, f64>> = config
        .components
        .iter()
        .zip(&raws)
        .map(|(c, raw)| match c.normalize {
            Normalize::Percentile => percentile_points(raw, c.invert),
            ref n => raw.iter().filter_map(|(k, v)| Some((k.clone(), points(n, *v, c.invert)?))).collect(),
        })
        .collect();
    accounts
        .iter()
        .map(|a| {
            let values: Vec<Option<f64>> = raws.iter().map(|r| r.get(a).copied()).collect();
            let points: Vec<Option<f64>> = pts.iter().map(|p| p.get(a).copied()).collect();
            let (mut num, mut den) = (0.0, 0.0);
            for (c, p) in config.components.iter().zip(&points) {
                if let Some(p) = p {
                    num += c.weight * p;
                    den += c.weight;
                }
            }
            let score = (den > 0.0).then(|| (num / den).clamp(0.0, 100.0));
            AccountHealth { account_id: a.clone(), score, band: score.map(|s| config.bands.band(s)), values, points }
        })
        .collect()
}

/// The `health` table: `account_id`, `health_score`, `health_band`, then
/// `<component>_value` and `<component>_points` per component. With
/// `at_risk`, only red accounts, by score then `account_id`, with
/// `weakest_component` after `health_band`.
pub fn health_table(config: &HealthConfig, scores: &[AccountHealth], at_risk: bool) -> Result<DataFrame> {
    let mut rows: Vec<&AccountHealth> = scores.iter().collect();
    if at_risk {
        rows.retain(|r| r.band == Some("red"));
        rows.sort_by(|a, b| {
            a.score.unwrap_or(0.0).total_cmp(&b.score.unwrap_or(0.0)).then_with(|| a.account_id.cmp(&b.account_id))
        });
    }
    let mut cols = vec![
        StringChunked::from_iter_values("account_id".into(), rows.iter().map(|r| r.account_id.as_str())).into_column(),
        Float64Chunked::from_iter_options("health_score".into(), rows.iter().map(|r| r.score)).into_column(),
        StringChunked::from_iter_options("health_band".into(), rows.iter().map(|r| r.band)).into_column(),
    ];
    if at_risk {
        let weakest: Vec<Option<String>> = rows.iter().map(|r| r.weakest(config)).collect();
        cols.push(StringChunked::from_iter_options("weakest_component".into(), weakest.into_iter()).into_column());
    }
    for (i, c) in config.components.iter().enumerate() {
        let v = rows.iter().map(|r| r.values[i]);
        cols.push(Float64Chunked::from_iter_options(format!("{}_value", c.name).into(), v).into_column());
        let p = rows.iter().map(|r| r.points[i]);
        cols.push(Float64Chunked::from_iter_options(format!("{}_points", c.name).into(), p).into_column());
    }
    DataFrame::new_infer_height(cols).ctx("health table")
}

/// The `health_summary` table: per period of `spine`, the scores as of the
/// period's end (capped at `as_of`): `health_green`, `health_yellow`,
/// `health_red` (accounts per band) and `health_mean` (mean score over
/// scored accounts). Time grows with accounts x periods.
pub fn summary_table(
    config: &HealthConfig,
    data: &HealthData,
    accounts: &BTreeSet<String>,
    spine: &Spine,
    as_of: Micros,
) -> Result<DataFrame> {
    let ends = spine.end_instants();
    let (mut g, mut y, mut r, mut mean) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for e in &ends {
        let scores = score_all(config, data, accounts, (*e).min(as_of));
        let count = |b: &str| scores.iter().filter(|s| s.band == Some(b)).count() as u32;
        g.push(count("green"));
        y.push(count("yellow"));
        r.push(count("red"));
        let scored: Vec<f64> = scores.iter().filter_map(|s| s.score).collect();
        mean.push((!scored.is_empty()).then(|| scored.iter().sum::<f64>() / scored.len() as f64));
    }
    let days: Vec<i32> = spine.starts.iter().map(|d| date_to_days(*d)).collect();
    DataFrame::new_infer_height(vec![
        Int32Chunked::from_vec(PERIOD_START.into(), days).into_date().into_column(),
        UInt32Chunked::from_vec("health_green".into(), g).into_column(),
        UInt32Chunked::from_vec("health_yellow".into(), y).into_column(),
        UInt32Chunked::from_vec("health_red".into(), r).into_column(),
        Float64Chunked::from_iter_options("health_mean".into(), mean.into_iter()).into_column(),
    ])
    .ctx("health summary")
}

/// The `health` table as of the instant `as_of` (inclusive): one row per
/// account in `accounts` (`None` = every account the data mentions), its
/// score (0-100, the weighted mean of the component points with data),
/// band and each component's value and points (`docs/health.md`).
/// `at_risk` keeps the red accounts, lowest score first, with their
/// weakest component.
///
/// ```
/// use metrics_core::health::{self, HealthConfig, HealthData, HealthSection};
/// let section: HealthSection = toml::from_str(r#"
///     [[components]]
///     name = "logins"
///     source = "usage"
///     metric = "logins"
///     window_days = 30
///     normalize = "range"
///     min = 0
///     max = 10
///     weight = 1
/// "#)?;
/// let config = HealthConfig::from_section(&section)?;
/// let day = |d: u32| metrics_core::period::date_to_days(chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap());
/// let mut data = HealthData::default();
/// data.usage = vec![("A".into(), day(1), "logins".into(), 8.0), ("B".into(), day(2), "logins".into(), 3.0)];
/// let as_of = metrics_core::period::day_start(chrono::NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(), chrono_tz::UTC);
/// let t = health::scores(&config, &data, as_of, None, false)?;
/// assert_eq!(t.column("health_score")?.f64()?.to_vec(), [Some(80.0), Some(30.0)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn scores(
    config: &HealthConfig,
    data: &HealthData,
    as_of: Micros,
    accounts: Option<&BTreeSet<String>>,
    at_risk: bool,
) -> Result<DataFrame> {
    let universe = accounts.cloned().unwrap_or_else(|| data.accounts());
    let scored = score_all(config, data, &universe, as_of.saturating_add(1));
    health_table(config, &scored, at_risk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_ties_share_their_average_rank() {
        let v: BTreeMap<String, f64> =
            [("a", 1.0), ("b", 5.0), ("c", 5.0), ("d", 9.0)].iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        let p = percentile_points(&v, false);
        assert_eq!(p["a"], 0.0);
        assert_eq!(p["b"], 50.0); // ranks 2 and 3 average 2.5: 100 x 1.5 / 3
        assert_eq!(p["d"], 100.0);
        let one: BTreeMap<String, f64> = [("a".to_owned(), 3.0)].into_iter().collect();
        assert_eq!(percentile_points(&one, false)["a"], 50.0);
    }
}

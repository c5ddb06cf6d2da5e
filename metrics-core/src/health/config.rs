//! The health score's configuration (`[health]` in `cxm.toml`), as written
//! and as checked.

use serde::Deserialize;

use crate::{Error, Result};

/// `[health]` as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HealthSection {
    /// Band thresholds: red below `yellow`, yellow below `green`, green from
    /// `green` (defaults 50 and 75).
    pub bands: Option<BandsEntry>,
    /// The components, in output order.
    #[serde(default)]
    pub components: Vec<ComponentEntry>,
}

/// `bands = { yellow = 50, green = 75 }`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BandsEntry {
    /// Lowest yellow score.
    pub yellow: f64,
    /// Lowest green score.
    pub green: f64,
}

/// One `[[health.components]]` entry as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ComponentEntry {
    /// Name: output columns `<name>_value`, `<name>_points`.
    pub name: String,
    /// `usage`, `nps`, `csat`, `tickets`, `last_activity` or `mrr_trend`.
    pub source: String,
    /// For `usage` (and optionally `last_activity`): the usage metric.
    pub metric: Option<String>,
    /// For `usage`: `sum`, `mean`, `last` or `trend`.
    pub agg: Option<String>,
    /// Trailing window in days ending on as_of (default 30).
    pub window_days: Option<u32>,
    /// `range`, `thresholds` or `percentile`.
    pub normalize: String,
    /// For `range`: value at 0 points.
    pub min: Option<f64>,
    /// For `range`: value at 100 points.
    pub max: Option<f64>,
    /// For `thresholds`: `[[value, points], ...]`; a value scores the points
    /// of the highest threshold at or below it (0 below the first).
    pub thresholds: Option<Vec<[f64; 2]>>,
    /// Lower raw values are better: points = 100 - points.
    #[serde(default)]
    pub invert: bool,
    /// Weight (> 0; only ratios matter).
    pub weight: f64,
}

/// The longest window a component may look back over: 100 years.
pub const MAX_WINDOW_DAYS: u32 = 36_600;

/// Where a component's raw value comes from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Source {
    /// A usage metric aggregated over the window.
    Usage {
        /// The `metric` value in the usage table.
        metric: String,
        /// How the window's values combine.
        agg: Agg,
    },
    /// The account's latest NPS score (0-10) up to as_of.
    Nps,
    /// CSAT % of the account's ticket ratings in the window.
    Csat,
    /// Tickets the account created in the window.
    Tickets,
    /// Days from the latest usage date with value > 0 (of `metric`, or any)
    /// to as_of.
    LastActivity {
        /// Restrict to one usage metric.
        metric: Option<String>,
    },
    /// MRR at as_of minus MRR `window_days` earlier.
    MrrTrend,
}

/// How a usage window combines its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Agg {
    /// Sum over the window.
    Sum,
    /// Mean over the window's rows.
    Mean,
    /// The value of the latest date in the window (summed over its rows).
    Last,
    /// Window sum minus the previous window's sum.
    Trend,
}

/// How raw values become 0-100 points.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Normalize {
    /// `100 x (v - min) / (max - min)`, clamped to [0, 100].
    Range {
        /// Value at 0 points.
        min: f64,
        /// Value at 100 points.
        max: f64,
    },
    /// Step function: the points of the highest threshold at or below v.
    Thresholds(Vec<(f64, f64)>),
    /// `100 x (average rank - 1) / (n - 1)` among accounts with a value
    /// (50 when n = 1).
    Percentile,
}

/// A checked component.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Name.
    pub name: String,
    /// Raw value source.
    pub source: Source,
    /// Trailing window in days.
    pub window_days: u32,
    /// Normalisation.
    pub normalize: Normalize,
    /// Lower is better.
    pub invert: bool,
    /// Weight (> 0).
    pub weight: f64,
}

/// Band thresholds (docs/health.md, "Output"; Gainsight-style defaults 50 and 75).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    /// Lowest yellow score.
    pub yellow: f64,
    /// Lowest green score.
    pub green: f64,
}

impl Default for Bands {
    fn default() -> Self {
        Self { yellow: 50.0, green: 75.0 }
    }
}

impl Bands {
    /// `red`, `yellow` or `green`.
    ///
    /// ```
    /// use metrics_core::health::Bands;
    /// let b = Bands::default();
    /// assert_eq!((b.band(49.99), b.band(50.0), b.band(74.9), b.band(75.0)), ("red", "yellow", "yellow", "green"));
    /// ```
    pub fn band(&self, score: f64) -> &'static str {
        if score >= self.green {
            "green"
        } else if score >= self.yellow {
            "yellow"
        } else {
            "red"
        }
    }
}

/// The checked health configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthConfig {
    /// Components, in output order.
    pub components: Vec<Component>,
    /// Bands.
    pub bands: Bands,
}

impl HealthConfig {
    /// Checks `[health]`: every error names the entry (docs/health.md, "Output": an
    /// unknown source, a weight <= 0, overlapping bands).
    pub fn from_section(s: &HealthSection) -> Result<Self> {
        let bands = match s.bands {
            None => Bands::default(),
            Some(b) => {
                if !(0.0..=100.0).contains(&b.yellow) || !(0.0..=100.0).contains(&b.green) || b.yellow > b.green {
                    return Err(Error::from(crate::error::ErrorKind::Config(format!(
                        "[health] bands: yellow = {} and green = {} overlap or leave 0-100 (need 0 <= yellow <= green <= 100)",
                        b.yellow, b.green
                    ))));
                }
                Bands { yellow: b.yellow, green: b.green }
            }
        };
        let mut components = Vec::new();
        for (i, e) in s.components.iter().enumerate() {
            let here = format!("[[health.components]] #{} (`{}`)", i + 1, e.name);
            let err = |m: String| Error::from(crate::error::ErrorKind::Config(format!("{here}: {m}")));
            if e.name.trim().is_empty() || !e.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(err("name must be letters, digits or _".into()));
            }
            if components.iter().any(|c: &Component| c.name == e.name) {
                return Err(err("a second component with this name".into()));
            }
            if !(e.weight > 0.0 && e.weight.is_finite()) {
                return Err(err(format!("weight must be > 0, found {}", e.weight)));
            }
            let source = source(e).map_err(err)?;
            let normalize = normalize(e).map_err(err)?;
            components.push(Component {
                name: e.name.clone(),
                source,
                window_days: match e.window_days {
                    None => 30,
                    Some(n) if !(1..=MAX_WINDOW_DAYS).contains(&n) => {
                        return Err(err(format!("window_days must be 1 to {MAX_WINDOW_DAYS} (100 years), found {n}")));
                    }
                    Some(n) => n,
                },
                normalize,
                invert: e.invert,
                weight: e.weight,
            });
        }
        if components.is_empty() {
            return Err(Error::from(crate::error::ErrorKind::Config(
                "[health] has no components: add [[health.components]] entries".into(),
            )));
        }
        Ok(Self { components, bands })
    }
}

/// A component's source from its entry (the message says what is wrong).
fn source(e: &ComponentEntry) -> std::result::Result<Source, String> {
    Ok(match e.source.as_str() {
        "usage" => {
            let metric = e.metric.clone().ok_or("source usage needs `metric`")?;
            let agg = match e.agg.as_deref().unwrap_or("sum") {
                "sum" => Agg::Sum,
                "mean" => Agg::Mean,
                "last" => Agg::Last,
                "trend" => Agg::Trend,
                other => return Err(format!("unknown agg `{other}` (expected sum, mean, last or trend)")),
            };
            Source::Usage { metric, agg }
        }
        "nps" => Source::Nps,
        "csat" => Source::Csat,
        "tickets" => Source::Tickets,
        "last_activity" => Source::LastActivity { metric: e.metric.clone() },
        "mrr_trend" => Source::MrrTrend,
        other => {
            return Err(format!(
                "unknown source `{other}` (expected usage, nps, csat, tickets, last_activity or mrr_trend)"
            ));
        }
    })
}

/// A component's normalisation from its entry: a finite rising range,
/// thresholds rising in value with points in 0-100, or percentiles.
fn normalize(e: &ComponentEntry) -> std::result::Result<Normalize, String> {
    match e.normalize.as_str() {
        "range" => {
            let (Some(min), Some(max)) = (e.min, e.max) else {
                return Err("normalize range needs `min` and `max`".into());
            };
            if !(min.is_finite() && max.is_finite()) || min >= max {
                return Err(format!("range min {min} must be below max {max}, both finite numbers"));
            }
            Ok(Normalize::Range { min, max })
        }
        "thresholds" => {
            let t = e.thresholds.clone().filter(|t| !t.is_empty());
            let t = t.ok_or("normalize thresholds needs `thresholds = [[value, points], ...]`")?;
            if t.iter().any(|p| !p[0].is_finite())
                || t.windows(2).any(|w| w[0][0] >= w[1][0])
                || t.iter().any(|p| !(0.0..=100.0).contains(&p[1]))
            {
                return Err("thresholds must rise in value (finite numbers), with points in 0-100".into());
            }
            Ok(Normalize::Thresholds(t.iter().map(|p| (p[0], p[1])).collect()))
        }
        "percentile" => Ok(Normalize::Percentile),
        other => Err(format!("unknown normalize `{other}` (expected range, thresholds or percentile)")),
    }
}

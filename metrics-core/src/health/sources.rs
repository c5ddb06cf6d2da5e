//! Raw values of health components, per account, as of an instant.
//!
//! Windows are the `window_days` report-zone dates ending with the date of
//! as_of (docs/health.md, "As-of and windows": the N dates ending on it); instants are compared with
//! as_of as an exclusive bound.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use polars::prelude::*;

use super::config::{Agg, Component, Source};
use crate::error::PolarsContext;
use crate::mapping::TableInput;
use crate::parse::timestamp::Micros;
use crate::period::{date_to_days, day_start, days_to_date, local_date};
use crate::quality::{QualityRow, Reason};
use crate::raw::{RawTable, expected};
use crate::schema::usage::{ACCOUNT_ID, DATE, METRIC, SUBSCRIPTION_ID, VALUE};
use crate::schema::{Kind, USAGE};
use crate::source::Source as Files;
use crate::{Error, Result};

/// One usage row: account, report-zone date (days since 1970-01-01),
/// metric, value.
pub type UsageRow = (String, i32, String, f64);

/// The staged `usage` table.
#[derive(Debug, Clone)]
pub struct Usage {
    /// Usable rows.
    pub rows: Vec<UsageRow>,
    /// The files read.
    pub source: Files,
    /// Rows read.
    pub rows_read: usize,
    /// Findings.
    pub quality: Vec<QualityRow>,
}

impl Usage {
    /// Reads and checks a usage table; dates become report-zone dates.
    ///
    /// Rows are keyed by `account_id`, or by `subscription_id` mapped to
    /// its account through `accounts_of` (subscription id -> account id,
    /// from the subscriptions table); a subscription it does not know is
    /// counted as `unknown_subscription` and the row left out.
    pub fn from_path(
        input: &TableInput,
        input_tz: Tz,
        tz: Tz,
        accounts_of: Option<&std::collections::HashMap<String, String>>,
    ) -> Result<Self> {
        Self::stage(None, input, input_tz, tz, accounts_of)
    }

    /// [`Self::from_path`] on an in-memory frame (same mapping, conversions
    /// and data-quality accounting).
    pub fn from_frame(
        df: DataFrame,
        input: &TableInput,
        input_tz: Tz,
        tz: Tz,
        accounts_of: Option<&std::collections::HashMap<String, String>>,
    ) -> Result<Self> {
        Self::stage(Some(df), input, input_tz, tz, accounts_of)
    }

    fn stage(
        frame: Option<DataFrame>,
        input: &TableInput,
        input_tz: Tz,
        tz: Tz,
        accounts_of: Option<&std::collections::HashMap<String, String>>,
    ) -> Result<Self> {
        let raw = RawTable::open(frame, input, "usage", USAGE, &[], |_| true, input_tz)?;
        let by_subscription = !raw.has(ACCOUNT_ID);
        if by_subscription && !raw.has(SUBSCRIPTION_ID) {
            return Err(Error::from(crate::error::ErrorKind::MissingColumn {
                path: raw.source.files[0].clone(),
                table: "usage".into(),
                column: "account_id (or subscription_id)".into(),
                found: raw.source.columns(0)?,
                suggest: None,
            }));
        }
        let accounts_of = match (by_subscription, accounts_of) {
            (false, _) => None,
            (true, Some(m)) => Some(m),
            (true, None) => {
                return Err(Error::from(crate::error::ErrorKind::Config(format!(
                    "{}: usage is keyed by subscription_id: give the subscriptions table to map subscriptions to accounts",
                    input.path
                ))));
            }
        };
        let n = raw.df.height();
        let mut q = raw.collector();
        let dates = raw.timestamps(DATE, input_tz)?;
        if let Some(e) = raw.nothing_parses(DATE, &dates, expected(Kind::Timestamp)) {
            return Err(e);
        }
        raw.count_timestamps(&mut q, DATE, &dates);
        let values = raw.floats(VALUE)?;
        if let Some(e) = raw.nothing_parses(VALUE, &values, expected(Kind::Float)) {
            return Err(e);
        }
        raw.count_values(&mut q, Reason::UnparseableNumber, VALUE, &values.bad);
        let key = if by_subscription { SUBSCRIPTION_ID } else { ACCOUNT_ID };
        let (ids, metrics) = (raw.strings(key)?, raw.strings(METRIC)?);
        let mut unknown = Vec::new();
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let id = ids.get(i).map(str::trim).filter(|s| !s.is_empty());
            let metric = metrics.get(i).map(str::trim).filter(|s| !s.is_empty());
            let missing = [(id.is_none(), key), (metric.is_none(), METRIC)]
                .into_iter()
                .chain([(dates.values.get(i).is_none() && !dates.bad.contains(&i), DATE)])
                .chain([(values.values.get(i).is_none() && !values.bad.contains(&i), VALUE)])
                .find(|(m, _)| *m);
            if let Some((_, column)) = missing {
                q.add(Reason::MissingRequired, column, i);
                continue;
            }
            let account = match (id, accounts_of) {
                (Some(sub), Some(m)) => match m.get(sub) {
                    Some(a) => Some(a.as_str()),
                    None => {
                        unknown.push(i);
                        continue;
                    }
                },
                (id, _) => id,
            };
            if let (Some(id), Some(metric), Some(d), Some(v)) =
                (account, metric, dates.values.get(i), values.values.get(i))
            {
                rows.push((id.to_owned(), date_to_days(local_date(d, tz)), metric.to_owned(), v));
            }
        }
        raw.count_values(&mut q, Reason::UnknownSubscription, SUBSCRIPTION_ID, &unknown);
        Ok(Self { rows, source: raw.source.clone(), rows_read: raw.rows_read, quality: q.finish() })
    }

    /// The latest usage date (as_of's default, docs/health.md, "As-of and windows").
    pub fn latest(&self) -> Option<i32> {
        self.rows.iter().map(|r| r.1).max()
    }
}

/// Everything health components can draw on, extracted once.
#[derive(Debug, Clone, Default)]
pub struct HealthData {
    /// Report time zone.
    pub tz: Tz,
    /// Usage rows.
    pub usage: Vec<UsageRow>,
    /// NPS responses: account, responded_at, score 0-10.
    pub nps: Vec<(String, Micros, f64)>,
    /// Tickets: account, created_at, rating instant (`csat_at`, else
    /// `solved_at`), satisfied (null = no rating).
    pub tickets: Vec<(String, Micros, Option<Micros>, Option<bool>)>,
    /// Subscription lines: account, start, end, MRR.
    pub lines: Vec<(String, Micros, Option<Micros>, f64)>,
}

impl HealthData {
    /// Accounts any source mentions.
    pub fn accounts(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        out.extend(self.usage.iter().map(|r| r.0.clone()));
        out.extend(self.nps.iter().map(|r| r.0.clone()));
        out.extend(self.tickets.iter().map(|r| r.0.clone()));
        out.extend(self.lines.iter().map(|r| r.0.clone()));
        out
    }

    /// Raw values of `c` per account as of the instant `as_of` (exclusive).
    pub fn raw(&self, c: &Component, as_of: Micros) -> BTreeMap<String, f64> {
        let last_day = local_date(as_of - 1, self.tz);
        let d_end = date_to_days(last_day);
        let n = i32::try_from(c.window_days).unwrap_or(i32::MAX);
        let d_start = d_end - n + 1;
        let window_start = day_start(days_to_date(d_start), self.tz);
        match &c.source {
            Source::Usage { metric, agg } => self.usage_values(metric, *agg, d_start, d_end),
            Source::Nps => self.latest_nps(as_of),
            Source::Csat => self.csat_percent(window_start, as_of),
            Source::Tickets => self.ticket_counts(window_start, as_of),
            Source::LastActivity { metric } => self.days_since_activity(metric.as_deref(), d_end),
            Source::MrrTrend => self.mrr_change(as_of, i64::from(c.window_days)),
        }
    }

    /// A usage metric over the window of days `d_start..=d_end`: its sum,
    /// mean, last day's value, or the sum minus the previous window's sum.
    fn usage_values(&self, metric: &str, agg: Agg, d_start: i32, d_end: i32) -> BTreeMap<String, f64> {
        let n = d_end - d_start + 1;
        let rows = self.usage.iter().filter(|r| r.2 == metric);
        let in_window = |r: &&(String, i32, String, f64)| (d_start..=d_end).contains(&r.1);
        match agg {
            Agg::Sum | Agg::Trend => {
                let mut out: BTreeMap<String, f64> = BTreeMap::new();
                let mut prev: BTreeMap<String, f64> = BTreeMap::new();
                for r in rows {
                    // An account with this metric before the window
                    // and none in it has a sum of 0, not no data.
                    if r.1 <= d_end {
                        out.entry(r.0.clone()).or_insert(0.0);
                    }
                    if (d_start..=d_end).contains(&r.1) {
                        *out.entry(r.0.clone()).or_default() += r.3;
                    } else if agg == Agg::Trend && (d_start - n..d_start).contains(&r.1) {
                        *prev.entry(r.0.clone()).or_default() += r.3;
                    }
                }
                if agg == Agg::Trend {
                    for (k, p) in prev {
                        *out.entry(k).or_default() -= p;
                    }
                }
                out
            }
            Agg::Mean => {
                let mut acc: BTreeMap<String, (f64, u32)> = BTreeMap::new();
                for r in rows.filter(in_window) {
                    let e = acc.entry(r.0.clone()).or_default();
                    e.0 += r.3;
                    e.1 += 1;
                }
                acc.into_iter().map(|(k, (s, n))| (k, s / f64::from(n))).collect()
            }
            Agg::Last => {
                let mut acc: BTreeMap<String, (i32, f64)> = BTreeMap::new();
                for r in rows.filter(in_window) {
                    let e = acc.entry(r.0.clone()).or_insert((r.1, 0.0));
                    if r.1 > e.0 {
                        *e = (r.1, 0.0);
                    }
                    if r.1 == e.0 {
                        e.1 += r.3;
                    }
                }
                acc.into_iter().map(|(k, (_, v))| (k, v)).collect()
            }
        }
    }

    /// Each account's latest NPS score before the as-of.
    fn latest_nps(&self, as_of: Micros) -> BTreeMap<String, f64> {
        let mut latest: BTreeMap<String, (Micros, f64)> = BTreeMap::new();
        for (a, at, score) in self.nps.iter().filter(|r| r.1 < as_of) {
            let e = latest.entry(a.clone()).or_insert((*at, *score));
            if *at >= e.0 {
                *e = (*at, *score);
            }
        }
        latest.into_iter().map(|(k, (_, s))| (k, s)).collect()
    }

    /// Each account's CSAT % of the ratings given in the window.
    fn csat_percent(&self, window_start: Micros, as_of: Micros) -> BTreeMap<String, f64> {
        let mut acc: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for (a, _, rated, sat) in &self.tickets {
            if let (Some(t), Some(s)) = (rated, sat)
                && (window_start..as_of).contains(t)
            {
                let e = acc.entry(a.clone()).or_default();
                e.0 += u32::from(*s);
                e.1 += 1;
            }
        }
        acc.into_iter().map(|(k, (s, n))| (k, 100.0 * f64::from(s) / f64::from(n))).collect()
    }

    /// Tickets created in the window, per account with any ticket before
    /// the as-of (0 for an account whose tickets are all older).
    fn ticket_counts(&self, window_start: Micros, as_of: Micros) -> BTreeMap<String, f64> {
        let mut out: BTreeMap<String, f64> = BTreeMap::new();
        for (a, created, _, _) in self.tickets.iter().filter(|r| r.1 < as_of) {
            let e = out.entry(a.clone()).or_default();
            if *created >= window_start {
                *e += 1.0;
            }
        }
        out
    }

    /// Days from each account's last day with positive usage (of `metric`,
    /// or any) to the last day before the as-of.
    fn days_since_activity(&self, metric: Option<&str>, d_end: i32) -> BTreeMap<String, f64> {
        let mut latest: BTreeMap<String, i32> = BTreeMap::new();
        for r in &self.usage {
            if r.3 > 0.0 && r.1 <= d_end && metric.is_none_or(|m| m == r.2) {
                let e = latest.entry(r.0.clone()).or_insert(r.1);
                *e = (*e).max(r.1);
            }
        }
        latest.into_iter().map(|(k, d)| (k, f64::from(d_end - d))).collect()
    }

    /// MRR at the as-of minus MRR `window_days` before, per account.
    fn mrr_change(&self, as_of: Micros, window_days: i64) -> BTreeMap<String, f64> {
        let before = as_of - window_days * 86_400_000_000;
        let at = |t: Micros, s: Micros, e: Option<Micros>| s < t && e.is_none_or(|e| t <= e);
        let mut out: BTreeMap<String, f64> = BTreeMap::new();
        for (a, s, e, m) in self.lines.iter().filter(|l| l.1 < as_of) {
            let v = out.entry(a.clone()).or_default();
            *v += if at(as_of, *s, *e) { *m } else { 0.0 } - if at(before, *s, *e) { *m } else { 0.0 };
        }
        out
    }
}

/// The text of a column as `Vec<Option<String>>` (health extraction).
pub(crate) fn texts(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let c = df.column(name).ctx(name)?.cast(&DataType::String).ctx(name)?;
    Ok(c.str().ctx(name)?.iter().map(|v| v.map(str::to_owned)).collect())
}

/// A timestamp column as microseconds.
pub(crate) fn instants(df: &DataFrame, name: &str) -> Result<Vec<Option<Micros>>> {
    let c = df.column(name).ctx(name)?.cast(&DataType::Int64).ctx(name)?;
    Ok(c.i64().ctx(name)?.iter().collect())
}

crate::raw::staged!(Usage, |t: &Usage| t.rows.len());

impl HealthData {
    /// What the health components draw on, from staged tables (each
    /// optional): usage rows, tickets with an `account_id` (created, rated,
    /// satisfied), NPS responses with an `account_id`, subscription lines.
    pub fn from_staged(
        tz: Tz,
        usage: Option<&Usage>,
        tickets: Option<&crate::support::Tickets>,
        responses: Option<&crate::surveys::Responses>,
        lines: Option<&crate::revenue::Lines>,
    ) -> Result<Self> {
        let mut d = HealthData { tz, ..HealthData::default() };
        if let Some(u) = usage {
            d.usage.clone_from(&u.rows);
        }
        if let Some(t) = tickets.filter(|t| t.df.column(ACCOUNT_ID).is_ok()) {
            let ids = texts(&t.df, ACCOUNT_ID)?;
            let created = instants(&t.df, crate::schema::tickets::CREATED_AT)?;
            let rated =
                match (t.df.column(crate::schema::tickets::CSAT_AT), t.df.column(crate::schema::tickets::SOLVED_AT)) {
                    (Ok(_), _) => {
                        let a = instants(&t.df, crate::schema::tickets::CSAT_AT)?;
                        let s = if t.has(crate::schema::tickets::SOLVED_AT) {
                            instants(&t.df, crate::schema::tickets::SOLVED_AT)?
                        } else {
                            vec![None; a.len()]
                        };
                        a.into_iter().zip(s).map(|(a, s)| a.or(s)).collect()
                    }
                    (Err(_), Ok(_)) => instants(&t.df, crate::schema::tickets::SOLVED_AT)?,
                    _ => vec![None; ids.len()],
                };
            let sat: Vec<Option<bool>> = match t.df.column(crate::schema::tickets::CSAT_SATISFIED) {
                Ok(c) => c.bool().ctx("csat")?.iter().collect(),
                Err(_) => vec![None; ids.len()],
            };
            for i in 0..ids.len() {
                if let (Some(a), Some(c)) = (&ids[i], created[i]) {
                    d.tickets.push((a.clone(), c, rated[i], sat[i]));
                }
            }
        }
        if let Some(s) = responses.filter(|s| s.df.column(ACCOUNT_ID).is_ok()) {
            let ids = texts(&s.df, ACCOUNT_ID)?;
            let at = instants(&s.df, crate::schema::surveys::RESPONDED_AT)?;
            let score = s.df.column(crate::surveys::responses::NPS_SCORE).ctx("nps")?.f64().ctx("nps")?.clone();
            for i in 0..ids.len() {
                if let (Some(a), Some(t), Some(v)) = (&ids[i], at[i], score.get(i)) {
                    d.nps.push((a.clone(), t, v));
                }
            }
        }
        if let Some(l) = lines {
            let ids = texts(&l.df, ACCOUNT_ID)?;
            let start = instants(&l.df, crate::schema::subscriptions::START_AT)?;
            let end = instants(&l.df, crate::schema::subscriptions::END_AT)?;
            let mrr = l.df.column(crate::schema::subscriptions::MRR).ctx("mrr")?.f64().ctx("mrr")?.clone();
            for i in 0..ids.len() {
                if let (Some(a), Some(s), Some(m)) = (&ids[i], start[i], mrr.get(i)) {
                    d.lines.push((a.clone(), s, end[i], m));
                }
            }
        }
        Ok(d)
    }
}

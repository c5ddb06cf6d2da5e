//! The staged `subscriptions` table: one row per accepted subscription
//! line, its MRR normalised to a month and converted to the reporting
//! currency, and the data-quality findings of reading it.

use std::collections::{BTreeMap, BTreeSet};

use chrono_tz::Tz;
use polars::prelude::*;

use crate::error::PolarsContext;
use crate::mapping::TableInput;
use crate::parse::timestamp::Micros;
use crate::quality::{Collector, QualityRow, Reason};
use crate::raw::{Parsed, RawTable, datetime_column, expected};
use crate::schema::ColumnDef;
use crate::schema::{Kind, RATES, SUBSCRIPTIONS, subscriptions::*};
use crate::source::Source;
use crate::{Error, Result};

/// Months per billing interval: `mrr = amount x quantity x f / interval_count`
/// (docs/data-contract.md, "The subscriptions table"): month 1, year 1/12, week 52/12, day 365/12.
///
/// ```
/// use metrics_core::revenue::lines::months_factor;
/// assert_eq!(months_factor("Year"), Some(1.0 / 12.0));
/// assert_eq!(months_factor("week"), Some(52.0 / 12.0));
/// assert_eq!(months_factor("fortnight"), None);
/// ```
pub fn months_factor(interval: &str) -> Option<f64> {
    let v = interval.trim();
    let is = |words: &[&str]| words.iter().any(|w| v.eq_ignore_ascii_case(w));
    if is(&["month", "monthly"]) {
        Some(1.0)
    } else if is(&["year", "yearly", "annual", "annually"]) {
        Some(1.0 / 12.0)
    } else if is(&["week", "weekly"]) {
        Some(52.0 / 12.0)
    } else if is(&["day", "daily"]) {
        Some(365.0 / 12.0)
    } else {
        None
    }
}

/// How to stage subscriptions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinesOptions {
    /// Zone of naive timestamps.
    pub input_tz: Tz,
    /// The currency to report in; `None` = the only currency present, else
    /// the rates table's currency with rate 1.
    pub reporting_currency: Option<String>,
    /// A rates table (`currency`, `rate` = reporting-currency units per
    /// unit).
    pub rates: Option<TableInput>,
    /// Columns of the lines themselves to keep as dimensions (`plan`, or
    /// any source column), read when the file has them.
    pub dims: Vec<String>,
}

/// Staged subscription lines.
#[derive(Debug, Clone)]
pub struct Lines {
    /// One row per accepted line: `account_id` (text), `start_at` and
    /// `end_at` (`Datetime(us, UTC)`, `end_at` null = open), `mrr` (f64, in
    /// the reporting currency, per month).
    pub df: DataFrame,
    /// The files read.
    pub source: Source,
    /// Rows read.
    pub rows_read: usize,
    /// The reporting currency (`None` when the table has no currency
    /// column).
    pub currency: Option<String>,
    /// How MRR was obtained: `mrr` or `amount x quantity x f / interval_count`.
    pub mrr_source: &'static str,
    /// Findings.
    pub quality: Vec<QualityRow>,
}

impl Lines {
    /// Rows used.
    pub fn rows_used(&self) -> usize {
        self.df.height()
    }

    /// Whether `dim` is a dimension of the lines themselves (a column of
    /// the subscriptions file kept for `by`; never `account_id`).
    pub fn has(&self, dim: &str) -> bool {
        dim != ACCOUNT_ID && self.df.column(dim).is_ok()
    }

    /// Reads, normalises, converts and checks a subscriptions table.
    /// Reads and stages the subscription lines from files (a path, glob or directory).
    pub fn from_path(input: &TableInput, o: &LinesOptions) -> Result<Self> {
        Self::stage(None, input, o)
    }

    /// Stages the subscription lines from an in-memory frame, with the same mapping
    /// (`input.columns`, preset), conversions and data-quality accounting
    /// as [`Self::from_path`]; `input.path` only labels it in messages.
    pub fn from_frame(df: DataFrame, input: &TableInput, o: &LinesOptions) -> Result<Self> {
        Self::stage(Some(df), input, o)
    }

    fn stage(frame: Option<DataFrame>, input: &TableInput, o: &LinesOptions) -> Result<Self> {
        let tz = input.input_tz.unwrap_or(o.input_tz);
        let wanted = |d: &ColumnDef| d.name != PLAN || o.dims.iter().any(|b| b == PLAN);
        let raw = RawTable::open(frame, input, "subscriptions", SUBSCRIPTIONS, &o.dims, wanted, tz)?;
        if !(raw.has(MRR) || raw.has(AMOUNT) && raw.has(INTERVAL)) {
            return Err(Error::from(crate::error::ErrorKind::MissingColumn {
                path: raw.source.files[0].clone(),
                table: "subscriptions".into(),
                column: "mrr (or amount with interval)".into(),
                found: raw.source.columns(0)?,
                suggest: None,
            }));
        }
        let n = raw.df.height();
        let mut q = raw.collector();
        let mut usable = vec![true; n];
        let (start, end) = start_and_end(&raw, tz, &mut usable, &mut q)?;
        let accounts = raw.strings(ACCOUNT_ID)?;
        let (mut mrr, mrr_source) = if raw.has(MRR) {
            let p = checked_floats(&raw, MRR, &mut q)?.unwrap_or_default();
            p.bad.iter().for_each(|&i| usable[i] = false);
            (p.values.iter().collect(), "mrr")
        } else {
            (mrr_from_amounts(&raw, &mut usable, &mut q)?, "amount x quantity x f / interval_count")
        };
        let money = if raw.has(MRR) { MRR } else { AMOUNT };
        for (i, account) in accounts.iter().enumerate() {
            let missing = if account.is_none_or(|s| s.trim().is_empty()) {
                usable[i] = false;
                Some(ACCOUNT_ID)
            } else if !usable[i] {
                None
            } else if start[i].is_none() {
                Some(START_AT)
            } else if mrr[i].is_none() {
                Some(money)
            } else {
                None
            };
            if let Some(column) = missing {
                q.add(Reason::MissingRequired, column, i);
                usable[i] = false;
            } else if usable[i] && end[i].is_some_and(|e| start[i].is_some_and(|s| e <= s)) {
                q.add(Reason::NegativeDuration, END_AT, i);
                usable[i] = false;
            }
        }
        drop_superseded(&raw, &mut usable, &mut q)?;
        let keep: Vec<usize> = (0..n).filter(|&i| usable[i]).collect();
        let currency = convert_currency(&raw, &keep, &mut mrr, o)?;
        let mut columns = vec![
            accounts.take(&idx(&keep)).ctx(ACCOUNT_ID)?.with_name(ACCOUNT_ID.into()).into_column(),
            datetime_column(START_AT, keep.iter().map(|&i| start[i])),
            datetime_column(END_AT, keep.iter().map(|&i| end[i])),
            Float64Chunked::from_iter_options(MRR.into(), keep.iter().map(|&i| mrr[i])).into_column(),
        ];
        // The lines' own dimensions (a plan, a region per line), as text.
        for d in o.dims.iter().filter(|d| d.as_str() != ACCOUNT_ID) {
            if raw.df.column(d).is_ok() {
                columns.push(raw.strings(d)?.take(&idx(&keep)).ctx(d)?.into_column());
            }
        }
        let df = DataFrame::new_infer_height(columns).ctx("staging subscriptions")?;
        Ok(Self { df, source: raw.source.clone(), rows_read: raw.rows_read, currency, mrr_source, quality: q.finish() })
    }

    /// The earliest accepted `start_at` and the latest accepted `start_at`
    /// or `end_at` (the revenue range, docs/metrics.md, "Common rules (revenue)").
    pub fn span(&self) -> Option<(Micros, Micros)> {
        let ints = |c: &str| self.df.column(c).ok()?.cast(&DataType::Int64).ok();
        let start = ints(START_AT)?;
        let end = ints(END_AT)?;
        let first = start.i64().ok()?.min()?;
        let last = start.i64().ok()?.max()?.max(end.i64().ok()?.max().unwrap_or(i64::MIN));
        Some((first, last))
    }
}

/// A timestamp column at full height.
type Instants = Vec<Option<Micros>>;

/// `start_at` and `end_at` (absent = open-ended), bad values counted; a
/// line whose start does not parse is unusable.
fn start_and_end(raw: &RawTable, tz: Tz, usable: &mut [bool], q: &mut Collector<'_>) -> Result<(Instants, Instants)> {
    let mut instants = BTreeMap::new();
    for name in [START_AT, END_AT].into_iter().filter(|c| raw.has(c)) {
        let p = raw.timestamps(name, tz)?;
        if let Some(e) = raw.nothing_parses(name, &p, expected(Kind::Timestamp)) {
            return Err(e);
        }
        raw.count_timestamps(q, name, &p);
        if name == START_AT {
            p.bad.iter().for_each(|&i| usable[i] = false);
        }
        instants.insert(name, p);
    }
    let start = instants.remove(START_AT).map(|p| p.values.iter().collect()).unwrap_or_default();
    let end = instants.remove(END_AT).map_or_else(|| vec![None; usable.len()], |p| p.values.iter().collect());
    Ok((start, end))
}

/// A float column when present, its bad values counted; an error when not
/// one value parses.
fn checked_floats(raw: &RawTable, name: &str, q: &mut Collector<'_>) -> Result<Option<Parsed<f64>>> {
    if !raw.has(name) {
        return Ok(None);
    }
    let p = raw.floats(name)?;
    if let Some(e) = raw.nothing_parses(name, &p, expected(Kind::Float)) {
        return Err(e);
    }
    raw.count_values(q, Reason::UnparseableNumber, name, &p.bad);
    Ok(Some(p))
}

/// MRR from `amount x quantity x f / interval_count`, `f` the months
/// factor of `interval` (`metrics.md`, "MRR from billing lines"). A
/// missing interval or amount is `missing_required`, an unknown interval
/// or a count below 1 `unknown_interval`; when no interval is known the
/// column is unusable.
fn mrr_from_amounts(raw: &RawTable, usable: &mut [bool], q: &mut Collector<'_>) -> Result<Vec<Option<f64>>> {
    let amount = checked_floats(raw, AMOUNT, q)?.unwrap_or_default();
    amount.bad.iter().for_each(|&i| usable[i] = false);
    let quantity = checked_floats(raw, QUANTITY, q)?;
    let count = if raw.has(INTERVAL_COUNT) {
        let p = raw.ints(INTERVAL_COUNT)?;
        if let Some(e) = raw.nothing_parses(INTERVAL_COUNT, &p, expected(Kind::Int)) {
            return Err(e);
        }
        raw.count_values(q, Reason::UnparseableNumber, INTERVAL_COUNT, &p.bad);
        Some(p.values)
    } else {
        None
    };
    let intervals = raw.strings(INTERVAL)?;
    let mut mrr = vec![None; usable.len()];
    let mut unknown = Vec::new();
    for (i, iv) in intervals.iter().enumerate() {
        let count = count.as_ref().and_then(|c| c.get(i)).unwrap_or(1);
        let factor = match iv.filter(|s| !s.trim().is_empty()).map(months_factor) {
            None => {
                if usable[i] {
                    let column = if amount.values.get(i).is_none() { AMOUNT } else { INTERVAL };
                    q.add(Reason::MissingRequired, column, i);
                }
                usable[i] = false;
                continue;
            }
            Some(Some(f)) if count > 0 => f / count as f64,
            Some(_) => {
                unknown.push(i);
                usable[i] = false;
                continue;
            }
        };
        let qty = quantity.as_ref().and_then(|p| p.values.get(i)).unwrap_or(1.0);
        mrr[i] = amount.values.get(i).map(|a| a * qty * factor);
    }
    if !unknown.is_empty() && unknown.len() == intervals.len() - intervals.null_count() {
        let first = unknown[0];
        let value = intervals.get(first).unwrap_or_default();
        return Err(raw.nothing_parses_at(INTERVAL, first, value, "a billing interval (day, week, month, year)"));
    }
    raw.count_values(q, Reason::UnknownInterval, INTERVAL, &unknown);
    Ok(mrr)
}

/// Duplicates by `subscription_id`: the last usable row read wins; a line
/// without a subscription id is never a duplicate.
fn drop_superseded(raw: &RawTable, usable: &mut [bool], q: &mut Collector<'_>) -> Result<()> {
    if !raw.has(SUBSCRIPTION_ID) {
        return Ok(());
    }
    let ids = raw.strings(SUBSCRIPTION_ID)?;
    let with_id: Vec<bool> =
        ids.iter().zip(usable.iter()).map(|(id, u)| *u && id.is_some_and(|s| !s.trim().is_empty())).collect();
    let superseded = crate::raw::superseded_rows(&ids, &with_id);
    superseded.iter().for_each(|&i| usable[i] = false);
    raw.count_superseded(q, SUBSCRIPTION_ID, &crate::raw::IdColumn::Text(ids), &superseded);
    Ok(())
}

/// Converts the kept lines' MRR into the reporting currency and returns
/// it (`docs/data-contract.md`, "Currencies"). Without a `currency`
/// column, a rates table given is still checked.
fn convert_currency(
    raw: &RawTable,
    keep: &[usize],
    mrr: &mut [Option<f64>],
    o: &LinesOptions,
) -> Result<Option<String>> {
    if !raw.has(CURRENCY) {
        if let Some(r) = &o.rates {
            read_rates(r)?;
        }
        return Ok(o.reporting_currency.as_ref().map(|c| c.trim().to_ascii_uppercase()));
    }
    // Few distinct cells: normalise each once.
    let cells = raw.strings(CURRENCY)?;
    let mut code_of: PlHashMap<&str, Option<String>> = PlHashMap::new();
    let cell_values: Vec<Option<&str>> = cells.iter().collect();
    for &i in keep {
        if let Some(c) = cell_values[i] {
            code_of.entry(c).or_insert_with(|| Some(c.trim().to_ascii_uppercase()).filter(|s| !s.is_empty()));
        }
    }
    let found: BTreeSet<&str> = code_of.values().flatten().map(String::as_str).collect();
    let (target, rates) = conversion(&found, o)?;
    let rate_of: PlHashMap<&str, f64> = code_of
        .iter()
        .map(|(cell, code)| (*cell, code.as_deref().map_or(1.0, |c| rates.get(c).copied().unwrap_or(1.0))))
        .collect();
    for &i in keep {
        let rate = cell_values[i].map_or(1.0, |c| rate_of.get(c).copied().unwrap_or(1.0));
        mrr[i] = mrr[i].map(|m| m * rate);
    }
    Ok(Some(target))
}

/// The reporting currency and the factor that converts each currency of
/// `found` (trimmed, upper-case codes) into it, by the rules of `cxm
/// revenue` (data-contract.md, "Currencies and the rates table"): the
/// reporting currency is `reporting`, else the only currency found, else
/// the rates table's one currency at rate 1; a factor is `rate(code) /
/// rate(reporting)`, 1 for the reporting currency. Used by `cxm sql
/// --engine` with the codes the engine found.
///
/// # Errors
/// As `cxm revenue`: several currencies (or one that is not the reporting
/// currency) without a rates table, a currency without a rate, no
/// reporting currency to choose, or a bad rates table.
pub fn currency_factors(
    found: &BTreeSet<&str>,
    reporting: Option<&str>,
    rates: Option<&TableInput>,
) -> Result<(String, BTreeMap<String, f64>)> {
    let o = LinesOptions {
        reporting_currency: reporting.map(str::to_owned),
        rates: rates.cloned(),
        ..LinesOptions::default()
    };
    conversion(found, &o)
}

/// The reporting currency and the rate of each currency found.
fn conversion(found: &BTreeSet<&str>, o: &LinesOptions) -> Result<(String, BTreeMap<String, f64>)> {
    let wanted = o.reporting_currency.as_ref().map(|c| c.trim().to_ascii_uppercase());
    let Some(rates_input) = &o.rates else {
        let list = found.iter().copied().collect::<Vec<_>>().join(", ");
        return match (found.len(), wanted) {
            (0, w) => Ok((w.unwrap_or_default(), BTreeMap::new())),
            (1, None) => Ok((list, BTreeMap::new())),
            (1, Some(w)) if w == list => Ok((w, BTreeMap::new())),
            (1, Some(w)) => Err(Error::from(crate::error::ErrorKind::NeedsRates(format!(
                "subscriptions are in {list} but the reporting currency is {w}, and no rates table is given"
            )))),
            (_, w) => Err(Error::from(crate::error::ErrorKind::NeedsRates(format!(
                "subscriptions mix currencies ({list}){} and no rates table is given",
                w.map(|w| format!(" while the reporting currency is {w}")).unwrap_or_default()
            )))),
        };
    };
    let rates = read_rates(rates_input)?;
    let target = match wanted {
        Some(w) => w,
        None => {
            let ones: Vec<&String> = rates.iter().filter(|(_, r)| **r == 1.0).map(|(c, _)| c).collect();
            match (found.len(), ones.as_slice()) {
                (1, _) => found.iter().next().map(|s| (*s).to_owned()).unwrap_or_default(),
                (_, [one]) => (*one).clone(),
                _ => {
                    return Err(Error::from(crate::error::ErrorKind::Config(
                        "reporting_currency is needed: the rates table does not have exactly one currency at rate 1"
                            .into(),
                    )));
                }
            }
        }
    };
    let base =
        if found.len() == 1 && found.contains(target.as_str()) { Some(1.0) } else { rates.get(&target).copied() };
    let base = base.ok_or_else(|| {
        Error::invalid_option("reporting_currency", &target, format!("has no rate in {}", rates_input.path))
    })?;
    let mut out = BTreeMap::new();
    for c in found {
        let r = if *c == target {
            1.0
        } else {
            *rates.get(*c).ok_or_else(|| {
                Error::from(crate::error::ErrorKind::NeedsRates(format!(
                    "{}: no rate for currency {c}, which the subscriptions use (found rates for {})",
                    rates_input.path,
                    rates.keys().cloned().collect::<Vec<_>>().join(", ")
                )))
            })?
        };
        // Rates are reporting-currency units per unit; a table whose base is
        // not the reporting currency is rebased.
        out.insert((*c).to_owned(), if *c == target { 1.0 } else { r / base });
    }
    Ok((target, out))
}

/// Reads a rates table: `currency` (text) -> `rate` (> 0).
pub fn read_rates(input: &TableInput) -> Result<BTreeMap<String, f64>> {
    let raw = RawTable::read(input, "rates", RATES, &[], |_| true, Tz::UTC)?;
    let rates = raw.floats("rate")?;
    let codes = raw.strings("currency")?;
    let mut out = BTreeMap::new();
    for (i, c) in codes.iter().enumerate() {
        let Some(code) = c.map(|s| s.trim().to_ascii_uppercase()).filter(|s| !s.is_empty()) else { continue };
        match rates.values.get(i) {
            Some(r) if r > 0.0 => {
                if out.insert(code.clone(), r).is_some_and(|prev| prev != r) {
                    return Err(Error::from(crate::error::ErrorKind::BadValue {
                        file: input.path.clone(),
                        row: raw.ids.row(i).to_string(),
                        column: "rate".into(),
                        value: r.to_string(),
                        reason: format!("is a second, different rate for {code} (one fixed rate per currency)"),
                    }));
                }
            }
            _ => {
                return Err(Error::from(crate::error::ErrorKind::BadValue {
                    file: input.path.clone(),
                    row: raw.ids.row(i).to_string(),
                    column: "rate".into(),
                    value: rates.values.get(i).map(|r| r.to_string()).unwrap_or_default(),
                    reason: format!("is not a positive rate for {code}"),
                }));
            }
        }
    }
    Ok(out)
}

fn idx(keep: &[usize]) -> IdxCa {
    IdxCa::from_vec("idx".into(), keep.iter().map(|&i| i as IdxSize).collect())
}

crate::raw::staged!(Lines, |t: &Lines| t.rows_used());

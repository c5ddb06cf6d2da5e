//! The one entry point: inputs and options in, a whole report out (tables,
//! meta and data quality), for the CLI and for Rust callers alike.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use polars::prelude::*;
use serde::Serialize;

use crate::error::PolarsContext;
use crate::health::{self, HealthConfig, HealthData, Source as HealthSource, Usage};
use crate::mapping::TableInput;
use crate::parse::timestamp::{Micros, TimestampFormat, TimestampParser, ValidYears};
use crate::period::{Period, Spine, local_date};
use crate::purchases::{self, Transactions};
use crate::quality::DataQuality;
use crate::revenue::{self, Accounts, Lines, LinesOptions, RevenueOptions};
use crate::schema::tickets::ACCOUNT_ID;
use crate::source::FileFormat;
use crate::support::{self, Skipped, SupportOptions, TicketReadOptions, Tickets};
use crate::surveys::{self, Responses, SurveyOptions};
use crate::{Error, Result};

mod inputs;
mod sections;

use inputs::{
    health_data, read_lines, read_surveys, record_lines, record_surveys, stage_accounts, stage_tickets,
    stage_transactions, stage_usage,
};
use sections::{health_sections, purchases_section, revenue_sections, support_section, surveys_section};

/// The input tables of a report; absent tables leave their sections out.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Inputs {
    /// The `tickets` table.
    pub tickets: Option<TableInput>,
    /// The `subscriptions` table.
    pub subscriptions: Option<TableInput>,
    /// The `accounts` table (dimensions for every section).
    pub accounts: Option<TableInput>,
    /// The `survey_responses` table.
    pub surveys: Option<TableInput>,
    /// The `transactions` table.
    pub transactions: Option<TableInput>,
    /// The `usage` table (health score inputs).
    pub usage: Option<TableInput>,
}

/// Which sections a command computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Command {
    /// Every section the inputs allow.
    Report,
    /// Support metrics only.
    Support,
    /// Revenue metrics only.
    Revenue,
    /// Cohort retention only.
    Cohorts,
    /// NPS, CSAT and CES from survey responses only.
    Surveys,
    /// The health score per account and its band summary.
    Health,
    /// Purchases (orders, revenue, average order value, frequency and
    /// repeat purchase rates) from transactions only.
    Purchases,
    /// Read and check the inputs; no metrics.
    Validate,
}

/// Every option of a report, resolved (flags > config file > defaults).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReportOptions {
    /// Period length; `None` = each section's default (`week` for support).
    pub period: Option<Period>,
    /// Report time zone: period boundaries.
    pub tz: Tz,
    /// Zone of naive input timestamps, for tables without their own.
    pub input_tz: Tz,
    /// First reported period: the one holding this local date.
    pub since: Option<NaiveDate>,
    /// Last reported period: the one holding this local date.
    pub until: Option<NaiveDate>,
    /// Explicit as-of (a snapshot); `None` = the latest ticket timestamp.
    pub as_of: Option<Micros>,
    /// Dimensions, in output order.
    pub by: Vec<String>,
    /// Support metric options.
    pub support: SupportOptions,
    /// Revenue metric options.
    pub revenue: RevenueOptions,
    /// The first day of a week (`[report] week_start`), Monday by default.
    pub week_start: chrono::Weekday,
    /// Survey metric options.
    pub surveys: SurveyOptions,
    /// The health score's components and bands (`None` = no health
    /// section).
    pub health: Option<HealthConfig>,
    /// `health` lists only red accounts, weakest first (`--at-risk`).
    pub at_risk: bool,
    /// SLA targets: when set, the report has an `sla` section (`[sla]`).
    pub sla: Option<crate::support::sla::SlaOptions>,
    /// The years a timestamp may fall in (`[report] valid_years`): applied
    /// to every input, and `since`, `until` and `as_of` must lie in them.
    pub valid_years: ValidYears,
    /// The largest share of a table's rows (0 to 1) that one reason
    /// signalling a wrong mapping may exclude before the run stops
    /// (`--max-excluded`, `[report] max_excluded`; 0.25 by default; 1
    /// disables the check; `validate` never stops on it).
    pub max_excluded: f64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            period: None,
            tz: Tz::UTC,
            input_tz: Tz::UTC,
            since: None,
            until: None,
            as_of: None,
            by: Vec::new(),
            support: SupportOptions::default(),
            revenue: RevenueOptions::default(),
            week_start: chrono::Weekday::Mon,
            surveys: SurveyOptions::default(),
            health: None,
            at_risk: false,
            sla: None,
            valid_years: ValidYears::default(),
            max_excluded: DEFAULT_MAX_EXCLUDED,
        }
    }
}

/// The default `max_excluded`: losing a quarter of a table to one reason
/// means a wrong mapping, format or separator.
pub const DEFAULT_MAX_EXCLUDED: f64 = 0.25;

/// One input table as meta describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputMeta {
    /// Path, glob or directory as given.
    pub path: String,
    /// File format.
    pub format: FileFormat,
    /// Preset applied, if any.
    pub preset: Option<String>,
    /// Rows read from the files.
    pub rows_read: usize,
    /// Rows used by the metrics.
    pub rows_used: usize,
}

/// The report's meta (docs/cli.md, "JSON shape").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meta {
    /// cxm's version.
    pub version: String,
    /// The command.
    pub command: Command,
    /// Per input table.
    pub inputs: BTreeMap<String, InputMeta>,
    /// Period length.
    pub period: Period,
    /// Report time zone.
    pub tz: String,
    /// Default zone of naive input timestamps.
    pub input_tz: String,
    /// The instant treated as now, RFC 3339 UTC.
    pub as_of: Option<String>,
    /// First reported period (`YYYY-MM-DD`).
    pub first_period: Option<String>,
    /// Last reported period.
    pub last_period: Option<String>,
    /// Rules used (`fcr`, `escalation`, `backlog_mode`, `csat_scale`, ...).
    pub rules: BTreeMap<String, String>,
    /// Metrics left out, with the missing column.
    pub skipped: Vec<Skipped>,
    /// Other remarks (a section output ungrouped, ...).
    pub notes: Vec<String>,
    /// The `max_excluded` in force.
    pub max_excluded: f64,
    /// What the run cost ([`run_with_progress`] sets it; absent from a
    /// report built otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunMeta>,
}

/// What a run cost, for a CI job to chart (docs/cli.md, "JSON shape").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RunMeta {
    /// Wall time from the first read to the last table, in seconds.
    pub wall_seconds: f64,
    /// Rows read over every input table.
    pub rows_read: usize,
    /// `rows_read / wall_seconds` (0 when no time passed).
    pub rows_per_second: f64,
    /// Rows of each output table, by section name.
    pub output_rows: BTreeMap<String, usize>,
}

/// A computed report.
#[derive(Debug, Clone)]
pub struct Report {
    /// Meta.
    pub meta: Meta,
    /// Data-quality findings per table.
    pub data_quality: DataQuality,
    /// Sections in output order (`support`, ...), each a table.
    pub sections: Vec<(String, DataFrame)>,
}

impl Report {
    /// A section by name.
    pub fn section(&self, name: &str) -> Option<&DataFrame> {
        self.sections.iter().find(|(n, _)| n == name).map(|(_, df)| df)
    }
}

/// Parses `--since`/`--until`/`--as-of` text: a date (midnight) or an
/// instant; naive values are in `tz` (docs/data-contract.md, "Timestamps").
///
/// ```
/// let t = metrics_core::report::parse_instant("2026-03-01", chrono_tz::Tz::UTC).unwrap();
/// assert_eq!(t, 1_772_323_200_000_000);
/// ```
pub fn parse_instant(s: &str, tz: Tz) -> Result<Micros> {
    TimestampParser::new(TimestampFormat::Auto, tz)
        .parse(s)
        .ok_or_else(|| Error::invalid_option("timestamp", s, "cannot be read as a date or timestamp"))
}

/// A step of a report run, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<'a> {
    /// Steps finished before this one.
    pub done: usize,
    /// Steps in the run (inputs to read plus sections to compute).
    pub total: usize,
    /// What this step does (`reading tickets`, `computing revenue`, ...).
    pub what: &'a str,
}

/// Computes the report for `command`.
pub fn run(inputs: &Inputs, o: &ReportOptions, command: Command) -> Result<Report> {
    run_with_progress(inputs, o, command, &mut |_| {})
}

/// [`run`], telling `progress` before each step (reading an input,
/// computing a section) starts.
pub fn run_with_progress(
    inputs: &Inputs,
    o: &ReportOptions,
    command: Command,
    progress: &mut dyn FnMut(Step<'_>),
) -> Result<Report> {
    let start = std::time::Instant::now();
    let mut r = run_steps(inputs, o, command, progress)?;
    let wall_seconds = start.elapsed().as_secs_f64();
    let rows_read = r.meta.inputs.values().map(|i| i.rows_read).sum();
    let rows_per_second = if wall_seconds > 0.0 { rows_read as f64 / wall_seconds } else { 0.0 };
    let output_rows = r.sections.iter().map(|(n, df)| (n.clone(), df.height())).collect();
    r.meta.run = Some(RunMeta { wall_seconds, rows_read, rows_per_second, output_rows });
    Ok(r)
}

/// Every step of a run: stage the inputs, then compute the sections.
fn run_steps(
    inputs: &Inputs,
    o: &ReportOptions,
    command: Command,
    progress: &mut dyn FnMut(Step<'_>),
) -> Result<Report> {
    check_options(o)?;
    let inputs = &with_valid_years(inputs, o);
    let p = Plan::new(inputs, o, command)?;
    let mut r = new_report(o, command, &p);
    let total = p.steps();
    let mut done = 0;
    let mut step = |what: &str| {
        progress(Step { done, total, what });
        done += 1;
    };
    // Stage every input first: a bad input fails before any metric runs.
    let accounts = match &inputs.accounts {
        Some(a) => {
            step("reading accounts");
            Some(stage_accounts(a, o, &mut r)?)
        }
        None => None,
    };
    let (tickets, lines, responses) = stage_main_inputs(&p, o, accounts.as_ref(), &mut step, &mut r)?;
    let usage = match p.usage {
        Some(input) => {
            step("reading usage");
            Some(stage_usage(input, inputs.subscriptions.as_ref(), o, &mut r)?)
        }
        None => None,
    };
    let transactions = match p.transactions {
        Some(input) => {
            step("reading transactions");
            Some(stage_transactions(input, o, accounts.as_ref(), &mut r)?)
        }
        None => None,
    };
    let staged = Staged { tickets: tickets.as_ref(), lines: lines.as_ref(), responses: responses.as_ref() };
    check_dimensions(o, &staged, transactions.as_ref(), accounts.as_ref())?;
    let health_data = match (&o.health, p.wants_health) {
        (Some(_), true) => Some(health_data(
            o,
            usage.as_ref(),
            tickets.as_ref().filter(|_| p.health_tickets),
            responses.as_ref().filter(|_| p.health_surveys),
            lines.as_ref().filter(|_| p.health_lines),
        )?),
        _ => None,
    };
    let (lines, responses) = (lines.filter(|_| p.wants_revenue), responses.filter(|_| p.wants_surveys));
    let others = Others { lines: lines.as_ref(), responses: responses.as_ref(), accounts: accounts.as_ref() };
    match tickets.filter(|_| p.wants_support) {
        // Support beside revenue and surveys: they share no input.
        Some(t) if others.any() => {
            step("computing support metrics");
            others.steps(&mut step);
            let mut other = r.clone();
            let base = Before::of(&r);
            let (support, rest) = std::thread::scope(|s| {
                let h = s.spawn(|| others.compute(o, command, &mut other).map(|()| other));
                (support_section(t, o, command, &mut r), joined(h))
            });
            support?;
            merge_sections(&mut r, &base, rest?);
        }
        t => {
            if let Some(t) = t {
                step("computing support metrics");
                support_section(t, o, command, &mut r)?;
            }
            others.steps(&mut step);
            others.compute(o, command, &mut r)?;
        }
    }
    if let Some(t) = transactions {
        step("computing purchases");
        purchases_section(&t, o, command, &mut r)?;
    }
    if let (Some(data), Some(config)) = (health_data, &o.health) {
        step("computing health scores");
        health_sections(config, &data, usage.as_ref(), accounts.as_ref(), o, command, &mut r)?;
    }
    Ok(r)
}

/// The revenue and surveys sections' inputs, computed together (beside
/// support when there are tickets).
struct Others<'a> {
    lines: Option<&'a Lines>,
    responses: Option<&'a Responses>,
    accounts: Option<&'a Accounts>,
}

impl Others<'_> {
    fn any(&self) -> bool {
        self.lines.is_some() || self.responses.is_some()
    }

    /// Reports their steps to the progress display.
    fn steps(&self, step: &mut dyn FnMut(&str)) {
        if self.lines.is_some() {
            step("computing revenue and cohorts");
        }
        if self.responses.is_some() {
            step("computing surveys");
        }
    }

    fn compute(&self, o: &ReportOptions, command: Command, r: &mut Report) -> Result<()> {
        if let Some(lines) = self.lines {
            revenue_sections(lines, self.accounts, o, command, r)?;
        }
        if let Some(responses) = self.responses {
            surveys_section(responses, o, command, r)?;
        }
        Ok(())
    }
}

/// What a report held when a copy of it was made: what the copy gains is
/// what comes after.
struct Before {
    sections: usize,
    notes: usize,
    rules: BTreeMap<String, String>,
}

impl Before {
    fn of(r: &Report) -> Self {
        Self { sections: r.sections.len(), notes: r.meta.notes.len(), rules: r.meta.rules.clone() }
    }
}

/// Adds to `r` what `other` (a copy of the report as `base` describes it)
/// gained: its sections and notes after `base`'s, in order, and the rules
/// it set.
fn merge_sections(r: &mut Report, base: &Before, other: Report) {
    r.sections.extend(other.sections.into_iter().skip(base.sections));
    r.meta.notes.extend(other.meta.notes.into_iter().skip(base.notes));
    for (k, v) in other.meta.rules {
        if base.rules.get(&k) != Some(&v) {
            r.meta.rules.insert(k, v);
        }
    }
}

/// The tickets, subscription lines and survey responses a command reads.
type MainInputs = (Option<Tickets>, Option<Lines>, Option<Responses>);

/// Stages the tickets, subscription lines and survey responses. Lines and
/// responses are read beside the tickets (their reading is independent and
/// the tickets' is partly serial); each is recorded, and its error raised,
/// in the usual order: tickets, subscriptions, survey responses.
fn stage_main_inputs(
    p: &Plan<'_>,
    o: &ReportOptions,
    accounts: Option<&Accounts>,
    step: &mut dyn FnMut(&str),
    r: &mut Report,
) -> Result<MainInputs> {
    let (tickets, lines, responses) = std::thread::scope(|s| {
        let lines = p.subscriptions.map(|input| s.spawn(move || read_lines(input, o)));
        let responses = p.surveys.map(|input| s.spawn(move || read_surveys(input, o, accounts, p.health_surveys)));
        let tickets = p.tickets.map(|input| {
            step("reading tickets");
            stage_tickets(input, o, accounts, p.health_tickets, r)
        });
        (tickets, lines.map(joined), responses.map(joined))
    });
    let tickets = tickets.transpose()?;
    let lines = match (p.subscriptions, lines) {
        (Some(input), Some(read)) => {
            step("reading subscriptions");
            Some(record_lines(input, read?, r)?)
        }
        _ => None,
    };
    let responses = match (p.surveys, responses) {
        (Some(input), Some(read)) => {
            step("reading survey responses");
            Some(record_surveys(input, read?, r)?)
        }
        _ => None,
    };
    Ok((tickets, lines, responses))
}

/// A reading thread's result (a panic in it is an internal error).
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, Result<T>>) -> Result<T> {
    h.join().unwrap_or_else(|_| Err(Error::from(crate::error::ErrorKind::Internal("reading an input".into()))))
}

/// Which inputs a command reads and which sections it computes.
struct Plan<'a> {
    tickets: Option<&'a TableInput>,
    subscriptions: Option<&'a TableInput>,
    surveys: Option<&'a TableInput>,
    transactions: Option<&'a TableInput>,
    usage: Option<&'a TableInput>,
    accounts: bool,
    wants_support: bool,
    wants_revenue: bool,
    wants_surveys: bool,
    wants_health: bool,
    health: bool,
    health_tickets: bool,
    health_surveys: bool,
    health_lines: bool,
}

impl<'a> Plan<'a> {
    /// The inputs `command` reads (health draws on every input its
    /// components name); an error when the command lacks what it needs.
    fn new(inputs: &'a Inputs, o: &ReportOptions, command: Command) -> Result<Self> {
        let wants_support = matches!(command, Command::Report | Command::Support | Command::Validate);
        let wants_revenue =
            matches!(command, Command::Report | Command::Revenue | Command::Cohorts | Command::Validate);
        let wants_health = matches!(command, Command::Report | Command::Health | Command::Validate);
        let wants_surveys = matches!(command, Command::Report | Command::Surveys | Command::Validate);
        let health_sources: Vec<&HealthSource> = match (&o.health, wants_health) {
            (Some(h), true) => h.components.iter().map(|c| &c.source).collect(),
            _ => Vec::new(),
        };
        let uses = |f: fn(&HealthSource) -> bool| health_sources.iter().any(|s| f(s));
        let health_tickets = uses(|s| matches!(s, HealthSource::Csat | HealthSource::Tickets));
        let health_surveys = uses(|s| matches!(s, HealthSource::Nps));
        let health_lines = uses(|s| matches!(s, HealthSource::MrrTrend));
        let reads_tx = matches!(command, Command::Report | Command::Purchases | Command::Validate);
        let p = Self {
            tickets: inputs.tickets.as_ref().filter(|_| wants_support || health_tickets),
            subscriptions: inputs.subscriptions.as_ref().filter(|_| wants_revenue || health_lines),
            surveys: inputs.surveys.as_ref().filter(|_| wants_surveys || health_surveys),
            transactions: inputs.transactions.as_ref().filter(|_| reads_tx),
            usage: inputs.usage.as_ref().filter(|_| wants_health),
            accounts: inputs.accounts.is_some(),
            wants_support,
            wants_revenue,
            wants_surveys,
            wants_health,
            health: o.health.is_some(),
            health_tickets,
            health_surveys,
            health_lines,
        };
        p.check(command)?;
        Ok(p)
    }

    fn check(&self, command: Command) -> Result<()> {
        match command {
            Command::Support if self.tickets.is_none() => Err(missing_input(&["tickets"])),
            Command::Revenue | Command::Cohorts if self.subscriptions.is_none() => {
                Err(missing_input(&["subscriptions"]))
            }
            Command::Health if !self.health => Err(Error::from(crate::error::ErrorKind::Config(
                "no health score configured: add [[health.components]] entries to the config (see docs/health.md)"
                    .into(),
            ))),
            Command::Purchases if self.transactions.is_none() => Err(missing_input(&["transactions"])),
            Command::Surveys if self.surveys.is_none() => Err(missing_input(&["surveys"])),
            _ if self.tickets.is_none()
                && self.subscriptions.is_none()
                && self.surveys.is_none()
                && self.transactions.is_none()
                && self.usage.is_none() =>
            {
                Err(missing_input(&["tickets", "subscriptions", "surveys", "transactions", "usage"]))
            }
            _ => Ok(()),
        }
    }

    /// Steps of the run, for a progress display: inputs read, sections
    /// computed.
    fn steps(&self) -> usize {
        let staged = [
            self.accounts,
            self.tickets.is_some(),
            self.subscriptions.is_some(),
            self.surveys.is_some(),
            self.usage.is_some(),
            self.transactions.is_some(),
        ];
        let computed = [
            self.tickets.is_some() && self.wants_support,
            self.subscriptions.is_some() && self.wants_revenue,
            self.surveys.is_some() && self.wants_surveys,
            self.transactions.is_some(),
            self.health && self.wants_health,
        ];
        staged.iter().chain(&computed).filter(|x| **x).count()
    }
}

/// The report's options that no section checks itself.
fn check_options(o: &ReportOptions) -> Result<()> {
    check_range_options(o)?;
    if !(0.0..=1.0).contains(&o.max_excluded) {
        return Err(Error::invalid_option("max_excluded", o.max_excluded, "is not a share between 0 and 1"));
    }
    Ok(())
}

/// The inputs with the report's valid years.
fn with_valid_years(inputs: &Inputs, o: &ReportOptions) -> Inputs {
    let with_years = |t: &Option<TableInput>| {
        t.clone().map(|mut t| {
            t.valid_years = o.valid_years;
            t
        })
    };
    Inputs {
        tickets: with_years(&inputs.tickets),
        subscriptions: with_years(&inputs.subscriptions),
        accounts: with_years(&inputs.accounts),
        surveys: with_years(&inputs.surveys),
        transactions: with_years(&inputs.transactions),
        usage: with_years(&inputs.usage),
    }
}

/// A report of one section computed by a SQL engine (`cxm sql --engine`):
/// the table as the engine returned it, meta filled from the options, and
/// a note that no data-quality checks ran (the engine reads the tables as
/// they are, so `data_quality` is empty and `inputs` lists only paths).
pub fn engine_report(
    o: &ReportOptions,
    command: Command,
    period: Period,
    section: &str,
    table: DataFrame,
    engine: &str,
    inputs: &[(&str, &TableInput)],
) -> Report {
    let mut meta = Meta::empty(o, command, period);
    meta.as_of = o.as_of.map(rfc3339);
    meta.rules.insert("engine".to_owned(), engine.to_owned());
    meta.notes.push(format!(
        "computed by {engine} from the SQL of `cxm sql --dialect {engine}`; the engine read the tables as they \
         are, so no data-quality checks ran (docs/sql.md)"
    ));
    for (name, t) in inputs {
        let format = crate::source::Source::resolve(&t.path).map_or(FileFormat::Parquet, |s| s.format);
        let input = InputMeta { path: t.path.clone(), format, preset: None, rows_read: 0, rows_used: 0 };
        meta.inputs.insert((*name).to_owned(), input);
    }
    let starts = table.column("period_start").ok().map(|c| c.cast(&DataType::String));
    if let Some(Ok(c)) = starts {
        let starts: Vec<String> = c.str().map(|s| s.iter().flatten().map(str::to_owned).collect()).unwrap_or_default();
        meta.first_period = starts.iter().min().cloned();
        meta.last_period = starts.iter().max().cloned();
    }
    Report { meta, data_quality: DataQuality::new(), sections: vec![(section.to_owned(), table)] }
}

/// An empty report for `command`: meta filled from the options.
fn new_report(o: &ReportOptions, command: Command, p: &Plan<'_>) -> Report {
    let period = o.period.unwrap_or(if p.tickets.is_some() { Period::Week } else { Period::Month });
    Report { meta: Meta::empty(o, command, period), data_quality: DataQuality::new(), sections: Vec::new() }
}

impl Meta {
    /// The meta of a report for `command` before anything is read: the
    /// version, period, zones and `max_excluded` from the options.
    fn empty(o: &ReportOptions, command: Command, period: Period) -> Self {
        Meta {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            command,
            inputs: BTreeMap::new(),
            period,
            tz: o.tz.name().to_owned(),
            input_tz: o.input_tz.name().to_owned(),
            as_of: None,
            first_period: None,
            last_period: None,
            rules: BTreeMap::new(),
            skipped: Vec::new(),
            notes: Vec::new(),
            max_excluded: o.max_excluded,
            run: None,
        }
    }
}

/// The staged tables a dimension may come from.
struct Staged<'a> {
    tickets: Option<&'a Tickets>,
    lines: Option<&'a Lines>,
    responses: Option<&'a Responses>,
}

/// Every `by` name is a column of some staged table the command reads.
fn check_dimensions(
    o: &ReportOptions,
    s: &Staged<'_>,
    transactions: Option<&Transactions>,
    accounts: Option<&Accounts>,
) -> Result<()> {
    for b in &o.by {
        let in_tickets = s.tickets.is_some_and(|t| t.df.column(b).is_ok());
        let in_accounts = s.lines.is_some() && accounts.is_some_and(|a| a.has(b));
        let in_lines = s.lines.is_some_and(|l| l.has(b));
        let in_surveys = s.responses.is_some_and(|r| r.df.column(b).is_ok());
        let in_tx = transactions.is_some_and(|t| t.df.column(b).is_ok());
        if in_tickets || in_accounts || in_lines || in_surveys || in_tx {
            continue;
        }
        let tables: Vec<&str> = [
            (s.tickets.is_some(), "tickets"),
            (s.responses.is_some(), "survey_responses"),
            (transactions.is_some(), "transactions"),
            (accounts.is_some(), "accounts"),
        ]
        .into_iter()
        .filter(|(given, _)| *given)
        .map(|(_, t)| t)
        .collect();
        let mut found = if tables.is_empty() { "any input".to_owned() } else { tables.join(" or ") };
        if s.lines.is_some() && accounts.is_none() {
            found.push_str(" (nor of the subscription lines; revenue and cohorts also take dimensions from an accounts table, which is not given)");
        }
        return Err(Error::from(crate::error::ErrorKind::UnknownDimension { name: b.clone(), tables: found }));
    }
    Ok(())
}

/// The error for a command without the input it needs.
fn missing_input(tables: &[&str]) -> Error {
    Error::from(crate::error::ErrorKind::MissingInput { tables: tables.iter().map(|t| (*t).to_owned()).collect() })
}

/// `since`, `until` and `as_of` must fall in the valid years.
fn check_range_options(o: &ReportOptions) -> Result<()> {
    let v = o.valid_years;
    let date_ok = |d: NaiveDate| (v.first()..=v.last()).contains(&chrono::Datelike::year(&d));
    for (key, d) in [("since", o.since), ("until", o.until)] {
        if let Some(d) = d.filter(|d| !date_ok(*d)) {
            return Err(Error::invalid_option(
                key,
                d,
                format!("is outside the valid years {}-{} (`[report] valid_years`)", v.first(), v.last()),
            ));
        }
    }
    if let Some(t) = o.as_of.filter(|t| !v.contains(*t)) {
        return Err(Error::invalid_option(
            "as_of",
            rfc3339(t),
            format!("is outside the valid years {}-{} (`[report] valid_years`)", v.first(), v.last()),
        ));
    }
    Ok(())
}

/// The dimensions a section has, or all-or-nothing: a section without
/// every `--by` name is output ungrouped, with a note (docs/cli.md, the `--by` option).
fn section_by(o: &ReportOptions, section: &str, has: impl Fn(&str) -> bool, r: &mut Report) -> Vec<String> {
    match o.by.iter().find(|b| !has(b)) {
        None => o.by.clone(),
        Some(missing) => {
            r.meta.notes.push(format!("{section}: not grouped, `{missing}` is not one of its dimensions"));
            Vec::new()
        }
    }
}

/// An instant as RFC 3339 UTC with `Z`.
pub fn rfc3339(t: Micros) -> String {
    chrono::DateTime::from_timestamp_micros(t)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

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
use crate::parse::timestamp::{Micros, TimestampFormat, TimestampParser};
use crate::period::{PERIOD_START, Period, Spine, local_date};
use crate::purchases::{self, Transactions};
use crate::quality::DataQuality;
use crate::revenue::{self, Accounts, Lines, LinesOptions, RevenueContext, RevenueOptions};
use crate::schema::tickets::ACCOUNT_ID;
use crate::source::FileFormat;
use crate::support::{self, Skipped, SupportContext, SupportOptions, TicketReadOptions, Tickets};
use crate::surveys::{self, Responses, SurveyOptions};
use crate::{Error, Result};

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
    /// Survey metric options.
    pub surveys: SurveyOptions,
    /// The health score's components and bands (`None` = no health
    /// section).
    pub health: Option<HealthConfig>,
    /// `health` lists only red accounts, weakest first (`--at-risk`).
    pub at_risk: bool,
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
            surveys: SurveyOptions::default(),
            health: None,
            at_risk: false,
        }
    }
}

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

/// The report's meta (details 6).
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
/// instant; naive values are in `tz` (details 18).
///
/// ```
/// let t = metrics_core::report::parse_instant("2026-03-01", chrono_tz::Tz::UTC).unwrap();
/// assert_eq!(t, 1_772_323_200_000_000);
/// ```
pub fn parse_instant(s: &str, tz: Tz) -> Result<Micros> {
    TimestampParser::new(TimestampFormat::Auto, tz)
        .parse(s)
        .ok_or_else(|| Error::Config(format!("cannot parse {s:?} as a date or timestamp")))
}

/// Computes the report for `command`.
pub fn run(inputs: &Inputs, o: &ReportOptions, command: Command) -> Result<Report> {
    let wants_support = matches!(command, Command::Report | Command::Support | Command::Validate);
    let wants_revenue = matches!(command, Command::Report | Command::Revenue | Command::Cohorts | Command::Validate);
    let wants_health = matches!(command, Command::Report | Command::Health | Command::Validate);
    let wants_surveys = matches!(command, Command::Report | Command::Surveys | Command::Validate);
    // Health draws on every input its components name.
    let health_sources: Vec<&HealthSource> = match (&o.health, wants_health) {
        (Some(h), true) => h.components.iter().map(|c| &c.source).collect(),
        _ => Vec::new(),
    };
    let uses = |f: fn(&HealthSource) -> bool| health_sources.iter().any(|s| f(s));
    let health_tickets = uses(|s| matches!(s, HealthSource::Csat | HealthSource::Tickets));
    let health_surveys = uses(|s| matches!(s, HealthSource::Nps));
    let health_lines = uses(|s| matches!(s, HealthSource::MrrTrend));
    let usage_input = inputs.usage.as_ref().filter(|_| wants_health);
    let tickets_input = inputs.tickets.as_ref().filter(|_| wants_support || health_tickets);
    let subs_input = inputs.subscriptions.as_ref().filter(|_| wants_revenue || health_lines);
    let surveys_input = inputs.surveys.as_ref().filter(|_| wants_surveys || health_surveys);
    let tx_input = inputs.transactions.as_ref().filter(|_| matches!(command, Command::Report | Command::Validate));
    match command {
        Command::Support if tickets_input.is_none() => {
            return Err(Error::Config("no tickets given: pass --tickets (or set [tickets] path in the config)".into()));
        }
        Command::Revenue | Command::Cohorts if subs_input.is_none() => {
            return Err(Error::Config(
                "no subscriptions given: pass --subscriptions (or set [subscriptions] path in the config)".into(),
            ));
        }
        Command::Health if o.health.is_none() => {
            return Err(Error::Config(
                "no health score configured: add [[health.components]] entries to the config (see docs/health.md)"
                    .into(),
            ));
        }
        Command::Surveys if surveys_input.is_none() => {
            return Err(Error::Config(
                "no survey responses given: pass --surveys (or set [surveys] path in the config)".into(),
            ));
        }
        _ if tickets_input.is_none()
            && subs_input.is_none()
            && surveys_input.is_none()
            && tx_input.is_none()
            && usage_input.is_none() =>
        {
            return Err(Error::Config(
                "no input given: pass --tickets, --subscriptions, --surveys or --transactions (or set their path in the config)"
                    .into(),
            ));
        }
        _ => {}
    }
    let period = o.period.unwrap_or(if tickets_input.is_some() { Period::Week } else { Period::Month });
    let mut r = Report {
        meta: Meta {
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
        },
        data_quality: DataQuality::new(),
        sections: Vec::new(),
    };
    // Stage every input first: a bad input fails before any metric runs.
    let accounts = match &inputs.accounts {
        Some(a) => Some(stage_accounts(a, o, &mut r)?),
        None => None,
    };
    let tickets = match tickets_input {
        Some(input) => Some(stage_tickets(input, o, accounts.as_ref(), health_tickets, &mut r)?),
        None => None,
    };
    let lines = match subs_input {
        Some(input) => Some(stage_lines(input, o, &mut r)?),
        None => None,
    };
    let responses = match surveys_input {
        Some(input) => Some(stage_surveys(input, o, accounts.as_ref(), health_surveys, &mut r)?),
        None => None,
    };
    let usage = match usage_input {
        Some(input) => {
            let u = Usage::read(input, input.input_tz.unwrap_or(o.input_tz), o.tz)?;
            r.meta.inputs.insert(
                "usage".into(),
                InputMeta {
                    path: input.path.clone(),
                    format: u.source.format,
                    preset: input.preset.map(|p| p.name().to_owned()),
                    rows_read: u.rows_read,
                    rows_used: u.rows.len(),
                },
            );
            r.data_quality.insert("usage".into(), u.quality.clone());
            Some(u)
        }
        None => None,
    };
    let transactions = match tx_input {
        Some(input) => Some(stage_transactions(input, o, accounts.as_ref(), &mut r)?),
        None => None,
    };
    for b in &o.by {
        let in_tickets = tickets.as_ref().is_some_and(|t| t.df.column(b).is_ok());
        let in_accounts = lines.is_some() && accounts.as_ref().is_some_and(|a| a.has(b));
        let in_surveys = responses.as_ref().is_some_and(|s| s.df.column(b).is_ok());
        let in_tx = transactions.as_ref().is_some_and(|t| t.df.column(b).is_ok());
        if !in_tickets && !in_accounts && !in_surveys && !in_tx {
            let mut tables = Vec::new();
            if tickets.is_some() {
                tables.push("tickets");
            }
            if responses.is_some() {
                tables.push("survey_responses");
            }
            if transactions.is_some() {
                tables.push("transactions");
            }
            if accounts.is_some() {
                tables.push("accounts");
            }
            let mut found = if tables.is_empty() { "any input".to_owned() } else { tables.join(" or ") };
            if lines.is_some() && accounts.is_none() {
                found.push_str(" (revenue and cohorts take dimensions from --accounts, which is not given)");
            }
            return Err(Error::UnknownDimension { name: b.clone(), tables: found });
        }
    }
    let health_data = match (&o.health, wants_health) {
        (Some(_), true) => Some(health_data(o, usage.as_ref(), tickets.as_ref(), responses.as_ref(), lines.as_ref())?),
        _ => None,
    };
    let tickets = tickets.filter(|_| wants_support);
    let lines = lines.filter(|_| wants_revenue);
    let responses = responses.filter(|_| wants_surveys);
    if let Some(t) = tickets {
        support_section(t, o, command, &mut r)?;
    }
    if let Some(lines) = lines {
        revenue_sections(&lines, accounts.as_ref(), o, command, &mut r)?;
    }
    if let Some(responses) = responses {
        surveys_section(&responses, o, command, &mut r)?;
    }
    if let Some(t) = transactions {
        purchases_section(&t, o, command, &mut r)?;
    }
    if let (Some(data), Some(config)) = (health_data, &o.health) {
        health_sections(config, &data, usage.as_ref(), accounts.as_ref(), o, command, &mut r)?;
    }
    Ok(r)
}

/// The dimensions a section has, or all-or-nothing: a section without
/// every `--by` name is output ungrouped, with a note (details 13).
fn section_by(o: &ReportOptions, section: &str, has: impl Fn(&str) -> bool, r: &mut Report) -> Vec<String> {
    match o.by.iter().find(|b| !has(b)) {
        None => o.by.clone(),
        Some(missing) => {
            r.meta.notes.push(format!("{section}: not grouped, `{missing}` is not one of its dimensions"));
            Vec::new()
        }
    }
}

fn stage_tickets(
    input: &TableInput,
    o: &ReportOptions,
    accounts: Option<&Accounts>,
    for_health: bool,
    r: &mut Report,
) -> Result<Tickets> {
    // Dimensions the accounts table has come through the tickets' account_id.
    let from_accounts: Vec<&String> =
        o.by.iter().filter(|b| accounts.is_some_and(|a| a.has(b)) && b.as_str() != ACCOUNT_ID).collect();
    let mut dims = o.by.clone();
    if (for_health || !from_accounts.is_empty()) && !dims.iter().any(|d| d == ACCOUNT_ID) {
        dims.push(ACCOUNT_ID.to_owned());
    }
    let read = TicketReadOptions {
        input_tz: o.input_tz,
        csat: o.support.csat.validate()?,
        as_of: o.as_of,
        dims,
        tags: o.support.escalation_tag.is_some(),
    };
    let mut tickets = Tickets::read(input, &read)?;
    let missing: Vec<&String> = from_accounts.into_iter().filter(|b| tickets.df.column(b).is_err()).collect();
    if let (Some(a), false, true) = (accounts, missing.is_empty(), tickets.df.column(ACCOUNT_ID).is_ok()) {
        let mut sel = vec![col(ACCOUNT_ID)];
        sel.extend(missing.iter().map(|b| col(b.as_str())));
        let args = JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) };
        tickets.df = std::mem::take(&mut tickets.df)
            .lazy()
            .join(a.df.clone().lazy().select(sel), [col(ACCOUNT_ID)], [col(ACCOUNT_ID)], args)
            .collect()
            .ctx("joining account dimensions to tickets")?;
    }
    r.meta.inputs.insert(
        "tickets".into(),
        InputMeta {
            path: input.path.clone(),
            format: tickets.source.format,
            preset: input.preset.map(|p| p.name().to_owned()),
            rows_read: tickets.rows_read,
            rows_used: tickets.rows_used(),
        },
    );
    r.data_quality.insert("tickets".into(), tickets.quality.clone());
    if tickets.rows_used() == 0 && r.meta.command != Command::Validate {
        return Err(Error::Empty {
            path: input.path.clone().into(),
            what: "no usable rows: every row was rejected (run `cxm validate` to see each reason and its rows)".into(),
        });
    }
    r.meta.as_of = Some(rfc3339(tickets.as_of));
    Ok(tickets)
}

fn support_section(mut tickets: Tickets, o: &ReportOptions, command: Command, r: &mut Report) -> Result<()> {
    let period = o.period.unwrap_or(Period::Week);
    let first = o.since.or_else(|| tickets.first_created().map(|c| local_date(c, o.tz)));
    let last = o.until.unwrap_or_else(|| local_date(tickets.as_of, o.tz));
    let spine = Spine::new(period, o.tz, first.unwrap_or(last), last);
    r.meta.first_period = spine.starts.first().map(ToString::to_string);
    r.meta.last_period = spine.starts.last().map(ToString::to_string);
    if command == Command::Validate {
        return Ok(());
    }
    let by = section_by(o, "support", |b| tickets.df.column(b).is_ok(), r);
    support::add_periods(&mut tickets, period, o.tz)?;
    let cx = SupportContext { period, tz: o.tz, by, spine, as_of: tickets.as_of, options: o.support.clone() };
    let (planned, rules) = support::plan_all(&tickets, &cx)?;
    r.meta.rules.extend(rules);
    let mut metrics = Vec::new();
    for p in planned {
        match p {
            Ok(m) => metrics.push(m),
            Err(s) => r.meta.skipped.push(s),
        }
    }
    let df = assemble(&tickets, &cx, &metrics)?;
    r.sections.push(("support".to_owned(), df));
    Ok(())
}

fn stage_surveys(
    input: &TableInput,
    o: &ReportOptions,
    accounts: Option<&Accounts>,
    for_health: bool,
    r: &mut Report,
) -> Result<Responses> {
    let from_accounts: Vec<&String> =
        o.by.iter().filter(|b| accounts.is_some_and(|a| a.has(b)) && b.as_str() != ACCOUNT_ID).collect();
    let mut dims = o.by.clone();
    if (for_health || !from_accounts.is_empty()) && !dims.iter().any(|d| d == ACCOUNT_ID) {
        dims.push(ACCOUNT_ID.to_owned());
    }
    o.surveys.csat.validate()?;
    let mut responses = Responses::read(input, &o.surveys, &dims, input.input_tz.unwrap_or(o.input_tz))?;
    let missing: Vec<&String> = from_accounts.into_iter().filter(|b| responses.df.column(b).is_err()).collect();
    if let (Some(a), false, true) = (accounts, missing.is_empty(), responses.df.column(ACCOUNT_ID).is_ok()) {
        let mut sel = vec![col(ACCOUNT_ID)];
        sel.extend(missing.iter().map(|b| col(b.as_str())));
        let args = JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) };
        responses.df = std::mem::take(&mut responses.df)
            .lazy()
            .join(a.df.clone().lazy().select(sel), [col(ACCOUNT_ID)], [col(ACCOUNT_ID)], args)
            .collect()
            .ctx("joining account dimensions to survey responses")?;
    }
    r.meta.inputs.insert(
        "survey_responses".into(),
        InputMeta {
            path: input.path.clone(),
            format: responses.source.format,
            preset: input.preset.map(|p| p.name().to_owned()),
            rows_read: responses.rows_read,
            rows_used: responses.rows_used(),
        },
    );
    r.data_quality.insert("survey_responses".into(), responses.quality.clone());
    if responses.rows_used() == 0 && r.meta.command != Command::Validate {
        return Err(Error::Empty {
            path: input.path.clone().into(),
            what: "no valid survey responses: every row was rejected (run `cxm validate` to see why)".into(),
        });
    }
    Ok(responses)
}

fn surveys_section(responses: &Responses, o: &ReportOptions, command: Command, r: &mut Report) -> Result<()> {
    let period = o.period.unwrap_or(Period::Week);
    let Some((first, last)) = responses.span() else { return Ok(()) };
    let first = o.since.unwrap_or_else(|| local_date(first, o.tz));
    let last = o.until.unwrap_or_else(|| local_date(last, o.tz));
    let spine = Spine::new(period, o.tz, first, last);
    let (f, l) = (spine.starts.first().map(ToString::to_string), spine.starts.last().map(ToString::to_string));
    if r.sections.is_empty() && !r.meta.inputs.contains_key("tickets") && !r.meta.inputs.contains_key("subscriptions") {
        r.meta.period = period;
        r.meta.first_period.clone_from(&f);
        r.meta.last_period.clone_from(&l);
    }
    r.meta.rules.insert("surveys_period".into(), period.name().into());
    r.meta.rules.insert("surveys_first_period".into(), f.unwrap_or_default());
    r.meta.rules.insert("surveys_last_period".into(), l.unwrap_or_default());
    r.meta.rules.insert("surveys_csat_scale".into(), o.surveys.csat.describe());
    r.meta.rules.insert("ces_scale".into(), format!("{}-{}", o.surveys.ces.min, o.surveys.ces.max));
    r.meta.rules.insert("default_survey".into(), o.surveys.default_survey.name().into());
    if command == Command::Validate {
        return Ok(());
    }
    let by = section_by(o, "surveys", |b| responses.df.column(b).is_ok(), r);
    let df = surveys::surveys_table(responses, period, o.tz, &spine, &by)?;
    r.sections.push(("surveys".to_owned(), df));
    Ok(())
}

/// Joins the dimensions of `accounts` that `df` lacks on `account_id`.
fn join_account_dims(df: DataFrame, accounts: Option<&Accounts>, by: &[String], what: &str) -> Result<DataFrame> {
    let Some(a) = accounts else { return Ok(df) };
    let missing: Vec<&String> =
        by.iter().filter(|b| b.as_str() != ACCOUNT_ID && a.has(b) && df.column(b.as_str()).is_err()).collect();
    if missing.is_empty() || df.column(ACCOUNT_ID).is_err() {
        return Ok(df);
    }
    let mut sel = vec![col(ACCOUNT_ID)];
    sel.extend(missing.iter().map(|b| col(b.as_str())));
    let args = JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) };
    df.lazy()
        .join(a.df.clone().lazy().select(sel), [col(ACCOUNT_ID)], [col(ACCOUNT_ID)], args)
        .collect()
        .ctx(&format!("joining account dimensions to {what}"))
}

fn stage_transactions(
    input: &TableInput,
    o: &ReportOptions,
    accounts: Option<&Accounts>,
    r: &mut Report,
) -> Result<Transactions> {
    let mut t = Transactions::read(input, &o.by, input.input_tz.unwrap_or(o.input_tz))?;
    t.df = join_account_dims(std::mem::take(&mut t.df), accounts, &o.by, "transactions")?;
    r.meta.inputs.insert(
        "transactions".into(),
        InputMeta {
            path: input.path.clone(),
            format: t.source.format,
            preset: input.preset.map(|p| p.name().to_owned()),
            rows_read: t.rows_read,
            rows_used: t.rows_used(),
        },
    );
    r.data_quality.insert("transactions".into(), t.quality.clone());
    if t.rows_used() == 0 && r.meta.command != Command::Validate {
        return Err(Error::Empty {
            path: input.path.clone().into(),
            what: "no usable transactions: every row was rejected (run `cxm validate` to see why)".into(),
        });
    }
    Ok(t)
}

fn purchases_section(t: &Transactions, o: &ReportOptions, command: Command, r: &mut Report) -> Result<()> {
    let period = o.period.unwrap_or(Period::Month);
    let Some((first, last)) = t.span() else { return Ok(()) };
    let first = o.since.unwrap_or_else(|| local_date(first, o.tz));
    let last = o.until.unwrap_or_else(|| local_date(last, o.tz));
    let spine = Spine::new(period, o.tz, first, last);
    r.meta.rules.insert("purchases_period".into(), period.name().into());
    if command == Command::Validate {
        return Ok(());
    }
    let by = section_by(o, "purchases", |b| t.df.column(b).is_ok(), r);
    let df = purchases::purchases_table(t, period, o.tz, &spine, &by)?;
    r.sections.push(("purchases".to_owned(), df));
    Ok(())
}

/// Extracts what health components draw on from the staged inputs.
fn health_data(
    o: &ReportOptions,
    usage: Option<&Usage>,
    tickets: Option<&Tickets>,
    responses: Option<&Responses>,
    lines: Option<&Lines>,
) -> Result<HealthData> {
    use crate::health::sources::{instants, texts};
    let mut d = HealthData { tz: o.tz, ..HealthData::default() };
    if let Some(u) = usage {
        d.usage.clone_from(&u.rows);
    }
    if let Some(t) = tickets.filter(|t| t.df.column(ACCOUNT_ID).is_ok()) {
        let ids = texts(&t.df, ACCOUNT_ID)?;
        let created = instants(&t.df, crate::schema::tickets::CREATED_AT)?;
        let rated = match (t.df.column(crate::schema::tickets::CSAT_AT), t.df.column(crate::schema::tickets::SOLVED_AT))
        {
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

#[allow(clippy::too_many_arguments)]
fn health_sections(
    config: &HealthConfig,
    data: &HealthData,
    usage: Option<&Usage>,
    accounts: Option<&Accounts>,
    o: &ReportOptions,
    command: Command,
    r: &mut Report,
) -> Result<()> {
    // As-of: explicit, else the day after the latest usage date, else the
    // report's as_of (tickets), else the latest NPS response or line start.
    let latest_usage = usage.and_then(Usage::latest).map(|d| {
        let date =
            chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Duration::days(i64::from(d) + 1);
        crate::period::day_start(date, o.tz)
    });
    let from_tickets = r.meta.as_of.as_deref().and_then(|s| parse_instant(s, o.tz).ok()).map(|t| t + 1);
    let other = data.nps.iter().map(|n| n.1).chain(data.lines.iter().map(|l| l.1)).max().map(|t| t + 1);
    let Some(bound) = o.as_of.map(|t| t + 1).or(latest_usage).or(from_tickets).or(other) else {
        return Err(Error::Config("health: no input to score (give --usage, or --as-of with other inputs)".into()));
    };
    let as_of_date = local_date(bound - 1, o.tz);
    r.meta.rules.insert("health_as_of".into(), as_of_date.to_string());
    let bands = config.bands;
    r.meta.rules.insert("health_bands".into(), format!("red < {} <= yellow < {} <= green", bands.yellow, bands.green));
    for c in &config.components {
        let given = match &c.source {
            HealthSource::Usage { .. } | HealthSource::LastActivity { .. } => usage.is_some(),
            HealthSource::Nps => !data.nps.is_empty(),
            HealthSource::Csat | HealthSource::Tickets => !data.tickets.is_empty(),
            HealthSource::MrrTrend => !data.lines.is_empty(),
        };
        if !given {
            r.meta
                .notes
                .push(format!("health: component `{}` has no input data; its weight goes to the others", c.name));
        }
    }
    if command == Command::Validate {
        return Ok(());
    }
    let universe = match accounts {
        Some(a) => texts_set(&a.df)?,
        None => data.accounts(),
    };
    let scores = health::score_all(config, data, &universe, bound);
    r.sections.push(("health".to_owned(), health::health_table(config, &scores, o.at_risk)?));
    let period = o.period.unwrap_or(Period::Week);
    let first = o.since.unwrap_or_else(|| {
        let earliest = usage.and_then(|u| u.rows.iter().map(|r| r.1).min());
        earliest.map_or(as_of_date - chrono::Duration::days(83), |d| {
            chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Duration::days(i64::from(d))
        })
    });
    let last = o.until.unwrap_or(as_of_date);
    let spine = Spine::new(period, o.tz, first, last);
    r.sections.push(("health_summary".to_owned(), health::summary_table(config, data, &universe, &spine, bound)?));
    Ok(())
}

fn texts_set(df: &DataFrame) -> Result<std::collections::BTreeSet<String>> {
    let c = df.column(ACCOUNT_ID).ctx(ACCOUNT_ID)?.cast(&DataType::String).ctx(ACCOUNT_ID)?;
    Ok(c.str().ctx(ACCOUNT_ID)?.iter().flatten().map(str::to_owned).collect())
}

fn stage_lines(input: &TableInput, o: &ReportOptions, r: &mut Report) -> Result<Lines> {
    let lo = LinesOptions {
        input_tz: o.input_tz,
        reporting_currency: o.revenue.reporting_currency.clone(),
        rates: o.revenue.rates.clone(),
    };
    let lines = Lines::read(input, &lo)?;
    r.meta.inputs.insert(
        "subscriptions".into(),
        InputMeta {
            path: input.path.clone(),
            format: lines.source.format,
            preset: input.preset.map(|p| p.name().to_owned()),
            rows_read: lines.rows_read,
            rows_used: lines.rows_used(),
        },
    );
    r.data_quality.insert("subscriptions".into(), lines.quality.clone());
    if lines.rows_used() == 0 && r.meta.command != Command::Validate {
        return Err(Error::Empty {
            path: input.path.clone().into(),
            what: "no usable subscription lines: every row was rejected (run `cxm validate` to see why)".into(),
        });
    }
    Ok(lines)
}

fn stage_accounts(a: &TableInput, o: &ReportOptions, r: &mut Report) -> Result<Accounts> {
    let acc = Accounts::read(a, &o.by, a.input_tz.unwrap_or(o.input_tz))?;
    r.meta.inputs.insert(
        "accounts".into(),
        InputMeta {
            path: a.path.clone(),
            format: acc.source.format,
            preset: a.preset.map(|p| p.name().to_owned()),
            rows_read: acc.rows_read,
            rows_used: acc.rows_used(),
        },
    );
    r.data_quality.insert("accounts".into(), acc.quality.clone());
    Ok(acc)
}

fn revenue_sections(
    lines: &Lines,
    accounts: Option<&Accounts>,
    o: &ReportOptions,
    command: Command,
    r: &mut Report,
) -> Result<()> {
    let period = o.period.unwrap_or(Period::Month);
    let Some((first, last)) = lines.span() else { return Ok(()) };
    let first = o.since.unwrap_or_else(|| local_date(first, o.tz));
    let last = o.until.unwrap_or_else(|| local_date(last, o.tz));
    let spine = Spine::new(period, o.tz, first, last);
    let (f, l) = (spine.starts.first().map(ToString::to_string), spine.starts.last().map(ToString::to_string));
    if r.sections.is_empty() && !r.meta.inputs.contains_key("tickets") {
        r.meta.period = period;
        r.meta.first_period.clone_from(&f);
        r.meta.last_period.clone_from(&l);
    }
    r.meta.rules.insert("revenue_period".into(), period.name().into());
    r.meta.rules.insert("revenue_first_period".into(), f.unwrap_or_default());
    r.meta.rules.insert("revenue_last_period".into(), l.unwrap_or_default());
    r.meta.rules.insert("mrr_source".into(), lines.mrr_source.into());
    if let Some(c) = &lines.currency {
        r.meta.rules.insert("currency".into(), c.clone());
    }
    r.meta.rules.insert("gross_margin".into(), o.revenue.gross_margin.to_string());
    if command == Command::Validate {
        return Ok(());
    }
    let by = section_by(o, "revenue and cohorts", |b| accounts.is_some_and(|a| a.has(b)), r);
    let with = revenue::with_dims(lines, accounts, &by);
    let cx = RevenueContext { period, tz: o.tz, spine, by };
    // `--since` after `--until`: no periods, empty tables with their columns.
    let changes = if cx.spine.starts.is_empty() {
        revenue::movements::Changes::default()
    } else {
        revenue::movements::account_changes(&with, &cx)?
    };
    if command != Command::Cohorts {
        r.sections.push(("revenue".to_owned(), revenue::revenue(&with, &changes, &cx, &o.revenue)?));
    }
    if command != Command::Revenue {
        r.sections.push(("cohorts".to_owned(), revenue::cohorts::cohorts(&changes, &cx)?));
    }
    Ok(())
}

/// Joins every metric's parts onto the spine of periods x dimension values,
/// fills event counts with 0, orders rows and columns, and collects once.
fn assemble(t: &Tickets, cx: &SupportContext, metrics: &[support::Metric]) -> Result<DataFrame> {
    let key_names: Vec<String> = std::iter::once(PERIOD_START.to_owned()).chain(cx.by.iter().cloned()).collect();
    let keys: Vec<Expr> = key_names.iter().map(|k| col(k.as_str())).collect();
    let mut frame = cx.spine.frame().lazy();
    if !cx.by.is_empty() {
        let combos =
            t.df.clone()
                .lazy()
                .select(cx.by.iter().map(|b| col(b.as_str()).cast(DataType::String)).collect::<Vec<_>>())
                .unique(None, UniqueKeepStrategy::Any);
        frame = frame.cross_join(combos, None);
    }
    let args = JoinArgs { nulls_equal: true, ..JoinArgs::new(JoinType::Left) };
    let mut out_cols = keys.clone();
    for m in metrics {
        for part in &m.parts {
            let mut part = part.clone();
            let schema = part.collect_schema().ctx("planning support")?;
            let mut sel = keys.clone();
            sel.extend(m.columns.iter().filter(|c| schema.contains(c)).map(|c| col(c.as_str())));
            frame = frame.join(part.select(sel), keys.clone(), keys.clone(), args.clone());
        }
        let schema = frame.collect_schema().ctx("planning support")?;
        for c in &m.columns {
            let is_count = m.counts.contains(c);
            let e = match (schema.contains(c), is_count) {
                (true, true) => col(c.as_str()).fill_null(lit(0u32)),
                (true, false) => col(c.as_str()),
                (false, true) => lit(0u32).alias(c.as_str()),
                (false, false) => lit(NULL).cast(DataType::Float64).alias(c.as_str()),
            };
            out_cols.push(e);
        }
    }
    let sort = SortMultipleOptions::default().with_nulls_last(true).with_maintain_order(true);
    frame
        .select(out_cols)
        .sort(key_names.iter().map(String::as_str).collect::<Vec<_>>(), sort)
        .collect()
        .ctx("computing support metrics")
}

/// An instant as RFC 3339 UTC with `Z`.
pub fn rfc3339(t: Micros) -> String {
    chrono::DateTime::from_timestamp_micros(t)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

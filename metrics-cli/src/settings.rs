//! Settings resolve once, flags > config file > defaults, into the
//! library's typed options; commands receive only the result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use metrics_core::calendar::{BusinessCalendar, CalendarSection};
use metrics_core::mapping::{ColumnSpec, DurationUnit, TableInput};
use metrics_core::parse::timestamp::{TimestampFormat, ValidYears};
use metrics_core::preset::Preset;
use metrics_core::report::{Inputs, ReportOptions, parse_instant};
use metrics_core::support::{CsatScale, FcrRule};
use metrics_core::{Period, period::local_date};
use serde::Deserialize;

use crate::cli::{FcrArg, Format, PeriodArg, ReportArgs};

/// `cxm.toml`, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    report: Option<ReportSection>,
    tickets: Option<TableSection>,
    subscriptions: Option<TableSection>,
    accounts: Option<TableSection>,
    support: Option<SupportSection>,
    revenue: Option<RevenueSection>,
    surveys: Option<SurveysSection>,
    transactions: Option<TableSection>,
    usage: Option<TableSection>,
    health: Option<metrics_core::health::HealthSection>,
    #[serde(default)]
    calendars: BTreeMap<String, CalendarSection>,
    sla: Option<metrics_core::support::sla::SlaSection>,
}

/// `[surveys]`: the survey_responses input and the survey rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SurveysSection {
    path: Option<String>,
    preset: Option<String>,
    input_tz: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, toml::Value>,
    default_survey: Option<String>,
    csat_scale: Option<ScaleEntry>,
    ces_scale: Option<RangeEntry>,
    encoding: Option<String>,
    delimiter: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeEntry {
    min: f64,
    max: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevenueSection {
    reporting_currency: Option<String>,
    rates: Option<String>,
    gross_margin: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportSection {
    period: Option<String>,
    tz: Option<String>,
    input_tz: Option<String>,
    since: Option<String>,
    until: Option<String>,
    as_of: Option<String>,
    by: Option<Vec<String>>,
    week_start: Option<String>,
    valid_years: Option<[i32; 2]>,
    max_excluded: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableSection {
    path: Option<String>,
    preset: Option<String>,
    input_tz: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, toml::Value>,
    encoding: Option<String>,
    delimiter: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SupportSection {
    fcr: Option<String>,
    csat_scale: Option<ScaleEntry>,
    escalation_tag: Option<String>,
    escalation: Option<EscalationEntry>,
    durations: Option<String>,
    max_duration_days: Option<f64>,
    percentiles: Option<Vec<f64>>,
    calendar: Option<String>,
}

/// `[support] escalation = { column = "reassignment_count", min = 1 }` or
/// `escalation = "sla_breach"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum EscalationEntry {
    Rule(String),
    Count { column: String, min: i64 },
}

impl EscalationEntry {
    fn column(&self) -> Option<&str> {
        match self {
            Self::Count { column, .. } => Some(column),
            Self::Rule(_) => None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleEntry {
    min: i64,
    max: i64,
    satisfied_min: i64,
}

/// Where output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// Standard output.
    Stdout,
    /// One file.
    File(PathBuf),
    /// A folder with one file per table plus meta.json.
    Folder(PathBuf),
}

/// Everything a report command needs, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) inputs: Inputs,
    pub(crate) options: ReportOptions,
    pub(crate) format: Format,
    pub(crate) target: Target,
    /// `--section`: only this section is written.
    pub(crate) section: Option<String>,
}

/// A usage error (exit 2) rather than a data error (exit 1).
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UsageError {}

fn zone(s: &str, what: &str) -> Result<chrono_tz::Tz> {
    s.parse()
        .map_err(|_| anyhow::anyhow!("{what}: unknown time zone `{s}` (expected an IANA name such as Europe/Berlin)"))
}

/// One `[tickets.columns]` entry: `canonical = "Source"` or
/// `canonical = { column = "Source", unit = "...", format = "...", epoch = "..." }`.
fn column_spec(table: &str, canonical: &str, e: toml::Value) -> Result<ColumnSpec> {
    let here = format!("[{table}.columns] {canonical}");
    let table = match e {
        toml::Value::String(column) => return Ok(ColumnSpec::named(column)),
        toml::Value::Table(t) => t,
        other => bail!("{here}: expected a column name or a table, found {}", other.type_str()),
    };
    let text = |key: &str| -> Result<Option<String>> {
        match table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => bail!("{here}.{key}: expected text, found {}", other.type_str()),
        }
    };
    let column = text("column")?.with_context(|| format!("{here}: missing `column`"))?;
    let position = match table.get("position") {
        None => None,
        Some(toml::Value::Integer(p)) if *p >= 1 => Some(usize::try_from(*p)?),
        Some(other) => bail!("{here}.position: expected a column position from 1, found {other}"),
    };
    let unit = text("unit")?.as_deref().map(str::parse::<DurationUnit>).transpose().with_context(|| here.clone())?;
    let format = match (text("format")?, text("epoch")?.as_deref()) {
        (Some(_), Some(_)) => bail!("{here}: give either format or epoch, not both"),
        (Some(f), None) => TimestampFormat::Strftime(f),
        (None, Some("seconds" | "s")) => TimestampFormat::EpochSeconds,
        (None, Some("milliseconds" | "ms")) => TimestampFormat::EpochMillis,
        (None, Some(other)) => bail!("{here}: unknown epoch unit `{other}` (expected seconds or milliseconds)"),
        (None, None) => TimestampFormat::Auto,
    };
    let mut values = BTreeMap::new();
    match table.get("values") {
        None => {}
        Some(toml::Value::Table(t)) => {
            for (from, to) in t {
                let to = to.as_str().with_context(|| format!("{here}.values.{from}: expected text"))?;
                values.insert(from.clone(), to.to_owned());
            }
        }
        Some(other) => bail!("{here}.values: expected a table, found {}", other.type_str()),
    }
    let known = ["column", "unit", "format", "epoch", "values", "position"];
    if let Some(key) = table.keys().find(|k| !known.contains(&k.as_str())) {
        bail!("{here}: unknown key `{key}` (expected column, unit, format, epoch, values or position)");
    }
    Ok(ColumnSpec { column, unit, format, values, position, ..ColumnSpec::default() })
}

fn format_of_path(p: &Path) -> Result<Option<Format>> {
    Ok(match p.extension().and_then(|e| e.to_str()) {
        None => None,
        Some("csv") => Some(Format::Csv),
        Some("json") => Some(Format::Json),
        Some("md") => Some(Format::Markdown),
        Some("html") => Some(Format::Html),
        Some(other) => return Err(UsageError(format!(
            "--output {}: unknown extension `.{other}` (expected .csv, .json, .md or .html, or a folder without extension)",
            p.display()
        ))
        .into()),
    })
}

impl Settings {
    /// Resolves flags over the config file over defaults.
    pub(crate) fn resolve(a: &ReportArgs, stdout_is_terminal: bool) -> Result<Self> {
        let (mut file, base) = read_config(a.config.as_deref())?;
        let mut o = ReportOptions::default();
        report_options(a, file.report.take().unwrap_or_default(), &mut o)?;
        let support = file.support.take().unwrap_or_default();
        let escalation_column = support.escalation.as_ref().and_then(|e| e.column().map(str::to_owned));
        time_rules(a, &support, &file, &mut o)?;
        support_options(a, support, &mut o)?;
        revenue_options(a, file.revenue.take().unwrap_or_default(), &base, &mut o)?;
        let surveys = file.surveys.take().unwrap_or_default();
        survey_options(&surveys, &mut o)?;
        if let Some(h) = &file.health {
            o.health = Some(metrics_core::health::HealthConfig::from_section(h)?);
        }
        o.at_risk = a.at_risk;
        let mut inputs = inputs(a, file, surveys, &base)?;
        if let (Some(t), Some(c)) = (inputs.tickets.as_mut(), escalation_column) {
            // The count column feeds the canonical `escalation_count`.
            t.columns.entry("escalation_count".to_owned()).or_insert_with(|| ColumnSpec::named(c));
        }
        let (format, target) = output(a, stdout_is_terminal)?;
        Ok(Self { inputs, options: o, format, target, section: a.section.clone() })
    }
}

/// Whether `text` is a config file cxm accepts (every key known).
#[cfg(test)]
pub(crate) fn check_config_text(text: &str) -> Result<()> {
    toml::from_str::<ConfigFile>(text)?;
    Ok(())
}

/// The config file and the folder its relative paths start from (none:
/// defaults, paths as given).
fn read_config(path: Option<&Path>) -> Result<(ConfigFile, PathBuf)> {
    let Some(p) = path else { return Ok((ConfigFile::default(), PathBuf::new())) };
    let text = std::fs::read_to_string(p).with_context(|| format!("{}: cannot read config", p.display()))?;
    let cfg: ConfigFile = toml::from_str(&text).with_context(|| format!("{}: invalid config", p.display()))?;
    Ok((cfg, p.parent().map(Path::to_path_buf).unwrap_or_default()))
}

/// `[report]` and the flags over it: period, zones, range, as-of,
/// `max_excluded`, valid years, week start, `by`.
fn report_options(a: &ReportArgs, report: ReportSection, o: &mut ReportOptions) -> Result<()> {
    o.period = match (a.period, report.period.as_deref()) {
        (Some(p), _) => Some(match p {
            PeriodArg::Day => Period::Day,
            PeriodArg::Week => Period::Week,
            PeriodArg::Month => Period::Month,
            PeriodArg::Quarter => Period::Quarter,
            PeriodArg::Year => Period::Year,
        }),
        (None, Some(p)) => Some(p.parse().context("[report] period")?),
        (None, None) => None,
    };
    if let Some(tz) = a.tz.as_deref().or(report.tz.as_deref()) {
        o.tz = zone(tz, if a.tz.is_some() { "--tz" } else { "[report] tz" })?;
    }
    if let Some(tz) = a.input_tz.as_deref().or(report.input_tz.as_deref()) {
        o.input_tz = zone(tz, if a.input_tz.is_some() { "--input-tz" } else { "[report] input_tz" })?;
    }
    let tz = o.tz;
    let date = |s: Option<&str>, what: &str| -> Result<Option<chrono::NaiveDate>> {
        s.map(|s| parse_instant(s, tz).map(|t| local_date(t, tz)).with_context(|| what.to_owned())).transpose()
    };
    o.since = date(a.since.as_deref().or(report.since.as_deref()), "--since")?;
    o.until = date(a.until.as_deref().or(report.until.as_deref()), "--until")?;
    o.as_of =
        a.as_of.as_deref().or(report.as_of.as_deref()).map(|s| parse_instant(s, tz)).transpose().context("--as-of")?;
    match (a.max_excluded, report.max_excluded) {
        (Some(m), _) if !(0.0..=1.0).contains(&m) => {
            return Err(UsageError(format!("--max-excluded: {m} is not a share between 0 and 1")).into());
        }
        (None, Some(m)) if !(0.0..=1.0).contains(&m) => {
            bail!("[report] max_excluded: {m} is not a share between 0 and 1")
        }
        (Some(m), _) | (None, Some(m)) => o.max_excluded = m,
        (None, None) => {}
    }
    if let Some([first, last]) = report.valid_years {
        o.valid_years = ValidYears::new(first, last).context("[report] valid_years")?;
    }
    if let Some(w) = &report.week_start {
        o.week_start = w
            .trim()
            .parse::<chrono::Weekday>()
            .map_err(|_| anyhow::anyhow!("[report] week_start: unknown day `{w}` (expected monday ... sunday)"))?;
    }
    o.by = if a.by.is_empty() { report.by.unwrap_or_default() } else { a.by.clone() };
    Ok(())
}

/// `[support]` and the flags over it, checked by the library (a bad
/// `--percentiles` is a usage error).
fn support_options(a: &ReportArgs, support: SupportSection, o: &mut ReportOptions) -> Result<()> {
    o.support.fcr = match (a.fcr, support.fcr.as_deref()) {
        (Some(FcrArg::Zendesk), _) => FcrRule::Zendesk,
        (Some(FcrArg::OneTouch), _) => FcrRule::OneTouch,
        (Some(FcrArg::Flag), _) => FcrRule::Flag,
        (None, Some(s)) => s.parse().context("[support] fcr")?,
        (None, None) => FcrRule::default(),
    };
    if let Some(s) = support.csat_scale {
        o.support.csat = CsatScale { min: s.min, max: s.max, satisfied_min: s.satisfied_min };
    }
    o.support.escalation_tag = support.escalation_tag;
    if let Some(days) = support.max_duration_days {
        if !(days > 0.0 && days <= 36_600.0) {
            bail!("[support] max_duration_days: {days} is not a number of days from above 0 to 36600");
        }
        o.support.max_duration = (days * 86_400e6) as i64;
    }
    if let Some(d) = &support.durations {
        o.support.durations = d.parse().context("[support] durations")?;
    }
    o.support.escalation_min = match support.escalation {
        Some(EscalationEntry::Count { min, .. }) => Some(min),
        _ => None,
    };
    o.support.percentiles =
        if a.percentiles.is_empty() { support.percentiles.unwrap_or_default() } else { a.percentiles.clone() };
    o.support = match o.support.validated() {
        Ok(v) => v,
        Err(e) if !a.percentiles.is_empty() && is_option(&e, "percentiles") => {
            return Err(UsageError(format!("--{e}")).into());
        }
        Err(e) => return Err(anyhow::anyhow!("[support] {e}")),
    };
    Ok(())
}

/// The business calendar (`--calendar`, `[support] calendar`), the SLA
/// rules (`[sla]`) and escalation by SLA breach.
fn time_rules(a: &ReportArgs, support: &SupportSection, file: &ConfigFile, o: &mut ReportOptions) -> Result<()> {
    let calendar = a.calendar.as_deref().map(|n| (n, "--calendar"));
    let calendar = calendar.or(support.calendar.as_deref().map(|n| (n, "[support] calendar")));
    o.support.calendar = calendar.map(|(name, from)| named_calendar(&file.calendars, name, from)).transpose()?;
    if let Some(s) = &file.sla {
        o.sla = Some(metrics_core::support::sla::SlaOptions::from_section(s, &file.calendars)?);
    }
    match &support.escalation {
        Some(EscalationEntry::Rule(r)) if r.trim() == "sla_breach" => {
            let sla = o.sla.clone();
            o.support.escalation_sla =
                Some(sla.context("[support] escalation = \"sla_breach\" needs an [sla] section with targets")?);
        }
        Some(EscalationEntry::Rule(r)) => {
            bail!("[support] escalation: unknown rule `{r}` (expected \"sla_breach\" or {{ column, min }})")
        }
        _ => {}
    }
    Ok(())
}

/// The calendar `name` of the config's `[calendars.*]`; `from` says who
/// asked for it.
fn named_calendar(all: &BTreeMap<String, CalendarSection>, name: &str, from: &str) -> Result<BusinessCalendar> {
    let Some(section) = all.get(name) else {
        let known: Vec<&str> = all.keys().map(String::as_str).collect();
        let known = if known.is_empty() { "the config has none".to_owned() } else { known.join(", ") };
        bail!("{from}: no calendar `{name}` in the config's [calendars.*] ({known})");
    };
    Ok(BusinessCalendar::from_section(name, section)?)
}

/// Whether a library error is about this option.
fn is_option(e: &metrics_core::Error, name: &str) -> bool {
    matches!(e.kind(), metrics_core::ErrorKind::InvalidOption { key, .. } if key == name)
}

/// `[revenue]` and `--currency`, `--rates`.
fn revenue_options(a: &ReportArgs, revenue: RevenueSection, base: &Path, o: &mut ReportOptions) -> Result<()> {
    o.revenue.reporting_currency = a.currency.clone().or(revenue.reporting_currency);
    if let Some(m) = revenue.gross_margin {
        o.revenue.gross_margin = m;
        o.revenue.validated().map_err(|e| anyhow::anyhow!("[revenue] {e}"))?;
    }
    o.revenue.rates =
        a.rates.clone().or_else(|| revenue.rates.as_ref().map(|p| relative(base, p))).map(TableInput::new);
    Ok(())
}

/// The survey rules of `[surveys]`, checked by the library.
fn survey_options(surveys: &SurveysSection, o: &mut ReportOptions) -> Result<()> {
    if let Some(d) = &surveys.default_survey {
        o.surveys.default_survey = d.parse().context("[surveys] default_survey")?;
    }
    if let Some(sc) = &surveys.csat_scale {
        o.surveys.csat = CsatScale { min: sc.min, max: sc.max, satisfied_min: sc.satisfied_min };
    }
    if let Some(r) = &surveys.ces_scale {
        o.surveys.ces = metrics_core::surveys::Scale { min: r.min, max: r.max };
    }
    o.surveys = o.surveys.validated().context("[surveys]")?;
    Ok(())
}

/// Every input table: flags over the config's sections.
fn inputs(a: &ReportArgs, file: ConfigFile, surveys: SurveysSection, base: &Path) -> Result<Inputs> {
    let delimiter = a.delimiter.as_deref();
    let mut inputs = Inputs::default();
    inputs.tickets = table_input("tickets", a.tickets.as_ref(), file.tickets, &a.preset, base, delimiter)?;
    inputs.subscriptions =
        table_input("subscriptions", a.subscriptions.as_ref(), file.subscriptions, &a.preset, base, delimiter)?;
    inputs.accounts = table_input("accounts", a.accounts.as_ref(), file.accounts, &[], base, delimiter)?;
    let section = TableSection {
        path: surveys.path,
        preset: surveys.preset,
        input_tz: surveys.input_tz,
        columns: surveys.columns,
        encoding: surveys.encoding,
        delimiter: surveys.delimiter,
    };
    inputs.surveys = table_input("surveys", a.surveys.as_ref(), Some(section), &[], base, delimiter)?;
    inputs.transactions =
        table_input("transactions", a.transactions.as_ref(), file.transactions, &[], base, delimiter)?;
    inputs.usage = table_input("usage", a.usage.as_ref(), file.usage, &[], base, delimiter)?;
    Ok(inputs)
}

/// The output format and target: `--output` decides by its extension (a
/// path without one is a folder), else the terminal gets a table and a
/// pipe CSV.
fn output(a: &ReportArgs, _stdout_is_terminal: bool) -> Result<(Format, Target)> {
    // A pipe gets what the terminal shows (every section, no colour, no
    // progress), never one table of several.
    let Some(p) = &a.output else { return Ok((a.format.unwrap_or(Format::Table), Target::Stdout)) };
    match format_of_path(p)? {
        Some(f) if a.format.is_some_and(|g| g != f) => {
            Err(UsageError(format!("--format conflicts with the extension of --output {}", p.display())).into())
        }
        Some(f) => Ok((f, Target::File(p.clone()))),
        None => match a.format.unwrap_or(Format::Csv) {
            Format::Table | Format::Html => Err(UsageError(
                "--format table and html write one page; choose csv, json or markdown for a folder (or --output report.html)"
                    .into(),
            )
            .into()),
            f => Ok((f, Target::Folder(p.clone()))),
        },
    }
}

/// One input table: the flag's path over the config's, the preset for this
/// table from `--preset` over the config's, the config's zone and mapping.
fn table_input(
    table: &str,
    flag: Option<&String>,
    section: Option<TableSection>,
    presets: &[Preset],
    base: &Path,
    flag_delimiter: Option<&str>,
) -> Result<Option<TableInput>> {
    let section = section.unwrap_or_default();
    let Some(path) = flag.cloned().or_else(|| section.path.as_ref().map(|p| relative(base, p))) else {
        return Ok(None);
    };
    let mut t = TableInput::new(path);
    t.preset = match (presets.iter().find(|p| p.table() == table), &section.preset) {
        (Some(p), _) => Some(*p),
        (None, Some(p)) => Some(p.parse().with_context(|| format!("[{table}] preset"))?),
        (None, None) => None,
    };
    if let Some(tz) = &section.input_tz {
        t.input_tz = Some(zone(tz, &format!("[{table}] input_tz"))?);
    }
    if let Some(e) = &section.encoding {
        t.encoding = e.parse().with_context(|| format!("[{table}] encoding"))?;
    }
    if let Some(d) = &section.delimiter {
        t.delimiter = Some(delimiter(d).with_context(|| format!("[{table}] delimiter"))?);
    }
    if let Some(d) = flag_delimiter {
        t.delimiter = Some(delimiter(d).map_err(|e| UsageError(format!("--delimiter: {e}")))?);
    }
    for (canonical, entry) in section.columns {
        let spec = column_spec(table, &canonical, entry)?;
        t.columns.insert(canonical, spec);
    }
    Ok(Some(t))
}

/// A field separator: one ASCII character, `tab`, or `whitespace` (runs
/// of spaces and tabs).
fn delimiter(s: &str) -> Result<u8> {
    match s {
        "tab" | "\t" => Ok(b'\t'),
        "whitespace" | " " => Ok(metrics_core::source::WHITESPACE),
        _ if s.len() == 1 && s.is_ascii() && !matches!(s, "\"" | "\n" | "\r") => Ok(s.as_bytes()[0]),
        _ => bail!(
            "`{s}` is not one ASCII character (or `tab`, `whitespace`); a quote or line break cannot separate fields"
        ),
    }
}

/// A path from the config file, relative to the config's folder (absolute
/// paths pass unchanged; a relative glob is anchored there too).
fn relative(base: &Path, p: &str) -> String {
    if Path::new(p).is_absolute() || base.as_os_str().is_empty() {
        p.to_owned()
    } else {
        base.join(p).to_string_lossy().into_owned()
    }
}

#[cfg(test)]
mod tests {
    //! Config parsing as a fuzz target: random `cxm.toml` texts built from
    //! real keys and hostile values resolve to settings or to an error,
    //! never a panic (docs/guarantees.md, "Fuzzing").

    use clap::Parser;
    use proptest::prelude::*;

    use super::Settings;
    use crate::cli::{Cli, Cmd};

    fn value() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "1",
            "0",
            "-1",
            "100000000",
            "9223372036854775807",
            "inf",
            "-inf",
            "nan",
            "1e308",
            "0.5",
            "\"\"",
            "\"week\"",
            "\"fortnight\"",
            "\"Europe/Berlin\"",
            "\"Mars/Base\"",
            "\"%d/%m/%Y\"",
            "\"seconds\"",
            "[1970, 2100]",
            "[2100, 1970]",
            "[0, 99999]",
            "[]",
            "[[nan, 0], [10, 100]]",
            "[[1, 0], [0, 100]]",
            "{ min = 1, max = 5, satisfied_min = 4 }",
            "{ min = 5, max = 1, satisfied_min = 9 }",
            "{ min = 1, max = inf }",
            "{ column = \"x\", position = 0 }",
            "{ column = \"x\", epoch = \"ms\" }",
            "\"windows-1252\"",
            "\"ebcdic\"",
            "\";\"",
            "\"tab\"",
            "\"ab\"",
            "true",
            "{ yellow = 80, green = 20 }",
        ])
        .prop_map(str::to_owned)
    }

    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "period",
            "tz",
            "input_tz",
            "since",
            "until",
            "as_of",
            "by",
            "week_start",
            "valid_years",
            "fcr",
            "csat_scale",
            "percentiles",
            "gross_margin",
            "default_survey",
            "ces_scale",
            "encoding",
            "delimiter",
            "preset",
            "path",
            "bands",
            "window_days",
            "min",
            "max",
            "thresholds",
            "weight",
            "created_at",
            "bogus",
        ])
        .prop_map(str::to_owned)
    }

    fn section() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "[report]",
            "[tickets]",
            "[tickets.columns]",
            "[support]",
            "[revenue]",
            "[surveys]",
            "[health]",
            "[[health.components]]",
            "[usage]",
            "[nonsense]",
        ])
        .prop_map(str::to_owned)
    }

    fn config() -> impl Strategy<Value = String> {
        prop::collection::vec((section(), prop::collection::vec((key(), value()), 0..5)), 0..5).prop_map(|parts| {
            let mut text = String::new();
            for (s, kvs) in parts {
                text.push_str(&s);
                text.push('\n');
                if s == "[[health.components]]" {
                    text.push_str("name = \"c\"\nsource = \"usage\"\nmetric = \"m\"\nnormalize = \"range\"\n");
                }
                for (k, v) in kvs {
                    text.push_str(&format!("{k} = {v}\n"));
                }
            }
            text
        })
    }

    proptest! {
        #[test]
        fn configs_resolve_or_fail_cleanly(text in config()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("cxm.toml");
            std::fs::write(&path, &text).unwrap();
            let cli = Cli::try_parse_from(["cxm", "validate", "--config", path.to_str().unwrap()]).unwrap();
            let Cmd::Validate(args) = cli.command else { unreachable!() };
            let _ = Settings::resolve(&args, false);
        }
    }
}

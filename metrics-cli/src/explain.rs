//! `cxm config`: the resolved settings and where each came from (a flag,
//! the config file, or the default), in the order `cxm.toml` lists them.

use anyhow::{Context, Result};
use metrics_core::report::ReportOptions;

use crate::cli::ReportArgs;
use crate::settings::Settings;

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Flag,
    File,
    Default,
}

impl Source {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::File => "file",
            Source::Default => "default",
        }
    }
}

/// One resolved setting: its config key (`section.key`), its value as
/// text, and its source.
pub(crate) type Row = (String, String, Source);

/// Collects rows, deciding each source from the flag and the config file.
struct Rows<'a> {
    file: &'a toml::Table,
    rows: Vec<Row>,
}

impl Rows<'_> {
    /// `key` (a dotted path in the config file) with `value`; `flag`: the
    /// command line set it.
    fn add(&mut self, key: &str, value: String, flag: bool) {
        let mut at: Option<&toml::Value> = None;
        let mut table = Some(self.file);
        for part in key.split('.') {
            at = table.and_then(|t| t.get(part));
            table = at.and_then(toml::Value::as_table);
        }
        let source = if flag {
            Source::Flag
        } else if at.is_some() {
            Source::File
        } else {
            Source::Default
        };
        self.rows.push((key.to_owned(), value, source));
    }
}

fn or_none<T: ToString>(v: Option<T>, none: &str) -> String {
    v.map_or_else(|| none.to_owned(), |v| v.to_string())
}

/// The settings `a` resolves to, with their sources.
pub(crate) fn explain(a: &ReportArgs, s: &Settings) -> Result<Vec<Row>> {
    let file: toml::Table = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("{}: cannot read config", p.display()))?;
            toml::from_str(&text).with_context(|| format!("{}: invalid config", p.display()))?
        }
        None => toml::Table::new(),
    };
    let mut r = Rows { file: &file, rows: Vec::new() };
    report_rows(&mut r, a, &s.options);
    input_rows(&mut r, a, s);
    support_rows(&mut r, a, &s.options);
    let o = &s.options;
    r.add(
        "revenue.reporting_currency",
        or_none(o.revenue.reporting_currency.as_ref(), "the data's currency"),
        a.currency.is_some(),
    );
    r.add("revenue.rates", or_none(o.revenue.rates.as_ref().map(|t| t.path.clone()), "none"), a.rates.is_some());
    r.add("revenue.gross_margin", o.revenue.gross_margin.to_string(), false);
    r.add("surveys.default_survey", o.surveys.default_survey.name().to_owned(), false);
    r.add("surveys.csat_scale", o.surveys.csat.describe(), false);
    r.add("surveys.ces_scale", format!("{}-{}", o.surveys.ces.min, o.surveys.ces.max), false);
    r.add("health", if o.health.is_some() { "configured" } else { "none" }.to_owned(), false);
    Ok(r.rows)
}

fn report_rows(r: &mut Rows<'_>, a: &ReportArgs, o: &ReportOptions) {
    let period = o.period.map_or_else(|| "week (month for purchases)".to_owned(), |p| p.name().to_owned());
    r.add("report.period", period, a.period.is_some());
    r.add("report.tz", o.tz.name().to_owned(), a.tz.is_some());
    r.add("report.input_tz", o.input_tz.name().to_owned(), a.input_tz.is_some());
    r.add("report.since", or_none(o.since, "the data's first period"), a.since.is_some());
    r.add("report.until", or_none(o.until, "as-of's period"), a.until.is_some());
    let as_of = o.as_of.and_then(chrono::DateTime::from_timestamp_micros).map(|t| t.to_rfc3339());
    r.add("report.as_of", or_none(as_of, "the latest timestamp of the data"), a.as_of.is_some());
    r.add("report.by", if o.by.is_empty() { "none".to_owned() } else { o.by.join(", ") }, !a.by.is_empty());
    r.add("report.week_start", format!("{:?}", o.week_start).to_lowercase(), false);
    r.add("report.valid_years", format!("{}-{}", o.valid_years.first(), o.valid_years.last()), false);
    r.add("report.max_excluded", o.max_excluded.to_string(), a.max_excluded.is_some());
}

fn input_rows(r: &mut Rows<'_>, a: &ReportArgs, s: &Settings) {
    let i = &s.inputs;
    let tables = [
        ("tickets", i.tickets.as_ref(), a.tickets.is_some()),
        ("subscriptions", i.subscriptions.as_ref(), a.subscriptions.is_some()),
        ("accounts", i.accounts.as_ref(), a.accounts.is_some()),
        ("surveys", i.surveys.as_ref(), a.surveys.is_some()),
        ("transactions", i.transactions.as_ref(), a.transactions.is_some()),
        ("usage", i.usage.as_ref(), a.usage.is_some()),
    ];
    for (name, t, flag) in tables {
        r.add(&format!("{name}.path"), or_none(t.map(|t| t.path.clone()), "not given"), flag);
        if let Some(p) = t.and_then(|t| t.preset) {
            let flag = a.preset.contains(&p);
            r.add(&format!("{name}.preset"), p.name().to_owned(), flag);
        }
    }
}

fn support_rows(r: &mut Rows<'_>, a: &ReportArgs, o: &ReportOptions) {
    let s = &o.support;
    r.add("support.fcr", s.fcr.name().to_owned(), a.fcr.is_some());
    r.add("support.csat_scale", s.csat.describe(), false);
    r.add("support.escalation_tag", or_none(s.escalation_tag.as_ref(), "none"), false);
    let escalation = match (&s.escalation_sla, s.escalation_min) {
        (Some(_), _) => "sla_breach".to_owned(),
        (None, Some(min)) => format!("escalation_count >= {min}"),
        (None, None) => "first available: escalated, group_stations, tag".to_owned(),
    };
    r.add("support.escalation", escalation, false);
    r.add("support.durations", format!("{:?}", s.durations).to_lowercase(), false);
    r.add("support.max_duration_days", (s.max_duration as f64 / 86_400e6).to_string(), false);
    let percentiles = s.percentiles.iter().map(f64::to_string).collect::<Vec<_>>().join(", ");
    r.add(
        "support.percentiles",
        if percentiles.is_empty() { "none (median and p90)".into() } else { percentiles },
        !a.percentiles.is_empty(),
    );
    r.add(
        "support.calendar",
        or_none(s.calendar.as_ref().map(|c| c.describe()), "none (calendar time only)"),
        a.calendar.is_some(),
    );
    let sla = o.sla.as_ref().map(|x| {
        let time = x.calendar.as_ref().map_or_else(|| "calendar time".to_owned(), |c| c.name().to_owned());
        format!("{} priorities{}, {time}", x.targets.len(), if x.default.is_some() { " and a default" } else { "" })
    });
    r.add("sla", or_none(sla, "none"), false);
}

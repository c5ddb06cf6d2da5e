//! Each section of a report from its staged inputs: spine of periods,
//! dimensions, the metric tables.

#![allow(clippy::wildcard_imports)]

use super::inputs::texts_set;
use super::*;

pub(super) fn support_section(tickets: Tickets, o: &ReportOptions, command: Command, r: &mut Report) -> Result<()> {
    let by = section_by(o, "support", |b| tickets.df.column(b).is_ok(), r);
    let mut so = o.support.clone().with_by(by);
    so.window = window(o, Period::Week);
    let spine = support::spine(&tickets, &so)?;
    r.meta.first_period = spine.starts.first().map(ToString::to_string);
    r.meta.last_period = spine.starts.last().map(ToString::to_string);
    if command == Command::Validate {
        return Ok(());
    }
    // The SLA table first: the support table then takes the tickets over
    // and releases what it no longer needs.
    let sla = match &o.sla {
        Some(sla) => {
            let time = sla.calendar.as_ref().map_or_else(|| "calendar time".to_owned(), |c| c.describe());
            r.meta.rules.insert("sla_time".into(), time);
            r.meta.skipped.extend(support::sla::unmeasured(&tickets));
            Some(support::sla::table(&tickets, &so, sla)?)
        }
        None => None,
    };
    r.meta.notes.extend(support::duration_notes(&tickets, o.support.durations));
    let c = support::compute_owned(tickets, &so)?;
    r.meta.rules.extend(c.rules);
    r.meta.skipped.extend(c.skipped);
    r.sections.push(("support".to_owned(), c.table));
    if let Some(table) = sla {
        r.sections.push(("sla".to_owned(), table));
    }
    Ok(())
}

/// The report's periods for a section whose default length is `default`.
pub(super) fn window(o: &ReportOptions, default: Period) -> crate::period::Window {
    let mut w = crate::period::Window::new(o.period.unwrap_or(default));
    w.tz = o.tz;
    w.since = o.since;
    w.until = o.until;
    w.week_start = o.week_start;
    w
}

/// A section's periods: from `--since` (else the period of the data's
/// first instant) to `--until` (else of its last), and their first and
/// last dates as text for meta.
fn data_spine(section: &str, o: &ReportOptions, period: Period, span: (Micros, Micros)) -> Result<(String, String)> {
    let spine = window(o, period).spine(section, span)?;
    let text = |d: Option<&chrono::NaiveDate>| d.map(ToString::to_string).unwrap_or_default();
    Ok((text(spine.starts.first()), text(spine.starts.last())))
}

pub(super) fn surveys_section(
    responses: &Responses,
    o: &ReportOptions,
    command: Command,
    r: &mut Report,
) -> Result<()> {
    let period = o.period.unwrap_or(Period::Week);
    let Some(span) = responses.span() else { return Ok(()) };
    let (f, l) = data_spine("surveys", o, period, span)?;
    if r.sections.is_empty() && !r.meta.inputs.contains_key("tickets") && !r.meta.inputs.contains_key("subscriptions") {
        r.meta.period = period;
        r.meta.first_period = Some(f.clone()).filter(|s| !s.is_empty());
        r.meta.last_period = Some(l.clone()).filter(|s| !s.is_empty());
    }
    r.meta.rules.insert("surveys_period".into(), period.name().into());
    r.meta.rules.insert("surveys_first_period".into(), f);
    r.meta.rules.insert("surveys_last_period".into(), l);
    r.meta.rules.insert("surveys_csat_scale".into(), o.surveys.csat.describe());
    r.meta.rules.insert("ces_scale".into(), format!("{}-{}", o.surveys.ces.min, o.surveys.ces.max));
    r.meta.rules.insert("default_survey".into(), o.surveys.default_survey.name().into());
    if command == Command::Validate {
        return Ok(());
    }
    let by = section_by(o, "surveys", |b| responses.df.column(b).is_ok(), r);
    let mut so = o.surveys.clone().with_by(by);
    so.window = window(o, Period::Week);
    r.sections.push(("surveys".to_owned(), surveys::table(responses, &so)?));
    Ok(())
}

pub(super) fn purchases_section(t: &Transactions, o: &ReportOptions, command: Command, r: &mut Report) -> Result<()> {
    let period = o.period.unwrap_or(Period::Month);
    let Some(span) = t.span() else { return Ok(()) };
    let (f, l) = data_spine("purchases", o, period, span)?;
    r.meta.rules.insert("purchases_period".into(), period.name().into());
    if command == Command::Validate {
        return Ok(());
    }
    let by = section_by(o, "purchases", |b| t.df.column(b).is_ok(), r);
    let mut po = purchases::PurchaseOptions::default().with_by(by);
    po.window = window(o, Period::Month);
    let df = purchases::table(t, &po)?;
    r.sections.push(("purchases".to_owned(), df));
    if r.sections.len() == 1 {
        r.meta.period = period;
        r.meta.first_period = Some(f).filter(|s| !s.is_empty());
        r.meta.last_period = Some(l).filter(|s| !s.is_empty());
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) fn health_sections(
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
    let latest_usage =
        usage.and_then(Usage::latest).map(|d| crate::period::day_start(crate::period::days_to_date(d + 1), o.tz));
    let from_tickets = r.meta.as_of.as_deref().and_then(|s| parse_instant(s, o.tz).ok()).map(|t| t + 1);
    let other = data.nps.iter().map(|n| n.1).chain(data.lines.iter().map(|l| l.1)).max().map(|t| t + 1);
    let Some(bound) = o.as_of.map(|t| t + 1).or(latest_usage).or(from_tickets).or(other) else {
        return Err(Error::from(crate::error::ErrorKind::Config(
            "health: no input to score (give a usage table, or an as-of with other inputs)".into(),
        )));
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
    if !o.by.is_empty() {
        r.meta
            .notes
            .push("health: not grouped, scores are per account (the dimensions apply to the other sections)".into());
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
        earliest.map_or(
            as_of_date.checked_sub_days(chrono::Days::new(83)).unwrap_or(as_of_date),
            crate::period::days_to_date,
        )
    });
    let last = o.until.unwrap_or(as_of_date);
    let spine = Spine::checked("health_summary", period, o.tz, first, last, o.week_start)?;
    // Meta's period describes the first section computed: here health's.
    if r.sections.len() == 1 {
        r.meta.period = period;
        r.meta.first_period = spine.starts.first().map(ToString::to_string);
        r.meta.last_period = spine.starts.last().map(ToString::to_string);
    }
    r.sections.push(("health_summary".to_owned(), health::summary_table(config, data, &universe, &spine, bound)?));
    Ok(())
}

pub(super) fn revenue_sections(
    lines: &Lines,
    accounts: Option<&Accounts>,
    o: &ReportOptions,
    command: Command,
    r: &mut Report,
) -> Result<()> {
    let period = o.period.unwrap_or(Period::Month);
    let Some(span) = lines.span() else { return Ok(()) };
    let (f, l) = data_spine("revenue", o, period, span)?;
    if r.sections.is_empty() && !r.meta.inputs.contains_key("tickets") {
        r.meta.period = period;
        r.meta.first_period = Some(f.clone()).filter(|s| !s.is_empty());
        r.meta.last_period = Some(l.clone()).filter(|s| !s.is_empty());
    }
    r.meta.rules.insert("revenue_period".into(), period.name().into());
    r.meta.rules.insert("revenue_first_period".into(), f);
    r.meta.rules.insert("revenue_last_period".into(), l);
    r.meta.rules.insert("mrr_source".into(), lines.mrr_source.into());
    if let Some(c) = &lines.currency {
        r.meta.rules.insert("currency".into(), c.clone());
    }
    r.meta.rules.insert("gross_margin".into(), o.revenue.gross_margin.to_string());
    if command == Command::Validate {
        return Ok(());
    }
    // A dimension is a column of the lines themselves (each line's own
    // value: a plan), else of the accounts table.
    let of_lines = |b: &str| lines.has(b);
    let by = section_by(o, "revenue and cohorts", |b| of_lines(b) || accounts.is_some_and(|a| a.has(b)), r);
    for b in by.iter().filter(|b| of_lines(b) && accounts.is_some_and(|a| a.has(b))) {
        r.meta.notes.push(format!(
            "revenue and cohorts: `{b}` is a column of both the subscriptions and the accounts table; used each subscription line's own value"
        ));
    }
    let mut ro = o.revenue.clone().with_by(by);
    ro.window = window(o, Period::Month);
    let (with, cx, changes) = revenue::prepare(lines, accounts, &ro.validated()?)?;
    if cx.per_line {
        r.meta.rules.insert(
            "revenue_segments".into(),
            "per line: each (account, value) pair moves on its own; a switch leaves one value and enters the other"
                .into(),
        );
    }
    if command != Command::Cohorts {
        let (table, note) = revenue::revenue(&with, &changes, &cx, &ro)?;
        r.meta.notes.extend(note);
        r.sections.push(("revenue".to_owned(), table));
    }
    if command != Command::Revenue {
        r.sections.push(("cohorts".to_owned(), revenue::cohorts::cohorts(&changes, &cx)?));
    }
    Ok(())
}

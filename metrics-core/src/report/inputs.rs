//! A report's inputs: stage each one a command reads (read, check, join
//! account dimensions), and record it in meta and data quality.

#![allow(clippy::wildcard_imports)]

use super::*;

/// The dimensions to read from a table with an `account_id`: `--by`, plus
/// `account_id` when a dimension comes from `accounts` or health needs it.
fn dims_with_account(o: &ReportOptions, accounts: Option<&Accounts>, for_health: bool) -> Vec<String> {
    let from_accounts = o.by.iter().any(|b| accounts.is_some_and(|a| a.has(b)) && b.as_str() != ACCOUNT_ID);
    let mut dims = o.by.clone();
    if (for_health || from_accounts) && !dims.iter().any(|d| d == ACCOUNT_ID) {
        dims.push(ACCOUNT_ID.to_owned());
    }
    // SLA targets are per priority.
    let priority = crate::schema::tickets::PRIORITY;
    let sla = o.sla.is_some() || o.support.escalation_sla.is_some();
    if sla && !dims.iter().any(|d| d == priority) {
        dims.push(priority.to_owned());
    }
    dims
}

/// Records a staged input in meta and data quality; an input with no
/// usable row stops the run (except `validate`) with `what`.
pub(super) fn record(
    r: &mut Report,
    table: &str,
    input: &TableInput,
    staged: &dyn crate::raw::Staged,
    what: &str,
) -> Result<()> {
    let (source, rows_read, rows_used, quality) =
        (staged.source(), staged.rows_read(), staged.rows_used(), staged.quality());
    r.meta.inputs.insert(
        table.into(),
        InputMeta {
            path: input.path.clone(),
            format: source.format,
            preset: input.preset.map(|p| p.name().to_owned()),
            rows_read,
            rows_used,
        },
    );
    r.data_quality.insert(table.into(), quality.to_vec());
    r.meta.notes.extend(source.notes.iter().cloned());
    if r.meta.command != Command::Validate {
        check_excluded(table, input, rows_read, quality, r.meta.max_excluded)?;
    }
    if rows_used == 0 && r.meta.command != Command::Validate && !what.is_empty() {
        return Err(Error::from(crate::error::ErrorKind::Empty { path: input.path.clone().into(), what: what.into() }));
    }
    Ok(())
}

/// Tables with fewer rows are not held to `max_excluded`.
const MIN_ROWS_CHECKED: usize = 20;

/// Stops a run in which one reason that signals a wrong mapping (see
/// [`crate::quality::Reason::signals_wrong_mapping`]) hit more than
/// `limit` of a table's rows.
fn check_excluded(
    table: &str,
    input: &TableInput,
    rows_read: usize,
    quality: &[crate::quality::QualityRow],
    limit: f64,
) -> Result<()> {
    // In a table of a few rows one bad row is over a quarter: noise, not a
    // wrong mapping (a column where nothing parses is refused anyway).
    if rows_read < MIN_ROWS_CHECKED {
        return Ok(());
    }
    let over = |q: &&crate::quality::QualityRow| {
        q.reason.signals_wrong_mapping() && q.count as f64 > limit * rows_read as f64 && limit < 1.0
    };
    if let Some(q) = quality.iter().find(over) {
        let source_column = input.columns.get(&q.column).map_or_else(|| q.column.clone(), |s| s.column.clone());
        return Err(Error::from(crate::error::ErrorKind::TooManyExcluded(Box::new(crate::error::Excluded {
            path: input.path.clone(),
            table: table.to_owned(),
            finding: q.clone(),
            source_column,
            rows: rows_read,
            limit,
        }))));
    }
    Ok(())
}

pub(super) fn stage_tickets(
    input: &TableInput,
    o: &ReportOptions,
    accounts: Option<&Accounts>,
    for_health: bool,
    r: &mut Report,
) -> Result<Tickets> {
    // Dimensions the accounts table has come through the tickets' account_id.
    let dims = dims_with_account(o, accounts, for_health);
    let read = TicketReadOptions {
        input_tz: o.input_tz,
        csat: o.support.csat.validate()?,
        as_of: o.as_of,
        dims,
        tags: o.support.escalation_tag.is_some(),
        max_duration: o.support.max_duration,
    };
    let mut tickets = Tickets::from_path(input, &read)?;
    // Duplicates are resolved in staging; no section reads the ids after
    // it, so the report does not carry them (80 MB at 10M tickets).
    let _ = tickets.df.drop_in_place(crate::schema::tickets::TICKET_ID);
    tickets.df = join_account_dims(std::mem::take(&mut tickets.df), accounts, &o.by, "tickets")?;
    let what = "no usable rows: every row was rejected (run `cxm validate` to see each reason and its rows)";
    record(r, "tickets", input, &tickets, what)?;
    r.meta.as_of = Some(rfc3339(tickets.as_of));
    r.meta.rules.insert("as_of_source".into(), tickets.as_of_source.into());
    Ok(tickets)
}

/// Reads and stages the survey responses, with the accounts' dimensions
/// joined (nothing recorded yet: [`record_surveys`]).
pub(super) fn read_surveys(
    input: &TableInput,
    o: &ReportOptions,
    accounts: Option<&Accounts>,
    for_health: bool,
) -> Result<Responses> {
    let dims = dims_with_account(o, accounts, for_health);
    o.surveys.csat.validate()?;
    let mut responses = Responses::from_path(input, &o.surveys, &dims, input.input_tz.unwrap_or(o.input_tz))?;
    responses.df = join_account_dims(std::mem::take(&mut responses.df), accounts, &o.by, "survey responses")?;
    Ok(responses)
}

/// Records staged survey responses in the report (meta, data quality, the
/// NPS scale note).
pub(super) fn record_surveys(input: &TableInput, responses: Responses, r: &mut Report) -> Result<Responses> {
    if let Some(note) = nps_scale_note(&responses.df) {
        r.meta.notes.push(note);
    }
    let what = "no valid survey responses: every row was rejected (run `cxm validate` to see why)";
    record(r, "survey_responses", input, &responses, what)?;
    Ok(responses)
}

/// A warning when NPS responses look like a 1-5 rating: no score above 5
/// (the NPS would be -100 by construction).
fn nps_scale_note(df: &DataFrame) -> Option<String> {
    let scores = df.column(crate::surveys::responses::NPS_SCORE).ok()?.f64().ok()?.clone();
    let (n, max) = (scores.len() - scores.null_count(), scores.max()?);
    (n >= 5 && max <= 5.0).then(|| {
        format!(
            "surveys: {n} NPS responses and none above 5: a 1-5 rating read as NPS gives -100; if it is a rating, set [surveys] default_survey = \"csat\" (or map the `survey` column)"
        )
    })
}

/// Joins the dimensions of `accounts` that `df` lacks on `account_id`.
pub(super) fn join_account_dims(
    df: DataFrame,
    accounts: Option<&Accounts>,
    by: &[String],
    what: &str,
) -> Result<DataFrame> {
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

pub(super) fn stage_transactions(
    input: &TableInput,
    o: &ReportOptions,
    accounts: Option<&Accounts>,
    r: &mut Report,
) -> Result<Transactions> {
    let mut t = Transactions::from_path(input, &o.by, input.input_tz.unwrap_or(o.input_tz))?;
    t.df = join_account_dims(std::mem::take(&mut t.df), accounts, &o.by, "transactions")?;
    let what = "no usable transactions: every row was rejected (run `cxm validate` to see why)";
    record(r, "transactions", input, &t, what)?;
    Ok(t)
}

/// Extracts what health components draw on from the staged inputs.
pub(super) fn health_data(
    o: &ReportOptions,
    usage: Option<&Usage>,
    tickets: Option<&Tickets>,
    responses: Option<&Responses>,
    lines: Option<&Lines>,
) -> Result<HealthData> {
    HealthData::from_staged(o.tz, usage, tickets, responses, lines)
}

pub(super) fn texts_set(df: &DataFrame) -> Result<std::collections::BTreeSet<String>> {
    let c = df.column(ACCOUNT_ID).ctx(ACCOUNT_ID)?.cast(&DataType::String).ctx(ACCOUNT_ID)?;
    Ok(c.str().ctx(ACCOUNT_ID)?.iter().flatten().map(str::to_owned).collect())
}

/// Reads and stages the subscription lines (nothing recorded yet:
/// [`record_lines`]).
pub(super) fn read_lines(input: &TableInput, o: &ReportOptions) -> Result<Lines> {
    let lo = LinesOptions {
        input_tz: o.input_tz,
        reporting_currency: o.revenue.reporting_currency.clone(),
        rates: o.revenue.rates.clone(),
        dims: o.by.clone(),
    };
    Lines::from_path(input, &lo)
}

/// Records staged subscription lines in the report.
pub(super) fn record_lines(input: &TableInput, lines: Lines, r: &mut Report) -> Result<Lines> {
    let what = "no usable subscription lines: every row was rejected (run `cxm validate` to see why)";
    record(r, "subscriptions", input, &lines, what)?;
    Ok(lines)
}

/// Stages the usage table (keyed by account, or by subscription through
/// the subscriptions table when one is given). Usage dates are calendar
/// dates: naive values default to the report zone, so a date stays the
/// same date.
pub(super) fn stage_usage(
    input: &TableInput,
    subscriptions: Option<&TableInput>,
    o: &ReportOptions,
    r: &mut Report,
) -> Result<Usage> {
    let accounts_of = match subscriptions {
        Some(subs) => Some(crate::revenue::subscription_accounts(subs, o.input_tz)?),
        None => None,
    };
    let u = Usage::from_path(input, input.input_tz.unwrap_or(o.tz), o.tz, accounts_of.as_ref())?;
    record(r, "usage", input, &u, "")?;
    Ok(u)
}

pub(super) fn stage_accounts(a: &TableInput, o: &ReportOptions, r: &mut Report) -> Result<Accounts> {
    let acc = Accounts::from_path(a, &o.by, a.input_tz.unwrap_or(o.input_tz))?;
    record(r, "accounts", a, &acc, "")?;
    Ok(acc)
}

//! `cxm`: flags and config in, library calls, rendering out.

mod cli;
mod explain;
mod guard;
mod html;
mod init;
mod render;
mod settings;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use metrics_core::report::{self, Command, Report};

use cli::{Cli, Cmd, Format};
use settings::{Settings, Target, UsageError};

// No global allocator is set: on the 10M report the system allocator is
// faster than mimalloc (3.4 against 3.9 s) with a lower peak
// (benches/README.md, "Allocator"), since glibc hands large buffers back
// with munmap at once instead of purging them later.

/// Fixes glibc's mmap threshold at 4 MiB. By default it rises to 32 MiB as
/// large buffers are freed, after which polars' column buffers are carved
/// from per-thread arenas that are not returned to the system: in about
/// one run in five the 10M report then peaked at 1.35 GiB instead of 0.95
/// (benches/README.md, "Allocator"). Buffers of 4 MiB and more are mapped
/// and unmapped on their own.
///
/// Also caps the arenas at one per core (glibc's default is eight per
/// core): the CSV reader's workers fill column chunks in their own arenas,
/// and with the cap the staging and metric threads reuse that memory once
/// it is freed instead of faulting in fresh pages. 10M CSV support 5.29 ->
/// 4.67 s, the Parquet report unchanged (benches/README.md, "Arenas").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn tune_allocator() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
    // SAFETY: `mallopt` only sets parameters of glibc's allocator; it is
    // called first thing in `main`, before any other thread exists, with
    // documented parameters and values that fit a C int.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {}", render::escape_controls(&format!("{e:#}")));
            }
            if e.downcast_ref::<UsageError>().is_some() { ExitCode::from(2) } else { ExitCode::from(1) }
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

fn run(cli: Cli) -> Result<()> {
    let (args, command) = match cli.command {
        Cmd::Demo(d) => {
            let files = metrics_core::demo::write_demo(&d.output, d.rows, d.seed)?;
            let mut err = std::io::stderr().lock();
            if !cli.quiet {
                for f in files {
                    writeln!(err, "wrote {}", f.display())?;
                }
            }
            return Ok(());
        }
        Cmd::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "cxm", &mut std::io::stdout().lock());
            return Ok(());
        }
        Cmd::Man { output } => return man_pages(output.as_deref()),
        Cmd::Init(a) => return init_config(&a, cli.quiet),
        Cmd::Config(a) => return print_config(&a),
        Cmd::Sql(a) => return print_sql(&a, cli.quiet),
        Cmd::Report(a) => (a, Command::Report),
        Cmd::Support(a) => (a, Command::Support),
        Cmd::Revenue(a) => (a, Command::Revenue),
        Cmd::Cohorts(a) => (a, Command::Cohorts),
        Cmd::Surveys(a) => (a, Command::Surveys),
        Cmd::Health(a) => (a, Command::Health),
        Cmd::Purchases(a) => (a, Command::Purchases),
        Cmd::Validate(a) => (a, Command::Validate),
    };
    // Built-in demo data: written to a temporary folder, read through its config.
    let mut args = args;
    let _demo_dir = if args.demo {
        let dir = tempfile::tempdir().context("creating a folder for the demo data")?;
        metrics_core::demo::write_demo(dir.path(), metrics_core::demo::DEFAULT_ROWS, 1)?;
        args.config = Some(dir.path().join("cxm.toml"));
        Some(dir)
    } else {
        None
    };
    let settings = Settings::resolve(&args, std::io::stdout().is_terminal())?;
    guard::output_is_not_input(&settings, args.config.as_deref())?;
    // On a terminal, a bar of the run's steps (inputs read, sections
    // computed) with a spinner for the step under way.
    let bar = (!cli.quiet && std::io::stderr().is_terminal()).then(|| {
        let style = indicatif::ProgressStyle::with_template("{spinner} [{bar:20}] {pos}/{len} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
        let b = indicatif::ProgressBar::new(1).with_style(style);
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    });
    let result = report::run_with_progress(&settings.inputs, &settings.options, command, &mut |s| {
        if let Some(b) = &bar {
            b.set_length(s.total as u64);
            b.set_position(s.done as u64);
            b.set_message(s.what.to_owned());
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut report = result.map_err(with_flags)?;
    keep_section(&mut report, &settings)?;
    let style = render::Style { color: use_color(cli.color, &settings) };
    write(&report, &settings, style)?;
    if !cli.quiet {
        // The table on a terminal shows the notes already (a piped one goes
        // to a file or a program, so stderr still says them).
        let on_screen = settings.target == Target::Stdout && std::io::stdout().is_terminal();
        let notes = !(settings.format == Format::Table && on_screen);
        let summary = render::quality_summary(&report, notes);
        if !summary.is_empty() {
            std::io::stderr().lock().write_all(render::escape_controls(&summary).as_bytes())?;
        }
    }
    Ok(())
}

/// `cxm sql`: a section's SQL for the engine, on stdout, or with
/// `--engine` run there and written as the section.
fn print_sql(a: &cli::SqlArgs, quiet: bool) -> Result<()> {
    use metrics_core::sql::{
        Dialect, PurchasesRequest, RevenueRequest, SqlRequest, SurveysRequest, cohorts_sql, purchases_sql, revenue_sql,
        support_sql, support_usage_sql, surveys_sql,
    };
    let (mut surveys_request, mut purchases_request, mut revenue_request) = (None, None, None);
    let mut support_usage = None;
    let engine_dialect = a.engine.map(|e| match e {
        cli::Engine::Datafusion => Dialect::DataFusion,
        cli::Engine::Spark => Dialect::Spark,
    });
    let dialect: Dialect = match (&a.dialect, engine_dialect) {
        (Some(d), _) => d.parse().map_err(|e: metrics_core::Error| UsageError(format!("--{e}")))?,
        (None, Some(d)) => d,
        (None, None) => return Err(UsageError("cxm sql needs --dialect or --engine".into()).into()),
    };
    if let Some(d) = engine_dialect.filter(|d| *d != dialect) {
        let why = format!("--engine {} runs {}'s SQL, not {}'s", d.name(), d.name(), dialect.name());
        return Err(UsageError(format!("--dialect {}: {why}", dialect.name())).into());
    }
    match (a.engine, &a.remote) {
        (Some(cli::Engine::Spark), None) => {
            return Err(UsageError("--engine spark needs --remote sc://HOST:PORT (docs/sql.md)".into()).into());
        }
        #[cfg(feature = "spark")]
        (Some(cli::Engine::Spark), Some(remote)) => {
            // A URL the client cannot use is a usage error, before any work.
            if let Err(e) = metrics_core::sql::spark_endpoint(remote) {
                return Err(UsageError(e.to_string()).into());
            }
        }
        (Some(cli::Engine::Datafusion), Some(_)) => {
            return Err(UsageError("--remote: --engine datafusion runs in process, not on a server".into()).into());
        }
        _ => {}
    }
    let (mut tickets, mut responses) = ("tickets".to_owned(), "survey_responses".to_owned());
    let (mut subscriptions, mut transactions) = ("subscriptions".to_owned(), "transactions".to_owned());
    let mut accounts: Option<String> = None;
    for t in &a.table {
        match t.split_once('=').map(|(n, i)| (n, i.trim())) {
            Some(("tickets", ident)) if !ident.is_empty() => tickets = ident.to_owned(),
            Some(("survey_responses", ident)) if !ident.is_empty() => responses = ident.to_owned(),
            Some(("subscriptions", ident)) if !ident.is_empty() => subscriptions = ident.to_owned(),
            Some(("transactions", ident)) if !ident.is_empty() => transactions = ident.to_owned(),
            Some(("accounts", ident)) if !ident.is_empty() => accounts = Some(ident.to_owned()),
            Some((name, _))
                if !matches!(name, "tickets" | "survey_responses" | "subscriptions" | "transactions" | "accounts") =>
            {
                let why = "is not a table cxm renders SQL for \
                           (tickets, survey_responses, subscriptions, transactions, accounts)";
                return Err(UsageError(format!("--table {t}: `{name}` {why}")).into());
            }
            _ => {
                return Err(
                    UsageError(format!("--table {t}: expected NAME=IDENT, e.g. tickets=analytics.tickets")).into()
                );
            }
        }
    }
    let settings = Settings::resolve(&a.report, a.engine.is_some() && std::io::stdout().is_terminal())?;
    if a.engine.is_some() && accounts.is_none() && settings.inputs.accounts.is_some() {
        // The engine registers --accounts as the table `accounts`.
        accounts = Some("accounts".to_owned());
    }
    let o = &settings.options;
    let (Some(since), Some(until)) = (o.since, o.until) else {
        return Err(UsageError(
            "cxm sql needs --since and --until: the periods are laid out here, not by the engine (docs/sql.md)".into(),
        )
        .into());
    };
    let section = a.report.section.as_deref().unwrap_or("support");
    // The section, read once: which SQL, its default period, its input.
    let command = match section {
        "support" => Command::Support,
        "surveys" => Command::Surveys,
        "revenue" => Command::Revenue,
        "cohorts" => Command::Cohorts,
        "purchases" => Command::Purchases,
        other => {
            let why = "cxm sql renders support, surveys, revenue, cohorts and purchases (docs/sql.md)";
            return Err(UsageError(format!("--section {other}: {why}")).into());
        }
    };
    let monthly = matches!(command, Command::Revenue | Command::Cohorts | Command::Purchases);
    let period = o.period.unwrap_or(if monthly { metrics_core::Period::Month } else { metrics_core::Period::Week });
    let spine = metrics_core::period::Spine::with_week_start(period, o.tz, since, until, o.week_start);
    if spine.starts.is_empty() {
        return Err(UsageError(format!("--since {since} is after --until {until}: there is no period")).into());
    }
    let sql = match command {
        Command::Revenue | Command::Cohorts => {
            let mut request = RevenueRequest::new(dialect, subscriptions, spine);
            request.gross_margin = o.revenue.gross_margin;
            request.by = o.by.clone();
            request.accounts = accounts;
            if a.mrr_source == cli::MrrSourceArg::Amount {
                request.mrr_source = metrics_core::sql::MrrSource::Amount { quantity: true, interval_count: true };
            }
            if let Some(rates) = o.revenue.rates.as_ref().filter(|_| a.engine.is_none()) {
                // Printed SQL: a factor for every currency of the rates table
                // (`--engine` chooses them from the table's own codes).
                let codes = metrics_core::revenue::lines::read_rates(rates).map_err(with_flags)?;
                let found = codes.keys().map(String::as_str).collect();
                let reporting = o.revenue.reporting_currency.as_deref();
                let (_, factors) = metrics_core::revenue::lines::currency_factors(&found, reporting, Some(rates))
                    .map_err(with_flags)?;
                request.currency = Some(factors);
            }
            let sql = if command == Command::Revenue { revenue_sql(&request) } else { cohorts_sql(&request) };
            revenue_request = Some(request);
            sql
        }
        Command::Surveys => {
            let mut request = SurveysRequest::new(dialect, responses, spine);
            request.by = o.by.clone();
            request.default_survey = o.surveys.default_survey;
            (request.csat, request.ces) = (o.surveys.csat, o.surveys.ces);
            request.accounts = accounts;
            let sql = surveys_sql(&request);
            surveys_request = Some(request);
            sql
        }
        Command::Purchases => {
            let mut request = PurchasesRequest::new(dialect, transactions, spine);
            request.by = o.by.clone();
            request.accounts = accounts;
            let sql = purchases_sql(&request);
            purchases_request = Some(request);
            sql
        }
        _ => {
            let mut support = o.support.clone().with_by(o.by.clone());
            support.window.period = period;
            support.window.tz = o.tz;
            let mut request = SqlRequest::new(dialect, tickets, support, spine);
            request.as_of = o.as_of;
            support_usage = Some(support_usage_sql(&request));
            support_sql(&request)
        }
    };
    let sql = sql.map_err(with_flags)?;
    match a.engine {
        None => {
            std::io::stdout().lock().write_all(sql.as_bytes())?;
            // The printed SQL cannot see which `by` the section's own table
            // holds, which cxm reads from it first.
            let from_accounts = |accounts: &Option<String>, by: &[String]| accounts.is_some() && !by.is_empty();
            let own = match (&revenue_request, &surveys_request, &purchases_request) {
                (Some(r), _, _) if from_accounts(&r.accounts, &r.by) => Some(("subscription lines", "revenue", &r.by)),
                (_, Some(r), _) if from_accounts(&r.accounts, &r.by) => Some(("survey responses", "surveys", &r.by)),
                (_, _, Some(r)) if from_accounts(&r.accounts, &r.by) => Some(("transactions", "purchases", &r.by)),
                _ => None,
            };
            if let Some((table, command, by)) = own.filter(|_| !quiet) {
                writeln!(
                    std::io::stderr().lock(),
                    "note: this SQL reads --by {} from the accounts table; where the {table} hold the column, \
                     `cxm {command}` uses their own value: for that, leave out --table accounts=... with the \
                     accounts' columns joined onto the {table} in a view, or run `cxm sql --engine` (docs/sql.md)",
                    by.join(",")
                )?;
            }
            Ok(())
        }
        Some(engine) => {
            let target = match engine {
                cli::Engine::Datafusion => EngineTarget::Datafusion,
                cli::Engine::Spark => EngineTarget::Spark(a.remote.clone().unwrap_or_default()),
            };
            // The surveys' columns are those of the surveys with a valid
            // response, found by a first query, as `cxm surveys` leaves out the others.
            let query = match (surveys_request, purchases_request, revenue_request) {
                (Some(r), _, _) => EngineQuery::Surveys(r),
                (_, Some(r), _) => EngineQuery::Purchases(r),
                (_, _, Some(r)) => EngineQuery::Revenue(r, command == Command::Cohorts),
                _ => EngineQuery::Sql(sql, support_usage.unwrap_or_default()),
            };
            run_on_engine(&target, &query, (command, section, period), &settings, &a.table, quiet)
        }
    }
}

/// Where `cxm sql --engine` runs the SQL.
enum EngineTarget {
    /// DataFusion, in process.
    Datafusion,
    /// The Spark Connect server at this `sc://` URL (read only by a build
    /// with the `spark` feature).
    Spark(#[cfg_attr(not(feature = "spark"), allow(dead_code))] String),
}

impl EngineTarget {
    fn name(&self) -> &'static str {
        match self {
            Self::Datafusion => "datafusion",
            Self::Spark(_) => "spark",
        }
    }
}

/// What `cxm sql --engine` runs.
#[cfg_attr(not(feature = "datafusion"), allow(dead_code))]
enum EngineQuery {
    /// This SQL (support), and its usage query.
    Sql(String, String),
    /// The surveys SQL, for the surveys with a valid response.
    Surveys(metrics_core::sql::SurveysRequest),
    /// The purchases SQL, with `revenue` when the table has `amount`.
    Purchases(metrics_core::sql::PurchasesRequest),
    /// The revenue (or with `true` the cohorts) SQL, for the lines' MRR
    /// form and currencies.
    Revenue(metrics_core::sql::RevenueRequest, bool),
}

/// `cxm sql --engine`: the SQL run on the engine over the input files (or,
/// on Spark, over the tables its catalog holds), the result written as a
/// section.
#[cfg(feature = "datafusion")]
fn run_on_engine(
    engine: &EngineTarget,
    query: &EngineQuery,
    (command, section, period): (Command, &str, metrics_core::Period),
    settings: &Settings,
    table_flags: &[String],
    quiet: bool,
) -> Result<()> {
    let i = &settings.inputs;
    let inputs: Vec<(&str, &metrics_core::mapping::TableInput)> = [
        ("tickets", i.tickets.as_ref()),
        ("subscriptions", i.subscriptions.as_ref()),
        ("survey_responses", i.surveys.as_ref()),
        ("transactions", i.transactions.as_ref()),
        ("accounts", i.accounts.as_ref()),
    ]
    .into_iter()
    .filter_map(|(n, t)| Some((n, t?)))
    .collect();
    let needed = match command {
        Command::Revenue | Command::Cohorts => "subscriptions",
        Command::Surveys => "survey_responses",
        Command::Purchases => "transactions",
        _ => "tickets",
    };
    // Spark may read tables its catalog holds (named by --table); DataFusion
    // reads files only.
    if !inputs.iter().any(|(n, _)| *n == needed) && matches!(engine, EngineTarget::Datafusion) {
        let flag = if needed == "survey_responses" { "surveys" } else { needed };
        return Err(UsageError(format!("--engine runs on the input files: pass --{flag}")).into());
    }
    // `--table tickets=tickets` names the view the file becomes: allowed.
    let renamed = |n: &str| table_flags.iter().any(|t| t.split_once('=').is_some_and(|(a, b)| a == n && b.trim() != n));
    if let Some((n, _)) = inputs.iter().find(|(n, _)| renamed(n)) {
        let why = "an input file is registered under cxm's table name; drop one of the two";
        return Err(UsageError(format!("--table {n}=...: {why}")).into());
    }
    if let Some((n, _)) = inputs.iter().find(|(_, t)| {
        t.delimiter == Some(metrics_core::source::WHITESPACE) || t.encoding != metrics_core::mapping::Encoding::Utf8
    }) {
        let why = "the engine reads UTF-8 text with one separator character (docs/sql.md)";
        return Err(
            UsageError(format!("{n}: `delimiter = \"whitespace\"` or another encoding is set, and {why}")).into()
        );
    }
    if let Some((n, _)) = inputs.iter().find(|(_, t)| !t.columns.is_empty() || t.preset.is_some()) {
        let why = "the engine reads cxm's column names as they are; map them in a view (docs/sql.md)";
        return Err(UsageError(format!("{n}: a column mapping or preset is set, and {why}")).into());
    }
    let tables: Vec<metrics_core::sql::EngineTable> = inputs.iter().map(|(n, t)| engine_table(n, t)).collect();
    // Spark: one session for every query of the run (the usage count, the
    // probes, the section), opened at the first and released at the end.
    let spark = std::cell::OnceCell::new();
    let execute = |sql: &str| match engine {
        EngineTarget::Datafusion => metrics_core::sql::run_datafusion(sql, &tables).map_err(with_flags),
        EngineTarget::Spark(remote) => run_spark(&spark, remote, sql, &tables),
    };
    // Rules the section's own path records in meta (revenue: the MRR form
    // and the reporting currency).
    let mut rules: Vec<(&str, String)> = Vec::new();
    // The rows the section's table has and those its SQL uses: none used
    // stops as the section does in process; those left out are said.
    let usage = |sql: &str| -> Result<(usize, usize)> {
        let (read, used) = rows_of(&execute(sql)?, engine.name())?;
        if used == 0 {
            let none = metrics_core::ErrorKind::NoUsableRows { table: needed.into() };
            return Err(with_flags(metrics_core::Error::from(none)));
        }
        Ok((read, used))
    };
    let rows: (usize, usize);
    let sql = match query {
        EngineQuery::Sql(sql, count) => {
            rows = usage(count)?;
            sql.clone()
        }
        EngineQuery::Surveys(r) => {
            use metrics_core::sql::{present_surveys, surveys_present_sql, surveys_sql};
            let mut r = r.clone();
            rows = usage(&metrics_core::sql::surveys_usage_sql(&r).map_err(with_flags)?)?;
            if r.accounts.is_some() && !r.by.is_empty() {
                // A `by` the table holds is its own, as in `cxm surveys`.
                let row = execute(&metrics_core::sql::probe_sql(&r.table))?;
                r.own_by = held(&row, &r.by);
            }
            r.surveys = present_surveys(&execute(&surveys_present_sql(&r).map_err(with_flags)?)?, engine.name())
                .map_err(with_flags)?;
            surveys_sql(&r).map_err(with_flags)?
        }
        EngineQuery::Purchases(r) => {
            // One row shows the table's columns; none, no usable rows (as in process).
            let row = execute(&metrics_core::sql::probe_sql(&r.table))?;
            if row.height() == 0 {
                let none = metrics_core::ErrorKind::NoUsableRows { table: "transactions".into() };
                return Err(with_flags(metrics_core::Error::from(none)));
            }
            let mut r = r.clone();
            r.amount = row.column("amount").is_ok();
            rows = usage(&metrics_core::sql::purchases_usage_sql(&r))?;
            r.own_by = held(&row, &r.by);
            metrics_core::sql::purchases_sql(&r).map_err(with_flags)?
        }
        EngineQuery::Revenue(r, cohorts) => {
            let (r, currency) = revenue_on_engine(r, &execute, settings)?;
            rows = usage(&metrics_core::sql::revenue_usage_sql(&r).map_err(with_flags)?)?;
            let source = match r.mrr_source {
                metrics_core::sql::MrrSource::Mrr => "mrr",
                _ => "amount x quantity x f / interval_count",
            };
            rules.push(("mrr_source", source.to_owned()));
            if !r.own_by.is_empty() || (r.accounts.is_none() && !r.by.is_empty()) {
                let rule = "per line: each (account, value) pair moves on its own; a switch leaves one value and enters the other";
                rules.push(("revenue_segments", rule.to_owned()));
            }
            rules.extend(currency.map(|c| ("currency", c)));
            let sql = if *cohorts { metrics_core::sql::cohorts_sql(&r) } else { metrics_core::sql::revenue_sql(&r) };
            sql.map_err(with_flags)?
        }
    };
    let table = execute(&sql)?;
    let mut report =
        metrics_core::report::engine_report(&settings.options, command, period, section, table, engine.name(), &inputs);
    report.meta.rules.extend(rules.into_iter().map(|(k, v)| (k.to_owned(), v)));
    let (read, used) = rows;
    if let Some(input) = report.meta.inputs.get_mut(needed) {
        (input.rows_read, input.rows_used) = (read, used);
    }
    let left_out = (used < read).then(|| {
        format!(
            "{needed}: {used} of {read} rows used; the SQL left out {} without what the metrics need \
             (docs/sql.md, \"What the SQL assumes\"; `cxm validate` lists them)",
            read - used
        )
    });
    report.meta.notes.extend(left_out.clone());
    write(&report, settings, render::Style { color: use_color(cli::ColorArg::Auto, settings) })?;
    if let Some(note) = left_out.filter(|_| !quiet) {
        writeln!(std::io::stderr().lock(), "note: {note}")?;
    }
    Ok(())
}

/// `rows_read` and `rows_used` of a usage query's one row.
#[cfg(feature = "datafusion")]
fn rows_of(row: &metrics_core::polars::prelude::DataFrame, engine: &str) -> Result<(usize, usize)> {
    use metrics_core::polars::prelude::DataType;
    let n = |c: &str| {
        let v = row.column(c).and_then(|c| c.cast(&DataType::Float64)).ok();
        v.and_then(|c| c.f64().ok().and_then(|v| v.get(0))).map(|v| v.max(0.0) as usize).ok_or_else(|| {
            let reason = format!("the count `{c}` is missing from the result");
            with_flags(metrics_core::Error::from(metrics_core::ErrorKind::Engine { engine: engine.into(), reason }))
        })
    };
    Ok((n("rows_read")?, n("rows_used")?))
}

/// The `by` names the probed row (one row of a section's table) has as
/// columns: read from the table itself, as in process.
#[cfg(feature = "datafusion")]
fn held(row: &metrics_core::polars::prelude::DataFrame, by: &[String]) -> Vec<String> {
    by.iter().filter(|b| row.column(b.as_str()).is_ok()).cloned().collect()
}

/// The revenue request for the table the engine holds, as `cxm revenue`
/// reads a file: the MRR form from its columns (`mrr`, else `amount` with
/// `interval`), and with a `currency` column the reporting currency and
/// factors chosen from the codes of the accepted lines. Returns the
/// request and the reporting currency (`meta.rules.currency`), if any.
#[cfg(feature = "datafusion")]
fn revenue_on_engine(
    r: &metrics_core::sql::RevenueRequest,
    execute: &dyn Fn(&str) -> Result<metrics_core::polars::prelude::DataFrame>,
    settings: &Settings,
) -> Result<(metrics_core::sql::RevenueRequest, Option<String>)> {
    use metrics_core::sql::MrrSource;
    let row = execute(&metrics_core::sql::probe_sql(&r.table))?;
    let has = |c: &str| row.column(c).is_ok();
    let mut r = r.clone();
    // A `by` the lines hold is theirs, as in `cxm revenue`: each (account,
    // value) pair moves on its own.
    r.own_by = held(&row, &r.by);
    r.mrr_source = if has("mrr") {
        MrrSource::Mrr
    } else if has("amount") && has("interval") {
        MrrSource::Amount { quantity: has("quantity"), interval_count: has("interval_count") }
    } else {
        // As `cxm revenue` on such a file: exit 1.
        let why = "missing required column `mrr (or amount with interval)` for table subscriptions";
        anyhow::bail!("{}: {why} (docs/data-contract.md)", r.table);
    };
    r.currency = None;
    let o = &settings.options.revenue;
    let mut reporting = o.reporting_currency.as_ref().map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty());
    if has("currency") {
        let codes = execute(&metrics_core::sql::revenue_currencies_sql(&r).map_err(with_flags)?)?;
        let codes: Vec<String> =
            match codes.column("code").map(|c| c.cast(&metrics_core::polars::prelude::DataType::String)) {
                Ok(Ok(c)) => c.str().map(|s| s.iter().flatten().map(str::to_owned).collect()).unwrap_or_default(),
                _ => Vec::new(),
            };
        let found = codes.iter().map(String::as_str).collect();
        let (target, factors) =
            metrics_core::revenue::lines::currency_factors(&found, o.reporting_currency.as_deref(), o.rates.as_ref())
                .map_err(with_flags)?;
        reporting = Some(target).filter(|c| !c.is_empty());
        r.currency = Some(factors);
    }
    Ok((r, reporting))
}

/// The Spark session of a run (nothing in a cxm built without Spark).
#[cfg(feature = "spark")]
type SparkSession = metrics_core::sql::SparkConnection;
#[cfg(all(feature = "datafusion", not(feature = "spark")))]
type SparkSession = ();

/// `--engine spark`, in a cxm built with the `spark` feature: `sql` in the
/// run's session, opened by the first query.
#[cfg(feature = "spark")]
fn run_spark(
    session: &std::cell::OnceCell<SparkSession>,
    remote: &str,
    sql: &str,
    tables: &[metrics_core::sql::EngineTable],
) -> Result<metrics_core::polars::prelude::DataFrame> {
    let open = match session.get() {
        Some(s) => s,
        None => {
            let s = metrics_core::sql::SparkConnection::open(remote, tables).map_err(with_flags)?;
            session.get_or_init(|| s)
        }
    };
    open.query(sql).map_err(with_flags)
}

/// `--engine spark` in a cxm built with DataFusion only.
#[cfg(all(feature = "datafusion", not(feature = "spark")))]
fn run_spark(
    _session: &std::cell::OnceCell<SparkSession>,
    _remote: &str,
    _sql: &str,
    _tables: &[metrics_core::sql::EngineTable],
) -> Result<metrics_core::polars::prelude::DataFrame> {
    Err(missing_engine(&EngineTarget::Spark(String::new())))
}

/// The usage error for an engine this cxm was built without.
#[cfg(not(feature = "spark"))]
fn missing_engine(engine: &EngineTarget) -> anyhow::Error {
    let name = engine.name();
    UsageError(format!(
        "--engine {name}: this cxm was built without it; build it with \
         `cargo build --release --features metrics-cli/{name}` (docs/sql.md)"
    ))
    .into()
}

/// An input file as the engine's table `name`, with its separator (set,
/// or detected as cxm detects it; whitespace-separated text is refused).
#[cfg(feature = "datafusion")]
fn engine_table(name: &str, t: &metrics_core::mapping::TableInput) -> metrics_core::sql::EngineTable {
    let delimiter = t
        .delimiter
        .unwrap_or_else(|| metrics_core::source::Source::resolve(&t.path).map_or(b',', |s| s.sniff_delimiter()));
    metrics_core::sql::EngineTable { name: name.to_owned(), path: t.path.clone().into(), delimiter }
}

/// `cxm sql --engine` in a cxm built without the engine's feature.
#[cfg(not(feature = "datafusion"))]
fn run_on_engine(
    engine: &EngineTarget,
    _query: &EngineQuery,
    _section: (Command, &str, metrics_core::Period),
    _settings: &Settings,
    _table_flags: &[String],
    _quiet: bool,
) -> Result<()> {
    Err(missing_engine(engine))
}

/// `cxm config`: the resolved settings and their sources, as a table (or
/// CSV, JSON, Markdown with `--format`) on stdout.
fn print_config(a: &cli::ReportArgs) -> Result<()> {
    let settings = Settings::resolve(a, std::io::stdout().is_terminal())?;
    let rows = explain::explain(a, &settings)?;
    let header = ["setting", "value", "source"].map(str::to_owned).to_vec();
    let cells: Vec<Vec<render::Cell>> = rows
        .iter()
        .map(|(k, v, s)| {
            vec![render::Cell::Text(k.clone()), render::Cell::Text(v.clone()), render::Cell::Text(s.name().into())]
        })
        .collect();
    let text = match a.format {
        Some(Format::Json) => {
            let map: serde_json::Map<String, serde_json::Value> = rows
                .iter()
                .map(|(k, v, s)| (k.clone(), serde_json::json!({ "value": v, "source": s.name() })))
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&map)?)
        }
        Some(Format::Csv) => String::from_utf8(render::csv(&header, &cells)?)?,
        Some(Format::Markdown) => render::markdown(&header, &cells),
        Some(Format::Table | Format::Html) | None => render::plain_table(&header, &cells),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

/// `cxm init`: the commented config, and with `--demo` the demo data in a
/// `demo` folder beside it; nothing is overwritten.
fn init_config(a: &cli::InitArgs, quiet: bool) -> Result<()> {
    if a.output.exists() || a.output.is_symlink() {
        bail!("{}: already exists (cxm init does not overwrite; choose another --output)", a.output.display());
    }
    let dir = a.output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut wrote = Vec::new();
    if a.demo {
        wrote = metrics_core::demo::write_demo(&dir.join("demo"), metrics_core::demo::DEFAULT_ROWS, 1)?;
    }
    let init = init::Init { preset: a.preset, demo: a.demo.then_some("demo"), every: false };
    atomic_write(&[(a.output.clone(), init.render().into_bytes())])?;
    wrote.push(a.output.clone());
    if !quiet {
        let mut err = std::io::stderr().lock();
        for f in wrote {
            writeln!(err, "wrote {}", f.display())?;
        }
    }
    Ok(())
}

/// `cxm man`: the top page on stdout, or every page into a folder (never
/// over an existing file).
fn man_pages(dir: Option<&Path>) -> Result<()> {
    let mut cmd = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    cmd.build();
    let Some(dir) = dir else {
        clap_mangen::Man::new(cmd).render(&mut std::io::stdout().lock())?;
        return Ok(());
    };
    let mut pages = Vec::new();
    let mut todo = vec![cmd];
    while let Some(c) = todo.pop() {
        todo.extend(c.get_subcommands().cloned());
        let man = clap_mangen::Man::new(c);
        let mut bytes = Vec::new();
        man.render(&mut bytes)?;
        pages.push((dir.join(man.get_filename()), bytes));
    }
    if let Some((p, _)) = pages.iter().find(|(p, _)| p.exists()) {
        return Err(UsageError(format!("{}: already exists (cxm man does not overwrite)", p.display())).into());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    atomic_write(&pages)
}

/// The library's error with the CLI's context: which flag or config key
/// gives a missing input.
fn with_flags(e: metrics_core::Error) -> anyhow::Error {
    match e.kind() {
        metrics_core::ErrorKind::MissingInput { tables } => {
            let flags: Vec<String> = tables.iter().map(|t| format!("--{t}")).collect();
            let what =
                if tables.len() == 1 { tables[0].replace("surveys", "survey responses") } else { "input".into() };
            anyhow::anyhow!(
                "no {what} given: pass {} (or set {} path in the config)",
                flags.join(", "),
                if tables.len() == 1 { format!("[{}]", tables[0]) } else { "their".into() }
            )
        }
        metrics_core::ErrorKind::NeedsRates(what) => {
            anyhow::anyhow!("{what}: set [revenue] rates (or --rates) to a file with columns currency, rate")
        }
        metrics_core::ErrorKind::MissingColumn { suggest: Some(p), .. } => {
            anyhow::anyhow!("{e}: use --preset {}", p.name())
        }
        metrics_core::ErrorKind::MissingColumns(m) if m.suggest.is_some() => {
            let p = m.suggest.map(|p| p.name()).unwrap_or_default();
            anyhow::anyhow!("{e}; use --preset {p}")
        }
        _ => e.into(),
    }
}

/// Whether the terminal view is coloured: `--color`, else a terminal on
/// stdout without a non-empty `NO_COLOR` (no-color.org).
fn use_color(arg: cli::ColorArg, settings: &Settings) -> bool {
    match arg {
        cli::ColorArg::Always => {
            // The flag wins over NO_COLOR (no-color.org), which the
            // terminal back end would otherwise honour on its own.
            crossterm::style::force_color_output(true);
            true
        }
        cli::ColorArg::Never => false,
        cli::ColorArg::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            settings.target == Target::Stdout && std::io::stdout().is_terminal() && !no_color
        }
    }
}

/// Applies `--section`, and refuses a single CSV or Markdown table of a
/// report with several (usage errors, exit 2; nothing is written).
fn keep_section(report: &mut Report, settings: &Settings) -> Result<()> {
    let names: Vec<String> = report.sections.iter().map(|(n, _)| n.clone()).collect();
    match settings.section.as_deref() {
        Some("data_quality") => report.sections.clear(),
        Some(s) if names.iter().any(|n| n == s) => report.sections.retain(|(n, _)| n == s),
        Some(s) => {
            let have = names.iter().map(String::as_str).chain(["data_quality"]).collect::<Vec<_>>().join(", ");
            return Err(UsageError(format!("--section {s}: this report has no such section (it has {have})")).into());
        }
        None => {}
    }
    let single =
        matches!(settings.format, Format::Csv | Format::Markdown) && !matches!(settings.target, Target::Folder(_));
    if single && report.sections.len() > 1 {
        let format = if settings.format == Format::Csv { "csv" } else { "markdown" };
        return Err(UsageError(format!(
            "--format {format} holds one table, and this report has {} ({}): add --section NAME for one of them, \
             or --output DIR for a file per table",
            report.sections.len(),
            names.join(", ")
        ))
        .into());
    }
    Ok(())
}

/// The one table of a single-file CSV/Markdown output: the only section,
/// else data quality.
fn main_table(report: &Report) -> (Vec<String>, Vec<Vec<render::Cell>>) {
    match report.sections.first() {
        Some((_, df)) => render::cells(df),
        None => render::quality_rows(&report.data_quality),
    }
}

fn render_one(report: &Report, settings: &Settings, style: render::Style) -> Result<Vec<u8>> {
    Ok(match settings.format {
        Format::Json => render::json(report)?.into_bytes(),
        Format::Html => html::page(report, &settings.options.by)?.into_bytes(),
        Format::Csv => {
            let (h, r) = main_table(report);
            render::csv(&h, &r)?
        }
        Format::Markdown => {
            let (h, r) = main_table(report);
            render::markdown(&h, &r).into_bytes()
        }
        Format::Table => {
            let mut out = String::new();
            for (name, df) in &report.sections {
                let by = settings.options.by.iter().filter(|b| df.column(b.as_str()).is_ok()).count();
                if name == "health" {
                    out.push_str(&render::accounts_table(df));
                } else if name == "cohorts" {
                    out.push_str(&render::triangle(df, by, "logo_retention"));
                    out.push_str(&render::triangle(df, by, "revenue_retention"));
                } else {
                    out.push_str(&render::terminal(name, df, by, style));
                }
            }
            let (h, r) = render::quality_rows(&report.data_quality);
            out.push_str(&format!("data quality ({} findings)\n", r.len()));
            if !r.is_empty() {
                out.push_str(&render::plain_table(&h, &r));
            }
            // Every table cell is escaped already (and may carry colour);
            // the lines below are escaped as a whole.
            let tables = out;
            let mut out = String::new();
            let m = &report.meta;
            for note in &report.meta.notes {
                out.push_str(&format!("note: {note}\n"));
            }
            out.push_str(&format!(
                "period {} in {}, {} to {}, as of {}\n",
                m.period.name(),
                m.tz,
                m.first_period.as_deref().unwrap_or("-"),
                m.last_period.as_deref().unwrap_or("-"),
                m.as_of.as_deref().unwrap_or("-")
            ));
            match m.rules.get("as_of_source").map(String::as_str) {
                None | Some("explicit" | "no timestamp") => {}
                Some(c) => out.push_str(&format!("as-of is the latest {c} (--as-of sets it)\n")),
            }
            for (table, i) in &m.inputs {
                out.push_str(&format!("{table}: {} rows read, {} used ({})\n", i.rows_read, i.rows_used, i.path));
            }
            for s in &m.skipped {
                out.push_str(&format!("skipped {}: no `{}` column\n", s.metric, s.missing_column));
            }
            (tables + &render::escape_controls(&out)).into_bytes()
        }
    })
}

fn write(report: &Report, settings: &Settings, style: render::Style) -> Result<()> {
    match &settings.target {
        Target::Stdout => {
            let bytes = render_one(report, settings, style)?;
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
            Ok(())
        }
        Target::File(p) => atomic_write(&[(p.clone(), render_one(report, settings, style)?)]),
        Target::Folder(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
            let ext = match settings.format {
                Format::Json => "json",
                Format::Markdown => "md",
                _ => "csv",
            };
            let table = |h: &[String], r: &[Vec<render::Cell>]| -> Result<Vec<u8>> {
                Ok(match settings.format {
                    Format::Json => render::json_rows(h, r).into_bytes(),
                    Format::Markdown => render::markdown(h, r).into_bytes(),
                    Format::Csv | Format::Table | Format::Html => render::csv(h, r)?,
                })
            };
            let mut files = Vec::new();
            for (name, df) in &report.sections {
                let (h, r) = render::cells(df);
                files.push((dir.join(format!("{name}.{ext}")), table(&h, &r)?));
            }
            let (h, r) = render::quality_rows(&report.data_quality);
            let dq = match settings.format {
                Format::Json => serde_json::to_vec_pretty(&report.data_quality)?,
                _ => table(&h, &r)?,
            };
            files.push((dir.join(format!("data_quality.{ext}")), dq));
            files.push((dir.join("meta.json"), serde_json::to_vec_pretty(&report.meta)?));
            atomic_write(&files)
        }
    }
}

/// Writes every file under a temporary name in its folder, then renames
/// them all: a failure leaves no half-written output.
fn atomic_write(files: &[(std::path::PathBuf, Vec<u8>)]) -> Result<()> {
    let mut staged = Vec::new();
    for (path, bytes) in files {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).with_context(|| format!("{}: cannot write", dir.display()))?;
        tmp.write_all(bytes).with_context(|| format!("{}: cannot write", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Temporary files are private; a report is an ordinary file.
            tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        staged.push((tmp, path));
    }
    for (tmp, path) in staged {
        tmp.persist(path).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(())
}

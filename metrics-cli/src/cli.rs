//! Command-line flags, kept as close to what the user typed as possible;
//! `settings` turns them into the library's typed options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use metrics_core::preset::Preset;

/// cxm: customer support and success metrics from helpdesk and billing exports.
#[derive(Debug, Parser)]
#[command(name = "cxm", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// Hide the progress bar and the data-quality summary on stderr.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// Colour in the terminal view: `auto` (a terminal, and NO_COLOR unset or empty), `always`,
    /// `never`.
    #[arg(long, value_enum, global = true, default_value_t = ColorArg::Auto)]
    pub(crate) color: ColorArg,
    #[command(subcommand)]
    pub(crate) command: Cmd,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Cmd {
    /// The weekly report: every section the inputs allow, with meta and data quality.
    Report(ReportArgs),
    /// Support metrics only (volume, FRT, resolution, FCR, escalation, reopens, backlog, CSAT).
    Support(ReportArgs),
    /// Revenue: MRR movements, customers, churn and retention rates, NRR/GRR, ARPA, CLV.
    Revenue(ReportArgs),
    /// Cohort retention: logo and revenue retention by cohort and age.
    Cohorts(ReportArgs),
    /// Surveys: NPS (with its 95% interval), CSAT and CES from survey responses.
    Surveys(ReportArgs),
    /// Purchases: customers, orders, purchase frequency, revenue, average order value and repeat
    /// purchase rates from transactions (monthly by default).
    Purchases(ReportArgs),
    /// Health score per account (score, band, each component's value and points) and the band summary.
    Health(ReportArgs),
    /// Read the inputs and report what would be used and what rejected, per reason.
    Validate(ReportArgs),
    /// Write a seeded, realistic demo data set (tickets, subscriptions, accounts, rates, survey
    /// responses, transactions, usage and a cxm.toml using them all) to a folder.
    Demo(DemoArgs),
    /// Write a commented cxm.toml listing every setting with its default (never over an
    /// existing file); --demo also writes the demo data beside it and points the inputs at it.
    Init(InitArgs),
    /// Print the settings a command would use, resolved from flags, the config file and
    /// defaults, and where each came from.
    Config(ReportArgs),
    /// Print the SQL of a section (support, or with --section: surveys, revenue, cohorts,
    /// purchases) for an engine that holds the data (DuckDB, Spark, DataFusion, Postgres, Trino,
    /// Snowflake, BigQuery): the same periods, zone, groups and rules as cxm's own tables.
    Sql(SqlArgs),
    /// Print a shell completion script: `cxm completions bash > ~/.local/share/bash-completion/completions/cxm`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `cxm man > cxm.1 && man ./cxm.1`; with --output DIR, write
    /// one page per command (cxm.1, cxm-report.1, ...).
    Man {
        /// A folder for every page (created if needed; existing pages are not overwritten).
        #[arg(long, short, value_name = "DIR")]
        output: Option<PathBuf>,
    },
}

/// Output formats that are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned tables for a terminal (numbers rounded to 2 decimals).
    Table,
    /// Comma-separated values, full precision.
    Csv,
    /// One JSON object: meta, data_quality and a key per section.
    Json,
    /// Markdown tables (numbers rounded to 2 decimals).
    Markdown,
    /// One self-contained HTML page: headline tiles, trend charts, tables (no network needed).
    Html,
}

/// When the terminal view uses colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorArg {
    /// On a terminal, unless NO_COLOR is set to a non-empty value.
    Auto,
    /// Always, even in a pipe or with NO_COLOR.
    Always,
    /// Never.
    Never,
}

/// Period lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PeriodArg {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// FCR presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FcrArg {
    /// agent_replies <= 1 and reopens = 0.
    Zendesk,
    /// Exactly one agent reply (dbt_zendesk).
    OneTouch,
    /// The export's first_contact_resolved flag.
    Flag,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Config file (cxm.toml); flags override it.
    #[arg(long, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Run on the built-in demo data set (seeded; the same as `cxm demo` writes).
    #[arg(long, conflicts_with_all = ["config", "tickets", "subscriptions", "accounts", "surveys", "transactions", "usage"])]
    pub(crate) demo: bool,
    /// Tickets export: a CSV or Parquet file, a glob, or a directory of Parquet files.
    #[arg(long, value_name = "PATH")]
    pub(crate) tickets: Option<String>,
    /// Subscriptions export (one row per subscription line): file, glob or directory.
    #[arg(long, value_name = "PATH")]
    pub(crate) subscriptions: Option<String>,
    /// Accounts table: account_id plus dimensions (segment, plan, region, ...).
    #[arg(long, value_name = "PATH")]
    pub(crate) accounts: Option<String>,
    /// Survey responses export (responded_at, score, survey: nps, csat or ces).
    #[arg(long, value_name = "PATH")]
    pub(crate) surveys: Option<String>,
    /// Transactions export (account_id, at, amount): purchases, in `cxm purchases` and `cxm report`.
    #[arg(long, value_name = "PATH")]
    pub(crate) transactions: Option<String>,
    /// Usage export (account_id, date, metric, value): health score inputs.
    #[arg(long, value_name = "PATH")]
    pub(crate) usage: Option<String>,
    /// Health: list only red accounts, lowest score first, with their weakest component.
    #[arg(long)]
    pub(crate) at_risk: bool,
    /// Currency rates table (columns currency, rate = reporting-currency units per unit).
    #[arg(long, value_name = "PATH")]
    pub(crate) rates: Option<String>,
    /// Reporting currency [default: the only currency present].
    #[arg(long, value_name = "CODE")]
    pub(crate) currency: Option<String>,
    /// Column mapping of a vendor export: zendesk, freshdesk, hubspot or intercom for
    /// tickets, stripe for subscriptions (repeat for several tables).
    #[arg(long, value_name = "PRESET", value_parser = parse_preset)]
    pub(crate) preset: Vec<Preset>,
    /// Period length [default: week for support, surveys and health; month for revenue, cohorts
    /// and purchases].
    #[arg(long, value_enum)]
    pub(crate) period: Option<PeriodArg>,
    /// First reported period: the one holding this date or instant (in --tz).
    #[arg(long, value_name = "DATE")]
    pub(crate) since: Option<String>,
    /// Last reported period: the one holding this date or instant (in --tz).
    #[arg(long, value_name = "DATE")]
    pub(crate) until: Option<String>,
    /// Report time zone (IANA name) for period boundaries [default: UTC].
    #[arg(long, value_name = "ZONE")]
    pub(crate) tz: Option<String>,
    /// Time zone of naive input timestamps [default: UTC].
    #[arg(long, value_name = "ZONE")]
    pub(crate) input_tz: Option<String>,
    /// The instant treated as now [default: the latest ticket timestamp].
    #[arg(long, value_name = "INSTANT")]
    pub(crate) as_of: Option<String>,
    /// Dimensions to break down by (columns of the input), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "COL")]
    pub(crate) by: Vec<String>,
    /// Percentiles of FRT and resolution time beyond median and p90, e.g. 50,90,95
    /// (linear interpolation between closest ranks).
    #[arg(long, value_delimiter = ',', value_name = "P")]
    pub(crate) percentiles: Vec<f64>,
    /// Also report every duration metric in business time, measured with the config's
    /// `[calendars.NAME]` (columns `frt_business_*`, `resolution_business_*`, ...).
    #[arg(long, value_name = "NAME")]
    pub(crate) calendar: Option<String>,
    /// First contact resolution rule [default: zendesk].
    #[arg(long, value_enum)]
    pub(crate) fcr: Option<FcrArg>,
    /// Output format [default: the terminal view, on a terminal and in a pipe alike].
    #[arg(long, value_enum)]
    pub(crate) format: Option<Format>,
    /// Only this section of the report (`support`, `sla`, `revenue`, `cohorts`, `surveys`,
    /// `purchases`, `health`, `health_summary`, or `data_quality`); a single CSV or Markdown
    /// table needs it when the report has several.
    #[arg(long, value_name = "NAME")]
    pub(crate) section: Option<String>,
    /// CSV field separator of every input: one character, `tab` or `whitespace` (runs of spaces)
    /// [default: detected from `,` `;` tab `|`].
    #[arg(long, value_name = "SEP")]
    pub(crate) delimiter: Option<String>,
    /// Stop (exit 1, nothing written) when one reason that signals a wrong mapping (unparseable,
    /// missing, out-of-range values, ragged rows) hits more than this share of a table's rows;
    /// 1 disables [default: 0.25].
    #[arg(long, value_name = "SHARE")]
    pub(crate) max_excluded: Option<f64>,
    /// Output file (.csv, .json, .md) or folder (one file per table plus meta.json).
    #[arg(long, short, value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Folder to write into (created if missing).
    #[arg(long, short, alias = "out", value_name = "DIR")]
    pub(crate) output: PathBuf,
    /// Number of tickets.
    #[arg(long, default_value_t = metrics_core::demo::DEFAULT_ROWS)]
    pub(crate) rows: usize,
    /// Random seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
}

#[derive(Debug, Args)]
pub(crate) struct SqlArgs {
    /// The SQL dialect: duckdb, spark, datafusion, postgres, trino, snowflake or bigquery
    /// [default: the engine's, with --engine].
    #[arg(long, value_name = "NAME", required_unless_present = "engine")]
    pub(crate) dialect: Option<String>,
    /// Run the SQL on this engine over the input files (--tickets, --subscriptions, --surveys,
    /// --transactions, --accounts) and write the result as cxm writes a section (--format, --output). Needs a
    /// cxm built with the engine's cargo feature (docs/sql.md).
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub(crate) engine: Option<Engine>,
    /// The Spark Connect server `--engine spark` runs on, `sc://HOST:PORT`, with Spark's
    /// parameters: `/;use_ssl=true`, `;token=...` (implies TLS), `;user_id=NAME`, and any other
    /// `;name=value` as a header (Databricks: `;x-databricks-cluster-id=...`).
    #[arg(long, value_name = "URL", requires = "engine")]
    pub(crate) remote: Option<String>,
    /// The engine's name of a cxm table, e.g. `--table tickets=analytics.support.tickets`
    /// [default: the cxm name].
    #[arg(long, value_name = "NAME=IDENT")]
    pub(crate) table: Vec<String>,
    /// Revenue and cohorts: where the lines' MRR comes from in the printed SQL (--engine looks
    /// at the table's columns instead). With --rates, the SQL converts each line's `currency`
    /// by the rates file's factors.
    #[arg(long, value_enum, value_name = "FORM", default_value = "mrr")]
    pub(crate) mrr_source: MrrSourceArg,
    #[command(flatten)]
    pub(crate) report: ReportArgs,
}

/// A SQL engine cxm runs its SQL on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Engine {
    /// Apache DataFusion, in process (cargo feature `datafusion`).
    Datafusion,
    /// A Spark Connect server at --remote: Spark, Databricks, Sail (cargo feature `spark`).
    Spark,
}

/// Where the subscription lines' MRR comes from, for the printed revenue SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MrrSourceArg {
    /// The `mrr` column.
    Mrr,
    /// `amount x quantity x f / interval_count`, f from `interval` (the table has all four).
    Amount,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The file to write.
    #[arg(long, short, default_value = "cxm.toml", value_name = "PATH")]
    pub(crate) output: PathBuf,
    /// Set the preset of the table it describes (zendesk, freshdesk, hubspot, intercom: tickets;
    /// stripe: subscriptions).
    #[arg(long, value_parser = parse_preset, value_name = "NAME")]
    pub(crate) preset: Option<Preset>,
    /// Also write the demo data into a `demo` folder beside the file, and point every input at it.
    #[arg(long)]
    pub(crate) demo: bool,
}

fn parse_preset(s: &str) -> Result<Preset, String> {
    s.parse().map_err(|e: metrics_core::Error| e.to_string())
}

//! # metrics-core
//!
//! Customer support and success metrics from helpdesk and billing exports,
//! computed with polars' lazy engine: the library behind the `cxm` binary,
//! which gives the same numbers.
//!
//! ## Quick start
//!
//! Stage a table (from files with `from_path`, or from a `DataFrame` you
//! already hold with `from_frame`: the same mapping, conversions and
//! data-quality accounting), then compute a section with its options:
//!
//! ```
//! use metrics_core::mapping::TableInput;
//! use metrics_core::polars::prelude::*;
//! use metrics_core::raw::Staged;
//! use metrics_core::support::{self, SupportOptions, TicketReadOptions, Tickets};
//!
//! let df = df!(
//!     "ticket_id" => ["1", "2", "3"],
//!     "created_at" => ["2026-03-02T09:00:00Z", "2026-03-03T10:00:00Z", "not a date"],
//!     "first_response_at" => [Some("2026-03-02T09:30:00Z"), None, None],
//! )?;
//! let tickets = Tickets::from_frame(df, &TableInput::default(), &TicketReadOptions::default())?;
//! assert_eq!((tickets.rows_read(), Staged::rows_used(&tickets)), (3, 2));
//! assert_eq!(tickets.quality()[0].reason.name(), "unparseable_timestamp");
//! let weekly = support::table(&tickets, &SupportOptions::default())?;
//! assert_eq!(weekly.column("frt_mean_minutes")?.f64()?.get(0), Some(30.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! * Tables: [`support::Tickets`], [`revenue::Lines`] (subscriptions),
//!   [`revenue::Accounts`], [`surveys::Responses`],
//!   [`purchases::Transactions`], [`health::Usage`]; each implements
//!   [`raw::Staged`] (rows read and used, source, findings).
//! * Sections: [`support::table`], [`revenue::table`],
//!   [`revenue::cohorts_table`], [`surveys::table`], [`purchases::table`],
//!   [`health::scores`] (from [`health::HealthData::from_staged`]);
//!   their options carry the period [`period::Window`] and the dimensions
//!   (`with_period`, `with_tz`, `with_since`, `with_until`, `with_by`) and
//!   are checked here, not in the CLI.
//! * [`report::run`] reads every input from files and composes the
//!   sections into a whole report (tables, meta, data quality), as `cxm`
//!   does.
//! * Errors: one [`Error`]; match on [`Error::kind`] ([`ErrorKind`]) for
//!   the fields: `NothingParses { path, row, column, value, expected }`,
//!   `MissingColumns`, `InvalidOption { key, value, reason }`,
//!   `NoUsableRows { table }`, `Io { path, .. }` and the rest. Messages name
//!   the file, row, column and value, and never a CLI flag (the binary
//!   adds those). A bad *value* in a usable column is never an error: it
//!   is counted in the table's findings ([`quality::QualityRow`]).
//! * Examples that run: `metrics-core/examples/` (`weekly_support`,
//!   `monthly_revenue`, `weekly_surveys`).
//!
//! ```no_run
//! use metrics_core::{mapping::TableInput, report::{self, Command, Inputs, ReportOptions}};
//! let mut inputs = Inputs::default();
//! inputs.tickets = Some(TableInput::new("tickets.csv"));
//! let r = report::run(&inputs, &ReportOptions::default(), Command::Support)?;
//! println!("{:?}", r.section("support"));
//! # Ok::<(), metrics_core::Error>(())
//! ```
#![deny(missing_docs)]

pub mod calendar;
pub mod catalog;
pub mod demo;
pub mod error;
pub mod health;
pub mod mapping;
pub mod parse;
pub mod period;
pub mod preset;
pub mod purchases;
pub mod quality;
pub mod raw;
pub mod report;
pub mod revenue;
pub mod schema;
pub mod source;
pub mod sql;
pub mod support;
pub mod surveys;

/// The chrono-tz version cxm is built against: report and input zones
/// (`chrono_tz::Tz`) in options.
/// The cores this process may run on (1 when unknown): the threads of
/// cxm's own parallel passes (the CSV reader's workers, column
/// conversions, the support table's jobs).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub use chrono_tz;
pub use error::{Error, ErrorKind, Result};
pub use period::Period;
/// The polars version cxm is built against, so callers cannot drift.
pub use polars;

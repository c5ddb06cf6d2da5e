//! # metrics-core
//!
//! Customer support and success metrics from helpdesk and billing exports,
//! computed with polars' lazy engine.
//!
//! * [`mapping`] and [`source`] say where the columns come from;
//! * [`support::Tickets::from_path`] stages a tickets table: typed canonical
//!   columns and the data-quality findings of reading it;
//! * [`support`] has one plan builder per metric family;
//! * [`report::run`] returns a whole report (tables, meta, data quality).
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

pub mod demo;
pub mod error;
pub mod health;
pub mod mapping;
pub mod parse;
pub mod period;
pub mod preset;
pub mod purchases;
pub mod quality;
pub mod report;
pub mod revenue;
pub mod schema;
pub mod source;
pub mod stage;
pub mod support;
pub mod surveys;

pub use error::{Error, Result};
pub use period::Period;
/// The polars version cxm is built against, so callers cannot drift.
pub use polars;

//! The weekly support table from tickets a program already holds in
//! memory: no files, the same numbers as `cxm support`.
//!
//! ```sh
//! cargo run --release --example weekly_support
//! ```

use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::support::{self, SupportOptions, TicketReadOptions, Tickets};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let df = df!(
        "ticket_id" => ["1", "2", "3", "4"],
        "created_at" => ["2026-03-02T09:00:00Z", "2026-03-03T10:00:00Z", "2026-03-09T08:00:00Z", "2026-03-10T12:00:00Z"],
        "first_response_at" => [Some("2026-03-02T09:20:00Z"), Some("2026-03-03T11:00:00Z"), None, Some("2026-03-10T12:05:00Z")],
        "solved_at" => [Some("2026-03-02T15:00:00Z"), None, Some("2026-03-09T10:00:00Z"), None],
        "channel" => ["email", "chat", "email", "chat"],
    )?;
    let read = TicketReadOptions::default().with_dims(["channel"]);
    let tickets = Tickets::from_frame(df, &TableInput::default(), &read)?;
    let mut table = support::table(&tickets, &SupportOptions::default().with_by(["channel"]))?;
    // One row per week and channel, every support column, as CSV.
    CsvWriter::new(std::io::stdout()).finish(&mut table)?;
    Ok(())
}

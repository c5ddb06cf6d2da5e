//! Weekly NPS, CSAT and CES from survey responses held in memory.
//!
//! ```sh
//! cargo run --release --example weekly_surveys
//! ```

use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::surveys::{self, Responses, SurveyOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let df = df!(
        "responded_at" => ["2026-03-02T09:00:00Z", "2026-03-03T10:00:00Z", "2026-03-04T11:00:00Z", "2026-03-10T09:00:00Z"],
        "survey" => ["nps", "nps", "csat", "ces"],
        "score" => ["10", "6", "5", "2"],
    )?;
    let o = SurveyOptions::default();
    let responses = Responses::from_frame(df, &TableInput::default(), &o, &[], chrono_tz::UTC)?;
    let mut table = surveys::table(&responses, &o)?;
    CsvWriter::new(std::io::stdout()).finish(&mut table)?;
    Ok(())
}

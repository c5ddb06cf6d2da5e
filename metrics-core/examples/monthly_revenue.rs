//! Monthly MRR movements from subscription lines held in memory.
//!
//! ```sh
//! cargo run --release --example monthly_revenue
//! ```

use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::revenue::{self, Lines, LinesOptions, RevenueOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let df = df!(
        "subscription_id" => ["s1", "s2", "s3"],
        "account_id" => ["A", "B", "A"],
        "start_at" => ["2026-01-05", "2026-01-20", "2026-03-01"],
        "end_at" => [None, Some("2026-04-01"), None],
        "mrr" => [100.0, 40.0, 25.0],
    )?;
    let lines = Lines::from_frame(df, &TableInput::default(), &LinesOptions::default())?;
    let table = revenue::table(&lines, None, &RevenueOptions::default().with_gross_margin(0.8))?;
    let mut shown = table.select(["period_start", "mrr_end", "new_mrr", "expansion_mrr", "churned_mrr", "nrr"])?;
    CsvWriter::new(std::io::stdout()).finish(&mut shown)?;
    Ok(())
}

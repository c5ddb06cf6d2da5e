//! Helpers shared by the benchmarks in `benches/`: the scan floor (polars
//! reading the columns a pipeline needs, once, each reduced to its null
//! count) and the floor multiple printed beside criterion's figures.

use std::path::Path;

use metrics_core::polars::prelude::*;

/// Reads `columns` of the CSV at `path` once, as text, each reduced to its
/// null count: the cost of reading what a pipeline reads, without the
/// metrics.
pub fn scan_floor(path: &Path, columns: &[&str]) -> DataFrame {
    LazyCsvReader::new(PlRefPath::new(path.to_string_lossy().as_ref()))
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .finish()
        .expect("scan")
        .select(columns.iter().map(|c| col(*c).null_count()).collect::<Vec<_>>())
        .collect_with_engine(Engine::Streaming)
        .expect("collect")
        .unwrap_single()
}

/// The median wall time of three runs of `f`, in seconds.
pub fn median_seconds(f: impl Fn()) -> f64 {
    let mut t: Vec<f64> = (0..3)
        .map(|_| {
            let start = std::time::Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[1]
}

/// Prints (on stderr) a pipeline's time as a multiple of its scan floor,
/// both measured now: `name: 3.10 x the scan floor (0.320 s / 0.103 s, medians of 3)`.
pub fn print_floor_multiple(name: &str, pipeline: impl Fn(), floor: impl Fn()) {
    let (p, f) = (median_seconds(pipeline), median_seconds(floor));
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{name}: {:.2} x the scan floor ({p:.3} s / {f:.3} s, medians of 3)", p / f);
    }
}

/// The ticket columns the support table reads.
pub const TICKET_COLUMNS: [&str; 8] =
    ["ticket_id", "created_at", "first_response_at", "solved_at", "reopens", "agent_replies", "group_stations", "csat"];

/// The subscription columns the revenue table reads (the demo lines carry
/// a price: amount, interval, interval count, quantity, currency).
pub const SUBSCRIPTION_COLUMNS: [&str; 9] = [
    "account_id",
    "subscription_id",
    "start_at",
    "end_at",
    "amount",
    "interval",
    "interval_count",
    "quantity",
    "currency",
];

/// The survey columns the surveys table reads.
pub const SURVEY_COLUMNS: [&str; 3] = ["responded_at", "survey", "score"];

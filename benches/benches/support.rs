//! The support pipeline end to end (read CSV, stage, every support metric,
//! collect) on generated tickets, beside the scan floor: polars reading the
//! same file's eight columns the support table needs, once, each reduced to
//! its null count. Throughput is reported in tickets per second, and the
//! pipeline's time as a multiple of the floor (printed on stderr, measured
//! in the same run). Size: `CXM_BENCH_ROWS` (default 1,000,000).
//! `cargo bench --workspace --bench support -- --output-format bencher`
//! prints the one-line-per-bench form CI tools read.

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;

// The same allocator as the `cxm` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::report::{self, Command, Inputs, ReportOptions};

fn rows() -> usize {
    std::env::var("CXM_BENCH_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000)
}

fn support_pipeline(c: &mut Criterion) {
    let n = rows();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tickets.csv");
    let file = std::fs::File::create(&path).expect("create bench data");
    metrics_core::demo::write_tickets(std::io::BufWriter::new(file), n, 42).expect("write bench data");
    let mut inputs = Inputs::default();
    inputs.tickets = Some(TableInput::new(path.to_string_lossy()));
    let options = ReportOptions::default();

    let pipeline = || black_box(report::run(&inputs, &options, Command::Support).expect("report"));
    let floor = || black_box(scan_floor(&path));

    let mut group = c.benchmark_group("support");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("csv_{n}_tickets"), |b| b.iter(pipeline));
    group.bench_function(format!("scan_floor_csv_{n}_tickets"), |b| b.iter(floor));
    group.finish();
    let (p, f) = (median_seconds(|| drop(pipeline())), median_seconds(|| drop(floor())));
    #[allow(clippy::print_stderr)]
    {
        eprintln!("support/csv_{n}_tickets: {:.2} x the scan floor ({p:.3} s / {f:.3} s, medians of 3)", p / f);
    }
}

/// The eight columns of the support table, read once from the CSV, each
/// reduced to its null count: the cost of reading, without the metrics.
fn scan_floor(path: &std::path::Path) -> DataFrame {
    let cols = [
        "ticket_id",
        "created_at",
        "first_response_at",
        "solved_at",
        "reopens",
        "agent_replies",
        "group_stations",
        "csat",
    ];
    LazyCsvReader::new(PlRefPath::new(path.to_string_lossy().as_ref()))
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .finish()
        .expect("scan")
        .select(cols.iter().map(|c| col(*c).null_count()).collect::<Vec<_>>())
        .collect_with_engine(Engine::Streaming)
        .expect("collect")
        .unwrap_single()
}

/// The median wall time of three runs of `f`, in seconds.
fn median_seconds(f: impl Fn()) -> f64 {
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

criterion_group!(benches, support_pipeline);
criterion_main!(benches);

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

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use metrics_core::mapping::TableInput;
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
    let floor = || black_box(cxm_benches::scan_floor(&path, &cxm_benches::TICKET_COLUMNS));

    let mut group = c.benchmark_group("support");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("csv_{n}_tickets"), |b| b.iter(pipeline));
    group.bench_function(format!("scan_floor_csv_{n}_tickets"), |b| b.iter(floor));
    group.finish();
    cxm_benches::print_floor_multiple(&format!("support/csv_{n}_tickets"), || drop(pipeline()), || drop(floor()));
}

criterion_group!(benches, support_pipeline);
criterion_main!(benches);

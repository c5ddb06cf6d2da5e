//! The surveys pipeline end to end (read CSV, stage, NPS with its interval,
//! CSAT, CES per week, collect) on generated responses, beside the scan
//! floor of the same file. Throughput is reported in responses per second,
//! and the pipeline's time as a multiple of the floor on stderr. Size:
//! `CXM_BENCH_RESPONSES` (default 1,000,000).

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use metrics_core::mapping::TableInput;
use metrics_core::report::{self, Command, Inputs, ReportOptions};

fn responses() -> usize {
    std::env::var("CXM_BENCH_RESPONSES").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000)
}

fn surveys_pipeline(c: &mut Criterion) {
    let n = responses();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("survey_responses.csv");
    let file = std::fs::File::create(&path).expect("create bench data");
    metrics_core::demo::write_surveys(std::io::BufWriter::new(file), n, 5_000, 42).expect("write bench data");
    let mut inputs = Inputs::default();
    inputs.surveys = Some(TableInput::new(path.to_string_lossy()));
    let options = ReportOptions::default();

    let pipeline = || black_box(report::run(&inputs, &options, Command::Surveys).expect("report"));
    let floor = || black_box(cxm_benches::scan_floor(&path, &cxm_benches::SURVEY_COLUMNS));
    let mut group = c.benchmark_group("surveys");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("csv_{n}_responses"), |b| b.iter(pipeline));
    group.bench_function(format!("scan_floor_csv_{n}_responses"), |b| b.iter(floor));
    group.finish();
    cxm_benches::print_floor_multiple(&format!("surveys/csv_{n}_responses"), || drop(pipeline()), || drop(floor()));
}

criterion_group!(benches, surveys_pipeline);
criterion_main!(benches);

//! The revenue pipeline end to end (read CSV, normalise and convert MRR,
//! movements, rates, CLV, cohorts, collect) on generated subscription
//! lines, beside the scan floor of the same file (the subscription columns
//! read once). Throughput is reported in subscription lines per second, and
//! the pipeline's time as a multiple of the floor on stderr. Size:
//! `CXM_BENCH_LINES` (default 1,000,000).

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use metrics_core::mapping::TableInput;
use metrics_core::report::{self, Command, Inputs, ReportOptions};

fn lines() -> usize {
    std::env::var("CXM_BENCH_LINES").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000)
}

fn revenue_pipeline(c: &mut Criterion) {
    let wanted = lines();
    let dir = tempfile::tempdir().expect("temp dir");
    let (subs, accounts, rates) =
        (dir.path().join("subscriptions.csv"), dir.path().join("accounts.csv"), dir.path().join("rates.csv"));
    // The demo generator writes about 1.25 lines per account.
    let (mut s, mut a) = (Vec::new(), Vec::new());
    metrics_core::demo::write_subscriptions(&mut s, &mut a, wanted * 4 / 5, 42).expect("generate");
    let n = s.iter().filter(|b| **b == b'\n').count().saturating_sub(1);
    std::fs::File::create(&subs).and_then(|mut f| f.write_all(&s)).expect("write subscriptions");
    std::fs::write(&accounts, a).expect("write accounts");
    std::fs::write(&rates, metrics_core::demo::DEMO_RATES).expect("write rates");
    let mut inputs = Inputs::default();
    inputs.subscriptions = Some(TableInput::new(subs.to_string_lossy()));
    inputs.accounts = Some(TableInput::new(accounts.to_string_lossy()));
    let mut options = ReportOptions::default();
    options.revenue.rates = Some(TableInput::new(rates.to_string_lossy()));
    options.revenue.reporting_currency = Some("USD".into());

    let mut group = c.benchmark_group("revenue");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    let pipeline = || black_box(report::run(&inputs, &options, Command::Report).expect("report"));
    let floor = || black_box(cxm_benches::scan_floor(&subs, &cxm_benches::SUBSCRIPTION_COLUMNS));
    group.bench_function(format!("csv_{n}_lines_revenue_and_cohorts"), |b| b.iter(pipeline));
    group.bench_function(format!("scan_floor_csv_{n}_lines"), |b| b.iter(floor));
    cxm_benches::print_floor_multiple(&format!("revenue/csv_{n}_lines"), || drop(pipeline()), || drop(floor()));
    options.by = vec!["segment".into()];
    group.bench_function(format!("csv_{n}_lines_by_segment"), |b| {
        b.iter(|| black_box(report::run(&inputs, &options, Command::Revenue).expect("report")))
    });
    group.finish();
}

criterion_group!(benches, revenue_pipeline);
criterion_main!(benches);

//! The whole report end to end (tickets, subscription lines and survey
//! responses read from CSV; support, revenue, cohorts and surveys
//! computed), beside the scan floor of the same three files (each one's
//! needed columns read once, one after another). Throughput is reported in
//! tickets per second, and the report's time as a multiple of the floor on
//! stderr. Size: `CXM_BENCH_ROWS` tickets (default 1,000,000), with a tenth
//! as many subscription lines and survey responses.

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use metrics_core::mapping::TableInput;
use metrics_core::report::{self, Command, Inputs, ReportOptions};

fn rows() -> usize {
    std::env::var("CXM_BENCH_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000)
}

fn whole_report(c: &mut Criterion) {
    let n = rows();
    let dir = tempfile::tempdir().expect("temp dir");
    let (tickets, subs, surveys) =
        (dir.path().join("tickets.csv"), dir.path().join("subscriptions.csv"), dir.path().join("survey_responses.csv"));
    let file = std::fs::File::create(&tickets).expect("create tickets");
    metrics_core::demo::write_tickets(std::io::BufWriter::new(file), n, 42).expect("write tickets");
    let (mut s, mut a) = (Vec::new(), Vec::new());
    metrics_core::demo::write_subscriptions(&mut s, &mut a, n / 12, 42).expect("generate lines");
    std::fs::File::create(&subs).and_then(|mut f| f.write_all(&s)).expect("write subscriptions");
    let file = std::fs::File::create(&surveys).expect("create surveys");
    metrics_core::demo::write_surveys(std::io::BufWriter::new(file), n / 10, 5_000, 42).expect("write surveys");
    let mut inputs = Inputs::default();
    inputs.tickets = Some(TableInput::new(tickets.to_string_lossy()));
    inputs.subscriptions = Some(TableInput::new(subs.to_string_lossy()));
    inputs.surveys = Some(TableInput::new(surveys.to_string_lossy()));
    let mut options = ReportOptions::default();
    // The demo lines mix currencies; one rate table would be read too.
    options.revenue.reporting_currency = Some("USD".into());
    let rates = dir.path().join("rates.csv");
    std::fs::write(&rates, metrics_core::demo::DEMO_RATES).expect("write rates");
    options.revenue.rates = Some(TableInput::new(rates.to_string_lossy()));

    let pipeline = || black_box(report::run(&inputs, &options, Command::Report).expect("report"));
    let floor = || {
        black_box(cxm_benches::scan_floor(&tickets, &cxm_benches::TICKET_COLUMNS));
        black_box(cxm_benches::scan_floor(&subs, &cxm_benches::SUBSCRIPTION_COLUMNS));
        black_box(cxm_benches::scan_floor(&surveys, &cxm_benches::SURVEY_COLUMNS));
    };
    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("csv_{n}_tickets_whole_report"), |b| b.iter(pipeline));
    group.bench_function(format!("scan_floor_csv_{n}_tickets_three_tables"), |b| b.iter(floor));
    group.finish();
    cxm_benches::print_floor_multiple(&format!("report/csv_{n}_tickets"), || drop(pipeline()), floor);
}

criterion_group!(benches, whole_report);
criterion_main!(benches);

//! Business durations: one calendar (New York, weekdays with a split
//! Tuesday, a 24h Saturday, holidays) laid out over two years, then the
//! business time of `CXM_BENCH_DURATIONS` spans (default 10,000,000) of
//! random starts and lengths up to ten days, on every core
//! (`metrics_core::calendar::Prepared::business`). Throughput is reported
//! in durations per second; criterion's time is wall time of both cores.

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use metrics_core::calendar::{BusinessCalendar, CalendarSection};

fn durations() -> usize {
    std::env::var("CXM_BENCH_DURATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000_000)
}

fn calendar() -> BusinessCalendar {
    let mut s = CalendarSection { tz: Some("America/New_York".into()), ..CalendarSection::default() };
    for d in ["mon", "wed", "thu", "fri"] {
        s.hours.insert(d.into(), vec!["09:00-17:00".into()]);
    }
    s.hours.insert("tue".into(), vec!["09:00-12:00".into(), "13:00-17:00".into()]);
    s.hours.insert("sat".into(), vec!["00:00-24:00".into()]);
    s.holidays = vec!["2024-01-01".into(), "2024-12-24..2024-12-26".into(), "2025-01-01".into()];
    BusinessCalendar::from_section("support", &s).expect("calendar")
}

fn business(c: &mut Criterion) {
    use rayon::prelude::*;
    let n = durations();
    let cal = calendar();
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    let lo = metrics_core::period::day_start(d("2024-01-01"), cal.tz());
    // A fixed linear congruential sequence: starts over two years, lengths
    // up to ten days.
    let mut x: u64 = 42;
    let mut next = || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 11) as i64
    };
    let spans: Vec<(i64, i64)> = (0..n)
        .map(|_| {
            let a = lo + next() % (730 * 86_400_000_000);
            (a, a + next() % (10 * 86_400_000_000))
        })
        .collect();
    let mut group = c.benchmark_group("business");
    group.sample_size(10);
    group.bench_function("prepare_two_years", |b| b.iter(|| black_box(cal.prepare(d("2024-01-01"), d("2025-12-31")))));
    let p = cal.prepare(d("2024-01-01"), d("2026-01-10"));
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("durations_{n}"), |b| {
        b.iter(|| black_box(spans.par_iter().map(|(a, e)| p.business(*a, *e).unwrap_or(0)).sum::<i64>()))
    });
    group.finish();
}

criterion_group!(benches, business);
criterion_main!(benches);

//! Properties that must hold for any ticket export: counts add up over
//! periods and over `--by` groups, and row order does not matter.

use std::fmt::Write as _;
use std::path::Path;

use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::report::{self, Command, Inputs, ReportOptions};
use proptest::prelude::*;

const COUNTS: [&str; 12] = [
    "tickets_created",
    "tickets_solved",
    "frt_count",
    "unanswered_count",
    "resolution_count",
    "fcr_count",
    "escalated_count",
    "reopened_count",
    "reopens_total",
    "backlog_count",
    "backlog_over_7d_count",
    "csat_responses",
];

#[derive(Debug, Clone)]
struct Ticket {
    created: i64,
    response: Option<i64>,
    solved: Option<i64>,
    reopens: i64,
    replies: i64,
    stations: i64,
    csat: Option<u8>,
    channel: Option<u8>,
}

fn ticket() -> impl Strategy<Value = Ticket> {
    (
        0i64..60 * 24,
        proptest::option::of(-2i64..48),
        proptest::option::of(-5i64..24 * 20),
        0i64..3,
        0i64..4,
        1i64..3,
        proptest::option::of(1u8..6),
        proptest::option::weighted(0.85, 0u8..3),
    )
        .prop_map(|(created, response, solved, reopens, replies, stations, csat, channel)| Ticket {
            created,
            response: response.map(|r| created + r),
            solved: solved.map(|s| created + s),
            reopens,
            replies,
            stations,
            csat,
            channel,
        })
}

fn csv(tickets: &[Ticket], order: &[usize]) -> String {
    // Hours after 2026-01-05T00:00Z (a Monday).
    let ts = |h: i64| {
        let t = chrono::DateTime::from_timestamp(1_767_571_200 + h * 3600, 0).unwrap();
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    };
    let mut out = String::from(
        "ticket_id,created_at,first_response_at,solved_at,reopens,agent_replies,group_stations,csat,channel\n",
    );
    for &i in order {
        let t = &tickets[i];
        let _ = writeln!(
            out,
            "{i},{},{},{},{},{},{},{},{}",
            ts(t.created),
            t.response.map(ts).unwrap_or_default(),
            t.solved.map(ts).unwrap_or_default(),
            t.reopens,
            t.replies,
            t.stations,
            t.csat.map(|c| c.to_string()).unwrap_or_default(),
            t.channel.map(|c| format!("ch{c}")).unwrap_or_default(),
        );
    }
    out
}

fn support(path: &Path, by: &[&str]) -> DataFrame {
    let mut inputs = Inputs::default();
    inputs.tickets = Some(TableInput::new(path.to_string_lossy()));
    let mut o = ReportOptions::default();
    o.by = by.iter().map(|s| (*s).to_owned()).collect();
    let r = report::run(&inputs, &o, Command::Support).expect("report");
    r.section("support").unwrap().clone()
}

fn ints(df: &DataFrame, name: &str) -> Vec<i64> {
    let c = df.column(name).unwrap().cast(&DataType::Int64).unwrap();
    c.i64().unwrap().iter().map(|v| v.expect("counts are never null")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn counts_add_up_over_groups_and_periods(tickets in proptest::collection::vec(ticket(), 1..40), seed in any::<u64>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let order: Vec<usize> = (0..tickets.len()).collect();
        std::fs::write(&path, csv(&tickets, &order)).unwrap();
        let flat = support(&path, &[]);
        let grouped = support(&path, &["channel"]);
        let periods = flat.height();
        // Every group appears in every period: groups x periods rows.
        let groups = tickets.iter().map(|t| t.channel).collect::<std::collections::BTreeSet<_>>().len();
        prop_assert_eq!(grouped.height(), periods * groups);
        prop_assert_eq!(ints(&flat, "tickets_created").iter().sum::<i64>(), tickets.len() as i64);
        let flat_dates = flat.column("period_start").unwrap().cast(&DataType::Int32).unwrap();
        let flat_dates: Vec<i32> = flat_dates.i32().unwrap().into_no_null_iter().collect();
        let g_dates = grouped.column("period_start").unwrap().cast(&DataType::Int32).unwrap();
        let g_dates: Vec<i32> = g_dates.i32().unwrap().into_no_null_iter().collect();
        for name in COUNTS {
            let f = ints(&flat, name);
            let g = ints(&grouped, name);
            for (k, d) in flat_dates.iter().enumerate() {
                let sum: i64 = g_dates.iter().zip(&g).filter(|(gd, _)| *gd == d).map(|(_, v)| v).sum();
                prop_assert_eq!(sum, f[k], "{} in period {}", name, k);
            }
        }
        // Row order does not change anything.
        let mut shuffled = order.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        std::fs::write(&path, csv(&tickets, &shuffled)).unwrap();
        let again = support(&path, &[]);
        prop_assert!(again.equals_missing(&flat), "row order changed the report");
    }
}

/// Count, mean, median and p90 of one (week, channel) sample.
type Stats = std::collections::BTreeMap<(i64, Option<u8>), (usize, f64, f64, f64)>;

/// The linear quantile of a sorted sample (`docs/metrics.md`, "Common
/// rules"): h = (n-1)p, x[⌊h⌋] + (h-⌊h⌋)(x[⌊h⌋+1] - x[⌊h⌋]).
fn linear_quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Count, mean, median and p90 of a duration per (week, channel) straight
/// from the generated tickets: the plain definition the selection kernel
/// must agree with. `sample` gives a ticket's week and its duration in
/// the metric's unit (`None`: not in the sample).
fn plain_stats(tickets: &[Ticket], by_channel: bool, sample: impl Fn(&Ticket) -> Option<(i64, f64)>) -> Stats {
    let mut groups: std::collections::BTreeMap<(i64, Option<u8>), Vec<f64>> = Default::default();
    for t in tickets {
        if let Some((week, v)) = sample(t) {
            groups.entry((week, if by_channel { t.channel } else { None })).or_default().push(v);
        }
    }
    groups
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by(f64::total_cmp);
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            (k, (v.len(), mean, linear_quantile(&v, 0.5), linear_quantile(&v, 0.9)))
        })
        .collect()
}

/// Checks one duration metric's four columns against [`plain_stats`].
fn check_stats(df: &DataFrame, prefix: &str, unit: &str, want: &Stats) -> Result<(), TestCaseError> {
    // 2026-01-05, the Monday the generated hours count from.
    const FIRST_MONDAY: i64 = 20_458;
    let days = df.column("period_start").unwrap().cast(&DataType::Int32).unwrap();
    let days: Vec<i64> = days.i32().unwrap().into_no_null_iter().map(i64::from).collect();
    let channel: Vec<Option<u8>> = match df.column("channel") {
        Ok(c) => c.str().unwrap().iter().map(|c| c.map(|c| c[2..].parse().unwrap())).collect(),
        Err(_) => vec![None; df.height()],
    };
    let count = ints(df, &format!("{prefix}_count"));
    let float = |name: String| -> Vec<Option<f64>> { df.column(&name).unwrap().f64().unwrap().iter().collect() };
    let mean = float(format!("{prefix}_mean_{unit}"));
    let median = float(format!("{prefix}_median_{unit}"));
    let p90 = float(format!("{prefix}_p90_{unit}"));
    let close = |got: Option<f64>, want: f64| got.is_some_and(|g| (g - want).abs() <= 1e-9 * want.abs().max(1.0));
    let mut seen = 0;
    for i in 0..df.height() {
        let week = (days[i] - FIRST_MONDAY).div_euclid(7);
        match want.get(&(week, channel[i])) {
            Some(&(n, m, q50, q90)) => {
                seen += 1;
                prop_assert_eq!(count[i], n as i64, "{} count, week {}", prefix, week);
                prop_assert!(close(mean[i], m), "{} mean {:?} vs {}", prefix, mean[i], m);
                prop_assert!(close(median[i], q50), "{} median {:?} vs {}", prefix, median[i], q50);
                prop_assert!(close(p90[i], q90), "{} p90 {:?} vs {}", prefix, p90[i], q90);
            }
            None => {
                prop_assert_eq!(count[i], 0, "{} count, week {}", prefix, week);
                prop_assert!(mean[i].is_none() && median[i].is_none() && p90[i].is_none());
            }
        }
    }
    prop_assert_eq!(seen, want.len(), "{}: every sample has its row", prefix);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The duration statistics (selection per group over a counting sort,
    /// empty and null-only groups, negative durations left out) equal the
    /// plain definition per week, and per week and channel.
    #[test]
    fn duration_statistics_equal_the_plain_definition(tickets in proptest::collection::vec(ticket(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let order: Vec<usize> = (0..tickets.len()).collect();
        std::fs::write(&path, csv(&tickets, &order)).unwrap();
        let week = |h: i64| h.div_euclid(24 * 7);
        let frt = |t: &Ticket| t.response.filter(|r| *r >= t.created).map(|r| (week(t.created), (r - t.created) as f64 * 60.0));
        let resolution = |t: &Ticket| t.solved.filter(|s| *s >= t.created).map(|s| (week(s), (s - t.created) as f64));
        for by_channel in [false, true] {
            let df = support(&path, if by_channel { &["channel"] } else { &[] });
            check_stats(&df, "frt", "minutes", &plain_stats(&tickets, by_channel, frt))?;
            check_stats(&df, "resolution", "hours", &plain_stats(&tickets, by_channel, resolution))?;
        }
    }
}

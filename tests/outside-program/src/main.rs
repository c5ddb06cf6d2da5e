//! A user's program: metrics from DataFrames it already holds, through the
//! public API of `metrics-core` only, checked cell for cell against the
//! `cxm` binary given as the first argument (exit 1 on any difference).

use std::path::{Path, PathBuf};
use std::process::Command;

use metrics_core::mapping::TableInput;
use metrics_core::polars::prelude::*;
use metrics_core::revenue::{self, Lines, LinesOptions, RevenueOptions};
use metrics_core::support::{self, SupportOptions, TicketReadOptions, Tickets};
use metrics_core::surveys::{self, Responses, SurveyOptions};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let cxm = PathBuf::from(std::env::args().nth(1).ok_or("usage: cxm-outside-program <path to cxm>")?);
    let dir = std::env::temp_dir().join(format!("cxm-outside-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let checks = [
        ("weekly support", weekly_support(&cxm, &dir)?),
        ("monthly revenue", monthly_revenue(&cxm, &dir)?),
        ("weekly surveys", weekly_surveys(&cxm, &dir)?),
    ];
    std::fs::remove_dir_all(&dir)?;
    let mut failed = false;
    for (name, (rows, diffs)) in checks {
        if diffs.is_empty() {
            println!("{name}: {rows} rows, equal to cxm cell for cell");
        } else {
            failed = true;
            println!("{name}: differs from cxm:\n  {}", diffs.join("\n  "));
        }
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

/// Tickets across three weeks, with a rating, reopens and a bad date.
fn weekly_support(cxm: &Path, dir: &Path) -> Result<(usize, Vec<String>)> {
    let df = df!(
        "ticket_id" => ["1", "2", "3", "4", "5", "6"],
        "created_at" => ["2026-03-02T09:00:00Z", "2026-03-03T10:00:00Z", "2026-03-09T08:00:00Z", "2026-03-10T12:00:00Z", "2026-03-17T07:00:00Z", "not a date"],
        "first_response_at" => [Some("2026-03-02T09:20:00Z"), Some("2026-03-03T11:00:00Z"), None, Some("2026-03-10T12:05:00Z"), Some("2026-03-17T08:00:00Z"), None],
        "solved_at" => [Some("2026-03-02T15:00:00Z"), None, Some("2026-03-09T10:00:00Z"), None, Some("2026-03-18T07:00:00Z"), None],
        "reopens" => [Some(0i64), None, Some(1), None, Some(0), None],
        "csat" => [Some("5"), None, Some("2"), None, Some("good"), None],
    )?;
    let path = write_csv(dir, "tickets.csv", &df)?;
    let tickets = Tickets::from_frame(df, &TableInput::default(), &TicketReadOptions::default())?;
    let table = support::table(&tickets, &SupportOptions::default())?;
    compare(&table, &run(cxm, &["support", "--tickets"], &path)?)
}

/// Subscription lines over four months: new, churned, expansion.
fn monthly_revenue(cxm: &Path, dir: &Path) -> Result<(usize, Vec<String>)> {
    let df = df!(
        "subscription_id" => ["s1", "s2", "s3", "s4"],
        "account_id" => ["A", "B", "A", "C"],
        "start_at" => ["2026-01-05", "2026-01-20", "2026-03-01", "2026-02-10"],
        "end_at" => [None, Some("2026-04-01"), None, Some("2026-03-15")],
        "mrr" => [100.0, 40.0, 25.0, 60.0],
    )?;
    let path = write_csv(dir, "subscriptions.csv", &df)?;
    let lines = Lines::from_frame(df, &TableInput::default(), &LinesOptions::default())?;
    let table = revenue::table(&lines, None, &RevenueOptions::default())?;
    compare(&table, &run(cxm, &["revenue", "--subscriptions"], &path)?)
}

/// NPS, CSAT and CES responses over two weeks.
fn weekly_surveys(cxm: &Path, dir: &Path) -> Result<(usize, Vec<String>)> {
    let df = df!(
        "responded_at" => ["2026-03-02T09:00:00Z", "2026-03-03T10:00:00Z", "2026-03-04T11:00:00Z", "2026-03-10T09:00:00Z", "2026-03-11T09:00:00Z"],
        "survey" => ["nps", "nps", "csat", "ces", "nps"],
        "score" => ["10", "6", "5", "2", "8"],
    )?;
    let path = write_csv(dir, "survey_responses.csv", &df)?;
    let o = SurveyOptions::default();
    let responses = Responses::from_frame(df, &TableInput::default(), &o, &[], metrics_core::chrono_tz::UTC)?;
    let table = surveys::table(&responses, &o)?;
    compare(&table, &run(cxm, &["surveys", "--surveys"], &path)?)
}

fn write_csv(dir: &Path, name: &str, df: &DataFrame) -> Result<PathBuf> {
    let path = dir.join(name);
    CsvWriter::new(std::fs::File::create(&path)?).finish(&mut df.clone())?;
    Ok(path)
}

/// `cxm <args> <file> --format csv -q`, its stdout.
fn run(cxm: &Path, args: &[&str], file: &Path) -> Result<String> {
    let out = Command::new(cxm).args(args).arg(file).args(["--format", "csv", "-q"]).output()?;
    if !out.status.success() {
        return Err(format!("cxm {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// The library's table and cxm's CSV, cell by cell: numbers equal within
/// 1e-12 relative, text exactly. Returns the rows compared and the
/// differences.
fn compare(table: &DataFrame, cli: &str) -> Result<(usize, Vec<String>)> {
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf).finish(&mut table.clone())?;
    let lib = String::from_utf8(buf)?;
    let (a, b): (Vec<&str>, Vec<&str>) = (lib.lines().collect(), cli.lines().collect());
    let mut diffs = Vec::new();
    if a.len() != b.len() {
        diffs.push(format!("{} lines from the library, {} from cxm", a.len(), b.len()));
    }
    for (i, (la, lb)) in a.iter().zip(&b).enumerate() {
        let (ca, cb): (Vec<&str>, Vec<&str>) = (la.split(',').collect(), lb.split(',').collect());
        if ca.len() != cb.len() {
            diffs.push(format!("line {}: {} cells vs {}", i + 1, ca.len(), cb.len()));
            continue;
        }
        for (j, (x, y)) in ca.iter().zip(&cb).enumerate() {
            let same = match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(p), Ok(q)) => (p - q).abs() <= 1e-12 * p.abs().max(1.0),
                _ => x == y,
            };
            if !same {
                diffs.push(format!("line {}, cell {}: library {x}, cxm {y}", i + 1, j + 1));
            }
        }
    }
    Ok((a.len().saturating_sub(1), diffs))
}

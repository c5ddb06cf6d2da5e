//! Seeded, realistic demo data: a ticket export, subscriptions, accounts
//! and currency rates with every edge case the data contract names, so a new user can run everything in a minute. The
//! same seed and size give the same bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use crate::{Error, Result};

/// Default number of demo tickets.
pub const DEFAULT_ROWS: usize = 10_000;

/// The demo's first day: Monday 2026-03-02 00:00 UTC, in epoch seconds.
const START: i64 = 1_772_409_600;
const DAY: i64 = 86_400;

const GROUPS: [&str; 4] = ["billing", "technical", "onboarding", "general"];
const CHANNELS: [&str; 4] = ["email", "chat", "web", "phone"];
const PRIORITIES: [(&str, f64); 4] = [("low", 0.25), ("normal", 0.5), ("high", 0.18), ("urgent", 0.07)];
const AGENTS: [&str; 8] = ["ana", "ben", "chen", "dara", "eli", "fatima", "gus", "hana"];

/// Header of the demo tickets file (canonical names).
pub const TICKETS_HEADER: &str = "ticket_id,created_at,first_response_at,solved_at,first_solved_at,status,reopens,agent_replies,group_stations,escalated,priority,channel,group,assignee,requester_id,account_id,csat,csat_at,tags";

fn ts(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut Pcg64) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn pick<'a>(rng: &mut Pcg64, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// Writes `rows` demo tickets as CSV (header included) over about six
/// months from 2026-03-02. Mixed in, at realistic rates: unanswered and
/// unsolved tickets, reopened ones, tickets solved with zero replies, a few
/// responses logged before creation (negative durations), duplicate ids,
/// unparseable timestamps, CSAT as numbers, `good`/`bad` text, `offered`
/// and out-of-scale values.
pub fn write_tickets<W: Write>(mut w: W, rows: usize, seed: u64) -> std::io::Result<()> {
    let mut rng = Pcg64::seed_from_u64(seed);
    writeln!(w, "{TICKETS_HEADER}")?;
    let span = 182 * DAY;
    for i in 0..rows {
        let id = if i > 10 && rng.random::<f64>() < 0.001 { 1000 + i - 7 } else { 1000 + i };
        // Arrivals: more on weekdays and in working hours.
        let mut created = START + (span as f64 * i as f64 / rows.max(1) as f64) as i64;
        let hour = (9.0 + 3.0 * normal(&mut rng)).clamp(0.0, 23.9);
        created = created - created.rem_euclid(DAY) + (hour * 3600.0) as i64 + rng.random_range(0..3600);
        let group = pick(&mut rng, &GROUPS);
        let channel = pick(&mut rng, &CHANNELS);
        let r: f64 = rng.random();
        let mut acc = 0.0;
        let priority = PRIORITIES.iter().find(|(_, p)| {
            acc += p;
            r < acc
        });
        let priority = priority.map_or("normal", |p| p.0);
        let answered = rng.random::<f64>() > 0.05;
        let frt = (normal(&mut rng) * 1.2 + 4.0).exp() * 60.0; // median ~55 min
        let mut first_response = answered.then(|| created + frt as i64);
        if answered && rng.random::<f64>() < 0.002 {
            first_response = Some(created - rng.random_range(60..7200)); // logged before creation
        }
        // Most tickets get solved; the unsolved ones are mostly recent, with
        // a few stale ones left behind.
        let open_chance = if span - (created - START) < 10 * DAY { 0.45 } else { 0.015 };
        let solved_flag = rng.random::<f64>() > open_chance;
        let resolution = (normal(&mut rng) * 1.1 + 2.8).exp() * 3600.0; // median ~16 h
        let reopens: i64 = if rng.random::<f64>() < 0.07 { rng.random_range(1..3) } else { 0 };
        let first_solved = solved_flag.then(|| created + resolution as i64);
        let solved = first_solved.map(|f| if reopens > 0 { f + rng.random_range(3600..5 * DAY) } else { f });
        let agent_replies: i64 = if !answered {
            0
        } else if rng.random::<f64>() < 0.45 {
            1
        } else {
            rng.random_range(2..7)
        };
        let stations: i64 = if rng.random::<f64>() < 0.12 { rng.random_range(2..4) } else { 1 };
        let escalated =
            if stations > 1 || priority == "urgent" && rng.random::<f64>() < 0.3 { "true" } else { "false" };
        let status = match (solved, rng.random::<f64>()) {
            (Some(_), x) if x < 0.6 => "closed",
            (Some(_), _) => "solved",
            (None, x) if x < 0.5 => "open",
            (None, x) if x < 0.8 => "pending",
            (None, _) => "new",
        };
        let (csat, csat_at) = match (solved, rng.random::<f64>()) {
            (Some(s), x) if x < 0.25 => {
                let score = match rng.random::<f64>() {
                    y if y < 0.55 => "5",
                    y if y < 0.8 => "4",
                    y if y < 0.88 => "3",
                    y if y < 0.94 => "2",
                    _ => "1",
                };
                (score.to_owned(), ts(s + rng.random_range(600..2 * DAY)))
            }
            (Some(_), x) if x < 0.30 => (if rng.random::<bool>() { "good" } else { "bad" }.to_owned(), String::new()),
            (Some(_), x) if x < 0.40 => ("offered".to_owned(), String::new()),
            (Some(s), x) if x < 0.401 => ("7".to_owned(), ts(s + 3600)),
            _ => (String::new(), String::new()),
        };
        let created_text = if rng.random::<f64>() < 0.0005 { "not a date".to_owned() } else { ts(created) };
        let tags = match (escalated, rng.random::<f64>()) {
            ("true", _) => "escalated vip",
            (_, x) if x < 0.1 => "refund",
            _ => "",
        };
        writeln!(
            w,
            "{id},{created_text},{},{},{},{status},{reopens},{agent_replies},{stations},{escalated},{priority},{channel},{group},{},{},{},{csat},{csat_at},{tags}",
            first_response.map(ts).unwrap_or_default(),
            solved.map(ts).unwrap_or_default(),
            first_solved.map(ts).unwrap_or_default(),
            pick(&mut rng, &AGENTS),
            format_args!("u{}", rng.random_range(1..rows / 3 + 2)),
            format_args!("acct-{:03}", rng.random_range(1..rows / 40 + 2)),
        )?;
    }
    Ok(())
}

/// Header of the demo subscriptions file (canonical names).
pub const SUBSCRIPTIONS_HEADER: &str =
    "subscription_id,account_id,plan,start_at,end_at,amount,interval,interval_count,quantity,currency";

/// Header of the demo accounts file.
pub const ACCOUNTS_HEADER: &str = "account_id,name,segment,plan,region,owner,created_at";

/// The demo's currency rates (USD per unit).
pub const DEMO_RATES: &str = "currency,rate\nUSD,1\nEUR,1.08\nGBP,1.27\n";

/// How many demo accounts go with `rows` tickets (the tickets' `account_id`
/// values `acct-001` ...).
pub fn demo_accounts(rows: usize) -> usize {
    rows / 40 + 1
}

const SEGMENTS: [(&str, f64, &str, f64); 3] =
    [("smb", 0.6, "starter", 49.0), ("mid", 0.3, "growth", 29.0), ("enterprise", 0.1, "scale", 45.0)];
const REGIONS: [&str; 4] = ["amer", "emea", "apac", "latam"];
const NAMES: [&str; 10] =
    ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Wonka", "Soylent"];

/// Writes the demo subscriptions and accounts (headers included): about
/// 20 months of history up to the ticket window's end, with new business,
/// expansion by a second line (seats add-on), downgrades, churn,
/// reactivation months after churn, annual and a few weekly plans, three
/// currencies, and at realistic rates the bad rows the data contract names
/// (a line ending before it starts, an unknown interval, a duplicate
/// subscription id).
pub fn write_subscriptions<S: Write, A: Write>(
    mut subs: S,
    mut accounts: A,
    n: usize,
    seed: u64,
) -> std::io::Result<()> {
    let mut rng = Pcg64::seed_from_u64(seed ^ 0x5eed_5ab5);
    writeln!(subs, "{SUBSCRIPTIONS_HEADER}")?;
    writeln!(accounts, "{ACCOUNTS_HEADER}")?;
    let history_start = START - 425 * DAY; // 2025-01-01
    let end = START + 182 * DAY;
    let mut line = 0usize;
    for a in 1..=n {
        let id = format!("acct-{a:03}");
        let r: f64 = rng.random();
        let mut acc = 0.0;
        let (segment, _, plan, price) = *SEGMENTS
            .iter()
            .find(|s| {
                acc += s.1;
                r < acc
            })
            .unwrap_or(&SEGMENTS[0]);
        let region = pick(&mut rng, &REGIONS);
        let start = history_start + rng.random_range(0..(end - history_start - 20 * DAY) / DAY) * DAY;
        let currency = match rng.random::<f64>() {
            x if x < 0.12 => "EUR",
            x if x < 0.18 => "GBP",
            _ => "USD",
        };
        writeln!(
            accounts,
            "{id},{} {a},{segment},{plan},{region},{},{}",
            NAMES[a % NAMES.len()],
            pick(&mut rng, &AGENTS),
            &ts(start)[..10]
        )?;
        let (interval, amount) = match (segment, rng.random::<f64>()) {
            ("enterprise", x) if x < 0.5 => ("year", price * 12.0 * 0.9),
            (_, x) if x < 0.01 => ("week", (price * 12.0 / 52.0).round()),
            _ => ("month", price),
        };
        let seats: u32 = match segment {
            "smb" => 1,
            "mid" => rng.random_range(3..25),
            _ => rng.random_range(20..120),
        };
        let mut emit = |subs: &mut S, s: i64, e: Option<i64>, amount: f64, interval: &str, qty: u32| {
            line += 1;
            writeln!(
                subs,
                "sub-{line:05},{id},{plan},{},{},{amount},{interval},1,{qty},{currency}",
                ts(s),
                e.map(ts).unwrap_or_default()
            )
        };
        // Churn (30%), maybe reactivating months later (a third of those).
        let churn_at =
            (rng.random::<f64>() < 0.3).then(|| start + rng.random_range(30..400) * DAY).filter(|c| *c < end);
        // A downgrade (10%): the main line ends, a smaller one starts.
        let change_at = start + rng.random_range(20..300) * DAY;
        let downgrade = (rng.random::<f64>() < 0.1 || a % 25 == 3) && churn_at.is_none_or(|c| change_at < c);
        if downgrade && change_at < end {
            emit(&mut subs, start, Some(change_at), amount, interval, seats)?;
            if seats > 2 {
                emit(&mut subs, change_at, churn_at, amount, interval, seats / 2)?;
            } else {
                emit(&mut subs, change_at, churn_at, (amount * 0.6).round(), interval, seats)?;
            }
        } else {
            emit(&mut subs, start, churn_at, amount, interval, seats)?;
        }
        // Expansion by a second line (25%): a seats add-on.
        if rng.random::<f64>() < 0.25 {
            let at = start + rng.random_range(15..250) * DAY;
            if at < end && churn_at.is_none_or(|c| at < c) {
                emit(&mut subs, at, churn_at, price, "month", rng.random_range(1..6))?;
            }
        }
        if let Some(c) = churn_at.filter(|_| rng.random::<f64>() < 0.33) {
            let back = c + rng.random_range(60..200) * DAY;
            if back < end {
                emit(&mut subs, back, None, amount, interval, seats)?;
            }
        }
        // Bad rows, one of each per 40 accounts: a line ending before it
        // starts, an unknown interval, a repeated subscription id (the last
        // row read wins).
        match a % 40 {
            7 => emit(&mut subs, start + 10 * DAY, Some(start), amount, interval, 1)?,
            19 => emit(&mut subs, start, None, amount, "fortnight", 1)?,
            31 => {
                writeln!(subs, "sub-{line:05},{id},{plan},{},,{amount},{interval},1,{seats},{currency}", ts(start))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Header of the demo survey responses file.
pub const SURVEYS_HEADER: &str = "response_id,responded_at,score,survey,account_id,comment";

/// Writes `n` demo survey responses (header included) over the ticket
/// window: NPS (60%), CSAT (25%, some as good/bad text) and CES (15%), from
/// `accounts` demo accounts, with at realistic rates the bad rows the data
/// contract names: a score off its scale, an unknown survey, an
/// unparseable date, and an empty survey (read as the default, `nps`).
pub fn write_surveys<W: Write>(mut w: W, n: usize, accounts: usize, seed: u64) -> std::io::Result<()> {
    let mut rng = Pcg64::seed_from_u64(seed ^ 0x5u64.rotate_left(40));
    writeln!(w, "{SURVEYS_HEADER}")?;
    let span = 182 * DAY;
    for i in 0..n {
        let at = START + (span as f64 * i as f64 / n.max(1) as f64) as i64 + rng.random_range(0..DAY);
        let account = format!("acct-{:03}", rng.random_range(1..=accounts.max(1)));
        let (survey, score) = match rng.random::<f64>() {
            x if x < 0.6 => {
                let s = match rng.random::<f64>() {
                    y if y < 0.25 => 10,
                    y if y < 0.45 => 9,
                    y if y < 0.6 => 8,
                    y if y < 0.7 => 7,
                    _ => rng.random_range(0..7),
                };
                ("nps", s.to_string())
            }
            x if x < 0.85 => {
                let s = match rng.random::<f64>() {
                    y if y < 0.1 => "good".to_owned(),
                    y if y < 0.15 => "bad".to_owned(),
                    y if y < 0.6 => "5".to_owned(),
                    y if y < 0.8 => "4".to_owned(),
                    _ => rng.random_range(1..4).to_string(),
                };
                ("csat", s)
            }
            _ => ("ces", rng.random_range(1..8).to_string()),
        };
        let (survey, score) = match i % 200 {
            99 => ("nps", "11".to_owned()),
            149 => ("pulse", score),
            _ if i % 50 == 7 => ("", score),
            _ => (survey, score),
        };
        let when = if i % 300 == 199 { "not a date".to_owned() } else { ts(at) };
        let comment = if rng.random::<f64>() < 0.1 { "\"thanks, quick help\"" } else { "" };
        writeln!(w, "r{i},{when},{score},{survey},{account},{comment}")?;
    }
    Ok(())
}

/// Header of the demo transactions file.
pub const TRANSACTIONS_HEADER: &str = "transaction_id,account_id,at,amount";

/// Writes demo purchases (header included): about `n` transactions over
/// the ticket window from `accounts` demo accounts, some customers buying
/// repeatedly (several on one day, which counts once), one unparseable
/// timestamp per 500 rows.
pub fn write_transactions<W: Write>(mut w: W, n: usize, accounts: usize, seed: u64) -> std::io::Result<()> {
    let mut rng = Pcg64::seed_from_u64(seed ^ 0x7u64.rotate_left(44));
    writeln!(w, "{TRANSACTIONS_HEADER}")?;
    let span = 182 * DAY;
    for i in 0..n {
        let at = START + rng.random_range(0..span);
        // A skewed pick: low account numbers buy more often.
        let a = ((rng.random::<f64>().powi(2) * accounts as f64) as usize).min(accounts.saturating_sub(1)) + 1;
        let amount = (normal(&mut rng) * 0.6 + 4.0).exp().round();
        let when = if i % 500 == 321 { "yesterday".to_owned() } else { ts(at) };
        writeln!(w, "t{i},acct-{a:03},{when},{amount}")?;
        if rng.random::<f64>() < 0.05 {
            writeln!(w, "t{i}b,acct-{a:03},{},{amount}", ts(at + 600))?;
        }
    }
    Ok(())
}

/// Header of the demo usage file.
pub const USAGE_HEADER: &str = "account_id,date,metric,value";

/// Writes demo product usage (header included): `logins` and
/// `active_users` per account and day over the last 90 days of the ticket
/// window; a fifth of the accounts decline, a tenth go quiet for the last
/// weeks, and one row per 2,000 has an unparseable value.
pub fn write_usage<W: Write>(mut w: W, accounts: usize, seed: u64) -> std::io::Result<()> {
    let mut rng = Pcg64::seed_from_u64(seed ^ 0x9u64.rotate_left(48));
    writeln!(w, "{USAGE_HEADER}")?;
    let last = START + 181 * DAY;
    let mut row = 0usize;
    for a in 1..=accounts {
        let level = (normal(&mut rng) * 0.8 + 2.5).exp();
        let decline = rng.random::<f64>() < 0.2;
        let quiet_from = (rng.random::<f64>() < 0.1).then(|| rng.random_range(60..85));
        for day in 0..90 {
            let date = last - (89 - day) * DAY;
            if quiet_from.is_some_and(|q| day >= q) {
                continue;
            }
            let factor = if decline { 1.0 - 0.8 * day as f64 / 90.0 } else { 1.0 };
            let users = (level * factor * (0.7 + 0.6 * rng.random::<f64>())).round();
            let logins = (users * (1.0 + 2.0 * rng.random::<f64>())).round();
            for (metric, v) in [("active_users", users), ("logins", logins)] {
                row += 1;
                let value = if row % 2000 == 1234 { "n/a".to_owned() } else { v.to_string() };
                writeln!(w, "acct-{a:03},{},{metric},{value}", &ts(date)[..10])?;
            }
        }
    }
    Ok(())
}

/// The config `cxm demo` writes beside the data. No `period`: support is
/// weekly and revenue monthly by default.
pub const DEMO_CONFIG: &str = r#"# cxm configuration for the demo data set (see docs/cli.md).
[report]
tz = "UTC"

[tickets]
path = "tickets.csv"

[subscriptions]
path = "subscriptions.csv"

[accounts]
path = "accounts.csv"

[support]
fcr = "zendesk"
csat_scale = { min = 1, max = 5, satisfied_min = 4 }

[revenue]
rates = "rates.csv"
reporting_currency = "USD"
gross_margin = 0.8

[surveys]
path = "survey_responses.csv"
default_survey = "nps"
csat_scale = { min = 1, max = 5, satisfied_min = 4 }
ces_scale = { min = 1, max = 7 }

[transactions]
path = "transactions.csv"

[usage]
path = "usage.csv"

# The health score: each component gives 0-100 points; the score is the
# weighted mean over the components with data (see docs/health.md).
[health]
bands = { yellow = 50, green = 75 }

[[health.components]]
name = "logins"
source = "usage"
metric = "logins"
agg = "sum"
window_days = 30
normalize = "percentile"
weight = 2

[[health.components]]
name = "users_trend"
source = "usage"
metric = "active_users"
agg = "trend"
window_days = 14
normalize = "range"
min = -50
max = 50
weight = 1

[[health.components]]
name = "nps"
source = "nps"
normalize = "thresholds"
thresholds = [[0, 0], [7, 50], [9, 100]]
weight = 1

[[health.components]]
name = "csat"
source = "csat"
window_days = 90
normalize = "range"
min = 50
max = 100
weight = 1

[[health.components]]
name = "tickets"
source = "tickets"
window_days = 30
normalize = "range"
min = 0
max = 20
invert = true
weight = 0.5

[[health.components]]
name = "days_inactive"
source = "last_activity"
normalize = "range"
min = 0
max = 14
invert = true
weight = 1

[[health.components]]
name = "mrr_trend"
source = "mrr_trend"
window_days = 90
normalize = "range"
min = -500
max = 500
weight = 1
"#;

/// The files [`write_demo`] writes.
pub const DEMO_FILES: [&str; 8] = [
    "tickets.csv",
    "subscriptions.csv",
    "accounts.csv",
    "rates.csv",
    "survey_responses.csv",
    "transactions.csv",
    "usage.csv",
    "cxm.toml",
];

/// Writes the demo data set into `dir` (created if missing):
/// `tickets.csv`, `subscriptions.csv`, `accounts.csv`, `rates.csv`,
/// `survey_responses.csv`, `transactions.csv`, `usage.csv` and `cxm.toml`. Returns the files written.
/// A folder that already holds any of them is refused: nothing is
/// overwritten.
pub fn write_demo(dir: &Path, rows: usize, seed: u64) -> Result<Vec<PathBuf>> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::from(crate::error::ErrorKind::Io { path, source })
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // Never overwrite: a folder that holds any of these files is refused.
    for name in DEMO_FILES {
        let p = dir.join(name);
        if p.exists() || p.is_symlink() {
            return Err(Error::from(crate::error::ErrorKind::AlreadyExists { path: p }));
        }
    }
    let tickets = dir.join("tickets.csv");
    let f = std::fs::File::create(&tickets).map_err(io(&tickets))?;
    let mut buf = std::io::BufWriter::new(f);
    write_tickets(&mut buf, rows, seed).map_err(io(&tickets))?;
    buf.flush().map_err(io(&tickets))?;
    let subs = dir.join("subscriptions.csv");
    let accounts = dir.join("accounts.csv");
    let (mut s, mut a) = (Vec::new(), Vec::new());
    write_subscriptions(&mut s, &mut a, demo_accounts(rows), seed).map_err(io(&subs))?;
    std::fs::write(&subs, s).map_err(io(&subs))?;
    std::fs::write(&accounts, a).map_err(io(&accounts))?;
    let rates = dir.join("rates.csv");
    std::fs::write(&rates, DEMO_RATES).map_err(io(&rates))?;
    let surveys = dir.join("survey_responses.csv");
    let mut v = Vec::new();
    write_surveys(&mut v, (rows / 8).max(50), demo_accounts(rows), seed).map_err(io(&surveys))?;
    std::fs::write(&surveys, v).map_err(io(&surveys))?;
    let transactions = dir.join("transactions.csv");
    let mut t = Vec::new();
    write_transactions(&mut t, (rows / 5).max(100), demo_accounts(rows), seed).map_err(io(&transactions))?;
    std::fs::write(&transactions, t).map_err(io(&transactions))?;
    let usage = dir.join("usage.csv");
    let mut u = Vec::new();
    write_usage(&mut u, demo_accounts(rows), seed).map_err(io(&usage))?;
    std::fs::write(&usage, u).map_err(io(&usage))?;
    let config = dir.join("cxm.toml");
    std::fs::write(&config, DEMO_CONFIG).map_err(io(&config))?;
    Ok(vec![tickets, subs, accounts, rates, surveys, transactions, usage, config])
}

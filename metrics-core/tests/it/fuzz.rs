//! Random-input targets over the public entry points: timestamp and
//! duration parsing, and whole CSV tables loaded through a mapping into a
//! report. Each must return a value or an error, never panic or hang.
//!
//! A short run is part of every `cargo test` (256 cases each); a long run
//! sets `PROPTEST_CASES` (docs/guarantees.md, "Fuzzing"):
//!
//! ```sh
//! PROPTEST_CASES=200000 cargo test --release --workspace fuzz::
//! ```
//!
//! A failure is shrunk to its smallest input and its seed kept in
//! `tests/it/fuzz.proptest-regressions`, which every later run replays first.

use std::collections::BTreeMap;

use metrics_core::mapping::{ColumnSpec, DurationUnit, Encoding, TableInput, duration_minutes};
use metrics_core::parse::timestamp::{TimestampFormat, TimestampParser, ValidYears};
use metrics_core::report::{self, Command, Inputs, ReportOptions};
use metrics_core::schema::TICKETS;
use proptest::prelude::*;

/// Text that looks like what exports hold, and what they should not.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("2026-03-02T09:15:00Z".to_owned()),
        Just("2026-03-02 09:15".to_owned()),
        Just("02/03/2026".to_owned()),
        Just("1736164800000".to_owned()),
        Just("1e30".to_owned()),
        Just("-9223372036854775808".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("0001-01-01".to_owned()),
        Just("9999-12-31T23:59:59Z".to_owned()),
        Just("\"quoted, comma\"".to_owned()),
        Just("\"line\nbreak\"".to_owned()),
        Just("\u{1b}[2J".to_owned()),
        Just("=cmd|' /C calc'!A0".to_owned()),
        Just("good".to_owned()),
        Just("true".to_owned()),
        (-5i64..200).prop_map(|n| n.to_string()),
        (0u64..4_000_000_000).prop_map(|n| n.to_string()),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ]
}

/// A tickets CSV: a header drawn from the canonical columns (sometimes
/// twice) and junk, rows of random cells and random widths.
fn tickets_csv() -> impl Strategy<Value = (String, u8)> {
    let names: Vec<String> = TICKETS.iter().map(|d| d.name.to_owned()).chain(["junk".to_owned()]).collect();
    let header = prop::collection::vec(prop::sample::select(names), 1..8);
    let delimiter = prop::sample::select(vec![b',', b';', b'\t', b'|']);
    (header, delimiter, prop::collection::vec(prop::collection::vec(cell(), 0..9), 0..12)).prop_map(
        |(mut header, d, rows)| {
            // Most cases carry the required columns, so loading gets past
            // the header.
            if !header.contains(&"ticket_id".to_owned()) && header.len() % 3 != 0 {
                header.insert(0, "ticket_id".to_owned());
                header.insert(1, "created_at".to_owned());
            }
            let sep = char::from(d).to_string();
            let mut text = header.join(&sep);
            for r in rows {
                text.push('\n');
                text.push_str(&r.join(&sep));
            }
            (text, d)
        },
    )
}

fn options() -> impl Strategy<Value = ReportOptions> {
    (prop::option::of(prop::sample::select(vec!["group", "priority", "junk", "ticket_id"])), any::<bool>()).prop_map(
        |(by, snapshot)| {
            let mut o = ReportOptions::default();
            o.by = by.map(|b| vec![b.to_owned()]).unwrap_or_default();
            if snapshot {
                o.as_of = Some(1_772_323_200_000_000);
            }
            o
        },
    )
}

fn run_on(bytes: &[u8], delimiter: u8, columns: BTreeMap<String, ColumnSpec>, o: &ReportOptions) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tickets.csv");
    std::fs::write(&path, bytes).unwrap();
    let mut t = TableInput::new(path.to_string_lossy());
    t.delimiter = Some(delimiter);
    t.columns = columns;
    let mut inputs = Inputs::default();
    inputs.tickets = Some(t.clone());
    // Ok or a typed error: both fine; a panic fails the target.
    let _ = report::run(&inputs, o, Command::Support);
    t.encoding = Encoding::Windows1252;
    inputs.tickets = Some(t);
    let _ = report::run(&inputs, o, Command::Validate);
}

proptest! {
    #[test]
    fn timestamps_parse_or_refuse(value in prop_oneof![cell(), "\\PC{0,40}", "[0-9:./ TZ+-]{0,30}"],
                                  fmt in 0usize..6, zone in prop::sample::select(vec!["UTC", "America/New_York", "Asia/Kathmandu"])) {
        let format = match fmt {
            0 => TimestampFormat::Auto,
            1 => TimestampFormat::EpochSeconds,
            2 => TimestampFormat::EpochMillis,
            3 => TimestampFormat::Strftime("%d/%m/%Y %H:%M".into()),
            4 => TimestampFormat::Strftime("%Y-%m-%dT%H:%M:%S%z".into()),
            _ => TimestampFormat::Strftime("%s".into()),
        };
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let parsed = TimestampParser::new(format, tz).parse(&value);
        // Whatever parses can be tested against the valid years without
        // overflow, and lies in chrono's range.
        if let Some(t) = parsed {
            let _ = ValidYears::default().contains(t);
            prop_assert!(chrono::DateTime::from_timestamp_micros(t).is_some() || t.unsigned_abs() > 8_000_000_000_000_000);
        }
    }

    #[test]
    fn durations_parse_or_refuse(value in prop_oneof![cell(), "[0-9:.]{0,12}", "\\PC{0,20}"],
                                 unit in prop::sample::select(vec![DurationUnit::Seconds, DurationUnit::Minutes, DurationUnit::Hours, DurationUnit::Milliseconds, DurationUnit::Hms])) {
        if let Some(m) = duration_minutes(&value, unit) {
            prop_assert!(m.is_finite());
        }
    }

    #[test]
    fn csv_tables_load_or_fail_cleanly((text, d) in tickets_csv(), o in options(), epoch in any::<bool>()) {
        let mut columns = BTreeMap::new();
        if epoch {
            let mut spec = ColumnSpec::named("created_at");
            spec.format = TimestampFormat::EpochSeconds;
            columns.insert("created_at".to_owned(), spec);
        }
        run_on(text.as_bytes(), d, columns, &o);
    }

    #[test]
    fn raw_bytes_load_or_fail_cleanly(body in prop::collection::vec(any::<u8>(), 0..600), o in options()) {
        let mut bytes = b"ticket_id,created_at,solved_at,group\n".to_vec();
        bytes.extend(body);
        run_on(&bytes, b',', BTreeMap::new(), &o);
    }
}

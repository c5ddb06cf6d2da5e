//! Hand-worked business durations (fixtures/README.md, "Business time")
//! and the algebra of the fast path against the minute walk.

use chrono::{NaiveDate, NaiveDateTime, Weekday};
use proptest::prelude::*;

use super::*;

const H: i64 = 3_600_000_000;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A local wall-clock time in `tz` as an instant (never in a gap here).
fn local(tz: Tz, s: &str) -> Micros {
    let ndt = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    crate::parse::timestamp::localize(ndt, tz)
}

/// The fixture calendar: weekdays 09:00-17:00 with a split Tuesday, a 24h
/// Saturday, Sunday closed, New Year's Day and 24-26 December closed.
fn support(tz: Tz) -> BusinessCalendar {
    let s: CalendarSection = toml::from_str(&format!(
        r#"
        tz = "{}"
        hours.mon = ["09:00-17:00"]
        hours.tue = ["09:00-12:00", "13:00-17:00"]
        hours.wed = ["09:00-17:00"]
        hours.thu = ["09:00-17:00"]
        hours.fri = ["09:00-17:00"]
        hours.sat = ["00:00-24:00"]
        holidays = ["2025-01-01", "2025-12-24..2025-12-26"]
        "#,
        tz.name()
    ))
    .unwrap();
    BusinessCalendar::from_section("support", &s).unwrap()
}

/// Business hours of local `a` to `b`, by the fast path, checked against
/// the minute walk.
fn hours(c: &BusinessCalendar, a: &str, b: &str) -> Option<f64> {
    let (a, b) = (local(c.tz(), a), local(c.tz(), b));
    let p = c.prepare(date("2024-12-01"), date("2026-03-01"));
    let fast = p.business(a, b);
    assert_eq!(fast.unwrap_or(0), c.walk_minutes(a, b), "fast path against the walk");
    fast.map(|m| m as f64 / H as f64)
}

const NY: Tz = chrono_tz::America::New_York;
const BERLIN: Tz = chrono_tz::Europe::Berlin;

#[test]
fn within_one_day() {
    // Monday 10:00-15:30.
    assert_eq!(hours(&support(NY), "2025-03-03 10:00", "2025-03-03 15:30"), Some(5.5));
}

#[test]
fn across_a_weekend() {
    // Friday 16-17 (1 h), Saturday 24 h, Sunday closed, Monday 09-10 (1 h).
    assert_eq!(hours(&support(NY), "2025-02-07 16:00", "2025-02-10 10:00"), Some(26.0));
}

#[test]
fn across_a_holiday_range() {
    // Tuesday 23 Dec 16-17 (1 h), 24-26 Dec holidays, Saturday 24 h,
    // Sunday closed, Monday 09-10 (1 h).
    assert_eq!(hours(&support(NY), "2025-12-23 16:00", "2025-12-29 10:00"), Some(26.0));
    // New Year's Day (a Wednesday) is closed.
    assert_eq!(hours(&support(NY), "2025-01-01 08:00", "2025-01-01 18:00"), Some(0.0));
}

#[test]
fn split_shifts() {
    // Tuesday 08:00-18:00: 09-12 and 13-17.
    assert_eq!(hours(&support(NY), "2025-03-04 08:00", "2025-03-04 18:00"), Some(7.0));
    assert_eq!(hours(&support(NY), "2025-03-04 11:30", "2025-03-04 13:30"), Some(1.0));
}

#[test]
fn a_24_hour_day() {
    assert_eq!(hours(&support(NY), "2025-03-01 00:00", "2025-03-02 00:00"), Some(24.0));
    assert_eq!(hours(&support(NY), "2025-03-01 12:00", "2025-03-01 20:00"), Some(8.0));
    // Friday 17:00 to Sunday 12:00 holds Saturday only.
    assert_eq!(hours(&support(NY), "2025-02-28 17:00", "2025-03-02 12:00"), Some(24.0));
}

#[test]
fn start_or_end_outside_open_hours() {
    assert_eq!(hours(&support(NY), "2025-03-03 07:00", "2025-03-03 08:30"), Some(0.0));
    assert_eq!(hours(&support(NY), "2025-03-03 07:00", "2025-03-03 11:00"), Some(2.0));
    assert_eq!(hours(&support(NY), "2025-03-03 16:00", "2025-03-03 20:00"), Some(1.0));
}

#[test]
fn start_after_end_is_excluded() {
    assert_eq!(hours(&support(NY), "2025-03-03 12:00", "2025-03-03 11:00"), None);
    assert_eq!(hours(&support(NY), "2025-03-03 12:00", "2025-03-03 12:00"), Some(0.0));
}

#[test]
fn a_span_of_400_days() {
    // Monday 6 Jan 2025 to Tuesday 10 Feb 2026: 57 whole weeks of 63 h
    // (8 + 7 + 8 + 8 + 8 + 24), less 24-26 Dec (8 h each), plus Monday
    // 9 Feb 2026 (8 h): 3591 - 24 + 8 = 3575 h.
    assert_eq!(hours(&support(NY), "2025-01-06 00:00", "2026-02-10 00:00"), Some(3575.0));
}

/// Open on Sundays only, `hours`.
fn sundays(tz: Tz, hours: &str) -> BusinessCalendar {
    BusinessCalendar::new("sun", tz).with_hours(Weekday::Sun, &[hours]).unwrap()
}

#[test]
fn dst_in_new_york() {
    // 9 March 2025 springs forward at 02:00: 01:00-03:00 holds one real
    // hour and the whole day 23; 2 November falls back at 02:00: three and 25.
    let (early, day) = (sundays(NY, "01:00-03:00"), sundays(NY, "00:00-24:00"));
    assert_eq!(hours(&early, "2025-03-08 12:00", "2025-03-10 00:00"), Some(1.0));
    assert_eq!(hours(&day, "2025-03-08 12:00", "2025-03-10 00:00"), Some(23.0));
    assert_eq!(hours(&early, "2025-11-01 12:00", "2025-11-03 00:00"), Some(3.0));
    assert_eq!(hours(&day, "2025-11-01 12:00", "2025-11-03 00:00"), Some(25.0));
    // Weekday hours in the week of the change keep 8 h a day.
    assert_eq!(hours(&support(NY), "2025-03-07 00:00", "2025-03-11 00:00"), Some(40.0));
}

#[test]
fn dst_in_berlin() {
    // 30 March 2025 springs forward at 02:00, 26 October falls back at 03:00.
    let (early, day) = (sundays(BERLIN, "01:00-03:00"), sundays(BERLIN, "00:00-24:00"));
    assert_eq!(hours(&early, "2025-03-29 12:00", "2025-03-31 00:00"), Some(1.0));
    assert_eq!(hours(&day, "2025-03-29 12:00", "2025-03-31 00:00"), Some(23.0));
    assert_eq!(hours(&early, "2025-10-25 12:00", "2025-10-27 00:00"), Some(3.0));
    assert_eq!(hours(&day, "2025-10-25 12:00", "2025-10-27 00:00"), Some(25.0));
}

#[test]
fn config_errors_name_key_and_value() {
    let bad = |body: &str| {
        let s: CalendarSection = toml::from_str(body).unwrap();
        BusinessCalendar::from_section("support", &s).unwrap_err().to_string()
    };
    assert!(bad(r#"tz = "Mars/Olympus""#).contains("calendars.support.tz"));
    assert!(bad("tz = \"UTC\"\nhours.mon = [\"9-17\"]").contains("`9-17`"));
    assert!(bad("tz = \"UTC\"\nhours.funday = [\"09:00-17:00\"]").contains("funday"));
    assert!(bad("tz = \"UTC\"\nhours.mon = [\"09:00-13:00\", \"12:00-17:00\"]").contains("overlap"));
    assert!(bad("tz = \"UTC\"\nholidays = [\"2025-12-26..2025-12-24\"]").contains("ends before it starts"));
    assert!(bad("hours.mon = [\"09:00-17:00\"]").contains("missing `tz`"));
}

/// Zones with and without DST, odd offsets, a day without midnight.
const ZONES: [Tz; 6] = [
    chrono_tz::UTC,
    chrono_tz::America::New_York,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::America::St_Johns,
    chrono_tz::Australia::Lord_Howe,
];

fn calendar() -> impl Strategy<Value = BusinessCalendar> {
    let day = proptest::collection::vec((0u32..48, 1u32..48), 0..3);
    (0usize..ZONES.len(), proptest::collection::vec(day, 7), proptest::collection::vec(0i64..60, 0..4)).prop_map(
        |(z, week, holidays)| {
            let mut c = BusinessCalendar::new("random", ZONES[z]);
            for (i, day) in week.into_iter().enumerate() {
                // Half-hour slots, cut into disjoint intervals.
                let mut at = 0;
                for (gap, len) in day {
                    let (a, b) = (at + gap, (at + gap + len).min(48));
                    if a < b {
                        c.week[i].push((a * 1800, b * 1800));
                    }
                    at = b;
                }
            }
            for h in holidays {
                c.holidays.insert(date("2025-03-01") + chrono::Duration::days(h * 4));
            }
            c
        },
    )
}

/// An instant within March-November 2025 (both DST changes of every zone
/// above), on a whole minute.
fn instant() -> impl Strategy<Value = Micros> {
    let lo = local(chrono_tz::UTC, "2025-03-01 00:00");
    (0i64..(280 * 24 * 60)).prop_map(move |m| lo + m * MINUTE)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The fast path equals the minute walk on random calendars and spans
    /// of up to ten days, near or away from DST changes.
    #[test]
    fn fast_path_equals_the_walk(c in calendar(), a in instant(), len in 0i64..(10 * 24 * 60)) {
        let p = c.prepare(date("2025-02-20"), date("2025-12-31"));
        let b = a + len * MINUTE;
        prop_assert_eq!(p.business(a, b), Some(c.walk_minutes(a, b)));
    }

    /// d(a, c) = d(a, b) + d(b, c), and 0 <= d <= c - a.
    #[test]
    fn additive_and_at_most_elapsed(c in calendar(), x in instant(), y in instant(), z in instant()) {
        let mut v = [x, y, z];
        v.sort_unstable();
        let p = c.prepare(date("2025-02-20"), date("2025-12-31"));
        let d = |a, b| p.business(a, b).unwrap();
        prop_assert_eq!(d(v[0], v[2]), d(v[0], v[1]) + d(v[1], v[2]));
        prop_assert!(d(v[0], v[2]) >= 0 && d(v[0], v[2]) <= v[2] - v[0]);
    }

    /// Open around the clock, business time is elapsed time.
    #[test]
    fn always_open_is_elapsed(z in 0usize..ZONES.len(), x in instant(), y in instant()) {
        let c = BusinessCalendar::always_open("24x7", ZONES[z]);
        let p = c.prepare(date("2025-02-20"), date("2025-12-31"));
        let (a, b) = (x.min(y), x.max(y));
        prop_assert_eq!(p.business(a, b), Some(b - a));
    }
}

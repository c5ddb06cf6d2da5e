//! Timestamp parsing: every form of the data contract, to UTC microseconds.
//!
//! One function turns a local (naive) date-time into an instant, with the
//! documented DST rule ([`localize`]); every other conversion goes through it.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;

/// How a timestamp column is written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TimestampFormat {
    /// Every accepted text form, tried value by value: RFC 3339 / ISO 8601
    /// with an offset (`Z`, `+02:00`, `+0200`, `+02`), naive date-times with
    /// `T` or a space (seconds and fractions optional) and plain dates
    /// (midnight). Naive values are local times in the input time zone.
    #[default]
    Auto,
    /// A chrono strftime format applied to the whole column; with `%z` the
    /// values carry their offset, otherwise they are local times.
    Strftime(String),
    /// Unix epoch seconds (integer or decimal).
    EpochSeconds,
    /// Unix epoch milliseconds.
    EpochMillis,
}

/// Microseconds since the Unix epoch of an instant.
pub type Micros = i64;

/// The years an instant may fall in (UTC, inclusive): a parsed timestamp
/// outside them is counted as `timestamp_out_of_range` and never turned
/// into periods (epoch milliseconds read as seconds land in the year
/// 56986). `[report] valid_years`; 1970 to 2100 by default.
///
/// ```
/// use metrics_core::parse::timestamp::ValidYears;
/// let v = ValidYears::default();
/// assert!(v.contains(0));                          // 1970-01-01
/// assert!(!v.contains(1_736_164_800_000 * 1_000_000)); // ms read as s
/// assert!(ValidYears::new(2000, 1999).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidYears {
    first: i32,
    last: i32,
}

impl Default for ValidYears {
    fn default() -> Self {
        Self { first: 1970, last: 2100 }
    }
}

impl ValidYears {
    /// The widest range accepted: chrono's dates and cxm's period
    /// arithmetic stay exact well inside it.
    pub const LIMITS: (i32, i32) = (1000, 9999);

    /// Years `first` to `last` inclusive, within [`Self::LIMITS`].
    pub fn new(first: i32, last: i32) -> crate::Result<Self> {
        let (lo, hi) = Self::LIMITS;
        if first > last || first < lo || last > hi {
            return Err(crate::Error::invalid_option(
                "valid_years",
                format!("[{first}, {last}]"),
                format!("is not a range of years within {lo}-{hi} (first <= last)"),
            ));
        }
        Ok(Self { first, last })
    }

    /// The first year.
    pub fn first(self) -> i32 {
        self.first
    }

    /// The last year.
    pub fn last(self) -> i32 {
        self.last
    }

    /// The half-open range of instants `[first-01-01, (last+1)-01-01)` UTC.
    pub fn bounds(self) -> (Micros, Micros) {
        let jan1 = |y: i32| {
            NaiveDate::from_ymd_opt(y, 1, 1).map_or(0, |d| d.and_time(NaiveTime::MIN).and_utc().timestamp_micros())
        };
        (jan1(self.first), jan1(self.last + 1))
    }

    /// Whether instant `t` falls in the valid years.
    pub fn contains(self, t: Micros) -> bool {
        let (lo, hi) = self.bounds();
        (lo..hi).contains(&t)
    }
}

/// The formats the diagnosis of failing values tries, most common first.
const CANDIDATES: [&str; 24] = [
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d/%m/%y %H:%M",
    "%m/%d/%y %H:%M",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d-%m-%Y %H:%M",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d",
    "%d-%b-%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%Y-%m-%d %H:%M:%S%.f",
];

/// Which format or unit would read `failing` (values of one column that
/// `current` did not read, or read outside `valid`), as a sentence for a
/// data-quality hint: `"2,344 of 2,400 failing values parse as %d/%m/%Y"`.
/// A day-first format and its month-first twin that read the same values
/// are both named, never one chosen in silence. `None` when nothing fits.
///
/// ```
/// use metrics_core::parse::timestamp::{diagnose, TimestampFormat, ValidYears};
/// let failing = vec!["13/01/2016 09:00".to_owned(), "31/12/2016 17:30".to_owned()];
/// let f = TimestampFormat::Strftime("%m/%d/%Y %H:%M".into());
/// let hint = diagnose(&failing, &f, ValidYears::default()).unwrap();
/// assert_eq!(hint, "2 of 2 failing values parse as %d/%m/%Y %H:%M");
/// ```
pub fn diagnose(failing: &[String], current: &TimestampFormat, valid: ValidYears) -> Option<String> {
    let values: Vec<&str> = failing.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return None;
    }
    let fits = |f: TimestampFormat| {
        let p = TimestampParser::new(f, Tz::UTC);
        values.iter().filter(|v| p.parse(v).is_some_and(|t| valid.contains(t))).count()
    };
    let mut tried: Vec<(String, usize)> = Vec::new();
    if !matches!(current, TimestampFormat::Auto) {
        tried.push(("the default ISO 8601 forms (drop `format`)".into(), fits(TimestampFormat::Auto)));
    }
    tried.push(("epoch seconds (`epoch = \"seconds\"`)".into(), fits(TimestampFormat::EpochSeconds)));
    tried.push(("epoch milliseconds (`epoch = \"milliseconds\"`)".into(), fits(TimestampFormat::EpochMillis)));
    for c in CANDIDATES {
        if !matches!(current, TimestampFormat::Strftime(f) if f == c) {
            tried.push((c.to_owned(), fits(TimestampFormat::Strftime(c.to_owned()))));
        }
    }
    let best = tried.iter().map(|(_, n)| *n).max().filter(|n| *n > 0)?;
    let names: Vec<&str> = tried.iter().filter(|(_, n)| *n == best).map(|(f, _)| f.as_str()).take(3).collect();
    let what = if names.len() == 1 {
        names[0].to_owned()
    } else {
        format!("{} (ambiguous: check a value with a day after the 12th)", names.join(" and as "))
    };
    Some(format!("{} of {} failing values parse as {what}", thousands(best), thousands(values.len())))
}

/// `12345` as `12,345`.
///
/// ```
/// assert_eq!(metrics_core::parse::timestamp::thousands(1234567), "1,234,567");
/// ```
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `f` (a finite float) as a whole number when it fits in an `i64`; never
/// saturated.
fn float_to_i64(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; anything at or beyond it overflows.
    (f.is_finite() && f.trunc() >= -9_223_372_036_854_775_808.0 && f.trunc() < 9_223_372_036_854_775_808.0)
        .then(|| f.trunc() as i64)
}

const MICROS_PER_SEC: i64 = 1_000_000;

/// Turns a local date-time in `tz` into UTC microseconds.
///
/// DST rule (RFC 5545 "compatible", jiff's default): a local time that occurs
/// twice (fall-back fold) takes the **earlier** instant; a local time that does
/// not exist (spring-forward gap) is read with the offset in force before the
/// gap, which moves it forward by the length of the gap.
///
/// ```
/// use metrics_core::parse::timestamp::localize;
/// let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
/// let gap = chrono::NaiveDate::from_ymd_opt(2024, 3, 10).unwrap().and_hms_opt(2, 30, 0).unwrap();
/// // 02:30 does not exist; it is read as 03:30 EDT = 07:30 UTC.
/// assert_eq!(localize(gap, ny), 1_710_055_800_000_000);
/// ```
pub fn localize(ndt: NaiveDateTime, tz: Tz) -> Micros {
    if tz == Tz::UTC {
        return ndt.and_utc().timestamp_micros();
    }
    match tz.from_local_datetime(&ndt) {
        LocalResult::Single(dt) => dt.timestamp_micros(),
        LocalResult::Ambiguous(a, b) => a.timestamp_micros().min(b.timestamp_micros()),
        LocalResult::None => {
            let before = ndt - Duration::days(1);
            let off = match tz.offset_from_local_datetime(&before) {
                LocalResult::Single(o) | LocalResult::Ambiguous(o, _) => o.fix().local_minus_utc(),
                LocalResult::None => 0,
            };
            ndt.and_utc().timestamp_micros() - i64::from(off) * MICROS_PER_SEC
        }
    }
}

/// A parser for one column: its format and the zone of naive values.
#[derive(Debug, Clone)]
pub struct TimestampParser {
    format: TimestampFormat,
    tz: Tz,
}

impl TimestampParser {
    /// A parser for `format` reading naive values in `tz`.
    pub fn new(format: TimestampFormat, tz: Tz) -> Self {
        Self { format, tz }
    }

    /// Parses one non-empty value (already trimmed by the caller or not) to
    /// UTC microseconds, truncating digits finer than a microsecond. `None`
    /// when the value is not in the column's form.
    ///
    /// ```
    /// use metrics_core::parse::timestamp::{TimestampFormat, TimestampParser};
    /// let p = TimestampParser::new(TimestampFormat::Auto, chrono_tz::Tz::UTC);
    /// assert_eq!(p.parse("1970-01-01T00:00:01Z"), Some(1_000_000));
    /// assert_eq!(p.parse("1970-01-01 02:00:00+02:00"), Some(0));
    /// assert_eq!(p.parse("1970-01-02"), Some(86_400_000_000));
    /// assert_eq!(p.parse("2026-13-01"), None);
    /// ```
    pub fn parse(&self, value: &str) -> Option<Micros> {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        match &self.format {
            TimestampFormat::Auto => {
                if let Some(t) = utc_seconds_z(v.as_bytes()) {
                    return Some(t);
                }
                let (ndt, offset) = parse_iso(v.as_bytes())?;
                Some(match offset {
                    Some(off) => ndt.and_utc().timestamp_micros() - i64::from(off) * MICROS_PER_SEC,
                    None => localize(ndt, self.tz),
                })
            }
            TimestampFormat::EpochSeconds => {
                if let Ok(i) = v.parse::<i64>() {
                    return i.checked_mul(MICROS_PER_SEC);
                }
                let f: f64 = v.parse().ok()?;
                float_to_i64(f * 1e6)
            }
            TimestampFormat::EpochMillis => {
                if let Ok(i) = v.parse::<i64>() {
                    return i.checked_mul(1000);
                }
                let f: f64 = v.parse().ok()?;
                float_to_i64(f * 1e3)
            }
            TimestampFormat::Strftime(fmt) => {
                if let Ok(dt) = DateTime::parse_from_str(v, fmt) {
                    return Some(dt.timestamp_micros());
                }
                if let Ok(ndt) = NaiveDateTime::parse_from_str(v, fmt) {
                    return Some(localize(ndt, self.tz));
                }
                let d = NaiveDate::parse_from_str(v, fmt).ok()?;
                Some(localize(d.and_time(NaiveTime::MIN), self.tz))
            }
        }
    }

    /// [`Self::parse`] of the one form most exports write,
    /// `YYYY-MM-DDTHH:MM:SSZ`, straight from bytes: `None` when the bytes
    /// are in any other form (which [`Self::parse`] then reads) or the
    /// format is not `Auto`. Same value as [`Self::parse`] whenever `Some`.
    /// The start of the day of the value before is reused when the date is
    /// the same (`last`).
    pub(crate) fn parse_common_cached(&self, value: &[u8], last: &mut LastDay) -> Option<Micros> {
        if !matches!(self.format, TimestampFormat::Auto) || !z_shape(value) {
            return None;
        }
        let day = if last.start.is_some() && value[..10] == last.date {
            last.start
        } else {
            let day = utc_day(value);
            last.date.copy_from_slice(&value[..10]);
            last.start = day;
            day
        };
        Some(day? + time_of_day(&value[11..])?)
    }

    /// Reads a naive date-time (from a typed Parquet column) in the parser's zone.
    pub fn localize(&self, ndt: NaiveDateTime) -> Micros {
        localize(ndt, self.tz)
    }
}

/// The form most exports write, `YYYY-MM-DDTHH:MM:SSZ`, read without
/// chrono (days from the civil date, Hinnant's algorithm); `None` for any
/// other shape or an invalid date or time, which the general parser then
/// handles (and rejects the same way).
fn utc_seconds_z(b: &[u8]) -> Option<Micros> {
    if !z_shape(b) {
        return None;
    }
    Some(utc_day(b)? + time_of_day(&b[11..])?)
}

/// Whether `b` has the shape `YYYY-MM-DDTHH:MM:SSZ` (digits not checked).
fn z_shape(b: &[u8]) -> bool {
    b.len() == 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':' && b[19] == b'Z'
}

/// The start of the day `YYYY-MM-DD` (the first ten bytes of `b`, dashes
/// checked by the caller) in UTC microseconds, `None` for a date that does
/// not exist.
fn utc_day(b: &[u8]) -> Option<Micros> {
    let (y, m, d) = (i64::from(digits(b, 4)?), digits(&b[5..], 2)?, digits(&b[8..], 2)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d == 0 || d > month_days[(m - 1) as usize] {
        return None;
    }
    let (m, d) = (i64::from(m), i64::from(d));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 * MICROS_PER_SEC)
}

/// `HH:MM:SS` (colons checked by the caller) as microseconds into the day.
fn time_of_day(b: &[u8]) -> Option<Micros> {
    let two = |at: usize| {
        let (hi, lo) = (b[at].wrapping_sub(b'0'), b[at + 1].wrapping_sub(b'0'));
        (hi < 10 && lo < 10).then(|| i64::from(hi * 10 + lo))
    };
    let (hh, mm, ss) = (two(0)?, two(3)?, two(6)?);
    (hh <= 23 && mm <= 59 && ss <= 59).then(|| (hh * 3600 + mm * 60 + ss) * MICROS_PER_SEC)
}

/// The last day read by [`TimestampParser::parse_common_cached`]: its
/// `YYYY-MM-DD` bytes and its start. Exports are mostly in time order, so
/// most values repeat the previous one's day.
#[derive(Debug, Default, Clone)]
pub(crate) struct LastDay {
    date: [u8; 10],
    start: Option<Micros>,
}

fn digits(b: &[u8], n: usize) -> Option<u32> {
    if b.len() < n {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..n] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS[.f+]]][Z|±HH[:?MM]]` -> (naive, offset seconds).
fn parse_iso(b: &[u8]) -> Option<(NaiveDateTime, Option<i32>)> {
    let year = digits(b, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, digits(&b[5..], 2)?, digits(&b[8..], 2)?)?;
    if b.len() == 10 {
        return Some((date.and_time(NaiveTime::MIN), None));
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let t = &b[11..];
    let hour = digits(t, 2)?;
    if t.get(2) != Some(&b':') {
        return None;
    }
    let minute = digits(&t[3..], 2)?;
    let mut i = 5;
    let mut second = 0;
    let mut micro = 0;
    if t.get(i) == Some(&b':') {
        second = digits(&t[i + 1..], 2)?;
        i += 3;
        if matches!(t.get(i), Some(b'.' | b',')) {
            i += 1;
            let start = i;
            while i < t.len() && t[i].is_ascii_digit() {
                if i - start < 6 {
                    micro = micro * 10 + u32::from(t[i] - b'0');
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 {
                return None;
            }
            for _ in n..6 {
                micro *= 10;
            }
        }
    }
    let time = NaiveTime::from_hms_micro_opt(hour, minute, second, micro)?;
    let ndt = date.and_time(time);
    let mut rest = &t[i..];
    if rest.first() == Some(&b' ') {
        rest = &rest[1..];
    }
    let offset = match rest {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let h = digits(tail, 2)?;
            let m = match &tail[2..] {
                [] => 0,
                [b':', mm @ ..] if mm.len() == 2 => digits(mm, 2)?,
                mm if mm.len() == 2 => digits(mm, 2)?,
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let s = i32::try_from(h * 3600 + m * 60).ok()?;
            Some(if *sign == b'-' { -s } else { s })
        }
        _ => return None,
    };
    Some((ndt, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_fast_utc_form_agrees_with_chrono(secs in -2_000_000_000i64..5_000_000_000i64) {
            let t = chrono::DateTime::from_timestamp(secs, 0).unwrap();
            let text = t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            proptest::prop_assert_eq!(utc_seconds_z(text.as_bytes()), Some(secs * MICROS_PER_SEC));
        }
    }

    proptest::proptest! {
        #[test]
        fn the_day_cache_changes_no_value(
            days in proptest::collection::vec((0usize..6, 0usize..4), 1..40),
        ) {
            // Neighbouring values share a day or not, some with bad times
            // or bad dates after a good one.
            let dates = ["2024-02-29", "2024-03-01", "2023-02-29", "2026-12-31", "1999-01-01", "2024-02-29"];
            let times = ["00:00:00", "23:59:59", "24:00:00", "12:3x:00"];
            let p = TimestampParser::new(TimestampFormat::Auto, Tz::UTC);
            let mut last = LastDay::default();
            for (d, t) in days {
                let text = format!("{}T{}Z", dates[d], times[t]);
                proptest::prop_assert_eq!(p.parse_common_cached(text.as_bytes(), &mut last), utc_seconds_z(text.as_bytes()));
            }
        }
    }

    #[test]
    fn the_fast_form_rejects_what_chrono_rejects() {
        for bad in ["2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-01T24:00:00Z"] {
            assert_eq!(utc_seconds_z(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(utc_seconds_z(b"2024-02-29T12:00:00Z"), Some(1_709_208_000 * MICROS_PER_SEC));
    }

    fn utc(s: &str) -> Option<Micros> {
        TimestampParser::new(TimestampFormat::Auto, Tz::UTC).parse(s)
    }

    #[test]
    fn every_accepted_form() {
        let base = 1_772_356_500_000_000; // 2026-03-01T09:15:00Z
        assert_eq!(utc("2026-03-01T09:15:00Z"), Some(base));
        assert_eq!(utc("2026-03-01T11:15:00+02:00"), Some(base));
        assert_eq!(utc("2026-03-01T11:15:00+0200"), Some(base));
        assert_eq!(utc("2026-03-01T07:15:00-02"), Some(base));
        assert_eq!(utc("2026-03-01 09:15:00"), Some(base));
        assert_eq!(utc("2026-03-01T09:15"), Some(base));
        assert_eq!(utc("2026-03-01T09:15:00.1234567Z"), Some(base + 123_456));
        assert_eq!(utc("2026-03-01"), Some(base - (9 * 3600 + 15 * 60) * 1_000_000));
        assert_eq!(utc(" 2026-03-01T09:15:00Z "), Some(base));
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "yesterday",
            "2026-03-01T25:00",
            "2026-03-01X09:15",
            "2026-03-01T09:15:00+25:00",
            "",
        ] {
            assert_eq!(utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn naive_values_use_the_input_zone_and_the_dst_rule() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let p = TimestampParser::new(TimestampFormat::Auto, ny);
        // Fold: 01:30 occurs at 05:30Z (EDT) and 06:30Z (EST); the earlier wins.
        assert_eq!(p.parse("2024-11-03 01:30"), utc("2024-11-03T05:30:00Z"));
        // Gap: 02:30 does not exist; read with EST, i.e. 07:30Z (03:30 EDT).
        assert_eq!(p.parse("2024-03-10 02:30"), utc("2024-03-10T07:30:00Z"));
        // An explicit offset ignores the input zone.
        assert_eq!(p.parse("2024-03-10T02:30:00Z"), utc("2024-03-10T02:30:00Z"));
    }

    #[test]
    fn huge_epoch_floats_are_unparseable_not_saturated() {
        let s = TimestampParser::new(TimestampFormat::EpochSeconds, Tz::UTC);
        assert_eq!(s.parse("1e30"), None);
        assert_eq!(s.parse("-1e30"), None);
        assert_eq!(s.parse("99999999999999999999"), None);
        let ms = TimestampParser::new(TimestampFormat::EpochMillis, Tz::UTC);
        assert_eq!(ms.parse("1e30"), None);
        assert_eq!(s.parse("1.5e9"), Some(1_500_000_000_000_000));
    }

    #[test]
    fn epochs_and_custom_formats() {
        let s = TimestampParser::new(TimestampFormat::EpochSeconds, Tz::UTC);
        assert_eq!(s.parse("1700000000"), Some(1_700_000_000_000_000));
        assert_eq!(s.parse("1.5"), Some(1_500_000));
        let ms = TimestampParser::new(TimestampFormat::EpochMillis, Tz::UTC);
        assert_eq!(ms.parse("1700000000123"), Some(1_700_000_000_123_000));
        let f = TimestampParser::new(TimestampFormat::Strftime("%d/%m/%Y %H:%M".into()), Tz::UTC);
        assert_eq!(f.parse("01/03/2026 09:15"), utc("2026-03-01T09:15:00Z"));
        let d = TimestampParser::new(TimestampFormat::Strftime("%d/%m/%Y".into()), Tz::UTC);
        assert_eq!(d.parse("01/03/2026"), utc("2026-03-01"));
        assert_eq!(d.parse("2026-03-01"), None);
    }
}

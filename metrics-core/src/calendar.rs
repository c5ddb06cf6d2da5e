//! Business calendars: open hours per weekday in a time zone, with
//! holidays, and the business duration of a span of time (docs/calendars.md).
//!
//! A calendar's *open time* is the set of instants whose local wall-clock
//! time, in the calendar's zone, falls inside one of the open intervals of
//! its local weekday, on a date that is not a holiday. The business
//! duration of `[start, end)` is the length of its overlap with open time,
//! in real (elapsed) microseconds: an open interval `01:00-03:00` on a
//! spring-forward day holds one hour, on a fall-back day three.
//!
//! [`BusinessCalendar::prepare`] lays the open time of a range of dates out
//! once as sorted UTC intervals with running totals ([`Prepared`]); a
//! duration is then two binary searches and a subtraction, never a walk
//! over the days in between.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, NaiveDate, Offset, TimeZone, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::parse::timestamp::Micros;
use crate::{Error, Result};

const DAY: i64 = 86_400_000_000;
const MINUTE: i64 = 60_000_000;

/// `[calendars.NAME]` in `cxm.toml`, as written.
///
/// ```toml
/// [calendars.support]
/// tz = "America/New_York"
/// hours.mon = ["09:00-17:00"]
/// hours.tue = ["09:00-12:00", "13:00-17:00"]
/// hours.sat = ["00:00-24:00"]
/// holidays = ["2025-01-01", "2025-12-24..2025-12-26"]
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSection {
    /// IANA zone of the hours and holidays.
    pub tz: Option<String>,
    /// Open intervals by weekday (`mon` ... `sun`), `HH:MM-HH:MM`; omitted
    /// days are closed.
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<String>>,
    /// Closed local dates: `YYYY-MM-DD` or an inclusive range `A..B`.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// A business calendar: open intervals per weekday (seconds from local
/// midnight, `[open, close)`, sorted, not overlapping) in a zone, and
/// holidays (local dates, closed all day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    name: String,
    tz: Tz,
    week: [Vec<(u32, u32)>; 7],
    holidays: BTreeSet<NaiveDate>,
}

/// The weekday keys of `hours`, Monday first.
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl BusinessCalendar {
    /// A calendar with no open time (add hours with [`Self::with_hours`]).
    pub fn new(name: impl Into<String>, tz: Tz) -> Self {
        Self { name: name.into(), tz, week: Default::default(), holidays: BTreeSet::new() }
    }

    /// Open every hour of every day (business time equals elapsed time).
    pub fn always_open(name: impl Into<String>, tz: Tz) -> Self {
        let mut c = Self::new(name, tz);
        c.week = std::array::from_fn(|_| vec![(0, 86_400)]);
        c
    }

    /// The calendar of a `[calendars.NAME]` section; errors name the key and
    /// the value.
    ///
    /// ```
    /// use metrics_core::calendar::{BusinessCalendar, CalendarSection};
    /// let s: CalendarSection = toml::from_str(r#"
    ///     tz = "Europe/Berlin"
    ///     hours.mon = ["09:00-12:00", "13:00-17:00"]
    ///     holidays = ["2026-12-24..2026-12-26"]
    /// "#)?;
    /// let c = BusinessCalendar::from_section("support", &s)?;
    /// assert_eq!(c.describe(), "support (Europe/Berlin; 7 h a week; 3 holidays)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_section(name: &str, s: &CalendarSection) -> Result<Self> {
        let key = |k: &str| format!("calendars.{name}.{k}");
        let tz_text = s.tz.as_deref().ok_or_else(|| {
            Error::from(crate::error::ErrorKind::Config(format!("[calendars.{name}]: missing `tz` (an IANA zone)")))
        })?;
        let tz: Tz = tz_text.parse().map_err(|_| {
            Error::invalid_option(&key("tz"), tz_text, "is not a known time zone (expected an IANA name)")
        })?;
        let mut c = Self::new(name, tz);
        for (day, intervals) in &s.hours {
            let k = key(&format!("hours.{day}"));
            let Some(i) = DAYS.iter().position(|d| d.eq_ignore_ascii_case(day.trim())) else {
                let why = "is not a weekday (expected mon, tue, wed, thu, fri, sat or sun)";
                return Err(Error::invalid_option(&key("hours"), day, why));
            };
            let texts: Vec<&str> = intervals.iter().map(String::as_str).collect();
            c.week[i] = parse_day(&texts).map_err(|(v, why)| Error::invalid_option(&k, v, why))?;
        }
        for h in &s.holidays {
            let dates = parse_holiday(h).map_err(|why| Error::invalid_option(&key("holidays"), h, why))?;
            c.holidays.extend(dates);
        }
        Ok(c)
    }

    /// Sets one weekday's open intervals (`"09:00-17:00"`, `"00:00-24:00"`).
    ///
    /// ```
    /// use chrono::Weekday;
    /// use metrics_core::calendar::BusinessCalendar;
    /// let c = BusinessCalendar::new("x", chrono_tz::UTC).with_hours(Weekday::Tue, &["13:00-17:00", "09:00-12:00"])?;
    /// assert!(c.with_hours(Weekday::Mon, &["10:00-09:00"]).is_err());
    /// # Ok::<(), metrics_core::Error>(())
    /// ```
    pub fn with_hours(mut self, day: Weekday, intervals: &[&str]) -> Result<Self> {
        let k = format!("calendars.{}.hours.{}", self.name, DAYS[day.num_days_from_monday() as usize]);
        self.week[day.num_days_from_monday() as usize] =
            parse_day(intervals).map_err(|(v, why)| Error::invalid_option(&k, v, why))?;
        Ok(self)
    }

    /// Adds holidays: `"2025-01-01"` or an inclusive range `"2025-12-24..2025-12-26"`.
    pub fn with_holiday(mut self, spec: &str) -> Result<Self> {
        let dates = parse_holiday(spec)
            .map_err(|why| Error::invalid_option(&format!("calendars.{}.holidays", self.name), spec, why))?;
        self.holidays.extend(dates);
        Ok(self)
    }

    /// The calendar's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The calendar's zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// `name (zone; N h a week; M holidays)`, for meta.
    pub fn describe(&self) -> String {
        let secs: u32 = self.week.iter().flatten().map(|(a, b)| b - a).sum();
        let hours = f64::from(secs) / 3600.0;
        format!("{} ({}; {} h a week; {} holidays)", self.name, self.tz.name(), hours, self.holidays.len())
    }

    /// Whether local date `d` is open at local second-of-day `s` (the
    /// definition, one instant at a time).
    fn open_at_local(&self, d: NaiveDate, s: u32) -> bool {
        !self.holidays.contains(&d)
            && self.week[d.weekday().num_days_from_monday() as usize].iter().any(|&(a, b)| a <= s && s < b)
    }

    /// Business microseconds in `[start, end)` by walking it minute by
    /// minute (instants on whole minutes of UTC are asked whether their
    /// local time is open): the plain definition, for tests. 0 when
    /// `end <= start`. Spans not on whole minutes are counted by the
    /// minute each instant falls in.
    pub fn walk_minutes(&self, start: Micros, end: Micros) -> i64 {
        let mut open = 0;
        let mut t = start;
        while t < end {
            let step = (MINUTE - t.rem_euclid(MINUTE)).min(end - t);
            let utc = chrono::DateTime::from_timestamp_micros(t).unwrap_or_default().naive_utc();
            let local = self.tz.from_utc_datetime(&utc).naive_local();
            let s = local.time().signed_duration_since(chrono::NaiveTime::MIN).num_seconds() as u32;
            if self.open_at_local(local.date(), s) {
                open += step;
            }
            t += step;
        }
        open
    }

    /// The open time of local dates `first..=last` (one day of margin on
    /// each side is added), laid out for fast durations.
    pub fn prepare(&self, first: NaiveDate, last: NaiveDate) -> Prepared {
        let first = first.checked_sub_days(Days::new(1)).unwrap_or(first);
        let last = last.checked_add_days(Days::new(1)).unwrap_or(last);
        let lo = crate::period::day_start(first, self.tz);
        let hi = crate::period::day_start(last.checked_add_days(Days::new(1)).unwrap_or(last), self.tz);
        let mut p = Prepared { starts: Vec::new(), ends: Vec::new(), before: Vec::new(), total: 0, lo, hi };
        for (u0, u1, offset) in segments(self.tz, lo, hi) {
            self.open_pieces(u0, u1, offset, &mut p);
        }
        p
    }

    /// Appends the open pieces of UTC `[u0, u1)`, over which the zone's
    /// offset is `offset` microseconds: local time runs from `u0 + offset`.
    fn open_pieces(&self, u0: Micros, u1: Micros, offset: i64, p: &mut Prepared) {
        let (l0, l1) = (u0 + offset, u1 + offset);
        let mut day = l0.div_euclid(DAY) * DAY;
        while day < l1 {
            let date = crate::period::days_to_date((day / DAY) as i32);
            if !self.holidays.contains(&date) {
                for &(a, b) in &self.week[date.weekday().num_days_from_monday() as usize] {
                    let from = (day + i64::from(a) * 1_000_000).max(l0);
                    let to = (day + i64::from(b) * 1_000_000).min(l1);
                    if from < to {
                        p.push(from - offset, to - offset);
                    }
                }
            }
            day += DAY;
        }
    }
}

/// A calendar's open time over a range of instants: sorted, disjoint UTC
/// intervals and the open microseconds before each.
#[derive(Debug, Clone)]
pub struct Prepared {
    starts: Vec<Micros>,
    ends: Vec<Micros>,
    /// `before[i]`: open microseconds in the intervals before `i`.
    before: Vec<i64>,
    total: i64,
    lo: Micros,
    hi: Micros,
}

impl Prepared {
    /// Appends open `[a, b)`, after every interval so far (joined to the
    /// last one when they touch).
    fn push(&mut self, a: Micros, b: Micros) {
        match self.ends.last_mut() {
            Some(last) if *last == a => *last = b,
            _ => {
                self.starts.push(a);
                self.ends.push(b);
                self.before.push(self.total);
            }
        }
        self.total += b - a;
    }

    /// Whether `t` lies in the prepared range (outside it, open time is
    /// not known and [`Self::business`] clamps to the range).
    pub fn covers(&self, t: Micros) -> bool {
        (self.lo..self.hi).contains(&t)
    }

    /// Open microseconds from the start of the range to `t`.
    fn open_until(&self, t: Micros) -> i64 {
        // Intervals starting at or before t.
        let k = self.starts.partition_point(|&a| a <= t);
        if k == 0 {
            return 0;
        }
        self.before[k - 1] + (t.min(self.ends[k - 1]) - self.starts[k - 1])
    }

    /// Business microseconds in `[start, end)`, `None` when `end < start`
    /// (excluded like a negative calendar duration). Instants outside the
    /// prepared range count no open time beyond it.
    ///
    /// ```
    /// use chrono::{NaiveDate, Weekday};
    /// use metrics_core::calendar::BusinessCalendar;
    /// let c = BusinessCalendar::new("x", chrono_tz::UTC).with_hours(Weekday::Mon, &["09:00-17:00"])?;
    /// let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    /// let p = c.prepare(d("2026-03-01"), d("2026-03-31"));
    /// let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros();
    /// // Friday 16:00 to Monday 10:00: Monday's first hour only.
    /// assert_eq!(p.business(at("2026-03-06T16:00:00Z"), at("2026-03-09T10:00:00Z")), Some(3_600_000_000));
    /// assert_eq!(p.business(at("2026-03-09T10:00:00Z"), at("2026-03-06T16:00:00Z")), None);
    /// # Ok::<(), metrics_core::Error>(())
    /// ```
    pub fn business(&self, start: Micros, end: Micros) -> Option<i64> {
        (end >= start).then(|| self.open_until(end) - self.open_until(start))
    }

    /// Total open microseconds in the range.
    pub fn total(&self) -> i64 {
        self.total
    }
}

/// UTC `[lo, hi)` cut where the zone's offset changes: `(from, to,
/// offset in microseconds)`. Offsets are sampled every 3 hours and each
/// change is found to the microsecond by bisection.
fn segments(tz: Tz, lo: Micros, hi: Micros) -> Vec<(Micros, Micros, i64)> {
    let offset = |t: Micros| -> i64 {
        let utc = chrono::DateTime::from_timestamp_micros(t).unwrap_or_default().naive_utc();
        i64::from(tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()) * 1_000_000
    };
    const STEP: i64 = 3 * 3_600_000_000;
    let mut out = Vec::new();
    let (mut from, mut current, mut t) = (lo, offset(lo), lo);
    while t < hi {
        let next = (t + STEP).min(hi);
        if offset(next) == current {
            t = next;
            continue;
        }
        // The first instant in (t, next] with another offset.
        let (mut a, mut b) = (t, next);
        while b - a > 1 {
            let m = a + (b - a) / 2;
            if offset(m) == current { a = m } else { b = m }
        }
        out.push((from, b, current));
        (from, current, t) = (b, offset(b), b);
    }
    out.push((from, hi, current));
    out
}

/// One weekday's intervals, sorted; an error names the bad value.
fn parse_day(texts: &[&str]) -> std::result::Result<Vec<(u32, u32)>, (String, String)> {
    let mut v = Vec::new();
    for t in texts {
        let bad = |why: &str| (t.to_string(), why.to_owned());
        let (a, b) = t.split_once('-').ok_or_else(|| bad("is not an interval HH:MM-HH:MM"))?;
        let (a, b) = (
            clock(a.trim()).ok_or_else(|| bad("has a start that is not HH:MM"))?,
            clock(b.trim()).ok_or_else(|| bad("has an end that is not HH:MM (24:00 allowed)"))?,
        );
        if a >= b || a >= 86_400 {
            return Err(bad("does not end after it starts"));
        }
        v.push((a, b));
    }
    v.sort_unstable();
    if let Some(w) = v.windows(2).find(|w| w[1].0 < w[0].1) {
        let show =
            |(a, b): (u32, u32)| format!("{:02}:{:02}-{:02}:{:02}", a / 3600, a / 60 % 60, b / 3600, b / 60 % 60);
        return Err((format!("{}, {}", show(w[0]), show(w[1])), "overlap".to_owned()));
    }
    Ok(v)
}

/// `HH:MM` as seconds from midnight (`24:00` is 86400).
fn clock(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 3600 + m * 60)
}

/// The dates of one holiday entry.
fn parse_holiday(s: &str) -> std::result::Result<Vec<NaiveDate>, String> {
    let date = |t: &str| {
        NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
            .map_err(|_| "is not a date YYYY-MM-DD or a range A..B".to_owned())
    };
    let (a, b) = match s.split_once("..") {
        Some((a, b)) => (date(a)?, date(b)?),
        None => (date(s)?, date(s)?),
    };
    if b < a {
        return Err("ends before it starts".into());
    }
    if (b - a).num_days() > 3660 {
        return Err("spans more than ten years".into());
    }
    Ok(a.iter_days().take_while(|d| *d <= b).collect())
}

#[cfg(test)]
mod tests;

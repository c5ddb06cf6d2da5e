//! Reporting periods in a report time zone: bucketing, spines and boundaries.
//!
//! A period is a half-open range of local dates `[start, next_start)` in the
//! report time zone. Its boundaries as instants are local midnights, found
//! with [`localize`], so a day where
//! midnight does not exist (America/Sao_Paulo, 2015-10-18) starts at 01:00.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use polars::prelude::*;

use crate::parse::timestamp::{Micros, localize};
use crate::raw::Values;

/// The length of a reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Period {
    /// A calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    #[default]
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter (January, April, July, October).
    Quarter,
    /// A calendar year.
    Year,
}

impl Period {
    /// Every period, for help texts.
    pub const ALL: [Period; 5] = [Period::Day, Period::Week, Period::Month, Period::Quarter, Period::Year];

    /// The lower-case name (`week`).
    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    /// polars' duration string for `dt().truncate()`.
    fn every(self) -> &'static str {
        match self {
            Period::Day => "1d",
            Period::Week => "1w",
            Period::Month => "1mo",
            Period::Quarter => "1q",
            Period::Year => "1y",
        }
    }

    /// The first local date of the period holding `d`.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use metrics_core::Period;
    /// let d = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap(); // a Thursday
    /// assert_eq!(Period::Week.start_of(d), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
    /// assert_eq!(Period::Quarter.start_of(d), NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
    /// ```
    pub fn start_of(self, d: NaiveDate) -> NaiveDate {
        let ymd = |m: u32, day: u32| NaiveDate::from_ymd_opt(d.year(), m, day).unwrap_or(d);
        match self {
            Period::Day => d,
            Period::Week => d.checked_sub_days(Days::new(u64::from(d.weekday().num_days_from_monday()))).unwrap_or(d),
            Period::Month => ymd(d.month(), 1),
            Period::Quarter => ymd((d.month0() / 3) * 3 + 1, 1),
            Period::Year => ymd(1, 1),
        }
    }

    /// The first local date of the period after the one starting at `start`
    /// (`NaiveDate::MAX` past the end of the calendar, never a panic).
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => start.checked_add_days(Days::new(1)),
            Period::Week => start.checked_add_days(Days::new(7)),
            Period::Month => start.checked_add_months(Months::new(1)),
            Period::Quarter => start.checked_add_months(Months::new(3)),
            Period::Year => start.checked_add_months(Months::new(12)),
        }
        .unwrap_or(NaiveDate::MAX)
    }
}

impl std::str::FromStr for Period {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        Period::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            crate::Error::invalid_option("period", s, "is unknown (expected day, week, month, quarter or year)")
        })
    }
}

/// The local date of an instant in `tz`.
pub fn local_date(t: Micros, tz: Tz) -> NaiveDate {
    let utc = chrono::DateTime::from_timestamp_micros(t).unwrap_or_default();
    utc.with_timezone(&tz).date_naive()
}

/// The instant at which local date `d` begins in `tz` (its first existing moment).
pub fn day_start(d: NaiveDate, tz: Tz) -> Micros {
    localize(d.and_time(NaiveTime::MIN), tz)
}

/// The ordered list of periods a report covers, first to last inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spine {
    /// Period length.
    pub period: Period,
    /// Report time zone.
    pub tz: Tz,
    /// The first local date of each period, ascending.
    pub starts: Vec<NaiveDate>,
    /// The first day of a week (`[report] week_start`; Monday by default).
    pub week_start: Weekday,
}

impl Spine {
    /// Every period from the one holding `first` to the one holding `last`.
    /// Empty when `last < first`.
    pub fn new(period: Period, tz: Tz, first: NaiveDate, last: NaiveDate) -> Self {
        Self::with_week_start(period, tz, first, last, Weekday::Mon)
    }

    /// [`Spine::new`] with weeks starting on `week_start`.
    ///
    /// ```
    /// use chrono::{NaiveDate, Weekday};
    /// use metrics_core::period::{Period, Spine};
    /// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    /// // Sunday 2026-03-08 starts a Sunday week; Saturday 03-14 ends it.
    /// let s = Spine::with_week_start(Period::Week, chrono_tz::UTC, d(3, 8), d(3, 14), Weekday::Sun);
    /// assert_eq!(s.starts, vec![d(3, 8)]);
    /// ```
    pub fn with_week_start(period: Period, tz: Tz, first: NaiveDate, last: NaiveDate, week_start: Weekday) -> Self {
        let start_of = |d: NaiveDate| start_of_with(period, d, week_start);
        let mut starts = Vec::new();
        let end = start_of(last);
        let mut s = start_of(first);
        // Past the limit the spine is refused by `checked`; stop building.
        while s <= end && starts.len() <= MAX_PERIODS {
            starts.push(s);
            let next = period.next(s);
            if next <= s {
                break;
            }
            s = next;
        }
        Self { period, tz, starts, week_start }
    }

    /// [`Spine::with_week_start`], refused with an error naming `section`
    /// when it would hold more than [`MAX_PERIODS`] periods (a unit or
    /// format mistake, never a real report).
    ///
    /// ```
    /// use chrono::{NaiveDate, Weekday};
    /// use metrics_core::period::{Period, Spine};
    /// let d = |y| NaiveDate::from_ymd_opt(y, 1, 1).unwrap();
    /// assert!(Spine::checked("support", Period::Day, chrono_tz::UTC, d(1970), d(2100), Weekday::Mon).is_ok());
    /// assert!(Spine::checked("support", Period::Day, chrono_tz::UTC, d(1000), d(9000), Weekday::Mon).is_err());
    /// ```
    pub fn checked(
        section: &str,
        period: Period,
        tz: Tz,
        first: NaiveDate,
        last: NaiveDate,
        week_start: Weekday,
    ) -> crate::Result<Self> {
        let spine = Self::with_week_start(period, tz, first, last, week_start);
        if spine.starts.len() > MAX_PERIODS {
            return Err(crate::Error::from(crate::error::ErrorKind::TooManyPeriods {
                section: section.to_owned(),
                first: first.to_string(),
                last: last.to_string(),
                period: period.name().to_owned(),
                limit: MAX_PERIODS,
            }));
        }
        Ok(spine)
    }

    /// The `period_start` (Date) of a UTC datetime expression: its local
    /// date in the spine's zone, truncated to the period (weeks from
    /// `week_start`).
    pub fn bucket(&self, instant: Expr) -> Expr {
        let tz = TimeZone::opt_try_new(Some(self.tz.name())).ok().flatten().unwrap_or(TimeZone::UTC);
        self.bucket_date(instant.dt().convert_time_zone(tz).dt().date())
    }

    /// The `period_start` of a local Date expression.
    pub fn bucket_date(&self, date: Expr) -> Expr {
        let offset = i64::from(self.week_start.num_days_from_monday());
        let out = if self.period == Period::Week && offset != 0 {
            // Shift so the week start falls on a Monday, truncate, shift back.
            let days = |n: i64| lit(n).cast(DataType::Int32);
            let shifted = (date.cast(DataType::Int32) - days(offset)).cast(DataType::Date);
            (shifted.dt().truncate(lit(self.period.every())).cast(DataType::Int32) + days(offset)).cast(DataType::Date)
        } else {
            date.dt().truncate(lit(self.period.every()))
        };
        out.alias(PERIOD_START)
    }

    /// The `period_start` of each instant as a `Date` column named `name`,
    /// null outside the spine: a binary search over the periods' start
    /// instants (local midnights, found once per period), so no row pays
    /// for a time-zone conversion. Agrees with [`Spine::bucket`] on every
    /// instant inside the spine (a property test checks it).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use metrics_core::period::{Period, Spine};
    /// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    /// let spine = Spine::new(Period::Week, chrono_tz::UTC, d(3, 2), d(3, 9));
    /// let at = |day: u32| metrics_core::period::day_start(d(3, day), chrono_tz::UTC) + 3_600_000_000;
    /// let c = spine.bucket_instants("p", [Some(at(4)), Some(at(10)), Some(at(20)), None].into_iter());
    /// let days: Vec<Option<i32>> = c.phys.iter().collect();
    /// let monday = |day| Some(metrics_core::period::date_to_days(d(3, day)));
    /// assert_eq!(days, [monday(2), monday(9), None, None]);
    /// ```
    pub fn bucket_instants(&self, name: &str, instants: impl Iterator<Item = Option<Micros>>) -> DateChunked {
        let mut period_of = self.period_finder();
        let mut out: Values<i32> = Values::with_capacity(instants.size_hint().0);
        for t in instants {
            out.push(t.and_then(&mut period_of));
        }
        out.into_date(name)
    }

    /// [`Self::bucket_instants`] of a column of instants (epoch
    /// microseconds), read chunk by chunk; where it is null, the instant of
    /// `fallback` (as long) when given.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use metrics_core::period::{Period, Spine};
    /// use metrics_core::polars::prelude::*;
    /// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    /// let spine = Spine::new(Period::Week, chrono_tz::UTC, d(3, 2), d(3, 9));
    /// let at = |day: u32| metrics_core::period::day_start(d(3, day), chrono_tz::UTC) + 3_600_000_000;
    /// let rated = Int64Chunked::from_slice_options("r".into(), &[None, Some(at(4)), None]);
    /// let solved = Int64Chunked::from_slice_options("s".into(), &[Some(at(10)), Some(at(11)), None]);
    /// let c = spine.bucket_column("p", &rated, Some(&solved));
    /// let monday = |day| Some(metrics_core::period::date_to_days(d(3, day)));
    /// assert_eq!(c.phys.iter().collect::<Vec<_>>(), [monday(9), monday(2), None]);
    /// ```
    pub fn bucket_column(&self, name: &str, at: &Int64Chunked, fallback: Option<&Int64Chunked>) -> DateChunked {
        let mut period_of = self.period_finder();
        let mut out: Values<i32> = Values::with_capacity(at.len());
        let fallback = fallback.map(|f| f.rechunk().into_owned());
        let fallback = fallback.as_ref().and_then(|f| f.downcast_iter().next());
        let mut row = 0;
        for arr in at.downcast_iter() {
            let valid = arr.validity();
            for (i, &t) in arr.values().iter().enumerate() {
                let t = if valid.is_none_or(|v| v.get_bit(i)) {
                    Some(t)
                } else {
                    fallback.filter(|f| f.validity().is_none_or(|v| v.get_bit(row + i))).map(|f| f.value(row + i))
                };
                out.push(t.and_then(&mut period_of));
            }
            row += arr.len();
        }
        out.into_date(name)
    }

    /// The period of an instant as days since the epoch of its start, or
    /// `None` outside the spine: exports are mostly in time order, so the
    /// previous instant's period is tried first, then a binary search.
    fn period_finder(&self) -> impl FnMut(Micros) -> Option<i32> + use<> {
        let starts: Vec<Micros> = self.starts.iter().map(|d| day_start(*d, self.tz)).collect();
        let days: Vec<i32> = self.starts.iter().map(|d| date_to_days(*d)).collect();
        let mut bounds = starts.clone();
        bounds.push(self.end_instants().last().copied().unwrap_or(Micros::MIN));
        let (first, end) = (bounds[0], bounds[bounds.len() - 1]);
        let mut last = 0usize;
        move |t: Micros| {
            if !(first <= t && t < end) {
                return None;
            }
            if !(bounds[last] <= t && t < bounds[last + 1]) {
                last = starts.partition_point(|&s| s <= t).saturating_sub(1);
            }
            Some(days[last])
        }
    }

    /// The exclusive end of each period as an instant (the next period's start).
    pub fn end_instants(&self) -> Vec<Micros> {
        self.starts.iter().map(|s| day_start(self.period.next(*s), self.tz)).collect()
    }

    /// The spine as a one-column frame `period_start` (Date).
    pub fn frame(&self) -> DataFrame {
        let days: Vec<i32> = self.starts.iter().map(|d| date_to_days(*d)).collect();
        let s = Int32Chunked::from_vec(PERIOD_START.into(), days).into_date().into_series();
        DataFrame::new_infer_height(vec![s.into()]).unwrap_or_default()
    }

    /// The rows of a grouped section: every period of the spine for every
    /// combination of the `by` values found in `data` (as text), so a
    /// period where nothing happened is still a row. Rows x groups, never
    /// rows x periods.
    pub fn grid(&self, data: &DataFrame, by: &[String]) -> LazyFrame {
        let frame = self.frame().lazy();
        if by.is_empty() {
            return frame;
        }
        let dims: Vec<Expr> = by.iter().map(|b| col(b.as_str()).cast(DataType::String)).collect();
        let combos = data.clone().lazy().select(dims).unique(None, UniqueKeepStrategy::Any);
        frame.cross_join(combos, None)
    }

    /// `parts` (each keyed by `period_start` and the `by` columns) joined
    /// onto the [`Spine::grid`], the `fills` applied (the zero of each
    /// count: no event is 0, not null), rows ordered by period then group
    /// (a null group last).
    pub fn on_grid(&self, data: &DataFrame, by: &[String], parts: Vec<LazyFrame>, fills: Vec<Expr>) -> LazyFrame {
        let keys = grid_keys(by);
        let args = JoinArgs { nulls_equal: true, ..JoinArgs::new(JoinType::Left) };
        let frame =
            parts.into_iter().fold(self.grid(data, by), |f, p| f.join(p, keys.clone(), keys.clone(), args.clone()));
        sorted_by_keys(frame.with_columns(fills), by)
    }
}

/// The key columns of a grouped section: `period_start`, then the `by`
/// columns.
pub fn grid_keys(by: &[String]) -> Vec<Expr> {
    std::iter::once(col(PERIOD_START)).chain(by.iter().map(|b| col(b.as_str()))).collect()
}

/// A grouped section's rows in order: by period, then group (nulls last),
/// ties in input order.
pub fn sorted_by_keys(frame: LazyFrame, by: &[String]) -> LazyFrame {
    let order: Vec<PlSmallStr> =
        std::iter::once(PERIOD_START.into()).chain(by.iter().map(|b| b.as_str().into())).collect();
    frame.sort(order, SortMultipleOptions::default().with_nulls_last(true).with_maintain_order(true))
}

/// The first day of the period holding `d`, weeks starting on `week_start`.
fn start_of_with(period: Period, d: NaiveDate, week_start: Weekday) -> NaiveDate {
    if period == Period::Week {
        let back = (7 + d.weekday().num_days_from_monday() - week_start.num_days_from_monday()) % 7;
        d.checked_sub_days(Days::new(u64::from(back))).unwrap_or(d)
    } else {
        period.start_of(d)
    }
}

/// The periods a section reports: their length, the zone of their
/// boundaries, an optional range and the first day of weeks. Each
/// section's options hold one (`with_period`, `with_tz`, `with_since`,
/// `with_until`, `with_week_start`).
///
/// ```
/// use metrics_core::period::{Period, Window};
/// let w = Window::new(Period::Month);
/// let d = |m| chrono::NaiveDate::from_ymd_opt(2026, m, 15).unwrap();
/// let t = |m| metrics_core::period::day_start(d(m), chrono_tz::UTC);
/// let spine = w.spine("revenue", (t(1), t(3))).unwrap();
/// assert_eq!(spine.starts.len(), 3); // January, February, March
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Window {
    /// Period length.
    pub period: Period,
    /// Zone of the period boundaries.
    pub tz: Tz,
    /// First reported period: the one holding this local date (`None` =
    /// the period of the data's first instant).
    pub since: Option<NaiveDate>,
    /// Last reported period: the one holding this local date (`None` =
    /// the period of the data's last instant).
    pub until: Option<NaiveDate>,
    /// The first day of a week.
    pub week_start: Weekday,
}

impl Window {
    /// `period` periods in UTC, weeks from Monday, over the data's range.
    pub fn new(period: Period) -> Self {
        Self { period, tz: Tz::UTC, since: None, until: None, week_start: Weekday::Mon }
    }

    /// The spine from `since` (else the period of `span.0`) to `until`
    /// (else the period of `span.1`), refused past [`MAX_PERIODS`].
    pub fn spine(&self, section: &str, span: (Micros, Micros)) -> crate::Result<Spine> {
        let first = self.since.unwrap_or_else(|| local_date(span.0, self.tz));
        let last = self.until.unwrap_or_else(|| local_date(span.1, self.tz));
        Spine::checked(section, self.period, self.tz, first, last, self.week_start)
    }
}

/// Adds the [`Window`] setters (`with_period`, `with_tz`, `with_since`,
/// `with_until`, `with_week_start`) and `with_by` to an options struct
/// with `window` and `by` fields.
macro_rules! window_setters {
    ($t:ty) => {
        impl $t {
            /// Sets the period length.
            #[must_use]
            pub fn with_period(mut self, period: $crate::period::Period) -> Self {
                self.window.period = period;
                self
            }
            /// Sets the zone of the period boundaries.
            #[must_use]
            pub fn with_tz(mut self, tz: chrono_tz::Tz) -> Self {
                self.window.tz = tz;
                self
            }
            /// Sets the first reported period (the one holding `date`).
            #[must_use]
            pub fn with_since(mut self, date: chrono::NaiveDate) -> Self {
                self.window.since = Some(date);
                self
            }
            /// Sets the last reported period (the one holding `date`).
            #[must_use]
            pub fn with_until(mut self, date: chrono::NaiveDate) -> Self {
                self.window.until = Some(date);
                self
            }
            /// Sets the first day of weeks.
            #[must_use]
            pub fn with_week_start(mut self, day: chrono::Weekday) -> Self {
                self.window.week_start = day;
                self
            }
            /// Sets the dimensions, in output order.
            #[must_use]
            pub fn with_by<S: Into<String>>(mut self, by: impl IntoIterator<Item = S>) -> Self {
                self.by = by.into_iter().map(Into::into).collect();
                self
            }
        }
    };
}
pub(crate) use window_setters;

/// The most periods a section may span: more means a wrong unit or format
/// (epoch milliseconds read as seconds span millennia), never a report.
pub const MAX_PERIODS: usize = 100_000;

/// Output column holding each period's first local date.
pub const PERIOD_START: &str = "period_start";

/// Days since 1970-01-01 (polars' Date representation).
pub fn date_to_days(d: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from((d - epoch).num_days()).unwrap_or(i32::MAX)
}

/// The date `d` days after 1970-01-01, the inverse of [`date_to_days`].
///
/// ```
/// use metrics_core::period::{date_to_days, days_to_date};
/// let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
/// assert_eq!(days_to_date(date_to_days(d)), d);
/// ```
pub fn days_to_date(d: i32) -> NaiveDate {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    epoch.checked_add_signed(chrono::Duration::days(i64::from(d))).unwrap_or(if d < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn spines_include_every_period() {
        let s = Spine::new(Period::Month, Tz::UTC, d(2026, 1, 31), d(2026, 4, 1));
        assert_eq!(s.starts, vec![d(2026, 1, 1), d(2026, 2, 1), d(2026, 3, 1), d(2026, 4, 1)]);
        let w = Spine::new(Period::Week, Tz::UTC, d(2026, 3, 1), d(2026, 3, 2));
        assert_eq!(w.starts, vec![d(2026, 2, 23), d(2026, 3, 2)]);
        assert!(Spine::new(Period::Day, Tz::UTC, d(2026, 3, 2), d(2026, 3, 1)).starts.is_empty());
    }

    #[test]
    fn period_ends_are_local_midnights_across_dst() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // The week of 2024-03-04 ends at 2024-03-11 00:00 EDT = 04:00Z.
        let s = Spine::new(Period::Week, ny, d(2024, 3, 4), d(2024, 3, 4));
        assert_eq!(s.end_instants(), vec![1_710_129_600_000_000]);
        // Sao Paulo 2015-10-18 had no midnight: the day starts at 01:00 -02 = 03:00Z.
        let sp: Tz = "America/Sao_Paulo".parse().unwrap();
        assert_eq!(day_start(d(2015, 10, 18), sp), 1_445_137_200_000_000);
    }

    proptest::proptest! {
        /// The binary-search kernel gives, for every instant inside the
        /// spine, the period the time-zone expression gives; outside, null.
        #[test]
        fn bucketing_instants_agrees_with_the_zone_expression(
            zone in proptest::sample::select(vec!["UTC", "America/New_York", "America/Sao_Paulo", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Apia"]),
            period in proptest::sample::select(Period::ALL.to_vec()),
            week_start in proptest::sample::select(vec![Weekday::Mon, Weekday::Sun, Weekday::Wed]),
            first in 0i64..3000,
            span in 0i64..800,
            instants in proptest::collection::vec(proptest::option::of(-200i64..4200), 0..80),
        ) {
            let tz: Tz = zone.parse().unwrap();
            let base = d(2012, 1, 1);
            let from = base + chrono::Days::new(first as u64);
            let spine = Spine::with_week_start(period, tz, from, from + chrono::Days::new(span as u64), week_start);
            let hour = 3_600_000_000i64;
            let at: Vec<Option<Micros>> = instants.iter().map(|v| v.map(|h| day_start(from, tz) + (h - 100) * hour * 5)).collect();
            let kernel: Vec<Option<i32>> = spine.bucket_instants("p", at.iter().copied()).phys.iter().collect();
            let dt = Int64Chunked::from_iter_options("t".into(), at.iter().copied())
                .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
            let df = DataFrame::new_infer_height(vec![dt.into_column()]).unwrap();
            let expr = df.lazy().select([spine.bucket(col("t")).cast(DataType::Int32)]).collect().unwrap();
            let by_zone: Vec<Option<i32>> = expr.column(PERIOD_START).unwrap().i32().unwrap().iter().collect();
            let (lo, hi) = (spine.starts.first().map(|s| day_start(*s, tz)), spine.end_instants().last().copied());
            for ((k, z), t) in kernel.iter().zip(&by_zone).zip(&at) {
                let inside = matches!((t, lo, hi), (Some(t), Some(lo), Some(hi)) if lo <= *t && *t < hi);
                proptest::prop_assert_eq!(*k, if inside { *z } else { None }, "instant {:?}", t);
            }
            // The column kernel, over two chunks, alone and with a fallback
            // where a value is missing, gives what the iterator one gives.
            let half = at.len() / 2;
            let mut column = Int64Chunked::from_iter_options("t".into(), at[..half].iter().copied());
            column.append(&Int64Chunked::from_iter_options("t".into(), at[half..].iter().copied())).unwrap();
            let fallback: Vec<Option<Micros>> = at.iter().rev().copied().collect();
            let fb = Int64Chunked::from_iter_options("f".into(), fallback.iter().copied());
            let alone: Vec<Option<i32>> = spine.bucket_column("p", &column, None).phys.iter().collect();
            proptest::prop_assert_eq!(&alone, &kernel);
            let with: Vec<Option<i32>> = spine.bucket_column("p", &column, Some(&fb)).phys.iter().collect();
            let either = at.iter().zip(&fallback).map(|(a, f)| a.or(*f));
            let want: Vec<Option<i32>> = spine.bucket_instants("p", either).phys.iter().collect();
            proptest::prop_assert_eq!(with, want);
        }
    }
}

//! Typed options of the support metrics.

use serde::Serialize;

use crate::{Error, Result};

/// How satisfaction ratings are read (docs/metrics.md, "CSAT (ticket ratings)").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CsatScale {
    /// Lowest valid score.
    pub min: i64,
    /// Highest valid score.
    pub max: i64,
    /// Lowest satisfied score.
    pub satisfied_min: i64,
}

impl Default for CsatScale {
    /// 1-5, satisfied >= 4.
    fn default() -> Self {
        Self { min: 1, max: 5, satisfied_min: 4 }
    }
}

/// What a rating cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rating {
    /// No rating (empty, `offered`, `unoffered`, `not offered`).
    None,
    /// A valid rating; `true` when satisfied.
    Valid(bool),
    /// A number off the scale or not whole.
    OutOfRange,
    /// Text that is no rating.
    Unparseable,
}

impl CsatScale {
    /// Checks the scale is usable.
    pub fn validate(self) -> Result<Self> {
        if self.min < self.max && (self.min..=self.max).contains(&self.satisfied_min) {
            Ok(self)
        } else {
            Err(Error::invalid_option(
                "csat_scale",
                format!("{}-{} with satisfied >= {}", self.min, self.max, self.satisfied_min),
                "is not a valid scale (need min < max and min <= satisfied_min <= max)",
            ))
        }
    }

    /// Reads one rating cell: `good...`/`bad...` text (case-insensitive,
    /// trimmed), or a whole number on the scale (`4.0` counts as 4).
    ///
    /// ```
    /// use metrics_core::support::{CsatScale, Rating};
    /// let s = CsatScale::default();
    /// assert_eq!(s.rate("4"), Rating::Valid(true));
    /// assert_eq!(s.rate("3.0"), Rating::Valid(false));
    /// assert_eq!(s.rate(" Good, I'm satisfied"), Rating::Valid(true));
    /// assert_eq!(s.rate("Offered"), Rating::None);
    /// assert_eq!(s.rate("6"), Rating::OutOfRange);
    /// assert_eq!(s.rate("4.5"), Rating::OutOfRange);
    /// assert_eq!(s.rate("meh"), Rating::Unparseable);
    /// ```
    pub fn rate(&self, cell: &str) -> Rating {
        let v = cell.trim();
        if let &[d @ b'0'..=b'9'] = v.as_bytes() {
            // One digit, the usual cell: the number parse, without it.
            return self.rate_number(f64::from(d - b'0'));
        }
        let starts = |p: &str| v.len() >= p.len() && v.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
        let is = |p: &str| v.eq_ignore_ascii_case(p);
        if v.is_empty() || is("offered") || is("unoffered") || is("not offered") {
            return Rating::None;
        }
        if starts("good") {
            return Rating::Valid(true);
        }
        if starts("bad") {
            return Rating::Valid(false);
        }
        crate::parse::values::parse_float(v).map_or(Rating::Unparseable, |f| self.rate_number(f))
    }

    /// Reads one numeric rating: a whole number on the scale is valid, any
    /// other finite number out of range, NaN or infinity unparseable.
    ///
    /// ```
    /// use metrics_core::support::{CsatScale, Rating};
    /// let s = CsatScale::default();
    /// assert_eq!((s.rate_number(4.0), s.rate_number(3.0)), (Rating::Valid(true), Rating::Valid(false)));
    /// assert_eq!((s.rate_number(4.5), s.rate_number(f64::NAN)), (Rating::OutOfRange, Rating::Unparseable));
    /// ```
    pub fn rate_number(&self, f: f64) -> Rating {
        if !f.is_finite() {
            Rating::Unparseable
        } else if f.fract() == 0.0 && f >= self.min as f64 && f <= self.max as f64 {
            Rating::Valid(f as i64 >= self.satisfied_min)
        } else {
            Rating::OutOfRange
        }
    }

    /// `1-5, satisfied >= 4`, for meta.
    pub fn describe(&self) -> String {
        format!("{}-{}, satisfied >= {}; good/bad text", self.min, self.max, self.satisfied_min)
    }
}

/// Which tickets count as resolved on first contact (docs/metrics.md, "First contact resolution (FCR)").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FcrRule {
    /// `agent_replies <= 1` and `reopens = 0` (Zendesk); nulls are not FCR.
    #[default]
    Zendesk,
    /// Exactly one agent reply, whatever the reopens (dbt_zendesk one-touch).
    OneTouch,
    /// The export's own `first_contact_resolved` flag; null is not FCR.
    Flag,
}

impl FcrRule {
    /// The rule's name (`zendesk`, `one-touch`, `flag`).
    pub fn name(self) -> &'static str {
        match self {
            FcrRule::Zendesk => "zendesk",
            FcrRule::OneTouch => "one-touch",
            FcrRule::Flag => "flag",
        }
    }
}

impl std::str::FromStr for FcrRule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [FcrRule::Zendesk, FcrRule::OneTouch, FcrRule::Flag].into_iter().find(|r| r.name() == s).ok_or_else(|| {
            Error::invalid_option("fcr", s, "is an unknown FCR rule (expected zendesk, one-touch or flag)")
        })
    }
}

/// Options of every support metric.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SupportOptions {
    /// Rating scale.
    pub csat: CsatScale,
    /// FCR preset.
    pub fcr: FcrRule,
    /// A tag that marks escalation, used when neither `escalated` nor
    /// `group_stations` is mapped.
    pub escalation_tag: Option<String>,
    /// Percentiles beyond median and p90, as numbers in (0, 100).
    pub percentiles: Vec<f64>,
    /// Escalation from a count column (`escalation_count`, mapped from
    /// e.g. ServiceNow's 0-based `reassignment_count`): escalated when the
    /// count is at least this. Takes precedence over the other rules when
    /// the column is mapped (`[support] escalation = { column, min }`).
    pub escalation_min: Option<i64>,
    /// Which source duration metrics use when an export has both the
    /// timestamps and the vendor's computed durations.
    pub durations: DurationSource,
    /// Durations longer than this (microseconds) are counted as
    /// `implausible_duration` warnings (a year by default).
    pub max_duration: crate::parse::timestamp::Micros,
    /// The periods reported (weekly by default).
    pub window: crate::period::Window,
    /// Dimensions, in output order: columns of the staged tickets.
    pub by: Vec<String>,
    /// The business calendar of the `_business_` twins of every duration
    /// metric (none: calendar time only).
    pub calendar: Option<crate::calendar::BusinessCalendar>,
    /// Escalation by SLA breach: when set, a ticket is escalated when it
    /// breached a first-response or resolution target of these rules
    /// (`[support] escalation = "sla_breach"`); takes precedence over
    /// every other escalation rule.
    pub escalation_sla: Option<super::sla::SlaOptions>,
}

crate::period::window_setters!(SupportOptions);

impl SupportOptions {
    /// Sets the extra percentiles (each in (0, 100); sorted and
    /// de-duplicated when the table is computed).
    #[must_use]
    pub fn with_percentiles(mut self, p: impl IntoIterator<Item = f64>) -> Self {
        self.percentiles = p.into_iter().collect();
        self
    }

    /// Adds the business-time twins of every duration metric, measured
    /// with `calendar` (docs/calendars.md).
    #[must_use]
    pub fn with_calendar(mut self, calendar: crate::calendar::BusinessCalendar) -> Self {
        self.calendar = Some(calendar);
        self
    }

    /// Escalation by SLA breach: a ticket is escalated when it breached a
    /// target of `sla` (takes precedence over the other rules).
    #[must_use]
    pub fn with_escalation_sla(mut self, sla: super::sla::SlaOptions) -> Self {
        self.escalation_sla = Some(sla);
        self
    }

    /// Sets the FCR rule.
    #[must_use]
    pub fn with_fcr(mut self, fcr: FcrRule) -> Self {
        self.fcr = fcr;
        self
    }

    /// Checks every option (percentiles strictly between 0 and 100, the
    /// CSAT scale) and returns them with the percentiles sorted and
    /// de-duplicated: the one check the CLI and library callers share.
    pub fn validated(&self) -> Result<Self> {
        let mut o = self.clone();
        if let Some(p) = o.percentiles.iter().find(|p| !(**p > 0.0 && **p < 100.0)) {
            return Err(Error::invalid_option("percentiles", p, "is not between 0 and 100 (exclusive)"));
        }
        o.percentiles.sort_by(f64::total_cmp);
        o.percentiles.dedup();
        o.csat = o.csat.validate()?;
        Ok(o)
    }
}

impl Default for SupportOptions {
    fn default() -> Self {
        Self {
            csat: CsatScale::default(),
            fcr: FcrRule::default(),
            escalation_tag: None,
            percentiles: Vec::new(),
            escalation_min: None,
            durations: DurationSource::default(),
            max_duration: super::tickets::DEFAULT_MAX_DURATION,
            window: crate::period::Window::new(crate::period::Period::Week),
            by: Vec::new(),
            calendar: None,
            escalation_sla: None,
        }
    }
}

/// Which source FRT and resolution time use when both the timestamps and
/// the vendor's durations are mapped (`[support] durations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DurationSource {
    /// Timestamps when mapped, else the vendor's durations (the default).
    #[default]
    Timestamps,
    /// The vendor's durations when mapped, else the timestamps.
    Vendor,
}

impl std::str::FromStr for DurationSource {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "timestamps" => Ok(Self::Timestamps),
            "vendor" => Ok(Self::Vendor),
            other => Err(Error::invalid_option("durations", other, "is unknown (expected timestamps or vendor)")),
        }
    }
}

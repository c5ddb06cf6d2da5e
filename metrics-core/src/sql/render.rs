//! Rendering [`super::support_columns`] as one SQL query per dialect.

use std::fmt::Write as _;

use super::{Attribution, Column, Cond, Dialect, Measure, Move, QuantileMethod, SqlRequest, Value, support_columns};
use crate::Result;
use crate::support::CsatScale;

/// The most periods the backlog's pairs table is used for (n(n+1)/2 =
/// 2,001,000 rows at 2,000: five and a half years of days).
const PAIRS_UP_TO: usize = 2_000;

/// Microseconds in a UTC day.
const DAY_US: i64 = 86_400_000_000;

/// Instants missing from a column compare as never (`coalesce(x, NEVER)`).
const NEVER: i64 = i64::MAX;

/// The support table as one query in `r.dialect`: `period_start`, the `by`
/// columns, then every column of [`support_columns`] (helper columns left
/// out), rows ordered by period then group (nulls last), as `cxm support`
/// prints them.
///
/// ```
/// use metrics_core::period::{Period, Spine};
/// use metrics_core::sql::{Dialect, SqlRequest, support_sql};
/// use metrics_core::support::SupportOptions;
/// let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
/// let spine = Spine::new(Period::Week, chrono_tz::UTC, d("2026-03-02"), d("2026-03-09"));
/// let sql = support_sql(&SqlRequest::new(Dialect::DuckDb, "tickets", SupportOptions::default(), spine.clone()))?;
/// assert!(sql.contains("quantile_cont(") && sql.contains("FROM tickets"));
/// // DataFusion's own percentile is not exact: a window over the sorted values instead.
/// let sql = support_sql(&SqlRequest::new(Dialect::DataFusion, "t", SupportOptions::default(), spine))?;
/// assert!(sql.contains("row_number() OVER") && !sql.contains("percentile_cont"));
/// # Ok::<(), metrics_core::Error>(())
/// ```
pub fn support_sql(r: &SqlRequest) -> Result<String> {
    let o = r.options.validated()?;
    let cols = support_columns(&o);
    let mut internal: Vec<&str> =
        vec!["period_start", "v", "i", "n", "age", "snap_us", "bound", "at_us", "day", "k1", "k2"];
    internal.extend(cols.iter().flat_map(|c| c.inputs()));
    internal.extend(["reopens", "agent_replies", "escalated", "csat"]);
    internal.extend(cols.iter().map(|c| c.name.as_str()));
    refuse_internal(&o.by, &internal)?;
    let x = Syntax(r.dialect);
    let d = Dims::quoted(&x, &o.by);
    let mut q = x.with_spine_buckets(&r.spine);
    x.tickets_ctes(&mut q, r, &d);
    let mut joins = Vec::new();
    for at in [Attribution::Created, Attribution::Solved, Attribution::Rated] {
        joins.extend(x.attributed(&mut q, at, &cols, &d));
    }
    joins.extend(x.backlog(&mut q, &d, &r.spine));
    grid_cte(&mut q, &d.0);
    x.select(&mut q, &cols, &d, &joins);
    Ok(q)
}

/// A dialect's spelling of what the query needs.
pub(super) struct Syntax(pub(super) Dialect);

impl Syntax {
    /// An identifier, quoted in the dialect's way when it is not a plain
    /// lower-case word.
    ///
    /// Snowflake stores unquoted names in upper case, so a lower-case word
    /// quoted only because it is reserved (`group`) is quoted in upper case
    /// (`"GROUP"`), the column an unquoted `CREATE TABLE` made.
    pub(super) fn quote(&self, name: &str) -> String {
        let word = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        let reserved = matches!(
            name,
            "group" | "order" | "select" | "from" | "where" | "asof" | "end" | "start" | "at" | "interval"
        );
        match (word && !reserved, self.0) {
            (true, _) => name.to_owned(),
            (false, Dialect::Snowflake) if word => format!("\"{}\"", name.to_ascii_uppercase()),
            (false, Dialect::Spark | Dialect::BigQuery) => format!("`{}`", name.replace('`', "``")),
            (false, _) => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// Epoch microseconds of a timestamp column.
    pub(super) fn epoch_us(&self, c: &str) -> String {
        match self.0 {
            Dialect::DuckDb => format!("epoch_us({c})"),
            Dialect::Spark => format!("unix_micros({c})"),
            Dialect::BigQuery => format!("UNIX_MICROS({c})"),
            Dialect::DataFusion => format!("CAST(arrow_cast({c}, 'Timestamp(Microsecond, Some(\"UTC\"))') AS BIGINT)"),
            Dialect::Postgres => format!("CAST(EXTRACT(EPOCH FROM {c}) * 1000000 AS BIGINT)"),
            Dialect::Trino => format!("CAST(to_unixtime({c}) * 1000000 AS BIGINT)"),
            Dialect::Snowflake => format!("DATE_PART(EPOCH_MICROSECOND, {c})"),
        }
    }

    pub(super) fn double(&self) -> &'static str {
        match self.0 {
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::BigQuery => "FLOAT64",
            _ => "DOUBLE",
        }
    }

    pub(super) fn bigint(&self) -> &'static str {
        if self.0 == Dialect::BigQuery { "INT64" } else { "BIGINT" }
    }

    /// A number column `c` of the row `x` read as cxm reads numbers: the
    /// safe cast of its text, with NaN and infinities none (`v - v` is 0
    /// only for a finite `v`).
    pub(super) fn number(&self, c: &str) -> String {
        let v = self.try_double(&format!("CAST({c} AS {})", self.string()));
        format!("CASE WHEN {v} - {v} = 0 THEN {v} END")
    }

    /// `text` as a double where it reads as a number, else null (no error).
    pub(super) fn try_double(&self, text: &str) -> String {
        match self.0 {
            Dialect::BigQuery => format!("SAFE_CAST({text} AS FLOAT64)"),
            // PostgreSQL has no safe cast: only text shaped as a number is cast.
            // At most 30 characters and a two-digit exponent: never out of
            // float8's range, which would abort the query.
            Dialect::Postgres => format!(
                "CASE WHEN length({text}) <= 30 AND {text} ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{{1,2}})?$' \
                 THEN CAST({text} AS DOUBLE PRECISION) END"
            ),
            _ => format!("TRY_CAST({text} AS {})", self.double()),
        }
    }

    pub(super) fn string(&self) -> &'static str {
        match self.0 {
            Dialect::Postgres | Dialect::Trino => "VARCHAR",
            _ => "STRING",
        }
    }

    /// The exact linear-interpolation quantile aggregate, or none: the
    /// dialect has none, and [`Self::window_quantiles`] computes it.
    pub(super) fn quantile(&self, v: &str, p: f64) -> Option<String> {
        match self.0 {
            Dialect::DuckDb => Some(format!("quantile_cont({v}, {p:?})")),
            Dialect::Spark => Some(format!("percentile({v}, {p:?})")),
            Dialect::Postgres | Dialect::Snowflake => {
                Some(format!("percentile_cont({p:?}) WITHIN GROUP (ORDER BY {v})"))
            }
            // DataFusion's `median` keeps every value: exact, the mean of
            // the two middle ones (its `percentile_cont` rounds its weight).
            _ if p == 0.5 && self.0.capabilities().exact_median => Some(format!("median({v})")),
            Dialect::DataFusion | Dialect::Trino | Dialect::BigQuery => None,
        }
    }

    /// The start of every query: `WITH` and the periods, each with its
    /// start date and UTC bounds in epoch microseconds.
    pub(super) fn with_spine(&self, sp: &crate::period::Spine) -> String {
        format!("WITH\n{},\n", self.periods("spine", sp))
    }

    /// [`Self::with_spine`], then `spine_buckets`: each period once per UTC
    /// day it overlaps (`day`, days since 1970-01-01, beside `period_start`,
    /// `lo` and `hi`), for [`Self::in_period`]. The days are numbered from
    /// a table of ten digits, as many digits as the longest period needs,
    /// so the SQL stays short whatever the range.
    pub(super) fn with_spine_buckets(&self, sp: &crate::period::Spine) -> String {
        let big = self.bigint();
        let span = sp
            .starts
            .iter()
            .zip(sp.end_instants())
            .map(|(d, hi)| (hi - 1).div_euclid(DAY_US) - crate::period::day_start(*d, sp.tz).div_euclid(DAY_US))
            .max()
            .unwrap_or(0);
        let digits = span.max(1).ilog10() as usize + 1;
        let rows: Vec<Vec<String>> = (0..10).map(|d| vec![format!("CAST({d} AS {big})")]).collect();
        let k: Vec<String> = (0..digits)
            .map(|i| format!("{}d{i}.d", if i == 0 { String::new() } else { format!("{} * ", 10i64.pow(i as u32)) }))
            .collect();
        let from: Vec<String> = (0..digits).map(|i| format!("digits d{i}")).collect();
        format!(
            "{}{},\nspine_buckets AS (\n  SELECT s.period_start, s.lo, s.hi, s.k, s.first_day + n.d AS day\n  \
             FROM (SELECT period_start, lo, hi, {} AS first_day, {} AS last_day,\n    \
             CAST(row_number() OVER (ORDER BY period_start) AS {big}) AS k FROM spine) s\n  \
             JOIN (SELECT {} AS d FROM {}) n ON n.d <= s.last_day - s.first_day\n),\n",
            self.with_spine(sp),
            self.rows("digits", &["d"], &rows),
            self.day("lo"),
            self.day("hi - 1"),
            k.join(" + "),
            from.join(" CROSS JOIN ")
        )
    }

    /// The UTC day (days since 1970-01-01) of an instant in epoch µs
    /// (exact through a double up to 2^53 µs, the year 2255).
    pub(super) fn day(&self, us: &str) -> String {
        format!("CAST(floor(CAST({us} AS {}) / {DAY_US}.0) AS {})", self.double(), self.bigint())
    }

    /// `JOIN spine_buckets s ON ...`: the period holding the instant `i`
    /// (epoch µs; none when null or outside the periods), as an equi-join
    /// on its UTC day beside the range, which engines run as a hash join
    /// (a range alone is a nested loop in DataFusion and Spark: rows ×
    /// periods comparisons).
    pub(super) fn in_period(&self, i: &str) -> String {
        format!("JOIN spine_buckets s ON s.day = {} AND {i} >= s.lo AND {i} < s.hi", self.day(i))
    }

    /// `name AS (...)`: the periods of `sp`, each with its start date and
    /// UTC bounds in epoch microseconds (`period_start`, `lo`, `hi`).
    pub(super) fn periods(&self, name: &str, sp: &crate::period::Spine) -> String {
        let big = self.bigint();
        let rows: Vec<Vec<String>> = sp
            .starts
            .iter()
            .zip(sp.end_instants())
            .map(|(d, hi)| {
                let lo = crate::period::day_start(*d, sp.tz);
                vec![format!("DATE '{d}'"), format!("CAST({lo} AS {big})"), format!("CAST({hi} AS {big})")]
            })
            .collect();
        self.rows(name, &["period_start", "lo", "hi"], &rows)
    }

    /// `name AS (...)`: a table of literal rows with the columns `columns`
    /// (a `VALUES` list; in BigQuery, which has none, an array of structs).
    pub(super) fn rows(&self, name: &str, columns: &[&str], rows: &[Vec<String>]) -> String {
        if self.0 == Dialect::BigQuery {
            let structs: Vec<String> = rows
                .iter()
                .map(|r| {
                    let fields: Vec<String> = r.iter().zip(columns).map(|(v, c)| format!("{v} AS {c}")).collect();
                    format!("  STRUCT({})", fields.join(", "))
                })
                .collect();
            format!("{name} AS (SELECT * FROM UNNEST([\n{}\n]))", structs.join(",\n"))
        } else {
            let values: Vec<String> = rows.iter().map(|r| format!("  ({})", r.join(", "))).collect();
            format!("{name} AS (SELECT * FROM (VALUES\n{}\n) AS v({}))", values.join(",\n"), columns.join(", "))
        }
    }

    /// `raw`: the tickets' instants as epoch microseconds; `cutoff`: as-of;
    /// `t`: the tickets as of as-of (later events not yet happened, later
    /// tickets not yet created, a rating after as-of dropped).
    fn tickets_ctes(&self, q: &mut String, r: &SqlRequest, d: &Dims) {
        let us = |c: &str| format!("{} AS {c}", self.epoch_us(c));
        let dims = d.as_text(self.string());
        let _ = writeln!(
            q,
            "raw AS (\n  SELECT {}, {}, {}, {}, reopens, agent_replies, escalated, csat{dims}\n  FROM {}\n  \
             WHERE created_at IS NOT NULL\n),",
            us("created_at"),
            us("first_response_at"),
            us("solved_at"),
            us("csat_at"),
            r.tickets
        );
        match r.as_of {
            Some(a) => {
                let _ = writeln!(q, "cutoff AS (SELECT CAST({a} AS {}) AS at_us),", self.bigint());
            }
            None => q.push_str(
                "cutoff AS (SELECT greatest(max(created_at), coalesce(max(first_response_at), 0), \
                 coalesce(max(solved_at), 0), coalesce(max(csat_at), 0)) AS at_us FROM raw),\n",
            ),
        }
        let cut = |c: &str| format!("CASE WHEN {c} <= a.at_us THEN {c} END AS {c}");
        let dims = d.list("");
        let _ = writeln!(
            q,
            "t AS (\n  SELECT created_at, {}, {}, {},\n    reopens, agent_replies, escalated,\n    \
             CASE WHEN coalesce(csat_at > a.at_us, false) OR (csat_at IS NULL AND coalesce(solved_at > a.at_us, false))\n      \
             THEN NULL ELSE csat END AS csat{dims}\n  FROM raw CROSS JOIN cutoff a\n  WHERE created_at <= a.at_us\n),",
            cut("first_response_at"),
            cut("solved_at"),
            cut("csat_at")
        );
    }

    /// The per-row value `v` on the row (tickets' instants in epoch
    /// microseconds; a survey response's scores in `nps_score`,
    /// `csat_satisfied` and `ces_score`).
    pub(super) fn value(&self, v: &Value) -> String {
        match v {
            Value::Duration { from, to, unit_micros } => {
                format!("CASE WHEN {to} >= {from} THEN CAST({to} - {from} AS {}) / {unit_micros:e} END", self.double())
            }
            Value::Int(c) => format!("coalesce({c}, 0)"),
            Value::Score(s) => score_column(*s).to_owned(),
            Value::Number(c) => (*c).to_owned(),
            Value::MrrAtStart => "b".to_owned(),
            Value::MrrAtEnd => "a".to_owned(),
            Value::Moved(m) => {
                let amount = match m {
                    Move::New | Move::Reactivation => "a",
                    Move::Expansion => "a - b",
                    Move::Contraction => "b - a",
                    Move::Churn => "b",
                };
                format!("CASE WHEN {} THEN {amount} ELSE 0 END", moved(*m))
            }
            Value::RevenueSoFar => "revenue".to_owned(),
        }
    }

    /// The aggregate of `m` over a group's rows, or none: `m` is computed
    /// from other columns ([`Self::derived`]), is a backlog statistic, or is
    /// a quantile without an exact aggregate in the dialect
    /// ([`Self::window_quantiles`]).
    pub(super) fn aggregate(&self, m: &Measure) -> Option<String> {
        Some(match m {
            Measure::Count => "count(*)".to_owned(),
            Measure::CountIf(x) => format!("count(CASE WHEN {} THEN 1 END)", cond(x)),
            Measure::CountValues(v) => format!("count({})", self.value(v)),
            Measure::Mean(v) => format!("avg({})", self.value(v)),
            Measure::Sum(v) => format!("sum({})", self.value(v)),
            Measure::Quantile(v, p, QuantileMethod::Linear) => return self.quantile(&self.value(v), *p),
            _ => return None,
        })
    }

    /// The columns of `cols` attributed by `at` that a group-by computes,
    /// each with its aggregate ([`Self::aggregate`]), in `cols`' order.
    pub(super) fn aggregates<'a>(&self, cols: &'a [Column], at: Attribution) -> Vec<(&'a Column, String)> {
        cols.iter().filter(|c| c.attribution == at).filter_map(|c| Some((c, self.aggregate(&c.measure)?))).collect()
    }

    /// A measure computed from other columns of the same row, each read
    /// as `a.column` (or `column` with an empty `a`), or none: an
    /// aggregate, or CLV (its section renders the window over the months). A net score reads its shares from the columns
    /// [`Self::shares`] names.
    pub(super) fn derived(&self, m: &Measure, a: &str) -> Option<String> {
        let c = |n: &str| if a.is_empty() { n.to_owned() } else { format!("{a}.{n}") };
        let dbl = self.double();
        Some(match m {
            Measure::Ratio { num, den, scale } => format!(
                "CASE WHEN coalesce({d}, 0) > 0 THEN {scale:?} * CAST({} AS {dbl}) / {d} END",
                c(num),
                d = c(den)
            ),
            Measure::Linear(terms) => {
                let mut e = String::new();
                for (k, n) in terms {
                    let sign = if *k < 0.0 {
                        " - "
                    } else if e.is_empty() {
                        ""
                    } else {
                        " + "
                    };
                    let times = if k.abs() == 1.0 { String::new() } else { format!("{:?} * ", k.abs()) };
                    let _ = write!(e, "{sign}{times}{}", c(n));
                }
                format!("({e})")
            }
            Measure::OverFirstAge { num, floor } => {
                let base = c(&first_age(num));
                format!("CASE WHEN coalesce({base}, 0) > {floor:e} THEN CAST({} AS {dbl}) / {base} END", c(num))
            }
            Measure::NetScore { pos, neg, den } => {
                format!("CASE WHEN {} > 0 THEN 100.0 * ({} - {}) END", c(den), c(&share(pos)), c(&share(neg)))
            }
            Measure::NetScoreBound { pos, neg, den, z, upper } => {
                let (p, d) = (c(&share(pos)), c(&share(neg)));
                let half = format!(
                    "{z:?} * sqrt(greatest(CAST(0 AS {dbl}), 100.0 * 100.0 * ({p} + {d} - ({p} - {d}) * ({p} - {d})) / nullif({}, 0)))",
                    c(den)
                );
                let sign = if *upper { '+' } else { '-' };
                format!(
                    "CASE WHEN {} > 0 THEN greatest(CAST(-100 AS {dbl}), least(CAST(100 AS {dbl}), 100.0 * ({p} - {d}) {sign} {half})) END",
                    c(den)
                )
            }
            _ => return None,
        })
    }

    /// The output columns of `cols` for a final select over a step that
    /// holds the others: each as it is, or computed ([`Self::derived`]);
    /// helpers (`__name`) left out. Joined by `,` and a new line.
    pub(super) fn outputs(&self, cols: &[Column]) -> String {
        let out: Vec<String> = cols
            .iter()
            .filter(|c| !c.name.starts_with("__"))
            .map(|c| match self.derived(&c.measure, "") {
                Some(e) => format!("{e} AS {}", c.name),
                None => c.name.clone(),
            })
            .collect();
        out.join(",\n  ")
    }

    /// The shares a net score reads (`__pos_share AS CAST(pos AS DOUBLE)
    /// / nullif(den, 0)`, and the same of `neg`), to be computed by the
    /// caller one step before [`Self::derived`]; nothing for another
    /// measure.
    pub(super) fn shares(&self, m: &Measure) -> Vec<String> {
        match m {
            Measure::NetScore { pos, neg, den } | Measure::NetScoreBound { pos, neg, den, .. } => [pos, neg]
                .iter()
                .map(|n| format!("CAST({n} AS {}) / nullif({den}, 0) AS {}", self.double(), share(n)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// One group-by of the tickets whose `at` instant falls in a period (a
    /// range join against the spine), and the window quantiles of its
    /// values where the dialect has no exact aggregate. Returns the
    /// `(alias, CTE)` pairs the final select joins.
    fn attributed(&self, q: &mut String, at: Attribution, cols: &[Column], d: &Dims) -> Vec<Join> {
        let name = cte_name(at);
        let mut aggs = Vec::new();
        let mut windowed: Vec<(&Value, Vec<(String, f64)>)> = Vec::new();
        for c in cols.iter().filter(|c| c.attribution == at) {
            if let Some(e) = self.aggregate(&c.measure) {
                aggs.push(format!("    {e} AS {}", c.name));
            } else if let Measure::Quantile(v, p, _) = &c.measure {
                match windowed.iter_mut().find(|(w, _)| *w == v) {
                    Some((_, qs)) => qs.push((c.name.clone(), *p)),
                    None => windowed.push((v, vec![(c.name.clone(), *p)])),
                }
            }
        }
        let keys = d.list("x");
        let join = format!("FROM t x {}", self.in_period(instant(at)));
        let _ = writeln!(
            q,
            "{name} AS (\n  SELECT s.period_start{keys},\n{}\n  {join}\n  GROUP BY s.period_start{keys}\n),",
            aggs.join(",\n")
        );
        let mut out = vec![Join { alias: alias(at).to_owned(), cte: name.to_owned(), columns: Vec::new() }];
        for (k, (v, qs)) in windowed.into_iter().enumerate() {
            let source = format!("SELECT s.period_start{keys}, {} AS v\n  {join}", self.value(v));
            let cte = format!("{name}_q{k}");
            self.window_quantiles(q, &cte, &source, d, (&qs, &[]));
            let columns = qs.into_iter().map(|(c, _)| c).collect();
            out.push(Join { alias: format!("{}q{k}", alias(at)), cte, columns });
        }
        out
    }

    /// Quantiles by a window over the sorted values, for a dialect without
    /// an exact aggregate: with the values of a group numbered 0..n-1 in
    /// order, `x[⌊h⌋] + (h - ⌊h⌋)(x[⌊h⌋+1] - x[⌊h⌋])` at h = (n-1)p, the
    /// rule of metrics.md, "Common rules". `extra` are more aggregates
    /// of the same rows, over `v` and the group's count `n`, written
    /// `expr AS name` (none: an empty slice).
    pub(super) fn window_quantiles(
        &self,
        q: &mut String,
        name: &str,
        source: &str,
        d: &Dims,
        (qs, extra): (&[(String, f64)], &[String]),
    ) {
        let keys = d.list("");
        let part = format!("PARTITION BY period_start{keys}");
        let mut cols = Vec::new();
        for (col, p) in qs {
            let h = format!("(n - 1) * {p:?}");
            let at = |i: &str| format!("max(CASE WHEN i = {i} THEN v END)");
            let (lo, hi) = (at(&format!("floor({h})")), at(&format!("least(floor({h}) + 1, n - 1)")));
            cols.push(format!("    {lo} + ({h} - floor({h})) * ({hi} - {lo}) AS {col}"));
        }
        cols.extend(extra.iter().map(|e| format!("    {e}")));
        let _ = writeln!(
            q,
            "{name}_v AS (\n  {source}\n),\n{name}_r AS (\n  SELECT period_start{keys}, v,\n    \
             row_number() OVER ({part} ORDER BY v) - 1 AS i,\n    count(*) OVER ({part}) AS n\n  \
             FROM {name}_v WHERE v IS NOT NULL\n),\n{name} AS (\n  SELECT period_start{keys},\n{}\n  \
             FROM {name}_r\n  GROUP BY period_start{keys}, n\n),",
            cols.join(",\n")
        );
    }

    /// `spans`: each ticket's first and last period end it is open across,
    /// as period numbers `k1` and `k2` (`k1 > k2`: none). The period ends'
    /// bounds never decrease, so the ends are consecutive: from the period
    /// holding `created_at` (the first when earlier) to the one before the
    /// period holding `solved_at` (the last when later or unsolved). Each is
    /// found by [`Self::in_period`]'s equi-join. `pairs`: every `(m, j)`
    /// with `0 <= j <= m < n` periods, so that the open tickets are one row
    /// per end by an equi-join on `m = k2 - k1` (then `k = k1 + j`), not a
    /// range join of every ticket against every end (a nested loop in
    /// DataFusion and Spark). `pairs` has n(n+1)/2 rows (5,565 for two
    /// years of weeks).
    fn spans(&self, q: &mut String, sp: &crate::period::Spine, keys: &str) {
        let (Some(first), Some(&last)) = (sp.starts.first(), sp.end_instants().last()) else { return };
        let (lo, n) = (crate::period::day_start(*first, sp.tz), sp.starts.len());
        let digits = n.max(2).saturating_sub(1).ilog10() as usize + 1;
        let v: Vec<String> = (0..digits)
            .map(|i| match i {
                0 => "d0.d".to_owned(),
                _ => format!("{} * d{i}.d", 10i64.pow(i as u32)),
            })
            .collect();
        let from: Vec<String> = (0..digits).map(|i| format!("digits d{i}")).collect();
        let _ = writeln!(
            q,
            "nums AS (SELECT * FROM (SELECT {} AS v FROM {}) d WHERE v < {n}),\n\
             pairs AS (SELECT m.v AS m, j.v AS j FROM nums m JOIN nums j ON j.v <= m.v),",
            v.join(" + "),
            from.join(" CROSS JOIN ")
        );
        let at = |a: &str, i: &str| {
            format!("LEFT JOIN spine_buckets {a} ON {a}.day = {} AND {i} >= {a}.lo AND {i} < {a}.hi", self.day(i))
        };
        let _ = writeln!(
            q,
            "spans AS (\n  SELECT x.created_at{keys},\n    \
             CASE WHEN x.created_at < {lo} THEN 1 ELSE c.k END AS k1,\n    \
             CASE WHEN x.solved_at IS NULL OR x.solved_at >= {last} THEN {n} WHEN x.solved_at < {lo} THEN 0 ELSE z.k - 1 END AS k2\n  \
             FROM t x\n  {}\n  {}\n  WHERE coalesce(x.solved_at, {NEVER}) >= x.created_at\n),",
            at("c", "x.created_at"),
            at("z", "x.solved_at"),
        );
    }

    /// The tickets open at each period's end (or at as-of when earlier:
    /// then after every event at that instant), per group: a range join.
    fn backlog(&self, q: &mut String, d: &Dims, sp: &crate::period::Spine) -> Vec<Join> {
        let (keys, k) = (d.list("x"), d.list(""));
        let _ = writeln!(
            q,
            "ends AS (\n  SELECT period_start, least(hi, a.at_us) AS snap_us,\n    \
             CASE WHEN hi <= a.at_us THEN hi ELSE a.at_us + 1 END AS bound,\n    \
             CAST(row_number() OVER (ORDER BY period_start) AS {}) AS k\n  FROM spine CROSS JOIN cutoff a\n),",
            self.bigint()
        );
        let age = format!("CAST(e.snap_us - x.created_at AS {}) / 3.6e9 AS age", self.double());
        // The pairs table has n(n+1)/2 rows: beyond PAIRS_UP_TO periods the
        // range join is cheaper.
        let pairs = matches!(self.0, Dialect::DataFusion | Dialect::Spark) && sp.starts.len() <= PAIRS_UP_TO;
        match pairs {
            true => {
                self.spans(q, sp, &keys);
                let _ = writeln!(
                    q,
                    "open_at_end AS (\n  SELECT e.period_start{keys}, {age}\n  \
                     FROM spans x JOIN pairs p ON p.m = x.k2 - x.k1 JOIN ends e ON e.k = x.k1 + p.j\n),"
                );
            }
            false => {
                let _ = writeln!(
                    q,
                    "open_at_end AS (\n  SELECT e.period_start{keys}, {age}\n  \
                     FROM t x JOIN ends e ON x.created_at < e.bound AND coalesce(x.solved_at, {NEVER}) >= e.bound\n  \
                     WHERE coalesce(x.solved_at, {NEVER}) >= x.created_at\n),"
                );
            }
        }
        let counts = ["count(*) AS backlog_count", "count(CASE WHEN age > 168 THEN 1 END) AS backlog_over_7d_count"];
        match self.quantile("age", 0.5) {
            Some(median) => {
                let _ = writeln!(
                    q,
                    "backlog AS (\n  SELECT period_start{k},\n    {},\n    {median} AS backlog_median_age_hours\n  \
                     FROM open_at_end\n  GROUP BY period_start{k}\n),",
                    counts.join(",\n    ")
                );
            }
            // The window's own rows give the counts too: the open tickets
            // are joined to the period ends once.
            None => {
                let qs = [("backlog_median_age_hours".to_owned(), 0.5)];
                let extra = [
                    "n AS backlog_count".to_owned(),
                    "count(CASE WHEN v > 168 THEN 1 END) AS backlog_over_7d_count".to_owned(),
                ];
                let source = format!("SELECT period_start{k}, age AS v FROM open_at_end");
                self.window_quantiles(q, "backlog", &source, d, (&qs, &extra));
            }
        }
        vec![Join { alias: "b".into(), cte: "backlog".into(), columns: Vec::new() }]
    }

    /// The final select: every column from the CTE that computes it,
    /// joined onto the grid.
    fn select(&self, q: &mut String, cols: &[Column], d: &Dims, joins: &[Join]) {
        let mut out = vec!["g.period_start".to_owned()];
        out.extend(d.0.iter().map(|b| format!("g.{b}")));
        for c in cols.iter().filter(|c| !c.name.starts_with("__")) {
            // A window quantile's own CTE, else its attribution's group-by.
            let a = joins.iter().find(|j| j.columns.contains(&c.name)).map_or(alias(c.attribution), |j| &j.alias);
            let name = &c.name;
            out.push(match self.derived(&c.measure, a) {
                Some(e) => format!("{e} AS {name}"),
                None if c.count => format!("coalesce({a}.{name}, 0) AS {name}"),
                None => format!("{a}.{name} AS {name}"),
            });
        }
        let on = |a: &str| format!("({a}.period_start = g.period_start{})", d.same(a, "g"));
        let _ = write!(q, "SELECT\n  {}\nFROM grid g\n", out.join(",\n  "));
        for j in joins {
            let _ = writeln!(q, "LEFT JOIN {} {} ON {}", j.cte, j.alias, on(&j.alias));
        }
        let _ = writeln!(q, "ORDER BY g.period_start{}", d.nulls_last("g"));
    }
}

/// The last select of a usage query: the table's rows (`rows_read`) and
/// those of the CTE `used` (`rows_used`), one row. `q` holds the CTEs,
/// each followed by a comma.
pub(super) fn usage(mut q: String, table: &str, used: &str) -> String {
    q.truncate(q.trim_end().trim_end_matches(',').len());
    let _ = write!(
        q,
        "\nSELECT r.n AS rows_read, u.n AS rows_used\nFROM (SELECT count(*) AS n FROM {table}) r \
         CROSS JOIN (SELECT count(*) AS n FROM {used}) u\n"
    );
    q
}

/// One query giving the tickets table's rows (`rows_read`) and those the
/// support query uses (`rows_used`: with `created_at`, not after as-of),
/// one row.
/// `cxm sql --engine` runs it first: with none used it stops as `cxm
/// support` does, and it reports the rows left out.
///
/// ```
/// use metrics_core::period::{Period, Spine};
/// use metrics_core::sql::{Dialect, SqlRequest, support_usage_sql};
/// use metrics_core::support::SupportOptions;
/// let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
/// let spine = Spine::new(Period::Week, chrono_tz::UTC, d("2026-03-02"), d("2026-03-09"));
/// let sql = support_usage_sql(&SqlRequest::new(Dialect::Spark, "tickets", SupportOptions::default(), spine));
/// assert!(sql.contains("rows_read") && sql.contains("rows_used"));
/// ```
pub fn support_usage_sql(r: &SqlRequest) -> String {
    let x = Syntax(r.dialect);
    let mut q = String::from("WITH\n");
    x.tickets_ctes(&mut q, r, &Dims(Vec::new()));
    usage(q, &r.tickets, "t")
}

/// A CTE the final select joins onto the grid, and the columns it alone
/// computes (the window quantiles; empty for a group-by, whose columns are
/// found by attribution).
struct Join {
    alias: String,
    cte: String,
    columns: Vec<String>,
}

fn cond(c: &Cond) -> String {
    let valid = |s: &CsatScale| format!("csat BETWEEN {} AND {} AND csat = floor(csat)", s.min, s.max);
    match c {
        Cond::IsNull(col) => format!("{col} IS NULL"),
        Cond::Flag(col) => format!("coalesce({col}, false)"),
        Cond::AtMost(col, n) => format!("coalesce({col} <= {n}, false)"),
        Cond::Equals(col, n) => format!("coalesce({col} = {n}, false)"),
        Cond::Above(col, n) => format!("coalesce({col} > {n}, false)"),
        Cond::And(a, b) => format!("({} AND {})", cond(a), cond(b)),
        Cond::Rated(s) => format!("coalesce({}, false)", valid(s)),
        Cond::Satisfied(s) => format!("coalesce({} AND csat >= {}, false)", valid(s), s.satisfied_min),
        Cond::Moved(m) => moved(*m).to_owned(),
        Cond::PaidAtStart => "b > 0".to_owned(),
        Cond::PaidAtEnd => "a > 0".to_owned(),
        Cond::ScoreIn(s, lo, hi) if lo == hi => format!("coalesce({} = {lo}, false)", score_column(*s)),
        Cond::ScoreIn(s, lo, hi) => format!("coalesce({} BETWEEN {lo} AND {hi}, false)", score_column(*s)),
    }
}

/// An account's move over a period, on its MRR at the start `b` and end
/// `a` (both 0, never null, where it had none) and `paid_before`.
fn moved(m: Move) -> &'static str {
    match m {
        Move::New => "b = 0 AND a > 0 AND NOT paid_before",
        Move::Expansion => "b > 0 AND a > b",
        Move::Contraction => "b > 0 AND a > 0 AND a < b",
        Move::Churn => "b > 0 AND a = 0",
        Move::Reactivation => "b = 0 AND a > 0 AND paid_before",
    }
}

/// The column of `n`'s value at age 0, which [`Measure::OverFirstAge`]
/// reads (its section computes it).
pub(super) fn first_age(n: &str) -> String {
    format!("{n}_at_0")
}

/// The column of a net score's share of `n` ([`Syntax::shares`]).
fn share(n: &str) -> String {
    format!("__{n}_share")
}

/// The column of a survey response's valid score (the surveys query's own).
fn score_column(s: crate::surveys::Survey) -> &'static str {
    match s {
        crate::surveys::Survey::Nps => "nps_score",
        crate::surveys::Survey::Csat => "csat_satisfied",
        crate::surveys::Survey::Ces => "ces_score",
    }
}

/// The instant of `at` on the ticket row `x`.
fn instant(at: Attribution) -> &'static str {
    match at {
        Attribution::Created => "x.created_at",
        Attribution::Solved => "x.solved_at",
        Attribution::Rated => "coalesce(x.csat_at, x.solved_at)",
        // Not a ticket instant: the support table has no such column.
        _ => "NULL",
    }
}

/// The CTE and alias of a support column's attribution in the support
/// query; other tables' attributions are rendered by their own sections
/// and have none here.
fn cte_name(at: Attribution) -> &'static str {
    match at {
        Attribution::Created => "by_created",
        Attribution::Solved => "by_solved",
        Attribution::Rated => "by_rated",
        Attribution::PeriodEnd => "backlog",
        _ => "none",
    }
}

fn alias(at: Attribution) -> &'static str {
    match at {
        Attribution::Created => "c",
        Attribution::Solved => "s",
        Attribution::Rated => "r",
        Attribution::PeriodEnd => "b",
        _ => "none",
    }
}

/// The `by` columns of a query, quoted, and the pieces of SQL that carry
/// them.
pub(super) struct Dims(pub(super) Vec<String>);

impl Dims {
    /// The request's `by` names, quoted for the dialect.
    pub(super) fn quoted(x: &Syntax, by: &[String]) -> Self {
        Self(by.iter().map(|b| x.quote(b)).collect())
    }

    /// Each column as `x.d` (or `d` with an empty prefix).
    fn each<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = String> + 'a {
        self.0.iter().map(move |d| if prefix.is_empty() { d.clone() } else { format!("{prefix}.{d}") })
    }

    /// `, x.d1, x.d2` (or `, d1, d2` with an empty prefix).
    pub(super) fn list(&self, prefix: &str) -> String {
        self.each(prefix).map(|d| format!(", {d}")).collect()
    }

    /// `, CAST(d AS text) AS d` for each, `text` the dialect's string type.
    pub(super) fn as_text(&self, text: &str) -> String {
        self.0.iter().map(|d| format!(", CAST({d} AS {text}) AS {d}")).collect()
    }

    /// ` AND (a.d IS NOT DISTINCT FROM b.d)` for each.
    pub(super) fn same(&self, a: &str, b: &str) -> String {
        self.0.iter().map(|d| format!(" AND ({a}.{d} IS NOT DISTINCT FROM {b}.{d})")).collect()
    }

    /// `, x.d1 NULLS LAST, ...` (or without the prefix), for an ORDER BY
    /// after the period.
    pub(super) fn nulls_last(&self, prefix: &str) -> String {
        self.each(prefix).map(|d| format!(", {d} NULLS LAST")).collect()
    }

    /// `PARTITION BY x.d1, x.d2 ` for a window over the periods of each
    /// group, or nothing ungrouped.
    pub(super) fn partition(&self, prefix: &str) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        format!("PARTITION BY {} ", self.each(prefix).collect::<Vec<_>>().join(", "))
    }
}

/// `account_dims AS (...)`: one row per account of the accounts table
/// `accounts` with the `by` columns (quoted) as text; an account listed
/// twice takes the greatest value of each (cxm keeps the last row read; a
/// table has no row order).
pub(super) fn account_dims_cte(x: &Syntax, accounts: &str, by: &[String]) -> String {
    let s = x.string();
    let cols: String = by.iter().map(|c| format!(", max(CAST({c} AS {s})) AS {c}")).collect();
    format!(
        "account_dims AS (\n  SELECT CAST(account_id AS {s}) AS account_id{cols}\n  \
         FROM {accounts} GROUP BY CAST(account_id AS {s})\n),"
    )
}

/// Where a section's rows and `by` columns come from.
pub(super) struct Source {
    /// The FROM clause: the table, or the table `r` joined to
    /// [`account_dims_cte`] as `ac`.
    pub(super) from: String,
    /// `, CAST(... AS text) AS b` for each `by` column.
    pub(super) dims: String,
    /// The prefix of the table's own columns (`r.` when joined).
    pub(super) own: &'static str,
}

/// The source of a section's rows: the `by` columns `d` (the quoted forms
/// of `raw`) are read from the table itself when `own_by` names them (and
/// `account_id` always), the
/// others (with an accounts table) from its row of the row's
/// `account_id`, through [`account_dims_cte`] (written to `q`). Without an
/// accounts table, or when every `by` is the table's own, nothing is
/// joined.
pub(super) fn source_with_dims(
    x: &Syntax,
    q: &mut String,
    table: &str,
    accounts: Option<&str>,
    (d, raw): (&Dims, &[String]),
    own_by: &[String],
) -> Source {
    let s = x.string();
    let by = &d.0;
    // `account_id` is the join key: the table's own.
    let own: Vec<bool> = raw.iter().map(|b| own_by.contains(b) || b == "account_id").collect();
    let joined: Vec<String> = by.iter().zip(&own).filter(|(_, o)| !**o).map(|(b, _)| b.clone()).collect();
    match accounts {
        Some(a) if !joined.is_empty() => {
            let _ = writeln!(q, "{}", account_dims_cte(x, a, &joined));
            let dims = by
                .iter()
                .zip(&own)
                .map(|(b, o)| format!(", CAST({}{b} AS {s}) AS {b}", if *o { "r." } else { "ac." }))
                .collect();
            let from = format!("{table} r LEFT JOIN account_dims ac ON ac.account_id = CAST(r.account_id AS {s})");
            Source { from, dims, own: "r." }
        }
        _ => {
            let dims = d.as_text(s);
            Source { from: table.to_owned(), dims, own: "" }
        }
    }
}

/// A `by` name the query also uses for a column of its own is refused
/// (rename it in a view).
pub(super) fn refuse_internal(by: &[String], internal: &[&str]) -> crate::Result<()> {
    // Engines other than PostgreSQL and Snowflake match names in any case.
    match by.iter().find(|b| internal.iter().any(|i| i.eq_ignore_ascii_case(b))) {
        Some(b) => Err(crate::Error::invalid_option(
            "by",
            b,
            "is also a column of the query's own (rename it in a view for `cxm sql`)",
        )),
        None => Ok(()),
    }
}

/// Every period for every group found in the tickets.
pub(super) fn grid_cte(q: &mut String, by: &[String]) {
    if by.is_empty() {
        q.push_str("grid AS (SELECT period_start FROM spine)\n");
    } else {
        let _ = writeln!(
            q,
            "grid AS (SELECT s.period_start, g.* FROM spine s CROSS JOIN (SELECT DISTINCT {} FROM t) g)",
            by.join(", ")
        );
    }
}

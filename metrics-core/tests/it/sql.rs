//! The support SQL of every dialect parses with that dialect's grammar
//! (`sqlparser`). DuckDB, DataFusion and Spark are also executed by their
//! engines and compared with `cxm support` (tests/sql/run.sh); Postgres,
//! Trino, Snowflake and BigQuery are checked for syntax only here.

use metrics_core::period::{Period, Spine};
use metrics_core::sql::{
    Dialect, MrrSource, PurchasesRequest, RevenueRequest, SqlRequest, SurveysRequest, cohorts_sql, purchases_sql,
    revenue_sql, support_sql, surveys_present_sql, surveys_sql,
};
use metrics_core::support::SupportOptions;
use sqlparser::dialect::{
    BigQueryDialect, DatabricksDialect, DuckDbDialect, GenericDialect, PostgreSqlDialect, SnowflakeDialect,
};
use sqlparser::parser::Parser;

/// Periods in Berlin from the one holding `first` to the one holding `last`.
fn spine(period: Period, first: &str, last: &str) -> Spine {
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    Spine::new(period, metrics_core::chrono_tz::Europe::Berlin, day(first), day(last))
}

fn sql(d: Dialect) -> String {
    let spine = spine(Period::Week, "2026-03-01", "2026-04-05");
    let o = SupportOptions::default().with_by(["group", "channel"]).with_percentiles([95.0]);
    let mut r = SqlRequest::new(d, "analytics.tickets", o, spine);
    r.as_of = Some(1_775_000_000_000_000);
    support_sql(&r).unwrap()
}

fn surveys(d: Dialect) -> String {
    let spine = spine(Period::Month, "2026-01-01", "2026-04-05");
    let mut r = SurveysRequest::new(d, "analytics.survey_responses", spine);
    r.by = vec!["account_id".into()];
    surveys_sql(&r).unwrap() + ";\n" + &surveys_present_sql(&r).unwrap()
}

fn purchases(d: Dialect) -> String {
    let spine = spine(Period::Week, "2026-03-01", "2026-04-05");
    let mut r = PurchasesRequest::new(d, "shop.transactions", spine.clone());
    r.by = vec!["segment".into(), "group".into()];
    r.accounts = Some("crm.accounts".into());
    let mut plain = PurchasesRequest::new(d, "shop.transactions", spine);
    plain.amount = false;
    purchases_sql(&r).unwrap() + ";\n" + &purchases_sql(&plain).unwrap()
}

fn revenue(d: Dialect) -> String {
    let months = spine(Period::Month, "2025-01-01", "2026-04-05");
    let mut r = RevenueRequest::new(d, "billing.subscriptions", months);
    r.by = vec!["segment".into(), "group".into()];
    r.accounts = Some("crm.accounts".into());
    // Weeks: clv from a side table of calendar months.
    let mut weekly = r.clone();
    weekly.spine = spine(Period::Week, "2025-12-29", "2026-04-05");
    let weekly = revenue_sql(&weekly).unwrap();
    assert!(weekly.contains("row_churn AS ("), "{weekly}");
    // Amounts and intervals, in currencies.
    let mut amounts = r.clone();
    amounts.mrr_source = MrrSource::Amount { quantity: true, interval_count: true };
    amounts.currency = Some([("EUR".to_owned(), 1.1), ("USD".to_owned(), 1.0)].into());
    let amounts = revenue_sql(&amounts).unwrap();
    assert!(amounts.contains("currency_factors AS") && amounts.contains("no rate for currency"), "{amounts}");
    revenue_sql(&r).unwrap() + ";\n" + &cohorts_sql(&r).unwrap() + ";\n" + &weekly + ";\n" + &amounts
}

#[test]
fn every_dialect_parses() {
    for (d, text) in
        Dialect::ALL.into_iter().flat_map(|d| [(d, sql(d)), (d, surveys(d)), (d, revenue(d)), (d, purchases(d))])
    {
        let parsed = match d {
            Dialect::DuckDb => Parser::parse_sql(&DuckDbDialect {}, &text),
            Dialect::Spark => Parser::parse_sql(&DatabricksDialect {}, &text),
            Dialect::Postgres => Parser::parse_sql(&PostgreSqlDialect {}, &text),
            Dialect::Snowflake => Parser::parse_sql(&SnowflakeDialect {}, &text),
            Dialect::BigQuery => Parser::parse_sql(&BigQueryDialect {}, &text),
            _ => Parser::parse_sql(&GenericDialect {}, &text),
        };
        let statements = parsed.unwrap_or_else(|e| panic!("{}: {e}\n{text}", d.name()));
        assert!((1..=4).contains(&statements.len()), "{}", d.name());
    }
}

/// A dialect without an exact percentile aggregate gets the window
/// fallback, never an approximate function.
#[test]
fn no_dialect_approximates_a_percentile() {
    for d in Dialect::ALL {
        let text = sql(d).to_lowercase();
        assert!(!text.contains("approx"), "{}", d.name());
        let window = text.contains("row_number() over (partition by");
        assert_eq!(window, !d.capabilities().exact_percentile, "{}", d.name());
    }
}

/// `by` on revenue reads the lines' own column without an accounts table,
/// or one the lines hold (`own_by`): each (account, value) pair is then a
/// unit, keyed through every step; the accounts table is not joined for it.
#[test]
fn revenue_by_a_column_of_the_lines_keys_the_unit() {
    let mut r = RevenueRequest::new(Dialect::DuckDb, "subscriptions", spine(Period::Month, "2025-01-01", "2025-06-30"));
    r.by = vec!["plan".into()];
    let text = revenue_sql(&r).unwrap();
    assert!(text.contains("CAST(x.plan AS STRING) AS plan"), "{text}");
    assert!(text.contains("GROUP BY g.t, l.account_id, l.plan"), "{text}");
    assert!(text.contains("AND (b.plan IS NOT DISTINCT FROM a.plan)"), "{text}");
    assert!(!text.contains("account_dims"), "{text}");
    // With an accounts table: plan from the lines, segment from the accounts.
    (r.by, r.own_by, r.accounts) =
        (vec!["plan".into(), "segment".into()], vec!["plan".into()], Some("crm.accounts".into()));
    let text = cohorts_sql(&r).unwrap();
    assert!(text.contains("max(CAST(segment AS STRING)) AS segment") && !text.contains("max(CAST(plan"), "{text}");
    assert!(text.contains("SELECT f.account_id, p.period_start AS cohort, p.i AS ci, f.plan, ad.segment"), "{text}");
    assert!(text.contains("AND (n.plan IS NOT DISTINCT FROM o.plan)"), "{text}");
}

/// The columns of the surveys asked for, in output order; the scales are
/// those of the request, and checked.
#[test]
fn surveys_give_the_columns_of_their_surveys_on_their_scales() {
    use metrics_core::surveys::Survey;
    let spine = spine(Period::Week, "2026-03-02", "2026-03-09");
    let mut r = SurveysRequest::new(Dialect::DuckDb, "s", spine);
    r.surveys = vec![Survey::Nps, Survey::Ces];
    r.csat.satisfied_min = 5;
    let text = surveys_sql(&r).unwrap();
    let select = &text[text.rfind("SELECT period_start").unwrap()..];
    assert!(select.contains("nps_ci_high") && select.contains("ces_mean") && !select.contains("csat_pct"), "{select}");
    assert!(text.contains("WHEN num >= 5 THEN 1"), "{text}");
    r.surveys.clear();
    assert!(surveys_sql(&r).is_err());
    r.surveys = vec![Survey::Csat];
    r.csat.satisfied_min = 6;
    assert!(surveys_sql(&r).is_err(), "satisfied above the scale's top");
}

/// The typed description of the surveys table names the columns `cxm
/// surveys` gives, in its order (each survey once, helpers left out); the
/// counts are counts, attributed to `responded_at`; every column reads only
/// the responses' own columns.
#[test]
fn survey_descriptions_are_the_in_process_columns() {
    use metrics_core::sql::{Attribution, Measure, survey_columns};
    use metrics_core::surveys::Survey;
    let asked = [Survey::Csat, Survey::Nps, Survey::Csat, Survey::Ces];
    let cols = survey_columns(&asked);
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).filter(|n| !n.starts_with("__")).collect();
    let expected: Vec<&str> =
        [Survey::Csat, Survey::Nps, Survey::Ces].iter().flat_map(|s| s.columns().to_vec()).collect();
    assert_eq!(names, expected);
    for c in &cols {
        assert_eq!(c.attribution, Attribution::Responded, "{}", c.name);
        let counted = matches!(c.measure, Measure::CountIf(_) | Measure::CountValues(_));
        assert_eq!(c.count, counted, "{}", c.name);
        assert!(c.inputs().iter().all(|i| ["responded_at", "survey", "score"].contains(i)), "{}", c.name);
    }
    // Each derived column reads columns the description has.
    for c in &cols {
        let reads: Vec<&String> = match &c.measure {
            Measure::Ratio { num, den, .. } => vec![num, den],
            Measure::NetScore { pos, neg, den } | Measure::NetScoreBound { pos, neg, den, .. } => vec![pos, neg, den],
            _ => vec![],
        };
        assert!(reads.iter().all(|r| cols.iter().any(|c| &c.name == *r)), "{}", c.name);
    }
}

/// The typed description of the purchases table names the columns `cxm
/// purchases` gives, in its order, with and without amounts; every ratio
/// reads columns the description has.
#[test]
fn purchase_descriptions_are_the_in_process_columns() {
    use metrics_core::purchases::COLUMNS;
    use metrics_core::sql::{Measure, purchase_columns};
    for amount in [true, false] {
        let cols = purchase_columns(amount);
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).filter(|n| !n.starts_with("__")).collect();
        let money = ["revenue", "average_order_value"];
        let expected: Vec<&str> = COLUMNS.iter().copied().filter(|c| amount || !money.contains(c)).collect();
        assert_eq!(names, expected);
        for c in &cols {
            if let Measure::Ratio { num, den, .. } = &c.measure {
                assert!([num, den].iter().all(|r| cols.iter().any(|c| &c.name == *r)), "{}", c.name);
            }
            assert!(c.inputs().iter().all(|i| ["account_id", "at", "amount"].contains(i)), "{}", c.name);
        }
    }
}

/// The typed description of the revenue table names the columns `cxm
/// revenue` gives, in its order; each computed column reads columns
/// listed before it, so the steps that compute them are ordered.
#[test]
fn revenue_descriptions_are_the_in_process_columns() {
    use metrics_core::revenue::movements::COLUMNS;
    use metrics_core::sql::{Measure, revenue_columns};
    let cols = revenue_columns(0.8);
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).filter(|n| !n.starts_with("__")).collect();
    assert_eq!(names, COLUMNS);
    for (i, c) in cols.iter().enumerate() {
        assert!(c.measure.reads().iter().all(|r| cols[..i].iter().any(|c| c.name == *r)), "{}", c.name);
    }
    assert!(cols.iter().any(|c| matches!(c.measure, Measure::Clv { gross_margin, .. } if gross_margin == 0.8)));
}

/// The typed description of the cohorts table names the columns `cxm
/// cohorts` gives after `age`, in its order.
#[test]
fn cohort_descriptions_are_the_in_process_columns() {
    use metrics_core::revenue::cohorts::COLUMNS;
    use metrics_core::sql::cohort_columns;
    let cols = cohort_columns();
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).filter(|n| !n.starts_with("__")).collect();
    assert_eq!(names, COLUMNS[1..]);
    for (i, c) in cols.iter().enumerate() {
        assert!(c.measure.reads().iter().all(|r| cols[..i].iter().any(|c| c.name == *r)), "{}", c.name);
    }
}

/// A `by` name the query uses itself is refused, not left ambiguous; the
/// accounts table is joined only for a `by`, one row per account.
#[test]
fn by_names_of_the_query_own_columns_are_refused() {
    let spine = spine(Period::Month, "2026-01-01", "2026-03-31");
    let mut p = PurchasesRequest::new(Dialect::DuckDb, "t", spine.clone());
    p.by = vec!["pday".into()];
    assert!(purchases_sql(&p).is_err());
    let mut s = SurveysRequest::new(Dialect::DuckDb, "s", spine.clone());
    s.by = vec!["kind".into()];
    assert!(surveys_sql(&s).is_err());
    // Most engines match names in any case.
    s.by = vec!["Kind".into()];
    assert!(surveys_sql(&s).is_err());
    // Support: the window median's own columns and the tickets' columns.
    for by in ["n", "v", "csat", "created_at", "backlog_count", "k1", "K2", "snap_us"] {
        let o = SupportOptions::default().with_by([by]);
        assert!(support_sql(&SqlRequest::new(Dialect::DataFusion, "t", o, spine.clone())).is_err(), "{by}");
    }
    let o = SupportOptions::default().with_by(["channel"]);
    assert!(support_sql(&SqlRequest::new(Dialect::DataFusion, "t", o, spine.clone())).is_ok());
    // Revenue and cohorts: the monthly churn's and the cohorts' columns.
    for by in ["churned", "rate", "accounts", "logo_retention", "nrr"] {
        let mut r = RevenueRequest::new(Dialect::DuckDb, "subs", spine.clone());
        (r.by, r.accounts) = (vec![by.into()], Some("accounts".into()));
        assert!(revenue_sql(&r).is_err() && cohorts_sql(&r).is_err(), "{by}");
    }
    s.by.clear();
    s.accounts = Some("crm.accounts".into());
    assert!(!surveys_sql(&s).unwrap().contains("crm.accounts"), "no by, no join");
    s.by = vec!["segment".into()];
    let text = surveys_sql(&s).unwrap();
    assert!(text.contains("GROUP BY CAST(account_id AS STRING)"), "{text}");
}

/// A currency code that would not be a plain SQL literal is refused.
#[test]
fn currency_codes_are_plain_literals() {
    let spine = spine(Period::Month, "2026-01-01", "2026-03-31");
    let mut r = RevenueRequest::new(Dialect::Spark, "s", spine);
    r.currency = Some([("X\\' OR 1=1 --".to_owned(), 1.0)].into());
    assert!(revenue_sql(&r).is_err());
    r.currency = Some([("USD".to_owned(), 1.0)].into());
    assert!(revenue_sql(&r).unwrap().contains("raise_error("));
}

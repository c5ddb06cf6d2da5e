//! `--format html`: one self-contained page a manager reads (docs/cli.md,
//! "HTML report"): headline tiles, a trend chart per metric family (SVG
//! drawn with plotters, a data table beside each as its text
//! alternative), the cohort heat map, health bands and at-risk accounts,
//! data quality and meta. No script, no external URL; light and dark
//! schemes; readable at 375 px and in print. Every value is escaped.

use std::fmt::Write as _;

use anyhow::Result;
use chrono::NaiveDate;
use metrics_core::catalog::{Direction, direction, is_fraction};
use metrics_core::polars::prelude::DataFrame;
use metrics_core::report::Report;
use plotters::prelude::*;

use crate::render::{Cell, cells, escape_all_controls, quality_rows};

/// Text for HTML (element content and attribute values alike).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape_all_controls(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A metric's value as people read it: fractions as percentages, the
/// rest to two decimals; `–` for null.
fn show(column: &str, v: &Cell) -> String {
    match v {
        Cell::Float(f) if is_fraction(column) => format!("{:.1}%", f * 100.0),
        Cell::Null => "–".to_owned(),
        other => other.rounded(),
    }
}

/// Families of support, SLA, revenue and survey metrics charted together,
/// and the tiles of each section.
const FAMILIES: [(&str, &str, &[&str]); 11] = [
    ("support", "Volume and backlog", &["tickets_created", "tickets_solved", "backlog_count"]),
    (
        "support",
        "First response time (minutes)",
        &["frt_median_minutes", "frt_p90_minutes", "frt_business_median_minutes"],
    ),
    (
        "support",
        "Resolution time (hours)",
        &["resolution_median_hours", "resolution_p90_hours", "resolution_business_median_hours"],
    ),
    ("support", "Rates", &["fcr_rate", "escalation_rate", "reopen_rate"]),
    ("support", "CSAT (%)", &["csat_pct"]),
    ("sla", "SLA attainment", &["sla_frt_rate", "sla_resolution_rate"]),
    ("revenue", "MRR", &["mrr_end", "new_mrr", "expansion_mrr", "churned_mrr"]),
    ("revenue", "Retention", &["nrr", "grr", "logo_churn_rate"]),
    ("surveys", "NPS", &["nps"]),
    ("surveys", "CSAT (%) and CES", &["csat_pct", "ces_mean"]),
    ("purchases", "Purchases", &["revenue", "orders"]),
];

const TILES: [(&str, &[&str]); 5] = [
    (
        "support",
        &["tickets_created", "frt_median_minutes", "resolution_median_hours", "fcr_rate", "csat_pct", "backlog_count"],
    ),
    ("sla", &["sla_frt_rate", "sla_resolution_rate"]),
    ("revenue", &["mrr_end", "nrr", "grr", "logo_churn_rate"]),
    ("surveys", &["nps", "csat_pct", "ces_mean"]),
    ("purchases", &["revenue", "customers_purchasing", "average_order_value"]),
];

/// Colours that read on light and dark backgrounds.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(230, 120, 20),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The page.
pub(crate) fn page(report: &Report, by: &[String]) -> Result<String> {
    let m = &report.meta;
    let mut body = String::new();
    let range = format!(
        "{} periods, {} to {}, {}; as of {}",
        m.period.name(),
        m.first_period.as_deref().unwrap_or("–"),
        m.last_period.as_deref().unwrap_or("–"),
        m.tz,
        m.as_of.as_deref().unwrap_or("–")
    );
    let _ = write!(body, "<header><h1>cxm {} report</h1><p>{}</p></header>", esc(command_name(report)), esc(&range));
    let as_of = m.as_of.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let tz: chrono_tz::Tz = m.tz.parse().unwrap_or(chrono_tz::UTC);
    let as_of_date = as_of.map(|t| t.with_timezone(&tz).date_naive());
    body.push_str(&tiles(report, by, m.period, as_of_date));
    for (name, df) in &report.sections {
        let keys = 1 + by.iter().filter(|b| df.column(b.as_str()).is_ok()).count();
        match name.as_str() {
            "cohorts" => body.push_str(&heat_map(df, keys)),
            "health" => body.push_str(&at_risk(df)),
            "health_summary" => body.push_str(&charts(
                report,
                name,
                keys,
                &[("Health bands (accounts)", &["health_green", "health_yellow", "health_red"])],
            )?),
            _ => {
                let families: Vec<(&str, &[&str])> =
                    FAMILIES.iter().filter(|f| f.0 == name).map(|f| (f.1, f.2)).collect();
                body.push_str(&charts(report, name, keys, &families)?);
            }
        }
    }
    body.push_str(&quality(report));
    body.push_str(&meta(report));
    Ok(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>cxm {} report</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        esc(command_name(report))
    ))
}

fn command_name(report: &Report) -> &'static str {
    use metrics_core::report::Command;
    match report.meta.command {
        Command::Support => "support",
        Command::Revenue => "revenue",
        Command::Cohorts => "cohorts",
        Command::Surveys => "surveys",
        Command::Purchases => "purchases",
        Command::Health => "health",
        Command::Validate => "validate",
        _ => "weekly",
    }
}

/// Headline tiles: each section's key metrics in the last complete period
/// (its end at or before as-of's date) against the period before, with
/// the change, an arrow and a colour by whether up is good. Ungrouped
/// sections only (a grouped one has no single value per period).
fn tiles(report: &Report, by: &[String], period: metrics_core::Period, as_of: Option<NaiveDate>) -> String {
    let mut out = String::new();
    for (section, metrics) in TILES {
        let Some(df) = report.section(section) else { continue };
        if by.iter().any(|b| df.column(b.as_str()).is_ok()) {
            if !out.contains("class=\"note\"") {
                out.push_str(
                    "<p class=\"note\">Headline tiles need one value per period: they are shown for a report \
                     without --by. The charts below have a line per group.</p>",
                );
            }
            continue;
        }
        let (header, mut rows) = cells(df);
        rows.truncate(rows.len() - idle_rows(report, section, &header, &rows));
        let complete: Vec<&Vec<Cell>> = rows
            .iter()
            .filter(|r| {
                let start = NaiveDate::parse_from_str(&r[0].rounded(), "%Y-%m-%d").ok();
                match (start, as_of) {
                    (Some(s), Some(a)) => period.next(s) <= a,
                    _ => true,
                }
            })
            .collect();
        let (Some(last), prev) = (complete.last(), complete.iter().rev().nth(1)) else { continue };
        let _ = write!(
            out,
            "<section class=\"tiles\" aria-label=\"{} headline\"><h2>{} — {}</h2><div class=\"grid\">",
            esc(section),
            esc(section),
            esc(&last[0].rounded())
        );
        for metric in metrics {
            let Some(j) = header.iter().position(|h| h == metric) else { continue };
            out.push_str(&tile(metric, &last[j], prev.map(|p| &p[j])));
        }
        out.push_str("</div></section>");
    }
    out
}

fn tile(metric: &str, now: &Cell, prev: Option<&Cell>) -> String {
    let (n, p) = (now.as_f64(), prev.and_then(Cell::as_f64));
    let (arrow, class, change) = match (n, p) {
        (Some(n), Some(p)) if n != p => {
            let up = n > p;
            let good = match direction(metric) {
                Direction::HigherIsBetter => Some(up),
                Direction::LowerIsBetter => Some(!up),
                _ => None,
            };
            let class = match good {
                Some(true) => "good",
                Some(false) => "bad",
                None => "neutral",
            };
            let delta = if is_fraction(metric) {
                format!("{:+.1} pts", (n - p) * 100.0)
            } else if matches!(metric, "nps" | "csat_pct") {
                format!("{:+.1} pts", n - p)
            } else if p != 0.0 {
                format!("{:+.1}%", (n - p) / p.abs() * 100.0)
            } else {
                format!("{:+.2}", n - p)
            };
            (if up { "▲" } else { "▼" }, class, delta)
        }
        (Some(_), Some(_)) => ("=", "neutral", "no change".to_owned()),
        _ => ("", "neutral", "no earlier value".to_owned()),
    };
    format!(
        "<div class=\"tile {class}\"><div class=\"name\">{}</div><div class=\"value\">{}</div>\
         <div class=\"change\"><span aria-hidden=\"true\">{arrow}</span> {} <span class=\"was\">(was {})</span></div></div>",
        esc(metric),
        esc(&show(metric, now)),
        esc(&change),
        esc(&prev.map_or_else(|| "–".to_owned(), |c| show(metric, c)))
    )
}

/// How many rows at the end of an ungrouped support or SLA table belong to
/// periods without a ticket created (as-of reaching past the last ticket,
/// as the terminal view hides them); never all of them.
fn trailing_idle(header: &[String], rows: &[Vec<Cell>]) -> usize {
    let Some(j) = header.iter().position(|h| h == "tickets_created") else { return 0 };
    let idle = rows.iter().rev().take_while(|r| r[j].as_f64() == Some(0.0)).count();
    if idle == rows.len() { 0 } else { idle }
}

/// The trailing idle rows of an ungrouped section: support's own, and the
/// SLA table's are support's (they share the periods).
fn idle_rows(report: &Report, section: &str, header: &[String], rows: &[Vec<Cell>]) -> usize {
    match (section, report.section("support")) {
        ("sla", Some(support)) => {
            let (h, r) = cells(support);
            trailing_idle(&h, &r).min(rows.len().saturating_sub(1))
        }
        _ => trailing_idle(header, rows),
    }
}

/// A chart per family present in `df`, each with its data table.
fn charts(report: &Report, name: &str, keys: usize, families: &[(&str, &[&str])]) -> Result<String> {
    let Some(df) = report.section(name) else { return Ok(String::new()) };
    let (header, mut rows) = cells(df);
    let mut out = format!("<section aria-label=\"{0}\"><h2>{0}</h2>", esc(name));
    if keys == 1 {
        let idle = idle_rows(report, name, &header, &rows);
        if idle > 0 {
            let _ = write!(
                out,
                "<p>The last {idle} periods have no ticket created (as-of reaches them) and are not charted.</p>"
            );
            rows.truncate(rows.len() - idle);
        }
    }
    let periods: Vec<String> = {
        let mut p: Vec<String> = rows.iter().map(|r| r[0].rounded()).collect();
        p.dedup();
        p
    };
    for (title, metrics) in families {
        let present: Vec<(usize, &str)> =
            metrics.iter().filter_map(|m| header.iter().position(|h| h == m).map(|j| (j, *m))).collect();
        if present.is_empty() || periods.is_empty() {
            continue;
        }
        // Lines: one per metric, or with groups one per group of the first metric.
        let mut lines: Vec<(String, String, Vec<Option<f64>>)> = Vec::new();
        if keys > 1 {
            // One pass over the rows: each group's line, periods in order.
            let (j, metric) = present[0];
            let at: std::collections::HashMap<&str, usize> =
                periods.iter().enumerate().map(|(i, p)| (p.as_str(), i)).collect();
            let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
            for r in &rows {
                let g = r[1..keys].iter().map(Cell::rounded).collect::<Vec<_>>().join(" / ");
                let k = *index.entry(g.clone()).or_insert_with(|| {
                    lines.push((g, metric.to_owned(), vec![None; periods.len()]));
                    lines.len() - 1
                });
                if let Some(&i) = at.get(r[0].rounded().as_str()) {
                    lines[k].2[i] = r[j].as_f64();
                }
            }
        } else {
            for (j, metric) in &present {
                lines.push(((*metric).to_owned(), (*metric).to_owned(), rows.iter().map(|r| r[*j].as_f64()).collect()));
            }
        }
        let title = if keys > 1 { format!("{title}: {} by group", present[0].1) } else { (*title).to_owned() };
        out.push_str(&chart(&title, &periods, &lines)?);
    }
    out.push_str("</section>");
    Ok(out)
}

/// One line chart (SVG) with a table of its data as the text alternative.
fn chart(title: &str, periods: &[String], lines: &[(String, String, Vec<Option<f64>>)]) -> Result<String> {
    let scale = |metric: &str| if is_fraction(metric) { 100.0 } else { 1.0 };
    let values: Vec<f64> = lines.iter().flat_map(|(_, m, v)| v.iter().flatten().map(move |x| x * scale(m))).collect();
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
    let (lo, hi) = if lo.is_finite() { (lo.min(0.0), if hi > lo { hi * 1.05 } else { lo + 1.0 }) } else { (0.0, 1.0) };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 300)).into_drawing_area();
        let n = periods.len().max(2);
        let mut c = ChartBuilder::on(&root)
            .margin(10)
            .margin_right(40)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..(n - 1) as f64, lo..hi)
            .map_err(|e| anyhow::anyhow!("drawing {title}: {e}"))?;
        let label = |x: &f64| periods.get(x.round() as usize).cloned().unwrap_or_default();
        c.configure_mesh()
            .x_labels(6)
            .x_label_formatter(&label)
            .y_labels(6)
            .light_line_style(RGBColor(200, 200, 200).mix(0.3))
            .draw()
            .map_err(|e| anyhow::anyhow!("drawing {title}: {e}"))?;
        for (k, (name, metric, v)) in lines.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let points = v.iter().enumerate().filter_map(|(i, y)| y.map(|y| (i as f64, y * scale(metric))));
            c.draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| anyhow::anyhow!("drawing {title}: {e}"))?
                .label(escape_all_controls(name))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
        }
        c.configure_series_labels()
            .border_style(RGBColor(160, 160, 160))
            .background_style(RGBColor(255, 255, 255).mix(0.0))
            .draw()
            .map_err(|e| anyhow::anyhow!("drawing {title}: {e}"))?;
        root.present().map_err(|e| anyhow::anyhow!("drawing {title}: {e}"))?;
    }
    // Scales with the page; text and axes follow the scheme's colour.
    let svg = svg
        .replacen(
            "<svg width=\"720\" height=\"300\"",
            "<svg class=\"chart\" width=\"100%\" preserveAspectRatio=\"xMidYMid meet\"",
            1,
        )
        .replace("fill=\"#000000\"", "fill=\"currentColor\"")
        .replace("stroke=\"#000000\"", "stroke=\"currentColor\"")
        .replace(" xmlns=\"http://www.w3.org/2000/svg\"", "");
    let svg = svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(title)), 1);
    let mut table = String::from("<table><thead><tr><th>period</th>");
    for (name, _, _) in lines {
        let _ = write!(table, "<th>{}</th>", esc(name));
    }
    table.push_str("</tr></thead><tbody>");
    for (i, p) in periods.iter().enumerate() {
        let _ = write!(table, "<tr><td>{}</td>", esc(p));
        for (_, metric, v) in lines {
            let cell = v.get(i).copied().flatten().map_or(Cell::Null, Cell::Float);
            let _ = write!(table, "<td>{}</td>", esc(&show(metric, &cell)));
        }
        table.push_str("</tr>");
    }
    table.push_str("</tbody></table>");
    Ok(format!(
        "<figure class=\"trend\"><figcaption>{}</figcaption>{svg}<details><summary>Data of this chart</summary>\
         <div class=\"scroll\">{table}</div></details></figure>",
        esc(title)
    ))
}

/// The cohort table as a heat map of logo retention: rows are cohorts,
/// columns ages, each cell shaded by its value (the number is in the cell).
fn heat_map(df: &DataFrame, keys: usize) -> String {
    let (header, rows) = cells(df);
    let find = |n: &str| header.iter().position(|h| h == n);
    let (Some(age), Some(size), Some(v)) = (find("age"), find("accounts"), find("logo_retention")) else {
        return String::new();
    };
    let max_age = rows.iter().filter_map(|r| r[age].as_f64()).fold(0.0, f64::max) as usize;
    let mut out = String::from(
        "<section aria-label=\"cohorts\"><h2>Cohort logo retention</h2><p>Share of each cohort's accounts \
         still active, by age in periods. Darker is higher.</p><div class=\"scroll\"><table class=\"heat\"><thead><tr>",
    );
    for h in &header[..keys] {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("<th>accounts</th>");
    for a in 0..=max_age {
        let _ = write!(out, "<th>{a}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    let mut current: Option<Vec<String>> = None;
    let mut line = String::new();
    let mut filled = 0;
    for r in &rows {
        let key: Vec<String> = r[..keys].iter().map(Cell::rounded).collect();
        if current.as_ref() != Some(&key) {
            if current.is_some() {
                let _ = write!(out, "{line}{}</tr>", "<td></td>".repeat(max_age + 1 - filled));
            }
            line = String::from("<tr>");
            for k in &key {
                let _ = write!(line, "<th scope=\"row\">{}</th>", esc(k));
            }
            let _ = write!(line, "<td>{}</td>", esc(&r[size].rounded()));
            filled = 0;
            current = Some(key);
        }
        let value = r[v].as_f64();
        let shade = value.map_or(0.0, |x| x.clamp(0.0, 1.0));
        let _ = write!(
            line,
            "<td style=\"background:rgba(31,119,180,{:.2})\">{}</td>",
            shade * 0.85,
            esc(&show("logo_retention", &r[v]))
        );
        filled += 1;
    }
    if current.is_some() {
        let _ = write!(out, "{line}{}</tr>", "<td></td>".repeat((max_age + 1).saturating_sub(filled)));
    }
    out.push_str("</tbody></table></div></section>");
    out
}

/// The `health` table's accounts, lowest score first (the first 25).
fn at_risk(df: &DataFrame) -> String {
    let (header, rows) = cells(df);
    let keep: Vec<usize> = header.iter().enumerate().filter(|(_, h)| !h.ends_with("_value")).map(|(i, _)| i).collect();
    let score = header.iter().position(|h| h == "health_score");
    let mut sorted: Vec<&Vec<Cell>> = rows.iter().collect();
    if let Some(s) = score {
        sorted.sort_by(|a, b| a[s].as_f64().unwrap_or(f64::MAX).total_cmp(&b[s].as_f64().unwrap_or(f64::MAX)));
    }
    let mut out = String::from(
        "<section aria-label=\"health\"><h2>Accounts at risk</h2><p>Lowest health scores first (25 shown; \
         the full table is in CSV or JSON).</p><div class=\"scroll\"><table><thead><tr>",
    );
    for &i in &keep {
        let _ = write!(out, "<th>{}</th>", esc(&header[i]));
    }
    out.push_str("</tr></thead><tbody>");
    for r in sorted.iter().take(25) {
        out.push_str("<tr>");
        for &i in &keep {
            let class = if header[i] == "health_band" {
                format!(" class=\"band-{}\"", esc(&r[i].rounded()))
            } else {
                String::new()
            };
            let _ = write!(out, "<td{class}>{}</td>", esc(&show(&header[i], &r[i])));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></section>");
    out
}

fn quality(report: &Report) -> String {
    let (header, rows) = quality_rows(&report.data_quality);
    let mut out = format!("<section aria-label=\"data quality\"><h2>Data quality</h2><p>{} findings.</p>", rows.len());
    if !rows.is_empty() {
        out.push_str("<div class=\"scroll\"><table><thead><tr>");
        for h in &header {
            let _ = write!(out, "<th>{}</th>", esc(h));
        }
        out.push_str("</tr></thead><tbody>");
        for r in &rows {
            out.push_str("<tr>");
            for c in r {
                let _ = write!(out, "<td>{}</td>", esc(&c.rounded()));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></div>");
    }
    out.push_str("</section>");
    out
}

fn meta(report: &Report) -> String {
    let m = &report.meta;
    let mut out = String::from("<section aria-label=\"meta\"><h2>About this report</h2><dl>");
    let mut item = |k: &str, v: &str| {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    };
    item("version", &m.version);
    item("as of", m.as_of.as_deref().unwrap_or("–"));
    item("periods", &format!("{} in {}", m.period.name(), m.tz));
    for (table, i) in &m.inputs {
        item(&format!("input: {table}"), &format!("{} ({} rows read, {} used)", i.path, i.rows_read, i.rows_used));
    }
    for (k, v) in &m.rules {
        item(&format!("rule: {k}"), v);
    }
    for s in &m.skipped {
        item("skipped", &format!("{} (no `{}` column)", s.metric, s.missing_column));
    }
    for n in &m.notes {
        item("note", n);
    }
    out.push_str("</dl></section>");
    out
}

/// The page's style: light and dark schemes, a grid that folds to one
/// column at phone width, tables that scroll sideways, print without
/// colour backgrounds.
const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--muted:#666;--card:#f4f6f8;--good:#1a7f37;--bad:#c62828}\
@media (prefers-color-scheme:dark){:root{--fg:#e8e8e8;--bg:#15171a;--muted:#aaa;--card:#22262b;--good:#4cc46b;--bad:#ff6b6b}}\
*{box-sizing:border-box}body{margin:0 auto;max-width:1100px;padding:1rem;font:15px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg)}\
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .6rem}header p{color:var(--muted);margin:0}\
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:.6rem}\
.tile{background:var(--card);border-radius:8px;padding:.6rem .8rem;border-left:4px solid var(--muted)}\
.tile.good{border-color:var(--good)}.tile.bad{border-color:var(--bad)}.tile .name{font-size:.8rem;color:var(--muted);overflow-wrap:anywhere}\
.tile .value{font-size:1.4rem;font-weight:600}.tile.good .change{color:var(--good)}.tile.bad .change{color:var(--bad)}.was{color:var(--muted)}\
figure{margin:0 0 1.2rem}figcaption{font-weight:600;margin-bottom:.3rem}svg.chart{display:block;max-width:100%;height:auto;color:var(--fg)}\
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0}th,td{padding:.2rem .5rem;border-bottom:1px solid var(--card);text-align:right;white-space:nowrap}\
th:first-child,td:first-child{text-align:left}table.heat td{color:var(--fg)}.band-red{color:var(--bad);font-weight:600}.band-green{color:var(--good)}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;font-size:.85rem}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}\
@media (max-width:480px){body{padding:.6rem}dl{grid-template-columns:1fr}.grid{grid-template-columns:repeat(2,1fr)}}\
@media print{body{max-width:none;color:#000;background:#fff}.tile{border:1px solid #999}details{display:block}details>*{display:block}}\
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_become_markup() {
        assert_eq!(esc("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(esc("a\"b&c\u{1b}[2J"), "a&quot;b&amp;c\\u{1b}[2J");
    }

    #[test]
    fn tiles_show_rates_as_points_and_colour_by_direction() {
        let t = tile("fcr_rate", &Cell::Float(0.40), Some(&Cell::Float(0.45)));
        assert!(
            t.contains("tile bad") && t.contains("40.0%") && t.contains("-5.0 pts") && t.contains("(was 45.0%)"),
            "{t}"
        );
        let t = tile("frt_median_minutes", &Cell::Float(30.0), Some(&Cell::Float(60.0)));
        assert!(t.contains("tile good") && t.contains("-50.0%"), "{t}");
        let t = tile("tickets_created", &Cell::Int(10), None);
        assert!(t.contains("tile neutral") && t.contains("no earlier value"), "{t}");
    }
}

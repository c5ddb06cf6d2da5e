//! Rendering a report: table, CSV, JSON and Markdown (cli.md output contract).

use std::fmt::Write as _;

use anyhow::Result;
use comfy_table::{Cell as TCell, CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use metrics_core::polars::prelude::{AnyValue, DataFrame};
use metrics_core::quality::DataQuality;
use metrics_core::report::Report;

/// One output cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

impl Cell {
    fn from_any(v: AnyValue<'_>) -> Self {
        match v {
            AnyValue::Null => Cell::Null,
            AnyValue::Boolean(b) => Cell::Text(b.to_string()),
            AnyValue::UInt8(x) => Cell::Int(x.into()),
            AnyValue::UInt16(x) => Cell::Int(x.into()),
            AnyValue::UInt32(x) => Cell::Int(x.into()),
            AnyValue::UInt64(x) => Cell::Int(i64::try_from(x).unwrap_or(i64::MAX)),
            AnyValue::Int8(x) => Cell::Int(x.into()),
            AnyValue::Int16(x) => Cell::Int(x.into()),
            AnyValue::Int32(x) => Cell::Int(x.into()),
            AnyValue::Int64(x) => Cell::Int(x),
            AnyValue::Float32(x) if x.is_finite() => Cell::Float(x.into()),
            AnyValue::Float64(x) if x.is_finite() => Cell::Float(x),
            AnyValue::Float32(_) | AnyValue::Float64(_) => Cell::Null,
            AnyValue::Date(d) => Cell::Text(metrics_core::period::days_to_date(d).to_string()),
            AnyValue::String(s) => Cell::Text(s.to_owned()),
            AnyValue::StringOwned(s) => Cell::Text(s.to_string()),
            other => Cell::Text(other.to_string()),
        }
    }

    /// Full precision (CSV): the shortest text that parses back to the same f64.
    fn exact(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => f.to_string(),
            Cell::Text(s) => neutralise(s),
        }
    }

    /// The value as a number, if it is one.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Float(f) => Some(*f),
            Cell::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// Rounded to 2 decimals (table, Markdown).
    pub(crate) fn rounded(&self) -> String {
        match self {
            Cell::Float(f) => format!("{f:.2}"),
            Cell::Text(s) => neutralise(s),
            other => other.exact(),
        }
    }

    fn json(&self) -> String {
        match self {
            Cell::Null => "null".to_owned(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => serde_json::Number::from_f64(*f).map_or_else(|| "null".to_owned(), |n| n.to_string()),
            Cell::Text(s) => serde_json::Value::String(s.clone()).to_string(),
        }
    }
}

/// A terminal table cell, its control characters shown escaped.
fn tc(v: impl std::fmt::Display) -> TCell {
    TCell::new(escape_all_controls(&v.to_string()))
}

/// Control characters shown as escapes (`\u{1b}`), keeping line breaks and
/// tabs: text from inputs printed to a terminal can never move the cursor,
/// retitle the window or clear the screen.
pub(crate) fn escape_controls(s: &str) -> String {
    escape_where(s, |c| c.is_control() && c != '\n' && c != '\t')
}

/// Every control character shown as an escape, line breaks included (one
/// table cell stays on its line).
pub(crate) fn escape_all_controls(s: &str) -> String {
    escape_where(s, char::is_control)
}

/// `s` with the characters `escaped` picks written as escapes.
fn escape_where(s: &str, escaped: impl Fn(char) -> bool) -> String {
    if !s.chars().any(&escaped) {
        return s.to_owned();
    }
    s.chars().map(|c| if escaped(c) { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// Markdown (and the HTML it may be rendered to) cannot be split or
/// injected by a value: `&`, `<`, `>` become entities, `|` is escaped, a
/// line break becomes `<br>` and other control characters are escaped.
pub(crate) fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => out.push_str("<br>"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// A text cell that a spreadsheet would read as a formula gets a leading `'`.
pub(crate) fn neutralise(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() }
}

/// A frame as a header and rows of cells.
pub(crate) fn cells(df: &DataFrame) -> (Vec<String>, Vec<Vec<Cell>>) {
    let header: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    let cols = df.columns();
    let rows =
        (0..df.height()).map(|i| cols.iter().map(|c| c.get(i).map_or(Cell::Null, Cell::from_any)).collect()).collect();
    (header, rows)
}

/// Data quality as a table with a `table` column.
pub(crate) fn quality_rows(dq: &DataQuality) -> (Vec<String>, Vec<Vec<Cell>>) {
    let header =
        ["table", "reason", "column", "count", "first_rows", "first_values", "hint"].map(str::to_owned).to_vec();
    let rows = dq
        .iter()
        .flat_map(|(table, rows)| {
            rows.iter().map(move |r| {
                vec![
                    Cell::Text(table.clone()),
                    Cell::Text(r.reason.name().to_owned()),
                    Cell::Text(r.column.clone()),
                    Cell::Int(i64::try_from(r.count).unwrap_or(i64::MAX)),
                    Cell::Text(r.first_rows.join(" ")),
                    Cell::Text(r.first_values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(" ")),
                    r.hint.clone().map_or(Cell::Null, Cell::Text),
                ]
            })
        })
        .collect();
    (header, rows)
}

/// The short data-quality summary for stderr: the notes of meta (unless the
/// output shows them), then per table that lost rows or has findings, rows
/// read and used, then each finding with its share of the table, first
/// rows, first values and hint. Empty when all is clean.
pub(crate) fn quality_summary(report: &Report, with_notes: bool) -> String {
    let mut out = String::new();
    if with_notes {
        for n in &report.meta.notes {
            let _ = writeln!(out, "note: {n}");
        }
    }
    for (table, rows) in &report.data_quality {
        let Some(meta) = report.meta.inputs.get(table) else { continue };
        let lost = meta.rows_read.saturating_sub(meta.rows_used);
        if rows.is_empty() && lost == 0 {
            continue;
        }
        let share = |n: u64| 100.0 * n as f64 / meta.rows_read.max(1) as f64;
        let _ = writeln!(
            out,
            "data quality: {table}: {} of {} rows used ({} excluded, {:.1}%)",
            meta.rows_used,
            meta.rows_read,
            lost,
            share(lost as u64)
        );
        for r in rows {
            let column = if r.column.is_empty() { String::new() } else { format!(" {}", r.column) };
            let warning = if r.reason.is_warning() { " (warning, kept)" } else { "" };
            let _ = write!(
                out,
                "  {}{column}{warning}: {} ({:.1}%), rows {}",
                r.reason.name(),
                r.count,
                share(r.count),
                r.first_rows.join(", ")
            );
            if !r.first_values.is_empty() {
                let v: Vec<String> = r.first_values.iter().map(|v| format!("{v:?}")).collect();
                let _ = write!(out, ", values {}", v.join(", "));
            }
            if let Some(h) = &r.hint {
                let _ = write!(out, "; {h}");
            }
            out.push('\n');
        }
    }
    if out.contains("data quality:") && report.meta.command != metrics_core::report::Command::Validate {
        out.push_str("(--quiet hides this; `cxm validate` lists every finding)\n");
    }
    out
}

pub(crate) fn csv(header: &[String], rows: &[Vec<Cell>]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r.iter().map(Cell::exact))?;
    }
    Ok(w.into_inner()?)
}

pub(crate) fn markdown(header: &[String], rows: &[Vec<Cell>]) -> String {
    let esc = |s: String| escape_markdown(&s);
    let mut out = format!("| {} |\n", header.iter().map(|h| escape_markdown(h)).collect::<Vec<_>>().join(" | "));
    let _ = writeln!(out, "|{}", header.iter().map(|_| "---|").collect::<String>());
    for r in rows {
        let _ = writeln!(out, "| {} |", r.iter().map(|c| esc(c.rounded())).collect::<Vec<_>>().join(" | "));
    }
    out
}

/// The JSON rows of a table, each an object keyed by the columns in order.
pub(crate) fn json_rows(header: &[String], rows: &[Vec<Cell>]) -> String {
    let objs: Vec<String> = rows
        .iter()
        .map(|r| {
            let fields: Vec<String> = header
                .iter()
                .zip(r)
                .map(|(h, c)| format!("{}:{}", serde_json::Value::String(h.clone()), c.json()))
                .collect();
            format!("{{{}}}", fields.join(","))
        })
        .collect();
    format!("[{}]", objs.join(",\n"))
}

/// The whole report as one JSON object: meta, data_quality, then sections.
pub(crate) fn json(report: &Report) -> Result<String> {
    let mut parts = vec![
        format!("\"meta\":{}", serde_json::to_string(&report.meta)?),
        format!("\"data_quality\":{}", serde_json::to_string(&report.data_quality)?),
    ];
    for (name, df) in &report.sections {
        let (h, r) = cells(df);
        parts.push(format!("{}:{}", serde_json::Value::String(name.clone()), json_rows(&h, &r)));
    }
    Ok(format!("{{{}}}\n", parts.join(",\n")))
}

/// How many columns a terminal table aims at: the most recent periods, fewer
/// of them when each has several groups.
const TERMINAL_PERIODS: usize = 8;

/// How the terminal view looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Style {
    /// ANSI colour: worsening values red, improving ones green, negative
    /// numbers red.
    pub(crate) color: bool,
}

/// One value of metric `column` for the terminal: fractions as
/// percentages (`0.4101` → `41.0%`), the rest to 2 decimals; a change for
/// the worse against `prev` (the same group's previous period) marked `↓`
/// (a good metric falling) or `↑` (a bad one rising), and coloured when
/// `style.color`.
fn metric_cell(column: &str, v: &Cell, prev: Option<f64>, style: Style) -> TCell {
    use metrics_core::catalog::{Direction, direction, is_fraction};
    let text = match v {
        Cell::Float(f) if is_fraction(column) => format!("{:.1}%", f * 100.0),
        other => other.rounded(),
    };
    let now = v.as_f64();
    let change = now.zip(prev).map(|(n, p)| n.total_cmp(&p));
    let (worse, better) = match (direction(column), change) {
        (Direction::HigherIsBetter, Some(std::cmp::Ordering::Less)) => (Some("↓"), false),
        (Direction::LowerIsBetter, Some(std::cmp::Ordering::Greater)) => (Some("↑"), false),
        (Direction::HigherIsBetter, Some(std::cmp::Ordering::Greater))
        | (Direction::LowerIsBetter, Some(std::cmp::Ordering::Less)) => (None, true),
        _ => (None, false),
    };
    let cell = tc(worse.map_or_else(|| text.clone(), |m| format!("{text} {m}"))).set_alignment(CellAlignment::Right);
    match (style.color, worse.is_some() || now.is_some_and(|n| n < 0.0), better) {
        (true, true, _) => cell.fg(comfy_table::Color::Red),
        (true, false, true) => cell.fg(comfy_table::Color::Green),
        _ => cell,
    }
}

/// A section for a terminal: one row per metric, one column per period
/// (and group), the most recent periods last; rates as percentages,
/// changes for the worse marked ([`metric_cell`]).
pub(crate) fn terminal(name: &str, df: &DataFrame, by: usize, style: Style) -> String {
    let (header, rows) = cells(df);
    let keys = 1 + by;
    let mut periods: Vec<String> = rows.iter().map(|r| r[0].rounded()).collect();
    periods.dedup();
    let groups = rows.len() / periods.len().max(1);
    // Trailing periods without a ticket created (a late solve set as-of)
    // are hidden, and said so.
    let trailing = trailing_idle(&header, &rows, &periods);
    let active = &periods[..periods.len() - trailing];
    let cutoff = active.len().saturating_sub((TERMINAL_PERIODS / groups.max(1)).max(1));
    let shown = active.get(cutoff).map_or(0, |p| rows.iter().position(|r| &r[0].rounded() == p).unwrap_or(0));
    let end =
        active.last().map_or(rows.len(), |p| rows.iter().rposition(|r| &r[0].rounded() == p).map_or(0, |i| i + 1));
    let visible = &rows[shown..end.max(shown)];
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Disabled);
    if style.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    let mut head = vec![tc(name)];
    head.extend(visible.iter().map(|r| {
        // One line per key (period, then each group), each escaped.
        let lines: Vec<String> = r[..keys].iter().map(|c| escape_all_controls(&c.rounded())).collect();
        TCell::new(lines.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("\n"))
    }));
    t.set_header(head);
    for (j, h) in header.iter().enumerate().skip(keys) {
        // Each group's previous value, hidden periods included.
        let mut prev: std::collections::HashMap<Vec<String>, Option<f64>> = std::collections::HashMap::new();
        let mut row = vec![tc(h)];
        for (i, r) in rows[..end.max(shown)].iter().enumerate() {
            let group: Vec<String> = r[1..keys].iter().map(Cell::rounded).collect();
            let before = prev.get(&group).copied().flatten();
            if i >= shown {
                row.push(metric_cell(h, &r[j], before, style));
            }
            prev.insert(group, r[j].as_f64());
        }
        t.add_row(row);
    }
    let mut out = t.to_string();
    out.push('\n');
    if shown > 0 {
        let _ = writeln!(out, "({cutoff} earlier periods not shown; use --format csv or json for all)");
    }
    if trailing > 0 {
        let _ = writeln!(
            out,
            "({trailing} later periods without tickets created not shown, {} to {}: as-of reaches them; --as-of or --until to choose)",
            periods[periods.len() - trailing],
            periods[periods.len() - 1]
        );
    }
    out
}

/// How many periods at the end of a support table have no ticket created
/// in any group (never all of them).
fn trailing_idle(header: &[String], rows: &[Vec<Cell>], periods: &[String]) -> usize {
    let cols: Vec<usize> = header.iter().enumerate().filter(|(_, h)| *h == "tickets_created").map(|(i, _)| i).collect();
    if cols.is_empty() {
        return 0;
    }
    let busy = |p: &String| {
        rows.iter().any(|r| &r[0].rounded() == p && cols.iter().any(|&j| matches!(r[j], Cell::Int(n) if n > 0)))
    };
    let idle = periods.iter().rev().take_while(|p| !busy(p)).count();
    if idle == periods.len() { 0 } else { idle }
}

/// How many cohorts (and ages) a terminal triangle shows: the most recent.
const TERMINAL_COHORTS: usize = 12;

/// A cohort table as a triangle: one row per cohort (and group) with its
/// size, one column per age, `value` (a retention column) in the cells;
/// the last [`TERMINAL_COHORTS`] cohorts and ages 0 to 12.
pub(crate) fn triangle(df: &DataFrame, by: usize, value: &str) -> String {
    let (header, rows) = cells(df);
    let find = |n: &str| header.iter().position(|h| h == n);
    let (Some(age), Some(size), Some(v)) = (find("age"), find("accounts"), find(value)) else {
        return String::new();
    };
    let keys = 1 + by;
    let age_of = |r: &Vec<Cell>| r[age].rounded().parse::<usize>().unwrap_or(0);
    let mut cohorts: Vec<String> = rows.iter().map(|r| r[0].rounded()).collect();
    cohorts.dedup();
    let hidden = cohorts.len().saturating_sub(TERMINAL_COHORTS);
    let first_shown = cohorts.get(hidden).cloned().unwrap_or_default();
    let shown_ages = rows.iter().filter(|r| r[0].rounded() >= first_shown).map(age_of).max();
    let ages = shown_ages.map_or(0, |m| m + 1).min(TERMINAL_COHORTS + 1);
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Disabled);
    let mut head: Vec<TCell> = header[..keys].iter().map(tc).collect();
    head.push(tc("accounts"));
    head.extend((0..ages).map(|a| tc(a.to_string())));
    t.set_header(head);
    let mut current: Option<Vec<String>> = None;
    let mut line: Vec<TCell> = Vec::new();
    for r in rows.iter().filter(|r| r[0].rounded() >= first_shown && age_of(r) < ages) {
        let key: Vec<String> = r[..keys].iter().map(Cell::rounded).collect();
        if current.as_ref() != Some(&key) {
            if !line.is_empty() {
                t.add_row(std::mem::take(&mut line));
            }
            line = key.iter().map(tc).collect();
            line.push(tc(r[size].rounded()).set_alignment(CellAlignment::Right));
            current = Some(key);
        }
        line.push(metric_cell(value, &r[v], None, Style::default()));
    }
    if !line.is_empty() {
        t.add_row(line);
    }
    let mut out = format!("cohorts: {value} by age (periods after the cohort's first)\n{t}\n");
    if hidden > 0 || rows.iter().any(|r| age_of(r) >= ages) {
        let _ = writeln!(
            out,
            "({hidden} earlier cohorts and ages over {} not shown; use --format csv or json for all)",
            ages.saturating_sub(1)
        );
    }
    out
}

/// How many accounts a terminal `health` table shows.
const TERMINAL_ACCOUNTS: usize = 25;

/// The `health` table for a terminal: one row per account (the first
/// [`TERMINAL_ACCOUNTS`]), its score, band (and weakest component) and each
/// component's points; raw values are left to CSV and JSON.
pub(crate) fn accounts_table(df: &DataFrame) -> String {
    let (header, rows) = cells(df);
    let keep: Vec<usize> = header.iter().enumerate().filter(|(_, h)| !h.ends_with("_value")).map(|(i, _)| i).collect();
    let head: Vec<String> = keep.iter().map(|&i| header[i].clone()).collect();
    let shown: Vec<Vec<Cell>> =
        rows.iter().take(TERMINAL_ACCOUNTS).map(|r| keep.iter().map(|&i| r[i].clone()).collect()).collect();
    let mut out =
        format!("health (points per component; values in --format csv or json)\n{}", plain_table(&head, &shown));
    if rows.len() > TERMINAL_ACCOUNTS {
        let _ = writeln!(
            out,
            "({} more accounts not shown; use --format csv or json for all)",
            rows.len() - TERMINAL_ACCOUNTS
        );
    }
    out
}

/// Any header + rows as a terminal table.
pub(crate) fn plain_table(header: &[String], rows: &[Vec<Cell>]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(header.iter().map(tc));
    for r in rows {
        t.add_row(r.iter().map(|c| tc(c.rounded())));
    }
    format!("{t}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_a_terminal() {
        assert_eq!(escape_all_controls("a\u{1b}]0;x\u{7}b"), "a\\u{1b}]0;x\\u{7}b");
        assert_eq!(escape_all_controls("two\nlines"), "two\\nlines");
        assert_eq!(escape_controls("keep\nlines\u{1b}[2J"), "keep\nlines\\u{1b}[2J");
        assert_eq!(escape_controls("plain"), "plain");
    }

    #[test]
    fn markdown_values_cannot_split_rows_or_inject_html() {
        assert_eq!(escape_markdown("a|b"), "a\\|b");
        assert_eq!(escape_markdown("<script>x</script>"), "&lt;script&gt;x&lt;/script&gt;");
        assert_eq!(escape_markdown("1\r\n2\n3"), "1<br>2<br>3");
        assert_eq!(escape_markdown("R&D \\ ops"), "R&amp;D \\\\ ops");
        let md = markdown(&["g|h".to_owned()], &[vec![Cell::Text("<img onerror=x>|\n".into())]]);
        assert_eq!(md, "| g\\|h |\n|---|\n| &lt;img onerror=x&gt;\\|<br> |\n");
    }
}

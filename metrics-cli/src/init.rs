//! `cxm init`: a commented `cxm.toml` listing every setting with its
//! default (docs/cli.md, "Config file").

use metrics_core::preset::Preset;

/// What `cxm init` fills in beyond the commented defaults.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Init<'a> {
    /// The preset of the table it describes.
    pub(crate) preset: Option<Preset>,
    /// A folder (relative to the config) holding the demo data: every
    /// input's `path` points into it.
    pub(crate) demo: Option<&'a str>,
    /// Every setting uncommented (to check that each key the file mentions
    /// is one the config accepts).
    pub(crate) every: bool,
}

/// One `key = value  # comment` line, commented out unless `set`.
fn line(out: &mut String, set: bool, key: &str, value: &str, comment: &str) {
    let setting = format!("{}{key} = {value}", if set { "" } else { "# " });
    if comment.is_empty() {
        out.push_str(&format!("{setting}\n"));
    } else {
        out.push_str(&format!("{setting:<44} # {comment}\n"));
    }
}

impl Init<'_> {
    /// The input path of `file` in the demo folder, when there is one.
    fn path(&self, out: &mut String, file: &str) {
        match self.demo {
            Some(d) => line(out, true, "path", &format!("\"{d}/{file}\""), "the demo data (cxm init --demo)"),
            None => line(out, self.every, "path", &format!("\"{file}\""), "relative to this file's folder; globs too"),
        }
    }

    fn preset(&self, out: &mut String, table: &str, choices: &str) {
        let chosen = self.preset.filter(|p| p.table() == table);
        let value =
            chosen.map_or_else(|| choices.split(" | ").next().unwrap_or("").to_owned(), |p| p.name().to_owned());
        line(out, chosen.is_some() || self.every, "preset", &format!("\"{value}\""), choices);
    }

    /// The whole file.
    pub(crate) fn render(&self) -> String {
        let e = self.every;
        let mut o = String::from(
            "# cxm.toml, written by `cxm init`. Every setting is listed with its default,\n\
             # commented out: uncomment a line to change it. Flags override this file.\n\
             # Reference: docs/cli.md (\"Config file\"), docs/calendars.md, docs/health.md.\n\n[report]\n",
        );
        line(&mut o, e, "period", "\"week\"", "day | week | month | quarter | year (purchases: month)");
        line(&mut o, e, "tz", "\"UTC\"", "zone of the periods (IANA name)");
        line(&mut o, e, "input_tz", "\"UTC\"", "zone of timestamps written without an offset");
        line(&mut o, e, "since", "\"2026-01-01\"", "first period (default: the data's first)");
        line(&mut o, e, "until", "\"2026-12-31\"", "last period (default: as-of's)");
        line(&mut o, e, "as_of", "\"2026-12-31T18:00:00Z\"", "\"now\" (default: the latest timestamp)");
        line(&mut o, e, "by", "[]", "dimensions, e.g. [\"group\", \"channel\"]");
        line(&mut o, e, "week_start", "\"monday\"", "first day of weekly periods");
        line(&mut o, e, "valid_years", "[1970, 2100]", "timestamps outside are out of range");
        line(&mut o, e, "max_excluded", "0.25", "stop when one reason rejects more; 1 disables");
        o.push_str("\n[tickets]\n");
        self.path(&mut o, "tickets.csv");
        self.preset(&mut o, "tickets", "zendesk | freshdesk | hubspot | intercom");
        self.table_keys(&mut o);
        o.push_str("# [tickets.columns]                          # canonical = \"Source column\" (data-contract.md)\n");
        o.push_str("# ticket_id = \"Id\"\n# created_at = { column = \"Created\", format = \"%d/%m/%Y %H:%M\" }\n");
        o.push_str("\n[subscriptions]\n");
        self.path(&mut o, "subscriptions.csv");
        self.preset(&mut o, "subscriptions", "stripe");
        o.push_str("\n[accounts]\n");
        self.path(&mut o, "accounts.csv");
        self.support(&mut o);
        o.push_str("\n[revenue]\n");
        line(&mut o, e, "reporting_currency", "\"USD\"", "default: the data's only currency");
        let rates = self.demo.map_or_else(|| "\"rates.csv\"".to_owned(), |d| format!("\"{d}/rates.csv\""));
        line(&mut o, e || self.demo.is_some(), "rates", &rates, "currency,rate table for several currencies");
        line(&mut o, e, "gross_margin", "1.0", "in (0, 1]; multiplies clv");
        o.push_str("\n[surveys]\n");
        self.path(&mut o, "survey_responses.csv");
        line(&mut o, e, "default_survey", "\"nps\"", "survey of an empty `survey` cell: nps | csat | ces");
        line(&mut o, e, "csat_scale", "{ min = 1, max = 5, satisfied_min = 4 }", "");
        line(&mut o, e, "ces_scale", "{ min = 1, max = 7 }", "");
        o.push_str("\n[transactions]\n");
        self.path(&mut o, "transactions.csv");
        o.push_str("\n[usage]\n");
        self.path(&mut o, "usage.csv");
        o.push_str(
            "\n# [health]                                   # health scores: docs/health.md\n\
             # bands = { yellow = 50, green = 75 }\n",
        );
        o
    }

    fn table_keys(&self, o: &mut String) {
        let e = self.every;
        line(o, e, "input_tz", "\"UTC\"", "overrides [report] input_tz for this table");
        line(o, e, "encoding", "\"utf-8\"", "utf-8 | utf-16 | windows-1252 | latin-1");
        line(o, e, "delimiter", "\",\"", "default: detected from , ; tab |");
    }

    fn support(&self, o: &mut String) {
        let e = self.every;
        o.push_str("\n[support]\n");
        line(o, e, "fcr", "\"zendesk\"", "zendesk | one-touch | flag");
        line(o, e, "csat_scale", "{ min = 1, max = 5, satisfied_min = 4 }", "");
        line(o, e, "escalation_tag", "\"escalated\"", "used when no escalated / group_stations column");
        line(o, e, "escalation", "{ column = \"reassignment_count\", min = 1 }", "or \"sla_breach\"");
        line(o, e, "durations", "\"timestamps\"", "timestamps | vendor, when an export has both");
        line(o, e, "max_duration_days", "365", "longer durations are flagged (kept)");
        line(o, e, "percentiles", "[]", "beyond median and p90, e.g. [95, 99]");
        line(o, e, "calendar", "\"support\"", "business-time twins (docs/calendars.md)");
        let section = |o: &mut String, header: &str| o.push_str(&format!("\n{}{header}\n", if e { "" } else { "# " }));
        section(o, "[calendars.support]");
        line(o, e, "tz", "\"America/New_York\"", "");
        line(o, e, "hours.mon", "[\"09:00-17:00\"]", "tue ... sun likewise; omitted days are closed");
        line(o, e, "holidays", "[\"2026-12-25\", \"2026-12-31..2027-01-01\"]", "local dates and inclusive ranges");
        section(o, "[sla]");
        line(o, e, "calendar", "\"support\"", "omit for calendar time");
        section(o, "[sla.targets]");
        line(o, e, "urgent", "{ first_response = \"1h\", resolution = \"8h\" }", "");
        line(o, e, "default", "{ first_response = \"24h\" }", "priorities not listed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of the template, uncommented, is a setting the config
    /// accepts; the template as written is valid too.
    #[test]
    fn every_setting_the_template_mentions_is_accepted() {
        for init in [Init::default(), Init { every: true, ..Init::default() }] {
            let text = init.render();
            let parsed = crate::settings::check_config_text(&text);
            assert!(parsed.is_ok(), "{:?}\n{text}", parsed.err());
        }
    }
}

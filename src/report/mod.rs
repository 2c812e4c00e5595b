//! The human report, in text, CSV or Markdown.
//!
//! [`Report`] reads detection records, aggregate records, or both, and detects
//! the kind line by line: an aggregate has a `promoted` key, a detection a
//! `rule` key. From detections it counts rules and sources itself and decides
//! promotion with `hp-correlate`'s defaults; aggregates, when present, give
//! the promoted addresses and their counts. From aggregates alone the
//! per-rule totals are the sums of their `rules` maps, with names and impacts
//! taken from the rule set.
//!
//! Everything printed comes from the log, which attackers write, so every
//! value is escaped for its format: control characters in text, `|` and
//! markup in Markdown, and in CSV a cell that starts with `=`, `+`, `-`, `@`,
//! a tab or a carriage return gets a leading `'` so that a spreadsheet does
//! not run it as a formula.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::net::IpAddr;

use thiserror::Error;

use crate::correlate::{Aggregate, CorrelateOptions, Correlator};
use crate::detection::{DetectionKey, DetectionRecord};
use crate::rules::{Impact, RuleSet};
use crate::timestamp::LogTime;

mod html;

/// Widest rule-id column of the text report; longer ids overflow it.
const MAX_ID_WIDTH: usize = 40;

/// How many sources the summary lists.
pub const TOP_SOURCES: usize = 10;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Csv,
    Markdown,
    /// One self-contained page with charts; it always has the detection table.
    Html,
}

/// A line that could not be used.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("neither a detection record (no 'rule' key) nor an aggregate record (no 'promoted' key)")]
    Unknown,
    #[error("invalid aggregate record: {0}")]
    Aggregate(String),
    #[error("invalid detection record: {0}")]
    Detection(String),
}

/// A detection kept for `--detail`.
#[derive(Clone, Debug)]
struct DetailRow {
    impact: String,
    rule: String,
    name: String,
    ip: String,
    time: String,
    raw: String,
}

/// Per-rule totals.
#[derive(Clone, Debug, Default)]
struct RuleRow {
    name: Option<String>,
    impact: Option<String>,
    count: u64,
}

/// The report's data, filled line by line.
pub struct Report {
    rules: BTreeMap<String, RuleRow>,
    correlator: Correlator,
    aggregates: Vec<Aggregate>,
    detections: u64,
    detail: Option<Vec<DetailRow>>,
    /// Detections per hour (Unix time of the hour's start) by impact, low
    /// to high.
    hourly: BTreeMap<i64, [u64; 3]>,
}

/// One row of the sources table.
#[derive(Clone, Debug)]
struct SourceRow {
    ip: String,
    count: u64,
    total: u64,
    first_seen: String,
    last_seen: String,
    promoted: bool,
}

impl Report {
    /// Starts a report. With `detail`, every detection is kept for the
    /// detail table, which costs memory per detection.
    pub fn new(detail: bool) -> Report {
        Report {
            rules: BTreeMap::new(),
            correlator: Correlator::new(CorrelateOptions::default()),
            aggregates: Vec::new(),
            detections: 0,
            detail: detail.then(Vec::new),
            hourly: BTreeMap::new(),
        }
    }

    /// Reads one NDJSON line of either kind.
    pub fn add_line(&mut self, line: &[u8]) -> Result<(), ReportError> {
        let value: serde_json::Value = serde_json::from_slice(line).map_err(|e| ReportError::Json(e.to_string()))?;
        let Some(object) = value.as_object() else {
            return Err(ReportError::Unknown);
        };

        if object.contains_key("promoted") {
            let aggregate: Aggregate =
                serde_json::from_value(value).map_err(|e| ReportError::Aggregate(e.to_string()))?;
            self.aggregates.push(aggregate);
            return Ok(());
        }
        if !object.contains_key("rule") {
            return Err(ReportError::Unknown);
        }

        let record: DetectionRecord<'_> =
            serde_json::from_slice(line).map_err(|e| ReportError::Detection(e.to_string()))?;
        let Some(rule) = record.rule.as_deref() else {
            // An `hp-match --all` record of a line that fired nothing.
            return Ok(());
        };

        let key = DetectionKey {
            rule: record.rule.clone(),
            impact: record.impact.clone(),
            ip: record.ip.clone(),
            time: record.time.clone(),
            target: record.target.clone(),
        };
        self.correlator.add(&key).map_err(|e| ReportError::Detection(e.to_string()))?;

        self.detections += 1;
        if let Some(time) = record.time.as_deref().and_then(|t| LogTime::parse_rfc3339(t).ok()) {
            let hour = time.unix_seconds() - time.unix_seconds().rem_euclid(3600);
            let impact = record.impact.as_deref().and_then(Impact::parse).unwrap_or(Impact::Low);
            self.hourly.entry(hour).or_default()[impact as usize] += 1;
        }
        let row = self.rules.entry(rule.to_owned()).or_default();
        row.count += 1;
        row.name = row.name.take().or_else(|| record.name.as_deref().map(str::to_owned));
        row.impact = row.impact.take().or_else(|| record.impact.as_deref().map(str::to_owned));

        if let Some(detail) = &mut self.detail {
            detail.push(DetailRow {
                impact: record.impact.as_deref().unwrap_or("").to_owned(),
                rule: rule.to_owned(),
                name: record.name.as_deref().unwrap_or("").to_owned(),
                ip: record.ip.as_deref().or(record.client.as_deref()).unwrap_or("").to_owned(),
                time: record.time.as_deref().unwrap_or("").to_owned(),
                raw: record.raw.as_deref().unwrap_or("").to_owned(),
            });
        }
        Ok(())
    }

    /// Per-rule totals: counted from detections, or summed from aggregates
    /// when there were none. Names and impacts missing from the records come
    /// from `set`.
    fn rule_rows(&self, set: &RuleSet) -> Vec<(String, RuleRow)> {
        let mut rows = self.rules.clone();
        if self.detections == 0 {
            for aggregate in &self.aggregates {
                for (rule, hits) in &aggregate.rules {
                    let row = rows.entry(rule.clone()).or_default();
                    // Counts come from the input, so they may be absurd.
                    row.count = row.count.saturating_add(*hits);
                }
            }
        }
        for (id, row) in rows.iter_mut() {
            if let Some(rule) = set.get(id) {
                row.name.get_or_insert_with(|| rule.name.clone());
                row.impact.get_or_insert_with(|| rule.impact.as_str().to_owned());
            }
        }

        let mut sorted: Vec<(String, RuleRow)> = rows.into_iter().collect();
        sorted.sort_by(|a, b| {
            let impact = |row: &RuleRow| row.impact.as_deref().and_then(Impact::parse);
            b.1.count.cmp(&a.1.count).then(impact(&b.1).cmp(&impact(&a.1))).then(a.0.cmp(&b.0))
        });
        sorted
    }

    /// Builds the source rows: from aggregates when any were read, else from the
    /// detections, sorted by count then total then address.
    fn source_rows(&self) -> Vec<SourceRow> {
        let aggregates = if self.aggregates.is_empty() { self.correlator.finish(true) } else { self.aggregates.clone() };
        let mut rows: Vec<SourceRow> = aggregates
            .into_iter()
            .map(|a| SourceRow {
                ip: a.ip,
                count: a.count,
                total: a.total,
                first_seen: a.first_seen,
                last_seen: a.last_seen,
                promoted: a.promoted,
            })
            .collect();
        let numeric = |ip: &str| ip.parse::<IpAddr>().ok();
        rows.sort_by(|a, b| {
            b.total.cmp(&a.total).then(b.count.cmp(&a.count)).then(numeric(&a.ip).cmp(&numeric(&b.ip)))
        });
        rows
    }

    /// Writes the report.
    pub fn write(&self, set: &RuleSet, format: Format, out: &mut impl Write) -> io::Result<()> {
        let rules = self.rule_rows(set);
        let sources = self.source_rows();
        let mut promoted: Vec<&SourceRow> = sources.iter().filter(|s| s.promoted).collect();
        promoted.sort_by(|a, b| b.count.cmp(&a.count).then(a.ip.cmp(&b.ip)));
        let detail = self.detail.as_deref();

        match format {
            Format::Text => write_text(&rules, &sources, &promoted, detail, out),
            Format::Markdown => write_markdown(&rules, &sources, &promoted, detail, out),
            Format::Csv => write_csv(&rules, &sources, detail, out),
            Format::Html => html::write(&rules, &sources, &promoted, detail, &self.hourly, out),
        }
    }
}

fn write_text(
    rules: &[(String, RuleRow)],
    sources: &[SourceRow],
    promoted: &[&SourceRow],
    detail: Option<&[DetailRow]>,
    out: &mut impl Write,
) -> io::Result<()> {
    let total = total_count(rules);
    writeln!(out, "hp report: {total} detections from {} sources, {} promoted", sources.len(), promoted.len())?;

    writeln!(out, "\nDetections per rule")?;
    // Capped: a hostile rule id may be longer than a format width can be.
    let width = rules.iter().map(|(id, _)| id.len()).max().unwrap_or(4).clamp(4, MAX_ID_WIDTH);
    writeln!(out, "  {:>8}  {:<6}  {:<width$}  name", "count", "impact", "rule")?;
    for (id, row) in rules {
        writeln!(
            out,
            "  {:>8}  {:<6}  {:<width$}  {}",
            row.count,
            text(row.impact.as_deref().unwrap_or("?")),
            text(id),
            text(row.name.as_deref().unwrap_or("?")),
        )?;
    }

    writeln!(out, "\nTop sources")?;
    writeln!(out, "  {:<39}  {:>8}  {:>8}  {:<25}  {:<25}  promoted", "address", "total", "count", "first seen", "last seen")?;
    for source in sources.iter().take(TOP_SOURCES) {
        write_source_line(source, out)?;
    }

    writeln!(out, "\nPromoted addresses (confirmed attackers)")?;
    if promoted.is_empty() {
        writeln!(out, "  none")?;
    }
    for source in promoted {
        write_source_line(source, out)?;
    }

    if let Some(detail) = detail {
        writeln!(out, "\nDetections")?;
        for row in detail {
            writeln!(out, "[{}] {}: {}", text(&row.impact), text(&row.name), text(&row.raw))?;
        }
    }
    Ok(())
}

/// Sums the per-rule counts, saturating rather than overflowing on
/// absurd counts from the input.
fn total_count(rules: &[(String, RuleRow)]) -> u64 {
    rules.iter().fold(0u64, |sum, (_, row)| sum.saturating_add(row.count))
}

fn write_source_line(source: &SourceRow, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "  {:<39}  {:>8}  {:>8}  {:<25}  {:<25}  {}",
        text(&source.ip),
        source.total,
        source.count,
        text(&source.first_seen),
        text(&source.last_seen),
        if source.promoted { "yes" } else { "no" },
    )
}

fn write_markdown(
    rules: &[(String, RuleRow)],
    sources: &[SourceRow],
    promoted: &[&SourceRow],
    detail: Option<&[DetailRow]>,
    out: &mut impl Write,
) -> io::Result<()> {
    let total = total_count(rules);
    writeln!(out, "# hp report\n")?;
    writeln!(out, "{total} detections from {} sources, {} promoted.\n", sources.len(), promoted.len())?;

    writeln!(out, "## Detections per rule\n")?;
    writeln!(out, "| count | impact | rule | name |\n| ---: | --- | --- | --- |")?;
    for (id, row) in rules {
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            row.count,
            markdown(row.impact.as_deref().unwrap_or("?")),
            markdown(id),
            markdown(row.name.as_deref().unwrap_or("?")),
        )?;
    }

    writeln!(out, "\n## Top sources\n")?;
    write_markdown_sources(sources.iter().take(TOP_SOURCES), out)?;
    writeln!(out, "\n## Promoted addresses\n")?;
    if promoted.is_empty() {
        writeln!(out, "None.")?;
    } else {
        write_markdown_sources(promoted.iter().copied(), out)?;
    }

    if let Some(detail) = detail {
        writeln!(out, "\n## Detections\n")?;
        writeln!(out, "| impact | name | line |\n| --- | --- | --- |")?;
        for row in detail {
            writeln!(out, "| {} | {} | {} |", markdown(&row.impact), markdown(&row.name), markdown(&row.raw))?;
        }
    }
    Ok(())
}

fn write_markdown_sources<'a>(rows: impl Iterator<Item = &'a SourceRow>, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "| address | total | count | first seen | last seen | promoted |")?;
    writeln!(out, "| --- | ---: | ---: | --- | --- | --- |")?;
    for row in rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            markdown(&row.ip),
            row.total,
            row.count,
            markdown(&row.first_seen),
            markdown(&row.last_seen),
            if row.promoted { "yes" } else { "no" },
        )?;
    }
    Ok(())
}

/// Writes one CSV table with a `section` column: `rule` rows, `source` rows,
/// then `detection` rows with `--detail`.
fn write_csv(
    rules: &[(String, RuleRow)],
    sources: &[SourceRow],
    detail: Option<&[DetailRow]>,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let header = ["section", "id", "name", "impact", "count", "total", "ip", "first_seen", "last_seen", "promoted", "raw"];
    writer.write_record(header).map_err(csv_error)?;

    for (id, row) in rules {
        let count = row.count.to_string();
        let record = ["rule", id, row.name.as_deref().unwrap_or(""), row.impact.as_deref().unwrap_or(""), &count, "", "", "", "", "", ""];
        writer.write_record(record.map(csv_cell)).map_err(csv_error)?;
    }
    for row in sources {
        let (count, total) = (row.count.to_string(), row.total.to_string());
        let promoted = if row.promoted { "true" } else { "false" };
        let record = ["source", "", "", "", &count, &total, &row.ip, &row.first_seen, &row.last_seen, promoted, ""];
        writer.write_record(record.map(csv_cell)).map_err(csv_error)?;
    }
    for row in detail.unwrap_or_default() {
        let record = ["detection", &row.rule, &row.name, &row.impact, "", "", &row.ip, &row.time, "", "", &row.raw];
        writer.write_record(record.map(csv_cell)).map_err(csv_error)?;
    }
    writer.flush()
}

/// Unwraps the I/O error inside a CSV error, so that a closed pipe is still
/// seen as one by the caller.
fn csv_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(io_error) => io_error,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Escapes control characters (and the backslash that introduces escapes)
/// so that a hostile value cannot move the cursor or recolour the terminal.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&c.escape_default().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a value for a Markdown table cell.
pub fn markdown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in text(value).chars() {
        if matches!(c, '|' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Neutralises a CSV cell that a spreadsheet would run as a formula.
pub fn csv_cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

/// Rule names and impacts for aggregates: the given set first, then every
/// built-in pack for ids the set lacks.
pub fn rule_lookup(set: &RuleSet) -> RuleSet {
    let mut lookup = set.clone();
    let known: HashMap<String, ()> = set.rules().iter().map(|r| (r.id.clone(), ())).collect();
    for (name, _) in crate::rules::BUILTIN_PACKS {
        let mut pack = RuleSet::default();
        if pack.add_builtin(name).is_ok() {
            for rule in pack.rules() {
                if !known.contains_key(&rule.id) && lookup.get(&rule.id).is_none() {
                    lookup.push_rule(rule.clone());
                }
            }
        }
    }
    lookup
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_terminal_controls() {
        assert_eq!(text("a\x1b[31mb\n"), "a\\u{1b}[31mb\\n");
    }

    #[test]
    fn csv_neutralises_formulas() {
        assert_eq!(csv_cell("=cmd()"), "'=cmd()");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@x"), "'@x");
        assert_eq!(csv_cell("192.0.2.1"), "192.0.2.1");
    }

    #[test]
    fn markdown_escapes_pipes() {
        assert_eq!(markdown("a|b"), "a\\|b");
    }
}

//! The report as one self-contained HTML page.
//!
//! The page loads nothing: styles are inline, the charts are inline SVG, and
//! there is no script at all. A Content-Security-Policy that forbids every
//! source but inline styles backs this up, so a value that escaped by
//! mistake still could not load or run anything. Every value from the log
//! goes through [`escape`].

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{DetailRow, RuleRow, SourceRow};

/// Hours shown one bar each; a longer span is drawn one bar per day.
const MAX_HOURLY_BARS: i64 = 24 * 14;

/// Maximum number of bars in the time chart; a span of more days than this
/// gets bars of several days each.
const MAX_BARS: i64 = 400;

const CHART_WIDTH: f64 = 900.0;
const CHART_HEIGHT: f64 = 220.0;

/// Colours of the impacts, low to high.
const IMPACT_COLOURS: [&str; 3] = ["#3b82c4", "#e08a1e", "#c0392b"];
const IMPACT_NAMES: [&str; 3] = ["low", "medium", "high"];

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}\
td.n{text-align:right}td.raw{font-family:monospace;word-break:break-all;max-width:70em}\
.legend span{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;vertical-align:middle}\
svg text{font-size:11px;fill:#444}";

/// Writes the page.
pub(super) fn write(
    rules: &[(String, RuleRow)],
    sources: &[SourceRow],
    promoted: &[&SourceRow],
    detail: Option<&[DetailRow]>,
    hourly: &BTreeMap<i64, [u64; 3]>,
    out: &mut impl Write,
) -> io::Result<()> {
    let total = super::total_count(rules);
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    )?;
    writeln!(out, "<title>hp report</title>\n<style>{STYLE}</style>\n</head>\n<body>")?;
    writeln!(out, "<h1>hp report</h1>")?;
    writeln!(
        out,
        "<p id=\"summary\">{total} detections from {} sources, {} promoted.</p>",
        sources.len(),
        promoted.len()
    )?;

    writeln!(out, "<h2>Hits per hour by impact</h2>")?;
    write_hourly_chart(hourly, out)?;
    writeln!(out, "<h2>Top attackers</h2>")?;
    write_top_chart(sources, out)?;

    writeln!(out, "<h2>Detections per rule</h2>")?;
    writeln!(out, "<table id=\"rules\">\n<tr><th>count</th><th>impact</th><th>rule</th><th>name</th></tr>")?;
    for (id, row) in rules {
        writeln!(
            out,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            row.count,
            escape(row.impact.as_deref().unwrap_or("?")),
            escape(id),
            escape(row.name.as_deref().unwrap_or("?")),
        )?;
    }
    writeln!(out, "</table>")?;

    writeln!(out, "<h2>Promoted addresses</h2>")?;
    write_source_table("promoted", promoted.iter().copied(), out)?;
    writeln!(out, "<h2>Top sources</h2>")?;
    write_source_table("sources", sources.iter().take(super::TOP_SOURCES), out)?;

    if let Some(detail) = detail {
        writeln!(out, "<h2>Detections</h2>")?;
        writeln!(out, "<table id=\"detections\">\n<tr><th>impact</th><th>name</th><th>address</th><th>time</th><th>line</th></tr>")?;
        for row in detail {
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"raw\">{}</td></tr>",
                escape(&row.impact),
                escape(&row.name),
                escape(&row.ip),
                escape(&row.time),
                escape(&row.raw),
            )?;
        }
        writeln!(out, "</table>")?;
    }
    writeln!(out, "</body>\n</html>")
}

fn write_source_table<'a>(id: &str, rows: impl Iterator<Item = &'a SourceRow>, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<table id=\"{id}\">")?;
    writeln!(out, "<tr><th>address</th><th>total</th><th>count</th><th>first seen</th><th>last seen</th><th>promoted</th></tr>")?;
    for row in rows {
        writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row.ip),
            row.total,
            row.count,
            escape(&row.first_seen),
            escape(&row.last_seen),
            if row.promoted { "yes" } else { "no" },
        )?;
    }
    writeln!(out, "</table>")
}

/// Draws stacked bars of detections per hour (per day past two weeks),
/// with empty periods drawn as gaps so the time axis is linear.
fn write_hourly_chart(hourly: &BTreeMap<i64, [u64; 3]>, out: &mut impl Write) -> io::Result<()> {
    let (Some(first), Some(last)) = (hourly.keys().next(), hourly.keys().next_back()) else {
        return writeln!(out, "<p id=\"chart-hourly\">No detections with a time.</p>");
    };

    let span_hours = (last - first) / 3600 + 1;
    let step = if span_hours <= MAX_HOURLY_BARS {
        3600
    } else {
        // Whole days per bar, as many as keep the chart within MAX_BARS.
        let span_days = (last - first) / 86_400 + 1;
        86_400 * ((span_days + MAX_BARS - 1) / MAX_BARS).max(1)
    };
    let start = first - first.rem_euclid(step);
    let bars = ((last - start) / step + 1) as usize;
    let mut buckets = vec![[0u64; 3]; bars];
    for (hour, counts) in hourly {
        let bucket = ((hour - start) / step) as usize;
        for impact in 0..3 {
            buckets[bucket][impact] += counts[impact];
        }
    }

    let max = buckets.iter().map(|b| b.iter().sum::<u64>()).max().unwrap_or(1).max(1);
    let bar_width = CHART_WIDTH / bars as f64;
    let unit = match step {
        3600 => "hour".to_owned(),
        86_400 => "day".to_owned(),
        _ => format!("{} days", step / 86_400),
    };
    writeln!(
        out,
        "<svg id=\"chart-hourly\" role=\"img\" aria-label=\"detections per {unit} by impact\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">",
        CHART_WIDTH + 60.0,
        CHART_HEIGHT + 40.0,
        CHART_WIDTH + 60.0,
        CHART_HEIGHT + 40.0
    )?;
    for (index, counts) in buckets.iter().enumerate() {
        let x = 50.0 + index as f64 * bar_width;
        let mut y = CHART_HEIGHT;
        let label = utc_label(start + index as i64 * step);
        for impact in 0..3 {
            if counts[impact] == 0 {
                continue;
            }
            let height = counts[impact] as f64 / max as f64 * CHART_HEIGHT;
            y -= height;
            writeln!(
                out,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{height:.1}\" fill=\"{}\"><title>{label} UTC: {} {}</title></rect>",
                (bar_width - 0.5).max(0.5),
                IMPACT_COLOURS[impact],
                counts[impact],
                IMPACT_NAMES[impact],
            )?;
        }
    }
    writeln!(out, "<text x=\"0\" y=\"12\">{max}</text><text x=\"0\" y=\"{CHART_HEIGHT}\">0</text>")?;
    writeln!(
        out,
        "<text x=\"50\" y=\"{}\">{} UTC</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{} UTC</text>",
        CHART_HEIGHT + 20.0,
        utc_label(start),
        CHART_WIDTH + 50.0,
        CHART_HEIGHT + 20.0,
        utc_label(start + (bars as i64 - 1) * step)
    )?;
    writeln!(out, "</svg>")?;

    write!(out, "<p class=\"legend\">")?;
    for impact in (0..3).rev() {
        write!(out, "<span style=\"background:{}\"></span>{}", IMPACT_COLOURS[impact], IMPACT_NAMES[impact])?;
    }
    writeln!(out, "</p><p>One bar per {unit}, in UTC.</p>")
}

/// Draws horizontal bars of the top sources by detections.
fn write_top_chart(sources: &[SourceRow], out: &mut impl Write) -> io::Result<()> {
    let top: Vec<&SourceRow> = sources.iter().take(super::TOP_SOURCES).collect();
    if top.is_empty() {
        return writeln!(out, "<p id=\"chart-top\">No sources.</p>");
    }

    let row_height = 22.0;
    let label_width = 260.0;
    let max = top.iter().map(|s| s.total).max().unwrap_or(1).max(1);
    let height = top.len() as f64 * row_height + 10.0;
    writeln!(
        out,
        "<svg id=\"chart-top\" role=\"img\" aria-label=\"top sources by detections\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\">",
        CHART_WIDTH + 60.0,
        CHART_WIDTH + 60.0
    )?;
    for (index, source) in top.iter().enumerate() {
        let y = index as f64 * row_height + 5.0;
        let width = source.total as f64 / max as f64 * (CHART_WIDTH - label_width - 60.0);
        let colour = if source.promoted { IMPACT_COLOURS[2] } else { IMPACT_COLOURS[0] };
        writeln!(
            out,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect class=\"bar\" x=\"{label_width}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{}: {} detections</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            label_width - 8.0,
            y + 15.0,
            escape(&source.ip),
            row_height - 6.0,
            escape(&source.ip),
            source.total,
            label_width + width + 6.0,
            y + 15.0,
            source.total,
        )?;
    }
    writeln!(out, "</svg>")?;
    writeln!(out, "<p>Red bars are promoted addresses.</p>")
}

/// `YYYY-MM-DD HH:00` of a Unix time, in UTC.
fn utc_label(unix_seconds: i64) -> String {
    match jiff::Timestamp::from_second(unix_seconds) {
        Ok(timestamp) => timestamp.strftime("%Y-%m-%d %H:00").to_string(),
        Err(_) => unix_seconds.to_string(),
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\t' => out.push_str(&c.escape_default().to_string()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(escape("<script>alert('x')</script>&\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
    }
}

//! The detection record: what `hp-match` writes, one JSON object per line.
//!
//! Each line of `hp-match`'s stdout is one detection: one rule that fired on
//! one access-log line. A log line that fires two rules gives two records
//! with the same `file` and `line`. With `--all`, a log line that fires no
//! rule gives one record whose `rule`, `name` and `impact` are null.
//!
//! | field | type | meaning |
//! | --- | --- | --- |
//! | `rule` | string or null | rule id, e.g. `phpmyadmin-login` |
//! | `name` | string or null | the rule's human name |
//! | `impact` | string or null | `high`, `medium` or `low` |
//! | `ip` | string or null | the client address in canonical form (IPv4-mapped IPv6 as IPv4, zone dropped); null when the client field is a host name |
//! | `client` | string | the client field as written |
//! | `vhost` | string or null | `host[:port]` of `vhost_combined` lines |
//! | `time` | string | RFC 3339 with the log's offset, e.g. `2000-10-10T13:55:36-07:00` |
//! | `time_offset_missing` | `true` | present only when the log wrote no offset and UTC was assumed |
//! | `request` | string | the text between the request's quotes, as written |
//! | `method`, `target`, `protocol` | string or null | set only when the request is `METHOD target HTTP/d.d` |
//! | `status`, `bytes` | integer or null | null when logged as `-` |
//! | `referrer`, `user_agent` | string or null | as written, escapes such as `\"` kept; null when the format has no such field |
//! | `file` | string | the input's name, `-` for stdin |
//! | `line` | integer | 1-based line number in that input |
//! | `raw` | string | the whole line |
//! | `raw_base64` | string | present only when the line is not valid UTF-8: its exact bytes |
//!
//! Strings are JSON strings, so bytes that are not valid UTF-8 appear as
//! U+FFFD in every field; `raw_base64` keeps the original bytes.
//!
//! Example:
//!
//! ```json
//! {"rule":"phpmyadmin-login","name":"Admin access attempt on MySQL database through phpMyAdmin","impact":"high","ip":"192.0.2.7","client":"::ffff:192.0.2.7","vhost":null,"time":"2024-03-02T08:15:02+00:00","request":"GET /phpmyadmin/index.php?pma_username=root&pma_password=root HTTP/1.1","method":"GET","target":"/phpmyadmin/index.php?pma_username=root&pma_password=root","protocol":"HTTP/1.1","status":200,"bytes":1200,"referrer":"-","user_agent":"Mozilla/5.0","file":"access.log","line":1,"raw":"::ffff:192.0.2.7 - - [02/Mar/2024:08:15:02 +0000] \"GET /phpmyadmin/index.php?pma_username=root&pma_password=root HTTP/1.1\" 200 1200 \"-\" \"Mozilla/5.0\""}
//! ```

use std::borrow::Cow;
use std::io::Write;

use base64::Engine;
use bstr::ByteSlice;
use serde::Deserialize;

use crate::logline::LogLine;
use crate::rules::Rule;

/// Writes detection records into a reused buffer.
///
/// The part of a record that names the rule is built once per rule; the
/// part that describes the log line is built once per line and shared by
/// every rule that fires on it.
pub struct DetectionWriter {
    /// `{"rule":...,"name":...,"impact":...,` for each rule, by index.
    rule_prefixes: Vec<Vec<u8>>,
    /// The rule prefix of `--all` records for lines that fire nothing.
    no_rule_prefix: Vec<u8>,
    /// The line part of the current record, from `"ip"` to the closing brace
    /// and newline.
    line_part: Vec<u8>,
    itoa: itoa::Buffer,
}

impl DetectionWriter {
    /// Prepares the per-rule prefixes for `rules`, indexed as the matcher
    /// indexes them.
    pub fn new(rules: &[Rule]) -> DetectionWriter {
        let rule_prefixes = rules
            .iter()
            .map(|rule| {
                let mut prefix = b"{\"rule\":".to_vec();
                write_json_str(&mut prefix, &rule.id);
                prefix.extend_from_slice(b",\"name\":");
                write_json_str(&mut prefix, &rule.name);
                prefix.extend_from_slice(b",\"impact\":\"");
                prefix.extend_from_slice(rule.impact.as_str().as_bytes());
                prefix.extend_from_slice(b"\",");
                prefix
            })
            .collect();

        DetectionWriter {
            rule_prefixes,
            no_rule_prefix: b"{\"rule\":null,\"name\":null,\"impact\":null,".to_vec(),
            line_part: Vec::with_capacity(1024),
            itoa: itoa::Buffer::new(),
        }
    }

    /// Builds the line part of the records for one parsed line.
    pub fn set_line(&mut self, fields: &LogLine<'_>, raw: &[u8], file: &str, line_number: u64) {
        let out = &mut self.line_part;
        out.clear();

        out.extend_from_slice(b"\"ip\":");
        match fields.ip {
            Some(ip) => {
                out.push(b'"');
                // An address is ASCII and never needs escaping.
                let _ = write!(out, "{ip}");
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"client\":");
        write_json_bytes(out, fields.client);
        out.extend_from_slice(b",\"vhost\":");
        write_json_opt(out, fields.vhost);

        out.extend_from_slice(b",\"time\":\"");
        fields.time.write_rfc3339(out);
        out.push(b'"');
        if fields.time.offset_missing() {
            out.extend_from_slice(b",\"time_offset_missing\":true");
        }

        out.extend_from_slice(b",\"request\":");
        write_json_bytes(out, fields.request);
        out.extend_from_slice(b",\"method\":");
        write_json_opt(out, fields.method);
        out.extend_from_slice(b",\"target\":");
        write_json_opt(out, fields.target);
        out.extend_from_slice(b",\"protocol\":");
        write_json_opt(out, fields.protocol);

        out.extend_from_slice(b",\"status\":");
        match fields.status {
            Some(status) => out.extend_from_slice(self.itoa.format(status).as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"bytes\":");
        match fields.bytes {
            Some(bytes) => out.extend_from_slice(self.itoa.format(bytes).as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"referrer\":");
        write_json_opt(out, fields.referrer);
        out.extend_from_slice(b",\"user_agent\":");
        write_json_opt(out, fields.user_agent);

        out.extend_from_slice(b",\"file\":");
        write_json_str(out, file);
        out.extend_from_slice(b",\"line\":");
        out.extend_from_slice(self.itoa.format(line_number).as_bytes());

        out.extend_from_slice(b",\"raw\":");
        let valid_utf8 = write_json_bytes(out, raw);
        if !valid_utf8 {
            out.extend_from_slice(b",\"raw_base64\":\"");
            out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(raw).as_bytes());
            out.push(b'"');
        }
        out.extend_from_slice(b"}\n");
    }

    /// Writes the record of rule `rule_index` (or of no rule, with `None`)
    /// for the line last given to [`DetectionWriter::set_line`].
    pub fn write_record(&self, rule_index: Option<usize>, out: &mut impl Write) -> std::io::Result<()> {
        let prefix = match rule_index {
            Some(index) => &self.rule_prefixes[index],
            None => &self.no_rule_prefix,
        };
        out.write_all(prefix)?;
        out.write_all(&self.line_part)
    }
}

/// Appends `text` as a JSON string.
fn write_json_str(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(out, text);
}

/// Appends bytes as a JSON string, with U+FFFD for bytes that are not valid
/// UTF-8. Returns whether the bytes were valid UTF-8.
fn write_json_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            write_json_str(out, text);
            true
        }
        Err(_) => {
            write_json_str(out, &bytes.to_str_lossy());
            false
        }
    }
}

fn write_json_opt(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        Some(bytes) => {
            write_json_bytes(out, bytes);
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// A detection record as read back, borrowing from the input line where the
/// JSON needs no unescaping. Unknown keys are ignored, so records from newer
/// versions still read.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct DetectionRecord<'a> {
    #[serde(borrow)]
    pub rule: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub impact: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub client: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub vhost: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub time: Option<Cow<'a, str>>,
    #[serde(default)]
    pub time_offset_missing: bool,
    #[serde(borrow)]
    pub request: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub target: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub protocol: Option<Cow<'a, str>>,
    pub status: Option<u16>,
    pub bytes: Option<u64>,
    #[serde(borrow)]
    pub referrer: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub user_agent: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub file: Option<Cow<'a, str>>,
    pub line: Option<u64>,
    #[serde(borrow)]
    pub raw: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub raw_base64: Option<Cow<'a, str>>,
}

/// The fields of a detection that correlation needs. Reading only these
/// lets serde skip the rest of the record without building it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct DetectionKey<'a> {
    #[serde(borrow)]
    pub rule: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub impact: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub target: Option<Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn record(raw: &[u8], rule: Option<usize>) -> serde_json::Value {
        let set = RuleSet::load(&["classic"], &[] as &[&str]).unwrap();
        let mut writer = DetectionWriter::new(set.rules());
        let fields = LogLine::parse(raw).unwrap();
        writer.set_line(&fields, raw, "-", 7);
        let mut out = Vec::new();
        writer.write_record(rule, &mut out).unwrap();
        assert!(out.ends_with(b"}\n"));
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn record_has_every_field() {
        let raw = br#"host:80 ::ffff:192.0.2.7 - - [02/Mar/2024:08:15:02 +0000] "GET /a HTTP/1.1" 200 12 "-" "UA \"x\"""#;
        let value = record(raw, Some(0));
        assert_eq!(value["rule"], "phpmyadmin-login");
        assert_eq!(value["impact"], "high");
        assert_eq!(value["ip"], "192.0.2.7");
        assert_eq!(value["client"], "::ffff:192.0.2.7");
        assert_eq!(value["vhost"], "host:80");
        assert_eq!(value["time"], "2024-03-02T08:15:02+00:00");
        assert_eq!(value["user_agent"], r#"UA \"x\""#);
        assert_eq!(value["line"], 7);
        assert_eq!(value["file"], "-");
        assert_eq!(value["raw"], std::str::from_utf8(raw).unwrap());
        assert!(value.get("raw_base64").is_none());
        assert!(value.get("time_offset_missing").is_none());
    }

    #[test]
    fn record_without_rule_has_nulls() {
        let value = record(br#"192.0.2.1 - - [02/Mar/2024:08:15:02] "-" 408 - "-" "-""#, None);
        assert!(value["rule"].is_null());
        assert!(value["method"].is_null());
        assert!(value["bytes"].is_null());
        assert_eq!(value["time_offset_missing"], true);
    }

    #[test]
    fn record_keeps_non_utf8_bytes() {
        let raw = b"192.0.2.71 - - [21/Apr/2004:11:02:13 -0400] \"SEARCH /\x90\x02\xb1 HTTP/1.1\" 414 346 \"-\" \"-\"";
        let value = record(raw, None);
        assert!(value["raw"].as_str().unwrap().contains('\u{FFFD}'));
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value["raw_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(decoded, raw);
    }

    #[test]
    fn record_reads_back() {
        let raw = br#"192.0.2.1 - - [02/Mar/2024:08:15:02 +0000] "GET /a HTTP/1.1" 200 12 "-" "-""#;
        let set = RuleSet::load(&["classic"], &[] as &[&str]).unwrap();
        let mut writer = DetectionWriter::new(set.rules());
        writer.set_line(&LogLine::parse(raw).unwrap(), raw, "x.log", 3);
        let mut out = Vec::new();
        writer.write_record(Some(12), &mut out).unwrap();
        let back: DetectionRecord<'_> = serde_json::from_slice(&out).unwrap();
        assert_eq!(back.rule.as_deref(), Some("resource-scan"));
        assert_eq!(back.ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(back.line, Some(3));
    }
}

//! The input of hp-xdr: hp-correlate's aggregate records, or bare addresses.
//!
//! Each line is one of:
//!
//! - an aggregate record, a JSON object such as
//!   `{"ip":"192.0.2.217","count":191,"total":195,"rules":{"phpmyadmin-login":191,"resource-scan":4},
//!   "first_seen":"2021-03-28T15:45:11+02:00","last_seen":"2021-03-28T16:02:40+02:00","promoted":true}`.
//!   `ip` and the two RFC 3339 times are required; `count`, `total` and `rules`
//!   default to 1, `count` and empty. A record with `"promoted": false` is
//!   skipped; a record without `promoted` counts as promoted. Unknown keys
//!   are ignored.
//! - a bare IPv4 or IPv6 address (plain mode). It has no log time, so the
//!   time of the run is used as first and last seen, and count and total
//!   are 1.
//! - an empty line or a line starting with `#`, which is skipped.
//!
//! Anything else is an [`InvalidLine`] that names the line number; the
//! caller reports it and goes on. IPv4-mapped IPv6 addresses are stored as
//! IPv4, and the unspecified and multicast addresses are rejected because
//! they cannot be the source of a TCP connection. Loopback, private,
//! link-local, unique-local and broadcast addresses are rejected too, as
//! hp-correlate never promotes them: on a blocking feed they would cut off
//! the operator's own network.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::IpAddr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One attacker: an address with its hits and the log times it was seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attacker {
    pub ip: IpAddr,
    /// Hits of the rules that promoted the address.
    pub count: u64,
    /// Hits of all rules.
    pub total: u64,
    /// Hits per rule name.
    #[serde(default)]
    pub rules: BTreeMap<String, u64>,
    #[serde(with = "rfc3339")]
    pub first_seen: Timestamp,
    #[serde(with = "rfc3339")]
    pub last_seen: Timestamp,
}

/// Serialises a [`Timestamp`] as RFC 3339 text in UTC, for the state file.
pub(crate) mod rfc3339 {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Attacker {
    /// Builds the plain-mode record for a bare address.
    pub fn plain(ip: IpAddr, run_time: Timestamp) -> Attacker {
        Attacker {
            ip,
            count: 1,
            total: 1,
            rules: BTreeMap::new(),
            first_seen: run_time,
            last_seen: run_time,
        }
    }

    /// Folds another record of the same address into this one: the earliest
    /// first seen, the latest last seen, and the hits added up.
    pub fn merge(&mut self, other: &Attacker) {
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.count = self.count.saturating_add(other.count);
        self.total = self.total.saturating_add(other.total);
        for (rule, hits) in &other.rules {
            let entry = self.rules.entry(rule.clone()).or_insert(0);
            *entry = entry.saturating_add(*hits);
        }
    }
}

/// The kind of one input line.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Attacker(Attacker),
    /// An aggregate record with `"promoted": false`.
    NotPromoted,
    /// Empty or a `#` comment.
    Blank,
}

/// An input line that is neither a valid record nor an address.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct InvalidLine {
    pub line: usize,
    pub reason: String,
}

#[derive(Deserialize)]
struct AggregateRecord {
    ip: String,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    rules: BTreeMap<String, u64>,
    first_seen: String,
    last_seen: String,
    #[serde(default)]
    promoted: Option<bool>,
}

/// Parses input line number `line_number` (1-based, for messages).
pub fn parse_line(
    text: &str,
    line_number: usize,
    run_time: Timestamp,
) -> Result<Line, InvalidLine> {
    let invalid = |reason: String| InvalidLine {
        line: line_number,
        reason,
    };
    let trimmed = text.trim();

    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(Line::Blank);
    }

    if !trimmed.starts_with('{') {
        let ip = parse_address(trimmed).map_err(invalid)?;
        return Ok(Line::Attacker(Attacker::plain(ip, run_time)));
    }

    let record: AggregateRecord = serde_json::from_str(trimmed)
        .map_err(|err| invalid(format!("not a valid aggregate record: {err}")))?;
    if record.promoted == Some(false) {
        return Ok(Line::NotPromoted);
    }

    let ip = parse_address(&record.ip).map_err(invalid)?;
    let first_seen = parse_time("first_seen", &record.first_seen).map_err(invalid)?;
    let last_seen = parse_time("last_seen", &record.last_seen).map_err(invalid)?;
    if first_seen > last_seen {
        return Err(invalid(format!(
            "first_seen {} is after last_seen {}",
            record.first_seen, record.last_seen
        )));
    }

    let count = record.count.unwrap_or(1);
    Ok(Line::Attacker(Attacker {
        ip,
        count,
        total: record.total.unwrap_or(count).max(count),
        rules: record.rules,
        first_seen,
        last_seen,
    }))
}

/// Parses and checks an attacker address.
pub fn parse_address(text: &str) -> Result<IpAddr, String> {
    let ip = text
        .trim()
        .parse::<IpAddr>()
        .map_err(|_| format!("'{}' is not an IPv4 or IPv6 address", shorten(text)))?
        .to_canonical();
    if ip.is_unspecified() || ip.is_multicast() {
        return Err(format!("{ip} cannot be the source of a connection"));
    }
    if crate::correlate::is_never_promoted(ip) {
        return Err(format!(
            "{ip} is a loopback, private, link-local, unique-local or broadcast address; \
             hp never sends those to XDR, where a blocking feed would cut off your own network"
        ));
    }
    Ok(ip)
}

fn parse_time(field: &str, text: &str) -> Result<Timestamp, String> {
    text.parse::<Timestamp>().map_err(|_| {
        format!(
            "{field} '{}' is not an RFC 3339 time such as 2021-03-28T15:45:11+02:00",
            shorten(text)
        )
    })
}

/// Cuts long input to a length that fits an error message.
fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}...")
    }
}

/// Merges records of the same address and returns them sorted by address.
pub fn merge_by_address(attackers: impl IntoIterator<Item = Attacker>) -> Vec<Attacker> {
    let mut merged: BTreeMap<IpAddr, Attacker> = BTreeMap::new();
    for attacker in attackers {
        match merged.get_mut(&attacker.ip) {
            Some(existing) => existing.merge(&attacker),
            None => {
                merged.insert(attacker.ip, attacker);
            }
        }
    }
    merged.into_values().collect()
}

/// Everything read from one input stream.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    pub attackers: Vec<Attacker>,
    pub not_promoted: usize,
    pub invalid: Vec<InvalidLine>,
}

/// Reads every line of `reader`. Invalid lines, including lines that are
/// not UTF-8, are collected with their numbers; an I/O error stops reading.
pub fn read_lines(reader: impl BufRead, run_time: Timestamp) -> std::io::Result<ReadOutcome> {
    let mut outcome = ReadOutcome::default();
    for (index, bytes) in reader.split(b'\n').enumerate() {
        let bytes = bytes?;
        let line_number = index + 1;
        let Ok(text) = std::str::from_utf8(&bytes) else {
            outcome.invalid.push(InvalidLine {
                line: line_number,
                reason: "not valid UTF-8".to_string(),
            });
            continue;
        };

        match parse_line(text, line_number, run_time) {
            Ok(Line::Attacker(attacker)) => outcome.attackers.push(attacker),
            Ok(Line::NotPromoted) => outcome.not_promoted += 1,
            Ok(Line::Blank) => {}
            Err(invalid) => outcome.invalid.push(invalid),
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_time() -> Timestamp {
        "2026-12-04T20:00:00Z".parse().unwrap()
    }

    fn attacker(line: &str) -> Attacker {
        match parse_line(line, 1, run_time()).unwrap() {
            Line::Attacker(attacker) => attacker,
            other => panic!("expected an attacker, got {other:?}"),
        }
    }

    #[test]
    fn aggregate_record_is_parsed() {
        let a = attacker(
            r#"{"ip":"192.0.2.217","count":191,"total":195,"rules":{"phpmyadmin-login":191,"resource-scan":4},"first_seen":"2021-03-28T15:45:11+02:00","last_seen":"2021-03-28T16:02:40+02:00","promoted":true,"extra":[1]}"#,
        );
        assert_eq!(a.ip.to_string(), "192.0.2.217");
        assert_eq!(a.count, 191);
        assert_eq!(a.total, 195);
        assert_eq!(a.rules["phpmyadmin-login"], 191);
        assert_eq!(a.first_seen.to_string(), "2021-03-28T13:45:11Z");
        assert_eq!(a.last_seen.to_string(), "2021-03-28T14:02:40Z");
    }

    #[test]
    fn not_promoted_is_skipped() {
        let line = r#"{"ip":"192.0.2.1","count":3,"first_seen":"2021-03-28T15:45:11+02:00","last_seen":"2021-03-28T15:45:11+02:00","promoted":false}"#;
        assert_eq!(parse_line(line, 1, run_time()), Ok(Line::NotPromoted));
    }

    #[test]
    fn bare_addresses_use_run_time() {
        let v4 = attacker("192.0.2.1");
        assert_eq!(v4.first_seen, run_time());
        assert_eq!(v4.last_seen, run_time());
        assert_eq!(v4.count, 1);
        assert!(attacker(" 2001:db8::5 ").ip.is_ipv6());
        assert!(attacker("::ffff:192.0.2.9").ip.is_ipv4());
    }

    #[test]
    fn own_network_addresses_are_rejected() {
        for ip in ["10.0.0.1", "127.0.0.1", "::1", "255.255.255.255", "fe80::1", "fd00::5", "192.168.1.1"] {
            let error = parse_address(ip).unwrap_err();
            assert!(error.contains("never sends those"), "{ip}: {error}");
        }
        assert!(parse_address("198.51.100.150").is_ok());
    }

    #[test]
    fn blank_and_comment_lines_are_skipped() {
        assert_eq!(parse_line("", 1, run_time()), Ok(Line::Blank));
        assert_eq!(parse_line("  # note", 1, run_time()), Ok(Line::Blank));
    }

    #[test]
    fn invalid_lines_name_the_line() {
        let cases = [
            ("192.0.2.300", "not an IPv4 or IPv6 address"),
            ("hello world", "not an IPv4 or IPv6 address"),
            ("0.0.0.0", "cannot be the source"),
            ("ff02::1", "cannot be the source"),
            (r#"{"ip":"192.0.2.1"}"#, "not a valid aggregate record"),
            (
                r#"{"ip":"x","first_seen":"2021-03-28T15:45:11Z","last_seen":"2021-03-28T15:45:11Z"}"#,
                "'x' is not",
            ),
            (
                r#"{"ip":"192.0.2.1","first_seen":"28/Mar/2021","last_seen":"2021-03-28T15:45:11Z"}"#,
                "first_seen",
            ),
            (
                r#"{"ip":"192.0.2.1","first_seen":"2021-03-29T00:00:00Z","last_seen":"2021-03-28T00:00:00Z"}"#,
                "is after",
            ),
            (r#"{"ip":"192.0.2.1","#, "not a valid aggregate record"),
        ];
        for (line, expected) in cases {
            let err = parse_line(line, 7, run_time()).unwrap_err();
            assert_eq!(err.line, 7);
            assert!(err.to_string().starts_with("line 7: "), "{err}");
            assert!(err.reason.contains(expected), "{line}: {err}");
        }
    }

    #[test]
    fn read_lines_counts_each_kind() {
        let text = b"192.0.2.1\n\n{\"ip\":\"192.0.2.2\",\"first_seen\":\"2021-03-28T15:45:11Z\",\"last_seen\":\"2021-03-28T15:45:11Z\",\"promoted\":false}\nbad\n\xff\xfe\n2001:db8::5\r\n";
        let outcome = read_lines(&text[..], run_time()).unwrap();
        assert_eq!(outcome.attackers.len(), 2);
        assert_eq!(outcome.not_promoted, 1);
        let lines: Vec<usize> = outcome.invalid.iter().map(|i| i.line).collect();
        assert_eq!(lines, vec![4, 5]);
    }

    #[test]
    fn merge_keeps_earliest_and_latest() {
        let a = attacker(
            r#"{"ip":"192.0.2.79","count":5,"total":6,"rules":{"x":5},"first_seen":"2021-03-28T10:00:00Z","last_seen":"2021-03-28T11:00:00Z"}"#,
        );
        let b = attacker(
            r#"{"ip":"192.0.2.79","count":6,"total":6,"rules":{"x":6},"first_seen":"2021-03-28T09:00:00Z","last_seen":"2021-03-28T10:30:00Z"}"#,
        );
        let merged = merge_by_address([a, b]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].count, 11);
        assert_eq!(merged[0].rules["x"], 11);
        assert_eq!(merged[0].first_seen.to_string(), "2021-03-28T09:00:00Z");
        assert_eq!(merged[0].last_seen.to_string(), "2021-03-28T11:00:00Z");
    }
}

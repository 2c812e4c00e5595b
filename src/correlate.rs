//! Per-address aggregation and promotion, and the aggregate record.
//!
//! [`Correlator`] reads detection records (see [`crate::detection`]) and
//! keeps one entry per source address, so memory grows with the number of
//! distinct addresses, not with the number of detections. An address is
//! *promoted*, that is confirmed hostile, when its hits on the promotion
//! rules are more than the threshold. By default the promotion rule is
//! `phpmyadmin-login` and the threshold 10, so 11 login attempts promote, as
//! in the original tool.
//!
//! Other criteria, on log time only:
//! - a window (fail2ban's `findtime`): more than the threshold inside any
//!   window of that length;
//! - distinct targets (CrowdSec's `distinct`): count distinct request
//!   targets instead of hits, exactly up to [`DISTINCT_CAP`] per address and
//!   rule;
//! - a score: the sum of impact weights (high 3, medium 2, low 1) over all
//!   rules is more than N. A score replaces the hit count as the criterion.
//!
//! Some addresses are never promoted: loopback, unspecified, private
//! (RFC 1918), link-local, IPv6 unique-local, and any range the caller
//! excludes. Documentation ranges are not excluded, because sample logs use
//! them.
//!
//! # The aggregate record
//!
//! `hp-correlate` writes one JSON object per address and line:
//!
//! | field | type | meaning |
//! | --- | --- | --- |
//! | `ip` | string | the address, canonical form |
//! | `count` | integer | hits on the promotion rules (distinct targets with `--distinct`) |
//! | `total` | integer | all detections of the address |
//! | `rules` | object | rule id to hits, for every rule that fired |
//! | `first_seen`, `last_seen` | string | log times (RFC 3339, the log's offset) of its first and last detection |
//! | `score` | integer | present with `--score`: the sum of impact weights |
//! | `promoted` | bool | whether the address crossed the threshold |
//!
//! Records are sorted by `count` descending, then by address ascending in
//! numeric order (IPv4 before IPv6).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::detection::DetectionKey;
use crate::logline::canonical_ip;
use crate::rules::Impact;
use crate::timestamp::LogTime;

/// The promotion rule when none is chosen: the phpMyAdmin login brute force.
pub const DEFAULT_PROMOTION_RULE: &str = "phpmyadmin-login";

/// Promote at more than this many hits: 11 or more, as the original tool.
pub const DEFAULT_THRESHOLD: u64 = 10;

/// Distinct targets kept per address and rule with `--distinct`. Past this
/// the count stops growing, so one address cannot take unbounded memory.
pub const DISTINCT_CAP: usize = 1000;

/// The aggregate record that `hp-correlate` writes, one per address.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Aggregate {
    pub ip: String,
    pub count: u64,
    pub total: u64,
    pub rules: BTreeMap<String, u64>,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u64>,
    pub promoted: bool,
}

/// The rules whose hits count toward promotion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromotionRules {
    All,
    Only(Vec<String>),
}

/// Promotion criteria.
#[derive(Clone, Debug)]
pub struct CorrelateOptions {
    pub rules: PromotionRules,
    /// Promote at more than this many hits (or distinct targets).
    pub threshold: u64,
    /// Count hits inside any window of this many seconds.
    pub window_seconds: Option<i64>,
    /// Count distinct targets instead of hits.
    pub distinct: bool,
    /// Promote when the impact score is more than this; replaces the count.
    pub score: Option<u64>,
    /// Ranges never promoted, added to the built-in ones.
    pub excludes: Vec<IpNet>,
}

impl Default for CorrelateOptions {
    fn default() -> Self {
        CorrelateOptions {
            rules: PromotionRules::Only(vec![DEFAULT_PROMOTION_RULE.to_owned()]),
            threshold: DEFAULT_THRESHOLD,
            window_seconds: None,
            distinct: false,
            score: None,
            excludes: Vec::new(),
        }
    }
}

/// A detection record that could not be counted.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RecordError {
    #[error("not a detection record: {0}")]
    Json(String),
    #[error("the record has no 'ip'")]
    MissingIp,
    #[error("invalid 'ip' {0:?}: not an IPv4 or IPv6 address")]
    InvalidIp(String),
    #[error("the record has no 'time', so it is not a detection record; hp-correlate reads hp-match's output")]
    MissingTime,
    #[error("invalid 'time': {0}")]
    InvalidTime(String),
}

/// The outcome of counting one record.
#[derive(Debug, PartialEq, Eq)]
pub enum Counted {
    /// A detection, counted for this address.
    Detection(IpAddr),
    /// An `hp-match --all` record of a line that fired no rule.
    NoRule,
    /// The client was a host name, so there is no address to count.
    NoAddress,
}

#[derive(Debug)]
struct Entry {
    total: u64,
    /// Hits per interned rule id.
    rules: Vec<(u32, u64)>,
    first: LogTime,
    last: LogTime,
    count: u64,
    score: u64,
    /// Times of the latest promotion hits, at most threshold + 1, oldest
    /// first; only with a window.
    recent: VecDeque<i64>,
    window_crossed: bool,
    /// Hashes of distinct targets per promotion rule; only with --distinct.
    targets: Vec<(u32, HashSet<u64>)>,
    /// Log time (Unix seconds) of the last detection when the address was
    /// last emitted as promoted, in follow mode.
    emitted_at: Option<i64>,
}

/// Aggregates detections per address.
#[derive(Debug)]
pub struct Correlator {
    options: CorrelateOptions,
    entries: HashMap<IpAddr, Entry>,
    rule_ids: HashMap<String, u32>,
    rule_names: Vec<String>,
    /// Per interned rule: counts toward promotion, and its impact weight.
    rule_promotes: Vec<bool>,
    rule_weights: Vec<u64>,
    /// The last `ip` and `time` texts and what they parsed to. Records of
    /// one log line, and of a burst from one address, repeat them, so this
    /// saves about half of the parsing.
    last_ip: (String, Option<IpAddr>),
    last_time: (String, Option<LogTime>),
}

impl Correlator {
    pub fn new(options: CorrelateOptions) -> Correlator {
        Correlator {
            options,
            entries: HashMap::new(),
            rule_ids: HashMap::new(),
            rule_names: Vec::new(),
            rule_promotes: Vec::new(),
            rule_weights: Vec::new(),
            last_ip: (String::new(), None),
            last_time: (String::new(), None),
        }
    }

    /// Reads one NDJSON detection line and counts it.
    pub fn add_line(&mut self, line: &[u8]) -> Result<Counted, RecordError> {
        let key = DetectionKey::from_ndjson(line).map_err(|e| RecordError::Json(e.to_string()))?;
        self.add(&key)
    }

    /// Counts one detection.
    pub fn add(&mut self, key: &DetectionKey<'_>) -> Result<Counted, RecordError> {
        // Every detection record has a time, even an `hp-match --all` record
        // whose rule is null. A line without one is something else, such as
        // an aggregate record or a raw log line.
        if key.time.is_none() {
            return Err(RecordError::MissingTime);
        }
        let Some(rule) = key.rule.as_deref() else {
            return Ok(Counted::NoRule);
        };
        let ip = match key.ip.as_deref() {
            None => return Ok(Counted::NoAddress),
            Some(text) => match self.last_ip {
                (ref cached, Some(ip)) if cached == text => ip,
                _ => {
                    let ip = text.parse::<IpAddr>().map_err(|_| RecordError::InvalidIp(text.to_owned()))?;
                    self.last_ip.0.clear();
                    self.last_ip.0.push_str(text);
                    self.last_ip.1 = Some(ip);
                    ip
                }
            },
        };
        let text = key.time.as_deref().ok_or(RecordError::MissingTime)?;
        let time = match self.last_time {
            (ref cached, Some(time)) if cached == text => time,
            _ => {
                let time = LogTime::parse_rfc3339(text).map_err(|e| RecordError::InvalidTime(e.to_string()))?;
                self.last_time.0.clear();
                self.last_time.0.push_str(text);
                self.last_time.1 = Some(time);
                time
            }
        };

        let rule_id = self.intern_rule(rule, key.impact.as_deref());
        let promotes = self.rule_promotes[rule_id as usize];
        let weight = self.rule_weights[rule_id as usize];
        let options = &self.options;

        let entry = self.entries.entry(canonical_ip(ip)).or_insert_with(|| Entry {
            total: 0,
            rules: Vec::new(),
            first: time,
            last: time,
            count: 0,
            score: 0,
            recent: VecDeque::new(),
            window_crossed: false,
            targets: Vec::new(),
            emitted_at: None,
        });

        entry.total += 1;
        entry.score += weight;
        entry.first = entry.first.min(time);
        entry.last = entry.last.max(time);
        match entry.rules.iter_mut().find(|(id, _)| *id == rule_id) {
            Some((_, hits)) => *hits += 1,
            None => entry.rules.push((rule_id, 1)),
        }

        if promotes {
            let counts = if options.distinct {
                add_distinct_target(entry, rule_id, key.target.as_deref().unwrap_or(""))
            } else {
                true
            };
            if counts {
                entry.count += 1;
                if let Some(window) = options.window_seconds {
                    track_window(entry, time.unix_seconds(), window, options.threshold);
                }
            }
        }
        Ok(Counted::Detection(canonical_ip(ip)))
    }

    fn intern_rule(&mut self, rule: &str, impact: Option<&str>) -> u32 {
        if let Some(id) = self.rule_ids.get(rule) {
            return *id;
        }
        let id = self.rule_names.len() as u32;
        let promotes = match &self.options.rules {
            PromotionRules::All => true,
            PromotionRules::Only(ids) => ids.iter().any(|r| r == rule),
        };
        // A record without a known impact weighs as low.
        let weight = impact.and_then(Impact::parse).map_or(1, Impact::weight);
        self.rule_ids.insert(rule.to_owned(), id);
        self.rule_names.push(rule.to_owned());
        self.rule_promotes.push(promotes);
        self.rule_weights.push(weight);
        id
    }

    /// Returns the aggregate of `ip` when it is promoted and due to be
    /// emitted in follow mode: the first time it crosses the threshold, and
    /// again once `cooldown` seconds of log time have passed since the last
    /// emission. Without a cooldown an address is emitted once.
    pub fn promotion_due(&mut self, ip: IpAddr, cooldown: Option<i64>) -> Option<Aggregate> {
        let entry = self.entries.get(&ip)?;
        let aggregate = self.aggregate(ip, entry);
        if !aggregate.promoted {
            return None;
        }

        let now = entry.last.unix_seconds();
        let due = match (entry.emitted_at, cooldown) {
            (None, _) => true,
            (Some(at), Some(cooldown)) => now - at >= cooldown,
            (Some(_), None) => false,
        };
        if !due {
            return None;
        }
        if let Some(entry) = self.entries.get_mut(&ip) {
            entry.emitted_at = Some(now);
        }
        Some(aggregate)
    }

    /// Returns whether any detection of rule `id` was read.
    pub fn saw_rule(&self, id: &str) -> bool {
        self.rule_ids.contains_key(id)
    }

    /// Returns the number of distinct addresses seen.
    pub fn addresses(&self) -> usize {
        self.entries.len()
    }

    /// Builds the aggregate records, sorted by count descending then address.
    /// With `all` false, only the promoted ones.
    pub fn finish(&self, all: bool) -> Vec<Aggregate> {
        self.aggregates(all).collect()
    }

    /// Yields the aggregate records in the order of [`Correlator::finish`],
    /// building each only when it is taken. Writing them one by one keeps
    /// the peak memory at the per-address table, where a collected list
    /// would add a record with several strings for every promoted address.
    pub fn aggregates(&self, all: bool) -> impl Iterator<Item = Aggregate> + '_ {
        let mut sorted: Vec<(&IpAddr, &Entry)> = self.entries.iter().collect();
        sorted.sort_unstable_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));

        sorted
            .into_iter()
            .map(|(ip, entry)| self.aggregate(*ip, entry))
            .filter(move |aggregate| all || aggregate.promoted)
    }

    fn aggregate(&self, ip: IpAddr, entry: &Entry) -> Aggregate {
        let options = &self.options;
        let crossed = match (options.score, options.window_seconds) {
            (Some(limit), _) => entry.score > limit,
            (None, Some(_)) => entry.window_crossed,
            (None, None) => entry.count > options.threshold,
        };
        let promoted = crossed && !self.is_excluded(ip);

        Aggregate {
            ip: ip.to_string(),
            count: entry.count,
            total: entry.total,
            rules: entry
                .rules
                .iter()
                .map(|(id, hits)| (self.rule_names[*id as usize].clone(), *hits))
                .collect(),
            first_seen: entry.first.to_string(),
            last_seen: entry.last.to_string(),
            score: options.score.map(|_| entry.score),
            promoted,
        }
    }

    /// True for addresses that are never promoted.
    pub fn is_excluded(&self, ip: IpAddr) -> bool {
        is_never_promoted(ip) || self.options.excludes.iter().any(|net| net.contains(&ip))
    }
}

/// Loopback, unspecified, private (RFC 1918), link-local, broadcast and IPv6
/// unique-local addresses: traffic from them is the operator's own or
/// spoofed, so blocking them would do harm.
pub fn is_never_promoted(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_unspecified() || v4.is_private() || v4.is_link_local() || v4.is_broadcast()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.is_unspecified() || v6.is_unique_local() || v6.is_unicast_link_local()
        }
    }
}

/// Records a target for `--distinct`. Returns whether it is new for this
/// address and rule; past [`DISTINCT_CAP`] targets nothing is new.
fn add_distinct_target(entry: &mut Entry, rule_id: u32, target: &str) -> bool {
    let index = match entry.targets.iter().position(|(id, _)| *id == rule_id) {
        Some(index) => index,
        None => {
            entry.targets.push((rule_id, HashSet::new()));
            entry.targets.len() - 1
        }
    };
    let set = &mut entry.targets[index].1;
    if set.len() >= DISTINCT_CAP {
        return false;
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    target.hash(&mut hasher);
    set.insert(hasher.finish())
}

/// Keeps the latest `threshold + 1` promotion hits and notes when they all
/// fall inside one window. Exact when an address's detections arrive in log
/// order, as they do from one log.
fn track_window(entry: &mut Entry, time: i64, window: i64, threshold: u64) {
    let position = entry.recent.partition_point(|t| *t <= time);
    entry.recent.insert(position, time);
    while entry.recent.len() as u64 > threshold + 1 {
        entry.recent.pop_front();
    }
    if let (Some(oldest), Some(newest)) = (entry.recent.front(), entry.recent.back()) {
        if entry.recent.len() as u64 > threshold && newest - oldest < window {
            entry.window_crossed = true;
        }
    }
}

/// Parses one exclude entry: a CIDR range, or a single address as its /32
/// or /128 range.
pub fn parse_exclude(entry: &str) -> Result<IpNet, String> {
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("invalid range {entry:?}: expected a CIDR such as 198.51.100.0/24 or an address"))
}

/// Parses an exclude list: one CIDR range or single address per line, with
/// `#` comments and blank lines ignored.
pub fn parse_exclude_list(text: &str) -> Result<Vec<IpNet>, String> {
    let mut nets = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let net = parse_exclude(entry).map_err(|e| format!("line {}: {e}", index + 1))?;
        nets.push(net);
    }
    Ok(nets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(rule: &str, ip: &str, time: &str) -> String {
        format!(r#"{{"rule":"{rule}","impact":"high","ip":"{ip}","time":"{time}","target":"/t"}}"#)
    }

    fn run(options: CorrelateOptions, lines: &[String]) -> Vec<Aggregate> {
        let mut correlator = Correlator::new(options);
        for line in lines {
            correlator.add_line(line.as_bytes()).unwrap();
        }
        correlator.finish(true)
    }

    #[test]
    fn promotes_above_threshold_only() {
        let mut lines = Vec::new();
        for i in 0..11 {
            lines.push(detection("phpmyadmin-login", "192.0.2.1", &format!("2021-03-28T10:00:{i:02}+02:00")));
        }
        for i in 0..10 {
            lines.push(detection("phpmyadmin-login", "192.0.2.2", &format!("2021-03-28T10:00:{i:02}+02:00")));
        }
        let out = run(CorrelateOptions::default(), &lines);
        assert_eq!(out[0].ip, "192.0.2.1");
        assert!(out[0].promoted);
        assert_eq!(out[0].count, 11);
        assert_eq!(out[0].first_seen, "2021-03-28T10:00:00+02:00");
        assert_eq!(out[0].last_seen, "2021-03-28T10:00:10+02:00");
        assert!(!out[1].promoted);
    }

    #[test]
    fn private_addresses_never_promote() {
        let lines: Vec<String> =
            (0..20).map(|_| detection("phpmyadmin-login", "10.1.2.3", "2021-03-28T10:00:00+02:00")).collect();
        let out = run(CorrelateOptions::default(), &lines);
        assert!(!out[0].promoted);
        for ip in ["127.0.0.1", "0.0.0.0", "192.168.1.1", "172.16.0.1", "169.254.1.1", "255.255.255.255", "::1", "fd00::1", "fe80::1"] {
            assert!(is_never_promoted(ip.parse().unwrap()), "{ip}");
        }
        assert!(!is_never_promoted("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn sorted_by_count_then_numeric_address() {
        let lines = vec![
            detection("phpmyadmin-login", "192.0.2.10", "2021-03-28T10:00:00+02:00"),
            detection("phpmyadmin-login", "192.0.2.9", "2021-03-28T10:00:00+02:00"),
            detection("phpmyadmin-login", "2001:db8::1", "2021-03-28T10:00:00+02:00"),
            detection("phpmyadmin-login", "2001:db8::1", "2021-03-28T10:00:00+02:00"),
        ];
        let ips: Vec<String> = run(CorrelateOptions::default(), &lines).into_iter().map(|a| a.ip).collect();
        assert_eq!(ips, ["2001:db8::1", "192.0.2.9", "192.0.2.10"]);
    }

    #[test]
    fn window_needs_hits_close_together() {
        let spread: Vec<String> = (0..12)
            .map(|i| detection("phpmyadmin-login", "192.0.2.1", &format!("2021-03-28T{:02}:00:00+00:00", i)))
            .collect();
        let options = CorrelateOptions { window_seconds: Some(600), ..CorrelateOptions::default() };
        assert!(!run(options.clone(), &spread)[0].promoted);

        let close: Vec<String> = (0..11)
            .map(|i| detection("phpmyadmin-login", "192.0.2.1", &format!("2021-03-28T10:0{}:00+00:00", i % 10)))
            .collect();
        assert!(run(options, &close)[0].promoted);
    }

    #[test]
    fn distinct_counts_targets() {
        let lines: Vec<String> =
            (0..20).map(|_| detection("phpmyadmin-login", "192.0.2.1", "2021-03-28T10:00:00+00:00")).collect();
        let options = CorrelateOptions { distinct: true, ..CorrelateOptions::default() };
        let out = run(options, &lines);
        assert_eq!(out[0].count, 1);
        assert!(!out[0].promoted);
    }

    #[test]
    fn score_sums_weights() {
        let lines: Vec<String> =
            (0..4).map(|_| detection("anything", "192.0.2.1", "2021-03-28T10:00:00+00:00")).collect();
        let options = CorrelateOptions { score: Some(11), ..CorrelateOptions::default() };
        let out = run(options, &lines);
        assert_eq!(out[0].score, Some(12));
        assert!(out[0].promoted);
    }

    #[test]
    fn bad_records_are_errors() {
        let mut correlator = Correlator::new(CorrelateOptions::default());
        assert!(matches!(correlator.add_line(b"{"), Err(RecordError::Json(_))));
        assert_eq!(
            correlator.add_line(br#"{"rule":"x","ip":"nope","time":"2021-03-28T10:00:00+00:00"}"#),
            Err(RecordError::InvalidIp("nope".to_owned()))
        );
        assert_eq!(correlator.add_line(br#"{"rule":"x","ip":"192.0.2.1"}"#), Err(RecordError::MissingTime));
        assert_eq!(
            correlator.add_line(br#"{"rule":null,"ip":"192.0.2.1","time":"2021-03-28T10:00:00+00:00"}"#),
            Ok(Counted::NoRule)
        );
        assert_eq!(
            correlator.add_line(br#"{"rule":"x","ip":null,"time":"2021-03-28T10:00:00+00:00"}"#),
            Ok(Counted::NoAddress)
        );
        assert_eq!(correlator.add_line(b"{}"), Err(RecordError::MissingTime));
        assert_eq!(correlator.add_line(br#"{"ip":"192.0.2.1"}"#), Err(RecordError::MissingTime));
        assert_eq!(
            correlator.add_line(br#"{"ip":"192.0.2.1","count":3,"promoted":true,"first_seen":"2021-03-28T10:00:00+00:00"}"#),
            Err(RecordError::MissingTime)
        );
    }

    #[test]
    fn repeated_texts_parse_alike() {
        let mut correlator = Correlator::new(CorrelateOptions { rules: PromotionRules::All, ..CorrelateOptions::default() });
        let first = detection("x", "192.0.2.1", "2021-03-28T10:00:00+02:00");
        assert_eq!(correlator.add_line(first.as_bytes()), Ok(Counted::Detection("192.0.2.1".parse().unwrap())));
        assert_eq!(correlator.add_line(first.as_bytes()), Ok(Counted::Detection("192.0.2.1".parse().unwrap())));
        let other_time = detection("x", "192.0.2.1", "2021-03-28T11:00:00+02:00");
        assert_eq!(correlator.add_line(other_time.as_bytes()), Ok(Counted::Detection("192.0.2.1".parse().unwrap())));
        assert_eq!(
            correlator.add_line(br#"{"rule":"x","ip":"","time":"2021-03-28T10:00:00+02:00"}"#),
            Err(RecordError::InvalidIp(String::new()))
        );
        assert!(matches!(
            correlator.add_line(br#"{"rule":"x","ip":"192.0.2.1","time":""}"#),
            Err(RecordError::InvalidTime(_))
        ));

        let out = correlator.finish(true);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].count, 3);
        assert_eq!(out[0].first_seen, "2021-03-28T10:00:00+02:00");
        assert_eq!(out[0].last_seen, "2021-03-28T11:00:00+02:00");
    }

    #[test]
    fn exclude_list_reads_ranges_and_addresses() {
        let nets = parse_exclude_list("# ours\n198.51.100.0/24\n\n192.0.2.5  # one host\n").unwrap();
        assert_eq!(nets.len(), 2);
        assert!(nets[1].contains(&"192.0.2.5".parse::<IpAddr>().unwrap()));
        assert!(parse_exclude_list("nope").unwrap_err().contains("line 1"));
    }

    #[test]
    fn follow_emits_once_then_after_cooldown() {
        let mut correlator = Correlator::new(CorrelateOptions::default());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let mut emitted = Vec::new();
        for minute in 0..40 {
            let line = detection("phpmyadmin-login", "192.0.2.1", &format!("2021-03-28T10:{minute:02}:00+00:00"));
            correlator.add_line(line.as_bytes()).unwrap();
            if let Some(aggregate) = correlator.promotion_due(ip, Some(15 * 60)) {
                emitted.push(aggregate.count);
            }
        }
        assert_eq!(emitted, [11, 26]);
    }

}

//! Checks the built-in packs on the sample log and the parser cases.
//! `--pack classic` must keep the original tool's per-rule counts. The default
//! pack must fire the four ids it shares with the classic pack wherever the
//! classic rules fire, so that hp-correlate promotes the same sources.

use std::collections::{BTreeMap, BTreeSet};

use assert_cmd::Command;
use serde_json::Value;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/honeypot-access.log");
const CASES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cases");

/// Rule ids that the classic and the default pack share.
const SHARED_IDS: &[&str] = &["phpmyadmin-login", "resource-scan", "site-mapping", "xss-attempt"];

/// Runs hp-match with extra arguments and returns its detection records.
fn detections(args: &[&str], input: &str) -> Vec<Value> {
    let output = Command::cargo_bin("hp-match").unwrap().args(args).arg("-q").arg(input).output().unwrap();
    assert!(output.status.success(), "hp-match {args:?} {input} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("hp-match writes JSON lines"))
        .collect()
}

fn rule_counts(records: &[Value]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for record in records {
        *counts.entry(record["rule"].as_str().unwrap().to_owned()).or_insert(0) += 1;
    }
    counts
}

/// Collects the (line number, rule id) pairs of the records whose rule is in `ids`.
fn fired_pairs(records: &[Value], ids: &[&str]) -> BTreeSet<(u64, String)> {
    records
        .iter()
        .map(|record| (record["line"].as_u64().unwrap(), record["rule"].as_str().unwrap().to_owned()))
        .filter(|(_, rule)| ids.contains(&rule.as_str()))
        .collect()
}

#[test]
fn classic_pack_keeps_original_counts() {
    let records = detections(&["--pack", "classic"], SAMPLE);
    let expected: BTreeMap<String, u64> = [
        ("phpmyadmin-login", 202),
        ("resource-scan", 410),
        ("thinkphp-rce", 21),
        ("zyxel-viewlog", 20),
        ("obfuscation", 11),
        ("hellothink-probe", 8),
        ("xdebug-phpstorm", 7),
        ("site-mapping", 6),
        ("netgear-exploit", 2),
        ("tenda-usb-unload", 1),
        ("shell-wget", 1),
    ]
    .into_iter()
    .map(|(id, count)| (id.to_owned(), count))
    .collect();

    assert_eq!(records.len(), 689);
    let lines: BTreeSet<u64> = records.iter().map(|record| record["line"].as_u64().unwrap()).collect();
    assert_eq!(lines.len(), 683);
    assert_eq!(rule_counts(&records), expected);
}

#[test]
fn default_pack_is_extended() {
    let output = Command::cargo_bin("hp-match").unwrap().arg("--list-rules").output().unwrap();
    let listing = String::from_utf8(output.stdout).unwrap();
    assert!(listing.starts_with("pack extended "), "{listing}");
    assert!(!listing.contains("pack classic "), "{listing}");
}

#[test]
fn shared_ids_cover_classic_on_cases() {
    let mut inputs: Vec<String> = std::fs::read_dir(CASES_DIR)
        .unwrap()
        .map(|entry| entry.unwrap().path().display().to_string())
        .filter(|path| path.ends_with(".log") || path.ends_with(".gz"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());

    for input in inputs {
        let classic = fired_pairs(&detections(&["--pack", "classic"], &input), SHARED_IDS);
        let extended = fired_pairs(&detections(&[], &input), SHARED_IDS);
        let missing: Vec<_> = classic.difference(&extended).collect();
        assert!(missing.is_empty(), "{input}: the default pack misses classic detections {missing:?}");
    }
}

#[test]
fn phpmyadmin_login_covers_classic_on_sample() {
    let classic = fired_pairs(&detections(&["--pack", "classic"], SAMPLE), &["phpmyadmin-login"]);
    let extended = fired_pairs(&detections(&[], SAMPLE), &["phpmyadmin-login"]);
    assert_eq!(classic.len(), 202);
    let missing: Vec<_> = classic.difference(&extended).collect();
    assert!(missing.is_empty(), "the default pack misses phpMyAdmin attempts {missing:?}");
}

#[test]
fn default_pack_promotes_same_sources() {
    let matched = Command::cargo_bin("hp-match").unwrap().arg("-q").arg(SAMPLE).output().unwrap();
    assert!(matched.status.success());
    let correlated = Command::cargo_bin("hp-correlate").unwrap().arg("-q").write_stdin(matched.stdout).output().unwrap();
    assert!(correlated.status.success(), "{}", String::from_utf8_lossy(&correlated.stderr));

    let promoted: Vec<(String, u64)> = String::from_utf8(correlated.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|record| record["promoted"] == Value::Bool(true))
        .map(|record| (record["ip"].as_str().unwrap().to_owned(), record["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(promoted, vec![("192.0.2.217".to_owned(), 191), ("192.0.2.79".to_owned(), 11)]);
}

#[test]
fn rules_doc_lists_every_rule() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for pack in ["classic", "extended"] {
        let set = hp::rules::RuleSet::load(&[pack], &[] as &[&str]).unwrap();
        for rule in set.rules() {
            let row = format!("| `{}` |", rule.id);
            assert!(doc.contains(&row), "README.md has no row for rule '{}' of pack {pack}", rule.id);
        }
    }
}

//! The main job on the real honeypot sample, with the real binaries joined
//! by real pipes.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

fn sample() -> String {
    repo_file("data/honeypot-access.log").to_str().unwrap().to_owned()
}

fn per_rule(records: &[Value]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for record in records {
        *counts.entry(record["rule"].as_str().unwrap().to_owned()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn classic_counts_on_sample() {
    let output = run(HP_MATCH, &["--pack", "classic", &sample()]);
    assert!(output.status.success());
    let records = ndjson(&output.stdout);
    assert_eq!(records.len(), 689);

    let lines: std::collections::BTreeSet<u64> = records.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines.len(), 683);

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
    .map(|(rule, count)| (rule.to_owned(), count))
    .collect();
    assert_eq!(per_rule(&records), expected);
}

#[test]
fn sample_line_1083_is_malformed() {
    let output = run(HP_MATCH, &["--pack", "classic", &sample()]);
    let stderr = stderr_text(&output);
    assert!(stderr.contains("data/honeypot-access.log:1083: malformed line"), "{stderr}");
    assert!(stderr.contains("1785 lines read from 1 input: 1 malformed"), "{stderr}");
}

#[test]
fn quiet_silences_stderr() {
    let output = run(HP_MATCH, &["-q", &sample()]);
    assert!(output.status.success());
    assert!(output.stderr.is_empty(), "{}", stderr_text(&output));
}

#[test]
fn pipeline_promotes_the_two_attackers() {
    let path = sample();
    let classic: &[&str] = &["-q", "--pack", "classic", &path];
    let default: &[&str] = &["-q", &path];
    for match_args in [classic, default] {
        let (first, second) = pipe((HP_MATCH, match_args), (HP_CORRELATE, &["-q"]));
        assert!(first.status.success());
        assert!(second.status.success(), "{}", stderr_text(&second));

        let aggregates = ndjson(&second.stdout);
        let promoted: Vec<(&str, u64)> =
            aggregates.iter().map(|a| (a["ip"].as_str().unwrap(), a["count"].as_u64().unwrap())).collect();
        assert_eq!(promoted, [("192.0.2.217", 191), ("192.0.2.79", 11)], "hp-match {match_args:?}");
        assert!(aggregates.iter().all(|a| a["promoted"] == true));
    }
}

#[test]
fn correlate_all_lists_every_address() {
    let (_, second) = pipe((HP_MATCH, &["-q", "--pack", "classic", &sample()]), (HP_CORRELATE, &["-q", "--all"]));
    let aggregates = ndjson(&second.stdout);
    assert_eq!(aggregates.len(), 74);
    let total: u64 = aggregates.iter().map(|a| a["total"].as_u64().unwrap()).sum();
    assert_eq!(total, 689);

    let counts: Vec<u64> = aggregates.iter().map(|a| a["count"].as_u64().unwrap()).collect();
    let mut sorted = counts.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(counts, sorted);

    let first = &aggregates[0];
    assert_eq!(first["ip"], "192.0.2.217");
    assert_eq!(first["rules"]["phpmyadmin-login"], 191);
    assert_eq!(first["first_seen"], "2021-04-04T00:11:55+02:00");
    assert_eq!(first["last_seen"], "2021-04-04T00:18:29+02:00");
}

#[test]
fn report_names_the_confirmed_attackers() {
    let (_, aggregates) = pipe((HP_MATCH, &["-q", "--pack", "classic", &sample()]), (HP_CORRELATE, &["-q", "--all"]));
    let report = run_with_stdin(HP_REPORT, &[], &aggregates.stdout);
    assert!(report.status.success(), "{}", stderr_text(&report));
    let text = String::from_utf8(report.stdout).unwrap();
    let promoted = text.split("Promoted addresses").nth(1).expect("a promoted section");
    assert!(promoted.contains("192.0.2.217"), "{text}");
    assert!(promoted.contains("192.0.2.79"), "{text}");
    assert!(text.contains("410  low     resource-scan"), "{text}");
}

#[test]
fn report_from_detections_with_detail() {
    let detections = run(HP_MATCH, &["-q", "--pack", "classic", &sample()]);
    let report = run_with_stdin(HP_REPORT, &["--detail"], &detections.stdout);
    let text = String::from_utf8(report.stdout).unwrap();
    assert!(text.contains("689 detections from 74 sources, 2 promoted"), "{text}");
    assert!(text.contains("[high] Admin access attempt on MySQL database through phpMyAdmin: 192.0.2."), "{text}");
}

#[test]
fn report_escapes_hostile_values() {
    let hostile = "192.0.2.9 - - [16/Apr/2018:16:19:21 +0000] \"GET /=cmd|' /C calc'!A0 HTTP/1.1\" 404 210 \"-\" \"\x1b[31mred\"\n";
    let detections = run_with_stdin(HP_MATCH, &["-q", "--pack", "classic"], hostile.as_bytes());
    assert_eq!(ndjson(&detections.stdout).len(), 1);

    let text = run_with_stdin(HP_REPORT, &["--detail"], &detections.stdout);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(!text.contains('\x1b'), "{text:?}");
    assert!(text.contains("\\u{1b}[31mred"), "{text}");

    let csv = run_with_stdin(HP_REPORT, &["--detail", "--format", "csv"], &detections.stdout);
    let csv = String::from_utf8(csv.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    for row in reader.records() {
        let row = row.unwrap();
        for cell in row.iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "unneutralised cell {cell:?}");
        }
    }

    let markdown = run_with_stdin(HP_REPORT, &["--detail", "--format", "markdown"], &detections.stdout);
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    assert!(markdown.contains("cmd\\|"), "{markdown}");
}

#[test]
fn closed_output_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.log");
    let copy = std::fs::read(sample()).unwrap();
    let mut content = Vec::new();
    for _ in 0..40 {
        content.extend_from_slice(&copy);
        content.push(b'\n');
    }
    std::fs::write(&big, content).unwrap();

    let mut child = Command::new(HP_MATCH)
        .arg(&big)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The reader is dropped here, like `head -1` exiting.
    let output = child.wait_with_output().unwrap();
    assert!(serde_json::from_str::<Value>(&first).is_ok());
    assert!(output.status.success(), "status {:?}", output.status);
    let stderr = stderr_text(&output);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.to_lowercase().contains("broken pipe"), "{stderr}");
}

#[test]
fn correlate_reports_bad_lines_and_goes_on() {
    let input = b"{\"rule\":\"phpmyadmin-login\",\"ip\":\"192.0.2.1\",\"time\":\"2021-03-28T10:00:00+02:00\"}\nnot json\n{\"rule\":\"x\",\"ip\":\"999.1.1.1\",\"time\":\"2021-03-28T10:00:00+02:00\"}\n";
    let output = run_with_stdin(HP_CORRELATE, &["--all"], input);
    assert!(output.status.success());
    let stderr = stderr_text(&output);
    assert!(stderr.contains("-:2: invalid detection record"), "{stderr}");
    assert!(stderr.contains("-:3: invalid detection record (invalid 'ip' \"999.1.1.1\""), "{stderr}");
    assert_eq!(ndjson(&output.stdout).len(), 1);
}

#[test]
fn correlate_excludes_ranges() {
    let (_, second) = pipe(
        (HP_MATCH, &["-q", "--pack", "classic", &sample()]),
        (HP_CORRELATE, &["-q", "--exclude", "192.0.2.217/32"]),
    );
    let aggregates = ndjson(&second.stdout);
    assert_eq!(aggregates.len(), 1);
    assert_eq!(aggregates[0]["ip"], "192.0.2.79");
}

#[test]
fn missing_input_exits_2_and_processes_the_rest() {
    let output = run(HP_MATCH, &["--pack", "classic", "/nonexistent/access.log", &sample()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_text(&output).contains("/nonexistent/access.log: cannot open"));
    assert_eq!(ndjson(&output.stdout).len(), 689);
}

#[test]
fn user_rule_file_adds_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("mine.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"wordpress-login\"\nname = \"WordPress login probe\"\nimpact = \"low\"\nfield = \"path\"\nall = [\"/wp-login.php\"]\n",
    )
    .unwrap();
    let output = run(HP_MATCH, &["--no-default-rules", "--rules", rules.to_str().unwrap(), &sample()]);
    assert!(output.status.success(), "{}", stderr_text(&output));
    let records = ndjson(&output.stdout);
    assert!(!records.is_empty());
    assert!(records.iter().all(|r| r["rule"] == "wordpress-login"));
}

#[test]
fn invalid_rule_file_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("bad.toml");
    std::fs::write(&rules, "[[rule]]\nid = \"x\"\nname = \"X\"\nimpact = \"low\"\ncontain = [\"a\"]\n").unwrap();
    let output = run(HP_MATCH, &["--rules", rules.to_str().unwrap(), &sample()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_text(&output);
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(stderr.contains("line 5"), "{stderr}");
    assert!(stderr.contains("contain"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn list_rules_shows_packs_and_ids() {
    let output = run(HP_MATCH, &["--pack", "classic", "--list-rules"]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("pack classic"), "{text}");
    assert!(text.contains("phpmyadmin-login"), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains("  classic  ")).count(), 15, "{text}");
}

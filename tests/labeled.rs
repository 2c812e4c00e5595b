//! Checks the labeled evidence in `tests/data/labeled/` against the default
//! rule pack: every line fires exactly its expected rules, and every rule of
//! the pack has at least two positive and one negative line in its own file.
//! The file format is described in `tests/data/labeled/README.md`.

use std::collections::BTreeSet;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use hp::logline::{Frame, LogLine};
use hp::matcher::Matcher;
use hp::rules::{DEFAULT_PACKS, RuleSet};

const LABELED_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/labeled");

/// One log line of a labeled file with the rule ids it must fire.
struct Case {
    file: String,
    line_number: usize,
    line: Vec<u8>,
    expected: BTreeSet<String>,
}

/// One labeled file: the rule it is about (its name) and its cases.
struct LabeledFile {
    rule: String,
    cases: Vec<Case>,
}

fn default_rules() -> RuleSet {
    RuleSet::load(DEFAULT_PACKS, &[] as &[&str]).expect("the default packs load")
}

fn labeled_paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(LABELED_DIR)
        .expect("tests/data/labeled exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    paths.sort();
    paths
}

/// Parses a labeled file. Panics with the file and line number when a log
/// line has no `# expect:` line right before it, or no `# source:` comment
/// since the previous log line.
fn read_labeled(path: &Path) -> LabeledFile {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let rule = name.strip_suffix(".log").unwrap().to_owned();
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("failed to read {name}: {e}"));

    let mut cases = Vec::new();
    let mut expected: Option<BTreeSet<String>> = None;
    let mut has_source = false;
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_number = index + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some(rest) = line.strip_prefix(b"# expect:") {
            let text = String::from_utf8(rest.to_vec()).expect("expect lines are UTF-8");
            let ids: BTreeSet<String> = text.split_whitespace().filter(|id| *id != "-").map(str::to_owned).collect();
            expected = Some(ids);
            continue;
        }
        if line.starts_with(b"# source:") {
            has_source = true;
            continue;
        }
        if line.starts_with(b"#") {
            continue;
        }

        let Some(ids) = expected.take() else {
            panic!("{name} line {line_number}: log line without an '# expect:' line before it");
        };
        assert!(has_source, "{name} line {line_number}: log line without a '# source:' comment before it");
        has_source = false;
        cases.push(Case { file: name.clone(), line_number, line: line.to_vec(), expected: ids });
    }
    LabeledFile { rule, cases }
}

fn fired_rules(matcher: &Matcher, line: &[u8]) -> BTreeSet<String> {
    let mut scratch = matcher.scratch();
    let frame = Frame::find(line).expect("labeled lines pass the structural check");
    matcher.match_line(line, &frame, &mut scratch);
    scratch.fired.iter().map(|index| matcher.rules()[*index].id.clone()).collect()
}

fn is_documentation_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113))
        }
        IpAddr::V6(v6) => v6.segments()[0] == 0x2001 && v6.segments()[1] == 0x0db8,
    }
}

#[test]
fn labeled_lines_fire_expected_rules() {
    let set = default_rules();
    let matcher = Matcher::new(&set);

    let mut failures = Vec::new();
    let mut checked = 0;
    for path in labeled_paths() {
        for case in read_labeled(&path).cases {
            let fired = fired_rules(&matcher, &case.line);
            if fired != case.expected {
                failures.push(format!(
                    "{} line {}: expected {:?}, fired {:?}",
                    case.file, case.line_number, case.expected, fired
                ));
            }
            checked += 1;
        }
    }

    assert!(checked > 0, "no labeled lines found in {LABELED_DIR}");
    assert!(failures.is_empty(), "{} of {checked} labeled lines differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_default_rule_has_labeled_evidence() {
    let set = default_rules();
    let files: Vec<LabeledFile> = labeled_paths().iter().map(|path| read_labeled(path)).collect();

    for rule in set.rules() {
        let Some(file) = files.iter().find(|file| file.rule == rule.id) else {
            panic!("rule '{}' has no file {}.log in tests/data/labeled", rule.id, rule.id);
        };
        let positives = file.cases.iter().filter(|case| case.expected.contains(&rule.id)).count();
        let negatives = file.cases.len() - positives;
        assert!(positives >= 2, "{}.log has {positives} positive lines; it needs at least 2", rule.id);
        assert!(negatives >= 1, "{}.log has no negative line (one where '{}' must not fire)", rule.id, rule.id);
    }
}

#[test]
fn labeled_files_name_loaded_rules() {
    let set = default_rules();
    for path in labeled_paths() {
        let file = read_labeled(&path);
        assert!(set.get(&file.rule).is_some(), "{}.log names no rule of the default packs", file.rule);
        for case in &file.cases {
            for id in &case.expected {
                assert!(set.get(id).is_some(), "{} line {}: unknown rule id '{id}'", case.file, case.line_number);
            }
        }
    }
}

#[test]
fn labeled_clients_are_documentation_addresses() {
    for path in labeled_paths() {
        for case in read_labeled(&path).cases {
            let parsed = LogLine::parse(&case.line)
                .unwrap_or_else(|e| panic!("{} line {}: does not parse: {e}", case.file, case.line_number));
            let ip = parsed.ip.unwrap_or_else(|| panic!("{} line {}: client is not an address", case.file, case.line_number));
            assert!(
                is_documentation_address(ip),
                "{} line {}: {ip} is not in 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 or 2001:db8::/32",
                case.file,
                case.line_number
            );
        }
    }
}

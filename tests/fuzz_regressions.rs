//! Inputs that made a fuzz target crash, kept as plain tests. Each file in
//! `tests/data/fuzz/` is named after its target: `logline-*`, `rules-*`,
//! `detection-*`, `aggregate-*` or `config-*`, and replays what that target
//! does.

use std::path::Path;

use hp::correlate::{CorrelateOptions, Correlator};
use hp::report::{Format, Report};
use hp::rules::RuleSet;

fn replay_aggregate(data: &[u8]) {
    let mut report = Report::new(true);
    for line in data.split(|b| *b == b'\n') {
        let _ = report.add_line(line);
    }
    for format in [Format::Text, Format::Csv, Format::Markdown, Format::Html] {
        let mut out = Vec::new();
        report.write(&RuleSet::default(), format, &mut out).unwrap();
    }
}

fn replay_logline(data: &[u8]) {
    use hp::detection::DetectionWriter;
    use hp::input::LineReader;
    use hp::logline::{Frame, LogLine};
    use hp::matcher::Matcher;

    for (pack, _) in hp::rules::BUILTIN_PACKS {
        let matcher = Matcher::new(&RuleSet::load(&[*pack], &[] as &[&str]).unwrap());
        let mut scratch = matcher.scratch();
        let mut writer = DetectionWriter::new(matcher.rules());
        let mut lines = LineReader::new(data);
        while let Ok(Some(line)) = lines.next_line() {
            let Ok(frame) = Frame::find(line.bytes) else { continue };
            let _ = matcher.match_line(line.bytes, &frame, &mut scratch);
            if let Ok(fields) = LogLine::from_frame(line.bytes, &frame) {
                writer.set_line(&fields, line.bytes, "-", line.number);
                let mut out = Vec::new();
                writer.write_record(None, &mut out).unwrap();
                let _: serde_json::Value = serde_json::from_slice(&out).expect("records are valid JSON");
            }
        }
    }
}

fn replay_detection(data: &[u8]) {
    let options = CorrelateOptions { window_seconds: Some(600), distinct: true, ..CorrelateOptions::default() };
    let mut correlator = Correlator::new(options);
    for line in data.split(|b| *b == b'\n') {
        if let Ok(hp::correlate::Counted::Detection(ip)) = correlator.add_line(line) {
            let _ = correlator.promotion_due(ip, Some(60));
        }
    }
    let _ = correlator.finish(true);
}

fn replay_rules(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = RuleSet::default().add_text(text, "fuzz.toml", "fuzz", "fuzz.toml");
    }
}

fn replay_config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = hp::xdr::config::parse_toml(text, "fuzz config");
        let _ = hp::xdr::config::parse_legacy(text, "fuzz config.txt");
    }
}

#[test]
fn fuzz_crashes_stay_fixed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        match name.split('-').next() {
            Some("logline") => replay_logline(&data),
            Some("aggregate") => replay_aggregate(&data),
            Some("detection") => replay_detection(&data),
            Some("rules") => replay_rules(&data),
            Some("config") => replay_config(&data),
            _ => panic!("{name}: unknown fuzz target prefix"),
        }
        replayed += 1;
    }
    assert!(replayed > 0, "no regression inputs in {}", dir.display());
}

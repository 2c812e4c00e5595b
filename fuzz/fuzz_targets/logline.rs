//! Any bytes as an access-log stream: split into lines, structural check,
//! matching with the built-in packs, full parse and record writing.
#![no_main]

use std::sync::LazyLock;

use hp::detection::DetectionWriter;
use hp::input::LineReader;
use hp::logline::{Frame, LogLine};
use hp::matcher::Matcher;
use hp::rules::{BUILTIN_PACKS, RuleSet};
use libfuzzer_sys::fuzz_target;

static MATCHERS: LazyLock<Vec<Matcher>> = LazyLock::new(|| {
    BUILTIN_PACKS
        .iter()
        .map(|(name, _)| Matcher::new(&RuleSet::load(&[*name], &[] as &[&str]).unwrap()))
        .collect()
});

fuzz_target!(|data: &[u8]| {
    for matcher in MATCHERS.iter() {
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
});

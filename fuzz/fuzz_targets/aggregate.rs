//! Any bytes as hp-report input (detections and aggregates mixed): each line
//! is used or is an error, and every format renders.
#![no_main]

use hp::report::{Format, Report};
use hp::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut report = Report::new(true);
    for line in data.split(|b| *b == b'\n') {
        let _ = report.add_line(line);
    }
    let set = RuleSet::default();
    for format in [Format::Text, Format::Csv, Format::Markdown, Format::Html] {
        let mut out = Vec::new();
        report.write(&set, format, &mut out).unwrap();
    }
});

//! Any bytes as hp-correlate input: each line counts or is an error.
#![no_main]

use hp::correlate::{CorrelateOptions, Correlator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = CorrelateOptions { window_seconds: Some(600), distinct: true, ..CorrelateOptions::default() };
    let mut correlator = Correlator::new(options);
    for line in data.split(|b| *b == b'\n') {
        if let Ok(hp::correlate::Counted::Detection(ip)) = correlator.add_line(line) {
            let _ = correlator.promotion_due(ip, Some(60));
        }
    }
    let _ = correlator.finish(true);
});

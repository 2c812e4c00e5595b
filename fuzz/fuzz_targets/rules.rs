//! Any text as a user's rule file: it loads or gives an error, never a
//! panic, and a loaded set compiles and matches a line.
#![no_main]

use hp::logline::Frame;
use hp::matcher::Matcher;
use hp::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

const LINE: &[u8] = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET /a?b=%2e%2e%2f HTTP/1.1" 404 1 "-" "x""#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut set = RuleSet::default();
    if set.add_text(text, "fuzz.toml", "fuzz", "fuzz.toml").is_ok() && !set.rules().is_empty() {
        let matcher = Matcher::new(&set);
        let mut scratch = matcher.scratch();
        let frame = Frame::find(LINE).unwrap();
        let _ = matcher.match_line(LINE, &frame, &mut scratch);
    }
});

//! Any text as hp-xdr's config file, in both formats: it parses or gives an
//! error, never a panic.
#![no_main]

use hp::xdr::config::{parse_legacy, parse_toml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_toml(text, "fuzz config");
    let _ = parse_legacy(text, "fuzz config.txt");
});

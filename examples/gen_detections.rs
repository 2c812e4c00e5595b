//! Writes hp-match detection records to stdout, for `scripts/bench` to pipe
//! into hp-correlate.
//!
//! Usage: `gen_detections RECORDS [ADDRESSES]` (100,000 addresses by
//! default). The records are built by hp's own record writer from
//! generated log lines, so they have the size and key order that hp-match
//! writes. Record `i` comes from address `i % ADDRESSES`: nine in ten
//! addresses are IPv4 in 198.18.0.0/15, the rest IPv6 in 2001:db8::/32. Times
//! rise by one second every 100 records. The output depends only on the
//! arguments.

use std::io::{self, BufWriter, Write};

use hp::detection::DetectionWriter;
use hp::logline::LogLine;
use hp::rules::RuleSet;

const DEFAULT_ADDRESSES: u64 = 100_000;

/// 198.18.0.0/15 contains 131,072 addresses.
const MAX_ADDRESSES: u64 = 131_072;

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// The requests cycled through, each with the rule that the record names.
const REQUESTS: &[(&str, &str, u16)] = &[
    ("phpmyadmin-login", "GET /phpmyadmin/index.php?pma_username=root&pma_password=secret HTTP/1.1", 200),
    ("resource-scan", "GET /wp-login.php HTTP/1.1", 404),
    ("phpmyadmin-login", "POST /phpMyAdmin/index.php?pma_username=admin&pma_password=admin&server=1 HTTP/1.1", 200),
    ("thinkphp-rce", "GET /index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=HelloThinkPHP21 HTTP/1.1", 404),
    ("resource-scan", "GET /.env HTTP/1.1", 403),
];

fn parse_arg(text: Option<String>, default: Option<u64>, what: &str) -> io::Result<u64> {
    match (text, default) {
        (Some(text), _) => text.parse().map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("invalid {what} {text:?}: expected a whole number"))
        }),
        (None, Some(default)) => Ok(default),
        (None, None) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("missing {what}: usage: gen_detections RECORDS [ADDRESSES]"),
        )),
    }
}

fn address(index: u64) -> String {
    if index % 10 == 9 {
        format!("2001:db8::{:x}:{:x}", index >> 16, index & 0xffff)
    } else {
        format!("198.{}.{}.{}", 18 + (index >> 16), (index >> 8) & 0xff, index & 0xff)
    }
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let records = parse_arg(args.next(), None, "record count")?;
    let addresses = parse_arg(args.next(), Some(DEFAULT_ADDRESSES), "address count")?;
    if addresses == 0 || addresses > MAX_ADDRESSES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid address count {addresses}: expected 1 to {MAX_ADDRESSES}"),
        ));
    }

    let set = RuleSet::load(&["classic"], &[] as &[&str]).map_err(io::Error::other)?;
    let rule_index = |id: &str| set.rules().iter().position(|rule| rule.id == id).expect("a classic rule id");
    let mut writer = DetectionWriter::new(set.rules());
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());

    for number in 0..records {
        let second = number / 100;
        let day = 1 + second / 86_400 % 28;
        let month = MONTHS[(2 + second / (86_400 * 28)) as usize % 12];
        let (hour, minute, sec) = (second / 3600 % 24, second / 60 % 60, second % 60);
        let (rule, request, status) = REQUESTS[(number % REQUESTS.len() as u64) as usize];

        let line = format!(
            "{} - - [{day:02}/{month}/2024:{hour:02}:{minute:02}:{sec:02} +0000] \"{request}\" {status} 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"",
            address(number % addresses)
        );
        let fields = LogLine::parse(line.as_bytes())
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, format!("generated line does not parse: {error}")))?;
        writer.set_line(&fields, line.as_bytes(), "access.log", number + 1);
        writer.write_record(Some(rule_index(rule)), &mut out)?;
    }
    out.flush()
}

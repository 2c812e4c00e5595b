//! Checks that ordinary traffic gives no high-impact detection under the
//! default rule pack. The inputs are a real 10,000-line site log from 2015
//! and a small deterministic generator. The generator mixes common site
//! traffic with values that share tokens with attacks: apostrophes, SQL
//! words, URLs in parameters and encoded UTF-8.

use std::collections::BTreeMap;
use std::fs;

use hp::logline::Frame;
use hp::matcher::Matcher;
use hp::rules::{DEFAULT_PACKS, Impact, RuleSet};

const SITE_LOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/site-access-2015.log");

/// Counts the high-impact detections per rule id and keeps the first line
/// that gave each.
fn high_impact_detections<'a>(lines: impl Iterator<Item = &'a [u8]>) -> BTreeMap<String, (usize, String)> {
    let set = RuleSet::load(DEFAULT_PACKS, &[] as &[&str]).expect("the default packs load");
    let matcher = Matcher::new(&set);
    let mut scratch = matcher.scratch();

    let mut found: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for line in lines {
        let frame = Frame::find(line)
            .unwrap_or_else(|e| panic!("benign line is malformed ({e}): {}", String::from_utf8_lossy(line)));
        matcher.match_line(line, &frame, &mut scratch);
        for &index in &scratch.fired {
            let rule = &matcher.rules()[index];
            if rule.impact == Impact::High {
                let entry = found.entry(rule.id.clone()).or_insert((0, String::from_utf8_lossy(line).into_owned()));
                entry.0 += 1;
            }
        }
    }
    found
}

#[test]
fn site_log_has_no_high_impact() {
    let text = fs::read(SITE_LOG).expect("tests/data/site-access-2015.log exists");
    let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').filter(|line| !line.is_empty()).collect();
    assert_eq!(lines.len(), 10_000, "the site log should hold 10,000 lines");

    let found = high_impact_detections(lines.into_iter());
    assert!(found.is_empty(), "high-impact detections on the site log (rule: count, first line): {found:#?}");
}

#[test]
fn generated_benign_log_has_no_high_impact() {
    let lines = generate_benign_log(5_000, 0x5eed);
    assert_eq!(lines.len(), 5_000);

    let found = high_impact_detections(lines.iter().map(|line| line.as_bytes()));
    assert!(found.is_empty(), "high-impact detections on the generated log (rule: count, first line): {found:#?}");
}

#[test]
fn generator_is_deterministic() {
    assert_eq!(generate_benign_log(200, 7), generate_benign_log(200, 7));
    assert_ne!(generate_benign_log(200, 7), generate_benign_log(200, 8));
}

/// A 64-bit linear congruential generator (Knuth's MMIX constants), so the
/// generated log is the same on every run and platform.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PAGES: &[&str] = &[
    "/", "/index.html", "/about/", "/contact", "/blog/", "/blog/2015/05/logstash-tips.html",
    "/blog/2014/11/why-select-is-slow.html", "/docs/install.html", "/docs/api/v2/users.html", "/shop/cart",
    "/shop/product/42", "/news/union-station-reopens", "/events/calendar", "/wp-content/themes/site/style.css",
    "/static/js/app.3f9c2a.js", "/static/css/main.css", "/images/logo.png", "/favicon.ico", "/feed.xml",
    "/robots.txt", "/sitemap.xml", "/downloads/tool-1.2.tar.gz", "/account/settings", "/api/v1/items",
];

const SEARCH_TERMS: &[&str] = &[
    "logstash", "union+station", "select+a+plan", "O%27Brien", "rock+%26+roll", "C%2B%2B+templates",
    "50%25+off", "caf%C3%A9", "%E6%97%A5%E6%9C%AC", "drop+shipping", "insert+coin", "how+to+delete+account",
    "script+writing", "weather+alert", "sleep+tips", "shell+scripting", "cat+food", "100%25+cotton",
    "where+is+the+order", "and+or+not", "java.lang.String", "email%40example.com", "a+-+b", "x%3D1",
];

const QUERIES: &[&str] = &[
    "", "", "", "?page=2", "?page=3&sort=date", "?utm_source=newsletter&utm_medium=email&utm_campaign=may",
    "?ref=home", "?id=1234", "?lang=en", "?v=1.4.2", "?next=/account", "?redirect=https://www.example.com/home",
    "?url=https://www.example.org/article", "?file=https://cdn.example.com/docs/guide.pdf", "?sort=id&order=asc",
    "?filter=red|blue", "?fields=name,price&limit=10", "?callback=jQuery1113", "?ts=1431857103",
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.4.0", "python-requests/2.31.0", "Wget/1.21.4", "-",
];

const REFERRERS: &[&str] = &[
    "-", "-", "https://www.example.com/", "https://www.google.com/search?q=logstash+..+grok+..+tips+..",
    "https://www.example.com/search?q=O%27Brien", "https://news.example.org/?s=union+select+committee",
];

const METHODS: &[&str] = &["GET", "GET", "GET", "GET", "HEAD", "POST"];
const STATUSES: &[&str] = &["200", "200", "200", "200", "301", "304", "404", "403"];

/// Generates `count` combined-format lines of ordinary site traffic from
/// documentation addresses.
fn generate_benign_log(count: usize, seed: u64) -> Vec<String> {
    let mut rng = Lcg(seed);
    let mut lines = Vec::with_capacity(count);
    for index in 0..count {
        let target = if rng.next().is_multiple_of(4) {
            format!("/search?q={}", rng.pick(SEARCH_TERMS))
        } else {
            format!("{}{}", rng.pick(PAGES), rng.pick(QUERIES))
        };
        let client = format!("{}.{}", rng.pick(&["192.0.2", "198.51.100", "203.0.113"]), rng.next() % 254 + 1);
        let second = index % 60;
        let minute = (index / 60) % 60;
        lines.push(format!(
            "{client} - - [17/May/2015:10:{minute:02}:{second:02} +0000] \"{} {target} HTTP/1.1\" {} {} \"{}\" \"{}\"",
            rng.pick(METHODS),
            rng.pick(STATUSES),
            rng.next() % 50_000,
            rng.pick(REFERRERS),
            rng.pick(USER_AGENTS),
        ));
    }
    lines
}

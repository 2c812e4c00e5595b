//! Writes ordinary site traffic in the combined log format to stdout, for
//! `scripts/bench`.
//!
//! Usage: `gen_benign [LINES]` (2,000,000 by default). The output depends
//! only on LINES: a fixed-seed generator picks pages, static files,
//! search-engine referrers, a few crawlers and 200/304 responses. One line
//! in 2,000 (0.05%) is a phpMyAdmin login attempt, so the classic rules fire
//! on some lines but most lines match no literal.

use std::io::{self, BufWriter, Write};

const DEFAULT_LINES: u64 = 2_000_000;

/// One attack line per this many lines.
const ATTACK_EVERY: u64 = 2_000;

const PAGES: &[&str] = &[
    "/",
    "/index.html",
    "/about/",
    "/blog/",
    "/blog/2024/03/release-notes.html",
    "/blog/2024/02/winter-update.html",
    "/products/garden-chairs.html",
    "/products/tables.html?colour=oak&page=2",
    "/contact/",
    "/search?q=wooden+bench",
    "/search?q=parasol",
    "/feed.xml",
    "/docs/install.html",
    "/docs/faq.html#shipping",
];

const STATIC_FILES: &[&str] = &[
    "/css/site.css",
    "/css/print.css",
    "/js/app.js",
    "/js/vendor.min.js",
    "/img/logo.svg",
    "/img/hero-1600.jpg",
    "/img/products/chair-480.webp",
    "/fonts/inter-var.woff2",
    "/favicon.ico",
];

const REFERRERS: &[&str] = &[
    "-",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://shop.example.com/",
    "https://shop.example.com/blog/",
];

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
];

const CRAWLERS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
];

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// xorshift64*: small, fast and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn main() -> io::Result<()> {
    let lines = match std::env::args().nth(1) {
        Some(text) => text.parse().map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("invalid line count {text:?}: expected a whole number"))
        })?,
        None => DEFAULT_LINES,
    };

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    // Log time in seconds since 2024-03-01 00:00:00; about 20 requests a second.
    let mut second: u64 = 0;

    for number in 0..lines {
        if rng.below(20) == 0 {
            second += 1;
        }
        let day = 1 + second / 86_400 % 28;
        let month = MONTHS[(2 + second / (86_400 * 28)) as usize % 12];
        let (hour, minute, sec) = (second / 3600 % 24, second / 60 % 60, second % 60);
        let time = format!("{day:02}/{month}/2024:{hour:02}:{minute:02}:{sec:02} +0100");
        let client = format!("203.0.113.{}", rng.below(250) + 1);

        if number % ATTACK_EVERY == ATTACK_EVERY - 1 {
            writeln!(
                out,
                "{client} - - [{time}] \"GET /phpmyadmin/index.php?pma_username=root&pma_password=admin HTTP/1.1\" 404 153 \"-\" \"Mozilla/5.0\""
            )?;
            continue;
        }

        let crawler = rng.below(10) == 0;
        let (target, referrer) = if rng.below(3) == 0 {
            (rng.pick(PAGES), rng.pick(REFERRERS))
        } else {
            (rng.pick(STATIC_FILES), "https://shop.example.com/")
        };
        let (status, size) = if rng.below(5) == 0 { (304, 0) } else { (200, 200 + rng.below(90_000)) };
        let agent = if crawler { rng.pick(CRAWLERS) } else { rng.pick(BROWSERS) };
        let referrer = if crawler { "-" } else { referrer };
        writeln!(out, "{client} - - [{time}] \"GET {target} HTTP/1.1\" {status} {size} \"{referrer}\" \"{agent}\"")?;
    }
    out.flush()
}

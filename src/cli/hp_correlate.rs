//! Command-line options of `hp-correlate`.

use std::path::PathBuf;

use clap::Parser;
use ipnet::IpNet;

use crate::correlate;

/// The exit statuses, for --help and the man page.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success, also when the reader of the output closed it early
  1  writing the output failed
  2  invalid arguments or exclude file, or an input could not be opened or
     read (the other inputs are still processed)";

/// Read hp-match detection records (NDJSON) and write one aggregate record
/// per source address (NDJSON), sorted by count then address.
///
/// By default only promoted addresses are written: those with more than 10
/// hits on rule phpmyadmin-login. Loopback, unspecified, private (RFC 1918),
/// link-local and IPv6 unique-local addresses are never promoted.
///
/// Lines that are not detection records are reported on stderr with their
/// line number and skipped.
///
/// The first SIGINT or SIGTERM writes what was aggregated so far and ends the
/// run with status 0; a second one exits at once with status 130.
#[derive(Debug, Parser)]
#[command(name = "hp-correlate", version, max_term_width = 100, after_help = EXIT_STATUS_HELP)]
pub struct Args {
    /// Detection files to read; none or '-' reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,

    /// Rule whose hits count toward promotion (repeatable).
    #[arg(long = "rule", value_name = "ID", default_value = correlate::DEFAULT_PROMOTION_RULE)]
    pub rules: Vec<String>,

    /// Count the hits of every rule toward promotion.
    #[arg(long, conflicts_with = "rules")]
    pub all_rules: bool,

    /// Promote an address with more than N hits (11 or more by default).
    #[arg(long, value_name = "N", default_value_t = correlate::DEFAULT_THRESHOLD)]
    pub threshold: u64,

    /// Promote only when more than the threshold of hits fall inside one
    /// window of this log-time length: a number with s, m, h, d or w, e.g. 10m;
    /// a bare number is seconds.
    #[arg(long, value_name = "DURATION", value_parser = crate::timestamp::parse_duration)]
    pub window: Option<i64>,

    /// Count distinct request targets instead of hits (exact up to 1000 per
    /// address and rule).
    #[arg(long)]
    pub distinct: bool,

    /// Promote when the sum of impact weights over all rules (high 3,
    /// medium 2, low 1) is more than N; replaces the hit count.
    #[arg(long, value_name = "N")]
    pub score: Option<u64>,

    /// Write every address, not only the promoted ones.
    #[arg(long)]
    pub all: bool,

    /// Live mode: write each address the moment it is promoted, flushed at
    /// once, instead of all addresses at the end. For tail -F pipelines.
    #[arg(long, conflicts_with = "all")]
    pub follow: bool,

    /// With --follow, write a promoted address again when it keeps
    /// attacking this long (log time) after it was last written: a number
    /// with s, m, h, d or w, e.g. 1h. Without it, an address is written once.
    #[arg(long, value_name = "DURATION", value_parser = crate::timestamp::parse_duration, requires = "follow")]
    pub cooldown: Option<i64>,

    /// Never promote addresses in this range, e.g. 198.51.100.0/24, or this
    /// single address (repeatable).
    #[arg(long, value_name = "CIDR", value_parser = correlate::parse_exclude)]
    pub exclude: Vec<IpNet>,

    /// Read more ranges to exclude from FILE: one CIDR or address per line;
    /// '#' starts a comment.
    #[arg(long, value_name = "FILE")]
    pub exclude_file: Vec<PathBuf>,

    /// Print no warnings and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

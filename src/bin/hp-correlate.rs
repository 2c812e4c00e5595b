//! hp-correlate: aggregate detections per source address and promote the
//! confirmed attackers.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use ipnet::IpNet;

use hp::correlate::{self, CorrelateOptions, Correlator, PromotionRules};
use hp::diag::{self, BadLines};
use hp::input;

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
/// Exit status: 0 on success (also when the reader of the output closes it
/// early); 1 when writing failed; 2 for invalid arguments or when an input
/// could not be opened or read.
#[derive(Debug, Parser)]
#[command(name = "hp-correlate", version, max_term_width = 100)]
struct Args {
    /// Detection files to read; none or '-' reads stdin.
    #[arg(value_name = "FILE")]
    files: Vec<String>,

    /// Rule whose hits count toward promotion (repeatable).
    #[arg(long = "rule", value_name = "ID", default_value = correlate::DEFAULT_PROMOTION_RULE)]
    rules: Vec<String>,

    /// Count the hits of every rule toward promotion.
    #[arg(long, conflicts_with = "rules")]
    all_rules: bool,

    /// Promote an address with more than N hits (11 or more by default).
    #[arg(long, value_name = "N", default_value_t = correlate::DEFAULT_THRESHOLD)]
    threshold: u64,

    /// Promote only when more than the threshold of hits fall inside one
    /// window of this log-time length: a number with s, m, h or d, e.g. 10m.
    #[arg(long, value_name = "DURATION", value_parser = correlate::parse_duration)]
    window: Option<i64>,

    /// Count distinct request targets instead of hits (exact up to 1000 per
    /// address and rule).
    #[arg(long)]
    distinct: bool,

    /// Promote when the sum of impact weights over all rules (high 3,
    /// medium 2, low 1) is more than N; replaces the hit count.
    #[arg(long, value_name = "N")]
    score: Option<u64>,

    /// Write every address, not only the promoted ones.
    #[arg(long)]
    all: bool,

    /// Never promote addresses in this range, e.g. 198.51.100.0/24
    /// (repeatable).
    #[arg(long, value_name = "CIDR")]
    exclude: Vec<IpNet>,

    /// Read more ranges to exclude from FILE: one CIDR or address per line;
    /// '#' starts a comment.
    #[arg(long, value_name = "FILE")]
    exclude_file: Vec<PathBuf>,

    /// Print no warnings and no summary on stderr.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            if let Some(io_error) = error.downcast_ref::<io::Error>() {
                if diag::is_broken_pipe(io_error) {
                    return ExitCode::SUCCESS;
                }
            }
            diag::warn("hp-correlate", &format_args!("{error:#}"));
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<ExitCode> {
    let mut excludes = args.exclude.clone();
    for path in &args.exclude_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the exclude file {}", path.display()))?;
        let nets = correlate::parse_exclude_list(&text)
            .map_err(|e| anyhow::anyhow!("invalid exclude file {}: {e}", path.display()))?;
        excludes.extend(nets);
    }

    let options = CorrelateOptions {
        rules: if args.all_rules { PromotionRules::All } else { PromotionRules::Only(args.rules.clone()) },
        threshold: args.threshold,
        window_seconds: args.window,
        distinct: args.distinct,
        score: args.score,
        excludes,
    };
    let mut correlator = Correlator::new(options);
    let mut bad = BadLines::new("hp-correlate", "invalid detection record", diag::DEFAULT_SHOWN, args.quiet);
    let mut without_address = 0u64;

    let files = input::names_or_stdin(&args.files);
    let failed = input::for_each_line(&files, "hp-correlate", |name, number, line| {
        match correlator.add_line(line) {
            Ok(correlate::Counted::NoAddress) => without_address += 1,
            Ok(_) => {}
            Err(error) => bad.report(name, number, &error, line),
        }
        Ok(())
    })?;
    bad.finish();

    let mut out = BufWriter::new(io::stdout().lock());
    let mut promoted = 0u64;
    for aggregate in correlator.aggregates(args.all) {
        promoted += u64::from(aggregate.promoted);
        serde_json::to_writer(&mut out, &aggregate).map_err(io::Error::from)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;

    if !args.quiet {
        diag::warn(
            "hp-correlate",
            &format_args!(
                "{} addresses, {promoted} promoted; {} invalid records, {without_address} detections without an address",
                correlator.addresses(),
                bad.total(),
            ),
        );
    }
    Ok(if failed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

//! hp-correlate: aggregate detections per source address and promote the
//! confirmed attackers.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use clap::Parser;

use hp::cli::hp_correlate::Args;

use hp::correlate::{self, CorrelateOptions, Correlator, PromotionRules};
use hp::diag::{self, BadLines};
use hp::input;


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

/// Writes aggregate records to stdout, one at a time so that they are never
/// all in memory, and flushes them. Returns how many were promoted.
fn write_aggregates(aggregates: impl IntoIterator<Item = correlate::Aggregate>) -> io::Result<u64> {
    let mut out = BufWriter::new(io::stdout().lock());
    let mut promoted = 0;
    for aggregate in aggregates {
        promoted += u64::from(aggregate.promoted);
        serde_json::to_writer(&mut out, &aggregate).map_err(io::Error::from)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(promoted)
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
    let correlator = Arc::new(Mutex::new(Correlator::new(options)));
    let (all, follow) = (args.all, args.follow);
    let on_signal = Arc::clone(&correlator);
    hp::signals::on_first_signal(move |_signal| {
        let correlator = on_signal.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // In follow mode every promotion was already written and flushed.
        let result = if follow { Ok(0) } else { write_aggregates(correlator.aggregates(all)) };
        std::process::exit(if result.is_ok() { 0 } else { 1 });
    })?;

    let mut bad = BadLines::new("hp-correlate", "invalid detection record", diag::DEFAULT_SHOWN, args.quiet);
    let mut without_address = 0u64;
    let files = input::names_or_stdin(&args.files);
    let read = input::for_each_line(&files, "hp-correlate", |name, number, line| {
        let mut correlator = correlator.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match correlator.add_line(line) {
            Ok(correlate::Counted::Detection(ip)) if follow => {
                if let Some(aggregate) = correlator.promotion_due(ip, args.cooldown) {
                    write_aggregates([aggregate])?;
                }
            }
            Ok(correlate::Counted::NoAddress) => without_address += 1,
            Ok(_) => {}
            Err(error) => bad.report(name, number, &error, line),
        }
        Ok(())
    });
    bad.finish();
    // The callback returns an error only when writing a promotion failed.
    let failed = match read {
        Ok(failed) => failed,
        Err(error) => return Ok(diag::output_failed("hp-correlate", &error)),
    };

    let correlator = correlator.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut promoted = 0;
    if !follow {
        match write_aggregates(correlator.aggregates(args.all)) {
            Ok(count) => promoted = count,
            Err(error) => return Ok(diag::output_failed("hp-correlate", &error)),
        }
    }

    if !args.quiet {
        // A mistyped --rule promotes no address, silently unless warned here.
        if !args.all_rules && correlator.addresses() > 0 {
            for rule in args.rules.iter().filter(|rule| !correlator.saw_rule(rule)) {
                diag::warn(
                    "hp-correlate",
                    &format_args!("promotion rule '{rule}' did not occur in the input; check the id with hp-match --list-rules"),
                );
            }
        }
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

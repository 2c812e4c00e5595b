//! hp-xdr: send confirmed attackers to Cisco XDR as an incident, a sighting
//! and, with a blocking feed, one judgement per address.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use jiff::Timestamp;

use hp::cli::hp_xdr::Args;
use hp::xdr::cli::{self, UsageError};
use hp::xdr::client::Client;
use hp::xdr::config::Overrides;
use hp::xdr::error::EXIT_OK;
use hp::xdr::follow::{self, FollowOptions};
use hp::xdr::input::{self, Attacker};
use hp::xdr::push::{self, PushOptions, PushSummary};

/// How many invalid input lines are shown before only counting them.
const MAX_SHOWN_INVALID_LINES: usize = 20;


fn main() -> ExitCode {
    let args = Args::parse();
    cli::exit("hp-xdr", run(&args))
}

fn run(args: &Args) -> anyhow::Result<u8> {
    let quiet = args.connection.quiet;
    let (settings, warnings) = args.connection.settings(overrides(args))?;
    for warning in &warnings {
        eprintln!("hp-xdr: warning: {warning}");
    }

    let stdout = io::stdout();
    let mut out = stdout.lock();

    if args.follow {
        let state_dir = args.connection.state_dir()?;
        let mut client = Client::new(&settings, args.connection.client_options())?;
        let options = FollowOptions {
            flush_after: Duration::from_secs(args.flush_secs.max(1)),
            max_batch: args.max_batch.max(1),
            resend: args.resend,
            progress: !quiet,
        };
        let stop = hp::signals::stop_flag().context("cannot install the SIGINT and SIGTERM handlers")?;
        let lines = follow::spawn_reader(BufReader::new(io::stdin()));
        return Ok(follow::follow(
            &settings,
            &mut client,
            &state_dir,
            lines,
            &options,
            &stop,
            &mut out,
        )?);
    }

    let run_time = Timestamp::now();
    let attackers = read_inputs(&args.files, run_time)?;

    if args.dry_run {
        let bundles = push::dry_run(&settings, &attackers, run_time, &mut out)?;
        out.flush().context("cannot write to standard output")?;
        if !quiet {
            eprintln!("hp-xdr: dry run: {bundles} bundle(s), nothing sent");
        }
        return Ok(EXIT_OK);
    }

    let state_dir = args.connection.state_dir()?;
    let mut client = Client::new(&settings, args.connection.client_options())?;
    let options = PushOptions {
        resend: args.resend,
        run_time,
        progress: !quiet,
    };

    let outcome = push::push(
        &settings,
        &mut client,
        &state_dir,
        &attackers,
        &options,
        &mut out,
    );
    out.flush().context("cannot write to standard output")?;
    if !quiet {
        print_summary(&outcome.summary);
    }

    match outcome.error {
        None => Ok(EXIT_OK),
        Some(err) => {
            let code = err.exit_code();
            eprintln!("hp-xdr: error: {err}");
            if outcome.summary.still_queued > 0 {
                eprintln!(
                    "hp-xdr: {} address(es) stay queued in {} and are sent first on the next run",
                    outcome.summary.still_queued,
                    state_dir.path().display()
                );
            } else if outcome.summary.spooled && matches!(err, hp::xdr::Error::LockTimeout { .. }) {
                eprintln!(
                    "hp-xdr: the input is saved in {} and is sent by the next run",
                    state_dir.spool_dir().display()
                );
            }
            Ok(code)
        }
    }
}

fn overrides(args: &Args) -> Overrides {
    let feed = match (args.feed, args.no_feed) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    Overrides {
        honeypot_name: args.honeypot_name.clone(),
        honeypot_hostname: args.honeypot_hostname.clone(),
        honeypot_ip: args.honeypot_ip.clone(),
        honeypot_mac: args.honeypot_mac.clone(),
        feed,
        judgement_days: args.judgement_days,
        max_entities: args.max_entities,
        ..Overrides::default()
    }
}

/// Reads every input, reports invalid lines on stderr and returns the
/// attackers merged by address.
fn read_inputs(files: &[PathBuf], run_time: Timestamp) -> anyhow::Result<Vec<Attacker>> {
    let stdin_only = [PathBuf::from("-")];
    let files = if files.is_empty() {
        &stdin_only[..]
    } else {
        files
    };

    let mut attackers = Vec::new();
    let mut invalid = 0;
    for path in files {
        let (name, outcome) = if path.as_os_str() == "-" {
            let outcome = input::read_lines(io::stdin().lock(), run_time)
                .context("cannot read standard input")?;
            ("standard input".to_string(), outcome)
        } else {
            let file = File::open(path).map_err(|err| {
                UsageError(format!("cannot open input file {}: {err}", path.display()))
            })?;
            let outcome = input::read_lines(BufReader::new(file), run_time)
                .with_context(|| format!("cannot read input file {}", path.display()))?;
            (path.display().to_string(), outcome)
        };

        for line in &outcome.invalid {
            if invalid < MAX_SHOWN_INVALID_LINES {
                eprintln!("hp-xdr: warning: skipped {name} {line}");
            }
            invalid += 1;
        }
        attackers.extend(outcome.attackers);
    }

    if invalid > MAX_SHOWN_INVALID_LINES {
        eprintln!(
            "hp-xdr: warning: skipped {invalid} invalid input lines in all ({} not shown)",
            invalid - MAX_SHOWN_INVALID_LINES
        );
    }
    Ok(input::merge_by_address(attackers))
}

fn print_summary(summary: &PushSummary) {
    if summary.pending == 0 && summary.skipped_as_sent == 0 {
        eprintln!("hp-xdr: nothing to send: no addresses in the input or the queue");
        return;
    }
    if summary.pending == 0 {
        eprintln!(
            "hp-xdr: nothing to send: {} address(es) were already sent and are still valid (--resend sends them again)",
            summary.skipped_as_sent
        );
        return;
    }
    eprintln!(
        "hp-xdr: sent {} of {} address(es) in {} bundle(s): {} entities created, {} already existed; \
         {} skipped as already sent",
        summary.addresses_sent,
        summary.pending,
        summary.bundles_sent,
        summary.created,
        summary.exists,
        summary.skipped_as_sent
    );
}

//! hp-xdr-clean: list, and with --yes delete, the XDR entities that hp created.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use jiff::Timestamp;

use hp::xdr::clean::{self, CleanSummary, Selection};
use hp::cli::hp_xdr_clean::Args;
use hp::xdr::cli;
use hp::xdr::client::Client;
use hp::xdr::config::Overrides;
use hp::xdr::error::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};


fn main() -> ExitCode {
    let args = Args::parse();
    cli::exit("hp-xdr-clean", run(&args))
}

fn run(args: &Args) -> anyhow::Result<u8> {
    let quiet = args.connection.quiet;
    let (settings, warnings) = args.connection.settings(Overrides::default())?;
    for warning in &warnings {
        eprintln!("hp-xdr-clean: warning: {warning}");
    }

    let created_before = match args.older_than {
        Some(seconds) => {
            let cutoff = Timestamp::now()
                .as_second()
                .checked_sub(seconds)
                .and_then(|s| Timestamp::from_second(s).ok());
            match cutoff {
                Some(cutoff) => Some(cutoff),
                None => {
                    eprintln!("hp-xdr-clean: error: --older-than is too large");
                    return Ok(EXIT_USAGE);
                }
            }
        }
        None => None,
    };
    let selection = Selection {
        prefix: settings.prefix.clone(),
        source: settings.source.clone(),
        created_before,
        page_size: usize::from(args.page_size),
    };

    let mut client = Client::new(&settings, args.connection.client_options())?;
    let candidates = if args.from_state {
        let state_dir = args.connection.state_dir()?;
        clean::find_in_state(&state_dir, client.ctia(), created_before)?
    } else {
        clean::find(&mut client, &selection)?
    };

    let stdout = io::stdout();
    let mut out = stdout.lock();

    if !args.yes {
        let summary = clean::list(&candidates, &mut out)?;
        out.flush().context("cannot write to standard output")?;
        if !quiet {
            let scope = if args.from_state {
                "recorded in the state directory".to_string()
            } else {
                format!(
                    "with source '{}' and prefix '{}-'",
                    selection.source, selection.prefix
                )
            };
            eprintln!(
                "hp-xdr-clean: dry run: {} entities {scope} would be deleted; add --yes to delete them",
                summary.selected - summary.refused
            );
        }
        return Ok(finish(&summary));
    }

    let (summary, removed_ids) = clean::delete(&mut client, &candidates, &mut out, !quiet)?;
    out.flush().context("cannot write to standard output")?;

    if !removed_ids.is_empty() {
        match args
            .connection
            .state_dir()
            .and_then(|dir| clean::forget_deleted(&dir, &removed_ids))
        {
            Ok(forgotten) if forgotten > 0 && !quiet => {
                eprintln!(
                    "hp-xdr-clean: {forgotten} address(es) removed from the state, so hp-xdr sends them again"
                );
            }
            Ok(_) => {}
            Err(err) => {
                eprintln!("hp-xdr-clean: warning: the state directory was not updated: {err}")
            }
        }
    }

    if !quiet {
        eprintln!(
            "hp-xdr-clean: {} selected: {} deleted, {} already gone, {} refused, {} failed, {} not attempted",
            summary.selected,
            summary.deleted,
            summary.already_gone,
            summary.refused,
            summary.failed,
            summary.skipped
        );
    }
    Ok(finish(&summary))
}

fn finish(summary: &CleanSummary) -> u8 {
    match &summary.first_failure {
        _ if summary.is_success() => EXIT_OK,
        Some(first) => {
            eprintln!("hp-xdr-clean: error: {first}");
            EXIT_FAILURE
        }
        None => EXIT_FAILURE,
    }
}

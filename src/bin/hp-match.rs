//! hp-match: find attacks in access logs and write one detection per line.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;

use hp::cli::hp_match::Args;

use hp::diag;
use hp::follow::FollowReader;
use hp::input;
use hp::matcher::Matcher;
use hp::rules::{self, RuleSet};
use hp::scan::{ScanError, ScanOptions, Scanner};


fn main() -> ExitCode {
    let args = Args::parse();

    let set = match load_rules(&args) {
        Ok(set) => set,
        Err(error) => {
            diag::warn("hp-match", &error);
            return ExitCode::from(2);
        }
    };
    if args.follow && args.files.len() != 1 {
        diag::warn("hp-match", &"--follow takes exactly one file; for several, use: tail -F FILE... | hp-match");
        return ExitCode::from(2);
    }
    if args.list_rules {
        return finish_output(rules::write_listing(&set, &mut io::stdout().lock()));
    }

    let matcher = Matcher::new(&set);
    let options = ScanOptions {
        all: args.all,
        line_buffered: args.line_buffered || args.follow,
        quiet: args.quiet,
        show_malformed: args.show_malformed,
    };
    let mut scanner = Scanner::new(&matcher, options);
    let files = input::names_or_stdin(&args.files);

    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = if args.follow {
        follow(&mut scanner, &args, &mut out)
    } else {
        scan_all(&mut scanner, &files, args.quiet, &mut out)
    };
    let result = result.and_then(|()| out.flush().map_err(ScanError::Output));
    scanner.print_summary();

    match result {
        Err(ScanError::Output(error)) if diag::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            diag::warn("hp-match", &error);
            ExitCode::from(1)
        }
        Ok(()) if scanner.stats().failed_inputs > 0 => ExitCode::from(2),
        Ok(()) => ExitCode::SUCCESS,
    }
}

fn load_rules(args: &Args) -> Result<RuleSet, rules::RuleError> {
    let packs: Vec<&str> = if args.no_default_rules {
        Vec::new()
    } else if args.packs.is_empty() {
        rules::DEFAULT_PACKS.to_vec()
    } else {
        args.packs.iter().map(String::as_str).collect()
    };
    RuleSet::load(&packs, &args.rule_files)
}

fn scan_all(scanner: &mut Scanner<'_>, files: &[String], quiet: bool, out: &mut impl Write) -> Result<(), ScanError> {
    for name in files {
        match input::open(name) {
            Ok(reader) => scanner.scan(name, diag::with_progress(reader, name, quiet), out)?,
            Err(error) => scanner.input_failed(name, &error),
        }
    }
    Ok(())
}

/// Follows the one file named until SIGINT or SIGTERM.
fn follow(scanner: &mut Scanner<'_>, args: &Args, out: &mut impl Write) -> Result<(), ScanError> {
    let name = &args.files[0];
    let opened = hp::signals::stop_flag()
        .and_then(|stop| FollowReader::open(name.into(), args.from_end, stop, "hp-match"));
    match opened {
        Ok(reader) => scanner.scan(name, reader, out),
        Err(error) => {
            scanner.input_failed(name, &error);
            Ok(())
        }
    }
}

fn finish_output(result: io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if diag::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            diag::warn("hp-match", &format_args!("cannot write the output: {error}"));
            ExitCode::from(1)
        }
    }
}

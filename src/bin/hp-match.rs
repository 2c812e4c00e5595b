//! hp-match: find attacks in access logs and write one detection per line.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use hp::diag;
use hp::input;
use hp::matcher::Matcher;
use hp::rules::{self, RuleSet};
use hp::scan::{ScanError, ScanOptions, Scanner};

/// Read web-server access logs (Apache/nginx combined, common, vhost_combined;
/// plain or gzip) and write one JSON detection record per line (NDJSON) for
/// every rule that fires.
///
/// Malformed lines are reported on stderr with their file and line number and
/// do not stop the run. A summary goes to stderr at the end (-q silences it).
///
/// Exit status: 0 when the run completed, whether or not anything matched
/// (also when the reader of the output closes it early); 1 when writing the
/// output failed; 2 for invalid rules or arguments, or when an input could
/// not be opened or read (the other inputs are still processed).
#[derive(Debug, Parser)]
#[command(name = "hp-match", version, max_term_width = 100)]
struct Args {
    /// Access logs to read; none or '-' reads stdin. Gzip input is detected
    /// by its magic bytes.
    #[arg(value_name = "FILE")]
    files: Vec<String>,

    /// Built-in rule pack to load, in place of the default (repeatable).
    /// See --list-rules.
    #[arg(long = "pack", value_name = "NAME")]
    packs: Vec<String>,

    /// Rule file (TOML) to load in addition to the packs (repeatable).
    #[arg(long = "rules", value_name = "FILE")]
    rule_files: Vec<PathBuf>,

    /// Load no built-in pack: only the files given with --rules.
    #[arg(long)]
    no_default_rules: bool,

    /// Print the loaded packs and rules, then exit.
    #[arg(long)]
    list_rules: bool,

    /// Write a record for every parsed line; rule, name and impact are null
    /// on lines that fire nothing.
    #[arg(long)]
    all: bool,

    /// Flush the output after each input line, for live use with tail -F.
    #[arg(long)]
    line_buffered: bool,

    /// Number of malformed lines printed in full before the rest are only
    /// counted.
    #[arg(long, value_name = "N", default_value_t = diag::DEFAULT_SHOWN)]
    show_malformed: u64,

    /// Print no warnings and no summary on stderr.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();

    let set = match load_rules(&args) {
        Ok(set) => set,
        Err(error) => {
            diag::warn("hp-match", &error);
            return ExitCode::from(2);
        }
    };
    if args.list_rules {
        return finish_output(rules::write_listing(&set, &mut io::stdout().lock()));
    }

    let matcher = Matcher::new(&set);
    let options = ScanOptions {
        all: args.all,
        line_buffered: args.line_buffered,
        quiet: args.quiet,
        show_malformed: args.show_malformed,
    };
    let mut scanner = Scanner::new(&matcher, options);
    let files = input::names_or_stdin(&args.files);

    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = scan_all(&mut scanner, &files, &mut out).and_then(|()| out.flush().map_err(ScanError::Output));
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

fn scan_all(scanner: &mut Scanner<'_>, files: &[String], out: &mut impl Write) -> Result<(), ScanError> {
    for name in files {
        match input::open(name) {
            Ok(reader) => scanner.scan(name, reader, out)?,
            Err(error) => scanner.input_failed(name, &error),
        }
    }
    Ok(())
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

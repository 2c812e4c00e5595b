//! hp-report: a human report from detections and/or aggregates.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use hp::diag::{self, BadLines};
use hp::input;
use hp::report::{self, Format, Report};
use hp::rules::{self, RuleSet};

/// Read hp-match detections and/or hp-correlate aggregates (NDJSON; the kind
/// is detected per line) and print a report for people: detections per
/// rule, top sources, and the promoted addresses.
///
/// Promotion from detections alone uses hp-correlate's defaults (more than
/// 10 phpmyadmin-login hits); pipe through hp-correlate to choose otherwise.
///
/// Exit status: 0 on success; 1 when writing failed; 2 for invalid
/// arguments or when an input could not be opened or read.
#[derive(Debug, Parser)]
#[command(name = "hp-report", version, max_term_width = 100)]
struct Args {
    /// Files to read; none or '-' reads stdin.
    #[arg(value_name = "FILE")]
    files: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Also list every detection (impact, name and raw line); needs
    /// detection records, not aggregates.
    #[arg(long)]
    detail: bool,

    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Rule file whose names and impacts label rules that the built-in packs
    /// do not know (repeatable).
    #[arg(long = "rules", value_name = "FILE")]
    rule_files: Vec<PathBuf>,

    /// Print no warnings on stderr.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            if error.downcast_ref::<io::Error>().is_some_and(diag::is_broken_pipe) {
                return ExitCode::SUCCESS;
            }
            diag::warn("hp-report", &format_args!("{error:#}"));
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<ExitCode> {
    let set = RuleSet::load(rules::DEFAULT_PACKS, &args.rule_files)?;
    let lookup = report::rule_lookup(&set);

    let mut report = Report::new(args.detail);
    let mut bad = BadLines::new("hp-report", "unreadable record", diag::DEFAULT_SHOWN, args.quiet);
    let files = input::names_or_stdin(&args.files);
    let failed = input::for_each_line(&files, "hp-report", |name, number, line| {
        if let Err(error) = report.add_line(line) {
            bad.report(name, number, &error, line);
        }
        Ok(())
    })?;
    bad.finish();

    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(file);
            report.write(&lookup, args.format, &mut out)?;
            out.flush().with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            report.write(&lookup, args.format, &mut out)?;
            out.flush()?;
        }
    }
    Ok(if failed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

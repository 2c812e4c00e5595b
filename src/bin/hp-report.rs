//! hp-report: a human report from detections and/or aggregates.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use hp::cli::hp_report::Args;

use hp::diag::{self, BadLines};
use hp::input;
use hp::report::{self, Report};
use hp::rules::{self, RuleSet};


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

    // The HTML page always carries the detection table.
    let mut report = Report::new(args.detail || args.format == report::Format::Html);
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
            let written = std::fs::File::create(path).and_then(|file| {
                let mut out = BufWriter::new(file);
                report.write(&lookup, args.format, &mut out)?;
                out.flush()
            });
            if let Err(error) = written {
                diag::warn("hp-report", &format_args!("cannot write {}: {error}; check the path and free space", path.display()));
                return Ok(ExitCode::from(1));
            }
        }
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            if let Err(error) = report.write(&lookup, args.format, &mut out).and_then(|()| out.flush()) {
                return Ok(diag::output_failed("hp-report", &error));
            }
        }
    }
    Ok(if failed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

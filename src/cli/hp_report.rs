//! Command-line options of `hp-report`.

use std::path::PathBuf;

use clap::Parser;

use crate::report::Format;

/// The exit statuses, for --help and the man page.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success, also when the reader of the output closed it early
  1  writing the report failed
  2  invalid arguments or rule file, or an input could not be opened or
     read (the other inputs are still processed)";

/// Read hp-match detections and/or hp-correlate aggregates (NDJSON; the kind
/// is detected per line) and print a report for people: detections per
/// rule, top sources, and the promoted addresses.
///
/// Promotion from detections alone uses hp-correlate's defaults (more than
/// 10 phpmyadmin-login hits); pipe through hp-correlate to choose otherwise.
#[derive(Debug, Parser)]
#[command(name = "hp-report", version, max_term_width = 100, after_help = EXIT_STATUS_HELP)]
pub struct Args {
    /// Files to read; none or '-' reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also list every detection (impact, name and raw line); needs
    /// detection records, not aggregates.
    #[arg(long)]
    pub detail: bool,

    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Rule file whose names and impacts label rules that the built-in packs
    /// do not know (repeatable).
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,

    /// Print no warnings on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

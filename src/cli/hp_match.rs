//! Command-line options of `hp-match`.

use std::path::PathBuf;

use clap::Parser;

use crate::diag;

/// The exit statuses, for --help and the man page.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  the run completed, whether or not anything matched, also when the
     reader of the output closed it early (as | head does)
  1  writing the output failed
  2  invalid rules or arguments, or an input could not be opened or read
     (the other inputs are still processed)";

/// Read web-server access logs (Apache/nginx combined, common, vhost_combined;
/// plain or gzip) and write one JSON detection record per line (NDJSON) for
/// every rule that fires.
///
/// Malformed lines are reported on stderr with their file and line number and
/// do not stop the run. A summary goes to stderr at the end (-q silences it).
#[derive(Debug, Parser)]
#[command(name = "hp-match", version, max_term_width = 100, after_help = EXIT_STATUS_HELP)]
pub struct Args {
    /// Access logs to read; none or '-' reads stdin. Gzip input is detected
    /// by its magic bytes.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,

    /// Built-in rule pack to load, in place of the default (repeatable).
    /// See --list-rules.
    #[arg(long = "pack", value_name = "NAME")]
    pub packs: Vec<String>,

    /// Rule file (TOML) to load in addition to the packs (repeatable).
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,

    /// Load no built-in pack: only the files given with --rules.
    #[arg(long)]
    pub no_default_rules: bool,

    /// Print the loaded packs and rules, then exit.
    #[arg(long)]
    pub list_rules: bool,

    /// Write a record for every parsed line; rule, name and impact are null
    /// on lines that fire nothing.
    #[arg(long)]
    pub all: bool,

    /// Flush the output after each input line, for live use with tail -F.
    #[arg(long)]
    pub line_buffered: bool,

    /// Follow FILE as it grows, across rotation by rename or copytruncate,
    /// until SIGINT or SIGTERM; implies --line-buffered. Takes one plain
    /// (not gzip) file.
    #[arg(long)]
    pub follow: bool,

    /// With --follow, start at the end of the file instead of its start.
    #[arg(long, requires = "follow")]
    pub from_end: bool,

    /// Number of malformed lines printed in full before the rest are only
    /// counted.
    #[arg(long, value_name = "N", default_value_t = diag::DEFAULT_SHOWN)]
    pub show_malformed: u64,

    /// Print no warnings and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

//! Warnings for people, on stderr: bad input lines, counted and rate-limited.
//!
//! A filter in a pipe must not stop at a bad line, and must not flood the
//! terminal either. [`BadLines`] prints the first few bad lines in full, with
//! their file and line number, and counts the rest; [`BadLines::finish`]
//! prints how many were not shown.

use std::io::Write;

use bstr::ByteSlice;

/// How many bad lines are printed in full before the rest are only counted.
pub const DEFAULT_SHOWN: u64 = 5;

/// Maximum length of the excerpt of a bad line that is printed, in bytes.
const EXCERPT_BYTES: usize = 300;

/// Counts bad input lines and prints the first few.
#[derive(Debug)]
pub struct BadLines {
    program: &'static str,
    /// The name of a bad line in messages, e.g. "malformed line".
    kind: &'static str,
    max_shown: u64,
    quiet: bool,
    total: u64,
}

impl BadLines {
    pub fn new(program: &'static str, kind: &'static str, max_shown: u64, quiet: bool) -> BadLines {
        BadLines { program, kind, max_shown, quiet, total: 0 }
    }

    /// Counts a bad line and prints it while fewer than `max_shown` were.
    /// Control characters and bytes that are not UTF-8 are escaped, so a
    /// hostile line cannot drive the terminal.
    pub fn report(&mut self, file: &str, line: u64, reason: &dyn std::fmt::Display, content: &[u8]) {
        self.total += 1;
        if self.quiet || self.total > self.max_shown {
            return;
        }

        let cut = content.len() > EXCERPT_BYTES;
        let excerpt = &content[..content.len().min(EXCERPT_BYTES)];
        let more = if cut { format!(" (first {EXCERPT_BYTES} of {} bytes)", content.len()) } else { String::new() };
        let _ = writeln!(
            std::io::stderr().lock(),
            "{}: {file}:{line}: {} ({reason}): {:?}{more}",
            self.program,
            self.kind,
            excerpt.as_bstr(),
        );
    }

    /// Returns the number of bad lines counted so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Prints how many bad lines were counted but not shown.
    pub fn finish(&self) {
        if !self.quiet && self.total > self.max_shown {
            let _ = writeln!(
                std::io::stderr().lock(),
                "{}: {} more {}s not shown ({} in all)",
                self.program,
                self.total - self.max_shown,
                self.kind,
                self.total
            );
        }
    }
}

/// Prints a warning line on stderr, prefixed with the program name.
pub fn warn(program: &str, message: &dyn std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{program}: {message}");
}

/// True when an I/O error means the reader of our stdout went away, as in
/// `hp-match big.log | head -1`: the run then ends quietly with status 0.
pub fn is_broken_pipe(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}

/// Wraps a file reader in a progress bar on stderr (bytes, rate, time
/// left) when stderr is a terminal, so a long run over a big log shows it
/// is alive. On a pipe or under cron the reader is returned as it is.
pub fn with_progress(reader: Box<dyn std::io::Read>, path: &str, quiet: bool) -> Box<dyn std::io::Read> {
    use std::io::IsTerminal;

    if quiet || path == crate::input::STDIN_NAME || !std::io::stderr().is_terminal() {
        return reader;
    }
    let Ok(metadata) = std::fs::metadata(path) else {
        return reader;
    };

    let bar = indicatif::ProgressBar::new(metadata.len());
    let style = indicatif::ProgressStyle::with_template(
        "{prefix} {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    );
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar.set_prefix(path.to_owned());
    Box::new(bar.wrap_read(reader))
}

/// Ends a filter whose output failed: quietly with status 0 when the reader
/// went away (a closed pipe), else with a message and status 1.
pub fn output_failed(program: &str, error: &std::io::Error) -> std::process::ExitCode {
    if is_broken_pipe(error) {
        return std::process::ExitCode::SUCCESS;
    }
    warn(program, &format_args!("cannot write the output: {error}"));
    std::process::ExitCode::from(1)
}

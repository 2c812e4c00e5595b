//! The `hp-match` job: inputs through the matcher into detection records.
//!
//! Every line gets the structural check. A line that fails it is malformed:
//! it is counted and reported on stderr with its file and line number, and
//! the run goes on. Blank lines are skipped. A line that passes is matched;
//! the full field parse runs only when a rule fires (or for every line with
//! `--all`), and each fired rule gives one detection record on the output.

use std::io::{self, Read, Write};

use thiserror::Error;

use crate::detection::DetectionWriter;
use crate::diag::BadLines;
use crate::input::{LineReader, MAX_LINE_BYTES};
use crate::logline::{Frame, LineError, LogLine};
use crate::matcher::{Matcher, Scratch};

/// What the caller chose on the command line.
#[derive(Clone, Copy, Debug)]
pub struct ScanOptions {
    /// Write a record for every parsed line, with a null rule where none fires.
    pub all: bool,
    /// Flush the output after each input line's records, for `tail -F`.
    pub line_buffered: bool,
    /// Print no warnings and no summary.
    pub quiet: bool,
    /// How many malformed lines are printed in full before the rest are
    /// only counted.
    pub show_malformed: u64,
}

/// Counts of one run, for the end-of-run summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub inputs: u64,
    /// Inputs that could not be opened or read to the end.
    pub failed_inputs: u64,
    pub lines: u64,
    pub blank: u64,
    pub malformed: u64,
    pub matched_lines: u64,
    pub detections: u64,
    /// Detections per rule, indexed as the matcher's rules.
    pub per_rule: Vec<u64>,
}

/// Why a scan stopped.
#[derive(Debug, Error)]
pub enum ScanError {
    /// Writing the records failed; nothing more can be delivered.
    #[error("cannot write the detection records: {0}")]
    Output(#[source] io::Error),
}

/// Why one line is malformed.
#[derive(Debug, Error)]
enum Malformed {
    #[error(transparent)]
    Line(#[from] LineError),
    #[error("longer than {MAX_LINE_BYTES} bytes; only the start was read")]
    TooLong,
}

/// Runs the matcher over inputs and writes detection records.
pub struct Scanner<'m> {
    matcher: &'m Matcher,
    writer: DetectionWriter,
    scratch: Scratch,
    options: ScanOptions,
    stats: ScanStats,
    malformed: BadLines,
}

impl<'m> Scanner<'m> {
    pub fn new(matcher: &'m Matcher, options: ScanOptions) -> Scanner<'m> {
        Scanner {
            matcher,
            writer: DetectionWriter::new(matcher.rules()),
            scratch: matcher.scratch(),
            options,
            stats: ScanStats { per_rule: vec![0; matcher.rules().len()], ..ScanStats::default() },
            malformed: BadLines::new("hp-match", "malformed line", options.show_malformed, options.quiet),
        }
    }

    /// Scans one input named `name` (`-` for stdin) and writes its records
    /// to `out`. A read error ends this input with a warning and counts it
    /// as failed; only an output error stops the run.
    pub fn scan<R: Read, W: Write>(&mut self, name: &str, reader: R, out: &mut W) -> Result<(), ScanError> {
        self.stats.inputs += 1;
        let mut lines = LineReader::new(reader);

        loop {
            let line = match lines.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(error) => {
                    self.stats.failed_inputs += 1;
                    crate::diag::warn(
                        "hp-match",
                        &format_args!("{name}: read failed after line {}: {error}; the rest of this input is skipped", self.stats.lines),
                    );
                    break;
                }
            };
            self.stats.lines += 1;

            if line.bytes.iter().all(u8::is_ascii_whitespace) {
                self.stats.blank += 1;
                continue;
            }
            if line.truncated {
                self.report_malformed(name, line.number, &Malformed::TooLong, line.bytes);
                continue;
            }

            let wrote = self.scan_line(name, line.bytes, line.number, out).map_err(ScanError::Output)?;
            if wrote && self.options.line_buffered {
                out.flush().map_err(ScanError::Output)?;
            }
        }
        Ok(())
    }

    /// Matches one non-blank line and writes its records. Returns whether
    /// anything was written.
    fn scan_line<W: Write>(&mut self, name: &str, bytes: &[u8], number: u64, out: &mut W) -> io::Result<bool> {
        let frame = match Frame::find(bytes) {
            Ok(frame) => frame,
            Err(error) => {
                self.report_malformed(name, number, &Malformed::Line(error), bytes);
                return Ok(false);
            }
        };

        let found = self.matcher.match_line(bytes, &frame, &mut self.scratch);
        if self.scratch.fired.is_empty() && !self.options.all {
            if let Some(Err(error)) = found.parsed {
                self.report_malformed(name, number, &Malformed::Line(error), bytes);
            }
            return Ok(false);
        }

        let fields = match found.parsed {
            Some(parsed) => parsed,
            None => LogLine::from_frame(bytes, &frame),
        };
        let fields = match fields {
            Ok(fields) => fields,
            Err(error) => {
                self.report_malformed(name, number, &Malformed::Line(error), bytes);
                return Ok(false);
            }
        };

        self.writer.set_line(&fields, bytes, name, number);
        if self.scratch.fired.is_empty() {
            self.writer.write_record(None, out)?;
            return Ok(true);
        }
        self.stats.matched_lines += 1;
        for &rule in &self.scratch.fired {
            self.writer.write_record(Some(rule), out)?;
            self.stats.per_rule[rule] += 1;
            self.stats.detections += 1;
        }
        Ok(true)
    }

    fn report_malformed(&mut self, name: &str, number: u64, reason: &Malformed, bytes: &[u8]) {
        self.stats.malformed += 1;
        self.malformed.report(name, number, reason, bytes);
    }

    /// Counts an input that could not be opened.
    pub fn input_failed(&mut self, name: &str, error: &io::Error) {
        self.stats.inputs += 1;
        self.stats.failed_inputs += 1;
        crate::diag::warn("hp-match", &format_args!("{name}: cannot open: {error}"));
    }

    pub fn stats(&self) -> &ScanStats {
        &self.stats
    }

    /// Prints the end-of-run summary on stderr, unless quiet.
    pub fn print_summary(&self) {
        self.malformed.finish();
        if self.options.quiet {
            return;
        }

        let stats = &self.stats;
        let mut err = io::stderr().lock();
        let _ = writeln!(
            err,
            "hp-match: {} lines read from {} input{}: {} malformed, {} blank, {} detections on {} lines",
            stats.lines,
            stats.inputs,
            if stats.inputs == 1 { "" } else { "s" },
            stats.malformed,
            stats.blank,
            stats.detections,
            stats.matched_lines,
        );

        let mut per_rule: Vec<(usize, u64)> =
            stats.per_rule.iter().copied().enumerate().filter(|(_, count)| *count > 0).collect();
        per_rule.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (rule, count) in per_rule {
            let _ = writeln!(err, "hp-match:   {:>8}  {}", count, self.matcher.rules()[rule].id);
        }
    }
}

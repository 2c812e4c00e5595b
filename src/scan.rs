//! The `hp-match` job: inputs through the matcher into detection records.
//!
//! Every line gets the structural check. A line that fails it is malformed:
//! it is counted and reported on stderr with its file and line number, and
//! the run goes on. Blank lines are skipped. A line that passes is matched;
//! the full field parse runs only when a rule fires (or for every line with
//! `--all`), and each fired rule gives one detection record on the output.

use std::io::{self, Read, Write};
use std::sync::mpsc;

use thiserror::Error;

use crate::detection::DetectionWriter;
use crate::diag::BadLines;
use crate::input::{Line, LineReader, MAX_LINE_BYTES};
use crate::logline::{Frame, LineError, LogLine};
use crate::matcher::{Matcher, Scratch};

/// Options of a scan, as chosen on the command line.
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

/// The error that stops a scan.
#[derive(Debug, Error)]
pub enum ScanError {
    /// Writing the records failed; nothing more can be delivered.
    #[error("cannot write the detection records: {0}")]
    Output(#[source] io::Error),
}

/// The reason one line is malformed.
#[derive(Debug, Error)]
enum Malformed {
    #[error(transparent)]
    Line(#[from] LineError),
    #[error("longer than {MAX_LINE_BYTES} bytes; only the start was read")]
    TooLong,
}

/// Bytes of input handed to a worker thread at a time. A chunk ends at a
/// line end, so it contains whole lines, except for a line longer than
/// [`MAX_LINE_BYTES`], which gets a chunk of its own.
const CHUNK_BYTES: usize = 1 << 20;

/// Chunks per worker that are read ahead of the output.
const CHUNKS_IN_FLIGHT_PER_WORKER: usize = 2;

/// Runs the matcher over inputs and writes detection records.
///
/// Unless `line_buffered` is set, an input is cut into chunks of whole lines
/// that worker threads match in parallel, one per available core. Chunks
/// are handed out and their records written in input order, so the output,
/// the line numbers and the order of the warnings are the same as with one
/// thread.
pub struct Scanner<'m> {
    matcher: &'m Matcher,
    lines: LineScanner<'m>,
    options: ScanOptions,
    stats: ScanStats,
    malformed: BadLines,
    workers: usize,
}

/// The per-line work: structural check, matching, parse and records. Each
/// worker thread has its own.
struct LineScanner<'m> {
    matcher: &'m Matcher,
    writer: DetectionWriter,
    scratch: Scratch,
    all: bool,
}

/// The outcome of one line, apart from the records written for it.
enum LineOutcome {
    Skipped,
    Wrote,
    Malformed(Malformed),
}

/// Lines of one input handed to a worker.
struct Chunk {
    data: Vec<u8>,
    /// Lines of the input before this chunk.
    lines_before: u64,
    /// An empty buffer for the records, reused from an earlier chunk.
    records: Vec<u8>,
}

/// A worker's result for one chunk.
struct ChunkResult {
    /// The chunk's input buffer, returned for reuse.
    data: Vec<u8>,
    records: Vec<u8>,
    /// Counts of lines, blank lines, matches and detections.
    stats: ScanStats,
    /// Malformed lines in order: line number, reason, content.
    malformed: Vec<(u64, Malformed, Vec<u8>)>,
}

impl<'m> Scanner<'m> {
    pub fn new(matcher: &'m Matcher, options: ScanOptions) -> Scanner<'m> {
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        Scanner {
            matcher,
            lines: LineScanner::new(matcher, options.all),
            options,
            stats: ScanStats { per_rule: vec![0; matcher.rules().len()], ..ScanStats::default() },
            malformed: BadLines::new("hp-match", "malformed line", options.show_malformed, options.quiet),
            workers,
        }
    }

    /// Sets the number of worker threads; 1 scans on the calling thread.
    pub fn set_workers(&mut self, workers: usize) {
        self.workers = workers.max(1);
    }

    /// Scans one input named `name` (`-` for stdin) and writes its records
    /// to `out`. A read error ends this input with a warning and counts it
    /// as failed; only an output error stops the run.
    pub fn scan<R: Read, W: Write>(&mut self, name: &str, reader: R, out: &mut W) -> Result<(), ScanError> {
        self.stats.inputs += 1;
        if self.workers > 1 && !self.options.line_buffered {
            self.scan_parallel(name, reader, out)
        } else {
            self.scan_sequential(name, reader, out)
        }
    }

    fn scan_sequential<R: Read, W: Write>(&mut self, name: &str, reader: R, out: &mut W) -> Result<(), ScanError> {
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
            match self.lines.scan_line(name, &line, out, &mut self.stats).map_err(ScanError::Output)? {
                LineOutcome::Skipped => {}
                LineOutcome::Wrote if self.options.line_buffered => out.flush().map_err(ScanError::Output)?,
                LineOutcome::Wrote => {}
                LineOutcome::Malformed(reason) => self.report_malformed(name, line.number, &reason, line.bytes),
            }
        }
        Ok(())
    }

    /// Scans one input with worker threads. This thread reads the chunks,
    /// deals them to the workers in turn and takes the results back in the
    /// same turn, so they come out in input order.
    fn scan_parallel<R: Read, W: Write>(&mut self, name: &str, reader: R, out: &mut W) -> Result<(), ScanError> {
        let matcher = self.matcher;
        let (all, workers) = (self.options.all, self.workers);
        let max_in_flight = workers * CHUNKS_IN_FLIGHT_PER_WORKER;

        std::thread::scope(|scope| {
            let mut to_workers = Vec::with_capacity(workers);
            let mut from_workers = Vec::with_capacity(workers);
            for _ in 0..workers {
                let (chunk_sender, chunks) = mpsc::channel::<Chunk>();
                let (result_sender, results) = mpsc::channel::<ChunkResult>();
                scope.spawn(move || {
                    let mut lines = LineScanner::new(matcher, all);
                    for chunk in chunks {
                        if result_sender.send(lines.scan_chunk(name, chunk)).is_err() {
                            break;
                        }
                    }
                });
                to_workers.push(chunk_sender);
                from_workers.push(results);
            }

            let mut chunker = Chunker::new(reader);
            let mut spare: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            let (mut sent, mut received) = (0, 0);
            let read_result = loop {
                let (data, records) = spare.pop().unwrap_or_default();
                let chunk = match chunker.next_chunk(data, records) {
                    Ok(Some(chunk)) => chunk,
                    Ok(None) => break Ok(()),
                    Err(error) => break Err(error),
                };
                if sent - received == max_in_flight {
                    self.take_result(name, &from_workers[received % workers], out, &mut spare)?;
                    received += 1;
                }
                to_workers[sent % workers].send(chunk).expect("a scan worker stopped early");
                sent += 1;
            };
            while received < sent {
                self.take_result(name, &from_workers[received % workers], out, &mut spare)?;
                received += 1;
            }

            if let Err(error) = read_result {
                self.stats.failed_inputs += 1;
                crate::diag::warn(
                    "hp-match",
                    &format_args!("{name}: read failed after line {}: {error}; the rest of this input is skipped", self.stats.lines),
                );
            }
            Ok(())
        })
    }

    /// Waits for the next result of one worker, reports its malformed lines
    /// and writes its records.
    fn take_result<W: Write>(
        &mut self,
        name: &str,
        results: &mpsc::Receiver<ChunkResult>,
        out: &mut W,
        spare: &mut Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<(), ScanError> {
        let mut result = results.recv().expect("a scan worker panicked");
        self.stats.add(&result.stats);
        for (number, reason, content) in &result.malformed {
            self.report_malformed(name, *number, reason, content);
        }
        out.write_all(&result.records).map_err(ScanError::Output)?;
        result.records.clear();
        spare.push((result.data, result.records));
        Ok(())
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

impl ScanStats {
    /// Adds the line and detection counts of `other`. The input and
    /// malformed counts are kept by the scanner itself.
    fn add(&mut self, other: &ScanStats) {
        self.lines += other.lines;
        self.blank += other.blank;
        self.matched_lines += other.matched_lines;
        self.detections += other.detections;
        for (total, count) in self.per_rule.iter_mut().zip(&other.per_rule) {
            *total += count;
        }
    }
}

impl<'m> LineScanner<'m> {
    fn new(matcher: &'m Matcher, all: bool) -> LineScanner<'m> {
        LineScanner { matcher, writer: DetectionWriter::new(matcher.rules()), scratch: matcher.scratch(), all }
    }

    /// Matches one line from a [`LineReader`], writes its records to `out`
    /// and counts it in `stats`. A malformed line is returned for the
    /// caller to report and count.
    fn scan_line<W: Write>(&mut self, name: &str, line: &Line<'_>, out: &mut W, stats: &mut ScanStats) -> io::Result<LineOutcome> {
        stats.lines += 1;
        let bytes = line.bytes;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            stats.blank += 1;
            return Ok(LineOutcome::Skipped);
        }
        if line.truncated {
            return Ok(LineOutcome::Malformed(Malformed::TooLong));
        }

        let frame = match Frame::find(bytes) {
            Ok(frame) => frame,
            Err(error) => return Ok(LineOutcome::Malformed(Malformed::Line(error))),
        };

        let found = self.matcher.match_line(bytes, &frame, &mut self.scratch);
        if self.scratch.fired.is_empty() && !self.all {
            return Ok(match found.parsed {
                Some(Err(error)) => LineOutcome::Malformed(Malformed::Line(error)),
                _ => LineOutcome::Skipped,
            });
        }

        let fields = match found.parsed {
            Some(parsed) => parsed,
            None => LogLine::from_frame(bytes, &frame),
        };
        let fields = match fields {
            Ok(fields) => fields,
            Err(error) => return Ok(LineOutcome::Malformed(Malformed::Line(error))),
        };

        self.writer.set_line(&fields, bytes, name, line.number);
        if self.scratch.fired.is_empty() {
            self.writer.write_record(None, out)?;
            return Ok(LineOutcome::Wrote);
        }
        stats.matched_lines += 1;
        for &rule in &self.scratch.fired {
            self.writer.write_record(Some(rule), out)?;
            stats.per_rule[rule] += 1;
            stats.detections += 1;
        }
        Ok(LineOutcome::Wrote)
    }

    /// Scans every line of a chunk into a result.
    ///
    /// Lines are split as [`LineReader`] splits them: without their `\n` or
    /// `\r\n`, and a line longer than [`MAX_LINE_BYTES`] cut to that size
    /// and flagged. The chunk contains whole lines, so no copy is needed.
    ///
    /// NOTE: `LineReader` cuts a line once [`MAX_LINE_BYTES`] are buffered
    /// without a line end, which depends on its read sizes. A line within
    /// one read (64 KiB) of the limit can therefore be cut on one path and
    /// kept whole on the other.
    fn scan_chunk(&mut self, name: &str, chunk: Chunk) -> ChunkResult {
        let mut result = ChunkResult {
            data: Vec::new(),
            records: chunk.records,
            stats: ScanStats { per_rule: vec![0; self.matcher.rules().len()], ..ScanStats::default() },
            malformed: Vec::new(),
        };
        let data = chunk.data.as_slice();
        let mut number = chunk.lines_before;
        let mut start = 0;
        while start < data.len() {
            let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |offset| start + offset);
            number += 1;
            let mut bytes = &data[start..end];
            let truncated = bytes.len() > MAX_LINE_BYTES;
            if truncated {
                bytes = &bytes[..MAX_LINE_BYTES];
            }
            if let [rest @ .., b'\r'] = bytes {
                bytes = rest;
            }
            let line = Line { bytes, number, truncated };
            // Writing into a Vec cannot fail.
            if let Ok(LineOutcome::Malformed(reason)) = self.scan_line(name, &line, &mut result.records, &mut result.stats) {
                result.malformed.push((number, reason, bytes.to_vec()));
            }
            start = end + 1;
        }
        result.data = chunk.data;
        result
    }
}

/// Cuts an input into [`Chunk`]s of whole lines.
struct Chunker<R> {
    reader: R,
    /// Bytes read after the last line end handed out.
    pending: Vec<u8>,
    /// Set while dropping the rest of a line longer than [`MAX_LINE_BYTES`].
    skipping: bool,
    lines_before: u64,
    eof: bool,
}

impl<R: Read> Chunker<R> {
    fn new(reader: R) -> Chunker<R> {
        Chunker { reader, pending: Vec::with_capacity(2 * CHUNK_BYTES), skipping: false, lines_before: 0, eof: false }
    }

    /// Returns the next chunk, built in `buffer`, or `None` at the end of
    /// the input.
    ///
    /// A chunk ends at a line end, except for the last line of an input
    /// without a final newline, and for a line longer than
    /// [`MAX_LINE_BYTES`]. The chunk of such a line is its start, which
    /// [`LineScanner::scan_chunk`] cuts and flags. The rest of the line is
    /// dropped here.
    fn next_chunk(&mut self, mut buffer: Vec<u8>, records: Vec<u8>) -> io::Result<Option<Chunk>> {
        loop {
            if self.eof {
                if self.pending.is_empty() || self.skipping {
                    return Ok(None);
                }
                // The last line has no line end.
                std::mem::swap(&mut buffer, &mut self.pending);
                self.pending.clear();
                return Ok(Some(self.emit(buffer, records, 1)));
            }

            let searched = self.pending.len();
            let read = (&mut self.reader).take(CHUNK_BYTES as u64).read_to_end(&mut self.pending)?;
            if read == 0 {
                self.eof = true;
                continue;
            }

            let mut search_from = searched;
            if self.skipping {
                match memchr::memchr(b'\n', &self.pending[searched..]) {
                    Some(offset) => {
                        self.pending.drain(..searched + offset + 1);
                        self.skipping = false;
                        search_from = 0;
                    }
                    None => {
                        self.pending.clear();
                        continue;
                    }
                }
            }

            if let Some(offset) = memchr::memrchr(b'\n', &self.pending[search_from..]) {
                let end = search_from + offset + 1;
                buffer.clear();
                buffer.extend_from_slice(&self.pending[end..]);
                std::mem::swap(&mut buffer, &mut self.pending);
                buffer.truncate(end);
                let lines = memchr::memchr_iter(b'\n', &buffer).count() as u64;
                return Ok(Some(self.emit(buffer, records, lines)));
            }
            if self.pending.len() > MAX_LINE_BYTES {
                std::mem::swap(&mut buffer, &mut self.pending);
                self.pending.clear();
                self.skipping = true;
                return Ok(Some(self.emit(buffer, records, 1)));
            }
        }
    }

    fn emit(&mut self, data: Vec<u8>, records: Vec<u8>, lines: u64) -> Chunk {
        let chunk = Chunk { data, lines_before: self.lines_before, records };
        self.lines_before += lines;
        chunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn run(input: &[u8], workers: usize, all: bool) -> (Vec<u8>, ScanStats) {
        let set = RuleSet::load(&["classic"], &[] as &[&str]).unwrap();
        let matcher = Matcher::new(&set);
        let options = ScanOptions { all, line_buffered: false, quiet: true, show_malformed: 0 };
        let mut scanner = Scanner::new(&matcher, options);
        scanner.set_workers(workers);
        let mut out = Vec::new();
        scanner.scan("x.log", input, &mut out).unwrap();
        (out, scanner.stats().clone())
    }

    /// Builds an input of several chunks with the hard cases: CRLF, blank
    /// and malformed lines, a line over the size limit, no final newline.
    fn hard_input() -> Vec<u8> {
        let sample = include_bytes!("../data/honeypot-access.log");
        let mut input = Vec::new();
        for copy in 0..12 {
            input.extend_from_slice(sample);
            input.extend_from_slice(if copy % 2 == 0 { b"\r\n\n" } else { b"\n" });
            if copy == 5 {
                input.extend_from_slice(b"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] \"GET /");
                input.resize(input.len() + MAX_LINE_BYTES, b'a');
                input.extend_from_slice(b" HTTP/1.1\" 404 1\n");
            }
        }
        input.extend_from_slice(&sample[..500]);
        input
    }

    #[test]
    fn parallel_scan_equals_sequential() {
        let input = hard_input();
        for all in [false, true] {
            let (sequential, sequential_stats) = run(&input, 1, all);
            let (parallel, parallel_stats) = run(&input, 3, all);
            assert_eq!(sequential_stats, parallel_stats);
            assert!(sequential == parallel, "the records differ (all = {all})");
        }
    }

    #[test]
    fn parallel_scan_counts_lines() {
        let sample = include_bytes!("../data/honeypot-access.log");
        let tail_lines = sample[..500].split(|byte| *byte == b'\n').count() as u64;
        let (_, stats) = run(&hard_input(), 2, false);
        assert_eq!(stats.lines, 12 * 1785 + 6 + 1 + tail_lines);
        assert_eq!(stats.blank, 6);
        // One malformed line per copy, the over-long line, and the last line
        // of the tail, which is cut inside its request.
        assert_eq!(stats.malformed, 12 + 1 + 1);
    }
}

//! Reading input: files, stdin, gzip-compressed logs, and lines.
//!
//! [`open`] returns a reader for a path or `-` (stdin). A gzip file, such as
//! logrotate's `access.log.2.gz`, is recognised by its magic bytes rather than
//! its name and decompressed on the fly, members one after another as `zcat`
//! does.
//!
//! [`LineReader`] splits a reader into lines in one reusable buffer, so a
//! large log costs no allocation per line. Lines are returned without their
//! `\n` or `\r\n` ending. The last line needs no final newline.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

/// The first two bytes of every gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Size of each read from the underlying reader. 64 KiB amortises the
/// system call over hundreds of log lines.
const READ_SIZE: usize = 64 * 1024;

/// Maximum line length kept, in bytes. A longer line is returned cut to this size
/// and flagged, so one endless line cannot take all memory. Real request
/// lines stay far below it; attack lines of 100 KB are kept whole.
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// The name hp shows for stdin, and takes as a path meaning stdin.
pub const STDIN_NAME: &str = "-";

/// Opens `path` for reading, or stdin when `path` is `-`, decompressing gzip
/// input found by its magic bytes.
pub fn open(path: &str) -> io::Result<Box<dyn Read>> {
    if path == STDIN_NAME {
        return Ok(decompress_if_gzip(BufReader::with_capacity(READ_SIZE, io::stdin()))?);
    }
    let file = File::open(Path::new(path))?;
    decompress_if_gzip(BufReader::with_capacity(READ_SIZE, file))
}

/// Wraps `reader` in a gzip decoder when its first bytes are the gzip magic.
pub fn decompress_if_gzip<R: BufRead + 'static>(mut reader: R) -> io::Result<Box<dyn Read>> {
    let head = reader.fill_buf()?;
    if head.starts_with(&GZIP_MAGIC) {
        Ok(Box::new(MultiGzDecoder::new(reader)))
    } else {
        Ok(Box::new(reader))
    }
}

/// Calls `each` with the input name, the line number and the bytes of every
/// non-blank line of the named inputs (`-` is stdin), in order.
///
/// An input that cannot be opened or read is reported on stderr under
/// `program` and skipped; the return value counts them. An error returned by
/// `each` (such as a closed output) stops everything and is passed on.
pub fn for_each_line(
    names: &[String],
    program: &str,
    mut each: impl FnMut(&str, u64, &[u8]) -> io::Result<()>,
) -> io::Result<u64> {
    let mut failed = 0;
    for name in names {
        let reader = match open(name) {
            Ok(reader) => reader,
            Err(error) => {
                crate::diag::warn(program, &format_args!("{name}: cannot open: {error}"));
                failed += 1;
                continue;
            }
        };

        let mut lines = LineReader::new(reader);
        loop {
            match lines.next_line() {
                Ok(Some(line)) if line.bytes.iter().all(u8::is_ascii_whitespace) => continue,
                Ok(Some(line)) => each(name, line.number, line.bytes)?,
                Ok(None) => break,
                Err(error) => {
                    crate::diag::warn(program, &format_args!("{name}: read failed: {error}; the rest of this input is skipped"));
                    failed += 1;
                    break;
                }
            }
        }
    }
    Ok(failed)
}

/// Returns the inputs to read: the given names, or stdin when there are none.
pub fn names_or_stdin(names: &[String]) -> Vec<String> {
    if names.is_empty() { vec![STDIN_NAME.to_owned()] } else { names.to_vec() }
}

/// One line from a [`LineReader`].
#[derive(Debug)]
pub struct Line<'a> {
    /// The line without its `\n` or `\r\n`.
    pub bytes: &'a [u8],
    /// 1-based line number in its input.
    pub number: u64,
    /// True when the line was longer than [`MAX_LINE_BYTES`] and was cut;
    /// the rest of it up to the next newline was skipped.
    pub truncated: bool,
}

/// Splits a reader into lines in one growing buffer.
///
/// Invariant: `buf[start..end]` contains the bytes read but not yet returned;
/// everything before `start` was returned and may be overwritten.
pub struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    number: u64,
    /// Set while skipping the rest of an over-long line.
    skipping: bool,
}

impl<R: Read> LineReader<R> {
    pub fn new(reader: R) -> LineReader<R> {
        LineReader {
            reader,
            buf: vec![0; READ_SIZE * 2],
            start: 0,
            end: 0,
            eof: false,
            number: 0,
            skipping: false,
        }
    }

    /// Returns the next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        loop {
            if let Some(offset) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                let line_start = self.start;
                let line_end = self.start + offset;
                self.start = line_end + 1;

                if self.skipping {
                    // The cut line was already returned; this is its tail.
                    self.skipping = false;
                    continue;
                }
                self.number += 1;
                return Ok(Some(self.line(line_start, line_end, false)));
            }

            if self.eof {
                if self.start == self.end || self.skipping {
                    self.skipping = false;
                    self.start = self.end;
                    return Ok(None);
                }
                let (line_start, line_end) = (self.start, self.end);
                self.start = self.end;
                self.number += 1;
                return Ok(Some(self.line(line_start, line_end, false)));
            }

            let pending = self.end - self.start;
            if pending >= MAX_LINE_BYTES && !self.skipping {
                let line_start = self.start;
                self.start += MAX_LINE_BYTES;
                self.skipping = true;
                self.number += 1;
                return Ok(Some(self.line(line_start, line_start + MAX_LINE_BYTES, true)));
            }
            if self.skipping {
                // Drop what was read of the over-long line's tail.
                self.start = self.end;
            }
            self.fill()?;
        }
    }

    fn line(&self, start: usize, end: usize, truncated: bool) -> Line<'_> {
        let mut bytes = &self.buf[start..end];
        if let [rest @ .., b'\r'] = bytes {
            bytes = rest;
        }
        Line { bytes, number: self.number, truncated }
    }

    /// Moves the pending bytes to the front and reads more after them,
    /// growing the buffer when a line does not fit.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_SIZE {
            self.buf.resize(self.buf.len() * 2, 0);
        }

        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(read) => {
                    self.end += read;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<(u64, Vec<u8>, bool)> {
        let mut reader = LineReader::new(input);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            out.push((line.number, line.bytes.to_vec(), line.truncated));
        }
        out
    }

    #[test]
    fn splits_lf_and_crlf() {
        let got = lines(b"a\r\nb\n\nc");
        assert_eq!(
            got,
            vec![
                (1, b"a".to_vec(), false),
                (2, b"b".to_vec(), false),
                (3, b"".to_vec(), false),
                (4, b"c".to_vec(), false)
            ]
        );
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(lines(b"").is_empty());
        assert_eq!(lines(b"\n").len(), 1);
    }

    #[test]
    fn long_line_crosses_buffer_boundaries() {
        let mut input = vec![b'x'; 300_000];
        input.extend_from_slice(b"\nshort\n");
        let got = lines(&input);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1.len(), 300_000);
        assert_eq!(got[1].1, b"short");
    }

    #[test]
    fn over_long_line_is_cut_and_flagged() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\nnext");
        let got = lines(&input);
        assert_eq!(got.len(), 2);
        assert!(got[0].2);
        assert_eq!(got[0].1.len(), MAX_LINE_BYTES);
        assert_eq!(got[1], (2, b"next".to_vec(), false));
    }

    #[test]
    fn gzip_is_detected_by_magic() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"one\ntwo\n").unwrap();
        let compressed = encoder.finish().unwrap();
        let mut text = String::new();
        decompress_if_gzip(io::Cursor::new(compressed)).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "one\ntwo\n");
    }
}

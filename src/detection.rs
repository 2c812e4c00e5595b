//! The detection record: what `hp-match` writes, one JSON object per line.
//!
//! Each line of `hp-match`'s stdout is one detection: one rule that fired on
//! one access-log line. A log line that fires two rules gives two records
//! with the same `file` and `line`. With `--all`, a log line that fires no
//! rule gives one record whose `rule`, `name` and `impact` are null.
//!
//! | field | type | meaning |
//! | --- | --- | --- |
//! | `rule` | string or null | rule id, e.g. `phpmyadmin-login` |
//! | `name` | string or null | the rule's human name |
//! | `impact` | string or null | `high`, `medium` or `low` |
//! | `ip` | string or null | the client address in canonical form (IPv4-mapped IPv6 as IPv4, zone dropped); null when the client field is a host name |
//! | `client` | string | the client field as written |
//! | `vhost` | string or null | `host[:port]` of `vhost_combined` lines |
//! | `time` | string | RFC 3339 with the log's offset, e.g. `2000-10-10T13:55:36-07:00` |
//! | `time_offset_missing` | `true` | present only when the log wrote no offset and UTC was assumed |
//! | `request` | string | the text between the request's quotes, as written |
//! | `method`, `target`, `protocol` | string or null | set only when the request is `METHOD target HTTP/d.d` |
//! | `status`, `bytes` | integer or null | null when logged as `-` |
//! | `referrer`, `user_agent` | string or null | as written, escapes such as `\"` kept; null when the format has no such field |
//! | `file` | string | the input's name, `-` for stdin |
//! | `line` | integer | 1-based line number in that input |
//! | `raw` | string | the whole line |
//! | `raw_base64` | string | present only when the line is not valid UTF-8: its exact bytes |
//!
//! Strings are JSON strings, so bytes that are not valid UTF-8 appear as
//! U+FFFD in every field; `raw_base64` keeps the original bytes.
//!
//! Example:
//!
//! ```json
//! {"rule":"phpmyadmin-login","name":"Admin access attempt on MySQL database through phpMyAdmin","impact":"high","ip":"192.0.2.7","client":"::ffff:192.0.2.7","vhost":null,"time":"2024-03-02T08:15:02+00:00","request":"GET /phpmyadmin/index.php?pma_username=root&pma_password=root HTTP/1.1","method":"GET","target":"/phpmyadmin/index.php?pma_username=root&pma_password=root","protocol":"HTTP/1.1","status":200,"bytes":1200,"referrer":"-","user_agent":"Mozilla/5.0","file":"access.log","line":1,"raw":"::ffff:192.0.2.7 - - [02/Mar/2024:08:15:02 +0000] \"GET /phpmyadmin/index.php?pma_username=root&pma_password=root HTTP/1.1\" 200 1200 \"-\" \"Mozilla/5.0\""}
//! ```

use std::borrow::Cow;
use std::io::Write;
use std::net::IpAddr;

use base64::Engine;
use bstr::ByteSlice;
use serde::Deserialize;

use crate::logline::LogLine;
use crate::rules::Rule;

/// Writes detection records into a reused buffer.
///
/// The part of a record that names the rule is built once per rule; the
/// part that describes the log line is built once per line and shared by
/// every rule that fires on it.
pub struct DetectionWriter {
    /// `{"rule":...,"name":...,"impact":...,` for each rule, by index.
    rule_prefixes: Vec<Vec<u8>>,
    /// The rule prefix of `--all` records for lines that fire nothing.
    no_rule_prefix: Vec<u8>,
    /// The line part of the current record, from `"ip"` to the closing brace
    /// and newline.
    line_part: Vec<u8>,
    itoa: itoa::Buffer,
}

impl DetectionWriter {
    /// Prepares the per-rule prefixes for `rules`, indexed as the matcher
    /// indexes them.
    pub fn new(rules: &[Rule]) -> DetectionWriter {
        let rule_prefixes = rules
            .iter()
            .map(|rule| {
                let mut prefix = b"{\"rule\":".to_vec();
                write_json_str(&mut prefix, &rule.id);
                prefix.extend_from_slice(b",\"name\":");
                write_json_str(&mut prefix, &rule.name);
                prefix.extend_from_slice(b",\"impact\":\"");
                prefix.extend_from_slice(rule.impact.as_str().as_bytes());
                prefix.extend_from_slice(b"\",");
                prefix
            })
            .collect();

        DetectionWriter {
            rule_prefixes,
            no_rule_prefix: b"{\"rule\":null,\"name\":null,\"impact\":null,".to_vec(),
            line_part: Vec::with_capacity(1024),
            itoa: itoa::Buffer::new(),
        }
    }

    /// Builds the line part of the records for one parsed line.
    pub fn set_line(&mut self, fields: &LogLine<'_>, raw: &[u8], file: &str, line_number: u64) {
        let out = &mut self.line_part;
        out.clear();

        out.extend_from_slice(b"\"ip\":");
        match fields.ip {
            Some(ip) => {
                out.push(b'"');
                write_ip(out, ip, &mut self.itoa);
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"client\":");
        write_json_bytes(out, fields.client);
        out.extend_from_slice(b",\"vhost\":");
        write_json_opt(out, fields.vhost);

        out.extend_from_slice(b",\"time\":\"");
        fields.time.write_rfc3339(out);
        out.push(b'"');
        if fields.time.offset_missing() {
            out.extend_from_slice(b",\"time_offset_missing\":true");
        }

        out.extend_from_slice(b",\"request\":");
        write_json_bytes(out, fields.request);
        out.extend_from_slice(b",\"method\":");
        write_json_opt(out, fields.method);
        out.extend_from_slice(b",\"target\":");
        write_json_opt(out, fields.target);
        out.extend_from_slice(b",\"protocol\":");
        write_json_opt(out, fields.protocol);

        out.extend_from_slice(b",\"status\":");
        match fields.status {
            Some(status) => out.extend_from_slice(self.itoa.format(status).as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"bytes\":");
        match fields.bytes {
            Some(bytes) => out.extend_from_slice(self.itoa.format(bytes).as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"referrer\":");
        write_json_opt(out, fields.referrer);
        out.extend_from_slice(b",\"user_agent\":");
        write_json_opt(out, fields.user_agent);

        out.extend_from_slice(b",\"file\":");
        write_json_bytes(out, file.as_bytes());
        out.extend_from_slice(b",\"line\":");
        out.extend_from_slice(self.itoa.format(line_number).as_bytes());

        out.extend_from_slice(b",\"raw\":");
        let valid_utf8 = write_json_bytes(out, raw);
        if !valid_utf8 {
            out.extend_from_slice(b",\"raw_base64\":\"");
            out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(raw).as_bytes());
            out.push(b'"');
        }
        out.extend_from_slice(b"}\n");
    }

    /// Writes the record of rule `rule_index` (or of no rule, with `None`)
    /// for the line last given to [`DetectionWriter::set_line`].
    pub fn write_record(&self, rule_index: Option<usize>, out: &mut impl Write) -> std::io::Result<()> {
        let prefix = match rule_index {
            Some(index) => &self.rule_prefixes[index],
            None => &self.no_rule_prefix,
        };
        out.write_all(prefix)?;
        out.write_all(&self.line_part)
    }
}

/// Appends `text` as a JSON string.
fn write_json_str(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(out, text);
}

/// Appends bytes as a JSON string, with U+FFFD for bytes that are not valid
/// UTF-8. Returns whether the bytes were valid UTF-8.
fn write_json_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    if write_json_ascii(out, bytes) {
        return true;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            write_json_str(out, text);
            true
        }
        Err(_) => {
            write_json_str(out, &bytes.to_str_lossy());
            false
        }
    }
}

/// Appends ASCII bytes as a JSON string, escaped exactly as serde_json
/// escapes them, and returns true. Returns false and appends nothing when
/// `bytes` contains a non-ASCII byte, which needs the UTF-8 check.
///
/// Log lines are almost always ASCII. Copying the runs between the bytes
/// that need an escape avoids serde_json's byte-by-byte serializer.
fn write_json_ascii(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let start_len = out.len();
    out.push(b'"');
    let mut copied = 0;
    let mut pos = 0;
    // Jump from special byte to special byte a chunk at a time.
    while let Some(offset) = next_special(bytes, pos) {
        let at = pos + offset;
        let byte = bytes[at];
        if !byte.is_ascii() {
            out.truncate(start_len);
            return false;
        }
        out.extend_from_slice(&bytes[copied..at]);
        write_json_escape(out, byte);
        copied = at + 1;
        pos = at + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
    true
}

/// Bytes that a JSON string cannot hold as they are, and non-ASCII bytes.
// Only the portable `special_mask` and the tests call this: the SSE2 one
// tests the same bytes with vector compares.
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
#[inline]
pub(crate) fn is_special_in_json(byte: u8) -> bool {
    !(0x20..0x80).contains(&byte) | (byte == b'"') | (byte == b'\\')
}

/// Bytes checked at a time by [`special_mask`].
pub(crate) const JSON_CHUNK: usize = 16;

/// Returns the offset from `start` of the next byte of `bytes` that is
/// special in JSON, or `None` when there is none.
#[inline(always)]
pub(crate) fn next_special(bytes: &[u8], start: usize) -> Option<usize> {
    let mut pos = start;
    while pos < bytes.len() {
        let mask = match bytes[pos..].first_chunk::<JSON_CHUNK>() {
            Some(chunk) => special_mask(chunk),
            None => {
                // Pad the tail with spaces, which are not special, so that
                // it takes the same vector test.
                let tail = &bytes[pos..];
                let mut padded = [b' '; JSON_CHUNK];
                padded[..tail.len()].copy_from_slice(tail);
                special_mask(&padded)
            }
        };
        if mask != 0 {
            return Some(pos - start + mask.trailing_zeros() as usize);
        }
        pos += JSON_CHUNK;
    }
    None
}

/// Returns a mask with bit `i` set when byte `i` of `chunk` is special in
/// JSON (see [`is_special_in_json`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn special_mask(chunk: &[u8; JSON_CHUNK]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline, and the unaligned load
    // reads exactly the 16 bytes of `chunk`.
    unsafe {
        let bytes = _mm_loadu_si128(chunk.as_ptr().cast());
        // A signed compare: bytes of 0x80 and more are negative, so one
        // compare finds them and the control characters.
        let low = _mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20));
        let quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\\' as i8));
        _mm_movemask_epi8(_mm_or_si128(low, _mm_or_si128(quote, backslash))) as u32
    }
}

/// Returns a mask with bit `i` set when byte `i` of `chunk` is special in
/// JSON (see [`is_special_in_json`]).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn special_mask(chunk: &[u8; JSON_CHUNK]) -> u32 {
    chunk.iter().enumerate().fold(0, |mask, (i, &byte)| mask | (u32::from(is_special_in_json(byte)) << i))
}

/// Appends the escape of an ASCII byte in serde_json's form: the short
/// escapes where JSON has one, `\u00XX` with lowercase hex otherwise.
fn write_json_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x09 => b't',
        0x0a => b'n',
        0x0c => b'f',
        0x0d => b'r',
        _ => {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

/// Appends an address in its standard text form; IPv4 without the
/// formatting machinery, because most records carry one.
fn write_ip(out: &mut Vec<u8>, ip: IpAddr, itoa: &mut itoa::Buffer) {
    match ip {
        IpAddr::V4(v4) => {
            for (index, octet) in v4.octets().into_iter().enumerate() {
                if index > 0 {
                    out.push(b'.');
                }
                out.extend_from_slice(itoa.format(octet).as_bytes());
            }
        }
        // An address is ASCII and never needs escaping.
        IpAddr::V6(_) => {
            let _ = write!(out, "{ip}");
        }
    }
}

fn write_json_opt(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        Some(bytes) => {
            write_json_bytes(out, bytes);
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// A detection record as read back, borrowing from the input line where the
/// JSON needs no unescaping. Unknown keys are ignored, so records from newer
/// versions still read.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct DetectionRecord<'a> {
    #[serde(borrow)]
    pub rule: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub impact: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub client: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub vhost: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub time: Option<Cow<'a, str>>,
    #[serde(default)]
    pub time_offset_missing: bool,
    #[serde(borrow)]
    pub request: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub target: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub protocol: Option<Cow<'a, str>>,
    pub status: Option<u16>,
    pub bytes: Option<u64>,
    #[serde(borrow)]
    pub referrer: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub user_agent: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub file: Option<Cow<'a, str>>,
    pub line: Option<u64>,
    #[serde(borrow)]
    pub raw: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub raw_base64: Option<Cow<'a, str>>,
}

/// The fields of a detection that correlation needs. Reading only these
/// lets serde skip the rest of the record without building it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct DetectionKey<'a> {
    #[serde(borrow)]
    pub rule: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub impact: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub target: Option<Cow<'a, str>>,
}

impl<'a> DetectionKey<'a> {
    /// Reads the keys of one NDJSON detection line.
    ///
    /// Records as hp-match writes them go through a scanner that only
    /// looks for the five keys and skips every other value with a chunked
    /// byte search. On the sample's records it ran 2.8 times as fast as
    /// serde_json (`cargo bench --bench hot_path ndjson_reading`, on the
    /// machine that BENCHMARKS.md describes). Anything that scanner is not
    /// sure of (escapes in a key, `\u` escapes, non-ASCII bytes, nested
    /// values, numbers with a fraction, duplicate keys, syntax errors) goes
    /// to serde_json instead, so the result and every error are
    /// serde_json's.
    pub fn from_ndjson(line: &'a [u8]) -> Result<DetectionKey<'a>, serde_json::Error> {
        match fast_key::read(line) {
            Some(key) => Ok(key),
            None => serde_json::from_slice(line),
        }
    }
}

/// The fast path of [`DetectionKey::from_ndjson`]: a strict reader of a
/// subset of JSON that returns `None` where it would need to be lenient.
mod fast_key {
    use std::borrow::Cow;

    use super::{DetectionKey, JSON_CHUNK, next_special, special_mask};

    pub(super) fn read(line: &[u8]) -> Option<DetectionKey<'_>> {
        let mut reader = Reader { bytes: line, pos: 0 };
        let mut key = DetectionKey::default();
        let mut set = [false; 5];

        reader.skip_whitespace();
        reader.expect(b'{')?;
        reader.skip_whitespace();
        if reader.peek()? == b'}' {
            reader.pos += 1;
        } else {
            loop {
                let name = reader.plain_string()?;
                reader.skip_whitespace();
                reader.expect(b':')?;
                reader.skip_whitespace();
                let slot = match name {
                    b"rule" => Some((0, &mut key.rule)),
                    b"impact" => Some((1, &mut key.impact)),
                    b"ip" => Some((2, &mut key.ip)),
                    b"time" => Some((3, &mut key.time)),
                    b"target" => Some((4, &mut key.target)),
                    _ => None,
                };
                match slot {
                    Some((index, field)) => {
                        // serde_json rejects a repeated field with its own
                        // error, so the record goes to serde_json.
                        if set[index] {
                            return None;
                        }
                        set[index] = true;
                        *field = reader.needed_value()?;
                    }
                    None => reader.skip_value()?,
                }
                reader.skip_whitespace();
                match reader.next()? {
                    b',' => reader.skip_whitespace(),
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        reader.skip_whitespace();
        (reader.pos == line.len()).then_some(key)
    }

    /// Views bytes that [`Reader::skip_plain`] passed over as text.
    fn ascii_str(bytes: &[u8]) -> &str {
        // SAFETY: skip_plain stops at every byte of 0x80 or more (see
        // is_special_in_json), and the callers reject those, so `bytes` is
        // ASCII, which is valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    struct Reader<'a> {
        bytes: &'a [u8],
        pos: usize,
    }

    impl<'a> Reader<'a> {
        #[inline(always)]
        fn peek(&self) -> Option<u8> {
            self.bytes.get(self.pos).copied()
        }

        #[inline(always)]
        fn next(&mut self) -> Option<u8> {
            let byte = self.peek()?;
            self.pos += 1;
            Some(byte)
        }

        #[inline(always)]
        fn expect(&mut self, wanted: u8) -> Option<()> {
            (self.next()? == wanted).then_some(())
        }

        #[inline(always)]
        fn skip_whitespace(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.pos += 1;
            }
        }

        /// Moves to the next byte that is a quote, a backslash, a control
        /// character or non-ASCII, and returns it.
        #[inline(always)]
        fn skip_plain(&mut self) -> Option<u8> {
            while let Some(chunk) = self.bytes[self.pos..].first_chunk::<JSON_CHUNK>() {
                let mask = special_mask(chunk);
                if mask != 0 {
                    self.pos += mask.trailing_zeros() as usize;
                    return Some(self.bytes[self.pos]);
                }
                self.pos += JSON_CHUNK;
            }
            // Fewer than 16 bytes of the line are left.
            self.pos += next_special(self.bytes, self.pos)?;
            Some(self.bytes[self.pos])
        }

        /// Reads a string without escapes and with ASCII bytes only, and
        /// returns it without its quotes.
        #[inline(always)]
        fn plain_string(&mut self) -> Option<&'a [u8]> {
            self.expect(b'"')?;
            let start = self.pos;
            if self.skip_plain()? != b'"' {
                return None;
            }
            let text = &self.bytes[start..self.pos];
            self.pos += 1;
            Some(text)
        }

        /// Reads a string, borrowed when it has no escapes, or `null`.
        fn needed_value(&mut self) -> Option<Option<Cow<'a, str>>> {
            if self.peek()? != b'"' {
                self.literal(b"null")?;
                return Some(None);
            }
            self.pos += 1;
            let start = self.pos;
            let mut owned: Option<String> = None;
            let mut copied = start;
            loop {
                match self.skip_plain()? {
                    b'"' => break,
                    b'\\' => {
                        // Only the one-letter escapes; `\u` goes to serde.
                        let unescaped = match *self.bytes.get(self.pos + 1)? {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            _ => return None,
                        };
                        let text = owned.get_or_insert_with(String::new);
                        text.push_str(ascii_str(&self.bytes[copied..self.pos]));
                        text.push(unescaped);
                        self.pos += 2;
                        copied = self.pos;
                    }
                    _ => return None,
                }
            }
            let rest = ascii_str(&self.bytes[copied..self.pos]);
            self.pos += 1;
            Some(Some(match owned {
                None => Cow::Borrowed(rest),
                Some(mut text) => {
                    text.push_str(rest);
                    Cow::Owned(text)
                }
            }))
        }

        #[inline(always)]
        fn literal(&mut self, word: &[u8]) -> Option<()> {
            let end = self.pos + word.len();
            (self.bytes.get(self.pos..end)? == word).then(|| self.pos = end)
        }

        /// Skips a string (simple escapes allowed), a whole number, or
        /// `true`, `false` or `null`.
        fn skip_value(&mut self) -> Option<()> {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    loop {
                        match self.skip_plain()? {
                            b'"' => {
                                self.pos += 1;
                                return Some(());
                            }
                            b'\\' => {
                                let escaped = *self.bytes.get(self.pos + 1)?;
                                if !matches!(escaped, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') {
                                    return None;
                                }
                                self.pos += 2;
                            }
                            _ => return None,
                        }
                    }
                }
                b't' => self.literal(b"true"),
                b'f' => self.literal(b"false"),
                b'n' => self.literal(b"null"),
                b'0' => {
                    self.pos += 1;
                    Some(())
                }
                b'1'..=b'9' => {
                    while matches!(self.peek(), Some(b'0'..=b'9')) {
                        self.pos += 1;
                    }
                    Some(())
                }
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn record(raw: &[u8], rule: Option<usize>) -> serde_json::Value {
        let set = RuleSet::load(&["classic"], &[] as &[&str]).unwrap();
        let mut writer = DetectionWriter::new(set.rules());
        let fields = LogLine::parse(raw).unwrap();
        writer.set_line(&fields, raw, "-", 7);
        let mut out = Vec::new();
        writer.write_record(rule, &mut out).unwrap();
        assert!(out.ends_with(b"}\n"));
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn record_has_every_field() {
        let raw = br#"host:80 ::ffff:192.0.2.7 - - [02/Mar/2024:08:15:02 +0000] "GET /a HTTP/1.1" 200 12 "-" "UA \"x\"""#;
        let value = record(raw, Some(0));
        assert_eq!(value["rule"], "phpmyadmin-login");
        assert_eq!(value["impact"], "high");
        assert_eq!(value["ip"], "192.0.2.7");
        assert_eq!(value["client"], "::ffff:192.0.2.7");
        assert_eq!(value["vhost"], "host:80");
        assert_eq!(value["time"], "2024-03-02T08:15:02+00:00");
        assert_eq!(value["user_agent"], r#"UA \"x\""#);
        assert_eq!(value["line"], 7);
        assert_eq!(value["file"], "-");
        assert_eq!(value["raw"], std::str::from_utf8(raw).unwrap());
        assert!(value.get("raw_base64").is_none());
        assert!(value.get("time_offset_missing").is_none());
    }

    #[test]
    fn record_without_rule_has_nulls() {
        let value = record(br#"192.0.2.1 - - [02/Mar/2024:08:15:02] "-" 408 - "-" "-""#, None);
        assert!(value["rule"].is_null());
        assert!(value["method"].is_null());
        assert!(value["bytes"].is_null());
        assert_eq!(value["time_offset_missing"], true);
    }

    #[test]
    fn record_keeps_non_utf8_bytes() {
        let raw = b"192.0.2.71 - - [21/Apr/2004:11:02:13 -0400] \"SEARCH /\x90\x02\xb1 HTTP/1.1\" 414 346 \"-\" \"-\"";
        let value = record(raw, None);
        assert!(value["raw"].as_str().unwrap().contains('\u{FFFD}'));
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value["raw_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(decoded, raw);
    }

    #[test]
    fn ascii_escapes_match_serde_json() {
        for byte in 0u8..0x80 {
            let text = format!("a{}b", byte as char);
            let mut ours = Vec::new();
            assert!(write_json_ascii(&mut ours, text.as_bytes()));
            assert_eq!(ours, serde_json::to_vec(&text).unwrap(), "byte {byte:#04x}");
        }
        let long = "x".repeat(40) + "\"\\\t" + &"y".repeat(17);
        let mut ours = Vec::new();
        assert!(write_json_ascii(&mut ours, long.as_bytes()));
        assert_eq!(ours, serde_json::to_vec(&long).unwrap());
    }

    #[test]
    fn special_mask_agrees_with_byte_test() {
        for first in (0..=255u8).step_by(16) {
            let chunk: [u8; JSON_CHUNK] = std::array::from_fn(|i| first + i as u8);
            let expected = chunk.iter().enumerate().fold(0u32, |mask, (i, &byte)| mask | (u32::from(is_special_in_json(byte)) << i));
            assert_eq!(special_mask(&chunk), expected, "bytes from {first:#04x}");
        }
    }

    #[test]
    fn next_special_finds_every_position() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b'"';
                assert_eq!(next_special(&bytes, 0), Some(at), "len {len}, at {at}");
                assert_eq!(next_special(&bytes, at + 1), None, "len {len}, after {at}");
            }
            assert_eq!(next_special(&vec![b'a'; len], 0), None);
        }
    }

    #[test]
    fn non_ascii_leaves_ascii_path() {
        let mut out = b"{".to_vec();
        assert!(!write_json_ascii(&mut out, "0123456789abcdef-é".as_bytes()));
        assert_eq!(out, b"{");
        assert!(write_json_bytes(&mut out, "é".as_bytes()));
        assert_eq!(out, "{\"é\"".as_bytes());
    }

    #[test]
    fn ip_text_matches_display() {
        let mut itoa = itoa::Buffer::new();
        for text in ["0.0.0.0", "192.0.2.7", "255.255.255.255", "10.20.3.40", "2001:db8::1", "::1"] {
            let ip: IpAddr = text.parse().unwrap();
            let mut out = Vec::new();
            write_ip(&mut out, ip, &mut itoa);
            assert_eq!(out, ip.to_string().as_bytes());
        }
    }

    #[test]
    fn fast_key_reader_agrees_with_serde() {
        let cases: &[&str] = &[
            r#"{"rule":"r","name":"n \"q\" \\ \/ \t","impact":"high","ip":"192.0.2.1","status":404,"bytes":0,"time":"2024-03-02T08:15:02+00:00","target":"/a","line":12,"raw":"x"}"#,
            r#" { "rule" : null , "ip" : "2001:db8::1" , "ok" : true , "no" : false } "#,
            r#"{}"#,
            r#"{"rule":"a","rule":"b"}"#,
            r#"{"target":"/a\"b\\c\/d\te\b\f\n\r","rule":"r"}"#,
            r#"{"target":"\\x16\\x03","time":"\""}"#,
            r#"{"target":"a\qb"}"#,
            r#"{"target":"a\u0041b"}"#,
            "{\"target\":\"a\tb\"}",
            r#"{"rule":"r\u0041"}"#,
            r#"{"r\u0075le":"x"}"#,
            r#"{"raw":"\u00e9","rule":"r"}"#,
            r#"{"rule":"é"}"#,
            r#"{"status":1.5,"rule":"r"}"#,
            r#"{"status":-1,"rule":"r"}"#,
            r#"{"status":01}"#,
            r#"{"nested":{"a":1},"rule":"r"}"#,
            r#"{"rule":5}"#,
            r#"{"rule":"r",}"#,
            r#"{"rule":"r"} x"#,
            r#"{"rule":"r""#,
            "{\"raw\":\"a\tb\"}",
            r#"{"raw":"bad \q escape"}"#,
            r#"["rule"]"#,
            "",
        ];
        for case in cases {
            let fast = DetectionKey::from_ndjson(case.as_bytes()).map_err(|e| e.to_string());
            let serde = serde_json::from_slice::<DetectionKey<'_>>(case.as_bytes()).map_err(|e| e.to_string());
            assert_eq!(fast, serde, "{case}");
        }
    }

    #[test]
    fn fast_key_reader_takes_hp_match_records() {
        let raw = br#"192.0.2.1 - - [02/Mar/2024:08:15:02 +0000] "GET /a?x=1 HTTP/1.1" 200 12 "-" "UA \"quoted\"""#;
        let set = RuleSet::load(&["classic"], &[] as &[&str]).unwrap();
        let mut writer = DetectionWriter::new(set.rules());
        writer.set_line(&LogLine::parse(raw).unwrap(), raw, "x.log", 3);
        let mut out = Vec::new();
        writer.write_record(Some(0), &mut out).unwrap();
        let line = out.strip_suffix(b"\n").unwrap();
        let key = fast_key::read(line).expect("the fast path reads hp-match's own records");
        assert_eq!(key, serde_json::from_slice::<DetectionKey<'_>>(line).unwrap());
        assert_eq!(key.rule.as_deref(), Some("phpmyadmin-login"));

        let escaped = fast_key::read(br#"{"target":"\\x16\"a\""}"#).expect("one-letter escapes stay on the fast path");
        assert_eq!(escaped.target.as_deref(), Some(r#"\x16"a""#));
    }

    #[test]
    fn record_reads_back() {
        let raw = br#"192.0.2.1 - - [02/Mar/2024:08:15:02 +0000] "GET /a HTTP/1.1" 200 12 "-" "-""#;
        let set = RuleSet::load(&["classic"], &[] as &[&str]).unwrap();
        let mut writer = DetectionWriter::new(set.rules());
        writer.set_line(&LogLine::parse(raw).unwrap(), raw, "x.log", 3);
        let mut out = Vec::new();
        writer.write_record(Some(12), &mut out).unwrap();
        let back: DetectionRecord<'_> = serde_json::from_slice(&out).unwrap();
        assert_eq!(back.rule.as_deref(), Some("resource-scan"));
        assert_eq!(back.ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(back.line, Some(3));
    }
}

//! One access-log line: the structural check and the field parse.
//!
//! hp reads the formats that Apache and nginx write by default, detected per
//! line:
//!
//! ```text
//! common:         client ident user [time] "request" status bytes
//! combined:       client ident user [time] "request" status bytes "referrer" "user-agent"
//! vhost_combined: host[:port] client ident user [time] "request" status bytes "referrer" "user-agent"
//! ```
//!
//! nginx's default `combined` is the same as Apache's. Fields after the user
//! agent (an `X-Forwarded-For` field, a request time) are ignored.
//!
//! Lines are bytes, not `str`: attackers put raw non-UTF-8 bytes, TLS
//! handshakes and control characters into the request, and hp must keep them
//! exactly. Every field of [`LogLine`] borrows from the line, so parsing
//! allocates nothing.
//!
//! Parsing runs in two steps because most lines of a large log fire no rule.
//! [`Frame::find`] is the cheap structural check that every line gets: it
//! locates the client, the `[time]`, the quoted request and the status, and a
//! line that fails it is malformed. [`LogLine::parse`] completes the parse
//! (address, time, request parts, referrer, user agent) for the lines that
//! need it.

use std::net::IpAddr;

use bstr::ByteSlice;
use thiserror::Error;

use crate::timestamp::{LogTime, TimeError};

/// The reason a line is malformed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LineError {
    #[error("no client field before the '[time]' field")]
    MissingClient,
    #[error("expected 'client ident user' before '[time]', found {0} fields")]
    BadHead(usize),
    #[error("no '[time]' field")]
    MissingTime,
    #[error("no quoted request after the time")]
    MissingRequest,
    #[error("the request has no closing quote followed by a status and a size")]
    UnterminatedRequest,
    #[error(transparent)]
    Time(#[from] TimeError),
}

/// Byte ranges of the fields that the structural check finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The fields before the time: `[vhost ]client ident user`.
    head: (usize, usize),
    /// The text between `[` and `]`.
    time: (usize, usize),
    /// The text between the request's quotes.
    request: (usize, usize),
    status: (usize, usize),
    bytes: (usize, usize),
    /// Start of the fields after the size (referrer, user agent, extras).
    tail: usize,
}

impl Frame {
    /// Runs the structural check on a line without its line ending, and
    /// returns where its fields are.
    pub fn find(line: &[u8]) -> Result<Frame, LineError> {
        let time_open = find_time_open(line).ok_or(LineError::MissingTime)?;
        if time_open == 0 || line[0] == b' ' {
            return Err(LineError::MissingClient);
        }
        let time_start = time_open + 2;
        let time_end = time_start
            + memchr::memchr(b']', &line[time_start..]).ok_or(LineError::MissingTime)?;

        let request_start = time_end + 3;
        if line.get(time_end + 1..request_start) != Some(b" \"".as_slice()) {
            return Err(LineError::MissingRequest);
        }
        let (request_end, status, bytes, tail) =
            find_request_end(line, request_start).ok_or(LineError::UnterminatedRequest)?;

        Ok(Frame {
            head: (0, time_open),
            time: (time_start, time_end),
            request: (request_start, request_end),
            status,
            bytes,
            tail,
        })
    }
}

/// Finds the first ` [`, where the time field opens. The first `[` of a
/// line is almost always that one, so a `memchr` for `[` beats a substring
/// search, which would also build a searcher on every call.
fn find_time_open(line: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'[', line).find(|&bracket| bracket > 0 && line[bracket - 1] == b' ').map(|bracket| bracket - 1)
}

/// Finds the quote that closes the request: the first unescaped `"` that is
/// followed by a status and a size. A quote that is not followed by them is
/// taken as content, because some servers log a raw `"` inside the request.
///
/// Returns the request's end and the ranges of the status, the size and the
/// rest of the line.
#[allow(clippy::type_complexity)]
fn find_request_end(
    line: &[u8],
    start: usize,
) -> Option<(usize, (usize, usize), (usize, usize), usize)> {
    let mut pos = start;
    loop {
        pos += memchr::memchr2(b'"', b'\\', &line[pos..])?;
        if line[pos] == b'\\' {
            // An escape: the next byte is content, even a quote.
            pos += 2;
            if pos >= line.len() {
                return None;
            }
            continue;
        }

        let quote = pos;
        pos += 1;
        if line.get(quote + 1) != Some(&b' ') {
            continue;
        }
        let status = token_at(line, quote + 2);
        if !is_status(&line[status.0..status.1]) {
            continue;
        }
        let bytes = match line.get(status.1) {
            None => (status.1, status.1),
            Some(b' ') => token_at(line, status.1 + 1),
            Some(_) => continue,
        };
        if !is_size(&line[bytes.0..bytes.1]) {
            continue;
        }
        return Some((quote, status, bytes, bytes.1));
    }
}

/// Returns the span of the space-free token that starts at `start`.
fn token_at(line: &[u8], start: usize) -> (usize, usize) {
    let start = start.min(line.len());
    // A plain loop: tokens here are a status or a size, a few bytes long,
    // where a memchr call costs more than it saves.
    let end = line[start..].iter().position(|byte| *byte == b' ').map_or(line.len(), |i| start + i);
    (start, end)
}

/// Checks a status: three digits, or `-` when the server logged none.
fn is_status(token: &[u8]) -> bool {
    token == b"-" || (token.len() == 3 && token.iter().all(u8::is_ascii_digit))
}

/// Checks a response size: digits, or `-` for no body.
fn is_size(token: &[u8]) -> bool {
    token == b"-" || (!token.is_empty() && token.len() <= 20 && token.iter().all(u8::is_ascii_digit))
}

/// The fields of one parsed access-log line, borrowed from the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// `host[:port]` of the `vhost_combined` format.
    pub vhost: Option<&'a [u8]>,
    /// The client field as written.
    pub client: &'a [u8],
    /// The client as an address, with a `%zone` dropped and `::ffff:a.b.c.d`
    /// turned into IPv4; `None` when the client is a host name.
    pub ip: Option<IpAddr>,
    pub time: LogTime,
    /// The text between the request's quotes, as written.
    pub request: &'a [u8],
    /// Set only when the request is `METHOD target HTTP/d.d` with `METHOD`
    /// in `[A-Z]+`; otherwise method, target and protocol are all `None`.
    pub method: Option<&'a [u8]>,
    pub target: Option<&'a [u8]>,
    pub protocol: Option<&'a [u8]>,
    /// `None` when the status is logged as `-`.
    pub status: Option<u16>,
    /// Response size; `None` when logged as `-`.
    pub bytes: Option<u64>,
    /// As written (escapes kept, `-` kept); `None` in the common format.
    pub referrer: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
}

impl<'a> LogLine<'a> {
    /// Parses a line without its line ending.
    pub fn parse(line: &'a [u8]) -> Result<LogLine<'a>, LineError> {
        let frame = Frame::find(line)?;
        LogLine::from_frame(line, &frame)
    }

    /// Completes the parse of a line that passed the structural check.
    pub fn from_frame(line: &'a [u8], frame: &Frame) -> Result<LogLine<'a>, LineError> {
        let (vhost, client) = split_head(&line[frame.head.0..frame.head.1])?;
        let time = LogTime::parse_clf(&line[frame.time.0..frame.time.1])?;

        let request = &line[frame.request.0..frame.request.1];
        let (method, target, protocol) = split_request(request);

        let status_text = &line[frame.status.0..frame.status.1];
        let status = parse_decimal(status_text).map(|s| s as u16);
        let bytes = parse_decimal(&line[frame.bytes.0..frame.bytes.1]);

        let (referrer, rest) = next_field(line, frame.tail);
        let (user_agent, _extras) = match referrer {
            Some(_) => next_field(line, rest),
            None => (None, rest),
        };

        Ok(LogLine {
            vhost,
            client,
            ip: parse_client_ip(client),
            time,
            request,
            method,
            target,
            protocol,
            status,
            bytes,
            referrer,
            user_agent,
        })
    }
}

/// Splits `[vhost ]client ident user` into the vhost and the client.
fn split_head(head: &[u8]) -> Result<(Option<&[u8]>, &[u8]), LineError> {
    let mut fields = [&b""[..]; 4];
    let mut count = 0;
    for field in head.split(|byte| *byte == b' ') {
        if count == fields.len() {
            return Err(LineError::BadHead(count + 1));
        }
        fields[count] = field;
        count += 1;
    }

    match count {
        3 if !fields[0].is_empty() => Ok((None, fields[0])),
        4 if !fields[0].is_empty() && !fields[1].is_empty() => Ok((Some(fields[0]), fields[1])),
        _ => Err(LineError::BadHead(count)),
    }
}

/// Splits `METHOD target HTTP/d.d`. The target is everything between the
/// first and the last space, because attackers put raw spaces in it.
#[allow(clippy::type_complexity)]
fn split_request(request: &[u8]) -> (Option<&[u8]>, Option<&[u8]>, Option<&[u8]>) {
    let none = (None, None, None);
    let Some(first_space) = memchr::memchr(b' ', request) else {
        return none;
    };
    let Some(last_space) = memchr::memrchr(b' ', request) else {
        return none;
    };
    if last_space == first_space {
        return none;
    }

    let method = &request[..first_space];
    let target = &request[first_space + 1..last_space];
    let protocol = &request[last_space + 1..];
    if method.is_empty() || !method.iter().all(u8::is_ascii_uppercase) || !is_http_version(protocol) {
        return none;
    }
    (Some(method), Some(target), Some(protocol))
}

/// `HTTP/d.d`, the protocol forms of HTTP/1.0 to HTTP/3.0.
fn is_http_version(protocol: &[u8]) -> bool {
    protocol.len() == 8
        && protocol.starts_with(b"HTTP/")
        && protocol[5].is_ascii_digit()
        && protocol[6] == b'.'
        && protocol[7].is_ascii_digit()
}

fn parse_decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(text.iter().fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0')))
}

/// Reads the next field after `pos`: a quoted string (its content returned,
/// escapes kept) or a bare token such as nginx's unquoted `-`.
///
/// Returns the field and where the rest of the line starts.
fn next_field(line: &[u8], pos: usize) -> (Option<&[u8]>, usize) {
    let start = pos + line[pos.min(line.len())..].iter().take_while(|b| **b == b' ').count();
    if start >= line.len() {
        return (None, line.len());
    }

    if line[start] != b'"' {
        let (token_start, token_end) = token_at(line, start);
        return (Some(&line[token_start..token_end]), token_end);
    }

    let content_start = start + 1;
    let mut cursor = content_start;
    while let Some(offset) = memchr::memchr2(b'"', b'\\', &line[cursor..]) {
        let at = cursor + offset;
        if line[at] == b'\\' {
            cursor = at + 2;
            if cursor >= line.len() {
                break;
            }
            continue;
        }
        return (Some(&line[content_start..at]), at + 1);
    }

    // No closing quote: the line was cut; keep what is there.
    (Some(&line[content_start..]), line.len())
}

/// Reads the client field as an address. A `%zone` suffix and brackets are
/// dropped, and an IPv4-mapped IPv6 address becomes IPv4 so that it counts
/// together with the same client's plain IPv4 hits.
pub fn parse_client_ip(client: &[u8]) -> Option<IpAddr> {
    if let Some(ip) = parse_plain_ipv4(client) {
        return Some(IpAddr::V4(ip));
    }
    let text = client.to_str().ok()?;
    let text = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
    let text = text.split_once('%').map_or(text, |(address, _zone)| address);
    let ip: IpAddr = text.parse().ok()?;
    Some(canonical_ip(ip))
}

/// Parses the dotted-quad form that most clients have, as the standard
/// library does: four decimal octets up to 255, without leading zeros.
/// Returns `None` for anything else, which the caller then parses in full.
fn parse_plain_ipv4(text: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split(|byte| *byte == b'.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        let mut value = 0u16;
        for &digit in part {
            if !digit.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u16::from(digit - b'0');
        }
        *octet = u8::try_from(value).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(std::net::Ipv4Addr::from(octets))
}

/// Turns an IPv4-mapped IPv6 address into IPv4; other addresses are kept.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMBINED: &[u8] = br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET /a b HTTP/1.1" 200 190 "-" "Mozilla/5.0 (X)""#;

    #[test]
    fn parse_combined() {
        let line = LogLine::parse(COMBINED).unwrap();
        assert_eq!(line.client, b"192.0.2.1");
        assert_eq!(line.ip, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(line.method, Some(&b"GET"[..]));
        assert_eq!(line.target, Some(&b"/a b"[..]));
        assert_eq!(line.protocol, Some(&b"HTTP/1.1"[..]));
        assert_eq!(line.status, Some(200));
        assert_eq!(line.bytes, Some(190));
        assert_eq!(line.referrer, Some(&b"-"[..]));
        assert_eq!(line.user_agent, Some(&b"Mozilla/5.0 (X)"[..]));
        assert_eq!(line.vhost, None);
    }

    #[test]
    fn parse_common_has_no_referrer() {
        let line = LogLine::parse(br#"192.0.2.1 - frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326"#).unwrap();
        assert_eq!(line.referrer, None);
        assert_eq!(line.user_agent, None);
        assert_eq!(line.bytes, Some(2326));
    }

    #[test]
    fn raw_quote_inside_request_is_content() {
        let line = LogLine::parse(br#"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] "GET /a"b HTTP/1.1" 404 1 "-" "-""#).unwrap();
        assert_eq!(line.target, Some(&br#"/a"b"#[..]));
        assert_eq!(line.status, Some(404));
    }

    #[test]
    fn host_name_client_has_no_ip() {
        let line = LogLine::parse(br#"crawler.example - - [28/Mar/2021:13:59:57 +0200] "GET / HTTP/1.1" 200 1"#).unwrap();
        assert_eq!(line.ip, None);
        assert_eq!(line.client, b"crawler.example");
    }

    #[test]
    fn malformed_lines_are_rejected() {
        let cases: &[&[u8]] = &[
            b"",
            b"garbage",
            b"[28/Mar/2021:13:59:57 +0200] \"GET / HTTP/1.1\" 200 1",
            b"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200",
            b"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] GET / 200 1",
            b"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] \"GET / HTTP/1.1 200 1",
            b"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] \"GET / HTTP/1.1\" abc 1",
            b"a b c d e [28/Mar/2021:13:59:57 +0200] \"GET / HTTP/1.1\" 200 1",
            b"192.0.2.1 - - [garbage] \"GET / HTTP/1.1\" 200 1",
            b"192.0.2.1 - - [28/Mar/2021:13:59:57 +0200] \"\\",
        ];
        for case in cases {
            assert!(LogLine::parse(case).is_err(), "accepted {:?}", case.as_bstr());
        }
    }

    #[test]
    fn plain_ipv4_agrees_with_std() {
        let cases = [
            "192.0.2.7", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3",
            "1.2.3.4 ", "+1.2.3.4", "1.2.3.04", "1.2.3.0", "", "1.2.3.", "999.1.1.1", "10.020.3.4",
        ];
        for case in cases {
            let ours = parse_plain_ipv4(case.as_bytes());
            let std = case.parse::<std::net::Ipv4Addr>().ok();
            // Ours may decline what std accepts, never the reverse.
            assert!(ours.is_none() || ours == std, "{case}");
            assert_eq!(parse_client_ip(case.as_bytes()), case.parse::<IpAddr>().ok(), "{case}");
        }
        assert_eq!(parse_plain_ipv4(b"203.0.113.9"), Some(std::net::Ipv4Addr::new(203, 0, 113, 9)));
    }

    #[test]
    fn ip_forms() {
        assert_eq!(parse_client_ip(b"::ffff:192.0.2.7"), Some("192.0.2.7".parse().unwrap()));
        assert_eq!(parse_client_ip(b"fe80::1%enp0s8"), Some("fe80::1".parse().unwrap()));
        assert_eq!(parse_client_ip(b"[2001:db8::5]"), Some("2001:db8::5".parse().unwrap()));
        assert_eq!(parse_client_ip(b"2001:DB8:0::5"), Some("2001:db8::5".parse().unwrap()));
        assert_eq!(parse_client_ip(b"host.example"), None);
        assert_eq!(parse_client_ip(b"\xff"), None);
    }
}

//! Access-log times and their RFC 3339 form.
//!
//! Apache and nginx write the request time as `[10/Oct/2000:13:55:36 -0700]`:
//! the local wall-clock time and the server's UTC offset. hp keeps the offset
//! as written, so `2000-10-10T13:55:36-07:00` names the same wall-clock time
//! as the log, and `+0000` becomes `+00:00`. A time written without an offset
//! is taken as UTC and flagged, because nothing in the line names the zone
//! the server used.
//!
//! [`LogTime`] stores the parsed fields and the instant in Unix seconds, so
//! that times with different offsets compare correctly.

use std::fmt;

use thiserror::Error;

/// An access-log time: the civil fields as written, the UTC offset, and the
/// instant they name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogTime {
    year: i16,
    month: i8,
    day: i8,
    hour: i8,
    minute: i8,
    second: i8,
    /// Offset from UTC in minutes, as written (`+0435` is 275).
    offset_minutes: i16,
    /// True when the log wrote no offset and UTC was assumed.
    offset_missing: bool,
    /// Seconds since the Unix epoch, UTC.
    unix_seconds: i64,
}

/// The reason a time could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TimeError {
    #[error("invalid access-log time {0:?}: expected DD/Mon/YYYY:HH:MM:SS +HHMM")]
    InvalidClf(String),
    #[error("invalid RFC 3339 time {0:?}: expected YYYY-MM-DDTHH:MM:SS+HH:MM")]
    InvalidRfc3339(String),
    #[error("time {0:?} does not exist in the calendar: {1}")]
    OutOfRange(String, String),
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Largest offset accepted, in minutes. Real zones stay within -12:00 and
/// +14:00; `+2359` is the most the four-digit form can write.
const MAX_OFFSET_MINUTES: i16 = 23 * 60 + 59;

impl LogTime {
    /// Parses the text between the brackets of an access-log time:
    /// `10/Oct/2000:13:55:36 -0700`, with a one- or two-digit day and an
    /// optional offset.
    pub fn parse_clf(text: &[u8]) -> Result<LogTime, TimeError> {
        let invalid = || TimeError::InvalidClf(String::from_utf8_lossy(text).into_owned());
        let mut cursor = Cursor { bytes: text, pos: 0 };

        let day = cursor.number(1, 2).ok_or_else(invalid)?;
        cursor.expect(b'/').ok_or_else(invalid)?;
        let month_name = cursor.take(3).ok_or_else(invalid)?;
        let month = MONTHS
            .iter()
            .position(|name| name.as_slice() == month_name)
            .ok_or_else(invalid)?
            + 1;
        cursor.expect(b'/').ok_or_else(invalid)?;
        let year = cursor.number(4, 4).ok_or_else(invalid)?;
        cursor.expect(b':').ok_or_else(invalid)?;
        let hour = cursor.number(2, 2).ok_or_else(invalid)?;
        cursor.expect(b':').ok_or_else(invalid)?;
        let minute = cursor.number(2, 2).ok_or_else(invalid)?;
        cursor.expect(b':').ok_or_else(invalid)?;
        let second = cursor.number(2, 2).ok_or_else(invalid)?;

        let (offset_minutes, offset_missing) = if cursor.at_end() {
            (0, true)
        } else {
            cursor.expect(b' ').ok_or_else(invalid)?;
            let sign = cursor.sign().ok_or_else(invalid)?;
            let hours = cursor.number(2, 2).ok_or_else(invalid)?;
            let minutes = cursor.number(2, 2).ok_or_else(invalid)?;
            if !cursor.at_end() || minutes > 59 {
                return Err(invalid());
            }
            (sign * (hours * 60 + minutes), false)
        };

        LogTime::from_parts(
            [year, month as i64, day, hour, minute, second],
            offset_minutes,
            offset_missing,
            || String::from_utf8_lossy(text).into_owned(),
        )
    }

    /// Parses the RFC 3339 form that [`LogTime`] writes
    /// (`2000-10-10T13:55:36-07:00`); `Z` is accepted as `+00:00`.
    pub fn parse_rfc3339(text: &str) -> Result<LogTime, TimeError> {
        let invalid = || TimeError::InvalidRfc3339(text.to_owned());
        let mut cursor = Cursor { bytes: text.as_bytes(), pos: 0 };

        let year = cursor.number(4, 4).ok_or_else(invalid)?;
        cursor.expect(b'-').ok_or_else(invalid)?;
        let month = cursor.number(2, 2).ok_or_else(invalid)?;
        cursor.expect(b'-').ok_or_else(invalid)?;
        let day = cursor.number(2, 2).ok_or_else(invalid)?;
        cursor.expect(b'T').ok_or_else(invalid)?;
        let hour = cursor.number(2, 2).ok_or_else(invalid)?;
        cursor.expect(b':').ok_or_else(invalid)?;
        let minute = cursor.number(2, 2).ok_or_else(invalid)?;
        cursor.expect(b':').ok_or_else(invalid)?;
        let second = cursor.number(2, 2).ok_or_else(invalid)?;

        let offset_minutes = if cursor.expect(b'Z').is_some() {
            0
        } else {
            let sign = cursor.sign().ok_or_else(invalid)?;
            let hours = cursor.number(2, 2).ok_or_else(invalid)?;
            cursor.expect(b':').ok_or_else(invalid)?;
            let minutes = cursor.number(2, 2).ok_or_else(invalid)?;
            if minutes > 59 {
                return Err(invalid());
            }
            sign * (hours * 60 + minutes)
        };
        if !cursor.at_end() {
            return Err(invalid());
        }

        LogTime::from_parts(
            [year, month, day, hour, minute, second],
            offset_minutes,
            false,
            || text.to_owned(),
        )
    }

    /// Builds a time from a Unix instant, written in UTC (`+00:00`).
    pub fn from_unix_seconds(unix_seconds: i64) -> Result<LogTime, TimeError> {
        let timestamp = jiff::Timestamp::from_second(unix_seconds)
            .map_err(|e| TimeError::OutOfRange(unix_seconds.to_string(), e.to_string()))?;
        let civil = jiff::tz::Offset::UTC.to_datetime(timestamp);
        Ok(LogTime {
            year: civil.year(),
            month: civil.month(),
            day: civil.day(),
            hour: civil.hour(),
            minute: civil.minute(),
            second: civil.second(),
            offset_minutes: 0,
            offset_missing: false,
            unix_seconds,
        })
    }

    fn from_parts(
        [year, month, day, hour, minute, second]: [i64; 6],
        offset_minutes: i64,
        offset_missing: bool,
        text: impl Fn() -> String,
    ) -> Result<LogTime, TimeError> {
        let out_of_range = |e: jiff::Error| TimeError::OutOfRange(text(), e.to_string());
        if offset_minutes.abs() > i64::from(MAX_OFFSET_MINUTES) {
            return Err(TimeError::InvalidClf(text()));
        }

        // The narrowing casts are safe: the cursor read at most four digits.
        let civil = jiff::civil::DateTime::new(
            year as i16,
            month as i8,
            day as i8,
            hour as i8,
            minute as i8,
            second as i8,
            0,
        )
        .map_err(out_of_range)?;
        let offset = jiff::tz::Offset::from_seconds(offset_minutes as i32 * 60).map_err(out_of_range)?;
        let unix_seconds = offset.to_timestamp(civil).map_err(out_of_range)?.as_second();

        Ok(LogTime {
            year: year as i16,
            month: month as i8,
            day: day as i8,
            hour: hour as i8,
            minute: minute as i8,
            second: second as i8,
            offset_minutes: offset_minutes as i16,
            offset_missing,
            unix_seconds,
        })
    }

    /// Seconds since the Unix epoch, UTC.
    pub fn unix_seconds(&self) -> i64 {
        self.unix_seconds
    }

    /// True when the log wrote no UTC offset and UTC was assumed.
    pub fn offset_missing(&self) -> bool {
        self.offset_missing
    }

    /// Appends the RFC 3339 form with the offset as written, without
    /// allocating: this runs once per detection.
    pub fn write_rfc3339(&self, out: &mut Vec<u8>) {
        push_digits(out, self.year as u32, 4);
        out.push(b'-');
        push_digits(out, self.month as u32, 2);
        out.push(b'-');
        push_digits(out, self.day as u32, 2);
        out.push(b'T');
        push_digits(out, self.hour as u32, 2);
        out.push(b':');
        push_digits(out, self.minute as u32, 2);
        out.push(b':');
        push_digits(out, self.second as u32, 2);
        out.push(if self.offset_minutes < 0 { b'-' } else { b'+' });
        let offset = self.offset_minutes.unsigned_abs() as u32;
        push_digits(out, offset / 60, 2);
        out.push(b':');
        push_digits(out, offset % 60, 2);
    }

    /// Returns the same instant in UTC with a `Z` suffix, as CTIM expects.
    pub fn to_utc_string(&self) -> String {
        // Every LogTime was built from a valid instant, so this cannot fail.
        let timestamp = jiff::Timestamp::from_second(self.unix_seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        timestamp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

impl fmt::Display for LogTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::with_capacity(25);
        self.write_rfc3339(&mut out);
        // Only ASCII digits and punctuation were written.
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl PartialOrd for LogTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders by instant; equal instants written with different offsets are
/// ordered by offset so that the order is total.
impl Ord for LogTime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.unix_seconds
            .cmp(&other.unix_seconds)
            .then(self.offset_minutes.cmp(&other.offset_minutes))
    }
}

/// Parses a duration such as `600`, `600s`, `10m`, `2h`, `30d` or `2w` into
/// seconds; a bare number is seconds. The duration must be positive.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let invalid = || format!("invalid duration {text:?}: expected a positive number with s, m, h, d or w, e.g. 10m");
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(split) => text.split_at(split),
        None => (text, "s"),
    };
    let value: i64 = number.parse().map_err(|_| invalid())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(invalid()),
    };
    match value.checked_mul(scale) {
        Some(seconds) if seconds > 0 => Ok(seconds),
        _ => Err(invalid()),
    }
}

fn push_digits(out: &mut Vec<u8>, value: u32, width: u32) {
    let mut divisor = 10u32.pow(width - 1);
    while divisor > 0 {
        out.push(b'0' + ((value / divisor) % 10) as u8);
        divisor /= 10;
    }
}

/// A forward-only reader over the bytes of a time string.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    /// Reads between `min` and `max` ASCII digits.
    fn number(&mut self, min: usize, max: usize) -> Option<i64> {
        // One pass that reads and converts; it runs six times per log time.
        let mut value = 0i64;
        let mut digits = 0;
        while digits < max {
            match self.bytes.get(self.pos + digits) {
                Some(byte) if byte.is_ascii_digit() => value = value * 10 + i64::from(byte - b'0'),
                _ => break,
            }
            digits += 1;
        }
        if digits < min {
            return None;
        }
        self.pos += digits;
        Some(value)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    fn take(&mut self, len: usize) -> Option<&[u8]> {
        let taken = self.bytes.get(self.pos..self.pos + len)?;
        self.pos += len;
        Some(taken)
    }

    fn sign(&mut self) -> Option<i64> {
        match self.bytes.get(self.pos)? {
            b'+' => {
                self.pos += 1;
                Some(1)
            }
            b'-' => {
                self.pos += 1;
                Some(-1)
            }
            _ => None,
        }
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc3339(clf: &str) -> String {
        LogTime::parse_clf(clf.as_bytes()).unwrap().to_string()
    }

    #[test]
    fn clf_keeps_offset_as_written() {
        assert_eq!(rfc3339("10/Oct/2000:13:55:36 -0700"), "2000-10-10T13:55:36-07:00");
        assert_eq!(rfc3339("28/Mar/2021:13:59:57 +0000"), "2021-03-28T13:59:57+00:00");
    }

    #[test]
    fn clf_one_digit_day_and_odd_offset() {
        assert_eq!(rfc3339("1/Apr/2014:10:00:00 +0435"), "2014-04-01T10:00:00+04:35");
    }

    #[test]
    fn clf_without_offset_is_utc_and_flagged() {
        let time = LogTime::parse_clf(b"21/Jun/2012:23:49:36").unwrap();
        assert_eq!(time.to_string(), "2012-06-21T23:49:36+00:00");
        assert!(time.offset_missing());
    }

    #[test]
    fn clf_instant_accounts_for_offset() {
        let east = LogTime::parse_clf(b"28/Mar/2021:15:00:00 +0200").unwrap();
        let utc = LogTime::parse_clf(b"28/Mar/2021:13:00:00 +0000").unwrap();
        assert_eq!(east.unix_seconds(), utc.unix_seconds());
        assert_eq!(east.to_utc_string(), "2021-03-28T13:00:00Z");
    }

    #[test]
    fn clf_rejects_bad_input() {
        for bad in [
            "",
            "garbage",
            "32/Oct/2000:13:55:36 -0700",
            "30/Feb/2000:13:55:36 -0700",
            "10/Foo/2000:13:55:36 -0700",
            "10/Oct/2000:25:55:36 -0700",
            "10/Oct/2000:13:55:36 -07",
            "10/Oct/2000:13:55:36 -0760",
            "10/Oct/2000:13:55:36 -0700 extra",
            "10/Oct/2000:13:55",
        ] {
            assert!(LogTime::parse_clf(bad.as_bytes()).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Ok(600));
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("30d"), Ok(30 * 86_400));
        assert_eq!(parse_duration("2w"), Ok(2 * 604_800));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999w").is_err());
    }

    #[test]
    fn rfc3339_round_trip() {
        for text in ["2000-10-10T13:55:36-07:00", "2014-04-01T10:00:00+04:35", "2021-03-28T13:59:57+00:00"] {
            assert_eq!(LogTime::parse_rfc3339(text).unwrap().to_string(), text);
        }
        assert_eq!(
            LogTime::parse_rfc3339("2021-03-28T13:59:57Z").unwrap().to_string(),
            "2021-03-28T13:59:57+00:00"
        );
        assert!(LogTime::parse_rfc3339("2021-03-28 13:59:57").is_err());
    }
}

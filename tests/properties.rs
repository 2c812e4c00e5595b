//! Property tests: arbitrary bytes never panic the parser or the matcher,
//! a combined line written from its fields parses back to them, and
//! detection records always read back in hp-correlate.

use hp::correlate::{CorrelateOptions, Correlator, Counted};
use hp::detection::DetectionWriter;
use hp::logline::{Frame, LogLine};
use hp::matcher::Matcher;
use hp::rules::RuleSet;
use proptest::prelude::*;

/// Built once: compiling the rules per case would dominate the run time.
static CLASSIC: std::sync::LazyLock<Matcher> =
    std::sync::LazyLock::new(|| Matcher::new(&RuleSet::load(&["classic"], &[] as &[&str]).unwrap()));

/// Generated fields of a combined line.
#[derive(Debug, Clone)]
struct Fields {
    ip: std::net::IpAddr,
    day: u8,
    month: usize,
    year: u16,
    hour: u8,
    minute: u8,
    second: u8,
    offset: i16,
    method: String,
    target: String,
    status: u16,
    bytes: Option<u64>,
    referrer: String,
    user_agent: String,
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn fields() -> impl Strategy<Value = Fields> {
    // Quoted fields: printable ASCII without quotes or backslashes, which
    // Apache would have escaped.
    let quoted = "[ -!#-\\[\\]-~]{0,40}";
    (
        any::<std::net::IpAddr>(),
        (1u8..=28, 0usize..12, 1970u16..=2100, 0u8..24, 0u8..60, 0u8..60, -1439i16..=1439),
        ("[A-Z]{1,8}", "/[!-~]{0,60}", 100u16..=599, proptest::option::of(0u64..10_000_000)),
        (quoted, quoted),
    )
        .prop_map(|(ip, (day, month, year, hour, minute, second, offset), (method, target, status, bytes), (referrer, user_agent))| Fields {
            ip,
            day,
            month,
            year,
            hour,
            minute,
            second,
            offset,
            method,
            target: target.replace('"', "%22").replace('\\', "%5C"),
            status,
            bytes,
            referrer,
            user_agent,
        })
}

fn write_line(f: &Fields) -> String {
    let sign = if f.offset < 0 { '-' } else { '+' };
    let offset = f.offset.unsigned_abs();
    format!(
        "{} - - [{:02}/{}/{}:{:02}:{:02}:{:02} {sign}{:02}{:02}] \"{} {} HTTP/1.1\" {} {} \"{}\" \"{}\"",
        f.ip,
        f.day,
        MONTHS[f.month],
        f.year,
        f.hour,
        f.minute,
        f.second,
        offset / 60,
        offset % 60,
        f.method,
        f.target,
        f.status,
        f.bytes.map_or("-".to_owned(), |b| b.to_string()),
        f.referrer,
        f.user_agent,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(line in proptest::collection::vec(any::<u8>(), 0..400)) {
        let matcher = &*CLASSIC;
        let mut scratch = matcher.scratch();
        if let Ok(frame) = Frame::find(&line) {
            let _ = matcher.match_line(&line, &frame, &mut scratch);
            let _ = LogLine::from_frame(&line, &frame);
        }
        let _ = LogLine::parse(&line);
    }

    #[test]
    fn line_like_bytes_never_panic(
        head in "[0-9a-f.:%-]{0,20} [-a-z]{0,3} [-a-z]{0,3} \\[[0-9A-Za-z/: +-]{0,30}\\] \"",
        rest in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), Just(b' '), any::<u8>()], 0..120),
    ) {
        let mut line = head.into_bytes();
        line.extend_from_slice(&rest);
        let matcher = &*CLASSIC;
        let mut scratch = matcher.scratch();
        if let Ok(frame) = Frame::find(&line) {
            let _ = matcher.match_line(&line, &frame, &mut scratch);
        }
        let _ = LogLine::parse(&line);
    }

    #[test]
    fn combined_line_round_trips(f in fields()) {
        let text = write_line(&f);
        let line = LogLine::parse(text.as_bytes()).unwrap();
        let canonical = hp::logline::canonical_ip(f.ip);
        prop_assert_eq!(line.ip, Some(canonical));
        prop_assert_eq!(line.method, Some(f.method.as_bytes()));
        prop_assert_eq!(line.target, Some(f.target.as_bytes()));
        prop_assert_eq!(line.protocol, Some(&b"HTTP/1.1"[..]));
        prop_assert_eq!(line.status, Some(f.status));
        prop_assert_eq!(line.bytes, f.bytes);
        prop_assert_eq!(line.referrer, Some(f.referrer.as_bytes()));
        prop_assert_eq!(line.user_agent, Some(f.user_agent.as_bytes()));
        let time = line.time.to_string();
        prop_assert!(time.starts_with(&format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", f.year, f.month + 1, f.day, f.hour, f.minute, f.second)), "{}", time);
    }

    #[test]
    fn detections_round_trip_through_correlate(lines in proptest::collection::vec(fields(), 1..20)) {
        let set = RuleSet::load(&["classic"], &[] as &[&str]).unwrap();
        let mut writer = DetectionWriter::new(set.rules());
        let mut correlator = Correlator::new(CorrelateOptions::default());
        for (number, f) in lines.iter().enumerate() {
            let text = write_line(f);
            let line = LogLine::parse(text.as_bytes()).unwrap();
            writer.set_line(&line, text.as_bytes(), "-", number as u64 + 1);
            let mut record = Vec::new();
            writer.write_record(Some(0), &mut record).unwrap();
            let counted = correlator.add_line(record.strip_suffix(b"\n").unwrap());
            prop_assert_eq!(counted, Ok(Counted::Detection(hp::logline::canonical_ip(f.ip))));
        }
        let total: u64 = correlator.finish(true).iter().map(|a| a.total).sum();
        prop_assert_eq!(total, lines.len() as u64);
    }
}

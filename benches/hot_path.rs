//! Criterion benchmarks of the per-line steps of hp-match and hp-correlate,
//! each over every line of `data/honeypot-access.log` (1,785 lines, 309 KB).
//!
//! Run with `cargo bench --bench hot_path`; `scripts/bench` times the
//! binaries end to end.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use hp::correlate::{CorrelateOptions, Correlator};
use hp::detection::{DetectionKey, DetectionWriter};
use hp::input::LineReader;
use hp::logline::{Frame, LogLine};
use hp::matcher::Matcher;
use hp::rules::RuleSet;

const SAMPLE: &[u8] = include_bytes!("../data/honeypot-access.log");

fn sample_lines() -> Vec<&'static [u8]> {
    SAMPLE.split(|byte| *byte == b'\n').filter(|line| !line.is_empty()).collect()
}

fn classic() -> RuleSet {
    RuleSet::load(&["classic"], &[] as &[&str]).expect("the classic pack loads")
}

/// Builds the records that hp-match writes for the sample, one per fired
/// rule.
fn sample_records() -> Vec<u8> {
    let set = classic();
    let matcher = Matcher::new(&set);
    let mut scratch = matcher.scratch();
    let mut writer = DetectionWriter::new(matcher.rules());
    let mut out = Vec::new();
    for (number, line) in sample_lines().into_iter().enumerate() {
        let Ok(frame) = Frame::find(line) else { continue };
        matcher.match_line(line, &frame, &mut scratch);
        if scratch.fired.is_empty() {
            continue;
        }
        let Ok(fields) = LogLine::from_frame(line, &frame) else { continue };
        writer.set_line(&fields, line, "access.log", number as u64 + 1);
        for &rule in &scratch.fired {
            writer.write_record(Some(rule), &mut out).expect("writing into a Vec");
        }
    }
    out
}

fn line_splitting(c: &mut Criterion) {
    let mut group = c.benchmark_group("line_splitting");
    group.throughput(Throughput::Bytes(SAMPLE.len() as u64));
    group.bench_function("LineReader", |b| {
        b.iter(|| {
            let mut reader = LineReader::new(black_box(SAMPLE));
            let mut bytes = 0;
            while let Some(line) = reader.next_line().expect("reading a slice") {
                bytes += line.bytes.len();
            }
            bytes
        })
    });
    group.finish();
}

fn structural_check(c: &mut Criterion) {
    let lines = sample_lines();
    let mut group = c.benchmark_group("structural_check");
    group.throughput(Throughput::Bytes(SAMPLE.len() as u64));
    group.bench_function("Frame::find", |b| {
        b.iter(|| lines.iter().filter(|line| Frame::find(black_box(line)).is_ok()).count())
    });
    group.finish();
}

fn field_parsing(c: &mut Criterion) {
    let lines = sample_lines();
    let frames: Vec<(&[u8], Frame)> =
        lines.iter().filter_map(|line| Frame::find(line).ok().map(|frame| (*line, frame))).collect();
    let mut group = c.benchmark_group("field_parsing");
    group.throughput(Throughput::Bytes(SAMPLE.len() as u64));
    group.bench_function("LogLine::from_frame", |b| {
        b.iter(|| {
            frames.iter().filter(|(line, frame)| LogLine::from_frame(black_box(line), frame).is_ok()).count()
        })
    });
    group.finish();
}

fn rule_matching(c: &mut Criterion) {
    let set = classic();
    let matcher = Matcher::new(&set);
    let mut scratch = matcher.scratch();
    let frames: Vec<(&[u8], Frame)> =
        sample_lines().into_iter().filter_map(|line| Frame::find(line).ok().map(|frame| (line, frame))).collect();
    let mut group = c.benchmark_group("rule_matching");
    group.throughput(Throughput::Bytes(SAMPLE.len() as u64));
    group.bench_function("classic", |b| {
        b.iter(|| {
            let mut fired = 0;
            for (line, frame) in &frames {
                matcher.match_line(black_box(line), frame, &mut scratch);
                fired += scratch.fired.len();
            }
            fired
        })
    });
    group.finish();
}

fn ndjson_writing(c: &mut Criterion) {
    let set = classic();
    let mut writer = DetectionWriter::new(set.rules());
    let parsed: Vec<(&[u8], LogLine<'_>)> =
        sample_lines().into_iter().filter_map(|line| LogLine::parse(line).ok().map(|fields| (line, fields))).collect();
    let mut out = Vec::with_capacity(4 << 20);
    let mut group = c.benchmark_group("ndjson_writing");
    group.throughput(Throughput::Elements(parsed.len() as u64));
    group.bench_function("DetectionWriter", |b| {
        b.iter(|| {
            out.clear();
            for (number, (line, fields)) in parsed.iter().enumerate() {
                writer.set_line(fields, line, "access.log", number as u64);
                writer.write_record(Some(0), &mut out).expect("writing into a Vec");
            }
            out.len()
        })
    });
    group.finish();
}

fn ndjson_reading(c: &mut Criterion) {
    let records = sample_records();
    let lines: Vec<&[u8]> = records.split(|byte| *byte == b'\n').filter(|line| !line.is_empty()).collect();
    let mut group = c.benchmark_group("ndjson_reading");
    group.throughput(Throughput::Bytes(records.len() as u64));
    group.bench_function("DetectionKey::from_ndjson", |b| {
        b.iter(|| lines.iter().filter(|line| DetectionKey::from_ndjson(black_box(line)).is_ok()).count())
    });
    // The generic path that from_ndjson falls back to, for comparison.
    group.bench_function("serde_json::from_slice", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter(|line| serde_json::from_slice::<DetectionKey<'_>>(black_box(line)).is_ok())
                .count()
        })
    });
    group.bench_function("Correlator::add_line", |b| {
        b.iter(|| {
            let mut correlator = Correlator::new(CorrelateOptions::default());
            for line in &lines {
                correlator.add_line(black_box(line)).expect("a valid record");
            }
            correlator.addresses()
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    line_splitting,
    structural_check,
    field_parsing,
    rule_matching,
    ndjson_writing,
    ndjson_reading
);
criterion_main!(benches);

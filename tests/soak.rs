//! Soak test: millions of log lines through the whole pipeline,
//! `hp-match | hp-correlate | hp-xdr`, against the local XDR stand-in.
//!
//! Ignored by default because it takes minutes; `scripts/soak` runs it in
//! release mode. It checks that no confirmed address is lost and that each
//! binary's peak RSS at 10 million lines is within 10% of its peak at
//! 1 million, so memory does not grow with the input.

mod xdr_common;

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use xdr_common::*;

/// Distinct scanning addresses, from the benchmarking range 198.18.0.0/15.
const SCANNERS: u32 = 100_000;
/// Addresses that try the phpMyAdmin login often enough to be promoted.
const ATTACKERS: u32 = 400;

fn scanner(index: u32) -> String {
    format!("198.{}.{}.{}", 18 + index / 65_536, (index / 256) % 256, index % 256)
}

fn attacker(index: u32) -> String {
    if index % 4 == 0 {
        format!("2001:db8::{:x}", index + 1)
    } else {
        format!("{}.{}", if index < 200 { "198.51.100" } else { "203.0.113" }, index % 200 + 1)
    }
}

/// Writes `lines` log lines: mostly scans from many addresses, with every
/// attacker's login attempts spread through the whole input.
fn generate(lines: u64, out: impl Write) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, out);
    let every = lines / (u64::from(ATTACKERS) * 12);
    for line in 0..lines {
        let second = line % 86_400;
        let time = format!("28/Mar/2021:{:02}:{:02}:{:02} +0200", second / 3600, (second / 60) % 60, second % 60);
        if line % every == 0 {
            let ip = attacker(((line / every) % u64::from(ATTACKERS)) as u32);
            writeln!(out, "{ip} - - [{time}] \"POST /phpmyadmin/index.php?pma_username=root&pma_password={line} HTTP/1.1\" 200 100 \"-\" \"-\"")?;
        } else {
            let ip = scanner((line % u64::from(SCANNERS)) as u32);
            writeln!(out, "{ip} - - [{time}] \"GET /page/{} HTTP/1.1\" 404 196 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"", line % 977)?;
        }
    }
    out.flush()
}

/// Peak resident set size of a running process, in KiB (VmHWM).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the pipeline on `lines` generated lines; returns the peak RSS of
/// hp-match, hp-correlate and hp-xdr, and the addresses hp-xdr reported.
fn run_pipeline(harness: &Harness, lines: u64) -> ([u64; 3], BTreeSet<String>) {
    let mut matcher = Command::new(env!("CARGO_BIN_EXE_hp-match"))
        .args(["-q", "--pack", "classic"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut correlator = Command::new(env!("CARGO_BIN_EXE_hp-correlate"))
        .arg("-q")
        .stdin(Stdio::from(matcher.stdout.take().unwrap()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut args = harness.connection_args();
    args.extend(["--honeypot-hostname", "web01", "--honeypot-ip", "203.0.113.250", "-q"].map(String::from));
    let sender = Command::new(env!("CARGO_BIN_EXE_hp-xdr"))
        .args(&args)
        .env("HP_XDR_CLIENT_ID", CLIENT_ID)
        .env("HP_XDR_CLIENT_PASSWORD", CLIENT_PASSWORD)
        .env("XDG_CONFIG_HOME", harness.home.path().join("config"))
        .stdin(Stdio::from(correlator.stdout.take().unwrap()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    let stdin = matcher.stdin.take().unwrap();
    let writer = std::thread::spawn(move || generate(lines, stdin));

    // VmHWM only grows, so the last reading before each exit is its peak.
    let pids = [matcher.id(), correlator.id(), sender.id()];
    let mut peaks = [0u64; 3];
    let sampler = std::thread::spawn(move || {
        loop {
            let mut alive = false;
            for (index, pid) in pids.iter().enumerate() {
                if let Some(kib) = peak_rss_kib(*pid) {
                    peaks[index] = peaks[index].max(kib);
                    alive = true;
                }
            }
            if !alive {
                return peaks;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });

    writer.join().unwrap().unwrap();
    let output = wait(sender);
    assert!(matcher.wait().unwrap().success());
    assert!(correlator.wait().unwrap().success());
    let peaks = sampler.join().unwrap();

    let sent = String::from_utf8(output).unwrap();
    let mut addresses = BTreeSet::new();
    for sighting in harness.hp_entities("sighting") {
        for observable in sighting["observables"].as_array().unwrap() {
            addresses.insert(observable["value"].as_str().unwrap().to_owned());
        }
    }
    assert!(!sent.is_empty());
    (peaks, addresses)
}

fn wait(child: Child) -> Vec<u8> {
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "hp-xdr failed: {:?}", output.status);
    output.stdout
}

#[test]
#[ignore = "takes minutes; run by scripts/soak"]
fn ten_million_lines_lose_nothing_in_bounded_memory() {
    let expected: BTreeSet<String> = (0..ATTACKERS).map(attacker).collect();

    let small = Harness::start();
    let (small_peaks, small_sent) = run_pipeline(&small, 1_000_000);
    let large = Harness::start();
    let (large_peaks, large_sent) = run_pipeline(&large, 10_000_000);

    for sent in [&small_sent, &large_sent] {
        let missing: Vec<&String> = expected.iter().filter(|ip| !sent.contains(*ip)).collect();
        assert!(missing.is_empty(), "addresses lost: {missing:?}");
    }

    for (index, name) in ["hp-match", "hp-correlate", "hp-xdr"].iter().enumerate() {
        let (small, large) = (small_peaks[index], large_peaks[index]);
        eprintln!("{name}: peak RSS {small} KiB at 1M lines, {large} KiB at 10M lines");
        assert!(large * 10 <= small * 11, "{name}: peak RSS grew from {small} KiB to {large} KiB");
    }
}

//! The logrotate hook, run as logrotate runs it, against the local XDR
//! stand-in: it sends the rotated file's attackers, never fails the
//! rotation, and keeps the addresses queued while XDR is down.

mod xdr_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use xdr_common::*;

const HOOK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/hp-postrotate");
const SAMPLE_LOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/honeypot-access.log");

/// Returns the directory of the binaries under test.
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_hp-match")).parent().unwrap().to_path_buf()
}

/// Runs the hook for `log` with `xdr_args` and returns its output and what
/// it logged.
fn run_hook(log: &Path, xdr_args: &[String], log_file: &Path) -> (Output, String) {
    let output = Command::new("bash")
        .arg(HOOK)
        .arg(log)
        .env("HP_BIN_DIR", bin_dir())
        .env("HP_LOG_FILE", log_file)
        .env("HP_XDR_ARGS", xdr_args.join(" "))
        .env("HP_TIMEOUT", "60")
        .env("HP_XDR_CLIENT_ID", CLIENT_ID)
        .env("HP_XDR_CLIENT_PASSWORD", CLIENT_PASSWORD)
        .output()
        .expect("running the hook");
    let logged = std::fs::read_to_string(log_file).unwrap_or_default();
    (output, logged)
}

fn xdr_args(harness: &Harness) -> Vec<String> {
    let mut args = harness.connection_args();
    args.extend(["--honeypot-hostname", "web01.example.net", "--honeypot-ip", "198.51.100.10"].map(String::from));
    args
}

#[test]
fn hook_sends_rotated_file_once() {
    let harness = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::copy(SAMPLE_LOG, dir.path().join("access.log.1")).unwrap();
    let log_file = dir.path().join("hp.log");

    let (output, logged) = run_hook(&log, &xdr_args(&harness), &log_file);
    assert!(output.status.success(), "{logged}");
    assert!(logged.contains("done:"), "{logged}");
    assert_eq!(harness.hp_entities("incident").len(), 1, "{logged}");
    let sightings = harness.hp_entities("sighting");
    assert_eq!(sightings.len(), 1);

    // logrotate ran twice, or an admin re-ran it: nothing new is created.
    let (output, logged) = run_hook(&log, &xdr_args(&harness), &log_file);
    assert!(output.status.success(), "{logged}");
    assert_eq!(harness.hp_entities("incident").len(), 1);
    assert_eq!(harness.hp_entities("sighting").len(), 1);

    assert!(!logged.contains(CLIENT_PASSWORD), "the password reached the log");
}

#[test]
fn hook_reads_compressed_rotation() {
    let harness = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let gz = std::fs::File::create(dir.path().join("access.log.1.gz")).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
    std::io::copy(&mut std::fs::File::open(SAMPLE_LOG).unwrap(), &mut encoder).unwrap();
    encoder.finish().unwrap();
    let log_file = dir.path().join("hp.log");

    let (output, logged) = run_hook(&log, &xdr_args(&harness), &log_file);
    assert!(output.status.success(), "{logged}");
    assert_eq!(harness.hp_entities("incident").len(), 1, "{logged}");
}

#[test]
fn hook_queues_while_xdr_down() {
    let harness = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::copy(SAMPLE_LOG, dir.path().join("access.log.1")).unwrap();
    let log_file = dir.path().join("hp.log");

    // Every request fails with 500 past the retries.
    harness.faults(serde_json::json!({"status_500": {"count": 1000}}));
    let (output, logged) = run_hook(&log, &xdr_args(&harness), &log_file);
    assert!(output.status.success(), "the hook must never fail the rotation: {logged}");
    assert!(logged.contains("XDR unreachable; the addresses stay queued"), "{logged}");
    assert!(harness.hp_entities("incident").is_empty());

    // XDR is back: the next run sends the queue, even with nothing new.
    harness.clear_faults();
    std::fs::write(dir.path().join("access.log.1"), "").unwrap();
    let (output, logged) = run_hook(&log, &xdr_args(&harness), &log_file);
    assert!(output.status.success(), "{logged}");
    assert_eq!(harness.hp_entities("incident").len(), 1, "{logged}");
}

#[test]
fn hook_without_rotated_file_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log_file = dir.path().join("hp.log");
    let (output, logged) = run_hook(&dir.path().join("access.log"), &[], &log_file);
    assert!(output.status.success());
    assert!(logged.contains("no rotated file found"), "{logged}");
}

//! Crash safety: hp-xdr is killed with SIGKILL at named points of a run
//! against the local XDR stand-in, and at seeded random moments, then run
//! again on the same input, as cron would. Afterwards every confirmed
//! address is on the blocking feed with one judgement, no two entities share
//! an external id, and the state file is intact.

mod xdr_common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use xdr_common::*;

/// The two promoted addresses in `SAMPLE`.
const CONFIRMED: [&str; 2] = ["192.0.2.217", "192.0.2.79"];

/// Starts hp-xdr with the sample input and the feed, with extra environment.
fn spawn_hp_xdr(harness: &Harness, env: &[(&str, &str)]) -> Child {
    let mut args = harness.connection_args();
    args.extend(["--honeypot-hostname", "web01.example.net", "--honeypot-ip", "198.51.100.10", "--feed"].map(String::from));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hp-xdr"))
        .args(&args)
        .env("HP_XDR_CLIENT_ID", CLIENT_ID)
        .env("HP_XDR_CLIENT_PASSWORD", CLIENT_PASSWORD)
        .env("XDG_CONFIG_HOME", harness.home.path().join("config"))
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hp-xdr starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(SAMPLE.as_bytes()).unwrap();
    drop(stdin);
    child
}

/// Waits until hp-xdr reports that it paused at a point, then kills it.
fn kill_when_paused(mut child: Child) {
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let started = Instant::now();
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.contains("paused at") {
            child.kill().unwrap();
            child.wait().unwrap();
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no pause within 30 s");
    }
    let status = child.wait().unwrap();
    panic!("hp-xdr ended without reaching the pause point: {status:?}");
}

fn kill_after(mut child: Child, delay: Duration) {
    std::thread::sleep(delay);
    let _ = child.kill();
    child.wait().unwrap();
}

/// Runs hp-xdr again on the same input and checks the invariants.
fn recover_and_check(harness: &Harness, feeds: &Value, scenario: &str) {
    harness.clear_faults();
    let output = harness.hp_xdr(&["--feed"], SAMPLE);
    assert!(output.status.success(), "{scenario}: the rerun failed: {}", String::from_utf8_lossy(&output.stderr));

    let view = harness.feed_view(feeds["ipv4"]["feed_view_url"].as_str().unwrap());
    let mut expected: Vec<String> = CONFIRMED.iter().map(|ip| ip.to_string()).collect();
    expected.sort();
    assert_eq!(view, expected, "{scenario}: feed view");

    let judgements = harness.hp_entities("judgement");
    let mut judged: Vec<&str> = judgements.iter().map(|j| j["observable"]["value"].as_str().unwrap()).collect();
    judged.sort();
    assert_eq!(judged, ["192.0.2.217", "192.0.2.79"], "{scenario}: one judgement per address");

    for entity_type in ["incident", "sighting", "relationship", "judgement"] {
        let mut seen = HashSet::new();
        for entity in harness.hp_entities(entity_type) {
            let xids = entity["external_ids"].as_array().unwrap();
            assert_eq!(xids.len(), 1, "{scenario}: {entity_type} has {} external ids", xids.len());
            let xid = xids[0].as_str().unwrap().to_lowercase();
            assert!(seen.insert(xid.clone()), "{scenario}: two {entity_type}s share {xid}");
        }
    }
    assert_eq!(harness.hp_entities("incident").len(), 1, "{scenario}: incidents");

    let text = std::fs::read_to_string(harness.state_dir().join("xdr-state.json")).unwrap();
    let state: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{scenario}: state file is not JSON: {e}"));
    assert!(state["queue"].as_array().unwrap().is_empty(), "{scenario}: queue left: {state}");
    for ip in CONFIRMED {
        assert!(state["sent"].get(ip).is_some(), "{scenario}: {ip} not recorded as sent");
    }
}

#[test]
fn killed_at_named_points_loses_nothing() {
    for point in ["before-import", "after-import", "state-write:1", "state-write:2"] {
        let harness = Harness::start();
        let feeds = harness.seed_feeds();
        kill_when_paused(spawn_hp_xdr(&harness, &[("HP_XDR_PAUSE_AT", point)]));
        recover_and_check(&harness, &feeds, point);
    }
}

#[test]
fn killed_during_import_loses_nothing() {
    let harness = Harness::start();
    let feeds = harness.seed_feeds();
    // The stand-in delays its import response by 3 s, and the kill comes in
    // the middle of that.
    harness.faults(json!({"stall_import_ms": 3000}));
    kill_after(spawn_hp_xdr(&harness, &[]), Duration::from_millis(1500));
    recover_and_check(&harness, &feeds, "during the import");
}

#[test]
fn killed_at_random_moments_loses_nothing() {
    // A fixed seed, so that a failure replays with the same delays.
    let mut seed: u64 = 0x5eed_0f_4b1d;
    for round in 0..6 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = Duration::from_millis((seed >> 33) % 400);
        let harness = Harness::start();
        let feeds = harness.seed_feeds();
        harness.faults(json!({"stall_import_ms": {"ms": 200, "count": 1}}));
        kill_after(spawn_hp_xdr(&harness, &[]), delay);
        recover_and_check(&harness, &feeds, &format!("round {round}, killed after {delay:?}"));
    }
}

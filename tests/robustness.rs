//! Every binary ends quietly with status 0 when its reader closes the pipe
//! early, as `| head -1` does, and an unusable state directory is a clear
//! error, never a silent drop.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::*;

/// Runs `binary` with `input` on stdin, reads one line of its output, closes
/// the pipe, and returns the exit status and stderr.
fn read_one_line_then_close(binary: &str, args: &[&str], input: Vec<u8>) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(binary)
        .args(args)
        .env("HP_XDR_CLIENT_ID", "unused")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });

    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(!first.is_empty(), "{binary} wrote nothing");
    // The reader is gone now, like `head -1` after its line.
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (output.status, stderr_text(&output))
}

fn assert_quiet_exit(binary: &str, status: std::process::ExitStatus, stderr: &str) {
    assert!(status.success(), "{binary}: {status:?}, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{binary}: {stderr}");
    assert!(!stderr.to_lowercase().contains("broken pipe"), "{binary}: {stderr}");
}

/// Many detections from many addresses, so every output overflows the pipe.
fn many_detections() -> Vec<u8> {
    let mut out = Vec::new();
    for index in 0..40_000u32 {
        let ip = format!("198.51.{}.{}", (index / 250) % 250, index % 250 + 1);
        writeln!(
            out,
            r#"{{"rule":"phpmyadmin-login","name":"Admin access attempt","impact":"high","ip":"{ip}","time":"2021-03-28T10:00:00+02:00","target":"/x","raw":"{ip} - - [28/Mar/2021:10:00:00 +0200] \"GET /x HTTP/1.1\" 404 1"}}"#
        )
        .unwrap();
    }
    out
}

#[test]
fn closed_pipe_is_quiet_for_every_filter() {
    let detections = many_detections();

    let (status, stderr) = read_one_line_then_close(HP_CORRELATE, &["--all"], detections.clone());
    assert_quiet_exit("hp-correlate", status, &stderr);

    let (status, stderr) = read_one_line_then_close(HP_REPORT, &["--detail", "--format", "csv"], detections.clone());
    assert_quiet_exit("hp-report", status, &stderr);

    let addresses: Vec<u8> = (0..20_000u32)
        .flat_map(|i| format!("198.51.{}.{}\n", (i / 250) % 250, i % 250 + 1).into_bytes())
        .collect();
    let hp_xdr = env!("CARGO_BIN_EXE_hp-xdr");
    let (status, stderr) = read_one_line_then_close(
        hp_xdr,
        &["--dry-run", "--honeypot-hostname", "web01", "--honeypot-ip", "203.0.113.10", "--max-entities", "5"],
        addresses,
    );
    assert_quiet_exit("hp-xdr", status, &stderr);
}

#[test]
fn unusable_state_dir_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-directory");
    std::fs::write(&blocker, "").unwrap();
    let state_dir = blocker.join("state");

    let output = run_with_stdin(
        env!("CARGO_BIN_EXE_hp-xdr"),
        &[
            "--state-dir",
            state_dir.to_str().unwrap(),
            "--iroh-url",
            "http://127.0.0.1:9",
            "--ctia-url",
            "http://127.0.0.1:9",
            "--allow-http-loopback",
            "--honeypot-hostname",
            "web01",
            "--honeypot-ip",
            "203.0.113.10",
        ],
        b"192.0.2.1\n",
    );
    assert!(!output.status.success(), "a lost address must fail the run");
    let stderr = stderr_text(&output);
    assert!(stderr.contains("state directory"), "{stderr}");
    assert!(stderr.contains(state_dir.to_str().unwrap()), "{stderr}");
}

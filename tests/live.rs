//! Live mode: a real writer process appends to a log while hp follows it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const ATTEMPT: &str = "192.0.2.60 - - [02/Apr/2021:06:48:16 +0200] \"GET /phpmyadmin/index.php?pma_username=root&pma_password=x HTTP/1.1\" 200 100 \"-\" \"-\"\n";

/// Appends `lines` to `path` from a separate shell process, as a web
/// server would.
fn append_with_writer(path: &std::path::Path, lines: &str) {
    let status = Command::new("sh")
        .arg("-c")
        .arg("cat >> \"$1\"")
        .arg("sh")
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(lines.as_bytes())?;
            child.wait()
        })
        .expect("running the writer");
    assert!(status.success());
}

/// Reads one NDJSON line, failing after a deadline instead of hanging.
fn next_record(reader: &mut BufReader<ChildStdout>, child: &mut Child) -> Value {
    let (sender, receiver) = std::sync::mpsc::channel();
    let mut line = String::new();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let read = reader.read_line(&mut line);
            let _ = sender.send(read.map(|n| n > 0));
        });
        match receiver.recv_timeout(Duration::from_secs(20)) {
            Ok(Ok(true)) => {}
            other => {
                let _ = child.kill();
                panic!("no record within 20 s: {other:?}");
            }
        }
    });
    serde_json::from_str(&line).unwrap()
}

fn stop(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit within 20 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn follow_reads_appends_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::write(&log, ATTEMPT).unwrap();

    let mut child = Command::new(HP_MATCH)
        .args(["-q", "--pack", "classic", "--follow"])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());

    assert_eq!(next_record(&mut out, &mut child)["line"], 1);
    append_with_writer(&log, ATTEMPT);
    assert_eq!(next_record(&mut out, &mut child)["line"], 2);

    // Rotation by rename, as logrotate does by default.
    std::fs::rename(&log, dir.path().join("access.log.1")).unwrap();
    std::fs::write(&log, "").unwrap();
    append_with_writer(&log, ATTEMPT);
    let record = next_record(&mut out, &mut child);
    assert_eq!(record["rule"], "phpmyadmin-login");

    // Rotation by copytruncate.
    std::fs::copy(&log, dir.path().join("access.log.2")).unwrap();
    std::fs::File::create(&log).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    append_with_writer(&log, ATTEMPT);
    assert_eq!(next_record(&mut out, &mut child)["rule"], "phpmyadmin-login");

    let status = stop(&mut child);
    assert!(status.success(), "{status:?}");
}

#[test]
fn tail_pipeline_emits_promotion_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::write(&log, "").unwrap();

    let mut matcher = Command::new(HP_MATCH)
        .args(["-q", "--pack", "classic", "--follow"])
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut correlator = Command::new(HP_CORRELATE)
        .args(["-q", "--follow"])
        .stdin(Stdio::from(matcher.stdout.take().unwrap()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(correlator.stdout.take().unwrap());

    append_with_writer(&log, &ATTEMPT.repeat(11));
    let record = next_record(&mut out, &mut correlator);
    assert_eq!(record["ip"], "192.0.2.60");
    assert_eq!(record["count"], 11);
    assert_eq!(record["promoted"], true);

    stop(&mut matcher);
    let status = correlator.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn correlate_flushes_on_sigterm() {
    let mut correlator = Command::new(HP_CORRELATE)
        .args(["-q", "--all"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = correlator.stdin.take().unwrap();
    for _ in 0..12 {
        stdin
            .write_all(b"{\"rule\":\"phpmyadmin-login\",\"ip\":\"192.0.2.8\",\"time\":\"2021-03-28T10:00:00+02:00\"}\n")
            .unwrap();
    }
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));

    // The input is still open: only the signal ends the run.
    let mut out = BufReader::new(correlator.stdout.take().unwrap());
    let status = stop(&mut correlator);
    let record = next_record(&mut out, &mut correlator);
    assert!(status.success(), "{status:?}");
    assert_eq!(record["ip"], "192.0.2.8");
    assert_eq!(record["count"], 12);
    drop(stdin);
}

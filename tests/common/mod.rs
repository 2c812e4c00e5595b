//! Helpers shared by the integration tests: run the real binaries and read
//! their NDJSON output.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub const HP_MATCH: &str = env!("CARGO_BIN_EXE_hp-match");
pub const HP_CORRELATE: &str = env!("CARGO_BIN_EXE_hp-correlate");
pub const HP_REPORT: &str = env!("CARGO_BIN_EXE_hp-report");

/// Returns the path of a file under the repository root.
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Returns the path of a parser case in `tests/data/cases`.
pub fn case(name: &str) -> PathBuf {
    repo_file(&format!("tests/data/cases/{name}"))
}

/// Runs a binary with arguments and no stdin.
pub fn run(binary: &str, args: &[&str]) -> Output {
    Command::new(binary).args(args).stdin(Stdio::null()).output().expect("starting the binary")
}

/// Runs a binary with `input` on its stdin.
pub fn run_with_stdin(binary: &str, args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the binary");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("waiting for the binary");
    writer.join().expect("the stdin writer");
    output
}

/// Runs `first | second` as two real processes joined by a real pipe, and
/// returns both outputs (the first one's stdout is empty: it went down the
/// pipe).
pub fn pipe(first: (&str, &[&str]), second: (&str, &[&str])) -> (Output, Output) {
    let mut upstream = Command::new(first.0)
        .args(first.1)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the first binary");
    let downstream = Command::new(second.0)
        .args(second.1)
        .stdin(Stdio::from(upstream.stdout.take().expect("stdout is piped")))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the second binary");
    let second_output = downstream.wait_with_output().expect("waiting for the second binary");
    let first_output = upstream.wait_with_output().expect("waiting for the first binary");
    (first_output, second_output)
}

/// Parses NDJSON output into values, failing on any line that is not JSON.
pub fn ndjson(stdout: &[u8]) -> Vec<Value> {
    stdout
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).unwrap_or_else(|e| panic!("invalid JSON line {line:?}: {e}")))
        .collect()
}

pub fn stderr_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

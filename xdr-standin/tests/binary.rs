//! The `xdr-standin` binary: start-up line, environment credentials and shutdown.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Waits up to `timeout` for the child to exit and returns whether it did.
fn wait_for_exit(
    child: &mut std::process::Child,
    timeout: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("child status") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn binary_serves_and_exits_on_stdin_eof() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xdr-standin"))
        .args(["--seed-feeds", "--exit-on-stdin-eof", "--token-ttl", "5"])
        .env("XDR_STANDIN_CLIENT_ID", "bin-client")
        .env("XDR_STANDIN_CLIENT_PASSWORD", "bin-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");

    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).expect("start-up line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");

    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .new_agent();
    let request = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{base}/iroh/oauth2/token"))
        // base64 of "bin-client:bin-password"
        .header("Authorization", "Basic YmluLWNsaWVudDpiaW4tcGFzc3dvcmQ=")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(b"grant_type=client_credentials".to_vec())
        .unwrap();
    let mut response = agent.run(request).expect("token request");
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["expires_in"], 5);
    let token = body["access_token"].as_str().unwrap().to_string();

    let request = ureq::http::Request::builder()
        .uri(format!(
            "{base}/ctia/indicator/search?query=title:Secure_Firewall_SecureX_Indicator_IPv4"
        ))
        .header("Authorization", format!("Bearer {token}"))
        .body(Vec::new())
        .unwrap();
    let mut response = agent.run(request).expect("search request");
    let hits: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        hits.as_array().map(Vec::len),
        Some(1),
        "--seed-feeds made no indicator"
    );

    drop(child.stdin.take());
    let status = wait_for_exit(&mut child, Duration::from_secs(5));
    if status.is_none() {
        child.kill().unwrap();
    }
    assert!(
        status.is_some_and(|s| s.success()),
        "binary did not exit cleanly on stdin EOF"
    );

    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "only one line may go to stdout");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("POST /iroh/oauth2/token -> 200"),
        "{stderr}"
    );
    assert!(!stderr.contains("bin-password"));
    assert!(!stderr.contains(&token));
}

#[test]
fn binary_exits_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xdr-standin"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_for_exit(&mut child, Duration::from_secs(5));
    if status.is_none() {
        child.kill().unwrap();
    }
    assert!(
        status.is_some_and(|s| s.success()),
        "binary did not exit on SIGTERM"
    );
}

//! Shared helpers of the XDR integration tests: a stand-in server on
//! 127.0.0.1, its control routes, and runs of the real binaries against it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::{Value, json};
use xdr_standin::{Config, StandIn};

pub const CLIENT_ID: &str = "hp-test-client";
pub const CLIENT_PASSWORD: &str = "hp-test-secret-password";

/// The two attackers of the sample log, as hp-correlate writes them.
pub const SAMPLE: &str = concat!(
    r#"{"ip":"192.0.2.217","count":191,"total":195,"rules":{"phpmyadmin-login":191,"resource-scan":4},"first_seen":"2021-03-28T15:45:11+02:00","last_seen":"2021-03-28T16:02:40+02:00","promoted":true}"#,
    "\n",
    r#"{"ip":"192.0.2.79","count":11,"total":11,"rules":{"phpmyadmin-login":11},"first_seen":"2021-03-28T15:50:02+02:00","last_seen":"2021-03-28T15:51:40+02:00","promoted":true}"#,
    "\n",
    r#"{"ip":"192.0.2.5","count":2,"total":2,"rules":{"resource-scan":2},"first_seen":"2021-03-28T15:50:02+02:00","last_seen":"2021-03-28T15:51:40+02:00","promoted":false}"#,
    "\n",
);

/// A stand-in server with a state directory and a config home of its own.
pub struct Harness {
    pub server: StandIn,
    pub base: String,
    pub home: tempfile::TempDir,
}

impl Harness {
    pub fn start() -> Harness {
        Harness::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Harness {
        let server = StandIn::start(config).expect("the stand-in starts");
        let base = server.base_url();
        Harness {
            server,
            base,
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.home.path().join("state")
    }

    /// Arguments that point a binary at this server with fast retries.
    pub fn connection_args(&self) -> Vec<String> {
        vec![
            "--iroh-url".into(),
            self.base.clone(),
            "--ctia-url".into(),
            self.base.clone(),
            "--allow-http-loopback".into(),
            "--state-dir".into(),
            self.state_dir().display().to_string(),
            "--retries".into(),
            "2".into(),
            "--backoff-ms".into(),
            "20".into(),
            "--timeout".into(),
            "10".into(),
        ]
    }

    /// Runs hp-xdr with `args` after the connection and honeypot flags.
    pub fn hp_xdr(&self, args: &[&str], stdin: &str) -> Output {
        let mut all = self.connection_args();
        all.extend(
            [
                "--honeypot-hostname",
                "web01.example.net",
                "--honeypot-ip",
                "198.51.100.10",
            ]
            .map(String::from),
        );
        all.extend(args.iter().map(|arg| arg.to_string()));
        self.run(env!("CARGO_BIN_EXE_hp-xdr"), &all, stdin)
    }

    /// Runs hp-xdr like [`Harness::hp_xdr`] with extra environment variables.
    pub fn hp_xdr_with_env(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
        let mut all = self.connection_args();
        all.extend(
            [
                "--honeypot-hostname",
                "web01.example.net",
                "--honeypot-ip",
                "198.51.100.10",
            ]
            .map(String::from),
        );
        all.extend(args.iter().map(|arg| arg.to_string()));
        self.command(env!("CARGO_BIN_EXE_hp-xdr"), &all, stdin)
            .envs(env.iter().copied())
            .output()
            .expect("the binary runs")
    }

    pub fn hp_xdr_clean(&self, args: &[&str]) -> Output {
        let mut all = self.connection_args();
        all.extend(args.iter().map(|arg| arg.to_string()));
        self.run(env!("CARGO_BIN_EXE_hp-xdr-clean"), &all, "")
    }

    fn run(&self, program: &str, args: &[String], stdin: &str) -> Output {
        self.command(program, args, stdin)
            .output()
            .expect("the binary runs")
    }

    fn command(&self, program: &str, args: &[String], stdin: &str) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .env("HP_XDR_CLIENT_ID", CLIENT_ID)
            .env("HP_XDR_CLIENT_PASSWORD", CLIENT_PASSWORD)
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("HOME", self.home.path())
            .write_stdin(stdin.to_string());
        command
    }

    pub fn get(&self, path: &str) -> Value {
        let mut response = ureq::get(format!("{}{path}", self.base))
            .call()
            .expect("GET works");
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).expect("the control route returns JSON")
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        let mut response = ureq::post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .expect("POST works");
        let text = response.body_mut().read_to_string().unwrap();
        serde_json::from_str(&text).expect("the control route returns JSON")
    }

    pub fn faults(&self, faults: Value) {
        self.post("/_standin/faults", faults);
    }

    pub fn clear_faults(&self) {
        ureq::delete(format!("{}/_standin/faults", self.base))
            .call()
            .expect("DELETE works");
    }

    pub fn seed_feeds(&self) -> Value {
        self.post("/_standin/seed-feeds", json!({}))
    }

    /// Returns the stored entities of one type (singular name).
    pub fn entities(&self, entity_type: &str) -> Vec<Value> {
        let state = self.get("/_standin/state");
        state[format!("{entity_type}s")]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Returns the stored entities of one type whose source is hp's.
    pub fn hp_entities(&self, entity_type: &str) -> Vec<Value> {
        self.entities(entity_type)
            .into_iter()
            .filter(|entity| entity["source"] == "hp-honeypot")
            .collect()
    }

    /// Returns the feed view as sorted lines.
    pub fn feed_view(&self, view_url: &str) -> Vec<String> {
        let mut response = ureq::get(view_url).call().expect("the feed view answers");
        let text = response.body_mut().read_to_string().unwrap();
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    }

    /// Returns every bearer token the server saw.
    pub fn tokens_seen(&self) -> Vec<String> {
        let requests = self.get("/_standin/requests");
        requests
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|request| {
                request["auth"]
                    .as_str()?
                    .strip_prefix("bearer:")
                    .map(str::to_string)
            })
            .collect()
    }

    pub fn tokens_issued(&self) -> u64 {
        self.get("/_standin/tokens")["issued"].as_u64().unwrap()
    }
}

/// Parses NDJSON output.
pub fn json_lines(output: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(output)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON: {line}: {err}"))
        })
        .collect()
}

pub fn text(output: &[u8]) -> String {
    String::from_utf8_lossy(output).into_owned()
}

/// Reads the state file of a state directory.
pub fn state_file(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("xdr-state.json")).expect("the state file exists");
    serde_json::from_str(&text).unwrap()
}

/// Builds `n` aggregate records for addresses 203.0.113.1 and up.
pub fn many_attackers(n: usize) -> String {
    (1..=n)
        .map(|i| {
            format!(
                r#"{{"ip":"203.0.113.{i}","count":{i},"total":{i},"rules":{{"phpmyadmin-login":{i}}},"first_seen":"2021-03-28T10:00:00Z","last_seen":"2021-03-28T11:00:00Z","promoted":true}}"#
            ) + "\n"
        })
        .collect()
}

//! hp-xdr against the local XDR stand-in: idempotence, the feed, failures
//! that must lose no address, and secrets that must stay out of the output.

mod xdr_common;

use std::time::{Duration, Instant};

use serde_json::json;
use xdr_common::{CLIENT_PASSWORD, Harness, SAMPLE, json_lines, many_attackers, state_file, text};

#[test]
fn second_run_changes_nothing() {
    let harness = Harness::start();
    harness.seed_feeds();

    let first = harness.hp_xdr(&["--feed"], SAMPLE);
    assert!(first.status.success(), "stderr: {}", text(&first.stderr));
    let results = json_lines(&first.stdout);
    // incident, sighting, member-of, and a judgement and element-of per address.
    assert_eq!(results.len(), 7, "{results:?}");
    assert!(
        results.iter().all(|r| r["result"] == "created"),
        "{results:?}"
    );
    assert_eq!(harness.hp_entities("incident").len(), 1);
    assert_eq!(harness.hp_entities("sighting").len(), 1);
    assert_eq!(harness.hp_entities("judgement").len(), 2);
    assert_eq!(harness.hp_entities("relationship").len(), 3);
    // One token for the indicator lookup and the import, not one per request.
    assert_eq!(harness.tokens_issued(), 1);
    let before = harness.get("/_standin/state");

    let second = harness.hp_xdr(&["--feed"], SAMPLE);
    assert!(second.status.success(), "stderr: {}", text(&second.stderr));
    assert!(second.stdout.is_empty(), "stdout: {}", text(&second.stdout));
    assert!(text(&second.stderr).contains("nothing to send"));

    let resent = harness.hp_xdr(&["--feed", "--resend"], SAMPLE);
    assert!(resent.status.success(), "stderr: {}", text(&resent.stderr));
    let results = json_lines(&resent.stdout);
    assert_eq!(results.len(), 7);
    assert!(
        results.iter().all(|r| r["result"] == "exists"),
        "{results:?}"
    );

    assert_eq!(harness.get("/_standin/state"), before);
}

#[test]
fn entities_carry_one_prefixed_xid() {
    let harness = Harness::start();
    harness.seed_feeds();
    let output = harness.hp_xdr(&["--feed"], SAMPLE);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));

    for entity_type in ["incident", "sighting", "judgement", "relationship"] {
        for entity in harness.hp_entities(entity_type) {
            let xids = entity["external_ids"].as_array().unwrap();
            assert_eq!(xids.len(), 1, "{entity}");
            assert!(
                xids[0]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("hp-{entity_type}-")),
                "{entity}"
            );
        }
    }

    let requests = harness.get("/_standin/requests");
    let imports: Vec<&serde_json::Value> = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/iroh/private-intel/bundle/import")
        .collect();
    assert_eq!(imports.len(), 1, "{requests}");
    assert_eq!(imports[0]["method"], "POST");
    let query = serde_json::to_string(&imports[0]["query"]).unwrap();
    assert!(query.contains("external-key-prefixes"), "{query}");
    assert!(query.contains("hp-"), "{query}");
    let sighting = &harness.hp_entities("sighting")[0];
    assert_eq!(
        sighting["observed_time"]["start_time"],
        "2021-03-28T13:45:11Z"
    );
    assert_eq!(
        sighting["observed_time"]["end_time"],
        "2021-03-28T14:02:40Z"
    );
    assert_eq!(sighting["count"], 206);
    for relation in sighting["relations"].as_array().unwrap() {
        assert_eq!(relation["relation"], "Connected_To");
        assert_eq!(relation["related"]["value"], "198.51.100.10");
    }
}

#[test]
fn judgements_appear_in_feed_view() {
    let harness = Harness::start();
    let feeds = harness.seed_feeds();
    let input = format!("{SAMPLE}2001:db8::5\n");

    let output = harness.hp_xdr(&["--feed"], &input);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));

    let ipv4 = harness.feed_view(feeds["ipv4"]["feed_view_url"].as_str().unwrap());
    assert_eq!(ipv4, vec!["192.0.2.217", "192.0.2.79"]);
    let ipv6 = harness.feed_view(feeds["ipv6"]["feed_view_url"].as_str().unwrap());
    assert_eq!(ipv6, vec!["2001:db8::5"]);
}

#[test]
fn ambiguous_indicator_title_is_rejected() {
    let harness = Harness::start();
    harness.seed_feeds();
    let config = harness.home.path().join("xdr.toml");
    std::fs::write(
        &config,
        "ipv4_indicator_title = \"Secure_Firewall_SecureX_Indicator_Duplicate\"\n",
    )
    .unwrap();

    let output = harness.hp_xdr(&["--feed", "--config", config.to_str().unwrap()], SAMPLE);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stderr: {}",
        text(&output.stderr)
    );
    assert!(
        text(&output.stderr).contains("found 2 indicators"),
        "{}",
        text(&output.stderr)
    );
    assert!(harness.hp_entities("incident").is_empty());
}

#[test]
fn large_batch_is_split() {
    let harness = Harness::with_config(xdr_standin::Config {
        max_bundle_entities: 9,
        ..xdr_standin::Config::default()
    });
    let feeds = harness.seed_feeds();

    let output = harness.hp_xdr(&["--feed", "--max-entities", "9"], &many_attackers(10));
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    // (9 - 3) / 2 = 3 addresses per bundle, so 4 bundles and 4 sightings.
    assert_eq!(harness.hp_entities("incident").len(), 1);
    assert_eq!(harness.hp_entities("sighting").len(), 4);
    assert_eq!(harness.hp_entities("judgement").len(), 10);
    assert_eq!(
        harness
            .feed_view(feeds["ipv4"]["feed_view_url"].as_str().unwrap())
            .len(),
        10
    );
}

#[test]
fn server_errors_keep_addresses_queued() {
    let harness = Harness::start();
    harness.faults(json!({"status_500": {"count": 50}}));

    let failed = harness.hp_xdr(&[], SAMPLE);
    assert_eq!(
        failed.status.code(),
        Some(3),
        "stderr: {}",
        text(&failed.stderr)
    );
    assert!(
        text(&failed.stderr).contains("stay queued"),
        "{}",
        text(&failed.stderr)
    );
    let state = state_file(&harness.state_dir());
    assert_eq!(state["queue"].as_array().unwrap().len(), 2);

    harness.clear_faults();
    let retried = harness.hp_xdr(&[], "");
    assert!(
        retried.status.success(),
        "stderr: {}",
        text(&retried.stderr)
    );
    assert_eq!(harness.hp_entities("incident").len(), 1);
    let sighting = &harness.hp_entities("sighting")[0];
    assert_eq!(sighting["observables"].as_array().unwrap().len(), 3);
    let state = state_file(&harness.state_dir());
    assert!(state["queue"].as_array().unwrap().is_empty());
    assert_eq!(state["sent"].as_object().unwrap().len(), 2);
}

#[test]
fn stopped_server_loses_nothing() {
    let first = Harness::start();
    let state_dir = first.state_dir();
    let home = first.home;
    first.server.stop();

    let stopped = Harness {
        server: xdr_standin::StandIn::start(xdr_standin::Config::default()).unwrap(),
        base: first.base.clone(),
        home,
    };
    let failed = stopped.hp_xdr(&[], SAMPLE);
    assert_eq!(
        failed.status.code(),
        Some(3),
        "stderr: {}",
        text(&failed.stderr)
    );
    assert_eq!(state_file(&state_dir)["queue"].as_array().unwrap().len(), 2);

    let live = Harness {
        base: stopped.server.base_url(),
        ..stopped
    };
    let output = live.hp_xdr(&[], "");
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert_eq!(live.hp_entities("incident").len(), 1);
    assert_eq!(json_lines(&output.stdout).len(), 3);
}

#[test]
fn unauthorised_mid_run_refreshes_once() {
    let harness = Harness::start();
    harness.faults(json!({"force_401": {"count": 1}}));

    let output = harness.hp_xdr(&[], SAMPLE);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert_eq!(harness.tokens_issued(), 2);
    assert_eq!(harness.hp_entities("incident").len(), 1);
}

#[test]
fn rate_limit_honours_retry_after() {
    let harness = Harness::start();
    harness.faults(json!({"status_429": {"count": 1, "retry_after": 2}}));

    let started = Instant::now();
    let output = harness.hp_xdr(&[], SAMPLE);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        text(&output.stderr).contains("429"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(harness.hp_entities("incident").len(), 1);
}

#[test]
fn garbage_body_is_retried() {
    let harness = Harness::start();
    harness.faults(json!({"garbage_body": {"count": 1}}));

    let output = harness.hp_xdr(&[], SAMPLE);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert_eq!(harness.hp_entities("incident").len(), 1);
}

#[test]
fn entity_error_fails_the_run() {
    let harness = Harness::start();
    let dry = harness.hp_xdr(&["--dry-run"], SAMPLE);
    let bundle = &json_lines(&dry.stdout)[0];
    let sighting_xid = bundle["sightings"][0]["external_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    harness.faults(json!({"entity_error": {"external_id": sighting_xid}}));

    let output = harness.hp_xdr(&[], SAMPLE);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr: {}",
        text(&output.stderr)
    );
    let stderr = text(&output.stderr);
    assert!(stderr.contains("bundle import failed"), "{stderr}");
    assert!(stderr.contains(&sighting_xid), "{stderr}");
    let results = json_lines(&output.stdout);
    assert!(
        results
            .iter()
            .any(|r| r["external_id"] == sighting_xid.as_str() && r["result"] == "error"),
        "{results:?}"
    );
    assert_eq!(
        state_file(&harness.state_dir())["queue"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn secrets_never_reach_output() {
    let harness = Harness::start();
    harness.seed_feeds();
    harness.faults(json!({"force_401": {"count": 1}, "status_500": {"count": 1}}));

    let mut outputs = vec![
        harness.hp_xdr(&["--feed"], SAMPLE),
        harness.hp_xdr(&["--feed", "--resend"], SAMPLE),
        harness.hp_xdr(&["--dry-run", "--feed"], SAMPLE),
        harness.hp_xdr_clean(&[]),
        harness.hp_xdr_clean(&["--yes"]),
    ];
    harness.faults(json!({"status_500": {"count": 10}}));
    outputs.push(harness.hp_xdr(&["--resend"], SAMPLE));

    let tokens = harness.tokens_seen();
    assert!(!tokens.is_empty());
    for output in &outputs {
        for stream in [text(&output.stdout), text(&output.stderr)] {
            assert!(
                !stream.contains(CLIENT_PASSWORD),
                "password in output: {stream}"
            );
            for token in &tokens {
                assert!(
                    !stream.contains(token.as_str()),
                    "token in output: {stream}"
                );
            }
        }
    }
}

#[test]
fn wrong_password_is_reported() {
    let harness = Harness::start();
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hp-xdr"))
        .args(harness.connection_args())
        .args([
            "--honeypot-hostname",
            "web01",
            "--honeypot-ip",
            "198.51.100.10",
        ])
        .env("HP_XDR_CLIENT_ID", "hp-test-client")
        .env("HP_XDR_CLIENT_PASSWORD", "wrong-password-value")
        .env("XDG_CONFIG_HOME", harness.home.path())
        .write_stdin(SAMPLE)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "stderr: {}",
        text(&output.stderr)
    );
    let stderr = text(&output.stderr);
    assert!(stderr.contains("invalid_client"), "{stderr}");
    assert!(!stderr.contains("wrong-password-value"), "{stderr}");
    assert_eq!(harness.tokens_issued(), 0);
}

#[test]
fn plain_addresses_are_accepted() {
    let harness = Harness::start();
    let output = harness.hp_xdr(&[], "192.0.2.1\nnot-an-address\n2001:db8::7\n");
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("line 2"),
        "{}",
        text(&output.stderr)
    );
    let sighting = &harness.hp_entities("sighting")[0];
    let types: Vec<&str> = sighting["observables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["ip", "ip", "ipv6"]);
}

#[test]
fn dry_run_needs_no_credentials() {
    let home = tempfile::tempdir().unwrap();
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hp-xdr"))
        .args([
            "--dry-run",
            "--honeypot-hostname",
            "web01",
            "--honeypot-ip",
            "198.51.100.10",
        ])
        .env_remove("HP_XDR_CLIENT_ID")
        .env_remove("HP_XDR_CLIENT_PASSWORD")
        .env("XDG_CONFIG_HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .write_stdin(SAMPLE)
        .output()
        .unwrap();
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let bundles = json_lines(&output.stdout);
    assert_eq!(bundles.len(), 1);
    assert_eq!(
        bundles[0]["sightings"][0]["observables"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(!home.path().join("state").exists());
}

#[test]
fn token_renewed_before_expiry() {
    let harness = Harness::with_config(xdr_standin::Config {
        token_ttl_secs: 2,
        ..xdr_standin::Config::default()
    });
    // Each import takes 1.6 s, longer than the 1.5 s after which a 2 s token
    // counts as stale, so every bundle after the first needs a new token.
    harness.faults(json!({"stall_import_ms": {"ms": 1600, "count": 3}}));

    // Without a feed, 5 entities leave room for 2 addresses per bundle.
    let output = harness.hp_xdr(&["--max-entities", "5"], &many_attackers(5));
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert_eq!(harness.hp_entities("sighting").len(), 3);
    assert!(
        harness.tokens_issued() >= 3,
        "issued {}",
        harness.tokens_issued()
    );

    let requests = harness.get("/_standin/requests");
    let unauthorised = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == 401)
        .count();
    assert_eq!(unauthorised, 0, "{requests}");
}

#[test]
fn plain_http_to_remote_host_is_rejected() {
    let harness = Harness::start();
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hp-xdr"))
        .args([
            "--iroh-url",
            "http://xdr.example.com",
            "--ctia-url",
            "http://xdr.example.com",
            "--allow-http-loopback",
        ])
        .args([
            "--honeypot-hostname",
            "web01",
            "--honeypot-ip",
            "198.51.100.10",
        ])
        .env("HP_XDR_CLIENT_ID", "id")
        .env("HP_XDR_CLIENT_PASSWORD", "password")
        .env("XDG_CONFIG_HOME", harness.home.path())
        .env("XDG_STATE_HOME", harness.home.path())
        .write_stdin(SAMPLE)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "stderr: {}",
        text(&output.stderr)
    );
    assert!(
        text(&output.stderr).contains("is not https"),
        "{}",
        text(&output.stderr)
    );
}

#[cfg(unix)]
#[test]
fn legacy_config_file_works() {
    use std::os::unix::fs::PermissionsExt;

    let password = "pa=ss==word";
    let harness = Harness::with_config(xdr_standin::Config {
        client_password: password.to_string(),
        ..xdr_standin::Config::default()
    });
    let config = harness.home.path().join("config.txt");
    std::fs::write(
        &config,
        format!(
            "ctr_client_id=hp-test-client\nctr_client_password={password}\nhost={0}\nhost_for_token={0}\n",
            harness.base
        ),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();

    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hp-xdr"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "--allow-http-loopback",
        ])
        .args(["--state-dir", harness.state_dir().to_str().unwrap()])
        .args([
            "--honeypot-hostname",
            "web01",
            "--honeypot-ip",
            "198.51.100.10",
        ])
        .env_remove("HP_XDR_CLIENT_ID")
        .env_remove("HP_XDR_CLIENT_PASSWORD")
        .write_stdin(SAMPLE)
        .output()
        .unwrap();
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("chmod 600"), "{stderr}");
    assert!(!stderr.contains(password), "{stderr}");
    assert_eq!(harness.hp_entities("incident").len(), 1);
}

/// Polls `check` every 100 ms for up to 15 s.
fn wait_until(what: &str, check: impl Fn() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn follow_sends_batches_as_input_pauses() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let harness = Harness::start();
    let mut args = harness.connection_args();
    args.extend(
        [
            "--honeypot-hostname",
            "web01",
            "--honeypot-ip",
            "198.51.100.10",
            "--follow",
            "--flush-secs",
            "1",
        ]
        .map(String::from),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_hp-xdr"))
        .args(&args)
        .env("HP_XDR_CLIENT_ID", xdr_common::CLIENT_ID)
        .env("HP_XDR_CLIENT_PASSWORD", CLIENT_PASSWORD)
        .env("XDG_CONFIG_HOME", harness.home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();

    stdin.write_all(b"192.0.2.1\n").unwrap();
    stdin.flush().unwrap();
    wait_until("the first sighting", || {
        harness.hp_entities("sighting").len() == 1
    });

    // XDR fails for a while: the batch stays queued and goes out on a later
    // idle flush, without new input.
    harness.faults(json!({"status_500": {"count": 6}}));
    stdin.write_all(b"192.0.2.2\n").unwrap();
    stdin.flush().unwrap();
    wait_until("the second sighting", || {
        harness.hp_entities("sighting").len() == 2
    });

    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert_eq!(harness.hp_entities("incident").len(), 1);
    assert!(
        state_file(&harness.state_dir())["queue"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let stderr = text(&output.stderr);
    assert!(stderr.contains("stay queued"), "{stderr}");
}

/// Starts `hp-xdr --follow --flush-secs SECS` against the harness, with
/// piped stdin and stderr.
fn spawn_follow(harness: &Harness, flush_secs: &str) -> std::process::Child {
    use std::process::{Command, Stdio};

    let mut args = harness.connection_args();
    args.extend(
        ["--honeypot-hostname", "web01", "--honeypot-ip", "198.51.100.10", "--follow", "--flush-secs", flush_secs]
            .map(String::from),
    );
    Command::new(env!("CARGO_BIN_EXE_hp-xdr"))
        .args(&args)
        .env("HP_XDR_CLIENT_ID", xdr_common::CLIENT_ID)
        .env("HP_XDR_CLIENT_PASSWORD", CLIENT_PASSWORD)
        .env("XDG_CONFIG_HOME", harness.home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn follow_saves_waiting_addresses_on_sigterm() {
    use std::io::Write as _;
    use std::process::Command;

    let harness = Harness::start();
    let mut child = spawn_follow(&harness, "600");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"192.0.2.1\n2001:db8::7\n").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));

    // The batch waits for --flush-secs; SIGTERM must not lose it.
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    drop(stdin);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("2 waiting address(es) saved"), "{stderr}");
    assert!(harness.hp_entities("incident").is_empty());

    // The next run sends them without any new input.
    let output = harness.hp_xdr(&[], "");
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let sighting = &harness.hp_entities("sighting")[0];
    let observed: Vec<&str> =
        sighting["observables"].as_array().unwrap().iter().map(|o| o["value"].as_str().unwrap()).collect();
    assert!(observed.contains(&"192.0.2.1"), "{observed:?}");
    assert!(observed.contains(&"2001:db8::7"), "{observed:?}");
}

#[test]
fn follow_sends_on_time_under_steady_input() {
    use std::io::Write as _;

    let harness = Harness::start();
    let mut child = spawn_follow(&harness, "1");
    let mut stdin = child.stdin.take().unwrap();

    // A new address every 300 ms never leaves the input idle for a second,
    // yet the first batch goes out about a second after its first address.
    for host in 1..=8 {
        stdin.write_all(format!("192.0.2.{host}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let sent_while_busy = harness.hp_entities("sighting").len();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert!(sent_while_busy >= 1, "no batch went out while input kept arriving");
}

#[test]
fn feed_run_judges_address_sent_without_feed() {
    let harness = Harness::start();
    harness.seed_feeds();

    let output = harness.hp_xdr(&[], "198.51.100.150\n");
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert!(harness.hp_entities("judgement").is_empty());

    // The same address again, now with the feed: it must get its judgement.
    let output = harness.hp_xdr(&["--feed"], "198.51.100.150\n");
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert_eq!(harness.hp_entities("judgement").len(), 1);

    // A third run with the feed sends nothing new.
    let output = harness.hp_xdr(&["--feed"], "198.51.100.150\n");
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert!(text(&output.stderr).contains("already sent"), "{}", text(&output.stderr));
    assert_eq!(harness.hp_entities("judgement").len(), 1);
}

#[test]
fn own_network_addresses_never_reach_the_feed() {
    let harness = Harness::start();
    harness.seed_feeds();
    let output = harness.hp_xdr(&["--feed"], "10.0.0.1\n127.0.0.1\n::1\n198.51.100.151\n");
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let judged: Vec<String> = harness
        .hp_entities("judgement")
        .iter()
        .map(|j| j["observable"]["value"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(judged, ["198.51.100.151"]);
    assert!(text(&output.stderr).contains("10.0.0.1 is a loopback, private"), "{}", text(&output.stderr));
}

#[test]
fn lock_timeout_keeps_input() {
    let harness = Harness::start();
    std::fs::create_dir_all(harness.state_dir()).unwrap();
    let lock = std::fs::File::create(harness.state_dir().join("xdr.lock")).unwrap();
    lock.lock().unwrap();

    let blocked = harness.hp_xdr(&["--lock-timeout", "1"], SAMPLE);
    assert_eq!(
        blocked.status.code(),
        Some(1),
        "stderr: {}",
        text(&blocked.stderr)
    );
    let stderr = text(&blocked.stderr);
    assert!(stderr.contains("timed out"), "{stderr}");
    assert!(stderr.contains("is sent by the next run"), "{stderr}");
    assert!(harness.hp_entities("incident").is_empty());

    lock.unlock().unwrap();
    let output = harness.hp_xdr(&[], "");
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let sighting = &harness.hp_entities("sighting")[0];
    assert_eq!(sighting["observables"].as_array().unwrap().len(), 3);
}

#[test]
fn oversized_bundle_names_the_fix() {
    let harness = Harness::with_config(xdr_standin::Config {
        max_bundle_entities: 6,
        ..xdr_standin::Config::default()
    });
    harness.seed_feeds();

    let output = harness.hp_xdr(&["--feed", "--max-entities", "9"], SAMPLE);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr: {}",
        text(&output.stderr)
    );
    let stderr = text(&output.stderr);
    assert!(stderr.contains("lower --max-entities"), "{stderr}");
    assert_eq!(
        state_file(&harness.state_dir())["queue"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn proxy_skipped_for_loopback_http() {
    let harness = Harness::start();
    // Nothing listens on port 9 of loopback, so using the proxy would fail.
    let proxy = [
        ("HTTP_PROXY", "http://127.0.0.1:9"),
        ("http_proxy", "http://127.0.0.1:9"),
        ("ALL_PROXY", "http://127.0.0.1:9"),
    ];
    let output = harness.hp_xdr_with_env(&[], SAMPLE, &proxy);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert_eq!(harness.hp_entities("incident").len(), 1);
}

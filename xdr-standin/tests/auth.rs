//! Token endpoint, bearer checks, rate limit and the request log.

mod common;

use std::collections::HashSet;

use common::{Client, CLIENT_ID, PASSWORD};
use serde_json::json;
use xdr_standin::Config;

#[test]
fn token_issue_returns_bearer_token() {
    let client = Client::start(Config::default());
    let reply = client.request_token(CLIENT_ID, PASSWORD);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert!(
        body["access_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3),
        "{body}"
    );
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 600);
    assert!(body["scope"]
        .as_str()
        .is_some_and(|s| s.contains("private-intel")));
}

#[test]
fn token_key_order_varies() {
    let client = Client::start(Config::default());
    let mut first_keys = HashSet::new();
    for _ in 0..30 {
        let body = client.request_token(CLIENT_ID, PASSWORD).body;
        let first_key = body
            .trim_start_matches("{\"")
            .split('"')
            .next()
            .unwrap_or("")
            .to_string();
        first_keys.insert(first_key);
    }
    assert!(
        first_keys.len() >= 2,
        "the first key never changed: {first_keys:?}"
    );
    let issued = client.get("/_standin/tokens").json();
    assert_eq!(issued["issued"], 30);
}

#[test]
fn token_rejects_bad_credentials() {
    let client = Client::start(Config::default());
    let reply = client.request_token(CLIENT_ID, "wrong-password");
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "invalid_client");
    assert!(reply.json()["error_description"].is_string());

    let reply = client.request_token("someone-else", PASSWORD);
    assert_eq!(reply.status, 400);
    assert_eq!(client.get("/_standin/tokens").json()["issued"], 0);
}

#[test]
fn token_rejects_wrong_grant_and_content_type() {
    let client = Client::start(Config::default());
    let wrong_grant = client.send(
        "POST",
        "/iroh/oauth2/token",
        None,
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "Authorization",
                "Basic aHAtdGVzdC1jbGllbnQ6aHAtdGVzdC1zZWNyZXQtcGFzc3dvcmQ=",
            ),
        ],
    );
    assert_eq!(wrong_grant.status, 400);
    assert_eq!(wrong_grant.json()["error"], "unsupported_grant_type");

    let json_body = client.send(
        "POST",
        "/iroh/oauth2/token",
        Some("{\"grant_type\":\"client_credentials\"}"),
        &[],
    );
    assert_eq!(json_body.status, 400);
    assert_eq!(json_body.json()["error"], "invalid_request");
}

#[test]
fn bearer_missing_or_unknown_is_401() {
    let mut client = Client::start(Config::default());
    let missing = client.get("/ctia/incident/search");
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["error"], "not_authenticated");

    client.token = Some("made-up-token".into());
    let unknown = client.get("/ctia/incident/search");
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.json()["error"], "not_authenticated");

    client.login();
    assert_eq!(client.get("/ctia/incident/search").status, 200);
}

#[test]
fn bearer_expired_is_401() {
    let client = Client::start_logged_in(Config {
        token_ttl_secs: 1,
        ..Config::default()
    });
    assert_eq!(client.get("/ctia/incident/search").status, 200);
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let reply = client.get("/ctia/incident/search");
    assert_eq!(reply.status, 401);
    assert!(reply.json()["message"]
        .as_str()
        .unwrap_or("")
        .contains("expired"));
}

#[test]
fn rate_budget_returns_429() {
    let client = Client::start_logged_in(Config {
        rate_budget: Some(3),
        ..Config::default()
    });
    // The token request used one unit of the budget.
    let first = client.get("/ctia/incident/search");
    assert_eq!(first.status, 200);
    assert_eq!(first.header("X-Ratelimit-Org-Limit"), Some("3"));
    assert_eq!(client.get("/ctia/incident/search").status, 200);
    let limited = client.get("/ctia/incident/search");
    assert_eq!(limited.status, 429);
    assert!(limited.header("Retry-After").is_some());
    assert_eq!(limited.header("X-Ratelimit-Org-Limit"), Some("3"));
}

#[test]
fn rate_limit_header_on_every_response() {
    let client = Client::start(Config::default());
    let token = client.request_token(CLIENT_ID, PASSWORD);
    assert_eq!(token.header("X-Ratelimit-Org-Limit"), Some("8000"));
    let unauthenticated = client.get("/ctia/incident/search");
    assert_eq!(
        unauthenticated.header("X-Ratelimit-Org-Limit"),
        Some("8000")
    );
}

#[test]
fn request_log_keeps_password_out() {
    let client = Client::start_logged_in(Config::default());
    let token = client.token.clone().unwrap();
    client.post_json("/ctia/bundle/import", &json!({"source": "x"}));
    let log = client.get("/_standin/requests").json();
    let entries = log.as_array().expect("request list");
    assert_eq!(entries.len(), 2, "{log}");

    assert_eq!(entries[0]["path"], "/iroh/oauth2/token");
    assert_eq!(entries[0]["auth"], "basic");
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[0]["body"], "grant_type=client_credentials");
    assert_eq!(entries[1]["auth"], format!("bearer:{token}"));
    assert_eq!(entries[1]["method"], "POST");
    assert!(!log.to_string().contains(PASSWORD));
}

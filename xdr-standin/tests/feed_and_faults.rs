//! Feed views, fault injection and the control routes.

mod common;

use std::time::{Duration, Instant};

use common::{bundle, incident, judgement, relationship, Client};
use serde_json::{json, Value};
use xdr_standin::Config;

/// Seeds the feed fixtures and returns them.
fn seed_feeds(client: &Client) -> Value {
    let reply = client.post_json("/_standin/seed-feeds", &json!({}));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

/// Puts each IP on the IPv4 feed with a judgement and an element-of relationship.
fn block(client: &Client, indicator_id: &str, ips: &[&str]) {
    let mut judgements = Vec::new();
    let mut relationships = Vec::new();
    for ip in ips {
        let xid = format!("hpx-judgement-{ip}");
        judgements.push(judgement(&xid, ip));
        relationships.push(relationship(
            &format!("hpx-relationship-{ip}"),
            &format!("transient:{xid}"),
            "element-of",
            indicator_id,
        ));
    }
    let results = client.import_ok(&bundle(
        json!({"judgements": judgements, "relationships": relationships}),
    ));
    assert!(
        results.iter().all(|r| r["result"] == "created"),
        "{results:?}"
    );
}

/// Path and query of a feed view URL, for the test client.
fn view_path(client: &Client, view_url: &str) -> String {
    view_url
        .strip_prefix(&client.base)
        .expect("view URL on the stand-in")
        .to_string()
}

#[test]
fn seed_feeds_creates_fixtures() {
    let client = Client::start_logged_in(Config::default());
    let fixtures = seed_feeds(&client);
    for family in ["ipv4", "ipv6"] {
        for key in ["indicator_id", "feed_id", "feed_view_url"] {
            assert!(
                fixtures[family][key].is_string(),
                "{family}.{key} missing: {fixtures}"
            );
        }
    }
    let ipv4 = client.get("/ctia/indicator/search?limit=1&offset=0&query=title:Secure_Firewall_SecureX_Indicator_IPv4").json();
    assert_eq!(ipv4[0]["id"], fixtures["ipv4"]["indicator_id"]);
    assert_eq!(ipv4[0]["producer"], "NGFW");
    assert_eq!(ipv4[0]["source"], "securex-orchestration");

    let duplicates = client
        .get("/ctia/indicator/search?query=title:Secure_Firewall_SecureX_Indicator_Duplicate");
    assert_eq!(duplicates.header("X-Total-Hits"), Some("2"));

    // A second call returns the same fixtures.
    assert_eq!(seed_feeds(&client), fixtures);
}

#[test]
fn feed_view_lists_blocked_ips() {
    let mut client = Client::start_logged_in(Config::default());
    let fixtures = seed_feeds(&client);
    let indicator_id = fixtures["ipv4"]["indicator_id"].as_str().unwrap();
    block(&client, indicator_id, &["203.0.113.9", "198.51.100.7"]);
    // A duplicate judgement for the same IP and one linked with another relationship type.
    let mut again = judgement("hpx-judgement-dup", "203.0.113.9");
    again["id"] = json!("transient:dup");
    let extra = relationship(
        "hpx-relationship-dup",
        "transient:dup",
        "element-of",
        indicator_id,
    );
    let unrelated = relationship(
        "hpx-relationship-other",
        "transient:dup",
        "related-to",
        indicator_id,
    );
    client.import_ok(&bundle(
        json!({"judgements": [again], "relationships": [extra, unrelated]}),
    ));

    let view_url = fixtures["ipv4"]["feed_view_url"].as_str().unwrap();
    // The view needs no bearer token.
    let token = client.token.take();
    let reply = client.get(&view_path(&client, view_url));
    client.token = token;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body, "198.51.100.7\n203.0.113.9");

    let json_view = client
        .get(&view_path(&client, view_url).replace("/view.txt?", "/view?"))
        .json();
    assert_eq!(
        json_view["observables"],
        json!([{"type": "ip", "value": "198.51.100.7"}, {"type": "ip", "value": "203.0.113.9"}])
    );

    let ipv6_view = client.get(&view_path(
        &client,
        fixtures["ipv6"]["feed_view_url"].as_str().unwrap(),
    ));
    assert_eq!(ipv6_view.body, "");
}

#[test]
fn feed_view_drops_expired_judgement() {
    let client = Client::start_logged_in(Config::default());
    let fixtures = seed_feeds(&client);
    block(
        &client,
        fixtures["ipv4"]["indicator_id"].as_str().unwrap(),
        &["203.0.113.9", "198.51.100.7"],
    );
    let judgement_id = client.state()["judgements"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let short_id = judgement_id.rsplit('/').next().unwrap();

    let expired = client.post_json(
        &format!("/ctia/judgement/{short_id}/expire?reason=cleanup"),
        &json!({}),
    );
    assert_eq!(expired.status, 200, "{}", expired.body);
    assert!(expired.json()["valid_time"]["end_time"].as_str().unwrap() < "2525");
    let view = client.get(&view_path(
        &client,
        fixtures["ipv4"]["feed_view_url"].as_str().unwrap(),
    ));
    assert_eq!(view.body, "198.51.100.7");
}

#[test]
fn feed_view_drops_deleted_relationship() {
    let client = Client::start_logged_in(Config::default());
    let fixtures = seed_feeds(&client);
    block(
        &client,
        fixtures["ipv4"]["indicator_id"].as_str().unwrap(),
        &["203.0.113.9"],
    );
    let relationship_id = client.state()["relationships"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        client
            .delete(&format!(
                "/ctia/relationship/{}",
                relationship_id.rsplit('/').next().unwrap()
            ))
            .status,
        204
    );
    let view = client.get(&view_path(
        &client,
        fixtures["ipv4"]["feed_view_url"].as_str().unwrap(),
    ));
    assert_eq!(view.body, "");
}

#[test]
fn feed_view_wrong_secret_or_unknown() {
    let client = Client::start_logged_in(Config::default());
    let fixtures = seed_feeds(&client);
    let feed_id = fixtures["ipv4"]["feed_id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();

    let wrong = client.get(&format!("/ctia/feed/{feed_id}/view.txt?s=not-the-secret"));
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body, "wrong secret");

    let unknown = client.get("/ctia/feed/feed-00000000-0000-4000-8000-000000000000/view.txt?s=x");
    assert_eq!(unknown.status, 404);
}

#[test]
fn fault_429_then_recovers() {
    let client = Client::start_logged_in(Config::default());
    client.arm(json!({"status_429": {"count": 2, "retry_after": 3}}));
    for _ in 0..2 {
        let reply = client.get("/ctia/incident/search");
        assert_eq!(reply.status, 429);
        assert_eq!(reply.header("Retry-After"), Some("3"));
    }
    assert_eq!(client.get("/ctia/incident/search").status, 200);
}

#[test]
fn fault_500_then_recovers() {
    let client = Client::start_logged_in(Config::default());
    client.arm(json!({"status_500": {"count": 1}}));
    let reply = client.import(
        "hpx-",
        &bundle(json!({"incidents": [incident("hpx-incident-1")]})),
    );
    assert_eq!(reply.status, 500);
    assert_eq!(
        client.state()["incidents"],
        json!([]),
        "a failed request must not store anything"
    );
    assert_eq!(client.get("/ctia/incident/search").status, 200);
}

#[test]
fn fault_garbage_body_is_not_json() {
    let client = Client::start_logged_in(Config::default());
    client.arm(json!({"garbage_body": {"count": 1}}));
    let reply = client.get("/ctia/incident/search");
    assert!(
        serde_json::from_str::<Value>(&reply.body).is_err(),
        "{}",
        reply.body
    );
    assert!(serde_json::from_str::<Value>(&client.get("/ctia/incident/search").body).is_ok());
}

#[test]
fn fault_force_401_spares_token_route() {
    let mut client = Client::start_logged_in(Config::default());
    client.arm(json!({"force_401": {"count": 1}}));
    let reply = client.get("/ctia/incident/search");
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "not_authenticated");
    client.login();
    assert_eq!(client.get("/ctia/incident/search").status, 200);
    assert_eq!(client.get("/_standin/tokens").json()["issued"], 2);
}

#[test]
fn fault_403_missing_capability() {
    let client = Client::start_logged_in(Config::default());
    client.arm(json!({"status_403": {"count": 1}}));
    let reply = client.get("/ctia/incident/search");
    assert_eq!(reply.status, 403);
    assert_eq!(reply.json()["error"], "missing_capability");
}

#[test]
fn fault_entity_error_hits_one_entity() {
    let client = Client::start_logged_in(Config::default());
    client.arm(json!({"entity_error": {"external_id": "hpx-judgement-2"}}));
    let the_bundle = bundle(
        json!({"judgements": [judgement("hpx-judgement-1", "198.51.100.1"), judgement("hpx-judgement-2", "198.51.100.2")]}),
    );
    let results = client.import_ok(&the_bundle);
    assert_eq!(results[0]["result"], "created");
    assert_eq!(results[1]["result"], "error");
    assert!(results[1]["error"].is_string());
    assert_eq!(client.state()["judgements"].as_array().unwrap().len(), 1);

    // The fault clears after one import.
    let retry = client.import_ok(&the_bundle);
    assert_eq!(retry[0]["result"], "exists");
    assert_eq!(retry[1]["result"], "created");
}

#[test]
fn fault_stall_delays_import() {
    let client = Client::start_logged_in(Config::default());
    client.arm(json!({"stall_import_ms": 400}));
    let the_bundle = bundle(json!({"incidents": [incident("hpx-incident-1")]}));
    let started = Instant::now();
    client.import_ok(&the_bundle);
    assert!(started.elapsed() >= Duration::from_millis(400));

    let started = Instant::now();
    client.import_ok(&the_bundle);
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "the stall hit a second import"
    );
}

#[test]
fn faults_reject_unknown_names() {
    let client = Client::start(Config::default());
    let reply = client.post_json("/_standin/faults", &json!({"status_418": {"count": 1}}));
    assert_eq!(reply.status, 400);
    assert!(reply.json()["errors"]["status_418"].is_string());
}

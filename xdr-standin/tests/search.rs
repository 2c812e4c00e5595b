//! CRUD, search, paging and delete routes.

mod common;

use std::collections::HashSet;

use common::{bundle, incident, judgement, small_config, Client};
use serde_json::{json, Value};
use xdr_standin::Config;

fn new_judgement(ip: &str) -> Value {
    let mut body = judgement("unused", ip);
    let map = body.as_object_mut().unwrap();
    map.remove("id");
    map.remove("external_ids");
    body
}

fn seed_judgements(client: &Client, count: usize, source: &str) {
    let judgements: Vec<Value> = (0..count)
        .map(|i| {
            json!({"observable": {"type": "ip", "value": format!("198.51.100.{i}")}, "source": source,
                   "external_ids": [format!("hpx-judgement-{i}")], "created": format!("2024-01-01T00:00:{:02}.000Z", i % 60)})
        })
        .collect();
    let reply = client.post_json("/_standin/seed", &json!({"judgements": judgements}));
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// Follows `X-Next` from `first_path` and returns every id seen, in order.
fn walk_pages(client: &Client, first_path: &str) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut path = first_path.to_string();
    loop {
        let reply = client.get(&path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        pages += 1;
        for hit in reply.json().as_array().unwrap() {
            ids.push(hit["id"].as_str().unwrap().to_string());
        }
        match reply.header("X-Next") {
            Some(next) => path = format!("/ctia/judgement/search?source=hp-decoy&{next}"),
            None => break,
        }
        assert!(pages < 50, "paging does not end");
    }
    (ids, pages)
}

#[test]
fn post_creates_with_location() {
    let client = Client::start_logged_in(Config::default());
    let first = client.post_json("/ctia/judgement", &new_judgement("198.51.100.7"));
    assert_eq!(first.status, 201, "{}", first.body);
    let id = first.json()["id"].as_str().unwrap().to_string();
    assert_eq!(first.header("Location"), Some(id.as_str()));

    let second = client.post_json("/ctia/judgement", &new_judgement("198.51.100.7"));
    assert_eq!(second.status, 201);
    assert_ne!(
        second.json()["id"],
        first.json()["id"],
        "direct POST must not deduplicate"
    );
}

#[test]
fn post_validates_strictly() {
    let client = Client::start_logged_in(Config::default());
    let mut unknown_key = new_judgement("198.51.100.7");
    unknown_key["colour"] = json!("red");
    let reply = client.post_json("/ctia/judgement", &unknown_key);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["errors"]["colour"], "disallowed-key");

    let mut mismatch = new_judgement("198.51.100.7");
    mismatch["disposition"] = json!(1);
    let reply = client.post_json("/ctia/judgement", &mismatch);
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("Mismatched disposition"));

    let transient_ref = json!({"relationship_type": "element-of", "source_ref": "transient:x",
                               "target_ref": format!("{}/ctia/indicator/indicator-1", client.base)});
    assert_eq!(
        client
            .post_json("/ctia/relationship", &transient_ref)
            .status,
        400
    );
}

#[test]
fn post_feed_gets_secret_and_view_url() {
    let client = Client::start_logged_in(Config::default());
    let reply = client.post_json(
        "/ctia/feed",
        &json!({"title": "f", "feed_type": "indicator", "output": "observables"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let feed = reply.json();
    let secret = feed["secret"].as_str().expect("secret");
    let view_url = feed["feed_view_url"].as_str().expect("feed_view_url");
    assert!(view_url.starts_with(&client.base));
    assert!(view_url.ends_with(&format!("/view.txt?s={secret}")));
}

#[test]
fn get_by_id_and_external_id() {
    let client = Client::start_logged_in(Config::default());
    let results = client.import_ok(&bundle(json!({"incidents": [incident("hpx-incident-1")]})));
    let id = results[0]["id"].as_str().unwrap();
    let short_id = id.rsplit('/').next().unwrap();

    let reply = client.get(&format!("/ctia/incident/{short_id}"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["id"], id);
    assert_eq!(
        client
            .get("/ctia/incident/incident-00000000-0000-4000-8000-000000000000")
            .status,
        404
    );

    let by_xid = client.get("/ctia/incident/external_id/HPX-INCIDENT-1");
    assert_eq!(by_xid.status, 200);
    assert_eq!(by_xid.json().as_array().unwrap().len(), 1);
    assert_eq!(
        client
            .get("/ctia/incident/external_id/hpx-incident-2")
            .json(),
        json!([])
    );
}

#[test]
fn search_filters_ignore_case() {
    let client = Client::start_logged_in(Config::default());
    seed_judgements(&client, 3, "HP-Decoy");
    seed_judgements(&client, 2, "securex-orchestration");
    let reply = client.get("/ctia/judgement/search?source=hp-decoy");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json().as_array().unwrap().len(), 3);
    assert_eq!(reply.header("X-Total-Hits"), Some("3"));

    let by_value = client.get("/ctia/judgement/search?query=observable.value:%22198.51.100.1%22");
    assert_eq!(by_value.json().as_array().unwrap().len(), 2);

    let count = client.get("/ctia/judgement/search/count?source=securex-orchestration");
    assert_eq!(count.json(), json!(2));
}

#[test]
fn search_query_supports_prefix_wildcard() {
    let client = Client::start_logged_in(Config::default());
    client.import_ok(&bundle(
        json!({"incidents": [incident("hpx-incident-1"), incident("other-incident-2")]}),
    ));
    let prefix = client.get("/ctia/incident/search?query=external_ids:hpx-*");
    assert_eq!(prefix.status, 200);
    assert_eq!(prefix.json().as_array().unwrap().len(), 1);

    let title =
        client.get("/ctia/incident/search?query=title:%22Brute%20force%20on%20the%20honeypot%22");
    assert_eq!(title.json().as_array().unwrap().len(), 2);

    let unsupported = client.get("/ctia/incident/search?query=status:New%20OR%20status:Open");
    assert_eq!(unsupported.status, 400);
}

#[test]
fn search_filters_relationships_by_ref() {
    let client = Client::start_logged_in(Config::default());
    let target = format!(
        "{}/ctia/indicator/indicator-11111111-1111-4111-8111-111111111111",
        client.base
    );
    client.post_json("/_standin/seed", &json!({"relationships": [
        {"relationship_type": "element-of", "source_ref": "http://x/ctia/judgement/judgement-1", "target_ref": target},
        {"relationship_type": "member-of", "source_ref": "http://x/ctia/sighting/sighting-1", "target_ref": target},
    ]}));
    let reply = client.get(&format!(
        "/ctia/relationship/search?relationship_type=ELEMENT-OF&target_ref={}",
        urlencode(&target)
    ));
    assert_eq!(reply.json().as_array().unwrap().len(), 1);
}

fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[test]
fn paging_follows_x_next_to_the_end() {
    let client = Client::start_logged_in(Config::default());
    seed_judgements(&client, 25, "hp-decoy");
    let first = client.get("/ctia/judgement/search?source=hp-decoy&limit=10");
    assert_eq!(first.header("X-Total-Hits"), Some("25"));
    assert!(first.header("X-Sort").is_some());
    assert!(first.header("X-Previous").is_none());
    let next = first.header("X-Next").expect("first page has X-Next");
    assert!(next.contains("limit=10"), "{next}");
    assert!(next.contains("offset=10"), "{next}");
    assert!(next.contains("search_after="), "{next}");

    let (ids, pages) = walk_pages(&client, "/ctia/judgement/search?source=hp-decoy&limit=10");
    assert_eq!(pages, 3);
    assert_eq!(ids.len(), 25);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        25,
        "a hit came twice"
    );
}

#[test]
fn paging_exact_multiple_has_no_extra_page() {
    let client = Client::start_logged_in(Config::default());
    seed_judgements(&client, 20, "hp-decoy");
    let (ids, pages) = walk_pages(&client, "/ctia/judgement/search?source=hp-decoy&limit=10");
    assert_eq!(pages, 2);
    assert_eq!(ids.len(), 20);
}

#[test]
fn paging_offset_previous_header() {
    let client = Client::start_logged_in(Config::default());
    seed_judgements(&client, 25, "hp-decoy");
    let reply = client.get("/ctia/judgement/search?source=hp-decoy&limit=10&offset=20");
    assert_eq!(reply.json().as_array().unwrap().len(), 5);
    assert!(reply.header("X-Next").is_none());
    assert_eq!(reply.header("X-Previous"), Some("limit=10&offset=10"));
}

#[test]
fn paging_sort_by_descending() {
    let client = Client::start_logged_in(Config::default());
    seed_judgements(&client, 5, "hp-decoy");
    let reply = client.get("/ctia/judgement/search?source=hp-decoy&sort_by=created:desc");
    let created: Vec<String> = reply
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["created"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = created.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(created, sorted);
}

#[test]
fn offset_past_window_is_400() {
    let client = Client::start_logged_in(small_config());
    seed_judgements(&client, 30, "hp-decoy");
    let reply = client.get("/ctia/judgement/search?source=hp-decoy&limit=10&offset=15");
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("ES Invalid Request"), "{}", reply.body);

    // search_after paging is not bound by the window.
    let (ids, _) = walk_pages(&client, "/ctia/judgement/search?source=hp-decoy&limit=10");
    assert_eq!(ids.len(), 30);
}

#[test]
fn delete_by_short_and_full_id() {
    let client = Client::start_logged_in(Config::default());
    let a = client
        .post_json("/ctia/judgement", &new_judgement("198.51.100.1"))
        .json();
    let b = client
        .post_json("/ctia/judgement", &new_judgement("198.51.100.2"))
        .json();
    let a_short = a["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        client.delete(&format!("/ctia/judgement/{a_short}")).status,
        204
    );
    assert_eq!(
        client.delete(&format!("/ctia/judgement/{a_short}")).status,
        404
    );

    let b_full = urlencode(b["id"].as_str().unwrap());
    assert_eq!(
        client.delete(&format!("/ctia/judgement/{b_full}")).status,
        204
    );
    assert_eq!(client.state()["judgements"], json!([]));
}

#[test]
fn bulk_delete_reports_not_found() {
    let client = Client::start_logged_in(Config::default());
    let results = client.import_ok(&bundle(json!({"incidents": [incident("hpx-incident-1")]})));
    let id = results[0]["id"].as_str().unwrap();
    let missing = format!(
        "{}/ctia/incident/incident-00000000-0000-4000-8000-000000000000",
        client.base
    );
    let body = json!({"incidents": [id, missing]}).to_string();
    let reply = client.send("DELETE", "/ctia/bulk", Some(&body), &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let response = reply.json();
    assert_eq!(response["incidents"]["deleted"], json!([id]));
    assert_eq!(
        response["incidents"]["errors"]["not-found"],
        json!([missing])
    );
    assert_eq!(client.state()["incidents"], json!([]));
}

#[test]
fn delete_by_search_needs_flag_and_filter() {
    let client = Client::start_logged_in(Config::default());
    seed_judgements(&client, 3, "hp-decoy");
    seed_judgements(&client, 2, "securex-orchestration");

    let no_filter = client.delete("/ctia/judgement/search");
    assert_eq!(no_filter.status, 403);

    let dry_run = client.delete("/ctia/judgement/search?source=hp-decoy");
    assert_eq!(dry_run.json(), json!(3));
    assert_eq!(client.state()["judgements"].as_array().unwrap().len(), 5);

    let really = client
        .delete("/ctia/judgement/search?source=hp-decoy&REALLY_DELETE_ALL_THESE_ENTITIES=true");
    assert_eq!(really.json(), json!(3));
    assert_eq!(client.state()["judgements"].as_array().unwrap().len(), 2);
}

#[test]
fn seed_keeps_foreign_ids() {
    let client = Client::start_logged_in(Config::default());
    let foreign =
        "https://evil.example.com:443/ctia/incident/incident-22222222-2222-4222-8222-222222222222";
    let reply = client.post_json(
        "/_standin/seed",
        &json!({"incidents": [{"id": foreign, "source": "honeypot-xdr", "title": "planted"}]}),
    );
    assert_eq!(reply.json()["incidents"][0]["id"], foreign);
    let hits = client
        .get("/ctia/incident/search?source=honeypot-xdr")
        .json();
    assert_eq!(hits[0]["id"], foreign);
}

#[test]
fn put_replaces_keeping_id() {
    let client = Client::start_logged_in(Config::default());
    let created = client
        .post_json("/ctia/judgement", &new_judgement("198.51.100.1"))
        .json();
    let id = created["id"].as_str().unwrap();
    let mut replacement = new_judgement("198.51.100.1");
    replacement["priority"] = json!(95);
    let reply = client.send(
        "PUT",
        &format!("/ctia/judgement/{}", id.rsplit('/').next().unwrap()),
        Some(&replacement.to_string()),
        &[],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["id"], id);
    assert_eq!(client.state()["judgements"][0]["priority"], 95);
    assert_eq!(client.state()["judgements"].as_array().unwrap().len(), 1);
}

#[test]
fn paging_while_deleting_stops_early() {
    let client = Client::start_logged_in(Config::default());
    seed_judgements(&client, 25, "hp-decoy");
    let first = client.get("/ctia/judgement/search?source=hp-decoy&limit=10");
    for hit in first.json().as_array().unwrap() {
        let short_id = hit["id"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(
            client.delete(&format!("/ctia/judgement/{short_id}")).status,
            204
        );
    }
    let next = first.header("X-Next").unwrap();
    let second = client.get(&format!("/ctia/judgement/search?source=hp-decoy&{next}"));
    assert_eq!(second.json().as_array().unwrap().len(), 10);
    assert_eq!(second.header("X-Total-Hits"), Some("15"));
    // 15 hits remain but offset 10 + limit 10 is not below 15, so CTIA sends no X-Next.
    assert!(second.header("X-Next").is_none());
}

#[test]
fn iroh_bulk_delete_works() {
    let client = Client::start_logged_in(Config::default());
    let created = client
        .post_json("/ctia/judgement", &new_judgement("198.51.100.1"))
        .json();
    let id = created["id"].as_str().unwrap();
    let body = json!({"judgements": [id]}).to_string();
    let reply = client.send("DELETE", "/iroh/private-intel/bulk", Some(&body), &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["judgements"]["deleted"], json!([id]));
    assert!(reply.json()["judgements"].get("errors").is_none());
}

//! Bundle import: validation, dedupe, transient references and server defaults.

mod common;

use common::{bundle, incident, judgement, relationship, sighting, small_config, Client};
use serde_json::{json, Value};
use xdr_standin::Config;

fn by_original_id<'a>(results: &'a [Value], original_id: &str) -> &'a Value {
    results
        .iter()
        .find(|result| result["original_id"] == original_id)
        .unwrap_or_else(|| panic!("no result for {original_id} in {results:?}"))
}

fn count(client: &Client, plural: &str) -> usize {
    client.state()[plural].as_array().map_or(0, Vec::len)
}

#[test]
fn import_rejects_unknown_key() {
    let client = Client::start_logged_in(Config::default());
    let mut bad = incident("hpx-incident-1");
    bad["colour"] = json!("red");
    let reply = client.import("hpx-", &bundle(json!({"incidents": [bad]})));
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(
        reply.json()["errors"]["incidents"][0]["colour"],
        "disallowed-key"
    );
    assert_eq!(count(&client, "incidents"), 0);
}

#[test]
fn import_rejects_missing_required_fields() {
    let client = Client::start_logged_in(Config::default());
    let mut bad = incident("hpx-incident-1");
    bad.as_object_mut().unwrap().remove("status");
    let reply = client.import("hpx-", &bundle(json!({"incidents": [bad]})));
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json()["errors"]["incidents"][0]["status"],
        "missing-required-key"
    );

    let no_source = json!({"type": "bundle", "incidents": []});
    let reply = client.import("hpx-", &no_source);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["errors"]["source"], "missing-required-key");
}

#[test]
fn import_rejects_bad_enums() {
    let client = Client::start_logged_in(Config::default());
    let cases = [
        ("incidents", "status", json!("Pending")),
        ("incidents", "confidence", json!("Very High")),
        ("incidents", "severity", json!("Severe")),
        ("incidents", "tlp", json!("purple")),
        ("judgements", "disposition", json!(7)),
        ("judgements", "disposition_name", json!("Evil")),
        ("relationships", "relationship_type", json!("connected-to")),
    ];
    for (plural, field, value) in cases {
        let mut entity = match plural {
            "incidents" => incident("hpx-incident-1"),
            "judgements" => judgement("hpx-judgement-1", "198.51.100.7"),
            _ => relationship(
                "hpx-relationship-1",
                "transient:a",
                "member-of",
                "transient:b",
            ),
        };
        entity[field] = value.clone();
        let reply = client.import("hpx-", &bundle(json!({ plural: [entity] })));
        assert_eq!(reply.status, 400, "{plural}.{field} = {value} was accepted");
        assert!(
            reply.json()["errors"][plural][0][field].is_string(),
            "{}",
            reply.body
        );
    }
}

#[test]
fn import_rejects_bad_nested_enums() {
    let client = Client::start_logged_in(Config::default());
    let mut bad_relation = sighting("hpx-sighting-1", "198.51.100.7");
    bad_relation["relations"][0]["relation"] = json!("Talked_To");
    let reply = client.import("hpx-", &bundle(json!({"sightings": [bad_relation]})));
    assert_eq!(reply.status, 400);
    assert!(reply.json()["errors"]["sightings"][0]["relations"][0]["relation"].is_string());

    let mut bad_target = sighting("hpx-sighting-1", "198.51.100.7");
    bad_target["targets"][0]["type"] = json!("honeypot");
    let reply = client.import("hpx-", &bundle(json!({"sightings": [bad_target]})));
    assert_eq!(reply.status, 400);
    assert!(reply.json()["errors"]["sightings"][0]["targets"][0]["type"].is_string());

    let mut bad_observable = sighting("hpx-sighting-1", "198.51.100.7");
    bad_observable["observables"][0]["type"] = json!("ipv4");
    let reply = client.import("hpx-", &bundle(json!({"sightings": [bad_observable]})));
    assert_eq!(reply.status, 400);
    assert!(reply.json()["errors"]["sightings"][0]["observables"][0]["type"].is_string());

    let mut bad_sensor = sighting("hpx-sighting-1", "198.51.100.7");
    bad_sensor["sensor"] = json!("web.server");
    let reply = client.import("hpx-", &bundle(json!({"sightings": [bad_sensor]})));
    assert_eq!(reply.status, 400);
}

#[test]
fn import_rejects_reversed_valid_time() {
    let client = Client::start_logged_in(Config::default());
    let mut bad = judgement("hpx-judgement-1", "198.51.100.7");
    bad["valid_time"] =
        json!({"start_time": "2024-02-01T00:00:00.000Z", "end_time": "2024-01-01T00:00:00.000Z"});
    let reply = client.import("hpx-", &bundle(json!({"judgements": [bad]})));
    assert_eq!(reply.status, 400);
    assert!(
        reply.json()["errors"]["judgements"][0]["valid_time"].is_string(),
        "{}",
        reply.body
    );
}

#[test]
fn import_rejects_short_id_ref() {
    let client = Client::start_logged_in(Config::default());
    let bad = relationship(
        "hpx-relationship-1",
        "sighting-123",
        "member-of",
        "transient:hpx-incident-1",
    );
    let reply = client.import("hpx-", &bundle(json!({"relationships": [bad]})));
    assert_eq!(reply.status, 400);
    assert!(reply.json()["errors"]["relationships"][0]["source_ref"].is_string());
}

#[test]
fn import_rejects_time_without_offset() {
    let client = Client::start_logged_in(Config::default());
    let mut bad = incident("hpx-incident-1");
    bad["incident_time"]["opened"] = json!("2024-01-31 12:00:00");
    let reply = client.import("hpx-", &bundle(json!({"incidents": [bad]})));
    assert_eq!(reply.status, 400);
}

#[test]
fn import_rejects_too_many_entities() {
    let client = Client::start_logged_in(small_config());
    let judgements: Vec<Value> = (0..6)
        .map(|i| judgement(&format!("hpx-judgement-{i}"), &format!("198.51.100.{i}")))
        .collect();
    let reply = client.import("hpx-", &bundle(json!({"judgements": judgements})));
    assert_eq!(reply.status, 400);
    assert!(
        reply.body.contains("Bundle max nb of entities: 5"),
        "{}",
        reply.body
    );
    assert_eq!(count(&client, "judgements"), 0);
}

#[test]
fn import_twice_returns_exists() {
    let client = Client::start_logged_in(Config::default());
    let the_bundle = bundle(json!({
        "incidents": [incident("hpx-incident-1")],
        "sightings": [sighting("hpx-sighting-1", "198.51.100.7")],
        "relationships": [relationship("hpx-relationship-1", "transient:hpx-sighting-1", "member-of", "transient:hpx-incident-1")],
    }));
    let first = client.import_ok(&the_bundle);
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|r| r["result"] == "created"), "{first:?}");
    let stored = client.state();

    let second = client.import_ok(&the_bundle);
    assert!(second.iter().all(|r| r["result"] == "exists"), "{second:?}");
    for original_id in [
        "transient:hpx-incident-1",
        "transient:hpx-sighting-1",
        "transient:hpx-relationship-1",
    ] {
        assert_eq!(
            by_original_id(&first, original_id)["id"],
            by_original_id(&second, original_id)["id"]
        );
    }
    assert_eq!(
        client.state(),
        stored,
        "the second import changed the store"
    );
}

#[test]
fn import_dedupe_ignores_case() {
    let client = Client::start_logged_in(Config::default());
    client.import_ok(&bundle(
        json!({"incidents": [incident("hpx-incident-abc")]}),
    ));
    let mut upper = incident("hpx-incident-ABC");
    upper["title"] = json!("A different title");
    let results = client.import_ok(&bundle(json!({"incidents": [upper]})));
    assert_eq!(results[0]["result"], "exists");
    assert_eq!(count(&client, "incidents"), 1);
}

#[test]
fn import_without_prefixed_xid_always_creates() {
    let client = Client::start_logged_in(Config::default());
    let other = incident("other-incident-1");
    client.import_ok(&bundle(json!({"incidents": [other.clone()]})));
    let results = client.import_ok(&bundle(json!({"incidents": [other]})));
    assert_eq!(results[0]["result"], "created");
    assert_eq!(results[0]["external_ids"], json!([]));
    assert_eq!(count(&client, "incidents"), 2);
}

#[test]
fn import_without_prefix_param_uses_all_xids() {
    let client = Client::start_logged_in(Config::default());
    let path = "/iroh/private-intel/bundle/import";
    let the_bundle = bundle(json!({"incidents": [incident("any-incident-1")]}));
    assert_eq!(
        client.post_json(path, &the_bundle).json()["results"][0]["result"],
        "created"
    );
    assert_eq!(
        client.post_json(path, &the_bundle).json()["results"][0]["result"],
        "exists"
    );
}

#[test]
fn import_resolves_refs_of_existing_entities() {
    let client = Client::start_logged_in(Config::default());
    let first = client.import_ok(&bundle(json!({"incidents": [incident("hpx-incident-1")]})));
    let incident_id = first[0]["id"].as_str().unwrap().to_string();

    let results = client.import_ok(&bundle(json!({
        "incidents": [incident("hpx-incident-1")],
        "sightings": [sighting("hpx-sighting-2", "198.51.100.8")],
        "relationships": [relationship("hpx-relationship-2", "transient:hpx-sighting-2", "member-of", "transient:hpx-incident-1")],
    })));
    assert_eq!(
        by_original_id(&results, "transient:hpx-incident-1")["result"],
        "exists"
    );
    let sighting_id = by_original_id(&results, "transient:hpx-sighting-2")["id"].clone();
    let relationship_result = by_original_id(&results, "transient:hpx-relationship-2");
    assert_eq!(relationship_result["result"], "created");

    let relationship_id = relationship_result["id"].as_str().unwrap();
    let stored = client
        .get(&format!(
            "/ctia/relationship/{}",
            relationship_id.rsplit('/').next().unwrap()
        ))
        .json();
    assert_eq!(stored["target_ref"], incident_id.as_str());
    assert_eq!(stored["source_ref"], sighting_id);
}

#[test]
fn import_relationships_after_other_entities() {
    let client = Client::start_logged_in(Config::default());
    // The relationship comes first in the JSON, yet its refs must still resolve.
    let the_bundle = json!({
        "source": "honeypot-xdr",
        "relationships": [relationship("hpx-relationship-1", "transient:hpx-sighting-1", "member-of", "transient:hpx-incident-1")],
        "sightings": [sighting("hpx-sighting-1", "198.51.100.7")],
        "incidents": [incident("hpx-incident-1")],
    });
    let results = client.import_ok(&the_bundle);
    assert_eq!(results.last().unwrap()["type"], "relationship");
    assert!(
        results.iter().all(|r| r["result"] == "created"),
        "{results:?}"
    );
}

#[test]
fn import_unresolved_ref_is_entity_error() {
    let client = Client::start_logged_in(Config::default());
    let results = client.import_ok(&bundle(json!({
        "incidents": [incident("hpx-incident-1")],
        "relationships": [relationship("hpx-relationship-1", "transient:hpx-sighting-missing", "member-of", "transient:hpx-incident-1")],
    })));
    assert_eq!(
        by_original_id(&results, "transient:hpx-incident-1")["result"],
        "created"
    );
    let failed = by_original_id(&results, "transient:hpx-relationship-1");
    assert_eq!(failed["result"], "error");
    assert!(
        failed["error"].as_str().unwrap().contains("transient"),
        "{failed}"
    );
    assert!(failed.get("id").is_none());
    assert_eq!(count(&client, "relationships"), 0);
}

#[test]
fn import_applies_server_defaults() {
    let client = Client::start_logged_in(Config::default());
    let mut plain_judgement = judgement("hpx-judgement-1", "198.51.100.7");
    let map = plain_judgement.as_object_mut().unwrap();
    map.remove("disposition");
    map.remove("disposition_name");
    plain_judgement["schema_version"] = json!("1.0.19");
    client.import_ok(&bundle(json!({
        "judgements": [plain_judgement],
        "sightings": [sighting("hpx-sighting-1", "198.51.100.7")],
    })));
    let state = client.state();
    let stored = &state["judgements"][0];
    assert_eq!(stored["schema_version"], "1.3.29");
    assert_eq!(stored["tlp"], "green");
    assert_eq!(stored["disposition"], 5);
    assert_eq!(stored["disposition_name"], "Unknown");
    assert_eq!(stored["valid_time"]["end_time"], "2525-01-01T00:00:00.000Z");
    assert!(stored["valid_time"]["start_time"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(stored["owner"], "hp-test-client");
    assert!(stored["groups"].is_array());
    for key in ["created", "modified", "timestamp"] {
        assert!(stored[key].is_string(), "{key} missing");
    }
    assert!(stored["id"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/ctia/judgement/judgement-", client.base)));

    let sighting = &state["sightings"][0];
    assert_eq!(sighting["count"], 1);
    assert_eq!(sighting["confidence"], "Unknown");
}

#[test]
fn import_disposition_mismatch_is_entity_error() {
    let client = Client::start_logged_in(Config::default());
    let mut mismatched = judgement("hpx-judgement-1", "198.51.100.7");
    mismatched["disposition_name"] = json!("Clean");
    let results = client.import_ok(&bundle(json!({"judgements": [mismatched]})));
    assert_eq!(results[0]["result"], "error");
    assert!(results[0]["error"]
        .as_str()
        .unwrap()
        .contains("Mismatched disposition"));
}

#[test]
fn import_result_lists_only_prefixed_xids() {
    let client = Client::start_logged_in(Config::default());
    let mut two_xids = incident("hpx-incident-1");
    two_xids["external_ids"] = json!(["hpx-incident-1", "legacy-42"]);
    let results = client.import_ok(&bundle(json!({"incidents": [two_xids]})));
    assert_eq!(results[0]["external_ids"], json!(["hpx-incident-1"]));
    assert_eq!(results[0]["original_id"], "transient:hpx-incident-1");
}

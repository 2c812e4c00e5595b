//! hp-xdr-clean against the local XDR stand-in: it removes exactly hp's
//! entities across several search pages and leaves everything else alone.

mod xdr_common;

use serde_json::{Value, json};
use xdr_common::{Harness, SAMPLE, json_lines, many_attackers, state_file, text};

/// Seeds entities that are not hp's: a feed judgement of another tool, an
/// incident of another source, and an hp-looking judgement without hp's
/// external-id prefix.
fn seed_decoys(harness: &Harness) {
    harness.post(
        "/_standin/seed",
        json!({
            "judgements": [{
                "type": "judgement", "source": "securex-orchestration",
                "observable": {"type": "ip", "value": "192.0.2.217"},
                "disposition": 2, "disposition_name": "Malicious", "priority": 90,
                "confidence": "High", "severity": "High", "tlp": "amber",
                "external_ids": ["hp-judgement-0000"]
            }, {
                "type": "judgement", "source": "hp-honeypot",
                "observable": {"type": "ip", "value": "192.0.2.200"},
                "disposition": 2, "disposition_name": "Malicious", "priority": 90,
                "confidence": "High", "severity": "High", "tlp": "amber",
                "external_ids": ["other-judgement-0000"]
            }],
            "incidents": [{
                "type": "incident", "source": "XDR Demo", "title": "someone else's incident",
                "confidence": "High", "status": "New", "incident_time": {"opened": "2021-03-28T00:00:00Z"},
                "external_ids": ["hp-incident-ffff"]
            }]
        }),
    );
}

fn ids(entities: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = entities
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn clean_removes_only_hp_entities() {
    let harness = Harness::with_config(xdr_standin::Config {
        max_result_window: 20,
        ..xdr_standin::Config::default()
    });
    let feeds = harness.seed_feeds();
    seed_decoys(&harness);

    let pushed = harness.hp_xdr(&["--feed", "--max-entities", "25"], &many_attackers(15));
    assert!(pushed.status.success(), "stderr: {}", text(&pushed.stderr));
    let ours = harness.hp_entities("relationship").len()
        + harness.hp_entities("judgement").len()
        + harness.hp_entities("sighting").len()
        + harness.hp_entities("incident").len()
        - 1; // the seeded hp-source judgement without the prefix
    assert!(ours > 30, "only {ours} entities");
    let before = harness.get("/_standin/state");

    let listed = harness.hp_xdr_clean(&["--page-size", "7"]);
    assert!(listed.status.success(), "stderr: {}", text(&listed.stderr));
    let lines = json_lines(&listed.stdout);
    assert_eq!(lines.len(), ours);
    assert!(lines.iter().all(|l| l["result"] == "would-delete"));
    assert_eq!(
        harness.get("/_standin/state"),
        before,
        "the dry run changed the server"
    );

    let cleaned = harness.hp_xdr_clean(&["--yes", "--page-size", "7"]);
    assert!(
        cleaned.status.success(),
        "stderr: {}",
        text(&cleaned.stderr)
    );
    let lines = json_lines(&cleaned.stdout);
    assert_eq!(lines.len(), ours);
    assert!(lines.iter().all(|l| l["result"] == "deleted"), "{lines:?}");

    // Relationships go first, incidents last.
    let order: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    let first_incident = order.iter().position(|t| *t == "incident").unwrap();
    let last_relationship = order.iter().rposition(|t| *t == "relationship").unwrap();
    assert!(last_relationship < first_incident);

    let judgements = harness.entities("judgement");
    assert_eq!(judgements.len(), 2, "{judgements:?}");
    assert!(
        judgements
            .iter()
            .any(|j| j["source"] == "securex-orchestration")
    );
    assert!(
        judgements
            .iter()
            .any(|j| j["external_ids"][0] == "other-judgement-0000")
    );
    assert_eq!(harness.entities("incident").len(), 1);
    assert_eq!(harness.entities("incident")[0]["source"], "XDR Demo");
    assert!(harness.entities("sighting").is_empty());
    assert!(harness.entities("relationship").is_empty());
    assert_eq!(
        ids(&harness.entities("indicator")),
        ids(before["indicators"].as_array().unwrap())
    );
    assert_eq!(
        ids(&harness.entities("feed")),
        ids(before["feeds"].as_array().unwrap())
    );
    assert!(
        harness
            .feed_view(feeds["ipv4"]["feed_view_url"].as_str().unwrap())
            .is_empty()
    );

    // The deleted addresses leave the state, so hp-xdr sends them again.
    assert!(
        state_file(&harness.state_dir())["sent"]
            .as_object()
            .unwrap()
            .is_empty()
    );
    let again = harness.hp_xdr_clean(&["--yes", "--page-size", "7"]);
    assert!(again.status.success(), "stderr: {}", text(&again.stderr));
    assert!(again.stdout.is_empty());
}

#[test]
fn clean_refuses_foreign_host_id() {
    let harness = Harness::start();
    let pushed = harness.hp_xdr(&[], SAMPLE);
    assert!(pushed.status.success(), "stderr: {}", text(&pushed.stderr));

    let foreign =
        "https://attacker.example/ctia/incident/incident-00000000-0000-0000-0000-000000000000";
    harness.post(
        "/_standin/seed",
        json!({"incidents": [{
            "id": foreign, "type": "incident", "source": "hp-honeypot", "title": "planted",
            "confidence": "High", "status": "New", "incident_time": {"opened": "2021-03-28T00:00:00Z"},
            "external_ids": ["hp-incident-planted"]
        }]}),
    );

    let output = harness.hp_xdr_clean(&["--yes"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr: {}",
        text(&output.stderr)
    );
    let stderr = text(&output.stderr);
    assert!(stderr.contains("attacker.example"), "{stderr}");
    let lines = json_lines(&output.stdout);
    let refused: Vec<&Value> = lines.iter().filter(|l| l["result"] == "refused").collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["id"], foreign);
    assert_eq!(lines.iter().filter(|l| l["result"] == "deleted").count(), 3);

    let requests = harness.get("/_standin/requests");
    for request in requests.as_array().unwrap() {
        let path = request["path"].as_str().unwrap_or("");
        assert!(
            !path.contains("incident-00000000-0000"),
            "a request went to the planted id: {request}"
        );
    }
}

#[test]
fn older_than_keeps_new_entities() {
    let harness = Harness::start();
    let pushed = harness.hp_xdr(&[], SAMPLE);
    assert!(pushed.status.success(), "stderr: {}", text(&pushed.stderr));

    let output = harness.hp_xdr_clean(&["--yes", "--older-than", "1d"]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    assert_eq!(harness.hp_entities("incident").len(), 1);
}

#[test]
fn clean_from_state_deletes_recorded_ids() {
    let harness = Harness::start();
    harness.seed_feeds();
    seed_decoys(&harness);
    let pushed = harness.hp_xdr(&["--feed"], SAMPLE);
    assert!(pushed.status.success(), "stderr: {}", text(&pushed.stderr));

    let output = harness.hp_xdr_clean(&["--yes", "--from-state"]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let lines = json_lines(&output.stdout);
    // incident, sighting, member-of, 2 judgements, 2 element-of.
    assert_eq!(lines.len(), 7, "{lines:?}");
    assert!(lines.iter().all(|l| l["result"] == "deleted"), "{lines:?}");
    assert!(harness.hp_entities("incident").is_empty());
    assert!(harness.hp_entities("relationship").is_empty());
    assert_eq!(harness.entities("judgement").len(), 2);
}

//! Control routes under `/_standin/` that tests use to arm faults, seed data and inspect
//! the server. They need no token but serve only loopback clients.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::http::{Incoming, Reply};
use crate::state::{CountedFault, State};
use crate::vocabulary;

pub(crate) fn handle(state: &Mutex<State>, request: &Incoming) -> Reply {
    if !request.from_loopback {
        return Reply::error(
            403,
            "forbidden",
            "control routes answer loopback clients only",
        );
    }
    let mut guard = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/_standin/faults") => match request.json_body() {
            Ok(body) => arm_faults(&mut guard, &body),
            Err(reply) => reply,
        },
        ("GET", "/_standin/faults") => Reply::json(200, &guard.faults.to_json()),
        ("DELETE", "/_standin/faults") => {
            guard.faults = Default::default();
            Reply::json(200, &guard.faults.to_json())
        }
        ("POST", "/_standin/seed") => match request.json_body() {
            Ok(body) => seed(&mut guard, &body),
            Err(reply) => reply,
        },
        ("POST", "/_standin/seed-feeds") => Reply::json(200, &seed_feeds(&mut guard)),
        ("GET", "/_standin/state") => Reply::json(200, &guard.dump()),
        ("GET", "/_standin/requests") => Reply::json(200, &Value::Array(guard.requests.clone())),
        ("GET", "/_standin/tokens") => {
            let live = guard
                .tokens
                .keys()
                .filter(|token| guard.token_is_live(token))
                .count();
            Reply::json(200, &json!({"issued": guard.tokens_issued, "live": live}))
        }
        _ => Reply::error(
            404,
            "not_found",
            format!("no control route {} {}", request.method, request.path),
        ),
    }
}

/// Reads `{"count": N, "retry_after": SECS}`. A bare number is taken as the count.
fn counted_fault(value: &Value) -> Result<CountedFault, String> {
    if let Some(count) = value.as_u64() {
        return Ok(CountedFault {
            count: count as usize,
            retry_after_secs: 1,
        });
    }
    let count = value
        .get("count")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("expected {{\"count\": N}}, got {value}"))?;
    let retry_after_secs = value
        .get("retry_after")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    Ok(CountedFault {
        count: count as usize,
        retry_after_secs,
    })
}

/// `POST /_standin/faults`: arms each fault named in the body and leaves the others as they are.
fn arm_faults(state: &mut State, body: &Value) -> Reply {
    let Some(map) = body.as_object() else {
        return Reply::error(
            400,
            "invalid request",
            "the faults body must be a JSON object",
        );
    };
    let mut errors = Map::new();
    for (key, value) in map {
        let result: Result<(), String> = match key.as_str() {
            "status_429" => counted_fault(value).map(|f| state.faults.status_429 = f),
            "status_500" => counted_fault(value).map(|f| state.faults.status_500 = f),
            "status_403" => counted_fault(value).map(|f| state.faults.status_403 = f),
            "garbage_body" => counted_fault(value).map(|f| state.faults.garbage_body = f),
            "force_401" => counted_fault(value).map(|f| state.faults.force_401 = f),
            "entity_error" => match value.get("external_id").and_then(Value::as_str) {
                Some(xid) => {
                    let count = value.get("count").and_then(Value::as_u64).unwrap_or(1) as usize;
                    state.faults.entity_error = Some((xid.to_string(), count));
                    Ok(())
                }
                None if value.is_null() => {
                    state.faults.entity_error = None;
                    Ok(())
                }
                None => Err(format!("expected {{\"external_id\": XID}}, got {value}")),
            },
            "stall_import_ms" => {
                let (ms, count) = match value {
                    Value::Number(ms) => (ms.as_u64(), Some(1)),
                    other => (
                        other.get("ms").and_then(Value::as_u64),
                        Some(other.get("count").and_then(Value::as_u64).unwrap_or(1)),
                    ),
                };
                match (ms, count) {
                    (Some(ms), Some(count)) => {
                        state.faults.stall_import =
                            Some((Duration::from_millis(ms), count as usize));
                        Ok(())
                    }
                    _ => Err(format!(
                        "expected milliseconds or {{\"ms\": MS, \"count\": N}}, got {value}"
                    )),
                }
            }
            _ => Err("unknown fault".to_string()),
        };
        if let Err(message) = result {
            errors.insert(key.clone(), Value::from(message));
        }
    }
    if errors.is_empty() {
        Reply::json(200, &state.faults.to_json())
    } else {
        Reply::json(400, &json!({"errors": errors}))
    }
}

/// `POST /_standin/seed`: stores entities as given, keyed by plural type.
fn seed(state: &mut State, body: &Value) -> Reply {
    let Some(map) = body.as_object() else {
        return Reply::error(
            400,
            "invalid request",
            "the seed body must be a JSON object of entity lists",
        );
    };
    for (plural, list) in map {
        if vocabulary::singular_type(plural).is_none() {
            return Reply::error(400, "invalid request", format!("unknown entity list {plural:?}; expected one of incidents, sightings, relationships, judgements, indicators, feeds"));
        }
        let all_objects = list
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_object));
        if !all_objects {
            return Reply::error(
                400,
                "invalid request",
                format!("{plural} must be a list of objects"),
            );
        }
    }
    let mut stored = Map::new();
    for (plural, list) in map {
        let entity_type = vocabulary::singular_type(plural).expect("checked above");
        let items: Vec<Value> = list
            .as_array()
            .expect("checked above")
            .iter()
            .map(|item| {
                state.seed(
                    entity_type,
                    item.as_object().expect("checked above").clone(),
                )
            })
            .collect();
        stored.insert(plural.clone(), Value::Array(items));
    }
    Reply::json(200, &Value::Object(stored))
}

/// Creates the blocking-feed fixtures that the SXO 0015A workflow normally sets up: an
/// indicator and a feed per IP family, plus two indicators sharing one title so that
/// clients can be tested on an ambiguous title search. Calling it again returns the
/// existing fixtures.
pub(crate) fn seed_feeds(state: &mut State) -> Value {
    let mut result = Map::new();
    for (key, family) in [("ipv4", "IPv4"), ("ipv6", "IPv6")] {
        let title = format!("Secure_Firewall_SecureX_Indicator_{family}");
        let indicator_id = match find_by_title(state, "indicator", &title) {
            Some(id) => id,
            None => create_fixture_indicator(state, &title),
        };
        let feed_title = format!("SecureX_Firewall_Private_Feed_{family}");
        let feed = match state
            .list("feed")
            .iter()
            .find(|feed| feed["title"] == feed_title.as_str())
        {
            Some(feed) => feed.clone(),
            None => {
                let feed = json!({
                    "title": feed_title,
                    "feed_type": "indicator",
                    "output": "observables",
                    "indicator_id": indicator_id,
                    "lifetime": {"start_time": crate::state::now_string()},
                    "source": "securex-orchestration",
                    "tlp": "amber",
                });
                state.create("feed", feed.as_object().expect("literal object").clone())
            }
        };
        result.insert(
            key.to_string(),
            json!({"indicator_id": indicator_id, "feed_id": feed["id"], "feed_view_url": feed["feed_view_url"]}),
        );
    }

    let duplicate_title = "Secure_Firewall_SecureX_Indicator_Duplicate";
    let duplicates = state
        .list("indicator")
        .iter()
        .filter(|indicator| indicator["title"] == duplicate_title)
        .count();
    for _ in duplicates..2 {
        create_fixture_indicator(state, duplicate_title);
    }
    Value::Object(result)
}

fn find_by_title(state: &State, entity_type: &str, title: &str) -> Option<String> {
    state
        .list(entity_type)
        .iter()
        .find(|entity| entity["title"] == title)
        .and_then(|entity| entity["id"].as_str().map(str::to_string))
}

fn create_fixture_indicator(state: &mut State, title: &str) -> String {
    let indicator = json!({
        "title": title,
        "producer": "NGFW",
        "indicator_type": ["IP Watchlist"],
        "source": "securex-orchestration",
        "tlp": "amber",
        "confidence": "High",
        "severity": "Info",
    });
    let stored = state.create(
        "indicator",
        indicator.as_object().expect("literal object").clone(),
    );
    stored["id"]
        .as_str()
        .expect("created entity has an id")
        .to_string()
}

//! The private-intel routes: bundle import, CRUD, search, deletes and feed views.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{json, Map, Value};

use crate::http::{Incoming, Reply};
use crate::schema;
use crate::search::Search;
use crate::state::{self, State};
use crate::vocabulary::ENTITY_TYPES;

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn handle(state: &Mutex<State>, request: &Incoming) -> Reply {
    let segments = request.segments();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = request.method.as_str();

    match (method, segments.as_slice()) {
        ("POST", ["ctia", "bundle", "import"])
        | ("POST", ["iroh", "private-intel", "bundle", "import"]) => bundle_import(state, request),
        ("DELETE", ["ctia", "bulk"]) | ("DELETE", ["iroh", "private-intel", "bulk"]) => {
            bulk_delete(state, request)
        }
        ("GET", ["ctia", "feed", id, "view.txt"]) => feed_view(state, request, id, true),
        ("GET", ["ctia", "feed", id, "view"]) => feed_view(state, request, id, false),
        (_, ["ctia", entity_type, ..]) if !ENTITY_TYPES.contains(entity_type) => not_found(request),
        ("POST", ["ctia", entity_type]) => create(state, request, entity_type),
        ("GET", ["ctia", entity_type, "search"]) => search(state, request, entity_type),
        ("GET", ["ctia", entity_type, "search", "count"]) => count(state, request, entity_type),
        ("DELETE", ["ctia", entity_type, "search"]) => {
            delete_by_search(state, request, entity_type)
        }
        ("GET", ["ctia", entity_type, "external_id", xid]) => {
            by_external_id(state, request, entity_type, xid)
        }
        ("POST", ["ctia", "judgement", id, "expire"]) => expire(state, request, id),
        ("GET", ["ctia", entity_type, id @ ..]) if !id.is_empty() => {
            match lock(state).find(entity_type, id.last().expect("non-empty")) {
                Some(entity) => Reply::json(200, entity),
                None => Reply::empty(404),
            }
        }
        ("PUT", ["ctia", entity_type, id @ ..]) if !id.is_empty() => {
            update(state, request, entity_type, id.last().expect("non-empty"))
        }
        ("DELETE", ["ctia", entity_type, id @ ..]) if !id.is_empty() => {
            if lock(state).delete(entity_type, id.last().expect("non-empty")) {
                Reply::empty(204)
            } else {
                Reply::empty(404)
            }
        }
        _ => not_found(request),
    }
}

fn not_found(request: &Incoming) -> Reply {
    Reply::error(
        404,
        "not_found",
        format!("no route {} {}", request.method, request.path),
    )
}

fn validation_error(errors: Value) -> Reply {
    Reply::json(
        400,
        &json!({"errors": errors, "type": "request-validation", "message": "the request body does not match the CTIM schema"}),
    )
}

// ---------------------------------------------------------------------------------------------
// Bundle import

/// Bundle lists in processing order: CTIA creates every other entity before relationships,
/// so relationship references can point at entities of the same bundle.
const BUNDLE_LISTS: &[(&str, &str)] = &[
    ("incidents", "incident"),
    ("sightings", "sighting"),
    ("judgements", "judgement"),
    ("indicators", "indicator"),
    ("relationships", "relationship"),
];

fn bundle_import(state: &Mutex<State>, request: &Incoming) -> Reply {
    let body = match request.json_body() {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let max_entities = lock(state).config.max_bundle_entities;
    let entity_count: usize = BUNDLE_LISTS
        .iter()
        .filter_map(|(plural, _)| body.get(*plural).and_then(Value::as_array).map(Vec::len))
        .sum();
    if entity_count > max_entities {
        return Reply::json(
            400,
            &json!({"error": format!("Bundle max nb of entities: {max_entities}"), "message": format!("the bundle holds {entity_count} entities; send at most {max_entities} per import")}),
        );
    }
    if let Some(errors) = schema::check(&schema::new_bundle_schema(), &body) {
        return validation_error(errors);
    }
    if let Some(errors) = bundle_rule_errors(&body) {
        return validation_error(errors);
    }

    let prefixes: Option<Vec<String>> = request.query_value("external-key-prefixes").map(|value| {
        value
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    });

    let stall = {
        let mut guard = lock(state);
        match guard.faults.stall_import.take() {
            Some((delay, count)) => {
                if count > 1 {
                    guard.faults.stall_import = Some((delay, count - 1));
                }
                Some(delay)
            }
            None => None,
        }
    };
    if let Some(delay) = stall {
        std::thread::sleep(delay);
    }

    let mut guard = lock(state);
    let mut import = BundleImport {
        state: &mut guard,
        prefixes,
        tempids: HashMap::new(),
        fault_hit: false,
    };
    let mut results = Vec::new();
    for (plural, entity_type) in BUNDLE_LISTS {
        let Some(list) = body.get(*plural).and_then(Value::as_array) else {
            continue;
        };
        for entity in list {
            let entity = entity.as_object().expect("schema checked objects");
            results.push(import.import_one(entity_type, entity.clone()));
        }
    }
    if import.fault_hit {
        if let Some((xid, count)) = guard.faults.entity_error.take() {
            if count > 1 {
                guard.faults.entity_error = Some((xid, count - 1));
            }
        }
    }
    Reply::json(200, &json!({"results": results}))
}

/// Checks `valid_time` order on every bundle entity and returns an error tree keyed by list.
fn bundle_rule_errors(body: &Value) -> Option<Value> {
    let mut errors = Map::new();
    for (plural, _) in BUNDLE_LISTS {
        let Some(list) = body.get(*plural).and_then(Value::as_array) else {
            continue;
        };
        let list_errors: Vec<Value> = list
            .iter()
            .map(|entity| schema::check_rules(entity).unwrap_or(Value::Null))
            .collect();
        if list_errors.iter().any(|e| !e.is_null()) {
            errors.insert(plural.to_string(), Value::Array(list_errors));
        }
    }
    (!errors.is_empty()).then(|| Value::Object(errors))
}

struct BundleImport<'a> {
    state: &'a mut State,
    /// Prefixes from `external-key-prefixes`, or `None` when every external id counts.
    prefixes: Option<Vec<String>>,
    /// Transient id to the real id of the entity created or found for it.
    tempids: HashMap<String, String>,
    /// True once the `entity_error` fault has hit an entity in this import.
    fault_hit: bool,
}

impl BundleImport<'_> {
    fn import_one(&mut self, entity_type: &str, mut entity: Map<String, Value>) -> Value {
        let submitted_id = entity
            .remove("id")
            .and_then(|id| id.as_str().map(str::to_string));
        let original_id = submitted_id
            .clone()
            .filter(|id| schema::is_transient_id(id));
        let all_xids: Vec<String> = entity
            .get("external_ids")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let matched_xids: Vec<String> = match &self.prefixes {
            None => all_xids.clone(),
            // CTIA compares prefixes case-sensitively, while the stored-id lookup ignores case.
            Some(prefixes) => all_xids
                .iter()
                .filter(|xid| {
                    prefixes
                        .iter()
                        .any(|prefix| xid.starts_with(prefix.as_str()))
                })
                .cloned()
                .collect(),
        };

        let mut result = Map::new();
        result.insert("type".into(), Value::from(entity_type));
        if let Some(original_id) = &original_id {
            result.insert("original_id".into(), Value::from(original_id.clone()));
        }
        result.insert("external_ids".into(), json!(matched_xids));

        if let Some(id) = submitted_id.filter(|id| !schema::is_transient_id(id)) {
            return error_result(
                result,
                format!("only transient: ids may be given to entities in a bundle, got {id:?}"),
            );
        }
        if let Some((fault_xid, _)) = &self.state.faults.entity_error {
            if all_xids
                .iter()
                .any(|xid| xid.eq_ignore_ascii_case(fault_xid))
            {
                self.fault_hit = true;
                return error_result(result, format!("injected fault: the stand-in was told to fail the entity with external id {fault_xid}"));
            }
        }
        if entity_type == "judgement" {
            if let Some(message) = schema::disposition_mismatch(&Value::Object(entity.clone())) {
                return error_result(result, message);
            }
        }

        if !matched_xids.is_empty() {
            if let Some(existing_id) = self.state.find_by_external_ids(entity_type, &matched_xids) {
                self.remember(&original_id, &existing_id);
                result.insert("result".into(), Value::from("exists"));
                result.insert("id".into(), Value::from(existing_id));
                return Value::Object(result);
            }
        }

        if entity_type == "relationship" {
            for key in ["source_ref", "target_ref"] {
                let reference = entity[key].as_str().unwrap_or_default().to_string();
                if !schema::is_transient_id(&reference) {
                    continue;
                }
                match self.tempids.get(&reference) {
                    Some(real_id) => {
                        entity.insert(key.into(), Value::from(real_id.clone()));
                    }
                    None => {
                        return error_result(
                            result,
                            format!("A relationship cannot be created if a source or a target ref is still a transient ID ({key} {reference} matches no entity of this bundle)"),
                        );
                    }
                }
            }
        }

        let stored = self.state.create(entity_type, entity);
        let id = stored["id"]
            .as_str()
            .expect("created entity has an id")
            .to_string();
        self.remember(&original_id, &id);
        result.insert("result".into(), Value::from("created"));
        result.insert("id".into(), Value::from(id));
        Value::Object(result)
    }

    fn remember(&mut self, original_id: &Option<String>, real_id: &str) {
        if let Some(original_id) = original_id {
            self.tempids
                .insert(original_id.clone(), real_id.to_string());
        }
    }
}

fn error_result(mut result: Map<String, Value>, message: String) -> Value {
    result.insert("result".into(), Value::from("error"));
    result.insert("error".into(), Value::from(message));
    Value::Object(result)
}

// ---------------------------------------------------------------------------------------------
// Single-entity create, update and expire

/// Validates a New* body for a direct POST or PUT, where refs must already be real ids.
fn validate_new(entity_type: &str, body: &Value) -> Result<Map<String, Value>, Reply> {
    let schema = schema::new_entity_schema(entity_type).expect("route checked the type");
    if let Some(errors) = schema::check(&schema, body) {
        return Err(validation_error(errors));
    }
    if let Some(errors) = schema::check_rules(body) {
        return Err(validation_error(errors));
    }
    if entity_type == "judgement" {
        if let Some(message) = schema::disposition_mismatch(body) {
            return Err(Reply::error(400, "Invalid Entity Error", message));
        }
    }
    for key in ["source_ref", "target_ref", "indicator_id"] {
        if let Some(reference) = body.get(key).and_then(Value::as_str) {
            if schema::is_transient_id(reference) {
                return Err(Reply::error(
                    400,
                    "Invalid Entity Error",
                    format!("{key} {reference:?} is a transient id, which only a bundle import can resolve"),
                ));
            }
        }
    }
    let mut entity = body.as_object().expect("schema checked an object").clone();
    if let Some(id) = entity.remove("id") {
        // NOTE: CTIA can accept a caller-chosen id here, but the stand-in always generates one.
        return Err(Reply::error(
            400,
            "Invalid Entity Error",
            format!("the stand-in generates entity ids; remove \"id\" ({id}) from the body"),
        ));
    }
    Ok(entity)
}

/// `POST /ctia/<type>`: creates one entity with no dedupe.
fn create(state: &Mutex<State>, request: &Incoming, entity_type: &str) -> Reply {
    let body = match request.json_body() {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let entity = match validate_new(entity_type, &body) {
        Ok(entity) => entity,
        Err(reply) => return reply,
    };
    let stored = lock(state).create(entity_type, entity);
    let location = stored["id"].as_str().unwrap_or_default().to_string();
    Reply::json(201, &stored).with_header("Location", location)
}

/// `PUT /ctia/<type>/<id>`: replaces an entity, keeping its id, creation time and feed secret.
fn update(state: &Mutex<State>, request: &Incoming, entity_type: &str, id: &str) -> Reply {
    let body = match request.json_body() {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let mut body = body;
    // PUT bodies may repeat the entity's own id.
    if let Some(map) = body.as_object_mut() {
        map.remove("id");
    }
    let entity = match validate_new(entity_type, &body) {
        Ok(entity) => entity,
        Err(reply) => return reply,
    };
    let mut guard = lock(state);
    let Some(old) = guard.find(entity_type, id).cloned() else {
        return Reply::empty(404);
    };
    let mut replacement = guard.create(entity_type, entity);
    guard.delete(
        entity_type,
        replacement["id"]
            .as_str()
            .expect("created entity has an id"),
    );
    for key in [
        "id",
        "created",
        "owner",
        "groups",
        "secret",
        "feed_view_url",
    ] {
        if let Some(value) = old.get(key) {
            replacement[key] = value.clone();
        }
    }
    let old_id = old["id"].as_str().unwrap_or_default().to_string();
    if let Some(slot) = guard.find_mut(entity_type, &old_id) {
        *slot = replacement.clone();
    }
    Reply::json(200, &replacement)
}

/// `POST /ctia/judgement/<id>/expire`: ends the judgement's validity now.
fn expire(state: &Mutex<State>, request: &Incoming, id: &str) -> Reply {
    let now = state::now_string();
    let reason = request.query_value("reason");
    let mut guard = lock(state);
    let Some(judgement) = guard.find_mut("judgement", id) else {
        return Reply::empty(404);
    };
    if !judgement.get("valid_time").is_some_and(Value::is_object) {
        judgement["valid_time"] = json!({"start_time": now});
    }
    let starts_later = judgement["valid_time"]["start_time"]
        .as_str()
        .and_then(schema::parse_time)
        .zip(schema::parse_time(&now))
        .is_some_and(|(start, now)| start > now);
    if starts_later {
        judgement["valid_time"]["start_time"] = Value::from(now.clone());
    }
    judgement["valid_time"]["end_time"] = Value::from(now.clone());
    judgement["modified"] = Value::from(now);
    if let Some(reason) = reason {
        let old = judgement
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or_default();
        judgement["reason"] = Value::from(format!("{old} {reason}").trim().to_string());
    }
    Reply::json(200, judgement)
}

// ---------------------------------------------------------------------------------------------
// Search and deletes

fn matching(state: &State, entity_type: &str, search: &Search) -> Vec<Value> {
    let mut hits: Vec<Value> = state
        .list(entity_type)
        .iter()
        .filter(|entity| search.matches(entity))
        .cloned()
        .collect();
    search.sort(&mut hits);
    hits
}

fn search(state: &Mutex<State>, request: &Incoming, entity_type: &str) -> Reply {
    let search = match Search::parse(&request.query_pairs()) {
        Ok(search) => search,
        Err(reply) => return reply,
    };
    let guard = lock(state);
    let hits = matching(&guard, entity_type, &search);
    search
        .page(hits, guard.config.max_result_window)
        .unwrap_or_else(|reply| reply)
}

fn count(state: &Mutex<State>, request: &Incoming, entity_type: &str) -> Reply {
    let search = match Search::parse(&request.query_pairs()) {
        Ok(search) => search,
        Err(reply) => return reply,
    };
    let guard = lock(state);
    Reply::json(
        200,
        &Value::from(matching(&guard, entity_type, &search).len()),
    )
}

/// `GET /ctia/<type>/external_id/<xid>`: every entity carrying the xid, case-insensitively.
fn by_external_id(state: &Mutex<State>, request: &Incoming, entity_type: &str, xid: &str) -> Reply {
    let mut pairs = request.query_pairs();
    pairs.push(("external_ids".to_string(), xid.to_string()));
    let search = match Search::parse(&pairs) {
        Ok(search) => search,
        Err(reply) => return reply,
    };
    let guard = lock(state);
    let hits = matching(&guard, entity_type, &search);
    search
        .page(hits, guard.config.max_result_window)
        .unwrap_or_else(|reply| reply)
}

/// `DELETE /ctia/<type>/search`: counts matches as a dry run, or deletes them when
/// `REALLY_DELETE_ALL_THESE_ENTITIES=true`.
fn delete_by_search(state: &Mutex<State>, request: &Incoming, entity_type: &str) -> Reply {
    let pairs = request.query_pairs();
    let search = match Search::parse(&pairs) {
        Ok(search) => search,
        Err(reply) => return reply,
    };
    let has_time_window = pairs.iter().any(|(key, _)| key == "from" || key == "to");
    if !search.has_filters() && !has_time_window {
        return Reply::json(
            403,
            &json!({"error": "you must provide at least one of from, to, query or any field filter."}),
        );
    }
    let really = pairs
        .iter()
        .any(|(key, value)| key == "REALLY_DELETE_ALL_THESE_ENTITIES" && value == "true");
    let mut guard = lock(state);
    let hits = matching(&guard, entity_type, &search);
    if really {
        for hit in &hits {
            guard.delete(entity_type, hit["id"].as_str().unwrap_or_default());
        }
    }
    Reply::json(200, &Value::from(hits.len()))
}

/// `DELETE /ctia/bulk`: deletes lists of ids per plural type.
fn bulk_delete(state: &Mutex<State>, request: &Incoming) -> Reply {
    let body = match request.json_body() {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let (map, total) = match check_bulk_body(&body) {
        Ok(checked) => checked,
        Err(reply) => return reply,
    };

    let mut guard = lock(state);
    let max_entities = guard.config.max_bundle_entities;
    if total > max_entities {
        return Reply::json(
            400,
            &json!({"error": format!("Bulk max nb of entities: {max_entities}"), "message": format!("the request names {total} ids; send at most {max_entities} per call")}),
        );
    }

    let mut response = Map::new();
    for (plural, ids) in map {
        let entity_type = crate::vocabulary::singular_type(plural).expect("checked above");
        let mut deleted = Vec::new();
        let mut not_found = Vec::new();
        for id in ids
            .as_array()
            .expect("checked above")
            .iter()
            .filter_map(Value::as_str)
        {
            if guard.delete(entity_type, id) {
                deleted.push(Value::from(id));
            } else {
                not_found.push(Value::from(id));
            }
        }
        let mut entry = json!({"deleted": deleted});
        if !not_found.is_empty() {
            entry["errors"] = json!({"not-found": not_found});
        }
        response.insert(plural.clone(), entry);
    }
    Reply::json(200, &Value::Object(response))
}

/// Checks that a bulk body maps plural bulk types (feeds excluded) to lists of id strings,
/// and returns the map with the total number of ids.
fn check_bulk_body(body: &Value) -> Result<(&Map<String, Value>, usize), Reply> {
    let Some(map) = body.as_object() else {
        return Err(Reply::error(
            400,
            "invalid request",
            "the bulk body must be a JSON object of id lists",
        ));
    };
    let mut errors = Map::new();
    let mut total = 0;
    for (plural, ids) in map {
        let bulk_type = crate::vocabulary::singular_type(plural).filter(|t| *t != "feed");
        match (bulk_type, ids.as_array()) {
            (Some(_), Some(ids)) if ids.iter().all(Value::is_string) => total += ids.len(),
            (None, _) => {
                errors.insert(plural.clone(), Value::from("disallowed-key"));
            }
            _ => {
                errors.insert(
                    plural.clone(),
                    Value::from("invalid: expected a list of id strings"),
                );
            }
        }
    }
    if !errors.is_empty() {
        return Err(validation_error(Value::Object(errors)));
    }
    Ok((map, total))
}

// ---------------------------------------------------------------------------------------------
// Feed views

/// `GET /ctia/feed/<id>/view.txt?s=SECRET` and `/view`: observables of the judgements that are
/// valid now and linked `element-of` to the feed's indicator.
fn feed_view(state: &Mutex<State>, request: &Incoming, id: &str, as_text: bool) -> Reply {
    let guard = lock(state);
    let Some(feed) = guard.find("feed", id) else {
        return Reply::text(404, "feed not found");
    };
    let secret = request.query_value("s").unwrap_or_default();
    if feed.get("secret").and_then(Value::as_str) != Some(secret.as_str()) {
        return Reply::text(401, "wrong secret");
    }
    let now = jiff::Timestamp::now();
    if !is_within(feed.get("lifetime"), now) {
        return Reply::text(404, "feed not found");
    }

    let indicator_id = feed
        .get("indicator_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_lowercase();
    let judgement_ids: Vec<String> = guard
        .list("relationship")
        .iter()
        .filter(|rel| {
            rel["relationship_type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("element-of"))
        })
        .filter(|rel| {
            rel["target_ref"]
                .as_str()
                .is_some_and(|t| t.to_lowercase() == indicator_id)
        })
        .filter_map(|rel| rel["source_ref"].as_str().map(str::to_string))
        .collect();
    let mut judgements: Vec<&Value> = judgement_ids
        .iter()
        .filter_map(|id| guard.find_any(id))
        .filter(|judgement| judgement["type"] == "judgement")
        .filter(|judgement| is_within(judgement.get("valid_time"), now))
        .collect();
    judgements.sort_by(|a, b| {
        a["observable"]["value"]
            .as_str()
            .cmp(&b["observable"]["value"].as_str())
    });
    judgements.dedup_by(|a, b| a["observable"]["value"] == b["observable"]["value"]);

    if as_text {
        let values: Vec<&str> = judgements
            .iter()
            .filter_map(|j| j["observable"]["value"].as_str())
            .collect();
        return Reply::text(200, values.join("\n"));
    }
    if feed["output"] == "judgements" {
        Reply::json(200, &json!({"judgements": judgements}))
    } else {
        let observables: Vec<&Value> = judgements.iter().map(|j| &j["observable"]).collect();
        Reply::json(200, &json!({"observables": observables}))
    }
}

/// True when `now` lies in a `{start_time, end_time}` window. A missing bound is open.
fn is_within(window: Option<&Value>, now: jiff::Timestamp) -> bool {
    let Some(window) = window else { return true };
    let bound = |key: &str| {
        window
            .get(key)
            .and_then(Value::as_str)
            .and_then(schema::parse_time)
    };
    let started = bound("start_time").is_none_or(|start| start <= now);
    let not_ended = bound("end_time").is_none_or(|end| now < end);
    started && not_ended
}

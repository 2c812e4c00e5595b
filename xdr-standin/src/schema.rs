//! Closed CTIM schemas for the entities that hp sends, checked as strictly as CTIA checks them.
//!
//! A failed check returns an error tree shaped like the input, as CTIA's request validation
//! does: a map for an object, an array (with `null` for valid items) for a list, and a string
//! for a bad leaf. Keys that the schema does not list are rejected with `disallowed-key`.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::vocabulary;

/// Shape of one value in a schema.
pub(crate) enum Kind {
    Str {
        max_len: Option<usize>,
    },
    Time,
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// A string that must equal this exact value, such as an entity's `type`.
    Literal(&'static str),
    Enum(&'static [&'static str]),
    /// A reference to another entity: a `transient:` id or a full-URL CTIA id.
    Ref,
    List(Box<Kind>),
    Object(Vec<Field>),
    /// A map from string keys to numbers, such as incident `scores`.
    NumberMap,
    /// Any JSON value, for open structures that hp does not send.
    Any,
}

pub(crate) struct Field {
    name: &'static str,
    required: bool,
    kind: Kind,
}

fn req(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        required: true,
        kind,
    }
}

fn opt(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        required: false,
        kind,
    }
}

fn text(max_len: usize) -> Kind {
    Kind::Str {
        max_len: Some(max_len),
    }
}

fn string() -> Kind {
    Kind::Str { max_len: None }
}

fn list(kind: Kind) -> Kind {
    Kind::List(Box::new(kind))
}

static LONG_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^https?://[^/:]+(:\d+)?(/[^/]+)*/ctia/([a-z-]+)/([a-z-]+)-[0-9A-Za-z-]+$")
        .expect("valid id regex")
});

/// Returns true for a full-URL entity id such as `http://127.0.0.1:8080/ctia/incident/incident-<uuid>`.
pub(crate) fn is_long_id(value: &str) -> bool {
    LONG_ID.is_match(value)
}

pub(crate) fn is_transient_id(value: &str) -> bool {
    value.starts_with("transient:")
}

/// Validates `value` against `kind` and returns the error tree, or `None` when it is valid.
pub(crate) fn check(kind: &Kind, value: &Value) -> Option<Value> {
    match kind {
        Kind::Any => None,
        Kind::Str { max_len } => match value.as_str() {
            None => Some(expected("a string", value)),
            Some(s) => match max_len {
                Some(max) if s.chars().count() > *max => {
                    Some(Value::from(format!("invalid: longer than {max} characters")))
                }
                _ => None,
            },
        },
        Kind::Time => match value.as_str() {
            None => Some(expected("an ISO-8601 time string", value)),
            Some(s) if parse_time(s).is_none() => Some(Value::from(format!(
                "invalid: {s:?} is not an ISO-8601 time with a UTC offset, such as 2024-01-31T12:00:00.000Z"
            ))),
            Some(_) => None,
        },
        Kind::Int { min, max } => match value.as_i64() {
            Some(n) if n >= *min && n <= *max => None,
            _ => Some(expected(&format!("an integer from {min} to {max}"), value)),
        },
        Kind::Bool => match value.as_bool() {
            Some(_) => None,
            None => Some(expected("true or false", value)),
        },
        Kind::Literal(literal) => match value.as_str() {
            Some(s) if s == *literal => None,
            _ => Some(expected(&format!("{literal:?}"), value)),
        },
        Kind::Enum(allowed) => match value.as_str() {
            Some(s) if allowed.contains(&s) => None,
            _ if allowed.len() <= 30 => Some(Value::from(format!(
                "invalid: {value} is not one of {}",
                allowed.join(", ")
            ))),
            _ => Some(Value::from(format!("invalid: {value} is not an allowed value"))),
        },
        Kind::Ref => match value.as_str() {
            Some(s) if is_transient_id(s) || is_long_id(s) => None,
            _ => Some(expected("a transient: id or a full-URL entity id", value)),
        },
        Kind::List(item_kind) => match value.as_array() {
            None => Some(expected("a list", value)),
            Some(items) => {
                let errors: Vec<Value> = items
                    .iter()
                    .map(|item| check(item_kind, item).unwrap_or(Value::Null))
                    .collect();
                errors.iter().any(|e| !e.is_null()).then(|| Value::Array(errors))
            }
        },
        Kind::Object(fields) => match value.as_object() {
            None => Some(expected("an object", value)),
            Some(map) => check_object(fields, map),
        },
        Kind::NumberMap => match value.as_object() {
            None => Some(expected("an object of numbers", value)),
            Some(map) => {
                let mut errors = Map::new();
                for (key, item) in map {
                    if !item.is_number() {
                        errors.insert(key.clone(), expected("a number", item));
                    }
                }
                (!errors.is_empty()).then(|| Value::Object(errors))
            }
        },
    }
}

fn check_object(fields: &[Field], map: &Map<String, Value>) -> Option<Value> {
    let mut errors = Map::new();
    for field in fields {
        match map.get(field.name) {
            None if field.required => {
                errors.insert(field.name.to_string(), Value::from("missing-required-key"));
            }
            None => {}
            Some(item) => {
                if let Some(error) = check(&field.kind, item) {
                    errors.insert(field.name.to_string(), error);
                }
            }
        }
    }
    for key in map.keys() {
        if !fields.iter().any(|field| field.name == key) {
            errors.insert(key.clone(), Value::from("disallowed-key"));
        }
    }
    (!errors.is_empty()).then(|| Value::Object(errors))
}

fn expected(what: &str, got: &Value) -> Value {
    Value::from(format!("invalid: expected {what}, got {got}"))
}

/// Parses an ISO-8601 time that carries a UTC offset (`Z` or `+hh:mm`).
pub(crate) fn parse_time(s: &str) -> Option<jiff::Timestamp> {
    s.parse::<jiff::Timestamp>().ok()
}

fn observable() -> Kind {
    Kind::Object(vec![
        req("type", Kind::Enum(vocabulary::OBSERVABLE_TYPES)),
        req("value", string()),
    ])
}

fn observed_time() -> Kind {
    Kind::Object(vec![
        req("start_time", Kind::Time),
        opt("end_time", Kind::Time),
    ])
}

fn valid_time() -> Kind {
    Kind::Object(vec![
        opt("start_time", Kind::Time),
        opt("end_time", Kind::Time),
    ])
}

/// Fields that every New* entity accepts. `source` is required on judgements only.
fn base_fields(entity_type: &'static str, source_required: bool) -> Vec<Field> {
    let external_reference = Kind::Object(vec![
        req("source_name", string()),
        opt("description", string()),
        opt("url", string()),
        opt("hashes", list(string())),
        opt("external_id", string()),
    ]);
    let source = Field {
        name: "source",
        required: source_required,
        kind: text(2048),
    };
    vec![
        opt("id", string()),
        opt("type", Kind::Literal(entity_type)),
        // CTIA accepts any string here and then overwrites it with its own CTIM version.
        opt("schema_version", string()),
        opt("external_ids", list(string())),
        opt("external_references", list(external_reference)),
        opt("tlp", Kind::Enum(vocabulary::TLP)),
        opt("timestamp", Kind::Time),
        opt("language", string()),
        opt(
            "revision",
            Kind::Int {
                min: 0,
                max: i64::MAX,
            },
        ),
        source,
        opt("source_uri", string()),
        opt("title", text(1024)),
        opt("short_description", text(2048)),
        opt("description", text(5000)),
        opt("authorized_users", list(string())),
        opt("authorized_groups", list(string())),
    ]
}

fn with_base(entity_type: &'static str, source_required: bool, specific: Vec<Field>) -> Kind {
    let mut fields = base_fields(entity_type, source_required);
    fields.extend(specific);
    Kind::Object(fields)
}

// NOTE: each schema below lists the CTIM fields that hp and its tests use plus the common
// optional ones. Rarer CTIM fields are missing, so the stand-in rejects them as
// `disallowed-key` where CTIA would accept them.

fn new_incident() -> Kind {
    let incident_time = Kind::Object(vec![
        req("opened", Kind::Time),
        opt("discovered", Kind::Time),
        opt("reported", Kind::Time),
        opt("remediated", Kind::Time),
        opt("closed", Kind::Time),
        opt("rejected", Kind::Time),
        opt("contained", Kind::Time),
    ]);
    with_base(
        "incident",
        false,
        vec![
            req("confidence", Kind::Enum(vocabulary::CONFIDENCE)),
            req("status", Kind::Enum(vocabulary::INCIDENT_STATUS)),
            req("incident_time", incident_time),
            opt("severity", Kind::Enum(vocabulary::SEVERITY)),
            // The category and discovery-method vocabularies differ between CTIM versions,
            // so any string is accepted.
            opt("categories", list(string())),
            opt("discovery_method", string()),
            opt("promotion_method", Kind::Enum(&["Automated", "Manual"])),
            opt("intended_effect", string()),
            opt("assignees", list(string())),
            opt("detection_sources", list(string())),
            opt("tactics", list(string())),
            opt("techniques", list(string())),
            opt("scores", Kind::NumberMap),
            opt("meta", Kind::Any),
        ],
    )
}

fn new_sighting() -> Kind {
    let target = Kind::Object(vec![
        req("type", Kind::Enum(vocabulary::SENSOR)),
        req("observables", list(observable())),
        req("observed_time", observed_time()),
        opt("os", string()),
    ]);
    let relation = Kind::Object(vec![
        req("origin", string()),
        opt("origin_uri", string()),
        req("relation", Kind::Enum(vocabulary::OBSERVABLE_RELATIONS)),
        opt("relation_info", Kind::Any),
        req("source", observable()),
        req("related", observable()),
    ]);
    with_base(
        "sighting",
        false,
        vec![
            req("observed_time", observed_time()),
            opt("confidence", Kind::Enum(vocabulary::CONFIDENCE)),
            opt("severity", Kind::Enum(vocabulary::SEVERITY)),
            opt(
                "count",
                Kind::Int {
                    min: 0,
                    max: i64::MAX,
                },
            ),
            opt("sensor", Kind::Enum(vocabulary::SENSOR)),
            opt(
                "resolution",
                Kind::Enum(&["allowed", "blocked", "contained", "detected"]),
            ),
            opt("internal", Kind::Bool),
            opt("observables", list(observable())),
            opt("targets", list(target)),
            opt("relations", list(relation)),
            opt("data", Kind::Any),
            opt("context", Kind::Any),
        ],
    )
}

fn new_relationship() -> Kind {
    with_base(
        "relationship",
        false,
        vec![
            req(
                "relationship_type",
                Kind::Enum(vocabulary::RELATIONSHIP_TYPES),
            ),
            req("source_ref", Kind::Ref),
            req("target_ref", Kind::Ref),
        ],
    )
}

fn new_judgement() -> Kind {
    with_base(
        "judgement",
        true,
        vec![
            req("observable", observable()),
            req("priority", Kind::Int { min: 0, max: 100 }),
            req("confidence", Kind::Enum(vocabulary::CONFIDENCE)),
            req("severity", Kind::Enum(vocabulary::SEVERITY)),
            opt("disposition", Kind::Int { min: 1, max: 5 }),
            opt(
                "disposition_name",
                Kind::Enum(vocabulary::DISPOSITION_NAMES),
            ),
            opt("valid_time", valid_time()),
            opt("reason", text(1024)),
            opt("reason_uri", string()),
        ],
    )
}

fn new_indicator() -> Kind {
    with_base(
        "indicator",
        false,
        vec![
            req("producer", string()),
            opt(
                "indicator_type",
                list(Kind::Enum(vocabulary::INDICATOR_TYPES)),
            ),
            opt("valid_time", valid_time()),
            opt("severity", Kind::Enum(vocabulary::SEVERITY)),
            opt("confidence", Kind::Enum(vocabulary::CONFIDENCE)),
            opt("tags", list(string())),
            opt("negate", Kind::Bool),
            opt("likely_impact", string()),
            opt("kill_chain_phases", Kind::Any),
            opt("test_mechanisms", list(string())),
            opt("specification", Kind::Any),
            opt("composite_indicator_expression", Kind::Any),
        ],
    )
}

fn new_feed() -> Kind {
    with_base(
        "feed",
        false,
        vec![
            req("feed_type", Kind::Enum(&["indicator"])),
            req("output", Kind::Enum(&["observables", "judgements"])),
            opt("indicator_id", Kind::Ref),
            opt(
                "lifetime",
                Kind::Object(vec![
                    req("start_time", Kind::Time),
                    opt("end_time", Kind::Time),
                ]),
            ),
        ],
    )
}

/// Returns the New* schema for a singular entity type, or `None` for a type the stand-in lacks.
pub(crate) fn new_entity_schema(entity_type: &str) -> Option<Kind> {
    match entity_type {
        "incident" => Some(new_incident()),
        "sighting" => Some(new_sighting()),
        "relationship" => Some(new_relationship()),
        "judgement" => Some(new_judgement()),
        "indicator" => Some(new_indicator()),
        "feed" => Some(new_feed()),
        _ => None,
    }
}

/// Schema of a NewBundle. Feeds cannot travel in a bundle.
// NOTE: CTIA bundles also accept other entity lists (actors, tools, ...) and `*_refs` keys;
// the stand-in rejects them as `disallowed-key` because hp never sends them.
pub(crate) fn new_bundle_schema() -> Kind {
    Kind::Object(vec![
        opt("type", Kind::Literal("bundle")),
        opt("id", string()),
        opt("schema_version", string()),
        req("source", text(2048)),
        opt("source_uri", string()),
        opt("external_ids", list(string())),
        opt("tlp", Kind::Enum(vocabulary::TLP)),
        opt("timestamp", Kind::Time),
        opt("language", string()),
        opt(
            "revision",
            Kind::Int {
                min: 0,
                max: i64::MAX,
            },
        ),
        opt("title", text(1024)),
        opt("short_description", text(2048)),
        opt("description", text(5000)),
        opt("valid_time", valid_time()),
        opt("incidents", list(new_incident())),
        opt("sightings", list(new_sighting())),
        opt("relationships", list(new_relationship())),
        opt("judgements", list(new_judgement())),
        opt("indicators", list(new_indicator())),
    ])
}

/// Checks the rules that a schema cannot express: `valid_time` order for any entity, and
/// for a judgement whether `disposition` and `disposition_name` agree.
/// Returns the error tree for the entity, or `None`.
pub(crate) fn check_rules(entity: &Value) -> Option<Value> {
    let mut errors = Map::new();
    if let Some(valid_time) = entity.get("valid_time") {
        let start = valid_time
            .get("start_time")
            .and_then(Value::as_str)
            .and_then(parse_time);
        let end = valid_time
            .get("end_time")
            .and_then(Value::as_str)
            .and_then(parse_time);
        if let (Some(start), Some(end)) = (start, end) {
            if start > end {
                errors.insert(
                    "valid_time".into(),
                    Value::from("invalid: start_time is after end_time"),
                );
            }
        }
    }
    (!errors.is_empty()).then(|| Value::Object(errors))
}

/// Returns an error message when a judgement's `disposition` and `disposition_name` disagree.
pub(crate) fn disposition_mismatch(entity: &Value) -> Option<String> {
    let number = entity.get("disposition").and_then(Value::as_i64)?;
    let name = entity.get("disposition_name").and_then(Value::as_str)?;
    let expected_name = vocabulary::disposition_name(number)?;
    // The misspelt "dispositon_name" is CTIA's own message text.
    (expected_name != name).then(|| {
        format!(
            "Mismatched disposition and dispositon_name: {number} is {expected_name}, not {name}"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relationship_accepts_transient_and_long_ids() {
        let schema = new_relationship();
        let entity = json!({
            "relationship_type": "member-of",
            "source_ref": "transient:hpx-sighting-1",
            "target_ref": "http://127.0.0.1:9/ctia/incident/incident-0b1c2d3e-0000-4000-8000-000000000000"
        });
        assert_eq!(check(&schema, &entity), None);
    }

    #[test]
    fn relationship_rejects_short_ref() {
        let schema = new_relationship();
        let entity = json!({"relationship_type": "member-of", "source_ref": "sighting-1", "target_ref": "transient:x"});
        let errors = check(&schema, &entity).expect("short ref must fail");
        assert!(errors.get("source_ref").is_some(), "{errors}");
    }

    #[test]
    fn unknown_key_is_disallowed() {
        let entity = json!({"relationship_type": "member-of", "source_ref": "transient:a", "target_ref": "transient:b", "colour": 1});
        let errors = check(&new_relationship(), &entity).expect("unknown key must fail");
        assert_eq!(errors["colour"], "disallowed-key");
    }

    #[test]
    fn time_needs_offset() {
        assert!(parse_time("2024-01-31T12:00:00.000Z").is_some());
        assert!(parse_time("2024-01-31T12:00:00").is_none());
    }

    #[test]
    fn disposition_pair_must_match() {
        assert_eq!(
            disposition_mismatch(&json!({"disposition": 2, "disposition_name": "Malicious"})),
            None
        );
        assert!(
            disposition_mismatch(&json!({"disposition": 2, "disposition_name": "Clean"})).is_some()
        );
    }
}

//! In-memory store of entities, tokens, faults and the request log.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::vocabulary;
use crate::Config;

/// CTIM version that the stand-in writes into `schema_version`, as CTIA overwrites it.
pub(crate) const CTIM_VERSION: &str = "1.3.29";

/// End of the default validity window that CTIA gives judgements and indicators.
pub(crate) const END_OF_TIME: &str = "2525-01-01T00:00:00.000Z";

/// Default `X-Ratelimit-Org-Limit` when no budget is configured: the documented
/// per-organisation limit of requests per hour.
pub(crate) const DEFAULT_RATE_LIMIT: usize = 8000;

pub(crate) const OWNER_GROUP: &str = "xdr-standin-org";

/// A fault that hits the next `count` matching requests.
#[derive(Default, Clone, Debug)]
pub(crate) struct CountedFault {
    pub count: usize,
    pub retry_after_secs: u64,
}

/// Injected failures, armed through `POST /_standin/faults`.
#[derive(Default, Debug)]
pub(crate) struct Faults {
    pub status_429: CountedFault,
    pub status_500: CountedFault,
    pub status_403: CountedFault,
    pub garbage_body: CountedFault,
    pub force_401: CountedFault,
    /// External id whose entity gets an `error` result, and how many imports it still hits.
    pub entity_error: Option<(String, usize)>,
    /// Delay before processing bundle imports, and how many imports it still hits.
    pub stall_import: Option<(Duration, usize)>,
}

impl Faults {
    pub fn to_json(&self) -> Value {
        let counted = |fault: &CountedFault| json!({"count": fault.count, "retry_after": fault.retry_after_secs});
        json!({
            "status_429": counted(&self.status_429),
            "status_500": counted(&self.status_500),
            "status_403": counted(&self.status_403),
            "garbage_body": counted(&self.garbage_body),
            "force_401": counted(&self.force_401),
            "entity_error": self.entity_error.as_ref().map(|(xid, count)| json!({"external_id": xid, "count": count})),
            "stall_import_ms": self.stall_import.as_ref().map(|(delay, count)| json!({"ms": delay.as_millis() as u64, "count": count})),
        })
    }
}

pub(crate) struct State {
    pub config: Config,
    pub base_url: String,
    /// Live bearer tokens and when each expires.
    pub tokens: HashMap<String, Instant>,
    pub tokens_issued: usize,
    /// Stored entities by singular type, in creation order.
    pub entities: BTreeMap<String, Vec<Value>>,
    pub requests: Vec<Value>,
    pub faults: Faults,
    /// Requests counted against `config.rate_budget`.
    pub rate_used: usize,
}

impl State {
    pub fn new(config: Config, base_url: String) -> State {
        let mut entities = BTreeMap::new();
        for entity_type in vocabulary::ENTITY_TYPES {
            entities.insert(entity_type.to_string(), Vec::new());
        }
        State {
            config,
            base_url,
            tokens: HashMap::new(),
            tokens_issued: 0,
            entities,
            requests: Vec::new(),
            faults: Faults::default(),
            rate_used: 0,
        }
    }

    pub fn new_id(&self, entity_type: &str) -> String {
        format!(
            "{}/ctia/{entity_type}/{entity_type}-{}",
            self.base_url,
            uuid::Uuid::new_v4()
        )
    }

    pub fn list(&self, entity_type: &str) -> &[Value] {
        self.entities
            .get(entity_type)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Finds an entity by short id (`judgement-<uuid>`) or full-URL id. Only the last path
    /// segment counts, as in CTIA.
    pub fn find(&self, entity_type: &str, id: &str) -> Option<&Value> {
        let short = short_id(id);
        self.list(entity_type)
            .iter()
            .find(|entity| entity_short_id(entity) == Some(short))
    }

    pub fn find_mut(&mut self, entity_type: &str, id: &str) -> Option<&mut Value> {
        let short = short_id(id).to_string();
        self.entities
            .get_mut(entity_type)?
            .iter_mut()
            .find(|entity| entity_short_id(entity) == Some(short.as_str()))
    }

    /// Finds any stored entity by its full id, whatever its type.
    pub fn find_any(&self, id: &str) -> Option<&Value> {
        self.entities
            .values()
            .flatten()
            .find(|entity| entity.get("id").and_then(Value::as_str) == Some(id))
    }

    pub fn delete(&mut self, entity_type: &str, id: &str) -> bool {
        let short = short_id(id).to_string();
        let Some(list) = self.entities.get_mut(entity_type) else {
            return false;
        };
        let before = list.len();
        list.retain(|entity| entity_short_id(entity) != Some(short.as_str()));
        list.len() != before
    }

    /// Returns the id of the first stored entity of `entity_type` that carries any of
    /// `external_ids`, compared case-insensitively.
    pub fn find_by_external_ids(
        &self,
        entity_type: &str,
        external_ids: &[String],
    ) -> Option<String> {
        let wanted: Vec<String> = external_ids.iter().map(|xid| xid.to_lowercase()).collect();
        self.list(entity_type).iter().find_map(|entity| {
            let stored = entity.get("external_ids")?.as_array()?;
            let hit = stored
                .iter()
                .filter_map(Value::as_str)
                .any(|xid| wanted.contains(&xid.to_lowercase()));
            hit.then(|| entity.get("id").and_then(Value::as_str).map(str::to_string))
                .flatten()
        })
    }

    /// Adds the server-side fields that CTIA adds on create and stores the entity.
    /// Returns the stored entity. `entity` must already be valid.
    pub fn create(&mut self, entity_type: &str, mut entity: Map<String, Value>) -> Value {
        let id = self.new_id(entity_type);
        let now = now_string();
        entity.insert("id".into(), Value::from(id.clone()));
        entity.insert("type".into(), Value::from(entity_type));
        entity.insert("schema_version".into(), Value::from(CTIM_VERSION));
        entity.insert("created".into(), Value::from(now.clone()));
        entity.insert("modified".into(), Value::from(now.clone()));
        entity
            .entry("timestamp")
            .or_insert_with(|| Value::from(now.clone()));
        entity.insert("owner".into(), Value::from(self.config.client_id.clone()));
        entity.insert("groups".into(), json!([OWNER_GROUP]));
        entity.entry("tlp").or_insert_with(|| Value::from("green"));

        match entity_type {
            "sighting" => {
                entity.entry("count").or_insert_with(|| Value::from(1));
                entity
                    .entry("confidence")
                    .or_insert_with(|| Value::from("Unknown"));
            }
            "judgement" => {
                fill_valid_time(&mut entity, &now);
                fill_disposition(&mut entity);
            }
            "indicator" => fill_valid_time(&mut entity, &now),
            "feed" => {
                let secret = uuid::Uuid::new_v4().to_string();
                let short = short_id(&id).to_string();
                let view_url = format!("{}/ctia/feed/{short}/view.txt?s={secret}", self.base_url);
                entity.insert("secret".into(), Value::from(secret));
                entity.insert("feed_view_url".into(), Value::from(view_url));
            }
            _ => {}
        }

        let stored = Value::Object(entity);
        self.entities
            .entry(entity_type.to_string())
            .or_default()
            .push(stored.clone());
        stored
    }

    /// Stores an entity exactly as given, adding only a generated `id` and `type` when absent.
    pub fn seed(&mut self, entity_type: &str, mut entity: Map<String, Value>) -> Value {
        if !entity.contains_key("id") {
            entity.insert("id".into(), Value::from(self.new_id(entity_type)));
        }
        entity
            .entry("type")
            .or_insert_with(|| Value::from(entity_type));
        let stored = Value::Object(entity);
        self.entities
            .entry(entity_type.to_string())
            .or_default()
            .push(stored.clone());
        stored
    }

    /// True when `token` was issued by this server and has not expired.
    pub fn token_is_live(&self, token: &str) -> bool {
        self.tokens
            .get(token)
            .is_some_and(|expiry| Instant::now() < *expiry)
    }

    pub fn dump(&self) -> Value {
        let mut by_plural = Map::new();
        for (entity_type, list) in &self.entities {
            by_plural.insert(format!("{entity_type}s"), Value::Array(list.clone()));
        }
        Value::Object(by_plural)
    }
}

fn fill_valid_time(entity: &mut Map<String, Value>, now: &str) {
    let valid_time = entity.entry("valid_time").or_insert_with(|| json!({}));
    if let Some(valid_time) = valid_time.as_object_mut() {
        valid_time
            .entry("start_time")
            .or_insert_with(|| Value::from(now));
        valid_time
            .entry("end_time")
            .or_insert_with(|| Value::from(END_OF_TIME));
    }
}

fn fill_disposition(entity: &mut Map<String, Value>) {
    let number = entity.get("disposition").and_then(Value::as_i64);
    let name = entity
        .get("disposition_name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let (number, name) = match (number, name) {
        (Some(number), Some(name)) => (number, name),
        (Some(number), None) => (
            number,
            vocabulary::disposition_name(number)
                .unwrap_or("Unknown")
                .into(),
        ),
        (None, Some(name)) => (vocabulary::disposition_number(&name).unwrap_or(5), name),
        (None, None) => (5, "Unknown".into()),
    };
    entity.insert("disposition".into(), Value::from(number));
    entity.insert("disposition_name".into(), Value::from(name));
}

/// Last path segment of an id: `judgement-<uuid>` for both the short and the full-URL form.
pub(crate) fn short_id(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

fn entity_short_id(entity: &Value) -> Option<&str> {
    entity.get("id").and_then(Value::as_str).map(short_id)
}

/// Current UTC time with milliseconds, in the `2024-01-31T12:00:00.000Z` form that CTIA writes.
pub(crate) fn now_string() -> String {
    format_time(jiff::Timestamp::now())
}

pub(crate) fn format_time(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

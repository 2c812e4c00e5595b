//! CTIM entities as hp sends them, and the bundle import result.
//!
//! Only the fields hp fills are modelled. Names and values follow CTIM 1.3:
//! every entity has `type`, a transient `id`, one external id and `source`;
//! times are UTC with a `Z` suffix. Optional fields that hp leaves out are
//! skipped when serialising, because CTIA's schemas are closed and reject
//! `null` where a value is expected.

use std::net::IpAddr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Formats a time the way CTIM expects it: UTC, second precision, `Z`.
pub fn time(value: Timestamp) -> String {
    value.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An observable `{type, value}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observable {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

impl Observable {
    /// Builds an address observable: type `ip` for IPv4, `ipv6` for IPv6.
    pub fn address(ip: IpAddr) -> Observable {
        Observable {
            kind: observable_type(ip).to_string(),
            value: ip.to_string(),
        }
    }
}

/// Returns the CTIM observable type of an address.
pub fn observable_type(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "ip",
        IpAddr::V6(_) => "ipv6",
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ObservedTime {
    pub start_time: String,
    pub end_time: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ValidTime {
    pub start_time: String,
    pub end_time: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct IncidentTime {
    pub opened: String,
    pub discovered: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Incident {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub external_ids: Vec<String>,
    pub source: String,
    pub title: String,
    pub short_description: String,
    pub description: String,
    pub status: &'static str,
    pub confidence: &'static str,
    pub severity: &'static str,
    pub tlp: &'static str,
    pub incident_time: IncidentTime,
    pub categories: Vec<&'static str>,
    pub discovery_method: &'static str,
    pub promotion_method: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tactics: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<&'static str>,
}

/// A target of a sighting (CTIM IdentitySpecification).
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub observables: Vec<Observable>,
    pub observed_time: ObservedTime,
}

/// An observed relation inside a sighting (CTIM ObservedRelation).
#[derive(Clone, Debug, Serialize)]
pub struct Relation {
    pub origin: String,
    pub relation: &'static str,
    pub source: Observable,
    pub related: Observable,
}

#[derive(Clone, Debug, Serialize)]
pub struct Sighting {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub external_ids: Vec<String>,
    pub source: String,
    pub title: String,
    pub description: String,
    pub confidence: &'static str,
    pub severity: &'static str,
    pub tlp: &'static str,
    pub count: u64,
    pub sensor: &'static str,
    pub resolution: &'static str,
    pub internal: bool,
    pub observed_time: ObservedTime,
    pub observables: Vec<Observable>,
    pub targets: Vec<Target>,
    pub relations: Vec<Relation>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Judgement {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub external_ids: Vec<String>,
    pub source: String,
    pub observable: Observable,
    pub disposition: u8,
    pub disposition_name: &'static str,
    pub priority: u8,
    pub confidence: &'static str,
    pub severity: &'static str,
    pub tlp: &'static str,
    pub valid_time: ValidTime,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Relationship {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub external_ids: Vec<String>,
    pub source: String,
    pub relationship_type: &'static str,
    pub source_ref: String,
    pub target_ref: String,
}

/// A bundle as `POST .../bundle/import` takes it.
#[derive(Clone, Debug, Serialize)]
pub struct Bundle {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub source: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<Incident>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sightings: Vec<Sighting>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub judgements: Vec<Judgement>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relationships: Vec<Relationship>,
}

impl Bundle {
    pub fn entity_count(&self) -> usize {
        self.incidents.len()
            + self.sightings.len()
            + self.judgements.len()
            + self.relationships.len()
    }
}

/// The body of a bundle import response.
#[derive(Clone, Debug, Deserialize)]
pub struct ImportResponse {
    pub results: Vec<EntityResult>,
}

/// One entry of a bundle import response. `result` is `created`, `exists`,
/// `updated` (listed by the IROH proxy) or `error`; other values are kept
/// as they are and treated as errors.
#[derive(Clone, Debug, Deserialize)]
pub struct EntityResult {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub original_id: Option<String>,
    #[serde(default)]
    pub external_ids: Vec<String>,
    pub result: String,
    /// A string, or an object whose `type` names the error.
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    #[serde(default)]
    pub msg: Option<String>,
}

impl EntityResult {
    pub fn succeeded(&self) -> bool {
        matches!(self.result.as_str(), "created" | "exists" | "updated") && self.id.is_some()
    }

    /// Returns the error text of a failed entry, for messages.
    pub fn error_text(&self) -> String {
        let error = match &self.error {
            Some(serde_json::Value::String(text)) => text.clone(),
            Some(serde_json::Value::Object(map)) => match map.get("type") {
                Some(serde_json::Value::String(kind)) => kind.clone(),
                _ => serde_json::Value::Object(map.clone()).to_string(),
            },
            Some(other) => other.to_string(),
            None if self.id.is_none() && self.result != "error" => {
                "no id in the result".to_string()
            }
            None => "no error text".to_string(),
        };
        match &self.msg {
            Some(msg) => format!("{error} ({msg})"),
            None => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_types_follow_family() {
        assert_eq!(Observable::address("192.0.2.1".parse().unwrap()).kind, "ip");
        assert_eq!(
            Observable::address("2001:db8::5".parse().unwrap()).kind,
            "ipv6"
        );
    }

    #[test]
    fn time_is_utc_with_z() {
        let t: Timestamp = "2021-03-28T15:45:11.250+02:00".parse().unwrap();
        assert_eq!(time(t), "2021-03-28T13:45:11Z");
    }

    #[test]
    fn result_error_object_reduces_to_type() {
        let entry: EntityResult = serde_json::from_str(
            r#"{"type":"sighting","result":"error","error":{"type":"invalid-entity","x":1},"msg":"bad"}"#,
        )
        .unwrap();
        assert!(!entry.succeeded());
        assert_eq!(entry.error_text(), "invalid-entity (bad)");
    }
}

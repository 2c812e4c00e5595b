//! HTTP helpers shared by the integration tests. Every request goes to 127.0.0.1.

#![allow(dead_code)]

use serde_json::{json, Value};
use xdr_standin::{Config, StandIn};

pub const CLIENT_ID: &str = "hp-test-client";
pub const PASSWORD: &str = "hp-test-secret-password";

/// One response with its status, headers and body text.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("body is not JSON ({error}): {}", self.body))
    }
}

/// A test client bound to one stand-in, holding a bearer token once `login` has run.
pub struct Client {
    pub server: StandIn,
    pub base: String,
    agent: ureq::Agent,
    pub token: Option<String>,
}

impl Client {
    pub fn start(config: Config) -> Client {
        let server = StandIn::start(config).expect("stand-in starts");
        let base = server.base_url();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .new_agent();
        Client {
            server,
            base,
            agent,
            token: None,
        }
    }

    pub fn start_logged_in(config: Config) -> Client {
        let mut client = Client::start(config);
        client.login();
        client
    }

    /// Sends a request to `path`, which may carry a query string, with the bearer token when present.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        if body.is_some() {
            builder = builder.header("Content-Type", "application/json");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(body.unwrap_or("").as_bytes().to_vec())
            .expect("valid request");
        let mut response = self
            .agent
            .run(request)
            .expect("request reaches the stand-in");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    value.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, &[])
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, Some(&body.to_string()), &[])
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None, &[])
    }

    /// Requests a token with the given Basic credentials, without storing it.
    pub fn request_token(&self, client_id: &str, password: &str) -> Reply {
        use base64::Engine as _;
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{password}"));
        let builder = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("{}/iroh/oauth2/token", self.base))
            .header("Authorization", format!("Basic {credentials}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json");
        let request = builder
            .body(b"grant_type=client_credentials".to_vec())
            .expect("valid request");
        let mut response = self
            .agent
            .run(request)
            .expect("request reaches the stand-in");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    value.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn login(&mut self) {
        let reply = self.request_token(CLIENT_ID, PASSWORD);
        assert_eq!(reply.status, 200, "token request failed: {}", reply.body);
        self.token = Some(
            reply.json()["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
        );
    }

    pub fn import(&self, prefixes: &str, bundle: &Value) -> Reply {
        self.post_json(
            &format!("/ctia/bundle/import?external-key-prefixes={prefixes}"),
            bundle,
        )
    }

    /// Imports a bundle that must succeed, and returns its results list.
    pub fn import_ok(&self, bundle: &Value) -> Vec<Value> {
        let reply = self.import("hpx-", bundle);
        assert_eq!(reply.status, 200, "import failed: {}", reply.body);
        reply.json()["results"]
            .as_array()
            .expect("results list")
            .clone()
    }

    pub fn state(&self) -> Value {
        self.get("/_standin/state").json()
    }

    pub fn arm(&self, faults: Value) {
        let reply = self.post_json("/_standin/faults", &faults);
        assert_eq!(reply.status, 200, "arming faults failed: {}", reply.body);
    }
}

pub fn small_config() -> Config {
    Config {
        max_bundle_entities: 5,
        max_result_window: 20,
        ..Config::default()
    }
}

pub fn incident(xid: &str) -> Value {
    json!({
        "id": format!("transient:{xid}"),
        "external_ids": [xid],
        "title": "Brute force on the honeypot",
        "confidence": "High",
        "status": "New",
        "severity": "High",
        "incident_time": {"opened": "2024-01-31T12:00:00.000Z"},
        "source": "honeypot-xdr"
    })
}

pub fn sighting(xid: &str, attacker: &str) -> Value {
    json!({
        "id": format!("transient:{xid}"),
        "external_ids": [xid],
        "observed_time": {"start_time": "2024-01-31T12:00:00.000Z", "end_time": "2024-01-31T12:05:00.000Z"},
        "observables": [{"type": "ip", "value": attacker}, {"type": "ip", "value": "192.0.2.10"}],
        "targets": [{"type": "endpoint.server", "observables": [{"type": "ip", "value": "192.0.2.10"}],
                     "observed_time": {"start_time": "2024-01-31T12:00:00.000Z"}}],
        "relations": [{"origin": "hp", "relation": "Connected_To",
                       "source": {"type": "ip", "value": attacker}, "related": {"type": "ip", "value": "192.0.2.10"}}],
        "source": "honeypot-xdr"
    })
}

pub fn relationship(
    xid: &str,
    source_ref: &str,
    relationship_type: &str,
    target_ref: &str,
) -> Value {
    json!({
        "id": format!("transient:{xid}"),
        "external_ids": [xid],
        "source_ref": source_ref,
        "target_ref": target_ref,
        "relationship_type": relationship_type,
        "source": "honeypot-xdr"
    })
}

pub fn judgement(xid: &str, ip: &str) -> Value {
    json!({
        "id": format!("transient:{xid}"),
        "external_ids": [xid],
        "observable": {"type": "ip", "value": ip},
        "source": "honeypot-xdr",
        "priority": 90,
        "confidence": "High",
        "severity": "High",
        "disposition": 2,
        "disposition_name": "Malicious"
    })
}

pub fn bundle(lists: Value) -> Value {
    let mut bundle = json!({"type": "bundle", "source": "honeypot-xdr"});
    for (key, value) in lists.as_object().expect("object of lists") {
        bundle[key] = value.clone();
    }
    bundle
}

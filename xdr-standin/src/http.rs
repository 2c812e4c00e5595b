//! Plain request and reply values, so route code never touches the tiny_http types.

use serde_json::Value;

/// One request as the routes see it, with the body already read.
pub(crate) struct Incoming {
    pub method: String,
    /// Percent-encoded path without the query.
    pub path: String,
    /// Raw query string without the leading `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub from_loopback: bool,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Decoded query pairs, in order, with repeated keys kept.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }

    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// Path segments after percent-decoding each one.
    pub fn segments(&self) -> Vec<String> {
        self.path
            .trim_start_matches('/')
            .split('/')
            .map(percent_decode)
            .collect()
    }

    pub fn json_body(&self) -> Result<Value, Reply> {
        serde_json::from_slice(&self.body).map_err(|error| {
            Reply::json(
                400,
                &serde_json::json!({
                    "error": "invalid JSON body",
                    "message": format!("the request body is not valid JSON: {error}")
                }),
            )
        })
    }
}

pub(crate) fn percent_decode(segment: &str) -> String {
    // form_urlencoded also turns '+' into a space, which is wrong for paths, so protect it.
    let protected = segment.replace('+', "%2B");
    form_urlencoded::parse(format!("x={protected}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// A finished response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: &Value) -> Reply {
        Reply::raw(status, "application/json", body.to_string().into_bytes())
    }

    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply::raw(
            status,
            "text/plain; charset=utf-8",
            body.into().into_bytes(),
        )
    }

    pub fn raw(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Builds a JSON error reply of the form `{"error": ..., "message": ...}`.
    pub fn error(status: u16, error: &str, message: impl Into<String>) -> Reply {
        Reply::json(
            status,
            &serde_json::json!({"error": error, "message": message.into()}),
        )
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

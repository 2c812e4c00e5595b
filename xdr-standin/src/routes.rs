//! Request dispatch, the token endpoint, bearer checks, rate limit and fault injection.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::http::{Incoming, Reply};
use crate::state::{State, DEFAULT_RATE_LIMIT};
use crate::{control, ctia};

/// Route class, which decides which checks apply.
#[derive(PartialEq)]
enum Class {
    Token,
    Control,
    /// Feed views, whose only credential is the secret in the query.
    Public,
    Api,
}

fn classify(request: &Incoming) -> Class {
    let path = request.path.as_str();
    if path == "/iroh/oauth2/token" {
        Class::Token
    } else if path.starts_with("/_standin/") {
        Class::Control
    } else if path.starts_with("/ctia/feed/")
        && (path.ends_with("/view.txt") || path.ends_with("/view"))
    {
        Class::Public
    } else {
        Class::Api
    }
}

/// Handles one request and returns the reply with the rate-limit headers added.
pub(crate) fn handle(state: &Mutex<State>, request: &Incoming) -> Reply {
    let class = classify(request);
    if class == Class::Control {
        let limit = lock_config_limit(state);
        return control::handle(state, request)
            .with_header("X-Ratelimit-Org-Limit", limit.to_string());
    }

    let (reply, limit, remaining) = {
        let mut guard = state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let limit = guard.config.rate_budget.unwrap_or(DEFAULT_RATE_LIMIT);
        let reply = check_rate_budget(&mut guard)
            .or_else(|| {
                if class == Class::Token {
                    None
                } else {
                    injected_fault(&mut guard)
                }
            })
            .or_else(|| {
                if class == Class::Api {
                    check_bearer(&guard, request)
                } else {
                    None
                }
            });
        let remaining = limit.saturating_sub(guard.rate_used);
        (reply, limit, remaining)
    };

    let reply = match reply {
        Some(reply) => reply,
        None if class == Class::Token => issue_token(state, request),
        None => ctia::handle(state, request),
    };
    reply
        .with_header("X-Ratelimit-Org-Limit", limit.to_string())
        .with_header("X-Ratelimit-Org-Remaining", remaining.to_string())
}

fn lock_config_limit(state: &Mutex<State>) -> usize {
    let guard = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    guard.config.rate_budget.unwrap_or(DEFAULT_RATE_LIMIT)
}

/// Counts the request against the budget and returns a 429 once the budget is spent.
fn check_rate_budget(state: &mut State) -> Option<Reply> {
    let budget = state.config.rate_budget?;
    if state.rate_used >= budget {
        return Some(too_many_requests(60));
    }
    state.rate_used += 1;
    None
}

fn too_many_requests(retry_after_secs: u64) -> Reply {
    Reply::json(429, &json!({"error": "Too Many Requests"}))
        .with_header("Retry-After", retry_after_secs.to_string())
}

/// Returns the reply of the first armed fault and decrements that fault's count.
fn injected_fault(state: &mut State) -> Option<Reply> {
    let faults = &mut state.faults;
    if faults.status_429.count > 0 {
        faults.status_429.count -= 1;
        return Some(too_many_requests(faults.status_429.retry_after_secs));
    }
    if faults.status_500.count > 0 {
        faults.status_500.count -= 1;
        return Some(Reply::json(500, &json!({"type": "unknown-exception"})));
    }
    if faults.status_403.count > 0 {
        faults.status_403.count -= 1;
        return Some(Reply::json(
            403,
            &json!({"error": "missing_capability", "message": "Missing capability", "capabilities": ["private-intel"], "owner": state.config.client_id}),
        ));
    }
    if faults.force_401.count > 0 {
        faults.force_401.count -= 1;
        return Some(not_authenticated("Only authenticated users allowed"));
    }
    if faults.garbage_body.count > 0 {
        faults.garbage_body.count -= 1;
        return Some(Reply::raw(
            200,
            "application/json",
            b"<html><body>502 upstream hiccup: this is not JSON".to_vec(),
        ));
    }
    None
}

fn not_authenticated(message: &str) -> Reply {
    Reply::json(
        401,
        &json!({"error": "not_authenticated", "message": message}),
    )
}

/// Returns a 401 unless the request carries a live bearer token.
fn check_bearer(state: &State, request: &Incoming) -> Option<Reply> {
    let Some(header) = request.header("Authorization") else {
        return Some(not_authenticated("Only authenticated users allowed"));
    };
    let Some(token) = bearer_token(header) else {
        return Some(not_authenticated(
            "Only authenticated users allowed: the Authorization header is not a Bearer token",
        ));
    };
    if state.token_is_live(token) {
        None
    } else if state.tokens.contains_key(token) {
        Some(not_authenticated("the access token has expired"))
    } else {
        Some(not_authenticated("the access token is unknown"))
    }
}

fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Describes the Authorization header for the request log without the password:
/// `basic`, `bearer:<token>`, `none` or `other`.
pub(crate) fn describe_auth(request: &Incoming) -> String {
    match request.header("Authorization") {
        None => "none".into(),
        Some(header) => {
            if let Some(token) = bearer_token(header) {
                format!("bearer:{token}")
            } else if header
                .get(..6)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("basic "))
            {
                "basic".into()
            } else {
                "other".into()
            }
        }
    }
}

fn invalid_client(description: &str) -> Reply {
    Reply::json(
        400,
        &json!({"error": "invalid_client", "error_description": description}),
    )
}

/// `POST /iroh/oauth2/token`: the OAuth2 client-credentials grant.
fn issue_token(state: &Mutex<State>, request: &Incoming) -> Reply {
    if request.method != "POST" {
        return Reply::error(
            405,
            "method_not_allowed",
            "the token endpoint accepts POST only",
        );
    }
    let content_type = request.header("Content-Type").unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Reply::json(
            400,
            &json!({"error": "invalid_request", "error_description": format!("Content-Type must be application/x-www-form-urlencoded, got {content_type:?}")}),
        );
    }
    let grant_type = form_urlencoded::parse(&request.body)
        .find(|(key, _)| key == "grant_type")
        .map(|(_, value)| value.into_owned());
    if grant_type.as_deref() != Some("client_credentials") {
        return Reply::json(
            400,
            &json!({"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}),
        );
    }
    let Some((client_id, password)) = request.header("Authorization").and_then(basic_credentials)
    else {
        return invalid_client("missing or malformed HTTP Basic credentials");
    };

    let mut guard = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if client_id != guard.config.client_id || password != guard.config.client_password {
        return invalid_client("invalid client credentials");
    }
    let ttl = guard.config.token_ttl_secs;
    let token = make_token(ttl);
    guard
        .tokens
        .insert(token.clone(), Instant::now() + Duration::from_secs(ttl));
    guard.tokens_issued += 1;
    drop(guard);

    Reply::raw(
        200,
        "application/json",
        shuffled_token_body(&token, ttl).into_bytes(),
    )
}

fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, password) = decoded.split_once(':')?;
    Some((id.to_string(), password.to_string()))
}

/// Makes a random token shaped like a JWT (header.claims.signature) with `iat`, `nbf` and
/// `exp` claims. The signature is random bytes, so nothing can verify it.
fn make_token(ttl_secs: u64) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = jiff::Timestamp::now().as_second();
    let header = engine.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = json!({
        "iat": now, "nbf": now, "exp": now + ttl_secs as i64,
        "jti": uuid::Uuid::new_v4().to_string(), "iss": "xdr-standin",
    });
    let claims = engine.encode(claims.to_string());
    let mut signature = Vec::new();
    signature.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    signature.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("{header}.{claims}.{}", engine.encode(signature))
}

/// Writes the token response with its keys in a random order, so that a client that
/// splits the body as text instead of parsing JSON fails.
fn shuffled_token_body(token: &str, ttl_secs: u64) -> String {
    let mut members = [
        format!("\"access_token\":{}", Value::from(token)),
        "\"token_type\":\"bearer\"".to_string(),
        format!("\"expires_in\":{ttl_secs}"),
        "\"scope\":\"private-intel enrich:read inspect:read casebook\"".to_string(),
    ];
    let random = uuid::Uuid::new_v4();
    // Fisher-Yates shuffle driven by random bytes. Its small modulo bias does not matter here.
    for (i, byte) in (1..members.len()).rev().zip(random.as_bytes()) {
        let j = usize::from(*byte) % (i + 1);
        members.swap(i, j);
    }
    format!("{{{}}}", members.join(","))
}

//! The OAuth2 client-credentials access token.
//!
//! The token endpoint is `POST {iroh}/iroh/oauth2/token` with HTTP Basic
//! credentials and the form body `grant_type=client_credentials`. It returns
//! JSON: `{"access_token", "token_type": "bearer", "expires_in": 600, "scope"}`.
//! The body is parsed as JSON (never by splitting strings), and the token is
//! renewed before `expires_in` runs out. hp keeps the token in memory only
//! and never writes it to disk.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::secret::Secret;

/// Path of the token endpoint on the IROH host.
pub const TOKEN_PATH: &str = "/iroh/oauth2/token";

/// Lifetime assumed when the response has no `expires_in`: the 600 s that
/// Cisco's documentation gives.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(600);

/// A live access token.
#[derive(Debug)]
pub struct Token {
    value: Secret,
    renew_at: Instant,
}

impl Token {
    /// Builds a token that counts as stale a margin before it expires: a
    /// quarter of its lifetime, at most 60 s, so a request sent just before
    /// the renewal still arrives while the token is valid.
    pub fn new(value: Secret, lifetime: Duration, received: Instant) -> Token {
        let margin = (lifetime / 4).min(Duration::from_secs(60));
        Token {
            value,
            renew_at: received + lifetime - margin,
        }
    }

    pub fn value(&self) -> &Secret {
        &self.value
    }

    /// Returns whether the token should be renewed before the next request.
    pub fn is_stale(&self, now: Instant) -> bool {
        now >= self.renew_at
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<f64>,
}

#[derive(Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
}

/// Parses a 200 response of the token endpoint into the token and its
/// lifetime. The error string never contains the body, which may hold a
/// token.
pub fn parse_success(body: &str) -> Result<(Secret, Duration), String> {
    let response: TokenResponse = serde_json::from_str(body)
        .map_err(|err| format!("the token response is not JSON ({err})"))?;

    let Some(access_token) = response.access_token.filter(|t| !t.is_empty()) else {
        return Err("the token response has no access_token".to_string());
    };
    if let Some(kind) = &response.token_type
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(format!("the token type is '{kind}', expected 'bearer'"));
    }

    let lifetime = match response.expires_in {
        Some(seconds) if seconds.is_finite() && seconds >= 1.0 => {
            Duration::from_secs_f64(seconds.min(86_400.0))
        }
        Some(seconds) => {
            return Err(format!(
                "expires_in {seconds} is not a positive number of seconds"
            ));
        }
        None => DEFAULT_LIFETIME,
    };
    Ok((Secret::new(access_token), lifetime))
}

/// Describes an error response of the token endpoint from its OAuth2
/// `error` and `error_description` fields.
pub fn describe_error(body: &str) -> String {
    match serde_json::from_str::<TokenError>(body) {
        Ok(TokenError {
            error: Some(error),
            error_description,
        }) => match error_description {
            Some(description) => format!("{error}: {description}"),
            None => error,
        },
        _ => "no OAuth2 error in the response".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_key_order() {
        let body = r#"{"scope":"private-intel","expires_in":600,"token_type":"bearer","access_token":"eyJ.abc.def"}"#;
        let (token, lifetime) = parse_success(body).unwrap();
        assert_eq!(token.expose(), "eyJ.abc.def");
        assert_eq!(lifetime, Duration::from_secs(600));
    }

    #[test]
    fn rejects_error_and_garbage_bodies() {
        assert!(parse_success(r#"{"error":"invalid_client"}"#).is_err());
        assert!(parse_success("<html>oops</html>").is_err());
        assert!(parse_success(r#"{"access_token":"x","token_type":"mac"}"#).is_err());
        assert!(parse_success(r#"{"access_token":"x","expires_in":-5}"#).is_err());
    }

    #[test]
    fn error_text_names_oauth_error() {
        let body = r#"{"error":"invalid_client","error_description":"bad secret"}"#;
        assert_eq!(describe_error(body), "invalid_client: bad secret");
        assert_eq!(describe_error("nope"), "no OAuth2 error in the response");
    }

    #[test]
    fn renews_before_expiry() {
        let start = Instant::now();
        let token = Token::new(Secret::new("t"), Duration::from_secs(600), start);
        assert!(!token.is_stale(start + Duration::from_secs(539)));
        assert!(token.is_stale(start + Duration::from_secs(540)));

        let short = Token::new(Secret::new("t"), Duration::from_secs(4), start);
        assert!(!short.is_stale(start + Duration::from_secs(2)));
        assert!(short.is_stale(start + Duration::from_secs(3)));
    }
}

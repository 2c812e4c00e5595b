//! The HTTP client for XDR: timeouts, bounded retries, the token, and the
//! rule that the token goes only to the configured hosts.
//!
//! Every request goes through [`Client::execute`], which:
//!
//! 1. refuses a URL whose scheme, host and port are not those of the
//!    configured IROH or CTIA base URL, so the bearer token cannot leak to a
//!    host named in an entity id;
//! 2. fetches a token when there is none or it is about to expire;
//! 3. on 401 drops the token, fetches one new token and repeats the request
//!    once; a second 401 is an error;
//! 4. on 429 waits for `Retry-After` (seconds, at most `max_retry_after`),
//!    and on 5xx, network errors, timeouts or an unreadable 2xx body waits
//!    with exponential backoff and jitter, up to `retries` more attempts.
//!
//! Every request hp sends may be repeated safely: GET, DELETE, and bundle
//! imports whose entities carry external ids. Redirects are not followed.
//! Text from responses is cut to a few hundred characters and has the
//! password and every token removed before it reaches a message.

use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;

use super::config::{BaseUrl, Credentials, Settings};
use super::ctim::{Bundle, ImportResponse};
use super::error::{Error, Result};
use super::secret::{self, Secret};
use super::token::{self, Token};

/// Path of the bundle import on the IROH host.
pub const IROH_IMPORT_PATH: &str = "/iroh/private-intel/bundle/import";

/// Upper bound on the size of a response body that hp reads.
const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;
/// Maximum backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Maximum length, in characters, of a response excerpt in a message.
const EXCERPT_CHARS: usize = 300;

/// Timeouts and retry limits.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Limit for one HTTP exchange, connection to last body byte.
    pub timeout: Duration,
    /// Additional attempts after the first one fails with a retryable error.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further retry.
    pub backoff: Duration,
    /// Maximum `Retry-After` that hp waits for; a longer one fails the
    /// request at once.
    pub max_retry_after: Duration,
    /// Print a line on stderr for each retry.
    pub log_retries: bool,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            timeout: Duration::from_secs(60),
            retries: 4,
            backoff: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(300),
            log_retries: true,
        }
    }
}

/// The HTTP methods hp uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

/// A response reduced to what hp reads.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
    /// `X-Next` of a search page: the query string of the next page.
    pub next: Option<String>,
}

/// Counters that tests and the end-of-run summary read.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub token_requests: u32,
    pub retries: u32,
}

pub struct Client {
    agent: ureq::Agent,
    iroh: BaseUrl,
    ctia: BaseUrl,
    credentials: Credentials,
    token: Option<Token>,
    /// Every token received, so none of them can appear in a message.
    seen_tokens: Vec<Secret>,
    options: ClientOptions,
    pub stats: Stats,
}

/// The outcome of one attempt.
enum Attempt {
    Done(Response),
    Retry {
        detail: String,
        wait: Option<Duration>,
    },
}

impl Client {
    pub fn new(settings: &Settings, options: ClientOptions) -> Result<Client> {
        let credentials = settings.require_credentials()?.clone();
        // A proxy from the environment is used for the real XDR hosts, but
        // never for plain http to loopback: the proxy would see the token.
        let plain_http = !settings.iroh.is_https() || !settings.ctia.is_https();
        let mut builder = ureq::Agent::config_builder();
        if plain_http {
            builder = builder.proxy(None);
        }
        let agent = builder
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(options.timeout))
            .user_agent(concat!("hp-xdr/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();

        Ok(Client {
            agent,
            iroh: settings.iroh.clone(),
            ctia: settings.ctia.clone(),
            credentials,
            token: None,
            seen_tokens: Vec::new(),
            options,
            stats: Stats::default(),
        })
    }

    pub fn iroh(&self) -> &BaseUrl {
        &self.iroh
    }

    pub fn ctia(&self) -> &BaseUrl {
        &self.ctia
    }

    /// Imports a bundle through the IROH proxy. `prefix` is the external-id
    /// prefix; only external ids that start with `<prefix>-` are matched
    /// against existing entities.
    pub fn import_bundle(&mut self, bundle: &Bundle, prefix: &str) -> Result<ImportResponse> {
        let url = format!(
            "{}{IROH_IMPORT_PATH}?external-key-prefixes={}",
            self.iroh.as_string(),
            encode_component(&format!("{prefix}-"))
        );
        let body = serde_json::to_vec(bundle).expect("a bundle always serialises");
        let what = format!("bundle import to {}", self.iroh.as_string());

        let response = self.execute(Method::Post, &url, Some(&body), &what, true)?;
        if response.status == 400 && response.body.contains("max nb of entities") {
            return Err(Error::Rejected {
                what,
                status: 400,
                detail: format!(
                    "{}; lower --max-entities (this bundle has {} entities)",
                    self.excerpt(&response.body),
                    bundle.entity_count()
                ),
            });
        }
        if response.status != 200 {
            return Err(self.rejected(&what, &response));
        }
        serde_json::from_str(&response.body).map_err(|err| Error::BadResponse {
            what,
            detail: format!("the body is not an import result ({err})"),
        })
    }

    /// Returns every entity of a CTIA search, following `X-Next` page by
    /// page until it is absent. `filters` are field filters such as
    /// `("source", "hp-honeypot")`; `page_size` is the `limit` of a page.
    pub fn search_all(
        &mut self,
        entity_type: &str,
        filters: &[(&str, &str)],
        page_size: usize,
    ) -> Result<Vec<serde_json::Value>> {
        let base = format!("{}/ctia/{entity_type}/search", self.ctia.as_string());
        let filter_query: Vec<String> = filters
            .iter()
            .map(|(key, value)| format!("{}={}", encode_component(key), encode_component(value)))
            .collect();
        let filter_query = filter_query.join("&");
        let join = |rest: &str| -> String {
            match (filter_query.is_empty(), rest.is_empty()) {
                (true, _) => format!("{base}?{rest}"),
                (false, true) => format!("{base}?{filter_query}"),
                (false, false) => format!("{base}?{filter_query}&{rest}"),
            }
        };

        let what = format!("{entity_type} search on {}", self.ctia.as_string());
        let mut url = join(&format!("limit={page_size}"));
        let mut entities = Vec::new();
        let mut previous_next: Option<String> = None;

        loop {
            let response = self.execute(Method::Get, &url, None, &what, true)?;
            if response.status != 200 {
                return Err(self.rejected(&what, &response));
            }
            let page: Vec<serde_json::Value> =
                serde_json::from_str(&response.body).map_err(|err| Error::BadResponse {
                    what: what.clone(),
                    detail: format!("the body is not a JSON array ({err})"),
                })?;
            let page_len = page.len();
            entities.extend(page);

            let Some(next) = response.next.filter(|next| !next.trim().is_empty()) else {
                break;
            };
            if previous_next.as_deref() == Some(next.as_str()) || page_len == 0 {
                return Err(Error::BadResponse {
                    what,
                    detail: format!("X-Next '{next}' does not advance; stopped paging"),
                });
            }
            url = join(&next);
            previous_next = Some(next);
        }
        Ok(entities)
    }

    /// Deletes one CTIA entity by its full id. Returns `true` when it was
    /// deleted and `false` when it was already gone (404). The id must be on
    /// the CTIA host; the request goes to `{ctia}/ctia/<type>/<short id>`.
    pub fn delete(&mut self, entity_type: &str, id: &str) -> Result<bool> {
        let short_id = short_id(&self.ctia, entity_type, id)?;
        let url = format!("{}/ctia/{entity_type}/{short_id}", self.ctia.as_string());
        let what = format!("delete of {id}");

        let response = self.execute(Method::Delete, &url, None, &what, false)?;
        match response.status {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(self.rejected(&what, &response)),
        }
    }

    /// Sends a request with the bearer token, with the refresh and retry
    /// rules of the module documentation. With `expect_json`, a 2xx body
    /// that is not JSON counts as a retryable failure.
    pub fn execute(
        &mut self,
        method: Method,
        url: &str,
        body: Option<&[u8]>,
        what: &str,
        expect_json: bool,
    ) -> Result<Response> {
        self.check_host(url)?;

        let mut refreshed_after_401 = false;
        let mut failures = 0;
        loop {
            let token = self.token()?;
            let attempt = self.attempt(method, url, body, Some(&token), expect_json);

            match attempt {
                Attempt::Done(response) if response.status == 401 && !refreshed_after_401 => {
                    self.log(&format!(
                        "{what}: HTTP 401, fetching a new token and trying once more"
                    ));
                    self.token = None;
                    refreshed_after_401 = true;
                }
                Attempt::Done(response) if response.status == 401 => {
                    return Err(Error::Rejected {
                        what: what.to_string(),
                        status: 401,
                        detail: "still unauthorised with a new token; check the API client's scopes (private-intel)".to_string(),
                    });
                }
                Attempt::Done(response) => return Ok(response),
                Attempt::Retry { detail, wait } => {
                    failures += 1;
                    if failures > self.options.retries {
                        return Err(Error::Unreachable {
                            what: what.to_string(),
                            attempts: failures,
                            detail,
                        });
                    }
                    self.wait_before_retry(what, &detail, wait, failures)?;
                }
            }
        }
    }

    /// Returns the current token, fetching a new one when needed.
    fn token(&mut self) -> Result<Secret> {
        if let Some(token) = &self.token
            && !token.is_stale(Instant::now())
        {
            return Ok(token.value().clone());
        }

        let (value, lifetime) = self.fetch_token()?;
        self.seen_tokens.push(value.clone());
        self.token = Some(Token::new(value.clone(), lifetime, Instant::now()));
        Ok(value)
    }

    fn fetch_token(&mut self) -> Result<(Secret, Duration)> {
        let url = format!("{}{}", self.iroh.as_string(), token::TOKEN_PATH);
        let what = format!("token request to {}", self.iroh.as_string());
        let mut failures = 0;

        loop {
            self.stats.token_requests += 1;
            match self.attempt(Method::Post, &url, None, None, true) {
                Attempt::Done(response) if response.status == 200 => {
                    return token::parse_success(&response.body)
                        .map_err(|detail| Error::BadResponse { what, detail });
                }
                Attempt::Done(response) => {
                    let detail = self.clean_text(&token::describe_error(&response.body));
                    return Err(Error::Auth {
                        status: response.status,
                        detail,
                    });
                }
                Attempt::Retry { detail, wait } => {
                    failures += 1;
                    if failures > self.options.retries {
                        return Err(Error::Unreachable {
                            what,
                            attempts: failures,
                            detail,
                        });
                    }
                    self.wait_before_retry(&what, &detail, wait, failures)?;
                }
            }
        }
    }

    /// Sends one request. `bearer` is `None` only for the token request,
    /// which carries the Basic credentials and the form body instead.
    fn attempt(
        &mut self,
        method: Method,
        url: &str,
        body: Option<&[u8]>,
        bearer: Option<&Secret>,
        expect_json: bool,
    ) -> Attempt {
        let result = match bearer {
            None => {
                let basic = format!(
                    "{}:{}",
                    self.credentials.client_id,
                    self.credentials.password.expose()
                );
                let basic = base64::engine::general_purpose::STANDARD.encode(basic);
                self.agent
                    .post(url)
                    .header("Authorization", format!("Basic {basic}"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Accept", "application/json")
                    .send("grant_type=client_credentials")
            }
            Some(token) => {
                let authorization = format!("Bearer {}", token.expose());
                match method {
                    Method::Get => self
                        .agent
                        .get(url)
                        .header("Authorization", authorization)
                        .header("Accept", "application/json")
                        .call(),
                    Method::Delete => self
                        .agent
                        .delete(url)
                        .header("Authorization", authorization)
                        .header("Accept", "application/json")
                        .call(),
                    Method::Post => self
                        .agent
                        .post(url)
                        .header("Authorization", authorization)
                        .header("Accept", "application/json")
                        .header("Content-Type", "application/json")
                        .send(body.unwrap_or_default()),
                }
            }
        };

        let mut response = match result {
            Ok(response) => response,
            Err(err) => {
                return Attempt::Retry {
                    detail: self.clean_text(&format!("network error: {err}")),
                    wait: None,
                };
            }
        };

        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let next = header("x-next");
        let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());

        let body = match response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .lossy_utf8(true)
            .read_to_string()
        {
            Ok(body) => body,
            Err(err) => {
                return Attempt::Retry {
                    detail: self
                        .clean_text(&format!("HTTP {status}, reading the body failed: {err}")),
                    wait: None,
                };
            }
        };

        if status == 429 {
            return Attempt::Retry {
                detail: format!(
                    "HTTP 429 Too Many Requests (Retry-After {})",
                    retry_after.map_or("absent".to_string(), |s| format!("{s} s"))
                ),
                wait: Some(Duration::from_secs(retry_after.unwrap_or(0))),
            };
        }
        if status >= 500 {
            return Attempt::Retry {
                detail: format!("HTTP {status}: {}", self.excerpt(&body)),
                wait: None,
            };
        }
        if expect_json
            && (200..300).contains(&status)
            && serde_json::from_str::<serde_json::Value>(&body).is_err()
        {
            return Attempt::Retry {
                detail: format!(
                    "HTTP {status} with a body that is not JSON: {}",
                    self.excerpt(&body)
                ),
                wait: None,
            };
        }

        Attempt::Done(Response { status, body, next })
    }

    /// Sleeps before retry number `failures` (1-based). A server-given
    /// wait (429 Retry-After) is used as is, unless it exceeds
    /// `max_retry_after`, which fails at once.
    fn wait_before_retry(
        &mut self,
        what: &str,
        detail: &str,
        server_wait: Option<Duration>,
        failures: u32,
    ) -> Result<()> {
        let wait = match server_wait {
            Some(wait) if wait > self.options.max_retry_after => {
                return Err(Error::Unreachable {
                    what: what.to_string(),
                    attempts: failures,
                    detail: format!(
                        "{detail}; the server asks to wait longer than {} s",
                        self.options.max_retry_after.as_secs()
                    ),
                });
            }
            Some(wait) if wait > Duration::ZERO => wait,
            _ => backoff(self.options.backoff, failures),
        };

        self.stats.retries += 1;
        self.log(&format!(
            "{what}: {detail}; retry {failures} of {} in {:.1} s",
            self.options.retries,
            wait.as_secs_f64()
        ));
        std::thread::sleep(wait);
        Ok(())
    }

    fn check_host(&self, url: &str) -> Result<()> {
        if self.iroh.owns(url) || self.ctia.owns(url) {
            Ok(())
        } else {
            Err(Error::ForeignHost {
                url: url.to_string(),
                expected: format!("{} or {}", self.iroh.as_string(), self.ctia.as_string()),
            })
        }
    }

    fn rejected(&self, what: &str, response: &Response) -> Error {
        Error::Rejected {
            what: what.to_string(),
            status: response.status,
            detail: self.excerpt(&response.body),
        }
    }

    /// Cuts a body to a message-sized excerpt and removes secrets from it.
    fn excerpt(&self, body: &str) -> String {
        let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut excerpt: String = flat.chars().take(EXCERPT_CHARS).collect();
        if flat.chars().count() > EXCERPT_CHARS {
            excerpt.push_str("...");
        }
        if excerpt.is_empty() {
            excerpt = "(empty body)".to_string();
        }
        self.clean_text(&excerpt)
    }

    fn clean_text(&self, text: &str) -> String {
        let mut secrets: Vec<&Secret> = vec![&self.credentials.password];
        secrets.extend(self.seen_tokens.iter());
        secret::redact(text, &secrets)
    }

    fn log(&self, message: &str) {
        if self.options.log_retries {
            eprintln!("hp-xdr: {message}");
        }
    }
}

/// Returns the backoff before retry number `failures`: `base * 2^(failures-1)`,
/// at most [`MAX_BACKOFF`], scaled by a jitter factor between 0.5 and 1 so
/// that several cron jobs do not retry in step.
fn backoff(base: Duration, failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    let full = base.saturating_mul(1 << exponent).min(MAX_BACKOFF);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = 0.5 + f64::from(nanos % 1000) / 2000.0;
    full.mul_f64(jitter)
}

/// Returns the short id (`<type>-<uuid>`) of a full CTIA entity id after
/// checking that the id is on the CTIA host and has the expected type.
pub fn short_id(ctia: &BaseUrl, entity_type: &str, id: &str) -> Result<String> {
    if !ctia.owns(id) {
        return Err(Error::ForeignHost {
            url: id.to_string(),
            expected: ctia.as_string(),
        });
    }

    let path = id.split_once("://").map_or("", |(_, rest)| rest);
    let path = path.find('/').map_or("", |start| &path[start..]);
    let expected_dir = format!("/ctia/{entity_type}/");
    let Some(short) = path.strip_prefix(&expected_dir) else {
        return Err(Error::BadResponse {
            what: format!("{entity_type} id"),
            detail: format!(
                "'{id}' is not a {entity_type} id of the form {}{expected_dir}{entity_type}-<uuid>",
                ctia.as_string()
            ),
        });
    };

    let valid = short.starts_with(&format!("{entity_type}-"))
        && short.len() <= 200
        && short
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(Error::BadResponse {
            what: format!("{entity_type} id"),
            detail: format!("'{id}' does not end in a short id {entity_type}-<uuid>"),
        });
    }
    Ok(short.to_string())
}

/// Percent-encodes a query-string component (RFC 3986 unreserved characters
/// stay as they are).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctia() -> BaseUrl {
        BaseUrl::parse("https://private.intel.eu.amp.cisco.com", "test", false).unwrap()
    }

    #[test]
    fn short_id_accepts_own_host() {
        let id = "https://private.intel.eu.amp.cisco.com:443/ctia/incident/incident-0b1c2d3e-aaaa";
        assert_eq!(
            short_id(&ctia(), "incident", id).unwrap(),
            "incident-0b1c2d3e-aaaa"
        );
    }

    #[test]
    fn short_id_refuses_foreign_host() {
        let err = short_id(
            &ctia(),
            "incident",
            "https://attacker.example/ctia/incident/incident-1",
        )
        .unwrap_err();
        assert!(matches!(err, Error::ForeignHost { .. }), "{err}");
        assert!(err.to_string().contains("attacker.example"));
    }

    #[test]
    fn short_id_refuses_odd_paths() {
        let base = "https://private.intel.eu.amp.cisco.com";
        for id in [
            format!("{base}/ctia/sighting/sighting-1"),
            format!("{base}/ctia/incident/../judgement/judgement-1"),
            format!("{base}/ctia/incident/incident-1?x=y"),
            format!("{base}/other/incident/incident-1"),
        ] {
            assert!(short_id(&ctia(), "incident", &id).is_err(), "{id}");
        }
    }

    #[test]
    fn encode_component_escapes_reserved() {
        assert_eq!(encode_component("hp-"), "hp-");
        assert_eq!(encode_component("title:a b&c"), "title%3Aa%20b%26c");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(2);
        assert!(backoff(base, 1) >= Duration::from_secs(1));
        assert!(backoff(base, 1) <= base);
        assert!(backoff(base, 3) >= Duration::from_secs(4));
        assert!(backoff(base, 3) <= Duration::from_secs(8));
        assert!(backoff(base, 30) <= MAX_BACKOFF);
    }
}

//! A local stand-in for the Cisco XDR private-intel API, for tests and demos.
//!
//! One plain-HTTP server on 127.0.0.1 plays both XDR hosts: the IROH host (`/iroh/oauth2/token`,
//! `/iroh/private-intel/bundle/import`, `/iroh/private-intel/bulk`) and the CTIA host
//! (`/ctia/...`). It checks OAuth2 client credentials and bearer tokens, validates CTIM bodies
//! strictly, deduplicates bundle imports by external id, pages searches as CTIA does, and serves
//! feed views. Control routes under `/_standin/` inject faults, seed data and expose the stored
//! entities and the request log to tests.
//!
//! ```no_run
//! let server = xdr_standin::StandIn::start(xdr_standin::Config::default()).unwrap();
//! println!("{}", server.base_url());
//! server.stop();
//! ```

mod control;
mod ctia;
mod http;
mod routes;
mod schema;
mod search;
mod state;
mod vocabulary;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

use crate::http::{Incoming, Reply};
use crate::state::State;

/// Server settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// OAuth2 client id that the token endpoint accepts.
    pub client_id: String,
    /// OAuth2 client password that the token endpoint accepts.
    pub client_password: String,
    /// Lifetime of issued bearer tokens, in seconds.
    pub token_ttl_secs: u64,
    /// Maximum number of entities in one bundle import or bulk delete.
    pub max_bundle_entities: usize,
    /// Maximum `offset + limit` for offset paging, like Elasticsearch's `max_result_window`.
    pub max_result_window: usize,
    /// Number of requests the server handles before it returns 429. `None` means no limit.
    /// Every request except control routes counts, the token route included.
    pub rate_budget: Option<usize>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            client_id: "hp-test-client".to_string(),
            client_password: "hp-test-secret-password".to_string(),
            token_ttl_secs: 600,
            max_bundle_entities: 2000,
            max_result_window: 10000,
            rate_budget: None,
        }
    }
}

/// A running stand-in server. Dropping it stops the server.
pub struct StandIn {
    base_url: String,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StandIn {
    /// Binds 127.0.0.1 on a free port and serves on a background thread.
    pub fn start(config: Config) -> std::io::Result<StandIn> {
        StandIn::start_on(config, 0, false)
    }

    /// Like [`StandIn::start`] with a chosen port (0 picks a free one), optionally logging one
    /// line per request (method, path, status) to stderr.
    pub fn start_on(config: Config, port: u16, log_requests: bool) -> std::io::Result<StandIn> {
        let server = tiny_http::Server::http(("127.0.0.1", port)).map_err(|error| {
            std::io::Error::other(format!("failed to bind 127.0.0.1:{port}: {error}"))
        })?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|address| address.port())
            .ok_or_else(|| std::io::Error::other("the server is not bound to an IP address"))?;
        let base_url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State::new(config, base_url.clone())));
        let server = Arc::new(server);
        let stopping = Arc::new(AtomicBool::new(false));

        let thread = {
            let (server, state, stopping) = (server.clone(), state.clone(), stopping.clone());
            std::thread::Builder::new()
                .name("xdr-standin".into())
                .spawn(move || accept_loop(&server, &state, &stopping, log_requests))?
        };
        Ok(StandIn {
            base_url,
            state,
            server,
            stopping,
            thread: Some(thread),
        })
    }

    /// Base URL such as `http://127.0.0.1:41234`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// Creates the blocking-feed fixtures, as `POST /_standin/seed-feeds` does, and returns
    /// their ids: `{"ipv4": {"indicator_id", "feed_id", "feed_view_url"}, "ipv6": {...}}`.
    pub fn seed_feeds(&self) -> Value {
        let mut guard = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        control::seed_feeds(&mut guard)
    }

    /// Stops accepting requests and waits for the accept loop to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(
    server: &Arc<tiny_http::Server>,
    state: &Arc<Mutex<State>>,
    stopping: &AtomicBool,
    log_requests: bool,
) {
    while !stopping.load(Ordering::SeqCst) {
        let request = match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(error) => {
                eprintln!("xdr-standin: failed to accept a request: {error}");
                continue;
            }
        };
        let state = state.clone();
        // One thread per request, so a stalled import does not block other clients.
        let spawned = std::thread::Builder::new()
            .name("xdr-standin-request".into())
            .spawn(move || serve(request, &state, log_requests));
        if let Err(error) = spawned {
            eprintln!("xdr-standin: failed to start a request thread: {error}");
        }
    }
}

fn serve(mut request: tiny_http::Request, state: &Mutex<State>, log_requests: bool) {
    let url = request.url().to_string();
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path.to_string(), query.to_string()),
        None => (url, String::new()),
    };
    let mut body = Vec::new();
    let read = request.as_reader().read_to_end(&mut body);
    let incoming = Incoming {
        method: request.method().as_str().to_ascii_uppercase(),
        path,
        query,
        headers: request
            .headers()
            .iter()
            .map(|header| {
                (
                    header.field.as_str().as_str().to_string(),
                    header.value.as_str().to_string(),
                )
            })
            .collect(),
        body,
        from_loopback: request
            .remote_addr()
            .is_some_and(|address| address.ip().is_loopback()),
    };

    let reply = match read {
        Ok(_) => routes::handle(state, &incoming),
        Err(error) => Reply::error(
            400,
            "invalid request",
            format!("failed to read the request body: {error}"),
        ),
    };
    record(state, &incoming, &reply);
    if log_requests {
        eprintln!(
            "xdr-standin: {} {} -> {}",
            incoming.method, incoming.path, reply.status
        );
    }

    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    for (name, value) in &reply.headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    if let Err(error) = request.respond(response) {
        if log_requests {
            eprintln!(
                "xdr-standin: failed to send the response to {} {}: {error}",
                incoming.method, incoming.path
            );
        }
    }
}

/// Appends the request to the log that `GET /_standin/requests` returns. Control routes are
/// left out so that reading the log does not change it.
fn record(state: &Mutex<State>, request: &Incoming, reply: &Reply) {
    if request.path.starts_with("/_standin/") {
        return;
    }
    let entry = json!({
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "auth": routes::describe_auth(request),
        "status": reply.status,
        "body": String::from_utf8_lossy(&request.body),
    });
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .requests
        .push(entry);
}

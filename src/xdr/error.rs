//! The error type of the XDR client, and the exit status each kind maps to.
//!
//! No variant ever carries the client password or an access token. Text taken
//! from a server response passes through [`crate::xdr::client::Client`], which
//! removes both secrets before the text reaches an error.

use std::path::PathBuf;

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: XDR rejected a request or an entity, or a local step failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: invalid flags, configuration, credentials or input file.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: XDR could not be reached (network, 5xx, 429 after the
/// retries); the unsent addresses are queued in the state directory.
pub const EXIT_QUEUED: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is missing or invalid. `origin` names where the value came
    /// from (a flag, an environment variable or a config file).
    #[error("invalid configuration in {origin}: {message}")]
    Config { origin: String, message: String },

    /// The token endpoint refused the client credentials.
    #[error(
        "XDR refused the API client credentials (HTTP {status}: {detail}); check HP_XDR_CLIENT_ID, \
         HP_XDR_CLIENT_PASSWORD or the config file, and that the client belongs to the selected region"
    )]
    Auth { status: u16, detail: String },

    /// A request failed for a reason that retrying did not cure: network
    /// errors, 5xx, 429 or unreadable bodies, after the last retry.
    #[error("{what} failed after {attempts} attempts: {detail}")]
    Unreachable {
        what: String,
        attempts: u32,
        detail: String,
    },

    /// XDR returned a client error that retrying cannot fix.
    #[error("XDR rejected {what}: HTTP {status}: {detail}")]
    Rejected {
        what: String,
        status: u16,
        detail: String,
    },

    /// The response had an unexpected shape.
    #[error("unexpected response to {what}: {detail}")]
    BadResponse { what: String, detail: String },

    /// The bundle import returned `error` for some entities, or left some out.
    #[error("bundle import failed for {count} of its entities; first: {first}")]
    EntityErrors { count: usize, first: String },

    /// An entity id or URL points at a host other than the configured ones,
    /// so the bearer token must not be sent there.
    #[error(
        "refusing {url}: its host is not the configured {expected}, so the access token is not sent there"
    )]
    ForeignHost { url: String, expected: String },

    /// The indicator of a blocking feed could not be found unambiguously.
    #[error(
        "found {found} indicators titled '{title}' (expected exactly one); set {key} in the config file to the indicator's id"
    )]
    Indicator {
        title: String,
        found: usize,
        key: &'static str,
    },

    /// Reading or writing the state directory failed.
    #[error("state directory: {action} {path}: {source}")]
    State {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The state file exists but cannot be parsed.
    #[error("state file {path} is not valid: {detail}; move it away to start with an empty state")]
    StateFormat { path: PathBuf, detail: String },

    /// Reading the input stream failed.
    #[error("cannot read standard input: {0}")]
    Input(#[source] std::io::Error),

    /// Writing results to standard output failed, e.g. a closed pipe.
    #[error("cannot write to standard output: {0}")]
    Output(#[source] std::io::Error),

    /// Another process held the state lock for longer than the timeout.
    #[error(
        "timed out after {seconds} s waiting for the lock {path}; another hp-xdr or hp-xdr-clean is using \
         the state directory (raise --lock-timeout if that is expected)"
    )]
    LockTimeout { path: PathBuf, seconds: u64 },
}

impl Error {
    /// Returns the exit status a binary should end with for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config { .. } | Error::Indicator { .. } | Error::Auth { .. } => EXIT_USAGE,
            Error::Unreachable { .. } => EXIT_QUEUED,
            _ => EXIT_FAILURE,
        }
    }

    pub(crate) fn config(origin: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Config {
            origin: origin.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

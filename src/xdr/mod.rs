//! Cisco XDR client: sends confirmed attackers to XDR and removes what hp sent.
//!
//! One module per concept:
//!
//! - [`config`]: regions, base URLs, credentials, the honeypot and the feed.
//! - [`input`]: hp-correlate's aggregate records and bare addresses.
//! - [`xid`]: the deterministic external ids that make re-runs idempotent.
//! - [`ctim`]: the CTIM entities hp sends, and the bundle import result.
//! - [`bundle`]: the builder that splits a batch into self-contained bundles.
//! - [`token`]: the OAuth2 client-credentials token and its refresh.
//! - [`client`]: HTTP with timeouts, retries, token refresh and host checks.
//! - [`feed`]: finding the indicator that a blocking feed is built on.
//! - [`state`]: the state directory (sent addresses, the queue, the lock).
//! - [`push`]: one hp-xdr run, from attackers to imported bundles.
//! - [`follow`]: batches from a stream that does not end (`--follow`).
//! - [`clean`]: finding and deleting what hp created.
//! - [`cli`]: the flags both binaries share, and their exit statuses.
//! - [`error`], [`secret`]: the error type, and strings that are never printed.
//! - [`pause`]: named pause points that crash tests kill the process at.
//!
//! Bundle imports go to the IROH proxy (`{iroh}/iroh/private-intel/bundle/import`),
//! the path the original proof of concept showed to reach XDR; searches,
//! deletes and indicator lookups go to CTIA (`{ctia}/ctia/...`), which the
//! IROH proxy does not expose.

pub mod bundle;
pub mod clean;
pub mod cli;
pub mod client;
pub mod config;
pub mod ctim;
pub mod error;
pub mod feed;
pub mod follow;
pub mod input;
pub mod pause;
pub mod push;
pub mod secret;
pub mod state;
pub mod token;
pub mod xid;

pub use error::{Error, Result};

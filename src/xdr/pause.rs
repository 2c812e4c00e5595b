//! Named pause points for crash tests.
//!
//! When the environment variable `HP_XDR_PAUSE_AT` names a point, hp-xdr
//! stops there for a minute after saying so on stderr, so that a test can
//! kill it with SIGKILL at exactly that step and check that nothing is lost.
//! `POINT:N` pauses at the Nth time the run reaches the point. Unset, as in
//! every real run, a pause point does nothing.

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

/// How often the run reached any pause point named in the variable.
static REACHED: AtomicU32 = AtomicU32::new(0);

/// The environment variable that names the pause point.
pub const PAUSE_VARIABLE: &str = "HP_XDR_PAUSE_AT";

/// Holding the state lock, before the bundle import request.
pub const BEFORE_IMPORT: &str = "before-import";
/// After every import result was checked, before the state is updated.
pub const AFTER_IMPORT: &str = "after-import";
/// After the new state file was written to its temporary name, before the
/// rename that replaces the old one.
pub const STATE_WRITE: &str = "state-write";

/// Pauses here when `HP_XDR_PAUSE_AT` names `point`.
pub fn point(point: &str) {
    let Ok(value) = std::env::var(PAUSE_VARIABLE) else {
        return;
    };
    let (name, occurrence) = match value.split_once(':') {
        Some((name, number)) => (name, number.parse().unwrap_or(1)),
        None => (value.as_str(), 1),
    };
    if name != point || REACHED.fetch_add(1, Ordering::SeqCst) + 1 != occurrence {
        return;
    }
    let _ = writeln!(std::io::stderr().lock(), "hp-xdr: paused at {point} ({PAUSE_VARIABLE})");
    std::thread::sleep(std::time::Duration::from_secs(60));
}

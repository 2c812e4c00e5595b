//! Stopping on SIGINT and SIGTERM: the first signal makes the run finish
//! and write its pending data, a second one exits at once.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use signal_hook::consts::{SIGINT, SIGTERM};

/// Exit status after a second signal, as a shell reports SIGINT (128 + 2).
pub const FORCED_EXIT_STATUS: i32 = 130;

/// Registers SIGINT and SIGTERM and returns the flag that the first of them
/// sets. While the flag is set, a further signal ends the process with
/// [`FORCED_EXIT_STATUS`] without waiting for the run.
pub fn stop_flag() -> std::io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it reads the flag as it was before this signal.
        signal_hook::flag::register_conditional_shutdown(signal, FORCED_EXIT_STATUS, Arc::clone(&flag))?;
        signal_hook::flag::register(signal, Arc::clone(&flag))?;
    }
    Ok(flag)
}

/// Runs `action` on a separate thread when the first SIGINT or SIGTERM
/// arrives, with the signal number. While it runs, a second signal ends the
/// process with [`FORCED_EXIT_STATUS`]. `action` usually writes the run's
/// pending data and exits.
pub fn on_first_signal(action: impl FnOnce(i32) + Send + 'static) -> std::io::Result<()> {
    let stopping = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, FORCED_EXIT_STATUS, Arc::clone(&stopping))?;
    }
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;

    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            stopping.store(true, std::sync::atomic::Ordering::SeqCst);
            action(signal);
        }
    });
    Ok(())
}

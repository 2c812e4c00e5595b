//! `hp-xdr --follow`: sending batches from a stream that does not end, such
//! as `hp-correlate` reading a live log.
//!
//! Lines are read on a separate thread. A batch is sent `flush_after` after
//! its first address arrived, when `max_batch` addresses are waiting, and
//! at the end of the input, whichever comes first. On SIGINT or SIGTERM the
//! waiting addresses are saved in the state directory instead.
//!
//! A batch that fails because XDR cannot be reached stays queued in the
//! state directory, and the next send takes it first. While addresses are
//! queued, a send is tried every `flush_after` even without new input.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::client::Client;
use super::config::Settings;
use super::error::{EXIT_OK, Error, Result};
use super::input::{self, Attacker, Line};
use super::push::{self, PushOptions};
use super::state::StateDir;

/// How often the loop looks at the stop flag while it waits for input.
const STOP_POLL: Duration = Duration::from_millis(200);

/// How many invalid input lines are shown before only counting them.
const MAX_SHOWN_INVALID_LINES: usize = 20;

/// Options of a follow run.
#[derive(Clone, Debug)]
pub struct FollowOptions {
    /// Time after the first waiting address arrived at which the batch is sent.
    pub flush_after: Duration,
    /// Number of waiting addresses that triggers a send at once.
    pub max_batch: usize,
    pub resend: bool,
    pub progress: bool,
}

/// Starts a thread that reads `reader` line by line and sends each line,
/// without its newline, to the returned channel. The channel closes at the
/// end of the input or after a read error, which it delivers first.
pub fn spawn_reader<R: BufRead + Send + 'static>(reader: R) -> Receiver<std::io::Result<Vec<u8>>> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.split(b'\n') {
            let failed = line.is_err();
            if sender.send(line).is_err() || failed {
                break;
            }
        }
    });
    receiver
}

/// Reads `lines` until they end, sending batches as described in the module
/// documentation. Returns the exit status of the last batch: a failure that
/// a later batch cured does not count.
pub fn follow(
    settings: &Settings,
    client: &mut Client,
    state_dir: &StateDir,
    lines: Receiver<std::io::Result<Vec<u8>>>,
    options: &FollowOptions,
    stop: &AtomicBool,
    out: &mut dyn Write,
) -> Result<u8> {
    let mut waiting: Vec<Attacker> = Vec::new();
    // When the oldest waiting address arrived: the batch goes out
    // `flush_after` later at the latest, however busy the input is.
    let mut oldest: Option<Instant> = None;
    let mut line_number = 0;
    let mut invalid = 0;
    let mut last_status = EXIT_OK;
    let mut queue_left = false;
    let mut last_attempt = Instant::now();

    loop {
        let deadline = oldest.unwrap_or(last_attempt) + options.flush_after;
        let wait = deadline.saturating_duration_since(Instant::now()).min(STOP_POLL);
        let ended = match lines.recv_timeout(wait) {
            Ok(Ok(bytes)) => {
                line_number += 1;
                match parse(&bytes, line_number) {
                    Ok(Some(attacker)) => {
                        waiting.push(attacker);
                        oldest.get_or_insert_with(Instant::now);
                    }
                    Ok(None) => {}
                    Err(message) => {
                        if invalid < MAX_SHOWN_INVALID_LINES {
                            eprintln!("hp-xdr: warning: skipped standard input {message}");
                        }
                        invalid += 1;
                    }
                }
                false
            }
            Ok(Err(err)) => return Err(Error::Input(err)),
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };

        if stop.load(Ordering::SeqCst) {
            // SIGINT or SIGTERM: keep what is waiting for the next run
            // rather than start an import that may be cut short.
            if !waiting.is_empty() {
                let batch = input::merge_by_address(std::mem::take(&mut waiting));
                state_dir.spool(&batch)?;
                eprintln!(
                    "hp-xdr: stopped; {} waiting address(es) saved in {} for the next run",
                    batch.len(),
                    state_dir.path().display()
                );
            }
            return Ok(last_status);
        }

        let full = waiting.len() >= options.max_batch;
        let batch_due = oldest.is_some_and(|at| at.elapsed() >= options.flush_after);
        let retry_due = queue_left && last_attempt.elapsed() >= options.flush_after;
        if full || ended || batch_due || retry_due {
            let batch = input::merge_by_address(std::mem::take(&mut waiting));
            oldest = None;
            last_attempt = Instant::now();
            if !batch.is_empty() || queue_left {
                let (status, left) = send_batch(settings, client, state_dir, &batch, options, out)?;
                last_status = status;
                queue_left = left;
            }
        }
        if ended {
            break;
        }
    }

    if invalid > MAX_SHOWN_INVALID_LINES {
        eprintln!("hp-xdr: warning: skipped {invalid} invalid input lines in all");
    }
    Ok(last_status)
}

fn parse(bytes: &[u8], line_number: usize) -> std::result::Result<Option<Attacker>, String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(format!("line {line_number}: not valid UTF-8"));
    };
    match input::parse_line(text, line_number, Timestamp::now()) {
        Ok(Line::Attacker(attacker)) => Ok(Some(attacker)),
        Ok(Line::NotPromoted | Line::Blank) => Ok(None),
        Err(invalid) => Err(invalid.to_string()),
    }
}

/// Sends one batch. Returns its exit status and whether addresses stay
/// queued. Only errors that no later batch can cure (configuration, the
/// state directory) end the run.
fn send_batch(
    settings: &Settings,
    client: &mut Client,
    state_dir: &StateDir,
    batch: &[Attacker],
    options: &FollowOptions,
    out: &mut dyn Write,
) -> Result<(u8, bool)> {
    let push_options = PushOptions {
        resend: options.resend,
        run_time: Timestamp::now(),
        progress: options.progress,
    };
    let outcome = push::push(settings, client, state_dir, batch, &push_options, out);
    out.flush().map_err(Error::Output)?;

    let summary = &outcome.summary;
    if options.progress && summary.pending > 0 {
        eprintln!(
            "hp-xdr: sent {} of {} address(es): {} entities created, {} already existed",
            summary.addresses_sent, summary.pending, summary.created, summary.exists
        );
    }

    match outcome.error {
        None => Ok((EXIT_OK, false)),
        Some(
            err @ (Error::Config { .. }
            | Error::Indicator { .. }
            | Error::State { .. }
            | Error::StateFormat { .. }
            | Error::Output(_)),
        ) => Err(err),
        Some(err) => {
            eprintln!("hp-xdr: error: {err}");
            eprintln!(
                "hp-xdr: {} address(es) stay queued and are sent with the next batch",
                summary.still_queued
            );
            Ok((err.exit_code(), summary.still_queued > 0))
        }
    }
}

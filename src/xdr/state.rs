//! The state directory: which addresses were sent, and which wait to be sent.
//!
//! Default location: `$XDG_STATE_HOME/hp`, else `~/.local/state/hp`. It
//! contains two files:
//!
//! - `xdr-state.json`, the [`State`]. For each address sent, it records when
//!   it was sent, until when it counts as sent (the end of its judgement's
//!   valid_time) and the ids XDR returned. It also contains the queue of
//!   attackers not sent yet, which the next run sends first.
//! - `incoming/`, where a run first saves its input, one file per run,
//!   without waiting for the lock. The next holder of the lock moves these
//!   files into the queue. So input survives even a run that times out
//!   waiting for the lock.
//! - `xdr.lock`, locked exclusively around each read-modify-write of the
//!   state and around each bundle import, never for a whole run, so a cron
//!   job, a logrotate hook and a long-running process can share the
//!   directory. Waiting for the lock gives up after a timeout.
//!
//! The state file is replaced atomically: written to a temporary file in the
//! same directory, flushed to disk, then renamed over the old one.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::input::{Attacker, rfc3339};

const STATE_FILE: &str = "xdr-state.json";
const LOCK_FILE: &str = "xdr.lock";
const SPOOL_DIR: &str = "incoming";
/// Version of the state file format; a newer version is refused.
const FORMAT_VERSION: u32 = 1;

/// The contents of `xdr-state.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// Addresses sent, by address.
    #[serde(default)]
    pub sent: BTreeMap<IpAddr, SentRecord>,
    /// Attackers waiting to be sent, oldest first.
    #[serde(default)]
    pub queue: Vec<Attacker>,
}

/// One address that XDR accepted.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SentRecord {
    #[serde(with = "rfc3339")]
    pub sent_at: Timestamp,
    /// End of the judgement's valid_time; without a feed, the end of the
    /// period in which the address is not sent again.
    #[serde(with = "rfc3339")]
    pub valid_until: Timestamp,
    /// Entity ids by role: `incident`, `sighting`, `member-of`, `judgement`,
    /// `element-of`.
    #[serde(default)]
    pub ids: BTreeMap<String, String>,
}

impl State {
    /// Returns whether `ip` was sent and its validity has not ended at `now`.
    /// With `feed`, an address counts as sent only if a judgement went with
    /// it: one sent earlier without the feed must still reach the feed.
    pub fn is_sent(&self, ip: IpAddr, now: Timestamp, feed: bool) -> bool {
        self.sent.get(&ip).is_some_and(|record| {
            record.valid_until > now && (!feed || record.ids.contains_key("judgement"))
        })
    }

    /// Adds attackers to the queue, merging records of an address that is
    /// already queued.
    pub fn enqueue(&mut self, attackers: &[Attacker]) {
        for attacker in attackers {
            match self
                .queue
                .iter_mut()
                .find(|queued| queued.ip == attacker.ip)
            {
                Some(queued) => {
                    if queued != attacker {
                        queued.merge(attacker);
                    }
                }
                None => self.queue.push(attacker.clone()),
            }
        }
    }

    /// Removes the given addresses from the queue.
    pub fn dequeue(&mut self, addresses: &[IpAddr]) {
        self.queue.retain(|queued| !addresses.contains(&queued.ip));
    }
}

/// Returns the default state directory.
pub fn default_dir() -> Option<PathBuf> {
    match std::env::var_os("XDG_STATE_HOME") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir).join("hp")),
        _ => Some(PathBuf::from(std::env::var_os("HOME")?).join(".local/state/hp")),
    }
}

/// An open state directory.
#[derive(Clone, Debug)]
pub struct StateDir {
    dir: PathBuf,
    lock_timeout: Duration,
}

/// The held lock; dropping it releases the lock.
pub struct StateLock {
    file: File,
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl StateDir {
    /// Opens the directory, creating it (mode 0700) if needed.
    pub fn open(dir: &Path, lock_timeout: Duration) -> Result<StateDir> {
        create_private_dir(dir).map_err(|source| Error::State {
            action: "cannot create",
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
            lock_timeout,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Takes the exclusive lock, polling until `lock_timeout` has passed.
    pub fn lock(&self) -> Result<StateLock> {
        let path = self.dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| Error::State {
                action: "cannot open the lock file",
                path: path.clone(),
                source,
            })?;

        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(StateLock { file }),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if started.elapsed() >= self.lock_timeout {
                        return Err(Error::LockTimeout {
                            path,
                            seconds: self.lock_timeout.as_secs(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(Error::State {
                        action: "cannot lock",
                        path,
                        source,
                    });
                }
            }
        }
    }

    /// Reads the state; a missing file is an empty state. The caller holds
    /// the lock.
    pub fn load(&self, _lock: &StateLock) -> Result<State> {
        let path = self.dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(State {
                    version: FORMAT_VERSION,
                    ..State::default()
                });
            }
            Err(source) => {
                return Err(Error::State {
                    action: "cannot read",
                    path,
                    source,
                });
            }
        };

        let state: State = match serde_json::from_str(&text) {
            Ok(state) => state,
            Err(err) => return self.move_aside(&path, &err.to_string()),
        };
        if state.version > FORMAT_VERSION {
            return Err(Error::StateFormat {
                path,
                detail: format!(
                    "format version {} is newer than this hp ({FORMAT_VERSION})",
                    state.version
                ),
            });
        }
        Ok(state)
    }

    /// Moves a corrupt or truncated state file aside, so that the run goes
    /// on with an empty state, and warns where it went. Losing the record of
    /// sent addresses only means they may be sent again, which the
    /// idempotent external ids make harmless within a day.
    fn move_aside(&self, path: &Path, detail: &str) -> Result<State> {
        let aside = self.dir.join(format!("{STATE_FILE}.corrupt-{}", Timestamp::now().as_second()));
        std::fs::rename(path, &aside).map_err(|source| Error::State {
            action: "cannot move aside the corrupt",
            path: path.to_path_buf(),
            source,
        })?;
        eprintln!(
            "hp-xdr: warning: the state file {} is corrupt ({detail}); moved it to {} and started with an empty state",
            path.display(),
            aside.display()
        );
        Ok(State {
            version: FORMAT_VERSION,
            ..State::default()
        })
    }

    /// Replaces the state file atomically. The caller holds the lock.
    pub fn save(&self, _lock: &StateLock, state: &State) -> Result<()> {
        let path = self.dir.join(STATE_FILE);
        let temporary = self
            .dir
            .join(format!(".{STATE_FILE}.{}.tmp", std::process::id()));
        let error = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::State {
                action,
                path,
                source,
            }
        };

        let mut state = state.clone();
        state.version = FORMAT_VERSION;
        let mut text = serde_json::to_string_pretty(&state).expect("the state always serialises");
        text.push('\n');

        let mut file =
            create_private_file(&temporary).map_err(error("cannot create", &temporary))?;
        file.write_all(text.as_bytes())
            .map_err(error("cannot write", &temporary))?;
        file.sync_all().map_err(error("cannot flush", &temporary))?;
        drop(file);

        super::pause::point(super::pause::STATE_WRITE);
        std::fs::rename(&temporary, &path).map_err(error("cannot replace", &path))?;
        // Flush the directory entry too, so the rename survives a crash.
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Locks, reads the state, moves the spooled input into the queue,
    /// applies `change`, writes the state back and unlocks.
    pub fn update<T>(&self, change: impl FnOnce(&mut State) -> T) -> Result<T> {
        let lock = self.lock()?;
        let mut state = self.load(&lock)?;
        let spooled = self.take_spool(&lock, &mut state)?;
        let value = change(&mut state);
        self.save(&lock, &state)?;

        // A crash before this point leaves the files to be merged again,
        // which enqueue() does without counting a record twice.
        for path in spooled {
            let _ = std::fs::remove_file(path);
        }
        Ok(value)
    }

    /// Returns the directory of spooled input.
    pub fn spool_dir(&self) -> PathBuf {
        self.dir.join(SPOOL_DIR)
    }

    /// Saves attackers to a new file under `incoming/` without taking the
    /// lock. Does nothing for an empty list.
    pub fn spool(&self, attackers: &[Attacker]) -> Result<()> {
        if attackers.is_empty() {
            return Ok(());
        }
        let dir = self.spool_dir();
        create_private_dir(&dir).map_err(|source| Error::State {
            action: "cannot create",
            path: dir.clone(),
            source,
        })?;

        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!("{nanos:020}-{}.json", std::process::id());
        let temporary = dir.join(format!(".{name}.tmp"));
        let path = dir.join(name);
        let text = serde_json::to_string(attackers).expect("attackers always serialise");

        let mut file = create_private_file(&temporary).map_err(|source| Error::State {
            action: "cannot create",
            path: temporary.clone(),
            source,
        })?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|source| Error::State {
                action: "cannot write",
                path: temporary.clone(),
                source,
            })?;
        std::fs::rename(&temporary, &path).map_err(|source| Error::State {
            action: "cannot rename",
            path,
            source,
        })
    }

    /// Moves the spooled files, oldest first, into the queue and returns
    /// their paths, to be removed once the state is saved.
    fn take_spool(&self, _lock: &StateLock, state: &mut State) -> Result<Vec<PathBuf>> {
        let dir = self.spool_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(Error::State {
                    action: "cannot list",
                    path: dir,
                    source,
                });
            }
        };

        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(".");
                !name.starts_with('.') && name.ends_with(".json")
            })
            .collect();
        paths.sort();

        for path in &paths {
            let text = std::fs::read_to_string(path).map_err(|source| Error::State {
                action: "cannot read",
                path: path.clone(),
                source,
            })?;
            let attackers: Vec<Attacker> =
                serde_json::from_str(&text).map_err(|err| Error::StateFormat {
                    path: path.clone(),
                    detail: err.to_string(),
                })?;
            state.enqueue(&attackers);
        }
        Ok(paths)
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attacker(ip: &str) -> Attacker {
        Attacker::plain(ip.parse().unwrap(), "2026-12-04T20:00:00Z".parse().unwrap())
    }

    #[test]
    fn missing_file_is_empty_state() {
        let dir = tempfile::tempdir().unwrap();
        let state_dir = StateDir::open(&dir.path().join("hp"), Duration::from_secs(1)).unwrap();
        let lock = state_dir.lock().unwrap();
        let state = state_dir.load(&lock).unwrap();
        assert!(state.sent.is_empty());
        assert!(state.queue.is_empty());
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let state_dir = StateDir::open(dir.path(), Duration::from_secs(1)).unwrap();
        let now: Timestamp = "2026-12-04T20:00:00Z".parse().unwrap();

        state_dir
            .update(|state| {
                state.enqueue(&[attacker("192.0.2.1"), attacker("2001:db8::5")]);
                state.sent.insert(
                    "192.0.2.9".parse().unwrap(),
                    SentRecord {
                        sent_at: now,
                        valid_until: "2027-01-03T20:00:00Z".parse().unwrap(),
                        ids: BTreeMap::from([(
                            "judgement".to_string(),
                            "http://x/ctia/judgement/judgement-1".to_string(),
                        )]),
                    },
                );
            })
            .unwrap();

        let lock = state_dir.lock().unwrap();
        let state = state_dir.load(&lock).unwrap();
        assert_eq!(state.queue.len(), 2);
        assert!(state.is_sent("192.0.2.9".parse().unwrap(), now, false));
        assert!(state.is_sent("192.0.2.9".parse().unwrap(), now, true));
        assert!(!state.is_sent(
            "192.0.2.9".parse().unwrap(),
            "2027-01-03T20:00:00Z".parse().unwrap(),
            false
        ));
        assert!(!state.is_sent("192.0.2.1".parse().unwrap(), now, false));
    }

    #[test]
    fn second_lock_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let state_dir = StateDir::open(dir.path(), Duration::from_millis(300)).unwrap();
        let _held = state_dir.lock().unwrap();
        // A second open file description conflicts with the first lock.
        let err = state_dir.lock().err().expect("the second lock must fail");
        assert!(matches!(err, Error::LockTimeout { .. }), "{err}");
    }

    #[test]
    fn corrupt_file_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), "{\"version\":1,\"sent\":{\"192.0.2.1\":").unwrap();
        let state_dir = StateDir::open(dir.path(), Duration::from_secs(1)).unwrap();
        let lock = state_dir.lock().unwrap();
        let state = state_dir.load(&lock).unwrap();
        assert!(state.sent.is_empty());
        assert!(!dir.path().join(STATE_FILE).exists());
        let moved = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_name().to_string_lossy().starts_with("xdr-state.json.corrupt-"))
            .count();
        assert_eq!(moved, 1);
    }

    #[test]
    fn spooled_input_joins_queue() {
        let dir = tempfile::tempdir().unwrap();
        let state_dir = StateDir::open(dir.path(), Duration::from_millis(300)).unwrap();

        // The spool needs no lock, so it works while another process holds it.
        let held = state_dir.lock().unwrap();
        state_dir.spool(&[attacker("192.0.2.1")]).unwrap();
        state_dir
            .spool(&[attacker("192.0.2.2"), attacker("192.0.2.1")])
            .unwrap();
        drop(held);

        let queued = state_dir.update(|state| state.queue.len()).unwrap();
        assert_eq!(queued, 2);
        assert_eq!(std::fs::read_dir(state_dir.spool_dir()).unwrap().count(), 0);
    }

    #[test]
    fn enqueue_merges_same_address() {
        let mut state = State::default();
        let mut later = attacker("192.0.2.1");
        later.last_seen = "2026-12-05T20:00:00Z".parse().unwrap();
        state.enqueue(&[attacker("192.0.2.1")]);
        state.enqueue(&[later]);
        assert_eq!(state.queue.len(), 1);
        assert_eq!(state.queue[0].count, 2);
        state.dequeue(&["192.0.2.1".parse().unwrap()]);
        assert!(state.queue.is_empty());
    }
}

//! Following a growing log file across rotation, as `tail -F` does.
//!
//! [`FollowReader`] reads a file and, at its end, waits for more instead of
//! returning end-of-file. It notices both ways that logrotate rotates:
//!
//! - rename (the default): the path now names a new file. The rest of the
//!   old file is read first, then the new file from its start.
//! - `copytruncate`: the file shrank below what was read. Reading starts
//!   again at the beginning.
//!
//! It returns end-of-file only once the stop flag is set, so a run that
//! follows a file ends cleanly on SIGINT or SIGTERM.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long to wait at the end of the file before looking again.
pub const DEFAULT_POLL: Duration = Duration::from_millis(250);

/// A reader that follows a file by name.
pub struct FollowReader {
    path: PathBuf,
    file: File,
    /// Bytes read from the current file.
    position: u64,
    /// Device and inode of the current file, to notice a rename rotation.
    identity: (u64, u64),
    stop: Arc<AtomicBool>,
    poll: Duration,
    program: &'static str,
}

impl FollowReader {
    /// Opens `path`, at its start or, with `from_end`, at its end. A
    /// directory or a gzip file is an error.
    pub fn open(path: PathBuf, from_end: bool, stop: Arc<AtomicBool>, program: &'static str) -> io::Result<FollowReader> {
        let mut file = File::open(&path)?;
        let metadata = file.metadata()?;
        if metadata.is_dir() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory; follow a log file"));
        }

        // A compressed file is finished, not growing: it needs no following.
        let mut magic = [0u8; 2];
        let head = file.read(&mut magic)?;
        if head == 2 && magic == [0x1f, 0x8b] {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is gzip-compressed; --follow takes a plain log that is still written to (read a .gz without --follow)",
            ));
        }
        file.seek(SeekFrom::Start(0))?;
        let position = if from_end { file.seek(SeekFrom::End(0))? } else { 0 };
        Ok(FollowReader {
            path,
            file,
            position,
            identity: (metadata.dev(), metadata.ino()),
            stop,
            poll: DEFAULT_POLL,
            program,
        })
    }

    /// Sets how long to wait at the end of the file.
    pub fn with_poll(mut self, poll: Duration) -> FollowReader {
        self.poll = poll;
        self
    }

    /// Returns the device and inode that the path names now, if it exists.
    fn path_identity(&self) -> Option<(u64, u64)> {
        let metadata = std::fs::metadata(&self.path).ok()?;
        Some((metadata.dev(), metadata.ino()))
    }

    /// Switches to the new file that the path names after a rotation.
    fn switch_to(&mut self, identity: (u64, u64)) -> io::Result<()> {
        self.file = File::open(&self.path)?;
        self.position = 0;
        self.identity = identity;
        crate::diag::warn(self.program, &format_args!("{}: rotated; following the new file", self.path.display()));
        Ok(())
    }
}

impl Read for FollowReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let read = self.file.read(buf)?;
            if read > 0 {
                self.position += read as u64;
                return Ok(read);
            }
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }

            if self.file.metadata()?.len() < self.position {
                self.file.seek(SeekFrom::Start(0))?;
                self.position = 0;
                crate::diag::warn(
                    self.program,
                    &format_args!("{}: truncated; reading again from the start", self.path.display()),
                );
                continue;
            }

            // A new file at the path: first read what the writer appended to
            // the old one between our last read and the rename, then switch.
            // Before the new file exists, the path names nothing: keep waiting.
            if let Some(identity) = self.path_identity().filter(|id| *id != self.identity) {
                let read = self.file.read(buf)?;
                if read > 0 {
                    self.position += read as u64;
                    return Ok(read);
                }
                self.switch_to(identity)?;
                continue;
            }
            std::thread::sleep(self.poll);
        }
    }
}

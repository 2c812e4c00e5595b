//! Command-line flags shared by hp-xdr and hp-xdr-clean, defined once so
//! both tools name, document and default them the same way.

use std::path::PathBuf;
use std::time::Duration;

use super::client::ClientOptions;
use super::config::{self, LoadedFile, Overrides, Settings};
use super::error::{Error, Result};
use super::state::{self, StateDir};

/// Exit status table for the `--help` text of both tools.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success
  1  XDR rejected a request or an entity, a delete failed or was refused,
     or a local step failed (state directory, lock timeout)
  2  invalid flags, configuration, credentials or input file
  3  XDR could not be reached (network error, 5xx or 429 after the retries);
     hp-xdr keeps the unsent addresses queued in the state directory and
     sends them first on the next run";

#[derive(clap::Args, Debug, Clone)]
pub struct ConnectionArgs {
    /// Config file: TOML, or the original config.txt key=value format.
    /// [default: $XDG_CONFIG_HOME/hp/xdr.toml, if it exists]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// XDR region; selects the token/IROH and private-intel hosts.
    /// [default: us]
    #[arg(long, value_name = "REGION", value_parser = ["us", "eu", "apjc"])]
    pub region: Option<String>,

    /// Base URL of the token and IROH host, overriding the region's.
    #[arg(long, value_name = "URL")]
    pub iroh_url: Option<String>,

    /// Base URL of the private-intel (CTIA) host, overriding the region's.
    #[arg(long, value_name = "URL")]
    pub ctia_url: Option<String>,

    /// Allow plain http:// base URLs on a loopback host (local test servers).
    #[arg(long)]
    pub allow_http_loopback: bool,

    /// External-id prefix of every entity hp creates. [default: hp]
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,

    /// CTIM source of every entity hp creates. [default: hp-honeypot]
    #[arg(long, value_name = "SOURCE")]
    pub source: Option<String>,

    /// State directory. [default: $XDG_STATE_HOME/hp, else ~/.local/state/hp]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Seconds to wait for the state directory's lock.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub lock_timeout: u64,

    /// Seconds allowed for one HTTP exchange.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,

    /// Retries of a request after a network error, 5xx, 429 or unreadable
    /// body.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub retries: u32,

    /// Milliseconds before the first retry; doubled for each further retry,
    /// at most 60 s. A 429's Retry-After takes precedence.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub backoff_ms: u64,

    /// Print no progress or summary on stderr; errors and warnings still go
    /// there.
    #[arg(short, long)]
    pub quiet: bool,
}

impl ConnectionArgs {
    /// Reads the config file and the environment and applies the flags.
    /// Returns the settings and the warnings to print.
    pub fn settings(&self, mut overrides: Overrides) -> Result<(Settings, Vec<String>)> {
        let file = self.load_config_file()?;

        overrides.region = self.region.clone();
        overrides.iroh_url = self.iroh_url.clone();
        overrides.ctia_url = self.ctia_url.clone();
        overrides.allow_http_loopback = self.allow_http_loopback;
        overrides.prefix = self.prefix.clone();
        overrides.source = self.source.clone();

        let settings =
            Settings::resolve(file.as_ref(), |name| std::env::var(name).ok(), &overrides)?;
        let warnings = file.map(|file| file.warnings).unwrap_or_default();
        Ok((settings, warnings))
    }

    fn load_config_file(&self) -> Result<Option<LoadedFile>> {
        match &self.config {
            Some(path) => config::load_file(path).map(Some),
            None => match config::default_config_path() {
                Some(path) if path.exists() => config::load_file(&path).map(Some),
                _ => Ok(None),
            },
        }
    }

    pub fn client_options(&self) -> ClientOptions {
        ClientOptions {
            timeout: Duration::from_secs(self.timeout.max(1)),
            retries: self.retries,
            backoff: Duration::from_millis(self.backoff_ms),
            log_retries: !self.quiet,
            ..ClientOptions::default()
        }
    }

    /// Opens the state directory, creating it if needed.
    pub fn state_dir(&self) -> Result<StateDir> {
        let dir = match &self.state_dir {
            Some(dir) => dir.clone(),
            None => state::default_dir().ok_or_else(|| {
                Error::config(
                    "the environment",
                    "neither XDG_STATE_HOME nor HOME is set; pass --state-dir",
                )
            })?,
        };
        StateDir::open(&dir, Duration::from_secs(self.lock_timeout))
    }
}

/// A problem with the command line or its files, for exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit of a binary after an error.
pub enum Ending {
    /// Print this message and exit with this status.
    Fail { message: String, code: u8 },
    /// The reader of standard output went away (e.g. `| head`): exit 0
    /// quietly, as other filters do.
    ClosedPipe,
}

/// Ends a binary: its `run` result becomes the exit status, with the error
/// message on stderr, and a closed output pipe ends it quietly with 0.
pub fn exit(program: &str, result: anyhow::Result<u8>) -> std::process::ExitCode {
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(err) => match ending(&err) {
            Ending::Fail { message, code } => {
                eprintln!("{program}: error: {message}");
                std::process::ExitCode::from(code)
            }
            Ending::ClosedPipe => std::process::ExitCode::SUCCESS,
        },
    }
}

/// Turns an error from a binary's `run` into its message and exit status.
/// The message joins the error chain with `: ` and skips a cause whose
/// text the previous message already contains.
pub fn ending(err: &anyhow::Error) -> Ending {
    let closed_pipe = err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if closed_pipe {
        return Ending::ClosedPipe;
    }

    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }

    let code = if let Some(err) = err.downcast_ref::<Error>() {
        err.exit_code()
    } else if err.downcast_ref::<UsageError>().is_some() {
        super::error::EXIT_USAGE
    } else {
        super::error::EXIT_FAILURE
    };
    Ending::Fail { message, code }
}

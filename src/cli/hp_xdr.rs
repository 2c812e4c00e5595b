//! Command-line options of `hp-xdr`.

use std::path::PathBuf;

use clap::Parser;

use crate::xdr::cli::{ConnectionArgs, EXIT_STATUS_HELP};

/// Send confirmed attackers to Cisco XDR.
///
/// Reads hp-correlate's aggregate records (NDJSON) or one IP address per
/// line from the files or standard input. Creates one incident per honeypot
/// and UTC day, a sighting of the attackers, and with --feed one judgement
/// per address on the blocking feed. Writes one JSON line per entity result
/// to standard output; progress and errors go to standard error.
///
/// The API client credentials come from HP_XDR_CLIENT_ID and
/// HP_XDR_CLIENT_PASSWORD, or from the config file; never from a flag.
#[derive(Parser, Debug)]
#[command(name = "hp-xdr", version, after_help = EXIT_STATUS_HELP)]
pub struct Args {
    /// Input files; "-" or none reads standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Name of the honeypot in titles and in the incident's external id.
    /// [default: the honeypot hostname]
    #[arg(long, value_name = "NAME")]
    pub honeypot_name: Option<String>,

    /// Hostname of the honeypot, the sighting's target.
    #[arg(long, value_name = "HOST")]
    pub honeypot_hostname: Option<String>,

    /// IP address of the honeypot, the sighting's target.
    #[arg(long, value_name = "IP")]
    pub honeypot_ip: Option<String>,

    /// MAC address of the honeypot (optional).
    #[arg(long, value_name = "MAC")]
    pub honeypot_mac: Option<String>,

    /// Put every attacker on the blocking feed (one judgement each).
    #[arg(long, overrides_with = "no_feed")]
    pub feed: bool,

    /// Send no judgements, even if the config file enables the feed.
    #[arg(long, overrides_with = "feed")]
    pub no_feed: bool,

    /// Days a judgement stays valid, and an address counts as sent.
    /// [default: 30]
    #[arg(long, value_name = "DAYS")]
    pub judgement_days: Option<u32>,

    /// Maximum entities per bundle; larger batches are split. [default: 500]
    #[arg(long, value_name = "N")]
    pub max_entities: Option<usize>,

    /// Send addresses again even if an earlier send is still valid.
    #[arg(long)]
    pub resend: bool,

    /// Read standard input as a stream that does not end (e.g. from a
    /// following hp-correlate) and send a batch whenever input pauses.
    #[arg(long, conflicts_with_all = ["dry_run", "files"])]
    pub follow: bool,

    /// With --follow: seconds after the first waiting address arrived at
    /// which the waiting addresses are sent. SIGINT or SIGTERM saves them in
    /// the state directory for the next run instead.
    #[arg(long, value_name = "SECS", default_value_t = 10, requires = "follow")]
    pub flush_secs: u64,

    /// With --follow: number of waiting addresses that are sent at once,
    /// without waiting for --flush-secs.
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "follow")]
    pub max_batch: usize,

    /// Print the bundles that would be sent, one JSON document per line,
    /// and exit. Needs no credentials and leaves the state directory alone.
    #[arg(long)]
    pub dry_run: bool,
}

//! Command-line options of `hp-xdr-clean`.

use clap::Parser;

use crate::xdr::cli::{ConnectionArgs, EXIT_STATUS_HELP};

/// List, and with --yes delete, the XDR entities that hp created.
///
/// Selects incidents, sightings, judgements and relationships whose source
/// is hp's (--source) and whose external id starts with hp's prefix
/// (--prefix). Entities of other sources, indicators and feeds are never
/// touched. --from-state takes the ids recorded by hp-xdr instead. Without
/// --yes this only lists what would be deleted. Writes one JSON line per
/// entity to standard output.
///
/// The API client credentials come from HP_XDR_CLIENT_ID and
/// HP_XDR_CLIENT_PASSWORD, or from the config file; never from a flag.
#[derive(Parser, Debug)]
#[command(name = "hp-xdr-clean", version, after_help = EXIT_STATUS_HELP)]
pub struct Args {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Delete the listed entities; without it nothing is deleted.
    #[arg(long)]
    pub yes: bool,

    /// Only entities created more than this long ago, e.g. 30d, 12h, 90m,
    /// 2w.
    #[arg(long, value_name = "AGE", value_parser = crate::timestamp::parse_duration)]
    pub older_than: Option<i64>,

    /// Take the entities from the ids recorded in the state directory
    /// instead of searching XDR by source and prefix.
    #[arg(long)]
    pub from_state: bool,

    /// Results per search page; pages follow X-Next to the end.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub page_size: u16,
}

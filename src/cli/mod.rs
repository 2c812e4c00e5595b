//! Command-line options of every binary, defined in one place so that the
//! `--help` text and the man pages in `man/` come from the same source.
//!
//! The binaries in `src/bin/` parse these and call the library.

pub mod hp_correlate;
pub mod hp_match;
pub mod hp_report;

use clap::CommandFactory;

/// Renders the man page of every binary, as `(file name, roff text)`.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let commands = [
        hp_match::Args::command(),
        hp_correlate::Args::command(),
        hp_report::Args::command(),
    ];

    let mut pages = Vec::new();
    for command in commands {
        let name = format!("{}.1", command.get_name());
        let mut roff = Vec::new();
        clap_mangen::Man::new(command).render(&mut roff)?;
        pages.push((name, roff));
    }
    Ok(pages)
}

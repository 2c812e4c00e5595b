//! Command-line options of every binary, defined in one place so that the
//! `--help` text, the man pages in `man/` and the shell completions in
//! `completions/` come from the same source.
//!
//! The binaries in `src/bin/` parse these and call the library.

pub mod hp_correlate;
pub mod hp_match;
pub mod hp_report;
pub mod hp_xdr;
pub mod hp_xdr_clean;
mod man;

use clap::CommandFactory;

/// Returns the clap command of every binary.
pub fn commands() -> Vec<clap::Command> {
    vec![
        hp_match::Args::command(),
        hp_correlate::Args::command(),
        hp_report::Args::command(),
        hp_xdr::Args::command(),
        hp_xdr_clean::Args::command(),
    ]
}

/// Renders the man page of every binary, as `(file name, roff text)`.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut pages = Vec::new();
    for command in commands() {
        let name = format!("{}.1", command.get_name());
        let mut roff = Vec::new();
        man::render(command, &mut roff)?;
        pages.push((name, roff));
    }
    Ok(pages)
}

/// Renders the bash, zsh and fish completions of every binary, as
/// `(file name, script)`: `NAME.bash`, `_NAME` for zsh and `NAME.fish`.
pub fn completions() -> Vec<(String, Vec<u8>)> {
    use clap_complete::Shell;

    let mut scripts = Vec::new();
    for mut command in commands() {
        let name = command.get_name().to_owned();
        for (shell, file) in [
            (Shell::Bash, format!("{name}.bash")),
            (Shell::Zsh, format!("_{name}")),
            (Shell::Fish, format!("{name}.fish")),
        ] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, &name, &mut script);
            scripts.push((file, script));
        }
    }
    scripts
}

//! The man pages: clap's sections, then the ones clap does not model
//! (environment, files, examples), written here next to the options they
//! describe.

use std::io::Write;

use roff::{Roff, bold, roman};

/// A man-page section that clap does not generate.
struct Section {
    title: &'static str,
    /// Each entry is a tagged paragraph: a term in bold, then its text.
    entries: &'static [(&'static str, &'static str)],
}

const NO_ENVIRONMENT: Section = Section {
    title: "ENVIRONMENT",
    entries: &[("(none)", "No environment variable changes what this program does.")],
};

const XDR_ENVIRONMENT: Section = Section {
    title: "ENVIRONMENT",
    entries: &[
        ("HP_XDR_CLIENT_ID", "The XDR API client id; overrides the config file."),
        (
            "HP_XDR_CLIENT_PASSWORD",
            "The XDR API client password; overrides the config file. There is no flag for it, so that it never appears in a process list.",
        ),
        ("XDG_CONFIG_HOME", "Where the default config file hp/xdr.toml is looked for (default ~/.config)."),
        ("XDG_STATE_HOME", "Where the default state directory hp/ is (default ~/.local/state)."),
        (
            "HP_XDR_PAUSE_AT",
            "For crash tests only: pause a minute at a named step (before-import, after-import, state-write) so that a test can kill the process there.",
        ),
    ],
};

const XDR_FILES: Section = Section {
    title: "FILES",
    entries: &[
        ("$XDG_CONFIG_HOME/hp/xdr.toml", "The config file, read if it exists; keep it mode 0600."),
        ("$XDG_STATE_HOME/hp/xdr-state.json", "Addresses sent, with their entity ids and judgement end, and the queue of addresses not sent yet."),
        ("$XDG_STATE_HOME/hp/incoming/", "Input saved before the lock is taken, so that a run that cannot get the lock loses nothing."),
        ("$XDG_STATE_HOME/hp/xdr.lock", "The lock held around each import and each state write."),
    ],
};

fn sections(name: &str) -> Vec<(&'static Section, &'static [&'static str])> {
    match name {
        "hp-match" => vec![
            (&NO_ENVIRONMENT, &[][..]),
            (
                &Section {
                    title: "FILES",
                    entries: &[
                        ("rules/*.toml", "The built-in rule packs, compiled into the binary; --list-rules shows them."),
                        ("FILE given to --rules", "A rule file of your own, in the format that README.md documents."),
                    ],
                },
                &[][..],
            ),
            (
                &Section { title: "EXAMPLES", entries: &[] },
                &[
                    "hp-match access.log | hp-correlate | hp-report",
                    "hp-match /var/log/nginx/access.log.*.gz > detections.ndjson",
                    "tail -F access.log | hp-match --line-buffered | hp-correlate --follow",
                    "hp-match --pack classic --rules local.toml --list-rules",
                ][..],
            ),
        ],
        "hp-correlate" => vec![
            (&NO_ENVIRONMENT, &[][..]),
            (
                &Section { title: "EXAMPLES", entries: &[] },
                &[
                    "hp-match access.log | hp-correlate",
                    "hp-match access.log | hp-correlate --all --exclude 198.51.100.0/24",
                    "hp-match access.log | hp-correlate --all-rules --window 10m --threshold 20",
                    "hp-match access.log | hp-correlate --score 30",
                ][..],
            ),
        ],
        "hp-report" => vec![
            (&NO_ENVIRONMENT, &[][..]),
            (
                &Section { title: "EXAMPLES", entries: &[] },
                &[
                    "hp-match access.log | hp-correlate --all | hp-report",
                    "hp-match access.log | hp-report --detail --format csv > detections.csv",
                    "hp-match access.log | hp-report --format html -o report.html",
                ][..],
            ),
        ],
        "hp-xdr" => vec![
            (&XDR_ENVIRONMENT, &[][..]),
            (&XDR_FILES, &[][..]),
            (
                &Section { title: "EXAMPLES", entries: &[] },
                &[
                    "hp-match access.log | hp-correlate | hp-xdr --feed",
                    "echo 192.0.2.1 | hp-xdr --dry-run --honeypot-hostname web01 --honeypot-ip 203.0.113.10",
                    "tail -F access.log | hp-match --line-buffered | hp-correlate --follow | hp-xdr --follow",
                ][..],
            ),
        ],
        "hp-xdr-clean" => vec![
            (&XDR_ENVIRONMENT, &[][..]),
            (&XDR_FILES, &[][..]),
            (
                &Section { title: "EXAMPLES", entries: &[] },
                &["hp-xdr-clean", "hp-xdr-clean --yes --older-than 30d", "hp-xdr-clean --from-state --yes"][..],
            ),
        ],
        _ => Vec::new(),
    }
}

/// Renders the whole man page of `command`.
pub fn render(command: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    let name = command.get_name().to_owned();
    let after_help = command.get_after_help().map(|text| text.to_string());
    let man = clap_mangen::Man::new(command);
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;

    let mut roff = Roff::new();
    if let Some(exit_status) = after_help {
        // The after-help text of every binary is its exit-status table.
        let table = exit_status.strip_prefix("Exit status:\n").unwrap_or(&exit_status);
        roff.control("SH", ["EXIT STATUS"]).control("nf", []).text([roman(table)]).control("fi", []);
    }
    for (section, examples) in sections(&name) {
        roff.control("SH", [section.title]);
        for (term, text) in section.entries {
            roff.control("TP", []).text([bold(*term)]).text([roman(*text)]);
        }
        for example in examples {
            roff.control("PP", []).control("nf", []).text([roman(*example)]).control("fi", []);
        }
    }
    let others: Vec<String> = ["hp-match", "hp-correlate", "hp-report", "hp-xdr", "hp-xdr-clean"]
        .iter()
        .filter(|other| **other != name)
        .map(|other| format!("{other}(1)"))
        .collect();
    let see_also = format!(
        "hp(7), {}; README.md in the source tree for the rule format and the XDR set-up.",
        others.join(", ")
    );
    roff.control("SH", ["SEE ALSO"]).text([roman(see_also)]);
    out.write_all(roff.to_roff().as_bytes())?;

    man.render_version_section(out)
}

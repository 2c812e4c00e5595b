//! hp: find attacks in honeypot web-server access logs and report the sources.
//!
//! The binaries in `src/bin/` are thin front ends over these modules, one
//! concept each, in pipeline order:
//!
//! - [`cli`]: the command-line options of every binary, and their man pages.
//! - [`input`]: opening files, stdin and gzip-compressed logs, and splitting them into lines.
//! - [`follow`]: following a growing log across rotation, as `tail -F` does.
//! - [`logline`]: the structural check and the field parse of one access-log line.
//! - [`timestamp`]: the access-log time and its RFC 3339 form.
//! - [`rules`]: the rule-file format, the built-in packs and their validation.
//! - [`matcher`]: every rule compiled into one literal scan per line.
//! - [`scan`]: the `hp-match` job: inputs through the matcher into detection records.
//! - [`detection`]: the detection record that `hp-match` writes, and its reader.
//! - [`diag`]: warnings on stderr, and bad input lines counted and rate-limited.
//! - [`correlate`]: per-address aggregation and promotion, and the aggregate record.
//! - [`report`]: the human report in text, CSV and Markdown.
//! - [`signals`]: SIGINT and SIGTERM: finish on the first, exit on the second.
//! - [`xdr`]: the Cisco XDR client, CTIM entities, bundles, state and clean-up.

pub mod cli;
pub mod correlate;
pub mod detection;
pub mod diag;
pub mod input;
pub mod logline;
pub mod matcher;
pub mod follow;
pub mod report;
pub mod scan;
pub mod signals;
pub mod rules;
pub mod timestamp;
pub mod xdr;

//! hp-xdr-clean: finding and deleting the entities that hp created.
//!
//! An entity is hp's when both hold:
//!
//! - its `source` equals the configured source (default `hp-honeypot`),
//!   compared without case as CTIA does; the search filters on it server-side;
//! - one of its external ids starts with `<prefix>-<type>-` (default prefix
//!   `hp`).
//!
//! So judgements of other tools, such as the blocking-feed entries that SXO
//! workflows create with source `securex-orchestration`, are never selected,
//! and indicators and feeds are never searched at all. Searches follow
//! `X-Next` to the last page rather than stepping offsets, which CTIA
//! refuses past 10,000 results.
//!
//! Deletion order is relationships, judgements, sightings, incidents, so an
//! interrupted run never leaves a relationship that points at nothing. Each
//! entity is deleted by id at `{ctia}/ctia/<type>/<short id>`; an id whose
//! host is not the CTIA host is refused and reported, never contacted.

use std::collections::HashSet;
use std::io::Write;

use jiff::Timestamp;
use serde::Serialize;

use super::client::{self, Client};
use super::error::{Error, Result};
use super::state::StateDir;

/// Entity types hp creates, in deletion order.
pub const DELETE_ORDER: [&str; 4] = ["relationship", "judgement", "sighting", "incident"];

/// After this many consecutive deletes that fail with network errors, the
/// rest are not attempted.
const MAX_CONSECUTIVE_UNREACHABLE: usize = 3;

/// The selection rule: hp's prefix and source, an age and a page size.
#[derive(Clone, Debug)]
pub struct Selection {
    pub prefix: String,
    pub source: String,
    /// Only entities created before this time.
    pub created_before: Option<Timestamp>,
    /// `limit` of each search page.
    pub page_size: usize,
}

/// An entity selected for deletion.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub kind: &'static str,
    pub id: String,
    /// `None` for an entity taken from the state directory.
    pub external_id: Option<String>,
    /// `false` when the id points at a host other than the CTIA host.
    pub on_ctia_host: bool,
}

/// Counts for the end-of-run summary.
#[derive(Clone, Debug, Default)]
pub struct CleanSummary {
    pub selected: usize,
    pub deleted: usize,
    pub already_gone: usize,
    pub refused: usize,
    pub failed: usize,
    /// Deletes not attempted after repeated network failures.
    pub skipped: usize,
    /// The first failure, for the closing message.
    pub first_failure: Option<String>,
}

impl CleanSummary {
    pub fn is_success(&self) -> bool {
        self.refused == 0 && self.failed == 0 && self.skipped == 0
    }
}

#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a str,
    external_id: Option<&'a str>,
    result: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// Searches every type and returns hp's entities in deletion order.
pub fn find(client: &mut Client, selection: &Selection) -> Result<Vec<Candidate>> {
    let mut seen = HashSet::new();
    let mut candidates = Vec::new();

    for kind in DELETE_ORDER {
        let entities =
            client.search_all(kind, &[("source", &selection.source)], selection.page_size)?;
        for entity in &entities {
            if let Some(candidate) = select(entity, kind, selection, client)
                && seen.insert(candidate.id.clone())
            {
                candidates.push(candidate);
            }
        }
    }
    Ok(candidates)
}

fn select(
    entity: &serde_json::Value,
    kind: &'static str,
    selection: &Selection,
    client: &Client,
) -> Option<Candidate> {
    let source = entity["source"].as_str()?;
    if !source.eq_ignore_ascii_case(&selection.source) {
        return None;
    }

    let wanted = format!("{}-{kind}-", selection.prefix).to_ascii_lowercase();
    let external_id = entity["external_ids"]
        .as_array()?
        .iter()
        .filter_map(|xid| xid.as_str())
        .find(|xid| xid.to_ascii_lowercase().starts_with(&wanted))?;

    if let Some(cutoff) = selection.created_before {
        // An entity without a readable creation time is kept: it cannot be
        // shown to be old enough.
        let created = entity["created"]
            .as_str()
            .and_then(|text| text.parse::<Timestamp>().ok())?;
        if created >= cutoff {
            return None;
        }
    }

    let id = entity["id"].as_str()?.to_string();
    Some(Candidate {
        kind,
        on_ctia_host: client::short_id(client.ctia(), kind, &id).is_ok(),
        id,
        external_id: Some(external_id.to_string()),
    })
}

/// Returns the entities recorded in the state directory, in deletion order,
/// for `--from-state`. With `created_before`, only those of addresses sent
/// before that time.
pub fn find_in_state(
    state_dir: &StateDir,
    ctia: &super::config::BaseUrl,
    created_before: Option<Timestamp>,
) -> Result<Vec<Candidate>> {
    let lock = state_dir.lock()?;
    let state = state_dir.load(&lock)?;
    drop(lock);

    let mut seen = HashSet::new();
    let mut candidates = Vec::new();
    for kind in DELETE_ORDER {
        for record in state.sent.values() {
            if created_before.is_some_and(|cutoff| record.sent_at >= cutoff) {
                continue;
            }
            for (role, id) in &record.ids {
                let role_kind = match role.as_str() {
                    "member-of" | "element-of" => "relationship",
                    other => other,
                };
                if role_kind == kind && seen.insert(id.to_ascii_lowercase()) {
                    candidates.push(Candidate {
                        kind,
                        id: id.clone(),
                        external_id: None,
                        on_ctia_host: client::short_id(ctia, kind, id).is_ok(),
                    });
                }
            }
        }
    }
    Ok(candidates)
}

/// Writes what would be deleted, one JSON line per entity, with result
/// `would-delete`, or `refused` for an id on a foreign host.
pub fn list(candidates: &[Candidate], out: &mut dyn Write) -> Result<CleanSummary> {
    let mut summary = CleanSummary {
        selected: candidates.len(),
        ..CleanSummary::default()
    };
    for candidate in candidates {
        let (result, error) = if candidate.on_ctia_host {
            ("would-delete", None)
        } else {
            summary.refused += 1;
            summary
                .first_failure
                .get_or_insert_with(|| refusal(candidate));
            ("refused", Some("the id is not on the configured CTIA host"))
        };
        write_line(out, candidate, result, error)?;
    }
    Ok(summary)
}

/// Deletes the candidates in order and writes one JSON line per entity with
/// result `deleted`, `gone` (404), `refused` or `failed`.
pub fn delete(
    client: &mut Client,
    candidates: &[Candidate],
    out: &mut dyn Write,
    progress: bool,
) -> Result<(CleanSummary, Vec<String>)> {
    let mut summary = CleanSummary {
        selected: candidates.len(),
        ..CleanSummary::default()
    };
    let mut removed_ids = Vec::new();
    let mut consecutive_unreachable = 0;

    for (index, candidate) in candidates.iter().enumerate() {
        if consecutive_unreachable >= MAX_CONSECUTIVE_UNREACHABLE {
            summary.skipped = candidates.len() - index;
            break;
        }
        if !candidate.on_ctia_host {
            summary.refused += 1;
            summary
                .first_failure
                .get_or_insert_with(|| refusal(candidate));
            write_line(
                out,
                candidate,
                "refused",
                Some("the id is not on the configured CTIA host"),
            )?;
            continue;
        }

        match client.delete(candidate.kind, &candidate.id) {
            Ok(deleted) => {
                consecutive_unreachable = 0;
                let result = if deleted {
                    summary.deleted += 1;
                    "deleted"
                } else {
                    summary.already_gone += 1;
                    "gone"
                };
                removed_ids.push(candidate.id.clone());
                write_line(out, candidate, result, None)?;
            }
            Err(err) => {
                if matches!(err, Error::Unreachable { .. }) {
                    consecutive_unreachable += 1;
                }
                summary.failed += 1;
                let text = err.to_string();
                if progress {
                    eprintln!("hp-xdr-clean: {text}");
                }
                summary.first_failure.get_or_insert_with(|| text.clone());
                write_line(out, candidate, "failed", Some(&text))?;
            }
        }
    }
    Ok((summary, removed_ids))
}

/// Removes from the state the addresses whose entities were deleted, so the
/// next hp-xdr run sends them again instead of taking them as sent.
pub fn forget_deleted(state_dir: &StateDir, removed_ids: &[String]) -> Result<usize> {
    let removed: HashSet<String> = removed_ids
        .iter()
        .map(|id| id.to_ascii_lowercase())
        .collect();
    state_dir.update(|state| {
        let before = state.sent.len();
        state.sent.retain(|_, record| {
            !record
                .ids
                .values()
                .any(|id| removed.contains(&id.to_ascii_lowercase()))
        });
        before - state.sent.len()
    })
}

fn refusal(candidate: &Candidate) -> String {
    format!(
        "refused {} {}: the id is not on the configured CTIA host",
        candidate.kind, candidate.id
    )
}

fn write_line(
    out: &mut dyn Write,
    candidate: &Candidate,
    result: &str,
    error: Option<&str>,
) -> Result<()> {
    let line = Line {
        kind: candidate.kind,
        id: &candidate.id,
        external_id: candidate.external_id.as_deref(),
        result,
        error,
    };
    writeln!(
        out,
        "{}",
        serde_json::to_string(&line).expect("a result line always serialises")
    )
    .map_err(Error::Output)
}

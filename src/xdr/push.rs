//! One hp-xdr run: attackers in, bundles imported, state updated.
//!
//! The steps take the state lock only for a state update or one bundle
//! import, never for the whole run:
//!
//! 1. Queue: the new attackers are saved in the state directory's spool
//!    (no lock needed), then join the queue, and the whole queue is what
//!    this run sends, oldest first. Addresses whose
//!    earlier send is still valid leave the queue unsent, unless `resend`.
//!    From here on, a crash or a network failure loses no address.
//! 2. Feed: with a blocking feed, the indicators of the needed address
//!    families are resolved.
//! 3. Import: bundle by bundle, under the lock, the bundle is imported and
//!    every per-entity result is checked. Only when all of a bundle's
//!    entities are `created` or `exists` are its addresses recorded as sent
//!    and removed from the queue.
//!
//! Each entity result is written to `out` as one JSON line:
//! `{"type":"incident","id":"https://.../ctia/incident/incident-<uuid>","external_id":"hp-incident-<hex>","result":"created"}`,
//! with an `error` field when `result` is `error` or `missing`.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;

use jiff::Timestamp;
use serde::Serialize;

use super::bundle::{self, BuildOptions, FeedTargets, PlannedBundle, Role};
use super::client::Client;
use super::config::Settings;
use super::ctim::{EntityResult, ImportResponse};
use super::error::{Error, Result};
use super::feed;
use super::input::Attacker;
use super::state::{SentRecord, StateDir};

/// Options of one run.
#[derive(Clone, Debug)]
pub struct PushOptions {
    /// Send addresses even if an earlier send is still valid.
    pub resend: bool,
    /// Time of the run: start of the judgements' valid_time.
    pub run_time: Timestamp,
    /// Print progress on stderr.
    pub progress: bool,
}

/// Counts for the end-of-run summary.
#[derive(Clone, Debug, Default)]
pub struct PushSummary {
    pub pending: usize,
    pub skipped_as_sent: usize,
    pub bundles_sent: usize,
    pub addresses_sent: usize,
    pub created: usize,
    pub exists: usize,
    pub still_queued: usize,
    /// The input was saved in the state directory, so a run that fails
    /// later (even waiting for the lock) loses none of it.
    pub spooled: bool,
}

/// The result of a run: the counts, and the error that stopped it, if any.
#[derive(Debug)]
pub struct PushOutcome {
    pub summary: PushSummary,
    pub error: Option<Error>,
}

/// One line of hp-xdr's standard output.
#[derive(Debug, Serialize)]
pub struct ResultLine<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub id: Option<&'a str>,
    pub external_id: &'a str,
    pub result: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Writes the bundles for `attackers` to `out`, one JSON document per line,
/// without contacting XDR or touching the state directory.
pub fn dry_run(
    settings: &Settings,
    attackers: &[Attacker],
    run_time: Timestamp,
    out: &mut dyn Write,
) -> Result<usize> {
    let honeypot = settings.honeypot()?;
    let attackers = &without_honeypot(attackers, &honeypot);
    let targets = settings.feed.as_ref().map(feed::describe);
    let options = build_options(settings, &honeypot, targets.as_ref(), run_time);
    let plans = bundle::plan(attackers, &options)?;

    for planned in &plans {
        let line = serde_json::to_string(&planned.bundle).expect("a bundle always serialises");
        write_line(out, &line)?;
    }
    Ok(plans.len())
}

/// Sends the queue plus `attackers` to XDR.
pub fn push(
    settings: &Settings,
    client: &mut Client,
    state_dir: &StateDir,
    attackers: &[Attacker],
    options: &PushOptions,
    out: &mut dyn Write,
) -> PushOutcome {
    let mut summary = PushSummary::default();
    let error = push_steps(
        settings,
        client,
        state_dir,
        attackers,
        options,
        out,
        &mut summary,
    )
    .err();

    let lock_timed_out = matches!(error, Some(Error::LockTimeout { .. }));
    if error.is_some()
        && !lock_timed_out
        && let Ok(queued) = state_dir.lock().and_then(|lock| state_dir.load(&lock))
    {
        summary.still_queued = queued.queue.len();
    }
    PushOutcome { summary, error }
}

fn push_steps(
    settings: &Settings,
    client: &mut Client,
    state_dir: &StateDir,
    attackers: &[Attacker],
    options: &PushOptions,
    out: &mut dyn Write,
    summary: &mut PushSummary,
) -> Result<()> {
    let honeypot = settings.honeypot()?;
    let now = options.run_time;
    let attackers = &without_honeypot(attackers, &honeypot);

    state_dir.spool(attackers)?;
    summary.spooled = !attackers.is_empty();

    let feed = settings.feed.is_some();
    let (pending, skipped) = state_dir.update(|state| {
        let before = state.queue.len();
        if !options.resend {
            let queue = std::mem::take(&mut state.queue);
            state.queue = queue
                .into_iter()
                .filter(|a| !state.is_sent(a.ip, now, feed))
                .collect();
        }
        (state.queue.clone(), before - state.queue.len())
    })?;
    summary.pending = pending.len();
    summary.skipped_as_sent = skipped;
    if pending.is_empty() {
        return Ok(());
    }

    let targets = match &settings.feed {
        Some(feed_settings) => {
            let need_ipv4 = pending.iter().any(|a| a.ip.is_ipv4());
            let need_ipv6 = pending.iter().any(|a| a.ip.is_ipv6());
            Some(feed::resolve(client, feed_settings, need_ipv4, need_ipv6)?)
        }
        None => None,
    };

    let build = build_options(settings, &honeypot, targets.as_ref(), now);
    // NOTE: bundles are cut from the current queue. After a run that failed
    // halfway, the addresses left may be grouped differently next time, so a
    // sighting that was created but whose bundle failed stays beside a new one.
    let plans = bundle::plan(&pending, &build)?;

    for (index, planned) in plans.iter().enumerate() {
        if options.progress {
            eprintln!(
                "hp-xdr: importing bundle {} of {} ({} addresses, {} entities)",
                index + 1,
                plans.len(),
                planned.addresses.len(),
                planned.bundle.entity_count()
            );
        }
        import_one(settings, client, state_dir, planned, now, out, summary)?;
    }
    Ok(())
}

fn import_one(
    settings: &Settings,
    client: &mut Client,
    state_dir: &StateDir,
    planned: &PlannedBundle,
    now: Timestamp,
    out: &mut dyn Write,
    summary: &mut PushSummary,
) -> Result<()> {
    let lock = state_dir.lock()?;
    super::pause::point(super::pause::BEFORE_IMPORT);
    let response = client.import_bundle(&planned.bundle, &settings.prefix)?;
    let matched = match_results(planned, &response);

    let mut failures = Vec::new();
    for (entity, result) in planned.entities.iter().zip(&matched) {
        let line = match result {
            Some(result) if result.succeeded() => ResultLine {
                kind: entity.kind,
                id: result.id.as_deref(),
                external_id: &entity.external_id,
                result: &result.result,
                error: None,
            },
            Some(result) => {
                let text = result.error_text();
                failures.push(format!("{} {}: {text}", entity.kind, entity.external_id));
                ResultLine {
                    kind: entity.kind,
                    id: result.id.as_deref(),
                    external_id: &entity.external_id,
                    result: "error",
                    error: Some(text),
                }
            }
            None => {
                failures.push(format!(
                    "{} {}: no result in the import response",
                    entity.kind, entity.external_id
                ));
                ResultLine {
                    kind: entity.kind,
                    id: None,
                    external_id: &entity.external_id,
                    result: "missing",
                    error: Some("no result in the import response".to_string()),
                }
            }
        };
        write_line(
            out,
            &serde_json::to_string(&line).expect("a result line always serialises"),
        )?;
    }

    if let Some(first) = failures.first() {
        return Err(Error::EntityErrors {
            count: failures.len(),
            first: format!(
                "{first}; the bundle's addresses stay queued in {}",
                state_dir.path().display()
            ),
        });
    }

    for result in matched.iter().flatten() {
        match result.result.as_str() {
            "created" => summary.created += 1,
            _ => summary.exists += 1,
        }
    }

    super::pause::point(super::pause::AFTER_IMPORT);
    let records = sent_records(planned, &matched, now);
    let mut state = state_dir.load(&lock)?;
    state.dequeue(&planned.addresses);
    state.sent.extend(records);
    state_dir.save(&lock, &state)?;

    summary.bundles_sent += 1;
    summary.addresses_sent += planned.addresses.len();
    Ok(())
}

/// Finds the result of each planned entity: by `original_id` (the
/// transient id), else by type and external id, compared without case as
/// CTIA does.
fn match_results<'a>(
    planned: &PlannedBundle,
    response: &'a ImportResponse,
) -> Vec<Option<&'a EntityResult>> {
    planned
        .entities
        .iter()
        .map(|entity| {
            let transient = super::xid::transient_id(&entity.external_id);
            response
                .results
                .iter()
                .find(|result| result.original_id.as_deref() == Some(transient.as_str()))
                .or_else(|| {
                    response.results.iter().find(|result| {
                        result.kind == entity.kind
                            && result
                                .external_ids
                                .iter()
                                .any(|xid| xid.eq_ignore_ascii_case(&entity.external_id))
                    })
                })
        })
        .collect()
}

/// Builds the state records of a bundle whose entities all succeeded.
fn sent_records(
    planned: &PlannedBundle,
    matched: &[Option<&EntityResult>],
    now: Timestamp,
) -> BTreeMap<IpAddr, SentRecord> {
    let mut shared = BTreeMap::new();
    let mut own: BTreeMap<IpAddr, BTreeMap<String, String>> = BTreeMap::new();

    for (entity, result) in planned.entities.iter().zip(matched) {
        let Some(id) = result.and_then(|r| r.id.clone()) else {
            continue;
        };
        let role = match entity.role {
            Role::Incident => "incident",
            Role::Sighting => "sighting",
            Role::MemberOf => "member-of",
            Role::Judgement => "judgement",
            Role::ElementOf => "element-of",
        };
        match entity.address {
            Some(ip) => {
                own.entry(ip).or_default().insert(role.to_string(), id);
            }
            None => {
                shared.insert(role.to_string(), id);
            }
        }
    }

    planned
        .addresses
        .iter()
        .map(|ip| {
            let mut ids = shared.clone();
            ids.extend(own.remove(ip).unwrap_or_default());
            let record = SentRecord {
                sent_at: now,
                valid_until: planned.valid_until,
                ids,
            };
            (*ip, record)
        })
        .collect()
}

/// Drops the honeypot's own address from the attackers, with a warning:
/// it is the sighting's target, and a judgement would block the honeypot.
fn without_honeypot(attackers: &[Attacker], honeypot: &super::config::Honeypot) -> Vec<Attacker> {
    let (own, others): (Vec<&Attacker>, Vec<&Attacker>) =
        attackers.iter().partition(|a| a.ip == honeypot.ip);
    if !own.is_empty() {
        eprintln!(
            "hp-xdr: warning: skipped {}, the honeypot's own address, in the input",
            honeypot.ip
        );
    }
    others.into_iter().cloned().collect()
}

fn build_options<'a>(
    settings: &'a Settings,
    honeypot: &'a super::config::Honeypot,
    targets: Option<&'a FeedTargets>,
    run_time: Timestamp,
) -> BuildOptions<'a> {
    BuildOptions {
        prefix: &settings.prefix,
        source: &settings.source,
        honeypot,
        judgement_days: settings.judgement_days,
        max_entities: settings.max_entities,
        feed: targets,
        run_time,
    }
}

fn write_line(out: &mut dyn Write, line: &str) -> Result<()> {
    writeln!(out, "{line}").map_err(Error::Output)
}

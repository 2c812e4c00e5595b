//! The bundle builder: from attackers to self-contained CTIM bundles.
//!
//! A batch of attackers becomes one incident, split into bundles of at most
//! `max_entities` entities. Each bundle carries:
//!
//! - the batch's incident (the same entity and external id in every bundle,
//!   so the first import creates it and the others find it `exists`);
//! - one sighting of the bundle's attackers, with the honeypot as target and
//!   one `Connected_To` relation from each attacker to the honeypot;
//! - the relationship sighting `member-of` incident;
//! - with a blocking feed, one judgement per attacker and its `element-of`
//!   relationship to the indicator of the attacker's address family.
//!
//! So a bundle contains 3 entities plus 2 per attacker with a feed, and at most
//! `max_entities - 3` attackers without one, which keeps each sighting's
//! observable list bounded too.

use std::net::IpAddr;

use jiff::Timestamp;

use super::config::Honeypot;
use super::ctim::{
    self, Bundle, Incident, IncidentTime, Judgement, Observable, ObservedTime, Relation,
    Relationship, Sighting, Target, ValidTime,
};
use super::error::{Error, Result};
use super::input::Attacker;
use super::xid;

/// The smallest bundle that contains one attacker with a feed: incident,
/// sighting, member-of, judgement and element-of.
pub const MIN_ENTITIES: usize = 5;

/// The incident description is markdown of at most 5000 characters in CTIM;
/// the attacker table stops below that and states how many rows it left out.
const DESCRIPTION_BUDGET: usize = 4600;

/// The indicator ids that judgements are linked to, per address family.
#[derive(Clone, Debug, Default)]
pub struct FeedTargets {
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
}

/// Everything the builder needs besides the attackers.
#[derive(Clone, Debug)]
pub struct BuildOptions<'a> {
    pub prefix: &'a str,
    pub source: &'a str,
    pub honeypot: &'a Honeypot,
    pub judgement_days: u32,
    pub max_entities: usize,
    /// `None` sends no judgements.
    pub feed: Option<&'a FeedTargets>,
    /// Start of the judgements' valid_time, and the date in their external ids.
    pub run_time: Timestamp,
}

/// The part an entity plays in a bundle, so results can be stored per address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Incident,
    Sighting,
    MemberOf,
    Judgement,
    ElementOf,
}

/// One entity of a planned bundle.
#[derive(Clone, Debug)]
pub struct PlannedEntity {
    pub role: Role,
    pub kind: &'static str,
    pub external_id: String,
    /// The attacker a judgement or element-of belongs to.
    pub address: Option<IpAddr>,
}

/// A bundle with its addresses and the external id of each entity.
#[derive(Clone, Debug)]
pub struct PlannedBundle {
    pub bundle: Bundle,
    pub addresses: Vec<IpAddr>,
    pub entities: Vec<PlannedEntity>,
    /// End of the judgements' valid_time; without a feed, when the addresses
    /// may be sent again.
    pub valid_until: Timestamp,
}

/// Splits `attackers` into bundles. The attackers are sorted by address
/// first, so the same input always gives the same bundles and sighting ids.
pub fn plan(attackers: &[Attacker], options: &BuildOptions) -> Result<Vec<PlannedBundle>> {
    if attackers.is_empty() {
        return Ok(Vec::new());
    }
    if options.max_entities < MIN_ENTITIES {
        return Err(Error::config(
            "--max-entities",
            format!(
                "{} is too small; use at least {MIN_ENTITIES}",
                options.max_entities
            ),
        ));
    }

    let mut sorted = attackers.to_vec();
    sorted.sort_by_key(|attacker| attacker.ip);

    let per_bundle = match options.feed {
        Some(_) => (options.max_entities - 3) / 2,
        None => options.max_entities - 3,
    };
    let valid_until = add_days(options.run_time, options.judgement_days);
    let incident = build_incident(&sorted, options);
    let incident_xid = incident.external_ids[0].clone();

    let mut bundles = Vec::new();
    for chunk in sorted.chunks(per_bundle) {
        bundles.push(plan_one(
            chunk,
            &incident,
            &incident_xid,
            valid_until,
            options,
        )?);
    }
    Ok(bundles)
}

fn plan_one(
    attackers: &[Attacker],
    incident: &Incident,
    incident_xid: &str,
    valid_until: Timestamp,
    options: &BuildOptions,
) -> Result<PlannedBundle> {
    let addresses: Vec<IpAddr> = attackers.iter().map(|a| a.ip).collect();
    let mut entities = vec![PlannedEntity {
        role: Role::Incident,
        kind: "incident",
        external_id: incident_xid.to_string(),
        address: None,
    }];

    let sighting = build_sighting(attackers, incident_xid, options);
    let sighting_xid = sighting.external_ids[0].clone();
    entities.push(PlannedEntity {
        role: Role::Sighting,
        kind: "sighting",
        external_id: sighting_xid.clone(),
        address: None,
    });

    let member_of = build_relationship(
        options,
        "member-of",
        (&sighting_xid, &sighting.id),
        (incident_xid, &incident.id),
    );
    entities.push(PlannedEntity {
        role: Role::MemberOf,
        kind: "relationship",
        external_id: member_of.external_ids[0].clone(),
        address: None,
    });

    let mut judgements = Vec::new();
    let mut relationships = vec![member_of];
    if let Some(feed) = options.feed {
        for attacker in attackers {
            let indicator = indicator_for(feed, attacker.ip)?;
            let judgement = build_judgement(attacker, valid_until, options);
            let judgement_xid = judgement.external_ids[0].clone();
            let element_of = build_relationship(
                options,
                "element-of",
                (&judgement_xid, &judgement.id),
                (indicator, indicator),
            );

            entities.push(PlannedEntity {
                role: Role::Judgement,
                kind: "judgement",
                external_id: judgement_xid,
                address: Some(attacker.ip),
            });
            entities.push(PlannedEntity {
                role: Role::ElementOf,
                kind: "relationship",
                external_id: element_of.external_ids[0].clone(),
                address: Some(attacker.ip),
            });
            judgements.push(judgement);
            relationships.push(element_of);
        }
    }

    let bundle = Bundle {
        kind: "bundle",
        source: options.source.to_string(),
        incidents: vec![incident.clone()],
        sightings: vec![sighting],
        judgements,
        relationships,
    };
    debug_assert!(bundle.entity_count() <= options.max_entities);

    Ok(PlannedBundle {
        bundle,
        addresses,
        entities,
        valid_until,
    })
}

fn indicator_for(feed: &FeedTargets, ip: IpAddr) -> Result<&str> {
    let (indicator, key) = match ip {
        IpAddr::V4(_) => (&feed.ipv4, "ipv4_indicator_id"),
        IpAddr::V6(_) => (&feed.ipv6, "ipv6_indicator_id"),
    };
    indicator.as_deref().ok_or_else(|| {
        Error::config(
            key,
            format!("no indicator for {ip}; set {key} or its title in the config file"),
        )
    })
}

fn add_days(time: Timestamp, days: u32) -> Timestamp {
    let seconds = time.as_second().saturating_add(i64::from(days) * 86_400);
    Timestamp::from_second(seconds).unwrap_or(Timestamp::MAX)
}

/// Returns the MITRE ATT&CK tactic and technique that fit a rule, guessed
/// from the words of its name (split at anything but letters and digits).
/// A login or brute force is Credential Access / Brute Force. An exploit is
/// Initial Access / Exploit Public-Facing Application. A scan is
/// Reconnaissance / Active Scanning.
pub fn mitre_for_rule(rule: &str) -> Option<(&'static str, &'static str)> {
    let name = rule.to_ascii_lowercase();
    let words: Vec<&str> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |stems: &[&str]| {
        words
            .iter()
            .any(|word| stems.iter().any(|stem| word.starts_with(stem)))
    };

    if has(&["login", "brute", "password", "credential", "auth"]) {
        Some(("TA0006", "T1110"))
    } else if has(&[
        "exploit",
        "rce",
        "inject",
        "sqli",
        "traversal",
        "shell",
        "webshell",
        "cve",
        "lfi",
        "rfi",
    ]) {
        Some(("TA0001", "T1190"))
    } else if has(&["scan", "probe", "recon", "enum", "crawl"]) {
        Some(("TA0043", "T1595"))
    } else {
        None
    }
}

fn build_incident(attackers: &[Attacker], options: &BuildOptions) -> Incident {
    let honeypot = options.honeypot;
    let first_seen = attackers
        .iter()
        .map(|a| a.first_seen)
        .min()
        .expect("attackers is not empty");
    let last_seen = attackers
        .iter()
        .map(|a| a.last_seen)
        .max()
        .expect("attackers is not empty");
    let external_id = xid::incident(options.prefix, &honeypot.name, first_seen);

    let mut tactics = Vec::new();
    let mut techniques = Vec::new();
    for rule in attackers.iter().flat_map(|a| a.rules.keys()) {
        if let Some((tactic, technique)) = mitre_for_rule(rule) {
            if !tactics.contains(&tactic) {
                tactics.push(tactic);
            }
            if !techniques.contains(&technique) {
                techniques.push(technique);
            }
        }
    }
    tactics.sort_unstable();
    techniques.sort_unstable();
    let severity = if techniques.contains(&"T1190") {
        "High"
    } else {
        "Medium"
    };

    let date = xid::utc_date(first_seen);
    Incident {
        kind: "incident",
        id: xid::transient_id(&external_id),
        external_ids: vec![external_id],
        source: options.source.to_string(),
        title: format!("Honeypot {} attacked on {date}", honeypot.name),
        short_description: format!(
            "Addresses that attacked the honeypot {} ({}) on {date} (UTC), found in its access log by hp.",
            honeypot.hostname, honeypot.ip
        ),
        description: describe_incident(attackers, honeypot, first_seen, last_seen),
        status: "New",
        confidence: "High",
        severity,
        tlp: "amber",
        incident_time: IncidentTime {
            opened: ctim::time(first_seen),
            discovered: ctim::time(last_seen),
        },
        categories: vec!["Scans/Probes/Attempted Access"],
        discovery_method: "Log Review",
        promotion_method: "Automated",
        tactics,
        techniques,
    }
}

/// Writes the markdown description: a sentence on the honeypot and the time
/// span, then one table row per attacker, busiest first.
fn describe_incident(
    attackers: &[Attacker],
    honeypot: &Honeypot,
    first_seen: Timestamp,
    last_seen: Timestamp,
) -> String {
    let mut text = format!(
        "hp found {} attacking address(es) in the access log of the honeypot **{}** ({}), between {} and {}.\n\n\
         | Attacker | Hits | All hits | Rules |\n| --- | ---: | ---: | --- |\n",
        attackers.len(),
        honeypot.hostname,
        honeypot.ip,
        ctim::time(first_seen),
        ctim::time(last_seen),
    );

    let mut by_hits: Vec<&Attacker> = attackers.iter().collect();
    by_hits.sort_by(|a, b| b.count.cmp(&a.count).then(a.ip.cmp(&b.ip)));

    for (shown, attacker) in by_hits.iter().enumerate() {
        let rules: Vec<String> = attacker
            .rules
            .iter()
            .map(|(rule, hits)| format!("{rule} ({hits})"))
            .collect();
        let row = format!(
            "| {} | {} | {} | {} |\n",
            attacker.ip,
            attacker.count,
            attacker.total,
            rules.join(", ")
        );
        if text.len() + row.len() > DESCRIPTION_BUDGET {
            text.push_str(&format!(
                "\nand {} more attacker(s) not listed here.\n",
                by_hits.len() - shown
            ));
            break;
        }
        text.push_str(&row);
    }
    text
}

fn build_sighting(attackers: &[Attacker], incident_xid: &str, options: &BuildOptions) -> Sighting {
    let honeypot = options.honeypot;
    let addresses: Vec<IpAddr> = attackers.iter().map(|a| a.ip).collect();
    let external_id = xid::sighting(options.prefix, incident_xid, &addresses);

    let first_seen = attackers
        .iter()
        .map(|a| a.first_seen)
        .min()
        .expect("attackers is not empty");
    let last_seen = attackers
        .iter()
        .map(|a| a.last_seen)
        .max()
        .expect("attackers is not empty");
    let observed_time = ObservedTime {
        start_time: ctim::time(first_seen),
        end_time: ctim::time(last_seen),
    };

    // The honeypot's address is an observable too. XDR is reported not to
    // create a sighting whose relations name an observable missing from this
    // list; CTIM itself does not check it.
    let honeypot_observable = Observable::address(honeypot.ip);
    let mut observables = vec![honeypot_observable.clone()];
    observables.extend(addresses.iter().map(|ip| Observable::address(*ip)));

    let mut target_observables = vec![
        honeypot_observable.clone(),
        Observable {
            kind: "hostname".to_string(),
            value: honeypot.hostname.clone(),
        },
    ];
    if let Some(mac) = &honeypot.mac {
        target_observables.push(Observable {
            kind: "mac_address".to_string(),
            value: mac.clone(),
        });
    }

    let relations = addresses
        .iter()
        .map(|ip| Relation {
            origin: format!("hp on {}", honeypot.hostname),
            relation: "Connected_To",
            source: Observable::address(*ip),
            related: honeypot_observable.clone(),
        })
        .collect();

    let hits: u64 = attackers
        .iter()
        .map(|a| a.total)
        .fold(0, u64::saturating_add);
    Sighting {
        kind: "sighting",
        id: xid::transient_id(&external_id),
        external_ids: vec![external_id],
        source: options.source.to_string(),
        title: format!("Attacks on honeypot {}", honeypot.name),
        description: format!(
            "{} address(es) sent {hits} request(s) that matched hp's rules.",
            addresses.len()
        ),
        confidence: "High",
        severity: "Medium",
        tlp: "amber",
        count: hits.max(1),
        sensor: "endpoint.server",
        resolution: "detected",
        internal: false,
        observed_time: ObservedTime {
            start_time: observed_time.start_time.clone(),
            end_time: observed_time.end_time.clone(),
        },
        observables,
        targets: vec![Target {
            kind: "endpoint.server",
            observables: target_observables,
            observed_time,
        }],
        relations,
    }
}

fn build_judgement(
    attacker: &Attacker,
    valid_until: Timestamp,
    options: &BuildOptions,
) -> Judgement {
    let observable = Observable::address(attacker.ip);
    let external_id = xid::judgement(
        options.prefix,
        &observable.kind,
        &observable.value,
        options.run_time,
    );
    let rules: Vec<&str> = attacker.rules.keys().map(String::as_str).collect();
    let reason = if rules.is_empty() {
        format!("Attacked the honeypot {}.", options.honeypot.name)
    } else {
        format!(
            "Attacked the honeypot {}: {}.",
            options.honeypot.name,
            rules.join(", ")
        )
    };

    Judgement {
        kind: "judgement",
        id: xid::transient_id(&external_id),
        external_ids: vec![external_id],
        source: options.source.to_string(),
        observable,
        disposition: 2,
        disposition_name: "Malicious",
        // 90: the highest priority CTIM advises for automated sources.
        priority: 90,
        confidence: "High",
        severity: "High",
        tlp: "amber",
        valid_time: ValidTime {
            start_time: ctim::time(options.run_time),
            end_time: ctim::time(valid_until),
        },
        reason: truncate(&reason, 1024),
    }
}

/// Builds a relationship. `source` and `target` are `(external id or id,
/// reference)`: the external id goes into the hash, the reference (a
/// transient id or a full CTIA id) into the entity.
fn build_relationship(
    options: &BuildOptions,
    relationship_type: &'static str,
    source: (&str, &str),
    target: (&str, &str),
) -> Relationship {
    let external_id = xid::relationship(options.prefix, source.0, relationship_type, target.0);
    Relationship {
        kind: "relationship",
        id: xid::transient_id(&external_id),
        external_ids: vec![external_id],
        source: options.source.to_string(),
        relationship_type,
        source_ref: source.1.to_string(),
        target_ref: target.1.to_string(),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;

    fn honeypot() -> Honeypot {
        Honeypot {
            name: "web01".into(),
            hostname: "web01.example.net".into(),
            ip: "198.51.100.10".parse().unwrap(),
            mac: Some("00:00:5e:00:53:01".into()),
        }
    }

    fn attacker(ip: &str, count: u64) -> Attacker {
        Attacker {
            ip: ip.parse().unwrap(),
            count,
            total: count + 1,
            rules: BTreeMap::from([("phpmyadmin-login".to_string(), count)]),
            first_seen: "2021-03-28T15:45:11+02:00".parse().unwrap(),
            last_seen: "2021-03-28T16:02:40+02:00".parse().unwrap(),
        }
    }

    fn feed() -> FeedTargets {
        FeedTargets {
            ipv4: Some("https://ctia.example/ctia/indicator/indicator-4".into()),
            ipv6: Some("https://ctia.example/ctia/indicator/indicator-6".into()),
        }
    }

    fn options<'a>(
        honeypot: &'a Honeypot,
        feed: Option<&'a FeedTargets>,
        max_entities: usize,
    ) -> BuildOptions<'a> {
        BuildOptions {
            prefix: "hp",
            source: "hp-honeypot",
            honeypot,
            judgement_days: 30,
            max_entities,
            feed,
            run_time: "2026-12-04T20:00:00Z".parse().unwrap(),
        }
    }

    fn json(planned: &PlannedBundle) -> serde_json::Value {
        serde_json::to_value(&planned.bundle).unwrap()
    }

    #[test]
    fn same_input_gives_same_ids() {
        let hp = honeypot();
        let targets = feed();
        let attackers = [attacker("192.0.2.217", 191), attacker("192.0.2.79", 11)];
        let reversed = [attackers[1].clone(), attackers[0].clone()];

        let first = plan(&attackers, &options(&hp, Some(&targets), 500)).unwrap();
        let mut later = options(&hp, Some(&targets), 500);
        later.run_time = "2026-12-04T23:59:59Z".parse().unwrap();
        let second = plan(&reversed, &later).unwrap();

        let ids = |plans: &[PlannedBundle]| -> Vec<String> {
            plans
                .iter()
                .flat_map(|p| p.entities.iter().map(|e| e.external_id.clone()))
                .collect()
        };
        assert_eq!(ids(&first), ids(&second));
    }

    #[test]
    fn split_respects_max_entities() {
        let hp = honeypot();
        let targets = feed();
        let attackers: Vec<Attacker> = (1..=23)
            .map(|i| attacker(&format!("192.0.2.{i}"), i))
            .collect();
        let plans = plan(&attackers, &options(&hp, Some(&targets), 9)).unwrap();

        // (9 - 3) / 2 = 3 attackers per bundle.
        assert_eq!(plans.len(), 8);
        let mut seen = HashSet::new();
        for planned in &plans {
            assert!(planned.bundle.entity_count() <= 9);
            assert_eq!(planned.bundle.entity_count(), planned.entities.len());
            for ip in &planned.addresses {
                assert!(seen.insert(*ip), "{ip} is in two bundles");
            }
        }
        assert_eq!(seen.len(), 23);
    }

    #[test]
    fn each_bundle_is_self_contained() {
        let hp = honeypot();
        let targets = feed();
        let attackers: Vec<Attacker> = (1..=7)
            .map(|i| attacker(&format!("192.0.2.{i}"), i))
            .collect();
        for planned in plan(&attackers, &options(&hp, Some(&targets), 7)).unwrap() {
            let value = json(&planned);
            let mut ids: HashSet<String> = HashSet::new();
            for list in ["incidents", "sightings", "judgements"] {
                for entity in value[list].as_array().unwrap() {
                    ids.insert(entity["id"].as_str().unwrap().to_string());
                }
            }
            for relationship in value["relationships"].as_array().unwrap() {
                for key in ["source_ref", "target_ref"] {
                    let reference = relationship[key].as_str().unwrap();
                    assert!(
                        ids.contains(reference)
                            || reference.starts_with("https://ctia.example/ctia/indicator/"),
                        "{reference} is not in the bundle"
                    );
                }
            }
            let sighting = &value["sightings"][0];
            let observables: Vec<&serde_json::Value> =
                sighting["observables"].as_array().unwrap().iter().collect();
            for relation in sighting["relations"].as_array().unwrap() {
                assert!(observables.contains(&&relation["source"]));
                assert!(observables.contains(&&relation["related"]));
                assert_eq!(relation["relation"], "Connected_To");
                assert_eq!(relation["related"]["value"], "198.51.100.10");
            }
        }
    }

    #[test]
    fn every_entity_has_one_prefixed_xid() {
        let hp = honeypot();
        let targets = feed();
        let plans = plan(
            &[attacker("2001:db8::5", 3)],
            &options(&hp, Some(&targets), 500),
        )
        .unwrap();
        let value = json(&plans[0]);
        for list in ["incidents", "sightings", "judgements", "relationships"] {
            for entity in value[list].as_array().unwrap() {
                let xids = entity["external_ids"].as_array().unwrap();
                assert_eq!(xids.len(), 1);
                let xid = xids[0].as_str().unwrap();
                assert!(
                    xid.starts_with(&format!("hp-{}-", entity["type"].as_str().unwrap())),
                    "{xid}"
                );
                assert_eq!(entity["id"].as_str().unwrap(), format!("transient:{xid}"));
            }
        }
        assert_eq!(value["judgements"][0]["observable"]["type"], "ipv6");
        assert_eq!(
            value["relationships"][1]["target_ref"],
            "https://ctia.example/ctia/indicator/indicator-6"
        );
    }

    #[test]
    fn times_come_from_the_log_in_utc() {
        let hp = honeypot();
        let plans = plan(&[attacker("192.0.2.217", 191)], &options(&hp, None, 500)).unwrap();
        let value = json(&plans[0]);
        assert_eq!(
            value["incidents"][0]["incident_time"]["opened"],
            "2021-03-28T13:45:11Z"
        );
        assert_eq!(
            value["sightings"][0]["observed_time"]["start_time"],
            "2021-03-28T13:45:11Z"
        );
        assert_eq!(
            value["sightings"][0]["observed_time"]["end_time"],
            "2021-03-28T14:02:40Z"
        );
        assert_eq!(value["sightings"][0]["count"], 192);
        assert_eq!(
            value["incidents"][0]["tactics"],
            serde_json::json!(["TA0006"])
        );
        assert_eq!(
            value["incidents"][0]["techniques"],
            serde_json::json!(["T1110"])
        );
        assert!(value.get("judgements").is_none());
    }

    #[test]
    fn judgement_is_valid_for_configured_days() {
        let hp = honeypot();
        let targets = feed();
        let plans = plan(
            &[attacker("192.0.2.1", 1)],
            &options(&hp, Some(&targets), 500),
        )
        .unwrap();
        let judgement = &json(&plans[0])["judgements"][0];
        assert_eq!(
            judgement["valid_time"]["start_time"],
            "2026-12-04T20:00:00Z"
        );
        assert_eq!(judgement["valid_time"]["end_time"], "2027-01-03T20:00:00Z");
        assert_eq!(judgement["disposition"], 2);
        assert_eq!(judgement["disposition_name"], "Malicious");
        assert_eq!(judgement["priority"], 90);
    }

    #[test]
    fn missing_indicator_is_an_error() {
        let hp = honeypot();
        let targets = FeedTargets {
            ipv4: Some("https://ctia.example/ctia/indicator/indicator-4".into()),
            ipv6: None,
        };
        let err = plan(
            &[attacker("2001:db8::5", 1)],
            &options(&hp, Some(&targets), 500),
        )
        .unwrap_err();
        assert!(err.to_string().contains("ipv6_indicator_id"), "{err}");
    }

    #[test]
    fn mitre_mapping_by_rule_name() {
        assert_eq!(
            mitre_for_rule("phpmyadmin-login"),
            Some(("TA0006", "T1110"))
        );
        assert_eq!(mitre_for_rule("struts-rce"), Some(("TA0001", "T1190")));
        assert_eq!(mitre_for_rule("resource-scan"), Some(("TA0043", "T1595")));
        assert_eq!(mitre_for_rule("odd"), None);
    }
}

//! External ids: the deterministic names that make a re-run create nothing.
//!
//! Every entity that hp sends carries exactly one external id,
//! `<prefix>-<type>-<sha256 hex>`, where the hash is taken over fields of the
//! input joined by `|`, never over counts or the clock of the run:
//!
//! | entity | hashed fields |
//! | --- | --- |
//! | incident | honeypot name, UTC date of the batch's earliest first_seen |
//! | sighting | incident external id, the sorted attacker addresses of the bundle |
//! | relationship | source external id (or id), relationship type, target external id (or id) |
//! | judgement | observable type, value, UTC date its valid_time starts |
//!
//! The hex is lowercase, so CTIA's case-insensitive match cannot merge two
//! ids. The bundle uses `transient:<external id>` as each entity's id, so
//! import results map back through `original_id`.

use std::net::IpAddr;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// Builds `<prefix>-<type>-<sha256 hex of fields joined by '|'>`.
pub fn external_id(prefix: &str, entity_type: &str, fields: &[&str]) -> String {
    let digest = Sha256::digest(fields.join("|").as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        hex.push_str(&format!("{byte:02x}"));
    }
    format!("{prefix}-{entity_type}-{hex}")
}

/// Returns the transient id that stands for an entity inside one bundle.
pub fn transient_id(external_id: &str) -> String {
    format!("transient:{external_id}")
}

/// Returns the UTC calendar date of a time, `YYYY-MM-DD`.
pub fn utc_date(time: Timestamp) -> String {
    time.strftime("%Y-%m-%d").to_string()
}

pub fn incident(prefix: &str, honeypot_name: &str, earliest_first_seen: Timestamp) -> String {
    external_id(
        prefix,
        "incident",
        &[honeypot_name, &utc_date(earliest_first_seen)],
    )
}

/// `addresses` need not be sorted; they are sorted here.
pub fn sighting(prefix: &str, incident_xid: &str, addresses: &[IpAddr]) -> String {
    let mut sorted: Vec<IpAddr> = addresses.to_vec();
    sorted.sort();
    sorted.dedup();
    let texts: Vec<String> = sorted.iter().map(IpAddr::to_string).collect();

    let mut fields: Vec<&str> = vec![incident_xid];
    fields.extend(texts.iter().map(String::as_str));
    external_id(prefix, "sighting", &fields)
}

pub fn relationship(prefix: &str, source: &str, relationship_type: &str, target: &str) -> String {
    external_id(prefix, "relationship", &[source, relationship_type, target])
}

pub fn judgement(
    prefix: &str,
    observable_type: &str,
    value: &str,
    valid_from: Timestamp,
) -> String {
    external_id(
        prefix,
        "judgement",
        &[observable_type, value, &utc_date(valid_from)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn external_id_has_prefix_type_and_hash() {
        let id = external_id("hp", "incident", &["a", "b"]);
        let hash = id.strip_prefix("hp-incident-").unwrap();
        assert_eq!(hash.len(), 64);
        assert!(
            hash.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }

    #[test]
    fn known_sha256_value() {
        // sha256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            external_id("p", "t", &["abc"]),
            "p-t-ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn incident_uses_utc_date_only() {
        // 00:30 at +02:00 is still the previous day in UTC.
        let a = incident("hp", "web01", time("2021-03-28T00:30:00+02:00"));
        let b = incident("hp", "web01", time("2021-03-27T08:00:00Z"));
        let c = incident("hp", "web01", time("2021-03-28T08:00:00Z"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(c, incident("hp", "web02", time("2021-03-28T08:00:00Z")));
    }

    #[test]
    fn sighting_ignores_address_order() {
        let x: IpAddr = "192.0.2.217".parse().unwrap();
        let y: IpAddr = "192.0.2.79".parse().unwrap();
        assert_eq!(sighting("hp", "i", &[x, y]), sighting("hp", "i", &[y, x]));
        assert_ne!(sighting("hp", "i", &[x]), sighting("hp", "i", &[x, y]));
    }

    #[test]
    fn judgement_changes_with_start_date() {
        let a = judgement("hp", "ip", "192.0.2.1", time("2026-12-04T01:00:00Z"));
        let b = judgement("hp", "ip", "192.0.2.1", time("2026-12-04T23:00:00Z"));
        let c = judgement("hp", "ip", "192.0.2.1", time("2026-12-05T00:00:00Z"));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn transient_id_wraps_external_id() {
        assert_eq!(transient_id("hp-incident-ab"), "transient:hp-incident-ab");
    }
}

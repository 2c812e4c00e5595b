//! CTIM enumerations that the stand-in checks.

pub(crate) const TLP: &[&str] = &["white", "green", "amber", "red"];

/// CTIM `HighMedLow` plus `Info`, as XDR accepts it.
pub(crate) const CONFIDENCE: &[&str] = &["High", "Medium", "Low", "Info", "None", "Unknown"];

pub(crate) const SEVERITY: &[&str] = &["Critical", "High", "Medium", "Low", "Info", "None", "Unknown"];

pub(crate) const INCIDENT_STATUS: &[&str] = &[
    "New",
    "New: Presented",
    "New: Processing",
    "Open",
    "Open: Contained",
    "Open: Investigating",
    "Open: Recovered",
    "Open: Reported",
    "Hold",
    "Hold: External",
    "Hold: Internal",
    "Hold: Legal",
    "Stalled",
    "Containment Achieved",
    "Restoration Achieved",
    "Incident Reported",
    "Closed",
    "Closed: Confirmed Threat",
    "Closed: False Positive",
    "Closed: Merged",
    "Closed: Near-Miss",
    "Closed: Other",
    "Closed: Suspected",
    "Closed: Under Review",
    "Rejected",
];

pub(crate) const RELATIONSHIP_TYPES: &[&str] = &[
    "attributed-to",
    "based-on",
    "derived-from",
    "detects",
    "duplicate-of",
    "element-of",
    "exploits",
    "indicates",
    "member-of",
    "mitigates",
    "phase-of",
    "related-to",
    "sighting-of",
    "subtechnique-of",
    "targets",
    "task-of",
    "technique-of",
    "uses",
    "variant-of",
];

/// Disposition names indexed by disposition number minus one.
pub(crate) const DISPOSITION_NAMES: &[&str] = &["Clean", "Malicious", "Suspicious", "Common", "Unknown"];

pub(crate) fn disposition_name(number: i64) -> Option<&'static str> {
    let index = usize::try_from(number.checked_sub(1)?).ok()?;
    DISPOSITION_NAMES.get(index).copied()
}

pub(crate) fn disposition_number(name: &str) -> Option<i64> {
    let index = DISPOSITION_NAMES.iter().position(|n| *n == name)?;
    Some(index as i64 + 1)
}

/// Sensor and target types (the OpenC2 actuator names that CTIM uses).
pub(crate) const SENSOR: &[&str] = &[
    "endpoint",
    "endpoint.digital-telephone-handset",
    "endpoint.laptop",
    "endpoint.pos-terminal",
    "endpoint.printer",
    "endpoint.sensor",
    "endpoint.server",
    "endpoint.smart-meter",
    "endpoint.smart-phone",
    "endpoint.tablet",
    "endpoint.workstation",
    "network",
    "network.bridge",
    "network.firewall",
    "network.gateway",
    "network.guard",
    "network.hips",
    "network.hub",
    "network.ids",
    "network.ips",
    "network.modem",
    "network.nic",
    "network.proxy",
    "network.router",
    "network.security_manager",
    "network.sense_making",
    "network.sensor",
    "network.switch",
    "network.vpn",
    "network.wap",
    "process",
    "process.aaa-server",
    "process.anti-virus-scanner",
    "process.connection-scanner",
    "process.directory-service",
    "process.dns-server",
    "process.email-service",
    "process.file-scanner",
    "process.location-service",
    "process.network-scanner",
    "process.remediation-service",
    "process.reputation-service",
    "process.sandbox",
    "process.virtualization-service",
    "process.vulnerability-scanner",
];

// NOTE: current CTIM lists about 60 observable types. This list holds the common ones and may
// reject a rare type that XDR accepts.
pub(crate) const OBSERVABLE_TYPES: &[&str] = &[
    "amp-device",
    "amp_computer_guid",
    "certificate_common_name",
    "certificate_issuer",
    "certificate_serial",
    "cisco_mid",
    "device",
    "domain",
    "email",
    "email_messageid",
    "email_subject",
    "file_name",
    "file_path",
    "hostname",
    "imei",
    "imsi",
    "ip",
    "ipv6",
    "mac_address",
    "md5",
    "ms_machine_id",
    "mutex",
    "ngfw_id",
    "ngfw_name",
    "odns_identity",
    "odns_identity_label",
    "orbital_node_id",
    "pki_serial",
    "process_name",
    "registry_key",
    "registry_name",
    "registry_path",
    "s1_agent_id",
    "sha1",
    "sha256",
    "swc_device_id",
    "url",
    "user",
    "user_agent",
];

// NOTE: this is the CybOX object-relationship vocabulary that CTIM's relation list derives
// from. It may differ from the current CTIM list by a few rare values.
pub(crate) const OBSERVABLE_RELATIONS: &[&str] = &[
    "Allocated", "Allocated_By", "Attached_To", "Characterized_By", "Characterizes", "Child_Of",
    "Connected_From", "Connected_To", "Contained_Within", "Contains", "Copied", "Copied_By",
    "Copied_From", "Copied_To", "Created", "Created_By", "Decoded", "Decoded_By", "Decompressed",
    "Decompressed_By", "Decrypted", "Decrypted_By", "Deleted", "Deleted_By", "Deleted_From",
    "Downloaded", "Downloaded_By", "Downloaded_From", "Downloaded_To", "Dropped", "Dropped_By",
    "Encoded", "Encoded_By", "Encrypted", "Encrypted_By", "Encrypted_From", "Encrypted_To",
    "Extracted_From", "FQDN_Of", "Freed", "Freed_By", "Hooked", "Hooked_By", "Hosted_By", "Hosts",
    "Initialized_By", "Initialized_To", "Injected", "Injected_As", "Injected_By", "Injected_Into",
    "Installed", "Installed_By", "Joined", "Joined_By", "Killed", "Killed_By", "Listened_On",
    "Listened_On_By", "Loaded_From", "Loaded_Into", "Locked", "Locked_By", "Mapped_By",
    "Mapped_Into", "Member_Of", "Merged", "Merged_By", "Modified_Properties_Of", "Monitored",
    "Monitored_By", "Moved", "Moved_By", "Moved_From", "Moved_To", "Opened", "Opened_By",
    "Packed", "Packed_By", "Packed_From", "Packed_Into", "Parent_Of", "Paused", "Paused_By",
    "Previously_Contained", "Propagated", "Propagated_By", "Queried", "Queried_By", "Read_From",
    "Read_From_By", "Received", "Received_By", "Received_From", "Received_Via_Upload",
    "Redirects_To", "Related_To", "Renamed", "Renamed_By", "Renamed_From", "Renamed_To",
    "Resolved_To", "Resumed", "Resumed_By", "Root_Domain_Of", "Searched_For", "Searched_For_By",
    "Sent", "Sent_By", "Sent_To", "Sent_Via_Upload", "Set_From", "Set_To", "Sub-domain_Of",
    "Supra-domain_Of", "Suspended", "Suspended_By", "Unhooked", "Unhooked_By", "Unlocked",
    "Unlocked_By", "Unpacked", "Unpacked_By", "Uploaded", "Uploaded_By", "Uploaded_From",
    "Uploaded_To", "Used", "Used_By", "Values_Enumerated", "Values_Enumerated_By", "Wrote_To",
    "Wrote_To_By",
];

pub(crate) const INDICATOR_TYPES: &[&str] = &[
    "Malicious E-mail",
    "IP Watchlist",
    "File Hash Watchlist",
    "Domain Watchlist",
    "URL Watchlist",
    "Malware Artifacts",
    "C2",
    "Anonymization",
    "Exfiltration",
    "Host Characteristics",
    "Compromised PKI Certificate",
    "Login Name",
    "IMEI Watchlist",
    "IMSI Watchlist",
    "Private Threat Feed",
];

/// Singular entity type for a plural collection name such as `judgements`.
pub(crate) fn singular_type(plural: &str) -> Option<&'static str> {
    ENTITY_TYPES.iter().copied().find(|t| plural.strip_suffix('s') == Some(*t))
}

/// Entity types the stand-in stores, in the order a bundle import creates them.
pub(crate) const ENTITY_TYPES: &[&str] =
    &["incident", "sighting", "judgement", "indicator", "feed", "relationship"];

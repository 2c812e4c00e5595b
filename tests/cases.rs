//! Every access-log line that broke other parsers, with the values hp must
//! produce. The lines live in `tests/data/cases/`; "rules" are the detections
//! of the classic pack.

mod common;

use base64::Engine;
use common::*;
use serde_json::Value;

/// `hp-match --all --pack classic FILE`: one record per parsed line, plus
/// the rules that fired per line number.
fn records(name: &str) -> (Vec<Value>, String) {
    let path = case(name);
    let output = run(HP_MATCH, &["--all", "--pack", "classic", path.to_str().unwrap()]);
    assert!(output.status.success(), "{name}: {}", stderr_text(&output));
    (ndjson(&output.stdout), stderr_text(&output))
}

fn rules_on_line(records: &[Value], line: u64) -> Vec<String> {
    records
        .iter()
        .filter(|r| r["line"] == line)
        .filter_map(|r| r["rule"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn vhost_with_ipv6_zone() {
    let (records, _) = records("01-vhost-ipv6-zone.log");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["ip"], "fe80::1");
    assert_eq!(records[0]["client"], "fe80::1%enp0s8");
    assert_eq!(records[0]["vhost"], "host.example:443");
    assert_eq!(records[0]["status"], 302);
    assert!(records[0]["rule"].is_null());
}

#[test]
fn ipv4_mapped_ipv6_becomes_ipv4() {
    let (records, _) = records("02-ipv4-mapped-ipv6.log");
    assert_eq!(rules_on_line(&records, 1), ["phpmyadmin-login"]);
    assert_eq!(records[0]["ip"], "192.0.2.7");
}

#[test]
fn vhost_combined() {
    let (records, _) = records("03-vhost-combined.log");
    assert_eq!(rules_on_line(&records, 1), ["resource-scan"]);
    assert_eq!(records[0]["ip"], "192.0.2.222");
    assert_eq!(records[0]["vhost"], "www.example.com:80");
    assert_eq!(records[0]["status"], 403);
}

#[test]
fn trailing_extra_field_is_ignored() {
    let (records, _) = records("04-trailing-xff-field.log");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["user_agent"], "Mozilla/5.0");
    assert_eq!(records[0]["status"], 302);
    assert!(records[0]["rule"].is_null());
}

#[test]
fn tls_handshake_as_request() {
    let (records, _) = records("05-tls-handshake-request.log");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["request"], r"\x16\x03\x01\x01 \x01");
    assert!(records[0]["method"].is_null());
    assert!(records[0]["target"].is_null());
    assert!(records[0]["protocol"].is_null());
    assert_eq!(records[0]["status"], 400);
}

#[test]
fn non_http_requests() {
    let (records, _) = records("06-non-http-requests.log");
    assert_eq!(records.len(), 3);
    let requests = [r"\x03\x00\x00,'\xE0\x00\x00\x00\x00\x00Cookie: mstshash=Domain", "", "MGLNDD_198.51.100.192_443"];
    for (record, request) in records.iter().zip(requests) {
        assert!(record["ip"].is_string(), "{record}");
        assert_eq!(record["status"], 400);
        assert_eq!(record["request"], request);
        assert!(record["method"].is_null());
        assert!(record["target"].is_null());
        assert!(record["protocol"].is_null());
        assert!(record["rule"].is_null());
    }
}

#[test]
fn request_timeout_with_dashes() {
    let (records, _) = records("07-request-timeout-dash.log");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["status"], 408);
    assert!(records[0]["bytes"].is_null());
    assert_eq!(records[0]["request"], "-");
    assert!(records[0]["method"].is_null());
}

#[test]
fn raw_spaces_inside_request() {
    let (records, _) = records("08-spaces-inside-request.log");
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record["method"], "GET");
    assert_eq!(record["protocol"], "HTTP/1.1");
    let target = record["target"].as_str().unwrap();
    assert!(target.starts_with("/index.php?s=/index/"), "{target}");
    assert!(target.ends_with("chmod +x .Akari'"), "{target}");
    assert_eq!(record["ip"], "192.0.2.33");
    assert_eq!(record["status"], 400);
    assert!(record["rule"].is_null());
}

#[test]
fn escaped_quotes_are_content() {
    let (records, _) = records("09-escaped-quotes.log");
    assert!(rules_on_line(&records, 1).is_empty());
    assert_eq!(rules_on_line(&records, 2), ["resource-scan", "xss-attempt"]);
    assert_eq!(records[0]["status"], 200);
    assert_eq!(records[0]["user_agent"], r#"Dalvik/2.1.0 (Linux; U; Android 5.1; Alba 10\" Build/LMY47I)"#);
    let line2 = records.iter().find(|r| r["line"] == 2).unwrap();
    assert_eq!(line2["status"], 404);
    assert_eq!(line2["target"], r#"/search?q=<script>alert(\"foo\")</script>"#);
}

#[test]
fn raw_non_utf8_bytes_are_recoverable() {
    let (records, _) = records("10-raw-non-utf8.log");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["method"], "SEARCH");
    assert_eq!(records[0]["status"], 414);
    let original = std::fs::read(case("10-raw-non-utf8.log")).unwrap();
    let original = original.strip_suffix(b"\n").unwrap_or(&original);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(records[0]["raw_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(decoded, original);
}

#[test]
fn very_long_line_then_attack() {
    let (records, _) = records("11-very-long-line.log");
    assert_eq!(rules_on_line(&records, 1), ["resource-scan"]);
    assert_eq!(rules_on_line(&records, 2), ["phpmyadmin-login"]);
    assert!(records[0]["raw"].as_str().unwrap().len() > 70_000);
}

#[test]
fn crlf_endings_are_not_content() {
    let (records, _) = records("12-crlf-line-endings.log");
    for line in [1, 2] {
        assert_eq!(rules_on_line(&records, line), ["resource-scan", "site-mapping"]);
    }
    for record in &records {
        assert_eq!(record["user_agent"], "-");
        assert!(!record["raw"].as_str().unwrap().ends_with('\r'));
    }
}

#[test]
fn time_zone_variants() {
    let (records, _) = records("13-time-zone-variants.log");
    assert_eq!(rules_on_line(&records, 1), ["resource-scan"]);
    assert_eq!(rules_on_line(&records, 2), ["resource-scan"]);
    assert_eq!(records[0]["time"], "2014-04-01T10:00:00+04:35");
    assert!(records[0].get("time_offset_missing").is_none());
    assert_eq!(records[1]["time"], "2012-06-21T23:49:36+00:00");
    assert_eq!(records[1]["time_offset_missing"], true);
}

#[test]
fn status_dash_with_ipv6_client() {
    let (records, _) = records("14-status-dash-ipv6.log");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["ip"], "2001:db8::5");
    assert!(records[0]["status"].is_null());
    assert_eq!(records[0]["bytes"], 3414853);
    assert_eq!(records[0]["referrer"], "-");
    assert_eq!(records[0]["user_agent"], "Wget/1.14 (linux-gnu)");
}

#[test]
fn gzip_input_equals_zcat() {
    let path = case("15-rotated.log.gz");
    let direct = run(HP_MATCH, &["--pack", "classic", path.to_str().unwrap()]);
    assert!(direct.status.success());
    let direct = ndjson(&direct.stdout);
    assert_eq!(direct.len(), 1);
    assert_eq!(direct[0]["rule"], "phpmyadmin-login");

    let compressed = std::fs::read(&path).unwrap();
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&compressed[..]), &mut plain).unwrap();
    let piped = run_with_stdin(HP_MATCH, &["--pack", "classic"], &plain);
    let mut piped = ndjson(&piped.stdout);
    assert_eq!(piped[0]["file"], "-");
    piped[0]["file"] = direct[0]["file"].clone();
    assert_eq!(piped, direct);
}

#[test]
fn truncated_and_blank_lines() {
    let path = case("16-truncated-and-blank.log");
    let output = run(HP_MATCH, &["--all", "--pack", "classic", path.to_str().unwrap()]);
    assert!(output.status.success());
    let stderr = stderr_text(&output);
    let shown = path.to_str().unwrap();
    assert!(stderr.contains(&format!("{shown}:1: malformed line")), "{stderr}");
    assert!(stderr.contains(&format!("{shown}:4: malformed line")), "{stderr}");
    assert!(!stderr.contains(&format!("{shown}:2:")), "{stderr}");
    assert!(!stderr.contains(&format!("{shown}:3:")), "{stderr}");
    assert!(stderr.contains("2 malformed, 2 blank"), "{stderr}");
    assert!(output.stdout.is_empty());
}

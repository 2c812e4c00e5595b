//! The HTML report rendered in a real browser: headless Chromium loads the
//! page from disk and dumps the DOM it built.
//!
//! Chromium comes from Debian's `chromium` package, which `.ci/run` installs.
//! Outside CI the test is skipped with a message when Chromium is missing.

mod common;

use std::process::Command;

use common::*;

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser"].into_iter().find_map(|name| {
        let found = Command::new("which").arg(name).output().ok()?;
        found.status.success().then(|| String::from_utf8_lossy(&found.stdout).trim().to_owned())
    })
}

/// Loads `page` in headless Chromium and returns the serialised DOM.
fn rendered_dom(browser: &str, page: &std::path::Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("starting chromium");
    assert!(output.status.success(), "chromium failed: {}", stderr_text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn html_report_renders_in_chromium() {
    let Some(browser) = chromium() else {
        assert!(std::env::var_os("CI").is_none(), "chromium is missing in CI: .ci/run must install it");
        eprintln!("skipped: chromium not found (apt-get install chromium)");
        return;
    };

    let dir = tempfile::tempdir().unwrap();
    let mut log = std::fs::read(repo_file("data/honeypot-access.log")).unwrap();
    log.extend_from_slice(
        b"\n198.51.100.9 - - [04/Apr/2021:01:00:00 +0200] \"GET /q=<script>document.title='pwned'</script> HTTP/1.1\" 404 1 \"-\" \"<img src=x onerror=alert(1)>\"\n",
    );
    let log_path = dir.path().join("access.log");
    std::fs::write(&log_path, log).unwrap();

    let detections = run(HP_MATCH, &["-q", "--pack", "classic", log_path.to_str().unwrap()]);
    let page = dir.path().join("report.html");
    let report = run_with_stdin(HP_REPORT, &["--format", "html", "-o", page.to_str().unwrap()], &detections.stdout);
    assert!(report.status.success(), "{}", stderr_text(&report));

    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains(" src=\""), "the page must load nothing: a src attribute");
    assert!(!html.contains(" href=\""), "the page must load nothing: an href attribute");
    assert!(!html.contains("<link"), "the page must load nothing: a link element");
    assert!(!html.contains("<script"), "no script element may appear");

    let dom = rendered_dom(&browser, &page);
    assert!(dom.contains("<title>hp report</title>"), "the log line changed the title: {dom:.400}");
    assert!(dom.contains("id=\"chart-hourly\""), "hourly chart missing");
    assert!(dom.contains("id=\"chart-top\""), "top-attackers chart missing");
    assert!(dom.matches("class=\"bar\"").count() > 20, "charts have too few bars");
    for table in ["rules", "promoted", "sources", "detections"] {
        assert!(dom.contains(&format!("<table id=\"{table}\">")), "table {table} missing");
    }
    assert!(dom.contains("192.0.2.217"), "promoted attacker missing");
    assert!(dom.contains("&lt;script&gt;document.title"), "the hostile line must render as text");
    assert!(!dom.contains("<img src=\"x\""), "the hostile user agent became an element");
    let detection_count = ndjson(&detections.stdout).len();
    assert_eq!(detection_count, 691);
    assert_eq!(dom.matches("<td class=\"raw\">").count(), detection_count, "one table row per detection");
}

//! The HTML report (`--format html`): every value escaped, nothing loaded from anywhere, one
//! snapshot; then the page as a real browser sees it — Debian's chromium, headless: the demo's
//! page with every finding and no console error, and a finding that carries a `<script>` shown
//! as text, never run.
//!
//! Chromium is driven through its command line, not a browser-automation crate: `--dump-dom`
//! prints the DOM after the page has loaded (and would have run any script), `--screenshot`
//! draws it, and `--enable-logging=stderr` prints every console message and uncaught exception
//! (`INFO:CONSOLE…] "…", source: file:///…`). That is all these tests ask of a browser; a CDP
//! client (chromiumoxide, headless_chrome) would add a websocket stack and an async runtime to
//! the dev-dependencies for nothing more. `console_messages_are_seen` proves the log check
//! catches what it should on the installed chromium.
//!
//! Needs `/usr/bin/chromium` (`apt-get install -y --no-install-recommends chromium`; `.ci/run`
//! installs it): without it the browser tests fail, they are not skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Std;
use std::sync::Mutex;

use assert_cmd::Command;
use preflight::render::{render, Context, Format};
use preflight::report::{ErrorKind, Evidence, HostOutcome, OutcomeStatus, Report, Severity, Waived};
use preflight::systems::find_check as find;
use preflight::systems::maas::bmc::evidence::BmcEvidence;
use serde_json::{json, Value};

/// A report with every part the page shows: findings of three systems (typed and plain
/// evidence, an upgrade path, a waived one, host findings), per-host outcomes of two host
/// checks, an error with its kind, a skipped check, a passed one and a notice. `text` is put
/// into every value a scan could have read from a system.
fn report(text: &str) -> Report {
    let dup = find("MAAS004").unwrap();
    let shared = find("MAAS005").unwrap();
    let ubuntu = find("MAAS002").unwrap();
    let timesync = find("MAAS006").unwrap();
    let pg = find("MAAS003").unwrap();
    let mender = find("MENDER002").unwrap();
    let juju = find("JUJU001").unwrap();
    let bmc = BmcEvidence {
        bmc_count: 2,
        bmc_ids: None,
        controllers: None,
        hostnames: vec![Some("node-1".into()), Some(format!("node-{text}"))],
        pods: None,
        power_address: "10.0.0.5".into(),
        power_type: vec!["ipmi".into()],
        power_user: "admin".into(),
        system_ids: vec!["abc123".into(), "def456".into()],
    };
    let on_host = |host: &str, severity| {
        let mut f = ubuntu.finding(
            severity,
            format!("Ubuntu 20.04 on {host}"),
            format!("{host} runs Ubuntu 20.04; MAAS 3.5 needs 22.04. {text}"),
            Evidence::Object(json!({"release": "20.04", "host": host}).as_object().unwrap().clone()),
        );
        f.host = Some(host.to_string());
        f
    };
    let mut waived = shared.finding(
        Severity::Warning,
        format!("ipmi BMC 10.0.7.1 user {text}"),
        format!("2 BMCs share 10.0.7.1: {text}"),
        Evidence::default(),
    );
    waived.waiver = Some(Waived {
        justification: format!("two BMC records per chassis, OPS-1234 {text}"),
        expires: Some("2026-12-31".into()),
    });
    let findings = vec![
        dup.finding(
            Severity::Blocker,
            format!("ipmi BMC 10.0.0.5 user {text}"),
            format!("2 machines differ only in the password: {text}"),
            bmc,
        ),
        on_host("region-1", Severity::Blocker),
        on_host(&format!("rack-{text}"), Severity::Blocker),
        waived,
        mender.finding(
            Severity::Warning,
            "3 devices decommissioning",
            format!("Devices are still flagged decommissioning (see https://docs.mender.io). {text}"),
            Evidence::Object(json!({"devices": [text, "dev-2"]}).as_object().unwrap().clone()),
        ),
        juju.finding(
            Severity::Warning,
            "controller prod",
            "Model default runs 3.5.1, its controller 3.6.2.",
            Evidence::default(),
        ),
    ];
    let host = |host: &str, status, reason: &str, kind| HostOutcome {
        host: host.to_string(),
        status,
        reason: Some(reason.to_string()),
        kind,
    };
    let mut ubuntu_outcome = ubuntu.outcome(OutcomeStatus::Fail, Some("2 findings".into()));
    ubuntu_outcome.hosts = vec![
        host("region-1", OutcomeStatus::Fail, "Ubuntu 20.04", None),
        host(&format!("rack-{text}"), OutcomeStatus::Fail, text, None),
        host("rack-3", OutcomeStatus::Pass, "Ubuntu 22.04", None),
    ];
    let mut timesync_outcome = timesync.outcome(
        OutcomeStatus::Error,
        Some(format!("1 host could not be checked: {text}")),
    );
    timesync_outcome.kind = Some(ErrorKind::NotAvailable);
    timesync_outcome.hosts = vec![
        host("region-1", OutcomeStatus::Pass, "chrony only", None),
        host(
            "rack-3",
            OutcomeStatus::Error,
            &format!("rack-3 was not inspected {text}"),
            Some(ErrorKind::NotAvailable),
        ),
        host("rack-4", OutcomeStatus::Skipped, "MAAS is not installed", None),
    ];
    let mut refused = pg.outcome(
        OutcomeStatus::Error,
        Some(format!(
            "cannot connect to PostgreSQL at db:5432/maasdb: connection refused {text}"
        )),
    );
    refused.kind = Some(ErrorKind::Unreachable);
    let outcomes = vec![
        dup.outcome(OutcomeStatus::Fail, Some("1 finding".into())),
        shared.outcome(OutcomeStatus::Fail, Some("1 finding".into())),
        ubuntu_outcome,
        timesync_outcome,
        refused,
        find("MAAS008")
            .unwrap()
            .outcome(OutcomeStatus::Pass, Some(format!("owned by maas {text}"))),
        mender.outcome(OutcomeStatus::Fail, Some("1 finding".into())),
        juju.outcome(OutcomeStatus::Fail, Some("1 finding".into())),
        find("BAI001").unwrap().outcome(
            OutcomeStatus::Skipped,
            Some(format!("Backend.AI is not configured {text}")),
        ),
    ];
    let mut r = Report::new(
        BTreeMap::from([
            ("maas".to_string(), "3.5".to_string()),
            ("mender".to_string(), format!("4.1 {text}")),
        ]),
        findings,
        outcomes,
        42,
    );
    r.notices.push(format!("TLS verification is off (--insecure) {text}"));
    r.preflight_version = "0.0.0-test".into();
    r
}

fn html(r: &Report) -> String {
    render(r, Format::Html, &Context::default())
}

const HOSTILE: &str = r#"<script>alert(1)</script> "quotes" & ampersands"#;

#[test]
fn every_value_is_escaped() {
    let page = html(&report(HOSTILE));
    assert!(!page.to_lowercase().contains("<script"), "no script element, ever");
    assert!(!page.contains("alert(1)</script>"), "{page}");
    assert!(!page.contains(r#""quotes" &"#), "quotes and ampersands raw");
    let escaped = "&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &quot;quotes&quot; &amp; ampersands";
    // Subject, message, host, evidence, waiver, reasons, targets, notice, the matrix's host and
    // cell titles: each carries the text, escaped.
    let seen = page.matches(escaped).count();
    assert!(seen >= 15, "escaped text seen {seen} times:\n{page}");
    // Inside the evidence's pretty JSON too (its own quotes escaped on top).
    assert!(page.contains("&quot;node-&lt;script&gt;alert(1)"), "{page}");
}

#[test]
fn the_page_loads_nothing() {
    let page = html(&report("plain"));
    // A URL in a message stays text (its slashes escaped): no http(s) reference anywhere.
    assert!(page.contains("https:&#x2f;&#x2f;docs.mender.io"), "{page}");
    for external in [
        "http://",
        "https://",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "<script",
        " src=",
        "@import",
        "url(",
        "@font-face",
    ] {
        assert!(!page.contains(external), "the page holds {external}");
    }
    // Links only within the page (the contents).
    let links: Vec<&str> = page.split(" href=").skip(1).collect();
    assert!(!links.is_empty());
    for link in links {
        assert!(
            link.starts_with("\"#"),
            "a link out of the page: {}",
            link.chars().take(40).collect::<String>()
        );
    }
    assert!(page.contains(r#"content="default-src 'none'; style-src 'unsafe-inline';"#));
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "{page}");
}

#[test]
fn snapshot() {
    insta::assert_snapshot!(html(&report("plain")));
}

#[test]
fn matrix_rows_columns_and_cells() {
    let page = html(&report("x"));
    let matrix = &page[page.find(r#"<table id="matrix">"#).expect("a matrix")..];
    let matrix = &matrix[..matrix.find("</table>").unwrap()];
    // Columns: the two checks that judged hosts; rows: hosts in the order outcomes name them.
    let columns: Vec<&str> = matrix
        .split(r#"<th scope="col" data-check=""#)
        .skip(1)
        .map(|c| &c[..c.find('"').unwrap()])
        .collect();
    assert_eq!(columns, ["MAAS002", "MAAS006"]);
    let rows: Vec<&str> = matrix
        .split(r#"<tr data-host=""#)
        .skip(1)
        .map(|r| &r[..r.find('"').unwrap()])
        .collect();
    assert_eq!(rows, ["region-1", "rack-x", "rack-3", "rack-4"]);
    for cell in [
        r#"<td class="cell fail" data-check="MAAS002" data-status="fail" title="fail: Ubuntu 20.04">✗</td>"#,
        r#"<td class="cell pass" data-check="MAAS006" data-status="pass" title="pass: chrony only">✓</td>"#,
        r#"<td class="cell error" data-check="MAAS006" data-status="error" title="error (not_available): rack-3 was not inspected x">!</td>"#,
        r#"<td class="cell skipped" data-check="MAAS006" data-status="skipped" title="skipped: MAAS is not installed">–</td>"#,
        r#"<td class="cell none" data-check="MAAS006" data-status="none" title="MAAS006 did not judge rack-x"></td>"#,
    ] {
        assert!(matrix.contains(cell), "{cell}\n{matrix}");
    }
    assert!(page.contains(
        r#"<li data-host="rack-3" data-check="MAAS006">! <strong>rack-3</strong> <span class="check-id">MAAS006</span>: rack-3 was not inspected x</li>"#
    ));
    let no_hosts = Report::new(BTreeMap::new(), Vec::new(), Vec::new(), 0);
    assert!(
        !html(&no_hosts).contains(r#"id="matrix""#),
        "no matrix without per-host outcomes"
    );
}

#[test]
fn sections_follow_the_table() {
    let page = html(&report("x"));
    // Systems in the registry's order, as the table prints them; the banner says the status.
    let at = |needle: &str| page.find(needle).unwrap_or_else(|| panic!("{needle} missing"));
    assert!(at(r#"id="system-host""#) < at(r#"id="system-maas""#));
    assert!(at(r#"id="system-maas""#) < at(r#"id="system-mender""#));
    assert!(at(r#"id="system-mender""#) < at(r#"id="system-juju""#));
    assert!(page.contains(r#"<section id="status" class="banner critical" data-status="critical" data-exit-code="2""#));
    assert!(page.contains(
        "3 blockers, 2 warnings, 0 infos, 1 waived · 9 checks: 1 passed, 5 failed, 1 skipped, 2 could not run"
    ));
    assert!(page.contains("Next: fix every BLOCKER before the upgrade window"));
    assert!(page.contains(r#"data-check="MAAS003" data-status="error" data-kind="unreachable""#));
    assert!(page.contains("ERROR (unreachable)"));
    assert!(page.contains(r#"data-check="BAI001" data-status="skipped""#));
    assert!(page.contains("Machines: "), "the machines line the table prints");
    assert!(
        page.contains(r#"<p class="waiver">Waived: two BMC records per chassis, OPS-1234 x (until 2026-12-31)</p>"#)
    );
    assert_eq!(
        page.matches(r#"<p class="remediation">"#).count(),
        5,
        "remediation once per check"
    );
}

#[test]
fn many_findings_are_folded_not_dropped() {
    let dup = find("MAAS004").unwrap();
    let findings = (0..30)
        .map(|i| {
            dup.finding(
                Severity::Blocker,
                format!("ipmi BMC 10.0.0.{i:02} user admin"),
                "collide",
                Evidence::default(),
            )
        })
        .collect();
    let outcomes = vec![dup.outcome(OutcomeStatus::Fail, Some("30 findings".into()))];
    let page = html(&Report::new(BTreeMap::new(), findings, outcomes, 1));
    assert_eq!(
        page.matches(r#"<li class="finding blocker" data-check="MAAS004""#)
            .count(),
        30
    );
    let folded = &page[page.find(r#"<details class="more">"#).expect("the rest folded")..];
    assert!(folded.starts_with(r#"<details class="more"><summary>5 more MAAS004 findings</summary>"#));
    assert!(folded.contains(r#"<ol class="findings" start="26">"#));
    assert_eq!(folded.matches(r#"<li class="finding "#).count(), 5);
    assert!(folded.contains("10.0.0.25 user admin") && !folded.contains("10.0.0.24 user admin"));
}

// ---- in a real browser ----

const CHROMIUM: &str = "/usr/bin/chromium";

/// One chromium at a time: the machine is small, and each start takes a core.
static BROWSER: Mutex<()> = Mutex::new(());

/// Runs headless chromium on `page` with `args` (`--dump-dom`, `--screenshot=…`) and returns
/// its stdout and stderr. No network, no background connections (this machine has no network
/// and chromium otherwise waits on them); killed after 60 s.
fn chromium(page: &Path, args: &[&str]) -> (String, String) {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium"
    );
    let _one = BROWSER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let profile = tempfile::tempdir().unwrap();
    let out = Std::new("timeout")
        .args(["--kill-after=5", "60", CHROMIUM])
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url(page))
        .output()
        .expect("timeout(1) runs chromium");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(
        out.status.code(),
        Some(124),
        "chromium did not finish within 60 s:\n{stderr}"
    );
    assert!(out.status.success(), "chromium failed ({}):\n{stderr}", out.status);
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

fn url(page: &Path) -> String {
    format!("file://{}", page.canonicalize().unwrap().display())
}

/// The console messages and uncaught exceptions chromium logged for `page`.
fn console_messages(stderr: &str, page: &Path) -> Vec<String> {
    let url = url(page);
    stderr
        .lines()
        .filter(|l| (l.contains(":CONSOLE") && l.contains(&url)) || l.contains("Uncaught"))
        .map(str::to_string)
        .collect()
}

/// `text` as the DOM serializer writes a text node.
fn dom_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\u{a0}', "&nbsp;")
}

/// The `<title>` of a dumped DOM.
fn title(dom: &str) -> &str {
    let start = dom.find("<title>").expect("a title") + "<title>".len();
    &dom[start..start + dom[start..].find("</title>").unwrap()]
}

/// Where the screenshot goes: `target/test-artifacts/`.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn console_messages_are_seen() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("noisy.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><title>t</title><script>console.error('boom'); document.title = 'ran'; missing();</script>",
    )
    .unwrap();
    let (dom, log) = chromium(&page, &["--dump-dom"]);
    assert_eq!(title(&dom), "ran", "dump-dom is the DOM after scripts ran");
    let seen = console_messages(&log, &page);
    assert!(
        seen.iter().any(|l| l.contains("boom")),
        "console.error seen: {seen:?}\n{log}"
    );
    assert!(seen.iter().any(|l| l.contains("Uncaught ReferenceError")), "{seen:?}");
}

#[test]
fn demo_page_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("preflight")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["scan", "--demo", "--format", "html", "--output", "html=report.html"])
        .args(["--output", "json=report.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let page = dir.path().join("report.html");
    let file = std::fs::read_to_string(&page).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        file,
        "--format html and --output html=FILE agree"
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();

    let (dom, log) = chromium(&page, &["--dump-dom"]);
    assert_eq!(
        console_messages(&log, &page),
        Vec::<String>::new(),
        "no console message or error"
    );
    assert!(title(&dom).starts_with("preflight CRITICAL — "), "{}", title(&dom));
    assert!(dom.contains(r#"data-status="critical" data-exit-code="2""#));
    // The page says when the scan started, as the JSON report does.
    let started = json["started_at"].as_str().unwrap();
    assert!(
        dom.contains(&format!(r#"<time id="started-at" datetime="{started}">"#)),
        "no start time {started}"
    );

    // Every finding of the JSON report is in the DOM: as many per check, each subject shown.
    let findings = json["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    let mut want: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        *want.entry(f["check"].as_str().unwrap()).or_default() += 1;
        let subject = dom_text(f["subject"].as_str().unwrap());
        assert!(
            dom.contains(&format!(r#"<span class="subject">{subject}</span>"#)),
            "{subject} is not in the DOM"
        );
    }
    let mut got: BTreeMap<&str, usize> = BTreeMap::new();
    for item in dom.split(r#"<li class="finding "#).skip(1) {
        let check = item.split(r#"data-check=""#).nth(1).unwrap();
        *got.entry(&check[..check.find('"').unwrap()]).or_default() += 1;
    }
    assert_eq!(got, want);

    // Every check that did not run is listed with why; the matrix whenever hosts were judged.
    for o in json["outcomes"].as_array().unwrap() {
        let (check, status) = (o["check"].as_str().unwrap(), o["status"].as_str().unwrap());
        if status == "error" || status == "skipped" {
            assert!(
                dom.contains(&format!(r#"data-check="{check}" data-status="{status}""#)),
                "{check} {status}"
            );
        }
    }
    let judged = json["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o.get("hosts").is_some());
    assert_eq!(dom.contains(r#"<table id="matrix">"#), judged);

    let png = artifacts().join("report.png");
    let _ = std::fs::remove_file(&png);
    let shot = format!("--screenshot={}", png.display());
    chromium(&page, &[&shot, "--window-size=1280,2000", "--hide-scrollbars"]);
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
}

#[test]
fn a_script_in_a_finding_is_text_in_chromium() {
    let payload = "<script>document.title='pwned'</script>";
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("hostile.html");
    std::fs::write(&page, html(&report(payload))).unwrap();
    let (dom, log) = chromium(&page, &["--dump-dom"]);
    assert_eq!(console_messages(&log, &page), Vec::<String>::new());
    // The script did not run: the title is the page's own (holding the target's text, as text).
    assert_ne!(title(&dom), "pwned");
    assert!(
        title(&dom).starts_with("preflight CRITICAL — maas 3.5, mender 4.1 &lt;script&gt;"),
        "{}",
        title(&dom)
    );
    assert!(!dom.to_lowercase().contains("<script"), "no script element in the DOM");
    // Shown as text: subject, message, host, reasons… each a text node holding the tag.
    let shown = dom_text(payload);
    assert!(
        dom.contains(&format!(
            r#"<span class="subject">ipmi BMC 10.0.0.5 user {shown}</span>"#
        )),
        "{dom}"
    );
    assert!(dom.matches(&shown).count() >= 10, "{dom}");
    // The matrix, as the browser built it: one row a host, the hostile host name as text.
    let matrix = &dom[dom.find(r#"<table id="matrix">"#).expect("the matrix in the DOM")..];
    let matrix = &matrix[..matrix.find("</table>").unwrap()];
    assert_eq!(matrix.matches("<tr data-host=").count(), 4, "{matrix}");
    assert!(
        matrix.contains(&format!(r#"<th scope="row">rack-{shown}</th>"#)),
        "{matrix}"
    );
}

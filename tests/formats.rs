//! The CI and monitoring formats: SARIF (schema-valid, stable fingerprints), JUnit, Prometheus,
//! several outputs at once, `--fail-on`, `--select` / `--ignore`.

mod support;

use std::collections::BTreeSet;

use mocks::fleet::Fleet;
use mocks::maas::{MaasOptions, MaasServer, API_KEY};
use predicates::prelude::*;
use serde_json::Value;
use support::preflight;

fn demo(dir: &tempfile::TempDir, args: &[&str]) -> (Option<i32>, String) {
    let out = preflight(dir).args(["scan", "--demo"]).args(args).output().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

fn fingerprints(sarif: &Value) -> BTreeSet<String> {
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["partialFingerprints"]["preflight/v1"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sarif_is_schema_valid_with_stable_fingerprints() {
    let mut schema: Value = serde_json::from_str(include_str!("fixtures/sarif-schema-2.1.0.json")).unwrap();
    // Erratum of the published schema: the `language` patterns (run, toolComponent) have a
    // stray ']' that a strict meta-schema check rejects as a regex. Only those are corrected.
    for definition in ["run", "toolComponent"] {
        let language = &mut schema["definitions"][definition]["properties"]["language"]["pattern"];
        assert_eq!(language, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *language = Value::from("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
    }
    let validator = jsonschema::validator_for(&schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (code, first) = demo(&dir, &["--format", "sarif"]);
    assert_eq!(code, Some(2));
    let first: Value = serde_json::from_str(&first).unwrap();
    let errors: Vec<String> = validator.iter_errors(&first).map(|e| e.to_string()).take(5).collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The invocation says when the scan started (RFC 3339, UTC, to the second).
    let start = first["runs"][0]["invocations"][0]["startTimeUtc"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(start, &time::format_description::well_known::Rfc3339).is_ok()
            && start.ends_with('Z'),
        "{start}"
    );
    let (_, second) = demo(&dir, &["--format", "sarif"]);
    let second: Value = serde_json::from_str(&second).unwrap();
    assert_eq!(fingerprints(&first), fingerprints(&second));
    assert_eq!(
        fingerprints(&first).len(),
        first["runs"][0]["results"].as_array().unwrap().len(),
        "one per (check, subject)"
    );
    let rules = first["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), preflight::systems::catalogue().len());
    assert!(rules
        .iter()
        .all(|r| r["fullDescription"]["text"].as_str().is_some_and(|t| !t.is_empty())));
}

#[test]
fn junit_parses_and_follows_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let (_, json) = demo(&dir, &["--format", "json"]);
    let report: Value = serde_json::from_str(&json).unwrap();
    let count = |sev: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == sev)
            .count()
    };
    let (_, xml) = demo(&dir, &["--format", "junit"]);
    let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(junit.failures, count("blocker") + count("warning"));
    // The report and every suite carry the scan's start (this run's; the JSON run's was
    // moments before).
    let json_run = chrono::DateTime::parse_from_rfc3339(report["started_at"].as_str().unwrap()).unwrap();
    let started = junit.timestamp.unwrap();
    assert!((started - json_run).num_seconds().abs() < 60, "{started} vs {json_run}");
    assert!(junit.test_suites.iter().all(|s| s.timestamp == Some(started)));
    let (_, xml) = demo(&dir, &["--format", "junit", "--fail-on", "blocker"]);
    let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(
        junit.failures,
        count("blocker"),
        "warnings pass under --fail-on blocker"
    );
    let names: Vec<String> = junit.test_suites.iter().map(|s| s.name.to_string()).collect();
    assert_eq!(
        names,
        vec!["host", "postgresql", "maas", "mender", "juju", "backendai", "proxmox"]
    );
}

#[test]
fn prometheus_parses_with_a_real_parser() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = demo(&dir, &["--format", "prometheus"]);
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let names: BTreeSet<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    for metric in [
        "preflight_findings",
        "preflight_check_status",
        "preflight_last_run_timestamp_seconds",
        "preflight_run_duration_seconds",
    ] {
        assert!(names.contains(metric), "{metric} missing");
    }
    let maas004 = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "preflight_findings"
                && s.labels.get("check") == Some("MAAS004")
                && s.labels.get("severity") == Some("blocker")
        })
        .unwrap();
    assert!(matches!(maas004.value, prometheus_parse::Value::Gauge(v) if v > 10.0));
}

const SEVERAL_OUTPUTS: &[&str] = &[
    "scan",
    "--demo",
    "--format",
    "nagios",
    "--output",
    "sarif=r.sarif",
    "--output",
    "junit=r.xml",
    "--output",
    "prometheus=m/p.prom",
];

#[test]
fn several_outputs_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&dir).args(SEVERAL_OUTPUTS).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "the m/ directory does not exist: exit 3");
    std::fs::create_dir(dir.path().join("m")).unwrap();
    preflight(&dir)
        .args(SEVERAL_OUTPUTS)
        .assert()
        .code(2)
        .stdout(predicate::str::starts_with("PREFLIGHT CRITICAL"));
    for f in ["r.sarif", "r.xml", "m/p.prom"] {
        assert!(std::fs::metadata(dir.path().join(f)).unwrap().len() > 100, "{f}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("m"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "atomic writes leave no temp file");
    preflight(&dir)
        .args(["scan", "--demo", "--output", "sarif="])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no file name"));
}

/// A region on 3.4 with mixed controllers and shared BMC addresses: warnings only for 3.5.
async fn warnings_only_region() -> MaasServer {
    MaasServer::start(&Fleet::generate(300, 3), &MaasOptions::mixed("3.4.2", "3.4.1")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_on_blocker_lets_warnings_pass_but_not_errors() {
    let server = warnings_only_region().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], url: &str| {
        preflight(&dir)
            .env("MAAS_URL", url)
            .env("MAAS_API_KEY", API_KEY)
            .args(["scan", "--target", "maas=3.5"])
            .args(args)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run(&[], &server.maas_url()), Some(1));
    assert_eq!(run(&["--fail-on", "blocker"], &server.maas_url()), Some(0));
    assert_eq!(run(&["--fail-on", "blocker"], "http://127.0.0.1:9/MAAS"), Some(3));
}

#[test]
fn select_and_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json) = demo(
        &dir,
        &["--format", "json", "--select", "MAAS006,juju", "--ignore", "JUJU002"],
    );
    let report: Value = serde_json::from_str(&json).unwrap();
    let checks: Vec<&str> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, vec!["JUJU001", "JUJU003", "MAAS006"]);
    assert_eq!(code, Some(2), "JUJU003 is a blocker");
    let (code, _) = demo(&dir, &["--select", "MAAS006"]);
    assert_eq!(code, Some(1), "only the time-sync warning is left");
    preflight(&dir)
        .args(["scan", "--demo", "--select", "duplicate-bmc-credential"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("did you mean 'duplicate-bmc-credentials'"));
}

#[tokio::test(flavor = "multi_thread")]
async fn waivers_and_baselines_gate_the_exit_code() {
    let server = warnings_only_region().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        preflight(&dir)
            .env("MAAS_URL", server.maas_url())
            .env("MAAS_API_KEY", API_KEY)
            .args(["scan", "--target", "maas=3.5"])
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(run(&[]).status.code(), Some(1), "MAAS005 and MAAS007 warn");

    // Waivers beside the config are found without a flag.
    std::fs::write(dir.path().join("preflight.toml"), "[scan]\ntimeout = 5\n").unwrap();
    std::fs::write(
        dir.path().join("preflight.waivers.toml"),
        "[[waiver]]\ncheck = \"MAAS005\"\nsubject = \"* BMC *\"\njustification = \"two BMC records per chassis, known\"\nexpires = 2099-12-31\n\n[[waiver]]\ncheck = \"MAAS007\"\njustification = \"rack upgrade scheduled\"\n",
    )
    .unwrap();
    let out = run(&["--format", "nagios"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains(", WAIVED]"));

    // An expired waiver stops applying.
    std::fs::write(
        dir.path().join("w.toml"),
        "[[waiver]]\ncheck = \"MAAS005\"\njustification = \"old\"\nexpires = 2020-01-01\n",
    )
    .unwrap();
    assert_eq!(run(&["--waivers", "w.toml"]).status.code(), Some(1));

    // An unknown id is a config error with a did-you-mean.
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[waiver]]\ncheck = \"MAAS05\"\njustification = \"x\"\n",
    )
    .unwrap();
    let out = run(&["--waivers", "bad.toml"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean 'MAAS005'"));

    // A baseline accepts what it already holds.
    std::fs::remove_file(dir.path().join("preflight.waivers.toml")).unwrap();
    let out = run(&["--format", "json", "--output", "base.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(run(&["--baseline", "base.json"]).status.code(), Some(0));
    assert_eq!(run(&["--baseline", "w.toml"]).status.code(), Some(3), "not a report");
}

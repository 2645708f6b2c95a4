//! The binary as users and CI run it: exit codes, formats, config errors, secret safety.

mod support;

use mocks::fleet::Fleet;
use mocks::maas::{MaasOptions, MaasServer, API_KEY};
use predicates::prelude::*;
use support::preflight;

/// Nothing configured or installed: every check is skipped, and that is no pass. The run is
/// UNKNOWN (exit 3) and says how to point preflight at each system, in every format.
#[test]
fn exit_3_when_nothing_is_configured_or_installed() {
    let dir = tempfile::tempdir().unwrap();
    preflight(&dir)
        .args(["scan", "--target", "maas=3.5"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("UNKNOWN"))
        .stdout(predicate::str::contains("SKIPPED"))
        .stdout(predicate::str::contains("nothing was checked"))
        .stdout(predicate::str::contains("MAAS_URL"))
        .stdout(predicate::str::contains("MENDER_URL"))
        .stdout(predicate::str::contains("BACKENDAI_ENDPOINT"))
        .stdout(predicate::str::contains("--allow-nothing"));
    let out = preflight(&dir).args(["scan", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "unknown");
    assert!(report["notices"][0]
        .as_str()
        .unwrap()
        .starts_with("nothing was checked"));
    preflight(&dir)
        .args(["scan", "--format", "nagios"])
        .assert()
        .code(3)
        .stdout(predicate::str::starts_with("PREFLIGHT UNKNOWN"))
        .stdout(predicate::str::contains("[NOTICE] nothing was checked"));
}

/// `--allow-nothing` (or `[scan] allow_nothing = true`) accepts such a run: exit 0, with the
/// notice still there.
#[test]
fn allow_nothing_accepts_a_run_with_nothing_to_check() {
    let dir = tempfile::tempdir().unwrap();
    preflight(&dir)
        .args(["scan", "--allow-nothing"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("OK:"))
        .stdout(predicate::str::contains("accepted by --allow-nothing"));
    std::fs::write(dir.path().join("preflight.toml"), "[scan]\nallow_nothing = true\n").unwrap();
    preflight(&dir).args(["scan"]).assert().code(0);
}

/// A system the selection excludes is never probed: `--ignore maas` sends the MAAS API not a
/// single request (and lists no MAAS target), and `--select` of another system's check too.
#[tokio::test(flavor = "multi_thread")]
async fn an_excluded_system_is_never_probed() {
    let fleet = Fleet::generate(50, 3);
    let server = MaasServer::start(&fleet, &MaasOptions::mixed("3.4.2", "3.4.2")).await;
    let dir = tempfile::tempdir().unwrap();
    for selection in [["--ignore", "maas"], ["--select", "MENDER001"]] {
        let out = preflight(&dir)
            .env("MAAS_URL", server.maas_url())
            .env("MAAS_API_KEY", API_KEY)
            .args(["scan", "--format", "json", "--allow-nothing"])
            .args(selection)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(report["targets"].get("maas").is_none(), "{selection:?}");
        assert!(
            report["outcomes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|o| o["system"] != "maas"),
            "{selection:?}"
        );
    }
    let requests = server.server.received_requests().await.unwrap();
    assert!(requests.is_empty(), "the MAAS API was asked {} times", requests.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_1_on_warnings_only() {
    let fleet = Fleet::generate(500, 3);
    let server = MaasServer::start(&fleet, &MaasOptions::mixed("3.4.2", "3.4.1")).await;
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&dir)
        .env("MAAS_URL", server.maas_url())
        .env("MAAS_API_KEY", API_KEY)
        .args(["scan", "--target", "maas=3.5", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "warning");
    assert_eq!(report["targets"]["maas"], "3.5");
    let checks: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert!(checks.contains(&"MAAS007") && checks.contains(&"MAAS005"), "{checks:?}");
}

#[test]
fn exit_2_for_the_demo_naming_maas004() {
    let dir = tempfile::tempdir().unwrap();
    preflight(&dir)
        .args(["scan", "--demo"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("MAAS004"))
        .stdout(predicate::str::contains("Path: 23.09.8 → 23.09.10 → 24.03.11"))
        .stdout(predicate::str::contains("CRITICAL"));
}

#[test]
fn the_demo_fires_every_check() {
    let dir = tempfile::tempdir().unwrap();
    let before = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let out = preflight(&dir)
        .args(["scan", "--demo", "--format", "json"])
        .output()
        .unwrap();
    let after = time::OffsetDateTime::now_utc();
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // When the scan started: RFC 3339 in UTC, to the second, within the run.
    let started = report["started_at"].as_str().unwrap();
    let at = time::OffsetDateTime::parse(started, &time::format_description::well_known::Rfc3339).unwrap();
    assert!(started.ends_with('Z') && before <= at && at <= after, "{started}");
    for o in report["outcomes"].as_array().unwrap() {
        assert_eq!(o["status"], "fail", "{o}");
    }
    assert_eq!(report["schema_version"], 1);
    assert_eq!(
        report["targets"]["maas"], "3.7",
        "default target is the newest known release"
    );
}

#[test]
fn exit_3_when_a_configured_system_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    preflight(&dir)
        .env("MAAS_URL", "http://127.0.0.1:9/MAAS")
        .env("MAAS_API_KEY", "a:b:c")
        .args(["scan", "--format", "nagios", "--timeout", "2"])
        .assert()
        .code(3)
        .stdout(predicate::str::starts_with(
            "PREFLIGHT UNKNOWN - 0 blockers, 0 warnings, ",
        ))
        .stdout(predicate::str::contains(
            "[ERROR] MAAS004 could not run: cannot connect to http://127.0.0.1:9/MAAS/api/2.0/",
        ));
}

#[test]
fn exit_3_with_a_pointed_diagnostic_for_a_broken_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("preflight.toml"),
        "[maas]\nurl = \"http://x/MAAS\"\ntimeout = \"soon\"\n",
    )
    .unwrap();
    preflight(&dir)
        .env("NO_COLOR", "1")
        .arg("scan")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("unknown field `timeout`"))
        .stderr(predicate::str::contains("preflight.toml:3"));
}

#[test]
fn bad_target_and_bad_key_file_are_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    preflight(&dir)
        .args(["scan", "--target", "maas=latest"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--target maas=3.5"));
    preflight(&dir)
        .env("MAAS_API_KEY_FILE", "/nonexistent/maas.key")
        .arg("scan")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("/nonexistent/maas.key"));
}

#[test]
fn no_secret_appears_in_any_output_format_or_log() {
    let fleet = Fleet::generate(mocks::demo::MACHINES, mocks::demo::SEED);
    let mut secrets = fleet.secrets();
    assert!(secrets.len() > 1000);
    secrets.push("DemoTokenSecret".into());
    let dir = tempfile::tempdir().unwrap();
    for format in ["table", "json", "nagios"] {
        let out = preflight(&dir)
            .args(["scan", "--demo", "-vvv", "--format", format])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("MAAS004"), "{format}");
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{format} output leaks a secret");
        }
    }
}

#[test]
fn output_file_holds_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    preflight(&dir)
        .args(["scan", "--demo", "--format", "json", "--output"])
        .arg(&path)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty());
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(report["status"], "critical");
}

#[test]
fn checks_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&dir)
        .arg("checks")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for id in preflight::systems::maas::checks::IMPLEMENTED {
        assert!(text.contains(id), "{id}");
    }
    preflight(&dir)
        .args(["explain", "maas004"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("MAAS004 duplicate-bmc-credentials"))
        .stdout(predicate::str::contains("Why it matters"))
        .stdout(predicate::str::contains("0290_migrate_node_power_parameters.py"));
    preflight(&dir)
        .args(["explain", "MAAS999"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("preflight checks"));
}

#[test]
fn help_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["--help"], vec!["scan", "--help"]] {
        let out = preflight(&dir).args(&args).env("COLUMNS", "100").output().unwrap();
        insta::assert_snapshot!(
            format!("help_{}", args.join("_").replace("--", "")),
            String::from_utf8(out.stdout).unwrap()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_failures_are_errors_and_insecure_is_loud() {
    let fleet = Fleet::generate(20, 3);
    let server = MaasServer::start(&fleet, &MaasOptions::mixed("3.4.2", "3.4.2")).await;
    // A TLS client against a plain-HTTP port: the handshake fails.
    let https = server.maas_url().replace("http://", "https://");
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&dir)
        .env("MAAS_URL", &https)
        .env("MAAS_API_KEY", API_KEY)
        .args(["scan", "--format", "nagios", "--timeout", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[ERROR] MAAS004 could not run: cannot connect to https://"),
        "{text}"
    );

    std::fs::write(dir.path().join("preflight.toml"), "[scan]\ninsecure = true\n").unwrap();
    let out = preflight(&dir)
        .env("MAAS_URL", server.maas_url())
        .env("MAAS_API_KEY", API_KEY)
        .args(["scan", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["notices"][0]
        .as_str()
        .unwrap()
        .contains("TLS certificate verification is OFF"));

    std::fs::write(dir.path().join("ca.pem"), "not a certificate").unwrap();
    preflight(&dir)
        .args(["scan", "--ca-cert", "ca.pem"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not PEM certificates"));
}

/// README documents every environment variable a registered system reads.
#[test]
fn readme_documents_every_systems_environment_variables() {
    let readme = include_str!("../README.md");
    for system in preflight::systems::SYSTEMS {
        for var in system.env_vars() {
            assert!(
                readme.contains(&format!("`{var}`")),
                "README does not document {var} ({})",
                system.name()
            );
        }
    }
}

/// README's check catalogue has a row for every check `preflight checks` lists.
#[test]
fn readme_catalogue_lists_every_check() {
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&dir).args(["checks", "--format", "json"]).output().unwrap();
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let readme = include_str!("../README.md");
    let ids: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.len() >= 15, "{ids:?}");
    for id in ids {
        assert!(readme.contains(&format!("| {id} |")), "README's catalogue lacks {id}");
    }
}

#[test]
fn plan_prints_every_systems_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&dir)
        .args(["plan", "--demo", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a path is not supported as planned");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let systems = plan["systems"].as_array().unwrap();
    let of = |system: &str| -> Vec<&serde_json::Value> { systems.iter().filter(|s| s["system"] == system).collect() };
    for system in ["maas", "mender", "juju", "backendai"] {
        let entries = of(system);
        assert!(!entries.is_empty(), "{system}");
        for e in entries {
            assert!(e["path"].as_array().unwrap().len() >= 2, "{e}");
            assert_eq!(
                e["hops"].as_array().unwrap().len() + 1,
                e["path"].as_array().unwrap().len(),
                "{e}"
            );
        }
    }
    let bai = of("backendai")[0];
    assert_eq!(bai["path"][0], "23.09.8");
    assert_eq!(
        bai["path"][1], "23.09.10",
        "patches first, one released version at a time"
    );
    assert_eq!(bai["path"].as_array().unwrap().last().unwrap(), "26.8.1");
    assert!(bai["hops"][1]["first"][0].as_str().unwrap().contains("compute session"));
    assert_eq!(of("juju").len(), 2, "one path per controller");
    assert_eq!(plan["targets"]["mender"], "4.1.3");

    let out = preflight(&dir).args(["plan", "--demo"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("BACKENDAI · Backend.AI 23.09.8 → 26.8.1 · BLOCKED as planned (BAI002)"),
        "{text}"
    );
    assert!(text.contains("│ 1  ┆ 23.09.8  ┆ 23.09.10 ┆"), "{text}");
}

#[test]
fn plan_with_nothing_configured_says_each_system_was_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&dir).args(["plan", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "nothing was checked");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let systems = plan["systems"].as_array().unwrap();
    assert!(!systems.is_empty());
    preflight(&dir)
        .arg("plan")
        .assert()
        .code(3)
        .stdout(predicate::str::contains(
            "UNKNOWN: nothing was checked: every system was skipped",
        ));
    assert!(
        systems
            .iter()
            .all(|s| s["verdict"] == "skipped" && s["path"].as_array().unwrap().is_empty()),
        "{systems:?}"
    );
}

/// `--knowledge DIR`: a pack there is merged over the embedded one — a new release row is a
/// target without a new binary, `preflight checks` names the pack, and a broken pack is exit 3
/// naming the file.
#[test]
fn knowledge_dir_adds_a_release_without_a_new_binary() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = dir.path().join("knowledge");
    std::fs::create_dir(&knowledge).unwrap();
    std::fs::write(
        knowledge.join("mender.toml"),
        "[[series]]\nversion = \"4.2\"\nlast = \"4.2.1\"\nsource = \"a test row\"\n",
    )
    .unwrap();
    let toml = "[mender]\ncurrent = \"4.1.3\"\n";
    std::fs::write(dir.path().join("preflight.toml"), toml).unwrap();
    // Without the pack, 4.2 is beyond what preflight knows; with it, it is the newest release.
    let out = preflight(&dir)
        .args(["scan", "--select", "mender", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["targets"]["mender"], "4.1.3");
    let out = preflight(&dir)
        .args(["scan", "--select", "mender", "--format", "json", "--knowledge"])
        .arg(&knowledge)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["targets"]["mender"], "4.2.1", "{report}");
    let out = preflight(&dir)
        .args(["checks", "--format", "json", "--knowledge"])
        .arg(&knowledge)
        .output()
        .unwrap();
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pack_of = |id: &str| {
        checks.as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["pack"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(pack_of("MENDER001").starts_with("mender.toml + "), "{checks}");
    assert!(pack_of("MENDER001").ends_with("mender.toml"));
    assert_eq!(pack_of("MAAS004"), "maas.toml");

    std::fs::write(knowledge.join("juju.toml"), "[[series]\nversion = 1\n").unwrap();
    preflight(&dir)
        .env("NO_COLOR", "1")
        .args(["checks", "--knowledge"])
        .arg(&knowledge)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("juju.toml"));
    std::fs::write(knowledge.join("juju.toml"), "[[series]]\nversion = 4\n").unwrap();
    preflight(&dir)
        .env("NO_COLOR", "1")
        .args(["checks", "--knowledge"])
        .arg(&knowledge)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("knowledge pack"))
        .stderr(predicate::str::contains("juju.toml"));
    preflight(&dir)
        .args(["checks", "--knowledge", "/nonexistent-knowledge"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not a directory"));
}

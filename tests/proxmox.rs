//! Proxmox VE against a fake API shaped like pve-manager's (mocks/src/proxmox.rs): each check's
//! pass and fail, a refused token and a token without Sys.Audit, the local `pveversion -v`, and
//! the binary (every format, `--ignore`, `checks`, `explain`, `plan`, `--demo`).

mod support;

use mocks::proxmox::{token, ProxmoxCluster, ProxmoxOptions, TOKEN_SECRET};
use preflight::engine;
use preflight::host::{HostSource, RecordedHost};
use preflight::report::{OutcomeStatus, Report, Severity, Status};
use rstest::rstest;
use support::{config_from_toml, outcome, preflight, scan_without_host, severities};

const IDS: [&str; 5] = ["PVE001", "PVE002", "PVE003", "PVE004", "PVE005"];

/// A scan of `cluster` alone (the other systems unconfigured, a recorded empty host).
async fn scan(cluster: &ProxmoxCluster, target: Option<&str>) -> Report {
    scan_with(cluster, &token(), target).await
}

async fn scan_with(cluster: &ProxmoxCluster, token: &str, target: Option<&str>) -> Report {
    let env = [
        ("PROXMOX_VE_ENDPOINT", cluster.url()),
        ("PROXMOX_VE_API_TOKEN", token.to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let targets: Vec<String> = target.map(|t| format!("proxmox={t}")).into_iter().collect();
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    engine::run(&scan_without_host(config_from_toml("", &env, &targets))).await
}

async fn start(o: ProxmoxOptions) -> ProxmoxCluster {
    ProxmoxCluster::start(&o).await
}

fn reason(report: &Report, id: &str) -> String {
    outcome(report, id).reason.clone().unwrap_or_default()
}

fn path_of(report: &Report, id: &str) -> serde_json::Value {
    let f = report.findings.iter().find(|f| f.check == id).expect("a path finding");
    f.evidence.to_map()["path"].clone()
}

#[tokio::test]
async fn a_healthy_cluster_passes_and_is_read_with_the_token_only_by_gets() {
    let cluster = start(ProxmoxOptions::cluster("8.4.1", "8.4.0")).await;
    let report = scan(&cluster, Some("9.0")).await;
    for id in ["PVE001", "PVE002", "PVE003", "PVE005"] {
        assert_eq!(
            outcome(&report, id).status,
            OutcomeStatus::Pass,
            "{id}: {:?}",
            outcome(&report, id)
        );
    }
    assert_eq!(severities(&report, "PVE001"), vec![Severity::Info]);
    assert_eq!(
        path_of(&report, "PVE001"),
        serde_json::json!(["8.4.1", "8.4.21", "9.0.18"])
    );
    assert_eq!(report.targets["proxmox"], "9.0");
    assert_eq!(outcome(&report, "PVE004").status, OutcomeStatus::Skipped);
    assert!(reason(&report, "PVE004").contains("no hyper-converged Ceph"));
    assert!(reason(&report, "PVE002").contains("3 online nodes on 8.4.1"));
    assert_eq!(report.status, Status::Ok);
    let requests = cluster.server.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| r.method == wiremock::http::Method::GET));
    let want = format!("PVEAPIToken={}", token());
    assert!(requests
        .iter()
        .all(|r| r.headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(want.as_str())));
    for p in [
        "/api2/json/version",
        "/api2/json/cluster/status",
        "/api2/json/cluster/resources",
        "/api2/json/nodes/pve2/version",
        "/api2/json/nodes/pve3/apt/versions",
        "/api2/json/cluster/ceph/metadata",
    ] {
        assert!(requests.iter().any(|r| r.url.path() == p), "{p} not asked");
    }
}

#[tokio::test]
async fn mixed_versions_below_the_minimum_block_the_major_and_warn() {
    let mut o = ProxmoxOptions::cluster("8.4.1", "8.4.0");
    let pve2 = o.node_mut("pve2");
    pve2.manager = "8.2.4".into();
    pve2.proxmox_ve = "8.2.0".into();
    let cluster = start(o).await;
    let report = scan(&cluster, Some("9.0")).await;
    assert_eq!(severities(&report, "PVE001"), vec![Severity::Blocker]);
    let f = report.findings.iter().find(|f| f.check == "PVE001").unwrap();
    assert!(
        f.message.contains("pve2 (8.2.0)") && f.message.contains("pve8to9"),
        "{}",
        f.message
    );
    assert_eq!(
        path_of(&report, "PVE001"),
        serde_json::json!(["8.2.4", "8.4.21", "9.0.18"])
    );
    assert_eq!(severities(&report, "PVE002"), vec![Severity::Warning]);
    let f = report.findings.iter().find(|f| f.check == "PVE002").unwrap();
    assert!(f.message.contains("8.2.4 (pve2), 8.4.1 (pve1, pve3)"), "{}", f.message);
    assert_eq!(report.status, Status::Critical);
}

#[tokio::test]
async fn an_offline_node_blocks_and_is_never_asked() {
    let mut o = ProxmoxOptions::cluster("8.4.1", "8.4.0");
    o.node_mut("pve3").online = false;
    let cluster = start(o).await;
    let report = scan(&cluster, Some("9.0")).await;
    assert_eq!(severities(&report, "PVE005"), vec![Severity::Blocker]);
    assert_eq!(
        report.findings.iter().find(|f| f.check == "PVE005").unwrap().subject,
        "node pve3"
    );
    assert!(reason(&report, "PVE002").contains("offline, not compared: pve3"));
    let requests = cluster.server.received_requests().await.unwrap();
    assert!(!requests
        .iter()
        .any(|r| r.url.path().starts_with("/api2/json/nodes/pve3/")));
}

#[tokio::test]
async fn a_cluster_without_quorum_blocks() {
    let mut o = ProxmoxOptions::cluster("8.4.1", "8.4.0");
    o.quorate = false;
    let cluster = start(o).await;
    let report = scan(&cluster, Some("9.0")).await;
    assert_eq!(severities(&report, "PVE005"), vec![Severity::Blocker]);
    let f = report.findings.iter().find(|f| f.check == "PVE005").unwrap();
    assert!(
        f.message.contains("not quorate") && f.subject == "cluster prod",
        "{f:?}"
    );
}

#[tokio::test]
async fn corosync_2_blocks() {
    let mut o = ProxmoxOptions::cluster("8.4.1", "8.4.0");
    o.node_mut("pve1").corosync = "2.4.5-pve2".into();
    let cluster = start(o).await;
    let report = scan(&cluster, Some("9.0")).await;
    assert_eq!(severities(&report, "PVE003"), vec![Severity::Blocker]);
    let f = report.findings.iter().find(|f| f.check == "PVE003").unwrap();
    assert_eq!(f.subject, "node pve1");
    assert!(
        f.message.contains("cluster-wide upgrade to corosync 3.x"),
        "{}",
        f.message
    );
}

#[rstest]
#[case::squid(&[("pve1", "19.2.1"), ("pve2", "19.2.1"), ("pve3", "19.2.1")], OutcomeStatus::Pass, vec![])]
#[case::reef(&[("pve1", "18.2.4"), ("pve2", "18.2.4"), ("pve3", "18.2.4")], OutcomeStatus::Fail, vec![Severity::Blocker])]
#[case::reef_and_squid(&[("pve1", "19.2.1"), ("pve2", "18.2.4"), ("pve3", "19.2.1")], OutcomeStatus::Fail, vec![Severity::Blocker, Severity::Warning])]
#[case::two_squids(&[("pve1", "19.2.1"), ("pve2", "19.2.0")], OutcomeStatus::Fail, vec![Severity::Warning])]
#[tokio::test]
async fn ceph_must_be_squid_before_8_to_9(
    #[case] ceph: &[(&str, &str)],
    #[case] status: OutcomeStatus,
    #[case] want: Vec<Severity>,
) {
    let mut o = ProxmoxOptions::cluster("8.4.1", "8.4.0");
    for (node, version) in ceph {
        o.node_mut(node).ceph = Some(version.to_string());
    }
    let cluster = start(o).await;
    let report = scan(&cluster, Some("9.0")).await;
    assert_eq!(
        outcome(&report, "PVE004").status,
        status,
        "{:?}",
        outcome(&report, "PVE004")
    );
    assert_eq!(severities(&report, "PVE004"), want);
    if status == OutcomeStatus::Pass {
        assert!(
            reason(&report, "PVE004").contains("19 Squid"),
            "{}",
            reason(&report, "PVE004")
        );
    }
}

#[tokio::test]
async fn proxmox_7_to_8_wants_7_4_and_quincy() {
    let cluster = start(ProxmoxOptions::cluster("7.4-17", "7.4-1").with_ceph("17.2.7")).await;
    let report = scan(&cluster, Some("8")).await;
    assert_eq!(outcome(&report, "PVE001").status, OutcomeStatus::Pass);
    assert_eq!(
        path_of(&report, "PVE001"),
        serde_json::json!(["7.4-17", "7.4-20", "8.4.21"])
    );
    assert_eq!(outcome(&report, "PVE004").status, OutcomeStatus::Pass);
    let report = scan(&cluster, Some("9.0")).await;
    assert_eq!(
        severities(&report, "PVE001"),
        vec![Severity::Blocker],
        "two majors at once"
    );
    assert_eq!(
        path_of(&report, "PVE001"),
        serde_json::json!(["7.4-17", "7.4-20", "8.4.21", "9.0.18"])
    );
}

#[tokio::test]
async fn a_standalone_node_skips_the_cluster_checks() {
    let cluster = start(ProxmoxOptions::standalone("8.4.1", "8.4.0")).await;
    let report = scan(&cluster, Some("9.0")).await;
    for id in ["PVE003", "PVE005"] {
        assert_eq!(outcome(&report, id).status, OutcomeStatus::Skipped, "{id}");
        assert!(reason(&report, id).contains("standalone node"), "{id}");
    }
    assert_eq!(outcome(&report, "PVE001").status, OutcomeStatus::Pass);
    assert_eq!(outcome(&report, "PVE002").status, OutcomeStatus::Pass);
}

#[tokio::test]
async fn without_sys_audit_only_the_checks_that_need_it_are_errors() {
    let mut o = ProxmoxOptions::cluster("8.4.1", "8.4.0");
    o.no_sys_audit = true;
    let cluster = start(o).await;
    let report = scan(&cluster, Some("9.0")).await;
    assert_eq!(
        outcome(&report, "PVE002").status,
        OutcomeStatus::Pass,
        "/nodes/{{node}}/version is for all users"
    );
    for (id, names) in [
        ("PVE001", "Sys.Audit on /nodes/pve1"),
        ("PVE003", "Sys.Audit on /nodes/pve1"),
        ("PVE004", "Sys.Audit or Datastore.Audit on /"),
        ("PVE005", "Sys.Audit on / (GET /cluster/status)"),
    ] {
        assert_eq!(outcome(&report, id).status, OutcomeStatus::Error, "{id}");
        assert!(reason(&report, id).contains(names), "{id}: {}", reason(&report, id));
        assert!(reason(&report, id).contains("HTTP 403"), "{id}");
    }
    assert_eq!(report.status, Status::Unknown);
    // An upgrade within the major needs no proxmox-ve version: PVE001 runs.
    let report = scan(&cluster, Some("8.4")).await;
    assert_eq!(outcome(&report, "PVE001").status, OutcomeStatus::Pass);
}

#[tokio::test]
async fn a_refused_token_is_an_error_for_every_check() {
    let mut o = ProxmoxOptions::cluster("8.4.1", "8.4.0");
    o.refuse_token = true;
    let cluster = start(o).await;
    let report = scan(&cluster, None).await;
    for id in IDS {
        assert_eq!(outcome(&report, id).status, OutcomeStatus::Error, "{id}");
        assert!(
            reason(&report, id)
                .contains("authentication failed (check PROXMOX_VE_API_TOKEN and the token's privileges)"),
            "{id}: {}",
            reason(&report, id)
        );
    }
    assert_eq!(report.status, Status::Unknown);
    assert!(!preflight::render::json::render(&report).contains(TOKEN_SECRET));
    let requests = cluster.server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "nothing after the refused /version");
}

#[tokio::test]
async fn a_wrong_secret_is_refused_like_a_refused_token() {
    let cluster = start(ProxmoxOptions::cluster("8.4.1", "8.4.0")).await;
    let report = scan_with(
        &cluster,
        "preflight@pve!audit=00000000-0000-0000-0000-000000000000",
        None,
    )
    .await;
    assert!(reason(&report, "PVE001").contains("HTTP 401: authentication failed"));
}

#[tokio::test]
async fn a_url_without_a_token_says_what_to_set() {
    let cluster = start(ProxmoxOptions::cluster("8.4.1", "8.4.0")).await;
    let env = [("PROXMOX_VE_ENDPOINT", cluster.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let report = engine::run(&scan_without_host(config_from_toml("", &env, &[]))).await;
    assert_eq!(outcome(&report, "PVE003").status, OutcomeStatus::Error);
    assert!(reason(&report, "PVE003").contains("set PROXMOX_VE_API_TOKEN"));
    assert!(cluster.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn newer_than_the_knowledge_is_an_error_naming_target() {
    let cluster = start(ProxmoxOptions::cluster("9.3.1", "9.3.0")).await;
    let report = scan(&cluster, None).await;
    let o = outcome(&report, "PVE001");
    assert_eq!(o.status, OutcomeStatus::Error);
    let r = o.reason.as_deref().unwrap();
    assert!(
        r.contains("--target proxmox=VERSION") && !r.contains("downgrade"),
        "{r}"
    );
}

#[tokio::test]
async fn the_config_file_section_works_too() {
    let cluster = start(ProxmoxOptions::cluster("8.4.1", "8.4.0")).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("pve.token");
    std::fs::write(&token_file, format!("{}\n", token())).unwrap();
    let toml = format!(
        "[proxmox]\nurl = \"{}/\"\ntoken_file = \"{}\"\n[scan]\ntargets = {{ proxmox = \"8.4.21\" }}\n",
        cluster.url(),
        token_file.display()
    );
    let report = engine::run(&scan_without_host(config_from_toml(&toml, &[], &[]))).await;
    assert_eq!(outcome(&report, "PVE001").status, OutcomeStatus::Pass);
    assert_eq!(path_of(&report, "PVE001"), serde_json::json!(["8.4.1", "8.4.21"]));
}

/// A recorded Proxmox VE node: `pveversion -v` as pve-manager's bin/pveversion prints it.
fn pve_host(manager: &str, proxmox_ve: &str, ceph: Option<&str>) -> RecordedHost {
    let mut out = format!(
        "proxmox-ve: {proxmox_ve} (running kernel: 6.8.12-9-pve)\npve-manager: {manager} (running version: {manager}/2a5fa54a8503f96d)\nproxmox-kernel-6.8: 6.8.12-9\n"
    );
    if let Some(c) = ceph {
        out.push_str(&format!("ceph: {c}-pve1\n"));
    }
    out.push_str("ceph-fuse: 18.2.4-pve3\ncorosync: 3.1.9-pve1\ncriu: 3.17.1-2+deb12u1\nlibknet1: 1.30-pve2\n");
    let mut host = RecordedHost::default();
    host.commands.insert("pveversion -v".into(), (0, out));
    host
}

#[tokio::test]
async fn without_a_url_the_local_pveversion_sees_this_node_only() {
    let config = config_from_toml("", &[], &["proxmox=9.0"]);
    let scan = engine::Scan::new(config, HostSource::Recorded(pve_host("8.4.1", "8.4.0", Some("18.2.4"))));
    let report = engine::run(&scan).await;
    assert_eq!(outcome(&report, "PVE001").status, OutcomeStatus::Pass);
    assert!(
        reason(&report, "PVE001").contains("only this node was seen"),
        "{}",
        reason(&report, "PVE001")
    );
    assert_eq!(
        severities(&report, "PVE004"),
        vec![Severity::Blocker],
        "Ceph 18 on this node"
    );
    for id in ["PVE002", "PVE005"] {
        assert_eq!(outcome(&report, id).status, OutcomeStatus::Skipped, "{id}");
        assert!(reason(&report, id).contains("only this node was seen"), "{id}");
    }
    assert_eq!(report.targets["proxmox"], "9.0");
}

#[tokio::test]
async fn neither_url_nor_pveversion_skips_with_how_to_configure() {
    let report = engine::run(&scan_without_host(config_from_toml("", &[], &[]))).await;
    for id in IDS {
        assert_eq!(outcome(&report, id).status, OutcomeStatus::Skipped, "{id}");
        assert!(reason(&report, id).contains("PROXMOX_VE_ENDPOINT"), "{id}");
    }
    assert!(!report.targets.contains_key("proxmox"));
}

// ---- the binary ----

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A refused token (the canary) in every format, at -vvv, with the report also written to a
/// file: exit 3, every check `error` with the clear message, the secret nowhere.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_exits_3_in_every_format_and_never_leaks() {
    let canary = "preflight@pve!audit=CANARY-pve-secret-8c1f";
    let mut o = ProxmoxOptions::cluster("8.4.1", "8.4.0");
    o.refuse_token = true;
    let cluster = start(o).await;
    let dir = tempfile::tempdir().unwrap();
    for format in ["table", "json", "nagios", "sarif", "junit", "prometheus", "html"] {
        let out = preflight(&dir)
            .env("PROXMOX_VE_ENDPOINT", cluster.url())
            .env("PROXMOX_VE_API_TOKEN", canary)
            .args(["scan", "-vvv", "--select", "proxmox", "--format", format])
            .args(["--output", "json=out.json", "--timeout", "10"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{format}: {}", text(&out.stdout));
        let file = std::fs::read_to_string(dir.path().join("out.json")).unwrap();
        for t in [text(&out.stdout), text(&out.stderr), file.clone()] {
            assert!(!t.contains("CANARY-pve-secret-8c1f"), "{format} leaks the token");
        }
        let says = match format {
            // The table wraps its cells; JUnit is XML.
            "table" => "authentication failed (check",
            "junit" => "authentication failed (check PROXMOX_VE_API_TOKEN and the token&apos;s privileges)",
            "prometheus" => "preflight_check_status{system=\"proxmox\",check=\"PVE003\",status=\"error\"} 1",
            "html" => "authentication failed (check PROXMOX_VE_API_TOKEN and the token&#x27;s privileges)",
            _ => "authentication failed (check PROXMOX_VE_API_TOKEN and the token's privileges)",
        };
        assert!(text(&out.stdout).contains(says), "{format}: {}", text(&out.stdout));
        let report: serde_json::Value = serde_json::from_str(&file).unwrap();
        let outcomes = report["outcomes"].as_array().unwrap();
        assert_eq!(outcomes.len(), 5);
        assert!(
            outcomes.iter().all(|o| o["status"] == "error"),
            "{format}: {outcomes:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ignored_proxmox_is_never_asked() {
    let cluster = start(ProxmoxOptions::cluster("8.4.1", "8.4.0")).await;
    let dir = tempfile::tempdir().unwrap();
    for selection in [["--ignore", "proxmox"], ["--select", "BAI001"]] {
        let out = preflight(&dir)
            .env("PROXMOX_VE_ENDPOINT", cluster.url())
            .env("PROXMOX_VE_API_TOKEN", token())
            .args(["scan", "--format", "json", "--allow-nothing"])
            .args(selection)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(report["targets"].get("proxmox").is_none(), "{selection:?}");
        assert!(report["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["system"] != "proxmox"));
    }
    let requests = cluster.server.received_requests().await.unwrap();
    assert!(requests.is_empty(), "the fake was asked {} times", requests.len());
}

#[test]
fn checks_lists_and_explain_documents_the_proxmox_checks() {
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&dir).args(["checks", "--format", "json"]).output().unwrap();
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours: Vec<(&str, &str)> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["system"] == "proxmox")
        .map(|c| (c["id"].as_str().unwrap(), c["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ours,
        [
            ("PVE001", "unsupported-upgrade-path"),
            ("PVE002", "node-version-mismatch"),
            ("PVE003", "corosync-2-installed"),
            ("PVE004", "ceph-release-for-upgrade"),
            ("PVE005", "cluster-not-quorate"),
        ]
    );
    let table = preflight(&dir).arg("checks").output().unwrap();
    for id in IDS {
        assert!(text(&table.stdout).contains(id), "{id}");
    }
    let out = preflight(&dir).args(["explain", "PVE003"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc = text(&out.stdout);
    assert!(doc.contains("PVE003 corosync-2-installed"), "{doc}");
    assert!(
        doc.contains("PVE/CLI/pve8to9.pm") && doc.contains("Why it matters"),
        "{doc}"
    );
    let out = preflight(&dir).args(["explain", "pve002"]).output().unwrap();
    assert!(text(&out.stdout).contains("preflight's own rule"));
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_prints_the_path_to_the_target() {
    let mut o = ProxmoxOptions::cluster("8.4.1", "8.4.0");
    o.node_mut("pve1").manager = "8.2.4".into();
    let cluster = start(o).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |format: &str| {
        preflight(&dir)
            .env("PROXMOX_VE_ENDPOINT", cluster.url())
            .env("PROXMOX_VE_API_TOKEN", token())
            .args(["plan", "--target", "proxmox=9.0", "--format", format])
            .output()
            .unwrap()
    };
    let out = run("table");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let table = text(&out.stdout);
    assert!(
        table.contains("PROXMOX · Proxmox VE 8.2.4 → 9.0.18 · supported (PVE001)"),
        "{table}"
    );
    assert!(table.contains("8.4.21") && table.contains("pve8to9 --full"), "{table}");
    let plan: serde_json::Value = serde_json::from_slice(&run("json").stdout).unwrap();
    let entry = plan["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["system"] == "proxmox")
        .unwrap()
        .clone();
    assert_eq!(entry["path"], serde_json::json!(["8.2.4", "8.4.21", "9.0.18"]));
    assert_eq!(entry["hops"][1]["kind"], "major");
    assert!(entry["hops"][1]["how"].as_str().unwrap().contains("bookworm to trixie"));
    assert_eq!(plan["targets"]["proxmox"], "9.0");
}

#[test]
fn the_demo_includes_proxmox_findings() {
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&dir)
        .args(["scan", "--demo", "--select", "proxmox", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["system"] == "proxmox")
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    for id in IDS {
        assert!(checks.contains(&id), "{id} in {checks:?}");
    }
    assert_eq!(report["targets"]["proxmox"], "9.2.11");
    let out = preflight(&dir).args(["scan", "--demo"]).output().unwrap();
    let table = text(&out.stdout);
    assert!(
        table.contains("PROXMOX") && table.contains("Proxmox VE 8.2.4 → 9.2.11"),
        "{table}"
    );
    assert!(text(&out.stderr).contains("a fake Proxmox VE cluster"));
    assert!(!table.contains(TOKEN_SECRET));
}

//! Mender Server and Backend.AI against wiremock servers shaped like the real APIs, and Juju
//! through a fake `juju` executable printing recorded JSON.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use mocks::backendai::{BackendaiCluster, BackendaiOptions};
use mocks::mender::{MenderFleet, MenderServer, TOKEN, USER};
use preflight::engine;
use preflight::report::{OutcomeStatus, Report, Severity, Status};
use rstest::rstest;
use support::{config_from_toml, outcome, scan_without_host, severities};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn scan(toml: &str, env: &[(&str, &str)]) -> Report {
    engine::run(&scan_without_host(config_from_toml(toml, env, &[]))).await
}

/// The device ids of MENDER002's finding whose subject ends with `what`.
fn ids(report: &Report, what: &str) -> Vec<String> {
    report
        .findings
        .iter()
        .filter(|f| f.check == "MENDER002" && f.subject.ends_with(what))
        .flat_map(|f| {
            f.evidence.to_map()["device_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn mender_pages_through_ten_thousand_devices() {
    let fleet = MenderFleet::generate(10_500);
    let server = MenderServer::start(&fleet).await;
    let toml = "[mender]\ncurrent = \"3.6.2\"\n[scan]\ntargets = { mender = \"3.7\" }\n";
    // 42 pages in a row: the 2 s of the other tests is tight on a loaded machine.
    let mut config = config_from_toml(toml, &[("MENDER_URL", &server.url()), ("MENDER_TOKEN", TOKEN)], &[]);
    config.timeout = Duration::from_secs(30);
    let report = engine::run(&scan_without_host(config)).await;
    let mut want = fleet.decommissioning.clone();
    want.sort();
    assert_eq!(
        ids(&report, "in decommissioning"),
        want,
        "{:?}",
        outcome(&report, "MENDER002")
    );
    let mut want = fleet.missing_from_inventory.clone();
    want.sort();
    assert_eq!(ids(&report, "missing from inventory"), want);
    assert_eq!(
        severities(&report, "MENDER002"),
        [Severity::Warning, Severity::Warning],
        "the upgrade docs call the cleanup advisable"
    );
    let pages = server
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/management/v2/devauth/devices")
        .count();
    assert_eq!(pages, 21, "10,500 devices at 500 a page, following Link headers");
    let requests = server.server.received_requests().await.unwrap();
    assert!(
        requests.iter().all(|r| r.method.as_str() == "GET"),
        "preflight only reads"
    );
    assert_eq!(
        outcome(&report, "MENDER001").status,
        OutcomeStatus::Pass,
        "3.6 → 3.7 is adjacent"
    );
    assert_eq!(report.targets["mender"], "3.7");
}

#[tokio::test]
async fn mender_login_with_user_and_password() {
    let fleet = MenderFleet::generate(20);
    let server = MenderServer::start(&fleet).await;
    let toml = "[mender]\ncurrent = \"3.6.2\"\n[scan]\ntargets = { mender = \"3.7\" }\n";
    let env = [
        ("MENDER_URL", server.url()),
        ("MENDER_USERNAME", USER.0.to_string()),
        ("MENDER_PASSWORD", USER.1.to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let report = scan(toml, &env).await;
    assert_eq!(
        outcome(&report, "MENDER002").status,
        OutcomeStatus::Fail,
        "{:?}",
        outcome(&report, "MENDER002")
    );
    assert_eq!(ids(&report, "missing from inventory"), fleet.missing_from_inventory);
    let bad = [
        ("MENDER_URL", server.url()),
        ("MENDER_USERNAME", USER.0.to_string()),
        ("MENDER_PASSWORD", "wrong-Pa55".to_string()),
    ];
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let report = scan(toml, &bad).await;
    let o = outcome(&report, "MENDER002");
    assert_eq!(o.status, OutcomeStatus::Error);
    assert!(
        o.reason.as_deref().unwrap().contains("rejected the credentials"),
        "{o:?}"
    );
    assert!(!preflight::render::json::render(&report).contains("wrong-Pa55"));
    let requests = server.server.received_requests().await.unwrap();
    for r in requests.iter().filter(|r| r.method.as_str() != "GET") {
        assert_eq!(
            (r.method.as_str(), r.url.path()),
            ("POST", "/api/management/v1/useradm/auth/login"),
            "the one write-shaped call is the login"
        );
    }
}

async fn answering(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(answer).mount(&server).await;
    server
}

#[rstest]
#[case::unauthorized(ResponseTemplate::new(401).set_body_string("{\"error\":\"Unauthorized\"}"), "rejected the credentials")]
#[case::server_error(ResponseTemplate::new(500), "HTTP 500")]
#[case::html(ResponseTemplate::new(200).set_body_raw("<html><title>Bad Gateway</title></html>", "text/html"), "HTML page")]
#[case::garbage(ResponseTemplate::new(200).set_body_raw("{\"devices\": 3}", "application/json"), "malformed JSON")]
#[case::slow(ResponseTemplate::new(200).set_body_json(serde_json::json!([])).set_delay(Duration::from_secs(5)), "timeout")]
#[tokio::test]
async fn mender_failures_are_error_outcomes(#[case] answer: ResponseTemplate, #[case] says: &str) {
    let server = answering(answer).await;
    let report = scan(
        "[mender]\ncurrent = \"3.6.2\"\n[scan]\ntargets = { mender = \"3.7\" }\n",
        &[("MENDER_URL", &server.uri()), ("MENDER_TOKEN", TOKEN)],
    )
    .await;
    let o = outcome(&report, "MENDER002");
    assert_eq!(o.status, OutcomeStatus::Error, "{o:?}");
    assert!(o.reason.as_deref().unwrap().contains(says), "{o:?}");
    assert!(!preflight::render::json::render(&report).contains(TOKEN));
    assert_eq!(report.status, Status::Unknown);
}

/// `GET /` of a Backend.AI manager on 24.09.8.
async fn mount_manager_root(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"version": "v8.20240915", "manager": "24.09.8"})),
        )
        .mount(server)
        .await;
}

fn bai_env(c: &BackendaiCluster) -> String {
    format!(
        "[backendai]\nmanager_url = \"{}\"\nstorage_proxy_url = \"{}\"\nwebserver_url = \"{}\"\n[scan]\ntargets = {{ backendai = \"24.09.9\" }}\n",
        c.manager.uri(),
        c.storage_proxy.uri(),
        c.webserver.uri()
    )
}

#[tokio::test]
async fn backendai_patch_upgrade_with_sessions_and_mixed_components() {
    let cluster = BackendaiCluster::start(&BackendaiOptions {
        manager: "24.09.8".into(),
        storage_proxy: "24.09.8".into(),
        webserver: "24.9.7".into(),
        active_sessions: 2,
        agents: vec![("i-1".into(), "24.09.8".into())],
        ..BackendaiOptions::default()
    })
    .await;
    let report = scan(&bai_env(&cluster), &[]).await;
    assert_eq!(
        outcome(&report, "BAI002").status,
        OutcomeStatus::Pass,
        "24.09.8 → 24.09.9 is one patch"
    );
    let sev = |id: &str| severities(&report, id);
    assert_eq!(sev("BAI001"), vec![Severity::Blocker]);
    assert_eq!(
        sev("BAI003"),
        vec![Severity::Warning],
        "sessions before a patch upgrade"
    );
}

#[rstest]
#[case::unauthorized(401, "superadmin keypair")]
#[case::server_error(500, "HTTP 500")]
#[tokio::test]
async fn backendai_status_failure_is_an_error_for_sessions_only(#[case] status: u16, #[case] says: &str) {
    let manager = MockServer::start().await;
    mount_manager_root(&manager).await;
    Mock::given(method("GET"))
        .and(path("/manager/status"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&manager)
        .await;
    Mock::given(method("POST"))
        .and(path("/admin/gql"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": {"agents": []}})))
        .mount(&manager)
        .await;
    let report = scan(
        &format!("[backendai]\nmanager_url = \"{}\"\n", manager.uri()),
        &[
            ("BACKENDAI_ACCESS_KEY", "AKTEST"),
            ("BACKENDAI_SECRET_KEY", "s3cret-bai-key"),
        ],
    )
    .await;
    let o = outcome(&report, "BAI003");
    assert_eq!(o.status, OutcomeStatus::Error);
    assert!(o.reason.as_deref().unwrap().contains(says), "{o:?}");
    assert_eq!(outcome(&report, "BAI001").status, OutcomeStatus::Pass);
    let signed = manager
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == "/manager/status")
        .unwrap();
    let auth = signed
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        auth.starts_with("BackendAI signMethod=HMAC-SHA256, credential=AKTEST:"),
        "{auth}"
    );
    assert!(signed.headers.contains_key("x-backendai-date") && signed.headers.contains_key("x-backendai-version"));
    assert!(!preflight::render::json::render(&report).contains("s3cret-bai-key"));
}

#[rstest]
#[case::html(ResponseTemplate::new(200).set_body_raw("<html><title>login</title></html>", "text/html"), "HTML page")]
#[case::garbage(ResponseTemplate::new(200).set_body_raw("{\"version\": 8}", "application/json"), "malformed JSON")]
#[case::slow(ResponseTemplate::new(200).set_body_json(serde_json::json!({"manager": "24.09.8"})).set_delay(Duration::from_secs(5)), "timeout")]
#[tokio::test]
async fn backendai_manager_failures_are_error_outcomes(#[case] answer: ResponseTemplate, #[case] says: &str) {
    let server = answering(answer).await;
    let report = scan(&format!("[backendai]\nmanager_url = \"{}\"\n", server.uri()), &[]).await;
    for id in ["BAI001", "BAI002", "BAI003"] {
        let o = outcome(&report, id);
        assert_eq!(o.status, OutcomeStatus::Error, "{id}");
        assert!(o.reason.as_deref().unwrap().contains(says), "{o:?}");
    }
}

/// One answer of the fake `juju`: what it prints on stdout and stderr, and its exit status.
struct Answer<'a> {
    stdout: &'a str,
    stderr: &'a str,
    exit: i32,
}

fn ok(stdout: &str) -> Answer<'_> {
    Answer {
        stdout,
        stderr: "",
        exit: 0,
    }
}

/// A fake `juju` 3.6.4 client that answers exactly the command lines given (whole argument
/// lists) and fails like juju on anything else (`ERROR unrecognized command`, exit 2). Output
/// is compact JSON plus a newline, as juju/cmd's FormatJson writes it.
fn fake_juju_cli(dir: &tempfile::TempDir, answers: &[(&str, Answer)]) -> String {
    let mut script = String::from("#!/bin/sh\ncase \"$*\" in\n  version) echo 3.6.4-genericlinux-amd64 ;;\n");
    for (i, (args, a)) in answers.iter().enumerate() {
        let out = dir.path().join(format!("out{i}"));
        let err = dir.path().join(format!("err{i}"));
        std::fs::write(&out, a.stdout).unwrap();
        std::fs::write(&err, a.stderr).unwrap();
        script.push_str(&format!(
            "  \"{args}\") cat '{}'; cat '{}' >&2; exit {} ;;\n",
            out.display(),
            err.display(),
            a.exit
        ));
    }
    script.push_str("  *) echo \"ERROR unrecognized command: juju $*\" >&2; exit 2 ;;\nesac\n");
    let path = dir.path().join("juju");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// `juju controllers --format=json` with these (name, agent-version) controllers, shaped like
/// upstream's ControllerSet (cmd/juju/controller/listcontrollersconverters.go).
fn controllers_json(list: &[(&str, &str)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = list
        .iter()
        .enumerate()
        .map(|(i, (name, agent))| {
            (
                name.to_string(),
                serde_json::json!({"current-model": "admin/default", "user": "admin", "access": "superuser",
                    "recent-server": format!("10.0.0.{}:17070", 10 + i), "uuid": format!("8e3c1c5a-0000-4000-8000-00000000000{i}"),
                    "api-endpoints": [format!("10.0.0.{}:17070", 10 + i)], "ca-cert": "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
                    "cloud": "maas", "region": "default", "agent-version": agent, "model-count": 2, "machine-count": 3,
                    "controller-machines": {"Active": 1, "Total": 1}}),
            )
        })
        .collect();
    format!(
        "{}\n",
        serde_json::json!({"controllers": map, "current-controller": list[0].0})
    )
}

/// `juju models --all --format=json` of a controller: its controller model and (owner/name,
/// agent-version) models, shaped like upstream's ModelSummarySet.
fn models_json(controller: &str, agent: &str, models: &[(&str, &str)]) -> String {
    let entry = |name: &str, agent: &str, is_controller: bool| {
        let (owner, short) = name.split_once('/').unwrap();
        serde_json::json!({"name": name, "short-name": short, "model-uuid": format!("uuid-{short}"), "model-type": "iaas",
            "controller-uuid": "8e3c1c5a", "controller-name": controller, "is-controller": is_controller, "owner": owner,
            "cloud": "maas", "region": "default", "type": "maas", "life": "alive",
            "status": {"current": "available", "since": "2026-11-02T09:14:05Z"}, "access": "admin",
            "last-connection": "just now", "agent-version": agent})
    };
    let mut list = vec![entry("admin/controller", agent, true)];
    list.extend(models.iter().map(|(n, a)| entry(n, a, false)));
    format!("{}\n", serde_json::json!({"models": list, "current-model": "default"}))
}

/// A fake `juju` that knows one controller `name` on `agent` with these (owner/name, agent)
/// models.
fn one_controller(dir: &tempfile::TempDir, name: &str, agent: &str, models: &[(&str, &str)]) -> String {
    let controllers = controllers_json(&[(name, agent)]);
    let models = models_json(name, agent, models);
    let listing = format!("models --all --format=json -c {name}");
    fake_juju_cli(
        dir,
        &[
            ("controllers --format=json --refresh", ok(&controllers)),
            (&listing, ok(&models)),
        ],
    )
}

async fn juju_scan(cli: &str, extra: &str, target: &str) -> Report {
    let toml = format!("[juju]\ncli = \"{cli}\"\n{extra}[scan]\ntargets = {{ juju = \"{target}\" }}\n");
    let config = config_from_toml(&toml, &[], &[]);
    engine::run(&engine::Scan::live(config)).await
}

#[tokio::test]
async fn juju_lists_every_model_and_never_migrates_the_controller_model() {
    let dir = tempfile::tempdir().unwrap();
    let cli = one_controller(&dir, "prod", "3.5.4", &[("admin/k8s", "3.5.1"), ("alice/ci", "3.5.4")]);
    let report = juju_scan(&cli, "", "3.6").await;
    assert_eq!(report.targets["juju"], "3.6");
    assert_eq!(
        severities(&report, "JUJU002"),
        vec![Severity::Blocker],
        "3.5 → 3.6 in place is impossible"
    );
    assert_eq!(
        severities(&report, "JUJU001"),
        vec![Severity::Warning],
        "admin/k8s left behind"
    );
    let report = juju_scan(&cli, "upgrade = \"migrate\"\n", "3.6").await;
    let plan = report.findings.iter().find(|f| f.check == "JUJU002").unwrap();
    assert_eq!(plan.severity, Severity::Info);
    let ev = plan.evidence.to_map();
    assert_eq!(
        ev["models_to_migrate"],
        serde_json::json!(["admin/k8s", "alice/ci"]),
        "another user's model too"
    );
    assert_eq!(ev["path"], serde_json::json!(["3.5.4", "3.5.7", "3.6.27"]));
    assert_eq!(ev["hops"][0]["kind"], "patch");
    assert_eq!(ev["hops"][1]["kind"], "migration");
}

#[tokio::test]
async fn juju_without_controllers_is_nothing_to_check() {
    let dir = tempfile::tempdir().unwrap();
    // Upstream prints this and exits 0 when the client knows no controller (JSON only; the
    // tabular format errors "No controllers registered.").
    let none = "{\"controllers\":null,\"current-controller\":\"\"}\n";
    let cli = fake_juju_cli(&dir, &[("controllers --format=json --refresh", ok(none))]);
    let report = juju_scan(&cli, "", "3.6").await;
    for id in ["JUJU001", "JUJU002", "JUJU003"] {
        let o = outcome(&report, id);
        assert_eq!(o.status, OutcomeStatus::Skipped, "{o:?}");
        assert!(o.reason.as_deref().unwrap().contains("knows no controller"), "{o:?}");
    }
    // No check could not run: the run is UNKNOWN only because nothing was checked at all.
    assert!(report.outcomes.iter().all(|o| o.status != OutcomeStatus::Error));
    assert!(report.nothing_checked());
}

#[tokio::test]
async fn one_unreachable_controller_errors_only_its_own_part() {
    let dir = tempfile::tempdir().unwrap();
    let controllers = controllers_json(&[("prod", "3.5.4"), ("stale", "3.4.2")]);
    let models = models_json("prod", "3.5.4", &[("admin/k8s", "3.5.4")]);
    let cli = fake_juju_cli(
        &dir,
        &[
            (
                "controllers --format=json --refresh",
                Answer {
                    stdout: &controllers,
                    stderr: "error connecting to api for \"stale\": opening API connection: unable to connect to API: dial tcp 10.0.0.11:17070: connect: connection refused\n",
                    exit: 0,
                },
            ),
            ("models --all --format=json -c prod", ok(&models)),
            (
                "models --all --format=json -c stale",
                Answer {
                    stdout: "",
                    stderr: "ERROR unable to connect to API: dial tcp 10.0.0.11:17070: connect: connection refused\n",
                    exit: 1,
                },
            ),
        ],
    );
    let report = juju_scan(&cli, "", "3.6").await;
    for id in ["JUJU001", "JUJU002", "JUJU003"] {
        let o = outcome(&report, id);
        assert_eq!(o.status, OutcomeStatus::Error, "{o:?}");
        let reason = o.reason.as_deref().unwrap();
        assert!(
            reason.contains("controller stale") && reason.contains("connection refused"),
            "{reason}"
        );
        assert!(reason.contains("1 other controller(s) checked"), "{reason}");
    }
    let prod: Vec<_> = report.findings.iter().filter(|f| f.check == "JUJU002").collect();
    assert_eq!(prod.len(), 1);
    assert_eq!(
        prod[0].subject, "controller prod",
        "the reachable controller is still checked"
    );
}

#[tokio::test]
async fn juju_minors_before_3_0_are_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let cli = one_controller(&dir, "old", "2.7.6", &[("admin/lma", "2.7.6")]);
    let report = juju_scan(&cli, "", "2.9").await;
    let o = outcome(&report, "JUJU002");
    assert_eq!(o.status, OutcomeStatus::Pass, "{o:?}");
    let f = report.findings.iter().find(|f| f.check == "JUJU002").unwrap();
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(
        f.evidence.to_map()["path"],
        serde_json::json!(["2.7.6", "2.8.13", "2.9.52"])
    );
    assert_eq!(
        outcome(&report, "JUJU003").status,
        OutcomeStatus::Skipped,
        "no migration, no minimum"
    );
}

#[tokio::test]
async fn juju_4_0_needs_every_model_on_3_6() {
    let dir = tempfile::tempdir().unwrap();
    let cli = one_controller(&dir, "prod", "3.5.7", &[("admin/k8s", "3.5.7")]);
    let report = juju_scan(&cli, "upgrade = \"migrate\"\n", "4.0").await;
    assert_eq!(report.targets["juju"], "4.0");
    let low = report.findings.iter().find(|f| f.check == "JUJU003").unwrap();
    assert!(
        low.message.contains("3.6.0") && low.message.contains("admin/k8s"),
        "{}",
        low.message
    );
    let path = report.findings.iter().find(|f| f.check == "JUJU002").unwrap();
    assert_eq!(
        path.evidence.to_map()["path"],
        serde_json::json!(["3.5.7", "3.6.27", "4.0.15"])
    );
    let report = juju_scan(&cli, "", "4.1").await;
    let o = outcome(&report, "JUJU002");
    assert_eq!(o.status, OutcomeStatus::Error, "4.1 has no release upstream yet: {o:?}");
}

#[rstest]
#[case::non_zero_exit(Answer { stdout: "", stderr: "ERROR connection is shut down\n", exit: 1 }, "connection is shut down")]
#[case::garbage_json(Answer { stdout: "this is not json", stderr: "", exit: 0 }, "not the expected JSON")]
#[case::not_an_admin(Answer { stdout: "", stderr: "ERROR permission denied\n", exit: 1 }, "controller admin only")]
#[tokio::test]
async fn juju_failures_are_error_outcomes(#[case] models: Answer<'static>, #[case] says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let controllers = controllers_json(&[("prod", "3.5.4")]);
    let cli = fake_juju_cli(
        &dir,
        &[
            ("controllers --format=json --refresh", ok(&controllers)),
            ("models --all --format=json -c prod", models),
        ],
    );
    let report = juju_scan(&cli, "", "3.6").await;
    for id in ["JUJU001", "JUJU002", "JUJU003"] {
        let o = outcome(&report, id);
        assert_eq!(o.status, OutcomeStatus::Error, "{id}");
        assert!(o.reason.as_deref().unwrap().contains(says), "{o:?}");
    }
    assert_eq!(report.status, Status::Unknown);
}

#[tokio::test]
async fn a_configured_juju_that_is_missing_is_an_error() {
    let report = juju_scan("/nonexistent/juju", "", "3.6").await;
    assert_eq!(outcome(&report, "JUJU001").status, OutcomeStatus::Error);
}

#[tokio::test]
async fn backendai_agents_need_a_keypair_and_count() {
    let cluster = BackendaiCluster::start(&BackendaiOptions {
        manager: "24.09.8".into(),
        storage_proxy: "24.09.8".into(),
        webserver: "24.09.8".into(),
        active_sessions: 0,
        agents: vec![("i-1".into(), "24.09.8".into()), ("i-2".into(), "24.09.6".into())],
        ..BackendaiOptions::default()
    })
    .await;
    let report = scan(&bai_env(&cluster), &[]).await;
    let o = outcome(&report, "BAI001");
    assert_eq!(o.status, OutcomeStatus::Pass);
    assert!(o.reason.as_deref().unwrap().contains("agents not compared"), "{o:?}");

    let keys = [
        ("BACKENDAI_ACCESS_KEY", "AKTEST"),
        ("BACKENDAI_SECRET_KEY", "s3cret-bai-key"),
    ];
    let report = scan(&bai_env(&cluster), &keys).await;
    let f = report
        .findings
        .iter()
        .find(|f| f.check == "BAI001")
        .expect("an agent on 24.09.6");
    assert!(
        f.message.contains("24.09.6") && f.evidence.to_map()["components"]["agent i-2"] == "24.09.6",
        "{f:?}"
    );
    assert!(
        f.evidence.to_map()["components"].get("agent i-lost").is_none(),
        "lost agents are not compared"
    );

    let broken = MockServer::start().await;
    mount_manager_root(&broken).await;
    Mock::given(method("GET"))
        .and(path("/manager/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"nodes": [], "active_sessions": 0})))
        .mount(&broken)
        .await;
    Mock::given(method("POST"))
        .and(path("/admin/gql"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"errors": [{"message": "permission denied"}]})),
        )
        .mount(&broken)
        .await;
    let report = scan(&format!("[backendai]\nmanager_url = \"{}\"\n", broken.uri()), &keys).await;
    let o = outcome(&report, "BAI001");
    assert_eq!(o.status, OutcomeStatus::Error);
    assert!(o.reason.as_deref().unwrap().contains("permission denied"), "{o:?}");
}

#[tokio::test]
async fn backendai_graphql_refusal_is_the_servers_message_and_one_content_type() {
    let cluster = BackendaiCluster::start(&BackendaiOptions {
        manager: "24.09.8".into(),
        storage_proxy: "24.09.8".into(),
        webserver: "24.09.8".into(),
        not_superadmin: true,
        ..BackendaiOptions::default()
    })
    .await;
    let keys = [
        ("BACKENDAI_ACCESS_KEY", "AKUSER"),
        ("BACKENDAI_SECRET_KEY", "s3cret-user-key"),
    ];
    let report = scan(&bai_env(&cluster), &keys).await;
    let o = outcome(&report, "BAI001");
    assert_eq!(
        o.status,
        OutcomeStatus::Error,
        "the agents could not be compared: {o:?}"
    );
    assert!(
        o.reason.as_deref().unwrap().contains("superadmin privilege required"),
        "{o:?}"
    );
    let gql = cluster
        .manager
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == "/admin/gql")
        .unwrap();
    assert_eq!(
        gql.headers.get_all("content-type").iter().count(),
        1,
        "{:?}",
        gql.headers
    );
}

async fn bai_cluster(manager: &str) -> BackendaiCluster {
    BackendaiCluster::start(&BackendaiOptions {
        manager: manager.into(),
        storage_proxy: manager.into(),
        webserver: manager.into(),
        ..BackendaiOptions::default()
    })
    .await
}

fn bai_only(c: &BackendaiCluster, target: Option<&str>) -> String {
    let mut toml = format!("[backendai]\nmanager_url = \"{}\"\n", c.manager.uri());
    if let Some(t) = target {
        toml.push_str(&format!("[scan]\ntargets = {{ backendai = \"{t}\" }}\n"));
    }
    toml
}

#[tokio::test]
async fn backendai_newer_than_the_knowledge_is_an_error_not_a_downgrade() {
    let cluster = bai_cluster("26.9.2").await;
    let report = scan(&bai_only(&cluster, None), &[]).await;
    let o = outcome(&report, "BAI002");
    assert_eq!(o.status, OutcomeStatus::Error, "{o:?}");
    let reason = o.reason.as_deref().unwrap();
    assert!(
        reason.contains("older than the system") && reason.contains("--target"),
        "{reason}"
    );
    assert!(!reason.contains("downgrade"), "{reason}");
    assert_eq!(report.status, Status::Unknown);
}

#[rstest]
#[case::rc_to_its_final("26.4.4rc1", Some("26.4.4"), OutcomeStatus::Pass, &["26.4.4rc1", "26.4.4"])]
#[case::default_target_is_the_newest("26.8.0", None, OutcomeStatus::Pass, &["26.8.0", "26.8.1"])]
#[case::over_a_never_released_patch("24.03.0", Some("24.03.2"), OutcomeStatus::Pass, &["24.03.0", "24.03.2"])]
#[case::docs_landing_on_a_patch("23.09.10", Some("24.03.5"), OutcomeStatus::Pass, &["23.09.10", "24.03.5"])]
#[case::not_the_latest_patch("23.09.8", Some("24.03.0"), OutcomeStatus::Fail, &["23.09.8", "23.09.10", "24.03.0"])]
#[tokio::test]
async fn backendai_paths_against_a_fake_manager(
    #[case] running: &str,
    #[case] target: Option<&str>,
    #[case] status: OutcomeStatus,
    #[case] path: &[&str],
) {
    let cluster = bai_cluster(running).await;
    let report = scan(&bai_only(&cluster, target), &[]).await;
    assert_eq!(
        outcome(&report, "BAI002").status,
        status,
        "{:?}",
        outcome(&report, "BAI002")
    );
    let f = report.findings.iter().find(|f| f.check == "BAI002").unwrap();
    assert_eq!(f.evidence.to_map()["path"], serde_json::json!(path));
    let summary = outcome(&report, "BAI001").reason.clone().unwrap();
    assert!(summary.contains("only the manager that answered"), "{summary}");
}

#[tokio::test]
async fn backendai_never_released_targets_are_refused_with_the_nearest() {
    let cluster = bai_cluster("24.03.0").await;
    let report = scan(&bai_only(&cluster, Some("24.03.1")), &[]).await;
    let f = report.findings.iter().find(|f| f.check == "BAI002").unwrap();
    assert_eq!(f.severity, Severity::Blocker);
    assert!(f.message.contains("nearest release is 24.03.2"), "{}", f.message);
}

#[tokio::test]
async fn mender_paths_and_refused_targets() {
    let fleet = MenderFleet::generate(20);
    let server = MenderServer::start(&fleet).await;
    let env = [("MENDER_URL", server.url()), ("MENDER_TOKEN", TOKEN.to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = |current: &str, target: &str| {
        format!("[mender]\ncurrent = \"{current}\"\n[scan]\ntargets = {{ mender = \"{target}\" }}\n")
    };
    let report = scan(&run("3.7.11", "4.0"), &env).await;
    assert_eq!(outcome(&report, "MENDER001").status, OutcomeStatus::Pass);
    let f = report.findings.iter().find(|f| f.check == "MENDER001").unwrap();
    assert_eq!(f.evidence.to_map()["path"], serde_json::json!(["3.7.11", "4.0.4"]));
    let report = scan(&run("1.7.1", "2.0"), &env).await;
    assert_eq!(
        outcome(&report, "MENDER001").status,
        OutcomeStatus::Pass,
        "1.7 → 2.0 is allowed"
    );
    for (target, says) in [("3.7.12", "nearest release is 3.7.11"), ("3.8", "client bundles")] {
        let report = scan(&run("3.7.11", target), &env).await;
        let f = report.findings.iter().find(|f| f.check == "MENDER001").unwrap();
        assert_eq!(f.severity, Severity::Blocker);
        assert!(f.message.contains(says), "{target}: {}", f.message);
    }
}

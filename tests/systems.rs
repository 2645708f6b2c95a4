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
    let report = scan(toml, &[("MENDER_URL", &server.url()), ("MENDER_TOKEN", TOKEN)]).await;
    let mut want = fleet.decommissioning.clone();
    want.sort();
    assert_eq!(ids(&report, "in decommissioning"), want);
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

/// A fake `juju` that prints recorded JSON per sub-command (or fails as told).
fn fake_juju(dir: &tempfile::TempDir, controllers: &str, models: &str, models_exit: i32) -> String {
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\n  version) echo 3.6.4-genericlinux-amd64 ;;\n  controllers) cat <<'EOF'\n{controllers}\nEOF\n  ;;\n  models) cat <<'EOF'\n{models}\nEOF\n  exit {models_exit} ;;\n  *) echo \"unexpected: $*\" >&2; exit 2 ;;\nesac\n"
    );
    let path = dir.path().join("juju");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

async fn juju_scan(cli: &str, extra: &str) -> Report {
    let toml = format!("[juju]\ncli = \"{cli}\"\n{extra}[scan]\ntargets = {{ juju = \"3.6\" }}\n");
    let config = config_from_toml(&toml, &[], &[]);
    let scan = engine::Scan::live(config);
    engine::run(&scan).await
}

#[tokio::test]
async fn juju_through_a_fake_cli() {
    let dir = tempfile::tempdir().unwrap();
    let cli = fake_juju(
        &dir,
        r#"{"controllers": {"prod": {"agent-version": "3.5.4", "uuid": "u1"}}, "current-controller": "prod"}"#,
        r#"{"models": [{"name": "admin/controller", "agent-version": "3.5.4"}, {"name": "admin/k8s", "agent-version": "3.5.1"}]}"#,
        0,
    );
    let report = juju_scan(&cli, "").await;
    assert_eq!(report.targets["juju"], "3.6");
    let sev = |id: &str| severities(&report, id);
    assert_eq!(
        sev("JUJU002"),
        vec![Severity::Blocker],
        "3.5 → 3.6 in place is impossible"
    );
    assert_eq!(sev("JUJU001"), vec![Severity::Warning], "admin/k8s left behind");
    let report = juju_scan(&cli, "upgrade = \"migrate\"\n").await;
    let plan = report.findings.iter().find(|f| f.check == "JUJU002").unwrap();
    assert_eq!(plan.severity, Severity::Info);
    assert!(plan.message.contains("admin/k8s"), "{}", plan.message);
}

#[rstest]
#[case::non_zero_exit("{\"models\": []}", 1, "exited with status 1")]
#[case::garbage_json("this is not json", 0, "not the expected JSON")]
#[tokio::test]
async fn juju_failures_are_error_outcomes(#[case] models: &str, #[case] exit: i32, #[case] says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let cli = fake_juju(
        &dir,
        r#"{"controllers": {"prod": {"agent-version": "3.5.4"}}}"#,
        models,
        exit,
    );
    let report = juju_scan(&cli, "").await;
    for id in ["JUJU001", "JUJU002", "JUJU003"] {
        let o = outcome(&report, id);
        assert_eq!(o.status, OutcomeStatus::Error, "{id}");
        assert!(o.reason.as_deref().unwrap().contains(says), "{o:?}");
    }
    assert_eq!(report.status, Status::Unknown);
}

#[tokio::test]
async fn a_configured_juju_that_is_missing_is_an_error() {
    let report = juju_scan("/nonexistent/juju", "").await;
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

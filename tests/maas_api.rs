//! The MAAS API probe against wiremock servers shaped like the real region API.

mod support;

use mocks::fleet::Fleet;
use mocks::maas::{MaasOptions, MaasServer, API_KEY};
use preflight::engine;
use preflight::report::{OutcomeStatus, Severity, Status};
use regex::Regex;
use rstest::rstest;
use support::{config_from_env, groups, outcome, scan_without_host};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OAUTH: &str = r#"^OAuth oauth_version="1\.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="DemoConsumerKey", oauth_token="DemoTokenKey", oauth_signature="%26DemoTokenSecret", oauth_nonce="([^"]+)", oauth_timestamp="(\d+)"$"#;

/// How many requests `server` received whose path starts with `prefix` and whose query is
/// `op=power_parameters`.
async fn power_requests(server: &MockServer, prefix: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().starts_with(prefix) && r.url.query() == Some("op=power_parameters"))
        .count()
}

/// Bulk and per-machine power-parameter calls both live under this path.
const BULK: &str = "/MAAS/api/2.0/machines/";

fn maas_env(url: &str) -> Vec<(&'static str, String)> {
    vec![("MAAS_URL", url.to_string()), ("MAAS_API_KEY", API_KEY.to_string())]
}

async fn scan(url: &str, target: &str) -> preflight::report::Report {
    let env = maas_env(url);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    engine::run(&scan_without_host(config_from_env(&pairs, &[target]))).await
}

#[tokio::test]
async fn oauth_header_is_exactly_plaintext_with_fresh_nonce() {
    let fleet = Fleet::generate(300, 1);
    let server = MaasServer::start(&fleet, &MaasOptions::mixed("3.2.9", "3.2.9")).await;
    let report = scan(&server.maas_url(), "maas=3.5").await;
    assert_eq!(outcome(&report, "MAAS004").status, OutcomeStatus::Fail);

    let re = Regex::new(OAUTH).unwrap();
    let requests = server.server.received_requests().await.unwrap();
    let signed: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path() != "/MAAS/api/2.0/version/")
        .map(|r| {
            r.headers
                .get("authorization")
                .expect("signed")
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // Controllers ×2, machines, VM hosts, bulk power parameters of machines and of racks, and
    // each VM host's parameters.
    let pods = fleet.pods.len();
    assert_eq!(signed.len(), 6 + pods, "{signed:#?}");
    let mut nonces: Vec<String> = signed.iter().map(|h| re.captures(h).expect(h)[1].to_string()).collect();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 6 + pods, "every request has its own nonce");
}

#[tokio::test]
async fn bulk_path_finds_exactly_the_planted_groups() {
    let fleet = Fleet::generate(10_000, 11);
    let server = MaasServer::start(&fleet, &MaasOptions::mixed("3.2.9", "3.2.9")).await;
    let report = scan(&server.maas_url(), "maas=3.5").await;
    assert_eq!(groups(&report, "MAAS004", Severity::Blocker), fleet.truth.collisions);
    // VM hosts without machines are read through pods/: their collisions are seen too.
    assert_eq!(pod_groups(&report), fleet.truth.pod_collisions);
    assert_eq!(
        groups(&report, "MAAS005", Severity::Warning),
        fleet.truth.shared_addresses
    );
    let reason = outcome(&report, "MAAS004").reason.clone().unwrap();
    assert!(reason.contains("not visible without the database"), "{reason}");
    assert_eq!(outcome(&report, "MAAS007").status, OutcomeStatus::Pass);
    assert_eq!(report.status, Status::Critical);
    assert_eq!(power_requests(&server.server, BULK).await, 1);
    let methods: Vec<String> = server
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert!(methods.iter().all(|m| m == "GET"), "preflight only reads: {methods:?}");
}

#[rstest]
#[case(400)]
#[case(404)]
#[tokio::test]
async fn refused_bulk_falls_back_to_per_machine(#[case] status: u16) {
    let fleet = Fleet::generate(400, 5);
    let mut options = MaasOptions::mixed("3.2.9", "3.2.9");
    options.bulk_status = Some(status);
    let server = MaasServer::start(&fleet, &options).await;
    let report = scan(&server.maas_url(), "maas=3.5").await;
    assert_eq!(groups(&report, "MAAS004", Severity::Blocker), fleet.truth.collisions);
    assert_eq!(
        groups(&report, "MAAS005", Severity::Warning),
        fleet.truth.shared_addresses
    );
    let per_machine = server
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.url.path().starts_with(BULK)
                && r.url.path().len() > BULK.len()
                && r.url.query() == Some("op=power_parameters")
        })
        .count();
    assert_eq!(per_machine, fleet.machines.len());
}

/// The pods (VM hosts) of each MAAS004 blocker group that holds no machine, sorted.
fn pod_groups(report: &preflight::report::Report) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = report
        .findings
        .iter()
        .filter(|f| f.check == "MAAS004" && f.severity == Severity::Blocker)
        .map(|f| f.evidence.to_map().into_owned())
        .filter(|e| e["system_ids"].as_array().is_some_and(Vec::is_empty))
        .map(|e| {
            let mut pods: Vec<String> = e["pods"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            pods.sort();
            pods
        })
        .collect();
    out.sort();
    out
}

/// Rack and region controllers' BMCs are BMC rows like any other: a rack controller whose BMC
/// differs from a machine's only in the password collides with it.
#[tokio::test]
async fn controllers_bmcs_collide_with_machines() {
    let fleet = Fleet::generate(300, 4);
    let planted = |id: &String| {
        fleet
            .truth
            .collisions
            .iter()
            .chain(&fleet.truth.shared_addresses)
            .flatten()
            .any(|p| p == id)
    };
    let victim = fleet
        .machines
        .iter()
        .find(|m| m.power_type == "ipmi" && !planted(&m.system_id))
        .unwrap();
    let mut params = victim.bmc_params();
    params.insert("power_pass".into(), serde_json::json!("another-password"));
    let mut options = MaasOptions::mixed("3.2.9", "3.2.9");
    options.racks[1].power_type = "ipmi".into();
    options.racks[1].params = params.clone();
    options.regions.push(mocks::maas::FakeController {
        system_id: "r3gn09".into(),
        hostname: "maas-region-9".into(),
        version: None,
        power_type: "ipmi".into(),
        params: {
            let mut p = params.clone();
            p.insert("power_pass".into(), serde_json::json!("a-third-password"));
            p
        },
    });
    let server = MaasServer::start(&fleet, &options).await;
    let report = scan(&server.maas_url(), "maas=3.5").await;
    let group = report
        .findings
        .iter()
        .find(|f| {
            f.check == "MAAS004"
                && f.evidence.to_map()["system_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|v| v == "r4ck02")
        })
        .expect("the rack controller's BMC is in a group");
    let evidence = group.evidence.to_map();
    let ids: Vec<&str> = evidence["system_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&victim.system_id.as_str()) && ids.contains(&"r3gn09"),
        "{ids:?}"
    );
    assert_eq!(evidence["controllers"], serde_json::json!(["r3gn09", "r4ck02"]));
    assert!(
        group.message.contains("1 rack controller") && group.message.contains("1 region controller"),
        "{}",
        group.message
    );
    assert_eq!(group.evidence.to_map()["bmc_count"], 3);
}

#[tokio::test]
async fn controller_skew_is_reported() {
    let fleet = Fleet::generate(50, 2);
    let server = MaasServer::start(&fleet, &MaasOptions::mixed("3.4.2", "3.3.5")).await;
    let report = scan(&server.maas_url(), "maas=3.5").await;
    let skew: Vec<_> = report.findings.iter().filter(|f| f.check == "MAAS007").collect();
    assert_eq!(skew.len(), 1);
    assert!(skew[0].message.contains("3.3.5") && skew[0].message.contains("3.4.2"));
    // In upgrade order, each with its version: the rack first, then the region(+rack).
    assert!(
        skew[0]
            .message
            .contains("maas-rack-2 (3.3.5-8602-g.0a1b2c3d4), maas-region-1 (3.4.2-8611-g.f2514168f)"),
        "{}",
        skew[0].message
    );
    let listed = &skew[0].evidence.to_map()["controllers"];
    assert_eq!(listed[0]["hostname"], "maas-rack-2");
    assert_eq!(listed[1]["hostname"], "maas-region-1");
    // Running 3.4 already has 0290: nothing to predict.
    assert_eq!(outcome(&report, "MAAS004").status, OutcomeStatus::Pass);
}

/// A region that answers everything but the bulk power parameters normally.
async fn region_with_power_answer(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    let api = "/MAAS/api/2.0";
    let ok = |body: &str| ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json");
    Mock::given(method("GET"))
        .and(path(format!("{api}/version/")))
        .respond_with(ok(r#"{"capabilities":[],"version":"3.2.9","subversion":""}"#))
        .mount(&server)
        .await;
    for p in ["regioncontrollers/", "rackcontrollers/"] {
        Mock::given(method("GET"))
            .and(path(format!("{api}/{p}")))
            .respond_with(ok(r#"[{"system_id":"abc123","hostname":"r1","version":"3.2.9"}]"#))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("{api}/rackcontrollers/")))
        .and(query_param("op", "power_parameters"))
        .respond_with(ok(r#"{"abc123": {}}"#))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{api}/pods/")))
        .respond_with(ok("[]"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{api}/machines/")))
        .and(query_param("op", "power_parameters"))
        .respond_with(answer)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{api}/machines/")))
        .respond_with(ok(r#"[{"system_id":"m1","hostname":"h1","power_type":"ipmi"}]"#))
        .mount(&server)
        .await;
    server
}

#[rstest]
#[case::forbidden(ResponseTemplate::new(403).set_body_string("You do not have permission"), "not an administrator")]
#[case::unauthorized(ResponseTemplate::new(401).set_body_string("Authorization Error"), "rejected the API key")]
#[case::server_error(ResponseTemplate::new(500).set_body_string("Internal Server Error"), "HTTP 500")]
#[case::html(ResponseTemplate::new(200).set_body_raw("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>", "text/html"), "HTML page instead of JSON")]
#[case::html_error(ResponseTemplate::new(502).set_body_raw("<html><head><title>502 Bad Gateway</title></head></html>", "text/html"), "502 Bad Gateway")]
#[case::truncated(ResponseTemplate::new(200).set_body_raw(r#"{"m1": {"power_address": "10.0.0.1", "power_pa"#, "application/json"), "truncated")]
#[case::not_an_object(ResponseTemplate::new(200).set_body_raw("[1, 2]", "application/json"), "instead of '{'")]
#[case::slow(ResponseTemplate::new(200).set_body_raw("{}", "application/json").set_delay(std::time::Duration::from_secs(5)), "timeout")]
#[tokio::test]
async fn bad_answers_become_error_outcomes(#[case] answer: ResponseTemplate, #[case] cause: &str) {
    let server = region_with_power_answer(answer).await;
    let report = scan(&format!("{}/MAAS", server.uri()), "maas=3.5").await;
    let o = outcome(&report, "MAAS004");
    assert_eq!(o.status, OutcomeStatus::Error, "{o:?}");
    let reason = o.reason.as_deref().unwrap();
    assert!(reason.contains(cause), "{reason}");
    assert!(
        reason.contains(&format!("{}/MAAS", server.uri())),
        "names the endpoint: {reason}"
    );
    assert!(!reason.contains("DemoTokenSecret"));
    // The swapped-files hint is for `preflight bmc`'s files, never for an API answer.
    assert!(!reason.contains("--machines"), "{reason}");
    assert_eq!(report.status, Status::Unknown);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let server = region_with_power_answer(ResponseTemplate::new(503)).await;
    let report = scan(&format!("{}/MAAS", server.uri()), "maas=3.5").await;
    assert_eq!(outcome(&report, "MAAS004").status, OutcomeStatus::Error);
    assert_eq!(
        power_requests(&server, BULK).await,
        1 + preflight::config::DEFAULT_RETRIES
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = region_with_power_answer(ResponseTemplate::new(403)).await;
    scan(&format!("{}/MAAS", server.uri()), "maas=3.5").await;
    assert_eq!(power_requests(&server, BULK).await, 1);
}

#[tokio::test]
async fn unreachable_region_is_an_error_not_a_pass() {
    let report = scan("http://127.0.0.1:9/MAAS", "maas=3.5").await;
    for check in ["MAAS001", "MAAS004", "MAAS005", "MAAS007"] {
        assert_eq!(outcome(&report, check).status, OutcomeStatus::Error, "{check}");
    }
    assert!(outcome(&report, "MAAS004")
        .reason
        .as_deref()
        .unwrap()
        .contains("cannot connect"));
    assert_eq!(report.status, Status::Unknown);
}

#[tokio::test]
async fn retry_after_is_honoured_and_the_run_stays_bounded() {
    let server = region_with_power_answer(ResponseTemplate::new(429).insert_header("retry-after", "1")).await;
    let started = std::time::Instant::now();
    let report = scan(&format!("{}/MAAS", server.uri()), "maas=3.5").await;
    let o = outcome(&report, "MAAS004");
    assert_eq!(o.status, OutcomeStatus::Error);
    // One retry after the server's Retry-After (1 s); a second wait would end past the 2 s
    // deadline of the test config, so the server's own answer is reported, not the deadline.
    let attempts = power_requests(&server, BULK).await;
    assert_eq!(attempts, 2, "{attempts} attempts");
    assert_eq!(o.kind, Some(preflight::report::ErrorKind::Unavailable), "{o:?}");
    assert!(o.reason.as_deref().unwrap().contains("429"), "{o:?}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "waited as asked"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "bounded by --timeout"
    );
}

#[tokio::test]
async fn a_hanging_region_is_cut_at_the_deadline_and_named() {
    let server = region_with_power_answer(
        ResponseTemplate::new(200)
            .set_body_raw("{}", "application/json")
            .set_delay(std::time::Duration::from_secs(60)),
    )
    .await;
    let report = scan(&format!("{}/MAAS", server.uri()), "maas=3.5").await;
    let reason = outcome(&report, "MAAS004").reason.clone().unwrap();
    assert!(reason.contains("within 2 s"), "{reason}");
    assert_eq!(report.status, Status::Unknown);
}

/// `version/` answers the string "None" while no controller has reported (upstream
/// `get_maas_version()`), and controllers list `null` or `""` versions: preflight says so,
/// instead of asking for a MAAS_URL it already has.
#[tokio::test]
async fn a_region_that_reports_no_version_says_so() {
    let fleet = Fleet::generate(50, 2);
    let mut options = MaasOptions::mixed("3.2.9", "3.2.9");
    options.version = "None".into();
    options.regions[0].version = None;
    options.racks[1].version = Some(String::new());
    let server = MaasServer::start(&fleet, &options).await;
    let report = scan(&server.maas_url(), "maas=3.5").await;
    let o = outcome(&report, "MAAS001");
    assert_eq!(o.status, OutcomeStatus::Error);
    let reason = o.reason.as_deref().unwrap();
    assert!(
        reason.contains("\"None\"") && !reason.contains("set MAAS_URL"),
        "{reason}"
    );
    let skew = outcome(&report, "MAAS007");
    assert!(
        skew.reason.as_deref().unwrap().contains("not reporting a version"),
        "{skew:?}"
    );
}

/// `machines/` as a real region answers it: upstream-shaped objects of about 16 KB each
/// (indent=4, nested interfaces and block devices with `system_id` keys of their own).
#[tokio::test]
async fn real_size_machine_objects_give_the_same_answer() {
    let fleet = Fleet::generate(600, 8);
    let mut options = MaasOptions::mixed("3.2.9", "3.2.9");
    options.real_size = true;
    let server = MaasServer::start(&fleet, &options).await;
    let report = scan(&server.maas_url(), "maas=3.5").await;
    assert_eq!(groups(&report, "MAAS004", Severity::Blocker), fleet.truth.collisions);
    let hostnames: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.check == "MAAS004" && f.severity == Severity::Blocker)
        .flat_map(|f| f.evidence.to_map()["hostnames"].as_array().unwrap().clone())
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    assert!(!hostnames.is_empty());
    for h in hostnames {
        assert!(fleet.machines.iter().any(|m| m.hostname == h), "{h}");
    }
}

//! Every fault × every probe: the outcome of the probe's checks and the exit code, as a table.
//! The table in README.md (between the `faults:begin` / `faults:end` markers) must equal what
//! this suite observes; regenerate it with `PREFLIGHT_WRITE_FAULTS=1 cargo test --test faults`.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use preflight::engine;
use preflight::report::{OutcomeStatus, Report};
use support::{config_from_toml, scan_without_host};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FAULTS: &[&str] = &[
    "connection refused",
    "DNS failure",
    "TLS failure",
    "timeout (never answers)",
    "401",
    "403",
    "404",
    "429 with Retry-After",
    "500",
    "HTML page with 200",
    "truncated body",
    "JSON of the wrong shape",
    "100 MB body",
    "non-UTF-8 bytes",
    "another protocol on the port",
    "command not found",
    "command exits non-zero",
    "command hangs",
];

const PROBES: &[(&str, &str)] = &[
    ("MAAS API", "MAAS004"),
    ("Mender", "MENDER002"),
    ("Backend.AI", "BAI001"),
    ("PostgreSQL", "MAAS003"),
    ("Juju", "JUJU001"),
    ("host commands", "MAAS006"),
];

/// A recorded MAAS host whose `systemctl` is missing, fails or never finishes.
async fn host_cell(fault: &str) -> String {
    use preflight::host::{HostSource, RecordedHost};
    let mut host = RecordedHost::default();
    host.files
        .insert("/etc/os-release".into(), "ID=ubuntu\nVERSION_ID=\"22.04\"\n".into());
    host.files.insert("/run/systemd/system/.x".into(), String::new());
    host.files
        .insert("/snap/maas/current/meta/snap.yaml".into(), "version: 3.4.2\n".into());
    match fault {
        "command not found" => {}
        "command exits non-zero" => {
            for unit in ["systemd-timesyncd", "chrony"] {
                for verb in ["is-active", "is-enabled"] {
                    host.commands
                        .insert(format!("systemctl {verb} {unit}"), (1, String::new()));
                }
            }
        }
        "command hangs" => {
            for unit in ["systemd-timesyncd", "chrony"] {
                for verb in ["is-active", "is-enabled"] {
                    host.hanging.insert(format!("systemctl {verb} {unit}"));
                }
            }
        }
        _ => return "n/a".into(),
    }
    let scan = engine::Scan::new(
        config_from_toml("[scan]\ntargets = { maas = \"3.5\" }\n", &[], &[]),
        HostSource::Recorded(host),
    );
    cell(&engine::run(&scan).await, "MAAS006", "systemctl")
}

async fn postgres_cell(fault: &str) -> String {
    // A listener that accepts and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let http = answering(ResponseTemplate::new(200)).await;
    let dsn = match fault {
        "connection refused" => "postgresql://maas@127.0.0.1:9/maasdb".to_string(),
        "DNS failure" => "postgresql://maas@preflight-fault.invalid/maasdb".to_string(),
        "timeout (never answers)" => format!("postgresql://maas@127.0.0.1:{silent_port}/maasdb"),
        "another protocol on the port" => http.uri().replace("http://", "postgresql://maas@") + "/maasdb",
        _ => return "n/a".into(),
    };
    let config = config_from_toml("[scan]\ntargets = { maas = \"3.5\" }\n", &[("DATABASE_URL", &dsn)], &[]);
    let report = engine::run(&scan_without_host(config)).await;
    let host = dsn.split_once('@').map_or("", |(_, rest)| rest);
    cell(&report, "MAAS003", host.split('/').next().unwrap_or_default())
}

/// A server answering every request with `answer`.
async fn answering(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

fn http_answer(fault: &str) -> Option<ResponseTemplate> {
    Some(match fault {
        "timeout (never answers)" => ResponseTemplate::new(200).set_delay(Duration::from_secs(60)),
        "401" => ResponseTemplate::new(401),
        "403" => ResponseTemplate::new(403),
        "404" => ResponseTemplate::new(404),
        "429 with Retry-After" => ResponseTemplate::new(429).insert_header("retry-after", "1"),
        "500" => ResponseTemplate::new(500),
        "HTML page with 200" => {
            ResponseTemplate::new(200).set_body_raw("<html><title>proxy</title></html>", "text/html")
        }
        "truncated body" => ResponseTemplate::new(200).set_body_raw(r#"{"version": "3.2."#, "application/json"),
        "JSON of the wrong shape" => {
            ResponseTemplate::new(200).set_body_raw(r#"{"unexpected": [1, 2]}"#, "application/json")
        }
        "100 MB body" => ResponseTemplate::new(200).set_body_raw(vec![b' '; 100 * 1024 * 1024], "application/json"),
        "non-UTF-8 bytes" => {
            ResponseTemplate::new(200).set_body_raw(b"{\"version\": \"\xff\xfe\"}".to_vec(), "application/json")
        }
        _ => return None,
    })
}

/// The table cell of `check`: its outcome, the kind of an `error`, and the exit code. An
/// `error` must say where it looked: its reason names `endpoint` (host and port, or the
/// command); and every `error` of the report has a kind.
fn cell(report: &Report, check: &str, endpoint: &str) -> String {
    for o in report.outcomes.iter().filter(|o| o.status == OutcomeStatus::Error) {
        assert!(o.kind.is_some(), "{}: an error without a kind: {:?}", o.check, o.reason);
    }
    let outcome = report.outcomes.iter().find(|o| o.check == check);
    let status = outcome.map_or(OutcomeStatus::Skipped, |o| o.status);
    let mut shown = status.to_string();
    if status == OutcomeStatus::Error {
        let reason = outcome.and_then(|o| o.reason.as_deref()).unwrap_or_default();
        assert!(
            reason.contains(endpoint),
            "{check}: the error does not name {endpoint}: {reason}"
        );
        if let Some(kind) = outcome.and_then(|o| o.kind) {
            shown = format!("{status} ({kind})");
        }
    }
    format!("{shown}, exit {}", report.status.exit_code())
}

async fn http_cell(probe: &str, check: &str, fault: &str) -> String {
    let server = match http_answer(fault) {
        Some(a) => Some(answering(a).await),
        None => None,
    };
    let plain = answering(ResponseTemplate::new(200)).await;
    let base = match fault {
        "connection refused" => "http://127.0.0.1:9".to_string(),
        "DNS failure" => "http://preflight-fault.invalid".to_string(),
        "TLS failure" => plain.uri().replace("http://", "https://"),
        _ => match &server {
            Some(s) => s.uri(),
            None => return "n/a".into(),
        },
    };
    let toml = match probe {
        "MAAS API" => format!("[maas]\nurl = \"{base}/MAAS\"\napi_key = \"a:b:c\"\n"),
        "Mender" => format!("[mender]\nurl = \"{base}\"\ntoken = \"t\"\ncurrent = \"3.6.0\"\n"),
        _ => format!("[backendai]\nmanager_url = \"{base}\"\n"),
    };
    let toml = format!("{toml}[scan]\nmax_response_mib = 64\ntargets = {{ maas = \"3.5\", mender = \"3.7\" }}\n");
    let report = engine::run(&scan_without_host(config_from_toml(&toml, &[], &[]))).await;
    let host = base.split_once("://").map_or(base.as_str(), |(_, rest)| rest);
    cell(&report, check, host)
}

async fn juju_cell(fault: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let body = match fault {
        "command not found" => None,
        "command exits non-zero" => Some("echo boom >&2; exit 1"),
        "command hangs" => Some("sleep 60"),
        "JSON of the wrong shape" => {
            Some("case \"$1\" in version) echo 3.6.4-genericlinux-amd64;; *) echo '[1,2]';; esac")
        }
        "non-UTF-8 bytes" => {
            Some("case \"$1\" in version) echo 3.6.4-genericlinux-amd64;; *) printf '\\377\\376';; esac")
        }
        "truncated body" => {
            Some("case \"$1\" in version) echo 3.6.4-genericlinux-amd64;; *) echo '{\"controllers\": {';; esac")
        }
        _ => return "n/a".into(),
    };
    let cli = dir.path().join("juju");
    if let Some(body) = body {
        std::fs::write(&cli, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let toml = format!("[juju]\ncli = \"{}\"\n", cli.display());
    let report = engine::run(&engine::Scan::live(config_from_toml(&toml, &[], &[]))).await;
    cell(&report, "JUJU001", "juju")
}

fn table(cells: &BTreeMap<(usize, usize), String>) -> String {
    let mut out = String::from("| fault |");
    for (probe, check) in PROBES {
        out.push_str(&format!(" {probe} ({check}) |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(PROBES.len()));
    out.push('\n');
    for (r, fault) in FAULTS.iter().enumerate() {
        out.push_str(&format!("| {fault} |"));
        for c in 0..PROBES.len() {
            out.push_str(&format!(" {} |", cells[&(r, c)]));
        }
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fault_of_every_probe_is_an_error_never_ok() {
    let mut cells = BTreeMap::new();
    for (r, fault) in FAULTS.iter().enumerate() {
        for (c, (probe, check)) in PROBES.iter().enumerate() {
            let value = match *probe {
                "Juju" => juju_cell(fault).await,
                "PostgreSQL" => postgres_cell(fault).await,
                "host commands" => host_cell(fault).await,
                _ => http_cell(probe, check, fault).await,
            };
            if value != "n/a" {
                assert!(value.starts_with("error"), "{fault} × {probe}: {value}");
                assert!(!value.ends_with("exit 0"), "{fault} × {probe}: {value}");
            }
            cells.insert((r, c), value);
        }
    }
    let generated = table(&cells);
    let readme_path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(readme_path).unwrap();
    let (begin, end) = ("<!-- faults:begin -->\n", "<!-- faults:end -->");
    let start = readme.find(begin).expect("README has the faults markers") + begin.len();
    let stop = readme.find(end).unwrap();
    if std::env::var_os("PREFLIGHT_WRITE_FAULTS").is_some() {
        let updated = format!("{}{generated}{}", &readme[..start], &readme[stop..]);
        std::fs::write(readme_path, updated).unwrap();
    } else {
        assert_eq!(
            &readme[start..stop],
            generated,
            "README's fault table is stale: PREFLIGHT_WRITE_FAULTS=1 cargo test --test faults"
        );
    }
}

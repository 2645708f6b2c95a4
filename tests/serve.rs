//! `preflight serve` over loopback HTTP: /healthz, /metrics, /report.json.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `preflight serve` with `args` on a free loopback port; returns it and its base URL.
fn start(args: &[&str]) -> (Server, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("preflight"))
        .args(["serve", "--listen", "127.0.0.1:0", "--interval", "3600"])
        .args(args)
        .current_dir(std::env::temp_dir())
        .env_remove("MAAS_URL")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("preflight serve: listening on ") {
            break rest.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Server(child), url)
}

#[tokio::test]
async fn serves_health_metrics_and_report() {
    let (_server, url) = start(&["--demo"]);
    let client = reqwest::Client::new();
    let health = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503, "the demo is CRITICAL");
    assert!(health.text().await.unwrap().starts_with("CRITICAL"));
    let text = |path: &'static str| {
        let request = client.get(format!("{url}{path}")).send();
        async move { request.await.unwrap().text().await.unwrap() }
    };
    let metrics = text("/metrics").await;
    let scrape = prometheus_parse::Scrape::parse(metrics.lines().map(|l| Ok(l.to_string()))).unwrap();
    assert!(scrape.samples.iter().any(|s| s.metric == "preflight_findings"));
    let body = text("/report.json").await;
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["status"], "critical");
    assert!(!report.to_string().contains("DemoTokenSecret"));
    assert_eq!(client.get(format!("{url}/nope")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn healthy_when_ok() {
    let (_server, url) = start(&["--select", "MAAS006", "--allow-nothing"]);
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(
        health.status(),
        200,
        "nothing installed here, accepted by --allow-nothing: OK"
    );
}

/// Nothing installed here and nothing configured: nothing was checked, which is UNKNOWN, not
/// healthy.
#[tokio::test]
async fn unhealthy_when_nothing_was_checked() {
    let (_server, url) = start(&["--select", "MAAS006"]);
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(health.status(), 503, "every check skipped: UNKNOWN");
}

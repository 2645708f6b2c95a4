//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod roots;
pub mod sshd;

use std::collections::HashMap;
use std::path::Path;

use preflight::config::{Config, Overrides};
use preflight::engine::Scan;
use preflight::host::{HostSource, RecordedHost};
use preflight::report::{Outcome, Report, Severity};

/// The environment variables preflight reads: every registered system's
/// (`System::env_vars` of [`preflight::systems::SYSTEMS`]), `PREFLIGHT_KNOWLEDGE` and
/// `NO_COLOR`.
pub fn preflight_env() -> Vec<&'static str> {
    let mut vars: Vec<&'static str> = preflight::systems::SYSTEMS
        .iter()
        .flat_map(|s| s.env_vars().iter().copied())
        .collect();
    vars.extend(["PREFLIGHT_KNOWLEDGE", "NO_COLOR"]);
    vars
}

/// The `preflight` binary run in `dir`, with none of [`preflight_env`] set: what a test checks
/// never depends on the shell it was started from (a test sets what it needs).
pub fn preflight(dir: impl AsRef<Path>) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("preflight").expect("the preflight binary is built");
    cmd.current_dir(dir);
    for var in preflight_env() {
        cmd.env_remove(var);
    }
    cmd
}

/// The outcome of `check` in a JSON report (`outcomes[]`); panics naming the check and the
/// report when there is none.
pub fn outcome_json<'a>(report: &'a serde_json::Value, check: &str) -> &'a serde_json::Value {
    first_of_check(report, "outcomes", check)
}

/// Each host of a JSON outcome (`hosts[]`) as (`host`, `status`), in report order.
pub fn host_statuses(outcome: &serde_json::Value) -> Vec<(&str, &str)> {
    outcome["hosts"]
        .as_array()
        .unwrap_or_else(|| panic!("no hosts[] in the outcome: {outcome}"))
        .iter()
        .map(|h| (h["host"].as_str().unwrap(), h["status"].as_str().unwrap()))
        .collect()
}

/// The first finding of `check` in a JSON report (`findings[]`, report order); panics naming
/// the check and the report when there is none.
pub fn finding_json<'a>(report: &'a serde_json::Value, check: &str) -> &'a serde_json::Value {
    first_of_check(report, "findings", check)
}

/// The first element of the report's array `list` (`outcomes`, `findings`) whose `check` is
/// `check`; panics naming both and the report when there is none.
fn first_of_check<'a>(report: &'a serde_json::Value, list: &str, check: &str) -> &'a serde_json::Value {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list}[] in the report: {report}"))
        .iter()
        .find(|e| e["check"] == check)
        .unwrap_or_else(|| panic!("none of {list}[] is of {check}: {report}"))
}

/// A config built only from `env` pairs (no file).
pub fn config_from_env(pairs: &[(&str, &str)], targets: &[&str]) -> Config {
    config_from_toml("", pairs, targets)
}

/// A scan of `config` on a host without MAAS (recorded, empty) and no database override.
pub fn scan_without_host(config: Config) -> Scan {
    Scan::new(config, HostSource::Recorded(RecordedHost::default()))
}

/// The severities of the findings of `check` in `report`, in report order.
pub fn severities(report: &Report, check: &str) -> Vec<Severity> {
    report
        .findings
        .iter()
        .filter(|f| f.check == check)
        .map(|f| f.severity)
        .collect()
}

/// The outcome of `check` in `report`.
pub fn outcome<'a>(report: &'a Report, check: &str) -> &'a Outcome {
    report
        .outcomes
        .iter()
        .find(|o| o.check == check)
        .unwrap_or_else(|| panic!("no outcome for {check}"))
}

/// The sorted system_ids of every finding of `check` at `severity` (the detector's groups),
/// sorted by first id; groups of VM hosts alone (no machine) are left out.
pub fn groups(report: &Report, check: &str, severity: Severity) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = report
        .findings
        .iter()
        .filter(|f| f.check == check && f.severity == severity)
        .map(|f| {
            let mut ids: Vec<String> = f.evidence.to_map()["system_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        })
        .filter(|ids| !ids.is_empty())
        .collect();
    out.sort();
    out
}

/// The throw-away cluster scripts/test starts (`postgresql://postgres:PW@127.0.0.1:PORT/postgres`).
pub fn test_database_url() -> String {
    std::env::var("PREFLIGHT_TEST_DATABASE_URL").expect(
        "PREFLIGHT_TEST_DATABASE_URL is not set: run the suite with scripts/test, which starts a throw-away PostgreSQL",
    )
}

/// `test_database_url()` pointing at database `name` instead of `postgres`.
pub fn database_url(name: &str) -> String {
    let base = test_database_url();
    let cut = base.rfind('/').expect("URL has a path");
    format!("{}/{name}", &base[..cut])
}

/// A config from preflight.toml text plus env pairs, with a 2 s timeout.
pub fn config_from_toml(text: &str, pairs: &[(&str, &str)], targets: &[&str]) -> Config {
    let file = preflight::config::parse_file_config("test.toml", text, &preflight::systems::configurable())
        .expect("valid test toml");
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let overrides = Overrides {
        config: None,
        targets: targets.iter().map(|t| t.to_string()).collect(),
        timeout: Some(2),
        ..Overrides::default()
    };
    Config::from_layers(
        None,
        file,
        &overrides,
        &move |k| map.get(k).cloned(),
        &preflight::systems::configurable(),
    )
    .expect("valid test config")
}

/// A client of the test cluster's database at `url`.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("test cluster reachable");
    tokio::spawn(connection);
    client
}

/// A fresh database `name` on the test cluster (dropped first if a previous run left it).
pub async fn fresh_database(name: &str) -> tokio_postgres::Client {
    let admin = connect(&test_database_url()).await;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    connect(&database_url(name)).await
}

/// A recorded Ubuntu 22.04 region controller with the MAAS deb `deb_version` whose regiond.conf
/// (`/etc/maas/regiond.conf`, as MAAS writes it) points at `database` on the test cluster.
pub fn region_host(deb_version: &str, database: &str) -> RecordedHost {
    let url = test_database_url();
    let port = url.rsplit(':').next().unwrap().split('/').next().unwrap().to_string();
    let mut host = RecordedHost::default();
    host.files.insert(
        "/etc/os-release".into(),
        "ID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n".into(),
    );
    host.commands.insert(
        "dpkg-query -W -f=${Version} maas-region-api".into(),
        (0, deb_version.into()),
    );
    host.files.insert(
        "/etc/maas/regiond.conf".into(),
        format!("database_host: 127.0.0.1\ndatabase_port: {port}\ndatabase_name: {database}\ndatabase_user: postgres\ndatabase_pass: preflight-test-secret\nmaas_url: http://localhost:5240/MAAS\n"),
    );
    host
}

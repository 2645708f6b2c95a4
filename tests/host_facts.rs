//! `preflight facts`: this host's facts as a versioned document, from `/` or a root directory
//! (`--root`: a mounted image), and `preflight scan --host-facts` reading such documents.

mod support;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// A MAAS controller's root as an image holds it: os-release of `ubuntu`, a hostname, systemd
/// as init, and the snap (`Some(version)`) or the deb packages (dpkg's status file) of MAAS,
/// with regiond.conf (holding a password canary).
fn controller_root(dir: &Path, hostname: &str, ubuntu: &str, snap: Option<&str>, deb: Option<&str>) {
    let write = |path: &str, text: &str| {
        let p = dir.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    let codename = if ubuntu == "24.04" { "noble" } else { "jammy" };
    write(
        "/etc/os-release",
        &format!("NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"{ubuntu}\"\nVERSION_CODENAME={codename}\n"),
    );
    write("/etc/hostname", &format!("{hostname}\n"));
    write("/usr/lib/systemd/systemd", "");
    let conf = "database_host: 10.0.0.9\ndatabase_port: 5432\ndatabase_name: maasdb\ndatabase_user: maas\ndatabase_pass: Fact5-Canary-Pw\nmaas_url: http://10.0.0.2:5240/MAAS\n";
    if let Some(version) = snap {
        write(
            "/snap/maas/current/meta/snap.yaml",
            &format!("name: maas\nversion: {version}\n"),
        );
        write("/var/snap/maas/common/snap_mode", "region+rack\n");
        write("/var/snap/maas/current/regiond.conf", conf);
    }
    let mut status =
        String::from("Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 13ubuntu10\n\n");
    if let Some(version) = deb {
        status.push_str(&format!(
            "Package: maas-region-api\nStatus: install ok installed\nArchitecture: all\nVersion: {version}\n\n"
        ));
        write("/etc/maas/regiond.conf", conf);
    }
    write("/var/lib/dpkg/status", &status);
    std::fs::create_dir_all(dir.join("var/lib/dpkg/info")).unwrap();
}

fn facts(args: &[&str]) -> Value {
    let out = Command::cargo_bin("preflight")
        .unwrap()
        .arg("facts")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn facts_of_a_snap_root_name_the_install_and_never_the_password() {
    let dir = tempfile::tempdir().unwrap();
    controller_root(dir.path(), "region-1", "22.04", Some("3.5.1-16343-g.1b7e4a3a8"), None);
    let doc = facts(&["--root", dir.path().to_str().unwrap()]);
    assert_eq!(doc["preflight_facts"], 1);
    assert_eq!(doc["host"], "region-1", "the root's /etc/hostname");
    assert_eq!(doc["root"], dir.path().to_str().unwrap());
    let f = &doc["facts"];
    assert_eq!(f["release"]["version"], "22.04");
    assert_eq!(f["release"]["codename"], "jammy");
    assert_eq!(f["maas"]["snap"]["version"], "3.5.1-16343-g.1b7e4a3a8");
    assert_eq!(f["maas"]["snap"]["mode"], "region+rack");
    assert_eq!(f["regiond"]["ok"]["database_host"], "10.0.0.9");
    assert_eq!(f["regiond"]["ok"]["maas_url"], "http://10.0.0.2:5240/MAAS");
    let text = doc.to_string();
    assert!(
        !text.contains("Fact5-Canary-Pw") && !text.contains("database_pass"),
        "{text}"
    );
    // A root runs nothing: a unit's active state is not available, never guessed.
    assert_eq!(f["systemd"], true, "the root boots with systemd");
    for unit in ["timesyncd", "chrony"] {
        assert_eq!(f[unit]["active"], Value::Null, "{unit}");
        assert_eq!(f[unit]["unread"]["kind"], "not_available", "{unit}: {}", f[unit]);
    }
    assert_eq!(f["lsb_release"], Value::Null, "lsb_release needs the running system");
}

#[test]
fn facts_of_a_deb_root_come_from_its_dpkg_database() {
    let dir = tempfile::tempdir().unwrap();
    controller_root(dir.path(), "rack-1", "24.04", None, Some("1:3.4.10-0ubuntu1"));
    let doc = facts(&["--root", dir.path().to_str().unwrap(), "--name", "rack-1.maas"]);
    assert_eq!(doc["host"], "rack-1.maas", "--name wins");
    assert_eq!(doc["facts"]["maas"]["deb"]["version"], "1:3.4.10-0ubuntu1");
    assert_eq!(doc["facts"]["release"]["version"], "24.04");
    assert_eq!(doc["facts"]["regiond"]["ok"]["path"], "/etc/maas/regiond.conf");
}

#[test]
fn facts_of_this_host_are_a_document_too() {
    let doc = facts(&[]);
    assert_eq!(doc["preflight_facts"], 1);
    assert_eq!(doc["root"], "/");
    assert!(doc["host"].as_str().is_some_and(|h| !h.is_empty()));
    let table = Command::cargo_bin("preflight")
        .unwrap()
        .args(["facts", "--format", "table"])
        .output()
        .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("release") && text.contains("regiond.conf"), "{text}");
}

#[test]
fn a_root_that_is_not_a_directory_is_refused() {
    let out = Command::cargo_bin("preflight")
        .unwrap()
        .args(["facts", "--root", "/nonexistent/image"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a directory"));
}

/// A facts document as another tool might write it: `host` on Ubuntu `ubuntu`, MAAS `install`
/// (`{"snap": …}` or `{"deb": …}`), time sync as the host reports it.
fn document(host: &str, ubuntu: &str, install: Value) -> Value {
    serde_json::json!({
        "preflight_facts": 1,
        "host": host,
        "facts": {
            "release": {"id": "ubuntu", "version": ubuntu, "codename": "", "source": "/etc/os-release"},
            "systemd": true,
            "timesyncd": {"active": "inactive", "enabled": "disabled"},
            "chrony": {"active": "active", "enabled": "enabled"},
            "maas": install,
        }
    })
}

/// The region API lists a region+rack (maas-region-1) and a rack (maas-rack-2); documents
/// cover maas-region-1 (a deb on 20.04: a blocker for 3.5) and a host the API does not list;
/// maas-rack-2 is covered by none; one document is broken. One verdict names every host.
#[tokio::test(flavor = "multi_thread")]
async fn host_facts_documents_give_one_verdict_over_every_controller() {
    use mocks::fleet::Fleet;
    use mocks::maas::{MaasOptions, MaasServer, API_KEY};
    let fleet = Fleet::generate(20, 3);
    let server = MaasServer::start(&fleet, &MaasOptions::mixed("3.4.2", "3.4.2")).await;
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("facts");
    std::fs::create_dir(&docs).unwrap();
    let write =
        |name: &str, v: &Value| std::fs::write(docs.join(name), serde_json::to_string_pretty(v).unwrap()).unwrap();
    write(
        "region-1.json",
        &document(
            "maas-region-1.maas",
            "20.04",
            serde_json::json!({"deb": {"version": "1:3.4.2-14353-g.1a2b3c4d5-0ubuntu1~20.04.1"}}),
        ),
    );
    write(
        "spare.json",
        &document(
            "spare-1",
            "22.04",
            serde_json::json!({"snap": {"mode": "rack", "version": "3.4.2"}}),
        ),
    );
    std::fs::write(docs.join("broken.json"), "{\"preflight_facts\": 1, \"host\": ").unwrap();
    std::fs::write(docs.join("notes.txt"), "not a document").unwrap();
    let out = support::preflight(dir.path())
        .env("MAAS_URL", server.maas_url())
        .env("MAAS_API_KEY", API_KEY)
        .args(["scan", "--target", "maas=3.5", "--format", "json", "--host-facts"])
        .arg(&docs)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let maas002 = support::outcome_json(&report, "MAAS002");
    assert_eq!(maas002["status"], "error", "{maas002}");
    let hosts = support::host_statuses(maas002);
    // Upgrade order first (the rack, then the region), then the hosts the API does not list.
    assert_eq!(hosts[0], ("maas-rack-2", "error"), "{hosts:?}");
    assert_eq!(hosts[1], ("maas-region-1.maas", "fail"), "{hosts:?}");
    assert!(hosts.contains(&("spare-1", "pass")), "{hosts:?}");
    let broken = maas002["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"].as_str().unwrap().ends_with("broken.json"))
        .expect("the broken document is a host of its own");
    assert_eq!(broken["kind"], "bad_answer");
    let rack = &maas002["hosts"][0];
    assert_eq!(rack["kind"], "not_available");
    assert!(
        rack["reason"]
            .as_str()
            .unwrap()
            .contains("maas-rack-2 was not inspected"),
        "{rack}"
    );
    let blocker = support::finding_json(&report, "MAAS002");
    assert_eq!(blocker["host"], "maas-region-1.maas");
    assert_eq!(blocker["severity"], "blocker");
    assert!(blocker["message"]
        .as_str()
        .unwrap()
        .starts_with("maas-region-1.maas runs Ubuntu 20.04"));
    // The blocker makes the run CRITICAL; without it, the host not inspected would leave it
    // UNKNOWN (exit 3), never OK.
    assert_eq!(out.status.code(), Some(2));
    // Time sync read on every inspected host: chrony alone, no finding.
    let maas006 = support::outcome_json(&report, "MAAS006");
    assert!(
        maas006["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["host"] == "spare-1" && h["status"] == "pass"),
        "{maas006}"
    );
}

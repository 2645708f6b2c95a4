//! One verdict for a whole deployment: `preflight scan --hosts inventory.ini` reads every
//! controller over a real OpenSSH server (tests/support/sshd.rs; each inventory host reads a
//! different root on it through `preflight_root`), joined with the region API's controller
//! list, in every format.

mod support;

use mocks::fleet::Fleet;
use mocks::maas::{MaasOptions, MaasServer, API_KEY};
use serde_json::Value;
use support::roots::root;
use support::sshd::{free_port, Sshd};

#[tokio::test(flavor = "multi_thread")]
async fn an_inventory_gives_one_verdict_over_every_controller() {
    let sshd = Sshd::start(2);
    let rack = root("22.04", Some("3.4.2"), None);
    let region = root("20.04", None, Some("1:3.4.2-14353-g.5a5221d57-0ubuntu1~20.04.1"));
    let closed = free_port();
    let key = sshd.key.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.ini");
    std::fs::write(
        &inventory,
        format!(
            "[rack]\nmaas-rack-2 ansible_host=127.0.0.1 ansible_port={} preflight_root={}\n\n\
             [region]\nmaas-region-1.maas ansible_host=localhost ansible_port={} preflight_root={}\n\
             maas-region-9 ansible_host=127.0.0.1 ansible_port={closed}\n\n\
             [controllers:children]\nrack\nregion\n\n\
             [controllers:vars]\nansible_user=root\nansible_ssh_private_key_file={key}\n",
            sshd.ports[0],
            rack.path().display(),
            sshd.ports[1],
            region.path().display(),
        ),
    )
    .unwrap();
    let fleet = Fleet::generate(20, 3);
    let server = MaasServer::start(&fleet, &MaasOptions::mixed("3.4.2", "3.4.2")).await;
    let scan = |format: &str| {
        support::preflight(dir.path())
            .env("HOME", dir.path())
            .env("MAAS_URL", server.maas_url())
            .env("MAAS_API_KEY", API_KEY)
            .args(["scan", "--target", "maas=3.5", "--format", format, "--hosts"])
            .arg(&inventory)
            .args(sshd.scan_args())
            .output()
            .unwrap()
    };
    let out = scan("json");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stderr), sshd.log()));
    let maas002 = support::outcome_json(&report, "MAAS002");
    // Upgrade order: the rack, then the region; then the inventory host the API does not list.
    assert_eq!(
        support::host_statuses(maas002),
        [
            ("maas-rack-2", "pass"),
            ("maas-region-1.maas", "fail"),
            ("maas-region-9", "error"),
        ],
        "{maas002}"
    );
    let unreachable = &maas002["hosts"][2];
    assert_eq!(unreachable["kind"], "unreachable", "{unreachable}");
    assert!(
        unreachable["reason"].as_str().unwrap().contains("maas-region-9"),
        "{unreachable}"
    );
    let blocker = support::finding_json(&report, "MAAS002");
    assert_eq!(blocker["host"], "maas-region-1.maas");
    assert!(blocker["message"]
        .as_str()
        .unwrap()
        .contains("deb packages install only on Ubuntu 22.04"));
    assert_eq!(out.status.code(), Some(2), "a blocker: CRITICAL");

    // The same verdict as a table: the host × check matrix, then the findings.
    let table = String::from_utf8(scan("table").stdout).unwrap();
    let row = |host: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("│ {host} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row("maas-rack-2").contains('✓'), "{table}");
    assert!(row("maas-region-1.maas").contains('✗'), "{table}");
    assert!(row("maas-region-9").contains('!'), "{table}");
    // And as the page for a change board: the matrix and every host.
    let html = String::from_utf8(scan("html").stdout).unwrap();
    assert!(html.contains(r#"id="matrix""#), "the page has the matrix");
    for host in ["maas-rack-2", "maas-region-1.maas", "maas-region-9"] {
        assert!(html.contains(host), "{host} on the page");
    }
}

/// `--hosts maas`: the controllers the region API lists are the hosts, reached by their
/// hostnames (here all routed to the loopback sshd with `-o HostName=`); each reads this
/// machine, where MAAS is not installed, so each is judged "not installed", and none is
/// silently missing.
#[tokio::test(flavor = "multi_thread")]
async fn the_region_api_names_the_hosts() {
    let sshd = Sshd::start(1);
    let fleet = Fleet::generate(20, 3);
    let server = MaasServer::start(&fleet, &MaasOptions::mixed("3.4.2", "3.4.2")).await;
    let dir = tempfile::tempdir().unwrap();
    let out = support::preflight(dir.path())
        .env("HOME", dir.path())
        .env("MAAS_URL", server.maas_url())
        .env("MAAS_API_KEY", API_KEY)
        .args(["scan", "--target", "maas=3.5", "--format", "json", "--hosts", "maas"])
        .args(["--ssh-option", "HostName=127.0.0.1"])
        .args(["--ssh-option", &format!("Port={}", sshd.ports[0])])
        .args(["--ssh-option", "User=root"])
        .args(["--ssh-option", &format!("IdentityFile={}", sshd.key.display())])
        // The controllers' names are not the server's: no host key to hold them to here.
        .args(["--ssh-option", "UserKnownHostsFile=/dev/null"])
        .args(["--ssh-option", "StrictHostKeyChecking=no"])
        .args(["--ssh-option", "IdentitiesOnly=yes"])
        .output()
        .unwrap();
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let maas002 = support::outcome_json(&report, "MAAS002");
    let hosts = support::host_statuses(maas002);
    assert_eq!(
        hosts,
        [("maas-rack-2", "skipped"), ("maas-region-1", "skipped")],
        "{maas002}"
    );
    assert!(
        maas002["hosts"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("MAAS is not installed on maas-rack-2"),
        "{maas002}"
    );
}

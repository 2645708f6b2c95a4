//! Recording hosts over SSH against a real OpenSSH server (tests/support/sshd.rs): MAAS's
//! declared host reads, run in one `ssh … sh -s` per host, give the facts its host probe reads
//! from a recorded host; and every way a connection fails gets its kind and names the host.

mod support;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use preflight::core::probed::{ErrorKind, ProbeError};
use preflight::host::ssh::{record, record_all, SshOptions, SshTarget};
use preflight::host::{HostRead, HostSource, Release, RunError, UnitState};
use preflight::systems::maas::facts::{HostFacts, MaasInstall};
use preflight::systems::maas::probe_host::{self, READS};
use support::sshd::{free_port, public_key, Sshd, UNPRIVILEGED};

const REGIOND_CONF: &str = "database_host: 10.0.0.5\ndatabase_port: 5432\ndatabase_name: maasdb\ndatabase_user: maas\ndatabase_pass: not-a-real-password\nmaas_url: http://10.0.0.2:5240/MAAS\n";

/// Writes `text` at `path` under `root` (parents created, every dir 0755), with `mode`.
fn put(root: &Path, path: &str, text: &str, mode: u32) {
    let file = root.join(path.trim_start_matches('/'));
    let mut dir = file.parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&dir).unwrap();
    while dir.starts_with(root) {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir.pop();
    }
    std::fs::write(&file, text).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A snap region+rack on Ubuntu 24.04 with systemd's marker dir: `/snap/maas/current` a
/// relative symlink to the revision, snap_mode without its newline, regiond.conf 0640.
fn snap_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    put(
        r,
        "/etc/os-release",
        "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\nVERSION_ID=\"24.04\"\nVERSION_CODENAME=noble\n",
        0o644,
    );
    put(r, "/run/systemd/system/.keep", "", 0o644);
    put(
        r,
        "/snap/maas/36537/meta/snap.yaml",
        "name: maas\nversion: 3.5.1-16256-g.2a8c3f1\nsummary: Metal as a Service\n",
        0o644,
    );
    symlink("36537", r.join("snap/maas/current")).unwrap();
    put(r, "/var/snap/maas/common/snap_mode", "region+rack", 0o644);
    put(r, "/var/snap/maas/current/regiond.conf", REGIOND_CONF, 0o640);
    root
}

/// A deb region on Ubuntu 22.04: dpkg's status file (read through `dpkg-query --admindir`)
/// and `/etc/maas/regiond.conf` 0640.
fn deb_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    put(
        r,
        "/etc/os-release",
        "ID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n",
        0o644,
    );
    put(
        r,
        "/var/lib/dpkg/status",
        "Package: maas-region-api\nStatus: install ok installed\nPriority: optional\nSection: net\nMaintainer: MAAS <maas@example.org>\nArchitecture: all\nVersion: 1:3.4.2-14353-g.5a5221d57-0ubuntu1~22.04.1\nDescription: MAAS region API\n",
        0o644,
    );
    put(r, "/etc/maas/regiond.conf", REGIOND_CONF, 0o640);
    root
}

fn under(options: &SshOptions, root: &Path) -> SshOptions {
    SshOptions {
        root: Some(root.display().to_string()),
        ..options.clone()
    }
}

fn release(version: &str, codename: &str) -> Option<Release> {
    Some(Release {
        id: "ubuntu".into(),
        version: version.into(),
        codename: codename.into(),
        source: "/etc/os-release".into(),
    })
}

/// The facts with regiond.conf's parse checked and taken out (its password is a `Secret`).
fn without_regiond(mut facts: HostFacts, path: &str) -> HostFacts {
    let conf = facts
        .regiond
        .take()
        .expect("regiond.conf found")
        .expect("regiond.conf read");
    assert_eq!(conf.path, path);
    assert_eq!(conf.database_host.as_deref(), Some("10.0.0.5"));
    assert_eq!(conf.database_name.as_deref(), Some("maasdb"));
    assert_eq!(
        conf.database_pass.as_ref().map(|p| p.expose()),
        Some("not-a-real-password")
    );
    facts
}

#[tokio::test]
async fn inventory_hosts_on_one_sshd_each_read_their_own_root() {
    let sshd = Sshd::start(2);
    let (snap, deb) = (snap_root(), deb_root());
    let options = sshd.options();

    // Alias one: 127.0.0.1 on the first port, as root, reading the snap root.
    let region1 = sshd.target("region-1.maas", "127.0.0.1", 0, "root");
    let host = record(&region1, READS, &under(&options, snap.path()))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    // Bytes as they are: snap_mode has no newline, and none is added.
    assert_eq!(host.files["/var/snap/maas/common/snap_mode"], "region+rack");
    let facts = probe_host::probe(&HostSource::Recorded(host)).await;
    let label = format!("region-1.maas (127.0.0.1:{})", sshd.ports[0]);
    let not_available = |unit: &str| UnitState {
        active: None,
        enabled: None,
        unread: Some(preflight::core::probed::ProbeError::new(
            ErrorKind::NotAvailable,
            format!(
                "`systemctl is-active {unit}` needs the running system: not available under root {} on {label}",
                snap.path().display()
            ),
        )),
    };
    assert_eq!(
        without_regiond(facts, probe_host::SNAP_REGIOND_CONF),
        HostFacts {
            hostname: None,
            release: release("24.04", "noble"),
            lsb_release: None,
            systemd: true,
            timesyncd: not_available("systemd-timesyncd"),
            chrony: not_available("chrony"),
            maas_chronyd: false,
            maas: Some(MaasInstall::Snap {
                mode: Some("region+rack".into()),
                version: Some("3.5.1-16256-g.2a8c3f1".into()),
            }),
            regiond: None,
        }
    );

    // Alias two: localhost on the second port, as root, reading the deb root.
    let region2 = sshd.target("region-2.maas", "localhost", 1, "root");
    let host = record(&region2, READS, &under(&options, deb.path())).await.unwrap();
    let facts = probe_host::probe(&HostSource::Recorded(host)).await;
    assert_eq!(
        without_regiond(facts, probe_host::DEB_REGIOND_CONF),
        HostFacts {
            hostname: None,
            release: release("22.04", "jammy"),
            lsb_release: None,
            systemd: false,
            timesyncd: UnitState::default(),
            chrony: UnitState::default(),
            maas_chronyd: false,
            maas: Some(MaasInstall::Deb {
                version: "1:3.4.2-14353-g.5a5221d57-0ubuntu1~22.04.1".into()
            }),
            regiond: None,
        }
    );
}

#[tokio::test]
async fn refused_sudo_leaves_regiond_conf_unreadable_with_sudos_words() {
    let sshd = Sshd::start(1);
    let deb = deb_root();
    let options = SshOptions {
        sudo: true,
        ..under(&sshd.options(), deb.path())
    };
    let rack = sshd.target("rack-1.maas", "127.0.0.1", 0, UNPRIVILEGED);
    let host = record(&rack, READS, &options)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    let facts = probe_host::probe(&HostSource::Recorded(host)).await;
    // The other facts are still read.
    assert_eq!(facts.release, release("22.04", "jammy"));
    assert_eq!(
        facts.maas,
        Some(MaasInstall::Deb {
            version: "1:3.4.2-14353-g.5a5221d57-0ubuntu1~22.04.1".into()
        })
    );
    let err = facts.regiond.expect("regiond.conf found").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden);
    let label = format!("rack-1.maas (127.0.0.1:{})", sshd.ports[0]);
    assert!(
        err.detail.starts_with(&format!(
            "cannot read /etc/maas/regiond.conf: sudo -n was refused on {label}: sudo: "
        )),
        "{}",
        err.detail
    );
    assert!(!err.detail.contains("not-a-real-password"));
}

#[tokio::test]
async fn the_live_root_gives_processes_and_commands_with_their_status_and_stderr() {
    let sshd = Sshd::start(1);
    let target = sshd.target("self", "127.0.0.1", 0, "root");
    let host = record(&target, READS, &sshd.options()).await.unwrap();
    assert!(host.files["/etc/os-release"].contains("ID="));
    // This very recording's shell is among the processes.
    assert!(host.processes.iter().any(|p| p == "sh"), "{:?}", host.processes);
    assert!(
        host.processes.iter().any(|p| p.contains("sshd")),
        "{:?}",
        host.processes
    );
    let line = "dpkg-query -W -f=${Version} maas-region-api";
    if let Some((code, stdout)) = host.commands.get(line) {
        assert_ne!(*code, 0);
        assert_eq!(stdout, "");
        assert!(host.stderr[line].contains("maas-region-api"), "{:?}", host.stderr);
    }
    let facts = probe_host::probe(&HostSource::Recorded(host)).await;
    assert!(facts.release.is_some() && facts.maas.is_none());
}

#[tokio::test]
async fn a_command_the_host_stops_is_named_with_the_hosts_limit() {
    let sshd = Sshd::start(1);
    let target = sshd.target("self", "127.0.0.1", 0, "root");
    let options = SshOptions {
        command_timeout: Duration::from_secs(1),
        ..sshd.options()
    };
    const SLOW: &[HostRead] = &[HostRead::Command(&["sleep", "30"])];
    let started = Instant::now();
    let host = record(&target, SLOW, &options).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(host.hanging.contains("sleep 30"), "{host:?}");
    assert_eq!(host.hanging_limit, Some(1.0));
    // The probe names the host's limit and does not wait again.
    let started = Instant::now();
    let err = HostSource::Recorded(host).command("sleep", &["30"]).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(
        err,
        RunError::Failed(ProbeError::new(
            ErrorKind::Timeout,
            "sleep 30 did not finish within 1 s (stopped on the host by timeout(1))"
        ))
    );
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let sshd = Sshd::start(1);
    let port = free_port();
    let target = SshTarget {
        name: "down.maas".into(),
        address: Some("127.0.0.1".into()),
        port: Some(port),
        user: Some("root".into()),
    };
    let err = record(&target, READS, &sshd.options()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unreachable, "{err}");
    assert_eq!(
        err.detail,
        format!("cannot reach down.maas (127.0.0.1:{port}) over ssh: ssh: connect to host 127.0.0.1 port {port}: Connection refused")
    );
}

#[tokio::test]
async fn a_host_key_other_than_known_hosts_holds_is_refused() {
    let sshd = Sshd::start(1);
    let port = sshd.ports[0];
    // known_hosts holds another key for this host: the user key.
    let wrong = sshd.dir.path().join("known_hosts.wrong");
    std::fs::write(
        &wrong,
        format!("[127.0.0.1]:{port} {}\n", public_key(&sshd.key.with_extension("pub"))),
    )
    .unwrap();
    let target = sshd.target("region-1.maas", "127.0.0.1", 0, "root");
    let err = record(&target, READS, &sshd.options_with(&wrong)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert_eq!(
        err.detail,
        format!("the host key of region-1.maas (127.0.0.1:{port}) does not match the one in known_hosts: Host key verification failed.")
    );
}

#[tokio::test]
async fn a_login_without_an_authorized_key_is_refused() {
    let sshd = Sshd::start(1);
    let port = sshd.ports[0];
    // No authorized key for this user in the server's AuthorizedKeysFile dir.
    let target = sshd.target("region-1.maas", "127.0.0.1", 0, "daemon");
    let err = record(&target, READS, &sshd.options()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert_eq!(
        err.detail,
        format!("ssh could not log in to region-1.maas (127.0.0.1:{port}): daemon@127.0.0.1: Permission denied (publickey).")
    );
}

/// An executable script at `dir/name`.
fn script(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
async fn garbage_a_missing_client_and_a_hung_one() {
    let dir = tempfile::tempdir().unwrap();
    let target = SshTarget::named("region-3.maas");
    let junk = SshOptions {
        ssh: script(
            dir.path(),
            "ssh",
            "#!/bin/sh\ncat >/dev/null\necho 'Welcome!'\necho 'total junk'\n",
        ),
        ..SshOptions::default()
    };
    let err = record(&target, READS, &junk).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadAnswer, "{err}");
    assert!(err.detail.starts_with("region-3.maas did not answer"), "{err}");

    let missing = SshOptions {
        ssh: dir.path().join("no-such-ssh"),
        ..SshOptions::default()
    };
    let err = record(&target, READS, &missing).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    assert!(
        err.detail.contains("region-3.maas") && err.detail.contains("no-such-ssh"),
        "{err}"
    );

    let hung = SshOptions {
        ssh: script(
            dir.path(),
            "ssh-hung",
            "#!/bin/sh\necho 'debug1: stuck' >&2\nexec sleep 30\n",
        ),
        timeout: Duration::from_millis(300),
        ..SshOptions::default()
    };
    let started = Instant::now();
    let err = record(&target, READS, &hung).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert_eq!(
        err.detail,
        "recording region-3.maas over ssh did not finish within 0.3 s: debug1: stuck"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// `--timeout` bounds the whole run, not each host: with one host at a time, a slow host is
/// stopped at the run's deadline and the hosts after it are not started.
#[tokio::test]
async fn record_all_stops_at_the_runs_deadline() {
    let sshd = Sshd::start(1);
    let options = SshOptions {
        timeout: Duration::from_secs(20),
        command_timeout: Duration::from_secs(30),
        ..sshd.options()
    };
    const SLOW: &[HostRead] = &[HostRead::Command(&["sleep", "30"])];
    let jobs: Vec<(SshTarget, SshOptions)> = ["first", "second", "third"]
        .iter()
        .map(|name| (sshd.target(name, "127.0.0.1", 0, "root"), options.clone()))
        .collect();
    let started = Instant::now();
    let results = record_all(&jobs, SLOW, 1, started + Duration::from_secs(2)).await;
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    let errors: Vec<ProbeError> = results.into_iter().map(|r| r.unwrap_err()).collect();
    assert!(errors.iter().all(|e| e.kind == ErrorKind::Timeout), "{errors:?}");
    let port = sshd.ports[0];
    assert_eq!(
        errors[0].detail,
        format!("recording first (127.0.0.1:{port}) over ssh was stopped at the run's deadline (--timeout bounds the whole run; 3 hosts over ssh, 1 at a time): raise --timeout or --ssh-concurrency")
    );
    for (e, name) in errors[1..].iter().zip(["second", "third"]) {
        assert_eq!(
            e.detail,
            format!("{name} (127.0.0.1:{port}) was not recorded: its turn came after the run's deadline (--timeout bounds the whole run; 3 hosts over ssh, 1 at a time): raise --timeout or --ssh-concurrency")
        );
    }
}

#[tokio::test]
async fn record_all_keeps_the_order_of_its_targets() {
    let sshd = Sshd::start(2);
    let deb = deb_root();
    let options = SshOptions {
        sudo: true,
        ..under(&sshd.options(), deb.path())
    };
    let closed = free_port();
    let down = |name: &str| SshTarget {
        name: name.into(),
        address: Some("127.0.0.1".into()),
        port: Some(closed),
        user: None,
    };
    let targets = [
        sshd.target("region-1.maas", "127.0.0.1", 0, "root"),
        down("down-1.maas"),
        sshd.target("rack-1.maas", "localhost", 1, UNPRIVILEGED),
        down("down-2.maas"),
        sshd.target("region-2.maas", "localhost", 0, "root"),
    ];
    let jobs: Vec<(SshTarget, SshOptions)> = targets.iter().map(|t| (t.clone(), options.clone())).collect();
    let results = record_all(&jobs, READS, 2, Instant::now() + Duration::from_secs(120)).await;
    assert_eq!(results.len(), 5);
    let mut seen = Vec::new();
    for (target, result) in targets.iter().zip(results) {
        match result {
            Ok(host) => {
                let facts = probe_host::probe(&HostSource::Recorded(host)).await;
                // root reads regiond.conf itself; the unprivileged user is refused by sudo.
                let regiond = facts.regiond.expect("regiond.conf found");
                seen.push(format!("{} read={}", target.name, regiond.is_ok()));
            }
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Unreachable);
                assert!(
                    e.detail.contains(&format!("{} (127.0.0.1:{closed})", target.name)),
                    "{e}"
                );
                seen.push(format!("{} unreachable", target.name));
            }
        }
    }
    assert_eq!(
        seen,
        [
            "region-1.maas read=true",
            "down-1.maas unreachable",
            "rack-1.maas read=false",
            "down-2.maas unreachable",
            "region-2.maas read=true"
        ]
    );
}

//! MAAS's host probe: the Ubuntu release, time-sync daemons, and how MAAS is installed here
//! (FACTS.md §1.4). Reads `/etc/os-release`, `lsb_release -a`, `systemctl is-active|is-enabled`,
//! `/proc/*/cmdline` (for MAAS's own chronyd under `/snap/maas/`), the snap
//! (`/snap/maas/current`, `/var/snap/maas/common/snap_mode`) or deb
//! (`dpkg-query -W -f='${Version}' maas-region-api`) install, and regiond.conf.

use super::facts::{HostFacts, MaasInstall, RegiondConf};
use crate::core::probed::{ErrorKind, ProbeError};
use crate::host::{parse_lsb_release, parse_os_release, unit, HostRead, HostSource, UnitState};

/// Snap install markers.
pub const SNAP_CURRENT: &str = "/snap/maas/current";
pub const SNAP_MODE: &str = "/var/snap/maas/common/snap_mode";
pub const SNAP_YAML: &str = "/snap/maas/current/meta/snap.yaml";
pub const SNAP_REGIOND_CONF: &str = "/var/snap/maas/current/regiond.conf";
pub const DEB_REGIOND_CONF: &str = "/etc/maas/regiond.conf";

/// The units whose state MAAS006 reads.
pub const TIME_UNITS: [&str; 2] = ["systemd-timesyncd", "chrony"];
/// The deb packages whose version tells a deb install (region first).
pub const DEB_PACKAGES: [&str; 2] = ["maas-region-api", "maas-rack-controller"];

/// Every read [`probe`] makes, so a remote host is recorded with all of them in one go (a test
/// holds [`probe`] to it).
pub const READS: &[HostRead] = &[
    HostRead::File {
        path: "/proc/sys/kernel/hostname",
        privileged: false,
    },
    HostRead::File {
        path: "/etc/hostname",
        privileged: false,
    },
    HostRead::Command(&["lsb_release", "-a"]),
    HostRead::File {
        path: "/etc/os-release",
        privileged: false,
    },
    HostRead::Exists("/run/systemd/system"),
    HostRead::Command(&["systemctl", "is-active", "systemd-timesyncd"]),
    HostRead::Command(&["systemctl", "is-enabled", "systemd-timesyncd"]),
    HostRead::Command(&["systemctl", "is-active", "chrony"]),
    HostRead::Command(&["systemctl", "is-enabled", "chrony"]),
    HostRead::Processes,
    HostRead::Exists(SNAP_CURRENT),
    HostRead::File {
        path: SNAP_MODE,
        privileged: false,
    },
    HostRead::File {
        path: SNAP_YAML,
        privileged: false,
    },
    HostRead::Command(&["dpkg-query", "-W", "-f=${Version}", "maas-region-api"]),
    HostRead::Command(&["dpkg-query", "-W", "-f=${Version}", "maas-rack-controller"]),
    HostRead::File {
        path: SNAP_REGIOND_CONF,
        privileged: true,
    },
    HostRead::File {
        path: DEB_REGIOND_CONF,
        privileged: true,
    },
];

/// Parses regiond.conf text.
///
/// # Errors
/// The YAML error in words (kind bad answer).
pub fn parse_regiond_conf(path: &str, text: &str) -> Result<RegiondConf, ProbeError> {
    let mut conf: RegiondConf = serde_yaml_ng::from_str(text)
        .map_err(|e| ProbeError::new(ErrorKind::BadAnswer, format!("{path} is not valid YAML: {e}")))?;
    conf.path = path.to_string();
    conf.database_pass = conf.database_pass.filter(|p| !p.expose().is_empty());
    Ok(conf)
}

/// Reads every host fact. Never fails: what cannot be read is `None`/empty.
pub async fn probe(source: &HostSource) -> HostFacts {
    let lsb_release = source
        .run("lsb_release", &["-a"])
        .await
        .filter(|(code, _)| *code == 0)
        .and_then(|(_, out)| parse_lsb_release(&out));
    let release = source
        .read("/etc/os-release")
        .and_then(|t| parse_os_release(&t))
        .or_else(|| lsb_release.clone());
    // A root directory runs nothing: whether its system boots with systemd is what counts there
    // (the unit states then say what a root cannot tell).
    let systemd = source.exists("/run/systemd/system")
        || source.is_root() && (source.exists("/lib/systemd/systemd") || source.exists("/usr/lib/systemd/systemd"));
    let (timesyncd, chrony) = if systemd {
        (unit(source, TIME_UNITS[0]).await, unit(source, TIME_UNITS[1]).await)
    } else {
        (UnitState::default(), UnitState::default())
    };
    let maas_chronyd = source
        .processes()
        .iter()
        .any(|argv0| argv0.starts_with("/snap/maas/") && argv0.ends_with("/chronyd"));

    let maas = if source.exists(SNAP_CURRENT) {
        let mode = source
            .read(SNAP_MODE)
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty());
        let version = source.read(SNAP_YAML).and_then(|y| {
            y.lines()
                .find_map(|l| l.strip_prefix("version:"))
                .map(|v| v.trim().trim_matches('\'').trim_matches('"').to_string())
        });
        Some(MaasInstall::Snap { mode, version })
    } else {
        let mut version = None;
        for pkg in DEB_PACKAGES {
            if let Some((0, v)) = source.run("dpkg-query", &["-W", "-f=${Version}", pkg]).await {
                if !v.trim().is_empty() {
                    version = Some(v);
                    break;
                }
            }
        }
        version.map(|v| MaasInstall::Deb {
            version: v.trim().to_string(),
        })
    };
    let regiond = [SNAP_REGIOND_CONF, DEB_REGIOND_CONF]
        .iter()
        .find_map(|p| match source.read_file(p) {
            Ok(text) => text.map(|t| parse_regiond_conf(p, &t)),
            Err(cause) => Some(Err(cause.reworded(|cause| format!(
                "cannot read {p}: {cause} (MAAS writes it mode 0640, for root and the maas group): run preflight as root (sudo preflight …), or give the database with DATABASE_URL or [postgresql] url"
            )))),
        });
    // A running system's name is the kernel's; a root's, its /etc/hostname.
    let hostname = source
        .read("/proc/sys/kernel/hostname")
        .or_else(|| source.read("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    HostFacts {
        hostname,
        release,
        lsb_release,
        systemd,
        timesyncd,
        chrony,
        maas_chronyd,
        maas,
        regiond,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RecordedHost;

    #[tokio::test]
    async fn the_probe_makes_only_the_reads_it_declares() {
        let mut host = RecordedHost::default();
        host.files.insert("/run/systemd/system/.x".into(), String::new());
        host.files.insert(SNAP_YAML.into(), "version: 3.5.1\n".into());
        let asked = host.asked.clone();
        probe(&HostSource::Recorded(host.clone())).await;
        // And as a deb host, which asks dpkg.
        host.files.clear();
        host.files.insert("/run/systemd/system/.x".into(), String::new());
        probe(&HostSource::Recorded(host)).await;
        let declared: Vec<String> = READS.iter().map(HostRead::line).collect();
        let asked = asked.lock().unwrap().clone();
        for line in &asked {
            assert!(declared.contains(line), "undeclared read: {line}");
        }
        for line in &declared {
            assert!(asked.contains(line), "declared but never made: {line}");
        }
    }

    #[test]
    fn regiond_conf() {
        let c = parse_regiond_conf(
            "/etc/maas/regiond.conf",
            "database_host: /var/snap/maas/common/test-db-socket\ndatabase_name: maasdb\ndatabase_pass: ''\ndatabase_port: 5432\ndatabase_user: maas\nmaas_url: http://10.0.0.2:5240/MAAS\n",
        )
        .unwrap();
        assert_eq!(c.database_host.as_deref(), Some("/var/snap/maas/common/test-db-socket"));
        assert!(c.database_pass.is_none());
        assert!(parse_regiond_conf("x", "database_port: [").is_err());
    }

    #[tokio::test]
    async fn recorded_snap_host() {
        let mut r = RecordedHost::default();
        r.files
            .insert("/etc/os-release".into(), "ID=ubuntu\nVERSION_ID=\"20.04\"\n".into());
        r.files.insert("/run/systemd/system/.keep".into(), String::new());
        r.files.insert(
            format!("{SNAP_CURRENT}/meta/snap.yaml"),
            "name: maas\nversion: 3.2.9-12055-g.c3e6e4e5b\n".into(),
        );
        r.files.insert(SNAP_MODE.into(), "region+rack\n".into());
        r.commands
            .insert("systemctl is-active systemd-timesyncd".into(), (0, "active\n".into()));
        r.processes.push("/snap/maas/31355/usr/sbin/chronyd".into());
        let facts = probe(&HostSource::Recorded(r)).await;
        assert!(facts.systemd && facts.timesyncd.is_active() && facts.maas_chronyd);
        assert_eq!(
            facts.maas,
            Some(MaasInstall::Snap {
                mode: Some("region+rack".into()),
                version: Some("3.2.9-12055-g.c3e6e4e5b".into())
            })
        );
    }
}

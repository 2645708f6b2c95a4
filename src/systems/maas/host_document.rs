//! The host facts document: what `preflight facts` prints and `preflight scan --host-facts`
//! reads — one host's MAAS-relevant facts (release, time-sync units, MAAS install, regiond.conf's
//! non-secret fields) as versioned JSON, so facts collected by anything (Ansible, a script, a
//! mounted image) join one report.
//!
//! Shape (`preflight_facts` is the document version, [`DOCUMENT_VERSION`]):
//! ```json
//! {"preflight_facts": 1, "host": "region-1", "root": "/", "preflight_version": "0.1.0",
//!  "facts": {"release": {"id": "ubuntu", "version": "22.04", "codename": "jammy",
//!                        "source": "/etc/os-release"},
//!            "lsb_release": null, "systemd": true,
//!            "timesyncd": {"active": "inactive", "enabled": "disabled", "unread": null},
//!            "chrony": {"active": null, "enabled": null,
//!                       "unread": {"kind": "not_available", "detail": "…"}},
//!            "maas_chronyd": false,
//!            "maas": {"snap": {"mode": "region+rack", "version": "3.5.1"}},
//!            "regiond": {"ok": {"path": "/var/snap/maas/current/regiond.conf",
//!                               "maas_url": "http://10.0.0.2:5240/MAAS",
//!                               "database_host": "localhost", "database_port": 5432,
//!                               "database_name": "maasdb", "database_user": "maas"}}}}
//! ```
//! `maas` is `{"deb": {"version": …}}` for packages and `null` when MAAS is not installed;
//! `regiond` is `null` (none), `{"ok": …}` or `{"error": {"kind", "detail"}}`. The database
//! password never enters the document: the type that writes it has no such field.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::facts::{HostFacts, MaasInstall, RegiondConf};
use crate::core::probed::{ErrorKind, ProbeError};
use crate::host::{HostSource, Release, UnitState};

/// The document version this build writes and reads.
pub const DOCUMENT_VERSION: u32 = 1;

/// One host's facts document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The document version ([`DOCUMENT_VERSION`]).
    pub preflight_facts: u32,
    /// The host's name (its hostname, or `--name`): what the report names it by.
    pub host: String,
    /// The root that was read (`/`, or `--root DIR`).
    #[serde(default = "slash")]
    pub root: String,
    /// The preflight that wrote it.
    #[serde(default)]
    pub preflight_version: Option<String>,
    pub facts: Facts,
}

fn slash() -> String {
    "/".into()
}

/// [`HostFacts`] as the document spells them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    pub release: Option<ReleaseDoc>,
    #[serde(default)]
    pub lsb_release: Option<ReleaseDoc>,
    pub systemd: bool,
    pub timesyncd: UnitDoc,
    pub chrony: UnitDoc,
    #[serde(default)]
    pub maas_chronyd: bool,
    pub maas: Option<InstallDoc>,
    #[serde(default)]
    pub regiond: Option<RegiondDoc>,
}

/// A release (`/etc/os-release` or `lsb_release -a`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseDoc {
    pub id: String,
    pub version: String,
    #[serde(default)]
    pub codename: String,
    /// `/etc/os-release` or `lsb_release -a`.
    pub source: String,
}

/// A systemd unit's states, and why one is missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitDoc {
    pub active: Option<String>,
    pub enabled: Option<String>,
    #[serde(default)]
    pub unread: Option<ErrorDoc>,
}

/// A read that failed: its kind and the words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorDoc {
    pub kind: ErrorKind,
    pub detail: String,
}

/// How MAAS is installed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum InstallDoc {
    Snap {
        mode: Option<String>,
        version: Option<String>,
    },
    Deb {
        version: String,
    },
}

/// regiond.conf: read, or why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum RegiondDoc {
    Ok(RegiondFields),
    Error(ErrorDoc),
}

/// regiond.conf's fields without the password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegiondFields {
    pub path: String,
    pub maas_url: Option<String>,
    pub database_host: Option<String>,
    pub database_port: Option<u16>,
    pub database_name: Option<String>,
    pub database_user: Option<String>,
}

impl Document {
    /// The document of `facts` read from `root` on host `host`.
    pub fn new(host: &str, root: &Path, facts: &HostFacts) -> Document {
        Document {
            preflight_facts: DOCUMENT_VERSION,
            host: host.to_string(),
            root: root.display().to_string(),
            preflight_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            facts: Facts::from(facts),
        }
    }

    /// Parses a document, `origin` naming it in errors.
    ///
    /// # Errors
    /// Not JSON or not this shape (with serde's line and column), or another document version
    /// (kind bad answer).
    pub fn parse(text: &str, origin: &str) -> Result<Document, ProbeError> {
        let bad = |detail: String| ProbeError::new(ErrorKind::BadAnswer, detail);
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("{origin} is not JSON: {e}")))?;
        match value.get("preflight_facts").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(DOCUMENT_VERSION) => {}
            Some(v) => {
                return Err(bad(format!(
                    "{origin} is a facts document of version {v}; this preflight reads version {DOCUMENT_VERSION}"
                )))
            }
            None => {
                return Err(bad(format!(
                    "{origin} is not a preflight facts document (no \"preflight_facts\" version; `preflight facts` writes them)"
                )))
            }
        }
        serde_json::from_str(text).map_err(|e| bad(format!("{origin} is not a valid facts document: {e}")))
    }

    /// The facts as the checks take them (named by the document's `host`).
    pub fn host_facts(&self) -> HostFacts {
        let mut facts = HostFacts::from(&self.facts);
        facts.hostname = Some(self.host.clone());
        facts
    }
}

/// Reads this host's facts from `source` (this machine or a root directory) into a document
/// named `name`, else the host's own name (`/proc/sys/kernel/hostname`, or `ROOT/etc/hostname`
/// for a root; `localhost` when neither says).
pub async fn collect(source: &HostSource, name: Option<&str>) -> Document {
    let facts = super::probe_host::probe(source).await;
    let root = match source {
        HostSource::Root { root, .. } => root.clone(),
        _ => PathBuf::from("/"),
    };
    let host = name
        .map(str::to_string)
        .or_else(|| facts.hostname.clone())
        .unwrap_or_else(|| "localhost".into());
    Document::new(&host, &root, &facts)
}

/// The document as `key: value` lines for a person (`preflight facts --format table`).
pub fn lines(doc: &Document) -> String {
    let f = &doc.facts;
    let release = |r: &Option<ReleaseDoc>| {
        r.as_ref().map_or_else(
            || "not read".to_string(),
            |r| format!("{} {} ({}) from {}", r.id, r.version, r.codename, r.source),
        )
    };
    let unit = |u: &UnitDoc| match (&u.active, &u.enabled, &u.unread) {
        (a, e, None) => format!("{}, {}", a.as_deref().unwrap_or("?"), e.as_deref().unwrap_or("?")),
        (a, e, Some(why)) => format!(
            "{}, {} ({}: {})",
            a.as_deref().unwrap_or("?"),
            e.as_deref().unwrap_or("?"),
            why.kind,
            why.detail
        ),
    };
    let maas = match &f.maas {
        None => "not installed".to_string(),
        Some(InstallDoc::Snap { mode, version }) => format!(
            "snap {} (mode {})",
            version.as_deref().unwrap_or("of unknown version"),
            mode.as_deref().unwrap_or("not set")
        ),
        Some(InstallDoc::Deb { version }) => format!("deb {version}"),
    };
    let regiond = match &f.regiond {
        None => "none".to_string(),
        Some(RegiondDoc::Ok(r)) => format!(
            "{} (maas_url {}, database {} on {}:{} as {})",
            r.path,
            r.maas_url.as_deref().unwrap_or("not set"),
            r.database_name.as_deref().unwrap_or("maasdb"),
            r.database_host.as_deref().unwrap_or("localhost"),
            r.database_port.unwrap_or(5432),
            r.database_user.as_deref().unwrap_or("maas")
        ),
        Some(RegiondDoc::Error(e)) => format!("not read ({}): {}", e.kind, e.detail),
    };
    [
        ("host", doc.host.clone()),
        ("root", doc.root.clone()),
        ("release", release(&f.release)),
        ("lsb_release", release(&f.lsb_release)),
        ("systemd", if f.systemd { "running" } else { "not running" }.to_string()),
        ("systemd-timesyncd", unit(&f.timesyncd)),
        ("chrony", unit(&f.chrony)),
        (
            "maas chronyd",
            if f.maas_chronyd { "running" } else { "not running" }.to_string(),
        ),
        ("maas", maas),
        ("regiond.conf", regiond),
    ]
    .iter()
    .map(|(k, v)| format!("{k:<18} {v}\n"))
    .collect()
}

impl From<&HostFacts> for Facts {
    fn from(h: &HostFacts) -> Facts {
        Facts {
            release: h.release.as_ref().map(ReleaseDoc::from),
            lsb_release: h.lsb_release.as_ref().map(ReleaseDoc::from),
            systemd: h.systemd,
            timesyncd: UnitDoc::from(&h.timesyncd),
            chrony: UnitDoc::from(&h.chrony),
            maas_chronyd: h.maas_chronyd,
            maas: h.maas.as_ref().map(|m| match m {
                MaasInstall::Snap { mode, version } => InstallDoc::Snap {
                    mode: mode.clone(),
                    version: version.clone(),
                },
                MaasInstall::Deb { version } => InstallDoc::Deb {
                    version: version.clone(),
                },
            }),
            regiond: h.regiond.as_ref().map(|r| match r {
                Ok(conf) => RegiondDoc::Ok(RegiondFields {
                    path: conf.path.clone(),
                    maas_url: conf.maas_url.clone(),
                    database_host: conf.database_host.clone(),
                    database_port: conf.database_port,
                    database_name: conf.database_name.clone(),
                    database_user: conf.database_user.clone(),
                }),
                Err(e) => RegiondDoc::Error(ErrorDoc::from(e)),
            }),
        }
    }
}

impl From<&Facts> for HostFacts {
    fn from(d: &Facts) -> HostFacts {
        HostFacts {
            hostname: None,
            release: d.release.as_ref().map(Release::from),
            lsb_release: d.lsb_release.as_ref().map(Release::from),
            systemd: d.systemd,
            timesyncd: UnitState::from(&d.timesyncd),
            chrony: UnitState::from(&d.chrony),
            maas_chronyd: d.maas_chronyd,
            maas: d.maas.as_ref().map(|m| match m {
                InstallDoc::Snap { mode, version } => MaasInstall::Snap {
                    mode: mode.clone(),
                    version: version.clone(),
                },
                InstallDoc::Deb { version } => MaasInstall::Deb {
                    version: version.clone(),
                },
            }),
            regiond: d.regiond.as_ref().map(|r| match r {
                RegiondDoc::Ok(f) => Ok(RegiondConf {
                    path: f.path.clone(),
                    database_host: f.database_host.clone(),
                    database_port: f.database_port,
                    database_name: f.database_name.clone(),
                    database_user: f.database_user.clone(),
                    // Never in a document: a remote host's database is not read through it.
                    database_pass: None,
                    maas_url: f.maas_url.clone(),
                }),
                RegiondDoc::Error(e) => Err(ProbeError::from(e)),
            }),
        }
    }
}

impl From<&Release> for ReleaseDoc {
    fn from(r: &Release) -> ReleaseDoc {
        ReleaseDoc {
            id: r.id.clone(),
            version: r.version.clone(),
            codename: r.codename.clone(),
            source: r.source.to_string(),
        }
    }
}

impl From<&ReleaseDoc> for Release {
    fn from(r: &ReleaseDoc) -> Release {
        Release {
            id: r.id.clone(),
            version: r.version.clone(),
            codename: r.codename.clone(),
            source: r.source.clone(),
        }
    }
}

impl From<&UnitState> for UnitDoc {
    fn from(u: &UnitState) -> UnitDoc {
        UnitDoc {
            active: u.active.clone(),
            enabled: u.enabled.clone(),
            unread: u.unread.as_ref().map(ErrorDoc::from),
        }
    }
}

impl From<&UnitDoc> for UnitState {
    fn from(u: &UnitDoc) -> UnitState {
        UnitState {
            active: u.active.clone(),
            enabled: u.enabled.clone(),
            unread: u.unread.as_ref().map(ProbeError::from),
        }
    }
}

impl From<&ProbeError> for ErrorDoc {
    fn from(e: &ProbeError) -> ErrorDoc {
        ErrorDoc {
            kind: e.kind,
            detail: e.detail.clone(),
        }
    }
}

impl From<&ErrorDoc> for ProbeError {
    fn from(e: &ErrorDoc) -> ProbeError {
        ProbeError::new(e.kind, e.detail.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn facts() -> HostFacts {
        HostFacts {
            hostname: Some("region-1".into()),
            release: Some(Release {
                id: "ubuntu".into(),
                version: "22.04".into(),
                codename: "jammy".into(),
                source: "/etc/os-release".into(),
            }),
            lsb_release: None,
            systemd: true,
            timesyncd: UnitState {
                active: Some("inactive".into()),
                enabled: Some("disabled".into()),
                unread: None,
            },
            chrony: UnitState {
                active: None,
                enabled: Some("enabled".into()),
                unread: Some(ProbeError::new(ErrorKind::NotAvailable, "needs the running system")),
            },
            maas_chronyd: false,
            maas: Some(MaasInstall::Snap {
                mode: Some("region+rack".into()),
                version: Some("3.5.1".into()),
            }),
            regiond: Some(Ok(RegiondConf {
                path: "/var/snap/maas/current/regiond.conf".into(),
                database_host: Some("localhost".into()),
                database_port: Some(5432),
                database_name: Some("maasdb".into()),
                database_user: Some("maas".into()),
                database_pass: Some(Secret::new("s3cr3t-canary".into())),
                maas_url: Some("http://10.0.0.2:5240/MAAS".into()),
            })),
        }
    }

    #[test]
    fn a_document_round_trips_without_the_password() {
        let doc = Document::new("region-1", Path::new("/"), &facts());
        let text = serde_json::to_string_pretty(&doc).unwrap();
        assert!(
            !text.contains("s3cr3t-canary") && !text.contains("database_pass"),
            "{text}"
        );
        let back = Document::parse(&text, "region-1.json").unwrap();
        let mut expected = facts();
        if let Some(Ok(conf)) = &mut expected.regiond {
            conf.database_pass = None;
        }
        assert_eq!(back.host_facts(), expected);
        assert_eq!(back.host, "region-1");
    }

    #[test]
    fn other_documents_are_refused_with_the_reason() {
        let e = Document::parse("{\"preflight_facts\": 2, \"host\": \"x\"}", "x.json").unwrap_err();
        assert!(e.detail.contains("version 2"), "{e}");
        let e = Document::parse("{\"schema_version\": 1}", "report.json").unwrap_err();
        assert!(e.detail.contains("not a preflight facts document"), "{e}");
        let e = Document::parse("<html>", "x.json").unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadAnswer);
    }
}

//! The Proxmox VE probe: I/O only. Through the API of any node (read-only GETs, `Authorization:
//! PVEAPIToken=USER@REALM!TOKENID=SECRET`, every answer `{"data": …}`):
//!
//! - `/api2/json/version`: the answering node's pve-manager (and whether the token is accepted);
//! - `/api2/json/cluster/resources?type=node`: every node and its status (no versions there);
//! - `/api2/json/cluster/status`: the `cluster` entry (`quorate` 0/1) and the members (`online`
//!   0/1); a standalone node has no `cluster` entry. Needs Sys.Audit on `/`;
//! - `/api2/json/nodes/{node}/version` per online node (proxied to that node);
//! - `/api2/json/nodes/{node}/apt/versions` per online node: the installed (`OldVersion`)
//!   proxmox-ve and corosync. Needs Sys.Audit on `/nodes/{node}`;
//! - `/api2/json/cluster/ceph/metadata?scope=versions`: the Ceph version each node broadcasts
//!   (only nodes with hyper-converged Ceph do). Needs Sys.Audit or Datastore.Audit on `/`.
//!
//! Without a URL, `pveversion -v` on this host (a Proxmox VE node) gives this node's facts.
//! A 401 comes with an empty body and the reason in the status line only
//! (pve-http-server src/PVE/APIServer/AnyEvent.pm L1614-1645): it is matched by its status.

use std::collections::BTreeMap;

use reqwest::header::HeaderValue;
use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::config::ProxmoxConfig;
use super::facts::{CephState, ClusterState, Node, Packages, PveFacts, PveVersion, Seen};
use crate::config::Secret;
use crate::core::probed::{ErrorKind, ProbeError, Probed};
use crate::host::{HostSource, RunError};
use crate::net::http::{authorization, display_url, Http, HttpError};

/// What the probe says when the token is refused (a 401).
pub const AUTH_FAILED: &str = "authentication failed (check PROXMOX_VE_API_TOKEN and the token's privileges)";

/// Every answer's envelope.
#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

/// `/version` and `/nodes/{node}/version` (wire shape).
#[derive(Deserialize)]
struct VersionInfo {
    version: String,
}

/// An entry of `/cluster/status` (wire shape): `quorate` and `online` are integers.
#[derive(Deserialize)]
struct StatusEntry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    quorate: Option<serde_json::Value>,
    #[serde(default)]
    online: Option<serde_json::Value>,
}

/// An entry of `/cluster/resources?type=node` (wire shape).
#[derive(Deserialize)]
struct Resource {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// An entry of `/nodes/{node}/apt/versions` (wire shape).
#[derive(Deserialize)]
struct AptPackage {
    #[serde(rename = "Package")]
    package: String,
    #[serde(rename = "OldVersion", default)]
    old_version: Option<String>,
}

/// `/cluster/ceph/metadata?scope=versions` (wire shape): `{}` or `{"node": {…}}`.
#[derive(Deserialize)]
struct CephMetadata {
    #[serde(default)]
    node: Option<BTreeMap<String, CephNode>>,
}

#[derive(Deserialize)]
struct CephNode {
    version: CephVersion,
}

/// `parts` comes from Perl's `split`, so its items may be strings (`["19","2","1"]`).
#[derive(Deserialize)]
struct CephVersion {
    #[serde(rename = "str")]
    text: String,
    #[serde(default)]
    parts: Vec<serde_json::Value>,
}

/// A 0/1 flag as pmxcfs writes it (`%d`), or a JSON boolean.
fn flag(v: Option<&serde_json::Value>) -> Option<bool> {
    match v? {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::Number(n) => n.as_i64().map(|i| i != 0),
        serde_json::Value::String(s) => s.trim().parse::<i64>().ok().map(|i| i != 0),
        _ => None,
    }
}

/// The leading number of a version (`19.2.1-pve3` → 19).
fn leading_number(text: &str) -> Option<u64> {
    let digits = text.trim().bytes().take_while(u8::is_ascii_digit).count();
    text.trim()[..digits].parse().ok()
}

/// The API base of `url`: `https://pve1:8006` → `https://pve1:8006/api2/json/`.
fn base_url(url: &str) -> Result<Url, ProbeError> {
    let mut u = Url::parse(url.trim())
        .map_err(|_| ProbeError::config(format!("PROXMOX_VE_ENDPOINT '{url}' is not a valid URL")))?;
    let path = u.path().trim_end_matches('/').to_string();
    let path = if path.ends_with("/api2/json") {
        format!("{path}/")
    } else {
        format!("{path}/api2/json/")
    };
    u.set_path(&path);
    Ok(u)
}

/// One endpoint of the API: `path` relative to `/api2/json/`, node names escaped.
fn endpoint(base: &Url, path: &str) -> Result<Url, String> {
    base.join(path).map_err(|e| format!("{path}: {e}"))
}

/// What is escaped in a node name (pve-node names are letters, digits and `-`: nothing).
const NODE_NAME: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

fn node_path(node: &str, rest: &str) -> String {
    let escaped = percent_encoding::utf8_percent_encode(node, NODE_NAME);
    format!("nodes/{escaped}/{rest}")
}

/// A failed request in words: a 401 says the token was refused, a 403 names the permission the
/// endpoint needs (`needs`); never a header.
fn explain(e: &HttpError, needs: Option<&str>) -> ProbeError {
    let detail = match (e, needs) {
        (HttpError::Status { url, status: 401, .. }, _) => format!("{url} answered HTTP 401: {AUTH_FAILED}"),
        (HttpError::Status { url, status: 403, .. }, Some(needs)) => format!(
            "{url} answered HTTP 403: the API token lacks {needs} (a token with privilege separation needs its own permissions, e.g. the PVEAuditor role on /)"
        ),
        (other, _) => other.to_string(),
    };
    ProbeError::new(e.kind(), detail)
}

/// The client and the token of one probe.
struct Api<'a> {
    http: &'a Http,
    base: Url,
    token: &'a Secret,
}

impl Api<'_> {
    /// GET `path` and return its `data`.
    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, HttpError> {
        let url = endpoint(&self.base, path).map_err(|cause| HttpError::Json {
            url: display_url(&self.base),
            cause,
        })?;
        let auth = || {
            let mut value = HeaderValue::from_str(&format!("PVEAPIToken={}", self.token.expose()))
                .unwrap_or_else(|_| HeaderValue::from_static("PVEAPIToken"));
            value.set_sensitive(true);
            authorization(value)
        };
        self.http
            .get_json::<Envelope<T>>(&url, &auth)
            .await
            .map(|envelope| envelope.data)
    }
}

/// Reads the cluster through the API at `config.url`.
///
/// # Errors
/// Why the cluster cannot be read at all (refused token, no answer, a body of the wrong shape),
/// with its kind; what only some checks need (the status, one node's packages, Ceph) is kept in
/// the facts as unreadable instead.
pub async fn probe(http: &Http, config: &ProxmoxConfig) -> Result<PveFacts, ProbeError> {
    let url = config
        .url
        .as_deref()
        .ok_or_else(|| ProbeError::config("no Proxmox VE URL"))?;
    let base = base_url(url)?;
    let Some(token) = config.token.as_ref() else {
        return Err(ProbeError::config(format!(
            "{} needs an API token: set PROXMOX_VE_API_TOKEN (USER@REALM!TOKENID=SECRET) or [proxmox] token_file",
            display_url(&base)
        )));
    };
    let api = Api { http, base, token };
    let version: VersionInfo = api.get("version").await.map_err(|e| explain(&e, None))?;
    let api_version = PveVersion::parse(&version.version).map_err(|e| {
        ProbeError::new(
            ErrorKind::BadAnswer,
            format!("the API reports pve-manager version '{}': {e}", version.version),
        )
    })?;
    let resources: Vec<Resource> = api
        .get("cluster/resources?type=node")
        .await
        .map_err(|e| explain(&e, None))?;
    let listed: Vec<(String, Option<String>)> = resources
        .into_iter()
        .filter(|r| r.kind == "node")
        .filter_map(|r| r.node.map(|n| (n, r.status)))
        .collect();
    if listed.is_empty() {
        return Err(ProbeError::new(
            ErrorKind::BadAnswer,
            format!(
                "{} lists no node in /cluster/resources?type=node",
                display_url(&api.base)
            ),
        ));
    }
    let cluster = match api.get::<Vec<StatusEntry>>("cluster/status").await {
        Ok(entries) => {
            let members: Vec<(String, bool)> = entries
                .iter()
                .filter(|e| e.kind == "node")
                .filter_map(|e| Some((e.name.clone()?, flag(e.online.as_ref()).unwrap_or(false))))
                .collect();
            match entries.iter().find(|e| e.kind == "cluster") {
                Some(c) => ClusterState::Cluster {
                    name: c.name.clone().unwrap_or_default(),
                    quorate: flag(c.quorate.as_ref()).unwrap_or(false),
                    members,
                },
                None => ClusterState::Standalone,
            }
        }
        Err(e) => ClusterState::Unreadable(explain(&e, Some("Sys.Audit on / (GET /cluster/status)"))),
    };
    let member_online = |node: &str| match &cluster {
        ClusterState::Cluster { members, .. } => members.iter().find(|(n, _)| n == node).map(|(_, o)| *o),
        _ => None,
    };
    let nodes = futures::future::join_all(listed.into_iter().map(|(name, status)| {
        let online = member_online(&name).unwrap_or_else(|| status.as_deref() != Some("offline"));
        let api = &api;
        async move {
            if !online {
                return Node {
                    name,
                    online,
                    manager: None,
                    packages: None,
                };
            }
            let (version_path, apt_path) = (node_path(&name, "version"), node_path(&name, "apt/versions"));
            let (manager, packages) = futures::join!(
                api.get::<VersionInfo>(&version_path),
                api.get::<Vec<AptPackage>>(&apt_path),
            );
            let manager = manager.map_err(|e| explain(&e, None)).and_then(|v| {
                PveVersion::parse(&v.version).map_err(|cause| ProbeError::new(ErrorKind::BadAnswer, cause))
            });
            let packages = packages
                .map(|list| {
                    let installed = |name: &str| {
                        list.iter()
                            .find(|p| p.package == name)
                            .and_then(|p| p.old_version.clone())
                    };
                    Packages {
                        proxmox_ve: installed("proxmox-ve"),
                        corosync: installed("corosync"),
                    }
                })
                .map_err(|e| {
                    explain(
                        &e,
                        Some(&format!("Sys.Audit on /nodes/{name} (GET /nodes/{name}/apt/versions)")),
                    )
                });
            Node {
                name,
                online,
                manager: Some(manager),
                packages: Some(packages),
            }
        }
    }))
    .await;
    let ceph = match api.get::<CephMetadata>("cluster/ceph/metadata?scope=versions").await {
        Ok(m) => CephState::Nodes(
            m.node
                .unwrap_or_default()
                .into_iter()
                .map(|(node, n)| {
                    let major = n
                        .version
                        .parts
                        .first()
                        .and_then(|p| match p {
                            serde_json::Value::Number(n) => n.as_u64(),
                            serde_json::Value::String(s) => s.parse().ok(),
                            _ => None,
                        })
                        .or_else(|| leading_number(&n.version.text))
                        .unwrap_or(0);
                    (node, (major, n.version.text))
                })
                .collect(),
        ),
        Err(e) => CephState::Unreadable(explain(
            &e,
            Some("Sys.Audit or Datastore.Audit on / (GET /cluster/ceph/metadata)"),
        )),
    };
    Ok(PveFacts {
        seen: Seen::Api {
            url: display_url(&api.base),
        },
        api_version: Some(api_version),
        cluster,
        nodes,
        ceph,
    })
}

/// What `pveversion -v` printed, as this node's facts.
///
/// # Errors
/// The cause in words when the output has no pve-manager line or an unreadable version.
pub fn parse_pveversion(text: &str) -> Result<PveFacts, String> {
    let mut lines: BTreeMap<&str, &str> = BTreeMap::new();
    for line in text.lines() {
        if let Some((package, value)) = line.split_once(": ") {
            lines.insert(package.trim(), value.trim());
        }
    }
    let installed = |package: &str| {
        lines
            .get(package)
            .map(|v| v.split_whitespace().next().unwrap_or(""))
            .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
            .map(str::to_string)
    };
    // `pve-manager: 8.4.1 (running version: 8.4.1/2a5fa54a8503f96d)`: the running one counts.
    let manager_line = lines
        .get("pve-manager")
        .ok_or("pveversion -v printed no pve-manager line")?;
    let running = manager_line
        .split_once("(running version: ")
        .map(|(_, r)| r.split(['/', ')']).next().unwrap_or(""))
        .filter(|r| !r.is_empty());
    let manager = PveVersion::parse(running.unwrap_or(manager_line))?;
    let ceph = installed("ceph")
        .map(|v| {
            let major = leading_number(&v).unwrap_or(0);
            (String::from("this node"), (major, v))
        })
        .into_iter()
        .collect();
    Ok(PveFacts {
        seen: Seen::LocalNode,
        api_version: None,
        cluster: ClusterState::NotSeen(
            "only this node was seen (pveversion -v); set PROXMOX_VE_ENDPOINT and PROXMOX_VE_API_TOKEN to read the cluster's quorum".into(),
        ),
        nodes: vec![Node {
            name: "this node".into(),
            online: true,
            manager: Some(Ok(manager)),
            packages: Some(Ok(Packages {
                proxmox_ve: installed("proxmox-ve"),
                corosync: installed("corosync"),
            })),
        }],
        ceph: CephState::Nodes(ceph),
    })
}

/// This node's facts from `pveversion -v`: skipped when there is no `pveversion` here.
pub async fn local(host: &HostSource, not_configured: &str) -> Probed<PveFacts> {
    match host.command("pveversion", &["-v"]).await {
        Err(RunError::NotFound) => Probed::Skipped(not_configured.to_string()),
        Err(RunError::Failed(cause)) => Probed::Failed(cause),
        Ok(out) if out.code != 0 => Probed::Failed(ProbeError::new(
            ErrorKind::Failed,
            format!(
                "pveversion -v exited with status {}{}",
                out.code,
                out.stderr
                    .lines()
                    .next()
                    .map(|l| format!(": {}", l.trim()))
                    .unwrap_or_default()
            ),
        )),
        Ok(out) => match parse_pveversion(&out.stdout) {
            Ok(facts) => Probed::Found(facts),
            Err(cause) => Probed::Failed(ProbeError::new(ErrorKind::BadAnswer, cause)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        for (given, want) in [
            ("https://pve1:8006", "https://pve1:8006/api2/json/"),
            ("https://pve1:8006/", "https://pve1:8006/api2/json/"),
            ("https://pve1:8006/api2/json", "https://pve1:8006/api2/json/"),
            ("https://proxy/pve/", "https://proxy/pve/api2/json/"),
        ] {
            assert_eq!(base_url(given).unwrap().as_str(), want, "{given}");
        }
        assert!(base_url("pve1 8006").is_err());
        assert_eq!(node_path("pve-1", "version"), "nodes/pve-1/version");
        assert_eq!(node_path("a/b", "version"), "nodes/a%2Fb/version");
    }

    #[test]
    fn flags_are_integers() {
        let v = |j: serde_json::Value| flag(Some(&j));
        assert_eq!(v(serde_json::json!(1)), Some(true));
        assert_eq!(v(serde_json::json!(0)), Some(false));
        assert_eq!(v(serde_json::json!(true)), Some(true));
        assert_eq!(v(serde_json::json!("1")), Some(true));
        assert_eq!(flag(None), None);
    }

    #[test]
    fn pveversion_verbose() {
        let text = "proxmox-ve: 8.4.0 (running kernel: 6.8.12-9-pve)\npve-manager: 8.4.1 (running version: 8.4.1/2a5fa54a8503f96d)\nproxmox-kernel-6.8: 6.8.12-9\nceph: 19.2.1-pve3\nceph-fuse: 19.2.1-pve3\ncorosync: 3.1.9-pve1\nglusterfs-client: not correctly installed\n";
        let f = parse_pveversion(text).unwrap();
        let node = &f.nodes[0];
        assert_eq!(node.manager.as_ref().unwrap().as_ref().unwrap().raw, "8.4.1");
        let p = node.packages.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(p.proxmox_ve.as_deref(), Some("8.4.0"));
        assert_eq!(p.corosync.as_deref(), Some("3.1.9-pve1"));
        match &f.ceph {
            CephState::Nodes(n) => assert_eq!(n["this node"], (19, "19.2.1-pve3".to_string())),
            other => panic!("{other:?}"),
        }
        let seven = "proxmox-ve: 7.4-1 (running kernel: 5.15.102-1-pve)\npve-manager: 7.4-17 (running version: 7.4-17/513c62be)\ncorosync: 3.1.7-pve1\n";
        let f = parse_pveversion(seven).unwrap();
        let v = f.nodes[0].manager.clone().unwrap().unwrap();
        assert_eq!((v.major, v.minor, v.release), (7, 4, 17));
        assert_eq!(f.ceph, CephState::Nodes(BTreeMap::new()));
        assert!(parse_pveversion("pve-manager/8.4.1/2a5f (running kernel: 6.8)\n").is_err());
    }
}

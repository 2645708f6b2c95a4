//! A Proxmox VE cluster's API on loopback (wiremock behind a small hyper front), shaped like
//! pve-manager's answers (stable-8 2606ac85 unless said otherwise):
//!
//! - every answer is the `json` formatter's envelope `{"data": …}` (pve-http-server
//!   src/PVE/APIServer/Formatter/Standard.pm L15-40); an error adds `"message"` and keeps
//!   `"data": null`, and the status line's reason phrase is the message (AnyEvent.pm L1062);
//! - `GET /api2/json/version` and `/api2/json/nodes/{node}/version`: `version`, `release`,
//!   `repoid` (PVE/API2.pm, PVE/API2/Nodes.pm L314-349; `proxyto => 'node'`);
//! - `GET /api2/json/cluster/status`: a `cluster` entry (`quorate` an integer) and one entry
//!   per member (`online`, `local` integers, pmxcfs `%d`: pve-cluster src/pmxcfs/status.c
//!   L327-351); a standalone node has one node entry with `nodeid` 0 and no `cluster` entry
//!   (PVE/API2/Cluster.pm L735-879). Needs Sys.Audit on `/`;
//! - `GET /api2/json/cluster/resources?type=node`: `id`, `node`, `type`, `status`
//!   (`online`/`offline`), `level`, no version (PVE/API2Tools.pm L61-102); the usage figures
//!   only with Sys.Audit on the node;
//! - `GET /api2/json/nodes/{node}/apt/versions`: the packages as PVE/API2/APT.pm L728-884
//!   lists them (`Package`, `Version`, `OldVersion`, `CurrentState`, …; `RunningKernel` on
//!   proxmox-ve, `ManagerVersion` on pve-manager). Needs Sys.Audit on `/nodes/{node}`;
//! - `GET /api2/json/cluster/ceph/metadata?scope=versions`: `{"node": {NODE: {"version":
//!   {"str", "parts"}, "buildcommit"}}}` for the nodes that broadcast a Ceph version, which
//!   only nodes with hyper-converged Ceph do (PVE/Service/pvestatd.pm L597-603); without any,
//!   `{}` (PVE/API2/Cluster/Ceph.pm L234-245 answers `scope=versions` before checking that Ceph
//!   is set up). `parts` are strings: Perl's `split` in PVE/Ceph/Tools.pm `parse_ceph_version`.
//!   Needs Sys.Audit or Datastore.Audit on `/`;
//! - a missing or refused token: HTTP 401 with an empty body and the reason only in the status
//!   line (`No ticket`; `Authentication failed!` as 8.4.17 and 9.1.5 answer any bad token:
//!   pve-http-server AnyEvent.pm L1614-1645, pve-manager d3973e63). The real server waits 3 s
//!   before it answers (`ProxmoxOptions::unauthorized_delay`, off by default for fast tests);
//! - a privilege the token lacks: HTTP 403 `{"data":null,"message":"Permission check failed
//!   (PATH, PRIV)\n"}` (pve-common src/PVE/Exception.pm L53-71, pve-access-control
//!   src/PVE/RPCEnvironment.pm L300, L325).
//!
//! The front turns wiremock's `x-reason-phrase` header into the status line's reason phrase
//! (wiremock writes only the canonical ones).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{header, header_exists, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The token id of the API token the fake accepts.
pub const TOKEN_ID: &str = "preflight@pve!audit";
/// Its secret (a UUID, as pve-access-control's TokenConfig.pm L56 makes them).
pub const TOKEN_SECRET: &str = "5d1c9f0e-7a42-4b1e-9c3d-2f8a6b4e0c17";

/// `USER@REALM!TOKENID=SECRET`, as PROXMOX_VE_API_TOKEN takes it.
pub fn token() -> String {
    format!("{TOKEN_ID}={TOKEN_SECRET}")
}

/// The header the fake sets for the front: the reason phrase of the status line.
const REASON: &str = "x-reason-phrase";

/// One node of the fake cluster.
#[derive(Debug, Clone)]
pub struct FakeNode {
    pub name: String,
    /// pve-manager (`8.4.1`, `7.4-17`).
    pub manager: String,
    /// The installed proxmox-ve meta-package (`8.4.0`, `7.4-1`).
    pub proxmox_ve: String,
    /// The installed corosync (`3.1.9-pve1`).
    pub corosync: String,
    pub online: bool,
    /// The Ceph version the node broadcasts (`19.2.1`); `None`: no hyper-converged Ceph there.
    pub ceph: Option<String>,
}

impl FakeNode {
    /// A node on `manager` with proxmox-ve `proxmox_ve`, corosync 3, online, without Ceph.
    pub fn new(name: &str, manager: &str, proxmox_ve: &str) -> FakeNode {
        FakeNode {
            name: name.into(),
            manager: manager.into(),
            proxmox_ve: proxmox_ve.into(),
            corosync: if manager.starts_with('7') {
                "3.1.7-pve1".into()
            } else {
                "3.1.9-pve1".into()
            },
            online: true,
            ceph: None,
        }
    }
}

/// What the fake cluster reports and allows.
#[derive(Debug, Clone)]
pub struct ProxmoxOptions {
    /// The cluster's name; `None`: a standalone node (the first node alone).
    pub cluster: Option<String>,
    pub nodes: Vec<FakeNode>,
    pub quorate: bool,
    /// Every token is refused (expired, deleted, a wrong secret): 401 everywhere.
    pub refuse_token: bool,
    /// The token has no Sys.Audit (and no Datastore.Audit) anywhere: 403 where they are needed.
    pub no_sys_audit: bool,
    /// How long a 401 waits (the real server: 3 s).
    pub unauthorized_delay: Duration,
}

impl ProxmoxOptions {
    /// A quorate three-node cluster `prod` (pve1, pve2, pve3), every node on `manager` with
    /// proxmox-ve `proxmox_ve`, corosync 3, no Ceph.
    pub fn cluster(manager: &str, proxmox_ve: &str) -> ProxmoxOptions {
        ProxmoxOptions {
            cluster: Some("prod".into()),
            nodes: ["pve1", "pve2", "pve3"]
                .iter()
                .map(|n| FakeNode::new(n, manager, proxmox_ve))
                .collect(),
            quorate: true,
            refuse_token: false,
            no_sys_audit: false,
            unauthorized_delay: Duration::ZERO,
        }
    }

    /// A standalone node `pve` on `manager`.
    pub fn standalone(manager: &str, proxmox_ve: &str) -> ProxmoxOptions {
        ProxmoxOptions {
            cluster: None,
            nodes: vec![FakeNode::new("pve", manager, proxmox_ve)],
            ..ProxmoxOptions::cluster(manager, proxmox_ve)
        }
    }

    /// The demo, where every check fires: pve3 still on 8.2.4 (proxmox-ve 8.2.0, below
    /// pve8to9's 8.4.0), a corosync 2.x left on pve2, Ceph 18 Reef on every node (8 → 9 needs
    /// 19 Squid) and a fourth node, pve4, offline (the cluster stays quorate: 3 of 4 votes).
    pub fn demo() -> ProxmoxOptions {
        let mut o = ProxmoxOptions::cluster("8.4.1", "8.4.0");
        o.nodes.push(FakeNode::new("pve4", "8.4.1", "8.4.0"));
        let mut o = o.with_ceph("18.2.4");
        o.node_mut("pve2").corosync = "2.4.5-pve2".into();
        let pve3 = o.node_mut("pve3");
        pve3.manager = "8.2.4".into();
        pve3.proxmox_ve = "8.2.0".into();
        o.node_mut("pve4").online = false;
        o
    }

    /// Node `name`.
    ///
    /// # Panics
    /// When there is no such node.
    pub fn node_mut(&mut self, name: &str) -> &mut FakeNode {
        self.nodes
            .iter_mut()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no fake node {name}"))
    }

    /// Hyper-converged Ceph `version` on every node.
    pub fn with_ceph(mut self, version: &str) -> ProxmoxOptions {
        for n in &mut self.nodes {
            n.ceph = Some(version.into());
        }
        self
    }
}

/// The short git revision pveversion shows: the bump commit of the releases the tests use
/// (pve-manager debian/changelog + "bump version to X" commits), else a stand-in.
fn repoid(version: &str) -> String {
    match version {
        "8.4.1" => "2a5fa54a8503f96d".into(),
        "8.2.4" => "faa83925c9641325".into(),
        "9.2.11" => "f6997e698c7933ea".into(),
        "7.4-17" => "513c62be".into(),
        other => {
            let sum = other
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)));
            if other.starts_with('7') {
                format!("{:08x}", sum as u32)
            } else {
                format!("{sum:016x}")
            }
        }
    }
}

/// `8.4` of `8.4.1`, `7.4` of `7.4-17` (pvecfg's PVERELEASE).
fn release(version: &str) -> String {
    version.split(['.', '-']).take(2).collect::<Vec<_>>().join(".")
}

fn kernel(manager: &str) -> &'static str {
    match manager.chars().next() {
        Some('7') => "5.15.158-2-pve",
        Some('9') => "6.14.8-2-pve",
        _ => "6.8.12-9-pve",
    }
}

/// `{"data": data}` with `application/json;charset=UTF-8`, as the json formatter writes it.
fn data(value: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        serde_json::to_vec(&json!({ "data": value })).expect("JSON serializes"),
        "application/json;charset=UTF-8",
    )
}

/// A 403 as rest_handler answers a failed permission check.
fn forbidden(what: &str) -> ResponseTemplate {
    let message = format!("Permission check failed ({what})");
    ResponseTemplate::new(403)
        .insert_header(REASON, message.as_str())
        .set_body_raw(
            serde_json::to_vec(&json!({"data": null, "message": format!("{message}\n")})).expect("JSON serializes"),
            "application/json;charset=UTF-8",
        )
}

fn package(name: &str, title: &str, version: &str) -> Value {
    json!({"Package": name, "Title": title, "Origin": "Proxmox", "Description": title,
           "Section": "admin", "Arch": "amd64", "Priority": "optional",
           "Version": version, "OldVersion": version, "CurrentState": "Installed"})
}

fn apt_versions(n: &FakeNode) -> Value {
    let mut proxmox_ve = package("proxmox-ve", "Proxmox Virtual Environment", &n.proxmox_ve);
    proxmox_ve["RunningKernel"] = json!(kernel(&n.manager));
    let mut manager = package(
        "pve-manager",
        "Proxmox Virtual Environment Management Tools",
        &n.manager,
    );
    manager["ManagerVersion"] = json!(format!("{}/{}", n.manager, repoid(&n.manager)));
    let kernel_release = kernel(&n.manager).trim_end_matches("-pve");
    let series: String = kernel_release.split('.').take(2).collect::<Vec<_>>().join(".");
    let mut list = vec![
        proxmox_ve,
        manager,
        package(
            &format!("proxmox-kernel-{series}"),
            "Proxmox Kernel Image",
            kernel_release,
        ),
    ];
    // The rest sorted by name, as APT.pm lists them (ceph only when installed).
    let ceph = n.ceph.as_deref().map(|v| format!("{v}-pve1"));
    let mut rest: Vec<(String, String, String)> = vec![
        (
            "ceph-fuse".into(),
            "FUSE-based client for the Ceph distributed file system".into(),
            ceph.clone().unwrap_or_else(|| "17.2.8-pve2".into()),
        ),
        (
            "corosync".into(),
            "cluster engine daemon and utilities".into(),
            n.corosync.clone(),
        ),
        (
            "libknet1".into(),
            "kronosnet core switching implementation".into(),
            "1.28-pve1".into(),
        ),
        (
            "pve-cluster".into(),
            "Cluster Infrastructure for Proxmox Virtual Environment".into(),
            release(&n.manager) + ".0",
        ),
        (
            "qemu-server".into(),
            "Qemu Server Tools".into(),
            release(&n.manager) + ".1",
        ),
    ];
    if let Some(v) = ceph {
        rest.push(("ceph".into(), "distributed storage and file system".into(), v));
    }
    rest.sort();
    list.extend(rest.iter().map(|(name, title, v)| package(name, title, v)));
    Value::Array(list)
}

/// The running fake cluster. Dropping it stops it.
pub struct ProxmoxCluster {
    /// The wiremock server behind the front: every request reaches it (`received_requests`).
    pub server: MockServer,
    /// The front's address, which answers with the real status lines.
    pub address: SocketAddr,
}

impl ProxmoxCluster {
    /// Starts the fake API (wiremock and its front) on 127.0.0.1.
    pub async fn start(o: &ProxmoxOptions) -> ProxmoxCluster {
        let server = MockServer::start().await;
        let auth = format!("PVEAPIToken={}", token());
        let authorized = || Mock::given(method("GET")).and(header("authorization", auth.as_str()));
        let nodes: Vec<&FakeNode> = match o.cluster {
            Some(_) => o.nodes.iter().collect(),
            None => o.nodes.iter().take(1).collect(),
        };
        // A refused token: every request is a 401, with no body.
        let unauthorized = |reason: &str| {
            ResponseTemplate::new(401)
                .insert_header(REASON, reason)
                .set_delay(o.unauthorized_delay)
        };
        Mock::given(method("GET"))
            .and(header_exists("authorization"))
            .respond_with(unauthorized("Authentication failed!"))
            .with_priority(7)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(unauthorized("No ticket"))
            .with_priority(8)
            .mount(&server)
            .await;
        crate::refuse_writes(&server).await;
        if o.refuse_token {
            return ProxmoxCluster::front(server).await;
        }
        let answering = nodes.iter().find(|n| n.online).unwrap_or(&nodes[0]);
        authorized()
            .and(path("/api2/json/version"))
            .respond_with(data(
                json!({"version": answering.manager, "release": release(&answering.manager),
                                       "repoid": repoid(&answering.manager)}),
            ))
            .mount(&server)
            .await;
        let resources: Vec<Value> = nodes
            .iter()
            .map(|n| {
                let mut entry = json!({"id": format!("node/{}", n.name), "node": n.name, "type": "node",
                                       "status": if n.online { "online" } else { "offline" }, "level": ""});
                if n.online && !o.no_sys_audit {
                    for (k, v) in [
                        ("uptime", json!(864_000)),
                        ("cpu", json!(0.031)),
                        ("maxcpu", json!(16)),
                        ("mem", json!(12_884_901_888u64)),
                        ("maxmem", json!(67_108_864_000u64)),
                        ("disk", json!(9_663_676_416u64)),
                        ("maxdisk", json!(100_861_726_720u64)),
                        ("cgroup-mode", json!(2)),
                    ] {
                        entry[k] = v;
                    }
                }
                entry
            })
            .collect();
        authorized()
            .and(path("/api2/json/cluster/resources"))
            .and(query_param("type", "node"))
            .respond_with(data(Value::Array(resources)))
            .mount(&server)
            .await;
        let status = match &o.cluster {
            Some(name) => {
                let mut entries = vec![json!({"type": "cluster", "id": "cluster", "name": name, "version": 7,
                                              "nodes": nodes.len(), "quorate": i32::from(o.quorate)})];
                entries.extend(nodes.iter().enumerate().map(|(i, n)| {
                    json!({"type": "node", "id": format!("node/{}", n.name), "name": n.name, "nodeid": i + 1,
                           "local": i32::from(i == 0), "online": i32::from(n.online),
                           "ip": format!("10.0.0.{}", 11 + i), "level": ""})
                }));
                entries
            }
            None => vec![
                json!({"type": "node", "id": format!("node/{}", nodes[0].name), "name": nodes[0].name,
                                "ip": "10.0.0.10", "local": 1, "nodeid": 0, "online": 1, "level": ""}),
            ],
        };
        authorized()
            .and(path("/api2/json/cluster/status"))
            .respond_with(if o.no_sys_audit {
                forbidden("/, Sys.Audit")
            } else {
                data(Value::Array(status))
            })
            .mount(&server)
            .await;
        for n in &nodes {
            let base = format!("/api2/json/nodes/{}", n.name);
            // An offline node cannot answer what is proxied to it (pveproxy's 595).
            let unreachable = || {
                ResponseTemplate::new(595)
                    .insert_header(REASON, format!("Connection refused to {}:8006", n.name).as_str())
            };
            authorized()
                .and(path(format!("{base}/version")))
                .respond_with(if n.online {
                    data(json!({"version": n.manager, "release": release(&n.manager), "repoid": repoid(&n.manager)}))
                } else {
                    unreachable()
                })
                .mount(&server)
                .await;
            authorized()
                .and(path(format!("{base}/apt/versions")))
                .respond_with(if o.no_sys_audit {
                    forbidden(&format!("/nodes/{}, Sys.Audit", n.name))
                } else if n.online {
                    data(apt_versions(n))
                } else {
                    unreachable()
                })
                .mount(&server)
                .await;
        }
        let ceph: serde_json::Map<String, Value> = nodes
            .iter()
            .filter_map(|n| {
                let v = n.ceph.as_deref()?;
                let parts: Vec<&str> = v.split(['.', '-']).collect();
                Some((
                    n.name.clone(),
                    json!({"version": {"str": v, "parts": parts},
                           "buildcommit": "58a7fab8be0a062d730ad7da874972fd3fba59fb"}),
                ))
            })
            .collect();
        authorized()
            .and(path("/api2/json/cluster/ceph/metadata"))
            .and(query_param("scope", "versions"))
            .respond_with(if o.no_sys_audit {
                forbidden("/, Sys.Audit|Datastore.Audit")
            } else if ceph.is_empty() {
                data(json!({}))
            } else {
                data(json!({ "node": ceph }))
            })
            .mount(&server)
            .await;
        // Anything else the token may read but the fake does not know.
        authorized()
            .and(path_regex("^/api2/json/"))
            .respond_with(
                ResponseTemplate::new(501)
                    .insert_header(REASON, "Method 'GET' not implemented")
                    .set_body_raw(
                        r#"{"data":null,"message":"Method 'GET' not implemented\n"}"#,
                        "application/json;charset=UTF-8",
                    ),
            )
            .with_priority(6)
            .mount(&server)
            .await;
        ProxmoxCluster::front(server).await
    }

    /// Puts the reason-phrase front before `server`.
    async fn front(server: MockServer) -> ProxmoxCluster {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("a bound address");
        let upstream = format!("http://{}", server.address());
        let client: hyper_util::client::legacy::Client<_, hyper::body::Incoming> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(hyper_util::client::legacy::connect::HttpConnector::new());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (client, upstream) = (client.clone(), upstream.clone());
                let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let (client, upstream) = (client.clone(), upstream.clone());
                    async move {
                        let (mut parts, body) = request.into_parts();
                        let target = format!("{upstream}{}", parts.uri.path_and_query().map_or("/", |p| p.as_str()));
                        parts.uri = target.parse().expect("the fake's URL and a request path make a URI");
                        let mut response = client.request(hyper::Request::from_parts(parts, body)).await?;
                        if let Some(reason) = response.headers_mut().remove(REASON) {
                            if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(reason.as_bytes().to_vec()) {
                                response.extensions_mut().insert(phrase);
                            }
                        }
                        Ok::<_, hyper_util::client::legacy::Error>(response)
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        ProxmoxCluster { server, address }
    }

    /// The URL PROXMOX_VE_ENDPOINT takes (`http://127.0.0.1:PORT`; the real one is
    /// `https://NODE:8006`).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The raw answer to `GET path` with `auth` (none when empty).
    async fn raw(cluster: &ProxmoxCluster, path: &str, auth: &str) -> String {
        let mut tcp = tokio::net::TcpStream::connect(cluster.address).await.unwrap();
        let auth = if auth.is_empty() {
            String::new()
        } else {
            format!("Authorization: {auth}\r\n")
        };
        tcp.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test]
    async fn answers_like_pveproxy() {
        let mut o = ProxmoxOptions::cluster("8.4.1", "8.4.0").with_ceph("19.2.1");
        o.node_mut("pve3").online = false;
        let cluster = ProxmoxCluster::start(&o).await;
        let auth = format!("PVEAPIToken={}", token());
        let status = raw(&cluster, "/api2/json/cluster/status", &auth).await;
        assert!(status.starts_with("HTTP/1.1 200 OK"), "{status}");
        assert!(
            status.contains(r#""quorate":1"#) && status.contains(r#""online":0"#),
            "{status}"
        );
        let ceph = raw(&cluster, "/api2/json/cluster/ceph/metadata?scope=versions", &auth).await;
        assert!(ceph.contains(r#""parts":["19","2","1"]"#), "{ceph}");
        let none = raw(&cluster, "/api2/json/version", "").await;
        assert!(none.starts_with("HTTP/1.1 401 No ticket\r\n"), "{none}");
        assert!(none.ends_with("\r\n\r\n"), "an empty body: {none}");
        let bad = raw(&cluster, "/api2/json/version", "PVEAPIToken=preflight@pve!audit=wrong").await;
        assert!(bad.starts_with("HTTP/1.1 401 Authentication failed!\r\n"), "{bad}");
        let offline = raw(&cluster, "/api2/json/nodes/pve3/version", &auth).await;
        assert!(offline.starts_with("HTTP/1.1 595 Connection refused"), "{offline}");

        let mut o = ProxmoxOptions::standalone("8.4.1", "8.4.0");
        o.no_sys_audit = true;
        let standalone = ProxmoxCluster::start(&o).await;
        let apt = raw(&standalone, "/api2/json/nodes/pve/apt/versions", &auth).await;
        assert!(
            apt.starts_with("HTTP/1.1 403 Permission check failed (/nodes/pve, Sys.Audit)\r\n"),
            "{apt}"
        );
        assert!(
            apt.contains(r#"{"data":null,"message":"Permission check failed (/nodes/pve, Sys.Audit)\n"}"#),
            "{apt}"
        );
        let none = raw(&standalone, "/api2/json/cluster/ceph/metadata?scope=versions", &auth).await;
        assert!(none.starts_with("HTTP/1.1 403"), "{none}");
    }
}

//! A Backend.AI cluster on loopback (wiremock): the manager (`GET /`, `GET /manager/status`),
//! a storage proxy (`GET /`) and a web server (`GET /func/ping`), each on its own port, shaped
//! like lablup/backend.ai's answers (24.09.14 src/ai/backend/manager/server.py `hello`,
//! api/manager.py `fetch_manager_status`, storage/api/manager.py, web/server.py `/func/ping`;
//! the GraphQL `agents` field's superadmin check).

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// What the fake cluster reports.
#[derive(Debug, Clone, Default)]
pub struct BackendaiOptions {
    pub manager: String,
    pub storage_proxy: String,
    pub webserver: String,
    pub active_sessions: u64,
    /// (agent id, version) the GraphQL agent list reports (needs a signed request).
    pub agents: Vec<(String, String)>,
    /// The keypair is not a superadmin's: the agent list answers as upstream's
    /// `GenericForbidden("superadmin privilege required")` does (HTTP 200, `agents: null`).
    pub not_superadmin: bool,
}

/// The API version a manager of `version` reports in `GET /` (upstream `LATEST_API_VERSION`:
/// `v8.20240915` from 24.09 to 25.11, `v9.20250722` from 25.12).
fn api_version(version: &str) -> &'static str {
    let mut parts = version.split('.').map(|p| {
        p.trim_matches(|c: char| !c.is_ascii_digit())
            .parse::<u64>()
            .unwrap_or(0)
    });
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) >= (25, 12) {
        "v9.20250722"
    } else {
        "v8.20240915"
    }
}

/// The running fake components. Dropping it stops them.
pub struct BackendaiCluster {
    pub manager: MockServer,
    pub storage_proxy: MockServer,
    pub webserver: MockServer,
}

impl BackendaiCluster {
    /// Starts the three fake components on 127.0.0.1.
    pub async fn start(o: &BackendaiOptions) -> BackendaiCluster {
        let manager = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"version": api_version(&o.manager), "manager": o.manager})),
            )
            .mount(&manager)
            .await;
        Mock::given(method("GET"))
            .and(path("/manager/status"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "nodes": [{"id": "manager-1", "num_proc": 4, "service_addr": "0.0.0.0:8081", "heartbeat_timeout": 40.0,
                           "ssl_enabled": false, "active_sessions": o.active_sessions, "status": "running",
                           "version": o.manager, "api_version": [5, "20191215"]}],
                "status": "running", "active_sessions": o.active_sessions})))
            .mount(&manager)
            .await;
        let agents: Vec<serde_json::Value> = o
            .agents
            .iter()
            .map(|(id, v)| json!({"id": id, "status": "ALIVE", "version": v}))
            .chain(std::iter::once(
                json!({"id": "i-lost", "status": "LOST", "version": "22.09.1"}),
            ))
            .collect();
        Mock::given(method("POST"))
            .and(path("/admin/gql"))
            .and(wiremock::matchers::header_regex(
                "authorization",
                "^BackendAI signMethod=HMAC-SHA256, credential=[^:]+:[0-9a-f]{64}$",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(if o.not_superadmin {
                json!({"data": {"agents": null}, "errors": [{"message": "Forbidden operation. (superadmin privilege required)",
                        "locations": [{"line": 1, "column": 9}], "path": ["agents"]}]})
            } else {
                json!({"data": {"agents": agents}})
            }))
            .mount(&manager)
            .await;
        let storage_proxy = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"status": "ok", "type": "manager-facing", "storage-proxy": o.storage_proxy})),
            )
            .mount(&storage_proxy)
            .await;
        let webserver = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/func/ping"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"version": o.webserver, "details": "Success"})),
            )
            .mount(&webserver)
            .await;
        for server in [&manager, &storage_proxy, &webserver] {
            crate::refuse_writes(server).await;
        }
        BackendaiCluster {
            manager,
            storage_proxy,
            webserver,
        }
    }
}

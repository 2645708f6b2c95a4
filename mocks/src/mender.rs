//! A Mender Server management API on loopback (wiremock), shaped like mender-server's:
//! deviceauth `GET /api/management/v2/devauth/devices` (pages with `Link` headers),
//! inventory `GET /api/management/v1/inventory/devices` (pages with `X-Total-Count`), and
//! `POST /api/management/v1/useradm/auth/login` (HTTP Basic → a JWT). Every management call
//! needs `Authorization: Bearer <token>`. Shapes from mender-server v4.1.3/v4.0.4: deviceauth's
//! device fields and one `Link` header per rel (path-only, no `last`), inventory's relative
//! links (4.0.x) and `X-Total-Count`, the login's `application/jwt` body, and 401 bodies
//! `{"error": …, "request_id": …}` (backend/services/*/docs/*.yml, the REST handlers).

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The personal access token the fake server accepts.
pub const TOKEN: &str = "demo-mender-personal-access-token";
/// The user and password the fake login accepts.
pub const USER: (&str, &str) = ("admin@example.com", "demo-mender-password");

/// A fake fleet: device ids, which are decommissioning, and which inventory lacks.
#[derive(Debug, Clone)]
pub struct MenderFleet {
    pub devices: Vec<String>,
    pub decommissioning: Vec<String>,
    pub missing_from_inventory: Vec<String>,
}

impl MenderFleet {
    /// `n` devices; every 500th decommissioning, every 700th missing from inventory.
    pub fn generate(n: usize) -> MenderFleet {
        let devices: Vec<String> = (0..n).map(|i| format!("5f{i:022x}")).collect();
        let decommissioning = devices.iter().step_by(500).skip(1).cloned().collect();
        let missing_from_inventory = devices.iter().skip(3).step_by(700).cloned().collect();
        MenderFleet {
            devices,
            decommissioning,
            missing_from_inventory,
        }
    }
}

fn page_of(request: &Request) -> (usize, usize) {
    let q = |name: &str, default: usize| {
        request
            .url
            .query_pairs()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(default)
    };
    (q("page", 1).max(1), q("per_page", 20).clamp(1, 500))
}

struct DevAuth(MenderFleet);

impl Respond for DevAuth {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let (page, per_page) = page_of(request);
        let start = (page - 1) * per_page;
        let items: Vec<Value> = self
            .0
            .devices
            .iter()
            .skip(start)
            .take(per_page)
            .map(|id| {
                let identity = json!({"mac": "52:54:00:00:00:01"});
                json!({"id": id, "identity_data": identity, "status": "accepted",
                       "decommissioning": self.0.decommissioning.contains(id),
                       "created_ts": "2024-01-01T00:00:00Z", "updated_ts": "2024-01-01T00:00:00Z",
                       "auth_sets": [{"id": format!("as-{id}"), "identity_data": identity,
                                      "pubkey": "-----BEGIN PUBLIC KEY-----\nMIIBIjAN...\n-----END PUBLIC KEY-----\n",
                                      "ts": "2024-01-01T00:00:00Z", "status": "accepted"}]})
            })
            .collect();
        // One `Link` header per rel, path-only, first/prev/next and never last (upstream
        // backend/pkg/rest paging, as deviceauth v2 writes it).
        let link = |page: usize, rel: &str| {
            format!("</api/management/v2/devauth/devices?page={page}&per_page={per_page}>; rel=\"{rel}\"")
        };
        let mut response = ResponseTemplate::new(200).append_header("link", link(1, "first"));
        if page > 1 {
            response = response.append_header("link", link(page - 1, "prev"));
        }
        if start + per_page < self.0.devices.len() {
            response = response.append_header("link", link(page + 1, "next"));
        }
        response.set_body_json(items)
    }
}

struct Inventory(MenderFleet);

impl Respond for Inventory {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let (page, per_page) = page_of(request);
        let present: Vec<&String> = self
            .0
            .devices
            .iter()
            .filter(|d| !self.0.missing_from_inventory.contains(d))
            .collect();
        let items: Vec<Value> = present
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|id| {
                json!({"id": id, "attributes": [
                    {"name": "mac", "value": "52:54:00:00:00:01", "scope": "identity"},
                    {"name": "status", "value": "accepted", "scope": "identity"},
                    {"name": "device_type", "value": "raspberrypi4", "scope": "inventory"}],
                  "updated_ts": "2024-01-01T00:00:00Z"})
            })
            .collect();
        // 4.0.x writes relative links (`<devices?page=2&per_page=20>`).
        let mut response = ResponseTemplate::new(200)
            .insert_header("x-total-count", present.len().to_string())
            .append_header("link", format!("<devices?page=1&per_page={per_page}>; rel=\"first\""));
        if page * per_page < present.len() {
            response = response.append_header(
                "link",
                format!("<devices?page={}&per_page={per_page}>; rel=\"next\"", page + 1),
            );
        }
        response.set_body_json(items)
    }
}

/// A running fake Mender Server. Dropping it stops the server.
pub struct MenderServer {
    pub server: MockServer,
}

impl MenderServer {
    /// Starts the fake server on 127.0.0.1.
    pub async fn start(fleet: &MenderFleet) -> MenderServer {
        let server = MockServer::start().await;
        let bearer = format!("Bearer {TOKEN}");
        Mock::given(method("POST"))
            .and(path("/api/management/v1/useradm/auth/login"))
            .and(header("authorization", basic(USER.0, USER.1).as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_raw(TOKEN, "application/jwt"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/management/v2/devauth/devices"))
            .and(header("authorization", bearer.as_str()))
            .respond_with(DevAuth(fleet.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/management/v1/inventory/devices"))
            .and(header("authorization", bearer.as_str()))
            .respond_with(Inventory(fleet.clone()))
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::path_regex("^/api/"))
            .respond_with(
                ResponseTemplate::new(401)
                    .insert_header("www-authenticate", "Bearer realm=\"ManagementJWT\"")
                    .set_body_json(json!({"error": "invalid jwt", "request_id": "8c9a7b2e-demo"})),
            )
            .with_priority(10)
            .mount(&server)
            .await;
        // A login with other credentials: 401, as useradm answers.
        Mock::given(method("POST"))
            .and(path("/api/management/v1/useradm/auth/login"))
            .respond_with(
                ResponseTemplate::new(401)
                    .set_body_json(json!({"error": "unauthorized", "request_id": "8c9a7b2f-demo"})),
            )
            .with_priority(6)
            .mount(&server)
            .await;
        crate::refuse_writes(&server).await;
        MenderServer { server }
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        self.server.uri()
    }
}

/// `Basic base64(user:password)`.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

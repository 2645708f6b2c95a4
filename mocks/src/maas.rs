//! A MAAS region API 2.0 on loopback, shaped like the real one (upstream
//! src/maasserver/api/*.py, 3.2.0 and 3.7.3): every authenticated endpoint requires the OAuth 1.0
//! PLAINTEXT header of the configured API key and answers 401 otherwise; `version/` is anonymous.
//! Bodies are written as piston writes them (`json.dumps(..., ensure_ascii=False, indent=4)`).
//! Served: `version/`, `regioncontrollers/` (and `{id}/?op=power_parameters`),
//! `rackcontrollers/` (and `?op=power_parameters`), `machines/` (and bulk and per-machine
//! `op=power_parameters`), `pods/` (DISPLAYED_POD_FIELDS) and `pods/{id}/?op=parameters`.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use wiremock::matchers::{method, path, path_regex, query_param, query_param_is_missing};
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::fleet::Fleet;

/// The API key the fake region accepts.
pub const API_KEY: &str = "DemoConsumerKey:DemoTokenKey:DemoTokenSecret";

/// A controller the fake region lists.
#[derive(Debug, Clone, Default)]
pub struct FakeController {
    pub system_id: String,
    pub hostname: String,
    /// `None` serializes as `null` (a controller without a ControllerInfo row), `Some("")` one
    /// that has not reported yet.
    pub version: Option<String>,
    /// Its own BMC's power type (`""`: none, as commissioning leaves controllers).
    pub power_type: String,
    /// Its merged power parameters (`{}` for none).
    pub params: Map<String, Value>,
}

/// `value` as piston writes it: `json.dumps(value, ensure_ascii=False, indent=4)`.
pub fn piston(value: &Value) -> String {
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"    "));
    serde::Serialize::serialize(value, &mut ser).expect("a Value serializes");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// How the fake region behaves.
#[derive(Debug, Clone)]
pub struct MaasOptions {
    /// What `version/` reports.
    pub version: String,
    pub regions: Vec<FakeController>,
    pub racks: Vec<FakeController>,
    /// Answer the bulk power-parameters call with this status (e.g. 400) instead of the data.
    pub bulk_status: Option<u16>,
    /// Serve `machines/` with real-size machine objects (upstream's fields and nesting, about
    /// 16 KB each, indent=4) instead of the compact three-field list.
    pub real_size: bool,
}

impl MaasOptions {
    /// One region+rack controller and one more rack, all on `version`'s build except the second
    /// rack, which runs `rack_version`.
    pub fn mixed(version: &str, rack_version: &str) -> MaasOptions {
        let region = FakeController {
            system_id: "r3gn01".into(),
            hostname: "maas-region-1".into(),
            version: Some(format!("{version}-8611-g.f2514168f")),
            ..FakeController::default()
        };
        let rack = FakeController {
            system_id: "r4ck02".into(),
            hostname: "maas-rack-2".into(),
            version: Some(format!("{rack_version}-8602-g.0a1b2c3d4")),
            ..FakeController::default()
        };
        MaasOptions {
            version: version.into(),
            regions: vec![region.clone()],
            racks: vec![region, rack],
            bulk_status: None,
            real_size: false,
        }
    }
}

/// A controller listing, with the fields of upstream's DISPLAYED_RACK_CONTROLLER_FIELDS that
/// matter here (and a few more so the objects are not toy-sized).
/// `collection` is the listing's own path (`regioncontrollers`, `rackcontrollers`): piston
/// writes each object's `resource_uri` from the handler that lists it.
fn controllers_json(list: &[FakeController], options: &MaasOptions, collection: &str) -> Value {
    Value::Array(
        list.iter()
            .map(|c| {
                let region = options.regions.iter().any(|r| r.system_id == c.system_id);
                let rack = options.racks.iter().any(|r| r.system_id == c.system_id);
                let (node_type, node_type_name) = match (region, rack) {
                    (true, true) => (4, "Region and rack controller"),
                    (true, false) => (3, "Region controller"),
                    _ => (2, "Rack controller"),
                };
                json!({
                    "system_id": c.system_id, "hostname": c.hostname, "fqdn": format!("{}.maas", c.hostname),
                    "domain": {"authoritative": true, "ttl": null, "resource_record_count": 0, "name": "maas", "id": 0, "is_default": true, "resource_uri": "/MAAS/api/2.0/domains/0/"},
                    "version": c.version, "node_type": node_type, "node_type_name": node_type_name,
                    "power_type": c.power_type, "power_state": if c.power_type.is_empty() { "unknown" } else { "on" },
                    "architecture": "amd64/generic", "osystem": "ubuntu", "distro_series": "jammy",
                    "cpu_count": 8, "memory": 16384, "swap_size": null, "zone": {"name": "default", "description": "", "id": 1, "resource_uri": "/MAAS/api/2.0/zones/default/"},
                    "ip_addresses": ["10.0.0.2"], "tag_names": [], "owner_data": {}, "description": "",
                    "service_set": [{"name": "rackd", "status": "running", "status_info": ""}],
                    "resource_uri": format!("/MAAS/api/2.0/{collection}/{}/", c.system_id),
                })
            })
            .collect(),
    )
}

/// Answers `{collection}/{id}/?op=…` from a map of bodies by id (404 with MAAS's text otherwise).
struct ById {
    bodies: Arc<HashMap<String, String>>,
    missing: &'static str,
}

impl Respond for ById {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request
            .url
            .path()
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        match self.bodies.get(id) {
            Some(body) => ResponseTemplate::new(200).set_body_raw(body.clone(), "application/json"),
            None => ResponseTemplate::new(404).set_body_string(self.missing),
        }
    }
}

/// Matches requests whose `Authorization` header is the OAuth PLAINTEXT header of [`API_KEY`]
/// (any nonce and timestamp).
struct OAuthPlaintext {
    pattern: regex::Regex,
}

impl OAuthPlaintext {
    fn new(key: &str) -> Self {
        let mut parts = key.split(':');
        let (ck, tk, ts) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let pattern = format!(
            r#"^OAuth oauth_version="1\.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="{}", oauth_token="{}", oauth_signature="%26{}", oauth_nonce="[^"]+", oauth_timestamp="\d+"$"#,
            regex::escape(ck),
            regex::escape(tk),
            regex::escape(ts)
        );
        OAuthPlaintext {
            pattern: regex::Regex::new(&pattern).expect("valid pattern"),
        }
    }
}

impl Match for OAuthPlaintext {
    fn matches(&self, request: &Request) -> bool {
        request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| self.pattern.is_match(v))
    }
}

/// A running fake region. Dropping it stops the server.
pub struct MaasServer {
    pub server: MockServer,
}

impl MaasServer {
    /// Starts the fake region on 127.0.0.1 serving `fleet`.
    pub async fn start(fleet: &Fleet, options: &MaasOptions) -> MaasServer {
        let server = MockServer::start().await;
        let api = "/MAAS/api/2.0";
        let auth = || OAuthPlaintext::new(API_KEY);
        let json_body = |body: String| ResponseTemplate::new(200).set_body_raw(body, "application/json");

        Mock::given(method("GET"))
            .and(path(format!("{api}/version/")))
            .respond_with(json_body(
                piston(&json!({"capabilities": ["networks-management", "static-ipaddresses", "ipv6-deployment-ubuntu", "devices-management", "storage-deployment-ubuntu", "network-deployment-ubuntu", "bridging-interface-ubuntu", "bridging-automatic-ubuntu", "authenticate-api"], "version": options.version, "subversion": ""})),
            ))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{api}/regioncontrollers/")))
            .and(auth())
            .and(query_param_is_missing("op"))
            .respond_with(json_body(piston(&controllers_json(
                &options.regions,
                options,
                "regioncontrollers",
            ))))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{api}/rackcontrollers/")))
            .and(auth())
            .and(query_param_is_missing("op"))
            .respond_with(json_body(piston(&controllers_json(
                &options.racks,
                options,
                "rackcontrollers",
            ))))
            .mount(&server)
            .await;
        // PowersMixin on RackControllersHandler: {system_id: merged parameters}.
        let rack_params: Map<String, Value> = options
            .racks
            .iter()
            .map(|c| (c.system_id.clone(), Value::Object(c.params.clone())))
            .collect();
        Mock::given(method("GET"))
            .and(path(format!("{api}/rackcontrollers/")))
            .and(query_param("op", "power_parameters"))
            .and(auth())
            .respond_with(json_body(piston(&Value::Object(rack_params))))
            .mount(&server)
            .await;
        // Region controllers have the per-node operation only (NodeHandler.power_parameters).
        let region_params: HashMap<String, String> = options
            .regions
            .iter()
            .map(|c| (c.system_id.clone(), piston(&Value::Object(c.params.clone()))))
            .collect();
        Mock::given(method("GET"))
            .and(path_regex(r"^/MAAS/api/2\.0/regioncontrollers/[a-z0-9]+/$"))
            .and(query_param("op", "power_parameters"))
            .and(auth())
            .respond_with(ById {
                bodies: Arc::new(region_params),
                missing: "No RegionController matches the given query.",
            })
            .mount(&server)
            .await;
        // VM hosts: pods are BMC rows of bmc_type 1; their id is the row's id.
        let (rows, _) = fleet.bmc_rows();
        let pods: Vec<&crate::fleet::BmcRow> = rows.iter().filter(|r| r.bmc_type == 1).collect();
        let listing: Vec<Value> = pods
            .iter()
            .map(|p| {
                json!({
                    "id": p.id, "name": p.name, "tags": [], "type": p.power_type,
                    "architectures": ["amd64/generic"], "capabilities": ["composable", "dynamic_local_storage", "over_commit", "storage_pools"],
                    "total": {"cores": 32, "memory": 131072, "local_storage": 1_000_000_000_000_i64},
                    "used": {"cores": 4, "memory": 8192, "local_storage": 50_000_000_000_i64},
                    "available": {"cores": 28, "memory": 122880, "local_storage": 950_000_000_000_i64},
                    "zone": {"name": "default", "description": "", "id": 1, "resource_uri": "/MAAS/api/2.0/zones/default/"},
                    "cpu_over_commit_ratio": 1.0, "memory_over_commit_ratio": 1.0, "storage_pools": [],
                    "pool": {"name": "default", "description": "Default pool", "id": 0, "resource_uri": "/MAAS/api/2.0/resourcepool/0/"},
                    "host": {"system_id": null, "__incomplete__": true}, "default_macvlan_mode": null, "version": "",
                    "resource_uri": format!("/MAAS/api/2.0/pods/{}/", p.id),
                })
            })
            .collect();
        Mock::given(method("GET"))
            .and(path(format!("{api}/pods/")))
            .and(auth())
            .respond_with(json_body(piston(&Value::Array(listing))))
            .mount(&server)
            .await;
        let pod_params: HashMap<String, String> = pods.iter().map(|p| (p.id.to_string(), piston(&p.params))).collect();
        Mock::given(method("GET"))
            .and(path_regex(r"^/MAAS/api/2\.0/pods/[0-9]+/$"))
            .and(query_param("op", "parameters"))
            .and(auth())
            .respond_with(ById {
                bodies: Arc::new(pod_params),
                missing: "No Pod matches the given query.",
            })
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{api}/machines/")))
            .and(query_param_is_missing("op"))
            .and(auth())
            .respond_with(json_body(if options.real_size {
                fleet.machines_json_real()
            } else {
                fleet.machines_json()
            }))
            .mount(&server)
            .await;
        let bulk = match options.bulk_status {
            Some(status) => {
                ResponseTemplate::new(status).set_body_string("Unrecognised signature: method=GET op=power_parameters")
            }
            None => json_body(piston(
                &serde_json::from_str(&fleet.power_parameters_json()).expect("the fleet writes valid JSON"),
            )),
        };
        Mock::given(method("GET"))
            .and(path(format!("{api}/machines/")))
            .and(query_param("op", "power_parameters"))
            .and(auth())
            .respond_with(bulk)
            .mount(&server)
            .await;
        let per_machine: HashMap<String, String> = fleet
            .machines
            .iter()
            .map(|m| (m.system_id.clone(), piston(&Value::Object(m.params.clone()))))
            .collect();
        Mock::given(method("GET"))
            .and(path_regex(r"^/MAAS/api/2\.0/machines/[a-z0-9]+/$"))
            .and(query_param("op", "power_parameters"))
            .and(auth())
            .respond_with(ById {
                bodies: Arc::new(per_machine),
                missing: "No Machine matches the given query.",
            })
            .mount(&server)
            .await;
        // Anything else under the API without a valid key: 401, as MAAS answers.
        Mock::given(path_regex(r"^/MAAS/api/2\.0/"))
            .respond_with(
                ResponseTemplate::new(401)
                    .set_body_string("Authorization Error: 'Expired timestamp' or invalid credentials"),
            )
            .with_priority(10)
            .mount(&server)
            .await;
        crate::refuse_writes(&server).await;
        MaasServer { server }
    }

    /// The URL `maas login` would take: `http://127.0.0.1:PORT/MAAS`.
    pub fn maas_url(&self) -> String {
        format!("{}/MAAS", self.server.uri())
    }
}

/// A front on 127.0.0.1 for a [`MaasServer`] that answers the authenticated `GET machines/`
/// itself, from one shared buffer, and passes every other request to the fake region as it
/// came (hyper on both sides). wiremock copies a body twice for every answer (the template,
/// then the response): for 50,000 real-size machines that is 2 × 840 MB written to fresh memory
/// before the first byte, most of what a scan of such a fake region used to wait for. The bytes
/// served are the same.
pub struct MachinesFront {
    /// The front's address.
    pub address: std::net::SocketAddr,
}

/// An answer of the front: the shared machine list, or the fake region's own answer.
type FrontBody = http_body_util::combinators::BoxBody<bytes::Bytes, hyper::Error>;

/// The client the front passes requests on with.
type Upstream =
    hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, hyper::body::Incoming>;

impl MachinesFront {
    /// Starts a front for `server`, answering `machines/` with `body`.
    pub async fn start(server: &MaasServer, body: Vec<u8>) -> MachinesFront {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("a bound address");
        let upstream = format!("http://{}", server.server.address());
        let body = bytes::Bytes::from(body);
        let auth = Arc::new(OAuthPlaintext::new(API_KEY));
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.set_nodelay(true);
        let client: Upstream =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let (body, auth, client, upstream) = (body.clone(), auth.clone(), client.clone(), upstream.clone());
                let service = hyper::service::service_fn(move |request| {
                    answer(request, body.clone(), auth.clone(), client.clone(), upstream.clone())
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        MachinesFront { address }
    }

    /// The URL `maas login` would take: `http://127.0.0.1:PORT/MAAS`.
    pub fn maas_url(&self) -> String {
        format!("http://{}/MAAS", self.address)
    }
}

/// One request to the front: `machines/` (authorized, no query) from `body`, anything else
/// from the fake region.
async fn answer(
    request: hyper::Request<hyper::body::Incoming>,
    body: bytes::Bytes,
    auth: Arc<OAuthPlaintext>,
    client: Upstream,
    upstream: String,
) -> Result<hyper::Response<FrontBody>, hyper_util::client::legacy::Error> {
    use http_body_util::BodyExt;
    let authorized = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| auth.pattern.is_match(v));
    if request.method() == hyper::Method::GET
        && request.uri().path() == "/MAAS/api/2.0/machines/"
        && request.uri().query().is_none()
        && authorized
    {
        let full = http_body_util::Full::new(body).map_err(|never| match never {}).boxed();
        let mut response = hyper::Response::new(full);
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        return Ok(response);
    }
    let (mut parts, incoming) = request.into_parts();
    let target = format!("{upstream}{}", parts.uri.path_and_query().map_or("/", |p| p.as_str()));
    parts.uri = target
        .parse()
        .expect("the fake region's URL and a request path make a URI");
    let response = client.request(hyper::Request::from_parts(parts, incoming)).await?;
    Ok(response.map(BodyExt::boxed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn the_front_answers_like_the_fake_region() {
        let fleet = Fleet::generate(20, 3);
        let server = MaasServer::start(&fleet, &MaasOptions::mixed("3.2.9", "3.2.9")).await;
        let front = MachinesFront::start(&server, fleet.machines_json().into_bytes()).await;
        let auth = "OAuth oauth_version=\"1.0\", oauth_signature_method=\"PLAINTEXT\", oauth_consumer_key=\"DemoConsumerKey\", oauth_token=\"DemoTokenKey\", oauth_signature=\"%26DemoTokenSecret\", oauth_nonce=\"1\", oauth_timestamp=\"1\"";
        let client: hyper_util::client::legacy::Client<_, http_body_util::Empty<bytes::Bytes>> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let ask = |base: String, path: &str, auth: &str| {
            let request = hyper::Request::get(format!("{base}/MAAS/api/2.0/{path}"))
                .header("authorization", auth)
                .body(http_body_util::Empty::new())
                .unwrap();
            let client = client.clone();
            async move {
                let response = client.request(request).await.unwrap();
                let status = response.status();
                (status, response.into_body().collect().await.unwrap().to_bytes())
            }
        };
        let direct = format!("http://{}", server.server.address());
        let fronted = format!("http://{}", front.address);
        for (path, auth) in [
            ("machines/", auth),
            ("version/", ""),
            ("machines/?op=power_parameters", auth),
            ("machines/", "OAuth wrong"),
            ("machines/", auth),
        ] {
            let got = ask(fronted.clone(), path, auth).await;
            let want = ask(direct.clone(), path, auth).await;
            assert_eq!(got, want, "{path}");
        }
    }
}

//! A MAAS region API 2.0 on loopback, shaped like the real one (upstream
//! src/maasserver/api/*.py): every authenticated endpoint requires the OAuth 1.0 PLAINTEXT
//! header of the configured API key and answers 401 otherwise; `version/` is anonymous.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex, query_param, query_param_is_missing};
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::fleet::Fleet;

/// The API key the fake region accepts.
pub const API_KEY: &str = "DemoConsumerKey:DemoTokenKey:DemoTokenSecret";

/// A controller the fake region lists.
#[derive(Debug, Clone)]
pub struct FakeController {
    pub system_id: String,
    pub hostname: String,
    /// `None` serializes as `null` (a controller that has not reported).
    pub version: Option<String>,
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
}

impl MaasOptions {
    /// One region+rack controller and one more rack, all on `version`'s build except the second
    /// rack, which runs `rack_version`.
    pub fn mixed(version: &str, rack_version: &str) -> MaasOptions {
        let region = FakeController {
            system_id: "r3gn01".into(),
            hostname: "maas-region-1".into(),
            version: Some(format!("{version}-8611-g.f2514168f")),
        };
        let rack = FakeController {
            system_id: "r4ck02".into(),
            hostname: "maas-rack-2".into(),
            version: Some(format!("{rack_version}-8602-g.0a1b2c3d4")),
        };
        MaasOptions {
            version: version.into(),
            regions: vec![region.clone()],
            racks: vec![region, rack],
            bulk_status: None,
        }
    }
}

fn controllers_json(list: &[FakeController]) -> Value {
    Value::Array(
        list.iter()
            .map(|c| {
                json!({
                    "system_id": c.system_id, "hostname": c.hostname, "fqdn": format!("{}.maas", c.hostname),
                    "version": c.version, "node_type_name": "Region and rack controller",
                    "service_set": [{"name": "rackd", "status": "running", "status_info": ""}],
                })
            })
            .collect(),
    )
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

/// Answers `machines/{id}/?op=power_parameters` from a map (one mock for every machine).
struct PerMachine {
    params: Arc<HashMap<String, String>>,
}

impl Respond for PerMachine {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request
            .url
            .path()
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        match self.params.get(id) {
            Some(body) => ResponseTemplate::new(200).set_body_raw(body.clone(), "application/json"),
            None => ResponseTemplate::new(404).set_body_string("No Machine matches the given query."),
        }
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
                json!({"capabilities": ["networks-management", "static-ipaddresses", "ipv6-deployment-ubuntu", "devices-management", "storage-deployment-ubuntu", "network-deployment-ubuntu", "bridging-interface-ubuntu", "bridging-automatic-ubuntu", "authenticate-api"], "version": options.version, "subversion": ""}).to_string(),
            ))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{api}/regioncontrollers/")))
            .and(auth())
            .respond_with(json_body(controllers_json(&options.regions).to_string()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{api}/rackcontrollers/")))
            .and(auth())
            .respond_with(json_body(controllers_json(&options.racks).to_string()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{api}/machines/")))
            .and(query_param_is_missing("op"))
            .and(auth())
            .respond_with(json_body(fleet.machines_json()))
            .mount(&server)
            .await;
        let bulk = match options.bulk_status {
            Some(status) => {
                ResponseTemplate::new(status).set_body_string("Unrecognised signature: method=GET op=power_parameters")
            }
            None => json_body(fleet.power_parameters_json()),
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
            .map(|m| (m.system_id.clone(), Value::Object(m.params.clone()).to_string()))
            .collect();
        Mock::given(method("GET"))
            .and(path_regex(r"^/MAAS/api/2\.0/machines/[a-z0-9]+/$"))
            .and(query_param("op", "power_parameters"))
            .and(auth())
            .respond_with(PerMachine {
                params: Arc::new(per_machine),
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

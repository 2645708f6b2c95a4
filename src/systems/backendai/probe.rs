//! The Backend.AI probe (FACTS.md §4; lablup/backend.ai): versions of the manager (`GET /`),
//! its nodes and the active compute sessions (`GET /manager/status`), the storage proxy
//! (`GET /`), the web server (`GET /func/ping`), and with a keypair the agents
//! (`POST /admin/gql`, `query { agents { id status version } }`, a read). Requests are signed
//! with the keypair from BACKENDAI_ACCESS_KEY / BACKENDAI_SECRET_KEY when given (superadmin; the
//! status needs it from 26.x), as the upstream client signs (docs/manager/common-api/auth.rst).

use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::config::BackendaiConfig;
use crate::config::Secret;
use crate::core::probed::{ErrorKind, ProbeError};
use crate::net::http::{anonymous, Http};
use crate::systems::backendai::facts::{AgentVersions, BackendaiState};
use crate::version::Version;

/// The manager's `GET /` answer (wire shape).
#[derive(Deserialize)]
pub struct ManagerRoot {
    #[serde(default)]
    version: Option<String>,
    manager: String,
}

/// The manager's `GET /manager/status` answer (wire shape).
#[derive(Deserialize)]
pub struct Status {
    #[serde(default)]
    nodes: Vec<Node>,
    active_sessions: u64,
}

#[derive(Deserialize)]
struct Node {
    #[serde(default)]
    id: Option<String>,
    version: String,
}

#[derive(Deserialize)]
struct StorageProxyRoot {
    #[serde(rename = "storage-proxy")]
    storage_proxy: String,
}

#[derive(Deserialize)]
struct Ping {
    version: String,
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The signature of one request without a body (API versions since v4.20181215 sign an empty
/// body): `(X-BackendAI-Date, Authorization)`. `path` includes the query string; `now` is the
/// request time in UTC; `api_version` goes into `X-BackendAI-Version`.
pub fn sign(
    method: &str,
    path: &str,
    host: &str,
    now: time::OffsetDateTime,
    api_version: &str,
    access_key: &str,
    secret_key: &Secret,
) -> (String, HeaderValue) {
    let date = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let day = format!("{:04}{:02}{:02}", now.year(), u8::from(now.month()), now.day());
    let body_hash = hex(&Sha256::digest(b""));
    let to_sign = format!("{method}\n{path}\n{date}\nhost:{host}\ncontent-type:application/json\nx-backendai-version:{api_version}\n{body_hash}");
    let sign_key = hmac_sha256(
        &hmac_sha256(secret_key.expose().as_bytes(), day.as_bytes()),
        host.as_bytes(),
    );
    let signature = hex(&hmac_sha256(&sign_key, to_sign.as_bytes()));
    let mut auth = HeaderValue::from_str(&format!(
        "BackendAI signMethod=HMAC-SHA256, credential={access_key}:{signature}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("BackendAI"));
    auth.set_sensitive(true);
    (date, auth)
}

/// Signs requests with a keypair (upstream's scheme, as in [`sign`]).
struct Signer {
    access_key: String,
    secret_key: Secret,
    api_version: String,
}

impl Signer {
    /// The signed headers for `method` on `url`, dated now.
    fn headers(&self, method: &str, url: &Url) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let Some(host) = url.host_str().map(|h| match url.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_string(),
        }) else {
            return headers;
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let now = time::OffsetDateTime::now_utc();
        let (date, authorization) = sign(
            method,
            &path,
            &host,
            now,
            &self.api_version,
            &self.access_key,
            &self.secret_key,
        );
        if let Ok(date) = HeaderValue::from_str(&date) {
            headers.insert(HeaderName::from_static("x-backendai-date"), date);
        }
        if let Ok(version) = HeaderValue::from_str(&self.api_version) {
            headers.insert(HeaderName::from_static("x-backendai-version"), version);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(AUTHORIZATION, authorization);
        headers
    }
}

/// The answer to the agent-list GraphQL query (wire shape).
#[derive(Deserialize)]
pub struct GqlAnswer {
    #[serde(default)]
    data: Option<GqlAgents>,
    #[serde(default)]
    errors: Vec<GqlError>,
}

/// `data`: `agents` is null when the query was refused (the reason is in `errors`).
#[derive(Deserialize)]
struct GqlAgents {
    #[serde(default)]
    agents: Option<Vec<Agent>>,
}

#[derive(Deserialize)]
struct Agent {
    id: String,
    status: String,
    version: String,
}

#[derive(Deserialize)]
struct GqlError {
    message: String,
}

fn endpoint(url: &str, what: &str) -> Result<Url, ProbeError> {
    let mut u = Url::parse(url.trim())
        .map_err(|_| ProbeError::new(ErrorKind::Config, format!("{what} '{url}' is not a valid URL")))?;
    if !u.path().ends_with('/') {
        let path = format!("{}/", u.path());
        u.set_path(&path);
    }
    Ok(u)
}

/// Reads every configured component.
///
/// # Errors
/// Why the manager cannot be read (the other components' failures are errors too: a version
/// that cannot be read cannot be compared), with its kind.
pub async fn probe(http: &Http, config: &BackendaiConfig) -> Result<BackendaiState, ProbeError> {
    let manager_url = endpoint(
        config
            .manager_url
            .as_deref()
            .ok_or_else(|| ProbeError::new(ErrorKind::Config, "no Backend.AI manager URL"))?,
        "BACKENDAI_ENDPOINT",
    )?;
    let root: ManagerRoot = http.get_json(&manager_url, &anonymous).await?;
    let manager = Version::parse(&root.manager).map_err(|e| {
        ProbeError::new(
            ErrorKind::BadAnswer,
            format!("the manager reports version '{}': {e}", root.manager),
        )
    })?;
    let mut components = vec![("manager".to_string(), root.manager.clone())];

    let status_url = manager_url.join("manager/status").map_err(ProbeError::config)?;
    let signer = match (&config.access_key, &config.secret_key) {
        (Some(ak), Some(sk)) => Some(Signer {
            access_key: ak.clone(),
            secret_key: sk.clone(),
            api_version: root.version.clone().unwrap_or_else(|| "v8.20240915".into()),
        }),
        _ => None,
    };
    let auth = || {
        signer
            .as_ref()
            .map_or_else(HeaderMap::new, |s| s.headers("GET", &status_url))
    };
    let mut manager_nodes = 0;
    let active_sessions = match http.get_json::<Status>(&status_url, &auth).await {
        Ok(status) => {
            manager_nodes = status.nodes.len();
            for (i, n) in status.nodes.iter().enumerate() {
                let name = n.id.clone().unwrap_or_else(|| format!("manager node {}", i + 1));
                components.push((name, n.version.clone()));
            }
            Ok(status.active_sessions)
        }
        Err(e) if matches!(e.status(), Some(401 | 403)) => Err(ProbeError::from(e).reworded(|e| {
            format!(
                "{e} — /manager/status needs a superadmin keypair: set BACKENDAI_ACCESS_KEY and BACKENDAI_SECRET_KEY"
            )
        })),
        Err(e) => Err(e.into()),
    };

    let agents = match &signer {
        None => AgentVersions::NoKeypair,
        Some(signer) => {
            let gql = manager_url.join("admin/gql").map_err(ProbeError::config)?;
            let auth = || signer.headers("POST", &gql);
            let query = serde_json::json!({"query": "query { agents { id status version } }"});
            match http.post_query::<GqlAnswer>(&gql, &auth, &query).await {
                Ok(GqlAnswer {
                    data: Some(GqlAgents { agents: Some(agents) }),
                    errors,
                }) if errors.is_empty() => {
                    let alive: Vec<&Agent> = agents
                        .iter()
                        .filter(|a| a.status.eq_ignore_ascii_case("alive"))
                        .collect();
                    for a in &alive {
                        components.push((format!("agent {}", a.id), a.version.clone()));
                    }
                    AgentVersions::Read(alive.len())
                }
                Ok(GqlAnswer { errors, .. }) if !errors.is_empty() => AgentVersions::Failed(ProbeError::new(
                    ErrorKind::Forbidden,
                    format!(
                        "the agent list (POST /admin/gql) was refused by the manager: {}",
                        errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ")
                    ),
                )),
                Ok(_) => AgentVersions::Failed(ProbeError::new(
                    ErrorKind::BadAnswer,
                    "the agent list (POST /admin/gql) answered without agents and without an error",
                )),
                Err(e) => AgentVersions::Failed(
                    ProbeError::from(e).reworded(|e| format!("the agent list could not be read: {e}")),
                ),
            }
        }
    };

    if let Some(url) = &config.storage_proxy_url {
        let url = endpoint(url, "[backendai] storage_proxy_url")?;
        let root: StorageProxyRoot = http.get_json(&url, &anonymous).await?;
        components.push(("storage-proxy".into(), root.storage_proxy));
    }
    if let Some(url) = &config.webserver_url {
        let url = endpoint(url, "[backendai] webserver_url")?
            .join("func/ping")
            .map_err(ProbeError::config)?;
        let ping: Ping = http.get_json(&url, &anonymous).await?;
        components.push(("webserver".into(), ping.version));
    }
    Ok(BackendaiState {
        manager,
        manager_nodes,
        components,
        active_sessions,
        agents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_deterministic_and_hides_the_secret() {
        let now = time::OffsetDateTime::from_unix_timestamp(1_475_198_625).unwrap();
        let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into());
        let sign_once = || {
            sign(
                "GET",
                "/manager/status",
                "manager:8081",
                now,
                "v8.20240915",
                "AKIAIOSFODNN7EXAMPLE",
                &secret,
            )
        };
        let (date, a) = sign_once();
        let (_, b) = sign_once();
        assert_eq!(date, "2016-09-30T01:23:45+00:00");
        assert_eq!(a, b);
        let text = a.to_str().unwrap();
        assert!(text.starts_with("BackendAI signMethod=HMAC-SHA256, credential=AKIAIOSFODNN7EXAMPLE:"));
        assert_eq!(text.rsplit(':').next().unwrap().len(), 64);
        assert!(!text.contains("wJalrXUtnFEMI"));
        assert!(a.is_sensitive());
    }
}

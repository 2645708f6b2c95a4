//! The MAAS region API 2.0 probe (upstream src/maasserver/api/*.py; FACTS.md §1.3).
//!
//! Auth is OAuth 1.0 PLAINTEXT as the maas CLI and python-libmaas send it, built fresh for every
//! request. Reads: `version/` (anonymous), `regioncontrollers/`, `rackcontrollers/`, `machines/`
//! and `machines/?op=power_parameters` (admin only). When the bulk power-parameters call is
//! refused with 400 or 404, it falls back to `machines/{id}/?op=power_parameters` per machine,
//! with bounded concurrency and a progress bar (stderr, TTY only).
//!
//! Power parameters (which hold BMC passwords) are parsed entry by entry with serde's streaming
//! visitor and reduced at once to [`MachinePower`] fingerprints: no password outlives its entry.

use std::collections::HashMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::Rng;
use reqwest::header::HeaderValue;
use reqwest::Url;
use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use thiserror::Error;

use super::http::{display_url, json_error, Http, HttpError};
use crate::checks::bmc::{BmcRules, MachinePower};
use crate::config::Secret;

/// RFC 5849 §3.6: everything but ALPHA, DIGIT, `-`, `.`, `_`, `~` is percent-encoded.
const OAUTH_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A MAAS API key, `consumer_key:token_key:token_secret` (the consumer secret is empty).
/// Debug output hides every part.
#[derive(Clone)]
pub struct ApiKey {
    consumer_key: String,
    token_key: String,
    token_secret: String,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// An API key that does not have three `:`-separated parts. Never repeats the key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the MAAS API key must look like consumer_key:token_key:token_secret (3 parts separated by ':'), but it has {parts} part(s); copy it from the MAAS UI (user preferences → API keys) or `maas apikey --username $USER`")]
pub struct ApiKeyError {
    pub parts: usize,
}

impl ApiKey {
    /// Parses a key; surrounding whitespace (a trailing newline in a key file) is ignored.
    ///
    /// # Errors
    /// [`ApiKeyError`] when the key does not have exactly three non-empty parts.
    pub fn parse(key: &Secret) -> Result<ApiKey, ApiKeyError> {
        let parts: Vec<&str> = key.expose().trim().split(':').collect();
        match parts.as_slice() {
            [ck, tk, ts] if !ck.is_empty() && !tk.is_empty() && !ts.is_empty() => Ok(ApiKey {
                consumer_key: (*ck).to_string(),
                token_key: (*tk).to_string(),
                token_secret: (*ts).to_string(),
            }),
            _ => Err(ApiKeyError { parts: parts.len() }),
        }
    }

    /// The `Authorization` header value for one request (FACTS.md §1.3):
    /// `OAuth oauth_version="1.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="<ck>",
    /// oauth_token="<tk>", oauth_signature="%26<ts>", oauth_nonce="<random>",
    /// oauth_timestamp="<unix seconds>"`. Values are percent-encoded per RFC 5849; the PLAINTEXT
    /// signature is `&` + token secret (empty consumer secret). Marked sensitive so no logger
    /// prints it.
    pub fn authorization(&self, nonce: &str, timestamp: u64) -> HeaderValue {
        let enc = |s: &str| utf8_percent_encode(s, OAUTH_ENCODE).to_string();
        let text = format!(
            "OAuth oauth_version=\"1.0\", oauth_signature_method=\"PLAINTEXT\", oauth_consumer_key=\"{}\", oauth_token=\"{}\", oauth_signature=\"{}\", oauth_nonce=\"{}\", oauth_timestamp=\"{}\"",
            enc(&self.consumer_key),
            enc(&self.token_key),
            enc(&format!("&{}", self.token_secret)),
            enc(nonce),
            timestamp
        );
        let mut value =
            HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("OAuth"));
        value.set_sensitive(true);
        value
    }

    /// [`ApiKey::authorization`] with a random nonce and the current time.
    pub fn fresh_authorization(&self) -> HeaderValue {
        let nonce: u64 = rand::thread_rng().gen();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.authorization(&nonce.to_string(), now)
    }
}

/// `GET version/`.
#[derive(Debug, Clone, Deserialize)]
struct VersionInfo {
    version: String,
    #[serde(default)]
    subversion: Option<String>,
}

/// A region or rack controller as `regioncontrollers/` and `rackcontrollers/` list it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Controller {
    pub system_id: String,
    #[serde(default)]
    pub hostname: String,
    /// e.g. `3.4.0-14321-g.1027c7664`; `null` while the controller has not reported.
    #[serde(default)]
    pub version: Option<String>,
}

/// A machine as `GET machines/` lists it (only the fields preflight reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Machine {
    pub system_id: String,
    #[serde(default)]
    pub hostname: String,
    /// Empty when MAAS has none set.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub power_type: String,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// How the power parameters were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerSource {
    /// One `machines/?op=power_parameters` call.
    Bulk,
    /// One call per machine (bulk refused with 400/404).
    PerMachine,
}

/// What the API told about this MAAS.
#[derive(Debug, Clone)]
pub struct MaasApiFacts {
    /// URL of the API as configured (credentials removed).
    pub url: String,
    /// Region version from `version/` (e.g. `3.4.2`), `None` if it sent an empty string.
    pub version: Option<String>,
    pub regions: Vec<Controller>,
    pub racks: Vec<Controller>,
    pub machines: Vec<Machine>,
    /// One entry per machine that has power parameters in the answer.
    pub power: Vec<MachinePower>,
    pub power_source: PowerSource,
}

/// Why the MAAS probe failed (each text names the cause and the next step).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MaasError {
    #[error(
        "MAAS rejected the API key (HTTP 401) at {url}; check MAAS_API_KEY / MAAS_API_KEY_FILE"
    )]
    Unauthorized { url: String },
    #[error("the MAAS user of this API key is not an administrator: {what} needs admin privilege (HTTP 403 at {url}); use an admin's API key")]
    NotAdmin { what: &'static str, url: String },
    #[error("{0}")]
    Http(#[from] HttpError),
    #[error("MAAS_URL '{0}' is not a valid URL (expected e.g. http://10.0.0.2:5240/MAAS)")]
    BadUrl(String),
    #[error("power parameters of machine {system_id} at {url} are not a JSON object")]
    NotAnObject { system_id: String, url: String },
}

/// The MAAS API client for one region.
pub struct MaasApi<'a> {
    http: &'a Http,
    base: Url,
    key: Option<ApiKey>,
    concurrency: usize,
}

impl<'a> MaasApi<'a> {
    /// `maas_url` is what `maas login` takes (`http://host:5240/MAAS`); `api/2.0/...` is
    /// appended to it.
    ///
    /// # Errors
    /// [`MaasError::BadUrl`] when the URL does not parse.
    pub fn new(
        http: &'a Http,
        maas_url: &str,
        key: Option<ApiKey>,
        concurrency: usize,
    ) -> Result<Self, MaasError> {
        let mut base =
            Url::parse(maas_url.trim()).map_err(|_| MaasError::BadUrl(maas_url.to_string()))?;
        if base.cannot_be_a_base() {
            return Err(MaasError::BadUrl(maas_url.to_string()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let base = base
            .join("api/2.0/")
            .map_err(|_| MaasError::BadUrl(maas_url.to_string()))?;
        Ok(MaasApi {
            http,
            base,
            key,
            concurrency: concurrency.max(1),
        })
    }

    fn url(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("API paths are valid relative URLs")
    }

    fn auth(&self) -> impl Fn() -> Option<HeaderValue> + Sync + '_ {
        move || self.key.as_ref().map(ApiKey::fresh_authorization)
    }

    fn explain(&self, e: HttpError, url: &Url, what: &'static str) -> MaasError {
        match e.status() {
            Some(401) => MaasError::Unauthorized {
                url: display_url(url),
            },
            Some(403) => MaasError::NotAdmin {
                what,
                url: display_url(url),
            },
            _ => MaasError::Http(e),
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        what: &'static str,
    ) -> Result<T, MaasError> {
        let url = self.url(path);
        self.http
            .get_json(&url, &self.auth())
            .await
            .map_err(|e| self.explain(e, &url, what))
    }

    /// Reads everything preflight needs from the API. `rules` reduces power parameters to
    /// fingerprints as they stream in.
    ///
    /// # Errors
    /// The first failing call, as a [`MaasError`].
    pub async fn probe(&self, rules: &BmcRules) -> Result<MaasApiFacts, MaasError> {
        let (version, regions, racks, machines) = tokio::try_join!(
            self.get::<VersionInfo>("version/", "reading the version"),
            self.get::<Vec<Controller>>("regioncontrollers/", "listing region controllers"),
            self.get::<Vec<Controller>>("rackcontrollers/", "listing rack controllers"),
            self.get::<Vec<Machine>>("machines/", "listing machines"),
        )?;
        let types: HashMap<&str, &str> = machines
            .iter()
            .map(|m| (m.system_id.as_str(), m.power_type.as_str()))
            .collect();
        let (power, power_source) = match self.bulk_power(rules, &types).await {
            Ok(power) => (power, PowerSource::Bulk),
            Err(MaasError::Http(e)) if matches!(e.status(), Some(400 | 404)) => {
                tracing::info!("bulk power parameters refused ({e}); reading them per machine");
                (
                    self.per_machine_power(rules, &machines).await?,
                    PowerSource::PerMachine,
                )
            }
            Err(e) => return Err(e),
        };
        let version = Some(version.version.trim().to_string())
            .filter(|v| !v.is_empty())
            .map(|v| match version.subversion.as_deref().map(str::trim) {
                Some(sub) if !sub.is_empty() && !v.contains(sub) => format!("{v}-{sub}"),
                _ => v,
            });
        Ok(MaasApiFacts {
            url: display_url(&self.base),
            version,
            regions,
            racks,
            machines,
            power,
            power_source,
        })
    }

    async fn bulk_power(
        &self,
        rules: &BmcRules,
        types: &HashMap<&str, &str>,
    ) -> Result<Vec<MachinePower>, MaasError> {
        const WHAT: &str = "reading power parameters (machines/?op=power_parameters)";
        let url = self.url("machines/?op=power_parameters");
        let body = self
            .http
            .get_bytes(&url, &self.auth())
            .await
            .map_err(|e| self.explain(e, &url, WHAT))?;
        let mut out = Vec::with_capacity(types.len());
        read_power_parameters(&body, |system_id, params| {
            let power_type = types.get(system_id.as_str()).copied().unwrap_or_default();
            let fingerprint = params.and_then(|p| rules.fingerprint(power_type, &p));
            out.push(MachinePower {
                power_type: power_type.to_string(),
                system_id,
                fingerprint,
            });
        })
        .map_err(|e| MaasError::Http(json_error(&url, &e)))?;
        Ok(out)
    }

    async fn per_machine_power(
        &self,
        rules: &BmcRules,
        machines: &[Machine],
    ) -> Result<Vec<MachinePower>, MaasError> {
        const WHAT: &str = "reading power parameters (machines/{id}/?op=power_parameters)";
        let bar = ProgressBar::new(machines.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} power parameters {pos}/{len} [{bar:30}] {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        let results: Vec<Result<MachinePower, MaasError>> = stream::iter(machines)
            .map(|m| {
                let bar = &bar;
                async move {
                    let url = self.url(&format!("machines/{}/?op=power_parameters", m.system_id));
                    let value: Value = self
                        .http
                        .get_json(&url, &self.auth())
                        .await
                        .map_err(|e| self.explain(e, &url, WHAT))?;
                    bar.inc(1);
                    let fingerprint = match value {
                        Value::Object(p) => rules.fingerprint(&m.power_type, &p),
                        Value::Null => None,
                        _ => {
                            return Err(MaasError::NotAnObject {
                                system_id: m.system_id.clone(),
                                url: display_url(&url),
                            })
                        }
                    };
                    Ok(MachinePower {
                        system_id: m.system_id.clone(),
                        power_type: m.power_type.clone(),
                        fingerprint,
                    })
                }
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        bar.finish_and_clear();
        results.into_iter().collect()
    }
}

/// Streams the JSON object `{system_id: {param: value, …}, …}` that
/// `machines/?op=power_parameters` and `maas $PROFILE machines power-parameters` return, calling
/// `sink(system_id, params)` per entry without building a DOM of the whole document. A value
/// that is not an object (e.g. `null`) is passed as `None`.
///
/// # Errors
/// A serde_json error for anything that is not such an object (truncated, not an object,
/// trailing garbage).
pub fn read_power_parameters(
    body: &[u8],
    sink: impl FnMut(String, Option<Map<String, Value>>),
) -> Result<(), serde_json::Error> {
    struct Entries<F>(F);
    impl<'de, F: FnMut(String, Option<Map<String, Value>>)> Visitor<'de> for Entries<F> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object of system_id → power parameters")
        }
        fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
            while let Some(system_id) = map.next_key::<String>()? {
                let params = match map.next_value::<Value>()? {
                    Value::Object(p) => Some(p),
                    _ => None,
                };
                (self.0)(system_id, params);
            }
            Ok(())
        }
    }
    impl<'de, F: FnMut(String, Option<Map<String, Value>>)> DeserializeSeed<'de> for Entries<F> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    Entries(sink).deserialize(&mut de)?;
    de.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_header_shape() {
        let key = ApiKey::parse(&Secret::new("ck:tk:ts/+x".into())).unwrap();
        let h = key.authorization("123", 1_700_000_000);
        assert_eq!(
            h.to_str().unwrap(),
            "OAuth oauth_version=\"1.0\", oauth_signature_method=\"PLAINTEXT\", oauth_consumer_key=\"ck\", oauth_token=\"tk\", oauth_signature=\"%26ts%2F%2Bx\", oauth_nonce=\"123\", oauth_timestamp=\"1700000000\""
        );
        assert!(h.is_sensitive());
        assert_eq!(format!("{key:?}"), "ApiKey(***)");
    }

    #[test]
    fn bad_keys_are_refused_without_echo() {
        for bad in ["", "a:b", "a:b:c:d", "a::c"] {
            let e = ApiKey::parse(&Secret::new(bad.into())).unwrap_err();
            if !bad.is_empty() {
                assert!(!e.to_string().contains(bad));
            }
        }
    }

    #[test]
    fn streams_entries() {
        let mut seen = Vec::new();
        read_power_parameters(
            br#"{"a": {"power_pass": "x"}, "b": {}, "c": null}"#,
            |id, p| seen.push((id, p.map(|m| m.len()))),
        )
        .unwrap();
        assert_eq!(
            seen,
            vec![
                ("a".into(), Some(1)),
                ("b".into(), Some(0)),
                ("c".into(), None)
            ]
        );
        assert!(read_power_parameters(b"[1]", |_, _| {}).is_err());
        assert!(read_power_parameters(br#"{"a": {"#, |_, _| {})
            .unwrap_err()
            .is_eof());
        assert!(read_power_parameters(br#"{} x"#, |_, _| {}).is_err());
    }
}

//! The MAAS region API 2.0 probe (upstream src/maasserver/api/*.py; FACTS.md §1.3).
//!
//! Auth is OAuth 1.0 PLAINTEXT as the maas CLI and python-libmaas send it, built fresh for every
//! request. Reads: `version/` (anonymous), `regioncontrollers/`, `rackcontrollers/`, `machines/`
//! and `machines/?op=power_parameters` (admin only). When the bulk power-parameters call is
//! refused with 400 or 404, it falls back to `machines/{id}/?op=power_parameters` per machine,
//! with bounded concurrency and a progress bar (stderr, TTY only).
//!
//! Power parameters (which hold BMC passwords) stream through
//! [`crate::systems::maas::bmc::power_parameters::read`] and are reduced at once to
//! the detector's hashed records: no password outlives its entry.

use super::facts::{vm_host_subject, Controller, MaasApiFacts, Machine, PowerSource, VmHost};
use std::collections::HashMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Url;
use serde::Deserialize;
use thiserror::Error;

use super::bmc::machine_list::MachineList;
use super::bmc::power_parameters::{self, parse_params, GivenTypes, ParseError, PowerInput};
use crate::config::Secret;
use crate::core::probed::{ErrorKind, ProbeError};
use crate::net::http::{anonymous, authorization, display_url, Http, HttpError};
use crate::systems::maas::bmc::{BmcRules, Observations, PartBuilder, PowerTypes};
use crate::systems::maas::facts::NodeKind;

/// RFC 5849 §3.6: everything but ALPHA, DIGIT, `-`, `.`, `_`, `~` is percent-encoded.
const OAUTH_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

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
        let mut value = HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("OAuth"));
        value.set_sensitive(true);
        value
    }

    /// [`ApiKey::authorization`] with a random nonce and the current time.
    pub fn fresh_authorization(&self) -> HeaderValue {
        let nonce: u64 = rand::thread_rng().gen();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.authorization(&nonce.to_string(), now)
    }
}

/// `GET version/`.
#[derive(Debug, Clone, Deserialize)]
struct VersionInfo {
    version: String,
}

/// Why the MAAS probe failed (each text names the cause and the next step).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MaasError {
    #[error("MAAS rejected the API key (HTTP 401) at {url}; check MAAS_API_KEY / MAAS_API_KEY_FILE")]
    Unauthorized { url: String },
    #[error("the MAAS user of this API key is not an administrator: {what} needs admin privilege (HTTP 403 at {url}); use an admin's API key")]
    NotAdmin { what: &'static str, url: String },
    #[error("{0}")]
    Http(#[from] HttpError),
    #[error("MAAS_URL '{0}' is not a valid URL (expected e.g. http://10.0.0.2:5240/MAAS)")]
    BadUrl(String),
    #[error("the power parameters from {url} are not valid: {cause}")]
    PowerParameters { url: String, cause: ParseError },
    #[error("the machine list from {url} is not valid: {cause}")]
    MachineList { url: String, cause: String },
    #[error("reading {url} failed: {cause}")]
    Reader { url: String, cause: String },
}

impl MaasError {
    /// What kind of failure this is: a refused key is auth, a non-admin key forbidden, an
    /// unusable body a bad answer, an HTTP failure its own kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            MaasError::Unauthorized { .. } => ErrorKind::Auth,
            MaasError::NotAdmin { .. } => ErrorKind::Forbidden,
            MaasError::Http(e) => e.kind(),
            MaasError::BadUrl(_) => ErrorKind::Config,
            MaasError::PowerParameters { .. } | MaasError::MachineList { .. } => ErrorKind::BadAnswer,
            MaasError::Reader { .. } => ErrorKind::Failed,
        }
    }
}

impl From<MaasError> for ProbeError {
    fn from(e: MaasError) -> ProbeError {
        ProbeError::new(e.kind(), e.to_string())
    }
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
    pub fn new(http: &'a Http, maas_url: &str, key: Option<ApiKey>, concurrency: usize) -> Result<Self, MaasError> {
        let mut base = Url::parse(maas_url.trim()).map_err(|_| MaasError::BadUrl(maas_url.to_string()))?;
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
        self.base.join(path).expect("API paths are valid relative URLs")
    }

    fn auth(&self) -> impl Fn() -> HeaderMap + Sync + '_ {
        move || {
            self.key
                .as_ref()
                .map_or_else(anonymous, |k| authorization(k.fresh_authorization()))
        }
    }

    fn explain(&self, e: HttpError, url: &Url, what: &'static str) -> MaasError {
        match e.status() {
            Some(401) => MaasError::Unauthorized { url: display_url(url) },
            Some(403) => MaasError::NotAdmin {
                what,
                url: display_url(url),
            },
            _ => MaasError::Http(e),
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str, what: &'static str) -> Result<T, MaasError> {
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
    pub async fn probe(&self, rules: &'static BmcRules) -> Result<MaasApiFacts, MaasError> {
        let (version, regions, racks, list, vm_hosts) = tokio::try_join!(
            self.get::<VersionInfo>("version/", "reading the version"),
            self.get::<Vec<Controller>>("regioncontrollers/", "listing region controllers"),
            self.get::<Vec<Controller>>("rackcontrollers/", "listing rack controllers"),
            self.machines(),
            self.get::<Vec<VmHost>>("pods/", "listing VM hosts"),
        )?;
        // Every power type is interned before any record is built, so the machines' and the
        // other nodes' records share one numbering.
        let mut types = PowerTypes::new(rules);
        let machines = list.to_machines();
        let given = GivenTypes::new(list, &mut types);
        let controllers: HashMap<String, u16> = racks
            .iter()
            .chain(&regions)
            .map(|c| (c.system_id.clone(), types.intern(&c.power_type)))
            .collect();
        for pod in &vm_hosts {
            types.intern(&pod.power_type);
        }
        let (mut power, power_source) = match self.bulk_power(rules, &types, &given).await {
            Ok(power) => (power, PowerSource::Bulk),
            Err(MaasError::Http(e)) if matches!(e.status(), Some(400 | 404)) => {
                tracing::info!("bulk power parameters refused ({e}); reading them per machine");
                (
                    self.per_machine_power(rules, types.clone(), &given, &machines).await?,
                    PowerSource::PerMachine,
                )
            }
            Err(e) => return Err(e),
        };
        let mut kinds = HashMap::new();
        let others = self
            .other_nodes(rules, &types, &controllers, &regions, &racks, &vm_hosts, &mut kinds)
            .await?;
        power.append(others);
        // As MAAS prints it: `version` alone (subversion is a build detail, "" from 3.0 on).
        let version = Some(version.version.trim().to_string()).filter(|v| !v.is_empty());
        Ok(MaasApiFacts {
            url: display_url(&self.base),
            version,
            regions,
            racks,
            machines,
            vm_hosts,
            power,
            power_source,
            kinds,
        })
    }

    /// The BMCs of the nodes that are not machines: rack controllers (one bulk call, as for
    /// machines), region controllers that are not racks (one call each) and VM hosts (one call
    /// each), as records of their own; `kinds` gets each one's kind by subject.
    #[allow(clippy::too_many_arguments)]
    async fn other_nodes(
        &self,
        rules: &BmcRules,
        types: &PowerTypes,
        given: &HashMap<String, u16>,
        regions: &[Controller],
        racks: &[Controller],
        vm_hosts: &[VmHost],
        kinds: &mut HashMap<String, NodeKind>,
    ) -> Result<Observations, MaasError> {
        const RACKS: &str = "reading rack controllers' power parameters (rackcontrollers/?op=power_parameters)";
        const REGION: &str =
            "reading a region controller's power parameters (regioncontrollers/{id}/?op=power_parameters)";
        const VM_HOST: &str = "reading a VM host's parameters (pods/{id}/?op=parameters)";
        let mut bodies: Vec<(String, Url, Vec<u8>)> = Vec::new();
        if !racks.is_empty() {
            let url = self.url("rackcontrollers/?op=power_parameters");
            let all: HashMap<String, Box<serde_json::value::RawValue>> = self
                .http
                .get_json(&url, &self.auth())
                .await
                .map_err(|e| self.explain(e, &url, RACKS))?;
            for rack in racks {
                kinds.insert(rack.system_id.clone(), NodeKind::RackController);
                if let Some(raw) = all.get(&rack.system_id) {
                    bodies.push((rack.system_id.clone(), url.clone(), raw.get().as_bytes().to_vec()));
                }
            }
        }
        let region_only: Vec<&Controller> = regions
            .iter()
            .filter(|r| !racks.iter().any(|k| k.system_id == r.system_id))
            .collect();
        let fetched: Vec<Result<Fetched, MaasError>> = stream::iter(
            region_only
                .iter()
                .map(|r| {
                    (
                        r.system_id.clone(),
                        format!("regioncontrollers/{}/?op=power_parameters", r.system_id),
                        REGION,
                    )
                })
                .chain(
                    vm_hosts
                        .iter()
                        .map(|p| (vm_host_subject(p.id), format!("pods/{}/?op=parameters", p.id), VM_HOST)),
                ),
        )
        .map(|(subject, path, what)| async move {
            let url = self.url(&path);
            let body = self
                .http
                .get_bytes(&url, &self.auth())
                .await
                .map_err(|e| self.explain(e, &url, what))?;
            Ok((subject, url, body))
        })
        .buffer_unordered(self.concurrency)
        .collect()
        .await;
        for r in &region_only {
            kinds.insert(r.system_id.clone(), NodeKind::RegionController);
        }
        for p in vm_hosts {
            kinds.insert(vm_host_subject(p.id), NodeKind::VmHost { name: p.name.clone() });
        }
        for result in fetched {
            bodies.push(result?);
        }
        let pod_types: HashMap<String, u16> = vm_hosts
            .iter()
            .map(|p| {
                (
                    vm_host_subject(p.id),
                    types.get(&p.power_type).unwrap_or(PowerTypes::NONE),
                )
            })
            .collect();
        let mut builder = PartBuilder::new(rules, types);
        for (subject, url, body) in &bodies {
            let mut pairs = Vec::new();
            parse_params(body, &mut pairs).map_err(|e| MaasError::PowerParameters {
                url: display_url(url),
                cause: ParseError::Entry {
                    system_id: subject.clone(),
                    offset: 0,
                    message: e.to_string(),
                },
            })?;
            let power_type = given.get(subject).or_else(|| pod_types.get(subject)).copied();
            builder.add_map(subject, Some(power_type.unwrap_or(PowerTypes::NONE)), &mut pairs);
        }
        let part = builder.finish();
        Ok(Observations::from_parts(types.clone(), vec![part]))
    }

    /// `GET machines/`, read as its body streams in: a real answer is 5–18 KB per machine
    /// (indent=4), so 100,000 machines are well over a gigabyte that is never held whole; only
    /// `system_id`, `hostname` and `power_type` are kept.
    async fn machines(&self) -> Result<MachineList, MaasError> {
        const WHAT: &str = "listing machines (machines/)";
        let url = self.url("machines/");
        let parsed = self
            .stream_parse(&url, WHAT, |body| {
                super::bmc::machine_list::read(body).map_err(|e| e.to_string())
            })
            .await?;
        parsed.map_err(|cause| MaasError::MachineList {
            url: display_url(&url),
            cause,
        })
    }

    /// GETs `url` and hands its body, as it streams in, to `parse` on a blocking thread (chunks
    /// cross a bounded channel; the body is never held whole). The outer error is the
    /// transfer's, the inner one `parse`'s.
    async fn stream_parse<T: Send + 'static, E: Send + 'static>(
        &self,
        url: &Url,
        what: &'static str,
        parse: impl FnOnce(ChannelReader) -> Result<T, E> + Send + 'static,
    ) -> Result<Result<T, E>, MaasError> {
        let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(8);
        let parser = tokio::task::spawn_blocking(move || {
            parse(ChannelReader {
                rx,
                current: bytes::Bytes::new(),
            })
        });
        let streamed = self
            .http
            .get_stream(url, &self.auth(), |chunk| {
                let tx = tx.clone();
                async move { tx.send(chunk).await.is_ok() }
            })
            .await;
        drop(tx);
        let parsed = parser.await;
        streamed.map_err(|e| self.explain(e, url, what))?;
        parsed.map_err(|e| MaasError::Reader {
            url: display_url(url),
            cause: e.to_string(),
        })
    }

    /// The bulk call, parsed as its body streams in.
    async fn bulk_power(
        &self,
        rules: &'static BmcRules,
        types: &PowerTypes,
        given: &GivenTypes,
    ) -> Result<Observations, MaasError> {
        const WHAT: &str = "reading power parameters (machines/?op=power_parameters)";
        let url = self.url("machines/?op=power_parameters");
        let (types, given) = (types.clone(), given.clone());
        let parsed = self
            .stream_parse(&url, WHAT, move |body| {
                let input = PowerInput {
                    rules,
                    types: &types,
                    given: Some(&given),
                };
                power_parameters::read(body, &input)
            })
            .await?;
        parsed.map_err(|cause| MaasError::PowerParameters {
            url: display_url(&url),
            cause,
        })
    }

    async fn per_machine_power(
        &self,
        rules: &BmcRules,
        types: PowerTypes,
        given: &GivenTypes,
        machines: &[Machine],
    ) -> Result<Observations, MaasError> {
        const WHAT: &str = "reading power parameters (machines/{id}/?op=power_parameters)";
        let bar = ProgressBar::new(machines.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} power parameters {pos}/{len} [{bar:30}] {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        let bodies: Vec<Result<Fetched, MaasError>> = stream::iter(machines)
            .map(|m| {
                let bar = &bar;
                async move {
                    let url = self.url(&format!("machines/{}/?op=power_parameters", m.system_id));
                    let body = self
                        .http
                        .get_bytes(&url, &self.auth())
                        .await
                        .map_err(|e| self.explain(e, &url, WHAT))?;
                    bar.inc(1);
                    Ok((m.system_id.clone(), url, body))
                }
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        bar.finish_and_clear();
        let mut builder = PartBuilder::new(rules, &types);
        for result in bodies {
            let (system_id, url, body) = result?;
            let mut pairs = Vec::new();
            parse_params(&body, &mut pairs).map_err(|e| MaasError::PowerParameters {
                url: display_url(&url),
                cause: ParseError::Entry {
                    system_id: system_id.clone(),
                    offset: 0,
                    message: e.to_string(),
                },
            })?;
            builder.add_map(&system_id, given.get(&system_id), &mut pairs);
        }
        let part = builder.finish();
        Ok(Observations::from_parts(types, vec![part]))
    }
}

/// One machine's answer: system_id, URL and body.
type Fetched = (String, Url, Vec<u8>);

/// A blocking `Read` over chunks sent from async code.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<bytes::Bytes>,
    current: bytes::Bytes,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = self.current.len().min(buf.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        bytes::Buf::advance(&mut self.current, n);
        Ok(n)
    }
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
}

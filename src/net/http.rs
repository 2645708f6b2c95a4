//! The one HTTP client: rustls, timeouts, a response size cap, and retries with exponential
//! backoff for what is retryable only (5xx, 408, 429, timeouts, connection resets).
//! Errors say which URL failed and why, and never include a request header (the MAAS API key
//! travels in `Authorization`).

use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::HeaderMap;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Client, Method, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::core::probed::{ErrorKind, ProbeError};

/// Why an HTTP request failed. Display texts name the URL (without any user-info) and the cause.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpError {
    #[error("cannot connect to {url}: {cause}")]
    Connect {
        url: String,
        cause: String,
        retryable: bool,
    },
    #[error("no answer from {url} within {seconds} s (timeout)")]
    Timeout { url: String, seconds: u64 },
    #[error("{url} answered HTTP {status}{detail}")]
    Status {
        url: String,
        status: u16,
        detail: String,
        /// The server's `Retry-After`, in seconds, when it sent one.
        retry_after: Option<u64>,
    },
    #[error("{url} sent more than {limit_mib} MiB; raise [scan] max_response_mib if that is expected")]
    TooLarge { url: String, limit_mib: u64 },
    #[error("{url} returned an HTML page instead of JSON (HTTP {status}{title}); is the URL right?")]
    Html { url: String, status: u16, title: String },
    #[error("{url} returned malformed JSON: {cause}")]
    Json { url: String, cause: String },
    #[error("reading the answer of {url} failed: {cause}")]
    Body { url: String, cause: String },
}

impl HttpError {
    /// Whether trying again may help: 5xx, 408, 429, timeouts and dropped connections.
    pub fn is_retryable(&self) -> bool {
        match self {
            HttpError::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            HttpError::Timeout { .. } => true,
            HttpError::Connect { retryable, .. } => *retryable,
            HttpError::Body { .. } => true,
            _ => false,
        }
    }

    /// How long the server asked to wait before retrying (`Retry-After`), capped at the longest
    /// single wait a run allows.
    pub fn retry_after(&self, cap: Duration) -> Option<Duration> {
        match self {
            HttpError::Status {
                retry_after: Some(s), ..
            } => Some(Duration::from_secs(*s).min(cap)),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// What kind of failure this is: 401 auth, 403 forbidden, 404 not found, 5xx/408/429
    /// unavailable, any other status or an unusable body a bad answer.
    pub fn kind(&self) -> ErrorKind {
        match self {
            HttpError::Connect { .. } => ErrorKind::Unreachable,
            HttpError::Timeout { .. } => ErrorKind::Timeout,
            HttpError::Status { status: 401, .. } => ErrorKind::Auth,
            HttpError::Status { status: 403, .. } => ErrorKind::Forbidden,
            HttpError::Status { status: 404 | 410, .. } => ErrorKind::NotFound,
            HttpError::Status { status, .. } if *status >= 500 || *status == 408 || *status == 429 => {
                ErrorKind::Unavailable
            }
            HttpError::Status { .. }
            | HttpError::TooLarge { .. }
            | HttpError::Html { .. }
            | HttpError::Json { .. }
            | HttpError::Body { .. } => ErrorKind::BadAnswer,
        }
    }
}

impl From<HttpError> for ProbeError {
    fn from(e: HttpError) -> ProbeError {
        ProbeError::new(e.kind(), e.to_string())
    }
}

/// Builds the credential headers of one request (called per attempt, so signed headers are
/// fresh); an empty map sends none. Mark secret values sensitive.
pub type Auth<'a> = &'a (dyn Fn() -> HeaderMap + Sync);

/// The headers of a request without credentials.
pub fn anonymous() -> HeaderMap {
    HeaderMap::new()
}

/// `Authorization: <value>` as the only credential header.
pub fn authorization(value: HeaderValue) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value);
    headers
}

/// Settings of [`Http`].
#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    /// Connect timeout and the longest wait for any single read (seconds).
    pub timeout: Duration,
    /// Retries after the first attempt, for retryable failures only.
    pub retries: usize,
    /// First backoff delay; doubles each retry.
    pub backoff: Duration,
    /// Largest accepted response body, in bytes.
    pub max_body: u64,
}

/// Trust settings of [`Http`].
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Extra CA certificates (PEM bundle) besides the system's.
    pub ca_pem: Option<Vec<u8>>,
    /// Accept any certificate (never by default).
    pub insecure: bool,
}

/// A shared reqwest client with preflight's policies. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Http {
    client: Client,
    settings: HttpSettings,
}

/// A URL as it may appear in messages: user-info (credentials) removed.
pub fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

impl Http {
    /// Builds the client: rustls with the system's roots, plus `trust`'s CA certificates.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn new(settings: HttpSettings, trust: &Trust) -> Result<Http, HttpError> {
        let mut builder = Client::builder()
            .user_agent(concat!("preflight/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.timeout)
            .read_timeout(settings.timeout)
            .danger_accept_invalid_certs(trust.insecure);
        if let Some(pem) = &trust.ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem).unwrap_or_default() {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(|e| HttpError::Connect {
            url: String::from("(client set-up)"),
            cause: e.to_string(),
            retryable: false,
        })?;
        Ok(Http { client, settings })
    }

    /// GET `url` and return the body, retrying what is retryable. `auth` is called for every
    /// attempt, so signed headers (OAuth nonce, timestamp) are fresh each time.
    ///
    /// # Errors
    /// Every [`HttpError`]: non-2xx status, timeout, HTML instead of JSON, oversized body.
    pub async fn get_bytes(&self, url: &Url, auth: Auth<'_>) -> Result<Vec<u8>, HttpError> {
        (|| self.attempt(url, auth))
            .retry(self.backoff())
            .adjust(self.wait(Instant::now()))
            .when(HttpError::is_retryable)
            .notify(|e, wait| tracing::info!("retrying in {wait:?}: {e}"))
            .await
    }

    /// GET `url` and deserialize its JSON body into `T`.
    ///
    /// # Errors
    /// As [`Http::get_bytes`], plus [`HttpError::Json`] when the body is not the expected JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &Url, auth: Auth<'_>) -> Result<T, HttpError> {
        let body = self.get_bytes(url, auth).await?;
        serde_json::from_slice(&body).map_err(|e| json_error(url, &e))
    }

    /// Sends one GET and checks the answer's status and type. Error statuses and HTML pages
    /// are read (capped) for their detail.
    async fn send_checked(&self, method: Method, url: &Url, auth: Auth<'_>) -> Result<Response, HttpError> {
        self.send_with_body(method, url, auth, None).await
    }

    async fn send_with_body(
        &self,
        method: Method,
        url: &Url,
        auth: Auth<'_>,
        body: Option<&[u8]>,
    ) -> Result<Response, HttpError> {
        let shown = display_url(url);
        tracing::debug!("{method} {shown}");
        let mut headers = auth();
        if body.is_some() {
            // One Content-Type: a signed request (Backend.AI) already carries the one it signed.
            headers
                .entry(CONTENT_TYPE)
                .or_insert(HeaderValue::from_static("application/json"));
        }
        let mut request = self.client.request(method, url.clone()).headers(headers);
        if let Some(body) = body {
            request = request.body(body.to_vec());
        }
        let response = request.send().await.map_err(|e| self.transport_error(&shown, &e))?;
        let status = response.status();
        let is_html = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("text/html"));
        if let Some(len) = response.content_length() {
            if len > self.settings.max_body {
                return Err(self.too_large(&shown));
            }
        }
        if status.is_success() && !is_html {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = self.read_body(&shown, response, 64 * 1024).await?;
        let looks_html = is_html || body.trim_ascii_start().starts_with(b"<");
        if !status.is_success() {
            return Err(HttpError::Status {
                url: shown,
                status: status.as_u16(),
                detail: status_detail(status, &body, looks_html),
                retry_after,
            });
        }
        Err(self.html_error(shown, status, &body))
    }

    fn html_error(&self, shown: String, status: StatusCode, body: &[u8]) -> HttpError {
        HttpError::Html {
            url: shown,
            status: status.as_u16(),
            title: html_title(body)
                .map(|t| format!(", page title '{t}'"))
                .unwrap_or_default(),
        }
    }

    /// Reads a body up to `limit` bytes (the rest is dropped) for error details.
    async fn read_body(&self, shown: &str, response: Response, limit: usize) -> Result<Vec<u8>, HttpError> {
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.transport_error(shown, &e))?;
            body.extend_from_slice(&chunk[..chunk.len().min(limit - body.len())]);
            if body.len() >= limit {
                break;
            }
        }
        Ok(body)
    }

    async fn attempt(&self, url: &Url, auth: Auth<'_>) -> Result<Vec<u8>, HttpError> {
        let shown = display_url(url);
        let response = self.send_checked(Method::GET, url, auth).await?;
        let status = response.status();
        let body = self.read_capped(&shown, response).await?;
        if body.trim_ascii_start().starts_with(b"<") {
            return Err(self.html_error(shown, status, &body));
        }
        Ok(body)
    }

    /// GET `url` and hand its body to `sink` chunk by chunk as it arrives, within the size cap.
    /// Connecting and the status are retried like [`Http::get_bytes`]; once the body streams,
    /// a failure is final (the consumer has seen part of it). `sink` returns `false` to stop
    /// early (its consumer is gone). A body that starts like HTML is refused before any chunk
    /// reaches `sink`.
    ///
    /// # Errors
    /// As [`Http::get_bytes`].
    pub async fn get_stream<F, Fut>(&self, url: &Url, auth: Auth<'_>, mut sink: F) -> Result<(), HttpError>
    where
        F: FnMut(Bytes) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let shown = display_url(url);
        let response = (|| self.send_checked(Method::GET, url, auth))
            .retry(self.backoff())
            .adjust(self.wait(Instant::now()))
            .when(HttpError::is_retryable)
            .notify(|e, wait| tracing::info!("retrying in {wait:?}: {e}"))
            .await?;
        let status = response.status();
        let mut total: u64 = 0;
        let mut head = Vec::new();
        let mut sniffed = false;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.transport_error(&shown, &e))?;
            total += chunk.len() as u64;
            if total > self.settings.max_body {
                return Err(self.too_large(&shown));
            }
            if !sniffed {
                head.extend_from_slice(&chunk);
                let start = head.trim_ascii_start();
                if start.is_empty() {
                    continue;
                }
                sniffed = true;
                if start.starts_with(b"<") {
                    return Err(self.html_error(shown, status, &head));
                }
                if !sink(Bytes::from(std::mem::take(&mut head))).await {
                    return Ok(());
                }
                continue;
            }
            if !sink(chunk).await {
                return Ok(());
            }
        }
        if !head.is_empty() {
            sink(Bytes::from(head)).await;
        }
        Ok(())
    }

    /// GET `url` and deserialize its JSON body, returning the response headers too (for `Link`
    /// and `X-Total-Count` paging). Retries as [`Http::get_bytes`].
    ///
    /// # Errors
    /// As [`Http::get_json`].
    pub async fn get_json_with_headers<T: DeserializeOwned>(
        &self,
        url: &Url,
        auth: Auth<'_>,
    ) -> Result<(T, HeaderMap), HttpError> {
        let (body, headers) = (|| async {
            let response = self.send_checked(Method::GET, url, auth).await?;
            let headers = response.headers().clone();
            let shown = display_url(url);
            let status = response.status();
            let body = self.read_capped(&shown, response).await?;
            if body.trim_ascii_start().starts_with(b"<") {
                return Err(self.html_error(shown, status, &body));
            }
            Ok((body, headers))
        })
        .retry(self.backoff())
        .adjust(self.wait(Instant::now()))
        .when(HttpError::is_retryable)
        .await?;
        let value = serde_json::from_slice(&body).map_err(|e| json_error(url, &e))?;
        Ok((value, headers))
    }

    /// POST to `url` without a body (a login) and return the answer as text.
    ///
    /// # Errors
    /// As [`Http::get_bytes`].
    pub async fn post_for_text(&self, url: &Url, auth: Auth<'_>) -> Result<String, HttpError> {
        let shown = display_url(url);
        let response = self.send_checked(Method::POST, url, auth).await?;
        let body = self.read_capped(&shown, response).await?;
        Ok(String::from_utf8_lossy(&body).trim().to_string())
    }

    /// POST a JSON query that reads (a GraphQL query) and deserialize the JSON answer. Not
    /// retried: only reads are retried blindly.
    ///
    /// # Errors
    /// As [`Http::get_json`].
    pub async fn post_query<T: DeserializeOwned>(
        &self,
        url: &Url,
        auth: Auth<'_>,
        query: &serde_json::Value,
    ) -> Result<T, HttpError> {
        let shown = display_url(url);
        let body = serde_json::to_vec(query).expect("a JSON value serializes");
        let response = self.send_with_body(Method::POST, url, auth, Some(&body)).await?;
        let status = response.status();
        let answer = self.read_capped(&shown, response).await?;
        if answer.trim_ascii_start().starts_with(b"<") {
            return Err(self.html_error(shown, status, &answer));
        }
        serde_json::from_slice(&answer).map_err(|e| json_error(url, &e))
    }

    async fn read_capped(&self, shown: &str, response: Response) -> Result<Vec<u8>, HttpError> {
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.transport_error(shown, &e))?;
            if (body.len() + chunk.len()) as u64 > self.settings.max_body {
                return Err(self.too_large(shown));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The wait before the next attempt of a call that started at `started`: the server's
    /// `Retry-After` (capped) or the backoff's; none (the error now, with its own kind) when
    /// the wait would end past the call's time budget (`timeout`, the run's too), where only
    /// the run's deadline would be reached.
    fn wait(&self, started: Instant) -> impl Fn(&HttpError, Option<Duration>) -> Option<Duration> + '_ {
        move |e, backoff| {
            let wait = e.retry_after(self.settings.timeout).or(backoff)?;
            (started.elapsed() + wait < self.settings.timeout).then_some(wait)
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.settings.backoff)
            .with_max_times(self.settings.retries)
            .with_jitter()
    }

    fn too_large(&self, shown: &str) -> HttpError {
        HttpError::TooLarge {
            url: shown.to_string(),
            limit_mib: self.settings.max_body / (1024 * 1024),
        }
    }

    fn transport_error(&self, shown: &str, e: &reqwest::Error) -> HttpError {
        if e.is_timeout() {
            return HttpError::Timeout {
                url: shown.to_string(),
                seconds: self.settings.timeout.as_secs(),
            };
        }
        // The innermost cause: reqwest's own text would repeat the URL, user-info included.
        let mut cause = String::from("request failed");
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            cause = s.to_string();
            source = s.source();
        }
        if e.is_connect() {
            HttpError::Connect {
                url: shown.to_string(),
                retryable: cause.contains("reset"),
                cause,
            }
        } else {
            HttpError::Body {
                url: shown.to_string(),
                cause,
            }
        }
    }
}

/// A JSON error with its position, for a body that did not parse.
pub fn json_error(url: &Url, e: &serde_json::Error) -> HttpError {
    let cause = if e.is_eof() {
        format!(
            "the document ends early (truncated at line {}, column {})",
            e.line(),
            e.column()
        )
    } else {
        e.to_string()
    };
    HttpError::Json {
        url: display_url(url),
        cause,
    }
}

fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let re = regex::Regex::new(r"(?is)<title[^>]*>(.*?)</title>").expect("valid regex");
    re.captures(&text)
        .map(|c| c[1].split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(80).collect())
}

/// ` Forbidden: <first line of the body>` for an error status; bodies are cut short and HTML
/// is reduced to its title.
fn status_detail(status: StatusCode, body: &[u8], html: bool) -> String {
    let reason = status.canonical_reason().unwrap_or("");
    let text = if html {
        html_title(body).unwrap_or_default()
    } else {
        String::from_utf8_lossy(&body[..body.len().min(512)])
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .chars()
            .take(160)
            .collect()
    };
    match (reason.is_empty(), text.is_empty()) {
        (_, false) => format!(" {reason}: {text}"),
        (false, true) => format!(" {reason}"),
        (true, true) => String::new(),
    }
}

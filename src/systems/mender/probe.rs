//! The Mender Server probe (FACTS.md §2; mender-server management APIs): pages through
//! deviceauth (`GET /api/management/v2/devauth/devices`, `Link` header paging) and inventory
//! (`GET /api/management/v1/inventory/devices`, `X-Total-Count`), 500 devices a page.
//! Auth: a personal access token as `Authorization: Bearer`, or a user's login
//! (`POST /api/management/v1/useradm/auth/login` with HTTP Basic → a JWT).

use std::collections::HashSet;

use base64::Engine;
use regex::Regex;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Url;
use serde::Deserialize;

use super::config::MenderConfig;
use crate::config::Secret;
use crate::core::probed::{ErrorKind, ProbeError};
use crate::net::http::{authorization, display_url, Http, HttpError};
use crate::systems::mender::facts::DeviceLeftovers;

/// Devices per page.
pub const PER_PAGE: usize = 500;
/// Pages read at most per listing (10 million devices): a server that keeps sending `next`
/// links is not followed forever.
const MAX_PAGES: usize = 20_000;

/// One deviceauth device (wire shape).
#[derive(Debug, Deserialize)]
pub struct AuthDevice {
    id: String,
    #[serde(default)]
    decommissioning: bool,
}

/// One inventory device (wire shape).
#[derive(Debug, Deserialize)]
pub struct InventoryDevice {
    id: String,
}

fn explain(e: HttpError) -> ProbeError {
    let hint = match e.status() {
        Some(401) => " — Mender rejected the credentials: check MENDER_TOKEN or MENDER_USERNAME/MENDER_PASSWORD",
        Some(403) => " — the Mender user lacks the permission to list devices",
        _ => "",
    };
    ProbeError::from(e).reworded(|detail| format!("{detail}{hint}"))
}

fn bearer(token: &Secret) -> HeaderValue {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose().trim()))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
    v.set_sensitive(true);
    v
}

/// The `rel="next"` target of a `Link` header, resolved against `base`.
pub fn next_link(headers: &HeaderMap, base: &Url) -> Option<Url> {
    let re = Regex::new(r#"<([^>]+)>\s*;\s*rel="?next"?"#).expect("valid regex");
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| re.captures(v).map(|c| c[1].to_string()))
        .and_then(|target| base.join(&target).ok())
}

async fn token(http: &Http, base: &Url, config: &MenderConfig) -> Result<Secret, ProbeError> {
    if let Some(t) = &config.token {
        return Ok(t.clone());
    }
    let (Some(user), Some(password)) = (&config.username, &config.password) else {
        return Err(ProbeError::new(
            ErrorKind::Config,
            "no Mender credentials: set MENDER_TOKEN (a personal access token) or MENDER_USERNAME and MENDER_PASSWORD",
        ));
    };
    let url = base
        .join("api/management/v1/useradm/auth/login")
        .map_err(ProbeError::config)?;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()));
    let auth = move || {
        let mut v =
            HeaderValue::from_str(&format!("Basic {basic}")).unwrap_or_else(|_| HeaderValue::from_static("Basic"));
        v.set_sensitive(true);
        authorization(v)
    };
    let jwt = http.post_for_text(&url, &auth).await.map_err(explain)?;
    if jwt.is_empty() || jwt.contains(char::is_whitespace) {
        return Err(ProbeError::new(
            ErrorKind::BadAnswer,
            format!("the Mender login at {} did not answer with a token", display_url(&url)),
        ));
    }
    Ok(Secret::new(jwt))
}

/// Reads deviceauth and inventory and reduces them to the leftovers MENDER002 reports.
///
/// # Errors
/// Bad URL or missing credentials (kind config), any HTTP failure (its kind), malformed JSON.
pub async fn probe(http: &Http, config: &MenderConfig) -> Result<DeviceLeftovers, ProbeError> {
    let url = config
        .url
        .as_deref()
        .ok_or_else(|| ProbeError::new(ErrorKind::Config, "no Mender URL"))?;
    let mut base = Url::parse(url.trim()).map_err(|_| {
        ProbeError::new(
            ErrorKind::Config,
            format!("MENDER_URL '{url}' is not a valid URL (expected e.g. https://mender.example.com)"),
        )
    })?;
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    let token = token(http, &base, config).await?;
    let auth = move || authorization(bearer(&token));

    // deviceauth: follow `Link: <…>; rel="next"` when the server sends it, else page numbers
    // until a short page.
    let mut devices = Vec::new();
    let mut url = base
        .join(&format!("api/management/v2/devauth/devices?page=1&per_page={PER_PAGE}"))
        .map_err(ProbeError::config)?;
    for page_no in 1..=MAX_PAGES {
        let (page, headers): (Vec<AuthDevice>, _) = http.get_json_with_headers(&url, &auth).await.map_err(explain)?;
        let n = page.len();
        devices.extend(page);
        let next = if headers.contains_key(reqwest::header::LINK) {
            next_link(&headers, &url)
        } else if n >= PER_PAGE {
            base.join(&format!(
                "api/management/v2/devauth/devices?page={}&per_page={PER_PAGE}",
                page_no + 1
            ))
            .ok()
        } else {
            None
        };
        match next {
            Some(n) if n != url => url = n,
            _ => break,
        }
    }

    let mut inventory: HashSet<String> = HashSet::new();
    for page_no in 1..=MAX_PAGES {
        let url = base
            .join(&format!(
                "api/management/v1/inventory/devices?page={page_no}&per_page={PER_PAGE}"
            ))
            .map_err(ProbeError::config)?;
        let (page, headers): (Vec<InventoryDevice>, _) =
            http.get_json_with_headers(&url, &auth).await.map_err(explain)?;
        let total = headers
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok());
        let n = page.len();
        inventory.extend(page.into_iter().map(|d| d.id));
        if n < PER_PAGE || total.is_some_and(|t| inventory.len() >= t) {
            break;
        }
    }

    let mut leftovers = DeviceLeftovers {
        devices: devices.len(),
        ..DeviceLeftovers::default()
    };
    for d in devices {
        if d.decommissioning {
            leftovers.decommissioning.push(d.id);
        } else if !inventory.contains(&d.id) {
            leftovers.missing_from_inventory.push(d.id);
        }
    }
    leftovers.decommissioning.sort();
    leftovers.missing_from_inventory.sort();
    Ok(leftovers)
}

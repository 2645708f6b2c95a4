//! The `[backendai]` section and Backend.AI's environment variables (`BACKENDAI_ENDPOINT`,
//! `BACKENDAI_ACCESS_KEY`, `BACKENDAI_SECRET_KEY`), resolved.

use serde::Deserialize;

use crate::config::{ConfigError, Secret, Sources};

/// `[backendai]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendaiSection {
    /// The manager's API endpoint (`https://manager:8081`).
    pub manager_url: Option<String>,
    /// The storage proxy's manager-facing endpoint (`http://storage-proxy:6022`).
    pub storage_proxy_url: Option<String>,
    /// The web server (`https://webui:8090`).
    pub webserver_url: Option<String>,
}

/// Backend.AI settings, resolved.
#[derive(Debug, Clone, Default)]
pub struct BackendaiConfig {
    pub manager_url: Option<String>,
    pub storage_proxy_url: Option<String>,
    pub webserver_url: Option<String>,
    /// Keypair for signed requests (superadmin, for /manager/status from 26.x).
    pub access_key: Option<String>,
    pub secret_key: Option<Secret>,
}

impl BackendaiConfig {
    /// `[backendai]` under the environment.
    ///
    /// # Errors
    /// A bad section.
    pub fn load(sources: &Sources) -> Result<BackendaiConfig, ConfigError> {
        let file: BackendaiSection = sources.section("backendai")?;
        Ok(BackendaiConfig {
            manager_url: sources.env("BACKENDAI_ENDPOINT").or(file.manager_url),
            storage_proxy_url: file.storage_proxy_url,
            webserver_url: file.webserver_url,
            access_key: sources.env("BACKENDAI_ACCESS_KEY"),
            secret_key: sources.env("BACKENDAI_SECRET_KEY").map(Secret::new),
        })
    }
}

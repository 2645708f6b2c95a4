//! The `[mender]` section and the Mender Server's environment variables (`MENDER_URL`,
//! `MENDER_TOKEN`, `MENDER_USERNAME`, `MENDER_PASSWORD`), resolved.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{parse_version, read_secret_file, ConfigError, Secret, Sources};
use crate::version::Version;

/// `[mender]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenderSection {
    /// The server's URL (`https://mender.example.com`).
    pub url: Option<String>,
    /// A personal access token (prefer MENDER_TOKEN or `token_file`).
    pub token: Option<Secret>,
    /// A file holding the personal access token.
    pub token_file: Option<PathBuf>,
    /// A user for `POST /api/management/v1/useradm/auth/login` (password: MENDER_PASSWORD).
    pub username: Option<String>,
    /// The running version (the server has no version endpoint), e.g. `3.7.4`.
    pub current: Option<String>,
    /// `open-source` or `enterprise`.
    pub edition: Option<String>,
    /// The edition after the upgrade [default: `edition`].
    pub target_edition: Option<String>,
}

/// Mender Server settings, resolved.
#[derive(Debug, Clone, Default)]
pub struct MenderConfig {
    pub url: Option<String>,
    pub token: Option<Secret>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub current: Option<Version>,
    pub edition: Option<String>,
    pub target_edition: Option<String>,
}

impl MenderConfig {
    /// `[mender]` under the environment.
    ///
    /// # Errors
    /// A bad section, an unreadable token file or a bad `current` version.
    pub fn load(sources: &Sources) -> Result<MenderConfig, ConfigError> {
        let file: MenderSection = sources.section("mender")?;
        Ok(MenderConfig {
            url: sources.env("MENDER_URL").or(file.url),
            token: match (sources.env("MENDER_TOKEN"), file.token, file.token_file) {
                (Some(t), _, _) => Some(Secret::new(t)),
                (None, Some(t), _) => Some(t),
                (None, None, Some(p)) => Some(read_secret_file("the Mender token", Path::new(&p))?),
                (None, None, None) => None,
            },
            username: sources.env("MENDER_USERNAME").or(file.username),
            password: sources.env("MENDER_PASSWORD").map(Secret::new),
            current: file
                .current
                .as_deref()
                .map(|v| parse_version("[mender] current", v))
                .transpose()?,
            target_edition: file.target_edition.or_else(|| file.edition.clone()),
            edition: file.edition,
        })
    }
}

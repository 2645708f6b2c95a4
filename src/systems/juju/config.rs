//! The `[juju]` section, resolved (the juju CLI reads its own environment, `JUJU_DATA`).

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::{ConfigError, Sources};

/// `[juju]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JujuSection {
    /// The juju CLI [default: `juju` on PATH].
    pub cli: Option<PathBuf>,
    /// `in-place` (juju upgrade-controller, the default) or `migrate` (new controller).
    #[serde(default)]
    pub upgrade: super::facts::Plan,
}

/// Juju settings, resolved.
#[derive(Debug, Clone, Default)]
pub struct JujuConfig {
    /// Set explicitly: a missing CLI is then an error, not a skip.
    pub cli: Option<PathBuf>,
    pub plan: super::facts::Plan,
}

impl JujuConfig {
    /// `[juju]`.
    ///
    /// # Errors
    /// A bad section.
    pub fn load(sources: &Sources) -> Result<JujuConfig, ConfigError> {
        let file: JujuSection = sources.section("juju")?;
        Ok(JujuConfig {
            cli: file.cli,
            plan: file.upgrade,
        })
    }
}

//! What the Juju probe reads and the Juju checks evaluate: plain types, no I/O.

use serde::Deserialize;

use crate::core::probed::ProbeError;
use crate::version::Version;

/// A model and its agent version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// `owner/name`, as `juju models` writes it.
    pub name: String,
    pub agent: Version,
    /// The controller model (`is-controller`): never migrated.
    pub is_controller: bool,
}

/// A controller, its agent version and its models, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controller {
    pub name: String,
    /// `agent-version` as `juju controllers` reported it (cached when the refresh failed).
    pub agent: Option<Version>,
    /// Every model (`juju models --all`), or the cause when the controller could not be read.
    pub models: Result<Vec<Model>, ProbeError>,
}

/// What the juju CLI told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JujuState {
    pub client: Version,
    pub controllers: Vec<Controller>,
}

/// How the operator means to upgrade (`[juju] upgrade`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Plan {
    /// `juju upgrade-controller` on the existing controller (the default).
    #[default]
    InPlace,
    /// A new controller and model migration.
    Migrate,
}

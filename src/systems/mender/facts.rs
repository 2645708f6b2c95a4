//! What the Mender probe reads and the Mender checks evaluate: plain types, no I/O.

use crate::core::probed::Probed;
use crate::version::Version;

/// What deviceauth and inventory told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceLeftovers {
    /// Devices deviceauth lists, in total.
    pub devices: usize,
    /// Ids of devices with `decommissioning: true`.
    pub decommissioning: Vec<String>,
    /// Ids of devices deviceauth lists and inventory does not.
    pub missing_from_inventory: Vec<String>,
}

/// Everything the Mender checks read.
#[derive(Debug, Clone)]
pub struct MenderFacts {
    /// `[mender] current` (the server has no version endpoint).
    pub current: Option<Version>,
    /// `[mender] edition` and `target_edition` (`open-source` or `enterprise`).
    pub edition: Option<String>,
    pub target_edition: Option<String>,
    pub devices: Probed<DeviceLeftovers>,
}

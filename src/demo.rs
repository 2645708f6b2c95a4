//! `preflight scan --demo`: every registered system starts its fakes on loopback
//! ([`crate::core::system::System::start_demo`]: a fake MAAS region with 5,000 machines, a fake Mender
//! Server, a fake Backend.AI cluster, …), and the scan runs against them from a recorded host
//! (the juju CLI's output included), so every check fires without any of those systems at hand.

use crate::config::Config;
use crate::core::scan::Scan;
use crate::core::system::DemoPart;
use crate::host::{HostSource, RecordedHost};

/// A running demo; keep it alive while scanning.
pub struct Demo {
    parts: Vec<DemoPart>,
    /// The scan to run against it.
    pub scan: Scan,
}

impl Demo {
    /// Starts every system's fakes and prepares the scan. `config` supplies targets, timeouts
    /// and formats; each system's connection settings are replaced by its demo's.
    pub async fn start(mut config: Config) -> Demo {
        let mut parts = Vec::new();
        for system in crate::systems::SYSTEMS {
            if let Some(part) = system.start_demo(&mut config).await {
                parts.push(part);
            }
        }
        let host: RecordedHost =
            serde_json::from_str(mocks::demo::HOST_JSON).expect("mocks' demo host is valid (tested)");
        Demo {
            scan: Scan::new(config, HostSource::Recorded(host)),
            parts,
        }
    }

    /// One line for stderr saying what is being scanned.
    pub fn banner(&self) -> String {
        let mut what: Vec<&str> = vec!["a recorded Ubuntu 20.04 snap host with a juju client"];
        what.extend(self.parts.iter().map(|p| p.banner.as_str()));
        let last = what.pop().unwrap_or_default();
        format!("preflight demo: scanning {} and {last}", what.join(", "))
    }
}

//! What one scan reads: the configuration and where host facts come from.

use crate::config::Config;
use crate::host::HostSource;

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct Scan {
    pub config: Config,
    /// This machine, or a recorded host (`--demo`).
    pub host: HostSource,
}

impl Scan {
    /// A scan of this machine and whatever `config` points at.
    pub fn live(config: Config) -> Scan {
        let timeout = config.timeout;
        Scan {
            config,
            host: HostSource::Live { timeout },
        }
    }
}

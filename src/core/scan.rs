//! What one scan reads: the configuration, where host facts come from, and the run's one HTTP
//! client (built on first use, shared by every system that speaks HTTP).

use std::sync::OnceLock;

use crate::config::Config;
use crate::core::probed::{ErrorKind, ProbeError};
use crate::host::HostSource;
use crate::net::http::{Http, HttpSettings, Trust};

/// First backoff delay for HTTP retries.
const BACKOFF: std::time::Duration = std::time::Duration::from_millis(250);

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct Scan {
    pub config: Config,
    /// This machine, or a recorded host (`--demo`).
    pub host: HostSource,
    /// The run's HTTP client, or why it cannot be built (an unreadable CA bundle).
    http: OnceLock<Result<Http, ProbeError>>,
    /// When the scan was set up: `--timeout` counts from here.
    started: std::time::Instant,
}

impl Scan {
    /// A scan of what `config` points at, with host facts from `host`.
    pub fn new(config: Config, host: HostSource) -> Scan {
        Scan {
            config,
            host,
            http: OnceLock::new(),
            started: std::time::Instant::now(),
        }
    }

    /// When the run's `--timeout` is over (counted from when the scan was set up): work that
    /// spans many targets one after another (hosts over ssh) stops there.
    pub fn deadline(&self) -> std::time::Instant {
        self.started + self.config.timeout
    }

    /// A scan of this machine and whatever `config` points at.
    pub fn live(config: Config) -> Scan {
        let timeout = config.timeout;
        Scan::new(config, HostSource::Live { timeout })
    }

    /// The run's one HTTP client (timeouts, retries, size cap and trust from the config),
    /// shared by every system of the scan.
    ///
    /// # Errors
    /// Why the client cannot be built (kind config: an unreadable CA bundle); every HTTP system
    /// reports the same cause.
    pub fn http(&self) -> Result<&Http, ProbeError> {
        self.http
            .get_or_init(|| {
                Http::new(
                    HttpSettings {
                        timeout: self.config.timeout,
                        retries: self.config.retries,
                        backoff: BACKOFF,
                        max_body: self.config.max_response_bytes,
                    },
                    &Trust {
                        ca_pem: self.config.ca_pem.clone(),
                        insecure: self.config.insecure,
                    },
                )
                .map_err(|e| ProbeError::new(ErrorKind::Config, e.to_string()))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_layers(
            None,
            crate::config::FileConfig::default(),
            &crate::config::Overrides::default(),
            &|_| None,
            &crate::systems::configurable(),
        )
        .unwrap()
    }

    /// Every system of a run gets the same client (one connection pool, one set of policies).
    #[test]
    fn one_client_per_run() {
        let scan = Scan::live(config());
        assert!(std::ptr::eq(scan.http().unwrap(), scan.http().unwrap()));
    }
}

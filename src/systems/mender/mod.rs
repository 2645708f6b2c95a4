//! Mender Server: the server's version (configured; the server has no version endpoint), its
//! edition, and the device auth sets left behind by decommissioned devices (FACTS.md §2).

pub mod checks;
pub mod config;
pub mod demo;
pub mod facts;
pub mod probe;

use crate::config::Configurable;
use crate::core::engine::{at, probe_http, within};
use crate::core::knowledge::KnowledgePack;
use crate::core::scan::Scan;
use crate::core::system::{Part, Planned, System};
use facts::MenderFacts;

/// The Mender Server system.
pub struct Mender;

impl Configurable for Mender {
    fn name(&self) -> &'static str {
        "mender"
    }

    fn prefix(&self) -> &'static str {
        "MENDER"
    }

    fn pack(&self) -> &'static dyn KnowledgePack {
        &checks::PACK
    }

    fn config_sections(&self) -> &'static [&'static str] {
        &["mender"]
    }

    fn load_config(
        &self,
        sources: &crate::config::Sources,
    ) -> Result<Box<dyn crate::config::SystemConfig>, crate::config::ConfigError> {
        Ok(Box::new(config::MenderConfig::load(sources)?))
    }
}

impl System for Mender {
    fn about(&self) -> &'static [&'static str] {
        &["mender"]
    }

    fn path_check(&self) -> Option<&'static str> {
        Some("MENDER001")
    }

    fn implemented(&self) -> &'static [&'static str] {
        checks::IMPLEMENTED
    }

    fn env_vars(&self) -> &'static [&'static str] {
        &["MENDER_URL", "MENDER_TOKEN", "MENDER_USERNAME", "MENDER_PASSWORD"]
    }

    fn how_to_point(&self) -> &'static str {
        "set MENDER_URL and MENDER_TOKEN (or [mender] url, token_file, current)"
    }

    fn start_demo<'a>(&'a self, config: &'a mut crate::config::Config) -> crate::core::system::DemoStart<'a> {
        Box::pin(async move { Some(demo::start(config).await) })
    }

    fn configure<'a>(&'a self, scan: &'a Scan) -> Planned<'a> {
        Box::pin(async move {
            let config = &scan.config;
            let mender = config.of::<config::MenderConfig>();
            let url = mender.url.as_deref();
            let devices = within(
                config,
                at("Mender Server", url),
                probe_http(
                    scan,
                    url,
                    "Mender Server not configured (MENDER_URL or [mender] url)",
                    |h| async move { crate::systems::mender::probe::probe(h, mender).await },
                ),
            )
            .await;
            let pack = checks::pack();
            let target = config.targets.get("mender");
            let configured = mender.url.is_some() || mender.current.is_some();
            let facts = MenderFacts {
                current: mender.current.clone(),
                edition: mender.edition.clone(),
                target_edition: mender.target_edition.clone(),
                devices,
            };
            Part {
                evaluations: checks::evaluate(pack, &facts, target, configured),
                target: configured.then(|| target.map_or_else(|| pack.newest().raw, |t| t.raw.clone())),
            }
        })
    }
}

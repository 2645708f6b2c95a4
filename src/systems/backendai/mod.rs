//! Backend.AI: the manager's version and components, agents and compute sessions, checked
//! against the release lines and upgrade paths of FACTS.md §4.

pub mod checks;
pub mod config;
pub mod demo;
pub mod facts;
pub mod probe;

use crate::config::Configurable;
use crate::core::engine::{at, probe_http, within};
use crate::core::knowledge::KnowledgePack;
use crate::core::probed::Probed;
use crate::core::scan::Scan;
use crate::core::system::{Part, Planned, System};

/// The Backend.AI system.
pub struct Backendai;

impl Configurable for Backendai {
    fn name(&self) -> &'static str {
        "backendai"
    }

    fn prefix(&self) -> &'static str {
        "BAI"
    }

    fn pack(&self) -> &'static dyn KnowledgePack {
        &checks::PACK
    }

    fn config_sections(&self) -> &'static [&'static str] {
        &["backendai"]
    }

    fn load_config(
        &self,
        sources: &crate::config::Sources,
    ) -> Result<Box<dyn crate::config::SystemConfig>, crate::config::ConfigError> {
        Ok(Box::new(config::BackendaiConfig::load(sources)?))
    }
}

impl System for Backendai {
    fn about(&self) -> &'static [&'static str] {
        &["backendai"]
    }

    fn path_check(&self) -> Option<&'static str> {
        Some("BAI002")
    }

    fn implemented(&self) -> &'static [&'static str] {
        checks::IMPLEMENTED
    }

    fn env_vars(&self) -> &'static [&'static str] {
        &["BACKENDAI_ENDPOINT", "BACKENDAI_ACCESS_KEY", "BACKENDAI_SECRET_KEY"]
    }

    fn how_to_point(&self) -> &'static str {
        "set BACKENDAI_ENDPOINT (or [backendai] manager_url)"
    }

    fn start_demo<'a>(&'a self, config: &'a mut crate::config::Config) -> crate::core::system::DemoStart<'a> {
        Box::pin(async move { Some(demo::start(config).await) })
    }

    fn configure<'a>(&'a self, scan: &'a Scan) -> Planned<'a> {
        Box::pin(async move {
            let config = &scan.config;
            let backendai = config.of::<config::BackendaiConfig>();
            let url = backendai.manager_url.as_deref();
            let reason = "Backend.AI not configured (BACKENDAI_ENDPOINT or [backendai] manager_url)";
            let state = within(
                config,
                at("Backend.AI", url),
                probe_http(scan, url, reason, |h| async move {
                    crate::systems::backendai::probe::probe(h, backendai).await
                }),
            )
            .await;
            let pack = checks::pack();
            // Without a target, the newest release preflight knows (never older than what
            // runs: the checks say so when the cluster is newer than the release list).
            let target = config.targets.get("backendai");
            Part {
                target: (!matches!(state, Probed::Skipped(_)))
                    .then(|| target.map_or_else(|| pack.newest().raw, |t| t.raw.clone())),
                evaluations: checks::evaluate(pack, &state, target),
            }
        })
    }
}

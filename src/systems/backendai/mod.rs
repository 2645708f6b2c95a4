//! Backend.AI: the manager's version and components, agents and compute sessions, checked
//! against the release lines and upgrade paths of FACTS.md §4.

pub mod checks;
pub mod config;
pub mod demo;
pub mod probe;

use crate::core::check::{CheckDef, Pack};
use crate::core::engine::{at, probe_http, within, Scan};
use crate::core::Probed;
use crate::core::{Part, Planned, System};

/// The Backend.AI pack, as shipped (`checks/backendai.toml`).
pub const PACK: &str = include_str!("../../../checks/backendai.toml");

/// The parsed Backend.AI pack (parsed once; the embedded text is tested to parse).
pub fn pack() -> &'static checks::BackendaiPack {
    static PACK_PARSED: std::sync::OnceLock<checks::BackendaiPack> = std::sync::OnceLock::new();
    PACK_PARSED.get_or_init(|| toml::from_str(PACK).expect("checks/backendai.toml is valid (tested)"))
}

/// The Backend.AI system.
pub struct Backendai;

impl System for Backendai {
    fn name(&self) -> &'static str {
        "backendai"
    }

    fn about(&self) -> &'static [&'static str] {
        &["backendai"]
    }

    fn prefix(&self) -> &'static str {
        "BAI"
    }

    fn path_check(&self) -> Option<&'static str> {
        Some("BAI002")
    }

    fn pack_file(&self) -> &'static str {
        "backendai.toml"
    }

    fn checks(&self) -> &'static [CheckDef] {
        pack().checks()
    }

    fn implemented(&self) -> &'static [&'static str] {
        checks::IMPLEMENTED
    }

    fn config_sections(&self) -> &'static [&'static str] {
        &["backendai"]
    }

    fn env_vars(&self) -> &'static [&'static str] {
        &["BACKENDAI_ENDPOINT", "BACKENDAI_ACCESS_KEY", "BACKENDAI_SECRET_KEY"]
    }

    fn how_to_point(&self) -> &'static str {
        "set BACKENDAI_ENDPOINT (or [backendai] manager_url)"
    }

    fn load_config(
        &self,
        sources: &crate::config::Sources,
    ) -> Result<Box<dyn crate::config::SystemConfig>, crate::config::ConfigError> {
        Ok(Box::new(config::BackendaiConfig::load(sources)?))
    }

    fn start_demo<'a>(&'a self, config: &'a mut crate::config::Config) -> crate::core::DemoStart<'a> {
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
                probe_http(config, url, reason, |h| async move {
                    crate::systems::backendai::probe::probe(&h, backendai).await
                }),
            )
            .await;
            let pack = pack();
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

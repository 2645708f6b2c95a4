//! Juju: every controller the juju CLI knows, its models and agent versions, checked against
//! the upgrade paths of FACTS.md §3 (in place within a series, model migration across).

pub mod checks;
pub mod config;
pub mod facts;
pub mod probe;

use crate::config::Configurable;
use crate::core::engine::{at, within};
use crate::core::knowledge::KnowledgePack;
use crate::core::probed::Probed;
use crate::core::scan::Scan;
use crate::core::system::{Part, Planned, System};

/// The Juju system.
pub struct Juju;

impl Configurable for Juju {
    fn name(&self) -> &'static str {
        "juju"
    }

    fn prefix(&self) -> &'static str {
        "JUJU"
    }

    fn pack(&self) -> &'static dyn KnowledgePack {
        &checks::PACK
    }

    fn config_sections(&self) -> &'static [&'static str] {
        &["juju"]
    }

    fn load_config(
        &self,
        sources: &crate::config::Sources,
    ) -> Result<Box<dyn crate::config::SystemConfig>, crate::config::ConfigError> {
        Ok(Box::new(config::JujuConfig::load(sources)?))
    }
}

impl System for Juju {
    fn about(&self) -> &'static [&'static str] {
        &["juju"]
    }

    fn path_check(&self) -> Option<&'static str> {
        Some("JUJU002")
    }

    fn implemented(&self) -> &'static [&'static str] {
        checks::IMPLEMENTED
    }

    /// None of its own: the juju CLI it runs reads its environment (`JUJU_DATA`) itself.
    fn env_vars(&self) -> &'static [&'static str] {
        &[]
    }

    fn how_to_point(&self) -> &'static str {
        "put the juju CLI on PATH (or set [juju] cli)"
    }

    /// The demo's recorded host answers for the juju CLI: no fakes to start, only the
    /// configured CLI path is dropped.
    fn start_demo<'a>(&'a self, config: &'a mut crate::config::Config) -> crate::core::system::DemoStart<'a> {
        config.of_mut::<config::JujuConfig>().cli = None;
        Box::pin(async { None })
    }

    fn configure<'a>(&'a self, scan: &'a Scan) -> Planned<'a> {
        Box::pin(async move {
            let config = &scan.config;
            let juju = config.of::<config::JujuConfig>();
            let cli = juju.cli.as_ref().map(|p| p.display().to_string());
            let state = within(
                config,
                at("Juju (the juju CLI)", None),
                crate::systems::juju::probe::probe(&scan.host, cli.as_deref()),
            )
            .await;
            let pack = checks::pack();
            let target = config.targets.get("juju");
            Part {
                target: (!matches!(state, Probed::Skipped(_)))
                    .then(|| target.map_or_else(|| pack.newest().raw, |t| t.raw.clone())),
                evaluations: checks::evaluate(pack, &state, target, juju.plan),
            }
        })
    }
}

//! Juju: every controller the juju CLI knows, its models and agent versions, checked against
//! the upgrade paths of FACTS.md §3 (in place within a series, model migration across).

use crate::checks::{self, Pack};
use crate::core::engine::{at, within, Scan};
use crate::core::{Part, Planned, System};
use crate::probe::Probed;

/// The Juju system.
pub struct Juju;

impl System for Juju {
    fn name(&self) -> &'static str {
        "juju"
    }

    fn prefix(&self) -> &'static str {
        "JUJU"
    }

    fn pack_file(&self) -> &'static str {
        "juju.toml"
    }

    fn checks(&self) -> &'static [checks::CheckDef] {
        checks::juju_pack().checks()
    }

    fn implemented(&self) -> &'static [&'static str] {
        checks::juju::IMPLEMENTED
    }

    fn config_sections(&self) -> &'static [&'static str] {
        &["juju"]
    }

    fn env_vars(&self) -> &'static [&'static str] {
        &["JUJU_DATA"]
    }

    fn how_to_point(&self) -> &'static str {
        "put the juju CLI on PATH (or set [juju] cli)"
    }

    fn configure<'a>(&'a self, scan: &'a Scan) -> Planned<'a> {
        Box::pin(async move {
            let config = &scan.config;
            let cli = config.juju.cli.as_ref().map(|p| p.display().to_string());
            let state = within(
                config,
                at("Juju (the juju CLI)", None),
                crate::probe::juju::probe(&scan.host, cli.as_deref()),
            )
            .await;
            let pack = checks::juju_pack();
            let target = config.targets.get("juju");
            Part {
                target: (!matches!(state, Probed::Skipped(_)))
                    .then(|| target.map_or_else(|| pack.newest().raw, |t| t.raw.clone())),
                evaluations: checks::juju::evaluate(pack, &state, target, config.juju.plan),
            }
        })
    }
}

//! Proxmox VE: every node's pve-manager, proxmox-ve and corosync, the cluster's quorum and the
//! hyper-converged Ceph versions, read through the API of any node (or, without a URL, this
//! node's `pveversion -v`), checked against the release list and the rules of upstream's
//! upgrade checkers (pve7to8, pve8to9) in checks/proxmox.toml.

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

/// How to point preflight at Proxmox VE.
const NOT_CONFIGURED: &str = "Proxmox VE not configured (PROXMOX_VE_ENDPOINT and PROXMOX_VE_API_TOKEN, or [proxmox] url and token_file) and this host is no Proxmox VE node (no pveversion)";

/// The Proxmox VE system.
pub struct Proxmox;

impl Configurable for Proxmox {
    fn name(&self) -> &'static str {
        "proxmox"
    }

    fn prefix(&self) -> &'static str {
        "PVE"
    }

    fn pack(&self) -> &'static dyn KnowledgePack {
        &checks::PACK
    }

    fn config_sections(&self) -> &'static [&'static str] {
        &["proxmox"]
    }

    fn load_config(
        &self,
        sources: &crate::config::Sources,
    ) -> Result<Box<dyn crate::config::SystemConfig>, crate::config::ConfigError> {
        Ok(Box::new(config::ProxmoxConfig::load(sources)?))
    }
}

impl System for Proxmox {
    fn about(&self) -> &'static [&'static str] {
        &["proxmox"]
    }

    fn path_check(&self) -> Option<&'static str> {
        Some("PVE001")
    }

    fn implemented(&self) -> &'static [&'static str] {
        checks::IMPLEMENTED
    }

    fn env_vars(&self) -> &'static [&'static str] {
        &["PROXMOX_VE_ENDPOINT", "PROXMOX_VE_API_TOKEN"]
    }

    fn how_to_point(&self) -> &'static str {
        "set PROXMOX_VE_ENDPOINT and PROXMOX_VE_API_TOKEN (or [proxmox] url and token_file), or run on a Proxmox VE node (pveversion -v)"
    }

    fn start_demo<'a>(&'a self, config: &'a mut crate::config::Config) -> crate::core::system::DemoStart<'a> {
        Box::pin(async move { Some(demo::start(config).await) })
    }

    fn configure<'a>(&'a self, scan: &'a Scan) -> Planned<'a> {
        Box::pin(async move {
            let config = &scan.config;
            let proxmox = config.of::<config::ProxmoxConfig>();
            let url = proxmox.url.as_deref();
            let state = match url {
                Some(_) => {
                    within(
                        config,
                        at("Proxmox VE", url),
                        probe_http(
                            scan,
                            url,
                            NOT_CONFIGURED,
                            |h| async move { probe::probe(h, proxmox).await },
                        ),
                    )
                    .await
                }
                None => within(config, "pveversion -v".into(), probe::local(&scan.host, NOT_CONFIGURED)).await,
            };
            let pack = checks::pack();
            // Without a target, the newest release preflight knows (never older than what
            // runs: PVE001 says so when the cluster is newer than the release list).
            let target = config.targets.get("proxmox");
            Part {
                target: (!matches!(state, Probed::Skipped(_)))
                    .then(|| target.map_or_else(|| pack.newest().raw, |t| t.raw.clone())),
                evaluations: checks::evaluate(pack, &state, target),
            }
        })
    }
}

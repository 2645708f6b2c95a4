//! Mender Server: the server's version (configured; the server has no version endpoint), its
//! edition, and the device auth sets left behind by decommissioned devices (FACTS.md §2).

use crate::checks::mender::MenderFacts;
use crate::checks::{self, Pack};
use crate::core::engine::{at, probe_http, within, Scan};
use crate::core::{Part, Planned, System};

/// The Mender Server system.
pub struct Mender;

impl System for Mender {
    fn name(&self) -> &'static str {
        "mender"
    }

    fn prefix(&self) -> &'static str {
        "MENDER"
    }

    fn pack_file(&self) -> &'static str {
        "mender.toml"
    }

    fn checks(&self) -> &'static [checks::CheckDef] {
        checks::mender_pack().checks()
    }

    fn implemented(&self) -> &'static [&'static str] {
        checks::mender::IMPLEMENTED
    }

    fn config_sections(&self) -> &'static [&'static str] {
        &["mender"]
    }

    fn env_vars(&self) -> &'static [&'static str] {
        &["MENDER_URL", "MENDER_TOKEN", "MENDER_USERNAME", "MENDER_PASSWORD"]
    }

    fn how_to_point(&self) -> &'static str {
        "set MENDER_URL and MENDER_TOKEN (or [mender] url, token_file, current)"
    }

    fn configure<'a>(&'a self, scan: &'a Scan) -> Planned<'a> {
        Box::pin(async move {
            let config = &scan.config;
            let url = config.mender.url.as_deref();
            let devices = within(
                config,
                at("Mender Server", url),
                probe_http(
                    config,
                    url,
                    "Mender Server not configured (MENDER_URL or [mender] url)",
                    |h| async move { crate::probe::mender::probe(&h, &config.mender).await },
                ),
            )
            .await;
            let pack = checks::mender_pack();
            let target = config.targets.get("mender");
            let configured = config.mender.url.is_some() || config.mender.current.is_some();
            let facts = MenderFacts {
                current: config.mender.current.clone(),
                edition: config.mender.edition.clone(),
                target_edition: config.mender.target_edition.clone(),
                devices,
            };
            Part {
                evaluations: checks::mender::evaluate(pack, &facts, target, configured),
                target: configured.then(|| target.map_or_else(|| pack.newest().raw, |t| t.raw.clone())),
            }
        })
    }
}

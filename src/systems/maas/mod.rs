//! MAAS: its region and rack controllers, API and PostgreSQL database, and the hosts they run
//! on (FACTS.md §1). The MAAS system also owns `preflight bmc` ([`bmc_command`]).

pub mod bmc;
pub mod bmc_command;
pub mod checks;
pub mod config;
pub mod demo;
pub mod facts;
pub mod fleet;
pub mod host_document;
pub mod probe_api;
pub mod probe_host;
pub mod probe_postgres;

use crate::config::Config;
use crate::config::Configurable;
use crate::core::engine::{at, within};
use crate::core::knowledge::KnowledgePack;
use crate::core::probed::{ErrorKind, ProbeError, Probed};
use crate::core::scan::Scan;
use crate::core::system::{Part, Planned, System};
use crate::systems::maas::facts::{BmcTable, PgFacts};
use crate::systems::maas::probe_api::{ApiKey, MaasApi};
use crate::systems::maas::probe_postgres::PgTarget;
use checks::MaasFacts;
use config::MaasConfig;
use facts::HostFacts;

/// The MAAS system.
pub struct Maas;

impl Configurable for Maas {
    fn name(&self) -> &'static str {
        "maas"
    }

    fn prefix(&self) -> &'static str {
        "MAAS"
    }

    fn pack(&self) -> &'static dyn KnowledgePack {
        &checks::PACK
    }

    fn config_sections(&self) -> &'static [&'static str] {
        &["maas", "postgresql"]
    }

    fn load_config(
        &self,
        sources: &crate::config::Sources,
    ) -> Result<Box<dyn crate::config::SystemConfig>, crate::config::ConfigError> {
        Ok(Box::new(config::MaasConfig::load(sources)?))
    }
}

impl System for Maas {
    fn about(&self) -> &'static [&'static str] {
        &["host", "postgresql", "maas"]
    }

    fn path_check(&self) -> Option<&'static str> {
        Some("MAAS001")
    }

    fn implemented(&self) -> &'static [&'static str] {
        checks::IMPLEMENTED
    }

    fn env_vars(&self) -> &'static [&'static str] {
        &[
            "MAAS_URL",
            "MAAS_API_KEY",
            "MAAS_API_KEY_FILE",
            "DATABASE_URL",
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGPASSWORD",
            "PGDATABASE",
        ]
    }

    fn how_to_point(&self) -> &'static str {
        "set MAAS_URL and MAAS_API_KEY (or MAAS_API_KEY_FILE), DATABASE_URL or PGHOST…, or run on a MAAS region or rack controller"
    }

    fn start_demo<'a>(&'a self, config: &'a mut crate::config::Config) -> crate::core::system::DemoStart<'a> {
        Box::pin(async move { Some(demo::start(config).await) })
    }

    fn configure<'a>(&'a self, scan: &'a Scan) -> Planned<'a> {
        Box::pin(run(scan))
    }
}

/// The host first (it may name the database and the API), then the database and the API
/// concurrently; then every MAAS check. The target is always shown (the newest release when
/// none is given).
async fn run(scan: &Scan) -> Part {
    let pack = checks::pack();
    let given = scan.config.targets.get("maas");
    let target = given.cloned().unwrap_or_else(|| pack.newest());
    let host = probe_host::probe(&scan.host).await;
    let postgres = async {
        match &scan.config.of::<MaasConfig>().recorded_postgres {
            Some(recorded) => (
                Probed::Found(recorded.clone()),
                Probed::Skipped("the recorded database holds no BMC rows".into()),
            ),
            None => probe_postgres(&scan.config, &host).await,
        }
    };
    let ((postgres, bmcs), api) = tokio::join!(
        postgres,
        within(
            &scan.config,
            at("the MAAS API", scan.config.of::<MaasConfig>().url.as_deref()),
            probe_maas_api(scan, &host)
        ),
    );
    let inspected = fleet::inspect(&scan.config.of::<MaasConfig>().fleet, &api, scan.deadline()).await;
    let facts = MaasFacts {
        host,
        postgres,
        api,
        bmcs,
        configured_current: scan.config.of::<MaasConfig>().current.clone(),
        inspected,
    };
    Part {
        evaluations: checks::evaluate(pack, &facts, given),
        target: Some(target.raw.clone()),
    }
}

/// The database's facts and, when MAAS004 or MAAS005 is selected, its BMC rows (the truth
/// those checks prefer over the API).
async fn probe_postgres(config: &Config, host: &HostFacts) -> (Probed<PgFacts>, Probed<BmcTable>) {
    let regiond = match &host.regiond {
        Some(Ok(conf)) => Some(conf),
        Some(Err(cause)) if config.of::<MaasConfig>().pg_dsn.is_none() => {
            return (Probed::Failed(cause.clone()), Probed::Failed(cause.clone()))
        }
        _ => None,
    };
    let target = match PgTarget::resolve(config, regiond) {
        Ok(Some(t)) => t,
        Ok(None) => {
            let reason = "no database configured: set DATABASE_URL (or PGHOST…) or [postgresql] url, or run on a MAAS region controller (regiond.conf)";
            return (Probed::Skipped(reason.into()), Probed::Skipped(reason.into()));
        }
        Err(e) => {
            let e = ProbeError::from(e);
            return (Probed::Failed(e.clone()), Probed::Failed(e));
        }
    };
    let wants_rows = ["MAAS004", "MAAS005"].iter().any(|id| config.selection.includes(id));
    let probe = async {
        let facts = match target.probe(config.timeout).await {
            Ok(facts) => facts,
            Err(e) => {
                let e = ProbeError::from(e);
                return (Probed::Failed(e.clone()), Probed::Failed(e));
            }
        };
        let rows = if !wants_rows {
            Probed::Skipped("MAAS004 and MAAS005 are not selected".into())
        } else {
            match target.read_bmcs(&checks::pack().bmc, config.timeout).await {
                Ok(table) => Probed::Found(table),
                Err(e) => Probed::Failed(e.into()),
            }
        };
        (Probed::Found(facts), rows)
    };
    // The run's deadline names the endpoint too: it can fire before the probe's own timeout.
    let what = format!("PostgreSQL at {}", target.endpoint());
    match tokio::time::timeout(config.timeout, probe).await {
        Ok(both) => both,
        Err(_) => {
            let cause = ProbeError::new(
                ErrorKind::Timeout,
                format!(
                    "{what} did not answer within {} s (--timeout bounds the whole run)",
                    config.timeout.as_secs()
                ),
            );
            (Probed::Failed(cause.clone()), Probed::Failed(cause))
        }
    }
}

async fn probe_maas_api(scan: &Scan, host: &HostFacts) -> Probed<crate::systems::maas::facts::MaasApiFacts> {
    let config = &scan.config;
    // With an API key but no URL, a region controller's regiond.conf says where the API is.
    let discovered = match (&config.of::<MaasConfig>().api_key, &host.regiond) {
        (Some(_), Some(Ok(conf))) => conf.maas_url.as_ref(),
        _ => None,
    };
    let Some(url) = config.of::<MaasConfig>().url.as_ref().or(discovered) else {
        return Probed::Skipped(
            "MAAS API not configured: set MAAS_URL and MAAS_API_KEY (or [maas] url / api_key_file)".into(),
        );
    };
    let key = match config
        .of::<MaasConfig>()
        .api_key
        .as_ref()
        .map(ApiKey::parse)
        .transpose()
    {
        Ok(k) => k,
        Err(e) => return Probed::Failed(ProbeError::config(e)),
    };
    let http = match scan.http() {
        Ok(h) => h,
        Err(e) => return Probed::Failed(e),
    };
    let api = match MaasApi::new(http, url, key, config.of::<MaasConfig>().concurrency) {
        Ok(api) => api,
        Err(e) => return Probed::Failed(e.into()),
    };
    match api.probe(&checks::pack().bmc).await {
        Ok(facts) => Probed::Found(facts),
        Err(e) => Probed::Failed(e.into()),
    }
}

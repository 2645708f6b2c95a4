//! The engine: reads each system once (host first, then database and MAAS API concurrently),
//! evaluates every check, and builds the one [`Report`]. Probes do I/O; checks decide;
//! renderers only render.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::checks::{self, maas::MaasFacts};
use crate::config::Config;
use crate::probe::host::{self, HostFacts, HostSource};
use crate::probe::http::{Http, HttpSettings};
use crate::probe::maas::{ApiKey, MaasApi};
use crate::probe::postgres::{PgFacts, PgTarget};
use crate::probe::Probed;
use crate::report::Report;

/// First backoff delay for HTTP retries.
const BACKOFF: std::time::Duration = std::time::Duration::from_millis(250);

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct Scan {
    pub config: Config,
    /// This machine, or a recorded host (`--demo`).
    pub host: HostSource,
    /// Recorded database facts that replace the database probe (`--demo`).
    pub postgres: Option<PgFacts>,
}

impl Scan {
    /// A scan of this machine and whatever `config` points at.
    pub fn live(config: Config) -> Scan {
        let timeout = config.timeout;
        Scan {
            config,
            host: HostSource::Live { timeout },
            postgres: None,
        }
    }
}

async fn probe_postgres(config: &Config, host: &HostFacts) -> Probed<PgFacts> {
    let regiond = match &host.regiond {
        Some(Ok(conf)) => Some(conf),
        Some(Err(cause)) if config.pg_dsn.is_none() => return Probed::Failed(cause.clone()),
        _ => None,
    };
    let target = match PgTarget::resolve(config, regiond) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Probed::Skipped(
                "no database configured: set DATABASE_URL (or PGHOST…) or [postgresql] url, or run on a MAAS region controller (regiond.conf)".into(),
            )
        }
        Err(e) => return Probed::Failed(e.to_string()),
    };
    match target.probe(config.timeout).await {
        Ok(facts) => Probed::Found(facts),
        Err(e) => Probed::Failed(e.to_string()),
    }
}

async fn probe_maas_api(
    config: &Config,
    host: &HostFacts,
) -> Probed<crate::probe::maas::MaasApiFacts> {
    // With an API key but no URL, a region controller's regiond.conf says where the API is.
    let discovered = match (&config.maas_api_key, &host.regiond) {
        (Some(_), Some(Ok(conf))) => conf.maas_url.as_ref(),
        _ => None,
    };
    let Some(url) = config.maas_url.as_ref().or(discovered) else {
        return Probed::Skipped(
            "MAAS API not configured: set MAAS_URL and MAAS_API_KEY (or [maas] url / api_key_file)"
                .into(),
        );
    };
    let key = match config.maas_api_key.as_ref().map(ApiKey::parse).transpose() {
        Ok(k) => k,
        Err(e) => return Probed::Failed(e.to_string()),
    };
    let http = match Http::new(HttpSettings {
        timeout: config.timeout,
        retries: config.retries,
        backoff: BACKOFF,
        max_body: config.max_response_bytes,
    }) {
        Ok(h) => h,
        Err(e) => return Probed::Failed(e.to_string()),
    };
    let api = match MaasApi::new(&http, url, key, config.concurrency) {
        Ok(api) => api,
        Err(e) => return Probed::Failed(e.to_string()),
    };
    match api.probe(&checks::maas_pack().bmc).await {
        Ok(facts) => Probed::Found(facts),
        Err(e) => Probed::Failed(e.to_string()),
    }
}

/// Runs the scan and returns the report. Never fails: what cannot be read becomes outcome
/// `error` in the report.
pub async fn run(scan: &Scan) -> Report {
    let started = Instant::now();
    let pack = checks::maas_pack();
    let target = scan
        .config
        .targets
        .get("maas")
        .cloned()
        .unwrap_or_else(|| pack.newest());

    let host = host::probe(&scan.host).await;
    let postgres = async {
        match &scan.postgres {
            Some(recorded) => Probed::Found(recorded.clone()),
            None => probe_postgres(&scan.config, &host).await,
        }
    };
    let (postgres, api) = tokio::join!(postgres, probe_maas_api(&scan.config, &host));
    let facts = MaasFacts {
        host,
        postgres,
        api,
        configured_current: scan.config.maas_current.clone(),
    };
    let mut findings = Vec::new();
    let mut outcomes = Vec::new();
    for e in checks::maas::evaluate(pack, &facts, &target) {
        findings.extend(e.findings);
        outcomes.push(e.outcome);
    }
    let targets = BTreeMap::from([("maas".to_string(), target.raw.clone())]);
    Report::new(
        targets,
        findings,
        outcomes,
        started.elapsed().as_millis() as u64,
    )
}

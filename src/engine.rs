//! The engine: reads each system once (host first, then database and MAAS API concurrently),
//! evaluates every check, and builds the one [`Report`]. Probes do I/O; checks decide;
//! renderers only render.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::checks::backendai::BackendaiState;
use crate::checks::bmc::{find_groups, Groups, PowerTypes};
use crate::checks::maas::{
    collision_blockers, collision_evaluation, database_view, named_groups, not_object_blockers, power_type_notes,
    shared_address_evaluation, shared_address_evaluation_of, BmcView, Hostnames, MaasFacts,
};
use crate::checks::mender::{DeviceLeftovers, MenderFacts};
use crate::checks::{self, Evaluation, MaasPack, Pack};
use crate::config::Config;
use crate::probe::host::{self, HostFacts, HostSource};
use crate::probe::http::{Http, HttpSettings, Trust};
use crate::probe::maas::{ApiKey, MaasApi};
use crate::probe::machine_list::MachineList;
use crate::probe::postgres::{BmcTable, Migration0290, PgFacts, PgTarget};
use crate::probe::power_parameters::{self, PowerInput};
use crate::probe::Probed;
use crate::probe::{backendai, juju, mender};
use crate::report::{Finding, Report};

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

/// The database's facts and, when MAAS004 or MAAS005 is selected, its BMC rows (the truth
/// those checks prefer over the API).
async fn probe_postgres(config: &Config, host: &HostFacts) -> (Probed<PgFacts>, Probed<BmcTable>) {
    let regiond = match &host.regiond {
        Some(Ok(conf)) => Some(conf),
        Some(Err(cause)) if config.pg_dsn.is_none() => {
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
        Err(e) => return (Probed::Failed(e.to_string()), Probed::Failed(e.to_string())),
    };
    let wants_rows = ["MAAS004", "MAAS005"].iter().any(|id| config.selection.includes(id));
    let probe = async {
        let facts = match target.probe(config.timeout).await {
            Ok(facts) => facts,
            Err(e) => return (Probed::Failed(e.to_string()), Probed::Failed(e.to_string())),
        };
        let rows = if !wants_rows {
            Probed::Skipped("MAAS004 and MAAS005 are not selected".into())
        } else {
            match target.read_bmcs(&checks::maas_pack().bmc, config.timeout).await {
                Ok(table) => Probed::Found(table),
                Err(e) => Probed::Failed(e.to_string()),
            }
        };
        (Probed::Found(facts), rows)
    };
    // The run's deadline names the endpoint too: it can fire before the probe's own timeout.
    let what = format!("PostgreSQL at {}", target.endpoint());
    match tokio::time::timeout(config.timeout, probe).await {
        Ok(both) => both,
        Err(_) => {
            let cause = format!(
                "{what} did not answer within {} s (--timeout bounds the whole run)",
                config.timeout.as_secs()
            );
            (Probed::Failed(cause.clone()), Probed::Failed(cause))
        }
    }
}

async fn probe_maas_api(config: &Config, host: &HostFacts) -> Probed<crate::probe::maas::MaasApiFacts> {
    // With an API key but no URL, a region controller's regiond.conf says where the API is.
    let discovered = match (&config.maas_api_key, &host.regiond) {
        (Some(_), Some(Ok(conf))) => conf.maas_url.as_ref(),
        _ => None,
    };
    let Some(url) = config.maas_url.as_ref().or(discovered) else {
        return Probed::Skipped(
            "MAAS API not configured: set MAAS_URL and MAAS_API_KEY (or [maas] url / api_key_file)".into(),
        );
    };
    let key = match config.maas_api_key.as_ref().map(ApiKey::parse).transpose() {
        Ok(k) => k,
        Err(e) => return Probed::Failed(e.to_string()),
    };
    let http = match http(config) {
        Ok(h) => h,
        Err(e) => return Probed::Failed(e),
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

fn http(config: &Config) -> Result<Http, String> {
    Http::new(
        HttpSettings {
            timeout: config.timeout,
            retries: config.retries,
            backoff: BACKOFF,
            max_body: config.max_response_bytes,
        },
        &Trust {
            ca_pem: config.ca_pem.clone(),
            insecure: config.insecure,
        },
    )
    .map_err(|e| e.to_string())
}

/// Probes an HTTP system: skipped with `not_configured` when `url` is unset, else `probe`'s
/// result through one client.
async fn probe_http<T, Fut>(
    config: &Config,
    url: Option<&str>,
    not_configured: &str,
    probe: impl FnOnce(Http) -> Fut,
) -> Probed<T>
where
    Fut: std::future::Future<Output = Result<T, String>>,
{
    if url.is_none() {
        return Probed::Skipped(not_configured.into());
    }
    let result = match http(config) {
        Ok(h) => probe(h).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(t) => Probed::Found(t),
        Err(e) => Probed::Failed(e),
    }
}

async fn probe_mender(config: &Config) -> Probed<DeviceLeftovers> {
    let url = config.mender.url.as_deref();
    probe_http(
        config,
        url,
        "Mender Server not configured (MENDER_URL or [mender] url)",
        |h| async move { mender::probe(&h, &config.mender).await },
    )
    .await
}

async fn probe_backendai(config: &Config) -> Probed<BackendaiState> {
    let url = config.backendai.manager_url.as_deref();
    let reason = "Backend.AI not configured (BACKENDAI_ENDPOINT or [backendai] manager_url)";
    probe_http(config, url, reason, |h| async move {
        backendai::probe(&h, &config.backendai).await
    })
    .await
}

/// The other systems of FACTS.md §2–§4, probed and evaluated; (system, target) of each one
/// that is configured or discovered.
async fn other_systems(scan: &Scan) -> (Vec<Evaluation>, Vec<(String, String)>) {
    let config = &scan.config;
    let juju_cli = config.juju.cli.as_ref().map(|p| p.display().to_string());
    let (devices, juju_state, bai_state) = tokio::join!(
        within(
            config,
            at("Mender Server", config.mender.url.as_deref()),
            probe_mender(config)
        ),
        within(
            config,
            at("Juju (the juju CLI)", None),
            juju::probe(&scan.host, juju_cli.as_deref())
        ),
        within(
            config,
            at("Backend.AI", config.backendai.manager_url.as_deref()),
            probe_backendai(config)
        ),
    );
    let mut evaluations = Vec::new();
    let mut targets = Vec::new();

    let mender_pack = checks::mender_pack();
    let mender_target = config.targets.get("mender");
    let mender_configured = config.mender.url.is_some() || config.mender.current.is_some();
    let facts = MenderFacts {
        current: config.mender.current.clone(),
        edition: config.mender.edition.clone(),
        target_edition: config.mender.target_edition.clone(),
        devices,
    };
    evaluations.extend(checks::mender::evaluate(
        mender_pack,
        &facts,
        mender_target,
        mender_configured,
    ));
    if mender_configured {
        let shown = mender_target.map_or_else(|| mender_pack.newest().raw, |t| t.raw.clone());
        targets.push(("mender".to_string(), shown));
    }

    let juju_pack = checks::juju_pack();
    let juju_target = config.targets.get("juju");
    if !matches!(juju_state, Probed::Skipped(_)) {
        let shown = juju_target.map_or_else(|| juju_pack.newest().raw, |t| t.raw.clone());
        targets.push(("juju".to_string(), shown));
    }
    evaluations.extend(checks::juju::evaluate(
        juju_pack,
        &juju_state,
        juju_target,
        config.juju.plan,
    ));

    let bai_pack = checks::backendai_pack();
    // Without a target, the newest release preflight knows (never older than what runs: the
    // checks say so when the cluster is newer than the release list).
    let bai_target = config.targets.get("backendai");
    if !matches!(bai_state, Probed::Skipped(_)) {
        let shown = bai_target.map_or_else(|| bai_pack.newest().raw, |t| t.raw.clone());
        targets.push(("backendai".to_string(), shown));
    }
    evaluations.extend(checks::backendai::evaluate(bai_pack, &bai_state, bai_target));
    (evaluations, targets)
}

/// `system at URL` for messages (user-info removed from the URL).
fn at(system: &str, url: Option<&str>) -> String {
    match url.and_then(|u| reqwest::Url::parse(u).ok()) {
        Some(u) => format!("{system} at {}", crate::probe::http::display_url(&u)),
        None => system.to_string(),
    }
}

/// `probe`, or a failure naming `system` when it has not finished by the run's deadline.
async fn within<T>(config: &Config, system: String, probe: impl std::future::Future<Output = Probed<T>>) -> Probed<T> {
    match tokio::time::timeout(config.timeout, probe).await {
        Ok(p) => p,
        Err(_) => Probed::Failed(format!(
            "{system} did not answer within {} s (--timeout bounds the whole run)",
            config.timeout.as_secs()
        )),
    }
}

/// Runs the scan and returns the report. Never fails: what cannot be read becomes outcome
/// `error` in the report.
pub async fn run(scan: &Scan) -> Report {
    let started = Instant::now();
    let pack = checks::maas_pack();
    let given = scan.config.targets.get("maas");
    let target = given.cloned().unwrap_or_else(|| pack.newest());
    let others = other_systems(scan);

    let host = host::probe(&scan.host).await;
    let postgres = async {
        match &scan.postgres {
            Some(recorded) => (
                Probed::Found(recorded.clone()),
                Probed::Skipped("the recorded database holds no BMC rows".into()),
            ),
            None => probe_postgres(&scan.config, &host).await,
        }
    };
    let ((postgres, bmcs), api, (other_evaluations, other_targets)) = tokio::join!(
        postgres,
        within(
            &scan.config,
            at("the MAAS API", scan.config.maas_url.as_deref()),
            probe_maas_api(&scan.config, &host)
        ),
        others
    );
    let facts = MaasFacts {
        host,
        postgres,
        api,
        bmcs,
        configured_current: scan.config.maas_current.clone(),
    };
    let evaluations = checks::maas::evaluate(pack, &facts, given)
        .into_iter()
        .chain(other_evaluations);
    let mut targets = BTreeMap::from([("maas".to_string(), target.raw.clone())]);
    targets.extend(other_targets);
    finish(&scan.config, targets, evaluations, started)
}

/// The report of `evaluations`: only the selected checks, under the configured gating policy.
fn finish(
    config: &Config,
    targets: BTreeMap<String, String>,
    evaluations: impl IntoIterator<Item = Evaluation>,
    started: Instant,
) -> Report {
    let mut findings = Vec::new();
    let mut outcomes = Vec::new();
    for e in evaluations
        .into_iter()
        .filter(|e| config.selection.includes(&e.outcome.check))
    {
        findings.extend(e.findings);
        outcomes.push(e.outcome);
    }
    let mut report = Report::new(targets, findings, outcomes, started.elapsed().as_millis() as u64);
    if config.insecure {
        report.notices.push(
            "TLS certificate verification is OFF ([scan] insecure = true): any server could have answered for the systems above"
                .into(),
        );
    }
    let today = time::OffsetDateTime::now_utc().date();
    crate::waivers::apply(&mut report, &config.waivers, config.baseline.as_ref(), today);
    report.apply_policy(config.policy);
    report
}

/// Where `preflight bmc` reads BMCs from.
#[derive(Debug, Clone)]
pub enum BmcSource {
    /// A power-parameters document (`-` is stdin), optionally joined with a machine list.
    File { input: PathBuf, machines: Option<PathBuf> },
    /// The MAAS database (`maasserver_bmc`), from the configured or discovered connection.
    Database,
}

fn bmc_outcomes(pack: &MaasPack, cause: &str) -> Vec<Evaluation> {
    ["MAAS004", "MAAS005"]
        .iter()
        .map(|id| Evaluation::error(pack.def(id), cause))
        .collect()
}

/// The machine list (`maas $PROFILE machines read`), streamed: a real list is 5–18 KB per
/// machine, and only `system_id`, `hostname` and `power_type` are kept (in one text).
fn read_machine_list(path: &Path) -> Result<MachineList, String> {
    let file = File::open(path).map_err(|e| format!("cannot read the machine list {}: {e}", path.display()))?;
    let started = Instant::now();
    let list = crate::probe::machine_list::read(file).map_err(|e| format!("{}: {e}", path.display()))?;
    tracing::info!(
        "read {} machines from {} in {:?}",
        list.len(),
        path.display(),
        started.elapsed()
    );
    Ok(list)
}

async fn bmc_from_file(pack: &'static MaasPack, input: &Path, machines: Option<&Path>) -> Vec<Evaluation> {
    let started = Instant::now();
    let list = machines.map(Path::to_path_buf);
    let machines = match tokio::task::spawn_blocking(move || list.as_deref().map(read_machine_list).transpose()).await {
        Ok(Ok(m)) => m,
        Ok(Err(cause)) => return bmc_outcomes(pack, &cause),
        Err(e) => return bmc_outcomes(pack, &format!("reading the machine list failed: {e}")),
    };
    let mut types = PowerTypes::new(&pack.bmc);
    let given: Option<power_parameters::GivenTypes> =
        machines.map(|list| power_parameters::GivenTypes::new(list, &mut types));
    let name = if input == Path::new("-") {
        "standard input".to_string()
    } else {
        input.display().to_string()
    };
    let input = input.to_path_buf();
    let parsed = tokio::task::spawn_blocking(move || {
        let power = PowerInput {
            rules: &pack.bmc,
            types: &types,
            given: given.as_ref(),
        };
        let obs = if input == Path::new("-") {
            power_parameters::read(std::io::stdin().lock(), &power).map_err(|e| e.to_string())
        } else {
            match File::open(&input) {
                Ok(file) => power_parameters::read(file, &power).map_err(|e| e.to_string()),
                Err(e) => Err(format!("cannot open: {e}")),
            }
        };
        (obs, given)
    })
    .await;
    let (obs, given) = match parsed {
        Ok((Ok(obs), given)) => {
            tracing::info!("read {} machines from {name} in {:?}", obs.len(), started.elapsed());
            (obs, given)
        }
        Ok((Err(cause), _)) => return bmc_outcomes(pack, &format!("cannot read {name}: {cause}")),
        Err(e) => return bmc_outcomes(pack, &format!("reading {name} failed: {e}")),
    };
    let view = BmcView {
        obs: &obs,
        hostnames: given
            .as_ref()
            .map_or_else(Hostnames::default, |g| Hostnames::of_list(g.machines())),
        kinds: None,
        rows: None,
    };
    evaluate_both(pack, &view, Vec::new())
}

/// MAAS004 and MAAS005 over one view: both checks' groups are found together (on two threads),
/// then MAAS005's warnings and MAAS004's notes on power types are built on one thread while
/// MAAS004's blockers are built on this one.
/// `extra` are further MAAS004 blockers (database rows 0290 cannot read).
fn evaluate_both(pack: &MaasPack, view: &BmcView, extra: Vec<Finding>) -> Vec<Evaluation> {
    let Groups {
        collisions,
        shared_addresses,
    } = find_groups(&pack.bmc, view.obs);
    std::thread::scope(|scope| {
        let other = scope.spawn(move || {
            let shared = shared_address_evaluation_of(pack, view, shared_addresses);
            (shared, power_type_notes(pack, view))
        });
        let mut blockers = extra;
        blockers.extend(collision_blockers(pack, view, named_groups(collisions)));
        match other.join() {
            Ok((shared, notes)) => vec![collision_evaluation(pack, view, blockers, notes), shared],
            Err(_) => ["MAAS004", "MAAS005"]
                .map(|id| Evaluation::error(pack.def(id), "the detector's thread panicked"))
                .into(),
        }
    })
}

async fn bmc_from_database(pack: &'static MaasPack, config: &Config, host: &HostSource) -> Vec<Evaluation> {
    let facts = host::probe(host).await;
    let regiond = facts.regiond.as_ref().and_then(|r| r.as_ref().ok());
    let target = match PgTarget::resolve(config, regiond) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return bmc_outcomes(
                pack,
                "no database configured: pass --database DSN, set DATABASE_URL (or PGHOST…) or [postgresql] url, or run on a MAAS region controller",
            )
        }
        Err(e) => return bmc_outcomes(pack, &e.to_string()),
    };
    let table = match target.read_bmcs(&pack.bmc, config.timeout).await {
        Ok(t) => t,
        Err(e) => return bmc_outcomes(pack, &e.to_string()),
    };
    let view = database_view(&table);
    if table.migration_0290 != Migration0290::Applied {
        return evaluate_both(pack, &view, not_object_blockers(pack, &table.not_objects));
    }
    let applied = Evaluation::pass(
        pack.def("MAAS004"),
        format!(
            "migration 0290 already applied in {}: nothing left to collide",
            table.endpoint
        ),
    );
    vec![applied, shared_address_evaluation(pack, &view)]
}

/// Runs the duplicate-BMC checks (MAAS004, MAAS005) on a file or the database and returns the
/// report. Never fails: what cannot be read becomes outcome `error`.
pub async fn run_bmc(config: &Config, source: &BmcSource, host: &HostSource) -> Report {
    let started = Instant::now();
    let pack = checks::maas_pack();
    let evaluations = match source {
        BmcSource::File { input, machines } => bmc_from_file(pack, input, machines.as_deref()).await,
        BmcSource::Database => bmc_from_database(pack, config, host).await,
    };
    tracing::info!("duplicate-BMC checks done in {:?}", started.elapsed());
    finish(config, BTreeMap::new(), evaluations, started)
}

//! `preflight bmc`: the duplicate-BMC checks (MAAS004, MAAS005) alone, on a power-parameters
//! file (optionally joined with a machine list) or on the MAAS database.

use super::config::{DsnOrigin, MaasConfig};
use crate::config::Secret;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::Config;
use crate::core::check::{Evaluation, Pack};
use crate::core::engine::finish;
use crate::core::probed::{ErrorKind, ProbeError};
use crate::host::HostSource;
use crate::report::{Finding, Report};
use crate::systems::maas::bmc::machine_list::{Found, MachineList, MachineListError};
use crate::systems::maas::bmc::pieces::Document;
use crate::systems::maas::bmc::power_parameters::{self, PowerInput};
use crate::systems::maas::bmc::{find_groups, Groups, PowerTypes};
use crate::systems::maas::checks::MaasPack;
use crate::systems::maas::checks::{
    collision_blockers, collision_evaluation, database_view, named_groups, not_object_blockers, power_type_notes,
    shared_address_evaluation, shared_address_evaluation_of, BmcView, Hostnames,
};
use crate::systems::maas::facts::Migration0290;
use crate::systems::maas::probe_postgres::PgTarget;

/// Points `config` at the database `dsn` given with `preflight bmc --database DSN` (the
/// caller has checked it holds no password).
pub fn use_database(config: &mut Config, dsn: &str) {
    config.of_mut::<MaasConfig>().pg_dsn = Some((Secret::new(dsn.to_string()), DsnOrigin::Flag));
}

/// Where `preflight bmc` reads BMCs from.
#[derive(Debug, Clone)]
pub enum BmcSource {
    /// A power-parameters document (`-` is stdin), optionally joined with a machine list.
    File { input: PathBuf, machines: Option<PathBuf> },
    /// The MAAS database (`maasserver_bmc`), from the configured or discovered connection.
    Database,
}

fn bmc_outcomes(pack: &MaasPack, cause: &ProbeError) -> Vec<Evaluation> {
    ["MAAS004", "MAAS005"]
        .iter()
        .map(|id| Evaluation::error(pack.def(id), cause.clone()))
        .collect()
}

/// A helper thread that did not finish (it panicked).
fn stopped(what: impl std::fmt::Display) -> ProbeError {
    ProbeError::new(ErrorKind::Failed, what.to_string())
}

/// What follows the error when the two files look swapped (a JSON object given as the machine
/// list, an array as the power parameters).
const MIXED_UP: &str = "; were the two files swapped? `maas $PROFILE machines power-parameters` goes to --input, `maas $PROFILE machines read` to --machines";

/// The machine list (`maas $PROFILE machines read`), streamed (a large file mapped and read in
/// place): a real list is 5–18 KB per machine, and only `system_id`, `hostname` and
/// `power_type` are kept (in one text).
fn read_machine_list(path: &Path) -> Result<MachineList, ProbeError> {
    let file = Document::open(path)
        .map_err(|e| ProbeError::io(&e, format!("cannot read the machine list {}: {e}", path.display())))?;
    let started = Instant::now();
    let list = crate::systems::maas::bmc::machine_list::read_document(file).map_err(|e| {
        // The usual mix-up of the two files: say which goes where.
        let hint = match e {
            MachineListError::NotAnArray {
                found: Found::Byte(b'{'),
                ..
            } => MIXED_UP,
            _ => "",
        };
        ProbeError::new(ErrorKind::BadAnswer, format!("{}: {e}{hint}", path.display()))
    })?;
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
        Err(e) => return bmc_outcomes(pack, &stopped(format!("reading the machine list failed: {e}"))),
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
        // The usual mix-up of the two files: say which goes where.
        let words = |e: power_parameters::ParseError| match e {
            power_parameters::ParseError::Array { .. } => format!("{e}{MIXED_UP}"),
            _ => e.to_string(),
        };
        let obs = if input == Path::new("-") {
            power_parameters::read(std::io::stdin().lock(), &power).map_err(words)
        } else {
            match Document::open(&input) {
                Ok(file) => power_parameters::read_document(file, &power).map_err(words),
                Err(e) => Err(format!("cannot open: {e}")),
            }
        }
        .map_err(|cause| ProbeError::new(ErrorKind::BadAnswer, cause));
        (obs, given)
    })
    .await;
    let (obs, given) = match parsed {
        Ok((Ok(obs), given)) => {
            tracing::info!("read {} machines from {name} in {:?}", obs.len(), started.elapsed());
            (obs, given)
        }
        Ok((Err(cause), _)) => {
            return bmc_outcomes(pack, &cause.reworded(|cause| format!("cannot read {name}: {cause}")))
        }
        Err(e) => return bmc_outcomes(pack, &stopped(format!("reading {name} failed: {e}"))),
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
                .map(|id| Evaluation::error(pack.def(id), stopped("the detector's thread panicked")))
                .into(),
        }
    })
}

async fn bmc_from_database(pack: &'static MaasPack, config: &Config, host: &HostSource) -> Vec<Evaluation> {
    let facts = super::probe_host::probe(host).await;
    let regiond = facts.regiond.as_ref().and_then(|r| r.as_ref().ok());
    let target = match PgTarget::resolve(config, regiond) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return bmc_outcomes(
                pack,
                &ProbeError::config("no database configured: pass --database DSN, set DATABASE_URL (or PGHOST…) or [postgresql] url, or run on a MAAS region controller"),
            )
        }
        Err(e) => return bmc_outcomes(pack, &e.into()),
    };
    let table = match target.read_bmcs(&pack.bmc, config.timeout).await {
        Ok(t) => t,
        Err(e) => return bmc_outcomes(pack, &e.into()),
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
    let pack = crate::systems::maas::checks::pack();
    let evaluations = match source {
        BmcSource::File { input, machines } => bmc_from_file(pack, input, machines.as_deref()).await,
        BmcSource::Database => bmc_from_database(pack, config, host).await,
    };
    tracing::info!("duplicate-BMC checks done in {:?}", started.elapsed());
    finish(config, &[&super::Maas], BTreeMap::new(), evaluations, started)
}

//! What the MAAS probes read (the API, the database) and the MAAS checks evaluate: plain
//! types, no I/O.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};

use super::bmc::Observations;
use crate::config::Secret;
use crate::core::probed::ProbeError;
use crate::host::{Release, UnitState};

/// A region or rack controller as `regioncontrollers/` and `rackcontrollers/` list it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Controller {
    pub system_id: String,
    #[serde(default)]
    pub hostname: String,
    /// The full string the controller reported, e.g. `3.4.0-14321-g.1027c7664`; `null` without
    /// a ControllerInfo row, `""` before the first report (upstream
    /// `3.2.0:src/maasserver/models/node.py`, `Controller.version`).
    #[serde(default)]
    pub version: Option<String>,
    /// The controller's own BMC type, `""` for none (controllers seldom have one: commissioning
    /// does not store their power settings).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub power_type: String,
}

/// A VM host as `GET pods/` lists it (upstream `DISPLAYED_POD_FIELDS`; a pod is itself a
/// `maasserver_bmc` row of `bmc_type` 1, and `id` is that row's id).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VmHost {
    pub id: i64,
    #[serde(default)]
    pub name: String,
    /// The pod's power type (`lxd`, `virsh`).
    #[serde(rename = "type", default, deserialize_with = "null_as_empty")]
    pub power_type: String,
}

/// A machine as `GET machines/` lists it (only the fields preflight reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Machine {
    pub system_id: String,
    #[serde(default)]
    pub hostname: String,
    /// Empty when MAAS has none set.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub power_type: String,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// How the power parameters were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerSource {
    /// One `machines/?op=power_parameters` call.
    Bulk,
    /// One call per machine (bulk refused with 400/404).
    PerMachine,
}

/// What the API told about this MAAS.
#[derive(Debug)]
pub struct MaasApiFacts {
    /// URL of the API as configured (credentials removed).
    pub url: String,
    /// Region version from `version/` as MAAS prints it (`3.4.2`, `3.3.0~rc1`, or the string
    /// `None` while no controller has reported), `None` if it sent an empty string.
    pub version: Option<String>,
    pub regions: Vec<Controller>,
    pub racks: Vec<Controller>,
    pub machines: Vec<Machine>,
    /// VM hosts (`pods/`): BMC rows of their own, with or without machines on them.
    pub vm_hosts: Vec<VmHost>,
    /// One detector record per BMC seen through a node: each machine in the power-parameters
    /// answer, then each rack controller (`rackcontrollers/?op=power_parameters`), each region
    /// controller that is not also a rack (`regioncontrollers/{id}/?op=power_parameters`) and
    /// each VM host (`pods/{id}/?op=parameters`, subject [`vm_host_subject`]).
    pub power: Observations,
    pub power_source: PowerSource,
    /// What kind of node each record other than a machine's is, by subject.
    pub kinds: HashMap<String, NodeKind>,
}

/// The subject of a VM host's record: `vm-host <id>`.
pub fn vm_host_subject(id: i64) -> String {
    format!("vm-host {id}")
}

/// One BMC row as the database knows it (database mode of `preflight bmc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BmcRow {
    /// `maasserver_bmc.name` (pods carry their name here).
    pub name: String,
    /// `maasserver_bmc.bmc_type`: 0 BMC, 1 pod (VM host).
    pub bmc_type: i32,
    /// The nodes on it: (system_id, hostname, node_type), from `maasserver_node.bmc_id`
    /// (node_type 0 machine, 1 device, 2 rack controller, 3 region controller, 4 region and
    /// rack controller: upstream `src/maasserver/enum.py` NODE_TYPE).
    pub machines: Vec<(String, String, i32)>,
}

/// What kind of node a record seen through the API belongs to, when it is not a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    RackController,
    RegionController,
    /// A VM host (pod): a BMC row of its own.
    VmHost {
        name: String,
    },
}

/// Whether migration 0290 already ran on this database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migration0290 {
    Applied,
    NotApplied,
    /// No `django_migrations` table: not a MAAS database (or an empty one).
    NoMigrationTable,
}

/// What the database told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgFacts {
    /// `host:port/database as user`, without password.
    pub endpoint: String,
    /// `server_version_num`, e.g. 140011 for 14.11.
    pub server_version_num: u32,
    pub database: String,
    /// Owner of `database` (`pg_get_userbyid(datdba)`).
    pub owner: String,
    /// The role MAAS connects as.
    pub maas_role: String,
    pub migration_0290: Migration0290,
}

impl PgFacts {
    /// Major version: 140011 → 14 (10+ numbering), 90624 → 9.
    pub fn major(&self) -> u32 {
        self.server_version_num / 10_000
    }
}

/// What the database says about its BMCs (database mode of `preflight bmc`).
#[derive(Debug)]
pub struct BmcTable {
    pub endpoint: String,
    pub migration_0290: Migration0290,
    /// One record per `maasserver_bmc` row (pods included), hashed by PostgreSQL.
    pub observations: Observations,
    /// Row id → name, type and machines.
    pub rows: HashMap<String, BmcRow>,
    /// Rows whose `power_parameters` is a JSON value 0290 cannot iterate (not an object, and
    /// not empty: 0290 skips `""`, `[]`, `0`, `false`, `null` and `{}`), by row id.
    pub not_objects: Vec<NotAnObject>,
}

/// A BMC row that makes 0290 crash: its `power_parameters` is a non-empty JSON value other than
/// an object (upstream `0290_migrate_node_power_parameters.py` calls `.items()` on every value
/// that is not falsy in Python).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnObject {
    pub id: String,
    pub power_type: String,
    /// `jsonb_typeof`: string, number, boolean or array.
    pub json_type: String,
}

/// How MAAS is installed on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaasInstall {
    /// The snap; `mode` from snap_mode (`region+rack`, `region`, `rack`, `none`).
    Snap {
        mode: Option<String>,
        version: Option<String>,
    },
    /// Debian packages; `version` from dpkg (e.g. `1:3.4.10-0ubuntu1`).
    Deb { version: String },
}

impl MaasInstall {
    /// The installed version text, if known.
    pub fn version(&self) -> Option<&str> {
        match self {
            MaasInstall::Snap { version, .. } => version.as_deref(),
            MaasInstall::Deb { version } => Some(version),
        }
    }
}

/// regiond.conf (YAML), the fields preflight uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegiondConf {
    /// Where it was read.
    #[serde(skip)]
    pub path: String,
    /// Host name or socket directory (default localhost).
    #[serde(default)]
    pub database_host: Option<String>,
    #[serde(default)]
    pub database_port: Option<u16>,
    #[serde(default)]
    pub database_name: Option<String>,
    #[serde(default)]
    pub database_user: Option<String>,
    /// Blank with Vault (3.3+).
    #[serde(default)]
    pub database_pass: Option<Secret>,
    #[serde(default)]
    pub maas_url: Option<String>,
}

/// A host inspected besides this one: its facts (from a facts document or read over SSH), or
/// why they could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedHost {
    /// Its name: the inventory's, or the document's `host`.
    pub name: String,
    pub facts: Result<HostFacts, ProbeError>,
}

/// What the host told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// The host's name (`/proc/sys/kernel/hostname`, or a root's `/etc/hostname`).
    pub hostname: Option<String>,
    /// From /etc/os-release, else lsb_release.
    pub release: Option<Release>,
    /// From lsb_release, when it ran (kept to cross-check os-release).
    pub lsb_release: Option<Release>,
    /// systemd runs here (`systemctl` answered).
    pub systemd: bool,
    pub timesyncd: UnitState,
    pub chrony: UnitState,
    /// A `chronyd` process runs from under /snap/maas/ (the snap's own).
    pub maas_chronyd: bool,
    /// `None` when MAAS is not installed here.
    pub maas: Option<MaasInstall>,
    /// regiond.conf: `Ok` parsed, `Err` the cause; `None` when there is none.
    pub regiond: Option<Result<RegiondConf, ProbeError>>,
}

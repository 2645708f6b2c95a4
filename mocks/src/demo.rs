//! Recorded facts for `preflight scan --demo`: a snap MAAS host on Ubuntu 20.04 with
//! systemd-timesyncd running next to the snap's chronyd (and a juju client whose controllers
//! and models are misaligned), and a PostgreSQL 12 database owned by `postgres`. Together with
//! the fake MAAS region, Mender Server and Backend.AI cluster they make every check fire.

/// A recorded host (files, command outputs, process list) as JSON; preflight reads it with
/// `HostSource::Recorded`.
pub const HOST_JSON: &str = include_str!("../fixtures/demo-host.json");

/// Recorded PostgreSQL facts as JSON: `server_version_num`, `database`, `owner`, `maas_role`,
/// `migration_0290_applied`.
pub const POSTGRES_JSON: &str = include_str!("../fixtures/demo-postgres.json");

/// Machines in the demo fleet.
pub const MACHINES: usize = 5_000;
/// Seed of the demo fleet.
pub const SEED: u64 = 2026;
/// The region version the demo MAAS reports.
pub const REGION_VERSION: &str = "2.8.7";

/// The running Mender Server version the demo configures (no version endpoint upstream).
pub const MENDER_VERSION: &str = "2.6.1";
/// Devices of the demo Mender Server (three deviceauth pages).
pub const MENDER_DEVICES: usize = 1_200;

/// The demo Backend.AI cluster: a storage proxy two releases behind the manager, with sessions.
pub fn backendai() -> crate::backendai::BackendaiOptions {
    crate::backendai::BackendaiOptions {
        manager: "23.09.8".into(),
        storage_proxy: "23.09.6".into(),
        webserver: "23.09.8".into(),
        active_sessions: 3,
        agents: vec![
            ("i-agent-1".into(), "23.09.8".into()),
            ("i-agent-2".into(), "23.09.8".into()),
        ],
        not_superadmin: false,
    }
}

//! Recorded facts for `preflight scan --demo`: a snap MAAS host on Ubuntu 20.04 with
//! systemd-timesyncd running next to the snap's chronyd, and a PostgreSQL 12 database owned by
//! `postgres`. Together with the fake region API they make every MAAS check fire.

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

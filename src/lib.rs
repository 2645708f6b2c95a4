//! preflight: a read-only pre-upgrade scanner for MAAS, its PostgreSQL database and its hosts.
//!
//! Data flows one way (ARCHITECTURE.md): configuration → probes (I/O) → facts → checks (pure,
//! with the knowledge packs of `checks/*.toml`) → one [`report::Report`] → a renderer and an
//! exit code. [`core`] names no system; each system lives in its folder under [`systems`] and
//! is registered once in [`systems::SYSTEMS`].

pub mod cli;
pub mod config;
pub mod core;
pub mod demo;
pub mod host;
pub mod net;
pub mod plan;
pub mod render;
pub mod report;
pub mod serve;
pub mod systems;
pub mod version;
pub mod waivers;

/// The scan and `preflight bmc` entry points, where the library's users have always found them.
pub mod engine {
    pub use crate::core::scan::Scan;

    /// Runs the scan over every registered system ([`crate::core::engine::run`] with the
    /// registry).
    pub async fn run(scan: &Scan) -> crate::report::Report {
        crate::core::engine::run(scan, crate::systems::SYSTEMS).await
    }
    pub use crate::systems::bmc::{run_bmc, BmcSource};
}

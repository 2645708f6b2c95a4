//! preflight: a read-only pre-upgrade scanner for MAAS, its PostgreSQL database and its hosts.
//!
//! Data flows one way (ARCHITECTURE.md): configuration → probes (I/O) → facts → checks (pure,
//! with the knowledge packs of `checks/*.toml`) → one [`report::Report`] → a renderer and an
//! exit code.

pub mod checks;
pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod plan;
pub mod probe;
pub mod render;
pub mod report;
pub mod serve;
pub mod version;
pub mod waivers;

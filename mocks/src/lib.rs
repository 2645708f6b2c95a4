//! Fake live systems for preflight's tests and `preflight scan --demo`.
//!
//! - [`fleet`]: a seeded generator of MAAS machines and their power parameters, with planted
//!   BMC collisions and the answer the detector must give (the "truth").
//! - [`maas`]: a MAAS region API 2.0 on loopback (wiremock), shaped like the real one: OAuth
//!   PLAINTEXT required, `version/`, `regioncontrollers/`, `rackcontrollers/`, `machines/`,
//!   bulk and per-machine power parameters.
//! - [`mender`], [`backendai`]: a Mender Server management API and a Backend.AI cluster.
//! - [`demo`]: the recorded host (with juju CLI output) and database facts `--demo` scans.

pub mod backendai;
pub mod demo;
pub mod fleet;
pub mod maas;
pub mod mender;

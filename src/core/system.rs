//! The [`System`] trait every system implements: its names, its knowledge pack, its config
//! sections and environment variables, its demo fakes, and how its part of a scan is planned.
//! The registry (`src/systems/mod.rs`) lists every implementation once.

use std::future::Future;
use std::pin::Pin;

use super::check::Evaluation;
use super::scan::Scan;

/// One system preflight can check before its upgrade (MAAS, Mender Server, Juju, …): its
/// names, its knowledge pack and how its part of a scan is planned. Registered once in
/// [`crate::systems::SYSTEMS`]; `preflight checks`, `explain`, the selectors, did-you-mean,
/// `--target` validation and the engine are all derived from that list.
pub trait System: crate::config::Configurable {
    /// What its findings can be about, in report order: its own name and the parts it checks
    /// for its upgrade (MAAS: `host`, `postgresql`, `maas`).
    fn about(&self) -> &'static [&'static str];

    /// Its upgrade-path check (`MAAS001`), whose findings carry the path `preflight plan`
    /// prints; `None` when it has none.
    fn path_check(&self) -> Option<&'static str>;

    /// The ids its checks' logic implements (tested against its knowledge pack's checks).
    fn implemented(&self) -> &'static [&'static str];

    /// The environment variables it reads (README's configuration section documents each; a
    /// test holds it to that).
    fn env_vars(&self) -> &'static [&'static str];

    /// How to point preflight at it, in a few words (`MAAS_URL and MAAS_API_KEY, …`): the
    /// hint of a run in which nothing was checked.
    fn how_to_point(&self) -> &'static str;

    /// Starts its demo fakes on loopback and points `config` at them (`preflight scan --demo`);
    /// `None` when it has no demo part.
    fn start_demo<'a>(&'a self, config: &'a mut crate::config::Config) -> DemoStart<'a> {
        let _ = config;
        Box::pin(async { None })
    }

    /// Plans its part of `scan`: the probe and the evaluation of its checks, as one future.
    fn configure<'a>(&'a self, scan: &'a Scan) -> Planned<'a>;
}

/// A system's part of the demo: its fakes, started on loopback, and what they are.
pub struct DemoPart {
    /// Keeps the fakes running; dropped when the demo ends.
    pub guard: Box<dyn std::any::Any + Send>,
    /// What is being scanned, for the banner (`a fake Mender Server`).
    pub banner: String,
}

/// Starting a system's part of the demo.
pub type DemoStart<'a> = Pin<Box<dyn Future<Output = Option<DemoPart>> + 'a>>;

/// A system's part of a scan, planned: probing and evaluating, as one future.
pub type Planned<'a> = Pin<Box<dyn Future<Output = Part> + 'a>>;

/// What one system's part of a scan produced.
#[derive(Debug, Default)]
pub struct Part {
    /// Its checks' evaluations.
    pub evaluations: Vec<Evaluation>,
    /// The target it was checked against, as shown (`3.5`), when it was configured or found.
    pub target: Option<String>,
}

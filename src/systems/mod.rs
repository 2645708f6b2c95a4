//! The registry: every system preflight checks, in one static slice (as ripgrep keeps its
//! flags and ruff its rules). The engine, `preflight checks`, `explain`, the selectors,
//! did-you-mean and `--target` validation are all derived from it. Adding a system is one
//! folder here and one line below.

pub mod backendai;
pub mod juju;
pub mod maas;
pub mod mender;

use crate::core::System;

/// Every system, in the order the engine plans them.
pub static SYSTEMS: &[&dyn System] = &[&maas::Maas, &mender::Mender, &juju::Juju, &backendai::Backendai];

/// The registered system called `name`.
pub fn find(name: &str) -> Option<&'static dyn System> {
    SYSTEMS.iter().copied().find(|s| s.name() == name)
}

/// The registered system whose pack owns check `id` (by prefix).
pub fn owning(id: &str) -> Option<&'static dyn System> {
    SYSTEMS.iter().copied().find(|s| {
        id.strip_prefix(s.prefix())
            .is_some_and(|digits| digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()))
    })
}

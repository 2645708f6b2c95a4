//! The registry: every system preflight checks, in one static slice (as ripgrep keeps its
//! flags and ruff its rules). The engine, `preflight checks`, `explain`, the selectors,
//! did-you-mean and `--target` validation are all derived from it. Adding a system is one
//! folder here and one line below.

pub mod backendai;
pub mod juju;
pub mod maas;
pub mod mender;
pub mod proxmox;

use crate::core::System;

/// Every system, in the order the engine plans them.
pub static SYSTEMS: &[&dyn System] = &[
    &maas::Maas,
    &mender::Mender,
    &juju::Juju,
    &backendai::Backendai,
    &proxmox::Proxmox,
];

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

#[cfg(test)]
mod tests {
    /// Every check is about its own system or a part that system declares, and every name a
    /// system declares is its own.
    #[test]
    fn every_check_is_about_what_its_system_declares() {
        let mut all: Vec<&str> = Vec::new();
        for system in SYSTEMS {
            assert!(system.about().contains(&system.name()), "{}", system.name());
            for c in system.checks() {
                assert!(system.about().contains(&c.system.as_str()), "{}: {}", c.id, c.system);
                assert!(c.id.starts_with(system.prefix()), "{} in {}", c.id, system.pack_file());
            }
            all.extend(system.about().iter().copied());
        }
        let before = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), before, "two systems declare the same name");
    }

    use super::*;
    use crate::core::check::Pack;
    use crate::report::System;

    #[test]
    fn every_check_is_about_its_packs_system() {
        for (system, checks) in [
            (System::named("mender"), mender::pack().checks()),
            (System::named("juju"), juju::pack().checks()),
            (System::named("backendai"), backendai::pack().checks()),
        ] {
            for c in checks {
                assert_eq!(c.system, system, "{}", c.id);
            }
        }
        assert_eq!(mender::pack().newest().series().to_string(), "4.1");
        assert_eq!(backendai::pack().newest().raw, "26.8.1");
    }

    /// Every knowledge row of the Juju, Mender and Backend.AI packs names where it was read.
    #[test]
    fn every_knowledge_row_names_its_source() {
        let named = |source: &str, repo: &str| source.contains(repo) && source.len() > repo.len() + 5;
        for r in &juju::pack().series {
            assert!(named(&r.source, "juju/juju"), "juju {}", r.version);
        }
        for r in &juju::pack().migration {
            assert!(named(&r.source, "juju/juju"), "juju migration to {}", r.target);
        }
        for r in &mender::pack().series {
            assert!(
                named(&r.source, "mendersoftware/integration") || named(&r.source, "mendersoftware/mender-server"),
                "mender {}",
                r.version
            );
        }
        for r in &backendai::pack().line {
            assert!(named(&r.source, "lablup/backend.ai"), "backendai {}", r.version);
        }
        for def in mender::pack()
            .checks()
            .iter()
            .chain(juju::pack().checks())
            .chain(backendai::pack().checks())
        {
            assert!(!def.source.contains("seed"), "{} still cites the seed", def.id);
        }
    }

    /// Every version the path checks parse with `expect` is valid, so those cannot fail.
    #[test]
    fn every_knowledge_version_parses() {
        use crate::version::Version;
        let parses = |v: &str| assert!(Version::parse(v).is_ok_and(|p| p.pre.is_none()), "{v}");
        let bai = backendai::pack();
        assert!(!bai.line.is_empty());
        for l in &bai.line {
            assert!(
                !l.patches.is_empty() && l.patches.windows(2).all(|w| w[0] < w[1]),
                "{}",
                l.version
            );
            for p in &l.patches {
                parses(&format!("{}.{p}", l.version));
            }
            l.enter_from.as_deref().into_iter().for_each(parses);
        }
        bai.revision_histories.iter().for_each(|v| parses(v));
        let juju = juju::pack();
        assert!(!juju.series.is_empty());
        juju.series.iter().for_each(|r| {
            parses(&r.version);
            parses(&r.last);
        });
        parses(&juju.in_place_minors_before);
        for m in &juju.migration {
            parses(&m.target);
            parses(&m.model_min);
            m.client_min.as_deref().into_iter().for_each(parses);
        }
        let mender = mender::pack();
        assert!(!mender.series.is_empty());
        mender.series.iter().for_each(|r| {
            parses(&r.version);
            parses(&r.last);
        });
        parses(&mender.paths.storage_proxy_removed_in);
        parses(&mender.paths.propagate_inventory_from);
    }
}

//! The registry: every system preflight checks, in one static slice (as ripgrep keeps its
//! flags and ruff its rules). The engine, `preflight checks`, `explain`, the selectors,
//! did-you-mean and `--target` validation are all derived from it. Adding a system is one
//! folder here and one line below.

pub mod backendai;
pub mod juju;
pub mod maas;
pub mod mender;
pub mod proxmox;

/// `preflight bmc`, the duplicate-BMC checks alone: a command of the MAAS system.
pub use maas::bmc_command as bmc;
pub use maas::fleet;
pub use maas::host_document as host_facts;

use crate::config::Configurable;
use crate::core::check::CheckDef;
use crate::core::system::System;

/// Every system, in the order the engine plans them.
pub static SYSTEMS: &[&dyn System] = &[
    &maas::Maas,
    &mender::Mender,
    &juju::Juju,
    &backendai::Backendai,
    &proxmox::Proxmox,
];

/// The registry as configuration sees it (names, checks, config sections).
pub fn configurable() -> Vec<&'static dyn Configurable> {
    SYSTEMS.iter().map(|s| *s as &dyn Configurable).collect()
}

/// Every check of every registered system's pack, ordered by id.
pub fn catalogue() -> Vec<&'static CheckDef> {
    crate::config::Catalogue::of(&configurable()).checks
}

/// Looks a check up by id (case-insensitive), or by name when only one system uses it.
pub fn find_check(id_or_name: &str) -> Option<&'static CheckDef> {
    let all = catalogue();
    if let Some(c) = all.iter().find(|c| c.id.eq_ignore_ascii_case(id_or_name)) {
        return Some(c);
    }
    let mut by_name = all.into_iter().filter(|c| c.name == id_or_name);
    match (by_name.next(), by_name.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Where the registry lists `system` (a name a registered system's findings can be about):
/// the order reports show systems in (host, postgresql, maas, mender, juju, backendai, …);
/// names nobody registered come last.
pub fn rank(system: crate::report::System) -> usize {
    SYSTEMS
        .iter()
        .flat_map(|s| s.about().iter())
        .position(|n| *n == system.as_str())
        .unwrap_or(usize::MAX)
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
    use super::*;
    use crate::core::check::Pack;
    use crate::report::System as SystemName;
    use regex::Regex;
    use std::collections::HashSet;

    /// Every check is about its own system or a part that system declares, and every name a
    /// system declares is its own.
    #[test]
    fn every_check_is_about_what_its_system_declares() {
        let mut all: Vec<&str> = Vec::new();
        for system in SYSTEMS {
            assert!(system.about().contains(&system.name()), "{}", system.name());
            for c in system.checks() {
                assert!(system.about().contains(&c.system.as_str()), "{}: {}", c.id, c.system);
                assert!(
                    c.id.starts_with(system.prefix()),
                    "{} in {}",
                    c.id,
                    system.pack().file()
                );
            }
            all.extend(system.about().iter().copied());
        }
        let before = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), before, "two systems declare the same name");
    }

    #[test]
    fn every_check_is_about_its_packs_system() {
        for (system, checks) in [
            (SystemName::named("mender"), mender::checks::pack().checks()),
            (SystemName::named("juju"), juju::checks::pack().checks()),
            (SystemName::named("backendai"), backendai::checks::pack().checks()),
        ] {
            for c in checks {
                assert_eq!(c.system, system, "{}", c.id);
            }
        }
        assert_eq!(mender::checks::pack().newest().series().to_string(), "4.1");
        assert_eq!(backendai::checks::pack().newest().raw, "26.8.1");
    }

    /// Every knowledge row of the Juju, Mender and Backend.AI packs names where it was read.
    #[test]
    fn every_knowledge_row_names_its_source() {
        let named = |source: &str, repo: &str| source.contains(repo) && source.len() > repo.len() + 5;
        for r in &juju::checks::pack().series {
            assert!(named(&r.source, "juju/juju"), "juju {}", r.version);
        }
        for r in &juju::checks::pack().migration {
            assert!(named(&r.source, "juju/juju"), "juju migration to {}", r.target);
        }
        for r in &mender::checks::pack().series {
            assert!(
                named(&r.source, "mendersoftware/integration") || named(&r.source, "mendersoftware/mender-server"),
                "mender {}",
                r.version
            );
        }
        for r in &backendai::checks::pack().line {
            assert!(named(&r.source, "lablup/backend.ai"), "backendai {}", r.version);
        }
        for def in mender::checks::pack()
            .checks()
            .iter()
            .chain(juju::checks::pack().checks())
            .chain(backendai::checks::pack().checks())
        {
            assert!(!def.source.contains("seed"), "{} still cites the seed", def.id);
        }
    }

    /// Every version the path checks parse with `expect` is valid, so those cannot fail.
    #[test]
    fn every_knowledge_version_parses() {
        use crate::version::Version;
        let parses = |v: &str| assert!(Version::parse(v).is_ok_and(|p| p.pre.is_none()), "{v}");
        let bai = backendai::checks::pack();
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
        let juju = juju::checks::pack();
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
        let mender = mender::checks::pack();
        assert!(!mender.series.is_empty());
        mender.series.iter().for_each(|r| {
            parses(&r.version);
            parses(&r.last);
        });
        parses(&mender.paths.storage_proxy_removed_in);
        parses(&mender.paths.propagate_inventory_from);
    }

    #[test]
    fn catalogue_invariants() {
        let prefixes: Vec<&str> = SYSTEMS.iter().map(|s| s.prefix()).collect();
        let id_re = Regex::new(&format!(r"^({})\d{{3}}$", prefixes.join("|"))).unwrap();
        let name_re = Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)*$").unwrap();
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for c in catalogue() {
            assert!(id_re.is_match(&c.id), "bad id {}", c.id);
            let owner = owning(&c.id).expect("a registered prefix");
            assert!(
                owner.checks().iter().any(|d| d.id == c.id),
                "{} is not in its prefix's pack",
                c.id
            );
            assert!(name_re.is_match(&c.name), "bad name {}", c.name);
            assert!(ids.insert(c.id.clone()), "duplicate id {}", c.id);
            assert!(
                names.insert((c.system, c.name.clone())),
                "duplicate name {} in {}",
                c.name,
                c.system
            );
            for text in [&*c.title, &c.what, &c.why, &c.remediation, &c.source] {
                assert!(!text.trim().is_empty(), "{} has an empty text", c.id);
            }
        }
    }

    #[test]
    fn every_implemented_check_is_in_the_catalogue() {
        let implemented: Vec<&str> = SYSTEMS.iter().flat_map(|s| s.implemented().iter().copied()).collect();
        for id in &implemented {
            assert!(find_check(id).is_some(), "{id} has logic but no catalogue entry");
        }
        for c in catalogue() {
            assert!(
                implemented.contains(&c.id.as_str()),
                "{} is catalogued but has no logic",
                c.id
            );
        }
    }

    #[test]
    fn find_by_id_or_name() {
        assert_eq!(find_check("maas004").unwrap().name, "duplicate-bmc-credentials");
        assert_eq!(find_check("duplicate-bmc-credentials").unwrap().id, "MAAS004");
        assert!(find_check("MAAS999").is_none());
        assert!(
            find_check("unsupported-upgrade-path").is_none(),
            "ambiguous names need the id"
        );
    }
}

//! Mender Server checks MENDER001–MENDER003: facts in, findings out, no I/O. Tables in
//! checks/mender.toml.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::{CheckDef, Evaluation, Pack};
use crate::probe::Probed;
use crate::report::Severity;
use crate::version::{Series, Version};

/// Every check id this module implements (tested against the catalogue).
pub const IMPLEMENTED: &[&str] = &["MENDER001", "MENDER002", "MENDER003"];

/// checks/mender.toml `[paths]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    /// major → its latest minor (`"3"` → `"3.7"`).
    pub latest_minor: BTreeMap<String, String>,
    /// Documented jumps over a minor.
    pub allowed_jumps: Vec<Jump>,
    pub storage_proxy_removed_in: String,
    pub client_without_proxy_from: String,
}

/// One documented jump (`3.3` → `3.6`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jump {
    pub from: String,
    pub to: String,
}

/// The Mender pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenderPack {
    pub system: crate::report::System,
    pub paths: Paths,
    pub check: Vec<CheckDef>,
}

impl Pack for MenderPack {
    fn checks(&self) -> &[CheckDef] {
        &self.check
    }
}

impl MenderPack {
    /// The newest series the tables know: the default target.
    pub fn newest(&self) -> Version {
        self.paths
            .latest_minor
            .values()
            .filter_map(|v| Version::parse(v).ok())
            .max()
            .expect("latest_minor is not empty (tested)")
    }

    /// Why `from` → `to` is not a supported path, or `None` when it is.
    pub fn path_problem(&self, from: Series, to: Series) -> Option<String> {
        if to == from {
            return None;
        }
        if to < from {
            return Some(format!(
                "{to} is older than the running {from}: Mender Server cannot be downgraded"
            ));
        }
        let s = |v: &str| Series::parse(v).ok();
        let latest_of = |major: u64| self.paths.latest_minor.get(&major.to_string()).and_then(|v| s(v));
        if latest_of(to.major).is_some_and(|l| to > l) {
            return Some(format!(
                "{to} is not a Mender Server release (integration tags such as 3.8.x are not server releases)"
            ));
        }
        if self
            .paths
            .allowed_jumps
            .iter()
            .any(|j| s(&j.from) == Some(from) && s(&j.to) == Some(to))
        {
            return None;
        }
        if to.major == from.major {
            return (to.minor != from.minor + 1).then(|| {
                format!(
                    "{from} → {to} skips {}: upgrade one minor at a time",
                    Series {
                        major: from.major,
                        minor: from.minor + 1
                    }
                )
            });
        }
        let latest = latest_of(from.major);
        if to.major != from.major + 1 {
            return Some(format!(
                "{from} → {to} skips a major: go through {}.x first",
                from.major + 1
            ));
        }
        if Some(from) != latest {
            return Some(match latest {
                Some(l) => format!("a major upgrade starts from the latest minor of the major: reach {l} before {to}"),
                None => format!("the latest minor of {}.x is not known to preflight", from.major),
            });
        }
        (to.minor != 0).then(|| format!("{from} → {to} skips {}.0", to.major))
    }
}

/// What deviceauth and inventory told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceLeftovers {
    /// Devices deviceauth lists, in total.
    pub devices: usize,
    /// Ids of devices with `decommissioning: true`.
    pub decommissioning: Vec<String>,
    /// Ids of devices deviceauth lists and inventory does not.
    pub missing_from_inventory: Vec<String>,
}

/// Everything the Mender checks read.
#[derive(Debug, Clone)]
pub struct MenderFacts {
    /// `[mender] current` (the server has no version endpoint).
    pub current: Option<Version>,
    /// `[mender] edition` and `target_edition` (`open-source` or `enterprise`).
    pub edition: Option<String>,
    pub target_edition: Option<String>,
    pub devices: Probed<DeviceLeftovers>,
}

/// Runs every Mender check against `target`. `configured` is false when no `[mender]` URL or
/// version is known: every check is then skipped.
pub fn evaluate(pack: &MenderPack, facts: &MenderFacts, target: &Version, configured: bool) -> Vec<Evaluation> {
    if !configured {
        return IMPLEMENTED
            .iter()
            .map(|id| {
                Evaluation::skipped(
                    pack.def(id),
                    "Mender Server not configured (MENDER_URL or [mender] url / current)",
                )
            })
            .collect();
    }
    vec![
        upgrade_path(pack, pack.def("MENDER001"), facts, target),
        leftovers(pack.def("MENDER002"), facts),
        storage_proxy(pack, pack.def("MENDER003"), facts, target),
    ]
}

const NO_CURRENT: &str = "the running Mender Server version is unknown: set [mender] current (e.g. \"3.7.4\")";

fn upgrade_path(pack: &MenderPack, def: &CheckDef, facts: &MenderFacts, target: &Version) -> Evaluation {
    let Some(current) = &facts.current else {
        return Evaluation::error(def, NO_CURRENT);
    };
    let mut findings = Vec::new();
    let subject = format!("Mender Server {} → {}", current.series(), target.series());
    let ev = || json!({"current": current.raw, "target": target.raw, "edition": facts.edition, "target_edition": facts.target_edition});
    if let Some(problem) = pack.path_problem(current.series(), target.series()) {
        findings.push(def.finding(
            Severity::Blocker,
            subject.clone(),
            format!("{problem}."),
            ev().as_object().cloned().unwrap_or_default(),
        ));
    }
    if let (Some(from), Some(to)) = (&facts.edition, &facts.target_edition) {
        if from != to {
            findings.push(def.finding(
                Severity::Blocker,
                subject,
                format!("The edition changes ({from} → {to}): an upgrade must keep the edition."),
                ev().as_object().cloned().unwrap_or_default(),
            ));
        }
    }
    Evaluation::from_findings(
        def,
        findings,
        format!("{} → {} is a supported path", current.series(), target.series()),
    )
}

fn leftovers(def: &CheckDef, facts: &MenderFacts) -> Evaluation {
    let d = match &facts.devices {
        Probed::Found(d) => d,
        Probed::Skipped(r) => return Evaluation::skipped(def, r.clone()),
        Probed::Failed(c) => return Evaluation::error(def, c.clone()),
    };
    let mut findings = Vec::new();
    if !d.decommissioning.is_empty() {
        findings.push(
            def.finding(
                Severity::Blocker,
                "deviceauth: devices in decommissioning",
                format!(
                    "{} device(s) are still marked decommissioning in deviceauth.",
                    d.decommissioning.len()
                ),
                json!({"device_ids": d.decommissioning})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
        );
    }
    if !d.missing_from_inventory.is_empty() {
        findings.push(
            def.finding(
                Severity::Warning,
                "deviceauth: devices missing from inventory",
                format!(
                    "{} device(s) are in deviceauth but not in inventory (likely half-decommissioned).",
                    d.missing_from_inventory.len()
                ),
                json!({"device_ids": d.missing_from_inventory})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
        );
    }
    Evaluation::from_findings(def, findings, format!("{} devices, no leftovers", d.devices))
}

fn storage_proxy(pack: &MenderPack, def: &CheckDef, facts: &MenderFacts, target: &Version) -> Evaluation {
    let Some(current) = &facts.current else {
        return Evaluation::error(def, NO_CURRENT);
    };
    let removed = Series::parse(&pack.paths.storage_proxy_removed_in).expect("valid series in checks/mender.toml");
    if current.series() < removed && target.series() >= removed {
        let f = def.finding(
            Severity::Warning,
            format!("Mender Server {} → {}", current.series(), target.series()),
            format!(
                "The storage-proxy service is removed in {removed}: the API gateway needs a network alias for the old storage domain; mender-client < {} needs an extra proxy.",
                pack.paths.client_without_proxy_from
            ),
            json!({"current": current.raw, "target": target.raw}).as_object().cloned().unwrap_or_default(),
        );
        return Evaluation::from_findings(def, vec![f], "");
    }
    Evaluation::skipped(
        def,
        format!("{} → {} does not cross {removed}", current.series(), target.series()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::mender_pack;
    use rstest::rstest;

    #[rstest]
    #[case::adjacent("3.5", "3.6", true)]
    #[case::skip_minor("3.5", "3.7", false)]
    #[case::documented_3_3_to_3_6("3.3", "3.6", true)]
    #[case::documented_3_4_to_3_6("3.4", "3.6", true)]
    #[case::undocumented_3_2_to_3_6("3.2", "3.6", false)]
    #[case::latest_minor_to_next_major("3.7", "4.0", true)]
    #[case::non_latest_minor_to_next_major("3.6", "4.0", false)]
    #[case::major_skipping_its_first_minor("3.7", "4.1", false)]
    #[case::two_majors("2.7", "4.0", false)]
    #[case::from_2_7_to_3_0("2.7", "3.0", true)]
    #[case::from_2_6_to_3_0("2.6", "3.0", false)]
    #[case::downgrade("3.7", "3.6", false)]
    #[case::patch("3.7", "3.7", true)]
    #[case::integration_tag_is_not_a_release("3.7", "3.8", false)]
    fn upgrade_paths(#[case] from: &str, #[case] to: &str, #[case] allowed: bool) {
        let pack = mender_pack();
        let p = pack.path_problem(Series::parse(from).unwrap(), Series::parse(to).unwrap());
        assert_eq!(p.is_none(), allowed, "{from} → {to}: {p:?}");
    }

    fn facts(current: &str, edition: Option<(&str, &str)>) -> MenderFacts {
        MenderFacts {
            current: Some(Version::parse(current).unwrap()),
            edition: edition.map(|e| e.0.to_string()),
            target_edition: edition.map(|e| e.1.to_string()),
            devices: Probed::Found(DeviceLeftovers::default()),
        }
    }

    #[test]
    fn edition_change_is_a_blocker() {
        let pack = mender_pack();
        let e = evaluate(
            pack,
            &facts("3.6.2", Some(("open-source", "enterprise"))),
            &Version::parse("3.7").unwrap(),
            true,
        );
        assert_eq!(e[0].findings.len(), 1);
        assert!(e[0].findings[0].message.contains("edition"));
        let e = evaluate(
            pack,
            &facts("3.6.2", Some(("enterprise", "enterprise"))),
            &Version::parse("3.7").unwrap(),
            true,
        );
        assert!(e[0].findings.is_empty());
    }

    #[rstest]
    #[case("2.6.1", "2.7", true)]
    #[case("2.5.0", "3.0", true)]
    #[case("2.7.0", "3.0", false)]
    fn storage_proxy_rule(#[case] current: &str, #[case] target: &str, #[case] fires: bool) {
        let pack = mender_pack();
        let e = evaluate(pack, &facts(current, None), &Version::parse(target).unwrap(), true);
        assert_eq!(!e[2].findings.is_empty(), fires);
    }

    #[test]
    fn leftovers_are_blocker_and_warning() {
        let pack = mender_pack();
        let mut f = facts("3.6.0", None);
        f.devices = Probed::Found(DeviceLeftovers {
            devices: 3,
            decommissioning: vec!["d1".into()],
            missing_from_inventory: vec!["d2".into()],
        });
        let e = evaluate(pack, &f, &Version::parse("3.7").unwrap(), true);
        let sev: Vec<Severity> = e[1].findings.iter().map(|f| f.severity).collect();
        assert_eq!(sev, vec![Severity::Blocker, Severity::Warning]);
        assert!(e[1].findings[0].remediation.contains("--dry-run"));
    }

    #[test]
    fn unknown_current_is_an_error_not_a_pass() {
        let pack = mender_pack();
        let mut f = facts("3.6.0", None);
        f.current = None;
        let e = evaluate(pack, &f, &Version::parse("3.7").unwrap(), true);
        assert_eq!(e[0].outcome.status, crate::report::OutcomeStatus::Error);
    }
}

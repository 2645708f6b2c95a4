//! Mender Server checks MENDER001–MENDER003: facts in, findings out, no I/O. Tables in
//! checks/mender.toml.

use super::facts::MenderFacts;
use crate::core::knowledge::PackFile;
use serde::Deserialize;
use serde_json::json;

use crate::core::check::{CheckDef, Evaluation, Pack};
use crate::core::path::{newer_than_known, HopKind, UpgradePath};
use crate::core::probed::Probed;
use crate::report::Severity;
use crate::version::{Series, Version};

/// The Mender Server pack (`checks/mender.toml`, merged with `--knowledge DIR`'s `mender.toml`).
pub static PACK: PackFile<MenderPack> = PackFile::new("mender.toml", include_str!("../../../checks/mender.toml"));

/// The parsed pack.
pub fn pack() -> &'static MenderPack {
    PACK.get()
}

/// Every check id this module implements (tested against the catalogue).
pub const IMPLEMENTED: &[&str] = &["MENDER001", "MENDER002", "MENDER003"];

/// checks/mender.toml `[paths]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    /// Documented jumps over a minor.
    pub allowed_jumps: Vec<Jump>,
    pub storage_proxy_removed_in: String,
    pub client_without_proxy_from: String,
    /// The series from which `deviceauth maintenance propagate-inventory` exists.
    pub propagate_inventory_from: String,
}

/// One documented jump (`3.3` → `3.6`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jump {
    pub from: String,
    pub to: String,
}

/// One released server series (checks/mender.toml `[[series]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenderSeries {
    /// `3.7`.
    pub version: String,
    /// Its newest patch (`3.7.11`); every patch from `.0` to it was tagged.
    pub last: String,
    /// The tags it was read from.
    pub source: String,
}

/// The Mender pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenderPack {
    pub system: crate::report::System,
    pub series: Vec<MenderSeries>,
    /// Tags that look like releases but are not server releases (3.8.x client bundles).
    #[serde(default)]
    pub not_a_server_release: Vec<crate::core::path::Unreleased>,
    pub paths: Paths,
    pub check: Vec<CheckDef>,
}

impl Pack for MenderPack {
    fn checks(&self) -> &[CheckDef] {
        &self.check
    }
}

impl MenderPack {
    /// The newest release the tables know: the default target.
    pub fn newest(&self) -> Version {
        let last = self.series.last().expect("the series list is not empty (tested)");
        Version::parse(&last.last).expect("valid version in checks/mender.toml")
    }

    fn known(&self) -> impl Iterator<Item = Series> + '_ {
        self.series.iter().filter_map(|r| Series::parse(&r.version).ok())
    }

    fn last_of(&self, s: Series) -> Option<Version> {
        self.series
            .iter()
            .find(|r| Series::parse(&r.version).ok() == Some(s))
            .and_then(|r| Version::parse(&r.last).ok())
    }

    /// The latest minor of `major`.
    fn latest_minor(&self, major: u64) -> Option<Series> {
        self.known().filter(|s| s.major == major).max()
    }

    /// The release a target names: a series (`4.1`) means its newest patch; a patch must have
    /// been tagged.
    ///
    /// # Errors
    /// The problem in words: not a server release, never tagged (naming the nearest release),
    /// or beyond what preflight knows.
    pub fn resolve(&self, target: &Version) -> Result<Version, String> {
        if let Some(n) = self
            .not_a_server_release
            .iter()
            .find(|n| Series::parse(&n.version).ok() == Some(target.series()))
        {
            return Err(format!(
                "{} is not a Mender Server release: {} ({})",
                target.raw, n.evidence, n.source
            ));
        }
        let Some(last) = self.last_of(target.series()) else {
            return Err(format!(
                "Mender Server {} is not a series preflight knows (the newest is {}; a newer preflight may know it)",
                target.series(),
                self.newest().raw
            ));
        };
        let named_series = target.raw.trim_start_matches(['v', 'V']).split('.').count() == 2;
        if named_series {
            return Ok(last);
        }
        if target.pre.is_some() || *target > last {
            return Err(format!(
                "Mender Server {} was never tagged: the nearest release is {}",
                target.raw, last.raw
            ));
        }
        Ok(target.clone())
    }

    /// Why `from` → `to` in one upgrade is not a supported path, or `None` when it is.
    pub fn path_problem(&self, from: Series, to: Series) -> Option<String> {
        if to == from {
            return None;
        }
        if to < from {
            return Some(format!(
                "{to} is older than the running {from}: Mender Server cannot be downgraded"
            ));
        }
        if self.jump(from).is_some_and(|j| j == to) {
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
        let latest = self.latest_minor(from.major);
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

    /// The documented jump out of `from`, if any (3.3 → 3.6).
    fn jump(&self, from: Series) -> Option<Series> {
        self.paths
            .allowed_jumps
            .iter()
            .find(|j| Series::parse(&j.from).ok() == Some(from))
            .and_then(|j| Series::parse(&j.to).ok())
    }

    /// The way from `from` to `to` (a release, see [`Self::resolve`]): one supported upgrade
    /// after the other, landing on the newest patch of every series on the way.
    ///
    /// # Errors
    /// The problem in words when the target is older, or a series on the way is unknown.
    pub fn route(&self, from: &Version, to: &Version) -> Result<UpgradePath, String> {
        if to < from {
            return Err(format!(
                "{} is older than the running {}: Mender Server cannot be downgraded",
                to.raw, from.raw
            ));
        }
        let removed = Series::parse(&self.paths.storage_proxy_removed_in).expect("valid series in checks/mender.toml");
        let mut path = UpgradePath::default();
        let mut current = from.clone();
        while current.series() < to.series() {
            let here = current.series();
            let next = match self.jump(here).filter(|j| *j <= to.series()) {
                Some(j) => j,
                None => match self.known().filter(|s| s.major == here.major && *s > here).min() {
                    Some(s) => s,
                    None => Series {
                        major: here.major + 1,
                        minor: 0,
                    },
                },
            };
            let land = if next == to.series() {
                to.clone()
            } else {
                self.last_of(next).ok_or_else(|| {
                    format!(
                        "Mender Server {next} is not a series preflight knows, so the way to {} is unknown",
                        to.raw
                    )
                })?
            };
            let (kind, how) = if next.major > here.major {
                (
                    HopKind::Major,
                    format!("major upgrade from the latest minor of {}.x", here.major),
                )
            } else if next.minor > here.minor + 1 {
                (HopKind::Minor, format!("documented jump {here} → {next}"))
            } else {
                (HopKind::Minor, "upgrade to the adjacent minor".to_string())
            };
            let mut first = Vec::new();
            if here < removed && next >= removed {
                first.push(format!(
                    "add the old storage domain as a network alias of the API gateway (storage-proxy is gone in {removed}); clients older than {} need an extra proxy",
                    self.paths.client_without_proxy_from
                ));
            }
            if next.major == 4 && here.major == 3 {
                first.push("mender-helm 5.9 or later on 3.7; chart 6.0.x or later for 4.0".into());
            }
            path.push(&from.raw, land.raw.clone(), kind, how, first);
            current = land;
        }
        if current < *to {
            path.push(&from.raw, to.raw.clone(), HopKind::Patch, "patch upgrade", Vec::new());
        }
        Ok(path)
    }
}

/// Runs every Mender check against `target`. `configured` is false when no `[mender]` URL or
/// version is known: every check is then skipped.
pub fn evaluate(pack: &MenderPack, facts: &MenderFacts, given: Option<&Version>, configured: bool) -> Vec<Evaluation> {
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
    let target = given.cloned().unwrap_or_else(|| pack.newest());
    vec![
        upgrade_path(pack, pack.def("MENDER001"), facts, &target, given.is_none()),
        leftovers(pack, pack.def("MENDER002"), facts),
        storage_proxy(pack, pack.def("MENDER003"), facts, &target),
    ]
}

const NO_CURRENT: &str = "the running Mender Server version is unknown: set [mender] current (e.g. \"3.7.4\")";

/// `default_target`: no target was given, `target` is the newest release preflight knows.
fn upgrade_path(
    pack: &MenderPack,
    def: &CheckDef,
    facts: &MenderFacts,
    target: &Version,
    default_target: bool,
) -> Evaluation {
    let Some(current) = &facts.current else {
        return Evaluation::undecided(def, NO_CURRENT);
    };
    let mut evidence = json!({"current": current.raw, "target": target.raw, "edition": facts.edition, "target_edition": facts.target_edition})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let newest = pack.newest();
    if default_target && *current > newest {
        // The running server is newer than the release table: the table is old, not the target.
        return Evaluation::undecided(
            def,
            newer_than_known("Mender Server", &current.raw, &newest.raw, "mender"),
        );
    }
    let resolved = pack
        .resolve(target)
        .and_then(|to| pack.route(current, &to).map(|p| (to, p)));
    let (to, path) = match resolved {
        Ok(r) => r,
        Err(problem) => {
            let f = def.finding(
                Severity::Blocker,
                format!("Mender Server {} → {}", current.raw, target.raw),
                format!("{problem}."),
                evidence,
            );
            return Evaluation::from_findings(def, vec![f], "");
        }
    };
    let subject = format!("Mender Server {} → {}", current.raw, to.raw);
    path.add_to(&mut evidence);
    let mut findings = Vec::new();
    if let (Some(from), Some(to)) = (&facts.edition, &facts.target_edition) {
        if from != to {
            findings.push(def.finding(
                Severity::Blocker,
                subject.clone(),
                format!("The edition changes ({from} → {to}): an upgrade must keep the edition."),
                evidence.clone(),
            ));
        }
    }
    if let Some(problem) = pack.path_problem(current.series(), to.series()) {
        findings.push(def.finding(
            Severity::Blocker,
            subject.clone(),
            format!(
                "{problem}. The supported way takes {} upgrades (below).",
                path.hops.len()
            ),
            evidence,
        ));
    } else if findings.is_empty() && !path.hops.is_empty() {
        let note = def.finding(
            Severity::Info,
            subject.clone(),
            format!("{subject} is one supported upgrade."),
            evidence,
        );
        return Evaluation::passing_with(def, note, format!("{subject} is a supported path"));
    }
    Evaluation::from_findings(def, findings, format!("already on {}", to.raw))
}

fn leftovers(pack: &MenderPack, def: &CheckDef, facts: &MenderFacts) -> Evaluation {
    let d = match &facts.devices {
        Probed::Found(d) => d,
        Probed::Skipped(r) => return Evaluation::skipped(def, r.clone()),
        Probed::Failed(c) => return Evaluation::error(def, c.clone()),
    };
    let mut findings = Vec::new();
    if !d.decommissioning.is_empty() {
        findings.push(
            def.finding(
                Severity::Warning,
                "deviceauth: devices in decommissioning",
                format!(
                    "{} device(s) are still flagged decommissioning in deviceauth: `deviceauth maintenance --decommissioning-cleanup --dry-run` (with `--tenant ID` on a multi-tenant server) lists what the cleanup would remove.",
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
        let from = Series::parse(&pack.paths.propagate_inventory_from).expect("valid series in checks/mender.toml");
        let command = match &facts.current {
            Some(v) if v.series() >= from => "`deviceauth maintenance propagate-inventory` pushes them to inventory (every tenant; it has no --dry-run)".to_string(),
            Some(_) => "`deviceauth propagate-inventory-id-data --dry-run`, then `deviceauth propagate-inventory-statuses --dry-run` (add --tenant_id ID per tenant), show what pushing them to inventory would change; run both again without --dry-run".to_string(),
            None => format!("push them to inventory: `deviceauth maintenance propagate-inventory` ({}+), else `deviceauth propagate-inventory-id-data` and `propagate-inventory-statuses` (each with --dry-run first)", pack.paths.propagate_inventory_from),
        };
        findings.push(
            def.finding(
                Severity::Warning,
                "deviceauth: devices missing from inventory",
                format!(
                    "{} device(s) are in deviceauth but not in inventory; the decommissioning cleanup does not touch them: {command}.",
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
        return Evaluation::undecided(def, NO_CURRENT);
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
    use crate::systems::mender::checks::pack as mender_pack;
    use crate::systems::mender::facts::DeviceLeftovers;
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
    #[case::last_1_x_to_2_0("1.7", "2.0", true)]
    fn upgrade_paths(#[case] from: &str, #[case] to: &str, #[case] allowed: bool) {
        let pack = mender_pack();
        let p = pack.path_problem(Series::parse(from).unwrap(), Series::parse(to).unwrap());
        assert_eq!(p.is_none(), allowed, "{from} → {to}: {p:?}");
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    // Rows checked against the integration and mender-server tags in checks/mender.toml.
    #[rstest]
    #[case::adjacent("3.5.0", "3.6", &["3.5.0", "3.6.5"])]
    #[case::documented_jump("3.3.1", "3.7", &["3.3.1", "3.6.5", "3.7.11"])]
    #[case::to_4_1("3.5.1", "4.1", &["3.5.1", "3.6.5", "3.7.11", "4.0.4", "4.1.3"])]
    #[case::patch("4.0.1", "4.0.4", &["4.0.1", "4.0.4"])]
    #[case::last_1_x("1.7.0", "2.0.1", &["1.7.0", "2.0.1"])]
    #[case::over_the_storage_proxy("2.6.1", "3.0", &["2.6.1", "2.7.2", "3.0.2"])]
    fn paths(#[case] from: &str, #[case] to: &str, #[case] want: &[&str]) {
        let pack = mender_pack();
        let to = pack.resolve(&v(to)).unwrap();
        assert_eq!(pack.route(&v(from), &to).unwrap().versions(), want);
    }

    #[rstest]
    #[case::never_tagged("3.7.12", "the nearest release is 3.7.11")]
    #[case::never_tagged_4_0("4.0.9", "the nearest release is 4.0.4")]
    #[case::client_bundle("3.8", "not a Mender Server release")]
    #[case::client_bundle_patch("3.8.5", "client bundles")]
    #[case::unknown_series("4.2", "not a series preflight knows")]
    fn refused_targets(#[case] target: &str, #[case] says: &str) {
        let e = mender_pack().resolve(&v(target)).unwrap_err();
        assert!(e.contains(says), "{e}");
    }

    #[test]
    fn a_server_newer_than_the_table_is_an_error_not_a_downgrade() {
        let pack = mender_pack();
        let e = evaluate(pack, &facts("4.2.0", None), None, true);
        assert_eq!(e[0].outcome.status, crate::report::OutcomeStatus::Error);
        assert!(e[0].outcome.reason.as_deref().unwrap().contains("--target mender="));
    }

    #[test]
    fn the_path_and_its_needs_are_in_the_finding() {
        let pack = mender_pack();
        let e = evaluate(pack, &facts("2.6.1", None), Some(&v("3.0")), true);
        let f = &e[0].findings[0];
        assert_eq!(f.severity, Severity::Blocker, "2.6 → 3.0 skips 2.7");
        let path = UpgradePath::of_evidence(f.evidence.to_map().as_ref()).unwrap();
        assert_eq!(path.versions(), ["2.6.1", "2.7.2", "3.0.2"]);
        assert!(path.hops[0].first[0].contains("network alias"), "{:?}", path.hops[0]);
        let e = evaluate(pack, &facts("3.7.11", None), Some(&v("4.0")), true);
        assert_eq!(e[0].outcome.status, crate::report::OutcomeStatus::Pass);
        assert_eq!(e[0].findings[0].severity, Severity::Info);
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
            Some(&Version::parse("3.7").unwrap()),
            true,
        );
        assert_eq!(e[0].findings.len(), 1);
        assert!(e[0].findings[0].message.contains("edition"));
        let e = evaluate(
            pack,
            &facts("3.6.2", Some(("enterprise", "enterprise"))),
            Some(&Version::parse("3.7").unwrap()),
            true,
        );
        assert_eq!(e[0].outcome.status, crate::report::OutcomeStatus::Pass);
        assert!(e[0].findings.iter().all(|f| f.severity == Severity::Info));
    }

    #[rstest]
    #[case("2.6.1", "2.7", true)]
    #[case("2.5.0", "3.0", true)]
    #[case("2.7.0", "3.0", false)]
    fn storage_proxy_rule(#[case] current: &str, #[case] target: &str, #[case] fires: bool) {
        let pack = mender_pack();
        let e = evaluate(
            pack,
            &facts(current, None),
            Some(&Version::parse(target).unwrap()),
            true,
        );
        assert_eq!(!e[2].findings.is_empty(), fires);
    }

    #[test]
    fn leftovers_are_warnings_with_upstreams_commands() {
        let pack = mender_pack();
        let mut f = facts("3.6.0", None);
        f.devices = Probed::Found(DeviceLeftovers {
            devices: 3,
            decommissioning: vec!["d1".into()],
            missing_from_inventory: vec!["d2".into()],
        });
        let e = evaluate(pack, &f, Some(&Version::parse("3.7").unwrap()), true);
        let sev: Vec<Severity> = e[1].findings.iter().map(|f| f.severity).collect();
        assert_eq!(
            sev,
            vec![Severity::Warning, Severity::Warning],
            "upstream calls the cleanup advisable"
        );
        assert!(e[1].findings[0].remediation.contains("--dry-run"));
        assert!(e[1].findings[0].message.contains("--decommissioning-cleanup --dry-run"));
        assert!(
            e[1].findings[1].message.contains("propagate-inventory-id-data"),
            "3.6: before 4.1"
        );
        f.current = Some(v("4.1.2"));
        let e = evaluate(pack, &f, Some(&v("4.1")), true);
        assert!(e[1].findings[1]
            .message
            .contains("deviceauth maintenance propagate-inventory"));
    }

    #[test]
    fn unknown_current_is_an_error_not_a_pass() {
        let pack = mender_pack();
        let mut f = facts("3.6.0", None);
        f.current = None;
        let e = evaluate(pack, &f, Some(&Version::parse("3.7").unwrap()), true);
        assert_eq!(e[0].outcome.status, crate::report::OutcomeStatus::Error);
    }
}

//! Backend.AI checks BAI001–BAI003: facts in, findings out, no I/O. The release list is data:
//! checks/backendai.toml.

use super::facts::{AgentVersions, BackendaiState};
use crate::core::knowledge::PackFile;
use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::json;

use crate::core::check::{CheckDef, Evaluation, Pack};
use crate::core::path::{newer_than_known, HopKind, PathError, UpgradePath};
use crate::core::probed::Probed;
use crate::report::Severity;
use crate::version::Version;

/// The Backend.AI pack (`checks/backendai.toml`, merged with `--knowledge DIR`'s `backendai.toml`).
pub static PACK: PackFile<BackendaiPack> =
    PackFile::new("backendai.toml", include_str!("../../../checks/backendai.toml"));

/// The parsed pack.
pub fn pack() -> &'static BackendaiPack {
    PACK.get()
}

/// Every check id this module implements (tested against the catalogue).
pub const IMPLEMENTED: &[&str] = &["BAI001", "BAI002", "BAI003"];

/// One release line (checks/backendai.toml `[[line]]`): `24.09`, or a sprint line `25.6`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// The line as the project writes it: `24.09`, `25.6`.
    pub version: String,
    /// The patches released as final tags, ascending (release candidates are not releases).
    pub patches: Vec<u64>,
    /// The lowest version of the previous line a major upgrade into this line may start from,
    /// when upstream's documents allow one below the previous line's last patch.
    #[serde(default)]
    pub enter_from: Option<String>,
    /// Where the line's patches were read (repository, commit, tags).
    pub source: String,
}

impl Line {
    fn key(&self) -> (u64, u64) {
        Version::parse(&self.version).map_or((0, 0), |v| (v.major, v.minor))
    }

    fn last(&self) -> u64 {
        self.patches.last().copied().unwrap_or(0)
    }

    /// `24.09` + 8 → `24.09.8`: the version as the project writes it.
    fn release(&self, patch: u64) -> String {
        format!("{}.{patch}", self.version)
    }
}

/// The Backend.AI pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendaiPack {
    pub system: crate::report::System,
    /// What a major upgrade runs after the new packages are in place (the schema migration).
    pub schema_upgrade: String,
    /// The versions upstream ships a revision-history dump of: after a major upgrade from one of
    /// them, `backend.ai mgr schema apply-missing-revisions VERSION` fills missing revisions.
    pub revision_histories: Vec<String>,
    pub line: Vec<Line>,
    pub check: Vec<CheckDef>,
}

impl Pack for BackendaiPack {
    fn checks(&self) -> &[CheckDef] {
        &self.check
    }
}

/// How an upgrade moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    None,
    Patch,
    Major,
}

/// The way from the running version to a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Every step, each one a supported upgrade.
    pub path: UpgradePath,
    /// The largest step on the way (`Major` when any step is a major upgrade).
    pub step: Step,
    /// Why going there in one upgrade is not supported; `None` when it is (one step or none).
    pub direct: Option<String>,
}

impl BackendaiPack {
    /// The newest release the list knows (the last line's last patch).
    pub fn newest(&self) -> Version {
        let last = self.line.last().expect("the release list is not empty (tested)");
        Version::parse(&last.release(last.last())).expect("valid version in checks/backendai.toml")
    }

    fn index(&self, v: &Version) -> Option<usize> {
        self.line.iter().position(|l| l.key() == (v.major, v.minor))
    }

    /// The release a target names: a line (`24.09`) means its last patch; a version must have
    /// been released as a final tag.
    ///
    /// # Errors
    /// [`PathError::Unknown`] when the line is beyond the list, [`PathError::Refused`] when the
    /// version was never released (naming the nearest release).
    pub fn resolve(&self, target: &Version) -> Result<Version, PathError> {
        let Some(i) = self.index(target) else {
            return Err(self.unknown(target));
        };
        let line = &self.line[i];
        let named_line = target.raw.trim_start_matches(['v', 'V']).split('.').count() == 2;
        let patch = if named_line { line.last() } else { target.patch };
        if target.pre.is_some() || !line.patches.contains(&patch) {
            let nearest = line
                .patches
                .iter()
                .min_by_key(|p| (p.abs_diff(target.patch), std::cmp::Reverse(**p)))
                .map_or_else(|| line.version.clone(), |p| line.release(*p));
            return Err(PathError::Refused(format!(
                "{} is not a Backend.AI release (no final tag; release candidates are not releases): the nearest release is {nearest}",
                target.raw
            )));
        }
        Ok(Version::parse(&line.release(patch)).expect("valid version in checks/backendai.toml"))
    }

    fn unknown(&self, v: &Version) -> PathError {
        let newest = self.newest();
        let first = &self.line[0];
        if (v.major, v.minor) > (newest.major, newest.minor) || *v > newest {
            PathError::Unknown(newer_than_known("Backend.AI", &v.raw, &newest.raw, "backendai"))
        } else if (v.major, v.minor) < first.key() {
            PathError::Unknown(format!(
                "{} is older than preflight's release list, which starts at {}",
                v.raw, first.version
            ))
        } else {
            PathError::Unknown(format!(
                "{}.{} is not a Backend.AI release line (none of {})",
                v.major,
                v.minor,
                self.line
                    .iter()
                    .map(|l| l.version.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }

    /// The version a major upgrade out of line `i` must start from: the next line's
    /// `enter_from`, else line `i`'s last patch.
    fn exit(&self, i: usize) -> Version {
        let from_next = self.line.get(i + 1).and_then(|l| l.enter_from.as_deref());
        let text = from_next.map_or_else(|| self.line[i].release(self.line[i].last()), str::to_string);
        Version::parse(&text).expect("valid version in checks/backendai.toml")
    }

    /// The way from `from` (what runs, perhaps a release candidate) to `to` (a release, see
    /// [`Self::resolve`]): patch upgrades one released patch at a time, a major upgrade from
    /// the latest patch of a line to any patch of the next line, never skipping a line.
    ///
    /// # Errors
    /// See [`PathError`].
    pub fn route(&self, from: &Version, to: &Version) -> Result<Route, PathError> {
        let fi = self.index(from).ok_or_else(|| self.unknown(from))?;
        let ti = self.index(to).ok_or_else(|| self.unknown(to))?;
        if to < from {
            return Err(PathError::Refused(format!(
                "{} is older than the running {}: Backend.AI cannot be downgraded",
                to.raw, from.raw
            )));
        }
        let mut path = UpgradePath::default();
        let mut current = from.clone();
        let mut step = Step::None;
        for i in fi..=ti {
            let line = &self.line[i];
            // The patches to take on this line: up to the target on its line, else up to where
            // a major upgrade out of it starts.
            let stop = if i == ti { to.clone() } else { self.exit(i) };
            for p in &line.patches {
                let v = Version::parse(&line.release(*p)).expect("valid version in checks/backendai.toml");
                if v > current && v <= stop && (current.major, current.minor) == (v.major, v.minor) {
                    path.push(
                        &from.raw,
                        line.release(*p),
                        HopKind::Patch,
                        "patch upgrade: every component to the same version",
                        Vec::new(),
                    );
                    step = step.max_with(Step::Patch);
                    current = v;
                }
            }
            if i < ti {
                // Land on the target on its line, else on the newest patch of the line between.
                let land = if i + 1 == ti {
                    to.clone()
                } else {
                    let next = &self.line[i + 1];
                    Version::parse(&next.release(next.last())).expect("valid version in checks/backendai.toml")
                };
                path.push(
                    &from.raw,
                    land.raw.clone(),
                    HopKind::Major,
                    format!(
                        "major upgrade: stop every component, install {} everywhere, then {}{}",
                        land.raw,
                        self.schema_upgrade,
                        if self.revision_histories.contains(&current.raw) {
                            format!(", then `backend.ai mgr schema apply-missing-revisions {}`", current.raw)
                        } else {
                            String::new()
                        }
                    ),
                    vec!["terminate every compute session (a major upgrade cannot be rolling)".into()],
                );
                step = Step::Major;
                current = land;
            }
        }
        let direct = match path.hops.len() {
            0 | 1 => None,
            _ => Some(self.direct_problem(from, to, fi, ti)),
        };
        Ok(Route { path, step, direct })
    }

    /// Why `from` → `to` in one upgrade is not supported (the path has several steps).
    fn direct_problem(&self, from: &Version, to: &Version, fi: usize, ti: usize) -> String {
        if fi == ti {
            let skipped: Vec<String> = self.line[fi]
                .patches
                .iter()
                .map(|p| self.line[fi].release(*p))
                .filter(|r| Version::parse(r).is_ok_and(|v| v > *from && v < *to))
                .collect();
            return format!(
                "{} → {} skips the released patch(es) {}: patch upgrades go one release at a time",
                from.raw,
                to.raw,
                skipped.join(", ")
            );
        }
        if ti > fi + 1 {
            return format!(
                "{} → {} skips the {} line: a major upgrade never skips a line",
                from.raw,
                to.raw,
                self.line[fi + 1].version
            );
        }
        format!(
            "a major upgrade starts from the latest patch of the line: reach {} before {}",
            self.exit(fi).raw,
            to.raw
        )
    }
}

impl Step {
    fn max_with(self, other: Step) -> Step {
        match (self, other) {
            (Step::Major, _) | (_, Step::Major) => Step::Major,
            (Step::Patch, _) | (_, Step::Patch) => Step::Patch,
            _ => Step::None,
        }
    }
}

/// Runs every Backend.AI check against `target` (`None`: the newest release preflight knows,
/// never older than what runs).
pub fn evaluate(pack: &BackendaiPack, state: &Probed<BackendaiState>, target: Option<&Version>) -> Vec<Evaluation> {
    let s = match crate::core::check::found_or_every(pack, IMPLEMENTED, state) {
        Ok(s) => s,
        Err(evaluations) => return evaluations,
    };
    let newest = pack.newest();
    let route = target
        .map_or_else(
            || {
                if s.manager > newest {
                    Err(pack.unknown(&s.manager))
                } else {
                    Ok(newest.clone())
                }
            },
            |t| pack.resolve(t),
        )
        .and_then(|to| pack.route(&s.manager, &to).map(|r| (to, r)));
    vec![
        mismatch(pack.def("BAI001"), s),
        upgrade_path(pack.def("BAI002"), s, &route),
        sessions(pack.def("BAI003"), s, &route),
    ]
}

fn mismatch(def: &CheckDef, s: &BackendaiState) -> Evaluation {
    if let AgentVersions::Failed(cause) = &s.agents {
        return Evaluation::error(def, cause.clone());
    }
    // 24.09.8 and 24.9.8 are one version: compare normalized, show what the components said.
    let mut versions: BTreeMap<String, String> = BTreeMap::new();
    for (_, v) in &s.components {
        let key = Version::parse(v).map_or_else(|_| v.clone(), |p| p.normalized());
        versions.entry(key).or_insert_with(|| v.clone());
    }
    let versions: BTreeSet<String> = versions.into_values().collect();
    let agents = match &s.agents {
        AgentVersions::NoKeypair => {
            "; agents not compared (set BACKENDAI_ACCESS_KEY / BACKENDAI_SECRET_KEY)".to_string()
        }
        AgentVersions::Read(n) => format!(" (with {n} agent(s))"),
        AgentVersions::Failed(_) => String::new(),
    };
    let managers = if s.manager_nodes > 0 {
        "; /manager/status lists only the manager that answered, so other manager nodes were not compared"
    } else {
        ""
    };
    let summary = format!(
        "{} component(s) on {}{agents}{managers}",
        s.components.len(),
        versions.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    if versions.len() <= 1 {
        return Evaluation::pass(def, summary);
    }
    let components: serde_json::Map<String, serde_json::Value> =
        s.components.iter().map(|(n, v)| (n.clone(), json!(v))).collect();
    let f = def.finding(
        Severity::Blocker,
        "server-side components",
        format!(
            "Components run {} different versions ({}): all must run the same.{}",
            versions.len(),
            versions.into_iter().collect::<Vec<_>>().join(", "),
            if managers.is_empty() {
                ""
            } else {
                " Only the manager that answered /manager/status was compared; check the other manager nodes too."
            }
        ),
        json!({"components": components})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    Evaluation::from_findings(def, vec![f], "")
}

fn upgrade_path(def: &CheckDef, s: &BackendaiState, route: &Result<(Version, Route), PathError>) -> Evaluation {
    let (to, route) = match route {
        Ok(r) => r,
        Err(PathError::Unknown(cause)) => return Evaluation::undecided(def, cause.clone()),
        Err(PathError::Refused(problem)) => {
            let f = def.finding(
                Severity::Blocker,
                format!("Backend.AI {}", s.manager.raw),
                format!("{problem}."),
                json!({"current": s.manager.raw})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            );
            return Evaluation::from_findings(def, vec![f], "");
        }
    };
    let subject = format!("Backend.AI {} → {}", s.manager.raw, to.raw);
    if route.path.hops.is_empty() {
        return Evaluation::skipped(def, format!("already on {}", to.raw));
    }
    let mut evidence = json!({"current": s.manager.raw, "target": to.raw})
        .as_object()
        .cloned()
        .unwrap_or_default();
    route.path.add_to(&mut evidence);
    match &route.direct {
        None => {
            let f = def.finding(
                Severity::Info,
                subject.clone(),
                format!("{subject} is one supported upgrade."),
                evidence,
            );
            Evaluation::passing_with(def, f, format!("{subject} is a supported step"))
        }
        Some(problem) => {
            let f = def.finding(
                Severity::Blocker,
                subject,
                format!(
                    "{problem}. The supported way takes {} upgrades (below).",
                    route.path.hops.len()
                ),
                evidence,
            );
            Evaluation::from_findings(def, vec![f], "")
        }
    }
}

fn sessions(def: &CheckDef, s: &BackendaiState, route: &Result<(Version, Route), PathError>) -> Evaluation {
    let active = match &s.active_sessions {
        Ok(n) => *n,
        Err(cause) => return Evaluation::error(def, cause.clone()),
    };
    if active == 0 {
        return Evaluation::pass(def, "no active compute sessions");
    }
    let severity = match route.as_ref().map(|(_, r)| r.step) {
        Ok(Step::Patch) => Severity::Warning,
        Ok(Step::None) => return Evaluation::pass(def, format!("{active} active session(s), but no upgrade")),
        _ => Severity::Blocker,
    };
    let f = def.finding(
        severity,
        "compute sessions",
        format!("{active} compute session(s) are running; terminate them before the upgrade."),
        json!({"active_sessions": active})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    Evaluation::from_findings(def, vec![f], "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::backendai::checks::pack as backendai_pack;
    use rstest::rstest;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    /// (path versions, one supported upgrade?) of `from` → `to`, or the error's text.
    fn way(from: &str, to: &str) -> Result<(Vec<String>, bool), String> {
        let pack = backendai_pack();
        let to = pack.resolve(&v(to)).map_err(|e| format!("{e:?}"))?;
        let r = pack.route(&v(from), &to).map_err(|e| format!("{e:?}"))?;
        Ok((r.path.versions(), r.direct.is_none()))
    }

    // Rows checked against lablup/backend.ai's final tags (checks/backendai.toml, c0032c472e)
    // and docs/install/upgrade-existing-cluster.rst L79-90.
    #[rstest]
    #[case::patch_step("24.09.7", "24.09.8", &["24.09.7", "24.09.8"], true)]
    #[case::patch_skip("24.09.6", "24.09.8", &["24.09.6", "24.09.7", "24.09.8"], false)]
    #[case::patch_over_a_never_released_one("24.03.0", "24.03.2", &["24.03.0", "24.03.2"], true)]
    #[case::patch_over_an_rc_only_one("23.09.8", "23.09.10", &["23.09.8", "23.09.10"], true)]
    #[case::docs_allowed("23.09.10", "24.03.0", &["23.09.10", "24.03.0"], true)]
    #[case::docs_allowed_landing_on_a_patch("23.09.10", "24.03.5", &["23.09.10", "24.03.5"], true)]
    #[case::latest_patch("23.09.11", "24.03.0", &["23.09.11", "24.03.0"], true)]
    #[case::docs_refused_non_latest("23.09.8", "24.03.0", &["23.09.8", "23.09.10", "24.03.0"], false)]
    #[case::docs_refused_skip("23.03.0", "24.03.0", &["23.03.0", "23.03.1", "23.03.2", "23.03.3", "23.03.4", "23.03.5", "23.03.6", "23.03.7", "23.03.8", "23.03.9", "23.03.10", "23.03.11", "23.03.12", "23.09.11", "24.03.0"], false)]
    #[case::from_last_patch("24.03.11", "24.09.0", &["24.03.11", "24.09.0"], true)]
    #[case::from_non_last_patch("24.03.10", "24.09.3", &["24.03.10", "24.03.11", "24.09.3"], false)]
    #[case::through_24_12("24.09.14", "25.1.0", &["24.09.14", "24.12.1", "25.1.0"], false)]
    #[case::sprint_patch_over_untagged("25.6.15", "25.6.17", &["25.6.15", "25.6.17"], true)]
    #[case::sprint_to_next("25.6.17", "25.7.0", &["25.6.17", "25.7.0"], true)]
    #[case::no_26_5_or_26_6("26.4.10", "26.7.0", &["26.4.10", "26.7.0"], true)]
    #[case::rc_to_its_final("26.4.4rc1", "26.4.4", &["26.4.4rc1", "26.4.4"], true)]
    #[case::a_line_means_its_last_patch("24.09.13", "24.09", &["24.09.13", "24.09.14"], true)]
    #[case::unpadded_is_the_same_release("24.9.14", "24.12.0", &["24.9.14", "24.12.0"], true)]
    fn upgrade_paths(#[case] from: &str, #[case] to: &str, #[case] path: &[&str], #[case] one_step: bool) {
        assert_eq!(
            way(from, to),
            Ok((path.iter().map(|s| s.to_string()).collect(), one_step)),
            "{from} → {to}"
        );
    }

    #[rstest]
    #[case::never_released("24.03.0", "24.03.1", "Refused", "the nearest release is 24.03.2")]
    #[case::rc_is_not_a_release("26.4.3", "26.4.4rc1", "Refused", "not a Backend.AI release")]
    #[case::no_26_5("26.4.10", "26.5.0", "Unknown", "not a Backend.AI release line")]
    #[case::downgrade("24.09.8", "24.09.7", "Refused", "cannot be downgraded")]
    #[case::older_than_the_list("21.03.1", "22.03.0", "Unknown", "older than preflight's release list")]
    #[case::newer_than_the_list("26.8.1", "26.9.0", "Unknown", "release list is older than the system")]
    fn refused_and_unknown(#[case] from: &str, #[case] to: &str, #[case] kind: &str, #[case] says: &str) {
        let e = way(from, to).unwrap_err();
        assert!(e.starts_with(kind) && e.contains(says), "{e}");
    }

    #[test]
    fn release_list_is_the_final_tags() {
        let pack = backendai_pack();
        let lines: Vec<&str> = pack.line.iter().map(|l| l.version.as_str()).collect();
        assert!(lines.contains(&"24.12") && !lines.contains(&"26.5") && !lines.contains(&"26.6"));
        for gone in ["23.09.9", "24.03.1", "25.6.16", "22.03.12", "23.09.7"] {
            assert!(pack.resolve(&v(gone)).is_err(), "{gone}");
        }
        assert!(pack
            .line
            .iter()
            .all(|l| l.source.contains("lablup/backend.ai") && !l.patches.is_empty()));
        assert_eq!(pack.newest().raw, "26.8.1");
    }

    #[test]
    fn default_target_is_never_a_downgrade() {
        let pack = backendai_pack();
        let e = evaluate(pack, &state("26.9.2", &[("manager", "26.9.2")], 0), None);
        assert_eq!(e[1].outcome.status, crate::report::OutcomeStatus::Error);
        assert!(
            e[1].outcome.reason.as_deref().unwrap().contains("--target"),
            "{:?}",
            e[1].outcome
        );
        let e = evaluate(pack, &state("24.09.8", &[("manager", "24.09.8")], 0), None);
        let path = UpgradePath::of_evidence(e[1].findings[0].evidence.to_map().as_ref()).unwrap();
        assert_eq!(path.versions().last().unwrap(), "26.8.1");
        assert_eq!(path.versions()[1], "24.09.9", "patches first, as written upstream");
    }

    fn state(manager: &str, components: &[(&str, &str)], active: u64) -> Probed<BackendaiState> {
        Probed::Found(BackendaiState {
            manager: Version::parse(manager).unwrap(),
            manager_nodes: 1,
            components: components.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            active_sessions: Ok(active),
            agents: AgentVersions::NoKeypair,
        })
    }

    #[rstest]
    #[case::major_with_sessions("23.09.11", "24.03.0", 3, Some(Severity::Blocker))]
    #[case::patch_with_sessions("24.09.7", "24.09.8", 3, Some(Severity::Warning))]
    #[case::no_sessions("24.09.7", "24.09.8", 0, None)]
    fn session_rules(#[case] from: &str, #[case] to: &str, #[case] active: u64, #[case] want: Option<Severity>) {
        let e = evaluate(
            backendai_pack(),
            &state(from, &[("manager", from)], active),
            Some(&Version::parse(to).unwrap()),
        );
        assert_eq!(e[2].findings.first().map(|f| f.severity), want);
    }

    #[test]
    fn padded_versions_are_one_scheme_for_mismatch() {
        let pack = backendai_pack();
        let same = state("24.09.8", &[("manager", "24.09.8"), ("webserver", "24.9.8")], 0);
        assert!(evaluate(pack, &same, Some(&v("24.09.9")))[0].findings.is_empty());
        let mixed = state("24.09.8", &[("manager", "24.09.8"), ("storage-proxy", "24.09.7")], 0);
        assert_eq!(evaluate(pack, &mixed, Some(&v("24.09.9")))[0].findings.len(), 1);
    }
}

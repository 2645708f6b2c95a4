//! Backend.AI checks BAI001–BAI003: facts in, findings out, no I/O. The release list is data:
//! checks/backendai.toml.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::json;

use super::{CheckDef, Evaluation, Pack};
use crate::probe::Probed;
use crate::report::Severity;
use crate::version::Version;

/// Every check id this module implements (tested against the catalogue).
pub const IMPLEMENTED: &[&str] = &["BAI001", "BAI002", "BAI003"];

/// One major release (checks/backendai.toml `[[major]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Major {
    /// `24.09` or `25.6`.
    pub version: String,
    /// Its last patch, when known.
    #[serde(default)]
    pub last_patch: Option<u64>,
    /// The source version a major upgrade into this major must start from, when it is not the
    /// previous major's last patch.
    #[serde(default)]
    pub enter_from: Option<String>,
}

/// The Backend.AI pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendaiPack {
    pub system: crate::report::System,
    pub major: Vec<Major>,
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

impl BackendaiPack {
    /// The newest major's `.0`: the default target.
    pub fn newest(&self) -> Version {
        let last = self.major.last().expect("the release list is not empty (tested)");
        Version::parse(&format!("{}.0", last.version)).expect("valid version in checks/backendai.toml")
    }

    fn index(&self, v: &Version) -> Option<usize> {
        self.major
            .iter()
            .position(|m| Version::parse(&m.version).is_ok_and(|s| s.major == v.major && s.minor == v.minor))
    }

    /// The kind of step `from` → `to`, or why it is not a supported path.
    ///
    /// # Errors
    /// The problem in words: unknown release, downgrade, skipped patch or major, a major upgrade
    /// from a non-latest patch or to a non-`.0` patch.
    pub fn path(&self, from: &Version, to: &Version) -> Result<Step, String> {
        let unknown = |v: &Version| {
            format!(
                "{}.{} is not in the release list of checks/backendai.toml",
                v.major, v.minor
            )
        };
        let fi = self.index(from).ok_or_else(|| unknown(from))?;
        let ti = self.index(to).ok_or_else(|| unknown(to))?;
        if (ti, to.patch) < (fi, from.patch) {
            return Err(format!(
                "{} is older than the running {}: no downgrades",
                to.normalized(),
                from.normalized()
            ));
        }
        if ti == fi {
            return match to.patch - from.patch {
                0 => Ok(Step::None),
                1 => Ok(Step::Patch),
                n => Err(format!(
                    "{} → {} skips {} patch release(s): one version at a time",
                    from.normalized(),
                    to.normalized(),
                    n - 1
                )),
            };
        }
        if ti > fi + 1 {
            return Err(format!(
                "{} → {} skips the {} major: never skip a major",
                from.normalized(),
                to.normalized(),
                self.major[fi + 1].version
            ));
        }
        if to.patch != 0 {
            return Err(format!(
                "a major upgrade lands on {}.0, then patches one at a time",
                self.major[ti].version
            ));
        }
        let required = match (&self.major[ti].enter_from, self.major[fi].last_patch) {
            (Some(v), _) => Some(Version::parse(v).expect("valid version in checks/backendai.toml")),
            (None, Some(p)) => {
                Some(Version::parse(&format!("{}.{}", self.major[fi].version, p)).expect("valid version"))
            }
            (None, None) => None,
        };
        match required {
            Some(r) if from < &r => Err(format!(
                "a major upgrade starts from the latest patch of the major: reach {} before {}",
                r.normalized(),
                to.normalized()
            )),
            _ => Ok(Step::Major),
        }
    }
}

/// Whether the agents' versions were read (they need a superadmin keypair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentVersions {
    /// This many alive agents were compared.
    Read(usize),
    /// No keypair configured: agents not compared (said in the outcome).
    NoKeypair,
    /// The agent list could not be read: BAI001 cannot vouch for the agents.
    Failed(String),
}

/// What the Backend.AI endpoints told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendaiState {
    /// The manager's version (`GET /` → `manager`).
    pub manager: Version,
    /// (component, version) for every component that answered.
    pub components: Vec<(String, String)>,
    /// `active_sessions` from `GET /manager/status`, or why it could not be read.
    pub active_sessions: Result<u64, String>,
    pub agents: AgentVersions,
}

/// Runs every Backend.AI check against `target`.
pub fn evaluate(pack: &BackendaiPack, state: &Probed<BackendaiState>, target: &Version) -> Vec<Evaluation> {
    let s = match super::found_or_every(pack, IMPLEMENTED, state) {
        Ok(s) => s,
        Err(evaluations) => return evaluations,
    };
    let step = pack.path(&s.manager, target);
    vec![
        mismatch(pack.def("BAI001"), s),
        upgrade_path(pack.def("BAI002"), s, target, &step),
        sessions(pack.def("BAI003"), s, &step),
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
    let summary = format!(
        "{} component(s) on {}{agents}",
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
            "Components run {} different versions ({}): all must run the same.",
            versions.len(),
            versions.into_iter().collect::<Vec<_>>().join(", ")
        ),
        json!({"components": components})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    Evaluation::from_findings(def, vec![f], "")
}

fn upgrade_path(def: &CheckDef, s: &BackendaiState, target: &Version, step: &Result<Step, String>) -> Evaluation {
    let subject = format!("Backend.AI {} → {}", s.manager.normalized(), target.normalized());
    match step {
        Ok(Step::None) => Evaluation::skipped(def, format!("already on {}", target.normalized())),
        Ok(_) => Evaluation::pass(def, format!("{subject} is a supported step")),
        Err(problem) => {
            let f = def.finding(
                Severity::Blocker,
                subject,
                format!("{problem}."),
                json!({"current": s.manager.raw, "target": target.raw})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            );
            Evaluation::from_findings(def, vec![f], "")
        }
    }
}

fn sessions(def: &CheckDef, s: &BackendaiState, step: &Result<Step, String>) -> Evaluation {
    let active = match &s.active_sessions {
        Ok(n) => *n,
        Err(cause) => return Evaluation::error(def, cause.clone()),
    };
    if active == 0 {
        return Evaluation::pass(def, "no active compute sessions");
    }
    let severity = match step {
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
    use crate::checks::backendai_pack;
    use rstest::rstest;

    #[rstest]
    #[case::patch_step("24.09.7", "24.09.8", Some(Step::Patch))]
    #[case::patch_skip("24.09.6", "24.09.8", None)]
    #[case::documented_allowed("23.09.10", "24.03.0", Some(Step::Major))]
    #[case::documented_latest_patch("23.09.11", "24.03.0", Some(Step::Major))]
    #[case::documented_non_latest("23.09.9", "24.03.0", None)]
    #[case::documented_skip_major("23.03.0", "24.03.0", None)]
    #[case::major_to_non_zero("24.03.11", "24.09.1", None)]
    #[case::from_last_patch("24.03.11", "24.09.0", Some(Step::Major))]
    #[case::from_non_last_patch("24.03.10", "24.09.0", None)]
    #[case::sprint_scheme_patch("25.6.16", "25.6.17", Some(Step::Patch))]
    #[case::sprint_to_next_unknown_last_patch("25.6.17", "25.7.0", Some(Step::Major))]
    #[case::sprint_skip("25.6.17", "25.8.0", None)]
    #[case::padded_and_unpadded("24.9.14", "24.12.0", Some(Step::Major))]
    #[case::downgrade("24.09.8", "24.09.7", None)]
    #[case::unknown_release("21.03.1", "22.03.0", None)]
    fn upgrade_paths(#[case] from: &str, #[case] to: &str, #[case] want: Option<Step>) {
        let got = backendai_pack().path(&Version::parse(from).unwrap(), &Version::parse(to).unwrap());
        assert_eq!(got.clone().ok(), want, "{from} → {to}: {got:?}");
    }

    fn state(manager: &str, components: &[(&str, &str)], active: u64) -> Probed<BackendaiState> {
        Probed::Found(BackendaiState {
            manager: Version::parse(manager).unwrap(),
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
            &Version::parse(to).unwrap(),
        );
        assert_eq!(e[2].findings.first().map(|f| f.severity), want);
    }

    #[test]
    fn padded_versions_are_one_scheme_for_mismatch() {
        let pack = backendai_pack();
        let same = state("24.09.8", &[("manager", "24.09.8"), ("webserver", "24.9.8")], 0);
        assert!(evaluate(pack, &same, &Version::parse("24.09.9").unwrap())[0]
            .findings
            .is_empty());
        let mixed = state("24.09.8", &[("manager", "24.09.8"), ("storage-proxy", "24.09.7")], 0);
        assert_eq!(
            evaluate(pack, &mixed, &Version::parse("24.09.9").unwrap())[0]
                .findings
                .len(),
            1
        );
    }
}

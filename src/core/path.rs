//! Upgrade paths: every version from the running one to the target, and how each hop is made
//! and what it needs first. The upgrade-path checks (MAAS001, MENDER001, JUJU002, BAI002) put
//! one into their findings' evidence (`"path"`: the versions; `"hops"`: the steps), the table
//! prints it under the finding, and `preflight plan` prints nothing else.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A series upstream prepares but has not released (`[[unreleased]]` in a pack): no
/// target, but what is known of it is said when one is asked for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unreleased {
    /// The series, `3.8`.
    pub version: String,
    /// What upstream shows of it, with the source.
    pub evidence: String,
    /// The series every upgrade to this one must pass through, if upstream says so.
    #[serde(default)]
    pub requires_from: Option<String>,
    /// Where the evidence was read (repository, commit, paths).
    pub source: String,
}

/// What kind of upgrade a step is (JSON `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HopKind {
    /// Within one series or line (`24.09.7` → `24.09.8`), in place.
    Patch,
    /// To a later minor of the same major, in place (Juju 2.7 → 2.8, Mender 3.5 → 3.6).
    Minor,
    /// To the next major or line (Backend.AI 23.09 → 24.03, Mender 3.7 → 4.0).
    Major,
    /// A new deployment of the target and a migration onto it (Juju from 3.0 on).
    Migration,
}

/// One step of an upgrade path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// The version left, as the system writes it (`23.09.10`).
    pub from: String,
    /// The version reached.
    pub to: String,
    pub kind: HopKind,
    /// How the step is made, in the vendor's terms (`patch upgrade in place`, `new controller +
    /// juju migrate`).
    pub how: String,
    /// What must be done before the step (`terminate every compute session`); may be empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub first: Vec<String>,
}

/// Why a path cannot be computed or taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// preflight's knowledge does not reach the version (outcome `error`: the fix is a target
    /// or a newer preflight).
    Unknown(String),
    /// Not a way the project allows (a blocker): a downgrade, a version never released.
    Refused(String),
}

/// The cause when `system` runs (or is asked for) `version`, newer than the `newest` release
/// preflight knows: the knowledge is older than the system, never a downgrade. `key` is the
/// system's `--target` name.
pub fn newer_than_known(system: &str, version: &str, newest: &str, key: &str) -> String {
    format!(
        "{system} {version} is newer than every release preflight knows (the newest is {newest}): preflight's release list is older than the system; pass --target {key}=VERSION or use a newer preflight"
    )
}

/// The steps from the running version to the target, in order (none when they are equal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradePath {
    pub hops: Vec<Hop>,
}

impl UpgradePath {
    /// Appends a step from the last version reached (or from `from` for the first step).
    pub fn push(
        &mut self,
        from: &str,
        to: impl Into<String>,
        kind: HopKind,
        how: impl Into<String>,
        first: Vec<String>,
    ) {
        let from = self.hops.last().map_or_else(|| from.to_string(), |h| h.to.clone());
        self.hops.push(Hop {
            from,
            to: to.into(),
            kind,
            how: how.into(),
            first,
        });
    }

    /// Every version on the way, the running one first: `["23.09.9", "23.09.10", "24.03.0"]`.
    pub fn versions(&self) -> Vec<String> {
        let mut out: Vec<String> = self.hops.first().map(|h| h.from.clone()).into_iter().collect();
        out.extend(self.hops.iter().map(|h| h.to.clone()));
        out
    }

    /// Writes the path into a finding's evidence: `path` (the versions) and `hops`.
    pub fn add_to(&self, evidence: &mut Map<String, Value>) {
        evidence.insert("path".into(), Value::from(self.versions()));
        evidence.insert(
            "hops".into(),
            serde_json::to_value(&self.hops).unwrap_or_else(|_| Value::Array(Vec::new())),
        );
    }

    /// The path a finding's evidence carries, if any.
    pub fn of_evidence(evidence: &Map<String, Value>) -> Option<UpgradePath> {
        let hops = evidence.get("hops")?;
        serde_json::from_value(hops.clone())
            .ok()
            .map(|hops| UpgradePath { hops })
    }

    /// One line a step: `23.09.9 → 23.09.10: patch upgrade in place (first: …)`.
    pub fn lines(&self) -> Vec<String> {
        self.hops
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let first = if h.first.is_empty() {
                    String::new()
                } else {
                    format!(" — first: {}", h.first.join("; "))
                };
                format!("{}. {} → {}: {}{first}", i + 1, h.from, h.to, h.how)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_chain_and_round_trip_through_evidence() {
        let mut p = UpgradePath::default();
        p.push("23.09.9", "23.09.10", HopKind::Patch, "patch upgrade", vec![]);
        p.push(
            "ignored",
            "24.03.0",
            HopKind::Major,
            "major upgrade",
            vec!["terminate every compute session".into()],
        );
        assert_eq!(p.versions(), ["23.09.9", "23.09.10", "24.03.0"]);
        assert_eq!(p.hops[1].from, "23.09.10");
        let mut ev = Map::new();
        p.add_to(&mut ev);
        assert_eq!(ev["path"], serde_json::json!(["23.09.9", "23.09.10", "24.03.0"]));
        assert_eq!(ev["hops"][1]["kind"], "major");
        assert_eq!(UpgradePath::of_evidence(&ev), Some(p.clone()));
        assert_eq!(
            p.lines()[1],
            "2. 23.09.10 → 24.03.0: major upgrade — first: terminate every compute session"
        );
        assert!(UpgradePath::default().versions().is_empty());
    }
}

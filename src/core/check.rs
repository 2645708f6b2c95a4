//! What every check shares: its catalogue entry ([`CheckDef`]), what it produced
//! ([`Evaluation`]), the knowledge-pack trait, and the catalogue of every registered system.
//!
//! A check's *definition* (id, name, severity, texts) and the tables it needs live in
//! `checks/<system>.toml`, embedded in the binary at build time; its *logic* lives in
//! `src/systems/<system>/checks.rs`. Nothing here does I/O.

use std::sync::Arc;

use serde::Deserialize;

use crate::report::{Evidence, Finding, Outcome, OutcomeStatus, Severity, System};

/// A knowledge pack: its catalogue entries (and tables of its own).
pub trait Pack {
    /// The pack's checks.
    fn checks(&self) -> &[CheckDef];

    /// The catalogue entry for `id`.
    ///
    /// # Panics
    /// When `id` is not in the pack: ids are constants of the pack's module, and the invariant
    /// test `every_implemented_check_is_in_the_catalogue` covers them.
    fn def(&self, id: &str) -> &CheckDef {
        self.checks()
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("check {id} missing from its pack"))
    }
}

/// One check's catalogue entry: what `preflight checks` lists and `preflight explain` prints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckDef {
    /// `MAAS004`: system prefix plus three digits, never reused.
    pub id: String,
    /// Kebab-case name of the problem (`duplicate-bmc-credentials`).
    pub name: String,
    /// The system the check's findings are about.
    pub system: System,
    /// The default (highest) severity of the check's findings.
    pub severity: Severity,
    /// Shared with every finding of the check (one copy however many findings there are).
    pub title: Arc<str>,
    /// What it checks.
    pub what: String,
    /// Why it matters.
    pub why: String,
    /// Shared with every finding of the check, like the title.
    pub remediation: Arc<str>,
    /// Where the fact behind it comes from (upstream file or doc).
    pub source: String,
}

impl CheckDef {
    /// A finding of this check with its title and remediation filled in.
    pub fn finding(
        &self,
        severity: Severity,
        subject: impl Into<String>,
        message: impl Into<String>,
        evidence: impl Into<Evidence>,
    ) -> Finding {
        Finding {
            check: self.id.clone(),
            severity,
            system: self.system,
            subject: subject.into(),
            title: self.title.clone(),
            message: message.into(),
            remediation: self.remediation.clone(),
            evidence: evidence.into(),
            waiver: None,
        }
    }

    /// An outcome of this check.
    pub fn outcome(&self, status: OutcomeStatus, reason: Option<String>) -> Outcome {
        Outcome {
            check: self.id.clone(),
            system: self.system,
            status,
            reason,
        }
    }
}

/// What one check produced: its findings and its outcome.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub outcome: Outcome,
}

impl Evaluation {
    /// The check ran and found nothing; `summary` says what it looked at.
    pub fn pass(def: &CheckDef, summary: impl Into<String>) -> Self {
        Evaluation {
            findings: Vec::new(),
            outcome: def.outcome(OutcomeStatus::Pass, Some(summary.into())),
        }
    }

    /// The check does not apply; `reason` says why.
    pub fn skipped(def: &CheckDef, reason: impl Into<String>) -> Self {
        Evaluation {
            findings: Vec::new(),
            outcome: def.outcome(OutcomeStatus::Skipped, Some(reason.into())),
        }
    }

    /// The check could not run; `cause` says why.
    pub fn error(def: &CheckDef, cause: impl Into<String>) -> Self {
        Evaluation {
            findings: Vec::new(),
            outcome: def.outcome(OutcomeStatus::Error, Some(cause.into())),
        }
    }

    /// The check ran and passed; `note` (an info finding, e.g. the upgrade path it checked)
    /// goes with it.
    pub fn passing_with(def: &CheckDef, note: Finding, summary: impl Into<String>) -> Self {
        Evaluation {
            findings: vec![note],
            outcome: def.outcome(OutcomeStatus::Pass, Some(summary.into())),
        }
    }

    /// The check ran: `fail` if there are findings, else `pass` with `summary`.
    pub fn from_findings(def: &CheckDef, findings: Vec<Finding>, summary: impl Into<String>) -> Self {
        if findings.is_empty() {
            Evaluation::pass(def, summary)
        } else {
            let reason = Some(format!(
                "{} finding{}",
                findings.len(),
                if findings.len() == 1 { "" } else { "s" }
            ));
            Evaluation {
                findings,
                outcome: def.outcome(OutcomeStatus::Fail, reason),
            }
        }
    }
}

/// The facts of a probe that found its system, or the same skipped/error outcome for every
/// check in `ids` when it did not.
///
/// # Errors
/// The evaluations to report instead, when the probe skipped or failed.
pub fn found_or_every<'a, T>(
    pack: &dyn Pack,
    ids: &[&str],
    state: &'a crate::core::Probed<T>,
) -> Result<&'a T, Vec<Evaluation>> {
    use crate::core::Probed;
    match state {
        Probed::Found(s) => Ok(s),
        Probed::Skipped(r) => Err(ids
            .iter()
            .map(|id| Evaluation::skipped(pack.def(id), r.clone()))
            .collect()),
        Probed::Failed(c) => Err(ids
            .iter()
            .map(|id| Evaluation::error(pack.def(id), c.clone()))
            .collect()),
    }
}

/// Every check of every registered system's pack, ordered by id.
pub fn catalogue() -> Vec<&'static CheckDef> {
    let mut all: Vec<&CheckDef> = crate::systems::SYSTEMS.iter().flat_map(|s| s.checks()).collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

/// Looks a check up by id (case-insensitive), or by name when only one system uses it.
pub fn find(id_or_name: &str) -> Option<&'static CheckDef> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;
    use std::collections::HashSet;

    #[test]
    fn catalogue_invariants() {
        let prefixes: Vec<&str> = crate::systems::SYSTEMS.iter().map(|s| s.prefix()).collect();
        let id_re = Regex::new(&format!(r"^({})\d{{3}}$", prefixes.join("|"))).unwrap();
        let name_re = Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)*$").unwrap();
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for c in catalogue() {
            assert!(id_re.is_match(&c.id), "bad id {}", c.id);
            let owner = crate::systems::owning(&c.id).expect("a registered prefix");
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
        let implemented: Vec<&str> = crate::systems::SYSTEMS
            .iter()
            .flat_map(|s| s.implemented().iter().copied())
            .collect();
        for id in &implemented {
            assert!(find(id).is_some(), "{id} has logic but no catalogue entry");
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
        assert_eq!(find("maas004").unwrap().name, "duplicate-bmc-credentials");
        assert_eq!(find("duplicate-bmc-credentials").unwrap().id, "MAAS004");
        assert!(find("MAAS999").is_none());
        assert!(
            find("unsupported-upgrade-path").is_none(),
            "ambiguous names need the id"
        );
    }
}

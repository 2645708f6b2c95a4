//! Checks: pure evaluation of facts into findings, plus the catalogue that describes them.
//!
//! A check's *definition* (id, name, severity, texts) and the tables it needs live in
//! `checks/<system>.toml`, embedded in the binary at build time; its *logic* lives in
//! `src/checks/<system>.rs`. Nothing here does I/O.

pub mod bmc;
pub mod maas;

use std::sync::OnceLock;

use serde::Deserialize;

use crate::report::{Finding, Outcome, OutcomeStatus, Severity, System};

/// The MAAS knowledge pack, as shipped (checks/maas.toml).
pub const MAAS_PACK: &str = include_str!("../../checks/maas.toml");

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
    pub title: String,
    /// What it checks.
    pub what: String,
    /// Why it matters.
    pub why: String,
    pub remediation: String,
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
        evidence: serde_json::Map<String, serde_json::Value>,
    ) -> Finding {
        Finding {
            check: self.id.clone(),
            severity,
            system: self.system,
            subject: subject.into(),
            title: self.title.clone(),
            message: message.into(),
            remediation: self.remediation.clone(),
            evidence,
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

    /// The check ran: `fail` if there are findings, else `pass` with `summary`.
    pub fn from_findings(
        def: &CheckDef,
        findings: Vec<Finding>,
        summary: impl Into<String>,
    ) -> Self {
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

/// The MAAS pack: catalogue plus version and BMC tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaasPack {
    pub system: System,
    pub release: Vec<maas::Release>,
    pub paths: maas::Paths,
    pub bmc: bmc::BmcRules,
    pub check: Vec<CheckDef>,
}

impl MaasPack {
    /// The catalogue entry for `id`.
    ///
    /// # Panics
    /// When `id` is not in the pack: ids are compile-time constants of src/checks/maas.rs and
    /// the invariant test `every_implemented_check_is_in_the_catalogue` covers them.
    pub fn def(&self, id: &str) -> &CheckDef {
        self.check
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("check {id} missing from checks/maas.toml"))
    }
}

/// The parsed MAAS pack (parsed once; the embedded text is tested to parse).
pub fn maas_pack() -> &'static MaasPack {
    static PACK: OnceLock<MaasPack> = OnceLock::new();
    PACK.get_or_init(|| toml::from_str(MAAS_PACK).expect("checks/maas.toml is valid (tested)"))
}

/// Every check of every pack, ordered by id.
pub fn catalogue() -> Vec<&'static CheckDef> {
    let mut all: Vec<&CheckDef> = maas_pack().check.iter().collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

/// Looks a check up by id (case-insensitive) or by name.
pub fn find(id_or_name: &str) -> Option<&'static CheckDef> {
    catalogue()
        .into_iter()
        .find(|c| c.id.eq_ignore_ascii_case(id_or_name) || c.name == id_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;
    use std::collections::HashSet;

    #[test]
    fn catalogue_invariants() {
        let id_re = Regex::new(r"^(HOST|PG|MAAS|MENDER|JUJU|BAI)\d{3}$").unwrap();
        let name_re = Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)*$").unwrap();
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for c in catalogue() {
            assert!(id_re.is_match(&c.id), "bad id {}", c.id);
            assert!(name_re.is_match(&c.name), "bad name {}", c.name);
            assert!(ids.insert(c.id.clone()), "duplicate id {}", c.id);
            assert!(names.insert(c.name.clone()), "duplicate name {}", c.name);
            for text in [&c.title, &c.what, &c.why, &c.remediation, &c.source] {
                assert!(!text.trim().is_empty(), "{} has an empty text", c.id);
            }
        }
    }

    #[test]
    fn every_implemented_check_is_in_the_catalogue() {
        for id in maas::IMPLEMENTED {
            assert!(find(id).is_some(), "{id} has logic but no catalogue entry");
        }
        for c in catalogue() {
            assert!(
                maas::IMPLEMENTED.contains(&c.id.as_str()),
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
    }
}

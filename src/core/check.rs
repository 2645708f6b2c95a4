//! What every check shares: its catalogue entry ([`CheckDef`]), what it produced
//! ([`Evaluation`]), the knowledge-pack trait, and the catalogue of every registered system.
//!
//! A check's *definition* (id, name, severity, texts) and the tables it needs live in
//! `checks/<system>.toml`, embedded in the binary at build time; its *logic* lives in
//! `src/systems/<system>/checks.rs`. Nothing here does I/O.

use std::sync::Arc;

use serde::Deserialize;

use crate::core::probed::ProbeError;
use crate::report::{ErrorKind, Evidence, Finding, Outcome, OutcomeStatus, Severity, System};

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
            host: None,
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
            kind: None,
            hosts: Vec::new(),
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

    /// The check could not run; `cause` says why (its detail becomes the outcome's reason, its
    /// kind the outcome's kind).
    pub fn error(def: &CheckDef, cause: ProbeError) -> Self {
        let mut outcome = def.outcome(OutcomeStatus::Error, Some(cause.detail));
        outcome.kind = Some(cause.kind);
        Evaluation {
            findings: Vec::new(),
            outcome,
        }
    }

    /// The check read what it needed but cannot decide from it (outcome `error`, kind
    /// [`ErrorKind::Undecided`]); `cause` says why.
    pub fn undecided(def: &CheckDef, cause: impl Into<String>) -> Self {
        Evaluation::error(def, ProbeError::new(ErrorKind::Undecided, cause))
    }

    /// The check ran over what it could read, but not over everything: its `findings` stay,
    /// and the outcome is `error` with `cause` (what was not read).
    pub fn partly(def: &CheckDef, findings: Vec<Finding>, cause: ProbeError) -> Self {
        let mut e = Evaluation::error(def, cause);
        e.findings = findings;
        e
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
    state: &'a crate::core::probed::Probed<T>,
) -> Result<&'a T, Vec<Evaluation>> {
    use crate::core::probed::Probed;
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

//! `preflight plan`: the upgrade path of every configured system, from the same facts the scan
//! reads. The scan runs with only the upgrade-path checks selected; each of their findings
//! carries its path (`checks::path`), and this module lays those out: one entry per system (per
//! controller for Juju) with its verdict, the versions on the way and what each step needs.

use serde::Serialize;

use crate::core::path::{Hop, UpgradePath};
use crate::report::{OutcomeStatus, Report, Severity, Status, System, SCHEMA_VERSION};

/// The upgrade-path checks: the ones `preflight plan` runs, one per registered system that
/// has one (MAAS001, MENDER001, JUJU002, BAI002, …).
pub fn path_checks() -> Vec<&'static str> {
    crate::systems::SYSTEMS.iter().filter_map(|s| s.path_check()).collect()
}

/// What preflight says of one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The target is one supported upgrade away (or the path below is all supported steps).
    Supported,
    /// Supported, with a warning (e.g. an upgrade upstream calls untested).
    Warning,
    /// Not as planned: the path below is the supported way, or there is none.
    Blocked,
    /// Already on the target: nothing to do.
    Current,
    /// The system is not configured or not found.
    Skipped,
    /// The path could not be computed (the system could not be read, or preflight's knowledge
    /// does not reach it).
    Error,
}

/// One system's way to its target (one per controller for Juju).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemPlan {
    pub system: System,
    /// The check the path comes from (`BAI002`).
    pub check: String,
    /// What the path is about (`Backend.AI 23.09.8 → 26.8.1`, `controller prod`).
    pub subject: String,
    pub verdict: Verdict,
    /// The finding's message, or why there is no path.
    pub message: String,
    /// Every version on the way, the running one first (empty when there is no path).
    pub path: Vec<String>,
    /// The steps.
    pub hops: Vec<Hop>,
}

/// The document `preflight plan --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub schema_version: u32,
    pub preflight_version: String,
    /// Target version per system, as the scan chose it.
    pub targets: std::collections::BTreeMap<String, String>,
    /// The scan's status with only the path checks: decides the exit code.
    pub status: Status,
    pub systems: Vec<SystemPlan>,
}

impl Plan {
    /// The plan of a scan `report` that ran the path checks.
    pub fn of(report: &Report) -> Plan {
        let mut systems = Vec::new();
        let path_checks = path_checks();
        for o in report
            .outcomes
            .iter()
            .filter(|o| path_checks.contains(&o.check.as_str()))
        {
            let findings: Vec<_> = report.findings.iter().filter(|f| f.check == o.check).collect();
            let reason = o.reason.clone().unwrap_or_default();
            for f in &findings {
                let path = UpgradePath::of_evidence(f.evidence.to_map().as_ref()).unwrap_or_default();
                systems.push(SystemPlan {
                    system: o.system,
                    check: o.check.clone(),
                    subject: f.subject.clone(),
                    verdict: match f.severity {
                        Severity::Info => Verdict::Supported,
                        Severity::Warning => Verdict::Warning,
                        Severity::Blocker => Verdict::Blocked,
                    },
                    message: f.message.clone(),
                    path: path.versions(),
                    hops: path.hops,
                });
            }
            // An outcome without findings (or an error next to some: a Juju controller that
            // could not be read) says so in an entry of its own.
            let verdict = match o.status {
                OutcomeStatus::Error => Some(Verdict::Error),
                OutcomeStatus::Skipped if findings.is_empty() => Some(Verdict::Skipped),
                OutcomeStatus::Pass if findings.is_empty() => Some(Verdict::Current),
                _ => None,
            };
            if let Some(verdict) = verdict {
                systems.push(SystemPlan {
                    system: o.system,
                    check: o.check.clone(),
                    subject: o.system.to_string(),
                    verdict,
                    message: reason,
                    path: Vec::new(),
                    hops: Vec::new(),
                });
            }
        }
        systems.sort_by_key(|p| (crate::systems::rank(p.system), p.system, p.subject.clone()));
        Plan {
            schema_version: SCHEMA_VERSION,
            preflight_version: report.preflight_version.clone(),
            targets: report.targets.clone(),
            status: report.status,
            systems,
        }
    }

    /// The plan as pretty JSON, with a final newline.
    pub fn json(&self) -> String {
        format!(
            "{}\n",
            serde_json::to_string_pretty(self).expect("a plan of strings and lists serializes")
        )
    }

    /// The plan for people: per system its verdict, then one row per step.
    pub fn table(&self) -> String {
        let targets: Vec<String> = self.targets.iter().map(|(s, v)| format!("{s} {v}")).collect();
        let mut out = format!(
            "preflight {} — upgrade paths to: {}\n",
            self.preflight_version,
            if targets.is_empty() {
                "nothing".to_string()
            } else {
                targets.join(", ")
            }
        );
        for s in &self.systems {
            out.push_str(&format!(
                "\n{} · {} · {} ({})\n{}\n",
                s.system.as_str().to_uppercase(),
                s.subject,
                verdict_word(s.verdict),
                s.check,
                s.message
            ));
            if s.hops.is_empty() {
                continue;
            }
            let mut table = crate::render::table::plain_table(vec!["#", "From", "To", "How", "First"]);
            for (i, h) in s.hops.iter().enumerate() {
                table.add_row(vec![
                    (i + 1).to_string(),
                    h.from.clone(),
                    h.to.clone(),
                    h.how.clone(),
                    h.first.join("\n"),
                ]);
            }
            out.push_str(&format!("{table}\n"));
        }
        out.push_str(&format!(
            "\n{}: {}\n",
            self.status.nagios_name(),
            match self.status {
                Status::Ok => "every path is supported",
                Status::Warning => "every path is supported, with warnings",
                Status::Critical => "at least one path is not supported as planned",
                Status::Unknown if self.systems.iter().all(|s| s.verdict == Verdict::Skipped) => {
                    "nothing was checked: every system was skipped (see above for how to point preflight at one)"
                }
                Status::Unknown => "at least one path could not be computed",
            }
        ));
        out
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Supported => "supported",
        Verdict::Warning => "supported, with a warning",
        Verdict::Blocked => "BLOCKED as planned",
        Verdict::Current => "already on the target",
        Verdict::Skipped => "skipped",
        Verdict::Error => "ERROR",
    }
}

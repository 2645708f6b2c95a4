//! JUnit XML (quick-junit) for GitLab, Jenkins and other CI test reports: one test suite per
//! system, one test case per (check, subject). Blocker → failure; warning → failure, or a
//! passing case with the finding in system-out under `--fail-on blocker`; a check that could not
//! run → error; skipped → skipped; a check that passed → one passing case. A host check run
//! over several hosts has these cases per host (`MAAS002 on region-1`).

use quick_junit::{NonSuccessKind, Report as JUnit, TestCase, TestCaseStatus, TestSuite};

use crate::report::{ErrorKind, FailOn, Finding, OutcomeStatus, Report, Severity};

/// How one check went (on one host): an outcome's or a host outcome's fields.
struct Verdict<'a> {
    check: &'a str,
    host: Option<&'a str>,
    status: OutcomeStatus,
    reason: Option<&'a str>,
    kind: Option<ErrorKind>,
}

/// The test cases of one verdict, in `suite`: a passing, skipped or error case named by the
/// check (`MAAS002 on region-1` for a host), or one case per finding.
fn add_cases<'a>(
    suite: &mut TestSuite,
    report: &Report,
    verdict: &Verdict<'_>,
    findings: impl Iterator<Item = &'a Finding>,
) {
    let Verdict {
        check,
        host,
        status,
        reason,
        kind,
    } = *verdict;
    let system = suite.name.to_string();
    let name = match host {
        Some(host) => format!("{check} on {host}"),
        None => check.to_string(),
    };
    let reason = reason.unwrap_or_default().to_string();
    match status {
        OutcomeStatus::Pass => {
            let mut case = TestCase::new(name, TestCaseStatus::success());
            case.set_classname(format!("preflight.{system}")).set_system_out(reason);
            suite.add_test_case(case);
        }
        OutcomeStatus::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(reason);
            let mut case = TestCase::new(name, status);
            case.set_classname(format!("preflight.{system}"));
            suite.add_test_case(case);
        }
        OutcomeStatus::Error => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(format!("{name} could not run"))
                // The kind of failure (`timeout`, `auth`…) is the error's type.
                .set_type(kind.map_or("check-error", |k| k.name()))
                .set_description(reason);
            let mut case = TestCase::new(name, status);
            case.set_classname(format!("preflight.{system}"));
            suite.add_test_case(case);
        }
        OutcomeStatus::Fail => {
            for f in findings {
                let counts = f.waiver.is_none()
                    && (f.severity == Severity::Blocker
                        || (f.severity == Severity::Warning && report.policy.fail_on == FailOn::Warning));
                let body = format!("{}\n\nRemediation: {}", f.message, f.remediation);
                let status = if counts {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(f.message.clone())
                        .set_type(f.severity.to_string())
                        .set_description(body.clone());
                    s
                } else {
                    TestCaseStatus::success()
                };
                let mut case = TestCase::new(format!("{} {}", f.check, f.subject), status);
                case.set_classname(format!("preflight.{system}.{}", f.check));
                if !counts {
                    case.set_system_out(format!("[{}] {body}", f.severity));
                }
                suite.add_test_case(case);
            }
        }
    }
}

/// The report as JUnit XML.
pub fn render(report: &Report) -> String {
    let mut junit = JUnit::new("preflight");
    // When the scan started: the `timestamp` of the report and of each suite.
    let started = report
        .started_at
        .and_then(|at| chrono::DateTime::from_timestamp(at.unix_timestamp(), 0));
    if let Some(at) = started {
        junit.set_timestamp(at);
    }
    let mut systems: Vec<_> = report.outcomes.iter().map(|o| o.system).collect();
    systems.sort_by_key(|s| (crate::systems::rank(*s), *s));
    systems.dedup();
    for system in systems {
        let mut suite = TestSuite::new(system.as_str());
        if let Some(at) = started {
            suite.set_timestamp(at);
        }
        for o in report.outcomes.iter().filter(|o| o.system == system) {
            if o.hosts.is_empty() {
                let findings = report
                    .findings
                    .iter()
                    .filter(|f| f.check == o.check && f.system == system);
                let verdict = Verdict {
                    check: &o.check,
                    host: None,
                    status: o.status,
                    reason: o.reason.as_deref(),
                    kind: o.kind,
                };
                add_cases(&mut suite, report, &verdict, findings);
                continue;
            }
            // A host check over several hosts: one case per host.
            for h in &o.hosts {
                let findings = report
                    .findings
                    .iter()
                    .filter(|f| f.check == o.check && f.system == system && f.host.as_deref() == Some(h.host.as_str()));
                let verdict = Verdict {
                    check: &o.check,
                    host: Some(&h.host),
                    status: h.status,
                    reason: h.reason.as_deref(),
                    kind: h.kind,
                };
                add_cases(&mut suite, report, &verdict, findings);
            }
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- JUnit serialization failed: {e} -->\n"))
}

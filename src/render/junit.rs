//! JUnit XML (quick-junit) for GitLab, Jenkins and other CI test reports: one test suite per
//! system, one test case per (check, subject). Blocker → failure; warning → failure, or a
//! passing case with the finding in system-out under `--fail-on blocker`; a check that could not
//! run → error; skipped → skipped; a check that passed → one passing case.

use quick_junit::{NonSuccessKind, Report as JUnit, TestCase, TestCaseStatus, TestSuite};

use crate::report::{FailOn, OutcomeStatus, Report, Severity};

/// The report as JUnit XML.
pub fn render(report: &Report) -> String {
    let mut junit = JUnit::new("preflight");
    let mut systems: Vec<_> = report.outcomes.iter().map(|o| o.system).collect();
    systems.sort_by_key(|s| (crate::systems::rank(*s), *s));
    systems.dedup();
    for system in systems {
        let mut suite = TestSuite::new(system.as_str());
        for o in report.outcomes.iter().filter(|o| o.system == system) {
            let reason = o.reason.clone().unwrap_or_default();
            match o.status {
                OutcomeStatus::Pass => {
                    let mut case = TestCase::new(o.check.clone(), TestCaseStatus::success());
                    case.set_classname(format!("preflight.{system}")).set_system_out(reason);
                    suite.add_test_case(case);
                }
                OutcomeStatus::Skipped => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(reason);
                    let mut case = TestCase::new(o.check.clone(), status);
                    case.set_classname(format!("preflight.{system}"));
                    suite.add_test_case(case);
                }
                OutcomeStatus::Error => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                    status
                        .set_message(format!("{} could not run", o.check))
                        // The kind of failure (`timeout`, `auth`…) is the error's type.
                        .set_type(o.kind.map_or("check-error", |k| k.name()))
                        .set_description(reason);
                    let mut case = TestCase::new(o.check.clone(), status);
                    case.set_classname(format!("preflight.{system}"));
                    suite.add_test_case(case);
                }
                OutcomeStatus::Fail => {
                    for f in report
                        .findings
                        .iter()
                        .filter(|f| f.check == o.check && f.system == system)
                    {
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
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- JUnit serialization failed: {e} -->\n"))
}

//! One self-contained HTML page for a change board: the status banner with the exit code and
//! the tally, the targets, one section per system with every finding (remediation once per
//! check, evidence in a `<details>`), a host × check matrix when host checks ran over several
//! hosts, and the checks that passed, could not run or were skipped.
//!
//! The page is rendered by minijinja from `html/report.html` (and `html/finding.html`) with HTML auto-escaping on for
//! every value: no HTML is ever assembled by hand here. This module only builds the view (plain
//! strings and numbers, derived from the report as the table renderer derives its text), so the
//! template decides the markup and escaping decides nothing but is applied to everything. The
//! page loads nothing (no script, font, stylesheet or image from anywhere) and says so in its
//! Content-Security-Policy, which also forbids scripts.

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::report::{plural, Finding, OutcomeStatus, Report, Severity, Status, System};

/// Findings a check shows before the rest are folded into a `<details>` (the table's limit;
/// the folded ones are in the page all the same).
const SHOWN_PER_CHECK: usize = 25;

/// The page's templates (minijinja syntax; auto-escaped as HTML): the page, and one finding
/// (included where the page lists findings).
const TEMPLATES: [(&str, &str); 2] = [
    ("report.html", include_str!("html/report.html")),
    ("finding.html", include_str!("html/finding.html")),
];

/// The report as one HTML page.
pub fn render(report: &Report) -> String {
    let page = Page::of(report);
    match page_environment().and_then(|env| env.get_template("report.html")?.render(minijinja::value::Serde(&page))) {
        Ok(html) => html,
        // The template is embedded and every part of it is rendered by the tests: this is a bug,
        // said as plain text rather than a broken page.
        Err(e) => format!("preflight: cannot render the HTML report: {e:#}\n"),
    }
}

/// The environment that renders the page: HTML auto-escaping whatever the template's name,
/// undefined values an error (a misspelt field fails the tests instead of printing nothing),
/// block tags that leave no blank lines behind.
fn page_environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Everything the template shows, as plain values.
#[derive(Serialize)]
struct Page<'a> {
    /// `critical`: the banner's class.
    status: &'static str,
    /// `CRITICAL`.
    status_name: &'static str,
    exit_code: u8,
    /// What the exit code means.
    meaning: &'static str,
    /// The table's last line: what to do next.
    next: String,
    /// The table's summary line, word for word.
    summary: String,
    tally: TallyView,
    /// Things about the run a reader must not miss (the table's `!!` lines).
    notices: &'a [String],
    preflight_version: &'a str,
    duration_ms: u64,
    /// When the scan started, RFC 3339 (the `<time datetime>`) and as shown (`2026-12-01
    /// 19:58:03 UTC`).
    started_at: Option<(String, String)>,
    /// System → target version, in the report's (name) order.
    targets: Vec<Target<'a>>,
    systems: Vec<SystemView<'a>>,
    /// The host × check matrix, when any outcome has per-host results.
    matrix: Option<Matrix<'a>>,
    /// Checks that passed, with what they looked at.
    passed: Vec<OutcomeView<'a>>,
    /// `3 checks ran and found nothing`.
    passed_summary: String,
    /// Checks that could not run or were skipped, with why.
    not_run: Vec<OutcomeView<'a>>,
    /// `2 could not run, 1 skipped`.
    not_run_summary: String,
}

#[derive(Serialize)]
struct TallyView {
    blockers: usize,
    warnings: usize,
    infos: usize,
    waived: usize,
    checks: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
    errors: usize,
}

#[derive(Serialize)]
struct Target<'a> {
    system: &'a str,
    version: &'a str,
}

/// One system's findings, grouped by check (in the order the report lists them).
#[derive(Serialize)]
struct SystemView<'a> {
    name: &'static str,
    /// `MAAS`.
    heading: String,
    /// `3 findings: 1 blocker, 2 warnings`.
    summary: String,
    checks: Vec<CheckView<'a>>,
}

#[derive(Serialize)]
struct CheckView<'a> {
    id: &'a str,
    title: &'a str,
    /// The remediation once per check, its whitespace collapsed as the table prints it.
    remediation: String,
    /// `2 findings`.
    count: String,
    /// The first [`SHOWN_PER_CHECK`] findings.
    findings: Vec<FindingView<'a>>,
    /// The others, folded.
    more: Vec<FindingView<'a>>,
    /// `56 more MAAS004 findings`.
    more_summary: String,
    /// The number the folded list starts at.
    more_start: usize,
}

#[derive(Serialize)]
struct FindingView<'a> {
    check: &'a str,
    /// `blocker`.
    severity: &'static str,
    /// `BLOCKER`.
    severity_name: String,
    subject: &'a str,
    host: Option<&'a str>,
    message: &'a str,
    /// The lines the table prints under the finding: the machines behind a BMC group, an
    /// upgrade path and its steps.
    lines: Vec<String>,
    waiver: Option<WaiverView<'a>>,
    /// The evidence as pretty JSON; empty when the check gave none.
    evidence: String,
}

#[derive(Serialize)]
struct WaiverView<'a> {
    justification: &'a str,
    expires: Option<&'a str>,
}

/// Rows: the hosts, in the order the outcomes first name them; columns: the checks that judged
/// hosts one by one.
#[derive(Serialize)]
struct Matrix<'a> {
    checks: Vec<Column<'a>>,
    rows: Vec<Row<'a>>,
    /// Why each host that could not be checked could not, host by host (a title attribute
    /// does not print).
    errors: Vec<HostError<'a>>,
}

#[derive(Serialize)]
struct HostError<'a> {
    host: &'a str,
    check: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct Column<'a> {
    id: &'a str,
    title: String,
}

#[derive(Serialize)]
struct Row<'a> {
    host: &'a str,
    cells: Vec<MatrixCell<'a>>,
}

#[derive(Serialize)]
struct MatrixCell<'a> {
    check: &'a str,
    /// `pass`, `fail`, `error`, `skipped`, or `none` for a host the check did not judge.
    status: &'static str,
    /// ✓ ✗ ! – (nothing for `none`).
    symbol: &'static str,
    /// The title attribute: the status and the reason.
    title: String,
}

#[derive(Serialize)]
struct OutcomeView<'a> {
    check: &'a str,
    title: String,
    system: &'static str,
    /// `error`.
    status: &'static str,
    /// `ERROR (timeout)`, as the table shows it.
    label: String,
    kind: Option<&'static str>,
    reason: &'a str,
}

impl<'a> Page<'a> {
    fn of(report: &'a Report) -> Page<'a> {
        let t = report.tally();
        let status = report.status;
        Page {
            status: status_class(status),
            status_name: status.nagios_name(),
            exit_code: status.exit_code(),
            meaning: meaning(status),
            next: super::table::next_step(report, "below"),
            summary: crate::render::table::tally_line(report),
            tally: TallyView {
                blockers: t.blockers,
                warnings: t.warnings,
                infos: t.infos,
                waived: t.waived,
                checks: t.checks,
                passed: t.passed,
                failed: t.failed,
                skipped: t.skipped,
                errors: t.errors,
            },
            notices: &report.notices,
            preflight_version: &report.preflight_version,
            duration_ms: report.duration_ms,
            started_at: report
                .started_at
                .zip(report.started_at_rfc3339())
                .and_then(|(at, rfc3339)| {
                    let shown = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
                    Some((rfc3339, at.format(shown).ok()?))
                }),
            targets: report
                .targets
                .iter()
                .map(|(system, version)| Target { system, version })
                .collect(),
            systems: systems(report),
            matrix: matrix(report),
            passed: outcomes(report, |s| s == OutcomeStatus::Pass),
            passed_summary: format!("{} ran and found nothing", plural(t.passed, "check")),
            not_run: outcomes(report, |s| matches!(s, OutcomeStatus::Error | OutcomeStatus::Skipped)),
            not_run_summary: format!("{} could not run, {} skipped", t.errors, t.skipped),
        }
    }
}

fn status_class(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Warning => "warning",
        Status::Critical => "critical",
        Status::Unknown => "unknown",
    }
}

/// The exit code's meaning (README "Exit codes").
fn meaning(status: Status) -> &'static str {
    match status {
        Status::Ok => "no blocker and no warning: every check ran or was skipped",
        Status::Warning => "warnings only: act on them before the window",
        Status::Critical => "at least one blocker: the upgrade must not start",
        Status::Unknown => "a check could not run, or nothing was checked: an unchecked system is not a passed one",
    }
}

fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Blocker => "blocker",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The systems with findings, in the registry's order (as the table orders them).
fn systems(report: &Report) -> Vec<SystemView<'_>> {
    let mut systems: Vec<System> = report
        .outcomes
        .iter()
        .map(|o| o.system)
        .chain(report.findings.iter().map(|f| f.system))
        .collect();
    systems.sort_by_key(|s| (crate::systems::rank(*s), *s));
    systems.dedup();
    systems
        .into_iter()
        .filter_map(|system| {
            let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.system == system).collect();
            if findings.is_empty() {
                return None;
            }
            let mut checks: Vec<CheckView<'_>> = Vec::new();
            for f in &findings {
                let view = finding(f);
                match checks.iter_mut().find(|c| c.id == f.check) {
                    Some(check) => check.findings.push(view),
                    None => checks.push(CheckView {
                        id: &f.check,
                        title: &f.title,
                        remediation: f.remediation.split_whitespace().collect::<Vec<_>>().join(" "),
                        count: String::new(),
                        findings: vec![view],
                        more: Vec::new(),
                        more_summary: String::new(),
                        more_start: SHOWN_PER_CHECK + 1,
                    }),
                }
            }
            for check in &mut checks {
                check.count = plural(check.findings.len(), "finding");
                if check.findings.len() > SHOWN_PER_CHECK {
                    check.more = check.findings.split_off(SHOWN_PER_CHECK);
                    check.more_summary = format!("{} more {} findings", check.more.len(), check.id);
                }
            }
            Some(SystemView {
                name: system.as_str(),
                heading: system.as_str().to_uppercase(),
                summary: severity_counts(&findings),
                checks,
            })
        })
        .collect()
}

/// `3 findings: 1 blocker, 2 warnings (1 waived)`.
fn severity_counts(findings: &[&Finding]) -> String {
    let mut by: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
    for f in findings {
        *by.entry(std::cmp::Reverse(f.severity)).or_default() += 1;
    }
    let parts: Vec<String> = by.iter().map(|(sev, n)| plural(*n, &sev.0.to_string())).collect();
    let waived = findings.iter().filter(|f| f.waiver.is_some()).count();
    format!(
        "{}: {}{}",
        plural(findings.len(), "finding"),
        parts.join(", "),
        if waived > 0 {
            format!(" ({waived} waived)")
        } else {
            String::new()
        }
    )
}

fn finding(f: &Finding) -> FindingView<'_> {
    let mut lines: Vec<String> = super::table::machines_line(f).into_iter().collect();
    lines.extend(super::table::path_lines(f));
    let evidence = f.evidence.to_map();
    FindingView {
        check: &f.check,
        severity: severity_class(f.severity),
        severity_name: f.severity.to_string().to_uppercase(),
        subject: &f.subject,
        host: f.host.as_deref(),
        message: &f.message,
        lines,
        waiver: f.waiver.as_ref().map(|w| WaiverView {
            justification: &w.justification,
            expires: w.expires.as_deref(),
        }),
        evidence: if evidence.is_empty() {
            String::new()
        } else {
            serde_json::to_string_pretty(&*evidence).unwrap_or_default()
        },
    }
}

/// The catalogue's title of check `id`, if it has one (a report read back may name others).
fn title_of(id: &str) -> String {
    crate::systems::find_check(id).map_or_else(String::new, |c| c.title.to_string())
}

/// The host × check matrix ([`Report::host_matrix`]) as the template shows it.
fn matrix(report: &Report) -> Option<Matrix<'_>> {
    let m = report.host_matrix()?;
    let mut errors = Vec::new();
    let rows: Vec<Row<'_>> = m
        .hosts
        .iter()
        .zip(&m.cells)
        .map(|(host, row)| Row {
            host,
            cells: m
                .checks
                .iter()
                .zip(row)
                .map(|(o, cell)| match cell {
                    Some(h) => {
                        let status = h.status.name();
                        let label = match h.kind {
                            Some(kind) => format!("{status} ({kind})"),
                            None => status.to_string(),
                        };
                        if h.status == OutcomeStatus::Error {
                            errors.push(HostError {
                                host,
                                check: &o.check,
                                reason: h.reason.as_deref().unwrap_or("could not be checked"),
                            });
                        }
                        MatrixCell {
                            check: &o.check,
                            status,
                            symbol: h.status.mark(),
                            title: match h.reason.as_deref().filter(|r| !r.is_empty()) {
                                Some(reason) => format!("{label}: {reason}"),
                                None => label,
                            },
                        }
                    }
                    None => MatrixCell {
                        check: &o.check,
                        status: "none",
                        symbol: "",
                        title: format!("{} did not judge {host}", o.check),
                    },
                })
                .collect(),
        })
        .collect();
    Some(Matrix {
        errors,
        checks: m
            .checks
            .iter()
            .map(|o| Column {
                id: &o.check,
                title: title_of(&o.check),
            })
            .collect(),
        rows,
    })
}

/// The outcomes whose status `keep` accepts, in the report's order.
fn outcomes(report: &Report, keep: impl Fn(OutcomeStatus) -> bool) -> Vec<OutcomeView<'_>> {
    report
        .outcomes
        .iter()
        .filter(|o| keep(o.status))
        .map(|o| {
            let status = o.status.name();
            OutcomeView {
                check: &o.check,
                title: title_of(&o.check),
                system: o.system.as_str(),
                status,
                label: match o.kind {
                    Some(kind) => format!("{} ({kind})", status.to_uppercase()),
                    None => status.to_uppercase(),
                },
                kind: o.kind.map(|k| k.name()),
                reason: o.reason.as_deref().unwrap_or(""),
            }
        })
        .collect()
}

//! Nagios/Icinga plugin output: one status line with performance data, then long text
//! (one line per finding and per check that could not run). `|` never appears in text, since
//! Nagios reads it as the start of performance data.

use crate::report::{plural, OutcomeStatus, Report};

fn clean(text: &str) -> String {
    text.replace('|', "/")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `PREFLIGHT CRITICAL - 2 blockers, 1 warning | blockers=2;;;0 warnings=1;;;0 checks=14;;;0`
/// followed by the long text.
pub fn render(report: &Report) -> String {
    let t = report.tally();
    let mut summary = format!(
        "{}, {}",
        plural(t.blockers, "blocker"),
        plural(t.warnings, "warning")
    );
    if t.errors > 0 {
        summary.push_str(&format!(
            ", {} could not run",
            if t.errors == 1 {
                "1 check".to_string()
            } else {
                format!("{} checks", t.errors)
            }
        ));
    }
    if t.passed + t.failed + t.errors == 0 && t.skipped > 0 {
        summary.push_str(", nothing checked (all skipped)");
    }
    let mut out = format!(
        "PREFLIGHT {} - {summary} | blockers={};;;0 warnings={};;;0 checks={};;;0\n",
        report.status.nagios_name(),
        t.blockers,
        t.warnings,
        t.checks
    );
    for f in &report.findings {
        out.push_str(&format!(
            "[{}] {} {}: {}\n",
            f.severity.to_string().to_uppercase(),
            f.check,
            clean(&f.subject),
            clean(&f.message)
        ));
    }
    for o in report
        .outcomes
        .iter()
        .filter(|o| o.status == OutcomeStatus::Error)
    {
        out.push_str(&format!(
            "[ERROR] {} could not run: {}\n",
            o.check,
            clean(o.reason.as_deref().unwrap_or("unknown cause"))
        ));
    }
    out
}

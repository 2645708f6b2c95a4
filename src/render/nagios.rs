//! Nagios/Icinga plugin output (monitoring-plugins guidelines): a status line of at most 80
//! characters with the first performance data, then long text (one line per finding and per
//! check that could not run), then the rest of the performance data after a `|`. Thresholds
//! (`-w`, `-c`) appear in the perfdata's warn/crit fields. `|` never appears in text.

use crate::report::{plural, OutcomeStatus, Report};

/// Longest status line the guidelines allow.
pub const FIRST_LINE_MAX: usize = 80;

fn clean(text: &str) -> String {
    text.replace('|', "/").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The plugin output for `report`.
pub fn render(report: &Report) -> String {
    let t = report.tally();
    let p = &report.policy;
    let status = format!("PREFLIGHT {} - ", report.status.nagios_name());
    let long = format!(
        "{}, {}{}",
        plural(t.blockers, "blocker"),
        plural(t.warnings, "warning"),
        match t.errors {
            0 => String::new(),
            1 => ", 1 check could not run".to_string(),
            n => format!(", {n} checks could not run"),
        }
    );
    let all_skipped = t.passed + t.failed + t.errors == 0 && t.skipped > 0;
    let mut text = format!(
        "{status}{long}{}",
        if all_skipped {
            ", nothing checked (all skipped)"
        } else {
            ""
        }
    );
    if text.len() > FIRST_LINE_MAX {
        text = format!("{status}{}B {}W {}E", t.blockers, t.warnings, t.errors);
    }
    let perfdata = [
        format!("blockers={};;{};0", t.blockers, p.critical.perfdata()),
        format!("warnings={};{};;0", t.warnings, p.warning.perfdata()),
        format!("checks={};;;0", t.checks),
        format!("errors={};;;0", t.errors),
    ];
    let mut first = text;
    let mut rest = Vec::new();
    let mut on_first = 0;
    for item in &perfdata {
        let sep = if on_first == 0 { " | " } else { " " };
        if rest.is_empty() && first.len() + sep.len() + item.len() <= FIRST_LINE_MAX {
            first.push_str(sep);
            first.push_str(item);
            on_first += 1;
        } else {
            rest.push(item.clone());
        }
    }
    let mut out = format!("{first}\n");
    for n in &report.notices {
        out.push_str(&format!("[NOTICE] {}\n", clean(n)));
    }
    for f in &report.findings {
        out.push_str(&format!(
            "[{}{}] {} {}: {}\n",
            f.severity.to_string().to_uppercase(),
            if f.waiver.is_some() { ", WAIVED" } else { "" },
            f.check,
            clean(&f.subject),
            clean(&f.message)
        ));
    }
    for o in report.outcomes.iter().filter(|o| o.status == OutcomeStatus::Error) {
        out.push_str(&format!(
            "[ERROR] {} could not run: {}\n",
            o.check,
            clean(o.reason.as_deref().unwrap_or("unknown cause"))
        ));
    }
    if !rest.is_empty() {
        out.push_str(&format!("| {}\n", rest.join(" ")));
    }
    out
}

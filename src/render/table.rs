//! The human report: targets, one table per system (severity, check, subject, what was found
//! and what to do), the checks that were skipped or could not run, and a summary line.

use std::collections::BTreeMap;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};

use crate::core::path::UpgradePath;
use crate::report::{plural, Evidence, Finding, OutcomeStatus, Report, Severity, Status};

/// Rows per check and severity before the table says "… and N more".
const ROWS_PER_CHECK: usize = 25;

fn severity_cell(sev: Severity, waived: bool, color: bool) -> Cell {
    if waived {
        return Cell::new(format!("{} (waived)", sev.to_string().to_uppercase()));
    }
    let cell = Cell::new(sev.to_string().to_uppercase());
    if !color {
        return cell;
    }
    match sev {
        Severity::Blocker => cell.fg(Color::Red),
        Severity::Warning => cell.fg(Color::Yellow),
        Severity::Info => cell.fg(Color::Cyan),
    }
}

/// A table for a terminal or a file without colors, 120 columns when the width is unknown, with
/// `header`: the layout of every table preflight prints.
pub fn plain_table(header: Vec<&str>) -> Table {
    let mut table = new_table(false);
    table.set_header(header);
    table
}

fn new_table(color: bool) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if table.width().is_none() {
        table.set_width(120);
    }
    table
}

/// The line a typed evidence kind prints under its finding (MAAS's BMC groups: the machines
/// behind the group), if any. The HTML page prints it too.
pub(crate) fn machines_line(f: &Finding) -> Option<String> {
    match &f.evidence {
        Evidence::Typed(typed) => typed.table_line(),
        Evidence::Object(_) => None,
    }
}

/// The upgrade path an upgrade-path finding carries: `Path: a → b → c`, then one line a step.
/// The HTML page prints it too.
pub(crate) fn path_lines(f: &Finding) -> Vec<String> {
    let Evidence::Object(map) = &f.evidence else {
        return Vec::new();
    };
    let Some(path) = UpgradePath::of_evidence(map).filter(|p| !p.hops.is_empty()) else {
        return Vec::new();
    };
    let mut lines = vec![format!("Path: {}", path.versions().join(" → "))];
    lines.extend(path.lines());
    lines
}

/// Renders the report for a terminal (or a file); `color` adds ANSI colors.
pub fn render(report: &Report, color: bool) -> String {
    let mut out = String::new();
    for n in &report.notices {
        out.push_str(&format!("!! {n}\n"));
    }
    let targets: Vec<String> = report.targets.iter().map(|(s, v)| format!("{s} {v}")).collect();
    // `preflight bmc` has no upgrade target: the header then names only the version.
    out.push_str(&if targets.is_empty() {
        format!("preflight {}\n", report.preflight_version)
    } else {
        format!(
            "preflight {} — upgrade target: {}\n",
            report.preflight_version,
            targets.join(", ")
        )
    });

    if let Some(matrix) = report.host_matrix() {
        out.push_str("\nHOSTS (✓ passed · ✗ findings · ! could not run · – skipped)\n");
        let mut table = new_table(color);
        let mut header = vec!["Host".to_string()];
        header.extend(matrix.checks.iter().map(|o| o.check.clone()));
        table.set_header(header);
        for (host, row) in matrix.hosts.iter().zip(&matrix.cells) {
            let mut cells = vec![Cell::new(host)];
            cells.extend(row.iter().map(|cell| {
                let c = Cell::new(cell.map_or(" ", |h| h.status.mark()));
                match cell.map(|h| h.status) {
                    Some(OutcomeStatus::Fail) if color => c.fg(Color::Red),
                    Some(OutcomeStatus::Error) if color => c.fg(Color::Magenta),
                    Some(OutcomeStatus::Pass) if color => c.fg(Color::Green),
                    _ => c,
                }
            }));
            table.add_row(cells);
        }
        out.push_str(&format!("{table}\n"));
        // Why a host could not be checked, host by host.
        for (host, row) in matrix.hosts.iter().zip(&matrix.cells) {
            for (o, cell) in matrix.checks.iter().zip(row) {
                if let Some(h) = cell.filter(|h| h.status == OutcomeStatus::Error) {
                    out.push_str(&format!(
                        "! {host} {}: {}\n",
                        o.check,
                        h.reason.as_deref().unwrap_or("could not be checked")
                    ));
                }
            }
        }
    }

    let mut systems: Vec<_> = report.outcomes.iter().map(|o| o.system).collect();
    systems.sort_by_key(|s| (crate::systems::rank(*s), *s));
    systems.dedup();
    for system in systems {
        let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.system == system).collect();
        if findings.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{}\n", system.as_str().to_uppercase()));
        let mut table = new_table(color);
        table.set_header(vec!["Severity", "Check", "Subject", "Finding"]);
        let mut shown: BTreeMap<(&str, Severity), usize> = BTreeMap::new();
        for f in &findings {
            let n = shown.entry((f.check.as_str(), f.severity)).or_default();
            *n += 1;
            if *n > ROWS_PER_CHECK {
                continue;
            }
            let mut text = f.message.clone();
            if let Some(w) = &f.waiver {
                text.push_str(&format!(
                    "\nWaived: {}{}",
                    w.justification,
                    w.expires.as_ref().map_or_else(String::new, |e| format!(" (until {e})"))
                ));
            }
            if let Some(line) = machines_line(f) {
                text.push_str(&format!("\n{line}"));
            }
            for line in path_lines(f) {
                text.push_str(&format!("\n{line}"));
            }
            table.add_row(vec![
                severity_cell(f.severity, f.waiver.is_some(), color),
                Cell::new(&f.check),
                Cell::new(&f.subject),
                Cell::new(text),
            ]);
        }
        out.push_str(&format!("{table}\n"));
        for ((check, severity), n) in &shown {
            if *n > ROWS_PER_CHECK {
                out.push_str(&format!(
                    "… and {} more {severity} findings of {check} (all of them: --format json)\n",
                    n - ROWS_PER_CHECK
                ));
            }
        }
        // Remediation once per check, however many findings it has.
        let mut seen: Vec<&str> = Vec::new();
        for f in &findings {
            if seen.contains(&f.check.as_str()) {
                continue;
            }
            seen.push(&f.check);
            let count = findings.iter().filter(|g| g.check == f.check).count();
            out.push_str(&format!(
                "→ {} ({}): {}\n",
                f.check,
                plural(count, "finding"),
                f.remediation.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
    }

    let not_run: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| matches!(o.status, OutcomeStatus::Error | OutcomeStatus::Skipped))
        .collect();
    if !not_run.is_empty() {
        out.push_str("\nCHECKS NOT RUN\n");
        let mut table = new_table(color);
        table.set_header(vec!["Check", "Outcome", "Why"]);
        for o in not_run {
            let status = o.status.to_string().to_uppercase();
            let mut cell = Cell::new(match o.kind {
                Some(kind) => format!("{status} ({kind})"),
                None => status,
            });
            if color && o.status == OutcomeStatus::Error {
                cell = cell.fg(Color::Magenta);
            }
            table.add_row(vec![
                Cell::new(&o.check),
                cell,
                Cell::new(o.reason.as_deref().unwrap_or("")),
            ]);
        }
        out.push_str(&format!("{table}\n"));
    }

    out.push_str(&format!(
        "\n{}: {} · {} ms\n",
        report.status.nagios_name(),
        tally_line(report),
        report.duration_ms
    ));
    out.push_str(&next_step(report, "above"));
    out.push('\n');
    out
}

/// The summary line's counts: `1 blocker, 2 warnings, 0 infos · 23 checks: 1 passed, …`
/// (the table's last line without its status word and duration; the HTML page's too).
pub(crate) fn tally_line(report: &Report) -> String {
    let t = report.tally();
    format!(
        "{}, {}, {}{} · {}: {} passed, {} failed, {} skipped, {} could not run",
        plural(t.blockers, "blocker"),
        plural(t.warnings, "warning"),
        plural(t.infos, "info"),
        if t.waived > 0 {
            format!(", {} waived", t.waived)
        } else {
            String::new()
        },
        plural(t.checks, "check"),
        t.passed,
        t.failed,
        t.skipped,
        t.errors,
    )
}

/// What to do next, in one sentence, by status: the table's last line and the HTML banner's;
/// `not_run` says where the checks that did not run are listed (`above`, `below`).
pub(crate) fn next_step(report: &Report, not_run: &str) -> String {
    let t = report.tally();
    match report.status {
        Status::Critical => "Next: fix every BLOCKER before the upgrade window, then run preflight again.".to_string(),
        Status::Unknown => format!("Next: some checks could not run (see {not_run}); fix their cause and run preflight again — an unchecked system is not a passed one."),
        Status::Warning => "Next: review the warnings and act on them before the window.".to_string(),
        Status::Ok if t.passed + t.failed == 0 => format!("Nothing was checked: every check was skipped (see why {not_run}). Set MAAS_URL / DATABASE_URL or run preflight on a MAAS controller."),
        Status::Ok => "Nothing blocks this upgrade. Take the backup the upgrade guide asks for, then go ahead.".to_string(),
    }
}

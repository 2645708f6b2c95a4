//! Prometheus text exposition format, for node_exporter's textfile collector (write it with
//! `--output prometheus=/var/lib/node_exporter/textfile/preflight.prom`; files are replaced
//! atomically) and for `preflight serve`'s `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::report::{OutcomeStatus, Report, Severity};

fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// `metric{labels,status="…"}` for every status: 1 for `status`, 0 for the others.
fn one_hot(out: &mut String, metric: &str, labels: &str, status: OutcomeStatus) {
    for each in [
        OutcomeStatus::Pass,
        OutcomeStatus::Fail,
        OutcomeStatus::Skipped,
        OutcomeStatus::Error,
    ] {
        let _ = writeln!(
            out,
            "{metric}{{{labels},status=\"{each}\"}} {}",
            u8::from(status == each)
        );
    }
}

/// The report as metrics. `now` is the run's end in seconds since the Unix epoch.
pub fn render(report: &Report, now: f64) -> String {
    let mut out = String::new();
    let mut counts: BTreeMap<(&str, &str, Severity), usize> = BTreeMap::new();
    for f in report.findings.iter().filter(|f| f.waiver.is_none()) {
        *counts
            .entry((f.system.as_str(), f.check.as_str(), f.severity))
            .or_default() += 1;
    }
    out.push_str(
        "# HELP preflight_findings Findings of the last run by system, check and severity (waived ones excluded).\n",
    );
    out.push_str("# TYPE preflight_findings gauge\n");
    for o in &report.outcomes {
        for severity in [Severity::Blocker, Severity::Warning, Severity::Info] {
            let n = counts
                .get(&(o.system.as_str(), o.check.as_str(), severity))
                .copied()
                .unwrap_or(0);
            let _ = writeln!(
                out,
                "preflight_findings{{system=\"{}\",check=\"{}\",severity=\"{severity}\"}} {n}",
                o.system,
                label(&o.check)
            );
        }
    }
    out.push_str(
        "# HELP preflight_check_status Outcome of each check in the last run: 1 for its status, 0 for the others.\n",
    );
    out.push_str("# TYPE preflight_check_status gauge\n");
    for o in &report.outcomes {
        let labels = format!("system=\"{}\",check=\"{}\"", o.system, label(&o.check));
        one_hot(&mut out, "preflight_check_status", &labels, o.status);
    }
    let per_host: Vec<_> = report.outcomes.iter().filter(|o| !o.hosts.is_empty()).collect();
    if !per_host.is_empty() {
        out.push_str("# HELP preflight_host_check_status Outcome of each host check on each host in the last run: 1 for its status, 0 for the others.\n");
        out.push_str("# TYPE preflight_host_check_status gauge\n");
        let mut host_findings: BTreeMap<(&str, &str, Severity), usize> = BTreeMap::new();
        for f in report.findings.iter().filter(|f| f.waiver.is_none()) {
            if let Some(host) = &f.host {
                *host_findings
                    .entry((f.check.as_str(), host.as_str(), f.severity))
                    .or_default() += 1;
            }
        }
        for o in &per_host {
            for h in &o.hosts {
                let labels = format!(
                    "system=\"{}\",check=\"{}\",host=\"{}\"",
                    o.system,
                    label(&o.check),
                    label(&h.host)
                );
                one_hot(&mut out, "preflight_host_check_status", &labels, h.status);
            }
        }
        out.push_str("# HELP preflight_host_findings Findings of the last run's host checks by host and severity (waived ones excluded).\n");
        out.push_str("# TYPE preflight_host_findings gauge\n");
        for o in &per_host {
            for h in &o.hosts {
                for severity in [Severity::Blocker, Severity::Warning, Severity::Info] {
                    let n = host_findings
                        .get(&(o.check.as_str(), h.host.as_str(), severity))
                        .copied()
                        .unwrap_or(0);
                    let _ = writeln!(
                        out,
                        "preflight_host_findings{{system=\"{}\",check=\"{}\",host=\"{}\",severity=\"{severity}\"}} {n}",
                        o.system,
                        label(&o.check),
                        label(&h.host)
                    );
                }
            }
        }
    }
    let errors: Vec<_> = report.outcomes.iter().filter_map(|o| Some((o, o.kind?))).collect();
    if !errors.is_empty() {
        out.push_str(
            "# HELP preflight_check_error Checks that could not run in the last run, by the kind of failure.\n",
        );
        out.push_str("# TYPE preflight_check_error gauge\n");
        for (o, kind) in errors {
            let _ = writeln!(
                out,
                "preflight_check_error{{system=\"{}\",check=\"{}\",kind=\"{kind}\"}} 1",
                o.system,
                label(&o.check)
            );
        }
    }
    out.push_str(
        "# HELP preflight_status Overall status of the last run (exit code: 0 ok, 1 warning, 2 critical, 3 unknown).\n",
    );
    out.push_str("# TYPE preflight_status gauge\n");
    let _ = writeln!(out, "preflight_status {}", report.status.exit_code());
    out.push_str("# HELP preflight_last_run_timestamp_seconds When the last run ended.\n");
    out.push_str("# TYPE preflight_last_run_timestamp_seconds gauge\n");
    let _ = writeln!(out, "preflight_last_run_timestamp_seconds {now:.3}");
    out.push_str("# HELP preflight_run_duration_seconds How long the last run took.\n");
    out.push_str("# TYPE preflight_run_duration_seconds gauge\n");
    let _ = writeln!(
        out,
        "preflight_run_duration_seconds {:.3}",
        report.duration_ms as f64 / 1000.0
    );
    out
}

//! The generic engine: plans every registered system, leaves out the ones the selection
//! excludes before anything is probed, runs the rest concurrently (each under the run's
//! deadline), and finishes the one report (selection, waivers, baseline, policy).

use std::collections::BTreeMap;
use std::time::Instant;

use crate::config::Config;
use crate::core::check::Evaluation;
use crate::core::probed::{ErrorKind, ProbeError, Probed};
use crate::net::http::Http;
use crate::report::Report;

use super::scan::Scan;
use super::system::System;

/// Whether any of `system`'s checks runs under the configured selection: a system none of
/// whose checks is selected is never probed.
pub fn selected(config: &Config, system: &dyn System) -> bool {
    system.checks().iter().any(|c| config.selection.includes(&c.id))
}

/// Runs the scan over `systems` (the registry's) and returns the report. Never fails: what
/// cannot be read becomes outcome `error` in the report.
pub async fn run(scan: &Scan, systems: &[&dyn System]) -> Report {
    let started = Instant::now();
    let planned: Vec<&dyn System> = systems
        .iter()
        .copied()
        .filter(|system| selected(&scan.config, *system))
        .collect();
    let parts = futures::future::join_all(planned.iter().map(|system| system.configure(scan))).await;
    let mut targets = BTreeMap::new();
    let mut evaluations = Vec::new();
    for (system, part) in planned.iter().zip(parts) {
        if let Some(target) = part.target {
            targets.insert(system.name().to_string(), target);
        }
        evaluations.extend(part.evaluations);
    }
    finish(&scan.config, systems, targets, evaluations, started)
}

/// The report of `evaluations`: only the selected checks, under the configured gating policy.
/// A run in which every check was skipped says "nothing was checked" and how to point
/// preflight at a system (its status is UNKNOWN unless `--allow-nothing`).
pub fn finish(
    config: &Config,
    systems: &[&dyn System],
    targets: BTreeMap<String, String>,
    evaluations: impl IntoIterator<Item = Evaluation>,
    started: Instant,
) -> Report {
    let mut findings = Vec::new();
    let mut outcomes = Vec::new();
    for e in evaluations
        .into_iter()
        .filter(|e| config.selection.includes(&e.outcome.check))
    {
        findings.extend(e.findings);
        outcomes.push(e.outcome);
    }
    let took = started.elapsed();
    let mut report = Report::new(targets, findings, outcomes, took.as_millis() as u64);
    report.started_at = (time::OffsetDateTime::now_utc() - took).replace_nanosecond(0).ok();
    if config.insecure {
        report.notices.push(
            "TLS certificate verification is OFF ([scan] insecure = true): any server could have answered for the systems above"
                .into(),
        );
    }
    if report.nothing_checked() {
        report.notices.push(nothing_checked(config, systems));
    }
    let today = time::OffsetDateTime::now_utc().date();
    crate::waivers::apply(&mut report, &config.waivers, config.baseline.as_ref(), today);
    report.apply_policy(config.policy);
    report
}

/// The notice of a run in which nothing was checked: how to point preflight at each selected
/// system, and how to accept such a run.
fn nothing_checked(config: &Config, systems: &[&dyn System]) -> String {
    let hints: Vec<String> = systems
        .iter()
        .filter(|s| selected(config, **s))
        .map(|s| format!("{}: {}", s.name(), s.how_to_point()))
        .collect();
    let accept = if config.policy.allow_nothing {
        "accepted by --allow-nothing"
    } else {
        "the run is UNKNOWN (exit 3); --allow-nothing accepts it"
    };
    format!(
        "nothing was checked: no selected system is configured or found on this host ({accept}). Point preflight at a system — {}",
        hints.join("; ")
    )
}

/// Probes an HTTP system: skipped with `not_configured` when `url` is unset, else `probe`'s
/// result through the scan's one client.
pub async fn probe_http<'s, T, Fut>(
    scan: &'s Scan,
    url: Option<&str>,
    not_configured: &str,
    probe: impl FnOnce(&'s Http) -> Fut,
) -> Probed<T>
where
    Fut: std::future::Future<Output = Result<T, ProbeError>>,
{
    if url.is_none() {
        return Probed::Skipped(not_configured.into());
    }
    let result = match scan.http() {
        Ok(h) => probe(h).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(t) => Probed::Found(t),
        Err(e) => Probed::Failed(e),
    }
}

/// `system at URL` for messages (user-info removed from the URL).
pub fn at(system: &str, url: Option<&str>) -> String {
    match url.and_then(|u| reqwest::Url::parse(u).ok()) {
        Some(u) => format!("{system} at {}", crate::net::http::display_url(&u)),
        None => system.to_string(),
    }
}

/// `probe`, or a failure naming `system` when it has not finished by the run's deadline.
pub async fn within<T>(
    config: &Config,
    system: String,
    probe: impl std::future::Future<Output = Probed<T>>,
) -> Probed<T> {
    match tokio::time::timeout(config.timeout, probe).await {
        Ok(p) => p,
        Err(_) => Probed::Failed(ProbeError::new(
            ErrorKind::Timeout,
            format!(
                "{system} did not answer within {} s (--timeout bounds the whole run)",
                config.timeout.as_secs()
            ),
        )),
    }
}

//! The one report model every renderer reads: findings (what is wrong), outcomes (which checks
//! ran, and how) and the overall status that decides the exit code.
//!
//! Status rule (documented in README.md, a public contract): any blocker → CRITICAL; otherwise
//! any check that could not run (outcome `error`) → UNKNOWN; otherwise any warning → WARNING;
//! otherwise OK. `info` findings and `skipped` outcomes never change the status.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::process::ExitCode;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// JSON report schema version (ARCHITECTURE.md "Contracts").
pub const SCHEMA_VERSION: u32 = 1;

/// How bad a finding is. Ordered: `Info < Warning < Blocker`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never changes the exit code.
    Info,
    /// Risky: act before the maintenance window.
    Warning,
    /// The upgrade will fail or lose data.
    Blocker,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Blocker => "blocker",
        })
    }
}

/// The system a check or finding is about (JSON field `system`): a registered system's name
/// (`maas`, `mender`, …) or one of the parts a system's findings may be about (MAAS's `host`
/// and `postgresql`), as the registered systems' `about` lists them. Ordered by name here;
/// reports show systems in the registry's order (`crate::systems::rank`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct System(&'static str);

impl System {
    /// The system called `name` (interned: each distinct name is allocated once, for good).
    pub fn named(name: &str) -> System {
        static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
        let mut names = NAMES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(known) = names.iter().find(|n| **n == name) {
            return System(known);
        }
        let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
        names.push(leaked);
        System(leaked)
    }

    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl Serialize for System {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for System {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(System::named(&name))
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found by one check about one subject (a BMC group, a host, a database).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Check id, e.g. `MAAS004`.
    pub check: String,
    pub severity: Severity,
    pub system: System,
    /// What the finding is about, stable across runs (e.g. `ipmi BMC 10.0.0.5 user admin`).
    pub subject: String,
    /// The host it is about, for a host check run over several hosts (`--hosts`,
    /// `--host-facts`); absent for this host alone and for findings about no host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The check's title from the catalogue (shared by all of the check's findings).
    pub title: Arc<str>,
    /// What was found, in one or two sentences.
    pub message: String,
    /// What to do about it (shared by all of the check's findings).
    pub remediation: Arc<str>,
    /// Machine-readable detail. Never holds a secret.
    pub evidence: Evidence,
    /// Set when a waiver (or the baseline) accepts this finding: it is shown but does not count
    /// toward the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Waived>,
}

/// A finding's machine-readable detail: one JSON object. Never holds a secret.
#[derive(Debug, Clone)]
pub enum Evidence {
    /// Keys and values as the check built them.
    Object(Map<String, Value>),
    /// A kind a system keeps typed (MAAS's BMC groups, MAAS004 and MAAS005).
    Typed(Box<dyn TypedEvidence>),
}

/// A typed evidence kind a system keeps for speed (MAAS's BMC groups: a fleet can have tens
/// of thousands of them, built and written without a map of JSON values). Written as one JSON
/// object with sorted keys, like every other evidence object.
pub trait TypedEvidence: erased_serde::Serialize + fmt::Debug + Send + Sync {
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn TypedEvidence>;

    /// As `Any`, to compare with another of the same type.
    fn as_any(&self) -> &dyn std::any::Any;

    /// Whether `other` is the same kind with the same values.
    fn same_as(&self, other: &dyn TypedEvidence) -> bool;

    /// The line the table prints under the finding (`Machines: …`), if any.
    fn table_line(&self) -> Option<String> {
        None
    }
}

impl Clone for Box<dyn TypedEvidence> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

impl Evidence {
    /// The evidence as a JSON object: borrowed, or built for a typed kind.
    pub fn to_map(&self) -> Cow<'_, Map<String, Value>> {
        match self {
            Evidence::Object(map) => Cow::Borrowed(map),
            Evidence::Typed(_) => match serde_json::to_value(self) {
                Ok(Value::Object(map)) => Cow::Owned(map),
                // A typed kind serializes to an object (TypedEvidence's contract).
                _ => Cow::Owned(Map::new()),
            },
        }
    }
}

impl Default for Evidence {
    fn default() -> Self {
        Evidence::Object(Map::new())
    }
}

impl From<Map<String, Value>> for Evidence {
    fn from(map: Map<String, Value>) -> Self {
        Evidence::Object(map)
    }
}

/// Equal when their JSON objects are.
impl PartialEq for Evidence {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Evidence::Typed(a), Evidence::Typed(b)) if a.as_any().type_id() == b.as_any().type_id() => a.same_as(&**b),
            _ => self.to_map() == other.to_map(),
        }
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Evidence::Object(map) => map.serialize(s),
            Evidence::Typed(typed) => erased_serde::serialize(&**typed, s),
        }
    }
}

/// Any evidence object reads back as [`Evidence::Object`].
impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::deserialize(d).map(Evidence::Object)
    }
}

/// Why a finding does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waived {
    /// The waiver's justification, or `in the baseline`.
    pub justification: String,
    /// `YYYY-MM-DD`, when the waiver lapses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A Nagios plugin threshold range (monitoring-plugins guidelines): `10` alerts outside 0..=10,
/// `10:` below 10, `~:10` above 10, `10:20` outside 10..=20, `@10:20` inside 10..=20.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub start: f64,
    pub end: f64,
    /// `@`: alert when inside instead of outside.
    pub inside: bool,
}

impl Range {
    /// Alert on anything above zero: the default for both counts.
    pub const ZERO: Range = Range {
        start: 0.0,
        end: 0.0,
        inside: false,
    };

    /// Parses the range syntax.
    ///
    /// # Errors
    /// The problem in words.
    pub fn parse(text: &str) -> Result<Range, String> {
        let t = text.trim();
        let (inside, t) = match t.strip_prefix('@') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let num = |s: &str| {
            s.parse::<f64>()
                .map_err(|_| format!("'{s}' is not a number in range '{text}'"))
        };
        let (start, end) = match t.split_once(':') {
            None => (0.0, num(t)?),
            Some((a, b)) => {
                let start = if a == "~" {
                    f64::NEG_INFINITY
                } else if a.is_empty() {
                    0.0
                } else {
                    num(a)?
                };
                let end = if b.is_empty() { f64::INFINITY } else { num(b)? };
                (start, end)
            }
        };
        if start > end {
            return Err(format!("range '{text}' starts after it ends"));
        }
        Ok(Range { start, end, inside })
    }

    /// Whether `value` raises the alert.
    pub fn alerts(&self, value: f64) -> bool {
        let within = value >= self.start && value <= self.end;
        if self.inside {
            within
        } else {
            !within
        }
    }

    /// The range as written in perfdata.
    pub fn perfdata(&self) -> String {
        let bound = |v: f64| {
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                v.to_string()
            }
        };
        let body = match (self.start, self.end) {
            (s, e) if s == 0.0 && e.is_finite() => bound(e),
            (s, e) if e.is_infinite() && s.is_infinite() => "~:".to_string(),
            (s, e) if e.is_infinite() => format!("{}:", bound(s)),
            (s, e) if s.is_infinite() => format!("~:{}", bound(e)),
            (s, e) => format!("{}:{}", bound(s), bound(e)),
        };
        if self.inside {
            format!("@{body}")
        } else {
            body
        }
    }
}

/// How findings turn into a status: `--fail-on`, `-w`/`--warning` (on the warning count) and
/// `-c`/`--critical` (on the blocker count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub fail_on: FailOn,
    pub warning: Range,
    pub critical: Range,
    /// `--allow-nothing`: a run in which every check was skipped is OK, not UNKNOWN.
    pub allow_nothing: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            fail_on: FailOn::Warning,
            warning: Range::ZERO,
            critical: Range::ZERO,
            allow_nothing: false,
        }
    }
}

/// Which findings fail a run (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Warnings make the run WARNING (1), blockers CRITICAL (2): the Nagios mapping.
    #[default]
    Warning,
    /// Only blockers count: a warnings-only run exits 0.
    Blocker,
}

/// How one check went for one system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeStatus {
    /// The check ran and found nothing.
    Pass,
    /// The check ran and produced at least one finding.
    Fail,
    /// The check does not apply (system not configured, target not affected).
    Skipped,
    /// The check could not run; `reason` says why. Never counts as passed.
    Error,
}

impl OutcomeStatus {
    /// The status as JSON spells it (`pass`, `fail`, `skipped`, `error`).
    pub fn name(self) -> &'static str {
        match self {
            OutcomeStatus::Pass => "pass",
            OutcomeStatus::Fail => "fail",
            OutcomeStatus::Skipped => "skipped",
            OutcomeStatus::Error => "error",
        }
    }
}

impl fmt::Display for OutcomeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of failure made a check's outcome `error` (JSON `outcomes[].kind`, snake_case).
/// The renderers and the fault table read it; `reason` keeps the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No connection: refused, name not resolved, TLS failed.
    Unreachable,
    /// No answer in time (a request, a command, the run's deadline).
    Timeout,
    /// Credentials rejected (HTTP 401, a database password refused).
    Auth,
    /// Credentials accepted, permission refused (HTTP 403, a file preflight may not read,
    /// a table the database role may not select).
    Forbidden,
    /// What was asked for is not there (HTTP 404, a command, a database).
    NotFound,
    /// The system says it cannot answer now (HTTP 5xx, 408, 429).
    Unavailable,
    /// An answer came but cannot be used: an HTML page, malformed or wrongly shaped JSON, too
    /// large, not UTF-8, another protocol, NULL where the schema promises none.
    BadAnswer,
    /// A command ran and failed (a non-zero exit), or a failure of no other kind.
    Failed,
    /// Settings preflight was given cannot be used (a URL or key that does not parse).
    Config,
    /// The source cannot offer it: a running system's state asked of a root directory
    /// (`--root`), a host that was not inspected.
    NotAvailable,
    /// Everything needed was read, but preflight cannot decide from it (a version its knowledge
    /// does not hold, a system that reports no version).
    Undecided,
}

impl ErrorKind {
    /// The kind as JSON spells it (`not_found`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Auth => "auth",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::BadAnswer => "bad_answer",
            ErrorKind::Failed => "failed",
            ErrorKind::Config => "config",
            ErrorKind::NotAvailable => "not_available",
            ErrorKind::Undecided => "undecided",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The outcome of one check (JSON `outcomes[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub check: String,
    pub system: System,
    pub status: OutcomeStatus,
    /// Why it was skipped or errored, or a short summary of what a passing check looked at.
    pub reason: Option<String>,
    /// For an `error`: what kind of failure (absent from JSON otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ErrorKind>,
    /// For a host check run over several hosts: how it went on each, in upgrade order where
    /// the check knows it (absent from JSON otherwise). `status` is the worst of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostOutcome>,
}

/// How a host check went on one host (JSON `outcomes[].hosts[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostOutcome {
    pub host: String,
    pub status: OutcomeStatus,
    /// Why it was skipped or errored on this host, or what it looked at.
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ErrorKind>,
}

/// The host × check matrix of a report whose host checks ran over several hosts: the hosts
/// in the order they first appear in the outcomes, the checks that ran per host, and each
/// (host, check) cell (`None`: that check did not judge that host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostMatrix<'a> {
    pub hosts: Vec<&'a str>,
    pub checks: Vec<&'a Outcome>,
    /// `cells[h][c]`: host `h`, check `c`.
    pub cells: Vec<Vec<Option<&'a HostOutcome>>>,
}

impl OutcomeStatus {
    /// The matrix's mark: ✓ pass, ✗ fail, ! error (could not run), – skipped.
    pub fn mark(self) -> &'static str {
        match self {
            OutcomeStatus::Pass => "✓",
            OutcomeStatus::Fail => "✗",
            OutcomeStatus::Error => "!",
            OutcomeStatus::Skipped => "–",
        }
    }
}

/// Overall result; decides the exit code (Nagios plugin convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Status {
    /// The documented exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }

    /// Upper-case name as Nagios prints it.
    pub fn nagios_name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        ExitCode::from(status.exit_code())
    }
}

/// Counts a renderer needs for its summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Findings accepted by a waiver or the baseline (not counted below).
    pub waived: usize,
    pub blockers: usize,
    pub warnings: usize,
    pub infos: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub errors: usize,
    /// Number of outcomes (checks evaluated, whatever their status).
    pub checks: usize,
}

/// The whole result of one run (JSON schema version 1, ARCHITECTURE.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub preflight_version: String,
    pub status: Status,
    /// Target version per system, e.g. `{"maas": "3.7"}`.
    pub targets: BTreeMap<String, String>,
    pub findings: Vec<Finding>,
    pub outcomes: Vec<Outcome>,
    pub duration_ms: u64,
    /// When the scan started, in UTC to the second (RFC 3339 in JSON: `2026-12-01T19:58:03Z`);
    /// set by the engine, none in a report built by hand.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub started_at: Option<time::OffsetDateTime>,
    /// Things about the run itself a reader must not miss (e.g. TLS verification turned off).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
    /// The gating policy the status was computed with (not part of the JSON report).
    #[serde(skip)]
    pub policy: Policy,
}

impl Report {
    /// Builds a report, sorting findings (severity first, then check and subject) and outcomes
    /// (by check id) so every format is deterministic, and computing the status.
    pub fn new(
        targets: BTreeMap<String, String>,
        mut findings: Vec<Finding>,
        mut outcomes: Vec<Outcome>,
        duration_ms: u64,
    ) -> Self {
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.check.cmp(&b.check))
                .then_with(|| a.subject.cmp(&b.subject))
        });
        outcomes.sort_by(|a, b| a.check.cmp(&b.check).then(a.system.cmp(&b.system)));
        let status = status_of(&findings, &outcomes, &Policy::default());
        Report {
            schema_version: SCHEMA_VERSION,
            preflight_version: env!("CARGO_PKG_VERSION").to_string(),
            status,
            targets,
            findings,
            outcomes,
            duration_ms,
            started_at: None,
            notices: Vec::new(),
            policy: Policy::default(),
        }
    }

    /// [`Report::started_at`] as RFC 3339 (`2026-12-01T19:58:03Z`), as the JSON report writes it:
    /// SARIF's `startTimeUtc` and the HTML page's `<time datetime>`.
    pub fn started_at_rfc3339(&self) -> Option<String> {
        self.started_at
            .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
    }

    /// Recomputes the status under `policy` (after waivers or a baseline were applied).
    pub fn apply_policy(&mut self, policy: Policy) {
        self.policy = policy;
        self.status = status_of(&self.findings, &self.outcomes, &policy);
    }

    /// Whether every check was skipped (no system configured or found): nothing was checked.
    pub fn nothing_checked(&self) -> bool {
        nothing_checked(&self.outcomes)
    }

    /// Counts findings by severity and outcomes by status.
    pub fn tally(&self) -> Tally {
        let mut t = Tally {
            checks: self.outcomes.len(),
            ..Tally::default()
        };
        for f in &self.findings {
            if f.waiver.is_some() {
                t.waived += 1;
                continue;
            }
            match f.severity {
                Severity::Blocker => t.blockers += 1,
                Severity::Warning => t.warnings += 1,
                Severity::Info => t.infos += 1,
            }
        }
        for o in &self.outcomes {
            match o.status {
                OutcomeStatus::Pass => t.passed += 1,
                OutcomeStatus::Fail => t.failed += 1,
                OutcomeStatus::Skipped => t.skipped += 1,
                OutcomeStatus::Error => t.errors += 1,
            }
        }
        t
    }
}

/// The status rule of this module's documentation, under `policy`: waived findings do not
/// count; the blocker count is held against `critical`, the warning count against `warning`
/// (never under [`FailOn::Blocker`]). A check that could not run always counts, and so does a
/// run in which nothing was checked (unless [`Policy::allow_nothing`]).
pub fn status_of(findings: &[Finding], outcomes: &[Outcome], policy: &Policy) -> Status {
    let count = |sev: Severity| {
        findings
            .iter()
            .filter(|f| f.waiver.is_none() && f.severity == sev)
            .count() as f64
    };
    if policy.critical.alerts(count(Severity::Blocker)) {
        Status::Critical
    } else if outcomes.iter().any(|o| o.status == OutcomeStatus::Error)
        || !policy.allow_nothing && nothing_checked(outcomes)
    {
        Status::Unknown
    } else if policy.fail_on == FailOn::Warning && policy.warning.alerts(count(Severity::Warning)) {
        Status::Warning
    } else {
        Status::Ok
    }
}

impl Report {
    /// The host × check matrix, `None` when no check ran per host.
    pub fn host_matrix(&self) -> Option<HostMatrix<'_>> {
        let checks: Vec<&Outcome> = self.outcomes.iter().filter(|o| !o.hosts.is_empty()).collect();
        if checks.is_empty() {
            return None;
        }
        let mut hosts: Vec<&str> = Vec::new();
        for o in &checks {
            for h in &o.hosts {
                if !hosts.contains(&h.host.as_str()) {
                    hosts.push(&h.host);
                }
            }
        }
        let cells = hosts
            .iter()
            .map(|host| {
                checks
                    .iter()
                    .map(|o| o.hosts.iter().find(|h| h.host == *host))
                    .collect()
            })
            .collect();
        Some(HostMatrix { hosts, checks, cells })
    }
}

/// Whether every outcome is `skipped`, or there is none.
fn nothing_checked(outcomes: &[Outcome]) -> bool {
    outcomes.iter().all(|o| o.status == OutcomeStatus::Skipped)
}

/// Plural helper for summary lines: `plural(1, "blocker")` → `1 blocker`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_is_rfc3339_in_utc_in_json_and_for_the_formats() {
        let mut report = Report::new(BTreeMap::new(), Vec::new(), Vec::new(), 1);
        assert_eq!(report.started_at_rfc3339(), None);
        assert!(!serde_json::to_string(&report).unwrap().contains("started_at"));
        report.started_at = Some(time::macros::datetime!(2026-12-01 19:58:03 UTC));
        assert_eq!(report.started_at_rfc3339().as_deref(), Some("2026-12-01T19:58:03Z"));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["started_at"], "2026-12-01T19:58:03Z");
        let back: Report = serde_json::from_value(json).unwrap();
        assert_eq!(back.started_at, report.started_at);
    }

    fn finding(sev: Severity) -> Finding {
        Finding {
            check: "MAAS004".into(),
            severity: sev,
            system: System::named("maas"),
            subject: "s".into(),
            host: None,
            title: "t".into(),
            message: "m".into(),
            remediation: "r".into(),
            evidence: Default::default(),
            waiver: None,
        }
    }

    fn outcome(status: OutcomeStatus) -> Outcome {
        Outcome {
            check: "MAAS001".into(),
            system: System::named("maas"),
            status,
            reason: None,
            kind: None,
            hosts: Vec::new(),
        }
    }

    #[test]
    fn status_rule() {
        use OutcomeStatus::*;
        use Severity::*;
        let w = &Policy::default();
        assert_eq!(status_of(&[], &[outcome(Pass)], w), Status::Ok);
        assert_eq!(status_of(&[finding(Info)], &[outcome(Fail)], w), Status::Ok);
        assert_eq!(status_of(&[finding(Warning)], &[outcome(Fail)], w), Status::Warning);
        assert_eq!(status_of(&[finding(Warning)], &[outcome(Error)], w), Status::Unknown);
        assert_eq!(status_of(&[finding(Blocker)], &[outcome(Error)], w), Status::Critical);
        // Nothing was checked: UNKNOWN, unless --allow-nothing.
        assert_eq!(status_of(&[], &[outcome(Skipped)], w), Status::Unknown);
        assert_eq!(status_of(&[], &[], w), Status::Unknown);
        assert_eq!(status_of(&[], &[outcome(Skipped), outcome(Pass)], w), Status::Ok);
        let allow = &Policy {
            allow_nothing: true,
            ..Policy::default()
        };
        assert_eq!(status_of(&[], &[outcome(Skipped)], allow), Status::Ok);
        let b = &Policy {
            fail_on: FailOn::Blocker,
            ..Policy::default()
        };
        assert_eq!(status_of(&[finding(Warning)], &[outcome(Fail)], b), Status::Ok);
        assert_eq!(status_of(&[finding(Warning)], &[outcome(Error)], b), Status::Unknown);
        assert_eq!(status_of(&[finding(Blocker)], &[outcome(Fail)], b), Status::Critical);
        let mut waived = finding(Blocker);
        waived.waiver = Some(Waived {
            justification: "known".into(),
            expires: None,
        });
        assert_eq!(status_of(&[waived], &[outcome(Fail)], w), Status::Ok);
        let lenient = &Policy {
            warning: Range::parse("2").unwrap(),
            critical: Range::parse("~:1").unwrap(),
            ..Policy::default()
        };
        let two = [finding(Warning), finding(Warning)];
        assert_eq!(status_of(&two, &[outcome(Fail)], lenient), Status::Ok);
        assert_eq!(status_of(&[finding(Blocker)], &[outcome(Fail)], lenient), Status::Ok);
    }

    #[rstest::rstest]
    #[case("10", 11.0, true)]
    #[case("10", 10.0, false)]
    #[case("10", -1.0, true)]
    #[case("10:", 9.0, true)]
    #[case("10:", 100.0, false)]
    #[case("~:10", 11.0, true)]
    #[case("~:10", -100.0, false)]
    #[case("10:20", 21.0, true)]
    #[case("10:20", 15.0, false)]
    #[case("@10:20", 15.0, true)]
    #[case("@10:20", 9.0, false)]
    #[case("0", 1.0, true)]
    fn threshold_ranges(#[case] range: &str, #[case] value: f64, #[case] alerts: bool) {
        let r = Range::parse(range).unwrap();
        assert_eq!(r.alerts(value), alerts, "{range} {value}");
        assert_eq!(r.perfdata(), range);
    }

    #[test]
    fn bad_ranges() {
        for bad in ["x", "20:10", "@", "1:2:3"] {
            assert!(Range::parse(bad).is_err(), "{bad}");
        }
    }
}

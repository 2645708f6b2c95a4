//! SARIF 2.1.0 (via serde-sarif's schema-generated types), for GitHub code scanning and other
//! SARIF consumers: one rule per catalogue check, one result per finding with a stable
//! `partialFingerprints` per (check, subject), checks that could not run as tool execution
//! notifications (`executionSuccessful: false`).

use serde_json::{json, Value};
use serde_sarif::sarif::Sarif;
use xxhash_rust::xxh3::xxh3_128;

use crate::report::{OutcomeStatus, Report, Severity};
use crate::systems::catalogue;

/// The SARIF level of a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Blocker => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A fingerprint that stays the same across runs for the same (check, subject).
pub fn fingerprint(check: &str, subject: &str) -> String {
    format!("{:032x}", xxh3_128(format!("{check}\0{subject}").as_bytes()))
}

/// The report as a SARIF 2.1.0 log (pretty JSON).
pub fn render(report: &Report, config_path: Option<&str>) -> String {
    let rules: Vec<Value> = catalogue()
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "shortDescription": {"text": c.title},
                "fullDescription": {"text": c.what.split_whitespace().collect::<Vec<_>>().join(" ")},
                "help": {"text": format!("{} Remediation: {}", c.why.split_whitespace().collect::<Vec<_>>().join(" "), c.remediation.split_whitespace().collect::<Vec<_>>().join(" "))},
                "defaultConfiguration": {"level": level(c.severity)},
                "properties": {"tags": [c.system.as_str()], "source": c.source},
            })
        })
        .collect();
    let index = |id: &str| catalogue().iter().position(|c| c.id == id);
    let artifact = config_path.unwrap_or("preflight.toml").to_string();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut logical = vec![json!({"name": f.subject, "fullyQualifiedName": format!("{}/{}", f.system, f.subject), "kind": "resource"})];
            if let Some(host) = f.host.as_ref().filter(|h| **h != f.subject) {
                // The host a host check judged, as a location of its own.
                logical.push(json!({"name": host, "fullyQualifiedName": format!("host/{host}"), "kind": "resource"}));
            }
            let mut result = json!({
                "ruleId": f.check,
                "level": level(f.severity),
                "message": {"text": format!("{}: {}", f.subject, f.message)},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": artifact}},
                    "logicalLocations": logical,
                }],
                "partialFingerprints": {"preflight/v1": fingerprint(&f.check, &f.subject)},
                "properties": {"system": f.system.as_str(), "severity": f.severity, "evidence": f.evidence},
            });
            if let Some(host) = &f.host {
                result["properties"]["host"] = json!(host);
            }
            if let Some(i) = index(&f.check) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(w) = &f.waiver {
                result["suppressions"] = json!([{"kind": "external", "status": "accepted", "justification": w.justification}]);
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = report
        .outcomes
        .iter()
        .filter(|o| o.status == OutcomeStatus::Error)
        .map(|o| {
            json!({
                "level": "error",
                "message": {"text": format!("{} could not run: {}", o.check, o.reason.as_deref().unwrap_or("unknown cause"))},
                "descriptor": {"id": o.check},
                "properties": {"kind": o.kind},
            })
        })
        .collect();
    let mut log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "preflight",
                "version": report.preflight_version,
                "informationUri": "https://github.com/preflight/preflight",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
                "properties": {"status": report.status, "targets": report.targets, "duration_ms": report.duration_ms},
            }],
            "results": results,
        }],
    });
    // SARIF 2.1.0 `invocation.startTimeUtc`: a date-time string (null is not allowed, so it is
    // left out when the report has no start).
    if let Some(at) = report.started_at_rfc3339() {
        log["runs"][0]["invocations"][0]["startTimeUtc"] = at.into();
    }
    // Through serde-sarif's schema-generated types: a shape the schema does not allow fails here
    // (tested), never in a consumer.
    let sarif: Sarif = serde_json::from_value(log).expect("preflight builds valid SARIF (tested)");
    let mut text = serde_json::to_string_pretty(&sarif).expect("SARIF serializes");
    text.push('\n');
    text
}

//! Waivers and baselines: accepted findings that are shown but do not count toward the status.
//!
//! A waiver (`[[waiver]]` in preflight.toml or in a waivers file, default
//! `preflight.waivers.toml` beside the config) names a check id, a glob over the finding's
//! subject, a required justification and an optional expiry date. An expired waiver stops
//! applying; one that expires within [`EXPIRY_NOTICE_DAYS`] adds a warning. A baseline (a JSON
//! report of an earlier run) accepts every finding it already holds, by (check, subject).

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use crate::config::catalogue::Catalogue;
use crate::config::error::{parse_toml, ConfigError};
use crate::report::{Finding, Report, Severity, Waived};

/// Days before expiry from which a waiver adds a warning.
pub const EXPIRY_NOTICE_DAYS: i64 = 7;

/// A waiver as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiverSpec {
    /// Check id, e.g. `MAAS004`.
    pub check: String,
    /// Glob over the finding's subject (`*`, `?`, `[…]`) [default: every subject].
    #[serde(default)]
    pub subject: Option<String>,
    /// Why the finding is accepted (required).
    pub justification: String,
    /// The last day the waiver applies (a TOML date, `2026-12-31`).
    #[serde(default)]
    pub expires: Option<toml::value::Datetime>,
}

/// A validated waiver.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub check: String,
    pub subject: glob::Pattern,
    pub justification: String,
    pub expires: Option<time::Date>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiversFile {
    #[serde(default)]
    waiver: Vec<WaiverSpec>,
}

fn bad(what: &'static str, given: &str, why: String) -> ConfigError {
    ConfigError::Value {
        what,
        given: given.to_string(),
        why,
    }
}

/// Validates waivers: known check ids (with a did-you-mean), non-empty justification, valid
/// globs and dates.
///
/// # Errors
/// A [`ConfigError`] naming the waiver.
pub fn validate(specs: Vec<WaiverSpec>, catalogue: &Catalogue) -> Result<Vec<Waiver>, ConfigError> {
    specs
        .into_iter()
        .map(|w| {
            let Some(def) = catalogue.checks.iter().find(|c| c.id.eq_ignore_ascii_case(&w.check)) else {
                let hint = catalogue
                    .did_you_mean(&w.check)
                    .map_or_else(String::new, |s| format!("; did you mean '{s}'?"));
                return Err(bad("waiver check", &w.check, format!("no such check id{hint}")));
            };
            if w.justification.trim().is_empty() {
                return Err(bad(
                    "waiver justification",
                    &w.check,
                    "a waiver needs a justification".into(),
                ));
            }
            let pattern = w.subject.clone().unwrap_or_else(|| "*".into());
            let subject =
                glob::Pattern::new(&pattern).map_err(|e| bad("waiver subject glob", &pattern, e.to_string()))?;
            let expires = match &w.expires {
                None => None,
                Some(dt) => {
                    let d = dt.date.ok_or_else(|| {
                        bad(
                            "waiver expires",
                            &dt.to_string(),
                            "expected a date such as 2026-12-31".into(),
                        )
                    })?;
                    let month = time::Month::try_from(d.month)
                        .map_err(|e| bad("waiver expires", &dt.to_string(), e.to_string()))?;
                    Some(
                        time::Date::from_calendar_date(i32::from(d.year), month, d.day)
                            .map_err(|e| bad("waiver expires", &dt.to_string(), e.to_string()))?,
                    )
                }
            };
            Ok(Waiver {
                check: def.id.clone(),
                subject,
                justification: w.justification.trim().to_string(),
                expires,
            })
        })
        .collect()
}

/// Reads a waivers file (`[[waiver]]` tables); `None` when `required` is false and the file is
/// not there.
///
/// # Errors
/// Unreadable or invalid file (with a span), or an invalid waiver.
pub fn read_file(path: &Path, required: bool, catalogue: &Catalogue) -> Result<Vec<Waiver>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ConfigError::Read {
                path: path.display().to_string(),
                cause: e.to_string(),
            })
        }
    };
    let file: WaiversFile = parse_toml(&path.display().to_string(), &text)?;
    validate(file.waiver, catalogue)
}

/// The (check, subject) pairs of a baseline report.
///
/// # Errors
/// Unreadable file or not a preflight JSON report.
pub fn read_baseline(path: &Path) -> Result<BTreeSet<(String, String)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        cause: e.to_string(),
    })?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        bad(
            "baseline",
            &path.display().to_string(),
            format!("not a preflight JSON report (--format json): {e}"),
        )
    })?;
    Ok(report.findings.into_iter().map(|f| (f.check, f.subject)).collect())
}

/// Marks accepted findings as waived and adds a warning for every waiver about to expire.
pub fn apply(
    report: &mut Report,
    waivers: &[Waiver],
    baseline: Option<&BTreeSet<(String, String)>>,
    today: time::Date,
) {
    let mut notices: Vec<Finding> = Vec::new();
    for f in &mut report.findings {
        let active = waivers
            .iter()
            .find(|w| w.check == f.check && w.subject.matches(&f.subject) && w.expires.is_none_or(|e| today <= e));
        if let Some(w) = active {
            f.waiver = Some(Waived {
                justification: w.justification.clone(),
                expires: w.expires.map(|d| d.to_string()),
            });
            if let Some(e) = w.expires {
                let days = (e - today).whole_days();
                if days < EXPIRY_NOTICE_DAYS {
                    let mut notice = f.clone();
                    notice.severity = Severity::Warning;
                    notice.subject = format!("waiver for {}", f.subject);
                    notice.message = format!(
                        "The waiver of this {} finding expires on {e} (in {days} day(s)); renew it or fix the finding.",
                        f.severity
                    );
                    notice.waiver = None;
                    notices.push(notice);
                }
            }
        } else if baseline.is_some_and(|b| b.contains(&(f.check.clone(), f.subject.clone()))) {
            f.waiver = Some(Waived {
                justification: "in the baseline".into(),
                expires: None,
            });
        }
    }
    report.findings.extend(notices);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::of(&crate::systems::configurable())
    }

    fn find(id: &str) -> Option<&'static crate::core::check::CheckDef> {
        catalogue().checks.into_iter().find(|c| c.id == id)
    }
    use crate::report::{Evidence, OutcomeStatus, Policy, Status};
    use std::collections::BTreeMap;

    fn report() -> Report {
        let def = find("MAAS004").unwrap();
        let findings = vec![
            def.finding(
                Severity::Blocker,
                "ipmi BMC 10.0.0.5 user admin",
                "m",
                Evidence::default(),
            ),
            def.finding(
                Severity::Blocker,
                "ipmi BMC 10.0.9.9 user admin",
                "m",
                Evidence::default(),
            ),
        ];
        Report::new(
            BTreeMap::new(),
            findings,
            vec![def.outcome(OutcomeStatus::Fail, None)],
            1,
        )
    }

    fn waiver(subject: &str, expires: Option<&str>) -> WaiverSpec {
        WaiverSpec {
            check: "maas004".into(),
            subject: Some(subject.into()),
            justification: "lab machines, retired next quarter".into(),
            expires: expires.map(|e| e.parse().unwrap()),
        }
    }

    fn day(s: &str) -> time::Date {
        let p: Vec<u8> = s.split('-').skip(1).map(|x| x.parse().unwrap()).collect();
        let year: i32 = s[..4].parse().unwrap();
        time::Date::from_calendar_date(year, time::Month::try_from(p[0]).unwrap(), p[1]).unwrap()
    }

    #[test]
    fn active_expired_and_expiring() {
        let waivers = validate(vec![waiver("ipmi BMC 10.0.0.*", Some("2026-12-31"))], &catalogue()).unwrap();
        let mut r = report();
        apply(&mut r, &waivers, None, day("2026-11-21"));
        assert!(r.findings[0].waiver.is_some() && r.findings[1].waiver.is_none());
        r.apply_policy(Policy::default());
        assert_eq!(r.status, Status::Critical, "the other finding still counts");

        let all = validate(vec![waiver("*", Some("2026-12-31"))], &catalogue()).unwrap();
        let mut r = report();
        apply(&mut r, &all, None, day("2026-11-21"));
        r.apply_policy(Policy::default());
        assert_eq!(r.status, Status::Ok, "everything waived");

        let mut r = report();
        apply(&mut r, &all, None, day("2027-01-01"));
        assert!(
            r.findings.iter().all(|f| f.waiver.is_none()),
            "expired waivers stop applying"
        );

        let mut r = report();
        apply(&mut r, &all, None, day("2026-12-28"));
        r.apply_policy(Policy::default());
        let notices: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.subject.starts_with("waiver for"))
            .collect();
        assert_eq!(notices.len(), 2);
        assert!(notices[0].message.contains("2026-12-31") && notices[0].severity == Severity::Warning);
        assert_eq!(r.status, Status::Warning);
    }

    #[test]
    fn malformed_waivers_are_config_errors() {
        let e = validate(
            vec![WaiverSpec {
                check: "MAAS04".into(),
                ..waiver("*", None)
            }],
            &catalogue(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("did you mean 'MAAS004'"), "{e}");
        let e = validate(
            vec![WaiverSpec {
                justification: " ".into(),
                ..waiver("*", None)
            }],
            &catalogue(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("justification"), "{e}");
        let e = validate(vec![waiver("[", None)], &catalogue()).unwrap_err();
        assert!(e.to_string().contains("glob"), "{e}");
        let e = parse_toml::<WaiversFile>("w.toml", "[[waiver]]\ncheck = \"MAAS004\"\n")
            .err()
            .unwrap();
        assert!(e.to_string().contains("justification"), "{e}");
        let e = parse_toml::<WaiversFile>(
            "w.toml",
            "[[waiver]]\ncheck = \"MAAS004\"\njustification = \"x\"\nexpires = \"soon\"\n",
        )
        .err()
        .unwrap();
        assert!(matches!(e, ConfigError::Parse { .. }), "{e}");
    }

    #[test]
    fn baseline_accepts_known_findings() {
        let mut r = report();
        let baseline = BTreeSet::from([("MAAS004".to_string(), "ipmi BMC 10.0.0.5 user admin".to_string())]);
        apply(&mut r, &[], Some(&baseline), day("2026-11-21"));
        assert_eq!(r.findings[0].waiver.as_ref().unwrap().justification, "in the baseline");
        assert!(r.findings[1].waiver.is_none());
    }
}

//! Juju checks JUJU001–JUJU003: facts in, findings out, no I/O. Tables in checks/juju.toml.

use serde::Deserialize;
use serde_json::json;

use super::{CheckDef, Evaluation, Pack};
use crate::probe::Probed;
use crate::report::Severity;
use crate::version::{Series, Version};

/// Every check id this module implements (tested against the catalogue).
pub const IMPLEMENTED: &[&str] = &["JUJU001", "JUJU002", "JUJU003"];

/// One row of checks/juju.toml `[[migration]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// First target series the row applies to.
    pub target: String,
    pub model_min: String,
    #[serde(default)]
    pub client_min: Option<String>,
}

/// The Juju pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JujuPack {
    pub system: crate::report::System,
    /// The default target series.
    pub newest: String,
    pub migration: Vec<Migration>,
    pub check: Vec<CheckDef>,
}

impl Pack for JujuPack {
    fn checks(&self) -> &[CheckDef] {
        &self.check
    }
}

impl JujuPack {
    /// The migration minimums that apply to `target` (the last row at or below it).
    pub fn minimums(&self, target: Series) -> Option<&Migration> {
        self.migration
            .iter()
            .filter(|m| Series::parse(&m.target).is_ok_and(|t| t <= target))
            .max_by_key(|m| Series::parse(&m.target).ok())
    }
}

/// A model and its agent version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub name: String,
    pub agent: Version,
}

/// A controller, its agent version and its models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controller {
    pub name: String,
    pub agent: Version,
    pub models: Vec<Model>,
}

/// What the juju CLI told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JujuState {
    pub client: Version,
    pub controllers: Vec<Controller>,
}

/// How the operator means to upgrade (`[juju] upgrade`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Plan {
    /// `juju upgrade-controller` on the existing controller (the default).
    #[default]
    InPlace,
    /// A new controller and model migration.
    Migrate,
}

/// Runs every Juju check against `target`.
pub fn evaluate(pack: &JujuPack, state: &Probed<JujuState>, target: &Version, plan: Plan) -> Vec<Evaluation> {
    let s = match super::found_or_every(pack, IMPLEMENTED, state) {
        Ok(s) => s,
        Err(evaluations) => return evaluations,
    };
    vec![
        misalignment(pack.def("JUJU001"), s),
        in_place(pack.def("JUJU002"), s, target, plan),
        migration_minimum(pack, pack.def("JUJU003"), s, target),
    ]
}

fn ev(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn misalignment(def: &CheckDef, s: &JujuState) -> Evaluation {
    let mut findings = Vec::new();
    for c in &s.controllers {
        if s.client.series() < c.agent.series() {
            findings.push(def.finding(
                Severity::Warning,
                format!("client vs controller {}", c.name),
                format!(
                    "The client ({}) is older than controller {} ({}).",
                    s.client.normalized(),
                    c.name,
                    c.agent.normalized()
                ),
                ev(json!({"client": s.client.raw, "controller": c.agent.raw})),
            ));
        }
        let ahead: Vec<&str> = c
            .models
            .iter()
            .filter(|m| m.agent > c.agent)
            .map(|m| m.name.as_str())
            .collect();
        let behind: Vec<&str> = c
            .models
            .iter()
            .filter(|m| m.agent < c.agent)
            .map(|m| m.name.as_str())
            .collect();
        for (list, how) in [(ahead, "ahead of"), (behind, "left behind")] {
            if !list.is_empty() {
                findings.push(def.finding(
                    Severity::Warning,
                    format!("models of controller {}", c.name),
                    format!(
                        "{} model(s) are {how} controller {} ({}).",
                        list.len(),
                        c.name,
                        c.agent.normalized()
                    ),
                    ev(json!({"controller": c.name, "controller_version": c.agent.raw, "models": list})),
                ));
            }
        }
    }
    Evaluation::from_findings(
        def,
        findings,
        format!(
            "client {} and {} controller(s) aligned",
            s.client.normalized(),
            s.controllers.len()
        ),
    )
}

fn in_place(def: &CheckDef, s: &JujuState, target: &Version, plan: Plan) -> Evaluation {
    let mut findings = Vec::new();
    for c in &s.controllers {
        if c.agent.series() == target.series() {
            continue;
        }
        let models: Vec<&str> = c.models.iter().map(|m| m.name.as_str()).collect();
        let e = ev(
            json!({"controller": c.name, "controller_version": c.agent.raw, "target": target.raw, "models_to_migrate": models}),
        );
        if target.series() < c.agent.series() {
            findings.push(def.finding(
                Severity::Blocker,
                format!("controller {}", c.name),
                format!(
                    "The target {} is older than controller {} ({}): Juju cannot be downgraded.",
                    target.series(),
                    c.name,
                    c.agent.normalized()
                ),
                e,
            ));
            continue;
        }
        let plan_text = format!(
            "Controller {} ({}) → {}: not possible in place. Do the patch upgrade first, bootstrap a {} controller, migrate {} model(s) ({}), then juju upgrade-model.",
            c.name,
            c.agent.normalized(),
            target.series(),
            target.series(),
            models.len(),
            models.join(", ")
        );
        let mut plan_text = plan_text;
        if s.client.series() != target.series() {
            plan_text.push_str(&format!(
                " A client only bootstraps a controller of its own major.minor: install juju {} (the client is {}).",
                target.series(),
                s.client.normalized()
            ));
        }
        let severity = if plan == Plan::InPlace {
            Severity::Blocker
        } else {
            Severity::Info
        };
        findings.push(def.finding(severity, format!("controller {}", c.name), plan_text, e));
    }
    Evaluation::from_findings(
        def,
        findings,
        format!("every controller is on {}: a patch upgrade in place", target.series()),
    )
}

fn migration_minimum(pack: &JujuPack, def: &CheckDef, s: &JujuState, target: &Version) -> Evaluation {
    let Some(min) = pack.minimums(target.series()) else {
        return Evaluation::skipped(def, format!("no migration minimum for {}", target.series()));
    };
    let model_min = Version::parse(&min.model_min).expect("valid version in checks/juju.toml");
    let mut findings = Vec::new();
    for c in &s.controllers {
        if c.agent.series() == target.series() {
            continue;
        }
        let low: Vec<String> = c
            .models
            .iter()
            .filter(|m| m.agent.major < target.major && m.agent < model_min)
            .map(|m| format!("{} ({})", m.name, m.agent.normalized()))
            .collect();
        if !low.is_empty() {
            findings.push(def.finding(
                Severity::Blocker,
                format!("models of controller {}", c.name),
                format!(
                    "{} model(s) are below {} — the minimum to migrate to {}: {}.",
                    low.len(),
                    min.model_min,
                    target.series(),
                    low.join(", ")
                ),
                ev(json!({"controller": c.name, "minimum": min.model_min, "models": low})),
            ));
        }
    }
    if let Some(client_min) = &min.client_min {
        let needed = Version::parse(client_min).expect("valid version in checks/juju.toml");
        if s.client < needed {
            findings.push(def.finding(
                Severity::Blocker,
                "juju client",
                format!(
                    "The client {} is below {client_min}, the minimum to migrate to {}.",
                    s.client.normalized(),
                    target.series()
                ),
                ev(json!({"client": s.client.raw, "minimum": client_min})),
            ));
        }
    }
    Evaluation::from_findings(
        def,
        findings,
        format!("models and client meet the minimums for {}", target.series()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::juju_pack;
    use crate::report::OutcomeStatus;
    use rstest::rstest;

    fn state(client: &str, controller: &str, models: &[&str]) -> Probed<JujuState> {
        let v = |s: &str| Version::parse(s).unwrap();
        Probed::Found(JujuState {
            client: v(client),
            controllers: vec![Controller {
                name: "prod".into(),
                agent: v(controller),
                models: models
                    .iter()
                    .enumerate()
                    .map(|(i, m)| Model {
                        name: format!("admin/m{i}"),
                        agent: v(m),
                    })
                    .collect(),
            }],
        })
    }

    fn verdict(s: &Probed<JujuState>, target: &str, plan: Plan, id: &str) -> (OutcomeStatus, Vec<Severity>) {
        let e = evaluate(juju_pack(), s, &Version::parse(target).unwrap(), plan)
            .into_iter()
            .find(|e| e.outcome.check == id)
            .unwrap();
        (e.outcome.status, e.findings.iter().map(|f| f.severity).collect())
    }

    #[rstest]
    #[case::patch_in_place("3.5.4", "3.5.7", Plan::InPlace, vec![])]
    #[case::minor_in_place("3.5.4", "3.6", Plan::InPlace, vec![Severity::Blocker])]
    #[case::minor_migrate("3.5.4", "3.6", Plan::Migrate, vec![Severity::Info])]
    #[case::major_in_place("2.9.44", "3.0", Plan::InPlace, vec![Severity::Blocker])]
    #[case::downgrade("3.6.1", "3.5", Plan::Migrate, vec![Severity::Blocker])]
    fn in_place_rules(#[case] controller: &str, #[case] target: &str, #[case] plan: Plan, #[case] want: Vec<Severity>) {
        let s = state("3.6.4", controller, &[controller]);
        assert_eq!(verdict(&s, target, plan, "JUJU002").1, want);
    }

    #[rstest]
    #[case::to_3_0_ok("2.9.36", "2.9.44", "3.0", 0)]
    #[case::to_3_0_low("2.9.35", "2.9.44", "3.0", 1)]
    #[case::to_3_1_low("2.9.35", "2.9.44", "3.1", 1)]
    #[case::to_3_2_ok("2.9.43", "2.9.42", "3.2", 0)]
    #[case::to_3_2_model_low("2.9.42", "2.9.42", "3.2", 1)]
    #[case::to_3_2_client_low("2.9.43", "2.9.41", "3.2", 1)]
    #[case::to_3_6_both_low("2.9.40", "2.9.30", "3.6", 2)]
    fn migration_minimum_rules(
        #[case] model: &str,
        #[case] client: &str,
        #[case] target: &str,
        #[case] blockers: usize,
    ) {
        let s = state(client, "2.9.44", &[model]);
        assert_eq!(verdict(&s, target, Plan::Migrate, "JUJU003").1.len(), blockers);
    }

    #[rstest]
    #[case::aligned("3.6.4", "3.6.4", &["3.6.4"], 0)]
    #[case::client_older("3.5.1", "3.6.4", &["3.6.4"], 1)]
    #[case::model_ahead("3.6.4", "3.6.1", &["3.6.4"], 1)]
    #[case::model_behind("3.6.4", "3.6.4", &["3.6.1", "3.6.4"], 1)]
    fn misalignment_rules(
        #[case] client: &str,
        #[case] controller: &str,
        #[case] models: &[&str],
        #[case] warnings: usize,
    ) {
        let s = state(client, controller, models);
        assert_eq!(verdict(&s, "3.6", Plan::InPlace, "JUJU001").1.len(), warnings);
    }

    #[test]
    fn probe_failure_is_an_error_for_every_check() {
        let s = Probed::Failed("juju exited 1".into());
        for id in IMPLEMENTED {
            assert_eq!(verdict(&s, "3.6", Plan::InPlace, id).0, OutcomeStatus::Error);
        }
    }
}

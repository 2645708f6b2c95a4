//! Juju checks JUJU001–JUJU003: facts in, findings out, no I/O. Tables in checks/juju.toml.

use super::facts::{JujuState, Model, Plan};
use crate::core::knowledge::PackFile;
use serde::Deserialize;
use serde_json::json;

use crate::core::check::{CheckDef, Evaluation, Pack};
use crate::core::path::{newer_than_known, HopKind, PathError, UpgradePath};
use crate::core::probed::{ErrorKind, ProbeError, Probed};
use crate::report::{Finding, Severity};
use crate::version::{Series, Version};

/// The Juju pack (`checks/juju.toml`, merged with `--knowledge DIR`'s `juju.toml`).
pub static PACK: PackFile<JujuPack> = PackFile::new("juju.toml", include_str!("../../../checks/juju.toml"));

/// The parsed pack.
pub fn pack() -> &'static JujuPack {
    PACK.get()
}

/// Every check id this module implements (tested against the catalogue).
pub const IMPLEMENTED: &[&str] = &["JUJU001", "JUJU002", "JUJU003"];

/// One row of checks/juju.toml `[[migration]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// First target series the row applies to.
    pub target: String,
    /// The lowest model agent version a controller of the target accepts in a migration.
    pub model_min: String,
    /// The lowest client that can run that migration, when upstream sets one.
    #[serde(default)]
    pub client_min: Option<String>,
    /// Where the minimums were read (repository, tag, path).
    pub source: String,
}

/// One released series (checks/juju.toml `[[series]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JujuSeries {
    /// `3.6`.
    pub version: String,
    /// Its newest patch release (`3.6.12`), from the tags.
    pub last: String,
    /// Where the release was read (repository, tags).
    pub source: String,
}

/// The Juju pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JujuPack {
    pub system: crate::report::System,
    /// Series below this one upgrade between minors in place (2.7 → 2.8 → 2.9); from it on, a
    /// different minor or major means a new controller and model migration.
    pub in_place_minors_before: String,
    pub series: Vec<JujuSeries>,
    /// Series upstream prepares but has not released: never a target.
    #[serde(default)]
    pub unreleased: Vec<crate::core::path::Unreleased>,
    pub migration: Vec<Migration>,
    pub check: Vec<CheckDef>,
}

impl Pack for JujuPack {
    fn checks(&self) -> &[CheckDef] {
        &self.check
    }
}

impl JujuPack {
    /// The newest release preflight knows: the default target.
    pub fn newest(&self) -> Version {
        let last = self.series.last().expect("the series list is not empty (tested)");
        Version::parse(&last.last).expect("valid version in checks/juju.toml")
    }

    /// The migration minimums that apply to `target` (the last row at or below it).
    pub fn minimums(&self, target: Series) -> Option<&Migration> {
        self.migration
            .iter()
            .filter(|m| Series::parse(&m.target).is_ok_and(|t| t <= target))
            .max_by_key(|m| Series::parse(&m.target).ok())
    }

    fn series_row(&self, s: Series) -> Option<&JujuSeries> {
        self.series.iter().find(|r| Series::parse(&r.version).ok() == Some(s))
    }

    fn last_of(&self, s: Series) -> Option<Version> {
        self.series_row(s).and_then(|r| Version::parse(&r.last).ok())
    }

    /// The release a target names: a series (`3.6`) means its newest patch.
    ///
    /// # Errors
    /// [`PathError::Unknown`] for a series preflight does not know.
    pub fn resolve(&self, target: &Version) -> Result<Version, PathError> {
        if let Some(u) = self
            .unreleased
            .iter()
            .find(|u| Series::parse(&u.version).ok() == Some(target.series()))
        {
            return Err(PathError::Refused(format!(
                "Juju {} is not released ({}; {}): pick a released series, the newest is {}",
                u.version,
                u.evidence,
                u.source,
                self.newest().raw
            )));
        }
        let Some(last) = self.last_of(target.series()) else {
            return Err(self.unknown(target));
        };
        let named_series = target.raw.trim_start_matches(['v', 'V']).split('.').count() == 2;
        if named_series {
            return Ok(last);
        }
        if *target > last {
            return Err(PathError::Unknown(format!(
                "Juju {} is newer than the newest {} release preflight knows ({}): use a newer preflight",
                target.raw,
                target.series(),
                last.raw
            )));
        }
        Ok(target.clone())
    }

    fn unknown(&self, v: &Version) -> PathError {
        let newest = self.newest();
        if *v > newest {
            PathError::Unknown(newer_than_known("Juju", &v.raw, &newest.raw, "juju"))
        } else {
            PathError::Unknown(format!(
                "Juju {} is not a series preflight knows (one of {})",
                v.series(),
                self.series
                    .iter()
                    .map(|r| r.version.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }

    /// The way from a controller at `from` to `to` (see [`Self::resolve`]): patch upgrades
    /// and minors before [`JujuPack::in_place_minors_before`] in place; any other series change
    /// a patch upgrade first (to reach the migration minimum), then a new controller of the
    /// target and `juju migrate` of every model.
    ///
    /// # Errors
    /// [`PathError::Refused`] for a downgrade; [`PathError::Unknown`] for a series preflight
    /// does not know.
    pub fn route(&self, from: &Version, to: &Version) -> Result<UpgradePath, PathError> {
        if to.series() < from.series() || (to.series() == from.series() && to < from) {
            return Err(PathError::Refused(format!(
                "the target {} is older than the controller ({}): Juju cannot be downgraded",
                to.raw, from.raw
            )));
        }
        let in_place_before = Series::parse(&self.in_place_minors_before).expect("valid series in checks/juju.toml");
        let in_place = "in place: juju upgrade-controller, then juju upgrade-model for every model";
        let mut path = UpgradePath::default();
        let mut current = from.clone();
        while current.series() < to.series() {
            let next = self
                .series
                .iter()
                .filter_map(|r| Series::parse(&r.version).ok())
                .filter(|s| *s > current.series())
                .min()
                .ok_or_else(|| self.unknown(to))?;
            if next < in_place_before {
                let land = if next == to.series() {
                    to.clone()
                } else {
                    self.last_of(next).ok_or_else(|| self.unknown(to))?
                };
                path.push(&from.raw, land.raw.clone(), HopKind::Minor, in_place, Vec::new());
                current = land;
                continue;
            }
            // A migration. The source must first reach the series the target's minimum is on
            // (3.6 before 4.x): then the destination of this migration is that series' newest.
            let need = self
                .minimums(to.series())
                .and_then(|m| Version::parse(&m.model_min).ok())
                .filter(|min| min.series() > current.series());
            let dest = match need {
                Some(min) => self.last_of(min.series()).ok_or_else(|| self.unknown(&min))?,
                None => to.clone(),
            };
            // From the newest patch of the running series (how the minimum is reached).
            let last = self.last_of(current.series()).ok_or_else(|| self.unknown(&current))?;
            if current < last {
                path.push(
                    &from.raw,
                    last.raw.clone(),
                    HopKind::Patch,
                    format!("patch upgrade {in_place}"),
                    Vec::new(),
                );
            }
            let mut first = vec![format!(
                "install a juju {} client (a client bootstraps controllers of its own major.minor)",
                dest.series()
            )];
            if let Some(min) = self
                .minimums(dest.series())
                .filter(|m| Series::parse(&m.model_min).is_ok_and(|s| s.major < dest.major))
            {
                first.push(format!("every model at {} or later", min.model_min));
            }
            path.push(
                &from.raw,
                dest.raw.clone(),
                HopKind::Migration,
                format!(
                    "new controller: juju bootstrap a {} controller, juju migrate every model to it (not the controller model), then juju upgrade-model there",
                    dest.series()
                ),
                first,
            );
            current = dest;
        }
        if current < *to {
            path.push(
                &from.raw,
                to.raw.clone(),
                HopKind::Patch,
                format!("patch upgrade {in_place}"),
                Vec::new(),
            );
        }
        Ok(path)
    }
}

/// A controller that could be read: its agent version and models.
struct Readable<'a> {
    name: &'a str,
    agent: &'a Version,
    models: &'a [Model],
}

/// The evaluation of one check over every controller: its findings for the readable ones;
/// outcome `error` naming the unreadable ones (the others' findings are still reported).
fn over_controllers(def: &CheckDef, s: &JujuState, findings: Vec<Finding>, summary: String) -> Evaluation {
    let unreadable = s.unreadable();
    if unreadable.is_empty() {
        return Evaluation::from_findings(def, findings, summary);
    }
    let checked = s.controllers.len() - unreadable.len();
    let details: Vec<&str> = unreadable.iter().map(|e| e.detail.as_str()).collect();
    Evaluation::partly(
        def,
        findings,
        ProbeError::new(
            unreadable[0].kind,
            format!(
                "{} could not be read ({}); {} other controller(s) checked",
                crate::report::plural(unreadable.len(), "controller"),
                details.join("; "),
                checked
            ),
        ),
    )
}

/// Runs every Juju check against `target` (`None`: the newest release preflight knows).
pub fn evaluate(pack: &JujuPack, state: &Probed<JujuState>, target: Option<&Version>, plan: Plan) -> Vec<Evaluation> {
    let s = match crate::core::check::found_or_every(pack, IMPLEMENTED, state) {
        Ok(s) => s,
        Err(evaluations) => return evaluations,
    };
    let named_series = target.is_some_and(|t| t.raw.trim_start_matches(['v', 'V']).split('.').count() == 2);
    let target = target.map_or_else(|| Ok(pack.newest()), |t| pack.resolve(t));
    let target = match target {
        Ok(t) => t,
        Err(PathError::Unknown(cause) | PathError::Refused(cause)) => {
            return vec![
                misalignment(pack.def("JUJU001"), s),
                Evaluation::undecided(pack.def("JUJU002"), cause.clone()),
                Evaluation::undecided(pack.def("JUJU003"), cause),
            ]
        }
    };
    vec![
        misalignment(pack.def("JUJU001"), s),
        in_place(pack, pack.def("JUJU002"), s, &target, named_series, plan),
        migration_minimum(pack, pack.def("JUJU003"), s, &target),
    ]
}

fn ev(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn misalignment(def: &CheckDef, s: &JujuState) -> Evaluation {
    let mut findings = Vec::new();
    let mut checked = 0;
    for c in s.readable() {
        checked += 1;
        if s.client.series() < c.agent.series() {
            findings.push(def.finding(
                Severity::Warning,
                format!("client vs controller {}", c.name),
                format!(
                    "The client ({}) is older than controller {} ({}).",
                    s.client.raw, c.name, c.agent.raw
                ),
                ev(json!({"client": s.client.raw, "controller": c.agent.raw})),
            ));
        }
        let ahead: Vec<&str> = c
            .models
            .iter()
            .filter(|m| m.agent > *c.agent)
            .map(|m| m.name.as_str())
            .collect();
        let behind: Vec<&str> = c
            .models
            .iter()
            .filter(|m| m.agent < *c.agent)
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
                        c.agent.raw
                    ),
                    ev(json!({"controller": c.name, "controller_version": c.agent.raw, "models": list})),
                ));
            }
        }
    }
    over_controllers(
        def,
        s,
        findings,
        format!("client {} and {checked} controller(s) aligned", s.client.raw),
    )
}

fn in_place(
    pack: &JujuPack,
    def: &CheckDef,
    s: &JujuState,
    target: &Version,
    named_series: bool,
    plan: Plan,
) -> Evaluation {
    let mut findings = Vec::new();
    // Paths that are in place: notes that go with a pass.
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    for c in s.readable() {
        let subject = format!("controller {}", c.name);
        let migrated: Vec<&str> = c
            .models
            .iter()
            .filter(|m| !m.is_controller)
            .map(|m| m.name.as_str())
            .collect();
        let mut e = ev(json!({"controller": c.name, "controller_version": c.agent.raw, "target": target.raw}));
        // A series target means its newest patch: a controller on a later patch of it than
        // preflight knows is already there.
        if named_series && c.agent.series() == target.series() && c.agent > target {
            continue;
        }
        let path = match pack.route(c.agent, target) {
            Ok(p) => p,
            Err(PathError::Refused(problem)) => {
                findings.push(def.finding(
                    Severity::Blocker,
                    subject,
                    format!("Controller {}: {problem}.", c.name),
                    e,
                ));
                continue;
            }
            Err(PathError::Unknown(cause)) => {
                errors.push(format!("controller {}: {cause}", c.name));
                continue;
            }
        };
        if path.hops.is_empty() {
            continue;
        }
        path.add_to(&mut e);
        let migrates = path.hops.iter().any(|h| h.kind == HopKind::Migration);
        if !migrates {
            notes.push(def.finding(
                Severity::Info,
                subject,
                format!(
                    "Controller {} ({}) → {}: in place ({}).",
                    c.name,
                    c.agent.raw,
                    target.raw,
                    crate::report::plural(path.hops.len(), "upgrade")
                ),
                e,
            ));
            continue;
        }
        e.insert("models_to_migrate".into(), json!(migrated));
        let migrations = path.hops.iter().filter(|h| h.kind == HopKind::Migration).count();
        let mut text = format!(
            "Controller {} ({}) → {}: not possible in place. The way takes {}, {} of them a new controller and model migration (below); the model(s) to migrate: {} (the controller model stays).",
            c.name,
            c.agent.raw,
            target.raw,
            crate::report::plural(path.hops.len(), "upgrade"),
            migrations,
            if migrated.is_empty() { "none".to_string() } else { migrated.join(", ") }
        );
        if s.client.series() != target.series() {
            text.push_str(&format!(
                " A client only bootstraps a controller of its own major.minor: install juju {} (the client is {}).",
                target.series(),
                s.client.raw
            ));
        }
        let severity = if plan == Plan::InPlace {
            Severity::Blocker
        } else {
            Severity::Info
        };
        findings.push(def.finding(severity, subject, text, e));
    }
    if findings.is_empty() && errors.is_empty() && s.unreadable().is_empty() {
        let summary = if notes.is_empty() {
            format!("every controller is on {}", target.raw)
        } else {
            format!("every controller upgrades to {} in place", target.raw)
        };
        let mut e = Evaluation::pass(def, summary);
        e.findings = notes;
        return e;
    }
    findings.extend(notes);
    let mut evaluation = over_controllers(def, s, findings, String::new());
    if !errors.is_empty() {
        let findings = std::mem::take(&mut evaluation.findings);
        evaluation = Evaluation::partly(def, findings, ProbeError::new(ErrorKind::Undecided, errors.join("; ")));
    }
    evaluation
}

fn migration_minimum(pack: &JujuPack, def: &CheckDef, s: &JujuState, target: &Version) -> Evaluation {
    let Some(min) = pack.minimums(target.series()) else {
        return Evaluation::skipped(def, format!("no migration minimum for {}", target.series()));
    };
    let model_min = Version::parse(&min.model_min).expect("valid version in checks/juju.toml");
    let in_place_before = Series::parse(&pack.in_place_minors_before).expect("valid series in checks/juju.toml");
    let mut findings = Vec::new();
    let mut migrating = false;
    for c in s.readable() {
        // Only controllers that need a migration to reach the target.
        if c.agent.series() >= target.series() || target.series() < in_place_before {
            continue;
        }
        migrating = true;
        let low: Vec<String> = c
            .models
            .iter()
            .filter(|m| !m.is_controller && m.agent < model_min)
            .map(|m| format!("{} ({})", m.name, m.agent.raw))
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
                ev(json!({"controller": c.name, "minimum": min.model_min, "models": low, "source": min.source})),
            ));
        }
    }
    if let Some(client_min) = min.client_min.as_ref().filter(|_| migrating) {
        let needed = Version::parse(client_min).expect("valid version in checks/juju.toml");
        if s.client < needed {
            findings.push(def.finding(
                Severity::Blocker,
                "juju client",
                format!(
                    "The client {} is below {client_min}, the minimum to migrate to {}.",
                    s.client.raw,
                    target.series()
                ),
                ev(json!({"client": s.client.raw, "minimum": client_min, "source": min.source})),
            ));
        }
    }
    over_controllers(
        def,
        s,
        findings,
        format!("models and client meet the minimums for {}", target.series()),
    )
}

impl JujuState {
    fn readable(&self) -> impl Iterator<Item = Readable<'_>> {
        self.controllers.iter().filter_map(|c| match (&c.agent, &c.models) {
            (Some(agent), Ok(models)) => Some(Readable {
                name: &c.name,
                agent,
                models,
            }),
            _ => None,
        })
    }

    /// `controller X: cause` for each controller that could not be read, of the cause's kind.
    fn unreadable(&self) -> Vec<ProbeError> {
        self.controllers
            .iter()
            .filter_map(|c| match (&c.agent, &c.models) {
                (_, Err(cause)) => Some(
                    cause
                        .clone()
                        .reworded(|cause| format!("controller {}: {cause}", c.name)),
                ),
                (None, Ok(_)) => Some(ProbeError::new(
                    ErrorKind::BadAnswer,
                    format!("controller {}: no agent-version", c.name),
                )),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::OutcomeStatus;
    use crate::systems::juju::checks::pack as juju_pack;
    use crate::systems::juju::facts::Controller;
    use rstest::rstest;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn controller(name: &str, agent: &str, models: &[&str]) -> Controller {
        let mut list = vec![Model {
            name: "admin/controller".into(),
            agent: v(agent),
            is_controller: true,
        }];
        list.extend(models.iter().enumerate().map(|(i, m)| Model {
            name: format!("admin/m{i}"),
            agent: v(m),
            is_controller: false,
        }));
        Controller {
            name: name.into(),
            agent: Some(v(agent)),
            models: Ok(list),
        }
    }

    fn state(client: &str, agent: &str, models: &[&str]) -> Probed<JujuState> {
        Probed::Found(JujuState {
            client: v(client),
            controllers: vec![controller("prod", agent, models)],
        })
    }

    fn verdict(s: &Probed<JujuState>, target: &str, plan: Plan, id: &str) -> (OutcomeStatus, Vec<Severity>) {
        let e = evaluate(juju_pack(), s, Some(&v(target)), plan)
            .into_iter()
            .find(|e| e.outcome.check == id)
            .unwrap();
        (e.outcome.status, e.findings.iter().map(|f| f.severity).collect())
    }

    #[rstest]
    #[case::patch_in_place("3.5.4", "3.5.7", Plan::InPlace, OutcomeStatus::Pass, vec![Severity::Info])]
    #[case::already_there("3.6.27", "3.6", Plan::InPlace, OutcomeStatus::Pass, vec![])]
    #[case::newer_patch_than_known("3.6.29", "3.6", Plan::InPlace, OutcomeStatus::Pass, vec![])]
    #[case::minor_in_place("3.5.4", "3.6", Plan::InPlace, OutcomeStatus::Fail, vec![Severity::Blocker])]
    #[case::minor_migrate("3.5.4", "3.6", Plan::Migrate, OutcomeStatus::Fail, vec![Severity::Info])]
    #[case::major_in_place("2.9.44", "3.0", Plan::InPlace, OutcomeStatus::Fail, vec![Severity::Blocker])]
    #[case::minors_before_3_0_in_place("2.7.3", "2.9", Plan::InPlace, OutcomeStatus::Pass, vec![Severity::Info])]
    #[case::downgrade("3.6.1", "3.5", Plan::Migrate, OutcomeStatus::Fail, vec![Severity::Blocker])]
    #[case::unreleased_4_1("3.6.27", "4.1", Plan::Migrate, OutcomeStatus::Error, vec![])]
    fn in_place_rules(
        #[case] agent: &str,
        #[case] target: &str,
        #[case] plan: Plan,
        #[case] status: OutcomeStatus,
        #[case] want: Vec<Severity>,
    ) {
        let s = state("3.6.4", agent, &[agent]);
        assert_eq!(
            verdict(&s, target, plan, "JUJU002"),
            (status, want),
            "{agent} → {target}"
        );
    }

    // Rows checked against the release notes and upgrades/upgradevalidation in checks/juju.toml.
    #[rstest]
    #[case::patch("3.6.4", "3.6", &["3.6.4", "3.6.27"])]
    #[case::in_place_minors("2.7.3", "2.9", &["2.7.3", "2.8.13", "2.9.52"])]
    #[case::to_3_via_latest_2_9("2.9.40", "3.6", &["2.9.40", "2.9.52", "3.6.27"])]
    #[case::from_2_7_to_3_6("2.7.8", "3.6", &["2.7.8", "2.8.13", "2.9.52", "3.6.27"])]
    #[case::minor_after_3_0("3.4.2", "3.6.10", &["3.4.2", "3.4.6", "3.6.10"])]
    #[case::to_4_0_through_3_6("3.5.4", "4.0", &["3.5.4", "3.5.7", "3.6.27", "4.0.15"])]
    #[case::to_4_0_from_3_6("3.6.20", "4.0", &["3.6.20", "3.6.27", "4.0.15"])]
    fn paths(#[case] from: &str, #[case] to: &str, #[case] want: &[&str]) {
        let pack = juju_pack();
        let to = pack.resolve(&v(to)).unwrap();
        assert_eq!(pack.route(&v(from), &to).unwrap().versions(), want);
    }

    #[rstest]
    #[case::to_3_0_ok("2.9.36", "2.9.44", "3.0", 0)]
    #[case::to_3_0_low("2.9.35", "2.9.44", "3.0", 1)]
    #[case::to_3_1_low("2.9.35", "2.9.44", "3.1", 1)]
    #[case::to_3_0_client_low("2.9.36", "2.9.41", "3.0", 1)]
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

    #[test]
    fn to_4_0_every_model_must_be_on_3_6_and_the_controller_model_stays() {
        let s = state("4.0.15", "3.5.7", &["3.5.7"]);
        let e = evaluate(juju_pack(), &s, Some(&v("4.0")), Plan::Migrate);
        let f = &e[2].findings[0];
        assert!(
            f.message.contains("3.6.0") && f.message.contains("admin/m0"),
            "{}",
            f.message
        );
        assert!(!f.message.contains("admin/controller"), "{}", f.message);
        let plan = &e[1].findings[0];
        assert!(!plan.evidence.to_map()["models_to_migrate"]
            .to_string()
            .contains("admin/controller"));
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
    fn an_unreadable_controller_errors_only_for_itself() {
        let mut stale = controller("stale", "3.5.1", &[]);
        stale.models = Err(ProbeError::new(ErrorKind::Unreachable, "unable to connect to API"));
        let s = Probed::Found(JujuState {
            client: v("3.6.4"),
            controllers: vec![controller("prod", "3.5.4", &["3.5.4"]), stale],
        });
        let e = evaluate(juju_pack(), &s, Some(&v("3.6")), Plan::InPlace);
        for e in &e {
            assert_eq!(e.outcome.status, OutcomeStatus::Error, "{:?}", e.outcome);
            let reason = e.outcome.reason.as_deref().unwrap();
            assert!(
                reason.contains("controller stale: unable to connect")
                    && reason.contains("1 other controller(s) checked"),
                "{reason}"
            );
        }
        assert_eq!(e[1].findings.len(), 1, "prod is still checked");
        assert_eq!(e[1].findings[0].subject, "controller prod");
    }

    #[test]
    fn probe_failure_is_an_error_for_every_check() {
        let s = Probed::Failed(ProbeError::new(ErrorKind::Failed, "juju exited 1"));
        for id in IMPLEMENTED {
            assert_eq!(verdict(&s, "3.6", Plan::InPlace, id).0, OutcomeStatus::Error);
        }
    }
}

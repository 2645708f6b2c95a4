//! MAAS checks MAAS001–MAAS008: facts in, findings out, no I/O. Texts and tables come from
//! checks/maas.toml (see [`crate::systems::maas::checks::MaasPack`]); the duplicate-BMC detector is
//! [`crate::systems::maas::bmc`].

use super::facts::{BmcRow, NodeKind};
use crate::core::knowledge::PackFile;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::bmc::evidence::BmcEvidence;
use super::bmc::{find_groups, BmcGroup, Observations, TypeOrigin};
use super::facts::{HostFacts, InspectedHost, MaasInstall};
use crate::core::check::{CheckDef, Evaluation, Pack};
use crate::core::path::{newer_than_known, HopKind, Unreleased, UpgradePath};
use crate::core::probed::{ErrorKind, ProbeError, Probed};
use crate::report::System;
use crate::report::{Finding, OutcomeStatus, Severity};
use crate::systems::maas::bmc::machine_list::MachineIndex;
use crate::systems::maas::facts::MaasApiFacts;
use crate::systems::maas::facts::{BmcTable, Migration0290, NotAnObject, PgFacts};
use crate::version::{Series, Version};

/// The MAAS pack (`checks/maas.toml`, merged with `--knowledge DIR`'s `maas.toml`).
pub static PACK: PackFile<MaasPack> = PackFile::new("maas.toml", include_str!("../../../checks/maas.toml"));

/// The parsed pack.
pub fn pack() -> &'static MaasPack {
    PACK.get()
}

/// Every check id this module implements (tested against the catalogue).
pub const IMPLEMENTED: &[&str] = &[
    "MAAS001", "MAAS002", "MAAS003", "MAAS004", "MAAS005", "MAAS006", "MAAS007", "MAAS008", "MAAS009",
];

/// One row of the release table (checks/maas.toml `[[release]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// MAAS series, `3.5`.
    pub version: String,
    /// Ubuntu base release, `22.04`.
    pub ubuntu: String,
    pub ubuntu_codename: String,
    /// Below this PostgreSQL major: blocker.
    pub postgresql_min: u32,
    /// Below this (and at or above the minimum): deprecated, warning.
    pub postgresql_deprecated_below: u32,
    /// Below this (and not deprecated): info.
    pub postgresql_recommended: u32,
    /// The series requires the MAAS database to be owned by the MAAS role (MD4).
    #[serde(default)]
    pub database_owned_by_maas_role: bool,
}

/// The MAAS pack: catalogue plus version and BMC tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaasPack {
    pub system: System,
    pub release: Vec<Release>,
    /// Series upstream announces but has not tagged (`[[unreleased]]`).
    #[serde(default)]
    pub unreleased: Vec<Unreleased>,
    pub paths: Paths,
    pub bmc: super::bmc::BmcRules,
    pub check: Vec<CheckDef>,
}

impl Pack for MaasPack {
    fn checks(&self) -> &[CheckDef] {
        &self.check
    }
}

/// checks/maas.toml `[paths]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    /// Upgrades from this series or older are untested upstream.
    pub untested_from_at_most: String,
    /// The series that ships migration 0290.
    pub migration_0290_introduced_in: String,
}

impl MaasPack {
    /// The release row for `series`, if the table has one.
    pub fn release(&self, series: Series) -> Option<&Release> {
        self.release
            .iter()
            .find(|r| Series::parse(&r.version).ok() == Some(series))
    }

    /// The newest series in the release table: the default target.
    pub fn newest(&self) -> Version {
        self.release
            .iter()
            .filter_map(|r| Version::parse(&r.version).ok())
            .max()
            .expect("the release table is not empty (tested)")
    }

    fn known_series(&self) -> String {
        self.release
            .iter()
            .map(|r| r.version.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Everything the MAAS checks read.
#[derive(Debug)]
pub struct MaasFacts {
    pub host: HostFacts,
    pub postgres: Probed<PgFacts>,
    pub api: Probed<MaasApiFacts>,
    /// The database's BMC rows (`maasserver_bmc`), when the database can be read: the truth
    /// MAAS004 and MAAS005 prefer over the API.
    pub bmcs: Probed<BmcTable>,
    /// `[maas] current` from the config, used when neither API nor host tells the version.
    pub configured_current: Option<Version>,
    /// The hosts inspected besides this one (`--hosts`, `--host-facts`); `None` when none was
    /// asked for (the host checks then judge this host alone).
    pub inspected: Option<Vec<InspectedHost>>,
}

/// The running MAAS version and where it was read.
fn current_version(facts: &MaasFacts) -> Result<(Version, String), ProbeError> {
    if let Some(api) = facts.api.found() {
        if let Some(v) = api.version.as_deref().and_then(|v| Version::parse(v).ok()) {
            return Ok((v, format!("the region API ({})", api.url)));
        }
    }
    // The oldest install counts: the upgrade starts from it.
    let oldest = installs(facts)
        .into_iter()
        .filter_map(|(v, how)| Version::parse(v).ok().map(|v| (v, how)))
        .min_by(|a, b| a.0.cmp(&b.0));
    if let Some(found) = oldest {
        return Ok(found);
    }
    if let Some(v) = &facts.configured_current {
        return Ok((v.clone(), "[maas] current in the config file".into()));
    }
    let undecided = |detail: String| ProbeError::new(ErrorKind::Undecided, detail);
    Err(match &facts.api {
        Probed::Failed(cause) => cause
            .clone()
            .reworded(|cause| format!("cannot tell the running MAAS version: {cause}")),
        Probed::Found(api) => match api.version.as_deref() {
            // `str(get_maas_version())` of no reported version (upstream
            // src/maasserver/models/controllerinfo.py).
            Some("None") => undecided(format!(
                "cannot tell the running MAAS version: the region API ({}) answers version \"None\" (no controller has reported its version yet); wait for the controllers to report, or set [maas] current",
                api.url
            )),
            Some(v) => undecided(format!(
                "cannot tell the running MAAS version: the region API ({}) answers version {v:?}, which is not a MAAS version; set [maas] current",
                api.url
            )),
            None => undecided(format!(
                "cannot tell the running MAAS version: the region API ({}) answers an empty version; set [maas] current",
                api.url
            )),
        },
        Probed::Skipped(_) => undecided(
            "cannot tell the running MAAS version: set MAAS_URL, run on a MAAS host, or set [maas] current".into(),
        ),
    })
}

/// Whether MAAS is present at all: configured or discovered through any probe.
fn maas_present(facts: &MaasFacts) -> bool {
    facts.host.maas.is_some()
        || facts.inspected.is_some()
        || !matches!(facts.api, Probed::Skipped(_))
        || !matches!(facts.postgres, Probed::Skipped(_))
        || facts.configured_current.is_some()
}

const NOT_PRESENT: &str =
    "MAAS is neither configured (MAAS_URL, DATABASE_URL, preflight.toml) nor installed on this host";

/// Runs every MAAS check against `given` (`None`: the newest release preflight knows). One
/// [`Evaluation`] per check, in id order.
pub fn evaluate(pack: &MaasPack, facts: &MaasFacts, given: Option<&Version>) -> Vec<Evaluation> {
    let target = &given.cloned().unwrap_or_else(|| pack.newest());
    if !maas_present(facts) {
        return IMPLEMENTED
            .iter()
            .map(|id| Evaluation::skipped(pack.def(id), NOT_PRESENT))
            .collect();
    }
    let current = current_version(facts);
    let release = pack.release(target.series()).ok_or_else(|| {
        format!(
            "checks/maas.toml has no release data for MAAS {}; known series: {}",
            target.series(),
            pack.known_series()
        )
    });
    vec![
        upgrade_path(pack, pack.def("MAAS001"), &current, target, given.is_none()),
        ubuntu_release(pack.def("MAAS002"), facts, target, &release),
        postgresql_version(pack.def("MAAS003"), facts, target, &release),
        duplicate_bmcs(pack, pack.def("MAAS004"), facts, &current, target),
        shared_addresses(pack, pack.def("MAAS005"), facts),
        time_sync(pack.def("MAAS006"), facts),
        controller_skew(pack.def("MAAS007"), facts),
        database_owner(pack.def("MAAS008"), facts, target, &release),
        interrupted_upgrade(pack, pack.def("MAAS009"), facts),
    ]
}

fn evidence(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The way from `current` to `target`: MAAS upgrades straight to the target series
/// (`snap refresh maas --channel=X/stable`, racks first), after what each series crossed
/// requires (upstream docs/how-to-guides/upgrade-maas.md "General steps"; the release table).
pub fn maas_route(pack: &MaasPack, current: &Version, target: &Version) -> UpgradePath {
    let mut first = Vec::new();
    let from = pack.release(current.series());
    if let Some(to) = pack.release(target.series()) {
        if from.is_none_or(|f| f.ubuntu != to.ubuntu) {
            first.push(format!(
                "Ubuntu {} ({}) on every controller of a deb install",
                to.ubuntu, to.ubuntu_codename
            ));
        }
        if from.is_none_or(|f| f.postgresql_min < to.postgresql_min) {
            first.push(format!("PostgreSQL {} or later", to.postgresql_min));
        }
        if to.database_owned_by_maas_role && !from.is_some_and(|f| f.database_owned_by_maas_role) {
            first.push("the MAAS database owned by the MAAS role".into());
        }
    }
    let migration = Series::parse(&pack.paths.migration_0290_introduced_in).expect("valid series in checks/maas.toml");
    if current.series() < migration && target.series() >= migration {
        first.push("no BMCs that collide once 0290 removes their passwords (MAAS004)".into());
    }
    let untested = Series::parse(&pack.paths.untested_from_at_most).expect("valid series in checks/maas.toml");
    if current.series() <= untested && target.major >= 3 {
        first.push("a full backup (upgrades from 2.8 or older are untested)".into());
    }
    first.push("rack controllers first, then region controllers".into());
    let mut path = UpgradePath::default();
    let kind = if target.major > current.major {
        HopKind::Major
    } else {
        HopKind::Minor
    };
    path.push(
        &current.raw,
        target.series().to_string(),
        kind,
        format!(
            "snap refresh maas --channel={}/stable (deb: the {} packages), on each controller",
            target.series(),
            target.series()
        ),
        first,
    );
    path
}

/// `default_target`: no target was given, `target` is the newest release preflight knows.
fn upgrade_path(
    pack: &MaasPack,
    def: &CheckDef,
    current: &Result<(Version, String), ProbeError>,
    target: &Version,
    default_target: bool,
) -> Evaluation {
    let (current, from) = match current {
        Ok(c) => c,
        Err(e) => return Evaluation::error(def, e.clone()),
    };
    let ev = |path: Option<&UpgradePath>| {
        let mut map = evidence(vec![
            ("current", json!(current.raw)),
            ("current_source", json!(from)),
            ("target", json!(target.raw)),
        ]);
        if let Some(p) = path {
            p.add_to(&mut map);
        }
        map
    };
    let subject = format!("MAAS {} → {}", current.series(), target.series());
    if let Some(next) = pack
        .unreleased
        .iter()
        .find(|u| Series::parse(&u.version).ok() == Some(target.series()))
    {
        let mut message = format!(
            "MAAS {} is not released: upstream has no {} tag ({}; {}). preflight checks upgrades to released series only; pick one of {}.",
            target.series(),
            next.version,
            next.evidence,
            next.source,
            pack.known_series()
        );
        let mut path = None;
        if let Some(hop) = next.requires_from.as_deref() {
            if Series::parse(hop).is_ok_and(|hop| current.series() < hop) {
                message.push_str(&format!(
                    " When it is released, the way there from {} goes through MAAS {hop}, a mandatory hop.",
                    current.raw
                ));
                let mut p = UpgradePath::default();
                p.push(
                    &current.raw,
                    hop,
                    HopKind::Minor,
                    format!("MAAS {hop} (unreleased), a mandatory hop"),
                    Vec::new(),
                );
                p.push(
                    &current.raw,
                    target.series().to_string(),
                    HopKind::Major,
                    format!("MAAS {} (unreleased)", target.series()),
                    Vec::new(),
                );
                path = Some(p);
            }
        }
        let f = def.finding(Severity::Blocker, subject, message, ev(path.as_ref()));
        return Evaluation::from_findings(def, vec![f], "");
    }
    let newest = pack.newest();
    if default_target && current.series() > newest.series() {
        // The running MAAS is newer than the release table: the table is old, not the target.
        return Evaluation::undecided(def, newer_than_known("MAAS", &current.raw, &newest.raw, "maas"));
    }
    if target.series() < current.series() {
        let f = def.finding(
            Severity::Blocker,
            subject,
            format!(
                "The target {} is older than the running MAAS {} (read from {from}): MAAS cannot be downgraded.",
                target.series(),
                current.raw
            ),
            ev(None),
        );
        return Evaluation::from_findings(def, vec![f], "");
    }
    if target.series() == current.series() {
        return Evaluation::pass(
            def,
            format!("MAAS {} (from {from}) is on {}", current.raw, target.series()),
        );
    }
    let path = maas_route(pack, current, target);
    let untested = Series::parse(&pack.paths.untested_from_at_most).expect("valid series in checks/maas.toml");
    if current.series() <= untested && target.major >= 3 {
        let f = def.finding(
            Severity::Warning,
            subject,
            format!(
                "Upgrading from MAAS {} ({untested} or older) to {} (3.x) is untested upstream; take a full backup first.",
                current.raw,
                target.series()
            ),
            ev(Some(&path)),
        );
        return Evaluation::from_findings(def, vec![f], "");
    }
    let note = def.finding(
        Severity::Info,
        subject.clone(),
        format!("{subject} is one upgrade (read from {from})."),
        ev(Some(&path)),
    );
    Evaluation::passing_with(
        def,
        note,
        format!("MAAS {} (from {from}) → {}", current.raw, target.series()),
    )
}

const NOT_HERE: &str = "MAAS is not installed on this host; run preflight on each region and rack controller for host checks (or give them with --hosts or --host-facts)";

/// Which host a host check is judging: this one, or one inspected by name.
enum Who<'a> {
    This,
    Named(&'a str),
}

impl Who<'_> {
    /// The findings' subject: `this host`, or the host's name.
    fn subject(&self) -> String {
        match self {
            Who::This => "this host".into(),
            Who::Named(name) => (*name).to_string(),
        }
    }

    /// How a sentence starts about it: `This host`, or the host's name.
    fn sentence(&self) -> String {
        match self {
            Who::This => "This host".into(),
            Who::Named(name) => (*name).to_string(),
        }
    }
}

/// A host check over every host it judges. Alone (no `--hosts`/`--host-facts`): this host,
/// skipped when MAAS is not installed here. Over a fleet: every inspected host (and this one
/// when MAAS runs here under a name no inspected host has), in upgrade order
/// ([`ordered_controllers`]; hosts the region API does not list come last), each finding naming its
/// host; a controller the region API lists that nothing inspected is an error ("was not
/// inspected"), never a silent pass. The outcome is the worst host's, with every host's in
/// `hosts`.
fn over_hosts(def: &CheckDef, facts: &MaasFacts, on: impl Fn(&HostFacts, &Who) -> Evaluation) -> Evaluation {
    let Some(inspected) = &facts.inspected else {
        return match facts.host.maas {
            Some(_) => on(&facts.host, &Who::This),
            None => Evaluation::skipped(def, NOT_HERE),
        };
    };
    let mut judged: Vec<(String, Evaluation)> = Vec::new();
    let local = local_name(&facts.host);
    if facts.host.maas.is_some() && !inspected.iter().any(|h| same_host(&h.name, &local)) {
        let mut e = on(&facts.host, &Who::Named(&local));
        name_host(&mut e, &local);
        judged.push((local.clone(), e));
    }
    for h in inspected {
        let e = match &h.facts {
            Err(cause) => Evaluation::error(def, cause.clone()),
            Ok(host) if host.maas.is_none() => Evaluation::skipped(def, format!("MAAS is not installed on {}", h.name)),
            Ok(host) => {
                let mut e = on(host, &Who::Named(&h.name));
                name_host(&mut e, &h.name);
                e
            }
        };
        judged.push((h.name.clone(), e));
    }
    let order = upgrade_order(facts);
    for name in &order {
        if !judged.iter().any(|(n, _)| same_host(n, name)) {
            let cause = ProbeError::new(
                ErrorKind::NotAvailable,
                format!("{name} was not inspected: the region API lists it as a controller, but no inventory host or facts document is it"),
            );
            judged.push((name.clone(), Evaluation::error(def, cause)));
        }
    }
    judged.sort_by_key(|(name, _)| order.iter().position(|n| same_host(n, name)).unwrap_or(usize::MAX));
    combine(def, judged)
}

/// Sets `host` on every finding of `e`.
fn name_host(e: &mut Evaluation, host: &str) {
    for f in &mut e.findings {
        f.host = Some(host.to_string());
    }
}

/// The outcome of a host check over the hosts it judged: error when one could not be checked
/// (its kind), else fail with findings, else pass; skipped only when every host skipped.
fn combine(def: &CheckDef, judged: Vec<(String, Evaluation)>) -> Evaluation {
    use crate::report::HostOutcome;
    let hosts: Vec<HostOutcome> = judged
        .iter()
        .map(|(host, e)| HostOutcome {
            host: host.clone(),
            status: e.outcome.status,
            reason: e.outcome.reason.clone().filter(|r| !r.is_empty()),
            kind: e.outcome.kind,
        })
        .collect();
    let findings: Vec<Finding> = judged.into_iter().flat_map(|(_, e)| e.findings).collect();
    let count = |status: OutcomeStatus| hosts.iter().filter(|h| h.status == status).count();
    let errors: Vec<&HostOutcome> = hosts.iter().filter(|h| h.status == OutcomeStatus::Error).collect();
    let mut e = if let Some(first) = errors.first() {
        let detail = errors
            .iter()
            .map(|h| format!("{}: {}", h.host, h.reason.as_deref().unwrap_or("could not be checked")))
            .collect::<Vec<_>>()
            .join("; ");
        Evaluation::partly(
            def,
            findings,
            ProbeError::new(
                first.kind.unwrap_or(ErrorKind::Failed),
                format!(
                    "{} could not be checked: {detail}",
                    crate::report::plural(errors.len(), "host")
                ),
            ),
        )
    } else if count(OutcomeStatus::Skipped) == hosts.len() {
        Evaluation::skipped(
            def,
            if hosts.is_empty() {
                "no host to check: the inventory and facts documents name none".to_string()
            } else {
                format!(
                    "MAAS is installed on none of the {} inspected",
                    crate::report::plural(hosts.len(), "host")
                )
            },
        )
    } else {
        let checked = hosts.len() - count(OutcomeStatus::Skipped);
        Evaluation::from_findings(
            def,
            findings,
            format!("{} checked", crate::report::plural(checked, "host")),
        )
    };
    e.outcome.hosts = hosts;
    e
}

/// This host's name for a fleet report (its hostname, from `/proc/sys/kernel/hostname`).
fn local_name(host: &HostFacts) -> String {
    host.hostname.clone().unwrap_or_else(|| "this host".into())
}

/// Whether two host names are one host: equal, or equal in their first DNS label
/// (`region-1` is `region-1.maas`), case aside.
fn same_host(a: &str, b: &str) -> bool {
    let label = |n: &str| n.split('.').next().unwrap_or(n).to_ascii_lowercase();
    a.eq_ignore_ascii_case(b) || label(a) == label(b)
}

/// A listed controller: its hostname, roles (`region`, `rack`) and reported version.
type Listed<'a> = (String, BTreeSet<&'static str>, Option<&'a str>);

/// The controllers the region API lists, by system_id, in the order MAAS upgrades them:
/// rack-only controllers first, then region controllers (a region+rack upgrades with the
/// regions; canonical/maas master@9e51f33ce docs/how-to-guides/upgrade-maas.md, step 4:
/// "Upgrade rack nodes first, then region nodes"), by hostname within each. A region+rack, listed by both endpoints, is one entry with both roles.
fn ordered_controllers(api: &MaasApiFacts) -> Vec<(&str, Listed<'_>)> {
    let mut controllers: BTreeMap<&str, Listed<'_>> = BTreeMap::new();
    for (role, list) in [("region", &api.regions), ("rack", &api.racks)] {
        for c in list {
            let entry = controllers
                .entry(c.system_id.as_str())
                .or_insert_with(|| (c.hostname.clone(), BTreeSet::new(), c.version.as_deref()));
            entry.1.insert(role);
        }
    }
    let mut ordered: Vec<(&str, Listed<'_>)> = controllers.into_iter().collect();
    ordered.sort_by_key(|(_, (hostname, roles, _))| (roles.contains("region"), hostname.clone()));
    ordered
}

/// The controllers' hostnames in upgrade order ([`ordered_controllers`]); none without the API.
fn upgrade_order(facts: &MaasFacts) -> Vec<String> {
    facts.api.found().map_or_else(Vec::new, |api| {
        ordered_controllers(api)
            .into_iter()
            .map(|(_, (hostname, _, _))| hostname)
            .filter(|h| !h.is_empty())
            .collect()
    })
}

fn ubuntu_release(
    def: &CheckDef,
    facts: &MaasFacts,
    target: &Version,
    release: &Result<&Release, String>,
) -> Evaluation {
    over_hosts(def, facts, |host, who| {
        ubuntu_release_on(def, host, who, target, release)
    })
}

/// MAAS002 on one host that runs MAAS.
fn ubuntu_release_on(
    def: &CheckDef,
    host: &HostFacts,
    who: &Who,
    target: &Version,
    release: &Result<&Release, String>,
) -> Evaluation {
    let release = match release {
        Ok(r) => r,
        Err(e) => return Evaluation::undecided(def, e.clone()),
    };
    let Some(os) = &host.release else {
        return Evaluation::error(
            def,
            ProbeError::new(
                ErrorKind::Failed,
                "cannot read the host's release (/etc/os-release and lsb_release -a both failed)",
            ),
        );
    };
    let needed = Series::parse(&release.ubuntu).expect("valid Ubuntu release in checks/maas.toml");
    let ev = evidence(vec![
        ("distribution", json!(os.id)),
        ("release", json!(os.version)),
        ("codename", json!(os.codename)),
        ("source", json!(os.source)),
        ("required", json!(release.ubuntu)),
        ("required_codename", json!(release.ubuntu_codename)),
    ]);
    let subject = who.subject();
    let have = os.series();
    if os.id != "ubuntu" {
        let f = def.finding(
            Severity::Blocker,
            subject,
            format!(
                "{} runs {} {}; MAAS {} needs Ubuntu {} ({}).",
                who.sentence(),
                os.id,
                os.version,
                target.series(),
                release.ubuntu,
                release.ubuntu_codename
            ),
            ev,
        );
        return Evaluation::from_findings(def, vec![f], "");
    }
    match have {
        Some(have) if have >= needed => Evaluation::pass(
            def,
            format!(
                "Ubuntu {} ({}) ≥ {} for MAAS {}",
                os.version,
                os.codename,
                release.ubuntu,
                target.series()
            ),
        ),
        // The base binds deb installs; the snap carries its own base and "can run on other
        // Ubuntu versions" (master:docs/reference/supported-maas-versions.md), so there the
        // upgrade documents' 22.04-first advice is a warning.
        Some(_) if matches!(host.maas, Some(MaasInstall::Snap { .. })) => {
            let f = def.finding(
                Severity::Warning,
                subject,
                format!(
                    "{} runs Ubuntu {} ({}). The MAAS {} snap is built on Ubuntu {} and can run on other Ubuntu releases (docs/reference/supported-maas-versions.md), but the upgrade documents ask for Ubuntu {} ({}) first: plan the host's release upgrade.",
                    who.sentence(),
                    os.version,
                    os.codename,
                    target.series(),
                    release.ubuntu,
                    release.ubuntu,
                    release.ubuntu_codename
                ),
                ev,
            );
            Evaluation::from_findings(def, vec![f], "")
        }
        Some(_) => {
            let f = def.finding(
                Severity::Blocker,
                subject,
                format!(
                    "{} runs Ubuntu {} ({}); the MAAS {} deb packages install only on Ubuntu {} ({}) (docs/reference/supported-maas-versions.md).",
                    who.sentence(),
                    os.version,
                    os.codename,
                    target.series(),
                    release.ubuntu,
                    release.ubuntu_codename
                ),
                ev,
            );
            Evaluation::from_findings(def, vec![f], "")
        }
        None => Evaluation::error(
            def,
            ProbeError::new(
                ErrorKind::BadAnswer,
                format!("cannot parse the host's release '{}' ({})", os.version, os.source),
            ),
        ),
    }
}

fn postgres_facts<'a>(def: &CheckDef, facts: &'a MaasFacts) -> Result<&'a PgFacts, Evaluation> {
    match &facts.postgres {
        Probed::Found(pg) => Ok(pg),
        Probed::Skipped(reason) => Err(Evaluation::skipped(def, reason.clone())),
        Probed::Failed(cause) => Err(Evaluation::error(def, cause.clone())),
    }
}

fn postgresql_version(
    def: &CheckDef,
    facts: &MaasFacts,
    target: &Version,
    release: &Result<&Release, String>,
) -> Evaluation {
    let pg = match postgres_facts(def, facts) {
        Ok(pg) => pg,
        Err(e) => return e,
    };
    let release = match release {
        Ok(r) => r,
        Err(e) => return Evaluation::undecided(def, e.clone()),
    };
    let major = pg.major();
    let ev = evidence(vec![
        ("server_version_num", json!(pg.server_version_num)),
        ("major", json!(major)),
        ("minimum", json!(release.postgresql_min)),
        ("recommended", json!(release.postgresql_recommended)),
        ("target", json!(target.raw)),
    ]);
    let subject = pg.endpoint.clone();
    let finding = |severity, message: String| {
        Evaluation::from_findings(
            def,
            vec![def.finding(severity, subject.clone(), message, ev.clone())],
            "",
        )
    };
    let t = target.series();
    if major < release.postgresql_min {
        finding(
            Severity::Blocker,
            format!(
                "PostgreSQL {major} is below the minimum {} for MAAS {t}.",
                release.postgresql_min
            ),
        )
    } else if major < release.postgresql_deprecated_below {
        finding(
            Severity::Warning,
            format!(
                "PostgreSQL {major} is deprecated for MAAS {t}; upgrade to {} before the next MAAS upgrade.",
                release.postgresql_recommended
            ),
        )
    } else if major < release.postgresql_recommended {
        finding(
            Severity::Info,
            format!(
                "PostgreSQL {major} is supported by MAAS {t}; {} is recommended.",
                release.postgresql_recommended
            ),
        )
    } else {
        Evaluation::pass(
            def,
            format!("PostgreSQL {major} meets MAAS {t} (minimum {})", release.postgresql_min),
        )
    }
}

/// system_id → hostname, for the machines a report names: a map (API), or the machine list's
/// index (`--machines`: no map of a million machines, only the reported ones are looked up).
#[derive(Debug, Default)]
pub struct Hostnames<'a> {
    map: rustc_hash::FxHashMap<&'a str, &'a str>,
    list: Option<&'a MachineIndex>,
}

impl<'a> Hostnames<'a> {
    /// The hostnames of `(system_id, hostname)` pairs; of a system_id given twice the last
    /// counts.
    pub fn of_pairs(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Hostnames<'a> {
        Hostnames {
            map: pairs.into_iter().collect(),
            list: None,
        }
    }

    /// The hostnames of a machine list.
    pub fn of_list(list: &'a MachineIndex) -> Hostnames<'a> {
        Hostnames {
            map: Default::default(),
            list: Some(list),
        }
    }

    /// The hostname of `system_id`, if known.
    pub fn get(&self, system_id: &str) -> Option<&'a str> {
        match self.list {
            Some(list) => list.find(system_id).map(|m| m.hostname),
            None => self.map.get(system_id).copied(),
        }
    }
}

/// The detector's input plus what a report needs to name the machines behind each record.
pub struct BmcView<'a> {
    pub obs: &'a Observations,
    /// system_id → hostname (API and `--machines`); records are machines.
    pub hostnames: Hostnames<'a>,
    /// API: the kinds of the records that are not machines, by subject.
    pub kinds: Option<&'a HashMap<String, NodeKind>>,
    /// Database mode: records are BMC rows, keyed by row id.
    pub rows: Option<&'a HashMap<String, BmcRow>>,
}

impl BmcView<'_> {
    /// What the report says a record count is.
    fn unit(&self) -> &'static str {
        if self.rows.is_some() {
            "BMC rows"
        } else {
            "machines"
        }
    }

    /// A group's members in words: `2 BMC rows`, `3 machines`, `1 machine and 1 rack
    /// controller`.
    fn members(&self, group: &BmcGroup) -> String {
        let n = group.members.len();
        if self.rows.is_some() {
            return format!("{n} BMC row{}", if n == 1 { "" } else { "s" });
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &group.subjects {
            let kind = match self.kinds.and_then(|k| k.get(s.as_str())) {
                None => "machine",
                Some(NodeKind::RackController) => "rack controller",
                Some(NodeKind::RegionController) => "region controller",
                Some(NodeKind::VmHost { .. }) => "VM host",
            };
            *counts.entry(kind).or_default() += 1;
        }
        let parts: Vec<String> = ["machine", "rack controller", "region controller", "VM host"]
            .iter()
            .filter_map(|k| {
                counts
                    .get(k)
                    .map(|c| format!("{c} {k}{}", if *c == 1 { "" } else { "s" }))
            })
            .collect();
        match parts.as_slice() {
            [] => "0 machines".into(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }

    /// The evidence of one group, which it consumes (its strings move into the evidence).
    fn evidence(&self, group: BmcGroup) -> BmcEvidence {
        let subjects = group.subjects;
        let mut evidence = BmcEvidence {
            bmc_count: group.bmc_count,
            bmc_ids: None,
            controllers: None,
            hostnames: Vec::new(),
            pods: None,
            power_address: group.power_address,
            power_type: group.power_types.iter().map(|t| (*t).to_string()).collect(),
            power_user: group.power_user,
            system_ids: Vec::new(),
        };
        match self.rows {
            Some(rows) => {
                let mut pods = Vec::new();
                let mut controllers = Vec::new();
                for row in subjects.iter().filter_map(|s| rows.get(s.as_str())) {
                    if row.bmc_type == 1 {
                        pods.push(row.name.clone());
                    }
                    for (id, host, node_type) in &row.machines {
                        if (2..=4).contains(node_type) {
                            controllers.push(id.clone());
                        }
                        evidence.system_ids.push(id.clone());
                        evidence.hostnames.push(Some(host.clone()));
                    }
                }
                evidence.pods = Some(pods);
                if !controllers.is_empty() {
                    evidence.controllers = Some(controllers);
                }
                evidence.bmc_ids = Some(
                    subjects
                        .into_iter()
                        .map(|s| s.parse::<i64>().map_or(Value::String(s), |n| json!(n)))
                        .collect(),
                );
            }
            None => {
                let kind = |s: &str| self.kinds.and_then(|k| k.get(s));
                let mut pods = Vec::new();
                let mut controllers = Vec::new();
                for s in subjects {
                    match kind(&s) {
                        Some(NodeKind::VmHost { name }) => {
                            pods.push(name.clone());
                            continue;
                        }
                        Some(_) => controllers.push(s.clone()),
                        None => {}
                    }
                    evidence
                        .hostnames
                        .push(self.hostnames.get(s.as_str()).map(str::to_string));
                    evidence.system_ids.push(s);
                }
                if !pods.is_empty() {
                    evidence.pods = Some(pods);
                }
                if !controllers.is_empty() {
                    evidence.controllers = Some(controllers);
                }
            }
        }
        evidence
    }
}

/// Each group with its finding's subject (power type, address and user), in subject order:
/// findings made in this order leave the report's own sort only each check's ordered run to
/// merge (moving a few thousand findings once instead of sorting them whole).
pub fn named_groups(groups: Vec<BmcGroup<'_>>) -> Vec<(String, BmcGroup<'_>)> {
    let mut named: Vec<(String, usize)> = groups.iter().enumerate().map(|(i, g)| (group_subject(g), i)).collect();
    // Groups of one type, address and user (different maps otherwise) by their first machine.
    let first = |i: usize| (&groups[i].subjects[0], groups[i].members[0]);
    named.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| first(a.1).cmp(&first(b.1))));
    let mut groups: Vec<Option<BmcGroup>> = groups.into_iter().map(Some).collect();
    named
        .into_iter()
        .filter_map(|(subject, i)| groups[i].take().map(|g| (subject, g)))
        .collect()
}

/// A stable, unique subject for a group: its type, address and user; groups without an address
/// (nova, webhook) are named by their first machine (or BMC row) instead.
fn group_subject(group: &BmcGroup) -> String {
    let types = group.power_types.join("/");
    let user = if group.power_user.is_empty() {
        "(no user)"
    } else {
        &group.power_user
    };
    if group.power_address.is_empty() {
        return format!("{types} BMC of {} user {user}", group.subjects[0]);
    }
    format!("{types} BMC {} user {user}", group.power_address)
}

fn api_facts<'a>(def: &CheckDef, facts: &'a MaasFacts) -> Result<&'a MaasApiFacts, Evaluation> {
    match &facts.api {
        Probed::Found(api) => Ok(api),
        Probed::Skipped(reason) => Err(Evaluation::skipped(def, reason.clone())),
        Probed::Failed(cause) => Err(Evaluation::error(def, cause.clone())),
    }
}

fn api_view(api: &MaasApiFacts) -> BmcView<'_> {
    BmcView {
        obs: &api.power,
        hostnames: Hostnames::of_pairs(
            api.machines
                .iter()
                .map(|m| (m.system_id.as_str(), m.hostname.as_str()))
                .chain(
                    api.racks
                        .iter()
                        .chain(&api.regions)
                        .map(|c| (c.system_id.as_str(), c.hostname.as_str())),
                ),
        ),
        kinds: Some(&api.kinds),
        rows: None,
    }
}

/// MAAS004's detector run over `view`: one blocker per colliding group, plus info findings
/// naming the machines whose power types were inferred from their keys or are unknown. Unknown
/// types leave part of the fleet unchecked: without a collision that is outcome `error`, never
/// a pass.
pub fn duplicate_bmc_evaluation(pack: &MaasPack, view: &BmcView) -> Evaluation {
    collision_evaluation(pack, view, collision_findings(pack, view), power_type_notes(pack, view))
}

/// What MAAS004 reports of the records' power types (see [`duplicate_bmc_evaluation`]). It
/// does not depend on the grouping, so it can be made on another thread than the blockers
/// ([`power_type_notes`] and [`collision_findings`], joined by [`collision_evaluation`]).
pub struct PowerTypeNotes {
    /// Info findings: which types were inferred, which records have no known type.
    findings: Vec<Finding>,
    /// Why some records were not compared (no power type preflight knows); `None` when all
    /// were (or, in database mode, when the others cannot collide).
    not_compared: Option<String>,
    /// Appended to the summary of a pass (database mode: rows of other types).
    summary_note: String,
}

/// MAAS004's notes on the power types of `view`'s records, from their census.
pub fn power_type_notes(pack: &MaasPack, view: &BmcView) -> PowerTypeNotes {
    let def = pack.def("MAAS004");
    let obs = view.obs;
    let mut notes = PowerTypeNotes {
        findings: Vec::new(),
        not_compared: None,
        summary_note: String::new(),
    };
    // Which machines' types were inferred: by name when only some were (a machine list was
    // given but incomplete), by count when all were (no machine list at all).
    let census = &obs.census;
    let any_given = census.any_given;
    let mut unknown: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, subject) in census.untyped() {
        let name = obs.types.name(id);
        unknown
            .entry(if name.is_empty() { "(none)" } else { name })
            .or_default()
            .push(subject);
    }
    let counts: BTreeMap<&str, usize> = census
        .inferred
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(id, n)| (obs.types.name(id as u16), *n))
        .collect();
    if !counts.is_empty() {
        let n: usize = counts.values().sum();
        let listed: Vec<String> = counts.iter().map(|(t, c)| format!("{t} {c}")).collect();
        let (message, detail) = if !any_given {
            (
                format!(
                    "No machine list was given: the power types of {n} {} were inferred from their keys ({}); pass the machine list (--machines) for certainty.",
                    view.unit(),
                    listed.join(", ")
                ),
                json!(counts),
            )
        } else {
            let mut inferred: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for r in obs.records().filter(|r| r.origin == TypeOrigin::Inferred) {
                inferred
                    .entry(obs.types.name(r.power_type))
                    .or_default()
                    .push(obs.subject(r));
            }
            (
                format!(
                    "Power types of {n} {} missing from the machine list were inferred from their keys ({}).",
                    view.unit(),
                    listed.join(", ")
                ),
                json!(inferred),
            )
        };
        notes.findings.push(def.finding(
            Severity::Info,
            "inferred power types",
            message,
            evidence(vec![("inferred", detail), ("all_inferred", json!(!any_given))]),
        ));
    }
    // Given types preflight does not know: 0290 removes nothing from a type it does not list
    // (its table is fixed in the migration), so they cannot start a collision.
    let missing = unknown.remove("(none)").unwrap_or_default();
    let other_count: usize = unknown.values().map(Vec::len).sum();
    if other_count > 0 {
        let names: Vec<&str> = unknown.keys().copied().collect();
        notes.summary_note = format!(
            "; {other_count} {} of other power types ({}) are left unchanged by 0290",
            view.unit(),
            names.join(", ")
        );
        if view.rows.is_none() {
            notes.findings.push(def.finding(
                Severity::Info,
                "other power types",
                format!(
                    "{other_count} {} have power types that migration 0290 leaves unchanged ({}): they cannot collide.",
                    view.unit(),
                    names.join(", ")
                ),
                evidence(vec![("power_types", json!(unknown))]),
            ));
        }
    }
    let mut causes = Vec::new();
    if !missing.is_empty() {
        let sample: Vec<&str> = missing.iter().take(10).copied().collect();
        causes.push(format!(
            "{} {} with power parameters have no power type (not in the machine list, and their keys name no single driver; e.g. {}): they were not compared",
            missing.len(),
            view.unit(),
            sample.join(", ")
        ));
        notes.findings.push(def.finding(
            Severity::Info,
            "unknown power types",
            format!("{}.", causes[0]),
            evidence(vec![("unknown", json!({ "(none)": missing }))]),
        ));
    }
    if census.missing_empty > 0 {
        if census.removing_empty {
            causes.push(format!(
                "{} {} have neither power parameters nor a known power type, and some BMCs are {{}} after 0290: they may collide with those and were not compared",
                census.missing_empty,
                view.unit()
            ));
        } else {
            notes.summary_note.push_str(&format!(
                "; {} {} without power parameters or power type cannot collide (no BMC is {{}} after 0290)",
                census.missing_empty,
                view.unit()
            ));
        }
    }
    if !causes.is_empty() {
        notes.not_compared = Some(causes.join("; "));
    }
    notes
}

/// MAAS004's blockers in `view`: one per group of BMCs that collide after 0290, in subject
/// order.
pub fn collision_findings(pack: &MaasPack, view: &BmcView) -> Vec<Finding> {
    collision_blockers(pack, view, named_groups(find_groups(&pack.bmc, view.obs).collisions))
}

/// MAAS004's blockers for `named` groups ([`named_groups`] of [`find_groups`]' collisions), in order:
/// one finding per group.
pub fn collision_blockers(pack: &MaasPack, view: &BmcView, named: Vec<(String, BmcGroup)>) -> Vec<Finding> {
    let def = pack.def("MAAS004");
    named
        .into_iter()
        .map(|(subject, g)| {
            let power_type = g.power_types.join("/");
            let key = pack
                .bmc
                .removed_by_0290
                .get(&power_type)
                .map_or("its key", String::as_str);
            let message = format!(
                "{} on {} different {power_type} BMCs become equal once migration 0290 removes {key} (they differ in nothing else): 0290 will fail on the unique index maasserver_bmc_power_type_parameters_idx.",
                view.members(&g),
                g.bmc_count,
            );
            def.finding(Severity::Blocker, subject, message, view.evidence(g))
        })
        .collect()
}

/// MAAS004's blockers for BMC rows whose `power_parameters` is a non-empty JSON value other
/// than an object: 0290 calls `.items()` on it and the upgrade stops there (upstream
/// `3.3.0:src/maasserver/migrations/maasserver/0290_migrate_node_power_parameters.py`).
pub fn not_object_blockers(pack: &MaasPack, rows: &[NotAnObject]) -> Vec<Finding> {
    let def = pack.def("MAAS004");
    rows.iter()
        .map(|row| {
            // The Python type 0290 sees, as its AttributeError will name it.
            let python = match row.json_type.as_str() {
                "string" => "'str'",
                "number" => "'int' (or 'float')",
                "boolean" => "'bool'",
                "array" => "'list'",
                _ => "a non-dict",
            };
            let power_type = if row.power_type.is_empty() {
                "no power type"
            } else {
                &row.power_type
            };
            def.finding(
                Severity::Blocker,
                format!("BMC row {} ({power_type}): power_parameters is not an object", row.id),
                format!(
                    "BMC row {} holds a JSON {} as its power_parameters, not an object: migration 0290 will stop with \"AttributeError: {python} object has no attribute 'items'\". Set the BMC's power parameters again (or delete the row if no node uses it) before the upgrade.",
                    row.id, row.json_type
                ),
                evidence(vec![
                    ("bmc_id", row.id.parse::<i64>().map_or_else(|_| json!(row.id), |n| json!(n))),
                    ("power_type", json!(row.power_type)),
                    ("json_type", json!(row.json_type)),
                ]),
            )
        })
        .collect()
}

/// MAAS004's evaluation of `view` from its `blockers` ([`collision_findings`]) and its `notes`
/// on power types ([`power_type_notes`]).
pub fn collision_evaluation(
    pack: &MaasPack,
    view: &BmcView,
    mut findings: Vec<Finding>,
    notes: PowerTypeNotes,
) -> Evaluation {
    let def = pack.def("MAAS004");
    let blockers = findings.len();
    findings.extend(notes.findings);
    let Some(cause) = notes.not_compared else {
        let summary = format!(
            "{} {} compared, no BMCs collide after migration 0290{}",
            view.obs.len(),
            view.unit(),
            notes.summary_note
        );
        return Evaluation::from_findings(def, findings, summary);
    };
    let mut e = Evaluation::from_findings(def, findings, "");
    // Rows that could not be compared leave no verdict (undecided) unless some already collide.
    (e.outcome.status, e.outcome.kind) = if blockers > 0 {
        (OutcomeStatus::Fail, None)
    } else {
        (OutcomeStatus::Error, Some(ErrorKind::Undecided))
    };
    e.outcome.reason = Some(if blockers > 0 {
        format!("{blockers} colliding group(s); {cause}")
    } else {
        cause
    });
    e
}

/// MAAS005's detector run over `view`: one warning per group of different BMCs sharing a
/// normalized address and user.
pub fn shared_address_evaluation(pack: &MaasPack, view: &BmcView) -> Evaluation {
    shared_address_evaluation_of(pack, view, find_groups(&pack.bmc, view.obs).shared_addresses)
}

/// MAAS005's evaluation of `view` from its `groups` ([`find_groups`]' shared addresses): one
/// warning per group.
pub fn shared_address_evaluation_of(pack: &MaasPack, view: &BmcView, groups: Vec<BmcGroup>) -> Evaluation {
    let def = pack.def("MAAS005");
    let findings = named_groups(groups).into_iter().map(|(subject, g)| {
        let message = format!(
            "{} different BMCs ({}) share this address and user but differ in other BMC-scoped settings, so 0290 keeps them apart; one of them is probably stale or mistyped.",
            g.bmc_count,
            view.members(&g),
        );
        def.finding(Severity::Warning, subject, message, view.evidence(g))
    });
    Evaluation::from_findings(
        def,
        findings.collect(),
        format!("{} {} compared", view.obs.len(), view.unit()),
    )
}

/// Appends `note` to the outcome's reason (what the check looked at, or its findings count).
fn with_note(mut e: Evaluation, note: &str) -> Evaluation {
    if note.is_empty() {
        return e;
    }
    e.outcome.reason = Some(match e.outcome.reason.take() {
        Some(r) if !r.is_empty() => format!("{r}; {note}"),
        _ => note.to_string(),
    });
    e
}

/// The BMC rows of the MAAS database, as the detector and the report see them.
pub fn database_view(table: &BmcTable) -> BmcView<'_> {
    BmcView {
        obs: &table.observations,
        hostnames: Default::default(),
        kinds: None,
        rows: Some(&table.rows),
    }
}

/// What the API path cannot see: BMC rows no node it lists points at.
fn api_blind_spot(api: &MaasApiFacts) -> String {
    let count = |k: fn(&NodeKind) -> bool| api.kinds.values().filter(|n| k(n)).count();
    format!(
        "read through the API ({} machines, {} rack controllers, {} region controllers, {} VM hosts): BMC rows that no listed node or VM host points at (devices', orphaned rows) are not visible without the database",
        api.machines.len(),
        count(|n| *n == NodeKind::RackController),
        count(|n| *n == NodeKind::RegionController),
        count(|n| matches!(n, NodeKind::VmHost { .. })),
    )
}

/// A group's members as one comparable key: its machines' system_ids and its pods' names.
fn group_key(evidence: &crate::report::Evidence) -> Vec<String> {
    let map = evidence.to_map();
    let mut key: Vec<String> = ["system_ids", "pods"]
        .iter()
        .filter_map(|k| map.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    key.sort();
    key.dedup();
    key
}

/// An info finding when the database and the API disagree on `check`'s groups: the database is
/// the truth, the API a reconstruction (rows written by older setters, keys the allow-list
/// rebuild puts elsewhere).
fn disagreement(def: &CheckDef, database: &Evaluation, api: &Evaluation) -> Option<Finding> {
    let keys = |e: &Evaluation| -> BTreeSet<Vec<String>> {
        e.findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .map(|f| group_key(&f.evidence))
            .collect()
    };
    let (db, through_api) = (keys(database), keys(api));
    if db == through_api {
        return None;
    }
    let only_db: Vec<&Vec<String>> = db.difference(&through_api).collect();
    let only_api: Vec<&Vec<String>> = through_api.difference(&db).collect();
    Some(def.finding(
        Severity::Info,
        "database and API disagree",
        format!(
            "The database (the truth, used above) and the API's reconstruction differ: {} group(s) only in the database, {} only through the API. Rows written by older MAAS versions can hold keys the API no longer shows apart.",
            only_db.len(),
            only_api.len()
        ),
        evidence(vec![
            ("only_in_database", json!(only_db)),
            ("only_through_api", json!(only_api)),
        ]),
    ))
}

/// MAAS004 over the database's BMC rows: collisions, plus rows 0290 cannot read.
fn database_collisions(pack: &MaasPack, table: &BmcTable) -> Evaluation {
    let view = database_view(table);
    let mut blockers = not_object_blockers(pack, &table.not_objects);
    blockers.extend(collision_findings(pack, &view));
    collision_evaluation(pack, &view, blockers, power_type_notes(pack, &view))
}

/// Whether migration 0290 ran, as far as the facts tell: `Ok(Some(where))` applied,
/// `Ok(None)` not applied (the database says so), `Err(why)` unknown (a database that was not
/// configured is undecided).
fn migration_0290_state(facts: &MaasFacts) -> Result<Option<String>, ProbeError> {
    match &facts.postgres {
        Probed::Found(pg) => match pg.migration_0290 {
            Migration0290::Applied => Ok(Some(format!("django_migrations in {}", pg.endpoint))),
            Migration0290::NotApplied => Ok(None),
            Migration0290::NoMigrationTable => Err(ProbeError::new(
                ErrorKind::NotFound,
                format!("{} has no django_migrations table", pg.endpoint),
            )),
        },
        Probed::Failed(cause) => Err(cause.clone()),
        Probed::Skipped(reason) => Err(ProbeError::new(ErrorKind::Undecided, reason.clone())),
    }
}

fn duplicate_bmcs(
    pack: &MaasPack,
    def: &CheckDef,
    facts: &MaasFacts,
    current: &Result<(Version, String), ProbeError>,
    target: &Version,
) -> Evaluation {
    let introduced = Series::parse(&pack.paths.migration_0290_introduced_in).expect("valid series in checks/maas.toml");
    if target.series() < introduced {
        return Evaluation::skipped(
            def,
            format!(
                "target {} does not run migration 0290 (from {introduced})",
                target.series()
            ),
        );
    }
    // The database decides whether 0290 ran, not the installed package.
    match migration_0290_state(facts) {
        Ok(Some(at)) => return Evaluation::pass(def, format!("migration 0290 already applied ({at})")),
        Ok(None) => {}
        Err(why) => {
            // Without the database: a region API that answers as 3.3+ has run its migrations.
            if let Some(v) = facts.api.found().and_then(|a| a.version.as_deref()) {
                if Version::parse(v).is_ok_and(|v| v.series() >= introduced) {
                    return Evaluation::pass(
                        def,
                        format!("the region API answers as MAAS {v}: its migrations, 0290 among them, ran"),
                    );
                }
            }
            if let Ok((v, from)) = current {
                if v.series() >= introduced {
                    return Evaluation::error(
                        def,
                        why.reworded(|why| format!(
                            "MAAS {} is installed ({from}), but only the database tells whether migration 0290 ran (django_migrations), and it could not be read: {why}",
                            v.raw
                        )),
                    );
                }
            }
        }
    }
    let through_api = facts
        .api
        .found()
        .map(|api| with_note(duplicate_bmc_evaluation(pack, &api_view(api)), &api_blind_spot(api)));
    match (&facts.bmcs, through_api) {
        (Probed::Found(table), api) => {
            let mut e = database_collisions(pack, table);
            if let Some(finding) = api.and_then(|api| disagreement(def, &e, &api)) {
                e.findings.push(finding);
                if e.outcome.status == OutcomeStatus::Pass {
                    e.outcome.status = OutcomeStatus::Fail;
                }
            }
            with_note(e, &format!("from the database ({})", table.endpoint))
        }
        (_, Some(api)) => match &facts.bmcs {
            Probed::Failed(cause) => with_note(api, &format!("the database's BMC rows could not be read: {cause}")),
            _ => api,
        },
        (Probed::Failed(cause), None) => Evaluation::error(def, cause.clone()),
        (Probed::Skipped(reason), None) => match &facts.api {
            Probed::Failed(cause) => Evaluation::error(def, cause.clone()),
            _ => Evaluation::skipped(def, format!("{reason}; and {}", api_skip_reason(facts))),
        },
    }
}

/// Why the API path did not run.
fn api_skip_reason(facts: &MaasFacts) -> String {
    match &facts.api {
        Probed::Skipped(r) => r.clone(),
        Probed::Failed(e) => e.detail.clone(),
        Probed::Found(_) => String::new(),
    }
}

fn shared_addresses(pack: &MaasPack, def: &CheckDef, facts: &MaasFacts) -> Evaluation {
    if let Probed::Found(table) = &facts.bmcs {
        return with_note(
            shared_address_evaluation(pack, &database_view(table)),
            &format!("from the database ({})", table.endpoint),
        );
    }
    match api_facts(def, facts) {
        Ok(api) => with_note(shared_address_evaluation(pack, &api_view(api)), &api_blind_spot(api)),
        Err(e) => match (&facts.bmcs, e.outcome.status) {
            (Probed::Failed(cause), OutcomeStatus::Skipped) => Evaluation::error(def, cause.clone()),
            _ => e,
        },
    }
}

/// The MAAS installs the host facts show, with where: this host's, and every inspected host's
/// (`the maas snap on region-1`).
fn installs(facts: &MaasFacts) -> Vec<(&str, String)> {
    let how = |install: &MaasInstall, host: &str| match install {
        MaasInstall::Snap { .. } => format!("the maas snap on {host}"),
        MaasInstall::Deb { .. } => format!("the maas-region-api package on {host}"),
    };
    let mut found = Vec::new();
    if let Some(install) = &facts.host.maas {
        if let Some(v) = install.version() {
            found.push((v, how(install, "this host")));
        }
    }
    for h in facts.inspected.iter().flatten() {
        if let Ok(HostFacts {
            maas: Some(install), ..
        }) = &h.facts
        {
            if let Some(v) = install.version() {
                found.push((v, how(install, &h.name)));
            }
        }
    }
    found
}

/// What says a region runs MAAS 3.3 or newer: this host's package, and each region controller's
/// reported version (the region API's `version/` is the most common one among them).
fn installed_from(facts: &MaasFacts, introduced: Series) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = installs(facts)
        .into_iter()
        .filter(|(v, _)| Version::parse(v).is_ok_and(|p| p.series() >= introduced))
        .map(|(v, how)| (v.to_string(), how))
        .collect();
    if let Some(api) = facts.api.found() {
        for region in &api.regions {
            if let Some(v) = region.version.as_deref() {
                if Version::parse(v).is_ok_and(|p| p.series() >= introduced) {
                    found.push((v.to_string(), format!("region controller {}", region.hostname)));
                }
            }
        }
    }
    found
}

/// MAAS009: a 3.3+ region on a database without 0290 is an upgrade that stopped mid-way.
fn interrupted_upgrade(pack: &MaasPack, def: &CheckDef, facts: &MaasFacts) -> Evaluation {
    let introduced = Series::parse(&pack.paths.migration_0290_introduced_in).expect("valid series in checks/maas.toml");
    let installed = installed_from(facts, introduced);
    let named: Vec<String> = installed.iter().map(|(v, from)| format!("{v} ({from})")).collect();
    match migration_0290_state(facts) {
        Ok(Some(at)) => Evaluation::pass(def, format!("migration 0290 applied ({at})")),
        Ok(None) if !installed.is_empty() => Evaluation::from_findings(
            def,
            vec![def.finding(
                Severity::Blocker,
                "database without migration 0290",
                format!(
                    "MAAS {} is installed, but the database's django_migrations has no maasserver 0290_migrate_node_power_parameters: the upgrade to {introduced} or later stopped during its migrations. Restore the pre-upgrade backup, or fix MAAS004's blockers and finish it (sudo maas-region dbupgrade; snap: sudo maas migrate).",
                    named.join(", ")
                ),
                evidence(vec![(
                    "installed",
                    json!(installed
                        .iter()
                        .map(|(v, from)| json!({"version": v, "from": from}))
                        .collect::<Vec<_>>()),
                )]),
            )],
            "",
        ),
        Ok(None) => Evaluation::pass(
            def,
            format!("the database has not run migration 0290, and no region runs MAAS {introduced} or newer"),
        ),
        Err(why) if installed.is_empty() => Evaluation::pass(
            def,
            format!("no region runs MAAS {introduced} or newer (the database was not read: {why})"),
        ),
        Err(why) => match &facts.postgres {
            Probed::Skipped(_) => Evaluation::skipped(
                def,
                format!(
                    "MAAS {} is installed; whether its database ran migration 0290 is only in django_migrations, and no database is configured ({why})",
                    named.join(", ")
                ),
            ),
            _ => Evaluation::error(
                def,
                why.reworded(|why| {
                    format!(
                        "MAAS {} is installed; whether its database ran migration 0290 cannot be read: {why}",
                        named.join(", ")
                    )
                }),
            ),
        },
    }
}

fn time_sync(def: &CheckDef, facts: &MaasFacts) -> Evaluation {
    over_hosts(def, facts, |host, who| time_sync_on(def, host, who))
}

/// MAAS006 on one host that runs MAAS.
fn time_sync_on(def: &CheckDef, host: &HostFacts, who: &Who) -> Evaluation {
    if !host.systemd {
        return Evaluation::skipped(def, "systemd does not run on this host (no /run/systemd/system)");
    }
    // systemd runs but did not say (systemctl missing, failing or hanging): no verdict.
    let deb = !matches!(host.maas, Some(MaasInstall::Snap { .. }));
    if host.timesyncd.active.is_none() || (deb && host.chrony.active.is_none()) {
        let unread = [&host.timesyncd, &host.chrony]
            .into_iter()
            .find_map(|u| u.unread.as_ref());
        return Evaluation::error(
            def,
            match unread {
                // A root directory (an image): no running system to ask.
                Some(e) if e.kind == ErrorKind::NotAvailable => e
                    .clone()
                    .reworded(|e| format!("cannot read the state of systemd-timesyncd/chrony: {e}")),
                _ => ProbeError::new(
                    unread.map_or(ErrorKind::Failed, |e| e.kind),
                    "cannot read the state of systemd-timesyncd/chrony: `systemctl is-active` did not answer",
                ),
            },
        );
    }
    let (maas_chrony, which) = match &host.maas {
        Some(MaasInstall::Snap { .. }) => (host.maas_chronyd, "the maas snap's chronyd"),
        _ => (host.chrony.is_active(), "chrony.service"),
    };
    let ev = evidence(vec![
        ("timesyncd_active", json!(host.timesyncd.active)),
        ("timesyncd_enabled", json!(host.timesyncd.enabled)),
        ("maas_chrony", json!(which)),
        ("maas_chrony_running", json!(maas_chrony)),
    ]);
    if host.timesyncd.is_active() && maas_chrony {
        let f = def.finding(
            Severity::Warning,
            who.subject(),
            format!("systemd-timesyncd is active while {which} runs: two daemons set the clock."),
            ev,
        );
        Evaluation::from_findings(def, vec![f], "")
    } else {
        Evaluation::pass(
            def,
            format!(
                "systemd-timesyncd {}, {which} {}",
                host.timesyncd.active.as_deref().unwrap_or("unknown"),
                if maas_chrony { "running" } else { "not running" }
            ),
        )
    }
}

fn controller_skew(def: &CheckDef, facts: &MaasFacts) -> Evaluation {
    let api = match api_facts(def, facts) {
        Ok(api) => api,
        Err(e) => return e,
    };
    let ordered = ordered_controllers(api);
    let controllers: BTreeMap<&str, &Listed> = ordered.iter().map(|(id, c)| (*id, c)).collect();
    let versions: BTreeSet<String> = controllers
        .values()
        .filter_map(|(_, _, v)| v.and_then(|v| Version::parse(v).ok()))
        .map(|v| v.normalized())
        .collect();
    // `null` (no ControllerInfo row) and `""` (not reported yet) alike.
    let unreported = controllers
        .values()
        .filter(|(_, _, v)| v.is_none_or(|v| v.trim().is_empty()))
        .count();
    let order: Vec<String> = ordered
        .iter()
        .map(|(_, (hostname, _, version))| {
            format!(
                "{hostname} ({})",
                version.filter(|v| !v.trim().is_empty()).unwrap_or("no version")
            )
        })
        .collect();
    const SHOWN: usize = 12;
    let shown = if order.len() > SHOWN {
        format!("{}, … {} more", order[..SHOWN].join(", "), order.len() - SHOWN)
    } else {
        order.join(", ")
    };
    let summary = format!(
        "{} controller(s) on {}{}; upgrade order: {shown}",
        controllers.len(),
        versions.iter().cloned().collect::<Vec<_>>().join(", "),
        if unreported > 0 {
            format!("; {unreported} not reporting a version")
        } else {
            String::new()
        }
    );
    if versions.len() <= 1 {
        return Evaluation::pass(def, summary);
    }
    let list: Vec<Value> = ordered
        .iter()
        .map(|(id, (hostname, roles, version))| {
            json!({"system_id": id, "hostname": hostname, "roles": roles.iter().collect::<Vec<_>>(), "version": version})
        })
        .collect();
    let f = def.finding(
        Severity::Warning,
        "region and rack controllers",
        format!(
            "Controllers run {} different versions ({}). Finish that upgrade first, rack controllers first, then region controllers: {shown}.",
            versions.len(),
            versions.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
        evidence(vec![("controllers", Value::Array(list))]),
    );
    Evaluation::from_findings(def, vec![f], summary)
}

fn database_owner(
    def: &CheckDef,
    facts: &MaasFacts,
    target: &Version,
    release: &Result<&Release, String>,
) -> Evaluation {
    let release = match release {
        Ok(r) => r,
        Err(e) => return Evaluation::undecided(def, e.clone()),
    };
    if !release.database_owned_by_maas_role {
        return Evaluation::skipped(
            def,
            format!("MAAS {} does not require it (3.5 and newer do)", target.series()),
        );
    }
    let pg = match postgres_facts(def, facts) {
        Ok(pg) => pg,
        Err(e) => return e,
    };
    if pg.owner == pg.maas_role {
        return Evaluation::pass(def, format!("database {} is owned by {}", pg.database, pg.owner));
    }
    let f = def.finding(
        Severity::Blocker,
        format!("database {}", pg.database),
        format!(
            "Database {} is owned by '{}', not by the MAAS role '{}'; MAAS {} requires the MAAS role to own it.",
            pg.database,
            if pg.owner.is_empty() { "(not found)" } else { &pg.owner },
            pg.maas_role,
            target.series()
        ),
        evidence(vec![
            ("database", json!(pg.database)),
            ("owner", json!(pg.owner)),
            ("maas_role", json!(pg.maas_role)),
        ]),
    );
    Evaluation::from_findings(def, vec![f], "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Release as HostRelease, UnitState};
    use crate::systems::maas::checks::pack as maas_pack;
    use rstest::rstest;

    fn host(release: Option<(&str, &str)>, install: Option<MaasInstall>) -> HostFacts {
        HostFacts {
            hostname: None,
            release: release.map(|(id, v)| HostRelease {
                id: id.into(),
                version: v.into(),
                codename: String::new(),
                source: "/etc/os-release".into(),
            }),
            lsb_release: None,
            systemd: true,
            timesyncd: UnitState::default(),
            chrony: UnitState::default(),
            maas_chronyd: false,
            maas: install,
            regiond: None,
        }
    }

    fn snap(version: &str) -> Option<MaasInstall> {
        Some(MaasInstall::Snap {
            mode: Some("region+rack".into()),
            version: Some(version.into()),
        })
    }

    fn pg(num: u32, owner: &str) -> Probed<PgFacts> {
        Probed::Found(PgFacts {
            endpoint: "db:5432/maasdb as maas".into(),
            server_version_num: num,
            database: "maasdb".into(),
            owner: owner.into(),
            maas_role: "maas".into(),
            migration_0290: Migration0290::NotApplied,
        })
    }

    fn facts(host: HostFacts, postgres: Probed<PgFacts>) -> MaasFacts {
        MaasFacts {
            host,
            postgres,
            api: Probed::Skipped("not configured".into()),
            bmcs: Probed::Skipped("not configured".into()),
            configured_current: None,
            inspected: None,
        }
    }

    /// (outcome status, severity of the single finding if any) of `id`.
    fn verdict(facts: &MaasFacts, target: &str, id: &str) -> (OutcomeStatus, Option<Severity>) {
        let pack = maas_pack();
        let e = evaluate(pack, facts, Some(&Version::parse(target).unwrap()))
            .into_iter()
            .find(|e| e.outcome.check == id)
            .unwrap();
        (e.outcome.status, e.findings.first().map(|f| f.severity))
    }

    #[rstest]
    #[case::downgrade("3.4.2", "3.3", OutcomeStatus::Fail, Some(Severity::Blocker))]
    #[case::same_series("3.4.2", "3.4", OutcomeStatus::Pass, None)]
    #[case::upgrade("3.2.9", "3.5", OutcomeStatus::Pass, Some(Severity::Info))]
    #[case::untested_from_2_8("2.8.7", "3.0", OutcomeStatus::Fail, Some(Severity::Warning))]
    #[case::from_2_8_within_2_x("2.8.7", "2.9", OutcomeStatus::Pass, Some(Severity::Info))]
    #[case::from_2_9("2.9.2", "3.4", OutcomeStatus::Pass, Some(Severity::Info))]
    #[case::unreleased_3_8("3.7.3", "3.8", OutcomeStatus::Fail, Some(Severity::Blocker))]
    #[case::explicit_older_target_than_an_unknown_series("3.9.1", "3.7", OutcomeStatus::Fail, Some(Severity::Blocker))]
    #[case::unreleased_4_0("3.5.2", "4.0", OutcomeStatus::Fail, Some(Severity::Blocker))]
    fn upgrade_path_rules(
        #[case] current: &str,
        #[case] target: &str,
        #[case] status: OutcomeStatus,
        #[case] severity: Option<Severity>,
    ) {
        let f = facts(
            host(Some(("ubuntu", "22.04")), snap(current)),
            Probed::Skipped("x".into()),
        );
        assert_eq!(verdict(&f, target, "MAAS001"), (status, severity));
    }

    #[rstest]
    #[case::focal_to_3_2(("ubuntu", "20.04"), "3.2", OutcomeStatus::Pass, None)]
    #[case::snap_focal_to_3_3(("ubuntu", "20.04"), "3.3", OutcomeStatus::Fail, Some(Severity::Warning))]
    #[case::jammy_to_3_5(("ubuntu", "22.04"), "3.5", OutcomeStatus::Pass, None)]
    #[case::snap_jammy_to_3_6(("ubuntu", "22.04"), "3.6", OutcomeStatus::Fail, Some(Severity::Warning))]
    #[case::noble_to_3_7(("ubuntu", "24.04"), "3.7", OutcomeStatus::Pass, None)]
    #[case::not_ubuntu(("debian", "12"), "3.5", OutcomeStatus::Fail, Some(Severity::Blocker))]
    fn ubuntu_release_rules(
        #[case] os: (&str, &str),
        #[case] target: &str,
        #[case] status: OutcomeStatus,
        #[case] severity: Option<Severity>,
    ) {
        let f = facts(host(Some(os), snap("3.2.9")), Probed::Skipped("x".into()));
        assert_eq!(verdict(&f, target, "MAAS002"), (status, severity));
    }

    /// The Ubuntu base binds deb installs (a blocker); a snap on an older release is a warning.
    #[rstest]
    #[case::deb_focal_to_3_3(("ubuntu", "20.04"), "3.3", OutcomeStatus::Fail, Some(Severity::Blocker))]
    #[case::deb_jammy_to_3_6(("ubuntu", "22.04"), "3.6", OutcomeStatus::Fail, Some(Severity::Blocker))]
    #[case::deb_noble_to_3_7(("ubuntu", "24.04"), "3.7", OutcomeStatus::Pass, None)]
    fn ubuntu_release_rules_for_debs(
        #[case] os: (&str, &str),
        #[case] target: &str,
        #[case] status: OutcomeStatus,
        #[case] severity: Option<Severity>,
    ) {
        let deb = Some(MaasInstall::Deb {
            version: "1:3.2.10-0ubuntu1~20.04.1".into(),
        });
        let f = facts(host(Some(os), deb), Probed::Skipped("x".into()));
        assert_eq!(verdict(&f, target, "MAAS002"), (status, severity));
    }

    /// 4.0 is announced, not released; its way goes through 3.8 (master aab0b6392).
    #[test]
    fn a_maas_newer_than_the_table_is_an_error_without_a_target() {
        let f = facts(
            host(Some(("ubuntu", "24.04")), snap("3.9.1")),
            Probed::Skipped("x".into()),
        );
        let e = evaluate(maas_pack(), &f, None);
        let o = &e.iter().find(|e| e.outcome.check == "MAAS001").unwrap().outcome;
        assert_eq!(o.status, OutcomeStatus::Error);
        assert!(o.reason.as_deref().unwrap().contains("--target maas="), "{o:?}");
    }

    #[test]
    fn the_path_names_what_each_crossed_series_needs() {
        let pack = maas_pack();
        let p = maas_route(pack, &Version::parse("3.2.9").unwrap(), &Version::parse("3.6").unwrap());
        assert_eq!(p.versions(), ["3.2.9", "3.6"]);
        let first = p.hops[0].first.join("; ");
        for needs in [
            "Ubuntu 24.04 (noble)",
            "PostgreSQL 14",
            "owned by the MAAS role",
            "MAAS004",
            "rack controllers first",
        ] {
            assert!(first.contains(needs), "{needs}: {first}");
        }
        assert!(p.hops[0].how.contains("--channel=3.6/stable"), "{}", p.hops[0].how);
    }

    #[test]
    fn an_unreleased_target_names_the_mandatory_hop() {
        let f = facts(
            host(Some(("ubuntu", "24.04")), snap("3.6.4")),
            Probed::Skipped("x".into()),
        );
        let e = evaluate(maas_pack(), &f, Some(&Version::parse("4.0").unwrap()));
        let m = &e.iter().find(|e| e.outcome.check == "MAAS001").unwrap().findings[0].message;
        assert!(m.contains("not released") && m.contains("through MAAS 3.8"), "{m}");
    }

    #[test]
    fn host_checks_skip_without_maas_and_error_without_release() {
        let f = facts(host(Some(("ubuntu", "20.04")), None), pg(140000, "maas"));
        assert_eq!(verdict(&f, "3.5", "MAAS002").0, OutcomeStatus::Skipped);
        assert_eq!(verdict(&f, "3.5", "MAAS006").0, OutcomeStatus::Skipped);
        let f = facts(host(None, snap("3.2.9")), Probed::Skipped("x".into()));
        assert_eq!(verdict(&f, "3.5", "MAAS002").0, OutcomeStatus::Error);
    }

    #[rstest]
    #[case::pg12_for_3_5(120018, "3.5", OutcomeStatus::Fail, Some(Severity::Blocker))]
    #[case::pg12_for_3_4(120018, "3.4", OutcomeStatus::Fail, Some(Severity::Warning))]
    #[case::pg12_for_3_3(120018, "3.3", OutcomeStatus::Fail, Some(Severity::Warning))]
    #[case::pg14_for_3_5(140011, "3.5", OutcomeStatus::Pass, None)]
    #[case::pg14_for_3_6(140011, "3.6", OutcomeStatus::Fail, Some(Severity::Info))]
    #[case::pg14_for_3_7(140011, "3.7", OutcomeStatus::Fail, Some(Severity::Blocker))]
    #[case::pg16_for_3_7(160004, "3.7", OutcomeStatus::Pass, None)]
    #[case::pg10_for_2_9(100023, "2.9", OutcomeStatus::Fail, Some(Severity::Info))]
    #[case::pg12_for_3_2(120018, "3.2", OutcomeStatus::Pass, None)]
    fn postgresql_rules(
        #[case] num: u32,
        #[case] target: &str,
        #[case] status: OutcomeStatus,
        #[case] severity: Option<Severity>,
    ) {
        let f = facts(host(None, None), pg(num, "maas"));
        assert_eq!(verdict(&f, target, "MAAS003"), (status, severity));
    }

    #[rstest]
    #[case::owned_by_postgres_3_5("postgres", "3.5", OutcomeStatus::Fail)]
    #[case::owned_by_maas_3_5("maas", "3.5", OutcomeStatus::Pass)]
    #[case::owned_by_postgres_3_4("postgres", "3.4", OutcomeStatus::Skipped)]
    #[case::owned_by_postgres_3_7("postgres", "3.7", OutcomeStatus::Fail)]
    fn database_owner_rules(#[case] owner: &str, #[case] target: &str, #[case] status: OutcomeStatus) {
        let f = facts(host(None, None), pg(140000, owner));
        assert_eq!(verdict(&f, target, "MAAS008").0, status);
    }

    #[rstest]
    #[case::snap_conflict(snap("3.2.9"), true, true, false, true)]
    #[case::snap_no_timesyncd(snap("3.2.9"), false, true, false, false)]
    #[case::snap_chronyd_not_running(snap("3.2.9"), true, false, false, false)]
    #[case::deb_conflict(Some(MaasInstall::Deb { version: "1:3.4.10-0ubuntu1".into() }), true, false, true, true)]
    #[case::deb_chrony_stopped(Some(MaasInstall::Deb { version: "1:3.4.10-0ubuntu1".into() }), true, false, false, false)]
    fn time_sync_rules(
        #[case] install: Option<MaasInstall>,
        #[case] timesyncd: bool,
        #[case] snap_chronyd: bool,
        #[case] chrony_unit: bool,
        #[case] conflict: bool,
    ) {
        let state = |on: bool| UnitState {
            active: Some(if on { "active" } else { "inactive" }.into()),
            ..UnitState::default()
        };
        let mut h = host(Some(("ubuntu", "22.04")), install);
        h.timesyncd = state(timesyncd);
        h.chrony = state(chrony_unit);
        h.maas_chronyd = snap_chronyd;
        let f = facts(h, Probed::Skipped("x".into()));
        let (status, _) = verdict(&f, "3.5", "MAAS006");
        assert_eq!(status == OutcomeStatus::Fail, conflict);
    }

    #[test]
    fn unreadable_unit_state_is_an_error_not_a_pass() {
        let f = facts(
            host(Some(("ubuntu", "22.04")), snap("3.4.0")),
            Probed::Skipped("x".into()),
        );
        assert_eq!(verdict(&f, "3.5", "MAAS006").0, OutcomeStatus::Error);
    }

    #[test]
    fn nothing_configured_skips_everything() {
        let f = facts(host(Some(("ubuntu", "22.04")), None), Probed::Skipped("x".into()));
        for e in evaluate(maas_pack(), &f, Some(&Version::parse("3.5").unwrap())) {
            assert_eq!(e.outcome.status, OutcomeStatus::Skipped);
        }
    }

    #[test]
    fn unknown_target_series_is_an_error_for_table_checks() {
        let f = facts(host(Some(("ubuntu", "24.04")), snap("3.7.0")), pg(160000, "maas"));
        assert_eq!(verdict(&f, "3.9", "MAAS002").0, OutcomeStatus::Error);
        assert_eq!(verdict(&f, "3.9", "MAAS003").0, OutcomeStatus::Error);
    }

    #[test]
    fn newest_release_is_the_default_target() {
        assert_eq!(maas_pack().newest().series().to_string(), "3.7");
    }
}

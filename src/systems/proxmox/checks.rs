//! Proxmox VE checks PVE001–PVE005: facts in, findings out, no I/O. The release list, the
//! major upgrades' requirements and the Ceph names are data: checks/proxmox.toml.

use crate::core::knowledge::PackFile;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::facts::{CephState, ClusterState, Node, PveFacts, PveVersion, Seen};
use crate::core::check::{CheckDef, Evaluation, Pack};
use crate::core::path::{newer_than_known, HopKind, PathError, UpgradePath};
use crate::core::probed::{ErrorKind, ProbeError, Probed};
use crate::report::{plural, Finding, OutcomeStatus, Severity};
use crate::version::Version;

/// The Proxmox VE pack (`checks/proxmox.toml`, merged with `--knowledge DIR`'s `proxmox.toml`).
pub static PACK: PackFile<ProxmoxPack> = PackFile::new("proxmox.toml", include_str!("../../../checks/proxmox.toml"));

/// The parsed pack.
pub fn pack() -> &'static ProxmoxPack {
    PACK.get()
}

/// Every check id this module implements (tested against the catalogue).
pub const IMPLEMENTED: &[&str] = &["PVE001", "PVE002", "PVE003", "PVE004", "PVE005"];

/// The Debian release a major is built on (checks/proxmox.toml `[[base]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Base {
    pub major: u64,
    /// `bookworm`.
    pub suite: String,
    /// `12`.
    pub debian: String,
    pub source: String,
}

/// One major upgrade and what upstream's checker requires before it (`[[major]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Major {
    /// The major upgraded from (8 for 8 → 9).
    pub from: u64,
    /// `pve8to9`.
    pub checker: String,
    /// The installed proxmox-ve the checker requires (`8.4.0`).
    pub min_proxmox_ve: String,
    /// The Ceph release packaged for both majors (19).
    pub ceph_release: u64,
    pub source: String,
}

/// One released X.Y series (`[[series]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// `8.4`.
    pub version: String,
    /// Every released patch, ascending: the `N` of `7.4-N`, the `Z` of `8.4.Z`.
    pub patches: Vec<u64>,
    pub source: String,
}

impl Series {
    fn key(&self) -> (u64, u64) {
        PveVersion::parse(&self.version).map_or((0, 0), |v| v.series())
    }
}

/// The Proxmox VE pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxmoxPack {
    pub system: crate::report::System,
    /// The first major written natively (`X.Y.Z`); before it, `X.Y-N`.
    pub native_from: u64,
    pub native_source: String,
    pub ceph_names_source: String,
    pub base: Vec<Base>,
    pub major: Vec<Major>,
    /// Ceph release number → code name.
    pub ceph_names: BTreeMap<String, String>,
    pub series: Vec<Series>,
    pub check: Vec<CheckDef>,
}

impl Pack for ProxmoxPack {
    fn checks(&self) -> &[CheckDef] {
        &self.check
    }
}

/// The way from the running version to a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Every step.
    pub path: UpgradePath,
    /// The major upgrades on the way, in order (8 for 8 → 9).
    pub majors: Vec<u64>,
}

impl ProxmoxPack {
    /// `8.4` + 21 → `8.4.21`; `7.4` + 17 → `7.4-17`.
    fn release(&self, series: &Series, patch: u64) -> String {
        let (major, _) = series.key();
        if major < self.native_from {
            format!("{}-{patch}", series.version)
        } else {
            format!("{}.{patch}", series.version)
        }
    }

    fn parsed(&self, series: &Series, patch: u64) -> PveVersion {
        PveVersion::parse(&self.release(series, patch)).expect("valid version in checks/proxmox.toml (tested)")
    }

    fn last_of(&self, series: &Series) -> PveVersion {
        self.parsed(series, series.patches.last().copied().unwrap_or(0))
    }

    /// The newest release preflight knows: the default target.
    pub fn newest(&self) -> PveVersion {
        self.last_of(self.series.last().expect("the release list is not empty (tested)"))
    }

    /// The newest release of `major`.
    fn newest_of_major(&self, major: u64) -> Option<PveVersion> {
        self.series
            .iter()
            .rfind(|s| s.key().0 == major)
            .map(|s| self.last_of(s))
    }

    fn series_of(&self, v: &PveVersion) -> Option<&Series> {
        self.series.iter().find(|s| s.key() == v.series())
    }

    /// The major upgrade out of `major`.
    pub fn major_from(&self, major: u64) -> Option<&Major> {
        self.major.iter().find(|m| m.from == major)
    }

    /// The Debian release of `major`.
    pub fn base_of(&self, major: u64) -> Option<&Base> {
        self.base.iter().find(|b| b.major == major)
    }

    /// `19 Squid`.
    pub fn ceph_release(&self, release: u64) -> String {
        match self.ceph_names.get(&release.to_string()) {
            Some(name) => format!("{release} {name}"),
            None => release.to_string(),
        }
    }

    fn unknown(&self, v: &PveVersion) -> PathError {
        let newest = self.newest();
        let first = &self.series[0];
        if *v > newest {
            PathError::Unknown(newer_than_known("Proxmox VE", &v.raw, &newest.raw, "proxmox"))
        } else if v.series() < first.key() {
            PathError::Unknown(format!(
                "Proxmox VE {} is older than preflight's release list, which starts at {}",
                v.raw, first.version
            ))
        } else {
            PathError::Unknown(format!(
                "{}.{} is not a Proxmox VE release series (none of {})",
                v.major,
                v.minor,
                self.series
                    .iter()
                    .map(|s| s.version.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }

    /// The release a target names: a major (`9`) its newest release, a series (`9.0`) its
    /// newest patch; a full version must have been released.
    ///
    /// # Errors
    /// [`PathError::Unknown`] beyond the list, [`PathError::Refused`] for a version never
    /// released (naming the nearest release).
    pub fn resolve(&self, target: &PveVersion) -> Result<PveVersion, PathError> {
        if target.given == 1 {
            return self.newest_of_major(target.major).ok_or_else(|| self.unknown(target));
        }
        let series = self.series_of(target).ok_or_else(|| self.unknown(target))?;
        if target.given == 2 {
            return Ok(self.last_of(series));
        }
        if target.pre.is_some() || !series.patches.contains(&target.release) {
            let nearest = series
                .patches
                .iter()
                .min_by_key(|p| (p.abs_diff(target.release), std::cmp::Reverse(**p)))
                .map_or_else(|| series.version.clone(), |p| self.release(series, *p));
            return Err(PathError::Refused(format!(
                "{} is not a Proxmox VE release (no debian/changelog entry; pre-releases are not releases): the nearest release is {nearest}",
                target.raw
            )));
        }
        Ok(self.parsed(series, target.release))
    }

    /// The way from `from` (what runs, perhaps a pre-release) to `to` (a release, see
    /// [`Self::resolve`]): `apt dist-upgrade` to the newest release of the running major, then
    /// one major upgrade at a time, each with its checker, landing on the target in its major.
    ///
    /// # Errors
    /// See [`PathError`].
    pub fn route(&self, from: &PveVersion, to: &PveVersion) -> Result<Route, PathError> {
        if self.series_of(from).is_none() {
            return Err(self.unknown(from));
        }
        if to < from {
            return Err(PathError::Refused(format!(
                "{} is older than the running {}: Proxmox VE cannot be downgraded",
                to.raw, from.raw
            )));
        }
        let mut path = UpgradePath::default();
        let mut majors = Vec::new();
        let mut current = from.clone();
        while current < *to {
            let major = current.major;
            let suite = self.base_of(major).map_or_else(
                || format!("Proxmox VE {major}"),
                |b| format!("{} (Debian {})", b.suite, b.debian),
            );
            // Within the running major: in place, to the target or to the newest release.
            let stop = if to.major == major {
                to.clone()
            } else {
                self.newest_of_major(major).ok_or_else(|| self.unknown(&current))?
            };
            if current < stop {
                let kind = if current.series() == stop.series() {
                    HopKind::Patch
                } else {
                    HopKind::Minor
                };
                path.push(
                    &from.raw,
                    stop.raw.clone(),
                    kind,
                    format!("in place, node by node: `apt update && apt dist-upgrade` with the {suite} repositories"),
                    Vec::new(),
                );
                current = stop;
                continue;
            }
            let Some(m) = self.major_from(major) else {
                return Err(PathError::Unknown(format!(
                    "preflight knows no upgrade from Proxmox VE {major} to {} (upstream ships no pve{major}to{} checker yet)",
                    major + 1,
                    major + 1
                )));
            };
            let land = if to.major == major + 1 {
                to.clone()
            } else {
                self.newest_of_major(major + 1).ok_or_else(|| self.unknown(to))?
            };
            let suites = match (self.base_of(major), self.base_of(major + 1)) {
                (Some(a), Some(b)) => format!("from {} to {} (Debian {} → {})", a.suite, b.suite, a.debian, b.debian),
                _ => "to the next Debian release".to_string(),
            };
            path.push(
                &from.raw,
                land.raw.clone(),
                HopKind::Major,
                format!(
                    "major upgrade, node by node: `{} --full` until it reports no FAILURE, switch every APT source {suites}, `apt update && apt dist-upgrade`, reboot",
                    m.checker
                ),
                vec![
                    format!(
                        "proxmox-ve ≥ {} on every node ({} fails below)",
                        m.min_proxmox_ve, m.checker
                    ),
                    format!(
                        "hyper-converged Ceph {} on every Ceph node",
                        self.ceph_release(m.ceph_release)
                    ),
                    "the cluster quorate, every node online".into(),
                ],
            );
            majors.push(major);
            current = land;
        }
        Ok(Route { path, majors })
    }
}

/// Whether an installed proxmox-ve passes the checker's minimum, exactly as upstream compares:
/// `m/^(\d+)\.(\d+)[.-](\d+)/`, then major above the minimum's (already upgraded), or major ≥,
/// minor ≥ and pkgrel ≥ component by component (pve8to9.pm L205-214, pve7to8.pm L195-204).
pub fn proxmox_ve_passes(installed: &str, minimum: &str) -> bool {
    let three = |text: &str| {
        let v = PveVersion::parse(text).ok()?;
        (v.given == 3).then_some((v.major, v.minor, v.release))
    };
    let (Some((maj, min, rel)), Some((min_maj, min_min, min_rel))) = (three(installed), three(minimum)) else {
        return false;
    };
    maj > min_maj || (maj >= min_maj && min >= min_min && rel >= min_rel)
}

fn evidence(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// The evaluation of one check over the nodes: its findings for the nodes that were read;
/// outcome `error` naming the ones that were not (the others' findings are still reported).
fn over_nodes(def: &CheckDef, findings: Vec<Finding>, summary: String, unread: &[ProbeError]) -> Evaluation {
    let Some(first) = unread.first() else {
        return Evaluation::from_findings(def, findings, summary);
    };
    Evaluation::partly(
        def,
        findings,
        ProbeError::new(
            first.kind,
            format!(
                "{} could not be read: {}",
                plural(unread.len(), "node"),
                details(unread)
            ),
        ),
    )
}

/// What the outcome adds when only this node was seen.
fn local_note(s: &PveFacts) -> &'static str {
    match s.seen {
        Seen::LocalNode => "; only this node was seen (pveversion -v): set PROXMOX_VE_ENDPOINT and PROXMOX_VE_API_TOKEN to check every node",
        Seen::Api { .. } => "",
    }
}

/// What the outcome adds for offline nodes (their versions are unknown).
fn offline_note(s: &PveFacts) -> String {
    let offline = s.offline();
    if offline.is_empty() {
        String::new()
    } else {
        format!("; offline, not compared: {}", offline.join(", "))
    }
}

/// `node: cause`, of the cause's kind.
fn of_node(n: &Node, cause: &ProbeError) -> ProbeError {
    cause.clone().reworded(|cause| format!("{}: {cause}", n.name))
}

/// `node: WHAT not read` (an online node whose WHAT was not asked for).
fn not_read(n: &Node, what: &str) -> ProbeError {
    ProbeError::new(ErrorKind::Failed, format!("{}: {what} not read", n.name))
}

/// The details of `unread`, joined by `; `.
fn details(unread: &[ProbeError]) -> String {
    unread.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>().join("; ")
}

/// The running pve-manager of the online nodes that answered (lowest first), and the nodes
/// whose version could not be read.
fn managers(s: &PveFacts) -> (Vec<(&Node, &PveVersion)>, Vec<ProbeError>) {
    let mut read = Vec::new();
    let mut unread = Vec::new();
    for n in s.online() {
        match &n.manager {
            Some(Ok(v)) => read.push((n, v)),
            Some(Err(cause)) => unread.push(of_node(n, cause)),
            None => unread.push(not_read(n, "pve-manager")),
        }
    }
    read.sort_by(|a, b| a.1.cmp(b.1).then_with(|| a.0.name.cmp(&b.0.name)));
    (read, unread)
}

/// Runs every Proxmox VE check against `target` (`None`: the newest release preflight knows,
/// never older than what runs).
pub fn evaluate(pack: &ProxmoxPack, state: &Probed<PveFacts>, target: Option<&Version>) -> Vec<Evaluation> {
    let s = match crate::core::check::found_or_every(pack, IMPLEMENTED, state) {
        Ok(s) => s,
        Err(evaluations) => return evaluations,
    };
    let (read, unread) = managers(s);
    let route = match read.first() {
        None => Err(PathError::Unknown(if unread.is_empty() {
            "no online node to read pve-manager from".to_string()
        } else {
            format!("no node's pve-manager could be read: {}", details(&unread))
        })),
        Some((_, from)) => {
            let to = match target {
                Some(t) => PveVersion::parse(&t.raw)
                    .map_err(PathError::Unknown)
                    .and_then(|t| pack.resolve(&t)),
                None if **from > pack.newest() => Err(pack.unknown(from)),
                None => Ok(pack.newest()),
            };
            to.and_then(|to| pack.route(from, &to).map(|r| ((*from).clone(), to, r)))
        }
    };
    vec![
        upgrade_path(pack, pack.def("PVE001"), s, &route, &unread),
        versions(pack.def("PVE002"), s),
        corosync(pack.def("PVE003"), s),
        ceph(pack, pack.def("PVE004"), s, &route),
        quorum(pack.def("PVE005"), s),
    ]
}

type Planned = Result<(PveVersion, PveVersion, Route), PathError>;

fn upgrade_path(
    pack: &ProxmoxPack,
    def: &CheckDef,
    s: &PveFacts,
    route: &Planned,
    unread: &[ProbeError],
) -> Evaluation {
    let (from, to, route) = match route {
        Ok(r) => r,
        Err(PathError::Unknown(cause)) => return Evaluation::undecided(def, cause.clone()),
        Err(PathError::Refused(problem)) => {
            let current = managers(s).0.first().map(|(_, v)| v.raw.clone()).unwrap_or_default();
            let f = def.finding(
                Severity::Blocker,
                format!("Proxmox VE {current}"),
                format!("{problem}."),
                evidence(json!({"current": current})),
            );
            return over_nodes(def, vec![f], String::new(), unread);
        }
    };
    let note = local_note(s);
    if route.path.hops.is_empty() {
        return over_nodes(def, Vec::new(), format!("already on {}{note}", to.raw), unread);
    }
    let subject = format!("Proxmox VE {} → {}", from.raw, to.raw);
    let mut ev = evidence(json!({"current": from.raw, "target": to.raw}));
    route.path.add_to(&mut ev);
    let steps = plural(route.path.hops.len(), "step");
    // More than one major: one at a time, each from the newest release of the one before.
    if route.majors.len() > 1 {
        let majors: Vec<String> = route
            .majors
            .iter()
            .map(|m| m.to_string())
            .chain([to.major.to_string()])
            .collect();
        let f = def.finding(
            Severity::Blocker,
            subject,
            format!(
                "{} → {} crosses {} majors ({}): Proxmox VE upgrades one major at a time, each with its own checker. The supported way takes {steps} (below).",
                from.raw,
                to.raw,
                route.majors.len(),
                majors.join(" → ")
            ),
            ev,
        );
        return over_nodes(def, vec![f], String::new(), unread);
    }
    let Some(major) = route.majors.first().and_then(|m| pack.major_from(*m)) else {
        let f = def.finding(
            Severity::Info,
            subject.clone(),
            format!(
                "{subject} is an upgrade in place within Proxmox VE {}: {steps} (below).",
                from.major
            ),
            ev,
        );
        let mut e = over_nodes(def, vec![f], String::new(), unread);
        if e.outcome.status != OutcomeStatus::Error {
            e.outcome = def.outcome(
                OutcomeStatus::Pass,
                Some(format!("{subject} is an upgrade in place{}{note}", offline_note(s))),
            );
        }
        return e;
    };
    // The major upgrade's minimum: the installed proxmox-ve of every online node.
    let mut below = Map::new();
    let mut unread = unread.to_vec();
    let mut checked = 0;
    for n in s.online() {
        match &n.packages {
            Some(Ok(p)) => {
                checked += 1;
                match &p.proxmox_ve {
                    Some(v) if proxmox_ve_passes(v, &major.min_proxmox_ve) => {}
                    Some(v) => {
                        below.insert(n.name.clone(), json!(v));
                    }
                    None => {
                        below.insert(n.name.clone(), json!("not installed"));
                    }
                }
            }
            Some(Err(cause)) => unread.push(cause.clone().reworded(|cause| {
                format!(
                    "{}: the installed proxmox-ve, which {} checks, could not be read: {cause}",
                    n.name, major.checker
                )
            })),
            None => unread.push(not_read(n, "proxmox-ve")),
        }
    }
    if below.is_empty() {
        let f = def.finding(
            Severity::Info,
            subject.clone(),
            format!(
                "{subject} is a supported path: {steps} (below); proxmox-ve is at least {} on {}.",
                major.min_proxmox_ve,
                plural(checked, "online node")
            ),
            ev,
        );
        let mut e = over_nodes(def, vec![f], String::new(), &unread);
        if e.outcome.status != OutcomeStatus::Error {
            e.outcome = def.outcome(
                OutcomeStatus::Pass,
                Some(format!("{subject} is a supported path{}{note}", offline_note(s))),
            );
        }
        return e;
    }
    let list: Vec<String> = below
        .iter()
        .map(|(n, v)| format!("{n} ({})", v.as_str().unwrap_or("?")))
        .collect();
    ev.insert("proxmox_ve_below_minimum".into(), Value::Object(below));
    ev.insert("minimum".into(), json!(major.min_proxmox_ve));
    let f = def.finding(
        Severity::Blocker,
        subject,
        format!(
            "The {} → {} upgrade cannot start yet: proxmox-ve is below {} on {}, and `{}` fails there (\"proxmox-ve package is too old\"). Take the in-place step to the newest {}.x first; the supported way takes {steps} (below).",
            major.from,
            major.from + 1,
            major.min_proxmox_ve,
            list.join(", "),
            major.checker,
            major.from
        ),
        ev,
    );
    over_nodes(def, vec![f], String::new(), &unread)
}

fn versions(def: &CheckDef, s: &PveFacts) -> Evaluation {
    if s.seen == Seen::LocalNode {
        return Evaluation::skipped(
            def,
            "only this node was seen (pveversion -v): no other node to compare; set PROXMOX_VE_ENDPOINT and PROXMOX_VE_API_TOKEN to compare every node",
        );
    }
    let (read, unread) = managers(s);
    let mut by_version: BTreeMap<&PveVersion, (String, Vec<String>)> = BTreeMap::new();
    for (n, v) in &read {
        by_version
            .entry(v)
            .or_insert_with(|| (v.raw.clone(), Vec::new()))
            .1
            .push(n.name.clone());
    }
    let offline = offline_note(s);
    if by_version.len() <= 1 {
        let on = by_version
            .values()
            .next()
            .map_or_else(String::new, |(v, _)| format!(" on {v}"));
        return over_nodes(
            def,
            Vec::new(),
            format!("{}{on}{offline}", plural(read.len(), "online node")),
            &unread,
        );
    }
    let groups: Vec<String> = by_version
        .values()
        .map(|(v, nodes)| format!("{v} ({})", nodes.join(", ")))
        .collect();
    let versions: Map<String, Value> = by_version
        .values()
        .map(|(v, nodes)| (v.clone(), json!(nodes)))
        .collect();
    let subject = match &s.cluster {
        ClusterState::Cluster { name, .. } if !name.is_empty() => format!("cluster {name}"),
        _ => "cluster nodes".to_string(),
    };
    let f = def.finding(
        Severity::Warning,
        subject,
        format!(
            "The nodes run {} different pve-manager versions: {}. Bring them to one release first (preflight's own rule; upstream's checker does not compare nodes).",
            by_version.len(),
            groups.join(", ")
        ),
        evidence(json!({"versions": versions, "offline": s.offline()})),
    );
    over_nodes(def, vec![f], String::new(), &unread)
}

fn corosync(def: &CheckDef, s: &PveFacts) -> Evaluation {
    let clustered = s.clustered();
    if clustered == Some(false) {
        return Evaluation::skipped(
            def,
            "standalone node (no cluster entry in /cluster/status): no corosync cluster, as upstream's checker skips it",
        );
    }
    let mut findings = Vec::new();
    let mut unread = Vec::new();
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in s.online() {
        let p = match &n.packages {
            Some(Ok(p)) => p,
            Some(Err(cause)) => {
                unread.push(of_node(n, cause));
                continue;
            }
            None => {
                unread.push(not_read(n, "packages"));
                continue;
            }
        };
        let problem = match p.corosync.as_deref() {
            Some(v) if v.starts_with("3.") => {
                seen.entry(v.to_string()).or_default().push(n.name.clone());
                None
            }
            Some(v) if v.starts_with("2.") => Some((
                v.to_string(),
                format!("corosync {v} is installed on {}: a cluster-wide upgrade to corosync 3.x is needed first (\"corosync 2.x installed, cluster-wide upgrade to 3.x needed!\").", n.name),
            )),
            Some(v) => Some((
                v.to_string(),
                format!("Unexpected corosync version {v} on {}: upstream's checker requires 3.x (\"unexpected corosync version installed\").", n.name),
            )),
            None if clustered == Some(true) => Some((
                "not installed".to_string(),
                format!("corosync is not installed on cluster node {}: the checker requires corosync 3.x.", n.name),
            )),
            None => None,
        };
        if let Some((installed, message)) = problem {
            findings.push(def.finding(
                Severity::Blocker,
                format!("node {}", n.name),
                message,
                evidence(json!({"node": n.name, "corosync": installed})),
            ));
        }
    }
    let on: Vec<String> = seen
        .iter()
        .map(|(v, nodes)| format!("{v} ({})", nodes.join(", ")))
        .collect();
    let summary = format!(
        "corosync 3.x on every online node{}{}{}",
        if on.is_empty() {
            String::new()
        } else {
            format!(": {}", on.join(", "))
        },
        offline_note(s),
        local_note(s)
    );
    over_nodes(def, findings, summary, &unread)
}

fn ceph(pack: &ProxmoxPack, def: &CheckDef, s: &PveFacts, route: &Planned) -> Evaluation {
    let nodes = match &s.ceph {
        CephState::Unreadable(cause) => return Evaluation::error(def, cause.clone()),
        CephState::Nodes(nodes) => nodes,
    };
    if nodes.is_empty() {
        let from = match s.seen {
            Seen::LocalNode => "pveversion -v lists no ceph package on this node",
            Seen::Api { .. } => "/cluster/ceph/metadata?scope=versions lists no node",
        };
        return Evaluation::skipped(def, format!("no hyper-converged Ceph ({from})"));
    }
    // The release the next major upgrade on the way needs; none without a major upgrade.
    let needed = match route {
        Ok((_, _, r)) => r.majors.first().and_then(|m| pack.major_from(*m)),
        Err(PathError::Refused(_)) => None,
        Err(PathError::Unknown(cause)) => {
            return Evaluation::undecided(
                def,
                format!("cannot tell which Ceph release the upgrade needs: {cause}"),
            )
        }
    };
    let mut findings = Vec::new();
    if let Some(m) = needed {
        let want = pack.ceph_release(m.ceph_release);
        let mut by_major: BTreeMap<u64, Map<String, Value>> = BTreeMap::new();
        for (node, (major, version)) in nodes {
            if *major != m.ceph_release {
                by_major.entry(*major).or_default().insert(node.clone(), json!(version));
            }
        }
        for (major, off) in by_major {
            let names: Vec<&str> = off.keys().map(String::as_str).collect();
            let have = pack.ceph_release(major);
            let (severity, message) = if major < m.ceph_release {
                (
                    Severity::Blocker,
                    format!(
                        "Hyper-converged Ceph {have} on {} is too old for the {} → {} upgrade: upgrade Ceph to {want} first (\"Hyper-converged Ceph {have} is to old for upgrade!\").",
                        names.join(", "),
                        m.from,
                        m.from + 1
                    ),
                )
            } else {
                (
                    Severity::Warning,
                    format!(
                        "Ceph {have} on {} is newer than the {want} the {} → {} upgrade expects (\"installed third party repos?!\").",
                        names.join(", "),
                        m.from,
                        m.from + 1
                    ),
                )
            };
            findings.push(def.finding(
                severity,
                format!("Ceph {have}"),
                message,
                evidence(json!({"nodes": off, "expected": m.ceph_release})),
            ));
        }
    }
    let mut by_version: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (node, (_, version)) in nodes {
        by_version.entry(version.as_str()).or_default().push(node.as_str());
    }
    if by_version.len() > 1 {
        let groups: Vec<String> = by_version
            .iter()
            .map(|(v, n)| format!("{v} ({})", n.join(", ")))
            .collect();
        findings.push(def.finding(
            Severity::Warning,
            "Ceph versions",
            format!(
                "The Ceph nodes run {} different versions: {}; restart or upgrade until `ceph versions` shows one (\"overall version mismatch detected\").",
                by_version.len(),
                groups.join(", ")
            ),
            evidence(json!({"versions": by_version})),
        ));
    }
    let on = by_version.keys().copied().collect::<Vec<_>>().join(", ");
    let summary = match needed {
        Some(m) => format!(
            "Ceph {on} on {}, the {} the {} → {} upgrade needs{}",
            plural(nodes.len(), "node"),
            pack.ceph_release(m.ceph_release),
            m.from,
            m.from + 1,
            local_note(s)
        ),
        None => format!(
            "Ceph {on} on {}; no major upgrade on the way{}",
            plural(nodes.len(), "node"),
            local_note(s)
        ),
    };
    Evaluation::from_findings(def, findings, summary)
}

fn quorum(def: &CheckDef, s: &PveFacts) -> Evaluation {
    let (name, quorate, members) = match &s.cluster {
        ClusterState::NotSeen(reason) => return Evaluation::skipped(def, reason.clone()),
        ClusterState::Standalone => {
            return Evaluation::skipped(
                def,
                "standalone node (no cluster entry in /cluster/status): no quorum, as upstream's checker skips it",
            )
        }
        ClusterState::Unreadable(cause) => return Evaluation::error(def, cause.clone()),
        ClusterState::Cluster { name, quorate, members } => (name, *quorate, members),
    };
    let mut findings = Vec::new();
    if !quorate {
        findings.push(def.finding(
            Severity::Blocker,
            format!("cluster {name}"),
            format!("Cluster {name} is not quorate: /etc/pve is read-only (\"Cluster Filesystem readonly, lost quorum?!\")."),
            evidence(json!({"cluster": name, "quorate": 0})),
        ));
    }
    let offline: Vec<&str> = members
        .iter()
        .filter(|(_, online)| !online)
        .map(|(n, _)| n.as_str())
        .collect();
    for node in &offline {
        findings.push(def.finding(
            Severity::Blocker,
            format!("node {node}"),
            format!(
                "Node {node} of cluster {name} is offline ({}): it cannot be checked or upgraded with the others.",
                if offline.len() == 1 {
                    "\"1 nodes are offline!\"".to_string()
                } else {
                    format!("\"{} nodes are offline!\"", offline.len())
                }
            ),
            evidence(json!({"cluster": name, "node": node, "online": 0})),
        ));
    }
    Evaluation::from_findings(
        def,
        findings,
        format!("cluster {name} is quorate, {} online", plural(members.len(), "node")),
    )
}

#[cfg(test)]
mod tests {
    use super::super::facts::Packages;
    use super::*;
    use crate::systems::proxmox::checks::pack as proxmox_pack;
    use rstest::rstest;

    fn v(s: &str) -> PveVersion {
        PveVersion::parse(s).unwrap()
    }

    /// (path versions, majors) of `from` → `to`, or the error's text.
    fn way(from: &str, to: &str) -> Result<(Vec<String>, usize), String> {
        let pack = proxmox_pack();
        let to = pack.resolve(&v(to)).map_err(|e| format!("{e:?}"))?;
        let r = pack.route(&v(from), &to).map_err(|e| format!("{e:?}"))?;
        Ok((r.path.versions(), r.majors.len()))
    }

    // Rows from the release list (checks/proxmox.toml, pve-manager debian/changelog) and the
    // checkers' one-major-at-a-time rule.
    #[rstest]
    #[case::patch("8.4.1", "8.4.21", &["8.4.1", "8.4.21"], 0)]
    #[case::minor_to_the_newest("8.2.4", "8.4", &["8.2.4", "8.4.21"], 0)]
    #[case::major_from_the_newest("8.4.21", "9.0", &["8.4.21", "9.0.18"], 1)]
    #[case::major_through_the_newest("8.2.4", "9.2", &["8.2.4", "8.4.21", "9.2.11"], 1)]
    #[case::a_major_means_its_newest("8.4.21", "9", &["8.4.21", "9.2.11"], 1)]
    #[case::seven_to_eight("7.4-17", "8.0", &["7.4-17", "7.4-20", "8.0.9"], 1)]
    #[case::seven_to_nine("7.3-6", "9.0", &["7.3-6", "7.4-20", "8.4.21", "9.0.18"], 2)]
    #[case::revision_scheme_patch("7.4-3", "7.4-4", &["7.4-3", "7.4-4"], 0)]
    #[case::pre_release_to_its_release("9.0.0~22", "9.0.0", &["9.0.0~22", "9.0.0"], 0)]
    #[case::same_release("9.2.11", "9.2.11", &[], 0)]
    fn upgrade_paths(#[case] from: &str, #[case] to: &str, #[case] path: &[&str], #[case] majors: usize) {
        assert_eq!(
            way(from, to),
            Ok((path.iter().map(|s| s.to_string()).collect(), majors)),
            "{from} → {to}"
        );
    }

    #[rstest]
    #[case::never_released("7.4-4", "7.4-5", "Refused", "the nearest release is 7.4-6")]
    #[case::never_released_native("8.0.0", "8.0.1", "Refused", "the nearest release is 8.0.2")]
    #[case::pre_release_target("8.4.1", "9.0.0~22", "Refused", "not a Proxmox VE release")]
    #[case::downgrade("8.4.2", "8.4.1", "Refused", "cannot be downgraded")]
    #[case::no_pve9to10("9.2.11", "10.0", "Unknown", "newer than every release")]
    #[case::unknown_series("8.5.0", "9.0", "Unknown", "not a Proxmox VE release series")]
    #[case::older_than_the_list("6.4-14", "7.0", "Unknown", "older than preflight's release list")]
    fn refused_and_unknown(#[case] from: &str, #[case] to: &str, #[case] kind: &str, #[case] says: &str) {
        let e = way(from, to).unwrap_err();
        assert!(e.starts_with(kind) && e.contains(says), "{e}");
    }

    // pve8to9.pm L205-214 / pve7to8.pm L195-204, component by component.
    #[rstest]
    #[case("8.4.0", "8.4.0", true)]
    #[case("8.4.1", "8.4.0", true)]
    #[case("8.3.3", "8.4.0", false)]
    #[case("9.0.0", "8.4.0", true)]
    #[case("7.4-1", "7.4-1", true)]
    #[case("7.4-18", "7.4-1", true)]
    #[case("7.3-1", "7.4-1", false)]
    #[case("7.4-0", "7.4-1", false)]
    #[case("8.0.2", "7.4-1", true)]
    #[case("garbage", "8.4.0", false)]
    fn proxmox_ve_minimum(#[case] installed: &str, #[case] minimum: &str, #[case] passes: bool) {
        assert_eq!(
            proxmox_ve_passes(installed, minimum),
            passes,
            "{installed} vs {minimum}"
        );
    }

    #[test]
    fn release_list_is_the_changelog() {
        let pack = proxmox_pack();
        assert_eq!(pack.newest().raw, "9.2.11");
        for gone in ["7.4-5", "7.4-7", "7.4-10", "8.0.1", "7.1-2"] {
            assert!(pack.resolve(&v(gone)).is_err(), "{gone}");
        }
        for released in ["7.4-20", "8.0.0", "8.4.21", "9.1.0", "9.0.18"] {
            assert_eq!(pack.resolve(&v(released)).unwrap().raw, released);
        }
        assert!(pack.series.iter().all(|s| s.source.contains("proxmox/pve-manager")
            && !s.patches.is_empty()
            && s.patches.windows(2).all(|w| w[0] < w[1])));
        for m in &pack.major {
            assert!(
                m.source.contains("proxmox/pve-manager") && m.source.contains("pve"),
                "{}",
                m.from
            );
            assert!(PveVersion::parse(&m.min_proxmox_ve).is_ok_and(|v| v.given == 3));
            assert!(pack.ceph_names.contains_key(&m.ceph_release.to_string()));
            assert!(pack.base_of(m.from).is_some() && pack.base_of(m.from + 1).is_some());
        }
        for b in &pack.base {
            assert!(b.source.contains("proxmox/pve-manager"), "{}", b.major);
        }
        assert!(pack.native_source.contains("proxmox/pve-manager") && pack.ceph_names_source.contains("pve8to9"));
        assert_eq!(pack.ceph_release(19), "19 Squid");
        for def in pack.checks() {
            assert!(def.source.contains("proxmox/pve-manager"), "{}", def.id);
        }
        assert!(pack.def("PVE002").source.starts_with("preflight's own rule"));
    }

    #[test]
    fn the_major_hop_names_the_checker_and_the_debian_change() {
        let pack = proxmox_pack();
        let r = pack.route(&v("8.2.4"), &v("9.2.11")).unwrap();
        let hop = &r.path.hops[1];
        assert_eq!(hop.kind, HopKind::Major);
        assert!(
            hop.how.contains("`pve8to9 --full`") && hop.how.contains("bookworm to trixie"),
            "{}",
            hop.how
        );
        assert!(
            hop.first[0].contains("8.4.0") && hop.first[1].contains("19 Squid"),
            "{:?}",
            hop.first
        );
        assert_eq!(r.path.hops[0].kind, HopKind::Minor);
        assert!(r.path.hops[0].how.contains("bookworm (Debian 12)"));
    }

    fn node(name: &str, manager: &str, proxmox_ve: &str, corosync: &str) -> Node {
        Node {
            name: name.into(),
            online: true,
            manager: Some(Ok(v(manager))),
            packages: Some(Ok(Packages {
                proxmox_ve: Some(proxmox_ve.into()),
                corosync: Some(corosync.into()),
            })),
        }
    }

    fn cluster(nodes: Vec<Node>, quorate: bool, ceph: &[(&str, u64, &str)]) -> PveFacts {
        let members = nodes.iter().map(|n| (n.name.clone(), n.online)).collect();
        PveFacts {
            seen: Seen::Api {
                url: "https://pve1:8006/api2/json/".into(),
            },
            api_version: nodes.first().and_then(|n| n.manager.clone()).and_then(Result::ok),
            cluster: ClusterState::Cluster {
                name: "prod".into(),
                quorate,
                members,
            },
            nodes,
            ceph: CephState::Nodes(
                ceph.iter()
                    .map(|(n, m, s)| (n.to_string(), (*m, s.to_string())))
                    .collect(),
            ),
        }
    }

    fn healthy() -> Vec<Node> {
        ["pve1", "pve2", "pve3"]
            .iter()
            .map(|n| node(n, "8.4.1", "8.4.0", "3.1.9-pve1"))
            .collect()
    }

    fn run(facts: PveFacts, target: &str) -> Vec<Evaluation> {
        evaluate(
            proxmox_pack(),
            &Probed::Found(facts),
            Some(&Version::parse(target).unwrap()),
        )
    }

    fn verdict(e: &Evaluation) -> (OutcomeStatus, Vec<Severity>) {
        (e.outcome.status, e.findings.iter().map(|f| f.severity).collect())
    }

    #[rstest]
    #[case::supported_major(healthy(), "9.0", OutcomeStatus::Pass, vec![Severity::Info])]
    #[case::below_the_minimum(vec![node("pve1", "8.4.1", "8.4.0", "3.1.9-pve1"), node("pve2", "8.2.4", "8.2.2", "3.1.9-pve1")], "9.0", OutcomeStatus::Fail, vec![Severity::Blocker])]
    #[case::two_majors(vec![node("pve1", "7.4-17", "7.4-1", "3.1.7-pve1")], "9.0", OutcomeStatus::Fail, vec![Severity::Blocker])]
    #[case::in_place(healthy(), "8.4", OutcomeStatus::Pass, vec![Severity::Info])]
    #[case::current(healthy(), "8.4.1", OutcomeStatus::Pass, vec![])]
    #[case::downgrade(healthy(), "8.4.0", OutcomeStatus::Fail, vec![Severity::Blocker])]
    fn pve001(
        #[case] nodes: Vec<Node>,
        #[case] target: &str,
        #[case] status: OutcomeStatus,
        #[case] want: Vec<Severity>,
    ) {
        let e = run(cluster(nodes, true, &[]), target);
        assert_eq!(verdict(&e[0]), (status, want), "{:?}", e[0]);
    }

    #[test]
    fn pve001_from_the_oldest_node_and_a_forbidden_node_is_an_error() {
        let mut nodes = vec![
            node("pve1", "8.4.1", "8.4.0", "3.1.9-pve1"),
            node("pve2", "8.4.1", "8.4.0", "3.1.9-pve1"),
        ];
        nodes[1].packages = Some(Err(ProbeError::new(
            ErrorKind::Forbidden,
            "… answered HTTP 403: the API token lacks Sys.Audit on /nodes/pve2",
        )));
        let e = run(cluster(nodes, true, &[]), "9.0");
        assert_eq!(e[0].outcome.status, OutcomeStatus::Error);
        assert!(
            e[0].outcome.reason.as_deref().unwrap().contains("Sys.Audit"),
            "{:?}",
            e[0].outcome
        );
        assert_eq!(e[1].outcome.status, OutcomeStatus::Pass, "PVE002 needs no Sys.Audit");
        assert_eq!(e[2].outcome.status, OutcomeStatus::Error, "PVE003 needs it");
        assert_eq!(e[4].outcome.status, OutcomeStatus::Pass);
        let path = UpgradePath::of_evidence(e[0].findings[0].evidence.to_map().as_ref()).unwrap();
        assert_eq!(path.versions(), ["8.4.1", "8.4.21", "9.0.18"]);
    }

    #[test]
    fn default_target_is_the_newest_and_never_a_downgrade() {
        let pack = proxmox_pack();
        let e = evaluate(pack, &Probed::Found(cluster(healthy(), true, &[])), None);
        let path = UpgradePath::of_evidence(e[0].findings[0].evidence.to_map().as_ref()).unwrap();
        assert_eq!(path.versions(), ["8.4.1", "8.4.21", "9.2.11"]);
        let newer = vec![node("pve1", "9.3.1", "9.3.0", "3.1.9-pve1")];
        let e = evaluate(pack, &Probed::Found(cluster(newer, true, &[])), None);
        assert_eq!(e[0].outcome.status, OutcomeStatus::Error);
        let reason = e[0].outcome.reason.as_deref().unwrap();
        assert!(
            reason.contains("--target proxmox=VERSION") && !reason.contains("downgrade"),
            "{reason}"
        );
    }

    #[rstest]
    #[case::one_version(healthy(), vec![])]
    #[case::mixed(vec![node("pve1", "8.4.1", "8.4.0", "3.1.9-pve1"), node("pve2", "8.2.4", "8.2.2", "3.1.9-pve1"), node("pve3", "8.4.1", "8.4.0", "3.1.9-pve1")], vec![Severity::Warning])]
    #[case::revision_scheme(vec![node("pve1", "7.4-17", "7.4-1", "3.1.7-pve1"), node("pve2", "7.4-9", "7.4-1", "3.1.7-pve1")], vec![Severity::Warning])]
    fn pve002(#[case] nodes: Vec<Node>, #[case] want: Vec<Severity>) {
        let e = run(cluster(nodes, true, &[]), "9.2");
        assert_eq!(verdict(&e[1]).1, want, "{:?}", e[1]);
        if let Some(f) = e[1].findings.first() {
            assert!(f.message.contains("preflight's own rule"), "{}", f.message);
        }
    }

    #[rstest]
    #[case::three("3.1.9-pve1", vec![])]
    #[case::two("2.4.4-pve1", vec![Severity::Blocker])]
    #[case::unexpected("4.0.0-1", vec![Severity::Blocker])]
    fn pve003(#[case] corosync: &str, #[case] want: Vec<Severity>) {
        let nodes = vec![
            node("pve1", "8.4.1", "8.4.0", "3.1.9-pve1"),
            node("pve2", "8.4.1", "8.4.0", corosync),
        ];
        let e = run(cluster(nodes, true, &[]), "9.0");
        assert_eq!(verdict(&e[2]).1, want, "{:?}", e[2]);
    }

    #[rstest]
    #[case::squid_for_8_to_9("9.0", &[("pve1", 19, "19.2.1"), ("pve2", 19, "19.2.1")], OutcomeStatus::Pass, vec![])]
    #[case::reef_is_too_old("9.0", &[("pve1", 18, "18.2.4"), ("pve2", 18, "18.2.4")], OutcomeStatus::Fail, vec![Severity::Blocker])]
    #[case::tentacle_is_newer("9.0", &[("pve1", 20, "20.1.0")], OutcomeStatus::Fail, vec![Severity::Warning])]
    #[case::mixed_versions("9.0", &[("pve1", 19, "19.2.1"), ("pve2", 19, "19.2.0")], OutcomeStatus::Fail, vec![Severity::Warning])]
    #[case::mixed_releases("9.0", &[("pve1", 19, "19.2.1"), ("pve2", 18, "18.2.4")], OutcomeStatus::Fail, vec![Severity::Blocker, Severity::Warning])]
    #[case::no_major_no_release_rule("8.4", &[("pve1", 18, "18.2.4")], OutcomeStatus::Pass, vec![])]
    #[case::no_ceph("9.0", &[], OutcomeStatus::Skipped, vec![])]
    fn pve004(
        #[case] target: &str,
        #[case] ceph: &[(&str, u64, &str)],
        #[case] status: OutcomeStatus,
        #[case] want: Vec<Severity>,
    ) {
        let e = run(cluster(healthy(), true, ceph), target);
        assert_eq!(verdict(&e[3]), (status, want), "{:?}", e[3]);
    }

    #[test]
    fn pve004_for_7_to_8_wants_quincy() {
        let nodes = vec![node("pve1", "7.4-17", "7.4-1", "3.1.7-pve1")];
        let e = run(cluster(nodes.clone(), true, &[("pve1", 17, "17.2.7")]), "8.0");
        assert_eq!(verdict(&e[3]), (OutcomeStatus::Pass, vec![]), "{:?}", e[3]);
        let e = run(cluster(nodes, true, &[("pve1", 16, "16.2.15")]), "8.0");
        assert!(e[3].findings[0].message.contains("16 Pacific") && e[3].findings[0].message.contains("17 Quincy"));
    }

    #[rstest]
    #[case::quorate(true, None, vec![])]
    #[case::not_quorate(false, None, vec![Severity::Blocker])]
    #[case::offline(true, Some("pve3"), vec![Severity::Blocker])]
    #[case::both(false, Some("pve3"), vec![Severity::Blocker, Severity::Blocker])]
    fn pve005(#[case] quorate: bool, #[case] offline: Option<&str>, #[case] want: Vec<Severity>) {
        let mut nodes = healthy();
        if let Some(off) = offline {
            let n = nodes.iter_mut().find(|n| n.name == off).unwrap();
            n.online = false;
            n.manager = None;
            n.packages = None;
        }
        let e = run(cluster(nodes, quorate, &[]), "9.0");
        assert_eq!(verdict(&e[4]).1, want, "{:?}", e[4]);
        if offline.is_some() {
            assert!(e[1]
                .outcome
                .reason
                .as_deref()
                .unwrap()
                .contains("offline, not compared: pve3"));
        }
    }

    #[test]
    fn standalone_and_local_only() {
        let mut s = cluster(vec![node("pve", "8.4.1", "8.4.0", "3.1.9-pve1")], true, &[]);
        s.cluster = ClusterState::Standalone;
        let e = run(s.clone(), "9.0");
        assert_eq!(e[2].outcome.status, OutcomeStatus::Skipped);
        assert_eq!(e[4].outcome.status, OutcomeStatus::Skipped);
        assert!(e[4].outcome.reason.as_deref().unwrap().contains("standalone"));
        s.seen = Seen::LocalNode;
        s.cluster = ClusterState::NotSeen("only this node was seen".into());
        let e = run(s, "9.0");
        assert_eq!(e[0].outcome.status, OutcomeStatus::Pass);
        assert!(e[0]
            .outcome
            .reason
            .as_deref()
            .unwrap()
            .contains("only this node was seen"));
        assert_eq!(e[1].outcome.status, OutcomeStatus::Skipped);
        assert_eq!(e[2].outcome.status, OutcomeStatus::Pass, "corosync of this node");
        assert_eq!(e[4].outcome.status, OutcomeStatus::Skipped);
    }

    #[test]
    fn a_failed_probe_is_an_error_for_every_check() {
        let e = evaluate(
            proxmox_pack(),
            &Probed::Failed(ProbeError::new(
                ErrorKind::Auth,
                "x answered HTTP 401: authentication failed",
            )),
            None,
        );
        assert_eq!(e.len(), IMPLEMENTED.len());
        assert!(e.iter().all(|e| e.outcome.status == OutcomeStatus::Error));
    }
}

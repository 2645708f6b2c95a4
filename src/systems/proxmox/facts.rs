//! What the Proxmox VE probe learned, as plain facts the checks read: no I/O, no verdicts.
//! Both [`super::probe`] (which fills them) and [`super::checks`] (which judges them) use these
//! types, and nothing else of each other.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use crate::core::probed::ProbeError;

/// A pve-manager or proxmox-ve version: `X.Y-N` (a Debian revision, up to 7.x) or native
/// `X.Y.Z` (from 8.0), optionally a pre-release `~N` (`9.0.0~22`), which sorts before its
/// release. The crate's [`crate::version::Version`] reads `7.4-17` as 7.4.0 and `8.0.0~9` as a
/// release, so Proxmox VE versions are read here.
///
/// Ordering: (major, minor, release), then a pre-release before the release, pre-releases by
/// number. `raw` (what the system said) does not take part.
#[derive(Debug, Clone, Eq)]
pub struct PveVersion {
    pub major: u64,
    pub minor: u64,
    /// The `N` of `X.Y-N` or the `Z` of `X.Y.Z` (0 when not given).
    pub release: u64,
    /// The `N` of a `~N` pre-release.
    pub pre: Option<u64>,
    /// How many of major, minor and release were written (`9` → 1, `9.0` → 2, `9.0.3` → 3).
    pub given: u8,
    /// The text as the system reported it.
    pub raw: String,
}

impl PveVersion {
    /// Reads `8.4.1`, `7.4-17`, `9.0.0~22`, `v9.0`, `9`; anything after the numbers and the
    /// pre-release (`+1`, ` (running kernel: …)`) is dropped.
    ///
    /// # Errors
    /// The text in words when it does not start with a number (after an optional `v`).
    pub fn parse(text: &str) -> Result<PveVersion, String> {
        let raw = text.trim();
        let mut rest = raw.strip_prefix(['v', 'V']).unwrap_or(raw);
        let mut nums = [0u64; 3];
        let mut given = 0u8;
        while usize::from(given) < 3 {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                break;
            }
            nums[usize::from(given)] = rest[..digits]
                .parse()
                .map_err(|_| format!("'{raw}' is not a Proxmox VE version"))?;
            given += 1;
            rest = &rest[digits..];
            // `.` separates major and minor; `.` or `-` separates minor and release.
            let next = match (given, rest.chars().next()) {
                (1, Some('.')) | (2, Some('.' | '-')) => &rest[1..],
                _ => break,
            };
            if !next.starts_with(|c: char| c.is_ascii_digit()) {
                break;
            }
            rest = next;
        }
        if given == 0 {
            return Err(format!(
                "'{raw}' is not a Proxmox VE version (expected X.Y.Z, X.Y-N or X.Y)"
            ));
        }
        let pre = rest.strip_prefix('~').and_then(|p| {
            let digits = p.bytes().take_while(u8::is_ascii_digit).count();
            p[..digits].parse().ok()
        });
        Ok(PveVersion {
            major: nums[0],
            minor: nums[1],
            release: nums[2],
            pre,
            given,
            raw: raw.to_string(),
        })
    }

    /// `(major, minor)`.
    pub fn series(&self) -> (u64, u64) {
        (self.major, self.minor)
    }
}

impl PartialEq for PveVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl PartialOrd for PveVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PveVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.release)
            .cmp(&(other.major, other.minor, other.release))
            .then_with(|| match (self.pre, other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(&b),
            })
    }
}

impl fmt::Display for PveVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Where the facts were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The API of a cluster (every node it lists), at this URL (shown without user-info).
    Api { url: String },
    /// Only this node, through `pveversion -v` (no URL configured).
    LocalNode,
}

/// The cluster's membership and quorum (GET /cluster/status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterState {
    /// A cluster: its `cluster` entry and every member entry.
    Cluster {
        name: String,
        quorate: bool,
        /// (node, online) of every member, as `/cluster/status` lists them.
        members: Vec<(String, bool)>,
    },
    /// A single node without a cluster (no `cluster` entry).
    Standalone,
    /// Not read: why (a 403 names the permission).
    Unreadable(ProbeError),
    /// Not seen from here (only the local `pveversion -v` was read): the reason.
    NotSeen(String),
}

/// The installed versions of the packages the checks need, from one node's
/// `/nodes/{node}/apt/versions` or `pveversion -v` (`OldVersion`; `None`: not installed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packages {
    /// The `proxmox-ve` meta-package (`8.4.0`, `7.4-1`).
    pub proxmox_ve: Option<String>,
    /// `corosync` (`3.1.9-pve1`).
    pub corosync: Option<String>,
}

/// One node of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// Whether the node is online (membership, else `/cluster/resources` status).
    pub online: bool,
    /// pve-manager on the node (GET /nodes/{node}/version), or why it could not be read;
    /// `None` for an offline node (not asked).
    pub manager: Option<Result<PveVersion, ProbeError>>,
    /// Its installed packages, or why they could not be read; `None` when not asked.
    pub packages: Option<Result<Packages, ProbeError>>,
}

/// Hyper-converged Ceph, per node (GET /cluster/ceph/metadata?scope=versions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CephState {
    /// node → Ceph version (`19.2.1`) with its major; empty: no hyper-converged Ceph.
    Nodes(BTreeMap<String, (u64, String)>),
    /// Not read: why.
    Unreadable(ProbeError),
}

/// Everything the Proxmox VE checks read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PveFacts {
    pub seen: Seen,
    /// The answering node's pve-manager (GET /version), when read through the API.
    pub api_version: Option<PveVersion>,
    pub cluster: ClusterState,
    /// Every node, in the order the API lists them.
    pub nodes: Vec<Node>,
    pub ceph: CephState,
}

impl PveFacts {
    /// The online nodes.
    pub fn online(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.online)
    }

    /// The offline nodes' names.
    pub fn offline(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|n| !n.online)
            .map(|n| n.name.as_str())
            .collect()
    }

    /// Whether the nodes form a cluster: a `cluster` entry, or more than one node when the
    /// status could not be read.
    pub fn clustered(&self) -> Option<bool> {
        match &self.cluster {
            ClusterState::Cluster { .. } => Some(true),
            ClusterState::Standalone => Some(false),
            ClusterState::Unreadable(_) if self.nodes.len() > 1 => Some(true),
            ClusterState::Unreadable(_) | ClusterState::NotSeen(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("8.4.1", 8, 4, 1, None, 3)]
    #[case("7.4-17", 7, 4, 17, None, 3)]
    #[case("7.4-1", 7, 4, 1, None, 3)]
    #[case("9.0.0~22", 9, 0, 0, Some(22), 3)]
    #[case("8.0.0~9", 8, 0, 0, Some(9), 3)]
    #[case("6.0-0+1", 6, 0, 0, None, 3)]
    #[case("9.0", 9, 0, 0, None, 2)]
    #[case("v9", 9, 0, 0, None, 1)]
    #[case("8.4.0 (running kernel: 6.8.12-9-pve)", 8, 4, 0, None, 3)]
    #[case("8.4.1/2a5fa54a8503f96d", 8, 4, 1, None, 3)]
    fn parses_both_schemes(
        #[case] text: &str,
        #[case] major: u64,
        #[case] minor: u64,
        #[case] release: u64,
        #[case] pre: Option<u64>,
        #[case] given: u8,
    ) {
        let v = PveVersion::parse(text).unwrap();
        assert_eq!(
            (v.major, v.minor, v.release, v.pre, v.given),
            (major, minor, release, pre, given),
            "{text}"
        );
    }

    #[rstest]
    #[case("")]
    #[case("latest")]
    #[case("not correctly installed")]
    fn rejects(#[case] text: &str) {
        assert!(PveVersion::parse(text).is_err());
    }

    #[test]
    fn orders_revisions_native_and_pre_releases() {
        let v = |s: &str| PveVersion::parse(s).unwrap();
        assert!(v("7.4-17") > v("7.4-9"), "numeric, not lexicographic");
        assert!(v("7.4-20") < v("8.0.0~1"));
        assert!(v("9.0.0~9") < v("9.0.0~22") && v("9.0.0~22") < v("9.0.0"));
        assert!(v("8.4.10") > v("8.4.9"));
        assert_eq!(v("8.4.0"), v("8.4-0"));
        assert_eq!(v("9.0"), v("9.0.0"));
    }
}

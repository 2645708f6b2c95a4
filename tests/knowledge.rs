//! The release tables of checks/*.toml against the upstream tag lists recorded in
//! tests/fixtures/tags/ (`git tag` of each mirror, with the commit read): every final tag is in
//! the table, and nothing else is. Release candidates, betas, build and SaaS tags are not
//! releases.

use std::collections::{BTreeMap, BTreeSet};

use preflight::systems::backendai::checks::pack as backendai_pack;
use preflight::systems::mender::checks::pack as mender_pack;

/// `(line, patch)` of every final tag `major.minor.patch` (optionally with a leading `v`).
fn finals(list: &str) -> BTreeSet<((u64, u64), u64)> {
    list.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|tag| {
            let parts: Vec<&str> = tag.trim().trim_start_matches('v').split('.').collect();
            let [major, minor, patch] = parts.as_slice() else {
                return None;
            };
            let num = |s: &str| s.parse::<u64>().ok().filter(|_| s.bytes().all(|b| b.is_ascii_digit()));
            Some(((num(major)?, num(minor)?), num(patch)?))
        })
        .collect()
}

fn series(text: &str) -> (u64, u64) {
    let v = preflight::version::Version::parse(text).unwrap();
    (v.major, v.minor)
}

#[test]
fn backendai_lines_are_exactly_the_final_tags() {
    let tags = finals(include_str!("fixtures/tags/lablup-backend.ai.txt"));
    let mut by_line: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
    for (line, patch) in tags {
        by_line.entry(line).or_default().push(patch);
    }
    let pack = backendai_pack();
    let first = series(&pack.line[0].version);
    for l in &pack.line {
        assert_eq!(
            by_line.get(&series(&l.version)),
            Some(&l.patches),
            "line {}: checks/backendai.toml against the tags",
            l.version
        );
    }
    let listed: BTreeSet<(u64, u64)> = pack.line.iter().map(|l| series(&l.version)).collect();
    for line in by_line.keys().filter(|l| **l >= first) {
        assert!(
            listed.contains(line),
            "tagged line {line:?} is missing from checks/backendai.toml"
        );
    }
    assert!(!listed.contains(&(26, 5)) && !listed.contains(&(26, 6)));
}

#[test]
fn mender_series_end_at_their_newest_final_tag() {
    let mut tags = finals(include_str!("fixtures/tags/mendersoftware-integration.txt"));
    tags.extend(finals(include_str!("fixtures/tags/mendersoftware-mender-server.txt")));
    let mut newest: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    for (s, patch) in tags {
        let n = newest.entry(s).or_default();
        *n = (*n).max(patch);
    }
    let pack = mender_pack();
    let not_server: BTreeSet<(u64, u64)> = pack.not_a_server_release.iter().map(|n| series(&n.version)).collect();
    for r in &pack.series {
        let last = preflight::version::Version::parse(&r.last).unwrap();
        assert_eq!(
            newest.get(&series(&r.version)),
            Some(&last.patch),
            "series {}",
            r.version
        );
    }
    let listed: BTreeSet<(u64, u64)> = pack.series.iter().map(|r| series(&r.version)).collect();
    for s in newest.keys() {
        assert!(
            listed.contains(s) || not_server.contains(s),
            "tagged series {s:?} is neither a release nor marked as not a server release"
        );
    }
    assert!(
        not_server.contains(&(3, 8)),
        "3.8.x integration tags are client bundles"
    );
}

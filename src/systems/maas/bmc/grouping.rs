//! Grouping records by their keys: the collision groups 0290 stops on (MAAS004) and the
//! different BMCs that share an address and user (MAAS005).

use super::address::normalize_address;
use super::record::*;
use super::rules::BmcRules;

/// A group of records the detector reports together; its power-type names are borrowed from
/// the [`Observations`] it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BmcGroup<'o> {
    /// Distinct power-type names in the group, sorted (one for MAAS004).
    pub power_types: Vec<&'o str>,
    /// Address shared by the group (normalized for MAAS005).
    pub power_address: String,
    pub power_user: String,
    /// How many different BMCs the group holds (≥ 2).
    pub bmc_count: usize,
    /// Indices into [`Observations::records`], ordered by subject (then index).
    pub members: Vec<usize>,
    /// The members' subjects ([`Observations::subject`]), in the same order, copied while
    /// their records are at hand (later passes then read the group's memory, not the input's).
    pub subjects: Vec<String>,
}

/// One member of a run, read from its record once: members are scattered over the whole
/// input, so each look costs a cache and TLB miss; everything after works on these copies.
#[derive(Clone, Copy)]
pub(super) struct Member<'o> {
    post: u128,
    bmc: u64,
    shared: u64,
    power_type: u16,
    subject: &'o str,
    address: &'o str,
    user: &'o str,
    index: usize,
}

impl<'o> Member<'o> {
    fn read(obs: &'o Observations, index: usize) -> Self {
        let r = obs.record(index);
        let [subject, address, user] = obs.texts(r);
        Member {
            post: r.post,
            bmc: r.bmc,
            shared: r.shared,
            power_type: r.power_type,
            subject,
            address,
            user,
            index,
        }
    }
}

/// Calls `each` with the members of every run [`runs`] emits, each read from its record once.
pub(super) fn member_runs<'o, I: Iterator<Item = Keyed>>(
    obs: &'o Observations,
    keys: impl Fn() -> I,
    mut each: impl FnMut(Vec<Member<'o>>),
) {
    runs(keys, |run| {
        each(run.iter().map(|(.., i)| Member::read(obs, *i as usize)).collect())
    });
}

/// A group of `members` (any order), ordered by subject then index; the other fields as given.
pub(super) fn group<'o>(
    mut members: Vec<Member<'o>>,
    power_types: Vec<&'o str>,
    address: String,
    user: &str,
) -> BmcGroup<'o> {
    members.sort_unstable_by(|a, b| a.subject.cmp(b.subject).then(a.index.cmp(&b.index)));
    BmcGroup {
        power_types,
        power_address: address,
        power_user: user.to_string(),
        bmc_count: distinct(members.iter().map(|m| m.bmc).collect()),
        members: members.iter().map(|m| m.index).collect(),
        subjects: members.iter().map(|m| m.subject.to_string()).collect(),
    }
}

/// One record in a grouping pass: the key it is grouped by, a second hash that tells at once
/// whether a run is uniform (then nothing is reported and no record is looked up), its index.
pub(super) type Keyed = (u64, u64, u32);

/// Groups records by their first key and calls `emit` with every run of two or more equal keys
/// whose second hashes differ (in no particular order, nor within a run). `keys` yields every
/// record's key (it is walked twice). Keys are hashes, spread evenly: they are written straight
/// into buckets by their top bits (one array, no copy); each bucket (a few thousand keys, in
/// cache) is then grouped through a small open-addressing table that chains equal keys, so
/// singletons (almost every record) cost one probe and uniform runs nothing more.
pub(super) fn runs<I: Iterator<Item = Keyed>>(keys: impl Fn() -> I, mut emit: impl FnMut(&[Keyed])) {
    const BITS: u32 = 10;
    const NONE: u32 = u32::MAX;
    let bucket = |key: u64| (key >> (64 - BITS)) as usize;
    let mut starts = vec![0usize; (1 << BITS) + 1];
    for (key, ..) in keys() {
        starts[bucket(key) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut next = starts.clone();
    let mut scattered = vec![(0u64, 0u64, 0u32); starts[starts.len() - 1]];
    for keyed in keys() {
        let slot = &mut next[bucket(keyed.0)];
        scattered[*slot] = keyed;
        *slot += 1;
    }
    // Per bucket: `table` holds the first position of each key; `chain[p]` the next position
    // with the key of `p`; `mixed` the first positions of keys whose second hashes differ
    // (`is_mixed` says so of a first position).
    let (mut table, mut chain, mut is_mixed) = (Vec::new(), Vec::new(), Vec::new());
    let (mut mixed, mut run) = (Vec::new(), Vec::new());
    for window in starts.windows(2) {
        let keys = &scattered[window[0]..window[1]];
        let mask = (keys.len() * 2).next_power_of_two().max(8) - 1;
        table.clear();
        table.resize(mask + 1, NONE);
        chain.clear();
        chain.resize(keys.len(), NONE);
        is_mixed.clear();
        is_mixed.resize(keys.len(), false);
        mixed.clear();
        for (p, k) in keys.iter().enumerate() {
            // The key is a hash: its low bits are as good a slot as any.
            let mut slot = k.0 as usize & mask;
            loop {
                let first = table[slot];
                if first == NONE {
                    table[slot] = p as u32;
                    break;
                }
                let head = &keys[first as usize];
                if head.0 == k.0 {
                    if head.1 != k.1 && !is_mixed[first as usize] {
                        is_mixed[first as usize] = true;
                        mixed.push(first);
                    }
                    chain[p] = chain[first as usize];
                    chain[first as usize] = p as u32;
                    break;
                }
                slot = (slot + 1) & mask;
            }
        }
        for first in &mixed {
            run.clear();
            let mut p = *first;
            while p != NONE {
                run.push(keys[p as usize]);
                p = chain[p as usize];
            }
            emit(&run);
        }
    }
}

pub(super) fn distinct<T: Ord>(mut values: Vec<T>) -> usize {
    values.sort_unstable();
    values.dedup();
    values.len()
}

/// What the detector finds in one input. Groups come in no particular order (the same for the
/// same input); their members are ordered by subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groups<'o> {
    /// MAAS004: groups of two or more different BMCs (same power type) whose parameters become
    /// equal once 0290 removes its key.
    pub collisions: Vec<BmcGroup<'o>>,
    /// MAAS005: groups of different BMCs that share a normalized address and user but do not
    /// all collide exactly (at least two distinct post-0290 maps). Records without an address
    /// take no part.
    pub shared_addresses: Vec<BmcGroup<'o>>,
}

/// Finds both checks' groups in one grouping of the records, on two threads (each takes the
/// keys of one half of the key space).
///
/// Records are grouped by their address key, or without an address by the high 64 bits of
/// their post-0290 hash: BMCs that collide have equal maps, so equal addresses and users, so
/// one run of the address key holds every MAAS004 group among records with an address. Only
/// runs with two or more different BMCs are read; each is split on the full 128-bit post-0290
/// hash, so the answer is exact.
pub fn find_groups<'o>(rules: &BmcRules, obs: &'o Observations) -> Groups<'o> {
    let eligible = obs.eligible_types(rules);
    let half = |top: u64| {
        let eligible = &eligible;
        move || {
            obs.records()
                .enumerate()
                .filter(|(_, r)| eligible[r.power_type as usize])
                .map(|(i, r)| {
                    let key = if r.shared != 0 { r.shared } else { (r.post >> 64) as u64 };
                    (key, r.bmc, i as u32)
                })
                .filter(move |(key, ..)| key >> 63 == top)
        }
    };
    std::thread::scope(|scope| {
        let other = scope.spawn(|| groups_in(obs, half(1)));
        let mut groups = groups_in(obs, half(0));
        match other.join() {
            Ok(theirs) => {
                groups.collisions.extend(theirs.collisions);
                groups.shared_addresses.extend(theirs.shared_addresses);
                groups
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// [`find_groups`] over the records `keys` yields.
pub(super) fn groups_in<'o, I: Iterator<Item = Keyed>>(obs: &'o Observations, keys: impl Fn() -> I) -> Groups<'o> {
    let mut groups = Groups {
        collisions: Vec::new(),
        shared_addresses: Vec::new(),
    };
    // Runs whose records all share one BMC (machines of one BMC row) are never emitted.
    member_runs(obs, keys, |mut run| {
        // A run holds one address key, or (rarely: two 64-bit keys equal by chance) that and
        // records without an address: split on the address key first.
        run.sort_unstable_by_key(|m| (m.shared, m.post));
        for same_address in run.chunk_by(|a, b| a.shared == b.shared) {
            for members in same_address.chunk_by(|a, b| a.post == b.post) {
                if members.iter().all(|m| m.bmc == members[0].bmc) {
                    continue;
                }
                let first = members[0];
                groups.collisions.push(group(
                    members.to_vec(),
                    vec![obs.types.name(first.power_type)],
                    first.address.to_string(),
                    first.user,
                ));
            }
            let first = same_address[0];
            // Runs of one post-0290 map (machines of one BMC, or BMCs that collide exactly:
            // MAAS004's) are not MAAS005's.
            if first.shared == 0 || same_address.iter().all(|m| m.post == first.post) {
                continue;
            }
            let mut power_types: Vec<&str> = same_address.iter().map(|m| obs.types.name(m.power_type)).collect();
            power_types.sort();
            power_types.dedup();
            let address = normalize_address(first.address).into_owned();
            groups
                .shared_addresses
                .push(group(same_address.to_vec(), power_types, address, first.user));
        }
    });
    groups
}

//! The duplicate-BMC detector: predicts which BMCs migration 0290 will make collide
//! (MAAS004) and which different BMCs share one address and user (MAAS005).
//!
//! Semantics (FACTS.md §1.2; upstream
//! `3.3:src/maasserver/migrations/maasserver/0290_migrate_node_power_parameters.py`):
//! the unique index `maasserver_bmc_power_type_parameters_idx` is on
//! `(power_type, md5(power_parameters::text)) WHERE power_type <> 'manual'`; 0290 removes one key
//! per power type (`power_pass`; `os_password` for nova; `password` for lxd). Two BMC rows whose
//! parameters become equal after that removal collide. Over the API each machine's parameters are
//! the BMC's merged with node-scoped keys, which are dropped first; machines whose BMC-scoped maps
//! are fully equal share one BMC row and do not collide.
//!
//! Shape, built for fleets of a million machines: every machine (or BMC row) is reduced once to
//! a compact [`Record`] — 128-bit xxh3 hashes of its canonical BMC-scoped map before and after
//! 0290's removal (or, from the database, PostgreSQL's own md5 of the jsonb text), a 64-bit hash
//! of its normalized address and user, and spans into a text arena for the few strings a report
//! shows. Secret values only ever enter a hash. Grouping sorts fixed-size keys: no per-group
//! allocation, no per-machine map kept.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::Value;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

/// The 0290 key tables from checks/maas.toml `[bmc]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BmcRules {
    /// power_type → the one key 0290 removes. Types not listed lose nothing.
    pub removed_by_0290: HashMap<String, String>,
    /// power_type → keys that belong to the machine, not the BMC (`BMC.scope_power_parameters`).
    pub node_scoped: HashMap<String, Vec<String>>,
    /// key → the only power type that uses it (inference for offline input).
    pub infer: HashMap<String, String>,
    /// Power types the unique index ignores (`manual`).
    pub exempt_power_types: Vec<String>,
}

impl BmcRules {
    /// Whether the unique index ignores this power type.
    pub fn is_exempt(&self, power_type: &str) -> bool {
        self.exempt_power_types.iter().any(|t| t == power_type)
    }

    /// Every power type the tables name: MAAS's drivers.
    pub fn known_types(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .removed_by_0290
            .keys()
            .chain(self.node_scoped.keys())
            .chain(self.infer.values())
            .chain(self.exempt_power_types.iter())
            .map(String::as_str)
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// Interned power-type names. Id 0 is "no power type"; ids `1..=known` are MAAS's drivers from
/// the tables; higher ids are names the input used that preflight does not know.
#[derive(Debug, Clone)]
pub struct PowerTypes {
    names: Vec<String>,
    index: HashMap<String, u16>,
    known: u16,
}

impl PowerTypes {
    /// Id of "no power type".
    pub const NONE: u16 = 0;

    /// The drivers of `rules`, interned.
    pub fn new(rules: &BmcRules) -> PowerTypes {
        let mut types = PowerTypes {
            names: vec![String::new()],
            index: HashMap::from([(String::new(), 0)]),
            known: 0,
        };
        for t in rules.known_types() {
            types.intern(t);
        }
        types.known = (types.names.len() - 1) as u16;
        types
    }

    /// The id of `name`, adding it when new.
    pub fn intern(&mut self, name: &str) -> u16 {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let id = self.names.len() as u16;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), id);
        id
    }

    /// The id of `name`, if interned.
    pub fn get(&self, name: &str) -> Option<u16> {
        self.index.get(name).copied()
    }

    /// How many ids there are (none, the drivers, and names the input added).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Always false: "no power type" is always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The name of `id` (empty for [`PowerTypes::NONE`]).
    pub fn name(&self, id: u16) -> &str {
        &self.names[id as usize]
    }

    /// Whether `id` is one of MAAS's drivers (not none, not a name preflight does not know).
    pub fn is_known(&self, id: u16) -> bool {
        id != Self::NONE && id <= self.known
    }
}

/// A value in a power-parameter map: a string (borrowed from the input when it has no escapes)
/// or any other JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param<'a> {
    Str(Cow<'a, str>),
    Other(Value),
}

impl From<Value> for Param<'static> {
    fn from(v: Value) -> Self {
        match v {
            Value::String(s) => Param::Str(Cow::Owned(s)),
            other => Param::Other(other),
        }
    }
}

/// How a record's power type was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeOrigin {
    /// From the machine list (`GET machines/`, `--machines`) or the database.
    Given,
    /// From the keys of the map (offline input without a machine list).
    Inferred,
    /// Neither given nor inferable.
    Missing,
}

/// One BMC as seen through one machine (API, file) or one BMC row (database). Holds no secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Identity of the BMC row: hash of power type and the full BMC-scoped map (API, file), or
    /// the row id (database). Equal means the same BMC.
    pub bmc: u128,
    /// Hash of power type and the map after 0290's removal: equal for two different BMCs means
    /// a unique-index collision.
    pub post: u128,
    /// Hash of the normalized address and the user; 0 when there is no address.
    pub shared: u64,
    pub power_type: u16,
    pub origin: TypeOrigin,
    /// The map is empty: 0290 skips it and it takes no part.
    pub empty: bool,
    /// Which part's text holds the strings below.
    part: u16,
    /// Where subject, address and user start in the part's text (stored back to back).
    text: u32,
    subject_len: u32,
    address_len: u32,
    user_len: u32,
}

/// Records per storage chunk: fixed-capacity chunks grow a part without the copies and the
/// up-to-2× slack of a doubling vector.
const CHUNK: usize = 1 << 16;

/// Records built by one worker, with their text.
#[derive(Debug, Default)]
pub struct Part {
    text: String,
    chunks: Vec<Vec<Record>>,
}

impl Part {
    fn push(&mut self, record: Record) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(record),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(record);
                self.chunks.push(c);
            }
        }
    }
}

/// Appends one key and value in canonical form: `key \0 s value \0` for strings,
/// `key \0 j json \0` for anything else (serde_json's compact, key-sorted text).
fn write_param(buf: &mut Vec<u8>, key: &str, value: &Param) {
    buf.extend_from_slice(key.as_bytes());
    match value {
        Param::Str(s) => {
            buf.extend_from_slice(b"\0s");
            buf.extend_from_slice(s.as_bytes());
        }
        Param::Other(v) => {
            buf.extend_from_slice(b"\0j");
            // Writing into a Vec cannot fail, and a serde_json::Value always serializes.
            let _ = serde_json::to_writer(&mut *buf, v);
        }
    }
    buf.push(0);
}

/// The 64-bit grouping key of MAAS005: normalized address and trimmed user.
pub fn shared_key(address: &str, user: &str) -> u64 {
    shared_key_with(&mut Vec::new(), address, user)
}

/// [`shared_key`] with a reusable buffer.
fn shared_key_with(buf: &mut Vec<u8>, address: &str, user: &str) -> u64 {
    if address.is_empty() {
        return 0;
    }
    buf.clear();
    buf.extend_from_slice(normalize_address(address).as_bytes());
    buf.push(0);
    buf.extend_from_slice(user.as_bytes());
    xxh3_64(buf).max(1)
}

/// One `maasserver_bmc` row reduced by PostgreSQL itself (database mode).
#[derive(Debug, Clone, Copy)]
pub struct HashedBmc<'a> {
    /// The row id, as text.
    pub id: &'a str,
    pub power_type: u16,
    /// The row id as the BMC identity.
    pub bmc: u128,
    /// md5 of the jsonb text after 0290's removal.
    pub post: u128,
    pub address: &'a str,
    pub user: &'a str,
    /// `power_parameters` is `{}`.
    pub empty: bool,
}

/// Builds one [`Part`]: the detector's input, one record at a time.
pub struct PartBuilder<'r> {
    types: &'r PowerTypes,
    /// key → inferred power type id (only keys of `rules.infer`).
    infer: FxHashMap<&'r str, u16>,
    /// Per power type id: (node-scoped keys, key 0290 removes).
    scoping: Vec<(&'r [String], Option<&'r str>)>,
    full: Vec<u8>,
    post: Vec<u8>,
    part: Part,
}

impl<'r> PartBuilder<'r> {
    /// An empty part for `rules` and the interned `types`.
    pub fn new(rules: &'r BmcRules, types: &'r PowerTypes) -> Self {
        let infer = rules
            .infer
            .iter()
            .filter_map(|(k, t)| types.get(t).map(|id| (k.as_str(), id)))
            .collect();
        let scoping = (0..types.names.len())
            .map(|id| {
                let name = types.name(id as u16);
                (
                    rules.node_scoped.get(name).map_or(&[][..], Vec::as_slice),
                    rules.removed_by_0290.get(name).map(String::as_str),
                )
            })
            .collect();
        PartBuilder {
            types,
            infer,
            scoping,
            full: Vec::with_capacity(512),
            post: Vec::with_capacity(512),
            part: Part::default(),
        }
    }

    /// Appends subject, address and user to the text; returns where they start.
    fn push_texts(&mut self, subject: &str, address: &str, user: &str) -> u32 {
        let start = self.part.text.len() as u32;
        for s in [subject, address, user] {
            self.part.text.push_str(s);
        }
        start
    }

    /// The power type the keys point at when exactly one driver fits: a key listed in
    /// `[bmc.infer]` names its driver; keys naming two drivers leave the type unknown.
    fn infer(&self, pairs: &[(Cow<'_, str>, Param<'_>)]) -> Option<u16> {
        let mut found = None;
        for (key, _) in pairs {
            if let Some(&t) = self.infer.get(key.as_ref()) {
                match found {
                    None => found = Some(t),
                    Some(f) if f == t => {}
                    Some(_) => return None,
                }
            }
        }
        found
    }

    /// Adds one machine's merged power parameters. `power_type` is the given type, if any;
    /// otherwise it is inferred from the keys. `pairs` is reordered (sorted by key).
    pub fn add_map(&mut self, subject: &str, power_type: Option<u16>, pairs: &mut [(Cow<'_, str>, Param<'_>)]) {
        let (type_id, origin) = match power_type {
            Some(t) if t != PowerTypes::NONE => (t, TypeOrigin::Given),
            _ => match self.infer(pairs) {
                Some(t) => (t, TypeOrigin::Inferred),
                None => (PowerTypes::NONE, TypeOrigin::Missing),
            },
        };
        let (node_scoped, removed) = self.scoping.get(type_id as usize).copied().unwrap_or((&[], None));
        // Maps usually arrive sorted (MAAS and serde_json write them so): check before sorting.
        if !pairs.is_sorted_by(|a, b| a.0 <= b.0) {
            pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }

        // Canonical text of the BMC-scoped map, whole and without 0290's key; hashed once each.
        let type_name = self.types.name(type_id).as_bytes();
        self.full.clear();
        self.post.clear();
        for buf in [&mut self.full, &mut self.post] {
            buf.extend_from_slice(type_name);
            buf.push(0);
        }
        let mut address = "";
        let mut user = "";
        for (key, value) in pairs.iter() {
            if let Param::Str(s) = value {
                match key.as_ref() {
                    "power_address" => address = s.trim(),
                    "power_user" => user = s.trim(),
                    _ => {}
                }
            }
            if node_scoped.iter().any(|n| n == key) {
                continue;
            }
            let start = self.full.len();
            write_param(&mut self.full, key, value);
            if Some(key.as_ref()) != removed {
                self.post.extend_from_slice(&self.full[start..]);
            }
        }
        let record = Record {
            bmc: xxh3_128(&self.full),
            post: xxh3_128(&self.post),
            shared: shared_key_with(&mut self.full, address, user),
            power_type: type_id,
            origin,
            empty: pairs.is_empty(),
            part: 0,
            text: self.push_texts(subject, address, user),
            subject_len: subject.len() as u32,
            address_len: address.len() as u32,
            user_len: user.len() as u32,
        };
        self.part.push(record);
    }

    /// Adds one BMC row whose hashes PostgreSQL computed (database mode).
    pub fn add_hashed(&mut self, row: &HashedBmc) {
        let (address, user) = (row.address.trim(), row.user.trim());
        let record = Record {
            bmc: row.bmc,
            post: row.post,
            shared: shared_key(address, user),
            power_type: row.power_type,
            origin: TypeOrigin::Given,
            empty: row.empty,
            part: 0,
            text: self.push_texts(row.id, address, user),
            subject_len: row.id.len() as u32,
            address_len: address.len() as u32,
            user_len: user.len() as u32,
        };
        self.part.push(record);
    }

    /// The finished part.
    pub fn finish(self) -> Part {
        self.part
    }
}

/// Every record of one input, with its text and power types. Records stay in the chunks the
/// workers filled (no copy into one vector); index `i` counts across chunks in order.
#[derive(Debug)]
pub struct Observations {
    pub types: PowerTypes,
    texts: Vec<String>,
    chunks: Vec<Vec<Record>>,
    /// Index of each chunk's first record.
    starts: Vec<usize>,
}

impl Observations {
    /// Joins the parts built by several workers.
    pub fn from_parts(types: PowerTypes, parts: Vec<Part>) -> Observations {
        let mut texts = Vec::with_capacity(parts.len());
        let mut chunks = Vec::new();
        let mut starts = Vec::new();
        let mut total = 0;
        for (i, part) in parts.into_iter().enumerate() {
            texts.push(part.text);
            for mut chunk in part.chunks {
                for r in &mut chunk {
                    r.part = i as u16;
                }
                starts.push(total);
                total += chunk.len();
                chunks.push(chunk);
            }
        }
        Observations {
            types,
            texts,
            chunks,
            starts,
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Record `i` (across chunks).
    ///
    /// # Panics
    /// When `i >= self.len()`.
    pub fn record(&self, i: usize) -> &Record {
        let c = self.starts.partition_point(|s| *s <= i) - 1;
        &self.chunks[c][i - self.starts[c]]
    }

    /// Every record, in index order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.chunks.iter().flatten()
    }

    fn text(&self, r: &Record, from: u32, len: u32) -> &str {
        let start = (r.text + from) as usize;
        &self.texts[r.part as usize][start..start + len as usize]
    }

    /// The machine's system_id (or the BMC row's id in database mode).
    pub fn subject(&self, r: &Record) -> &str {
        self.text(r, 0, r.subject_len)
    }

    /// `power_address`, trimmed; empty when absent.
    pub fn address(&self, r: &Record) -> &str {
        self.text(r, r.subject_len, r.address_len)
    }

    /// `power_user`, trimmed; empty when absent.
    pub fn user(&self, r: &Record) -> &str {
        self.text(r, r.subject_len + r.address_len, r.user_len)
    }

    /// Per power-type id: whether records of that type take part in grouping (a known,
    /// non-exempt type). Index with [`Record::power_type`].
    fn eligible_types(&self, rules: &BmcRules) -> Vec<bool> {
        (0..self.types.names.len())
            .map(|id| {
                let id = id as u16;
                self.types.is_known(id) && !rules.is_exempt(self.types.name(id))
            })
            .collect()
    }

    /// Records with parameters whose power type is missing or not one preflight knows.
    pub fn untyped(&self) -> impl Iterator<Item = &Record> {
        self.records()
            .filter(|r| !r.empty && !self.types.is_known(r.power_type))
    }
}

/// A group of records the detector reports together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BmcGroup {
    /// Distinct power-type names in the group, sorted (one for MAAS004).
    pub power_types: Vec<String>,
    /// Address shared by the group (normalized for MAAS005).
    pub power_address: String,
    pub power_user: String,
    /// How many different BMCs the group holds (≥ 2).
    pub bmc_count: usize,
    /// Indices into [`Observations::records`], ordered by subject.
    pub members: Vec<usize>,
}

/// Sorts `(key, index)` pairs and calls `emit` with every run of two or more equal keys.
/// Keys are fixed-size; singletons (almost every record) cost nothing more.
fn runs<K: Ord + Copy>(mut keys: Vec<(K, u32)>, mut emit: impl FnMut(&[(K, u32)])) {
    keys.sort_unstable();
    let mut start = 0;
    while start < keys.len() {
        let mut end = start + 1;
        while end < keys.len() && keys[end].0 == keys[start].0 {
            end += 1;
        }
        if end - start > 1 {
            emit(&keys[start..end]);
        }
        start = end;
    }
}

fn distinct<T: Ord>(mut values: Vec<T>) -> usize {
    values.sort_unstable();
    values.dedup();
    values.len()
}

fn finish_groups(obs: &Observations, mut groups: Vec<BmcGroup>) -> Vec<BmcGroup> {
    for g in &mut groups {
        g.members
            .sort_by(|a, b| obs.subject(obs.record(*a)).cmp(obs.subject(obs.record(*b))));
    }
    groups.sort_by(|a, b| {
        obs.subject(obs.record(a.members[0]))
            .cmp(obs.subject(obs.record(b.members[0])))
    });
    groups
}

/// MAAS004: groups of two or more different BMCs (same power type) whose parameters become
/// equal once 0290 removes its key. Groups are ordered by their first subject.
pub fn find_collisions(rules: &BmcRules, obs: &Observations) -> Vec<BmcGroup> {
    // Sort on the high 64 bits of the post-0290 hash (half the bytes to move), then split each
    // run on the full 128 bits, so the answer is exact.
    let eligible = obs.eligible_types(rules);
    let keys: Vec<(u64, u32)> = obs
        .records()
        .enumerate()
        .filter(|(_, r)| !r.empty && eligible[r.power_type as usize])
        .map(|(i, r)| ((r.post >> 64) as u64, i as u32))
        .collect();
    let mut groups = Vec::new();
    runs(keys, |run| {
        // Most runs are machines sharing one BMC row (same full map): nothing to report.
        let first = obs.record(run[0].1 as usize);
        if run.iter().all(|(_, i)| {
            let r = obs.record(*i as usize);
            r.bmc == first.bmc && r.post == first.post
        }) {
            return;
        }
        let mut run: Vec<usize> = run.iter().map(|(_, i)| *i as usize).collect();
        run.sort_by_key(|i| obs.record(*i).post);
        for members in run.chunk_by(|a, b| obs.record(*a).post == obs.record(*b).post) {
            let bmc_count = distinct(members.iter().map(|i| obs.record(*i).bmc).collect());
            if bmc_count < 2 {
                continue;
            }
            let first = obs.record(members[0]);
            groups.push(BmcGroup {
                power_types: vec![obs.types.name(first.power_type).to_string()],
                power_address: obs.address(first).to_string(),
                power_user: obs.user(first).to_string(),
                bmc_count,
                members: members.to_vec(),
            });
        }
    });
    finish_groups(obs, groups)
}

/// MAAS005: groups of different BMCs that share a normalized address and user but do not all
/// collide exactly (at least two distinct post-0290 maps). Records without an address take no
/// part.
pub fn find_shared_addresses(rules: &BmcRules, obs: &Observations) -> Vec<BmcGroup> {
    let eligible = obs.eligible_types(rules);
    let keys: Vec<(u64, u32)> = obs
        .records()
        .enumerate()
        .filter(|(_, r)| r.shared != 0 && !r.empty && eligible[r.power_type as usize])
        .map(|(i, r)| (r.shared, i as u32))
        .collect();
    let mut groups = Vec::new();
    runs(keys, |run| {
        // Most runs are machines of one BMC, or BMCs that collide exactly (MAAS004's).
        let first = obs.record(run[0].1 as usize).post;
        if run.iter().all(|(_, i)| obs.record(*i as usize).post == first) {
            return;
        }
        let members: Vec<usize> = run.iter().map(|(_, i)| *i as usize).collect();
        let mut power_types: Vec<String> = members
            .iter()
            .map(|i| obs.types.name(obs.record(*i).power_type).to_string())
            .collect();
        power_types.sort();
        power_types.dedup();
        let first = obs.record(members[0]);
        groups.push(BmcGroup {
            power_types,
            power_address: normalize_address(obs.address(first)).into_owned(),
            power_user: obs.user(first).to_string(),
            bmc_count: distinct(members.iter().map(|i| obs.record(*i).bmc).collect()),
            members,
        });
    });
    finish_groups(obs, groups)
}

/// `a.b.c.d` with four decimal octets ≤ 255 and no leading zeros: already canonical.
fn is_canonical_ipv4(s: &str) -> bool {
    let mut octets = 0;
    for part in s.split('.') {
        octets += 1;
        let ok = !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && !(part.len() > 1 && part.starts_with('0'))
            && part.parse::<u16>().is_ok_and(|n| n <= 255);
        if !ok || octets > 4 {
            return false;
        }
    }
    octets == 4
}

/// Canonical form of a BMC address for MAAS005: trimmed, lower-cased; IP literals in canonical
/// form (IPv4-mapped IPv6 → IPv4, IPv6 compressed, brackets dropped); a trailing dot of a host
/// name dropped; URLs (`qemu+ssh://…`, `https://…`) normalized by the URL parser. A port is kept:
/// two BMCs on one host with different ports are different BMCs. Borrows when already canonical.
pub fn normalize_address(address: &str) -> Cow<'_, str> {
    let trimmed = address.trim();
    // Fast path: a plain dotted-quad IPv4 address is already canonical.
    if is_canonical_ipv4(trimmed) {
        return Cow::Borrowed(trimmed);
    }
    let lower = trimmed.to_lowercase();
    if lower.contains("://") {
        if let Ok(url) = reqwest::Url::parse(&lower) {
            return Cow::Owned(url.to_string().trim_end_matches('/').to_string());
        }
        return Cow::Owned(lower);
    }
    let canonical_host = |host: &str| -> String {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => v6.to_string(),
            },
            Ok(ip) => ip.to_string(),
            Err(_) => bare.trim_end_matches('.').to_string(),
        }
    };
    // "[v6]:port", "v4:port" or "name:port"; a bare IPv6 has several colons and no port.
    if let Some((host, port)) = lower.rsplit_once(':') {
        let bracketed = host.starts_with('[') && host.ends_with(']');
        if (bracketed || !host.contains(':')) && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            let host = canonical_host(host);
            return Cow::Owned(if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            });
        }
    }
    Cow::Owned(canonical_host(&lower))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::maas_pack;
    use rstest::rstest;
    use serde_json::json;

    fn machine<'a>(id: &'a str, power_type: &'a str, params: Value) -> (&'a str, &'a str, Value) {
        (id, power_type, params)
    }

    /// Observations of machines given as (system_id, power type or "" to infer, params).
    fn observe(machines: &[(&str, &str, Value)]) -> Observations {
        let rules = &maas_pack().bmc;
        let mut types = PowerTypes::new(rules);
        let ids: Vec<Option<u16>> = machines
            .iter()
            .map(|(_, t, _)| (!t.is_empty()).then(|| types.intern(t)))
            .collect();
        let mut b = PartBuilder::new(rules, &types);
        for ((id, _, params), t) in machines.iter().zip(ids) {
            let mut pairs: Vec<(Cow<str>, Param)> = params
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (Cow::Owned(k.clone()), Param::from(v.clone())))
                .collect();
            b.add_map(id, t, &mut pairs);
        }
        let part = b.finish();
        Observations::from_parts(types, vec![part])
    }

    /// Two machines → does 0290 make their BMCs collide? (FACTS.md §1.2, row by row.)
    #[rstest]
    #[case::ipmi_password_differs("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a","power_driver":"LAN_2_0"}),
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"b","power_driver":"LAN_2_0"}), true)]
    #[case::ipmi_k_g_differs("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a","k_g":"x"}),
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"b","k_g":"y"}), false)]
    #[case::ipmi_only_node_scoped_differs("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a","mac_address":"00:01"}),
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a","mac_address":"00:02"}), false)]
    #[case::equal_full_maps_share_one_bmc("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a"}),
        json!({"power_user":"admin","power_pass":"a","power_address":"10.0.0.1"}), false)]
    #[case::different_users("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a"}),
        json!({"power_address":"10.0.0.1","power_user":"root","power_pass":"b"}), false)]
    #[case::redfish_password_differs("redfish",
        json!({"power_address":"10.0.0.2","power_user":"u","power_pass":"a","node_id":"1"}),
        json!({"power_address":"10.0.0.2","power_user":"u","power_pass":"b","node_id":"2"}), true)]
    #[case::virsh_password_differs("virsh",
        json!({"power_address":"qemu+ssh://h/system","power_pass":"a","power_id":"vm1"}),
        json!({"power_address":"qemu+ssh://h/system","power_pass":"b","power_id":"vm2"}), true)]
    #[case::lxd_password_differs("lxd",
        json!({"power_address":"https://10.0.0.3:8443","password":"a","instance_name":"i1","project":"default"}),
        json!({"power_address":"https://10.0.0.3:8443","password":"b","instance_name":"i2","project":"default"}), true)]
    #[case::lxd_power_pass_is_not_removed("lxd",
        json!({"power_address":"https://10.0.0.3:8443","power_pass":"a"}),
        json!({"power_address":"https://10.0.0.3:8443","power_pass":"b"}), false)]
    #[case::nova_os_password_differs("nova",
        json!({"os_authurl":"http://k","os_username":"u","os_password":"a","nova_id":"1"}),
        json!({"os_authurl":"http://k","os_username":"u","os_password":"b","nova_id":"2"}), true)]
    #[case::nova_power_pass_is_not_removed("nova",
        json!({"os_authurl":"http://k","os_username":"u","power_pass":"a"}),
        json!({"os_authurl":"http://k","os_username":"u","power_pass":"b"}), false)]
    #[case::apc_removes_nothing("apc",
        json!({"power_address":"10.0.0.4","node_outlet":"1","power_pass":"a"}),
        json!({"power_address":"10.0.0.4","node_outlet":"2","power_pass":"b"}), false)]
    #[case::manual_ignored("manual",
        json!({"power_address":"10.0.0.5","power_pass":"a"}),
        json!({"power_address":"10.0.0.5","power_pass":"b"}), false)]
    #[case::empty_params_skipped("ipmi", json!({}), json!({}), false)]
    #[case::webhook_password_differs("webhook",
        json!({"power_on_uri":"http://w/on","power_user":"u","power_pass":"a","power_token":"t"}),
        json!({"power_on_uri":"http://w/on","power_user":"u","power_pass":"b","power_token":"t"}), true)]
    fn zero_two_ninety_collisions(
        #[case] power_type: &str,
        #[case] a: Value,
        #[case] b: Value,
        #[case] collides: bool,
    ) {
        let rules = &maas_pack().bmc;
        let fleet = observe(&[machine("aaaaaa", power_type, a), machine("bbbbbb", power_type, b)]);
        let groups = find_collisions(rules, &fleet);
        assert_eq!(!groups.is_empty(), collides, "{groups:?}");
        if collides {
            assert_eq!(groups[0].members, vec![0, 1]);
            assert_eq!(groups[0].bmc_count, 2);
        }
    }

    #[test]
    fn different_power_types_never_collide() {
        let rules = &maas_pack().bmc;
        let p = |pass: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass});
        let fleet = observe(&[machine("a", "ipmi", p("x")), machine("b", "redfish", p("y"))]);
        assert!(find_collisions(rules, &fleet).is_empty());
    }

    #[test]
    fn unknown_power_type_takes_no_part() {
        let rules = &maas_pack().bmc;
        let p = |pass: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass});
        let fleet = observe(&[machine("a", "", p("x")), machine("b", "", p("y"))]);
        assert!(find_collisions(rules, &fleet).is_empty());
    }

    #[test]
    fn group_of_three_with_two_sharing_a_bmc() {
        let rules = &maas_pack().bmc;
        let p = |pass: &str, mac: &str| json!({"power_address":"10.0.0.9","power_user":"admin","power_pass":pass,"mac_address":mac});
        let fleet = observe(&[
            machine("c", "ipmi", p("one", "1")),
            machine("a", "ipmi", p("one", "2")),
            machine("b", "ipmi", p("two", "3")),
        ]);
        let groups = find_collisions(rules, &fleet);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].bmc_count, 2);
        assert_eq!(groups[0].members, vec![1, 2, 0]);
        assert_eq!(groups[0].power_address, "10.0.0.9");
        assert_eq!(groups[0].power_user, "admin");
    }

    #[rstest]
    #[case(" 10.0.0.1 ", "10.0.0.1")]
    #[case("::ffff:10.0.0.1", "10.0.0.1")]
    #[case("[FE80:0:0:0:0:0:0:1]", "fe80::1")]
    #[case("[fe80::1]:623", "[fe80::1]:623")]
    #[case("BMC-01.Example.COM.", "bmc-01.example.com")]
    #[case("10.0.0.1:8000", "10.0.0.1:8000")]
    #[case("qemu+ssh://Root@KVM-Host/system", "qemu+ssh://root@kvm-host/system")]
    fn normalizes_addresses(#[case] raw: &str, #[case] want: &str) {
        assert_eq!(normalize_address(raw), want);
    }

    #[test]
    fn shared_address_without_exact_collision_warns() {
        let rules = &maas_pack().bmc;
        let fleet = observe(&[
            machine(
                "a",
                "ipmi",
                json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"x","k_g":"1"}),
            ),
            machine(
                "b",
                "ipmi",
                json!({"power_address":" 10.0.0.1","power_user":"admin","power_pass":"x","k_g":"2"}),
            ),
            machine(
                "c",
                "ipmi",
                json!({"power_address":"10.0.0.2","power_user":"admin","power_pass":"x"}),
            ),
        ]);
        assert!(find_collisions(rules, &fleet).is_empty());
        let shared = find_shared_addresses(rules, &fleet);
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].members, vec![0, 1]);
        assert_eq!(shared[0].power_address, "10.0.0.1");
    }

    #[test]
    fn exact_collision_alone_is_not_a_shared_address() {
        let rules = &maas_pack().bmc;
        let fleet = observe(&[
            machine(
                "a",
                "ipmi",
                json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"x"}),
            ),
            machine(
                "b",
                "ipmi",
                json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"y"}),
            ),
        ]);
        assert_eq!(find_collisions(rules, &fleet).len(), 1);
        assert!(find_shared_addresses(rules, &fleet).is_empty());
    }

    #[test]
    fn records_hold_no_secret() {
        let obs = observe(&[machine(
            "a",
            "ipmi",
            json!({"power_address":"h","power_user":"u","power_pass":"s3cr3t"}),
        )]);
        assert!(!format!("{obs:?}").contains("s3cr3t"));
        assert_eq!((obs.address(obs.record(0)), obs.user(obs.record(0))), ("h", "u"));
    }

    #[rstest]
    #[case(json!({"power_address":"h","power_pass":"p","power_driver":"LAN_2_0","mac_address":"m"}), Some("ipmi"))]
    #[case(json!({"power_address":"h","power_pass":"p","node_id":"1"}), Some("redfish"))]
    #[case(json!({"power_address":"qemu+ssh://h/system","power_id":"vm1"}), Some("virsh"))]
    #[case(json!({"power_address":"https://h:8443","password":"p","instance_name":"i"}), Some("lxd"))]
    #[case(json!({"os_authurl":"http://k","nova_id":"n"}), Some("nova"))]
    #[case(json!({"power_address":"h","power_pass":"p"}), None)]
    #[case(json!({"power_address":"h","node_outlet":"1"}), None)]
    #[case(json!({"mac_address":"m","power_id":"vm1"}), None)]
    fn infers_power_types(#[case] params: Value, #[case] want: Option<&str>) {
        let obs = observe(&[machine("a", "", params)]);
        let r = obs.record(0);
        assert_eq!(r.origin == TypeOrigin::Inferred, want.is_some());
        assert_eq!(obs.types.name(r.power_type), want.unwrap_or(""));
    }

    #[test]
    fn inferred_types_collide_like_given_ones() {
        let p = |pass: &str, mac: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass,"mac_address":mac});
        let obs = observe(&[machine("a", "", p("x", "1")), machine("b", "", p("y", "2"))]);
        assert!(obs.records().all(|r| r.origin == TypeOrigin::Inferred));
        assert_eq!(find_collisions(&maas_pack().bmc, &obs).len(), 1);
    }

    #[test]
    fn unknown_types_are_untyped_and_take_no_part() {
        let p = |pass: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass});
        let obs = observe(&[
            machine("a", "foo", p("x")),
            machine("b", "foo", p("y")),
            machine("c", "", p("z")),
        ]);
        assert_eq!(obs.untyped().count(), 3);
        assert!(find_collisions(&maas_pack().bmc, &obs).is_empty());
    }
}

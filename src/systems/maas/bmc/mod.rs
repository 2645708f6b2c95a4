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
//! a compact [`Record`] — a 64-bit identity of its canonical BMC-scoped map (folded from its
//! 128-bit xxh3 hash; from the database, the row id), the 128-bit xxh3 hash of the map after
//! 0290's removal (from the database, PostgreSQL's own md5 of the jsonb text, hashed with the
//! power type, since the unique index is on both), a 64-bit hash of its normalized address and
//! user, and spans into a text arena for the few strings a report shows. Secret values only ever enter a hash. Grouping buckets fixed-size keys and chains
//! equal ones in a per-bucket table: no per-group allocation, no per-machine map kept.

pub mod jsonb;
pub mod machine_list;
pub mod pieces;
pub mod power_parameters;

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
    /// power_type → the driver's BMC-scoped settings: the keys a BMC row holds
    /// (`BMC.scope_power_parameters`); every other key of a machine's merged parameters is the
    /// node's. A type without an entry has no such settings.
    pub bmc_scoped: HashMap<String, Vec<String>>,
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
            .chain(self.bmc_scoped.keys())
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

/// A value in a power-parameter map: a string (unescaped; borrowed from the input when it has
/// no escapes), or the JSON text of any other value (a number, literal, array or object, as
/// written), which compares by jsonb equality ([`jsonb`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Param<'a> {
    Str(Cow<'a, str>),
    Json(Cow<'a, str>),
}

impl From<Value> for Param<'static> {
    fn from(v: Value) -> Self {
        match v {
            Value::String(s) => Param::Str(Cow::Owned(s)),
            other => Param::Json(Cow::Owned(other.to_string())),
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
/// 48 bytes: a million records are walked several times and their pages are the detector's
/// largest memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Identity of the BMC row: 64 bits of the hash of power type and the full BMC-scoped map
    /// (API, file; see [`fold`]), or the row id (database). Equal means the same BMC; two
    /// different maps get one identity with probability 2⁻⁶⁴ per pair.
    pub bmc: u64,
    /// Hash of power type and the map after 0290's removal: equal for two different BMCs means
    /// a unique-index collision.
    pub post: u128,
    /// Hash of the normalized address and the user; 0 when there is no address.
    pub shared: u64,
    pub power_type: u16,
    pub origin: TypeOrigin,
    /// The BMC-scoped map is empty after 0290's removal (`{}`): such a row stays in the unique
    /// index and collides with any other `{}` row of its type (0290 only skips *updating* it).
    pub empty: bool,
    /// Which part's text holds the strings below.
    part: u16,
    /// Where subject, address and user start in the part's text (stored back to back).
    text: u32,
    /// Lengths of subject, address and user in bytes; [`LONG`] first when one of them does not
    /// fit: then all three are in the part's `long` table.
    lens: [u16; 3],
}

const _: () = assert!(std::mem::size_of::<Record>() == 48);

/// [`Record::lens`]`[0]` of a record whose text lengths are in its part's `long` table.
const LONG: u16 = u16::MAX;

/// A part's table of the text lengths [`Record::lens`] cannot hold: (text start, lengths of
/// subject, address and user) of each such record, by text start.
type LongLens = Vec<(u32, [u32; 3])>;

/// The lengths of `r`'s subject, address and user; `long` is its part's [`LongLens`].
fn text_lens(r: &Record, long: &LongLens) -> [u32; 3] {
    if r.lens[0] != LONG {
        return r.lens.map(u32::from);
    }
    // Every record marked LONG has its entry (Part::push).
    long[long.partition_point(|(start, _)| *start < r.text)].1
}

/// Records per storage chunk: fixed-capacity chunks grow a part without the copies and the
/// up-to-2× slack of a doubling vector.
const CHUNK: usize = 1 << 16;

/// Records built by one worker, with their text.
#[derive(Debug, Default)]
pub struct Part {
    text: String,
    chunks: Vec<Vec<Record>>,
    /// Capacity of the first chunk (records expected); later chunks hold [`CHUNK`].
    expected: usize,
    /// The part's number in [`Observations::from_parts`], stamped on its records.
    index: u16,
    /// The lengths its records' [`Record::lens`] cannot hold.
    long: LongLens,
    /// Power types of the part's records; `untyped` holds indices within the part.
    census: TypeCensus,
    /// Records pushed.
    len: usize,
}

/// What the records say of their power types, counted as records are added (MAAS004 reports
/// it).
#[derive(Debug, Clone, Default)]
pub struct TypeCensus {
    /// How many records' types were inferred from their keys, by power type id.
    pub inferred: Vec<usize>,
    /// Whether any record's type was given (a machine list, the database).
    pub any_given: bool,
    /// Records with no power type at all (neither given nor inferable) and no parameters:
    /// they can only collide with a `{}` row of a type 0290 removes a key from.
    pub missing_empty: usize,
    /// Whether some record of a type 0290 removes a key from is `{}` after the removal (the
    /// only kind of row a record of `missing_empty` could collide with).
    pub removing_empty: bool,
    /// The records with parameters whose power type is missing (neither given nor inferable)
    /// or given but not one preflight knows, in record order: their type id and where their
    /// subject ends in `untyped_text`. Copied as the records are added, so the report's list of
    /// them reads a few hundred kilobytes in order instead of visiting records all over the
    /// input.
    untyped: Vec<(u16, usize)>,
    /// The subjects of `untyped`, back to back.
    untyped_text: String,
}

impl TypeCensus {
    /// The records whose power type is missing or not one preflight knows, in record order:
    /// (power type id, subject).
    pub fn untyped(&self) -> impl Iterator<Item = (u16, &str)> {
        let mut start = 0;
        self.untyped.iter().map(move |(id, end)| {
            let subject = &self.untyped_text[start..*end];
            start = *end;
            (*id, subject)
        })
    }

    /// Adds `other`'s counts and untyped records (which come after this census's ones).
    fn absorb(&mut self, other: &TypeCensus) {
        if self.inferred.len() < other.inferred.len() {
            self.inferred.resize(other.inferred.len(), 0);
        }
        for (all, n) in self.inferred.iter_mut().zip(&other.inferred) {
            *all += n;
        }
        self.any_given |= other.any_given;
        self.missing_empty += other.missing_empty;
        self.removing_empty |= other.removing_empty;
        for (id, subject) in other.untyped() {
            self.add_untyped(id, subject);
        }
    }

    fn add_untyped(&mut self, power_type: u16, subject: &str) {
        self.untyped_text.push_str(subject);
        self.untyped.push((power_type, self.untyped_text.len()));
    }
}

impl Part {
    /// Stores `record` with its `subject`, `address` and `user` (`record.part`, `text` and
    /// `lens` are set here); `removes`: 0290 removes a key from the record's power type.
    fn push(&mut self, mut record: Record, [subject, address, user]: [&str; 3], types: &PowerTypes, removes: bool) {
        record.part = self.index;
        record.text = self.text.len() as u32;
        for s in [subject, address, user] {
            self.text.push_str(s);
        }
        let lens = [subject.len(), address.len(), user.len()];
        record.lens = match lens.map(u16::try_from) {
            [Ok(a), Ok(b), Ok(c)] if a != LONG => [a, b, c],
            _ => {
                self.long.push((record.text, lens.map(|n| n as u32)));
                [LONG; 3]
            }
        };
        match record.origin {
            TypeOrigin::Inferred => {
                let by_type = &mut self.census.inferred;
                if by_type.len() < types.len() {
                    by_type.resize(types.len(), 0);
                }
                by_type[usize::from(record.power_type)] += 1;
            }
            TypeOrigin::Given => self.census.any_given = true,
            TypeOrigin::Missing => {}
        }
        if record.empty && removes {
            self.census.removing_empty = true;
        }
        // A given "" is no BMC type: nothing for 0290 to remove, nothing to report.
        let given_none = record.power_type == PowerTypes::NONE && record.origin == TypeOrigin::Given;
        if record.origin == TypeOrigin::Missing && record.empty {
            self.census.missing_empty += 1;
        } else if !(types.is_known(record.power_type) || given_none) {
            self.census.add_untyped(record.power_type, subject);
        }
        self.len += 1;
        match self.chunks.last_mut() {
            Some(c) if c.len() < c.capacity() => c.push(record),
            _ => {
                let capacity = if self.chunks.is_empty() && self.expected > 0 {
                    self.expected.min(CHUNK)
                } else {
                    CHUNK
                };
                let mut c = Vec::with_capacity(capacity);
                c.push(record);
                self.chunks.push(c);
            }
        }
    }
}

/// `s.trim()`, without decoding characters at its ends when they are plainly not whitespace
/// (ASCII, not a space or control character): almost every address and user.
fn trim(s: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|b| (0x21..0x7f).contains(b));
    if plain(s.as_bytes().first()) && plain(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// `a <= b`, byte-wise, without a call into memcmp (keys are short and differ early).
fn bytes_le(a: &[u8], b: &[u8]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x < y;
        }
    }
    a.len() <= b.len()
}

/// Appends one key and value in canonical form: `key \0 s value \0` for strings,
/// `key \0 j hash \0` for anything else (the 16-byte canonical jsonb hash of its text).
fn write_param(buf: &mut Vec<u8>, key: &str, value: &Param) {
    buf.extend_from_slice(key.as_bytes());
    match value {
        Param::Str(s) => {
            buf.extend_from_slice(b"\0s");
            buf.extend_from_slice(s.as_bytes());
        }
        Param::Json(text) => {
            buf.extend_from_slice(b"\0j");
            match jsonb::canonical_hash(text) {
                Ok(hash) => buf.extend_from_slice(&hash.to_le_bytes()),
                // The readers validate every value first; text that is not JSON (only from
                // code that builds maps by hand) compares as written.
                Err(_) => buf.extend_from_slice(text.as_bytes()),
            }
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
    pub bmc: u64,
    /// md5 of the jsonb text after 0290's removal.
    pub post: u128,
    pub address: &'a str,
    pub user: &'a str,
    /// `power_parameters` is `{}`.
    pub empty: bool,
}

/// What the detector knows of one key name, found with a single lookup per key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct KeyFacts {
    /// The power type this key names (`[bmc.infer]`), or [`PowerTypes::NONE`].
    infers: u16,
    /// The key's bit in [`TypeKeys`] masks (0: a key no table names).
    bit: u64,
}

/// Bits of `power_address` and `power_user` in [`KeyFacts::bit`].
const ADDRESS_BIT: u64 = 1;
const USER_BIT: u64 = 2;

/// One power type's special keys, as [`KeyFacts::bit`] masks.
#[derive(Debug, Clone, Copy, Default)]
struct TypeKeys {
    /// The driver's BMC-scoped settings: the only keys of a machine's merged parameters that
    /// are the BMC row's (both hashes read only these).
    bmc_scoped: u64,
    /// Whether the type has an allow-list at all; without one (no power type, or one no table
    /// names) every key is hashed: such records take no part in grouping.
    scoped: bool,
    /// The key 0290 removes.
    removed: u64,
}

/// [`KeyFacts`] by key name, for the few dozen names the rules know. Every key of every map is
/// looked up, and most are such names: a slot comes from the name's length and its first and
/// last bytes (no hash of every byte), then linear probing compares lengths before bytes.
struct KeyTable<'r> {
    /// Twice as many slots as names, a power of two.
    slots: Vec<Option<(&'r str, KeyFacts)>>,
}

impl<'r> KeyTable<'r> {
    fn new(names: &FxHashMap<&'r str, KeyFacts>) -> Self {
        let mut table = KeyTable {
            slots: vec![None; (names.len() * 2).next_power_of_two().max(64)],
        };
        for (name, facts) in names {
            let mut i = table.slot(name.as_bytes());
            while table.slots[i].is_some() {
                i = (i + 1) & (table.slots.len() - 1);
            }
            table.slots[i] = Some((name, *facts));
        }
        table
    }

    fn slot(&self, name: &[u8]) -> usize {
        let (first, last) = (name.first().copied().unwrap_or(0), name.last().copied().unwrap_or(0));
        (name.len().wrapping_mul(0x9e37) ^ usize::from(first).wrapping_mul(0x1f) ^ (usize::from(last) << 3))
            & (self.slots.len() - 1)
    }

    /// The facts of key `name`; the default for a name no rule knows.
    fn get(&self, name: &str) -> KeyFacts {
        let name = name.as_bytes();
        let mut i = self.slot(name);
        // At most half the slots are taken: an empty one ends every probe.
        while let Some((known, facts)) = &self.slots[i] {
            if known.len() == name.len() && known.as_bytes() == name {
                return *facts;
            }
            i = (i + 1) & (self.slots.len() - 1);
        }
        KeyFacts::default()
    }
}

/// Builds one [`Part`]: the detector's input, one record at a time.
pub struct PartBuilder<'r> {
    types: &'r PowerTypes,
    /// The facts of every key name a rules table names.
    keys: KeyTable<'r>,
    /// Per power type id (ids past the end: none of them).
    type_keys: Vec<TypeKeys>,
    /// The facts of the current map's keys, in order.
    facts: Vec<KeyFacts>,
    /// The current map's canonical text (see [`PartBuilder::add_map`]); reused for every map.
    full: Vec<u8>,
    part: Part,
}

impl<'r> PartBuilder<'r> {
    /// An empty part for `rules` and the interned `types`.
    pub fn new(rules: &'r BmcRules, types: &'r PowerTypes) -> Self {
        Self::numbered(rules, types, 0, 0)
    }

    /// [`PartBuilder::new`] for part number `index` (unique among the parts joined by
    /// [`Observations::from_parts`]) of about `records` records (0: unknown).
    pub fn numbered(rules: &'r BmcRules, types: &'r PowerTypes, index: u16, records: usize) -> Self {
        let mut keys: FxHashMap<&str, KeyFacts> = FxHashMap::default();
        keys.insert(
            "power_address",
            KeyFacts {
                infers: 0,
                bit: ADDRESS_BIT,
            },
        );
        keys.insert(
            "power_user",
            KeyFacts {
                infers: 0,
                bit: USER_BIT,
            },
        );
        let special = rules
            .removed_by_0290
            .values()
            .chain(rules.bmc_scoped.values().flatten());
        for key in special {
            let next = 1u64 << keys.values().filter(|f| f.bit != 0).count().min(63);
            let facts = keys.entry(key).or_default();
            if facts.bit == 0 {
                facts.bit = next;
            }
        }
        for (key, t) in &rules.infer {
            if let Some(id) = types.get(t) {
                keys.entry(key).or_default().infers = id;
            }
        }
        let bit = |key: &str| keys.get(key).map_or(0, |f| f.bit);
        let type_keys = (0..types.names.len())
            .map(|id| {
                let name = types.name(id as u16);
                let scoped = rules.bmc_scoped.get(name);
                TypeKeys {
                    bmc_scoped: scoped.into_iter().flatten().map(|k| bit(k)).fold(0, |a, b| a | b),
                    scoped: scoped.is_some(),
                    removed: rules.removed_by_0290.get(name).map_or(0, |k| bit(k)),
                }
            })
            .collect();
        PartBuilder {
            types,
            keys: KeyTable::new(&keys),
            type_keys,
            facts: Vec::with_capacity(32),
            full: Vec::with_capacity(512),
            part: Part {
                expected: records,
                index,
                ..Part::default()
            },
        }
    }

    /// The power type the keys point at when exactly one driver fits: a key listed in
    /// `[bmc.infer]` names its driver; keys naming two drivers leave the type unknown.
    fn infer(facts: &[KeyFacts]) -> Option<u16> {
        let mut found = None;
        for f in facts.iter().filter(|f| f.infers != PowerTypes::NONE) {
            match found {
                None => found = Some(f.infers),
                Some(t) if t == f.infers => {}
                Some(_) => return None,
            }
        }
        found
    }

    /// Adds one machine's merged power parameters. `power_type` is the type a machine list
    /// gives (`Some(PowerTypes::NONE)` for `""`: no BMC type, never inferred); `None` (the
    /// machine is in no list) infers it from the keys. The BMC row is rebuilt from the
    /// driver's BMC-scoped settings alone ([`BmcRules::bmc_scoped`]). Of equal keys the last one
    /// counts, as jsonb keeps it. `pairs` is reordered (sorted by key).
    pub fn add_map(&mut self, subject: &str, power_type: Option<u16>, pairs: &mut [(Cow<'_, str>, Param<'_>)]) {
        // Maps usually arrive sorted (MAAS and serde_json write them so): check before sorting.
        // The sort is stable, so the last of equal keys stays last.
        if !pairs.is_sorted_by(|a, b| bytes_le(a.0.as_bytes(), b.0.as_bytes())) {
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
        }
        self.facts.clear();
        self.facts.extend(pairs.iter().map(|(key, _)| self.keys.get(key)));
        let (type_id, origin) = match power_type {
            Some(t) => (t, TypeOrigin::Given),
            None => match Self::infer(&self.facts) {
                Some(t) => (t, TypeOrigin::Inferred),
                None => (PowerTypes::NONE, TypeOrigin::Missing),
            },
        };
        let type_keys = self.type_keys.get(usize::from(type_id)).copied().unwrap_or_default();

        // Canonical text of the BMC-scoped map: the type, the parameters in key order except
        // 0290's key, then 0290's key. The text without its tail is the map after 0290, so both
        // hashes read one buffer.
        self.full.clear();
        self.full.extend_from_slice(self.types.name(type_id).as_bytes());
        self.full.push(0);
        let mut removed = None;
        let mut address = "";
        let mut user = "";
        let mut kept = 0;
        for (n, ((key, value), facts)) in pairs.iter().zip(&self.facts).enumerate() {
            if type_keys.scoped && facts.bit & type_keys.bmc_scoped == 0 {
                continue;
            }
            if pairs.get(n + 1).is_some_and(|next| next.0 == *key) {
                continue;
            }
            if let Param::Str(s) = value {
                match facts.bit {
                    ADDRESS_BIT => address = trim(s),
                    USER_BIT => user = trim(s),
                    _ => {}
                }
            }
            if facts.bit & type_keys.removed != 0 {
                removed = Some((key, value));
            } else {
                kept += 1;
                write_param(&mut self.full, key, value);
            }
        }
        let post_len = self.full.len();
        if let Some((key, value)) = removed {
            write_param(&mut self.full, key, value);
        }
        let bmc = xxh3_128(&self.full);
        let record = Record {
            bmc: fold(bmc),
            // Without 0290's key the map is what 0290 leaves: one hash.
            post: if post_len == self.full.len() {
                bmc
            } else {
                xxh3_128(&self.full[..post_len])
            },
            shared: shared_key_with(&mut self.full, address, user),
            power_type: type_id,
            origin,
            empty: kept == 0,
            // Set by Part::push.
            part: 0,
            text: 0,
            lens: [0; 3],
        };
        self.part
            .push(record, [subject, address, user], self.types, type_keys.removed != 0);
    }

    /// Adds one BMC row whose hashes PostgreSQL computed (database mode). Its md5 is of the map
    /// alone, while the unique index is on (power_type, md5): the record's post-0290 hash is of
    /// both, as for a map read from a file.
    pub fn add_hashed(&mut self, row: &HashedBmc) {
        let (address, user) = (trim(row.address), trim(row.user));
        let mut typed = [0u8; 18];
        typed[..2].copy_from_slice(&row.power_type.to_le_bytes());
        typed[2..].copy_from_slice(&row.post.to_le_bytes());
        let record = Record {
            bmc: row.bmc,
            post: xxh3_128(&typed),
            shared: shared_key(address, user),
            power_type: row.power_type,
            origin: TypeOrigin::Given,
            empty: row.empty,
            // Set by Part::push.
            part: 0,
            text: 0,
            lens: [0; 3],
        };
        let removes = self
            .type_keys
            .get(usize::from(row.power_type))
            .is_some_and(|k| k.removed != 0);
        self.part.push(record, [row.id, address, user], self.types, removes);
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
    /// Per part number: its text and its table of long text lengths (see [`text_lens`]).
    texts: Vec<(String, LongLens)>,
    chunks: Vec<Vec<Record>>,
    /// Index of each chunk's first record.
    starts: Vec<usize>,
    /// The records' power types.
    pub census: TypeCensus,
}

impl Observations {
    /// Joins the parts built by several workers, each numbered differently.
    pub fn from_parts(types: PowerTypes, parts: Vec<Part>) -> Observations {
        let mut texts: Vec<(String, LongLens)> =
            vec![Default::default(); parts.iter().map(|p| p.index as usize + 1).max().unwrap_or(0)];
        let mut chunks = Vec::new();
        let mut starts = Vec::new();
        let mut census = TypeCensus {
            inferred: vec![0; types.len()],
            ..TypeCensus::default()
        };
        let mut total = 0;
        for part in parts {
            debug_assert!(texts[part.index as usize].0.is_empty(), "part numbers are unique");
            texts[part.index as usize] = (part.text, part.long);
            census.absorb(&part.census);
            for chunk in part.chunks {
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
            census,
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// Adds the records of `other` after this input's (renumbering its parts). Both must have
    /// been built with the same interned power types, or `other`'s an extension of these (ids
    /// of equal names equal): intern every name before building either.
    pub fn append(&mut self, other: Observations) {
        debug_assert!((0..self.types.len()).all(|id| self.types.name(id as u16) == other.types.name(id as u16)));
        if other.types.len() > self.types.len() {
            self.types = other.types;
        }
        let offset = self.texts.len() as u16;
        self.texts.extend(other.texts);
        let mut total = self.len();
        for mut chunk in other.chunks.into_iter().filter(|c| !c.is_empty()) {
            for r in &mut chunk {
                r.part += offset;
            }
            self.starts.push(total);
            total += chunk.len();
            self.chunks.push(chunk);
        }
        self.census.absorb(&other.census);
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

    /// Subject, address and user of `r`.
    fn texts(&self, r: &Record) -> [&str; 3] {
        let (text, long) = &self.texts[r.part as usize];
        let mut start = r.text as usize;
        text_lens(r, long).map(|len| {
            let s = &text[start..start + len as usize];
            start += len as usize;
            s
        })
    }

    /// The machine's system_id (or the BMC row's id in database mode).
    pub fn subject(&self, r: &Record) -> &str {
        self.texts(r)[0]
    }

    /// `power_address`, trimmed; empty when absent.
    pub fn address(&self, r: &Record) -> &str {
        self.texts(r)[1]
    }

    /// `power_user`, trimmed; empty when absent.
    pub fn user(&self, r: &Record) -> &str {
        self.texts(r)[2]
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
}

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
struct Member<'o> {
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
fn member_runs<'o, I: Iterator<Item = Keyed>>(
    obs: &'o Observations,
    keys: impl Fn() -> I,
    mut each: impl FnMut(Vec<Member<'o>>),
) {
    runs(keys, |run| {
        each(run.iter().map(|(.., i)| Member::read(obs, *i as usize)).collect())
    });
}

/// A group of `members` (any order), ordered by subject then index; the other fields as given.
fn group<'o>(mut members: Vec<Member<'o>>, power_types: Vec<&'o str>, address: String, user: &str) -> BmcGroup<'o> {
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

/// Both halves of a 128-bit hash in one word (a record's BMC identity).
fn fold(x: u128) -> u64 {
    (x ^ (x >> 64)) as u64
}

/// One record in a grouping pass: the key it is grouped by, a second hash that tells at once
/// whether a run is uniform (then nothing is reported and no record is looked up), its index.
type Keyed = (u64, u64, u32);

/// Groups records by their first key and calls `emit` with every run of two or more equal keys
/// whose second hashes differ (in no particular order, nor within a run). `keys` yields every
/// record's key (it is walked twice). Keys are hashes, spread evenly: they are written straight
/// into buckets by their top bits (one array, no copy); each bucket (a few thousand keys, in
/// cache) is then grouped through a small open-addressing table that chains equal keys, so
/// singletons (almost every record) cost one probe and uniform runs nothing more.
fn runs<I: Iterator<Item = Keyed>>(keys: impl Fn() -> I, mut emit: impl FnMut(&[Keyed])) {
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

fn distinct<T: Ord>(mut values: Vec<T>) -> usize {
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
fn groups_in<'o, I: Iterator<Item = Keyed>>(obs: &'o Observations, keys: impl Fn() -> I) -> Groups<'o> {
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

/// `a.b.c.d` with four decimal octets ≤ 255 and no leading zeros: already canonical.
fn is_canonical_ipv4(s: &[u8]) -> bool {
    // One pass: the octet being read (its value and digit count) and the dots so far.
    let (mut dots, mut value, mut digits) = (0, 0u32, 0);
    for &b in s {
        if b.is_ascii_digit() {
            if digits == 1 && value == 0 {
                return false; // a leading zero
            }
            value = value * 10 + u32::from(b - b'0');
            digits += 1;
            if digits > 3 {
                return false;
            }
        } else if b == b'.' && digits > 0 && value <= 255 && dots < 3 {
            dots += 1;
            (value, digits) = (0, 0);
        } else {
            return false;
        }
    }
    dots == 3 && digits > 0 && value <= 255
}

/// Digits and dots, not ending with a dot: already canonical (the fast path of almost every IPv4
/// BMC address). The IP parser takes such a text only when it is a canonical dotted quad (no
/// leading zeros, octets ≤ 255) and then writes it back as it was; any other such text is a host
/// name with no trailing dot to drop.
fn is_digits_and_dots(s: &[u8]) -> bool {
    s.last().is_some_and(u8::is_ascii_digit) && s.iter().all(|b| b.is_ascii_digit() || *b == b'.')
}

/// A byte the URL parser leaves as it is in a path: a lower-case letter, a digit or `._~-/`.
fn is_plain_path_byte(b: &u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'~' | b'-' | b'/')
}

/// A URL the URL parser would leave as it is (up to trailing slashes): a scheme that is not
/// one of the WHATWG special ones (those get host and port rewriting), then `://`, at most one
/// `@` in the authority, no port, and only lower-case letters, digits and `._~-/` — nothing to
/// lower-case, percent-encode or resolve (no `.` or `..` path segment). Byte loops, no string
/// searches: it runs for every URL-shaped address of the input.
fn is_plain_url(s: &str) -> bool {
    let bytes = s.as_bytes();
    // A scheme holds no `:`, so the first `:` must start the `://`.
    let Some(colon) = bytes.iter().position(|b| *b == b':') else {
        return false;
    };
    let scheme = &bytes[..colon];
    let Some(rest) = bytes[colon..].strip_prefix(b"://") else {
        return false;
    };
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_lowercase)
        && scheme
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'));
    let (authority, path) = rest.split_at(rest.iter().position(|b| *b == b'/').unwrap_or(rest.len()));
    let default_port = match scheme {
        _ if !scheme_ok => return false,
        b"http" | b"ws" => 80,
        b"https" | b"wss" => 443,
        b"ftp" => 21,
        b"file" => return false,
        _ => 0,
    };
    let path_ok =
        path.iter().all(is_plain_path_byte) && !path.split(|b| *b == b'/').any(|seg| seg == b"." || seg == b"..");
    if default_port != 0 {
        // A special scheme: the parser rewrites hosts and drops default ports, so only a
        // canonical IPv4 host with no port or another port in canonical form is already plain.
        let (host, port) = match authority.iter().position(|b| *b == b':') {
            Some(i) => (&authority[..i], Some(&authority[i + 1..])),
            None => (authority, None),
        };
        let port_ok = port.is_none_or(|port| {
            let canonical =
                !port.is_empty() && port[0] != b'0' && port.len() <= 5 && port.iter().all(u8::is_ascii_digit);
            // At most five digits: the number fits.
            canonical && {
                let number = port.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
                number <= 65535 && number != default_port
            }
        });
        return path_ok && port_ok && is_canonical_ipv4(host);
    }
    // Userinfo: at most one `@`, with something on both sides.
    let userinfo_ok = match authority.iter().position(|b| *b == b'@') {
        None => true,
        Some(at) => at > 0 && at + 1 < authority.len() && !authority[at + 1..].contains(&b'@'),
    };
    userinfo_ok && path_ok && authority.iter().all(|b| *b == b'@' || is_plain_path_byte(b))
}

/// Canonical form of a BMC address for MAAS005: trimmed, lower-cased; IP literals in canonical
/// form (IPv4-mapped IPv6 → IPv4, IPv6 compressed, brackets dropped); a trailing dot of a host
/// name dropped; URLs (`qemu+ssh://…`, `https://…`) normalized by the URL parser. A port is kept:
/// two BMCs on one host with different ports are different BMCs. Borrows when already canonical.
pub fn normalize_address(address: &str) -> Cow<'_, str> {
    let trimmed = trim(address);
    if is_digits_and_dots(trimmed.as_bytes()) {
        return Cow::Borrowed(trimmed);
    }
    if is_plain_url(trimmed) {
        return Cow::Borrowed(trimmed.trim_end_matches('/'));
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
    use crate::systems::maas::checks::pack as maas_pack;
    use rstest::rstest;
    use serde_json::json;

    fn machine<'a>(id: &'a str, power_type: &'a str, params: Value) -> (&'a str, &'a str, Value) {
        (id, power_type, params)
    }

    /// Observations of machines given as (system_id, power type or "" to infer, params).
    fn observe(machines: &[(&str, &str, Value)]) -> Observations {
        observe_typed(machines, |t| !t.is_empty())
    }

    /// [`observe`], where `given(type)` says whether a machine list gives the type.
    fn observe_typed(machines: &[(&str, &str, Value)], given: impl Fn(&str) -> bool) -> Observations {
        let rules = &maas_pack().bmc;
        let mut types = PowerTypes::new(rules);
        let ids: Vec<Option<u16>> = machines
            .iter()
            .map(|(_, t, _)| given(t).then(|| types.intern(t)))
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
    #[case::empty_maps_are_one_bmc("ipmi", json!({}), json!({}), false)]
    #[case::password_only_becomes_empty_and_collides_with_empty("ipmi",
        json!({"power_pass":"a"}), json!({}), true)]
    #[case::two_password_only_rows_collide("ipmi",
        json!({"power_pass":"a"}), json!({"power_pass":"b"}), true)]
    #[case::ipmi_leftovers_on_a_redfish_machine_stay_on_the_node("redfish",
        json!({"power_address":"10.0.0.2","power_user":"u","power_pass":"a","power_driver":"LAN_2_0","k_g":"x","cipher_suite_id":"3"}),
        json!({"power_address":"10.0.0.2","power_user":"u","power_pass":"b"}), true)]
    #[case::unknown_keys_stay_on_the_node("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a","whatever":"1"}),
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"b","other":"2"}), true)]
    #[case::empty_type_has_no_bmc_type("",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a"}),
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"b"}), false)]
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
        let fleet = observe_typed(
            &[machine("aaaaaa", power_type, a), machine("bbbbbb", power_type, b)],
            |_| true,
        );
        let groups = find_groups(rules, &fleet).collisions;
        assert_eq!(!groups.is_empty(), collides, "{groups:?}");
        if collides {
            assert_eq!(groups[0].members, vec![0, 1]);
            assert_eq!(groups[0].bmc_count, 2);
        }
    }

    /// Observations of machines given as (system_id, power type, the parameters' JSON text).
    fn observe_text(machines: &[(&str, &str, &str)]) -> Observations {
        let rules = &maas_pack().bmc;
        let mut types = PowerTypes::new(rules);
        let ids: Vec<u16> = machines.iter().map(|(_, t, _)| types.intern(t)).collect();
        let mut b = PartBuilder::new(rules, &types);
        for ((id, _, text), t) in machines.iter().zip(ids) {
            let mut pairs = Vec::new();
            crate::systems::maas::bmc::power_parameters::parse_params(text.as_bytes(), &mut pairs).unwrap();
            b.add_map(id, Some(t), &mut pairs);
        }
        let part = b.finish();
        Observations::from_parts(types, vec![part])
    }

    /// jsonb equality decides, not the spelling (FACTS.md §1.2).
    #[rstest]
    #[case::number_spellings(
        r#"{"power_address":"h","power_pass":"a","power_boot_type":1}"#,
        r#"{"power_address":"h","power_pass":"b","power_boot_type":1e0}"#,
        true
    )]
    #[case::one_point_zero_is_not_one(
        r#"{"power_address":"h","power_pass":"a","power_boot_type":1}"#,
        r#"{"power_address":"h","power_pass":"b","power_boot_type":1.0}"#,
        false
    )]
    #[case::huge_integers_exactly(
        r#"{"power_address":"h","power_pass":"a","k_g":123456789012345678901234567890}"#,
        r#"{"power_address":"h","power_pass":"b","k_g":123456789012345678901234567891}"#,
        false
    )]
    #[case::huge_exponent(
        r#"{"power_address":"h","power_pass":"a","k_g":1e400}"#,
        r#"{"power_address":"h","power_pass":"b","k_g":10e399}"#,
        true
    )]
    #[case::duplicate_keys_last_wins(
        r#"{"power_address":"x","power_address":"h","power_pass":"a"}"#,
        r#"{"power_address":"h","power_pass":"b"}"#,
        true
    )]
    #[case::duplicate_password_last_wins(
        r#"{"power_address":"h","power_pass":"a","power_pass":"b"}"#,
        r#"{"power_address":"h","power_pass":"b"}"#,
        false
    )]
    #[case::escapes(
        r#"{"power_address":"\u0068","power_pass":"a"}"#,
        r#"{"power_address":"h","power_pass":"b"}"#,
        true
    )]
    #[case::nested_key_order(
        r#"{"power_address":"h","power_pass":"a","k_g":{"a":[1,{"b":2,"c":3}]}}"#,
        r#"{"power_address":"h","power_pass":"b","k_g":{"a":[1,{"c":3,"b":2}]}}"#,
        true
    )]
    fn jsonb_equality_decides(#[case] a: &str, #[case] b: &str, #[case] collides: bool) {
        let fleet = observe_text(&[("aaaaaa", "ipmi", a), ("bbbbbb", "ipmi", b)]);
        let groups = find_groups(&maas_pack().bmc, &fleet).collisions;
        assert_eq!(!groups.is_empty(), collides, "{groups:?}");
    }

    #[test]
    fn deep_nesting_is_read() {
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        let a = format!(r#"{{"power_address":"h","power_pass":"a","k_g":{deep}}}"#);
        let b = format!(r#"{{"power_address":"h","power_pass":"b","k_g":{deep}}}"#);
        let fleet = observe_text(&[("aaaaaa", "ipmi", &a), ("bbbbbb", "ipmi", &b)]);
        assert_eq!(find_groups(&maas_pack().bmc, &fleet).collisions.len(), 1);
    }

    #[test]
    fn different_power_types_never_collide() {
        let rules = &maas_pack().bmc;
        let p = |pass: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass});
        let fleet = observe(&[machine("a", "ipmi", p("x")), machine("b", "redfish", p("y"))]);
        assert!(find_groups(rules, &fleet).collisions.is_empty());
    }

    #[test]
    fn unknown_power_type_takes_no_part() {
        let rules = &maas_pack().bmc;
        let p = |pass: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass});
        let fleet = observe(&[machine("a", "", p("x")), machine("b", "", p("y"))]);
        assert!(find_groups(rules, &fleet).collisions.is_empty());
    }

    #[test]
    fn runs_are_exactly_the_keys_whose_second_hashes_differ() {
        // Keys spread over every bucket, runs of one to five, some uniform, some mixed, and
        // twins that differ only in a high bit (same bucket, same table slot: probing).
        let mut keyed = Vec::new();
        let mut want = Vec::new();
        for k in 0..6000u64 {
            let key = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            for key in [key, key ^ (1 << 40)] {
                let len = k % 5 + 1;
                let mixed = len > 1 && k % 3 != 0;
                let mut members = Vec::new();
                for j in 0..len {
                    let second = if mixed { j % 2 } else { 7 };
                    members.push(keyed.len() as u32);
                    keyed.push((key, second, keyed.len() as u32));
                }
                if mixed {
                    want.push(members);
                }
            }
        }
        // Interleave the runs' members, as records arrive.
        keyed.sort_by_key(|k| k.2.wrapping_mul(2_654_435_761));
        let mut got = Vec::new();
        runs(
            || keyed.iter().copied(),
            |run| {
                assert!(run.iter().all(|k| k.0 == run[0].0));
                let mut members: Vec<u32> = run.iter().map(|k| k.2).collect();
                members.sort_unstable();
                got.push(members);
            },
        );
        got.sort();
        want.sort();
        assert_eq!(got, want);
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
        let groups = find_groups(rules, &fleet).collisions;
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

    /// Random strings over an alphabet that hits every branch of the fast paths.
    fn random_strings(alphabet: &[&str], count: usize) -> Vec<String> {
        let mut seed = 11u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        (0..count)
            .map(|_| (0..next() % 9).map(|_| alphabet[next() % alphabet.len()]).collect())
            .collect()
    }

    #[test]
    fn plain_url_fast_path_agrees_with_the_url_parser() {
        let alphabet = [
            "qemu+ssh://",
            "https://",
            "http://",
            "lxd://",
            "a",
            "Z",
            "0",
            "10.0.0.1",
            "8443",
            "443",
            "80",
            "65536",
            "@",
            ":",
            "/",
            ".",
            "..",
            "%20",
            "_",
            "~",
            "-",
            "?",
            "#",
            "u@h",
            " ",
        ];
        let mut plain = 0;
        for raw in random_strings(&alphabet, 200_000) {
            if !is_plain_url(&raw) {
                continue;
            }
            plain += 1;
            let slow = reqwest::Url::parse(&raw.to_lowercase())
                .map(|u| u.to_string().trim_end_matches('/').to_string())
                .unwrap_or_else(|_| raw.to_lowercase());
            assert_eq!(raw.trim_end_matches('/'), slow, "{raw:?}");
        }
        assert!(plain > 1000, "only {plain} plain URLs generated");
    }

    #[test]
    fn digits_and_dots_fast_path_agrees_with_the_ip_parser() {
        let mut quads = 0;
        for raw in random_strings(
            &["0", "7", "10", "255", "256", "01", "0.", "9.", "10.", "255.", "."],
            300_000,
        ) {
            if !is_digits_and_dots(raw.as_bytes()) {
                continue;
            }
            let slow = match raw.parse::<IpAddr>() {
                Ok(ip) => {
                    quads += 1;
                    ip.to_string()
                }
                Err(_) => raw.trim_end_matches('.').to_string(),
            };
            assert_eq!(raw, slow, "{raw:?}");
        }
        assert!(quads > 500, "only {quads} dotted quads generated");
    }

    #[rstest]
    #[case("admin")]
    #[case(" admin\t")]
    #[case("\u{a0}admin\u{2003}")]
    #[case("é")]
    #[case("")]
    #[case("  ")]
    fn trim_agrees_with_str_trim(#[case] s: &str) {
        assert_eq!(trim(s), s.trim());
    }

    #[test]
    fn canonical_ipv4_fast_path_agrees_with_the_ip_parser() {
        let alphabet = ["0", "1", "2", "5", "9", "25", "255", "256", "00", ".", "a", ":"];
        for raw in random_strings(&alphabet, 50_000) {
            let slow = raw.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.to_string() == raw);
            assert_eq!(is_canonical_ipv4(raw.as_bytes()), slow, "{raw:?}");
        }
    }

    #[test]
    fn every_special_key_has_a_mask_bit_of_its_own() {
        // PartBuilder gives each key of the tables one bit of a u64 mask; a 65th would share.
        let rules = &maas_pack().bmc;
        let mut keys: Vec<&str> = rules
            .removed_by_0290
            .values()
            .chain(rules.bmc_scoped.values().flatten())
            .map(String::as_str)
            .chain(["power_address", "power_user"])
            .collect();
        keys.sort_unstable();
        keys.dedup();
        assert!(keys.len() <= 64, "{} keys", keys.len());
        // 0290's key of every type is one of the type's BMC-scoped settings.
        for (t, key) in &rules.removed_by_0290 {
            assert!(rules.bmc_scoped.get(t).is_some_and(|k| k.contains(key)), "{t}: {key}");
        }
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
        let groups = find_groups(rules, &fleet);
        assert!(groups.collisions.is_empty());
        let shared = groups.shared_addresses;
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
        let groups = find_groups(rules, &fleet);
        assert_eq!(groups.collisions.len(), 1);
        assert!(groups.shared_addresses.is_empty());
    }

    /// One address and user, three BMCs: two collide exactly (MAAS004), and with the third
    /// they share the address (MAAS005); a BMC of the same maps elsewhere and machines without
    /// an address (nova) are grouped apart.
    #[test]
    fn one_address_run_gives_both_checks_their_groups() {
        let rules = &maas_pack().bmc;
        let ipmi = |pass: &str, k_g: &str| json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":pass,"k_g":k_g});
        let nova = |pass: &str| json!({"os_authurl":"http://k","os_username":"u","os_password":pass});
        let fleet = observe(&[
            machine("a", "ipmi", ipmi("x", "1")),
            machine("b", "ipmi", ipmi("y", "1")),
            machine("c", "ipmi", ipmi("x", "2")),
            machine(
                "d",
                "ipmi",
                json!({"power_address":"10.0.0.9","power_user":"admin","power_pass":"z","k_g":"1"}),
            ),
            machine("e", "nova", nova("p")),
            machine("f", "nova", nova("q")),
        ]);
        let groups = find_groups(rules, &fleet);
        let mut collisions: Vec<_> = groups.collisions.iter().map(|g| g.members.clone()).collect();
        collisions.sort();
        assert_eq!(collisions, vec![vec![0, 1], vec![4, 5]]);
        assert_eq!(groups.shared_addresses.len(), 1);
        assert_eq!(groups.shared_addresses[0].members, vec![0, 1, 2]);
        assert_eq!(groups.shared_addresses[0].bmc_count, 3);
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

    /// The key table finds every name the rules know, with its facts, and nothing else.
    #[test]
    fn key_table_finds_exactly_the_known_names() {
        let rules = &maas_pack().bmc;
        let mut names: FxHashMap<&str, KeyFacts> = FxHashMap::default();
        let known = rules
            .removed_by_0290
            .values()
            .chain(rules.bmc_scoped.values().flatten())
            .chain(rules.infer.keys())
            .map(String::as_str);
        for (i, name) in known.chain(["power_address", "power_user"]).enumerate() {
            names.insert(
                name,
                KeyFacts {
                    infers: 1,
                    bit: 1 << (i % 64),
                },
            );
        }
        let table = KeyTable::new(&names);
        for (name, facts) in &names {
            assert_eq!(table.get(name), *facts, "{name}");
        }
        let unknown = [
            "",
            "p",
            "k_G",
            "power_addresS",
            "power_address ",
            "power_addres",
            "xpower_user",
            "cipher_suite",
        ];
        for name in unknown {
            assert_eq!(table.get(name), KeyFacts::default(), "{name:?}");
        }
    }

    /// Subjects, addresses and users longer than a record's 16-bit lengths hold (and a subject
    /// of exactly the marker's length) come back whole, between records of ordinary ones.
    #[test]
    fn long_texts_come_back_whole() {
        let long = |c: char, n: usize| c.to_string().repeat(n);
        let texts = [
            ("a".to_string(), "10.0.0.1".to_string(), "u".to_string()),
            (long('s', 65_535), "10.0.0.2".to_string(), "u".to_string()),
            ("b".to_string(), "10.0.0.3".to_string(), "u".to_string()),
            ("c".to_string(), long('h', 70_000), long('u', 65_535)),
            ("d".to_string(), "10.0.0.4".to_string(), long('v', 65_536)),
            ("e".to_string(), "10.0.0.5".to_string(), String::new()),
        ];
        let machines: Vec<_> = texts
            .iter()
            .map(|(s, a, u)| {
                machine(
                    s,
                    "ipmi",
                    json!({"power_address": a, "power_user": u, "power_pass": "p"}),
                )
            })
            .collect();
        let obs = observe(&machines);
        let got: Vec<_> = obs
            .records()
            .map(|r| {
                (
                    obs.subject(r).to_string(),
                    obs.address(r).to_string(),
                    obs.user(r).to_string(),
                )
            })
            .collect();
        assert_eq!(got, texts);
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
        assert_eq!(find_groups(&maas_pack().bmc, &obs).collisions.len(), 1);
    }

    #[test]
    fn unknown_types_are_untyped_and_take_no_part() {
        let p = |pass: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass});
        let obs = observe(&[
            machine("a", "foo", p("x")),
            machine("b", "foo", p("y")),
            machine("c", "", p("z")),
        ]);
        let untyped: Vec<&str> = obs.census.untyped().map(|(_, s)| s).collect();
        assert_eq!(untyped, ["a", "b", "c"]);
        assert!(find_groups(&maas_pack().bmc, &obs).collisions.is_empty());
    }
}

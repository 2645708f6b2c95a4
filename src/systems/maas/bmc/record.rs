//! One compact record per BMC seen (a machine, a controller, a VM host or a database row):
//! its identities and hashes, how records are built in parallel parts, and the fleet's
//! observations.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde_json::Value;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use super::address::{normalize_address, trim};
use super::rules::{BmcRules, PowerTypes};

/// A value in a power-parameter map: a string (unescaped; borrowed from the input when it has
/// no escapes), or the JSON text of any other value (a number, literal, array or object, as
/// written), which compares by jsonb equality ([`super::jsonb`]).
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
    /// (API, file; see `fold`), or the row id (database). Equal means the same BMC; two
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
pub(super) const LONG: u16 = u16::MAX;

/// A part's table of the text lengths [`Record::lens`] cannot hold: (text start, lengths of
/// subject, address and user) of each such record, by text start.
pub(super) type LongLens = Vec<(u32, [u32; 3])>;

/// The lengths of `r`'s subject, address and user; `long` is its part's [`LongLens`].
#[inline]
pub(super) fn text_lens(r: &Record, long: &LongLens) -> [u32; 3] {
    if r.lens[0] != LONG {
        return r.lens.map(u32::from);
    }
    // Every record marked LONG has its entry (Part::push).
    long[long.partition_point(|(start, _)| *start < r.text)].1
}

/// Records per storage chunk: fixed-capacity chunks grow a part without the copies and the
/// up-to-2× slack of a doubling vector.
pub(super) const CHUNK: usize = 1 << 16;

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

/// `a <= b`, byte-wise, without a call into memcmp (keys are short and differ early).
#[inline]
pub(super) fn bytes_le(a: &[u8], b: &[u8]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x < y;
        }
    }
    a.len() <= b.len()
}

/// Appends one key and value in canonical form: `key \0 s value \0` for strings,
/// `key \0 j hash \0` for anything else (the 16-byte canonical jsonb hash of its text).
#[inline]
pub(super) fn write_param(buf: &mut Vec<u8>, key: &str, value: &Param) {
    buf.extend_from_slice(key.as_bytes());
    match value {
        Param::Str(s) => {
            buf.extend_from_slice(b"\0s");
            buf.extend_from_slice(s.as_bytes());
        }
        Param::Json(text) => {
            buf.extend_from_slice(b"\0j");
            match super::jsonb::canonical_hash(text) {
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
#[inline]
pub(super) fn shared_key_with(buf: &mut Vec<u8>, address: &str, user: &str) -> u64 {
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
pub(super) struct KeyFacts {
    /// The power type this key names (`[bmc.infer]`), or [`PowerTypes::NONE`].
    pub(super) infers: u16,
    /// The key's bit in [`TypeKeys`] masks (0: a key no table names).
    pub(super) bit: u64,
}

/// Bits of `power_address` and `power_user` in [`KeyFacts::bit`].
pub(super) const ADDRESS_BIT: u64 = 1;
pub(super) const USER_BIT: u64 = 2;

/// One power type's special keys, as [`KeyFacts::bit`] masks.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TypeKeys {
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
pub(super) struct KeyTable<'r> {
    /// Twice as many slots as names, a power of two.
    slots: Vec<Option<(&'r str, KeyFacts)>>,
}

impl<'r> KeyTable<'r> {
    pub(super) fn new(names: &FxHashMap<&'r str, KeyFacts>) -> Self {
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
    #[inline]
    pub(super) fn get(&self, name: &str) -> KeyFacts {
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
    #[inline]
    pub fn record(&self, i: usize) -> &Record {
        let c = self.starts.partition_point(|s| *s <= i) - 1;
        &self.chunks[c][i - self.starts[c]]
    }

    /// Every record, in index order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.chunks.iter().flatten()
    }

    /// Subject, address and user of `r`.
    #[inline]
    pub(super) fn texts(&self, r: &Record) -> [&str; 3] {
        let (text, long) = &self.texts[r.part as usize];
        let mut start = r.text as usize;
        text_lens(r, long).map(|len| {
            let s = &text[start..start + len as usize];
            start += len as usize;
            s
        })
    }

    /// The machine's system_id (or the BMC row's id in database mode).
    #[inline]
    pub fn subject(&self, r: &Record) -> &str {
        self.texts(r)[0]
    }

    /// `power_address`, trimmed; empty when absent.
    #[inline]
    pub fn address(&self, r: &Record) -> &str {
        self.texts(r)[1]
    }

    /// `power_user`, trimmed; empty when absent.
    #[inline]
    pub fn user(&self, r: &Record) -> &str {
        self.texts(r)[2]
    }

    /// Per power-type id: whether records of that type take part in grouping (a known,
    /// non-exempt type). Index with [`Record::power_type`].
    pub(super) fn eligible_types(&self, rules: &BmcRules) -> Vec<bool> {
        (0..self.types.names.len())
            .map(|id| {
                let id = id as u16;
                self.types.is_known(id) && !rules.is_exempt(self.types.name(id))
            })
            .collect()
    }
}

/// Both halves of a 128-bit hash in one word (a record's BMC identity).
#[inline]
pub(super) fn fold(x: u128) -> u64 {
    (x ^ (x >> 64)) as u64
}

//! Streaming reader of MAAS machine lists: the JSON array of machine objects that
//! `GET machines/` and `maas $PROFILE machines read` return (upstream canonical/maas
//! `src/maasserver/api/machines.py`, `DISPLAYED_MACHINE_FIELDS`; examples in
//! `src/maasserver/api/examples/machines.json`, the same shape at 3.2.0 and 3.7.3).
//!
//! Each machine object holds some 66–80 fields and weighs 4–33 KB as MAAS prints it
//! (`json.dumps(..., indent=4)`: interfaces with links and VLANs, block devices with partitions,
//! owner data, test statuses); preflight needs three of them. This reader picks the top-level
//! `system_id`, `hostname` and `power_type` of each element and validates everything else
//! without building it (no `serde_json::Value`, no allocation per field): one pass over the
//! bytes through a resumable state machine of JSON's grammar (nesting kept as one bit a level),
//! whose fast path skims plain keys, strings (eight bytes at a time), numbers, literals and
//! indentation in local state and hands anything unusual (escapes, errors, the ends of pieces)
//! to the exact path. Only the keys of the machine objects themselves and the three values are
//! decoded. Nested `system_id` keys (`boot_interface.system_id`, `interface_set[].system_id`,
//! `blockdevice_set[].system_id`, anything in `owner_data`) are skipped like any other nested
//! value.
//!
//! Built for very large regions in bounded memory: the reading thread takes the bytes as they
//! arrive in pieces of about [`PIECE_BYTES`], each cut where the next machine most likely starts;
//! worker threads parse pieces in parallel, each assuming its piece starts between two machines,
//! and the answers are taken in document order and kept only where the exact parse of the piece
//! before ended there (otherwise the piece is parsed again from the exact state), so the result
//! never depends on the cuts. At most [`IN_FLIGHT`] pieces per worker are held, plus the result;
//! no machine is ever buffered whole, and one machine may span at most [`MAX_MACHINE`] bytes.
//! A large machine-list file ([`read_document`]) is mapped instead and cut in place, the same
//! pieces without the copy `read(2)` makes, its pages given back as the pieces are taken.
//!
//! It accepts exactly the documents `serde_json::from_slice::<Vec<Machine>>` accepts and gives
//! the same machines (any nesting depth, numbers of any size, escapes in keys), with two
//! deliberate differences: invalid UTF-8 is refused anywhere (serde_json does not check strings
//! it skips), and so is an array where a machine object belongs (serde_json would read it as
//! the struct's fields by position). Errors name the byte offset, the machine's index
//! (from 0) and what was expected, and never quote a value: machine objects can hold secrets in
//! `owner_data`.

use std::fmt;
use std::io::Read;

use thiserror::Error;

pub use crate::systems::maas::bmc::pieces::IN_FLIGHT;
use crate::systems::maas::bmc::pieces::{self, Document, Piece};
use crate::systems::maas::facts::Machine;

/// Largest accepted machine object, in bytes from its `{` to its `}`: far above upstream's
/// largest example (33 KB); it bounds the memory one machine can take (its three values and the
/// nesting stack).
pub const MAX_MACHINE: usize = 64 * 1024 * 1024;
/// Bytes read into one piece of the document.
pub const PIECE_BYTES: usize = 2 * 1024 * 1024;
/// How far back from a piece's end a cut between two machines is looked for: more than the
/// largest machine upstream prints, so a cut is almost always found.
const CUT_WINDOW: usize = 128 * 1024;

/// What the reader found where something else was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// This byte (shown as a character when it is printable ASCII, in hex otherwise).
    Byte(u8),
    /// The end of the input.
    End,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Byte(b) if b.is_ascii_graphic() => write!(f, "'{}'", *b as char),
            Found::Byte(b) => write!(f, "byte 0x{b:02x}"),
            Found::End => f.write_str("the end of the input"),
        }
    }
}

impl Found {
    /// A hint at what the document is instead, from its first byte.
    fn hint(&self) -> &'static str {
        match self {
            Found::Byte(b'<') => " (an HTML or XML page, not the API's answer: check the URL and the credentials)",
            Found::Byte(b'{') => " (a JSON object: an error answer, or another endpoint's output)",
            Found::End => " (the input is empty)",
            _ => "",
        }
    }
}

/// Where in the list a position is, by machine index (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Between machines, at the array's level, before machine `n` (`0`: right after `[`).
    Before(u64),
    /// Inside machine `n`.
    Inside(u64),
    /// After the array's closing `]`.
    AfterList,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Before(0) => f.write_str("before the first machine"),
            Place::Before(n) => write!(f, "after machine {}", n - 1),
            Place::Inside(n) => write!(f, "inside machine {n}"),
            Place::AfterList => f.write_str("after the list's closing ']'"),
        }
    }
}

impl Place {
    fn shifted(self, by: u64) -> Place {
        match self {
            Place::Before(n) => Place::Before(n + by),
            Place::Inside(n) => Place::Inside(n + by),
            Place::AfterList => Place::AfterList,
        }
    }
}

/// Why a machine list could not be read. Offsets are bytes from the start of the document;
/// machines are numbered from 0 in document order. No message quotes a value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MachineListError {
    /// The document does not start with `[` (an HTML error page, a JSON object, nothing).
    #[error("the machine list is not the JSON array `maas $PROFILE machines read` prints: expected '[' at byte {offset}, found {found}{}", .found.hint())]
    NotAnArray { offset: u64, found: Found },
    /// An element of the array is not a JSON object (`kind`: "a string", "an array", …).
    #[error("machine {machine} (byte {offset}) is {kind}, not a machine object")]
    NotAnObject {
        machine: u64,
        offset: u64,
        kind: &'static str,
    },
    /// A machine object without a top-level `system_id`; `offset` is where the object starts.
    #[error("machine {machine} (byte {offset}) has no system_id")]
    MissingSystemId { machine: u64, offset: u64 },
    /// `system_id` or `hostname` is not a string, or `power_type` neither a string nor null;
    /// `offset` is where the value starts.
    #[error("machine {machine} (byte {offset}): {field} is {kind}, expected {expected}")]
    WrongType {
        machine: u64,
        offset: u64,
        field: &'static str,
        kind: &'static str,
        expected: &'static str,
    },
    /// A machine object names one of the three fields twice; `offset` is the second key.
    #[error("machine {machine} (byte {offset}) has the field {field} twice")]
    Duplicate {
        machine: u64,
        offset: u64,
        field: &'static str,
    },
    /// The bytes at `offset` break JSON's grammar (or a field name's escapes are invalid).
    #[error("the machine list is not valid JSON at byte {offset} {place}: expected {expected}, found {found}")]
    Syntax {
        offset: u64,
        place: Place,
        expected: &'static str,
        found: Found,
    },
    /// The bytes at `offset` are not UTF-8.
    #[error("the machine list is not UTF-8 text at byte {offset} {place}")]
    NotUtf8 { offset: u64, place: Place },
    /// The input ends before the array is closed; `offset` is its length.
    #[error("the machine list is truncated at byte {offset} {place}{}", if matches!(.place, Place::Before(_)) { " (the array is not closed)" } else { "" })]
    Truncated { offset: u64, place: Place },
    /// Something other than whitespace follows the array's closing `]`.
    #[error("the machine list has more after its closing ']': found {found} at byte {offset}")]
    Trailing { offset: u64, found: Found },
    /// A machine object spans more than [`MAX_MACHINE`] bytes; `offset` is where it starts.
    #[error("machine {machine} (byte {offset}) is larger than {} MiB", MAX_MACHINE >> 20)]
    TooLarge { machine: u64, offset: u64 },
    /// The source failed (after every byte it gave was parsed without error).
    #[error("reading the machine list failed: {0}")]
    Io(String),
}

impl MachineListError {
    /// The error with machine indexes counted `by` machines later (a worker numbers the
    /// machines of its piece from 0).
    fn shifted(self, by: u64) -> Self {
        use MachineListError as E;
        match self {
            E::NotAnObject { machine, offset, kind } => E::NotAnObject {
                machine: machine + by,
                offset,
                kind,
            },
            E::MissingSystemId { machine, offset } => E::MissingSystemId {
                machine: machine + by,
                offset,
            },
            E::WrongType {
                machine,
                offset,
                field,
                kind,
                expected,
            } => E::WrongType {
                machine: machine + by,
                offset,
                field,
                kind,
                expected,
            },
            E::Duplicate { machine, offset, field } => E::Duplicate {
                machine: machine + by,
                offset,
                field,
            },
            E::Syntax {
                offset,
                place,
                expected,
                found,
            } => E::Syntax {
                offset,
                place: place.shifted(by),
                expected,
                found,
            },
            E::NotUtf8 { offset, place } => E::NotUtf8 {
                offset,
                place: place.shifted(by),
            },
            E::Truncated { offset, place } => E::Truncated {
                offset,
                place: place.shifted(by),
            },
            E::TooLarge { machine, offset } => E::TooLarge {
                machine: machine + by,
                offset,
            },
            other @ (E::NotAnArray { .. } | E::Trailing { .. } | E::Io(_)) => other,
        }
    }
}

/// One machine of a [`MachineList`]: the 64-bit xxh3 hash of its system_id, where its texts
/// are and its power type. The system_id starts at `start` in the list's text and its
/// hostname follows right after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Entry {
    hash: u64,
    start: usize,
    /// Lengths fit: a machine's texts lie inside it, and [`MAX_MACHINE`] is below 4 GiB.
    id_len: u32,
    host_len: u32,
    /// Index into the list's power types.
    power_type: u32,
}

const _: () = assert!(MAX_MACHINE < u32::MAX as usize);

/// The hash a machine list keys a system_id by.
fn id_hash(system_id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(system_id.as_bytes())
}

/// Machines in document order, as one piece of the list or the whole list: their system_ids
/// and hostnames in one text, their power types interned (in order of first appearance).
#[derive(Debug, Default)]
struct ListPart {
    text: String,
    entries: Vec<Entry>,
    power_types: Vec<String>,
    type_ids: rustc_hash::FxHashMap<String, u32>,
}

impl ListPart {
    /// The id of power type `name`, numbered in order of first appearance.
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.type_ids.get(name) {
            return *id;
        }
        let id = self.power_types.len() as u32;
        self.power_types.push(name.to_string());
        self.type_ids.insert(name.to_string(), id);
        id
    }

    /// Appends one machine.
    fn push(&mut self, system_id: &str, hostname: &str, power_type: &str) {
        let start = self.text.len();
        self.text.push_str(system_id);
        self.text.push_str(hostname);
        let power_type = self.intern(power_type);
        self.entries.push(Entry {
            hash: id_hash(system_id),
            start,
            id_len: system_id.len() as u32,
            host_len: hostname.len() as u32,
            power_type,
        });
    }

    /// Appends the machines of `part`, which come next in the document.
    fn append(&mut self, part: ListPart) {
        let ids: Vec<u32> = part.power_types.iter().map(|t| self.intern(t)).collect();
        let base = self.text.len();
        self.text.push_str(&part.text);
        self.entries.extend(part.entries.iter().map(|e| Entry {
            start: e.start + base,
            power_type: ids[e.power_type as usize],
            ..*e
        }));
    }
}

/// A machine list as [`read`] gives it: every machine's `system_id`, `hostname` and
/// `power_type` in document order, without an allocation per machine (the texts share one
/// string, power types are interned, each system_id is kept with its 64-bit xxh3 hash).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineList {
    text: String,
    entries: Vec<Entry>,
    power_types: Vec<String>,
}

/// One machine of a [`MachineList`] or a [`MachineIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineRef<'a> {
    /// The machine's `system_id`.
    pub system_id: &'a str,
    /// Its `hostname` (`""` when missing).
    pub hostname: &'a str,
    /// Its `power_type` (`""` when missing or null).
    pub power_type: &'a str,
    /// The index of its power type in [`MachineList::power_types`] (or
    /// [`MachineIndex::power_types`]).
    pub power_type_id: u32,
}

/// The machine of `entry`, its texts in `text`.
fn machine_ref<'a>(text: &'a str, power_types: &'a [String], e: &Entry) -> MachineRef<'a> {
    let host = e.start + e.id_len as usize;
    MachineRef {
        system_id: &text[e.start..host],
        hostname: &text[host..host + e.host_len as usize],
        power_type: &power_types[e.power_type as usize],
        power_type_id: e.power_type,
    }
}

impl MachineList {
    /// How many machines the list holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list holds no machine.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The distinct power types, in order of first appearance (`""` for none).
    pub fn power_types(&self) -> &[String] {
        &self.power_types
    }

    /// The machines in document order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = MachineRef<'_>> + '_ {
        self.entries
            .iter()
            .map(|e| machine_ref(&self.text, &self.power_types, e))
    }

    /// The machines as owned values, in document order.
    pub fn to_machines(&self) -> Vec<Machine> {
        self.iter()
            .map(|m| Machine {
                system_id: m.system_id.to_string(),
                hostname: m.hostname.to_string(),
                power_type: m.power_type.to_string(),
            })
            .collect()
    }

    /// The list arranged for lookups by system_id.
    pub fn into_index(self) -> MachineIndex {
        MachineIndex::new(self)
    }
}

/// A [`MachineList`] arranged for lookups by system_id: an open-addressing table of its
/// machines keyed by the 64-bit xxh3 hash of their system_ids (linear probing, at most two
/// thirds full), so a lookup usually reads one cache line: no hash map of its own and no text
/// read per lookup. Exact: of a system_id listed twice the last counts, and when two different
/// system_ids of the list share a hash, power types are looked up by text too.
#[derive(Debug, Clone)]
pub struct MachineIndex {
    text: String,
    /// The table: the slot of a hash is its top bits, and the next free one after it; a free
    /// slot's power type is [`FREE`].
    slots: Vec<Entry>,
    /// A hash's slot is its top `64 - shift` bits.
    shift: u32,
    power_types: Vec<String>,
    /// Whether two different system_ids share a hash.
    clash: bool,
    /// The hash tests key system_ids by instead (to force clashes).
    #[cfg(test)]
    test_hash: Option<fn(&str) -> u64>,
}

/// The power type of a free slot of a [`MachineIndex`].
const FREE: u32 = u32::MAX;

impl MachineIndex {
    fn new(list: MachineList) -> MachineIndex {
        let n = list.entries.len();
        // Always more slots than machines: a probe for a system_id not listed ends at a free one.
        let size = (n + n / 2 + 1).next_power_of_two();
        let mut index = MachineIndex {
            text: list.text,
            slots: vec![
                Entry {
                    power_type: FREE,
                    ..Entry::default()
                };
                size
            ],
            shift: 64 - size.trailing_zeros(),
            power_types: list.power_types,
            clash: false,
            #[cfg(test)]
            test_hash: None,
        };
        let mask = size - 1;
        for e in &list.entries {
            let mut at = index.first_slot(e.hash);
            loop {
                let slot = &index.slots[at];
                if slot.power_type == FREE {
                    break;
                }
                if slot.hash == e.hash {
                    if index.system_id(slot) == index.system_id(e) {
                        // Listed again: the last counts.
                        break;
                    }
                    index.clash = true;
                }
                at = (at + 1) & mask;
            }
            index.slots[at] = *e;
        }
        index
    }

    /// The index of `list` with every system_id keyed by `hash` (tests force clashes).
    #[cfg(test)]
    fn hashed_with(mut list: MachineList, hash: fn(&str) -> u64) -> MachineIndex {
        let text = &list.text;
        for e in &mut list.entries {
            e.hash = hash(&text[e.start..e.start + e.id_len as usize]);
        }
        let mut index = MachineIndex::new(list);
        index.test_hash = Some(hash);
        index
    }

    /// The hash `system_id` is keyed by.
    #[inline]
    fn hash_of(&self, system_id: &str) -> u64 {
        #[cfg(test)]
        if let Some(hash) = self.test_hash {
            return hash(system_id);
        }
        id_hash(system_id)
    }

    /// Where the probe for `hash` starts.
    #[inline]
    fn first_slot(&self, hash: u64) -> usize {
        hash.checked_shr(self.shift).unwrap_or(0) as usize
    }

    fn system_id(&self, e: &Entry) -> &str {
        &self.text[e.start..e.start + e.id_len as usize]
    }

    /// The machine of `hash` (and of `system_id`, when given).
    #[inline]
    fn slot(&self, hash: u64, system_id: Option<&str>) -> Option<&Entry> {
        let mask = self.slots.len() - 1;
        let mut at = self.first_slot(hash);
        loop {
            let slot = &self.slots[at];
            if slot.power_type == FREE {
                return None;
            }
            if slot.hash == hash && system_id.is_none_or(|id| self.system_id(slot) == id) {
                return Some(slot);
            }
            at = (at + 1) & mask;
        }
    }

    /// The distinct power types, in order of first appearance in the list (`""` for none).
    pub fn power_types(&self) -> &[String] {
        &self.power_types
    }

    /// The machine the list gives `system_id` (the last, if it is listed twice).
    pub fn find(&self, system_id: &str) -> Option<MachineRef<'_>> {
        self.slot(self.hash_of(system_id), Some(system_id))
            .map(|e| machine_ref(&self.text, &self.power_types, e))
    }

    /// The power type id ([`MachineIndex::power_types`]) the list gives `system_id`: by hash
    /// alone (no text read) unless two system_ids of the list share a hash, by text then.
    pub fn power_type(&self, system_id: &str) -> Option<u32> {
        let exact = self.clash.then_some(system_id);
        self.slot(self.hash_of(system_id), exact).map(|e| e.power_type)
    }
}

/// The fields read from each machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    SystemId = 1,
    Hostname = 2,
    PowerType = 4,
}

impl Field {
    fn of(key: &[u8]) -> Option<Field> {
        match key {
            b"system_id" => Some(Field::SystemId),
            b"hostname" => Some(Field::Hostname),
            b"power_type" => Some(Field::PowerType),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Field::SystemId => "system_id",
            Field::Hostname => "hostname",
            Field::PowerType => "power_type",
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Field::PowerType => "a string or null",
            _ => "a string",
        }
    }
}

/// The state of a number's grammar (RFC 8259 §6) after the bytes so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpInt,
}

/// The escape being read inside a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    None,
    /// Right after `\`.
    Backslash,
    /// Inside `\uXXXX`, this many hex digits to go.
    Hex(u8),
    /// Inside a character that the end of the last piece cut: its first `len` bytes (1 to 3),
    /// which were that piece's last.
    Char {
        first: [u8; 3],
        len: u8,
    },
}

impl Esc {
    /// [`Esc::Char`] of `first`, the 1 to 3 bytes of a character before a piece's end.
    #[cold]
    fn cut(first: &[u8]) -> Esc {
        let mut kept = [0; 3];
        kept[..first.len()].copy_from_slice(first);
        Esc::Char {
            first: kept,
            len: first.len() as u8,
        }
    }
}

/// What a string being read is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A key or value nobody reads: validated only.
    Skip,
    /// A key of a machine object: captured to see which field it names.
    Key,
    /// A key nested deeper: validated only, then a ':' follows.
    NestedKey,
    /// The value of one of the three fields: captured.
    Value(Field),
}

const LITERALS: [&[u8]; 3] = [b"true", b"false", b"null"];

/// Where the parser is in the grammar, between two bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Before the document's `[`.
    Start,
    /// Right after `[`: a machine or `]`.
    FirstMachine,
    /// After a `,` between machines: a machine.
    NextMachine,
    /// After a machine: `,` or `]`.
    AfterMachine,
    /// After the closing `]`: whitespace only.
    Done,
    /// Right after `{` inside a machine: a key or `}`.
    KeyOrEnd,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After `:` or after `,` in an array: a value.
    Value,
    /// Right after `[` inside a machine: a value or `]`.
    ValueOrEnd,
    /// After a value inside a machine: `,` or the end of the enclosing container.
    CommaOrEnd,
    /// Inside a string (see `Parser::role` and `Parser::esc`).
    Str,
    /// Inside a number.
    Num(Num),
    /// Inside the literal `LITERALS[lit]`, `at` bytes of it read.
    Lit { lit: u8, at: u8 },
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

const SPACES: u64 = ONES * b' ' as u64;

/// A little-endian word of `bytes` from `at` (which must hold 8 bytes there).
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(w)
}

/// The index of the first byte at or after `i` that is not JSON whitespace; runs of spaces
/// (indentation) eight at a time.
#[inline(always)]
fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&b) = bytes.get(i) {
        if !is_ws(b) {
            return i;
        }
        i += 1;
        if bytes.get(i) != Some(&b' ') {
            continue;
        }
        while let Some(block) = bytes.get(i..i + 8) {
            let x = word(block, 0) ^ SPACES;
            if x != 0 {
                i += x.trailing_zeros() as usize / 8;
                break;
            }
            i += 8;
        }
    }
    i
}

/// The bytes of `w` that are `"`, `\` or control characters (< 0x20), as their high bits: the
/// "has zero byte" and "has less than" bit tricks, exact for the lowest flagged byte (borrows
/// only run upward).
#[inline(always)]
fn string_stops(w: u64) -> u64 {
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    ((quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
        | (w.wrapping_sub(ONES * 0x20) & !w))
        & HIGHS
}

/// The bytes of a word below byte `n` (0 to 8).
#[inline(always)]
fn below(n: usize) -> u64 {
    u64::MAX.checked_shr(64 - 8 * n as u32).unwrap_or(0)
}

/// The index of the first `"`, `\` or control character (< 0x20) at or after `i`, or the
/// length: where a string's plain run stops. Eight bytes at a time. ORs the run's bytes into
/// `high`, so `high & HIGHS` tells whether the run holds non-ASCII bytes.
#[inline(always)]
fn string_run(bytes: &[u8], mut i: usize, high: &mut u64) -> usize {
    while let Some(block) = bytes.get(i..i + 8) {
        let w = word(block, 0);
        let stops = string_stops(w);
        if stops != 0 {
            let at = stops.trailing_zeros() as usize / 8;
            *high |= w & below(at);
            return i + at;
        }
        *high |= w;
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        *high |= u64::from(b);
        i += 1;
    }
    i
}

/// The index of the closing quote of a string whose body starts at `start`, when the body has
/// no escape or control character, is valid UTF-8 and closes within `bytes`.
#[inline(always)]
fn plain_string(bytes: &[u8], start: usize) -> Option<usize> {
    let mut high = 0;
    let stop = string_run(bytes, start, &mut high);
    if bytes.get(stop) != Some(&b'"') || high & HIGHS != 0 && std::str::from_utf8(&bytes[start..stop]).is_err() {
        return None;
    }
    Some(stop)
}

/// The index right after a valid number starting at `i`, when a byte follows it within
/// `bytes` (so it is known to be whole).
#[inline(always)]
fn number_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    let digit = |i: usize| bytes.get(i).map(u8::is_ascii_digit);
    if bytes[i] == b'-' {
        i += 1;
    }
    match *bytes.get(i)? {
        b'0' => {
            i += 1;
            if digit(i)? {
                return None;
            }
        }
        b'1'..=b'9' => {
            i += 1;
            while digit(i)? {
                i += 1;
            }
        }
        _ => return None,
    }
    if *bytes.get(i)? == b'.' {
        i += 1;
        if !digit(i)? {
            return None;
        }
        while digit(i)? {
            i += 1;
        }
    }
    if matches!(*bytes.get(i)?, b'e' | b'E') {
        i += 1;
        if matches!(*bytes.get(i)?, b'+' | b'-') {
            i += 1;
        }
        if !digit(i)? {
            return None;
        }
        while digit(i)? {
            i += 1;
        }
    }
    Some(i)
}

/// What a value starting with `b` is, in words.
fn kind_of(b: u8) -> Option<&'static str> {
    match b {
        b'"' => Some("a string"),
        b'{' => Some("an object"),
        b'[' => Some("an array"),
        b't' | b'f' => Some("a boolean"),
        b'n' => Some("null"),
        b'-' | b'0'..=b'9' => Some("a number"),
        _ => None,
    }
}

/// The exact, resumable parser: takes the document in any pieces, one after another.
struct Parser {
    /// Offset of the next byte [`Parser::run`] takes.
    offset: u64,
    mode: Mode,
    /// Open containers: 1 inside the list, 2 inside a machine, more in its values.
    depth: usize,
    /// Bit `d` set when the container at depth `d + 1` is an object.
    kinds: Vec<u64>,
    /// Machines finished before the current one (the current one's index).
    machines: u64,
    /// Largest machine accepted, in bytes.
    max_machine: usize,
    // The string being read.
    role: Role,
    esc: Esc,
    /// Whether the captured bytes hold an escape.
    escaped: bool,
    /// Where the string being captured started.
    string_start: u64,
    capture: Vec<u8>,
    // The machine being read.
    /// Where its `{` is.
    start: u64,
    /// The fields seen so far (bits of [`Field`]).
    seen: u8,
    /// The field the last top-level key names, until its value starts.
    field: Option<Field>,
    system_id: String,
    hostname: String,
    power_type: String,
}

impl Parser {
    /// A parser at the start of the document.
    fn new(max_machine: usize) -> Parser {
        Parser {
            offset: 0,
            mode: Mode::Start,
            depth: 0,
            kinds: Vec::new(),
            machines: 0,
            max_machine,
            role: Role::Skip,
            esc: Esc::None,
            escaped: false,
            string_start: 0,
            capture: Vec::new(),
            start: 0,
            seen: 0,
            field: None,
            system_id: String::new(),
            hostname: String::new(),
            power_type: String::new(),
        }
    }

    /// A parser right after a `,` between two machines, `offset` bytes into the document, that
    /// numbers the machines it reads from 0.
    fn between(offset: u64, max_machine: usize) -> Parser {
        let mut p = Parser::new(max_machine);
        p.offset = offset;
        p.push(false);
        p.mode = Mode::NextMachine;
        p
    }

    /// Whether the bytes so far end right after a `,` between two machines: the state
    /// [`Parser::between`] starts in.
    fn between_machines(&self) -> bool {
        self.mode == Mode::NextMachine
    }

    fn push(&mut self, object: bool) {
        self.set_kind(self.depth, object);
        self.depth += 1;
    }

    fn in_object(&self) -> bool {
        self.object_at(self.depth)
    }

    fn place(&self) -> Place {
        match self.depth {
            0 if self.mode == Mode::Done => Place::AfterList,
            0 | 1 => Place::Before(self.machines),
            _ => Place::Inside(self.machines),
        }
    }

    fn syntax(&self, at: u64, expected: &'static str, found: Found) -> MachineListError {
        MachineListError::Syntax {
            offset: at,
            place: self.place(),
            expected,
            found,
        }
    }

    /// Where the current machine must end by: the index into a piece of `len` bytes.
    fn limit(&self, len: usize) -> usize {
        if self.depth < 2 {
            return len;
        }
        let end = (self.start + self.max_machine as u64).saturating_sub(self.offset);
        usize::try_from(end).map_or(len, |e| e.min(len))
    }

    /// Consumes the next piece of the document, appending each machine it completes to `out`.
    ///
    /// # Errors
    /// The first error in the piece; the parser is then unusable.
    fn run(&mut self, piece: &[u8], out: &mut ListPart) -> Result<(), MachineListError> {
        let mut i = 0usize;
        let mut end = self.limit(piece.len());
        'run: loop {
            let bytes = &piece[..end];
            match self.mode {
                Mode::Str => {
                    if !self.string(bytes, &mut i)? {
                        break 'run;
                    }
                    self.string_done()?;
                }
                Mode::Num(mut state) => loop {
                    let Some(&b) = bytes.get(i) else {
                        self.mode = Mode::Num(state);
                        break 'run;
                    };
                    let next = match (state, b) {
                        (Num::Int | Num::Frac | Num::ExpInt, b'0'..=b'9') => state,
                        (Num::Minus, b'0') => Num::Zero,
                        (Num::Minus, b'1'..=b'9') => Num::Int,
                        (Num::Dot, b'0'..=b'9') => Num::Frac,
                        (Num::Exp | Num::ExpSign, b'0'..=b'9') => Num::ExpInt,
                        (Num::Zero | Num::Int, b'.') => Num::Dot,
                        (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Num::Exp,
                        (Num::Exp, b'+' | b'-') => Num::ExpSign,
                        (Num::Zero, b'0'..=b'9') => {
                            return Err(self.syntax(
                                self.offset + i as u64,
                                "the end of a number (no leading zeros)",
                                Found::Byte(b),
                            ))
                        }
                        (Num::Zero | Num::Int | Num::Frac | Num::ExpInt, _) => {
                            self.mode = Mode::CommaOrEnd;
                            break;
                        }
                        (Num::Minus | Num::Dot | Num::Exp | Num::ExpSign, _) => {
                            return Err(self.syntax(self.offset + i as u64, "a digit of a number", Found::Byte(b)))
                        }
                    };
                    state = next;
                    i += 1;
                },
                Mode::Lit { lit, mut at } => {
                    let word = LITERALS[usize::from(lit)];
                    while usize::from(at) < word.len() {
                        let Some(&b) = bytes.get(i) else {
                            self.mode = Mode::Lit { lit, at };
                            break 'run;
                        };
                        if b != word[usize::from(at)] {
                            return Err(self.syntax(self.offset + i as u64, "true, false or null", Found::Byte(b)));
                        }
                        at += 1;
                        i += 1;
                    }
                    self.mode = Mode::CommaOrEnd;
                }
                mode => {
                    let mode = if self.depth >= 2 && self.field.is_none() {
                        i = self.skim(bytes, i);
                        self.mode
                    } else {
                        mode
                    };
                    i = skip_ws(bytes, i);
                    let Some(&b) = bytes.get(i) else {
                        break 'run;
                    };
                    let at = self.offset + i as u64;
                    i += 1;
                    match mode {
                        Mode::KeyOrEnd
                        | Mode::Key
                        | Mode::CommaOrEnd
                        | Mode::Colon
                        | Mode::Value
                        | Mode::ValueOrEnd => self.inside(mode, b, at, out, &mut end, piece.len())?,
                        Mode::Start => {
                            if b != b'[' {
                                return Err(MachineListError::NotAnArray {
                                    offset: at,
                                    found: Found::Byte(b),
                                });
                            }
                            self.push(false);
                            self.mode = Mode::FirstMachine;
                        }
                        Mode::FirstMachine | Mode::NextMachine => {
                            if b == b'{' {
                                self.push(true);
                                self.start = at;
                                self.mode = Mode::KeyOrEnd;
                                end = self.limit(piece.len());
                            } else if b == b']' && mode == Mode::FirstMachine {
                                self.depth = 0;
                                self.mode = Mode::Done;
                            } else if let Some(kind) = kind_of(b) {
                                return Err(MachineListError::NotAnObject {
                                    machine: self.machines,
                                    offset: at,
                                    kind,
                                });
                            } else {
                                let expected = if mode == Mode::FirstMachine {
                                    "a machine object or ']'"
                                } else {
                                    "a machine object"
                                };
                                return Err(self.syntax(at, expected, Found::Byte(b)));
                            }
                        }
                        Mode::AfterMachine => match b {
                            b',' => self.mode = Mode::NextMachine,
                            b']' => {
                                self.depth = 0;
                                self.mode = Mode::Done;
                            }
                            _ => return Err(self.syntax(at, "',' or ']'", Found::Byte(b))),
                        },
                        Mode::Done => {
                            return Err(MachineListError::Trailing {
                                offset: at,
                                found: Found::Byte(b),
                            })
                        }
                        Mode::Str | Mode::Num(_) | Mode::Lit { .. } => unreachable!("token modes are matched above"),
                    }
                }
            }
        }
        if end < piece.len() {
            return Err(MachineListError::TooLarge {
                machine: self.machines,
                offset: self.start,
            });
        }
        self.offset += piece.len() as u64;
        Ok(())
    }

    /// The fast path of [`Parser::run`] inside a machine: from `i`, takes keys, the three
    /// fields' values and every nested value in local state, as long as each token is plain
    /// (strings without escapes and closed within `bytes`, numbers and literals whole within
    /// `bytes`, valid JSON, a field's value of the right type, no field named twice). Stops at
    /// the first token it does not take (an escape, the machine's end, the end of `bytes`,
    /// anything `run` must word as an error) with [`Parser::mode`], [`Parser::depth`] and
    /// [`Parser::field`] exact right before it, so `run` goes on from there; returns where.
    /// Enters with no field pending.
    #[inline(always)]
    fn skim(&mut self, bytes: &[u8], mut i: usize) -> usize {
        let mut mode = self.mode;
        let mut depth = self.depth;
        // The field whose value comes next (the caller enters with none pending).
        let mut field: Option<Field> = None;
        // The kind of the innermost container, kept at hand.
        let mut object = self.object_at(depth);
        loop {
            i = skip_ws(bytes, i);
            let Some(&b) = bytes.get(i) else { break };
            match mode {
                Mode::CommaOrEnd => {
                    if b == b',' {
                        mode = if object { Mode::Key } else { Mode::Value };
                    } else if b == if object { b'}' } else { b']' } && depth > 2 {
                        depth -= 1;
                        object = self.object_at(depth);
                    } else {
                        break;
                    }
                    i += 1;
                }
                Mode::Key | Mode::KeyOrEnd => {
                    if b == b'"' {
                        let Some(end) = plain_string(bytes, i + 1) else { break };
                        if depth == 2 {
                            if let Some(f) = Field::of(&bytes[i + 1..end]) {
                                if self.seen & f as u8 != 0 {
                                    // Named twice: `run` says so.
                                    break;
                                }
                                self.seen |= f as u8;
                                field = Some(f);
                            }
                        }
                        i = end + 1;
                        if bytes.get(i) != Some(&b':') {
                            mode = Mode::Colon;
                            continue;
                        }
                        i += 1;
                        mode = Mode::Value;
                    } else if b == b'}' && mode == Mode::KeyOrEnd && depth > 2 {
                        depth -= 1;
                        object = self.object_at(depth);
                        mode = Mode::CommaOrEnd;
                        i += 1;
                    } else {
                        break;
                    }
                }
                Mode::Colon => {
                    if b != b':' {
                        break;
                    }
                    mode = Mode::Value;
                    i += 1;
                }
                Mode::Value | Mode::ValueOrEnd => {
                    if let Some(f) = field {
                        // The value of system_id, hostname or power_type: a plain string or a
                        // null power type here, anything else (a type error, escapes) in `run`.
                        if b == b'"' {
                            let Some(end) = plain_string(bytes, i + 1) else { break };
                            let Ok(text) = std::str::from_utf8(&bytes[i + 1..end]) else {
                                break;
                            };
                            let value = match f {
                                Field::SystemId => &mut self.system_id,
                                Field::Hostname => &mut self.hostname,
                                Field::PowerType => &mut self.power_type,
                            };
                            value.clear();
                            value.push_str(text);
                            i = end + 1;
                        } else if f == Field::PowerType && bytes.get(i..i + 4) == Some(b"null") {
                            i += 4;
                        } else {
                            break;
                        }
                        field = None;
                        mode = Mode::CommaOrEnd;
                        continue;
                    }
                    match b {
                        b'"' => {
                            let Some(end) = plain_string(bytes, i + 1) else { break };
                            i = end + 1;
                        }
                        b'{' | b'[' => {
                            object = b == b'{';
                            self.set_kind(depth, object);
                            depth += 1;
                            mode = if object { Mode::KeyOrEnd } else { Mode::ValueOrEnd };
                            i += 1;
                            continue;
                        }
                        b']' if mode == Mode::ValueOrEnd => {
                            depth -= 1;
                            object = self.object_at(depth);
                            i += 1;
                        }
                        b't' | b'f' | b'n' => {
                            // The literal's first four bytes as one word, then `e` for `false`.
                            let (four, len): (&[u8; 4], usize) = match b {
                                b't' => (b"true", 4),
                                b'f' => (b"fals", 5),
                                _ => (b"null", 4),
                            };
                            let Some(head) = bytes.get(i..i + 4) else { break };
                            if u32::from_le_bytes([head[0], head[1], head[2], head[3]]) != u32::from_le_bytes(*four)
                                || len == 5 && bytes.get(i + 4) != Some(&b'e')
                            {
                                break;
                            }
                            i += len;
                        }
                        b'-' | b'0'..=b'9' => {
                            let Some(end) = number_end(bytes, i) else { break };
                            i = end;
                        }
                        _ => break,
                    }
                    // A value is done: a ',' right after it is the common case.
                    if bytes.get(i) == Some(&b',') {
                        mode = if object { Mode::Key } else { Mode::Value };
                        i += 1;
                    } else {
                        mode = Mode::CommaOrEnd;
                    }
                }
                _ => break,
            }
        }
        self.mode = mode;
        self.depth = depth;
        self.field = field;
        i
    }

    /// Records whether the container opened at depth `depth + 1` is an object.
    #[inline(always)]
    fn set_kind(&mut self, depth: usize, object: bool) {
        let (word, bit) = (depth / 64, depth % 64);
        if word == self.kinds.len() {
            self.kinds.push(0);
        }
        if object {
            self.kinds[word] |= 1 << bit;
        } else {
            self.kinds[word] &= !(1 << bit);
        }
    }

    /// Whether the container at depth `depth` is an object.
    #[inline(always)]
    fn object_at(&self, depth: usize) -> bool {
        let d = depth - 1;
        (self.kinds[d / 64] >> (d % 64)) & 1 == 1
    }

    /// One structural byte `b` at offset `at` inside a machine, in `mode`.
    #[inline(always)]
    fn inside(
        &mut self,
        mode: Mode,
        b: u8,
        at: u64,
        out: &mut ListPart,
        end: &mut usize,
        len: usize,
    ) -> Result<(), MachineListError> {
        match mode {
            Mode::CommaOrEnd => match b {
                b',' => self.mode = if self.in_object() { Mode::Key } else { Mode::Value },
                b'}' if self.in_object() => self.close(out, end, len)?,
                b']' if !self.in_object() => self.close(out, end, len)?,
                _ => {
                    let expected = if self.in_object() { "',' or '}'" } else { "',' or ']'" };
                    return Err(self.syntax(at, expected, Found::Byte(b)));
                }
            },
            Mode::Key | Mode::KeyOrEnd => match b {
                b'"' => self.open_string(if self.depth == 2 { Role::Key } else { Role::NestedKey }, at),
                b'}' if mode == Mode::KeyOrEnd => self.close(out, end, len)?,
                _ => {
                    let expected = if mode == Mode::KeyOrEnd {
                        "a field name (a string) or '}'"
                    } else {
                        "a field name (a string)"
                    };
                    return Err(self.syntax(at, expected, Found::Byte(b)));
                }
            },
            Mode::Colon => {
                if b != b':' {
                    return Err(self.syntax(at, "':'", Found::Byte(b)));
                }
                self.mode = Mode::Value;
            }
            Mode::ValueOrEnd if b == b']' => self.close(out, end, len)?,
            _ => self.value(b, at)?,
        }
        Ok(())
    }

    /// The first byte `b` (at `at`) of a value inside a machine.
    #[inline(always)]
    fn value(&mut self, b: u8, at: u64) -> Result<(), MachineListError> {
        if let Some(field) = self.field.take() {
            // The value of a machine's system_id, hostname or power_type.
            match b {
                b'"' => {
                    self.open_string(Role::Value(field), at);
                    return Ok(());
                }
                b'n' if field == Field::PowerType => {}
                _ => {
                    if let Some(kind) = kind_of(b) {
                        return Err(MachineListError::WrongType {
                            machine: self.machines,
                            offset: at,
                            field: field.name(),
                            kind,
                            expected: field.expected(),
                        });
                    }
                }
            }
        }
        self.mode = match b {
            b'"' => {
                self.role = Role::Skip;
                Mode::Str
            }
            b'{' => {
                self.push(true);
                Mode::KeyOrEnd
            }
            b'[' => {
                self.push(false);
                Mode::ValueOrEnd
            }
            b'-' => Mode::Num(Num::Minus),
            b'0' => Mode::Num(Num::Zero),
            b'1'..=b'9' => Mode::Num(Num::Int),
            b't' => Mode::Lit { lit: 0, at: 1 },
            b'f' => Mode::Lit { lit: 1, at: 1 },
            b'n' => Mode::Lit { lit: 2, at: 1 },
            _ => return Err(self.syntax(at, "a value", Found::Byte(b))),
        };
        Ok(())
    }

    fn open_string(&mut self, role: Role, at: u64) {
        self.role = role;
        self.mode = Mode::Str;
        if matches!(role, Role::Key | Role::Value(_)) {
            self.capture.clear();
            self.escaped = false;
            self.string_start = at;
        }
    }

    /// Closes the innermost container (its closing byte just read).
    fn close(&mut self, out: &mut ListPart, end: &mut usize, len: usize) -> Result<(), MachineListError> {
        self.depth -= 1;
        if self.depth > 1 {
            self.mode = Mode::CommaOrEnd;
            return Ok(());
        }
        if self.seen & Field::SystemId as u8 == 0 {
            return Err(MachineListError::MissingSystemId {
                machine: self.machines,
                offset: self.start,
            });
        }
        out.push(&self.system_id, &self.hostname, &self.power_type);
        self.system_id.clear();
        self.hostname.clear();
        self.power_type.clear();
        self.machines += 1;
        self.seen = 0;
        self.mode = Mode::AfterMachine;
        *end = len;
        Ok(())
    }

    /// Reads a string's bytes from `*i`; `Ok(true)` once its closing quote is read, `Ok(false)`
    /// at the end of `bytes` (the string goes on in the next piece). Out of line: it is the
    /// exact path's (escapes, strings that pieces cut), and inlined into [`Parser::run`] its
    /// changes moved the fast path's code (up to 7% more instructions, callgrind).
    #[inline(never)]
    fn string(&mut self, bytes: &[u8], i: &mut usize) -> Result<bool, MachineListError> {
        let capture = matches!(self.role, Role::Key | Role::Value(_));
        loop {
            match self.esc {
                Esc::None => {
                    let start = *i;
                    let mut high = 0u64;
                    let stop = string_run(bytes, start, &mut high);
                    if high & HIGHS != 0 {
                        if let Err(e) = std::str::from_utf8(&bytes[start..stop]) {
                            let at = start + e.valid_up_to();
                            if e.error_len().is_some() || stop < bytes.len() {
                                return Err(MachineListError::NotUtf8 {
                                    offset: self.offset + at as u64,
                                    place: self.place(),
                                });
                            }
                            // A character cut by the end of `bytes`: the next piece has the
                            // rest.
                            self.esc = Esc::cut(&bytes[at..stop]);
                        }
                    }
                    if capture {
                        self.capture.extend_from_slice(&bytes[start..stop]);
                    }
                    *i = stop;
                    let Some(&b) = bytes.get(stop) else {
                        return Ok(false);
                    };
                    *i += 1;
                    match b {
                        b'"' => return Ok(true),
                        b'\\' => {
                            self.esc = Esc::Backslash;
                            if capture {
                                self.capture.push(b);
                                self.escaped = true;
                            }
                        }
                        _ => {
                            return Err(self.syntax(
                                self.offset + stop as u64,
                                "a string without raw control characters (they must be escaped)",
                                Found::Byte(b),
                            ))
                        }
                    }
                }
                Esc::Char { first, len } => {
                    if !self.complete_char(&first[..usize::from(len)], bytes, i, capture)? {
                        return Ok(false);
                    }
                }
                Esc::Backslash => {
                    let Some(&b) = bytes.get(*i) else {
                        return Ok(false);
                    };
                    self.esc = match b {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Esc::None,
                        b'u' => Esc::Hex(4),
                        _ => {
                            return Err(self.syntax(
                                self.offset + *i as u64,
                                "an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX",
                                Found::Byte(b),
                            ))
                        }
                    };
                    if capture {
                        self.capture.push(b);
                    }
                    *i += 1;
                }
                Esc::Hex(n) => {
                    let Some(&b) = bytes.get(*i) else {
                        return Ok(false);
                    };
                    if !b.is_ascii_hexdigit() {
                        return Err(self.syntax(
                            self.offset + *i as u64,
                            "a hex digit of a \\uXXXX escape",
                            Found::Byte(b),
                        ));
                    }
                    if capture {
                        self.capture.push(b);
                    }
                    self.esc = if n == 1 { Esc::None } else { Esc::Hex(n - 1) };
                    *i += 1;
                }
            }
        }
    }

    /// Completes a character the last piece's end cut (its `first` bytes) with the first bytes
    /// of `bytes` (from `*i`, which moves past them): `Ok(true)` once it is whole and valid,
    /// `Ok(false)` when `bytes` ends before it does (it stays pending in [`Parser::esc`]).
    ///
    /// # Errors
    /// [`MachineListError::NotUtf8`] at the character's first byte when it is not valid UTF-8:
    /// the offset a reading in one piece gives.
    #[cold]
    #[inline(never)]
    fn complete_char(
        &mut self,
        first: &[u8],
        bytes: &[u8],
        i: &mut usize,
        capture: bool,
    ) -> Result<bool, MachineListError> {
        // Only lead bytes of 2 to 4 bytes are left pending (others fail where they are).
        let width = match first[0] {
            0xe0..=0xef => 3,
            0xf0.. => 4,
            _ => 2,
        };
        let next = &bytes[*i..bytes.len().min(*i + width - first.len())];
        let mut char = [0; 4];
        char[..first.len()].copy_from_slice(first);
        char[first.len()..first.len() + next.len()].copy_from_slice(next);
        let char = &char[..first.len() + next.len()];
        self.esc = match std::str::from_utf8(char) {
            Ok(_) => Esc::None,
            // Still cut: `bytes` ends inside it too.
            Err(e) if e.error_len().is_none() => Esc::cut(char),
            Err(_) => {
                return Err(MachineListError::NotUtf8 {
                    // Its first bytes were the last piece's last.
                    offset: self.offset + *i as u64 - first.len() as u64,
                    place: self.place(),
                });
            }
        };
        if capture {
            self.capture.extend_from_slice(next);
        }
        *i += next.len();
        Ok(self.esc == Esc::None)
    }

    /// The captured string as text: unescaped by serde_json when it holds escapes (so it takes
    /// exactly what serde_json takes: a lone surrogate is refused), as is otherwise.
    fn captured(&self) -> Option<String> {
        if self.escaped {
            let mut quoted = Vec::with_capacity(self.capture.len() + 2);
            quoted.push(b'"');
            quoted.extend_from_slice(&self.capture);
            quoted.push(b'"');
            serde_json::from_slice(&quoted).ok()
        } else {
            String::from_utf8(self.capture.clone()).ok()
        }
    }

    /// A string was closed: a key names its field, a value is stored.
    fn string_done(&mut self) -> Result<(), MachineListError> {
        self.mode = match self.role {
            Role::Skip => Mode::CommaOrEnd,
            Role::NestedKey => Mode::Colon,
            Role::Key => {
                let field = if self.escaped {
                    let key = self.captured().ok_or_else(|| self.bad_escape())?;
                    Field::of(key.as_bytes())
                } else {
                    Field::of(&self.capture)
                };
                if let Some(f) = field {
                    if self.seen & f as u8 != 0 {
                        return Err(MachineListError::Duplicate {
                            machine: self.machines,
                            offset: self.string_start,
                            field: f.name(),
                        });
                    }
                    self.seen |= f as u8;
                }
                self.field = field;
                Mode::Colon
            }
            Role::Value(f) => {
                let text = self.captured().ok_or_else(|| self.bad_escape())?;
                match f {
                    Field::SystemId => self.system_id = text,
                    Field::Hostname => self.hostname = text,
                    Field::PowerType => self.power_type = text,
                }
                Mode::CommaOrEnd
            }
        };
        // A capture can be as large as a machine: give the memory back.
        if self.capture.capacity() > 64 * 1024 {
            self.capture = Vec::new();
        }
        Ok(())
    }

    fn bad_escape(&self) -> MachineListError {
        MachineListError::Syntax {
            offset: self.string_start,
            place: self.place(),
            expected: "a string whose \\u escapes are valid UTF-16 (no lone surrogate)",
            found: Found::Byte(b'"'),
        }
    }

    /// The end of the document: `offset` is its length.
    fn finish(&self) -> Result<(), MachineListError> {
        match self.mode {
            Mode::Done => Ok(()),
            Mode::Start => Err(MachineListError::NotAnArray {
                offset: self.offset,
                found: Found::End,
            }),
            _ => Err(MachineListError::Truncated {
                offset: self.offset,
                place: self.place(),
            }),
        }
    }
}

/// A worker's answer for one piece, parsed as if it started where assumed.
struct Parsed {
    /// The machines it completed, numbered from 0.
    machines: ListPart,
    /// The parser after the piece (or after its first error).
    parser: Parser,
    result: Result<(), MachineListError>,
}

/// The workers' side of [`read`]: parses one piece as if it starts where assumed, at the
/// document's start (the first piece) or right after a `,` between two machines.
struct Workers {
    max_machine: usize,
}

impl pieces::Parse for Workers {
    type Answer = Parsed;

    fn parse(&self, piece: &Piece) -> Parsed {
        let mut parser = if piece.seq == 0 {
            Parser::new(self.max_machine)
        } else {
            Parser::between(piece.offset, self.max_machine)
        };
        let mut machines = ListPart::default();
        let result = parser.run(piece.bytes(), &mut machines);
        Parsed {
            machines,
            parser,
            result,
        }
    }

    fn panicked(&self, piece: &Piece) -> Parsed {
        let failed = MachineListError::Io(format!("the parser failed on the piece at byte {}", piece.offset));
        Parsed {
            machines: ListPart::default(),
            parser: Parser::new(self.max_machine),
            result: Err(failed),
        }
    }
}

/// The first key of the first machine (`[ { "key"`), when the document starts with one: every
/// machine MAAS prints starts with the same key, which tells where machines start.
fn first_key(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut i = skip_ws(bytes, 0);
    for expected in [b'[', b'{'] {
        if bytes.get(i) != Some(&expected) {
            return None;
        }
        i = skip_ws(bytes, i + 1);
    }
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let key = &bytes[i + 1..bytes.len().min(i + 129)];
    let end = memchr::memchr2(b'"', b'\\', key)?;
    (key[end] == b'"').then(|| key[..end].to_vec())
}

/// Where to cut a buffer so the next piece most likely starts between two machines: right
/// after a `,` between `}` and `{` — the last one whose `{` opens with the first machine's
/// first key, else the least indented one (pretty-printed machines are the outermost objects),
/// the last among equals. A guess (a string may hold `},{`); [`read`] checks every guess
/// against the exact parse of the piece before. Without a candidate, the buffer's end (a
/// character cut there is completed by the next piece, see [`Esc::Char`]).
fn cut(bytes: &[u8], key: Option<&[u8]>) -> usize {
    let floor = bytes.len().saturating_sub(CUT_WINDOW);
    let mut best: Option<(usize, usize)> = None;
    let mut end = bytes.len();
    while let Some(comma) = memchr::memrchr(b',', &bytes[floor..end]).map(|j| floor + j) {
        end = comma;
        let Some(close) = bytes[..comma].iter().rposition(|b| !is_ws(*b)) else {
            break;
        };
        let open = skip_ws(bytes, comma + 1);
        if bytes[close] != b'}' || bytes.get(open) != Some(&b'{') {
            continue;
        }
        if let Some(key) = key {
            let k = skip_ws(bytes, open + 1);
            if bytes.get(k) == Some(&b'"')
                && bytes[k + 1..].starts_with(key)
                && bytes.get(k + 1 + key.len()) == Some(&b'"')
            {
                return comma + 1;
            }
        }
        let spaces = bytes[..close]
            .iter()
            .rev()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let indent = match close.checked_sub(spaces + 1).map(|j| bytes[j]) {
            Some(b'\n' | b'\r') => spaces,
            _ => usize::MAX,
        };
        if best.is_none_or(|(least, _)| indent < least) {
            best = Some((indent, comma + 1));
        }
    }
    best.map_or(bytes.len(), |(_, at)| at)
}

/// Reads a whole machine list from `source`: the `system_id`, `hostname` and `power_type` of
/// every machine, in document order (`hostname` `""` when missing, `power_type` `""` when
/// missing or null).
///
/// The reading thread fills [`PIECE_BYTES`] buffers from `source` (any reader: a file, stdin,
/// a channel fed by an HTTP body) and cuts each where the next machine most likely starts;
/// workers (as many as the machine has cores, up to 8) parse pieces in parallel, each assuming
/// its piece starts between two machines. Answers are taken in document order: an answer
/// stands only when the exact parse of the piece before ended exactly between two machines;
/// otherwise the reading thread parses the piece again from that exact state. The result is
/// that of one sequential parse, whatever the cuts. Memory: the result, at most [`IN_FLIGHT`]
/// pieces per worker, and the three values of one machine.
///
/// # Errors
/// The first [`MachineListError`] in document order: not an array, a syntax error (with its
/// byte offset and the machine it is in), an element that is not an object, a machine without
/// `system_id` or with a field of the wrong type or named twice, invalid UTF-8, a machine over
/// [`MAX_MACHINE`] bytes, truncation, data after the closing `]`; or a read error of `source`
/// (after everything read before it was parsed).
pub fn read<R: Read>(source: R) -> Result<MachineList, MachineListError> {
    read_in_pieces(source, PIECE_BYTES)
}

/// [`read`] with pieces of about `piece_bytes` instead of [`PIECE_BYTES`]: the answer is the
/// same for any size (the fuzz target cuts tiny pieces to put cuts everywhere).
///
/// # Errors
/// As [`read`].
pub fn read_in_pieces<R: Read>(source: R, piece_bytes: usize) -> Result<MachineList, MachineListError> {
    read_with(source, piece_bytes, MAX_MACHINE)
}

/// [`read`] over a machine-list file: in place when it is mapped, the same answer either way.
///
/// # Errors
/// As [`read`].
pub fn read_document(document: Document) -> Result<MachineList, MachineListError> {
    match document {
        Document::Mapped(mapped) => {
            let mut order = InOrder::new(MAX_MACHINE);
            let workers = Workers {
                max_machine: MAX_MACHINE,
            };
            let length = pieces::read_mapped(&mapped, &workers, &mut order, PIECE_BYTES)?;
            order.finish(length)
        }
        Document::Stream(file) => read(file),
    }
}

/// [`read`] with pieces of about `piece_bytes` and machines of at most `max_machine` bytes: the
/// answer is the same for any piece size (tests cut tiny pieces to put cuts everywhere).
fn read_with<R: Read>(source: R, piece_bytes: usize, max_machine: usize) -> Result<MachineList, MachineListError> {
    let mut order = InOrder::new(max_machine);
    let length = pieces::read(source, &Workers { max_machine }, &mut order, piece_bytes)?;
    order.finish(length)
}

/// Takes the workers' answers in document order (see [`read`]).
struct InOrder {
    /// The first machine's first key, once the first piece is cut.
    key: Option<Vec<u8>>,
    /// `None` while the next piece starts where its worker assumed; otherwise the exact parser
    /// at its start.
    exact: Option<Box<Parser>>,
    /// The machines so far.
    list: ListPart,
    /// How many pieces were taken.
    taken: usize,
    max_machine: usize,
}

impl pieces::InOrder for InOrder {
    type Answer = Parsed;
    type Error = MachineListError;

    fn cut(&mut self, bytes: &[u8], first: bool) -> usize {
        if first {
            self.key = first_key(bytes);
        }
        cut(bytes, self.key.as_deref())
    }

    fn take(&mut self, piece: &Piece, answer: Parsed) -> Result<(), MachineListError> {
        self.taken += 1;
        let count = self.list.entries.len() as u64;
        let (parser, machines) = match self.exact.take() {
            None => {
                answer.result.map_err(|e| e.shifted(count))?;
                let mut parser = answer.parser;
                parser.machines += count;
                (parser, answer.machines)
            }
            Some(mut parser) => {
                let mut machines = ListPart::default();
                parser.run(piece.bytes(), &mut machines)?;
                (*parser, machines)
            }
        };
        if count == 0 {
            // The first machines: taken as they are, no copy.
            self.list = machines;
        } else {
            self.list.append(machines);
        }
        if !parser.between_machines() {
            self.exact = Some(Box::new(parser));
        }
        Ok(())
    }

    fn failure(message: String) -> MachineListError {
        MachineListError::Io(message)
    }
}

impl InOrder {
    fn new(max_machine: usize) -> InOrder {
        InOrder {
            key: None,
            exact: None,
            list: ListPart::default(),
            taken: 0,
            max_machine,
        }
    }

    /// The machines, once every piece is taken; `length` is the document's.
    fn finish(self, length: u64) -> Result<MachineList, MachineListError> {
        match self.exact {
            Some(parser) => parser.finish()?,
            None if self.taken == 0 => Parser::new(self.max_machine).finish()?,
            None => {
                let mut parser = Parser::between(length, self.max_machine);
                parser.machines = self.list.entries.len() as u64;
                parser.finish()?
            }
        }
        Ok(MachineList {
            text: self.list.text,
            entries: self.list.entries,
            power_types: self.list.power_types,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::maas::bmc::pieces::test_sources::{Chunked, FailsAfter, Spaces};

    fn read_str(doc: &[u8]) -> Result<Vec<Machine>, MachineListError> {
        read(doc)
    }

    /// [`super::read`], the machines as owned values.
    fn read<R: Read>(source: R) -> Result<Vec<Machine>, MachineListError> {
        super::read(source).map(|list| list.to_machines())
    }

    /// [`super::read_with`], the machines as owned values.
    fn read_with<R: Read>(source: R, piece: usize, max_machine: usize) -> Result<Vec<Machine>, MachineListError> {
        super::read_with(source, piece, max_machine).map(|list| list.to_machines())
    }

    /// The reader over `doc` in memory, cut in place in pieces of about `piece` bytes.
    fn read_in_memory(doc: &[u8], piece: usize) -> Result<MachineList, MachineListError> {
        let mut order = InOrder::new(MAX_MACHINE);
        let workers = Workers {
            max_machine: MAX_MACHINE,
        };
        let length = pieces::read_in_memory(doc, &workers, &mut order, piece, &mut |_| {})?;
        order.finish(length)
    }

    #[test]
    fn a_mapped_file_gives_the_answer_of_a_stream() {
        // About 3.4 MB: past a release step, so pages are given back while the rest is read.
        let doc = mocks::fleet::Fleet::generate(200, 3).machines_json_real().into_bytes();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("machines.json");
        std::fs::write(&path, &doc).unwrap();
        let expected = super::read(doc.as_slice()).unwrap();
        assert_eq!(expected.len(), 200);
        let mapped = Document::open_mapping_from(&path, 0).unwrap();
        assert!(matches!(mapped, Document::Mapped(_)));
        assert_eq!(read_document(mapped).unwrap(), expected);
        // Below the threshold, the same file is read as a stream.
        let stream = Document::open_mapping_from(&path, u64::MAX).unwrap();
        assert!(matches!(stream, Document::Stream(_)));
        assert_eq!(read_document(stream).unwrap(), expected);
        // A truncated copy gives the stream's error, mapped or not.
        std::fs::write(&path, &doc[..doc.len() - 2]).unwrap();
        let err = super::read(&doc[..doc.len() - 2]).unwrap_err();
        assert_eq!(
            read_document(Document::open_mapping_from(&path, 0).unwrap()).unwrap_err(),
            err
        );
    }

    fn serde(doc: &[u8]) -> Result<Vec<Machine>, serde_json::Error> {
        serde_json::from_slice(doc)
    }

    fn machine(system_id: &str, hostname: &str, power_type: &str) -> Machine {
        Machine {
            system_id: system_id.into(),
            hostname: hostname.into(),
            power_type: power_type.into(),
        }
    }

    /// A small deterministic generator (PCG-style LCG, high bits).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.below(100) < percent
        }
        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len() as u64) as usize]
        }
    }

    #[derive(Clone, Copy)]
    enum Style {
        Compact,
        /// Python's `indent=4`.
        Pretty,
        /// Any whitespace anywhere it may go.
        Random,
    }

    /// Random JSON text shaped like a machine list, with decoys, escapes, Unicode and numbers
    /// of every form; mostly valid, sometimes not in the ways the shape forbids.
    struct Doc {
        rng: Rng,
        style: Style,
        out: Vec<u8>,
        depth: usize,
    }

    impl Doc {
        fn ws(&mut self) {
            match self.style {
                Style::Compact => {}
                Style::Pretty => {
                    self.out.push(b'\n');
                    self.out.extend(std::iter::repeat_n(b' ', 4 * self.depth));
                }
                Style::Random => {
                    for _ in 0..self.rng.below(3) {
                        let b = *self.rng.pick(b" \t\r\n");
                        self.out.push(b);
                    }
                }
            }
        }

        fn colon(&mut self) {
            match self.style {
                Style::Compact => self.out.push(b':'),
                Style::Pretty => self.out.extend_from_slice(b": "),
                Style::Random => {
                    self.ws();
                    self.out.push(b':');
                    self.ws();
                }
            }
        }

        /// `text` as a JSON string, each character written raw or escaped at random.
        fn string(&mut self, text: &str) {
            self.out.push(b'"');
            for c in text.chars() {
                let short = match c {
                    '"' => Some("\\\""),
                    '\\' => Some("\\\\"),
                    '\n' => Some("\\n"),
                    '\t' => Some("\\t"),
                    '\r' => Some("\\r"),
                    '\u{8}' => Some("\\b"),
                    '\u{c}' => Some("\\f"),
                    '/' if self.rng.chance(50) => Some("\\/"),
                    _ => None,
                };
                if let Some(s) = short {
                    self.out.extend_from_slice(s.as_bytes());
                } else if (c as u32) < 0x20 || self.rng.chance(10) {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        let hex = if self.rng.chance(50) {
                            format!("\\u{:04x}", u)
                        } else {
                            format!("\\u{:04X}", u)
                        };
                        self.out.extend_from_slice(hex.as_bytes());
                    }
                } else {
                    let mut buf = [0u8; 4];
                    self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
            self.out.push(b'"');
        }

        fn text(&mut self) -> String {
            const PARTS: &[&str] = &[
                "a",
                "node",
                "-",
                "7",
                "é",
                "节点",
                "😀",
                "\"",
                "\\",
                "\n",
                "\u{1}",
                "/",
                "},{",
                "system_id",
                "\"hostname\": \"x\"",
                " ",
                "]",
                "\u{7f}",
                "\u{2028}",
            ];
            (0..self.rng.below(6)).map(|_| *self.rng.pick(PARTS)).collect()
        }

        fn number(&mut self) {
            const NUMBERS: &[&str] = &[
                "0",
                "-0",
                "7",
                "-12",
                "3.25",
                "-0.5",
                "1e400",
                "2E-7",
                "0.5e+3",
                "-1E+0",
                "123456789012345678901234567890",
                "1420.288",
                "0e0",
            ];
            let n = *self.rng.pick(NUMBERS);
            self.out.extend_from_slice(n.as_bytes());
        }

        fn value(&mut self) {
            let limit = if self.depth > 6 { 5 } else { 8 };
            match self.rng.below(limit) {
                0 | 1 => {
                    let t = self.text();
                    self.string(&t);
                }
                2 => self.number(),
                3 => {
                    let lit = *self.rng.pick(&["true", "false", "null"]);
                    self.out.extend_from_slice(lit.as_bytes());
                }
                4 => self.out.extend_from_slice(b"[]"),
                5 | 6 => {
                    let keys = self.rng.below(5);
                    self.object(keys, |d, _| {
                        const KEYS: &[&str] = &["system_id", "hostname", "power_type", "id", "name", "vlan", "é"];
                        let k = *d.rng.pick(KEYS);
                        d.string(k);
                        d.colon();
                        d.value();
                    });
                }
                _ => {
                    let items = self.rng.below(4);
                    self.array(items, |d, _| d.value());
                }
            }
        }

        fn container(&mut self, open: u8, close: u8, items: u64, mut item: impl FnMut(&mut Doc, u64)) {
            self.out.push(open);
            if items == 0 {
                self.out.push(close);
                return;
            }
            self.depth += 1;
            for n in 0..items {
                if n > 0 {
                    self.out.push(b',');
                }
                self.ws();
                item(self, n);
            }
            self.depth -= 1;
            self.ws();
            self.out.push(close);
        }

        fn object(&mut self, keys: u64, item: impl FnMut(&mut Doc, u64)) {
            self.container(b'{', b'}', keys, item)
        }

        fn array(&mut self, items: u64, item: impl FnMut(&mut Doc, u64)) {
            self.container(b'[', b']', items, item)
        }

        /// One machine object: the three fields (usually valid) among other fields, in a
        /// random order, with nested decoys.
        fn machine(&mut self, index: u64) {
            let mut members: Vec<u8> = Vec::new();
            if !self.rng.chance(2) {
                members.push(0);
            }
            if self.rng.chance(85) {
                members.push(1);
            }
            if self.rng.chance(80) {
                members.push(2);
            }
            if self.rng.chance(2) {
                members.push(*self.rng.pick(&[0, 1, 2]));
            }
            members.extend(std::iter::repeat_n(3, self.rng.below(8) as usize));
            for i in (1..members.len()).rev() {
                members.swap(i, self.rng.below(i as u64 + 1) as usize);
            }
            self.object(members.len() as u64, |d, n| {
                let member = members[n as usize];
                let key = match member {
                    0 => *d.rng.pick(&["system_id", "system_id", "system_id", "system\\u005fid"]),
                    1 => *d.rng.pick(&["hostname", "hostname", "host\\u006Eame"]),
                    2 => "power_type",
                    _ => *d.rng.pick(&[
                        "interface_set",
                        "boot_interface",
                        "owner_data",
                        "status",
                        "Hostname",
                        "system_id ",
                        "power",
                    ]),
                };
                // Keys are written raw here, so their escapes are the ones chosen above.
                d.out.push(b'"');
                d.out.extend_from_slice(key.as_bytes());
                d.out.push(b'"');
                d.colon();
                match member {
                    0 | 1 if d.rng.chance(1) => d.out.extend_from_slice(b"null"),
                    0 | 1 => {
                        let t = format!("{}{}{index}", if member == 0 { "id" } else { "host-" }, d.text());
                        d.string(&t);
                    }
                    2 => match d.rng.below(10) {
                        0..=1 => d.out.extend_from_slice(b"null"),
                        2 if d.rng.chance(10) => d.out.extend_from_slice(b"5"),
                        _ => {
                            let t = d.pick_power();
                            d.string(&t);
                        }
                    },
                    _ => d.value(),
                }
            });
        }

        fn pick_power(&mut self) -> String {
            (*self
                .rng
                .pick(&["ipmi", "redfish", "virsh", "", "lxd", "manual", "é\"x"]))
            .to_string()
        }

        fn list(seed: u64, style: Style, machines: u64) -> Vec<u8> {
            let mut d = Doc {
                rng: Rng(seed),
                style,
                out: Vec::new(),
                depth: 0,
            };
            if let Style::Random = style {
                d.ws();
            }
            d.array(machines, |d, n| d.machine(n));
            if let Style::Random = style {
                d.ws();
            }
            d.out
        }
    }

    /// A copy of `doc` with one random edit: cut, a byte dropped, a byte added, a byte doubled.
    fn mutate(doc: &[u8], rng: &mut Rng) -> Vec<u8> {
        let mut out = doc.to_vec();
        let at = rng.below(doc.len() as u64 + 1) as usize;
        match rng.below(4) {
            0 => out.truncate(at),
            1 if at < out.len() => {
                out.remove(at);
            }
            2 => out.insert(at, *rng.pick(b",]}{[\"\\: x0-.e\x01\xff\x80n")),
            _ if at < out.len() => out.insert(at, doc[at]),
            _ => out.push(b' '),
        }
        out
    }

    /// The differences the module documents: invalid UTF-8 is refused, and an array where a
    /// machine belongs.
    fn documented_difference(doc: &[u8], ours: &Result<Vec<Machine>, MachineListError>) -> bool {
        std::str::from_utf8(doc).is_err() && ours.is_err()
            || matches!(ours, Err(MachineListError::NotAnObject { kind: "an array", .. }))
    }

    #[test]
    fn agrees_with_serde_on_random_lists() {
        let mut rng = Rng(99);
        let (mut valid, mut invalid) = (0, 0);
        for seed in 0..1500u64 {
            let style = [Style::Compact, Style::Pretty, Style::Random][seed as usize % 3];
            let doc = Doc::list(seed, style, seed % 7);
            for doc in [
                doc.clone(),
                mutate(&doc, &mut rng),
                mutate(&mutate(&doc, &mut rng), &mut rng),
            ] {
                let ours = read_str(&doc);
                let theirs = serde(&doc);
                match (&ours, &theirs) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a, b, "{}", String::from_utf8_lossy(&doc));
                        valid += 1;
                    }
                    (Err(_), Err(_)) => invalid += 1,
                    _ if documented_difference(&doc, &ours) => invalid += 1,
                    _ => panic!(
                        "ours {ours:?}, serde_json {theirs:?} on\n{}",
                        String::from_utf8_lossy(&doc)
                    ),
                }
            }
        }
        assert!(valid > 1000 && invalid > 1000, "{valid} valid, {invalid} invalid");
    }

    #[rstest::rstest]
    // Found by fuzz/fuzz_targets/machine_list.rs: a cut that ended a piece with 0xc9 (whose
    // next byte, 0xfa, is no continuation) had the error reported at 0xfa.
    #[case::lead_byte_then_lead_byte(b"[\r{\"|\xc9\xfa\xff\xff{u\x00", Some(5))]
    #[case::in_a_skipped_value(b"[{\"system_id\": \"a\", \"x\": \"\xc9\xfa\"}]", Some(26))]
    #[case::before_the_quote(b"[{\"system_id\": \"a\xe2\x82\"}]", Some(17))]
    #[case::overlong(b"[{\"system_id\": \"a\", \"x\": \"\xe0\x80\xaf\"}]", Some(26))]
    #[case::surrogate(b"[{\"system_id\": \"a\", \"x\": \"\xed\xa0\x80\"}]", Some(26))]
    #[case::valid_in_the_id(b"[{\"system_id\": \"\xe2\x82\xac\xf0\x9f\x98\x80\"}]", None)]
    #[case::valid_in_a_key(b"[{\"\xc3\xa9\xc3\xa9\": 1, \"system_id\": \"\xc3\xa9\"}]", None)]
    fn a_character_cut_between_pieces_is_judged_whole(#[case] doc: &[u8], #[case] not_utf8_at: Option<u64>) {
        let whole = super::read_with(doc, PIECE_BYTES, MAX_MACHINE);
        match not_utf8_at {
            Some(at) => assert!(
                matches!(whole, Err(MachineListError::NotUtf8 { offset, .. }) if offset == at),
                "{whole:?}"
            ),
            None => assert_eq!(whole.as_ref().map(MachineList::len), Ok(1)),
        }
        for piece in 1..=8 {
            for chunk in [1, 2, 3, 4096] {
                let got = super::read_with(Chunked(doc, chunk), piece, MAX_MACHINE);
                assert_eq!(got, whole, "piece {piece}, chunk {chunk}");
            }
            assert_eq!(read_in_memory(doc, piece), whole, "in place, piece {piece}");
        }
    }

    #[test]
    fn any_cut_and_any_read_size_give_the_same_answer() {
        let mut rng = Rng(5);
        for seed in 0..120u64 {
            let style = [Style::Compact, Style::Pretty, Style::Random][seed as usize % 3];
            let doc = Doc::list(seed, style, 1 + seed % 5);
            for doc in [doc.clone(), mutate(&doc, &mut rng)] {
                let whole = super::read_with(doc.as_slice(), PIECE_BYTES, MAX_MACHINE);
                for piece in [1, 2, 3, 7, 61, 250] {
                    for chunk in [1, 5, 4096] {
                        // The whole list: texts, hashes and power types numbered alike.
                        let got = super::read_with(Chunked(&doc, chunk), piece, MAX_MACHINE);
                        assert_eq!(
                            got,
                            whole,
                            "piece {piece}, chunk {chunk}: {}",
                            String::from_utf8_lossy(&doc)
                        );
                    }
                    // Cut in place, as a mapped file is.
                    let got = read_in_memory(&doc, piece);
                    assert_eq!(got, whole, "in place, piece {piece}: {}", String::from_utf8_lossy(&doc));
                }
            }
        }
    }

    #[test]
    fn the_index_finds_the_last_of_a_system_id_exactly() {
        let doc = br#"[{"system_id": "a", "hostname": "h1", "power_type": "ipmi"},
            {"system_id": "b", "power_type": null}, {"system_id": "c", "hostname": "h3", "power_type": "redfish"},
            {"system_id": "a", "hostname": "h4", "power_type": "redfish"}, {"system_id": "d", "hostname": "h5", "power_type": "ipmi"}]"#;
        let list = super::read(doc.as_slice()).unwrap();
        assert_eq!(list.len(), 5);
        assert_eq!(
            list.power_types(),
            ["ipmi", "", "redfish"],
            "in order of first appearance"
        );
        let ids: Vec<u32> = list.iter().map(|m| m.power_type_id).collect();
        assert_eq!(ids, [0, 1, 2, 2, 0]);
        let hashed = list.clone().into_index();
        // Every system_id "shares" one hash: lookups compare texts.
        let clashing = MachineIndex::hashed_with(list, |_| 7);
        assert!(!hashed.clash && clashing.clash);
        for index in [hashed, clashing] {
            assert_eq!(index.power_types(), ["ipmi", "", "redfish"]);
            let found = index.find("a").unwrap();
            assert_eq!((found.hostname, found.power_type), ("h4", "redfish"), "the last listed");
            assert_eq!(index.power_type("a"), Some(2));
            assert_eq!(index.find("b").map(|m| (m.hostname, m.power_type)), Some(("", "")));
            assert_eq!(index.power_type("b"), Some(1));
            assert_eq!(index.find("d").unwrap().hostname, "h5");
            assert_eq!(index.power_type("d"), Some(0));
            assert_eq!(index.find("e"), None);
            assert_eq!(index.power_type("e"), None);
        }
        let empty = super::read(b"[]".as_slice()).unwrap().into_index();
        assert!(empty.find("a").is_none() && empty.power_type("a").is_none());
        for n in 1..=9 {
            let doc: Vec<String> = (0..n).map(|i| format!(r#"{{"system_id": "m{i}"}}"#)).collect();
            let doc = format!("[{}]", doc.join(","));
            for index in [
                super::read(doc.as_bytes()).unwrap().into_index(),
                MachineIndex::hashed_with(super::read(doc.as_bytes()).unwrap(), |_| 7),
            ] {
                assert!(index.slots.len() > n, "a free slot ends every probe");
                assert!((0..n).all(|i| index.power_type(&format!("m{i}")) == Some(0)));
                assert_eq!(index.find("absent"), None, "{n} machines");
                if index.test_hash.is_none() || index.clash {
                    // One machine "sharing" a hash with nothing else is looked up by hash alone.
                    assert_eq!(index.power_type("absent"), None);
                }
            }
        }
    }

    #[test]
    fn the_index_finds_every_machine_of_a_large_list() {
        let fleet = mocks::fleet::Fleet::generate(3000, 4);
        let list = super::read(fleet.machines_json().as_bytes()).unwrap();
        let index = list.clone().into_index();
        assert!(!index.clash);
        for m in list.iter() {
            assert_eq!(index.find(m.system_id), Some(m));
            assert_eq!(index.power_type(m.system_id), Some(m.power_type_id));
        }
    }

    #[test]
    fn reads_the_top_level_fields_only() {
        let doc = br#"[
            {"boot_interface": {"system_id": "decoy1", "hostname": "decoy"}, "hostname": "h1",
             "interface_set": [{"system_id": "decoy2", "power_type": "x"}], "system_id": "abc123",
             "owner_data": {"system_id": "decoy3", "power_type": "ipmi"}, "power_type": "redfish"},
            {"system_id": "d\u00e9f", "power_type": null, "tag_names": ["system_id"]},
            {"power_type": "", "hostname": "h\"3\"", "system_id": "ghi", "hostname_x": "no"},
            {"system\u005fid": "jkl", "n": [1e400, -0.0, 12345678901234567890123, {"a": [[[]]]}]}
        ]"#;
        let expected = vec![
            machine("abc123", "h1", "redfish"),
            machine("déf", "", ""),
            machine("ghi", "h\"3\"", ""),
            machine("jkl", "", ""),
        ];
        assert_eq!(read_str(doc).unwrap(), expected);
        assert_eq!(serde(doc).unwrap(), expected);
        assert_eq!(read_str(b" [ ] ").unwrap(), vec![]);
    }

    #[test]
    fn reads_mocks_real_size_fleet_like_serde() {
        let fleet = mocks::fleet::Fleet::generate(400, 3);
        let doc = fleet.machines_json_real().into_bytes();
        let ours = read_with(Chunked(&doc, 4093), 64 * 1024, MAX_MACHINE).unwrap();
        assert_eq!(ours, serde(&doc).unwrap());
        assert_eq!(ours.len(), 400);
        for (m, f) in ours.iter().zip(&fleet.machines) {
            assert_eq!(
                (&m.system_id, &m.hostname, &m.power_type),
                (&f.system_id, &f.hostname, &f.power_type)
            );
        }
        let compact = fleet.machines_json().into_bytes();
        assert_eq!(read_with(compact.as_slice(), 4096, MAX_MACHINE).unwrap(), ours);
    }

    #[test]
    fn nesting_has_no_depth_limit() {
        let depth = 100_000;
        let mut doc = br#"[{"system_id": "a", "x": "#.to_vec();
        doc.extend(std::iter::repeat_n(b'[', depth));
        doc.extend(std::iter::repeat_n(b']', depth));
        doc.extend_from_slice(b"}]");
        assert_eq!(read_str(&doc).unwrap(), vec![machine("a", "", "")]);
        assert_eq!(
            serde(&doc).unwrap(),
            vec![machine("a", "", "")],
            "serde_json skips any depth too"
        );
    }

    #[rstest::rstest]
    #[case::empty(b"", "expected '[' at byte 0, found the end of the input (the input is empty)")]
    #[case::spaces(b"  \n ", "expected '[' at byte 4, found the end of the input")]
    #[case::html(
        b"<html><body>502 Bad Gateway</body></html>",
        "expected '[' at byte 0, found '<' (an HTML"
    )]
    #[case::object(br#"{"detail": "hunter2"}"#, "found '{' (a JSON object")]
    #[case::bom(b"\xef\xbb\xbf[]", "expected '[' at byte 0, found byte 0xef")]
    #[case::truncated_inside(
        br#"[{"system_id": "a"}, {"system_id": "hunter2", "x": [1, "#,
        "truncated at byte 55 inside machine 1"
    )]
    #[case::truncated_string(br#"[{"system_id": "hunter2"#, "truncated at byte 23 inside machine 0")]
    #[case::truncated_between(
        br#"[{"system_id": "a"},"#,
        "truncated at byte 20 after machine 0 (the array is not closed)"
    )]
    #[case::truncated_start(b"[", "truncated at byte 1 before the first machine")]
    #[case::trailing(br#"[{"system_id": "a"}] x"#, "more after its closing ']': found 'x' at byte 21")]
    #[case::two_arrays(b"[] []", "found '[' at byte 3")]
    #[case::trailing_comma(
        br#"[{"system_id": "a"},]"#,
        "at byte 20 after machine 0: expected a machine object, found ']'"
    )]
    #[case::trailing_comma_in_object(br#"[{"system_id": "a",}]"#, "at byte 19 inside machine 0: expected a field name")]
    #[case::missing_comma(br#"[{"system_id": "a"} {"system_id": "b"}]"#, "expected ',' or ']', found '{'")]
    #[case::no_system_id(
        br#"[{"system_id": "a"}, {"hostname": "b", "boot_interface": {"system_id": "c"}}]"#,
        "machine 1 (byte 21) has no system_id"
    )]
    #[case::system_id_number(
        br#"[{"system_id": 12}]"#,
        "machine 0 (byte 15): system_id is a number, expected a string"
    )]
    #[case::system_id_null(br#"[{"system_id": null}]"#, "system_id is null, expected a string")]
    #[case::hostname_null(br#"[{"system_id": "a", "hostname": null}]"#, "hostname is null, expected a string")]
    #[case::power_type_object(
        br#"[{"system_id": "a", "power_type": {"p": "hunter2"}}]"#,
        "power_type is an object, expected a string or null"
    )]
    #[case::duplicate(
        br#"[{"system_id": "a", "system\u005fid": "b"}]"#,
        "machine 0 (byte 20) has the field system_id twice"
    )]
    #[case::duplicate_null(
        br#"[{"system_id": "a", "power_type": null, "power_type": "ipmi"}]"#,
        "has the field power_type twice"
    )]
    #[case::string_element(br#"["hunter2"]"#, "machine 0 (byte 1) is a string, not a machine object")]
    #[case::null_element(br#"[{"system_id": "a"}, null]"#, "machine 1 (byte 21) is null")]
    #[case::not_utf8_key(b"[{\"system_id\": \"a\", \"\xc3\": 1}]", "not UTF-8 text at byte 21")]
    #[case::control(
        b"[{\"system_id\": \"a\", \"x\": \"hunter2\x01\"}]",
        "at byte 33 inside machine 0: expected a string without raw control characters"
    )]
    #[case::bad_escape(
        br#"[{"system_id": "a", "x": "hunter2\q"}]"#,
        "at byte 34 inside machine 0: expected an escape"
    )]
    #[case::bad_unicode(br#"[{"system_id": "a", "x": "\u12G4"}]"#, "expected a hex digit")]
    #[case::lone_surrogate_in_id(br#"[{"system_id": "\ud800"}]"#, "no lone surrogate")]
    #[case::leading_zero(br#"[{"system_id": "a", "x": 012}]"#, "no leading zeros")]
    #[case::bare_minus(br#"[{"system_id": "a", "x": -}]"#, "expected a digit of a number, found '}'")]
    #[case::bare_dot(br#"[{"system_id": "a", "x": 1.}]"#, "expected a digit of a number")]
    #[case::bare_exponent(br#"[{"system_id": "a", "x": 1e}]"#, "expected a digit of a number")]
    #[case::literal(br#"[{"system_id": "a", "x": tru}]"#, "expected true, false or null, found '}'")]
    #[case::key_not_string(br#"[{"system_id": "a", x: 1}]"#, "expected a field name (a string), found 'x'")]
    #[case::no_colon(br#"[{"system_id" "a"}]"#, "expected ':', found '\"'")]
    #[case::mismatched(br#"[{"system_id": "a", "x": [1}]"#, "expected ',' or ']', found '}'")]
    #[case::garbage_value(br#"[{"system_id": "a", "x": @}]"#, "expected a value, found '@'")]
    fn malformed_input_is_a_clear_error(#[case] doc: &[u8], #[case] says: &str) {
        assert!(serde(doc).is_err(), "serde_json accepts it too");
        for piece in [1, 3, PIECE_BYTES] {
            for chunk in [1, 4, 4096] {
                let e = read_with(Chunked(doc, chunk), piece, MAX_MACHINE)
                    .unwrap_err()
                    .to_string();
                assert!(e.contains(says), "piece {piece}, chunk {chunk}: {e}");
                assert!(!e.contains("hunter2"), "a value is quoted: {e}");
            }
        }
    }

    #[rstest::rstest]
    #[case::array_element(br#"[["a", "b", "ipmi"]]"#, "machine 0 (byte 1) is an array, not a machine object")]
    #[case::not_utf8(
        b"[{\"system_id\": \"a\", \"owner_data\": {\"k\": \"hunter2\xff\"}}]",
        "not UTF-8 text at byte 48 inside machine 0"
    )]
    fn refuses_what_serde_takes_by_accident(#[case] doc: &[u8], #[case] says: &str) {
        assert!(serde(doc).is_ok());
        let e = read_with(Chunked(doc, 1), 3, MAX_MACHINE).unwrap_err().to_string();
        assert!(e.contains(says) && !e.contains("hunter2"), "{e}");
        assert_eq!(read_str(doc).unwrap_err().to_string(), e);
    }

    #[test]
    fn the_first_of_several_errors_wins() {
        let doc = br#"[{"hostname": "a"}, {"system_id": 5}] x"#;
        let e = read_with(Chunked(doc, 1), 2, MAX_MACHINE).unwrap_err();
        assert_eq!(e, MachineListError::MissingSystemId { machine: 0, offset: 1 });
    }

    #[test]
    fn a_read_error_comes_after_the_errors_in_what_was_read() {
        let e = read(FailsAfter(br#"[{"system_id": 5}, {"#)).unwrap_err();
        assert!(matches!(e, MachineListError::WrongType { machine: 0, .. }), "{e}");
        let e = read(FailsAfter(br#"[{"system_id": "a"}, {"#)).unwrap_err();
        assert_eq!(e, MachineListError::Io("connection reset".into()));
    }

    #[test]
    fn an_oversized_machine_is_refused_whatever_the_cuts() {
        let mut doc = br#"[{"system_id": "a"}, {"system_id": "b", "x": ""#.to_vec();
        let start = 21u64;
        let body = doc.len();
        doc.extend(std::iter::repeat_n(b'y', 40));
        doc.extend_from_slice(br#""}]"#);
        let size = doc.len() - 1 - start as usize;
        for piece in [1, 5, 16, 4096] {
            assert_eq!(
                read_with(Chunked(&doc, 3), piece, size).unwrap().len(),
                2,
                "exactly the limit is accepted"
            );
            let e = read_with(Chunked(&doc, 3), piece, size - 1).unwrap_err();
            assert_eq!(
                e,
                MachineListError::TooLarge {
                    machine: 1,
                    offset: start
                },
                "piece {piece}"
            );
            // A syntax error past the limit is not reached.
            let mut bad = doc.clone();
            bad[body + 39] = 0x01;
            assert_eq!(read_with(Chunked(&bad, 3), piece, size - 10).unwrap_err(), e);
        }
        assert!(MachineListError::TooLarge { machine: 1, offset: 21 }
            .to_string()
            .contains("64 MiB"));
    }

    #[test]
    fn whitespace_is_never_buffered() {
        let e = read(Spaces(64 * 1024 * 1024)).unwrap_err();
        assert_eq!(
            e,
            MachineListError::NotAnArray {
                offset: 64 * 1024 * 1024,
                found: Found::End
            }
        );
    }

    #[test]
    fn cuts_fall_between_machines() {
        let fleet = mocks::fleet::Fleet::generate(50, 1);
        let doc = fleet.machines_json_real().into_bytes();
        let key = first_key(&doc);
        assert_eq!(key.as_deref(), Some(b"address_ttl".as_slice()));
        let at = cut(&doc[..doc.len() / 2], key.as_deref());
        let mut parser = Parser::new(MAX_MACHINE);
        let mut out = ListPart::default();
        parser.run(&doc[..at], &mut out).unwrap();
        assert!(parser.between_machines() && !out.entries.is_empty());
        // Without the key, the least indented `},{` is the one between machines.
        let at = cut(&doc[..doc.len() / 2], None);
        let mut parser = Parser::new(MAX_MACHINE);
        parser.run(&doc[..at], &mut ListPart::default()).unwrap();
        assert!(parser.between_machines());
    }

    #[test]
    fn string_run_finds_the_first_stop_byte() {
        let mut rng = Rng(7);
        for _ in 0..20_000 {
            let len = rng.below(40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| match rng.below(16) {
                    0 => b'"',
                    1 => b'\\',
                    2 => rng.below(0x20) as u8,
                    3 => 0x80 | rng.below(0x80) as u8,
                    _ => b' ' + rng.below(94) as u8,
                })
                .collect();
            let start = rng.below(len as u64 + 1) as usize;
            let expected = bytes[start..]
                .iter()
                .position(|b| *b == b'"' || *b == b'\\' || *b < 0x20)
                .map_or(len, |p| start + p);
            let mut high = 0;
            assert_eq!(string_run(&bytes, start, &mut high), expected, "{bytes:?}");
            assert_eq!(high & HIGHS != 0, !bytes[start..expected].is_ascii(), "{bytes:?}");
        }
    }
}

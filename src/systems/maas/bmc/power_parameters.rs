//! Streaming reader of MAAS power-parameters documents: the JSON object
//! `{system_id: {param: value, …}, …}` that `GET machines/?op=power_parameters` and
//! `maas $PROFILE machines power-parameters` return.
//!
//! Built for millions of machines in bounded memory: the reading thread takes the bytes as they
//! arrive (a file, stdin, an HTTP body) in pieces of about [`PIECE_BYTES`], each cut where the next
//! machine most likely starts; worker threads parse pieces in parallel — flat maps of plain
//! strings (the MAAS shape) in one pass over borrowed text, anything else through an exact
//! splitter and serde_json's borrowing deserializer (no DOM of the document) — and reduce each
//! machine at once to a detector record. Answers are taken in document order and checked against
//! the exact parse (see [`read`]), so the result never depends on the cuts. Passwords never leave
//! the worker: they enter a hash and are dropped with the piece.
//!
//! Memory: at most [`IN_FLIGHT`] pieces per worker are held, plus one machine's entry
//! ([`MAX_ENTRY`]) when an entry spans pieces; whitespace between entries is skipped, never
//! buffered.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

use crate::systems::maas::bmc::machine_list::{MachineIndex, MachineList};
pub use crate::systems::maas::bmc::pieces::IN_FLIGHT;
use crate::systems::maas::bmc::pieces::{self, Document, Piece};
use crate::systems::maas::bmc::{BmcRules, Observations, Param, Part, PartBuilder, PowerTypes};

/// Largest accepted entry (one machine's parameters with its key).
pub const MAX_ENTRY: usize = 16 * 1024 * 1024;
/// Bytes read into one piece of the document (more when one entry is larger).
pub const PIECE_BYTES: usize = 2 * 1024 * 1024;

/// Why a power-parameters document could not be read. Offsets are bytes from the start.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("not a power-parameters document: {message} at byte {offset} (expected a JSON object of system_id → power parameters)")]
    Structure { offset: u64, message: String },
    /// The document is a JSON array, not an object (from a file, most often the machine list).
    #[error("not a power-parameters document: found '[' instead of '{{' at byte {offset} (a JSON array; expected a JSON object of system_id → power parameters)")]
    Array { offset: u64 },
    #[error("the document ends early (truncated after byte {offset}): {within}")]
    Truncated { offset: u64, within: String },
    #[error("the entry of machine '{system_id}' at byte {offset} is not valid: {message}")]
    Entry {
        system_id: String,
        offset: u64,
        message: String,
    },
    #[error("the entry at byte {offset} is not valid JSON: {message}")]
    Syntax { offset: u64, message: String },
    #[error("the entry at byte {offset} is larger than {} MiB", MAX_ENTRY / (1024 * 1024))]
    EntryTooLarge { offset: u64 },
    #[error("reading the input failed: {0}")]
    Io(String),
}

/// system_id → power type id of a machine list, looked up once per machine of a
/// power-parameters document from the parser threads.
///
/// The list's [`MachineIndex`]: a lookup reads one bucket of machines keyed by the 64-bit xxh3
/// hash of their system_ids (no hash map of its own, no text per lookup). Exact all the same:
/// when two different system_ids of the list share a hash, their texts are compared.
#[derive(Debug, Clone)]
pub struct GivenTypes {
    machines: MachineIndex,
    /// [`PowerTypes`] id of each of the list's power types.
    ids: Vec<u16>,
}

impl GivenTypes {
    /// The power types `list` gives its machines, each type interned into `types` in order of
    /// first appearance; of a system_id listed twice the last counts.
    pub fn new(list: MachineList, types: &mut PowerTypes) -> GivenTypes {
        let ids = list.power_types().iter().map(|t| types.intern(t)).collect();
        GivenTypes {
            machines: list.into_index(),
            ids,
        }
    }

    /// The power type id the list gives `system_id`, if it lists it.
    pub fn get(&self, system_id: &str) -> Option<u16> {
        self.machines.power_type(system_id).map(|t| self.ids[t as usize])
    }

    /// The machine list, for its hostnames.
    pub fn machines(&self) -> &MachineIndex {
        &self.machines
    }
}

/// What the reader needs besides the bytes.
#[derive(Clone, Copy)]
pub struct PowerInput<'a> {
    pub rules: &'a BmcRules,
    pub types: &'a PowerTypes,
    /// system_id → power type id from a machine list; machines not in it are inferred.
    pub given: Option<&'a GivenTypes>,
}

/// A string that borrows from the input when it has no escapes.
struct BorrowedStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for BorrowedStr<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A parameter's value from its JSON text: a string is unescaped (borrowed when it has no
/// escapes), any other value kept as written (it compares by jsonb equality, which no parsed
/// number type could keep: `1e400`, integers of any size, any depth).
fn param_of<'de, E: de::Error>(raw: &'de RawValue) -> Result<Param<'de>, E> {
    let text = raw.get();
    if text.starts_with('"') {
        let mut de = serde_json::Deserializer::from_str(text);
        return BorrowedStr::deserialize(&mut de)
            .map(|s| Param::Str(s.0))
            .map_err(|e| E::custom(strip_position(&e)));
    }
    Ok(Param::Json(Cow::Borrowed(text)))
}

/// Fills `pairs` with one machine's parameter map.
struct MapSeed<'s, 'de>(&'s mut Vec<(Cow<'de, str>, Param<'de>)>);

impl<'de> DeserializeSeed<'de> for MapSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // `any`, not `map`: serde_json would word a non-map itself, quoting the value.
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MapSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the power parameters of one machine (a JSON object)")
    }
    // A scalar where the map belongs may be a password: the error names its kind, never its
    // value (serde's defaults would quote it).
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::invalid_type(de::Unexpected::Other("a string"), &self))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::invalid_type(de::Unexpected::Other("a number"), &self))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::invalid_type(de::Unexpected::Other("a number"), &self))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::invalid_type(de::Unexpected::Other("a number"), &self))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(BorrowedStr(key)) = map.next_key()? {
            // serde_json reads a raw value without building it: no depth limit, any number.
            let raw: &'de RawValue = map.next_value()?;
            self.0.push((key, param_of(raw)?));
        }
        Ok(())
    }
}

/// Parses one machine's parameter map (`{…}`) into `pairs`.
///
/// Almost every map is flat and holds only strings without escapes; the fast path reads
/// those directly (`flat_strings`). Anything else (escapes, numbers, nesting, errors) goes through serde_json,
/// which also words every error, so both paths accept and refuse exactly the same input.
///
/// # Errors
/// serde_json's error when `bytes` is not exactly one JSON object.
pub fn parse_params<'de>(
    bytes: &'de [u8],
    pairs: &mut Vec<(Cow<'de, str>, Param<'de>)>,
) -> Result<(), serde_json::Error> {
    if flat_strings(bytes, pairs).is_some() {
        return Ok(());
    }
    pairs.clear();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    MapSeed(pairs).deserialize(&mut de)?;
    de.end()
}

/// The fast path of [`parse_params`]: `{ "key" : "value" , … }` where every value is a string
/// and no string has an escape or a control character. `None` means "not that simple" (the
/// caller falls back to serde_json), never "invalid".
fn flat_strings<'de>(bytes: &'de [u8], pairs: &mut Vec<(Cow<'de, str>, Param<'de>)>) -> Option<()> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut i = skip_ws(bytes, 0);
    flat_object(text, &mut i, pairs)?;
    (skip_ws(bytes, i) == bytes.len()).then_some(())
}

/// The index of the first byte at or after `i` that is not JSON whitespace.
fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// A string without escapes or control characters starting at `*i` (its opening quote); moves
/// `*i` past the closing quote. Quotes are ASCII, so the slice is on character boundaries.
fn plain_string<'t>(text: &'t str, i: &mut usize) -> Option<&'t str> {
    let bytes = text.as_bytes();
    if bytes.get(*i) != Some(&b'"') {
        return None;
    }
    let start = *i + 1;
    let end = start + string_stop(&bytes[start..])?;
    if bytes[end] != b'"' {
        return None;
    }
    *i = end + 1;
    text.get(start..end)
}

/// The index of the first `"`, `\` or control character (< 0x20) in `bytes`: where a JSON
/// string's plain run stops. Eight bytes at a time (the "has less / has zero byte" bit tricks:
/// the lowest flagged byte is exact, borrows only run upward).
fn string_stop(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().ok()?);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let flagged = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        let flagged = flagged & HIGHS;
        if flagged != 0 {
            return Some(i + flagged.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|b| *b == b'"' || *b == b'\\' || *b < 0x20)
        .map(|p| i + p)
}

/// A flat object of plain strings (`{ "k" : "v" , … }`) starting at `*i`; fills `pairs` and
/// moves `*i` past the closing brace. `None` when the object is anything else.
fn flat_object<'t>(text: &'t str, i: &mut usize, pairs: &mut Vec<(Cow<'t, str>, Param<'t>)>) -> Option<()> {
    let bytes = text.as_bytes();
    if bytes.get(*i) != Some(&b'{') {
        return None;
    }
    *i = skip_ws(bytes, *i + 1);
    if bytes.get(*i) == Some(&b'}') {
        *i += 1;
        return Some(());
    }
    loop {
        let key = plain_string(text, i)?;
        *i = skip_ws(bytes, *i);
        if bytes.get(*i) != Some(&b':') {
            return None;
        }
        *i = skip_ws(bytes, *i + 1);
        let value = plain_string(text, i)?;
        pairs.push((Cow::Borrowed(key), Param::Str(Cow::Borrowed(value))));
        *i = skip_ws(bytes, *i);
        match bytes.get(*i) {
            Some(b',') => *i = skip_ws(bytes, *i + 1),
            Some(b'}') => {
                *i += 1;
                return Some(());
            }
            _ => return None,
        }
    }
}

fn absolute(base: u64, e: &serde_json::Error) -> u64 {
    if e.line() == 1 {
        base + e.column().saturating_sub(1) as u64
    } else {
        base
    }
}

fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn parse_entry<'b>(
    entry: &'b [u8],
    colon: usize,
    offset: u64,
    input: &PowerInput,
    builder: &mut PartBuilder,
    pairs: &mut Vec<(Cow<'b, str>, Param<'b>)>,
) -> Result<(), ParseError> {
    let key_bytes = entry[..colon].trim_ascii();
    // A system_id without escapes (all of MAAS's) is borrowed as is; serde_json reads the rest.
    let simple = key_bytes.len() >= 2
        && key_bytes[0] == b'"'
        && key_bytes[key_bytes.len() - 1] == b'"'
        && !key_bytes[1..key_bytes.len() - 1]
            .iter()
            .any(|b| *b == b'"' || *b == b'\\' || *b < 0x20);
    let key = match simple
        .then(|| std::str::from_utf8(&key_bytes[1..key_bytes.len() - 1]).ok())
        .flatten()
    {
        Some(k) => BorrowedStr(Cow::Borrowed(k)),
        None => {
            let mut de = serde_json::Deserializer::from_slice(key_bytes);
            BorrowedStr::deserialize(&mut de)
                .and_then(|k| de.end().map(|_| k))
                .map_err(|e| ParseError::Syntax {
                    offset: absolute(offset, &e),
                    message: strip_position(&e),
                })?
        }
    };
    let value = &entry[colon + 1..];
    pairs.clear();
    parse_params(value, pairs).map_err(|e| ParseError::Entry {
        system_id: key.0.chars().take(64).collect(),
        offset: absolute(offset + colon as u64 + 1, &e),
        message: strip_position(&e),
    })?;
    let given = input.given.and_then(|g| g.get(key.0.as_ref()));
    builder.add_map(&key.0, given, pairs);
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Top {
    Start,
    FirstKey,
    NextKey,
    InEntry,
    Done,
}

/// Cuts a power-parameters document into entries as bytes arrive.
struct Splitter {
    top: Top,
    carry: Vec<u8>,
    entry_start: u64,
    depth: u32,
    in_str: bool,
    escaped: bool,
    colon: Option<usize>,
    offset: u64,
}

impl Splitter {
    fn new() -> Self {
        Splitter {
            top: Top::Start,
            carry: Vec::new(),
            entry_start: 0,
            depth: 0,
            in_str: false,
            escaped: false,
            colon: None,
            offset: 0,
        }
    }

    /// A splitter in state `top` whose next byte is `offset` bytes into the document.
    fn resume(top: Top, offset: u64) -> Self {
        Splitter {
            top,
            offset,
            ..Splitter::new()
        }
    }

    /// Whether the bytes so far end right after the `,` between two entries.
    fn between_entries(&self) -> bool {
        self.top == Top::NextKey && self.carry.is_empty()
    }

    fn structure(&self, at: usize, message: &str) -> ParseError {
        ParseError::Structure {
            offset: self.offset + at as u64,
            message: message.to_string(),
        }
    }

    /// Consumes `chunk`, calling `emit(entry, colon, offset)` for every complete entry.
    fn push(&mut self, chunk: &[u8], emit: &mut impl FnMut(&[u8], usize, u64)) -> Result<(), ParseError> {
        let mut i = 0;
        let mut seg = 0;
        while i < chunk.len() {
            if self.top == Top::InEntry {
                if self.in_str {
                    if self.escaped {
                        self.escaped = false;
                        i += 1;
                        continue;
                    }
                    match memchr::memchr2(b'"', b'\\', &chunk[i..]) {
                        None => i = chunk.len(),
                        Some(j) => {
                            if chunk[i + j] == b'\\' {
                                self.escaped = true;
                            } else {
                                self.in_str = false;
                            }
                            i += j + 1;
                        }
                    }
                    continue;
                }
                let b = chunk[i];
                match b {
                    b'"' => self.in_str = true,
                    b'{' | b'[' => self.depth += 1,
                    b',' | b'}' | b']' if self.depth == 0 => {
                        if b == b']' {
                            return Err(self.structure(i, "unexpected ']'"));
                        }
                        self.end_entry(&chunk[seg..i], emit)?;
                        self.top = if b == b',' { Top::NextKey } else { Top::Done };
                    }
                    b'}' | b']' => self.depth -= 1,
                    b':' if self.depth == 0 && self.colon.is_none() => {
                        self.colon = Some(self.carry.len() + (i - seg));
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            let b = chunk[i];
            if !b.is_ascii_whitespace() {
                match (self.top, b) {
                    (Top::Start, b'{') => self.top = Top::FirstKey,
                    (Top::Start, b'[') => {
                        return Err(ParseError::Array {
                            offset: self.offset + i as u64,
                        })
                    }
                    (Top::Start, _) => return Err(self.structure(i, &format!("found {} instead of '{{'", describe(b)))),
                    (Top::FirstKey | Top::NextKey, b'"') => {
                        self.top = Top::InEntry;
                        self.in_str = true;
                        self.escaped = false;
                        self.depth = 0;
                        self.colon = None;
                        self.entry_start = self.offset + i as u64;
                        seg = i;
                        i += 1;
                        continue;
                    }
                    (Top::FirstKey, b'}') => self.top = Top::Done,
                    (Top::FirstKey | Top::NextKey, _) => {
                        return Err(self.structure(
                            i,
                            &format!("found {} where a machine's system_id should start", describe(b)),
                        ))
                    }
                    // Handled above: entries are scanned before this match.
                    (Top::InEntry, _) => {}
                    (Top::Done, _) => {
                        return Err(self.structure(i, &format!("found {} after the end of the object", describe(b))))
                    }
                }
            }
            i += 1;
        }
        if self.top == Top::InEntry {
            if self.carry.len() + (chunk.len() - seg) > MAX_ENTRY {
                return Err(ParseError::EntryTooLarge {
                    offset: self.entry_start,
                });
            }
            self.carry.extend_from_slice(&chunk[seg..]);
        }
        self.offset += chunk.len() as u64;
        Ok(())
    }

    fn end_entry(&mut self, tail: &[u8], emit: &mut impl FnMut(&[u8], usize, u64)) -> Result<(), ParseError> {
        let Some(colon) = self.colon else {
            return Err(ParseError::Structure {
                offset: self.entry_start,
                message: "an entry without ':' between system_id and parameters".into(),
            });
        };
        if self.carry.is_empty() {
            emit(tail, colon, self.entry_start);
        } else {
            if self.carry.len() + tail.len() > MAX_ENTRY {
                return Err(ParseError::EntryTooLarge {
                    offset: self.entry_start,
                });
            }
            self.carry.extend_from_slice(tail);
            emit(&self.carry, colon, self.entry_start);
            self.carry.clear();
        }
        Ok(())
    }

    fn finish(&self) -> Result<(), ParseError> {
        match self.top {
            Top::Done => Ok(()),
            Top::Start => Err(ParseError::Structure {
                offset: self.offset,
                message: "the input holds no JSON (it is empty or only whitespace)".into(),
            }),
            Top::InEntry => Err(ParseError::Truncated {
                offset: self.offset,
                within: format!("inside the entry that starts at byte {}", self.entry_start),
            }),
            _ => Err(ParseError::Truncated {
                offset: self.offset,
                within: "the object is not closed".into(),
            }),
        }
    }
}

fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

/// Where a piece's parse stopped.
enum PieceEnd {
    /// After the `,` between two entries: the next piece starts where it was assumed to.
    Between,
    /// After the document's closing `}` and only whitespace.
    Closed,
    /// Anywhere else (inside an entry, or before the document's `{`): the exact splitter, ready
    /// to take the next piece.
    Open(Splitter),
}

/// Parses a piece that holds only simple entries (`"id" : {flat strings}` separated by `,`),
/// in one pass over its text; `None` when anything else appears (the caller then uses the exact
/// splitter, which also words every error).
fn simple_piece<'t>(
    text: &'t str,
    first: bool,
    input: &PowerInput,
    builder: &mut PartBuilder,
    pairs: &mut Vec<(Cow<'t, str>, Param<'t>)>,
) -> Option<PieceEnd> {
    let bytes = text.as_bytes();
    let mut i = skip_ws(bytes, 0);
    if first {
        if bytes.get(i) != Some(&b'{') {
            return None;
        }
        i = skip_ws(bytes, i + 1);
        if bytes.get(i) == Some(&b'}') {
            return (skip_ws(bytes, i + 1) == bytes.len()).then_some(PieceEnd::Closed);
        }
    }
    loop {
        let key = plain_string(text, &mut i)?;
        i = skip_ws(bytes, i);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(bytes, i + 1);
        pairs.clear();
        flat_object(text, &mut i, pairs)?;
        let given = input.given.and_then(|g| g.get(key));
        builder.add_map(key, given, pairs);
        i = skip_ws(bytes, i);
        match bytes.get(i) {
            Some(b',') if i + 1 == bytes.len() => return Some(PieceEnd::Between),
            Some(b',') => i = skip_ws(bytes, i + 1),
            Some(b'}') => return (skip_ws(bytes, i + 1) == bytes.len()).then_some(PieceEnd::Closed),
            _ => return None,
        }
    }
}

/// Feeds `bytes` to the exact splitter, parsing each entry it cuts into `builder`.
fn split_exactly(
    splitter: &mut Splitter,
    bytes: &[u8],
    input: &PowerInput,
    builder: &mut PartBuilder,
) -> Result<(), ParseError> {
    let mut failure = None;
    splitter.push(bytes, &mut |entry, colon, offset| {
        if failure.is_none() {
            let mut pairs = Vec::new();
            failure = parse_entry(entry, colon, offset, input, builder, &mut pairs).err();
        }
    })?;
    failure.map_or(Ok(()), Err)
}

/// Parses one piece as if it starts where assumed: at the document's start (the first piece)
/// or between two entries.
fn parse_piece(piece: &Piece, input: &PowerInput) -> Result<(Part, PieceEnd), ParseError> {
    let bytes = piece.bytes();
    let capacity = bytes.len() / 128 + 16;
    let first = piece.seq == 0;
    // Part 0 is the reading thread's (entries it parses itself); piece n makes part n + 1.
    let index = u16::try_from(piece.seq + 1).map_err(|_| {
        ParseError::Io(format!(
            "the input is too large: over {} pieces of {} MiB; read the BMCs from the MAAS database instead (--database)",
            u16::MAX,
            PIECE_BYTES >> 20
        ))
    })?;
    if let Ok(text) = std::str::from_utf8(bytes) {
        let mut builder = PartBuilder::numbered(input.rules, input.types, index, capacity);
        let mut pairs = Vec::with_capacity(16);
        if let Some(end) = simple_piece(text, first, input, &mut builder, &mut pairs) {
            return Ok((builder.finish(), end));
        }
    }
    let mut builder = PartBuilder::numbered(input.rules, input.types, index, capacity);
    let mut splitter = Splitter::resume(if first { Top::Start } else { Top::NextKey }, piece.offset);
    split_exactly(&mut splitter, bytes, input, &mut builder)?;
    let end = match splitter.top {
        _ if splitter.between_entries() => PieceEnd::Between,
        Top::Done => PieceEnd::Closed,
        _ => PieceEnd::Open(splitter),
    };
    Ok((builder.finish(), end))
}

/// The workers' side of [`read`].
struct Workers<'i, 'r>(&'i PowerInput<'r>);

impl pieces::Parse for Workers<'_, '_> {
    type Answer = Result<(Part, PieceEnd), ParseError>;

    fn parse(&self, piece: &Piece) -> Self::Answer {
        parse_piece(piece, self.0)
    }

    fn panicked(&self, piece: &Piece) -> Self::Answer {
        Err(ParseError::Io(format!(
            "the parser failed on the piece at byte {}",
            piece.offset
        )))
    }
}

/// Where to cut a buffer so the next piece most likely starts between two entries: right after
/// the last `,` whose previous non-whitespace byte is `}`. A guess (a password may hold `},`);
/// [`read`] checks every guess against the exact parse of the piece before.
fn cut(bytes: &[u8]) -> Option<usize> {
    let mut end = bytes.len();
    while let Some(comma) = memchr::memrchr(b',', &bytes[..end]) {
        let before = bytes[..comma].iter().rposition(|b| !b.is_ascii_whitespace());
        if before.is_some_and(|j| bytes[j] == b'}') {
            return Some(comma + 1);
        }
        end = comma;
    }
    None
}

/// What [`read`] knows about the start of the next piece it takes in document order.
enum Next {
    /// It starts where its worker assumed: the worker's answer stands.
    AsAssumed,
    /// It does not (the piece before ended inside an entry, or after the document): the exact
    /// splitter goes on from where it stopped, on the reading thread.
    Splitter(Box<Splitter>),
}

/// Reads a whole power-parameters document from `source` into [`Observations`], parsing on up
/// to the machine's available parallelism.
///
/// The reading thread fills [`PIECE_BYTES`] buffers and cuts each where the next entry most
/// likely starts (`cut`); workers parse pieces in parallel (a single pass over simple entries,
/// the exact `Splitter` and serde_json otherwise), each assuming its piece starts between two
/// entries. Answers are then taken in document order: an answer stands only when the piece
/// before ended exactly between two entries; otherwise the reading thread parses the piece
/// again with the exact splitter carried over. The result is the same as one sequential exact
/// parse, whatever the cuts. At most [`IN_FLIGHT`] pieces per worker are held at once.
///
/// # Errors
/// The first [`ParseError`] in document order (structure, truncation, an entry that is not a
/// JSON object, invalid UTF-8, an oversized entry) or a read error.
pub fn read<R: Read>(source: R, input: &PowerInput) -> Result<Observations, ParseError> {
    read_in_pieces(source, input, PIECE_BYTES)
}

/// [`read`] with pieces of about `piece_bytes` instead of [`PIECE_BYTES`]: the answer is the
/// same for any size (tests and the fuzz target cut tiny pieces to put cuts everywhere).
///
/// # Errors
/// As [`read`].
pub fn read_in_pieces<R: Read>(source: R, input: &PowerInput, piece_bytes: usize) -> Result<Observations, ParseError> {
    let mut order = InOrder::new(input);
    let length = pieces::read(source, &Workers(input), &mut order, piece_bytes)?;
    order.finish(length)
}

/// [`read`] over a power-parameters file: in place when it is mapped, the same answer either
/// way.
///
/// # Errors
/// As [`read`].
pub fn read_document(document: Document, input: &PowerInput) -> Result<Observations, ParseError> {
    match document {
        Document::Mapped(mapped) => {
            let mut order = InOrder::new(input);
            let length = pieces::read_mapped(&mapped, &Workers(input), &mut order, PIECE_BYTES)?;
            order.finish(length)
        }
        Document::Stream(file) => read(file, input),
    }
}

/// Takes the workers' answers in document order (see [`read`]).
struct InOrder<'i, 'r> {
    input: &'i PowerInput<'r>,
    next: Next,
    /// How many pieces were taken.
    taken: usize,
    parts: Vec<Part>,
    /// Entries the reading thread parsed itself.
    exact: PartBuilder<'r>,
}

impl pieces::InOrder for InOrder<'_, '_> {
    type Answer = Result<(Part, PieceEnd), ParseError>;
    type Error = ParseError;

    fn cut(&mut self, bytes: &[u8], _first: bool) -> usize {
        cut(bytes).unwrap_or(bytes.len())
    }

    fn take(&mut self, piece: &Piece, result: Self::Answer) -> Result<(), ParseError> {
        self.taken += 1;
        self.next = match std::mem::replace(&mut self.next, Next::AsAssumed) {
            Next::AsAssumed => {
                let (part, end) = result?;
                self.parts.push(part);
                match end {
                    PieceEnd::Between => Next::AsAssumed,
                    PieceEnd::Closed => Next::Splitter(Box::new(Splitter::resume(
                        Top::Done,
                        piece.offset + piece.bytes().len() as u64,
                    ))),
                    PieceEnd::Open(s) => Next::Splitter(Box::new(s)),
                }
            }
            Next::Splitter(mut splitter) => {
                split_exactly(&mut splitter, piece.bytes(), self.input, &mut self.exact)?;
                if splitter.between_entries() {
                    Next::AsAssumed
                } else {
                    Next::Splitter(splitter)
                }
            }
        };
        Ok(())
    }

    fn failure(message: String) -> ParseError {
        ParseError::Io(message)
    }
}

impl<'i, 'r> InOrder<'i, 'r> {
    fn new(input: &'i PowerInput<'r>) -> Self {
        InOrder {
            input,
            next: Next::AsAssumed,
            taken: 0,
            parts: Vec::new(),
            exact: PartBuilder::new(input.rules, input.types),
        }
    }

    /// The observations, once every piece is taken; `length` is the document's size.
    fn finish(self, length: u64) -> Result<Observations, ParseError> {
        match self.next {
            Next::Splitter(s) => s.finish()?,
            Next::AsAssumed if self.taken == 0 => Splitter::new().finish()?,
            Next::AsAssumed => Splitter::resume(Top::NextKey, length).finish()?,
        }
        let mut parts = self.parts;
        parts.push(self.exact.finish());
        Ok(Observations::from_parts(self.input.types.clone(), parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::maas::bmc::pieces::test_sources::{Chunked, FailsAfter, Spaces};
    use crate::systems::maas::checks::pack as maas_pack;

    fn read_str(text: &[u8], chunk: usize) -> Result<Observations, ParseError> {
        read_str_in_pieces(text, chunk, PIECE_BYTES)
    }

    /// `f` with the input of a run without a machine list (power types inferred).
    fn inferred<T>(f: impl FnOnce(&PowerInput) -> T) -> T {
        let rules = &maas_pack().bmc;
        let types = PowerTypes::new(rules);
        f(&PowerInput {
            rules,
            types: &types,
            given: None,
        })
    }

    fn read_str_in_pieces(text: &[u8], chunk: usize, piece: usize) -> Result<Observations, ParseError> {
        inferred(|input| read_in_pieces(Chunked(text, chunk), input, piece))
    }

    /// The reader over `text` in memory, cut in place in pieces of about `piece` bytes.
    fn read_in_memory(text: &[u8], piece: usize) -> Result<Observations, ParseError> {
        inferred(|input| {
            let mut order = InOrder::new(input);
            let length = pieces::read_in_memory(text, &Workers(input), &mut order, piece, &mut |_| {})?;
            order.finish(length)
        })
    }

    #[test]
    fn a_mapped_file_gives_the_answer_of_a_stream() {
        let fleet = mocks::fleet::Fleet::generate(30_000, 3);
        let doc = fleet.power_parameters_json().into_bytes();
        assert!(doc.len() > 4 << 20, "{} bytes: past two release steps", doc.len());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("power-parameters.json");
        std::fs::write(&path, &doc).unwrap();
        let expected = summary(&read_str(&doc, 1 << 20).unwrap());
        let mapped = Document::open_mapping_from(&path, 0).unwrap();
        assert!(matches!(mapped, Document::Mapped(_)));
        assert_eq!(
            summary(&inferred(|input| read_document(mapped, input)).unwrap()),
            expected
        );
    }

    /// Every record as (subject, power type, full hash, post-0290 hash), sorted.
    fn summary(obs: &Observations) -> Vec<(String, String, u64, u128)> {
        let mut all: Vec<_> = obs
            .records()
            .map(|r| {
                (
                    obs.subject(r).to_string(),
                    obs.types.name(r.power_type).to_string(),
                    r.bmc,
                    r.post,
                )
            })
            .collect();
        all.sort();
        all
    }

    #[test]
    fn any_cut_gives_the_answer_of_one_piece() {
        // Passwords holding "}," and "},\"" make the cut guesses wrong; escapes, nesting and
        // pretty printing push pieces onto the exact splitter.
        let doc = br#"{"m1": {"power_address": "10.0.0.1", "power_pass": "a},b", "mac_address": "m"},
            "m2":{"power_address":"10.0.0.1","power_pass":"x},\"m9\":{\"k\":\"v\"},"},
              "m3" : { "power_id" : "vm" , "power_address" : "qemu+ssh://h/system" , "n" : [1, {"x": "},"}] } ,
            "m\u0034": {"power_address": "10.0.0.2", "power_pass": "\u00e9}", "k_g": ""},
            "m5": {}, "m6": {"instance_name": "c1", "power_address": "https://lxd:8443", "password": "p"}}
        "#;
        let whole = summary(&read_str(doc, 4096).unwrap());
        assert_eq!(whole.len(), 6);
        for piece in 1..=doc.len() + 1 {
            for chunk in [1, 7, 4096] {
                let obs = read_str_in_pieces(doc, chunk, piece).unwrap();
                assert_eq!(summary(&obs), whole, "piece {piece}, chunk {chunk}");
            }
            let obs = read_in_memory(doc, piece).unwrap();
            assert_eq!(summary(&obs), whole, "in place, piece {piece}");
        }
    }

    #[test]
    fn a_read_error_comes_after_the_errors_in_what_was_read() {
        let e = inferred(|input| read(FailsAfter(br#"{"a": 5, "b": {"#), input)).unwrap_err();
        assert!(e.to_string().contains("machine 'a'"), "{e}");
        let e = inferred(|input| read(FailsAfter(br#"{"a": {}, "b": {"#), input)).unwrap_err();
        assert_eq!(e, ParseError::Io("connection reset".into()));
    }

    #[test]
    fn any_cut_gives_the_error_of_one_piece() {
        for doc in [
            br#"{"a": {"p": "},"}, "b": 5}"#.as_slice(),
            br#"{"a": {"p": "x"}, "b": {"q": "},"}} x"#.as_slice(),
            br#"{"a": {"p": "x"}, "b": {"q": "y"}"#.as_slice(),
            br#"{"a": {"p": "x"},, "b": {}}"#.as_slice(),
            b"   ".as_slice(),
            b"{\"a\": {\"p\": \"\xff},\"}}".as_slice(),
        ] {
            let whole = read_str(doc, 4096).unwrap_err();
            for piece in 1..=doc.len() + 1 {
                assert_eq!(read_str_in_pieces(doc, 3, piece).unwrap_err(), whole, "piece {piece}");
                assert_eq!(
                    read_in_memory(doc, piece).unwrap_err(),
                    whole,
                    "in place, piece {piece}"
                );
            }
        }
    }

    #[test]
    fn reads_entries_across_any_chunking() {
        let doc = br#" {"a1": {"power_address": "10.0.0.1", "power_pass": "p\"q", "mac_address": "m"},
            "b2" : {} , "c\u0033": {"power_id": "vm", "power_address": "qemu+ssh://h/system", "n": [1, {"x": "}"}]}} "#;
        for chunk in [1, 2, 3, 7, 64, 4096] {
            let obs = read_str(doc, chunk).unwrap();
            let mut ids: Vec<&str> = obs.records().map(|r| obs.subject(r)).collect();
            ids.sort();
            assert_eq!(ids, vec!["a1", "b2", "c3"], "chunk {chunk}");
            let a = obs.records().find(|r| obs.subject(r) == "a1").unwrap();
            assert_eq!(obs.types.name(a.power_type), "ipmi");
            assert!(obs.records().find(|r| obs.subject(r) == "b2").unwrap().empty);
        }
    }

    #[rstest::rstest]
    #[case::flat(br#" { "a" : "1" , "b":"x y" } "#.as_slice(), true)]
    #[case::empty(b"{}".as_slice(), true)]
    #[case::escape(br#"{"a": "x\"y"}"#.as_slice(), false)]
    #[case::number(br#"{"a": 1}"#.as_slice(), false)]
    #[case::nested(br#"{"a": {"b": "c"}}"#.as_slice(), false)]
    #[case::trailing_comma(br#"{"a": "1",}"#.as_slice(), false)]
    #[case::control(b"{\"a\": \"x\ty\"}".as_slice(), false)]
    #[case::not_utf8(b"{\"a\": \"\xff\"}".as_slice(), false)]
    #[case::duplicate_keys(br#"{"a": "1", "a": "2"}"#.as_slice(), true)]
    fn fast_path_agrees_with_serde(#[case] bytes: &[u8], #[case] fast: bool) {
        let mut quick = Vec::new();
        assert_eq!(flat_strings(bytes, &mut quick).is_some(), fast);
        let mut slow = Vec::new();
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let serde_ok = MapSeed(&mut slow).deserialize(&mut de).and_then(|_| de.end()).is_ok();
        let mut both = Vec::new();
        assert_eq!(parse_params(bytes, &mut both).is_ok(), serde_ok);
        if fast {
            assert_eq!(quick, slow);
        }
        if serde_ok {
            assert_eq!(both, slow);
        }
    }

    #[test]
    fn string_stop_finds_the_first_stop_byte() {
        let mut seed = 7u64;
        for _ in 0..20_000 {
            let len = (seed % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    match seed >> 60 {
                        0 => b'"',
                        1 => b'\\',
                        2 => (seed >> 40) as u8 & 0x1f,
                        3 => 0x80 | (seed >> 40) as u8,
                        _ => b' ' + ((seed >> 40) as u8 % 94),
                    }
                })
                .collect();
            let expected = bytes.iter().position(|b| *b == b'"' || *b == b'\\' || *b < 0x20);
            assert_eq!(string_stop(&bytes), expected, "{bytes:?}");
        }
    }

    #[test]
    fn same_fingerprint_whatever_the_chunking() {
        let doc = br#"{"a": {"power_address": "h", "power_pass": "x", "k_g": "\u00e9", "power_driver": "LAN_2_0"}}"#;
        let one = *read_str(doc, 4096).unwrap().record(0);
        let many = *read_str(doc, 1).unwrap().record(0);
        assert_eq!((one.bmc, one.post), (many.bmc, many.post));
    }

    #[rstest::rstest]
    #[case::empty(b"", "empty")]
    #[case::array(b"[1, 2]", "instead of '{'")]
    #[case::truncated(br#"{"a": {"power_address": "10.0.0.1", "power_pa"#, "truncated")]
    #[case::unclosed(br#"{"a": {}, "#, "truncated")]
    #[case::value_not_object(br#"{"a": 5}"#, "machine 'a'")]
    #[case::value_a_string(br#"{"a": "hunter2"}"#, "invalid type: a string, expected the power parameters")]
    #[case::value_null(br#"{"a": null}"#, "expected the power parameters of one machine")]
    #[case::trailing(br#"{"a": {}} x"#, "after the end")]
    #[case::no_colon(br#"{"a" {}}"#, "without ':'")]
    #[case::bad_key(br#"{"a\q": {}}"#, "not valid JSON")]
    #[case::not_utf8(b"{\"a\": {\"power_pass\": \"\xff\xfe\"}}", "machine 'a'")]
    #[case::garbage_between(br#"{"a": {}, x}"#, "system_id should start")]
    fn malformed_input_is_a_clear_error(#[case] doc: &[u8], #[case] says: &str) {
        for chunk in [1, 5, 4096] {
            let e = read_str(doc, chunk).unwrap_err().to_string();
            assert!(e.contains(says), "chunk {chunk}: {e}");
            assert!(!e.contains("hunter2") && !e.contains("`5`"), "a value is quoted: {e}");
        }
    }

    #[test]
    fn whitespace_is_never_buffered() {
        let rules = &maas_pack().bmc;
        let types = PowerTypes::new(rules);
        let e = read(
            Spaces(64 * 1024 * 1024),
            &PowerInput {
                rules,
                types: &types,
                given: None,
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }

    #[test]
    fn oversized_entry_is_refused() {
        let mut doc = br#"{"a": {"x": ""#.to_vec();
        doc.extend(std::iter::repeat_n(b'y', MAX_ENTRY + 10));
        doc.extend_from_slice(br#""}}"#);
        let e = read_str(&doc, PIECE_BYTES).unwrap_err();
        assert!(matches!(e, ParseError::EntryTooLarge { offset: 1 }), "{e}");
    }
}

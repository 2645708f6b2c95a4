//! Streaming reader of MAAS power-parameters documents: the JSON object
//! `{system_id: {param: value, …}, …}` that `GET machines/?op=power_parameters` and
//! `maas $PROFILE machines power-parameters` return.
//!
//! Built for millions of machines in bounded memory: a small splitter walks the bytes as they
//! arrive (a file, stdin, an HTTP body) and cuts them into one slice per machine; worker threads
//! parse each slice with serde_json's borrowing deserializer (no DOM of the document, no owned
//! string for an unescaped value) and reduce it at once to a detector [`Record`]. Passwords
//! never leave the worker: they enter a hash and are dropped with the slice.
//!
//! Memory: the splitter keeps at most one machine's entry ([`MAX_ENTRY`]) plus the batches in
//! flight; whitespace between entries is skipped, never buffered.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Mutex;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::checks::bmc::{BmcRules, Observations, Param, Part, PartBuilder, PowerTypes};

/// Largest accepted entry (one machine's parameters with its key).
pub const MAX_ENTRY: usize = 16 * 1024 * 1024;
/// Bytes read per call from the source.
const READ_CHUNK: usize = 4 * 1024 * 1024;
/// Bytes of entries handed to a worker at once.
const BATCH_BYTES: usize = 1024 * 1024;

/// Why a power-parameters document could not be read. Offsets are bytes from the start.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("not a power-parameters document: {message} at byte {offset} (expected a JSON object of system_id → power parameters)")]
    Structure { offset: u64, message: String },
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

impl ParseError {
    fn offset(&self) -> u64 {
        match self {
            ParseError::Structure { offset, .. }
            | ParseError::Truncated { offset, .. }
            | ParseError::Entry { offset, .. }
            | ParseError::Syntax { offset, .. }
            | ParseError::EntryTooLarge { offset } => *offset,
            ParseError::Io(_) => u64::MAX,
        }
    }
}

/// What the reader needs besides the bytes.
#[derive(Clone, Copy)]
pub struct PowerInput<'a> {
    pub rules: &'a BmcRules,
    pub types: &'a PowerTypes,
    /// system_id → power type id from a machine list; machines not in it are inferred.
    pub given: Option<&'a HashMap<String, u16>>,
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

impl<'de> Deserialize<'de> for Param<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Param<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Param::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Param::Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Param::Str(Cow::Owned(s)))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Param::Other(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Param::Other(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Param::Other(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Param::Other(Value::from(v)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Param::Other(Value::Null))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Param::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Param::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// Fills `pairs` with one machine's parameter map.
struct MapSeed<'s, 'de>(&'s mut Vec<(Cow<'de, str>, Param<'de>)>);

impl<'de> DeserializeSeed<'de> for MapSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MapSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the power parameters of one machine (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(BorrowedStr(key)) = map.next_key()? {
            let value: Param<'de> = map.next_value()?;
            self.0.push((key, value));
        }
        Ok(())
    }
}

/// Parses one machine's parameter map (`{…}`) into `pairs`.
///
/// Almost every map is flat and holds only strings without escapes; [`flat_strings`] reads
/// those directly. Anything else (escapes, numbers, nesting, errors) goes through serde_json,
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
    let ws = |i: &mut usize| {
        while *i < bytes.len() && matches!(bytes[*i], b' ' | b'\n' | b'\r' | b'\t') {
            *i += 1;
        }
    };
    let string = |i: &mut usize| -> Option<&'de str> {
        if bytes.get(*i) != Some(&b'"') {
            return None;
        }
        let start = *i + 1;
        let len = memchr::memchr2(b'"', b'\\', &bytes[start..])?;
        if bytes[start + len] != b'"' {
            return None;
        }
        let raw = &bytes[start..start + len];
        if raw.iter().any(|b| *b < 0x20) {
            return None;
        }
        *i = start + len + 1;
        std::str::from_utf8(raw).ok()
    };
    let mut i = 0;
    ws(&mut i);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    ws(&mut i);
    if bytes.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            let key = string(&mut i)?;
            ws(&mut i);
            if bytes.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
            ws(&mut i);
            let value = string(&mut i)?;
            pairs.push((Cow::Borrowed(key), Param::Str(Cow::Borrowed(value))));
            ws(&mut i);
            match bytes.get(i) {
                Some(b',') => {
                    i += 1;
                    ws(&mut i);
                }
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    ws(&mut i);
    (i == bytes.len()).then_some(())
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

/// One machine's entry: `"system_id" : {…}`, with the position of its colon.
#[derive(Debug, Clone, Copy)]
struct EntryRef {
    start: u32,
    len: u32,
    colon: u32,
    offset: u64,
}

#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    entries: Vec<EntryRef>,
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
    let given = input.given.and_then(|g| g.get(key.0.as_ref()).copied());
    builder.add_map(&key.0, given, pairs);
    Ok(())
}

fn worker(queue: &Mutex<Receiver<Batch>>, input: &PowerInput) -> Result<Part, ParseError> {
    let mut builder = PartBuilder::new(input.rules, input.types);
    loop {
        let batch = match queue.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => break,
        };
        let Ok(batch) = batch else { break };
        let mut pairs = Vec::with_capacity(16);
        for e in &batch.entries {
            let entry = &batch.data[e.start as usize..(e.start + e.len) as usize];
            parse_entry(entry, e.colon as usize, e.offset, input, &mut builder, &mut pairs)?;
        }
    }
    Ok(builder.finish())
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

/// Reads a whole power-parameters document from `source` into [`Observations`], using up to
/// the machine's available parallelism for parsing.
///
/// # Errors
/// The first [`ParseError`] in document order (structure, truncation, an entry that is not a
/// JSON object, invalid UTF-8, an oversized entry) or a read error.
pub fn read<R: Read>(mut source: R, input: &PowerInput) -> Result<Observations, ParseError> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let (tx, rx) = sync_channel::<Batch>(workers * 2);
    let queue = Mutex::new(rx);
    let mut splitter = Splitter::new();
    let (results, split_result) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(|| worker(&queue, input))).collect();
        let split_result = (|| {
            let mut buf = vec![0u8; READ_CHUNK];
            let mut batch = Batch::default();
            loop {
                let n = match source.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(ParseError::Io(e.to_string())),
                };
                let mut full = Vec::new();
                splitter.push(&buf[..n], &mut |entry, colon, offset| {
                    batch.entries.push(EntryRef {
                        start: batch.data.len() as u32,
                        len: entry.len() as u32,
                        colon: colon as u32,
                        offset,
                    });
                    batch.data.extend_from_slice(entry);
                    if batch.data.len() >= BATCH_BYTES {
                        full.push(std::mem::take(&mut batch));
                    }
                })?;
                for b in full {
                    if tx.send(b).is_err() {
                        // Every worker stopped: one of them has the error.
                        return Ok(());
                    }
                }
            }
            if !batch.entries.is_empty() {
                let _ = tx.send(batch);
            }
            splitter.finish()
        })();
        drop(tx);
        let results: Vec<Result<Part, ParseError>> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(ParseError::Io("a parser thread panicked".into())))
            })
            .collect();
        (results, split_result)
    });
    let mut parts = Vec::with_capacity(results.len());
    let mut first_error: Option<ParseError> = split_result.err();
    for r in results {
        match r {
            Ok(p) => parts.push(p),
            Err(e) => {
                if first_error.as_ref().is_none_or(|f| e.offset() < f.offset()) {
                    first_error = Some(e);
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(Observations::from_parts(input.types.clone(), parts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::maas_pack;

    fn read_str(text: &[u8], chunk: usize) -> Result<Observations, ParseError> {
        struct Chunked<'a>(&'a [u8], usize);
        impl Read for Chunked<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let rules = &maas_pack().bmc;
        let types = PowerTypes::new(rules);
        read(
            Chunked(text, chunk),
            &PowerInput {
                rules,
                types: &types,
                given: None,
            },
        )
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
        }
    }

    #[test]
    fn whitespace_is_never_buffered() {
        struct Spaces(u64);
        impl Read for Spaces {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = (buf.len() as u64).min(self.0) as usize;
                buf[..n].fill(b' ');
                self.0 -= n as u64;
                Ok(n)
            }
        }
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
        let e = read_str(&doc, READ_CHUNK).unwrap_err();
        assert!(matches!(e, ParseError::EntryTooLarge { offset: 1 }), "{e}");
    }
}

//! jsonb equality of JSON values, as the unique index on `md5(power_parameters::text)` sees it.
//!
//! Two JSON texts give the same jsonb text exactly when their canonical forms here are equal
//! (PostgreSQL 12–16, `src/backend/utils/adt/jsonb.c`, `numeric.c`; checked against a real
//! PostgreSQL by the tests):
//! - an object's keys are de-duplicated (the last one wins) and ordered by jsonb itself, so the
//!   order they were written in does not matter;
//! - strings compare unescaped (`"\u0061"` is `"a"`);
//! - numbers compare as PostgreSQL's `numeric` prints them: the value and its display scale
//!   (digits after the point, less the exponent, at least 0). So `1e0`, `1E0`, `0.1e1` and `1`
//!   are equal, `-0` is `0`, but `1.0` is not `1`; integers of any size compare exactly and
//!   `1e400` is a number like any other;
//! - any depth of nesting (the walk below keeps its own stack, no recursion).
//!
//! The canonical form of a value is a 128-bit xxh3 hash built bottom-up (a string, number or
//! literal hashes its canonical bytes; a container hashes its members' hashes), so a deep or
//! large value costs one pass and a stack of its open containers.

use xxhash_rust::xxh3::xxh3_128;

/// Why a text is not one JSON value (the reader validates before; this never quotes the text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a JSON value: {0} at byte {1}")]
pub struct JsonbError(&'static str, usize);

/// One open container of the walk.
enum Open {
    /// Hashes of the members so far.
    Array(Vec<u8>),
    /// Members so far (unescaped key, value hash) and the key whose value comes next.
    Object(Vec<(Vec<u8>, u128)>, Option<Vec<u8>>),
}

/// The canonical hash of the JSON value `text` (surrounding whitespace allowed): equal for two
/// texts exactly when PostgreSQL's `text::jsonb::text` of both is equal (see the module docs).
///
/// # Errors
/// [`JsonbError`] when `text` is not exactly one JSON value.
pub fn canonical_hash(text: &str) -> Result<u128, JsonbError> {
    walk(text, Numbers::Jsonb)
}

/// [`canonical_hash`] of the value migration 0290 writes back for the jsonb `text`: 0290 loads
/// each row with Python's `json` and dumps it again (upstream
/// `0290_migrate_node_power_parameters.py`, through Django's JSONField), so every number with a
/// fraction becomes a Python float: `1.50` is written back as `1.5`, `0.1000000000000000055` as
/// `0.1`. Integers stay exact.
///
/// # Errors
/// [`JsonbError`] when `text` is not exactly one JSON value.
pub fn canonical_hash_after_python(text: &str) -> Result<u128, JsonbError> {
    walk(text, Numbers::PythonFloats)
}

/// How numbers compare.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Numbers {
    /// As jsonb's numeric keeps them.
    Jsonb,
    /// Numbers with a fraction or an exponent as Python's `float` turns them, then jsonb.
    PythonFloats,
}

fn walk(text: &str, numbers: Numbers) -> Result<u128, JsonbError> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    let mut stack: Vec<Open> = Vec::new();
    let mut buf = Vec::new();
    loop {
        // A value starts at `i`.
        let done = match b.get(i) {
            Some(b'{') => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                    Some(object_hash(Vec::new()))
                } else {
                    let key = read_key(b, &mut i, &mut buf)?;
                    stack.push(Open::Object(Vec::new(), Some(key)));
                    None
                }
            }
            Some(b'[') => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    i += 1;
                    Some(xxh3_128(b"a"))
                } else {
                    stack.push(Open::Array(vec![b'a']));
                    None
                }
            }
            Some(b'"') => {
                buf.clear();
                buf.push(b's');
                read_string(b, &mut i, &mut buf)?;
                Some(xxh3_128(&buf))
            }
            Some(b't') => Some(literal(b, &mut i, b"true")?),
            Some(b'f') => Some(literal(b, &mut i, b"false")?),
            Some(b'n') => Some(literal(b, &mut i, b"null")?),
            Some(b'-' | b'0'..=b'9') => Some(match numbers {
                Numbers::Jsonb => number_hash(b, &mut i, &mut buf)?,
                Numbers::PythonFloats => python_number_hash(b, &mut i, &mut buf)?,
            }),
            _ => return Err(JsonbError("expected a value", i)),
        };
        let Some(mut hash) = done else {
            continue;
        };
        // A value ended: hand it to its container; close every container that ends here.
        loop {
            i = skip_ws(b, i);
            match stack.last_mut() {
                None => {
                    return if i == b.len() {
                        Ok(hash)
                    } else {
                        Err(JsonbError("trailing characters", i))
                    };
                }
                Some(Open::Array(members)) => {
                    members.extend_from_slice(&hash.to_le_bytes());
                    match b.get(i) {
                        Some(b',') => {
                            i = skip_ws(b, i + 1);
                            break;
                        }
                        Some(b']') => {
                            i += 1;
                            let Some(Open::Array(members)) = stack.pop() else {
                                unreachable!("the top is an array")
                            };
                            hash = xxh3_128(&members);
                        }
                        _ => return Err(JsonbError("expected ',' or ']'", i)),
                    }
                }
                Some(Open::Object(members, key)) => {
                    let key = key.take().ok_or(JsonbError("expected a key", i))?;
                    members.push((key, hash));
                    match b.get(i) {
                        Some(b',') => {
                            i = skip_ws(b, i + 1);
                            let next = read_key(b, &mut i, &mut buf)?;
                            *key_slot(&mut stack) = Some(next);
                            break;
                        }
                        Some(b'}') => {
                            i += 1;
                            let Some(Open::Object(members, _)) = stack.pop() else {
                                unreachable!("the top is an object")
                            };
                            hash = object_hash(members);
                        }
                        _ => return Err(JsonbError("expected ',' or '}'", i)),
                    }
                }
            }
        }
    }
}

/// The pending-key slot of the object on top of `stack`.
fn key_slot(stack: &mut [Open]) -> &mut Option<Vec<u8>> {
    match stack.last_mut() {
        Some(Open::Object(_, key)) => key,
        _ => unreachable!("called with an object on top"),
    }
}

/// An object's hash: members ordered by key (stable, so equal keys keep their order), the last
/// of equal keys kept, as jsonb keeps it.
fn object_hash(mut members: Vec<(Vec<u8>, u128)>) -> u128 {
    members.sort_by(|a, b| a.0.cmp(&b.0));
    let mut bytes = vec![b'o'];
    for (n, (key, hash)) in members.iter().enumerate() {
        if members.get(n + 1).is_some_and(|next| next.0 == *key) {
            continue;
        }
        bytes.extend_from_slice(&(key.len() as u64).to_le_bytes());
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(&hash.to_le_bytes());
    }
    xxh3_128(&bytes)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// `"key" :` at `*i`; returns the unescaped key and leaves `*i` at its value.
fn read_key(b: &[u8], i: &mut usize, buf: &mut Vec<u8>) -> Result<Vec<u8>, JsonbError> {
    if b.get(*i) != Some(&b'"') {
        return Err(JsonbError("expected a key", *i));
    }
    buf.clear();
    read_string(b, i, buf)?;
    *i = skip_ws(b, *i);
    if b.get(*i) != Some(&b':') {
        return Err(JsonbError("expected ':'", *i));
    }
    *i = skip_ws(b, *i + 1);
    Ok(buf.clone())
}

fn literal(b: &[u8], i: &mut usize, word: &'static [u8]) -> Result<u128, JsonbError> {
    if !b[*i..].starts_with(word) {
        return Err(JsonbError("expected a value", *i));
    }
    *i += word.len();
    Ok(xxh3_128(&word[..1]))
}

/// Appends the unescaped string starting at `*i` (its opening quote) to `out` as UTF-8; moves
/// `*i` past the closing quote.
fn read_string(b: &[u8], i: &mut usize, out: &mut Vec<u8>) -> Result<(), JsonbError> {
    let mut j = *i + 1;
    loop {
        let start = j;
        while j < b.len() && b[j] != b'"' && b[j] != b'\\' {
            j += 1;
        }
        out.extend_from_slice(&b[start..j]);
        match b.get(j) {
            Some(b'"') => {
                *i = j + 1;
                return Ok(());
            }
            Some(b'\\') => {
                let c = match b.get(j + 1) {
                    Some(b'"') => '"',
                    Some(b'\\') => '\\',
                    Some(b'/') => '/',
                    Some(b'b') => '\u{8}',
                    Some(b'f') => '\u{c}',
                    Some(b'n') => '\n',
                    Some(b'r') => '\r',
                    Some(b't') => '\t',
                    Some(b'u') => {
                        let hi = hex4(b, j + 2)?;
                        j += 4;
                        let code = if (0xd800..0xdc00).contains(&hi) && b.get(j + 2..j + 4) == Some(b"\\u") {
                            let lo = hex4(b, j + 4)?;
                            if (0xdc00..0xe000).contains(&lo) {
                                j += 6;
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            }
                        } else {
                            hi
                        };
                        // A lone surrogate (which jsonb refuses) keeps a spelling of its own.
                        char::from_u32(code).unwrap_or('\u{fffd}')
                    }
                    _ => return Err(JsonbError("bad escape", j)),
                };
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                j += 2;
            }
            _ => return Err(JsonbError("unterminated string", *i)),
        }
    }
}

fn hex4(b: &[u8], at: usize) -> Result<u32, JsonbError> {
    let digits = b.get(at..at + 4).ok_or(JsonbError("bad \\u escape", at))?;
    let text = std::str::from_utf8(digits).map_err(|_| JsonbError("bad \\u escape", at))?;
    u32::from_str_radix(text, 16).map_err(|_| JsonbError("bad \\u escape", at))
}

/// The hash of the number at `*i` as PostgreSQL's numeric prints it: sign, significant digits,
/// where the point falls among them, and the display scale. Never expands an exponent.
fn number_hash(b: &[u8], i: &mut usize, buf: &mut Vec<u8>) -> Result<u128, JsonbError> {
    let start = *i;
    let negative = b.get(*i) == Some(&b'-');
    if negative {
        *i += 1;
    }
    let digits = |i: &mut usize| {
        let s = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        s..*i
    };
    let int = digits(i);
    if int.is_empty() {
        return Err(JsonbError("bad number", start));
    }
    let frac = if b.get(*i) == Some(&b'.') {
        *i += 1;
        let f = digits(i);
        if f.is_empty() {
            return Err(JsonbError("bad number", start));
        }
        f
    } else {
        *i..*i
    };
    let mut exp: i64 = 0;
    if matches!(b.get(*i), Some(b'e' | b'E')) {
        *i += 1;
        let minus = match b.get(*i) {
            Some(b'-') => {
                *i += 1;
                true
            }
            Some(b'+') => {
                *i += 1;
                false
            }
            _ => false,
        };
        let e = digits(i);
        if e.is_empty() {
            return Err(JsonbError("bad number", start));
        }
        for d in &b[e] {
            exp = exp.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        }
        if minus {
            exp = -exp;
        }
    }
    // numeric_in: the display scale is the digits after the point less the exponent, at least 0.
    let scale = (frac.len() as i64).saturating_sub(exp).max(0);
    // The digits without leading and trailing zeros; the point falls after `point` of them.
    let all: Vec<u8> = b[int.clone()].iter().chain(&b[frac]).copied().collect();
    let lead = all.iter().take_while(|d| **d == b'0').count();
    let trail = all[lead..].iter().rev().take_while(|d| **d == b'0').count();
    let significant = &all[lead..all.len() - trail];
    buf.clear();
    buf.push(b'n');
    buf.extend_from_slice(&scale.to_le_bytes());
    if !significant.is_empty() {
        let point = (int.len() as i64).saturating_add(exp).saturating_sub(lead as i64);
        buf.push(if negative { b'-' } else { b'+' });
        buf.extend_from_slice(&point.to_le_bytes());
        buf.extend_from_slice(significant);
    }
    Ok(xxh3_128(buf))
}

/// [`number_hash`] of the number at `*i` after Python's `json` read it and wrote it back: an
/// integer stays as it is; anything with a fraction or exponent is a `float`, written as
/// `repr(float)` (the shortest text that reads back as the same double, fixed notation for
/// decimal exponents from -4 to 15, else `d.ddde±XX`), which jsonb then reads.
fn python_number_hash(b: &[u8], i: &mut usize, buf: &mut Vec<u8>) -> Result<u128, JsonbError> {
    let start = *i;
    let mut probe = start;
    number_hash(b, &mut probe, buf)?;
    let text = std::str::from_utf8(&b[start..probe]).map_err(|_| JsonbError("bad number", start))?;
    *i = probe;
    if !text.contains(['.', 'e', 'E']) {
        let mut at = 0;
        return number_hash(text.as_bytes(), &mut at, buf);
    }
    let repr = python_float_repr(text.parse::<f64>().map_err(|_| JsonbError("bad number", start))?);
    let mut at = 0;
    number_hash(repr.as_bytes(), &mut at, buf)
}

/// Python's `repr(x)` of a finite double; `inf`/`nan` as Python's `json.dumps` writes them
/// (`Infinity`, `NaN`: not JSON, so PostgreSQL refuses the row; they hash as such).
fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // Rust's `{:e}` is the shortest round-trip digits, `d.ddde-7` / `de16`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} writes an exponent");
    let exp: i32 = exp.parse().expect("{:e} writes a decimal exponent");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let (int, frac) = if point <= 0 {
            ("0".to_string(), format!("{}{digits}", "0".repeat((-point) as usize)))
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_string(),
                digits[point as usize..].to_string(),
            )
        };
        let frac = if frac.is_empty() { "0".to_string() } else { frac };
        format!("{sign}{int}.{frac}")
    } else {
        let rest = &digits[1..];
        let dot = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        format!(
            "{sign}{}{dot}e{}{:02}",
            &digits[..1],
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn same(a: &str, b: &str) -> bool {
        canonical_hash(a).unwrap() == canonical_hash(b).unwrap()
    }

    #[rstest]
    #[case("1", "1e0", true)]
    #[case("1", "1E0", true)]
    #[case("1", "0.1e1", true)]
    #[case("1", "10e-1", false)] // 1.0
    #[case("1.0", "10e-1", true)]
    #[case("1", "1.0", false)]
    #[case("0", "-0", true)]
    #[case("0.0", "-0.0", true)]
    #[case("0", "0.0", false)]
    #[case("0", "0e5", true)]
    #[case("100", "1e2", true)]
    #[case("1.50", "1.5", false)]
    #[case("15.0", "1.50e1", true)]
    #[case("-1", "1", false)]
    #[case("123456789012345678901234567890", "123456789012345678901234567891", false)]
    #[case("123456789012345678901234567890", "12345678901234567890123456789e1", true)]
    #[case("1e400", "10e399", true)]
    #[case("1e400", "1e401", false)]
    #[case(r#""a""#, r#""\u0061""#, true)]
    #[case(r#""😀""#, r#""\ud83d\ude00""#, true)]
    #[case(r#""a/b""#, r#""a\/b""#, true)]
    #[case(r#"{"a":1,"b":2}"#, r#"{ "b" : 2 , "a" : 1 }"#, true)]
    #[case(r#"{"a":1,"a":2}"#, r#"{"a":2}"#, true)]
    #[case(r#"{"a":1,"a":2}"#, r#"{"a":1}"#, false)]
    #[case(r#"{"\u0061":1}"#, r#"{"a":1}"#, true)]
    #[case("[1,2]", "[2,1]", false)]
    #[case("[]", "{}", false)]
    #[case("null", "false", false)]
    #[case("true", "true", true)]
    #[case(r#"[{"x":[1e0]}]"#, r#"[{"x":[1]}]"#, true)]
    #[case(r#""1""#, "1", false)]
    fn jsonb_equality(#[case] a: &str, #[case] b: &str, #[case] equal: bool) {
        assert_eq!(same(a, b), equal, "{a} vs {b}");
    }

    /// Python's own `repr(float(text))` for these texts (python3 -c 'print(repr(float(t)))').
    #[rstest]
    #[case("1.50", "1.5")]
    #[case("1.0", "1.0")]
    #[case("100.0", "100.0")]
    #[case("0.0001", "0.0001")]
    #[case("0.00001", "1e-05")]
    #[case("1e16", "1e+16")]
    #[case("1.5e16", "1.5e+16")]
    #[case("123456789012345.6", "123456789012345.6")]
    #[case("1234567890123456.7", "1234567890123456.8")]
    #[case("-0.0", "-0.0")]
    #[case("0.1000000000000000055", "0.1")]
    #[case("2.5e-7", "2.5e-07")]
    #[case("1e400", "Infinity")]
    fn python_float_reprs(#[case] text: &str, #[case] repr: &str) {
        assert_eq!(python_float_repr(text.parse().unwrap()), repr);
    }

    #[rstest]
    #[case("1.50", "1.5", true)]
    #[case("1.0", "1", false)]
    #[case("10000000000000000.0", "10000000000000000", true)]
    #[case("123456789012345678901234567890", "123456789012345678901234567891", false)]
    #[case(r#"{"a":[1.50,{"b":0.1000000000000000055}]}"#, r#"{"a":[1.5,{"b":0.1}]}"#, true)]
    fn after_python(#[case] a: &str, #[case] b: &str, #[case] equal: bool) {
        assert_eq!(
            canonical_hash_after_python(a).unwrap() == canonical_hash_after_python(b).unwrap(),
            equal,
            "{a} vs {b}"
        );
    }

    #[test]
    fn deep_nesting_has_no_limit() {
        let depth = 100_000;
        let deep = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let deeper = format!("{}1e0{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(canonical_hash(&deep), canonical_hash(&deeper));
        let objects = format!("{}1{}", r#"{"k":"#.repeat(depth), "}".repeat(depth));
        assert!(canonical_hash(&objects).is_ok());
    }

    #[rstest]
    #[case("")]
    #[case("[1,")]
    #[case("{\"a\" 1}")]
    #[case("01x")]
    #[case("1.")]
    #[case("-")]
    #[case("\"abc")]
    #[case("[1] 2")]
    #[case("{\"a\":1,}")]
    fn invalid_text_is_an_error(#[case] text: &str) {
        assert!(canonical_hash(text).is_err(), "{text}");
    }
}

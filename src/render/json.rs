//! The JSON report (ARCHITECTURE.md "Contracts", schema_version 1), pretty-printed.

use std::io::{self, Write};

use serde_json::ser::Formatter;

use crate::report::Report;

/// The report as pretty JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut text = Vec::new();
    write(report, &mut text).expect("writing into memory cannot fail");
    String::from_utf8(text).expect("serde_json writes UTF-8")
}

/// [`render`] written straight to `out` through a buffer (no copy of a large report held in
/// memory).
///
/// # Errors
/// The writer's error.
pub fn write(report: &Report, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Pretty::default());
    serde::Serialize::serialize(report, &mut serializer)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// serde_json's `PrettyFormatter` (two-space indent), byte for byte, except that a line break
/// and its indent go out in one write instead of one write per level: a large report has over a
/// million lines, and the per-level writes cost a third of the rendering time.
#[derive(Default)]
struct Pretty {
    level: usize,
    has_value: bool,
}

impl Pretty {
    /// `,` (unless `first`), a line break and the indent of the current level.
    fn line<W: ?Sized + Write>(&self, out: &mut W, first: bool) -> io::Result<()> {
        const BREAK: &[u8] = b",\n                                                                ";
        let skip = usize::from(first);
        let spaces = 2 * self.level;
        match BREAK.get(skip..2 + spaces) {
            Some(line) => out.write_all(line),
            None => {
                out.write_all(&BREAK[skip..2])?;
                (0..self.level).try_for_each(|_| out.write_all(b"  "))
            }
        }
    }

    /// An array or object opens: one level deeper, nothing in it yet.
    fn open<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    /// An array or object closes: on a line of its own unless it was empty.
    fn close<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(out, true)?;
        }
        out.write_all(bracket)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.line(out, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.line(out, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.end_array_value(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn pretty(value: &Value) -> String {
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, Pretty::default());
        serde::Serialize::serialize(value, &mut serializer).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn pretty_is_serde_jsons_pretty_byte_for_byte() {
        // Deeper than the one-write indent (32 levels) to take the fallback too.
        let mut deep = json!({"leaf": [1, {"a": null}], "empty": [], "none": {}});
        for level in 0..40 {
            deep = json!({ "level": level, "inner": [deep, "x\n\"y\""], "e": {} });
        }
        for value in [json!(null), json!([]), json!({}), json!([[], {}, [[1]]]), deep] {
            assert_eq!(pretty(&value), serde_json::to_string_pretty(&value).unwrap());
        }
    }
}

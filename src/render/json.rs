//! The JSON report (ARCHITECTURE.md "Contracts", schema_version 1), pretty-printed.

use std::io::{self, Write};

use serde_json::ser::Formatter;

use crate::report::{Finding, Report};

/// Reports with at least this many findings have their findings rendered by several threads.
const PARALLEL_FINDINGS: usize = 2048;

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
    if report.findings.len() < PARALLEL_FINDINGS {
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, Pretty::default());
        serde::Serialize::serialize(report, &mut serializer)?;
    } else {
        write_in_parallel(report, &mut out)?;
    }
    out.write_all(b"\n")?;
    out.flush()
}

/// The bytes of serializing `value` with [`Pretty`] as if at nesting `level`.
fn pretty_at(value: &impl serde::Serialize, level: usize, out: &mut Vec<u8>) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(
        out,
        Pretty {
            level,
            has_value: false,
        },
    );
    value.serialize(&mut serializer).map_err(io::Error::from)
}

/// A large report, byte for byte as serde writes it: the findings (most of the bytes) are
/// rendered in as many slices as there are CPUs, each on its own thread, and put where the
/// report without findings has its empty `"findings": []`.
fn write_in_parallel(report: &Report, out: &mut impl Write) -> io::Result<()> {
    // Every field but the findings, listed so that a new field cannot be left out.
    let Report {
        schema_version,
        preflight_version,
        status,
        targets,
        findings,
        outcomes,
        duration_ms,
        started_at,
        notices,
        policy,
    } = report;
    let skeleton = Report {
        schema_version: *schema_version,
        preflight_version: preflight_version.clone(),
        status: *status,
        targets: targets.clone(),
        findings: Vec::new(),
        outcomes: outcomes.clone(),
        duration_ms: *duration_ms,
        started_at: *started_at,
        notices: notices.clone(),
        policy: *policy,
    };
    let mut text = Vec::new();
    pretty_at(&skeleton, 0, &mut text)?;
    // A top-level key is the only thing on a line indented by two spaces (a string holds no
    // raw line break), so this is the report's own "findings".
    const EMPTY: &[u8] = b"\n  \"findings\": []";
    let at = memchr::memmem::find(&text, EMPTY).ok_or_else(|| io::Error::other("the report has no findings field"))?
        + EMPTY.len()
        - 2;
    // The first slice streams out from this thread as it is rendered; the others are rendered
    // meanwhile into memory, which costs them the page faults of a fresh buffer: the first
    // slice is 1.5 times the size of the others, so that all end at about the same time.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let (streamed, buffered) = findings.split_at(findings.len() * 3 / (2 * threads + 1));
    // Empty when there is one thread.
    let slices: Vec<&[Finding]> = match buffered.len() {
        0 => Vec::new(),
        n => buffered.chunks(n.div_ceil(threads - 1)).collect(),
    };
    // As serde's array writes each element: a separator, then the element one level below the
    // array (which sits at level 1).
    let elements = |slice: &[Finding], first: bool, bytes: &mut Vec<u8>| {
        for (i, finding) in slice.iter().enumerate() {
            bytes.extend_from_slice(if first && i == 0 { b"\n    " } else { b",\n    " });
            pretty_at(finding, 2, bytes)?;
        }
        Ok::<_, io::Error>(())
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = slices
            .iter()
            .map(|slice| {
                scope.spawn(move || {
                    // Reserved generously: pages never touched cost nothing.
                    let mut bytes = Vec::with_capacity(slice.len() * 4096);
                    elements(slice, false, &mut bytes).map(|()| bytes)
                })
            })
            .collect();
        out.write_all(&text[..at])?;
        out.write_all(b"[")?;
        let mut bytes = Vec::with_capacity(1 << 16);
        for (n, chunk) in streamed.chunks(64).enumerate() {
            bytes.clear();
            elements(chunk, n == 0, &mut bytes)?;
            out.write_all(&bytes)?;
        }
        for handle in others {
            let bytes = handle
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("a rendering thread panicked")))?;
            out.write_all(&bytes)?;
        }
        Ok::<_, io::Error>(())
    })?;
    out.write_all(b"\n  ]")?;
    out.write_all(&text[at + 2..])
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
    fn a_large_report_is_rendered_byte_for_byte_as_serde_writes_it() {
        use crate::core::check::Pack;
        use crate::report::{Severity, Waived};
        use crate::systems::maas::checks::pack as maas_pack;
        let def = maas_pack().def("MAAS004");
        for count in [PARALLEL_FINDINGS - 1, PARALLEL_FINDINGS, 5 * PARALLEL_FINDINGS + 3] {
            let findings = (0..count)
                .map(|i| {
                    let evidence = json!({"machines": [format!("m{i}"), "n\"1"], "bmc_count": i, "empty": {}});
                    let mut f = def.finding(
                        Severity::Blocker,
                        format!("s{i}"),
                        "two\nlines",
                        evidence.as_object().unwrap().clone(),
                    );
                    f.waiver = (i % 7 == 0).then(|| Waived {
                        justification: "ok".into(),
                        expires: None,
                    });
                    f
                })
                .collect();
            let mut report = Report::new(
                [("maas".to_string(), "3.5".to_string())].into(),
                findings,
                vec![def.outcome(crate::report::OutcomeStatus::Fail, None)],
                12,
            );
            report.notices.push("a notice".into());
            let mut out = Vec::new();
            write(&report, &mut out).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string_pretty(&report).unwrap() + "\n",
                "{count}"
            );
        }
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

//! The JSON report (ARCHITECTURE.md "Contracts", schema_version 1), pretty-printed.
//!
//! The text is exactly serde_json's pretty form of the [`Report`]; large reports (tens of
//! thousands of findings from a fleet) render their findings on several threads and splice
//! them into the rest of the report.

use std::io::Write;

use crate::report::{Finding, Report};

/// Findings below which the report renders on one thread (threads cost more than they save).
const PARALLEL_FROM: usize = 2048;

/// The report as pretty JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut text = Vec::new();
    write(report, &mut text).expect("writing to memory cannot fail");
    String::from_utf8(text).expect("serde_json writes UTF-8")
}

/// [`render`] written to `out`.
///
/// # Errors
/// The writer's error.
pub fn write(report: &Report, out: impl Write) -> std::io::Result<()> {
    let threads = if report.findings.len() < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
    };
    write_on(report, out, threads)
}

/// [`write`] with the findings split in `threads` runs of about equal length: the first is
/// written straight to `out` by the calling thread while the others are rendered in memory on
/// their own threads (one thread: serde_json's writer as is).
fn write_on(report: &Report, out: impl Write, threads: usize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    if threads <= 1 || report.findings.len() < 2 {
        serde_json::to_writer_pretty(&mut out, report)?;
        out.write_all(b"\n")?;
        return out.flush();
    }
    // The rest of the report, with an empty findings array where the runs go. JSON text holds
    // no raw newline inside a string, so this is found only where the top-level key is.
    let shell = serde_json::to_vec_pretty(&without_findings(report))?;
    const EMPTY: &[u8] = b"\n  \"findings\": []";
    let at = shell
        .windows(EMPTY.len())
        .position(|w| w == EMPTY)
        .expect("the report has a top-level findings key");
    let mut runs = report.findings.chunks(report.findings.len().div_ceil(threads));
    let first = runs.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let others: Vec<_> = runs
            .map(|run| {
                scope.spawn(move || {
                    let mut text = Vec::new();
                    write_elements(run, &mut text).map(|()| text)
                })
            })
            .collect();
        out.write_all(&shell[..at + EMPTY.len() - 2])?;
        out.write_all(b"[\n")?;
        write_elements(first, &mut out)?;
        for other in others {
            out.write_all(b",\n")?;
            out.write_all(&other.join().expect("serializing findings cannot panic")?)?;
        }
        out.write_all(b"\n  ]")?;
        out.write_all(&shell[at + EMPTY.len()..])?;
        out.write_all(b"\n")?;
        out.flush()
    })
}

/// Writes `findings` as elements of the report's findings array: each pretty-printed at its
/// depth there (four spaces in), separated by `,\n`, with no bracket.
fn write_elements(findings: &[Finding], out: &mut impl Write) -> std::io::Result<()> {
    for (i, finding) in findings.iter().enumerate() {
        out.write_all(if i == 0 { b"    " } else { b",\n    " })?;
        serde_json::to_writer_pretty(Indented(&mut *out), finding)?;
    }
    Ok(())
}

/// A writer that indents every line after the first by four more spaces (serde_json's pretty
/// text has a raw newline only between lines: strings escape theirs).
struct Indented<W>(W);

impl<W: Write> Write for Indented<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, mut buf: &[u8]) -> std::io::Result<()> {
        while let Some(n) = memchr::memchr(b'\n', buf) {
            self.0.write_all(&buf[..=n])?;
            self.0.write_all(b"    ")?;
            buf = &buf[n + 1..];
        }
        self.0.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Everything of `report` but its findings (a cheap copy: the rest is small).
fn without_findings(report: &Report) -> Report {
    let Report {
        schema_version,
        preflight_version,
        status,
        targets,
        findings: _,
        outcomes,
        duration_ms,
        notices,
        policy,
    } = report;
    Report {
        schema_version: *schema_version,
        preflight_version: preflight_version.clone(),
        status: *status,
        targets: targets.clone(),
        findings: Vec::new(),
        outcomes: outcomes.clone(),
        duration_ms: *duration_ms,
        notices: notices.clone(),
        policy: *policy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Outcome, OutcomeStatus, Severity, System, Waived};
    use serde_json::json;

    fn report(findings: usize, notices: bool) -> Report {
        let findings = (0..findings)
            .map(|i| Finding {
                check: format!("MAAS00{}", i % 3),
                severity: [Severity::Blocker, Severity::Warning, Severity::Info][i % 3],
                system: System::Maas,
                subject: format!("ipmi BMC 10.0.0.{i} user \"admin\"\n"),
                title: "t".into(),
                message: "line one\nline two".into(),
                remediation: "r".into(),
                evidence: [
                    ("system_ids".to_string(), json!(["a", "b"])),
                    ("nested".to_string(), json!({"x": [], "y": {}, "z": [{"k": null}]})),
                ]
                .into_iter()
                .collect(),
                waiver: (i % 4 == 0).then(|| Waived {
                    justification: "in the baseline".into(),
                    expires: None,
                }),
            })
            .collect();
        let outcomes = vec![Outcome {
            check: "MAAS001".into(),
            system: System::Maas,
            status: OutcomeStatus::Fail,
            reason: Some("findings: []".into()),
        }];
        let mut r = Report::new([("maas".to_string(), "3.5".to_string())].into(), findings, outcomes, 7);
        if notices {
            r.notices.push("\"findings\": []".into());
        }
        r
    }

    #[test]
    fn any_split_gives_serde_jsons_pretty_text() {
        for findings in [0, 1, 2, 3, 7, 40] {
            for notices in [false, true] {
                let r = report(findings, notices);
                let mut want = serde_json::to_vec_pretty(&r).unwrap();
                want.push(b'\n');
                for threads in 1..=5 {
                    let mut got = Vec::new();
                    write_on(&r, &mut got, threads).unwrap();
                    assert_eq!(
                        String::from_utf8(got).unwrap(),
                        String::from_utf8(want.clone()).unwrap(),
                        "{findings} findings on {threads} threads"
                    );
                }
            }
        }
    }
}

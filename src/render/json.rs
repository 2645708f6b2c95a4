//! The JSON report (ARCHITECTURE.md "Contracts", schema_version 1), pretty-printed.

use std::io::Write;

use crate::report::Report;

/// The report as pretty JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a report always serializes");
    text.push('\n');
    text
}

/// [`render`] written straight to `out` through a buffer (no copy of a large report held in
/// memory).
///
/// # Errors
/// The writer's error.
pub fn write(report: &Report, out: impl std::io::Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n")?;
    out.flush()
}

//! Renderers: one [`Report`] in, text out. They never choose the exit code.

pub mod json;
pub mod nagios;
pub mod table;

use clap::ValueEnum;

use crate::report::Report;

/// Output formats of `preflight scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table per system with remediation and a summary (for people).
    Table,
    /// The JSON report, schema version 1 (for CI and scripts).
    Json,
    /// A Nagios/Icinga plugin line with performance data, long text after it.
    Nagios,
}

/// Renders `report` in `format`; `color` only affects the table.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Table => table::render(report, color),
        Format::Json => json::render(report),
        Format::Nagios => nagios::render(report),
    }
}

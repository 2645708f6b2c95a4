//! Renderers: one [`Report`] in, text out. They never choose the exit code.

pub mod html;
pub mod json;
pub mod junit;
pub mod nagios;
pub mod prometheus;
pub mod sarif;
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
    /// SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
    Sarif,
    /// JUnit XML for CI test reports (GitLab, Jenkins).
    Junit,
    /// Prometheus text format (node_exporter textfile collector).
    Prometheus,
    /// One self-contained HTML page to share with a change board.
    Html,
}

impl Format {
    /// The format's name as `--format` and `--output FORMAT=FILE` take it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Nagios => "nagios",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Prometheus => "prometheus",
            Format::Html => "html",
        }
    }
}

/// What renderers may need besides the report.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// ANSI colors (table only).
    pub color: bool,
    /// The config file that named the systems (SARIF locations).
    pub config_path: Option<String>,
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format, ctx: &Context) -> String {
    match format {
        Format::Table => table::render(report, ctx.color),
        Format::Json => json::render(report),
        Format::Nagios => nagios::render(report),
        Format::Sarif => sarif::render(report, ctx.config_path.as_deref()),
        Format::Junit => junit::render(report),
        Format::Html => html::render(report),
        Format::Prometheus => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            prometheus::render(report, now)
        }
    }
}

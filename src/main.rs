//! The `preflight` binary: parse the command line, run, exit with the report's status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    preflight::cli::run(preflight::cli::Cli::parse())
}

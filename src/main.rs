//! The `preflight` binary: parse the command line, run, exit with the report's status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match preflight::cli::Cli::try_parse() {
        Ok(cli) => preflight::cli::run(cli),
        Err(e) => {
            // --help and --version are not errors; a bad command line is UNKNOWN (3), never
            // clap's default 2, which would read as CRITICAL.
            let _ = e.print();
            if e.use_stderr() {
                ExitCode::from(preflight::report::Status::Unknown.exit_code())
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

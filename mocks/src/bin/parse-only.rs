//! The baseline of `scripts/bench-bmc`: reads a file and parses it with serde_json into
//! `IgnoredAny` — the least any JSON consumer must do with the same bytes.
//! Usage: `parse-only FILE`.

use serde::de::IgnoredAny;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: parse-only FILE")?;
    let bytes = std::fs::read(&path)?;
    let _: IgnoredAny = serde_json::from_slice(&bytes)?;
    Ok(())
}

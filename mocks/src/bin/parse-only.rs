//! The baseline of `scripts/bench-bmc`: reads each file and parses it with serde_json into
//! `IgnoredAny` — the least any JSON consumer must do with the same bytes. Files are parsed one
//! after another, each dropped before the next is read.
//! Usage: `parse-only FILE...`.

use serde::de::IgnoredAny;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        return Err("usage: parse-only FILE...".into());
    }
    for path in paths {
        let bytes = std::fs::read(&path)?;
        let _: IgnoredAny = serde_json::from_slice(&bytes)?;
    }
    Ok(())
}

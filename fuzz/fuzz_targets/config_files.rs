#![no_main]
//! preflight.toml and JSON reports (baselines) never panic the parsers.
use libfuzzer_sys::fuzz_target;
use preflight::config::parse_file_config;
use preflight::report::Report;
use preflight::systems::configurable;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_file_config("fuzz.toml", &text, &configurable());
    let _ = serde_json::from_slice::<Report>(data);
});

#![no_main]
//! os-release, lsb_release and regiond.conf parsing never panic.
use libfuzzer_sys::fuzz_target;
use preflight::host::{parse_lsb_release, parse_os_release};
use preflight::systems::maas::probe_host::parse_regiond_conf;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_os_release(&text);
    let _ = parse_lsb_release(&text);
    let _ = parse_regiond_conf("fuzz", &text);
});

#![no_main]
//! Every version parser (MAAS, dpkg, Juju, Backend.AI, Nagios ranges) never panics.
use libfuzzer_sys::fuzz_target;
use preflight::report::Range;
use preflight::systems::juju::probe::juju_version;
use preflight::version::{Series, Version};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(v) = Version::parse(&text) {
        let _ = v.normalized();
        let _ = v.series().to_string();
    }
    let _ = Series::parse(&text);
    let _ = juju_version(&text);
    if let Ok(r) = Range::parse(&text) {
        let _ = r.perfdata();
        let _ = r.alerts(3.0);
    }
});

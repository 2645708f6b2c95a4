#![no_main]
//! The streaming power-parameters reader and the detector never panic, whatever the bytes.
use libfuzzer_sys::fuzz_target;
use preflight::checks::bmc::{find_collisions, find_shared_addresses, PowerTypes};
use preflight::checks::maas_pack;
use preflight::probe::power_parameters::{read, PowerInput};

fuzz_target!(|data: &[u8]| {
    let rules = &maas_pack().bmc;
    let types = PowerTypes::new(rules);
    if let Ok(obs) = read(data, &PowerInput { rules, types: &types, given: None }) {
        let _ = find_collisions(rules, &obs);
        let _ = find_shared_addresses(rules, &obs);
    }
});

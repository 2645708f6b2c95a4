#![no_main]
//! The streaming power-parameters reader and the detector never panic, whatever the bytes, and
//! the reader's answer (records or error) does not depend on where it cuts the document.
use libfuzzer_sys::fuzz_target;
use preflight::systems::maas::bmc::power_parameters::{read, read_in_pieces, PowerInput};
use preflight::systems::maas::bmc::{find_groups, Observations, PowerTypes};
use preflight::systems::maas::checks::pack as maas_pack;

/// Every record as (subject, power type, BMC identity, post-0290 hash), sorted.
fn summary(obs: &Observations) -> Vec<(String, u16, u64, u128)> {
    let mut all: Vec<_> = obs
        .records()
        .map(|r| (obs.subject(r).to_string(), r.power_type, r.bmc, r.post))
        .collect();
    all.sort();
    all
}

fuzz_target!(|data: &[u8]| {
    let rules = &maas_pack().bmc;
    let types = PowerTypes::new(rules);
    let input = PowerInput {
        rules,
        types: &types,
        given: None,
    };
    let whole = read(data, &input);
    for piece in [1, 3, 16, 64] {
        let cut = read_in_pieces(data, &input, piece);
        match (&whole, &cut) {
            (Ok(a), Ok(b)) => assert_eq!(summary(a), summary(b), "piece {piece}"),
            (Err(a), Err(b)) => assert_eq!(a, b, "piece {piece}"),
            _ => panic!("piece {piece}: {:?} vs {:?}", whole.as_ref().err(), cut.as_ref().err()),
        }
    }
    if let Ok(obs) = whole {
        let _ = find_groups(rules, &obs);
    }
});

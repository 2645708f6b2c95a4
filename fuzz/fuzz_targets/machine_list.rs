#![no_main]
//! The streaming machine-list reader never panics, gives serde_json's machines wherever
//! serde_json reads the bytes as a machine list (but for the two refusals its module documents:
//! invalid UTF-8 anywhere, an array where a machine object belongs), refuses what serde_json
//! refuses, and gives the same answer (machines or error) wherever it cuts the document.
use libfuzzer_sys::fuzz_target;
use preflight::systems::maas::bmc::machine_list::{read, read_in_pieces, MachineListError};
use preflight::systems::maas::facts::Machine;

fuzz_target!(|data: &[u8]| {
    let ours = read(data);
    let theirs = serde_json::from_slice::<Vec<Machine>>(data);
    match (&ours, &theirs) {
        (Ok(list), Ok(machines)) => assert_eq!(&list.to_machines(), machines),
        (Err(_), Err(_)) => {}
        (Err(MachineListError::NotAnObject { kind: "an array", .. }), Ok(_)) => {}
        (Err(_), Ok(_)) if std::str::from_utf8(data).is_err() => {}
        _ => panic!("ours {:?}, serde_json {:?}", ours.as_ref().err(), theirs.as_ref().err()),
    }
    for piece in [1, 3, 16, 64] {
        assert_eq!(read_in_pieces(data, piece), ours, "piece {piece}");
    }
});

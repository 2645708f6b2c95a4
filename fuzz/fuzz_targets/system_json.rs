#![no_main]
//! The wire shapes of Mender, Backend.AI and Juju answers never panic their parsers.
use libfuzzer_sys::fuzz_target;
use preflight::systems::backendai::probe as backendai;
use preflight::systems::juju::probe as juju;
use preflight::systems::mender::probe as mender;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Vec<mender::AuthDevice>>(data);
    let _ = serde_json::from_slice::<Vec<mender::InventoryDevice>>(data);
    let _ = serde_json::from_slice::<backendai::ManagerRoot>(data);
    let _ = serde_json::from_slice::<backendai::Status>(data);
    let _ = serde_json::from_slice::<backendai::GqlAnswer>(data);
    let _ = serde_json::from_slice::<juju::Controllers>(data);
    let _ = serde_json::from_slice::<juju::Models>(data);
});

//! Mender's part of `preflight scan --demo`: a fake Mender Server with decommissioned devices'
//! auth sets left behind.

use super::config::MenderConfig;
use crate::config::{Config, Secret};
use crate::core::system::DemoPart;
use crate::version::Version;
use mocks::mender::{MenderFleet, MenderServer};

/// Starts the fake server and points `config` at it.
pub async fn start(config: &mut Config) -> DemoPart {
    let server = MenderServer::start(&MenderFleet::generate(mocks::demo::MENDER_DEVICES)).await;
    let mender = config.of_mut::<MenderConfig>();
    mender.url = Some(server.url());
    mender.token = Some(Secret::new(mocks::mender::TOKEN.to_string()));
    mender.current = Version::parse(mocks::demo::MENDER_VERSION).ok();
    DemoPart {
        banner: "a fake Mender Server".into(),
        guard: Box::new(server),
    }
}

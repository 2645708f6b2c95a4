//! Backend.AI's part of `preflight scan --demo`: a fake cluster (manager, storage proxy, web
//! server) from mocks/.

use super::config::BackendaiConfig;
use crate::config::Config;
use crate::core::system::DemoPart;
use mocks::backendai::BackendaiCluster;

/// Starts the fake cluster and points `config` at it.
pub async fn start(config: &mut Config) -> DemoPart {
    let cluster = BackendaiCluster::start(&mocks::demo::backendai()).await;
    let backendai = config.of_mut::<BackendaiConfig>();
    backendai.manager_url = Some(cluster.manager.uri());
    backendai.storage_proxy_url = Some(cluster.storage_proxy.uri());
    backendai.webserver_url = Some(cluster.webserver.uri());
    DemoPart {
        banner: "a fake Backend.AI cluster".into(),
        guard: Box::new(cluster),
    }
}

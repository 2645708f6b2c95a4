//! Proxmox VE's part of `preflight scan --demo`: a fake four-node cluster from mocks/ where
//! every check fires (two releases, one node below pve8to9's proxmox-ve minimum, a corosync
//! 2.x, Ceph 18 Reef, an offline node).

use super::config::ProxmoxConfig;
use crate::config::{Config, Secret};
use crate::core::system::DemoPart;
use mocks::proxmox::{ProxmoxCluster, ProxmoxOptions};

/// Starts the fake cluster and points `config` at it.
pub async fn start(config: &mut Config) -> DemoPart {
    let cluster = ProxmoxCluster::start(&ProxmoxOptions::demo()).await;
    let proxmox = config.of_mut::<ProxmoxConfig>();
    proxmox.url = Some(cluster.url());
    proxmox.token = Some(Secret::new(mocks::proxmox::token()));
    DemoPart {
        banner: "a fake Proxmox VE cluster".into(),
        guard: Box::new(cluster),
    }
}

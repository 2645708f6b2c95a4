//! The controllers of a deployment besides this host: their host facts, read over SSH
//! (`scan --hosts inventory.ini`, or `--hosts maas` for the controllers the region API lists:
//! the same read-only reads as the local probe, [`super::probe_host::READS`], recorded in one
//! ssh round trip per host) or from facts documents (`scan --host-facts FILE|DIR…`, what
//! `preflight facts` writes on each), so the host checks (MAAS002, MAAS006) give one verdict
//! for every controller.

use std::path::{Path, PathBuf};

use super::facts::{InspectedHost, MaasApiFacts};
use super::host_document::Document;
use super::probe_host::READS;
use crate::config::Config;
use crate::core::probed::{ProbeError, Probed};
use crate::host::inventory::InventoryHost;
use crate::host::ssh::{record_all, SshOptions, SshTarget};
use crate::host::HostSource;
use std::time::Instant;

pub use super::config::{Fleet, HostsFrom, SshHosts};

/// The inventory's hosts as SSH targets: `ansible_host`, `ansible_port`, `ansible_user`;
/// `ansible_become` (true/yes/1) reads privileged files through `sudo -n`;
/// `ansible_ssh_private_key_file` is passed as `-i`; `preflight_root` reads that directory on
/// the host instead of `/` (an image or container root mounted there).
pub fn inventory_targets(hosts: &[InventoryHost], options: &SshOptions) -> Vec<(SshTarget, SshOptions)> {
    let truthy = |v: &str| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1" | "on");
    hosts
        .iter()
        .map(|h| {
            let mut o = options.clone();
            if h.vars.get("ansible_become").is_some_and(|v| truthy(v)) {
                o.sudo = true;
            }
            if let Some(key) = h.vars.get("ansible_ssh_private_key_file") {
                o.extra.extend(["-i".to_string(), key.clone()]);
            }
            if let Some(root) = h.vars.get("preflight_root") {
                o.root = Some(root.clone());
            }
            let target = SshTarget {
                name: h.name.clone(),
                address: h.address.clone(),
                port: h.port,
                user: h.user.clone(),
            };
            (target, o)
        })
        .collect()
}

/// Makes a scan inspect the hosts `fleet` names (the CLI's `--host-facts`).
pub fn use_fleet(config: &mut Config, fleet: Fleet) {
    config.of_mut::<super::config::MaasConfig>().fleet = fleet;
}

/// The inspected hosts: those read over SSH, then the documents' (a host named twice: the
/// first stands); `None` when `fleet` names none. A host that cannot be read over SSH, or a
/// document that cannot be read or is not a facts document, is a host of its own whose host
/// checks are `error`. `api` lists the controllers for `--hosts maas`; the hosts over ssh are
/// read by `deadline` (the run's `--timeout`, [`record_all`]).
pub async fn inspect(fleet: &Fleet, api: &Probed<MaasApiFacts>, deadline: Instant) -> Option<Vec<InspectedHost>> {
    if fleet.is_empty() {
        return None;
    }
    let mut hosts = match &fleet.ssh {
        Some(ssh) => over_ssh(ssh, api, deadline).await,
        None => Vec::new(),
    };
    let documents = fleet.documents.clone();
    let read =
        tokio::task::spawn_blocking(move || documents.iter().flat_map(|p| read_documents(p)).collect::<Vec<_>>());
    hosts.extend(read.await.unwrap_or_else(|e| {
        vec![InspectedHost {
            name: "facts documents".into(),
            facts: Err(ProbeError::new(
                crate::core::probed::ErrorKind::Failed,
                format!("reading the facts documents failed: {e}"),
            )),
        }]
    }));
    let mut unique: Vec<InspectedHost> = Vec::new();
    for h in hosts {
        if unique.iter().any(|u| u.name == h.name) {
            tracing::warn!(
                "{} is named by more than one facts document: the first one stands",
                h.name
            );
        } else {
            unique.push(h);
        }
    }
    Some(unique)
}

/// Reads every host of `ssh` (the controllers the region API lists for `--hosts maas`; none
/// when the API could not be read, which its own checks report) by `deadline` (the run's), and
/// probes each recording.
async fn over_ssh(ssh: &SshHosts, api: &Probed<MaasApiFacts>, deadline: Instant) -> Vec<InspectedHost> {
    let jobs: Vec<(SshTarget, SshOptions)> = match &ssh.from {
        HostsFrom::Inventory(jobs) => jobs.clone(),
        HostsFrom::Maas => match api {
            Probed::Found(api) => {
                let mut names: Vec<String> = Vec::new();
                for c in api.racks.iter().chain(&api.regions) {
                    if !c.hostname.is_empty() && !names.contains(&c.hostname) {
                        names.push(c.hostname.clone());
                    }
                }
                names
                    .into_iter()
                    .map(|n| (SshTarget::named(n), ssh.options.clone()))
                    .collect()
            }
            Probed::Skipped(why) => {
                return vec![InspectedHost {
                    name: "the region API's controllers".into(),
                    facts: Err(ProbeError::config(format!("--hosts maas needs the region API: {why}"))),
                }]
            }
            Probed::Failed(cause) => {
                return vec![InspectedHost {
                    name: "the region API's controllers".into(),
                    facts: Err(cause
                        .clone()
                        .reworded(|c| format!("--hosts maas could not list the controllers: {c}"))),
                }]
            }
        },
    };
    let recorded = record_all(&jobs, READS, ssh.concurrency, deadline).await;
    let mut hosts = Vec::with_capacity(jobs.len());
    for ((target, _), result) in jobs.iter().zip(recorded) {
        let facts = match result {
            Ok(r) => Ok(super::probe_host::probe(&HostSource::Recorded(r)).await),
            Err(e) => Err(e),
        };
        hosts.push(InspectedHost {
            name: target.name.clone(),
            facts,
        });
    }
    hosts
}

/// The hosts of one `--host-facts` argument: a document, or a directory of `*.json`.
fn read_documents(path: &Path) -> Vec<InspectedHost> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(dir) => dir
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect(),
            Err(e) => return vec![unreadable(path, &e)],
        };
        files.sort();
        if files.is_empty() {
            return vec![InspectedHost {
                name: path.display().to_string(),
                facts: Err(ProbeError::new(
                    crate::core::probed::ErrorKind::NotFound,
                    format!("{} holds no *.json facts document", path.display()),
                )),
            }];
        }
        return files.iter().map(|f| read_document(f)).collect();
    }
    vec![read_document(path)]
}

fn read_document(path: &Path) -> InspectedHost {
    let origin = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => match Document::parse(&text, &origin) {
            Ok(doc) => InspectedHost {
                name: doc.host.clone(),
                facts: Ok(doc.host_facts()),
            },
            Err(e) => InspectedHost {
                name: origin,
                facts: Err(e),
            },
        },
        Err(e) => unreadable(path, &e),
    }
}

fn unreadable(path: &Path, e: &std::io::Error) -> InspectedHost {
    InspectedHost {
        name: path.display().to_string(),
        facts: Err(ProbeError::io(
            e,
            format!("cannot read the facts document {}: {e}", path.display()),
        )),
    }
}

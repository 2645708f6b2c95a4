//! The controllers of a deployment besides this host: their host facts, from facts documents
//! (`scan --host-facts FILE|DIR…`, what `preflight facts` writes on each), so the host checks
//! (MAAS002, MAAS006) give one verdict for every controller.

use std::path::{Path, PathBuf};

use super::facts::InspectedHost;
use super::host_document::Document;
use crate::config::Config;
use crate::core::probed::ProbeError;

/// Which hosts to inspect besides this one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fleet {
    /// Facts documents: files, or directories whose `*.json` files are read (sorted by name).
    pub documents: Vec<PathBuf>,
}

impl Fleet {
    /// Whether any host is to be inspected.
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }
}

/// Makes a scan inspect the hosts `fleet` names (the CLI's `--host-facts`).
pub fn use_fleet(config: &mut Config, fleet: Fleet) {
    config.of_mut::<super::config::MaasConfig>().fleet = fleet;
}

/// The inspected hosts, in the order given (a document's host named twice: the first stands);
/// `None` when `fleet` names none. A document that cannot be read or is not a facts document
/// is a host of its own (named by its path) whose host checks are `error`.
pub async fn inspect(fleet: &Fleet) -> Option<Vec<InspectedHost>> {
    if fleet.is_empty() {
        return None;
    }
    let documents = fleet.documents.clone();
    let read = tokio::task::spawn_blocking(move || documents.iter().flat_map(|p| read_documents(p)).collect());
    let hosts: Vec<InspectedHost> = read.await.unwrap_or_else(|e| {
        vec![InspectedHost {
            name: "facts documents".into(),
            facts: Err(ProbeError::new(
                crate::core::probed::ErrorKind::Failed,
                format!("reading the facts documents failed: {e}"),
            )),
        }]
    });
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

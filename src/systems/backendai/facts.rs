//! What the Backend.AI probe reads and the Backend.AI checks evaluate: plain types, no I/O.

use crate::core::probed::ProbeError;
use crate::version::Version;

/// Whether the agents' versions were read (they need a superadmin keypair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentVersions {
    /// This many alive agents were compared.
    Read(usize),
    /// No keypair configured: agents not compared (said in the outcome).
    NoKeypair,
    /// The agent list could not be read: BAI001 cannot vouch for the agents.
    Failed(ProbeError),
}

/// What the Backend.AI endpoints told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendaiState {
    /// The manager's version (`GET /` → `manager`).
    pub manager: Version,
    /// Manager nodes `GET /manager/status` listed: only the one that answered (upstream's
    /// `fetch_manager_status` reports its own process), so other manager nodes go unseen.
    pub manager_nodes: usize,
    /// (component, version) for every component that answered.
    pub components: Vec<(String, String)>,
    /// `active_sessions` from `GET /manager/status`, or why it could not be read.
    pub active_sessions: Result<u64, ProbeError>,
    pub agents: AgentVersions,
}

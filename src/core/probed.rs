//! What a probe learned about one system. Each probe (under `systems/<name>/`) reads one live
//! system once and returns plain facts; it never decides severity. Every failure becomes a
//! [`Probed::Failed`] holding a [`ProbeError`]: its kind and the cause in words (which a check
//! turns into outcome `error` with that kind), never a panic.

use std::fmt;

pub use crate::report::ErrorKind;

/// Why a probe (or one read of it) failed: the [`ErrorKind`] renderers and the fault table
/// read, and the detail in words that the outcome's `reason` carries unchanged. Displays as
/// the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeError {
    pub kind: ErrorKind,
    pub detail: String,
}

impl ProbeError {
    /// A failure of `kind`, described by `detail`.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> ProbeError {
        ProbeError {
            kind,
            detail: detail.into(),
        }
    }

    /// Settings that cannot be used (kind [`ErrorKind::Config`]), e.g. a URL that cannot be
    /// built from the configured one.
    pub fn config(detail: impl fmt::Display) -> ProbeError {
        ProbeError::new(ErrorKind::Config, detail.to_string())
    }

    /// A failed file operation, its kind from the I/O error (missing: not found, permission
    /// denied: forbidden, else failed).
    pub fn io(e: &std::io::Error, detail: impl Into<String>) -> ProbeError {
        let kind = match e.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::Forbidden,
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Failed,
        };
        ProbeError::new(kind, detail)
    }

    /// The same kind with its detail reworded by `f` (e.g. prefixed with what was being read).
    #[must_use]
    pub fn reworded(self, f: impl FnOnce(String) -> String) -> ProbeError {
        ProbeError {
            kind: self.kind,
            detail: f(self.detail),
        }
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for ProbeError {}

/// What a probe learned about one system.
#[derive(Debug, Clone, PartialEq)]
pub enum Probed<T> {
    /// The system was read.
    Found(T),
    /// The system is neither configured nor discoverable here; the reason says what to set.
    Skipped(String),
    /// The system is configured or discovered but could not be read.
    Failed(ProbeError),
}

impl<T> Probed<T> {
    /// The facts, if the probe found them.
    pub fn found(&self) -> Option<&T> {
        match self {
            Probed::Found(t) => Some(t),
            _ => None,
        }
    }
}

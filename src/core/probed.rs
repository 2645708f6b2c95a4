//! What a probe learned about one system. Each probe (under `systems/<name>/`) reads one live
//! system once and returns plain facts; it never decides severity. Every failure becomes a [`Probed::Failed`] with the cause
//! in words (which a check turns into outcome `error`), never a panic.

/// What a probe learned about one system.
#[derive(Debug, Clone, PartialEq)]
pub enum Probed<T> {
    /// The system was read.
    Found(T),
    /// The system is neither configured nor discoverable here; the reason says what to set.
    Skipped(String),
    /// The system is configured or discovered but could not be read; the cause in words.
    Failed(String),
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

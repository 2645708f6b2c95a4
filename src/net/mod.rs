//! The network plumbing every system shares: one HTTP client per run.

pub mod http;

//! What names no system: the [`system::System`] trait every system implements, the shared
//! check types, upgrade paths and probe outcomes, and the generic engine that runs whatever
//! systems it is given (the registry's, from the top): configure every system, leave out those
//! the selection excludes *before* probing, run the rest concurrently, then the one finishing
//! step (selection, waivers, baseline, policy).
//!
//! No item lives here and nothing is re-exported, so an import names the file it needs.

pub mod check;
pub mod engine;
pub mod knowledge;
pub mod path;
pub mod probed;
pub mod scan;
pub mod system;

//! The checks and system names selectors, waivers and did-you-mean are matched against.

use super::error::ConfigError;
use crate::core::check::CheckDef;

/// The checks and system names of the configured systems: what selectors, waivers and
/// did-you-mean are matched against.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Every check, ordered by id.
    pub checks: Vec<&'static CheckDef>,
    /// (name, check-id prefix) of every system, in registry order.
    pub systems: Vec<(&'static str, &'static str)>,
}

impl Catalogue {
    /// The system names, in registry order.
    pub fn names(&self) -> Vec<&'static str> {
        self.systems.iter().map(|(name, _)| *name).collect()
    }

    /// A pattern names a check by id or name, or all of a system's checks: those about it
    /// (`host`, `postgresql`, …) and those of its pack (`maas` includes MAAS002 about the host).
    pub(crate) fn matches(&self, pattern: &str, def: &CheckDef) -> bool {
        let prefix = self.systems.iter().find(|(name, _)| *name == pattern).map(|(_, p)| *p);
        def.id.eq_ignore_ascii_case(pattern)
            || def.name == pattern
            || def.system.as_str() == pattern
            || prefix.is_some_and(|p| def.id.starts_with(p))
    }

    /// The closest known check id, name or system to `given`, for "did you mean".
    pub fn did_you_mean(&self, given: &str) -> Option<String> {
        let mut candidates: Vec<String> = self
            .checks
            .iter()
            .flat_map(|c| [c.id.clone(), c.name.clone()])
            .collect();
        candidates.extend(self.names().into_iter().map(str::to_string));
        candidates
            .into_iter()
            .map(|c| {
                (
                    strsim::jaro_winkler(&c.to_ascii_lowercase(), &given.to_ascii_lowercase()),
                    c,
                )
            })
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, c)| c)
    }

    pub(crate) fn check_selectors(&self, list: &[String]) -> Result<(), ConfigError> {
        for given in list {
            if !self.checks.iter().any(|c| self.matches(given, c)) {
                return Err(ConfigError::Value {
                    what: "check selector",
                    given: given.clone(),
                    why: match self.did_you_mean(given) {
                        Some(s) => format!("no such check id, name or system; did you mean '{s}'?"),
                        None => "no such check id, name or system (see `preflight checks`)".into(),
                    },
                });
            }
        }
        Ok(())
    }
}

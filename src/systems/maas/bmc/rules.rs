//! The 0290 key tables (checks/maas.toml `[bmc]`) and the power types of a fleet.

use std::collections::HashMap;

use serde::Deserialize;

/// The 0290 key tables from checks/maas.toml `[bmc]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BmcRules {
    /// power_type → the one key 0290 removes. Types not listed lose nothing.
    pub removed_by_0290: HashMap<String, String>,
    /// power_type → the driver's BMC-scoped settings: the keys a BMC row holds
    /// (`BMC.scope_power_parameters`); every other key of a machine's merged parameters is the
    /// node's. A type without an entry has no such settings.
    pub bmc_scoped: HashMap<String, Vec<String>>,
    /// key → the only power type that uses it (inference for offline input).
    pub infer: HashMap<String, String>,
    /// Power types the unique index ignores (`manual`).
    pub exempt_power_types: Vec<String>,
}

impl BmcRules {
    /// Whether the unique index ignores this power type.
    #[inline]
    pub fn is_exempt(&self, power_type: &str) -> bool {
        self.exempt_power_types.iter().any(|t| t == power_type)
    }

    /// Every power type the tables name: MAAS's drivers.
    pub fn known_types(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .removed_by_0290
            .keys()
            .chain(self.bmc_scoped.keys())
            .chain(self.infer.values())
            .chain(self.exempt_power_types.iter())
            .map(String::as_str)
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// Interned power-type names. Id 0 is "no power type"; ids `1..=known` are MAAS's drivers from
/// the tables; higher ids are names the input used that preflight does not know.
#[derive(Debug, Clone)]
pub struct PowerTypes {
    pub(super) names: Vec<String>,
    index: HashMap<String, u16>,
    known: u16,
}

impl PowerTypes {
    /// Id of "no power type".
    pub const NONE: u16 = 0;

    /// The drivers of `rules`, interned.
    pub fn new(rules: &BmcRules) -> PowerTypes {
        let mut types = PowerTypes {
            names: vec![String::new()],
            index: HashMap::from([(String::new(), 0)]),
            known: 0,
        };
        for t in rules.known_types() {
            types.intern(t);
        }
        types.known = (types.names.len() - 1) as u16;
        types
    }

    /// The id of `name`, adding it when new.
    #[inline]
    pub fn intern(&mut self, name: &str) -> u16 {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let id = self.names.len() as u16;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), id);
        id
    }

    /// The id of `name`, if interned.
    #[inline]
    pub fn get(&self, name: &str) -> Option<u16> {
        self.index.get(name).copied()
    }

    /// How many ids there are (none, the drivers, and names the input added).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Always false: "no power type" is always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The name of `id` (empty for [`PowerTypes::NONE`]).
    #[inline]
    pub fn name(&self, id: u16) -> &str {
        &self.names[id as usize]
    }

    /// Whether `id` is one of MAAS's drivers (not none, not a name preflight does not know).
    #[inline]
    pub fn is_known(&self, id: u16) -> bool {
        id != Self::NONE && id <= self.known
    }
}

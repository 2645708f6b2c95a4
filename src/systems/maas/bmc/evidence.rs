//! The detail of a finding about a group of BMCs (MAAS004, MAAS005), kept typed: a fleet can
//! have tens of thousands of them, and a typed group is built and written without a map of
//! JSON values. Its table line names the machines behind the group.

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::report::{Evidence, TypedEvidence};

/// Machines a table line names before `(+N more)`.
const SHOWN_MACHINES: usize = 6;

/// The detail of a finding about a group of BMCs (MAAS004, MAAS005). Written as one JSON
/// object whose keys are sorted, like every other evidence object's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BmcEvidence {
    /// How many different BMCs the group holds.
    pub bmc_count: usize,
    /// Database mode: the BMC rows' ids (numbers; text when an id is not a number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bmc_ids: Option<Vec<Value>>,
    /// Through the API: the system_ids among `system_ids` that are rack or region controllers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controllers: Option<Vec<String>>,
    /// The machines' hostnames, in `system_ids` order; null when unknown.
    pub hostnames: Vec<Option<String>>,
    /// The names of the pods (VM hosts) among the BMC rows (database mode, or through the API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<Vec<String>>,
    /// The address the group shares (normalized for MAAS005).
    pub power_address: String,
    /// The group's power types, sorted: written as a string when there is one.
    #[serde(serialize_with = "one_or_many")]
    pub power_type: Vec<String>,
    pub power_user: String,
    /// The machines' system_ids.
    pub system_ids: Vec<String>,
}

fn one_or_many<S: Serializer>(names: &[String], s: S) -> Result<S::Ok, S::Error> {
    match names {
        [one] => s.serialize_str(one),
        many => many.serialize(s),
    }
}

impl TypedEvidence for BmcEvidence {
    fn clone_box(&self) -> Box<dyn TypedEvidence> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn same_as(&self, other: &dyn TypedEvidence) -> bool {
        other.as_any().downcast_ref::<BmcEvidence>() == Some(self)
    }

    /// The nodes behind the group: `Machines: host (id), …` (controllers marked), then its VM
    /// hosts, if any.
    fn table_line(&self) -> Option<String> {
        let controllers = self.controllers.as_deref().unwrap_or_default();
        let shown: Vec<String> = self
            .hostnames
            .iter()
            .zip(&self.system_ids)
            .take(SHOWN_MACHINES)
            .map(|(name, id)| {
                let mark = if controllers.contains(id) { ", controller" } else { "" };
                format!("{} ({id}{mark})", name.as_deref().unwrap_or(""))
            })
            .collect();
        let more = self.system_ids.len().saturating_sub(SHOWN_MACHINES);
        let mut parts = Vec::new();
        if !shown.is_empty() {
            parts.push(format!(
                "Machines: {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" (+{more} more)")
                } else {
                    String::new()
                }
            ));
        }
        if let Some(pods) = self.pods.as_ref().filter(|p| !p.is_empty()) {
            parts.push(format!("VM hosts: {}", pods.join(", ")));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

impl From<BmcEvidence> for Evidence {
    fn from(group: BmcEvidence) -> Self {
        Evidence::Typed(Box::new(group))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typed BMC group is written exactly as the same object of JSON values: keys sorted,
    /// one power type as a string, the database's keys only when present.
    #[test]
    fn bmc_evidence_is_written_as_its_json_object() {
        let api = BmcEvidence {
            bmc_count: 2,
            bmc_ids: None,
            controllers: None,
            hostnames: vec![Some("n1".into()), None],
            pods: None,
            power_address: "10.0.0.5".into(),
            power_type: vec!["ipmi".into()],
            power_user: "admin".into(),
            system_ids: vec!["aaaaaa".into(), "bbbbbb".into()],
        };
        let database = BmcEvidence {
            bmc_ids: Some(vec![serde_json::json!(7), serde_json::json!("x")]),
            pods: Some(vec!["pod-1".into()]),
            power_type: vec!["ipmi".into(), "redfish".into()],
            ..api.clone()
        };
        for (group, want) in [
            (
                api,
                serde_json::json!({"bmc_count": 2, "hostnames": ["n1", null], "power_address": "10.0.0.5",
                    "power_type": "ipmi", "power_user": "admin", "system_ids": ["aaaaaa", "bbbbbb"]}),
            ),
            (
                database,
                serde_json::json!({"bmc_count": 2, "bmc_ids": [7, "x"], "hostnames": ["n1", null], "pods": ["pod-1"],
                    "power_address": "10.0.0.5", "power_type": ["ipmi", "redfish"], "power_user": "admin",
                    "system_ids": ["aaaaaa", "bbbbbb"]}),
            ),
        ] {
            let typed = Evidence::from(group);
            let Value::Object(map) = want else { unreachable!() };
            assert_eq!(
                serde_json::to_string_pretty(&typed).unwrap(),
                serde_json::to_string_pretty(&map).unwrap()
            );
            assert_eq!(*typed.to_map(), map);
            assert_eq!(typed, Evidence::from(map));
        }
    }
}

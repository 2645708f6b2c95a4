//! The duplicate-BMC detector: predicts which BMCs migration 0290 will make collide
//! (MAAS004) and which different BMCs share one address and user (MAAS005).
//!
//! Semantics (FACTS.md §1.2; upstream
//! `3.3:src/maasserver/migrations/maasserver/0290_migrate_node_power_parameters.py`):
//! the unique index `maasserver_bmc_power_type_parameters_idx` is on
//! `(power_type, md5(power_parameters::text)) WHERE power_type <> 'manual'`; 0290 removes one key
//! per power type (`power_pass`; `os_password` for nova; `password` for lxd). Two BMC rows whose
//! parameters become equal after that removal collide. Over the API each machine's parameters are
//! the BMC's merged with node-scoped keys, which are dropped first; machines whose BMC-scoped maps
//! are fully equal share one BMC row and do not collide.
//!
//! Shape: each machine is reduced once to a [`BmcFingerprint`] — two 128-bit hashes (xxh3) of the
//! canonical BMC-scoped map, before and after 0290's removal, plus the address and user. Secret
//! values only ever enter the hashes. Grouping is then a hash-map pass, linear in the fleet.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::{Map, Value};
use xxhash_rust::xxh3::Xxh3;

/// The 0290 key tables from checks/maas.toml `[bmc]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BmcRules {
    /// power_type → the one key 0290 removes. Types not listed lose nothing.
    pub removed_by_0290: HashMap<String, String>,
    /// power_type → keys that belong to the machine, not the BMC (`BMC.scope_power_parameters`).
    pub node_scoped: HashMap<String, Vec<String>>,
    /// Power types the unique index ignores (`manual`).
    pub exempt_power_types: Vec<String>,
}

/// One machine's BMC reduced to what grouping needs. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BmcFingerprint {
    /// Hash of power_type and the full BMC-scoped parameters (password included): equal means
    /// the same BMC row.
    pub bmc: u128,
    /// Hash of power_type and the BMC-scoped parameters after 0290's key removal: equal for two
    /// different BMCs means a unique-index collision.
    pub post_0290: u128,
    /// `power_address` as given (trimmed); empty when absent.
    pub power_address: String,
    /// `power_user` as given (trimmed); empty when absent.
    pub power_user: String,
}

/// One machine as the detector sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachinePower {
    pub system_id: String,
    /// Power type from `GET machines/`; empty when unknown.
    pub power_type: String,
    /// `None` when the machine has no power parameters (empty map): 0290 skips it.
    pub fingerprint: Option<BmcFingerprint>,
}

/// A group of machines whose BMCs the detector reports together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BmcGroup {
    /// Distinct power types in the group, sorted (one for MAAS004).
    pub power_types: Vec<String>,
    /// Address shared by the group (normalized for MAAS005).
    pub power_address: String,
    pub power_user: String,
    /// How many different BMCs (distinct full parameter maps) the group holds (≥ 2).
    pub bmc_count: usize,
    /// Indices into the detector's input, ordered by system_id.
    pub machines: Vec<usize>,
}

/// Adapts the streaming hasher to `io::Write` so serde_json can serialize straight into it.
struct HashWriter<'a>(&'a mut Xxh3);

impl io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl BmcRules {
    /// Whether the unique index ignores this power type.
    pub fn is_exempt(&self, power_type: &str) -> bool {
        self.exempt_power_types.iter().any(|t| t == power_type)
    }

    /// Reduces one machine's merged power parameters to its fingerprint.
    ///
    /// Node-scoped keys of `power_type` are dropped; keys are visited in sorted order and values
    /// serialized canonically, so two semantically equal maps hash alike (as jsonb text does).
    /// Returns `None` for an empty map (0290 skips such rows).
    pub fn fingerprint(
        &self,
        power_type: &str,
        params: &Map<String, Value>,
    ) -> Option<BmcFingerprint> {
        if params.is_empty() {
            return None;
        }
        let node_scoped: &[String] = self.node_scoped.get(power_type).map_or(&[], Vec::as_slice);
        let removed = self.removed_by_0290.get(power_type).map(String::as_str);
        let mut keys: Vec<&String> = params
            .keys()
            .filter(|k| !node_scoped.iter().any(|n| n == *k))
            .collect();
        keys.sort_unstable();

        let mut full = Xxh3::new();
        let mut post = Xxh3::new();
        for h in [&mut full, &mut post] {
            h.update(power_type.as_bytes());
            h.update(b"\0");
        }
        for key in keys {
            let value = &params[key.as_str()];
            let write = |h: &mut Xxh3| {
                h.update(key.as_bytes());
                h.update(b"\0");
                // Writing into a hasher cannot fail, and a serde_json::Value always serializes.
                let _ = serde_json::to_writer(HashWriter(h), value);
                h.update(b"\0");
            };
            write(&mut full);
            if Some(key.as_str()) != removed {
                write(&mut post);
            }
        }
        let text = |k: &str| match params.get(k) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        Some(BmcFingerprint {
            bmc: full.digest128(),
            post_0290: post.digest128(),
            power_address: text("power_address"),
            power_user: text("power_user"),
        })
    }
}

/// Orders group members by system_id so output is stable.
fn sorted_members(machines: &[MachinePower], mut idx: Vec<usize>) -> Vec<usize> {
    idx.sort_by(|a, b| machines[*a].system_id.cmp(&machines[*b].system_id));
    idx
}

/// MAAS004: groups of two or more different BMCs (same power type) whose parameters become
/// equal once 0290 removes its key. Machines with unknown or exempt power types and machines
/// without parameters take no part. Groups are ordered by their first system_id.
pub fn find_collisions(rules: &BmcRules, machines: &[MachinePower]) -> Vec<BmcGroup> {
    struct Acc {
        bmcs: HashSet<u128>,
        members: Vec<usize>,
    }
    let mut groups: HashMap<u128, Acc> = HashMap::new();
    for (i, m) in machines.iter().enumerate() {
        let Some(fp) = &m.fingerprint else { continue };
        if m.power_type.is_empty() || rules.is_exempt(&m.power_type) {
            continue;
        }
        let acc = groups.entry(fp.post_0290).or_insert_with(|| Acc {
            bmcs: HashSet::new(),
            members: Vec::new(),
        });
        acc.bmcs.insert(fp.bmc);
        acc.members.push(i);
    }
    let mut out: Vec<BmcGroup> = groups
        .into_values()
        .filter(|acc| acc.bmcs.len() > 1)
        .map(|acc| {
            let members = sorted_members(machines, acc.members);
            let first = &machines[members[0]];
            let fp = first
                .fingerprint
                .as_ref()
                .expect("members have fingerprints");
            BmcGroup {
                power_types: vec![first.power_type.clone()],
                power_address: fp.power_address.clone(),
                power_user: fp.power_user.clone(),
                bmc_count: acc.bmcs.len(),
                machines: members,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        machines[a.machines[0]]
            .system_id
            .cmp(&machines[b.machines[0]].system_id)
    });
    out
}

/// Canonical form of a BMC address for MAAS005: trimmed, lower-cased; IP literals in canonical
/// form (IPv4-mapped IPv6 → IPv4, IPv6 compressed, brackets dropped); a trailing dot of a host
/// name dropped; URLs (`qemu+ssh://…`, `https://…`) normalized by the URL parser. A port is kept:
/// two BMCs on one host with different ports are different BMCs.
pub fn normalize_address(address: &str) -> String {
    let lower = address.trim().to_lowercase();
    if lower.contains("://") {
        if let Ok(url) = reqwest::Url::parse(&lower) {
            return url.to_string().trim_end_matches('/').to_string();
        }
        return lower;
    }
    let canonical_host = |host: &str| -> String {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => v6.to_string(),
            },
            Ok(ip) => ip.to_string(),
            Err(_) => bare.trim_end_matches('.').to_string(),
        }
    };
    // "[v6]:port", "v4:port" or "name:port"; a bare IPv6 has several colons and no port.
    if let Some((host, port)) = lower.rsplit_once(':') {
        let bracketed = host.starts_with('[') && host.ends_with(']');
        if (bracketed || !host.contains(':'))
            && !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
        {
            let host = canonical_host(host);
            return if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
        }
    }
    canonical_host(&lower)
}

/// MAAS005: groups of different BMCs that share a normalized address and user but do not all
/// collide exactly (at least two distinct post-0290 parameter maps). Exempt types, unknown types
/// and BMCs without an address take no part.
pub fn find_shared_addresses(rules: &BmcRules, machines: &[MachinePower]) -> Vec<BmcGroup> {
    struct Acc {
        bmcs: HashSet<u128>,
        post: HashSet<u128>,
        types: HashSet<String>,
        members: Vec<usize>,
    }
    let mut groups: HashMap<(String, String), Acc> = HashMap::new();
    for (i, m) in machines.iter().enumerate() {
        let Some(fp) = &m.fingerprint else { continue };
        if m.power_type.is_empty() || rules.is_exempt(&m.power_type) || fp.power_address.is_empty()
        {
            continue;
        }
        let key = (normalize_address(&fp.power_address), fp.power_user.clone());
        let acc = groups.entry(key).or_insert_with(|| Acc {
            bmcs: HashSet::new(),
            post: HashSet::new(),
            types: HashSet::new(),
            members: Vec::new(),
        });
        acc.bmcs.insert(fp.bmc);
        acc.post.insert(fp.post_0290);
        if !acc.types.contains(&m.power_type) {
            acc.types.insert(m.power_type.clone());
        }
        acc.members.push(i);
    }
    let mut out: Vec<BmcGroup> = groups
        .into_iter()
        .filter(|(_, acc)| acc.post.len() > 1)
        .map(|((address, user), acc)| {
            let mut power_types: Vec<String> = acc.types.into_iter().collect();
            power_types.sort();
            BmcGroup {
                power_types,
                power_address: address,
                power_user: user,
                bmc_count: acc.bmcs.len(),
                machines: sorted_members(machines, acc.members),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        machines[a.machines[0]]
            .system_id
            .cmp(&machines[b.machines[0]].system_id)
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::maas_pack;
    use rstest::rstest;
    use serde_json::json;

    fn machine(id: &str, power_type: &str, params: Value) -> MachinePower {
        let rules = &maas_pack().bmc;
        MachinePower {
            system_id: id.into(),
            power_type: power_type.into(),
            fingerprint: rules.fingerprint(power_type, params.as_object().unwrap()),
        }
    }

    /// Two machines → does 0290 make their BMCs collide? (FACTS.md §1.2, row by row.)
    #[rstest]
    #[case::ipmi_password_differs("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a","power_driver":"LAN_2_0"}),
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"b","power_driver":"LAN_2_0"}), true)]
    #[case::ipmi_k_g_differs("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a","k_g":"x"}),
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"b","k_g":"y"}), false)]
    #[case::ipmi_only_node_scoped_differs("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a","mac_address":"00:01"}),
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a","mac_address":"00:02"}), false)]
    #[case::equal_full_maps_share_one_bmc("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a"}),
        json!({"power_user":"admin","power_pass":"a","power_address":"10.0.0.1"}), false)]
    #[case::different_users("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a"}),
        json!({"power_address":"10.0.0.1","power_user":"root","power_pass":"b"}), false)]
    #[case::redfish_password_differs("redfish",
        json!({"power_address":"10.0.0.2","power_user":"u","power_pass":"a","node_id":"1"}),
        json!({"power_address":"10.0.0.2","power_user":"u","power_pass":"b","node_id":"2"}), true)]
    #[case::virsh_password_differs("virsh",
        json!({"power_address":"qemu+ssh://h/system","power_pass":"a","power_id":"vm1"}),
        json!({"power_address":"qemu+ssh://h/system","power_pass":"b","power_id":"vm2"}), true)]
    #[case::lxd_password_differs("lxd",
        json!({"power_address":"https://10.0.0.3:8443","password":"a","instance_name":"i1","project":"default"}),
        json!({"power_address":"https://10.0.0.3:8443","password":"b","instance_name":"i2","project":"default"}), true)]
    #[case::lxd_power_pass_is_not_removed("lxd",
        json!({"power_address":"https://10.0.0.3:8443","power_pass":"a"}),
        json!({"power_address":"https://10.0.0.3:8443","power_pass":"b"}), false)]
    #[case::nova_os_password_differs("nova",
        json!({"os_authurl":"http://k","os_username":"u","os_password":"a","nova_id":"1"}),
        json!({"os_authurl":"http://k","os_username":"u","os_password":"b","nova_id":"2"}), true)]
    #[case::nova_power_pass_is_not_removed("nova",
        json!({"os_authurl":"http://k","os_username":"u","power_pass":"a"}),
        json!({"os_authurl":"http://k","os_username":"u","power_pass":"b"}), false)]
    #[case::apc_removes_nothing("apc",
        json!({"power_address":"10.0.0.4","node_outlet":"1","power_pass":"a"}),
        json!({"power_address":"10.0.0.4","node_outlet":"2","power_pass":"b"}), false)]
    #[case::manual_ignored("manual",
        json!({"power_address":"10.0.0.5","power_pass":"a"}),
        json!({"power_address":"10.0.0.5","power_pass":"b"}), false)]
    #[case::empty_params_skipped("ipmi", json!({}), json!({}), false)]
    #[case::webhook_password_differs("webhook",
        json!({"power_on_uri":"http://w/on","power_user":"u","power_pass":"a","power_token":"t"}),
        json!({"power_on_uri":"http://w/on","power_user":"u","power_pass":"b","power_token":"t"}), true)]
    fn zero_two_ninety_collisions(
        #[case] power_type: &str,
        #[case] a: Value,
        #[case] b: Value,
        #[case] collides: bool,
    ) {
        let rules = &maas_pack().bmc;
        let fleet = vec![
            machine("aaaaaa", power_type, a),
            machine("bbbbbb", power_type, b),
        ];
        let groups = find_collisions(rules, &fleet);
        assert_eq!(!groups.is_empty(), collides, "{groups:?}");
        if collides {
            assert_eq!(groups[0].machines, vec![0, 1]);
            assert_eq!(groups[0].bmc_count, 2);
        }
    }

    #[test]
    fn different_power_types_never_collide() {
        let rules = &maas_pack().bmc;
        let p = |pass: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass});
        let fleet = vec![
            machine("a", "ipmi", p("x")),
            machine("b", "redfish", p("y")),
        ];
        assert!(find_collisions(rules, &fleet).is_empty());
    }

    #[test]
    fn unknown_power_type_takes_no_part() {
        let rules = &maas_pack().bmc;
        let p = |pass: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass});
        let fleet = vec![machine("a", "", p("x")), machine("b", "", p("y"))];
        assert!(find_collisions(rules, &fleet).is_empty());
    }

    #[test]
    fn group_of_three_with_two_sharing_a_bmc() {
        let rules = &maas_pack().bmc;
        let p = |pass: &str, mac: &str| json!({"power_address":"10.0.0.9","power_user":"admin","power_pass":pass,"mac_address":mac});
        let fleet = vec![
            machine("c", "ipmi", p("one", "1")),
            machine("a", "ipmi", p("one", "2")),
            machine("b", "ipmi", p("two", "3")),
        ];
        let groups = find_collisions(rules, &fleet);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].bmc_count, 2);
        assert_eq!(groups[0].machines, vec![1, 2, 0]);
        assert_eq!(groups[0].power_address, "10.0.0.9");
        assert_eq!(groups[0].power_user, "admin");
    }

    #[rstest]
    #[case(" 10.0.0.1 ", "10.0.0.1")]
    #[case("::ffff:10.0.0.1", "10.0.0.1")]
    #[case("[FE80:0:0:0:0:0:0:1]", "fe80::1")]
    #[case("[fe80::1]:623", "[fe80::1]:623")]
    #[case("BMC-01.Example.COM.", "bmc-01.example.com")]
    #[case("10.0.0.1:8000", "10.0.0.1:8000")]
    #[case("qemu+ssh://Root@KVM-Host/system", "qemu+ssh://root@kvm-host/system")]
    fn normalizes_addresses(#[case] raw: &str, #[case] want: &str) {
        assert_eq!(normalize_address(raw), want);
    }

    #[test]
    fn shared_address_without_exact_collision_warns() {
        let rules = &maas_pack().bmc;
        let fleet = vec![
            machine(
                "a",
                "ipmi",
                json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"x","k_g":"1"}),
            ),
            machine(
                "b",
                "ipmi",
                json!({"power_address":" 10.0.0.1","power_user":"admin","power_pass":"x","k_g":"2"}),
            ),
            machine(
                "c",
                "ipmi",
                json!({"power_address":"10.0.0.2","power_user":"admin","power_pass":"x"}),
            ),
        ];
        assert!(find_collisions(rules, &fleet).is_empty());
        let shared = find_shared_addresses(rules, &fleet);
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].machines, vec![0, 1]);
        assert_eq!(shared[0].power_address, "10.0.0.1");
    }

    #[test]
    fn exact_collision_alone_is_not_a_shared_address() {
        let rules = &maas_pack().bmc;
        let fleet = vec![
            machine(
                "a",
                "ipmi",
                json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"x"}),
            ),
            machine(
                "b",
                "ipmi",
                json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"y"}),
            ),
        ];
        assert_eq!(find_collisions(rules, &fleet).len(), 1);
        assert!(find_shared_addresses(rules, &fleet).is_empty());
    }

    #[test]
    fn fingerprint_holds_no_secret() {
        let rules = &maas_pack().bmc;
        let fp = rules
            .fingerprint(
                "ipmi",
                json!({"power_address":"h","power_user":"u","power_pass":"s3cr3t"})
                    .as_object()
                    .unwrap(),
            )
            .unwrap();
        assert!(!format!("{fp:?}").contains("s3cr3t"));
    }
}

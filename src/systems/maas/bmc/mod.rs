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
//! Shape, built for fleets of a million machines: every machine (or BMC row) is reduced once to
//! a compact [`Record`] — a 64-bit identity of its canonical BMC-scoped map (folded from its
//! 128-bit xxh3 hash; from the database, the row id), the 128-bit xxh3 hash of the map after
//! 0290's removal (from the database, PostgreSQL's own md5 of the jsonb text, hashed with the
//! power type, since the unique index is on both), a 64-bit hash of its normalized address and
//! user, and spans into a text arena for the few strings a report shows. Secret values only ever enter a hash. Grouping buckets fixed-size keys and chains
//! equal ones in a per-bucket table: no per-group allocation, no per-machine map kept.

pub mod jsonb;
pub mod machine_list;
pub mod pieces;
pub mod power_parameters;

pub mod address;
pub mod evidence;
pub mod grouping;
pub mod record;
pub mod rules;

pub use address::normalize_address;
pub use grouping::{find_groups, BmcGroup, Groups};
pub use record::*;
pub use rules::{BmcRules, PowerTypes};

#[cfg(test)]
mod tests {
    use super::address::*;
    use super::grouping::*;
    use super::record::*;
    use super::*;
    use crate::systems::maas::checks::pack as maas_pack;
    use rstest::rstest;
    use rustc_hash::FxHashMap;
    use serde_json::json;
    use serde_json::Value;
    use std::borrow::Cow;
    use std::net::IpAddr;

    fn machine<'a>(id: &'a str, power_type: &'a str, params: Value) -> (&'a str, &'a str, Value) {
        (id, power_type, params)
    }

    /// Observations of machines given as (system_id, power type or "" to infer, params).
    fn observe(machines: &[(&str, &str, Value)]) -> Observations {
        observe_typed(machines, |t| !t.is_empty())
    }

    /// [`observe`], where `given(type)` says whether a machine list gives the type.
    fn observe_typed(machines: &[(&str, &str, Value)], given: impl Fn(&str) -> bool) -> Observations {
        let rules = &maas_pack().bmc;
        let mut types = PowerTypes::new(rules);
        let ids: Vec<Option<u16>> = machines
            .iter()
            .map(|(_, t, _)| given(t).then(|| types.intern(t)))
            .collect();
        let mut b = PartBuilder::new(rules, &types);
        for ((id, _, params), t) in machines.iter().zip(ids) {
            let mut pairs: Vec<(Cow<str>, Param)> = params
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (Cow::Owned(k.clone()), Param::from(v.clone())))
                .collect();
            b.add_map(id, t, &mut pairs);
        }
        let part = b.finish();
        Observations::from_parts(types, vec![part])
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
    #[case::empty_maps_are_one_bmc("ipmi", json!({}), json!({}), false)]
    #[case::password_only_becomes_empty_and_collides_with_empty("ipmi",
        json!({"power_pass":"a"}), json!({}), true)]
    #[case::two_password_only_rows_collide("ipmi",
        json!({"power_pass":"a"}), json!({"power_pass":"b"}), true)]
    #[case::ipmi_leftovers_on_a_redfish_machine_stay_on_the_node("redfish",
        json!({"power_address":"10.0.0.2","power_user":"u","power_pass":"a","power_driver":"LAN_2_0","k_g":"x","cipher_suite_id":"3"}),
        json!({"power_address":"10.0.0.2","power_user":"u","power_pass":"b"}), true)]
    #[case::unknown_keys_stay_on_the_node("ipmi",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a","whatever":"1"}),
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"b","other":"2"}), true)]
    #[case::empty_type_has_no_bmc_type("",
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"a"}),
        json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":"b"}), false)]
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
        let fleet = observe_typed(
            &[machine("aaaaaa", power_type, a), machine("bbbbbb", power_type, b)],
            |_| true,
        );
        let groups = find_groups(rules, &fleet).collisions;
        assert_eq!(!groups.is_empty(), collides, "{groups:?}");
        if collides {
            assert_eq!(groups[0].members, vec![0, 1]);
            assert_eq!(groups[0].bmc_count, 2);
        }
    }

    /// Observations of machines given as (system_id, power type, the parameters' JSON text).
    fn observe_text(machines: &[(&str, &str, &str)]) -> Observations {
        let rules = &maas_pack().bmc;
        let mut types = PowerTypes::new(rules);
        let ids: Vec<u16> = machines.iter().map(|(_, t, _)| types.intern(t)).collect();
        let mut b = PartBuilder::new(rules, &types);
        for ((id, _, text), t) in machines.iter().zip(ids) {
            let mut pairs = Vec::new();
            crate::systems::maas::bmc::power_parameters::parse_params(text.as_bytes(), &mut pairs).unwrap();
            b.add_map(id, Some(t), &mut pairs);
        }
        let part = b.finish();
        Observations::from_parts(types, vec![part])
    }

    /// jsonb equality decides, not the spelling (FACTS.md §1.2).
    #[rstest]
    #[case::number_spellings(
        r#"{"power_address":"h","power_pass":"a","power_boot_type":1}"#,
        r#"{"power_address":"h","power_pass":"b","power_boot_type":1e0}"#,
        true
    )]
    #[case::one_point_zero_is_not_one(
        r#"{"power_address":"h","power_pass":"a","power_boot_type":1}"#,
        r#"{"power_address":"h","power_pass":"b","power_boot_type":1.0}"#,
        false
    )]
    #[case::huge_integers_exactly(
        r#"{"power_address":"h","power_pass":"a","k_g":123456789012345678901234567890}"#,
        r#"{"power_address":"h","power_pass":"b","k_g":123456789012345678901234567891}"#,
        false
    )]
    #[case::huge_exponent(
        r#"{"power_address":"h","power_pass":"a","k_g":1e400}"#,
        r#"{"power_address":"h","power_pass":"b","k_g":10e399}"#,
        true
    )]
    #[case::duplicate_keys_last_wins(
        r#"{"power_address":"x","power_address":"h","power_pass":"a"}"#,
        r#"{"power_address":"h","power_pass":"b"}"#,
        true
    )]
    #[case::duplicate_password_last_wins(
        r#"{"power_address":"h","power_pass":"a","power_pass":"b"}"#,
        r#"{"power_address":"h","power_pass":"b"}"#,
        false
    )]
    #[case::escapes(
        r#"{"power_address":"\u0068","power_pass":"a"}"#,
        r#"{"power_address":"h","power_pass":"b"}"#,
        true
    )]
    #[case::nested_key_order(
        r#"{"power_address":"h","power_pass":"a","k_g":{"a":[1,{"b":2,"c":3}]}}"#,
        r#"{"power_address":"h","power_pass":"b","k_g":{"a":[1,{"c":3,"b":2}]}}"#,
        true
    )]
    fn jsonb_equality_decides(#[case] a: &str, #[case] b: &str, #[case] collides: bool) {
        let fleet = observe_text(&[("aaaaaa", "ipmi", a), ("bbbbbb", "ipmi", b)]);
        let groups = find_groups(&maas_pack().bmc, &fleet).collisions;
        assert_eq!(!groups.is_empty(), collides, "{groups:?}");
    }

    #[test]
    fn deep_nesting_is_read() {
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        let a = format!(r#"{{"power_address":"h","power_pass":"a","k_g":{deep}}}"#);
        let b = format!(r#"{{"power_address":"h","power_pass":"b","k_g":{deep}}}"#);
        let fleet = observe_text(&[("aaaaaa", "ipmi", &a), ("bbbbbb", "ipmi", &b)]);
        assert_eq!(find_groups(&maas_pack().bmc, &fleet).collisions.len(), 1);
    }

    #[test]
    fn different_power_types_never_collide() {
        let rules = &maas_pack().bmc;
        let p = |pass: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass});
        let fleet = observe(&[machine("a", "ipmi", p("x")), machine("b", "redfish", p("y"))]);
        assert!(find_groups(rules, &fleet).collisions.is_empty());
    }

    #[test]
    fn unknown_power_type_takes_no_part() {
        let rules = &maas_pack().bmc;
        let p = |pass: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass});
        let fleet = observe(&[machine("a", "", p("x")), machine("b", "", p("y"))]);
        assert!(find_groups(rules, &fleet).collisions.is_empty());
    }

    #[test]
    fn runs_are_exactly_the_keys_whose_second_hashes_differ() {
        // Keys spread over every bucket, runs of one to five, some uniform, some mixed, and
        // twins that differ only in a high bit (same bucket, same table slot: probing).
        let mut keyed = Vec::new();
        let mut want = Vec::new();
        for k in 0..6000u64 {
            let key = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            for key in [key, key ^ (1 << 40)] {
                let len = k % 5 + 1;
                let mixed = len > 1 && k % 3 != 0;
                let mut members = Vec::new();
                for j in 0..len {
                    let second = if mixed { j % 2 } else { 7 };
                    members.push(keyed.len() as u32);
                    keyed.push((key, second, keyed.len() as u32));
                }
                if mixed {
                    want.push(members);
                }
            }
        }
        // Interleave the runs' members, as records arrive.
        keyed.sort_by_key(|k| k.2.wrapping_mul(2_654_435_761));
        let mut got = Vec::new();
        runs(
            || keyed.iter().copied(),
            |run| {
                assert!(run.iter().all(|k| k.0 == run[0].0));
                let mut members: Vec<u32> = run.iter().map(|k| k.2).collect();
                members.sort_unstable();
                got.push(members);
            },
        );
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn group_of_three_with_two_sharing_a_bmc() {
        let rules = &maas_pack().bmc;
        let p = |pass: &str, mac: &str| json!({"power_address":"10.0.0.9","power_user":"admin","power_pass":pass,"mac_address":mac});
        let fleet = observe(&[
            machine("c", "ipmi", p("one", "1")),
            machine("a", "ipmi", p("one", "2")),
            machine("b", "ipmi", p("two", "3")),
        ]);
        let groups = find_groups(rules, &fleet).collisions;
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].bmc_count, 2);
        assert_eq!(groups[0].members, vec![1, 2, 0]);
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

    /// Random strings over an alphabet that hits every branch of the fast paths.
    fn random_strings(alphabet: &[&str], count: usize) -> Vec<String> {
        let mut seed = 11u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        (0..count)
            .map(|_| (0..next() % 9).map(|_| alphabet[next() % alphabet.len()]).collect())
            .collect()
    }

    #[test]
    fn plain_url_fast_path_agrees_with_the_url_parser() {
        let alphabet = [
            "qemu+ssh://",
            "https://",
            "http://",
            "lxd://",
            "a",
            "Z",
            "0",
            "10.0.0.1",
            "8443",
            "443",
            "80",
            "65536",
            "@",
            ":",
            "/",
            ".",
            "..",
            "%20",
            "_",
            "~",
            "-",
            "?",
            "#",
            "u@h",
            " ",
        ];
        let mut plain = 0;
        for raw in random_strings(&alphabet, 200_000) {
            if !is_plain_url(&raw) {
                continue;
            }
            plain += 1;
            let slow = reqwest::Url::parse(&raw.to_lowercase())
                .map(|u| u.to_string().trim_end_matches('/').to_string())
                .unwrap_or_else(|_| raw.to_lowercase());
            assert_eq!(raw.trim_end_matches('/'), slow, "{raw:?}");
        }
        assert!(plain > 1000, "only {plain} plain URLs generated");
    }

    #[test]
    fn digits_and_dots_fast_path_agrees_with_the_ip_parser() {
        let mut quads = 0;
        for raw in random_strings(
            &["0", "7", "10", "255", "256", "01", "0.", "9.", "10.", "255.", "."],
            300_000,
        ) {
            if !is_digits_and_dots(raw.as_bytes()) {
                continue;
            }
            let slow = match raw.parse::<IpAddr>() {
                Ok(ip) => {
                    quads += 1;
                    ip.to_string()
                }
                Err(_) => raw.trim_end_matches('.').to_string(),
            };
            assert_eq!(raw, slow, "{raw:?}");
        }
        assert!(quads > 500, "only {quads} dotted quads generated");
    }

    #[rstest]
    #[case("admin")]
    #[case(" admin\t")]
    #[case("\u{a0}admin\u{2003}")]
    #[case("é")]
    #[case("")]
    #[case("  ")]
    fn trim_agrees_with_str_trim(#[case] s: &str) {
        assert_eq!(trim(s), s.trim());
    }

    #[test]
    fn canonical_ipv4_fast_path_agrees_with_the_ip_parser() {
        let alphabet = ["0", "1", "2", "5", "9", "25", "255", "256", "00", ".", "a", ":"];
        for raw in random_strings(&alphabet, 50_000) {
            let slow = raw.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.to_string() == raw);
            assert_eq!(is_canonical_ipv4(raw.as_bytes()), slow, "{raw:?}");
        }
    }

    #[test]
    fn every_special_key_has_a_mask_bit_of_its_own() {
        // PartBuilder gives each key of the tables one bit of a u64 mask; a 65th would share.
        let rules = &maas_pack().bmc;
        let mut keys: Vec<&str> = rules
            .removed_by_0290
            .values()
            .chain(rules.bmc_scoped.values().flatten())
            .map(String::as_str)
            .chain(["power_address", "power_user"])
            .collect();
        keys.sort_unstable();
        keys.dedup();
        assert!(keys.len() <= 64, "{} keys", keys.len());
        // 0290's key of every type is one of the type's BMC-scoped settings.
        for (t, key) in &rules.removed_by_0290 {
            assert!(rules.bmc_scoped.get(t).is_some_and(|k| k.contains(key)), "{t}: {key}");
        }
    }

    #[test]
    fn shared_address_without_exact_collision_warns() {
        let rules = &maas_pack().bmc;
        let fleet = observe(&[
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
        ]);
        let groups = find_groups(rules, &fleet);
        assert!(groups.collisions.is_empty());
        let shared = groups.shared_addresses;
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].members, vec![0, 1]);
        assert_eq!(shared[0].power_address, "10.0.0.1");
    }

    #[test]
    fn exact_collision_alone_is_not_a_shared_address() {
        let rules = &maas_pack().bmc;
        let fleet = observe(&[
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
        ]);
        let groups = find_groups(rules, &fleet);
        assert_eq!(groups.collisions.len(), 1);
        assert!(groups.shared_addresses.is_empty());
    }

    /// One address and user, three BMCs: two collide exactly (MAAS004), and with the third
    /// they share the address (MAAS005); a BMC of the same maps elsewhere and machines without
    /// an address (nova) are grouped apart.
    #[test]
    fn one_address_run_gives_both_checks_their_groups() {
        let rules = &maas_pack().bmc;
        let ipmi = |pass: &str, k_g: &str| json!({"power_address":"10.0.0.1","power_user":"admin","power_pass":pass,"k_g":k_g});
        let nova = |pass: &str| json!({"os_authurl":"http://k","os_username":"u","os_password":pass});
        let fleet = observe(&[
            machine("a", "ipmi", ipmi("x", "1")),
            machine("b", "ipmi", ipmi("y", "1")),
            machine("c", "ipmi", ipmi("x", "2")),
            machine(
                "d",
                "ipmi",
                json!({"power_address":"10.0.0.9","power_user":"admin","power_pass":"z","k_g":"1"}),
            ),
            machine("e", "nova", nova("p")),
            machine("f", "nova", nova("q")),
        ]);
        let groups = find_groups(rules, &fleet);
        let mut collisions: Vec<_> = groups.collisions.iter().map(|g| g.members.clone()).collect();
        collisions.sort();
        assert_eq!(collisions, vec![vec![0, 1], vec![4, 5]]);
        assert_eq!(groups.shared_addresses.len(), 1);
        assert_eq!(groups.shared_addresses[0].members, vec![0, 1, 2]);
        assert_eq!(groups.shared_addresses[0].bmc_count, 3);
    }

    #[test]
    fn records_hold_no_secret() {
        let obs = observe(&[machine(
            "a",
            "ipmi",
            json!({"power_address":"h","power_user":"u","power_pass":"s3cr3t"}),
        )]);
        assert!(!format!("{obs:?}").contains("s3cr3t"));
        assert_eq!((obs.address(obs.record(0)), obs.user(obs.record(0))), ("h", "u"));
    }

    /// The key table finds every name the rules know, with its facts, and nothing else.
    #[test]
    fn key_table_finds_exactly_the_known_names() {
        let rules = &maas_pack().bmc;
        let mut names: FxHashMap<&str, KeyFacts> = FxHashMap::default();
        let known = rules
            .removed_by_0290
            .values()
            .chain(rules.bmc_scoped.values().flatten())
            .chain(rules.infer.keys())
            .map(String::as_str);
        for (i, name) in known.chain(["power_address", "power_user"]).enumerate() {
            names.insert(
                name,
                KeyFacts {
                    infers: 1,
                    bit: 1 << (i % 64),
                },
            );
        }
        let table = KeyTable::new(&names);
        for (name, facts) in &names {
            assert_eq!(table.get(name), *facts, "{name}");
        }
        let unknown = [
            "",
            "p",
            "k_G",
            "power_addresS",
            "power_address ",
            "power_addres",
            "xpower_user",
            "cipher_suite",
        ];
        for name in unknown {
            assert_eq!(table.get(name), KeyFacts::default(), "{name:?}");
        }
    }

    /// Subjects, addresses and users longer than a record's 16-bit lengths hold (and a subject
    /// of exactly the marker's length) come back whole, between records of ordinary ones.
    #[test]
    fn long_texts_come_back_whole() {
        let long = |c: char, n: usize| c.to_string().repeat(n);
        let texts = [
            ("a".to_string(), "10.0.0.1".to_string(), "u".to_string()),
            (long('s', 65_535), "10.0.0.2".to_string(), "u".to_string()),
            ("b".to_string(), "10.0.0.3".to_string(), "u".to_string()),
            ("c".to_string(), long('h', 70_000), long('u', 65_535)),
            ("d".to_string(), "10.0.0.4".to_string(), long('v', 65_536)),
            ("e".to_string(), "10.0.0.5".to_string(), String::new()),
        ];
        let machines: Vec<_> = texts
            .iter()
            .map(|(s, a, u)| {
                machine(
                    s,
                    "ipmi",
                    json!({"power_address": a, "power_user": u, "power_pass": "p"}),
                )
            })
            .collect();
        let obs = observe(&machines);
        let got: Vec<_> = obs
            .records()
            .map(|r| {
                (
                    obs.subject(r).to_string(),
                    obs.address(r).to_string(),
                    obs.user(r).to_string(),
                )
            })
            .collect();
        assert_eq!(got, texts);
    }

    #[rstest]
    #[case(json!({"power_address":"h","power_pass":"p","power_driver":"LAN_2_0","mac_address":"m"}), Some("ipmi"))]
    #[case(json!({"power_address":"h","power_pass":"p","node_id":"1"}), Some("redfish"))]
    #[case(json!({"power_address":"qemu+ssh://h/system","power_id":"vm1"}), Some("virsh"))]
    #[case(json!({"power_address":"https://h:8443","password":"p","instance_name":"i"}), Some("lxd"))]
    #[case(json!({"os_authurl":"http://k","nova_id":"n"}), Some("nova"))]
    #[case(json!({"power_address":"h","power_pass":"p"}), None)]
    #[case(json!({"power_address":"h","node_outlet":"1"}), None)]
    #[case(json!({"mac_address":"m","power_id":"vm1"}), None)]
    fn infers_power_types(#[case] params: Value, #[case] want: Option<&str>) {
        let obs = observe(&[machine("a", "", params)]);
        let r = obs.record(0);
        assert_eq!(r.origin == TypeOrigin::Inferred, want.is_some());
        assert_eq!(obs.types.name(r.power_type), want.unwrap_or(""));
    }

    #[test]
    fn inferred_types_collide_like_given_ones() {
        let p = |pass: &str, mac: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass,"mac_address":mac});
        let obs = observe(&[machine("a", "", p("x", "1")), machine("b", "", p("y", "2"))]);
        assert!(obs.records().all(|r| r.origin == TypeOrigin::Inferred));
        assert_eq!(find_groups(&maas_pack().bmc, &obs).collisions.len(), 1);
    }

    #[test]
    fn unknown_types_are_untyped_and_take_no_part() {
        let p = |pass: &str| json!({"power_address":"10.0.0.1","power_user":"u","power_pass":pass});
        let obs = observe(&[
            machine("a", "foo", p("x")),
            machine("b", "foo", p("y")),
            machine("c", "", p("z")),
        ]);
        let untyped: Vec<&str> = obs.census.untyped().map(|(_, s)| s).collect();
        assert_eq!(untyped, ["a", "b", "c"]);
        assert!(find_groups(&maas_pack().bmc, &obs).collisions.is_empty());
    }
}

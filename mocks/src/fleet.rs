//! A seeded generator of MAAS fleets: machines (`GET machines/`), their merged power parameters
//! (`GET machines/?op=power_parameters`) and the planted truth.
//!
//! Background machines each get a unique BMC address, so they never collide. On top, the
//! generator plants every case of FACTS.md §1.2: ipmi/redfish/virsh groups whose passwords
//! differ (collide), lxd `password` and nova `os_password` collisions, ipmi groups that differ
//! only in `k_g` or only in node-scoped keys (no collision), shared virsh/lxd/apc BMCs with equal
//! maps (one BMC, no collision), manual machines with different passwords (ignored), and
//! addresses spelled two ways (shared address, no collision). The truth lists what was planted.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

/// One generated machine.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Six lowercase letters and digits, like MAAS's.
    pub system_id: String,
    pub hostname: String,
    pub power_type: String,
    /// Merged (BMC + node-scoped) power parameters, as the API returns them.
    pub params: Map<String, Value>,
}

/// What a correct detector reports for the fleet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Truth {
    /// MAAS004: each group's system_ids, sorted; groups sorted by first id.
    pub collisions: Vec<Vec<String>>,
    /// MAAS005: each group's system_ids, sorted; groups sorted by first id.
    pub shared_addresses: Vec<Vec<String>>,
    /// MAAS004 seen from the database only: groups of pods (VM hosts, `bmc_type` 1) by name.
    pub pod_collisions: Vec<Vec<String>>,
}

/// A VM host (pod): a BMC row of `bmc_type` 1 with no machine of the fleet on it.
#[derive(Debug, Clone)]
pub struct Pod {
    pub name: String,
    pub power_type: String,
    pub params: Map<String, Value>,
}

/// A generated fleet.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub machines: Vec<Machine>,
    pub pods: Vec<Pod>,
    pub truth: Truth,
}

/// Keys the generator puts on machines rather than BMCs (a subset of upstream's
/// `BMC.scope_power_parameters`, enough for the drivers it generates).
pub const NODE_SCOPED: &[(&str, &str)] = &[
    ("ipmi", "mac_address"),
    ("redfish", "node_id"),
    ("virsh", "power_id"),
    ("lxd", "instance_name"),
    ("apc", "node_outlet"),
    ("nova", "nova_id"),
];

/// One `maasserver_bmc` row for a database load.
#[derive(Debug, Clone)]
pub struct BmcRow {
    pub id: i64,
    /// 0 BMC, 1 pod.
    pub bmc_type: i32,
    pub power_type: String,
    pub name: String,
    pub params: Value,
}

impl Machine {
    /// The BMC-scoped part of the parameters: what the machine's BMC row holds.
    pub fn bmc_params(&self) -> Map<String, Value> {
        self.params
            .iter()
            .filter(|(k, _)| !NODE_SCOPED.iter().any(|(t, n)| *t == self.power_type && n == k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

const ADJECTIVES: &[&str] = &[
    "able", "bold", "calm", "deep", "eager", "fair", "glad", "happy", "keen", "lucky", "merry", "noble", "proud",
    "quick", "rapid", "sharp", "tidy", "vital", "warm", "wise",
];
const ANIMALS: &[&str] = &[
    "ant", "bat", "cat", "doe", "eel", "fox", "gnu", "hen", "ibis", "jay", "koi", "lynx", "mole", "newt", "owl", "pug",
    "quail", "ram", "seal", "toad",
];

struct Gen {
    rng: ChaCha8Rng,
    next_ip: u32,
    next_id: u32,
    machines: Vec<Machine>,
    pods: Vec<Pod>,
    truth: Truth,
}

impl Gen {
    fn password(&mut self) -> String {
        const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let body: String = (0..14)
            .map(|_| CHARS[self.rng.gen_range(0..CHARS.len())] as char)
            .collect();
        format!("pw-{body}")
    }

    fn ip(&mut self) -> String {
        self.next_ip += 1;
        let n = self.next_ip;
        format!("10.{}.{}.{}", 16 + (n >> 16) % 200, (n >> 8) & 255, n & 255)
    }

    fn mac(&mut self) -> String {
        let b: [u8; 5] = self.rng.gen();
        format!("52:54:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3] ^ b[4])
    }

    /// Unique, sortable-by-creation-order-free ids: base36 of a scrambled counter.
    fn system_id(&mut self) -> String {
        self.next_id += 1;
        let mut n = (self.next_id as u64).wrapping_mul(0x9E37_79B9) % 2_176_782_336; // 36^6
        let mut s = [b'0'; 6];
        for c in s.iter_mut().rev() {
            let d = (n % 36) as u8;
            *c = if d < 10 { b'0' + d } else { b'a' + d - 10 };
            n /= 36;
        }
        String::from_utf8(s.to_vec()).expect("ascii")
    }

    fn push(&mut self, power_type: &str, params: Value) -> String {
        let system_id = self.system_id();
        let hostname = format!(
            "{}-{}-{}",
            ADJECTIVES[self.rng.gen_range(0..ADJECTIVES.len())],
            ANIMALS[self.rng.gen_range(0..ANIMALS.len())],
            self.next_id
        );
        let params = match params {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        self.machines.push(Machine {
            system_id: system_id.clone(),
            hostname,
            power_type: power_type.to_string(),
            params,
        });
        system_id
    }

    fn ipmi(&mut self, address: &str, user: &str, pass: &str, k_g: &str) -> Value {
        let mac = self.mac();
        json!({
            "power_address": address, "power_user": user, "power_pass": pass,
            "power_driver": "LAN_2_0", "power_boot_type": "auto", "cipher_suite_id": "3",
            "privilege_level": "OPERATOR", "k_g": k_g, "mac_address": mac,
        })
    }

    fn redfish(&mut self, address: &str, user: &str, pass: &str) -> Value {
        let node: u32 = self.rng.gen_range(1..64);
        json!({"power_address": address, "power_user": user, "power_pass": pass, "node_id": format!("System.Embedded.{node}")})
    }

    fn plant_collision(&mut self, ids: Vec<String>) {
        let mut ids = ids;
        ids.sort();
        self.truth.collisions.push(ids);
    }

    fn plant_shared(&mut self, ids: Vec<String>) {
        let mut ids = ids;
        ids.sort();
        self.truth.shared_addresses.push(ids);
    }

    /// Plants one of each interesting case; returns how many machines it added.
    fn plant_round(&mut self, round: usize) -> usize {
        let before = self.machines.len();
        // ipmi: 2-4 machines, same address and user, different passwords → collision.
        let addr = self.ip();
        let n = self.rng.gen_range(2..=4);
        let ids: Vec<String> = (0..n)
            .map(|_| {
                let pass = self.password();
                let p = self.ipmi(&addr, "maas", &pass, "");
                self.push("ipmi", p)
            })
            .collect();
        self.plant_collision(ids);

        // ipmi: same address, user and password, different k_g → shared address, no collision.
        let addr = self.ip();
        let pass = self.password();
        let ids: Vec<String> = ["kg-one", "kg-two"]
            .iter()
            .map(|kg| {
                let p = self.ipmi(&addr, "admin", &pass, kg);
                self.push("ipmi", p)
            })
            .collect();
        self.plant_shared(ids);

        // ipmi: only node-scoped mac_address differs → one BMC, nothing to report.
        let addr = self.ip();
        let pass = self.password();
        for _ in 0..2 {
            let p = self.ipmi(&addr, "admin", &pass, "");
            self.push("ipmi", p);
        }

        // redfish: same address and user, different passwords → collision.
        let addr = self.ip();
        let ids: Vec<String> = (0..2)
            .map(|_| {
                let pass = self.password();
                let p = self.redfish(&addr, "root", &pass);
                self.push("redfish", p)
            })
            .collect();
        self.plant_collision(ids);

        // The same BMC address spelled two ways, different passwords → shared address only.
        let ip = self.ip();
        let spelled = if round.is_multiple_of(2) {
            format!(" {ip}")
        } else {
            format!("::ffff:{ip}")
        };
        let ids: Vec<String> = [ip.clone(), spelled]
            .iter()
            .map(|a| {
                let pass = self.password();
                let p = self.ipmi(a, "maas", &pass, "");
                self.push("ipmi", p)
            })
            .collect();
        self.plant_shared(ids);

        // virsh: a KVM host whose VMs share one BMC, one VM with another password → collision.
        let host = self.ip();
        let pass = self.password();
        let odd = self.password();
        let ids: Vec<String> = (0..4)
            .map(|i| {
                let pw = if i == 3 { odd.clone() } else { pass.clone() };
                let p = json!({"power_address": format!("qemu+ssh://ubuntu@{host}/system"), "power_pass": pw, "power_id": format!("vm-{round}-{i}")});
                self.push("virsh", p)
            })
            .collect();
        self.plant_collision(ids);

        // Every few rounds: lxd `password`, nova `os_password`, and ignored manual machines.
        if round.is_multiple_of(3) {
            let addr = format!("https://{}:8443", self.ip());
            let ids: Vec<String> = (0..2)
                .map(|i| {
                    let pw = self.password();
                    let p = json!({"power_address": addr, "password": pw, "project": "default", "instance_name": format!("lxd-{round}-{i}")});
                    self.push("lxd", p)
                })
                .collect();
            self.plant_collision(ids);

            let auth = format!("http://{}:5000/v3", self.ip());
            let ids: Vec<String> = (0..2)
                .map(|i| {
                    let pw = self.password();
                    let p = json!({"os_authurl": auth, "os_tenantname": "admin", "os_username": "maas", "os_password": pw, "nova_id": format!("nova-{round}-{i}")});
                    self.push("nova", p)
                })
                .collect();
            self.plant_collision(ids);

            let addr = self.ip();
            for _ in 0..2 {
                let pw = self.password();
                self.push("manual", json!({"power_address": addr, "power_pass": pw}));
            }

            // Two VM hosts (pods) on one libvirt URI and user with different passwords: a
            // collision only the database shows (the machine API does not list pods).
            let host = self.ip();
            let names: Vec<String> = (0..2)
                .map(|i| {
                    let pw = self.password();
                    let name = format!("kvm-pod-{round}-{i}");
                    let params = json!({"power_address": format!("qemu+ssh://virsh@{host}/system"), "power_pass": pw});
                    self.pods.push(Pod {
                        name: name.clone(),
                        power_type: "virsh".into(),
                        params: params.as_object().cloned().unwrap_or_default(),
                    });
                    name
                })
                .collect();
            self.truth.pod_collisions.push(names);
        }
        self.machines.len() - before
    }

    fn background(&mut self, index: usize) {
        match index % 20 {
            0..=11 => {
                let (addr, pass) = (self.ip(), self.password());
                let p = self.ipmi(&addr, "maas", &pass, "");
                self.push("ipmi", p);
            }
            12..=15 => {
                let (addr, pass) = (self.ip(), self.password());
                let p = self.redfish(&addr, "root", &pass);
                self.push("redfish", p);
            }
            16 => {
                // A KVM host with up to 8 VMs on one BMC.
                let (host, pass) = (self.ip(), self.password());
                for i in 0..self.rng.gen_range(1..=8) {
                    let p = json!({"power_address": format!("qemu+ssh://ubuntu@{host}/system"), "power_pass": pass, "power_id": format!("vm-{index}-{i}")});
                    self.push("virsh", p);
                }
            }
            17 => {
                // An APC PDU: outlets are node-scoped, the PDU is one BMC.
                let addr = self.ip();
                for outlet in 1..=self.rng.gen_range(1..=4) {
                    self.push(
                        "apc",
                        json!({"power_address": addr, "node_outlet": outlet.to_string(), "power_on_delay": "5"}),
                    );
                }
            }
            18 => {
                let addr = format!("https://{}:8443", self.ip());
                let pass = self.password();
                for i in 0..self.rng.gen_range(1..=3) {
                    let p = json!({"power_address": addr, "password": pass, "project": "default", "instance_name": format!("lxd-{index}-{i}")});
                    self.push("lxd", p);
                }
            }
            _ => {
                self.push("manual", json!({}));
            }
        }
    }
}

impl Fleet {
    /// About `machines` machines (exactly, unless `machines` is tiny), reproducible from `seed`.
    /// Roughly one planted round per 250 machines (at least one).
    pub fn generate(machines: usize, seed: u64) -> Fleet {
        let mut g = Gen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            next_ip: 0,
            next_id: 0,
            machines: Vec::with_capacity(machines + 16),
            pods: Vec::new(),
            truth: Truth::default(),
        };
        let rounds = (machines / 250).max(1);
        let mut planted = 0;
        for r in 0..rounds {
            planted += g.plant_round(r);
        }
        let mut i = 0;
        while g.machines.len() < machines.max(planted) {
            g.background(i);
            i += 1;
        }
        g.machines.truncate(machines.max(planted));
        // A truncated background group is still consistent (equal maps), so the truth holds.
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED);
        g.machines.shuffle(&mut rng);
        g.truth.collisions.sort();
        g.truth.shared_addresses.sort();
        g.truth.pod_collisions.sort();
        Fleet {
            machines: g.machines,
            pods: g.pods,
            truth: g.truth,
        }
    }

    /// `GET machines/`: an array of machine objects (the fields preflight reads, plus a few
    /// more of the real shape).
    pub fn machines_json(&self) -> String {
        let list: Vec<Value> = self
            .machines
            .iter()
            .map(|m| {
                json!({
                    "system_id": m.system_id, "hostname": m.hostname, "fqdn": format!("{}.maas", m.hostname),
                    "power_type": m.power_type, "power_state": "off", "status_name": "Ready", "status": 4,
                    "architecture": "amd64/generic", "domain": {"name": "maas", "id": 0},
                    "resource_uri": format!("/MAAS/api/2.0/machines/{}/", m.system_id),
                })
            })
            .collect();
        Value::Array(list).to_string()
    }

    /// `GET machines/?op=power_parameters`: `{system_id: params}`.
    pub fn power_parameters_json(&self) -> String {
        let map: Map<String, Value> = self
            .machines
            .iter()
            .map(|m| (m.system_id.clone(), Value::Object(m.params.clone())))
            .collect();
        Value::Object(map).to_string()
    }

    /// The fleet as `maasserver_bmc` rows: one per distinct (power type, BMC-scoped map), then
    /// the pods; and for each machine, the id of its BMC row. Ids start at 1.
    pub fn bmc_rows(&self) -> (Vec<BmcRow>, Vec<i64>) {
        let mut rows: Vec<BmcRow> = Vec::new();
        let mut ids: std::collections::HashMap<(String, String), i64> = std::collections::HashMap::new();
        let mut machine_bmc = Vec::with_capacity(self.machines.len());
        for m in &self.machines {
            let params = Value::Object(m.bmc_params());
            let key = (m.power_type.clone(), params.to_string());
            let next = rows.len() as i64 + 1;
            let id = *ids.entry(key).or_insert_with(|| {
                rows.push(BmcRow {
                    id: next,
                    bmc_type: 0,
                    power_type: m.power_type.clone(),
                    name: String::new(),
                    params,
                });
                next
            });
            machine_bmc.push(id);
        }
        for p in &self.pods {
            rows.push(BmcRow {
                id: rows.len() as i64 + 1,
                bmc_type: 1,
                power_type: p.power_type.clone(),
                name: p.name.clone(),
                params: Value::Object(p.params.clone()),
            });
        }
        (rows, machine_bmc)
    }

    /// The truth as `truth.json` holds it.
    pub fn truth_json(&self) -> String {
        json!({
            "machines": self.machines.len(),
            "collisions": self.truth.collisions,
            "shared_addresses": self.truth.shared_addresses,
            "pod_collisions": self.truth.pod_collisions,
        })
        .to_string()
    }

    /// Every secret value in the fleet (passwords, k_g), for leak tests.
    pub fn secrets(&self) -> Vec<String> {
        const SECRET_KEYS: &[&str] = &[
            "power_pass",
            "password",
            "os_password",
            "k_g",
            "power_token",
            "power_token_secret",
        ];
        let mut out: Vec<String> = self
            .machines
            .iter()
            .map(|m| &m.params)
            .chain(self.pods.iter().map(|p| &p.params))
            .flat_map(|params| SECRET_KEYS.iter().filter_map(|k| params.get(*k)))
            .filter_map(|v| v.as_str())
            .filter(|s| s.len() >= 4)
            .map(str::to_string)
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_and_sized() {
        let a = Fleet::generate(1000, 7);
        let b = Fleet::generate(1000, 7);
        assert_eq!(a.machines.len(), 1000);
        assert_eq!(a.power_parameters_json(), b.power_parameters_json());
        assert_eq!(a.truth, b.truth);
        assert!(a.truth.collisions.len() >= 4 && a.truth.shared_addresses.len() >= 4);
        let mut ids: Vec<&str> = a.machines.iter().map(|m| m.system_id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 1000, "system ids are unique");
    }
}

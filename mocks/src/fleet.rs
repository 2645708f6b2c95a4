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

    /// `GET machines/` at its real size: every machine as a whole upstream-shaped object (see
    /// [`Fleet::write_machines_real`]), about 16.8 KB each. Holds the whole document in memory;
    /// stream large fleets with [`Fleet::write_machines_real`] instead.
    pub fn machines_json_real(&self) -> String {
        let mut out = Vec::new();
        self.write_machines_real(&mut out)
            .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("the writer emits UTF-8")
    }

    /// Streams `GET machines/` at its real size to `out`: a JSON array with one object per
    /// machine carrying the 66 top-level fields of upstream's `machines-update` example
    /// (canonical/maas `src/maasserver/api/examples/machines.json`, the same at 3.2.0 and
    /// 3.7.3; the fields later releases add to the API, such as `numanode_set`, are not
    /// generated), with nested `interface_set` (1–4 interfaces with links, subnets, VLANs,
    /// `discovered`; of three or more, the last a bond), `blockdevice_set` and
    /// `physicalblockdevice_set` (1–3 disks with partitions and filesystems), `boot_interface`,
    /// `boot_disk` (sometimes `null`), `domain`, `zone`, `pool`, `owner_data`, `tag_names`,
    /// `hardware_info`, test statuses and so on. Nested objects carry their own `system_id`
    /// keys (as upstream's do) and some `owner_data` maps hold decoy `system_id`/`hostname`
    /// keys of other values; descriptions hold escapes and non-ASCII text. Only the top-level
    /// `system_id`, `hostname` and `power_type` are the fleet's; every other value varies per
    /// machine, reproducibly (from the machine's id and hostname, so from the fleet's seed).
    ///
    /// The text is what Python's `json.dumps(machines, ensure_ascii=False, indent=4)` prints
    /// (4-space indent, `",\n"` between items, `": "` after keys, `[]`/`{}` when empty), with
    /// keys sorted at every level. Machines average about 16.8 KB (10–31 KB), so 100,000 machines
    /// are about 1.68 GB; they are written one at a time through a 1 MiB buffer.
    ///
    /// # Errors
    /// The first error of `out`.
    pub fn write_machines_real<W: std::io::Write>(&self, mut out: W) -> std::io::Result<()> {
        let mut doc = Pretty::default();
        doc.open(b'[');
        for (index, m) in self.machines.iter().enumerate() {
            doc.item();
            real_machine(&mut doc, index, m);
            if doc.buf.len() >= 1 << 20 {
                out.write_all(&doc.buf)?;
                doc.buf.clear();
            }
        }
        doc.close(b']');
        out.write_all(&doc.buf)?;
        out.flush()
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

/// A writer of the text Python's `json.dumps(value, ensure_ascii=False, indent=4)` prints, into
/// a buffer: values are written in order, each item announced with [`Pretty::item`] (array
/// elements) or [`Pretty::key`] (object members).
#[derive(Default)]
struct Pretty {
    buf: Vec<u8>,
    /// One entry per open container: whether it has an item yet.
    open: Vec<bool>,
}

impl Pretty {
    fn open(&mut self, bracket: u8) {
        self.buf.push(bracket);
        self.open.push(false);
    }

    fn close(&mut self, bracket: u8) {
        if self.open.pop() == Some(true) {
            self.newline();
        }
        self.buf.push(bracket);
    }

    fn newline(&mut self) {
        self.buf.push(b'\n');
        let indent = 4 * self.open.len();
        self.buf.resize(self.buf.len() + indent, b' ');
    }

    /// Starts the next item of the innermost container.
    fn item(&mut self) {
        if let Some(has_items) = self.open.last_mut() {
            if *has_items {
                self.buf.push(b',');
            }
            *has_items = true;
        }
        self.newline();
    }

    fn key(&mut self, key: &str) {
        self.item();
        self.string(key);
        self.buf.extend_from_slice(b": ");
    }

    /// A JSON string escaped as Python's encoder does with `ensure_ascii=False`: `"` `\` and
    /// the control characters only (`\n` `\r` `\t` `\b` `\f`, others `\u00xx`).
    fn string(&mut self, s: &str) {
        self.buf.push(b'"');
        if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            for b in s.bytes() {
                match b {
                    b'"' => self.buf.extend_from_slice(b"\\\""),
                    b'\\' => self.buf.extend_from_slice(b"\\\\"),
                    b'\n' => self.buf.extend_from_slice(b"\\n"),
                    b'\r' => self.buf.extend_from_slice(b"\\r"),
                    b'\t' => self.buf.extend_from_slice(b"\\t"),
                    0x08 => self.buf.extend_from_slice(b"\\b"),
                    0x0c => self.buf.extend_from_slice(b"\\f"),
                    0..=0x1f => {
                        const HEX: &[u8; 16] = b"0123456789abcdef";
                        self.buf.extend_from_slice(b"\\u00");
                        self.buf.push(HEX[usize::from(b >> 4)]);
                        self.buf.push(HEX[usize::from(b & 15)]);
                    }
                    _ => self.buf.push(b),
                }
            }
        } else {
            self.buf.extend_from_slice(s.as_bytes());
        }
        self.buf.push(b'"');
    }

    fn str_field(&mut self, key: &str, value: &str) {
        self.key(key);
        self.string(value);
    }

    fn opt_str_field(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(v) => self.str_field(key, v),
            None => self.null_field(key),
        }
    }

    fn int_field(&mut self, key: &str, value: i64) {
        self.key(key);
        self.buf.extend_from_slice(value.to_string().as_bytes());
    }

    fn opt_int_field(&mut self, key: &str, value: Option<i64>) {
        match value {
            Some(v) => self.int_field(key, v),
            None => self.null_field(key),
        }
    }

    /// A float as Python's `repr` writes it (shortest round trip, `.0` when integral; the
    /// generator's values are far from the exponent forms).
    fn float_field(&mut self, key: &str, value: f64) {
        self.key(key);
        let text = if value.fract() == 0.0 {
            format!("{value:.1}")
        } else {
            value.to_string()
        };
        self.buf.extend_from_slice(text.as_bytes());
    }

    fn bool_field(&mut self, key: &str, value: bool) {
        self.key(key);
        self.buf.extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn null_field(&mut self, key: &str) {
        self.key(key);
        self.buf.extend_from_slice(b"null");
    }

    fn str_list_field<S: AsRef<str>>(&mut self, key: &str, items: &[S]) {
        self.key(key);
        self.open(b'[');
        for s in items {
            self.item();
            self.string(s.as_ref());
        }
        self.close(b']');
    }

    fn empty_list_field(&mut self, key: &str) {
        self.key(key);
        self.buf.extend_from_slice(b"[]");
    }
}

/// A VLAN as upstream's `DISPLAYED_VLAN_FIELDS` show it.
struct RealVlan {
    id: i64,
    vid: i64,
    fabric_id: i64,
    mtu: i64,
    dhcp_on: bool,
    primary_rack: Option<String>,
}

struct RealSubnet {
    id: i64,
    cidr: String,
    gateway: String,
    vlan: RealVlan,
}

struct RealLink {
    id: i64,
    mode: &'static str,
    ip: Option<String>,
    subnet: RealSubnet,
}

struct RealInterface {
    id: i64,
    name: String,
    kind: &'static str,
    mac: String,
    vendor: Option<&'static str>,
    product: Option<&'static str>,
    firmware: Option<String>,
    speed: i64,
    tags: Vec<String>,
    parents: Vec<String>,
    children: Vec<String>,
    links: Vec<RealLink>,
    discovered: Option<Vec<(String, RealSubnet)>>,
    vlan: RealVlan,
}

struct RealPartition {
    id: i64,
    size: i64,
    uuid: String,
    bootable: bool,
    /// (fstype, label, mount point, uuid)
    filesystem: Option<(&'static str, &'static str, &'static str, String)>,
}

struct RealDisk {
    id: i64,
    name: String,
    model: &'static str,
    serial: String,
    firmware: String,
    wwn: String,
    size: i64,
    block_size: i64,
    tags: Vec<&'static str>,
    partitions: Vec<RealPartition>,
}

/// The per-machine draws of [`real_machine`], from the machine's id and hostname.
fn machine_rng(m: &Machine) -> ChaCha8Rng {
    // FNV-1a: stable across Rust releases, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in m.system_id.bytes().chain([0]).chain(m.hostname.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(h)
}

fn hex_id(rng: &mut ChaCha8Rng, len: usize) -> String {
    const CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..len).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect()
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let v: u128 = rng.gen();
    let h = format!("{v:032x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn real_vlan(rng: &mut ChaCha8Rng, fabric: i64) -> RealVlan {
    let vid = [0, 0, 0, 10, 20, 100, 2001][rng.gen_range(0..7)];
    RealVlan {
        id: 5001 + fabric * 16 + vid % 16,
        vid,
        fabric_id: fabric,
        mtu: if rng.gen_bool(0.2) { 9000 } else { 1500 },
        dhcp_on: vid == 0,
        primary_rack: (vid == 0).then(|| hex_id(rng, 6)),
    }
}

fn real_subnet(rng: &mut ChaCha8Rng, fabric: i64) -> RealSubnet {
    let net = rng.gen_range(16..32);
    RealSubnet {
        id: fabric * 32 + net,
        cidr: format!("10.{net}.0.0/16"),
        gateway: format!("10.{net}.0.1"),
        vlan: real_vlan(rng, fabric),
    }
}

fn real_interfaces(rng: &mut ChaCha8Rng, index: usize) -> Vec<RealInterface> {
    const VENDORS: &[(&str, &str)] = &[
        ("Intel Corporation", "Ethernet Controller X710 for 10GbE SFP+"),
        ("Mellanox Technologies", "MT27800 Family [ConnectX-5]"),
        (
            "Broadcom Inc. and subsidiaries",
            "NetXtreme BCM5720 Gigabit Ethernet PCIe",
        ),
    ];
    let fabric = rng.gen_range(0..4);
    let count = [1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4][rng.gen_range(0..11)];
    let mut interfaces: Vec<RealInterface> = (0..count)
        .map(|k| {
            let (vendor, product) = VENDORS[rng.gen_range(0..VENDORS.len())];
            let known = rng.gen_bool(0.8);
            let mac: [u8; 5] = rng.gen();
            let links = (0..usize::from(rng.gen_bool(if k == 0 { 0.45 } else { 0.08 })))
                .map(|l| {
                    let subnet = real_subnet(rng, fabric);
                    let mode = ["auto", "static", "dhcp", "link_up"][rng.gen_range(0..4)];
                    let ip = (mode != "link_up").then(|| {
                        format!(
                            "{}.{}.{}",
                            &subnet.gateway[..subnet.gateway.len() - 2],
                            rng.gen_range(0..256),
                            rng.gen_range(2..255)
                        )
                    });
                    RealLink {
                        id: (index * 8 + k * 2 + l) as i64 + 1,
                        mode,
                        ip,
                        subnet,
                    }
                })
                .collect();
            let discovered = rng.gen_bool(0.05).then(|| {
                let subnet = real_subnet(rng, fabric);
                let ip = format!(
                    "10.{}.{}.{}",
                    subnet.id % 32,
                    rng.gen_range(0..256),
                    rng.gen_range(2..255)
                );
                vec![(ip, subnet)]
            });
            RealInterface {
                id: (index * 6 + k) as i64 + 1,
                name: format!("eno{}", k + 1),
                kind: "physical",
                mac: format!(
                    "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                    0x0c, mac[0], mac[1], mac[2], mac[3], mac[4]
                ),
                vendor: known.then_some(vendor),
                product: known.then_some(product),
                firmware: known.then(|| {
                    format!(
                        "{}.{}.{}",
                        rng.gen_range(1..20),
                        rng.gen_range(0..10),
                        rng.gen_range(0..100)
                    )
                }),
                speed: [1000, 10000, 25000][rng.gen_range(0..3)],
                tags: if rng.gen_bool(0.3) {
                    vec!["sriov".into(), format!("tor-{}", rng.gen_range(1..40))]
                } else {
                    Vec::new()
                },
                parents: Vec::new(),
                children: Vec::new(),
                links,
                discovered,
                vlan: real_vlan(rng, fabric),
            }
        })
        .collect();
    // Three or more: the last is a bond of the two before it.
    if count >= 3 {
        let bond = "bond0".to_string();
        for child in &mut interfaces[count - 3..count - 1] {
            child.children.push(bond.clone());
        }
        let parents = vec![interfaces[count - 3].name.clone(), interfaces[count - 2].name.clone()];
        let last = &mut interfaces[count - 1];
        last.kind = "bond";
        last.name = bond;
        last.parents = parents;
    }
    interfaces
}

fn real_disks(rng: &mut ChaCha8Rng, index: usize) -> Vec<RealDisk> {
    const MODELS: &[&str] = &[
        "SAMSUNG MZ7LH480",
        "INTEL SSDSC2KB960G8",
        "ST4000NM0035-1V4107",
        "QEMU HARDDISK",
        "PERC H730P Mini",
    ];
    const LAYOUT: &[(&str, &str, &str)] = &[
        ("fat32", "efi", "/boot/efi"),
        ("ext4", "boot", "/boot"),
        ("ext4", "root", "/"),
    ];
    let count = [1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3][rng.gen_range(0..11)];
    (0..count)
        .map(|d| {
            let size: i64 = rng.gen_range(240..8000) * 1_000_000_000;
            let parts = if d == 0 {
                1 + usize::from(rng.gen_bool(0.3))
            } else {
                usize::from(rng.gen_bool(0.3))
            };
            let partitions = (0..parts)
                .map(|p| RealPartition {
                    id: (index * 16 + d * 4 + p) as i64 + 1,
                    size: size / (parts as i64) - 4_194_304,
                    uuid: uuid(rng),
                    bootable: d == 0 && p == 0,
                    filesystem: (d == 0).then(|| {
                        let (fstype, label, mount) = LAYOUT[if p + 1 == parts { 2 } else { p }];
                        (fstype, label, mount, uuid(rng))
                    }),
                })
                .collect();
            RealDisk {
                id: (index * 4 + d) as i64 + 1,
                name: format!("sd{}", (b'a' + d as u8) as char),
                model: MODELS[rng.gen_range(0..MODELS.len())],
                serial: hex_id(rng, 14).to_uppercase(),
                firmware: format!(
                    "{}{}",
                    ["GDC5", "XCV1", "SN04", "2.5+"][rng.gen_range(0..4)],
                    rng.gen_range(0..10)
                ),
                wwn: format!("{:016x}", rng.gen::<u64>()),
                size,
                block_size: if rng.gen_bool(0.7) { 512 } else { 4096 },
                tags: if rng.gen_bool(0.6) {
                    vec!["ssd"]
                } else {
                    vec!["rotary", "1rpm"]
                },
                partitions,
            }
        })
        .collect()
}

fn write_vlan(doc: &mut Pretty, v: &RealVlan) {
    doc.open(b'{');
    doc.bool_field("dhcp_on", v.dhcp_on);
    doc.null_field("external_dhcp");
    doc.str_field("fabric", &format!("fabric-{}", v.fabric_id));
    doc.int_field("fabric_id", v.fabric_id);
    doc.int_field("id", v.id);
    doc.int_field("mtu", v.mtu);
    doc.str_field("name", if v.vid == 0 { "untagged" } else { "tagged" });
    doc.opt_str_field("primary_rack", v.primary_rack.as_deref());
    doc.null_field("relay_vlan");
    doc.str_field("resource_uri", &format!("/MAAS/api/2.0/vlans/{}/", v.id));
    doc.null_field("secondary_rack");
    doc.str_field("space", "undefined");
    doc.int_field("vid", v.vid);
    doc.close(b'}');
}

fn write_subnet(doc: &mut Pretty, s: &RealSubnet) {
    doc.open(b'{');
    doc.bool_field("active_discovery", false);
    doc.bool_field("allow_dns", true);
    doc.bool_field("allow_proxy", true);
    doc.str_field("cidr", &s.cidr);
    doc.str_field("description", "");
    doc.empty_list_field("disabled_boot_architectures");
    doc.empty_list_field("dns_servers");
    doc.str_field("gateway_ip", &s.gateway);
    doc.int_field("id", s.id);
    doc.bool_field("managed", true);
    doc.str_field("name", &s.cidr);
    doc.int_field("rdns_mode", 2);
    doc.str_field("resource_uri", &format!("/MAAS/api/2.0/subnets/{}/", s.id));
    doc.str_field("space", "undefined");
    doc.key("vlan");
    write_vlan(doc, &s.vlan);
    doc.close(b'}');
}

fn write_interface(doc: &mut Pretty, system_id: &str, i: &RealInterface) {
    doc.open(b'{');
    doc.str_list_field("children", &i.children);
    doc.key("discovered");
    match &i.discovered {
        None => doc.buf.extend_from_slice(b"null"),
        Some(found) => {
            doc.open(b'[');
            for (ip, subnet) in found {
                doc.item();
                doc.open(b'{');
                doc.str_field("ip_address", ip);
                doc.key("subnet");
                write_subnet(doc, subnet);
                doc.close(b'}');
            }
            doc.close(b']');
        }
    }
    doc.int_field("effective_mtu", i.vlan.mtu);
    doc.bool_field("enabled", true);
    doc.opt_str_field("firmware_version", i.firmware.as_deref());
    doc.int_field("id", i.id);
    doc.int_field("interface_speed", i.speed);
    doc.bool_field("link_connected", true);
    doc.int_field("link_speed", i.speed);
    doc.key("links");
    doc.open(b'[');
    for l in &i.links {
        doc.item();
        doc.open(b'{');
        doc.int_field("id", l.id);
        if let Some(ip) = &l.ip {
            doc.str_field("ip_address", ip);
        }
        doc.str_field("mode", l.mode);
        doc.key("subnet");
        write_subnet(doc, &l.subnet);
        doc.close(b'}');
    }
    doc.close(b']');
    doc.str_field("mac_address", &i.mac);
    doc.str_field("name", &i.name);
    doc.int_field("numa_node", 0);
    doc.key("params");
    doc.buf.extend_from_slice(b"{}");
    doc.str_list_field("parents", &i.parents);
    doc.opt_str_field("product", i.product);
    doc.str_field(
        "resource_uri",
        &format!("/MAAS/api/2.0/nodes/{system_id}/interfaces/{}/", i.id),
    );
    doc.int_field("sriov_max_vf", 0);
    doc.str_field("system_id", system_id);
    doc.str_list_field("tags", &i.tags);
    doc.str_field("type", i.kind);
    doc.opt_str_field("vendor", i.vendor);
    doc.key("vlan");
    write_vlan(doc, &i.vlan);
    doc.close(b'}');
}

/// `key` with the list of `disks` (`blockdevice_set`, `physicalblockdevice_set`: the same
/// disks in both, as MAAS lists them).
fn write_disks(doc: &mut Pretty, key: &str, system_id: &str, disks: &[RealDisk]) {
    doc.key(key);
    doc.open(b'[');
    for d in disks {
        doc.item();
        write_disk(doc, system_id, d);
    }
    doc.close(b']');
}

fn write_disk(doc: &mut Pretty, system_id: &str, d: &RealDisk) {
    let used: i64 = d.partitions.iter().map(|p| p.size).sum();
    doc.open(b'{');
    doc.int_field("available_size", d.size - used - if used > 0 { 4_194_304 } else { 0 });
    doc.int_field("block_size", d.block_size);
    doc.null_field("filesystem");
    doc.str_field("firmware_version", &d.firmware);
    doc.int_field("id", d.id);
    doc.str_field("id_path", &format!("/dev/disk/by-id/wwn-0x{}", d.wwn));
    doc.str_field("model", d.model);
    doc.str_field("name", &d.name);
    doc.int_field("numa_node", 0);
    if d.partitions.is_empty() {
        doc.null_field("partition_table_type");
    } else {
        doc.str_field("partition_table_type", "GPT");
    }
    doc.key("partitions");
    doc.open(b'[');
    for (n, p) in d.partitions.iter().enumerate() {
        doc.item();
        doc.open(b'{');
        doc.bool_field("bootable", p.bootable);
        doc.int_field("device_id", d.id);
        doc.key("filesystem");
        match &p.filesystem {
            None => doc.buf.extend_from_slice(b"null"),
            Some((fstype, label, mount, uuid)) => {
                doc.open(b'{');
                doc.str_field("fstype", fstype);
                doc.str_field("label", label);
                doc.null_field("mount_options");
                doc.str_field("mount_point", mount);
                doc.str_field("uuid", uuid);
                doc.close(b'}');
            }
        }
        doc.int_field("id", p.id);
        doc.str_field("path", &format!("/dev/disk/by-dname/{}-part{}", d.name, n + 1));
        doc.str_field(
            "resource_uri",
            &format!(
                "/MAAS/api/2.0/nodes/{system_id}/blockdevices/{}/partition/{}",
                d.id, p.id
            ),
        );
        doc.int_field("size", p.size);
        doc.str_field("system_id", system_id);
        doc.empty_list_field("tags");
        doc.str_field("type", "partition");
        let used_for = match &p.filesystem {
            Some((fstype, _, mount, _)) => format!("{fstype} formatted filesystem mounted at {mount}"),
            None => "Unused".to_string(),
        };
        doc.str_field("used_for", &used_for);
        doc.str_field("uuid", &p.uuid);
        doc.close(b'}');
    }
    doc.close(b']');
    doc.str_field("path", &format!("/dev/disk/by-dname/{}", d.name));
    doc.str_field(
        "resource_uri",
        &format!("/MAAS/api/2.0/nodes/{system_id}/blockdevices/{}/", d.id),
    );
    doc.str_field("serial", &d.serial);
    doc.int_field("size", d.size);
    doc.null_field("storage_pool");
    doc.str_field("system_id", system_id);
    doc.str_list_field("tags", &d.tags);
    doc.str_field("type", "physical");
    let used_for = match d.partitions.len() {
        0 => "Unused".to_string(),
        1 => "GPT partitioned with 1 partition".to_string(),
        n => format!("GPT partitioned with {n} partitions"),
    };
    doc.str_field("used_for", &used_for);
    doc.int_field("used_size", used + if used > 0 { 4_194_304 } else { 0 });
    doc.null_field("uuid");
    doc.close(b'}');
}

/// A test status and its name, as upstream's `SCRIPT_STATUS` numbers them.
fn status_fields(doc: &mut Pretty, rng: &mut ChaCha8Rng, key: &str) {
    const STATUSES: &[(i64, &str)] = &[
        (2, "Passed"),
        (2, "Passed"),
        (2, "Passed"),
        (3, "Failed"),
        (-1, "Unknown"),
    ];
    let (status, name) = STATUSES[rng.gen_range(0..STATUSES.len())];
    doc.int_field(key, status);
    doc.str_field(&format!("{key}_name"), name);
}

/// One machine of [`Fleet::write_machines_real`], its keys in the order of the sorted list of
/// upstream's `machines-update` example.
fn real_machine(doc: &mut Pretty, index: usize, m: &Machine) {
    const DESCRIPTIONS: &[&str] = &[
        "",
        "",
        "",
        "Rack 4 \"north\", slot 7",
        "Baie B3 — réservée à l'équipe réseau",
        "moved from DC1\nticket OPS-1234\tdone",
        "path C:\\racks\\r12 \u{7}",
        "GPU 节点",
    ];
    const STATUSES: &[(i64, &str, &str)] = &[
        (4, "Ready", ""),
        (6, "Deployed", "Deployed"),
        (6, "Deployed", "Deployed"),
        (10, "Allocated", "Allocated to admin"),
        (11, "Failed deployment", "Failed to deploy: timed out"),
        (1, "Commissioning", "Gathering information"),
    ];
    let mut rng = machine_rng(m);
    let rng = &mut rng;
    let id = m.system_id.as_str();
    let interfaces = real_interfaces(rng, index);
    let disks = real_disks(rng, index);
    let deployed = rng.gen_bool(0.6);
    let (status, status_name, status_message) = STATUSES[rng.gen_range(0..STATUSES.len())];

    doc.open(b'{');
    doc.null_field("address_ttl");
    doc.str_field(
        "architecture",
        ["amd64/generic", "amd64/generic", "arm64/generic", "amd64/ga-22.04"][rng.gen_range(0..4)],
    );
    doc.empty_list_field("bcaches");
    doc.str_field("bios_boot_method", if rng.gen_bool(0.7) { "uefi" } else { "pxe" });
    write_disks(doc, "blockdevice_set", id, &disks);
    doc.key("boot_disk");
    if rng.gen_bool(0.95) {
        write_disk(doc, id, &disks[0]);
    } else {
        doc.buf.extend_from_slice(b"null");
    }
    doc.key("boot_interface");
    write_interface(doc, id, &interfaces[0]);
    doc.empty_list_field("cache_sets");
    status_fields(doc, rng, "commissioning_status");
    doc.int_field("cpu_count", [4, 8, 16, 32, 48, 64, 96, 128][rng.gen_range(0..8)]);
    doc.int_field("cpu_speed", [2000, 2100, 2400, 2600, 3000][rng.gen_range(0..5)]);
    status_fields(doc, rng, "cpu_test_status");
    let result = index as i64 * 3 + 1;
    doc.int_field("current_commissioning_result_id", result);
    doc.opt_int_field("current_installation_result_id", deployed.then_some(result + 2));
    doc.int_field("current_testing_result_id", result + 1);
    doc.key("default_gateways");
    doc.open(b'{');
    for family in ["ipv4", "ipv6"] {
        doc.key(family);
        doc.open(b'{');
        let link = interfaces[0].links.first().filter(|_| family == "ipv4" && deployed);
        doc.opt_str_field("gateway_ip", link.map(|l| l.subnet.gateway.as_str()));
        doc.opt_int_field("link_id", link.map(|l| l.id));
        doc.close(b'}');
    }
    doc.close(b'}');
    doc.str_field("description", DESCRIPTIONS[rng.gen_range(0..DESCRIPTIONS.len())]);
    doc.bool_field("disable_ipv4", false);
    doc.str_field("distro_series", if deployed { "jammy" } else { "" });
    doc.key("domain");
    doc.open(b'{');
    doc.bool_field("authoritative", true);
    doc.int_field("id", 0);
    doc.bool_field("is_default", true);
    doc.str_field("name", "maas");
    doc.int_field("resource_record_count", rng.gen_range(0..5000));
    doc.str_field("resource_uri", "/MAAS/api/2.0/domains/0/");
    doc.null_field("ttl");
    doc.close(b'}');
    doc.str_field("fqdn", &format!("{}.maas", m.hostname));
    doc.key("hardware_info");
    doc.open(b'{');
    let serial = hex_id(rng, 10).to_uppercase();
    let (vendor, product) = [
        ("Dell Inc.", "PowerEdge R640"),
        ("HPE", "ProLiant DL380 Gen10"),
        ("Supermicro", "SYS-1029P-WTR"),
    ][rng.gen_range(0..3)];
    doc.str_field("chassis_serial", &serial);
    doc.str_field("chassis_type", "Rack Mount Chassis");
    doc.str_field("chassis_vendor", vendor);
    doc.str_field("chassis_version", "Unknown");
    doc.str_field(
        "cpu_model",
        ["Intel(R) Xeon(R) Gold 6230 CPU", "AMD EPYC 7543 32-Core Processor"][rng.gen_range(0..2)],
    );
    doc.str_field(
        "mainboard_firmware_date",
        &format!(
            "{:02}/{:02}/20{}",
            rng.gen_range(1..13),
            rng.gen_range(1..29),
            rng.gen_range(18..25)
        ),
    );
    doc.str_field("mainboard_firmware_vendor", vendor);
    doc.str_field(
        "mainboard_firmware_version",
        &format!(
            "{}.{}.{}",
            rng.gen_range(1..3),
            rng.gen_range(0..20),
            rng.gen_range(0..10)
        ),
    );
    doc.str_field("mainboard_product", &format!("0{}", hex_id(rng, 5).to_uppercase()));
    doc.str_field(
        "mainboard_serial",
        &format!(".{serial}.CNIVC00{}.", rng.gen_range(100..999)),
    );
    doc.str_field("mainboard_vendor", vendor);
    doc.str_field("system_family", product.split(' ').next().unwrap_or(product));
    doc.str_field("system_product", product);
    doc.str_field("system_serial", &serial);
    doc.str_field("system_sku", &format!("SKU=NotProvided;ModelName={product}"));
    doc.str_field("system_vendor", vendor);
    doc.str_field("system_version", "Not Specified");
    doc.close(b'}');
    doc.str_field("hostname", &m.hostname);
    doc.opt_str_field("hwe_kernel", deployed.then_some("ga-22.04"));
    doc.key("interface_set");
    doc.open(b'[');
    for i in &interfaces {
        doc.item();
        write_interface(doc, id, i);
    }
    doc.close(b']');
    status_fields(doc, rng, "interface_test_status");
    let ips: Vec<&str> = interfaces
        .iter()
        .flat_map(|i| i.links.iter().filter_map(|l| l.ip.as_deref()))
        .collect();
    doc.str_list_field("ip_addresses", if deployed { &ips } else { &[] });
    doc.bool_field("locked", rng.gen_bool(0.05));
    doc.int_field(
        "memory",
        [16384, 32768, 65536, 131072, 262144, 524288][rng.gen_range(0..6)],
    );
    status_fields(doc, rng, "memory_test_status");
    doc.str_field("min_hwe_kernel", "");
    doc.bool_field("netboot", !deployed);
    doc.int_field("node_type", 0);
    doc.str_field("node_type_name", "Machine");
    doc.str_field("osystem", if deployed { "ubuntu" } else { "" });
    status_fields(doc, rng, "other_test_status");
    doc.opt_str_field(
        "owner",
        deployed.then_some(["admin", "jenkins", "ops-team"][rng.gen_range(0..3)]),
    );
    doc.key("owner_data");
    if deployed && rng.gen_bool(0.5) {
        // What juju leaves on the machines it deploys, plus keys named like the top-level
        // fields (owner_data is free-form): only the machine's own fields count.
        doc.open(b'{');
        if rng.gen_bool(0.5) {
            doc.str_field(
                "hostname",
                &format!("juju-{}-{}", hex_id(rng, 6), rng.gen_range(0..100)),
            );
        }
        doc.str_field("juju-controller-uuid", &uuid(rng));
        doc.str_field("juju-is-controller", if rng.gen_bool(0.01) { "true" } else { "false" });
        doc.str_field(
            "juju-machine-id",
            &format!("default-machine-{}", rng.gen_range(0..1000)),
        );
        doc.str_field("juju-model-uuid", &uuid(rng));
        if rng.gen_bool(0.5) {
            doc.str_field("system_id", &hex_id(rng, 6));
        }
        doc.close(b'}');
    } else {
        doc.buf.extend_from_slice(b"{}");
    }
    write_disks(doc, "physicalblockdevice_set", id, &disks);
    doc.key("pod");
    if m.power_type == "virsh" || m.power_type == "lxd" {
        let pod = rng.gen_range(1..200);
        doc.open(b'{');
        doc.int_field("id", pod);
        doc.str_field("name", &format!("vmhost-{pod}"));
        doc.str_field("resource_uri", &format!("/MAAS/api/2.0/pods/{pod}/"));
        doc.close(b'}');
    } else {
        doc.buf.extend_from_slice(b"null");
    }
    doc.key("pool");
    doc.open(b'{');
    doc.str_field("description", "Default pool");
    doc.int_field("id", 0);
    doc.str_field("name", "default");
    doc.str_field("resource_uri", "/MAAS/api/2.0/resourcepool/0/");
    doc.close(b'}');
    doc.str_field(
        "power_state",
        if deployed {
            "on"
        } else {
            ["off", "unknown"][rng.gen_range(0..2)]
        },
    );
    doc.str_field("power_type", &m.power_type);
    doc.empty_list_field("raids");
    doc.str_field("resource_uri", &format!("/MAAS/api/2.0/machines/{id}/"));
    doc.empty_list_field("special_filesystems");
    let (status, status_name, status_message) = if deployed {
        (6, "Deployed", "Deployed")
    } else {
        (status, status_name, status_message)
    };
    doc.int_field("status", status);
    doc.str_field("status_action", "");
    doc.str_field("status_message", status_message);
    doc.str_field("status_name", status_name);
    let storage: i64 = disks.iter().map(|d| d.size).sum();
    doc.float_field(
        "storage",
        storage as f64 / 1e6 + f64::from(rng.gen_range(1..1000u16)) / 1000.0,
    );
    status_fields(doc, rng, "storage_test_status");
    doc.null_field("swap_size");
    doc.str_field("system_id", id);
    let mut tags = vec!["virtual"];
    if rng.gen_bool(0.5) {
        tags = vec!["pod-console-logging", "ssd"];
    }
    if m.power_type == "ipmi" {
        tags.push("ipmi-bmc");
    }
    doc.str_list_field("tag_names", &tags);
    status_fields(doc, rng, "testing_status");
    doc.empty_list_field("virtualblockdevice_set");
    doc.empty_list_field("volume_groups");
    doc.key("zone");
    doc.open(b'{');
    let zone = rng.gen_range(0..4);
    let zone_name = if zone == 0 {
        "default".to_string()
    } else {
        format!("az-{zone}")
    };
    doc.str_field("description", "");
    doc.int_field("id", zone + 1);
    doc.str_field("name", &zone_name);
    doc.str_field("resource_uri", &format!("/MAAS/api/2.0/zones/{zone_name}/"));
    doc.close(b'}');
    doc.close(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_size_machines_have_the_upstream_shape() {
        let fleet = Fleet::generate(300, 7);
        let text = fleet.machines_json_real();
        assert_eq!(text, fleet.machines_json_real(), "reproducible");
        let value: Value = serde_json::from_str(&text).unwrap();
        let list = value.as_array().unwrap();
        assert_eq!(list.len(), fleet.machines.len());
        let average = text.len() / list.len();
        assert!((12_000..=20_000).contains(&average), "average machine {average} bytes");
        // The top-level keys of upstream's machines-update example, sorted.
        const KEYS: &str = "address_ttl architecture bcaches bios_boot_method blockdevice_set boot_disk \
            boot_interface cache_sets commissioning_status commissioning_status_name cpu_count cpu_speed \
            cpu_test_status cpu_test_status_name current_commissioning_result_id current_installation_result_id \
            current_testing_result_id default_gateways description disable_ipv4 distro_series domain fqdn \
            hardware_info hostname hwe_kernel interface_set interface_test_status interface_test_status_name \
            ip_addresses locked memory memory_test_status memory_test_status_name min_hwe_kernel netboot \
            node_type node_type_name osystem other_test_status other_test_status_name owner owner_data \
            physicalblockdevice_set pod pool power_state power_type raids resource_uri special_filesystems status \
            status_action status_message status_name storage storage_test_status storage_test_status_name \
            swap_size system_id tag_names testing_status testing_status_name virtualblockdevice_set \
            volume_groups zone";
        let keys: Vec<&str> = KEYS.split_whitespace().collect();
        assert_eq!(keys.len(), 66);
        for (m, v) in fleet.machines.iter().zip(list) {
            let obj = v.as_object().unwrap();
            assert_eq!(obj.keys().map(String::as_str).collect::<Vec<_>>(), keys);
            assert_eq!(obj["system_id"], m.system_id.as_str());
            assert_eq!(obj["hostname"], m.hostname.as_str());
            assert_eq!(obj["power_type"], m.power_type.as_str());
            let interfaces = obj["interface_set"].as_array().unwrap();
            assert!((1..=4).contains(&interfaces.len()));
            assert!(interfaces
                .iter()
                .all(|i| i["system_id"] == m.system_id.as_str() && i["vlan"].is_object()));
            assert!(!obj["blockdevice_set"].as_array().unwrap().is_empty());
            assert!(obj["pod"].is_null() || obj["pod"].is_object());
        }
        // Nested decoys: some owner_data maps hold their own system_id and hostname.
        assert!(list.iter().any(|v| v["owner_data"].get("system_id").is_some()));
        assert!(list.iter().any(|v| v["owner_data"].get("hostname").is_some()));
        let descriptions: Vec<&str> = list.iter().filter_map(|v| v["description"].as_str()).collect();
        assert!(descriptions.iter().any(|d| d.contains('"')) && descriptions.iter().any(|d| d.contains('\\')));
        assert!(descriptions.iter().any(|d| d.contains('\n')) && descriptions.iter().any(|d| !d.is_ascii()));
        // Exactly Python's json.dumps(indent=4) text: serde_json's pretty printer with a
        // 4-space indent writes the same (keys are sorted, so its BTreeMap order agrees).
        let mut again = Vec::new();
        let mut ser =
            serde_json::Serializer::with_formatter(&mut again, serde_json::ser::PrettyFormatter::with_indent(b"    "));
        serde::Serialize::serialize(&value, &mut ser).unwrap();
        assert!(again == text.as_bytes(), "not the indent=4 text");
        assert!(text.starts_with("[\n    {\n        \"address_ttl\": null,\n        \"architecture\": \""));
        assert!(text.ends_with("\n    }\n]"));
        // The writer streams what the String form holds.
        let mut streamed = Vec::new();
        fleet.write_machines_real(&mut streamed).unwrap();
        assert!(streamed == text.as_bytes());
        let empty = Fleet {
            machines: Vec::new(),
            pods: Vec::new(),
            truth: Truth::default(),
        };
        assert_eq!(empty.machines_json_real(), "[]", "as json.dumps([], indent=4)");
    }

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

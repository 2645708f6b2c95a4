//! The inventory parser against the real Ansible: every file of `tests/fixtures/inventories/` (INI and
//! YAML) goes through `ansible-inventory -i FILE --list` and through
//! `preflight::host::inventory::parse`, and the two must agree, host by host, on:
//!
//! - the set of hosts (each once);
//! - `ansible_host`, `ansible_port`, `ansible_user` after inheritance (`_meta.hostvars`);
//! - the groups, direct or through `children`, without `all` and `ungrouped` (Ansible's group
//!   tree, closed over `children`; `ungrouped` is implicit in both and left out of both);
//! - every other variable whose value is a scalar, as text (strings as they are, integers in
//!   decimal, floats compared as numbers, booleans `True`/`False`, null as empty text); lists
//!   and mappings are only checked to be present (their text is Python's `str()`).
//!
//! Every file of `tests/fixtures/inventories/bad/` must be refused by both.
//!
//! `ansible-inventory` comes with `pip install ansible-core`; without it this test fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use preflight::host::inventory::{parse, InventoryHost};
use serde_json::Value;

/// The environment that makes `ansible-inventory` fail on a source it cannot parse, instead of
/// printing an empty inventory.
fn ansible_inventory(path: &Path) -> std::io::Result<std::process::Output> {
    Command::new("ansible-inventory")
        .arg("-i")
        .arg(path)
        .arg("--list")
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "True")
        .env("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "True")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_DEPRECATION_WARNINGS", "False")
        .env_remove("ANSIBLE_CONFIG")
        .env_remove("ANSIBLE_INVENTORY")
        .current_dir(std::env::temp_dir())
        .output()
}

fn require_ansible() {
    match Command::new("ansible-inventory").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`ansible-inventory --version` failed ({}): {}\nInstall Ansible with `pip install ansible-core`.",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "`ansible-inventory` is not on PATH ({e}). This oracle test needs the real Ansible: \
             `pip install ansible-core` (CI installs it)."
        ),
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// `f` over `items` on as many threads as there are CPUs (each `ansible-inventory` is a Python
/// process of about a second), results in the order of `items`.
fn run_all<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(items.len().max(1));
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("an oracle worker panicked"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn inventories() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join("inventories")
}

/// What Ansible says of one host.
#[derive(Debug)]
struct AnsibleHost {
    vars: serde_json::Map<String, Value>,
    groups: BTreeSet<String>,
}

/// Reads `ansible-inventory --list` output: `_meta.hostvars`, and each group's `hosts` and
/// `children`, closed upwards.
fn ansible_hosts(json: &Value) -> BTreeMap<String, AnsibleHost> {
    let root = json.as_object().expect("ansible-inventory prints an object");
    let mut parents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut direct: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (group, body) in root.iter().filter(|(k, _)| *k != "_meta") {
        for child in body.get("children").and_then(Value::as_array).into_iter().flatten() {
            parents
                .entry(child.as_str().expect("child name"))
                .or_default()
                .push(group);
        }
        for host in body.get("hosts").and_then(Value::as_array).into_iter().flatten() {
            direct.entry(host.as_str().expect("host name")).or_default().push(group);
        }
    }
    let hostvars = root
        .get("_meta")
        .and_then(|m| m.get("hostvars"))
        .and_then(Value::as_object);
    let mut names: BTreeSet<&str> = direct.keys().copied().collect();
    names.extend(hostvars.into_iter().flat_map(|h| h.keys().map(String::as_str)));
    names
        .into_iter()
        .map(|name| {
            let mut groups = BTreeSet::new();
            let mut todo: Vec<&str> = direct.get(name).cloned().unwrap_or_default();
            while let Some(g) = todo.pop() {
                if groups.insert(g.to_string()) {
                    todo.extend(parents.get(g).into_iter().flatten().copied());
                }
            }
            groups.remove("all");
            groups.remove("ungrouped");
            let vars = hostvars
                .and_then(|h| h.get(name))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            (name.to_string(), AnsibleHost { vars, groups })
        })
        .collect()
}

/// A JSON scalar as `InventoryHost::vars` writes it; `None` for lists and mappings.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// Scalars compare as text, floats as numbers.
fn same_value(ours: &str, theirs: &Value) -> bool {
    match theirs {
        Value::Number(n) if n.is_f64() => n.as_f64() == ours.parse::<f64>().ok(),
        other => as_text(other).is_none_or(|t| t == ours),
    }
}

struct Counts {
    hosts: usize,
    vars: usize,
}

/// Compares one inventory; returns the number of hosts and variables compared, or the
/// differences.
fn compare(path: &Path) -> Result<Counts, Vec<String>> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{shown}: {e}")])?;
    let out = ansible_inventory(path).map_err(|e| vec![format!("{shown}: running ansible-inventory: {e}")])?;
    if !out.status.success() {
        return Err(vec![format!(
            "{shown}: ansible-inventory failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )]);
    }
    let json: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| vec![format!("{shown}: ansible-inventory output: {e}")])?;
    let theirs = ansible_hosts(&json);
    let ours: Vec<InventoryHost> = parse(&text, &shown).map_err(|e| vec![format!("{shown}: our parse failed: {e}")])?;

    let mut diffs = Vec::new();
    let our_names: Vec<&str> = ours.iter().map(|h| h.name.as_str()).collect();
    let our_set: BTreeSet<&str> = our_names.iter().copied().collect();
    if our_set.len() != our_names.len() {
        diffs.push(format!("{shown}: a host appears twice in {our_names:?}"));
    }
    let their_set: BTreeSet<&str> = theirs.keys().map(String::as_str).collect();
    if our_set != their_set {
        diffs.push(format!(
            "{shown}: hosts differ\n  ours:    {our_set:?}\n  ansible: {their_set:?}"
        ));
    }
    let mut vars_compared = 0;
    for host in &ours {
        let Some(them) = theirs.get(&host.name) else { continue };
        let mut check = |what: &str, ours: Option<String>, theirs: Option<String>| {
            if ours != theirs {
                diffs.push(format!(
                    "{shown}: {}: {what}: ours {ours:?}, ansible {theirs:?}",
                    host.name
                ));
            }
        };
        let text_var = |key: &str| them.vars.get(key).filter(|v| !v.is_null()).and_then(as_text);
        check("ansible_host", host.address.clone(), text_var("ansible_host"));
        check("ansible_user", host.user.clone(), text_var("ansible_user"));
        let their_port = text_var("ansible_port").map(|p| p.parse::<u16>().map_or(p, |n| n.to_string()));
        check("ansible_port", host.port.map(|p| p.to_string()), their_port);
        let our_groups: BTreeSet<String> = host.groups.iter().cloned().collect();
        if our_groups != them.groups || host.groups.windows(2).any(|w| w[0] >= w[1]) {
            diffs.push(format!(
                "{shown}: {}: groups: ours {:?}, ansible {:?}",
                host.name, host.groups, them.groups
            ));
        }
        let our_keys: BTreeSet<&str> = host.vars.keys().map(String::as_str).collect();
        let their_keys: BTreeSet<&str> = them.vars.keys().map(String::as_str).collect();
        if our_keys != their_keys {
            diffs.push(format!(
                "{shown}: {}: variable names: ours {our_keys:?}, ansible {their_keys:?}",
                host.name
            ));
        }
        for (key, value) in &them.vars {
            let Some(ours) = host.vars.get(key) else { continue };
            vars_compared += 1;
            if !same_value(ours, value) {
                diffs.push(format!("{shown}: {}: {key}: ours {ours:?}, ansible {value}", host.name));
            }
        }
    }
    if diffs.is_empty() {
        Ok(Counts {
            hosts: ours.len(),
            vars: vars_compared,
        })
    } else {
        Err(diffs)
    }
}

#[test]
fn parser_agrees_with_ansible_inventory() {
    require_ansible();
    let paths = files(&inventories());
    assert!(
        paths.len() >= 10,
        "expected the oracle inventories in {}",
        inventories().display()
    );
    let results = run_all(&paths, |p| compare(p));
    let mut failures = Vec::new();
    let (mut hosts, mut vars) = (0, 0);
    for (path, result) in paths.iter().zip(&results) {
        match result {
            Ok(counts) => {
                eprintln!(
                    "{}: {} hosts, {} variables agree",
                    path.display(),
                    counts.hosts,
                    counts.vars
                );
                hosts += counts.hosts;
                vars += counts.vars;
            }
            Err(diffs) => failures.extend(diffs.iter().cloned()),
        }
    }
    assert!(
        failures.is_empty(),
        "the parser disagrees with ansible-inventory:\n{}",
        failures.join("\n")
    );
    eprintln!(
        "{} inventories, {hosts} hosts, {vars} variables agree with ansible-inventory",
        results.len()
    );
}

#[test]
fn parser_refuses_what_ansible_refuses() {
    require_ansible();
    let paths = files(&inventories().join("bad"));
    assert!(
        paths.len() >= 10,
        "expected the refused inventories in {}/bad",
        inventories().display()
    );
    let failures: Vec<String> = run_all(&paths, |path| {
        let shown = path.display().to_string();
        let mut problems = Vec::new();
        match ansible_inventory(path) {
            Ok(out) if out.status.success() => problems.push(format!("{shown}: ansible-inventory accepted it")),
            Ok(_) => {}
            Err(e) => problems.push(format!("{shown}: running ansible-inventory: {e}")),
        }
        match std::fs::read_to_string(path) {
            Ok(text) => match parse(&text, &shown) {
                Ok(hosts) => problems.push(format!("{shown}: our parse accepted it: {hosts:?}")),
                Err(e) => eprintln!("{shown}: refused: {e}"),
            },
            Err(e) => problems.push(format!("{shown}: {e}")),
        }
        problems
    })
    .into_iter()
    .flatten()
    .collect();
    eprintln!("{} inventories refused by both", paths.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

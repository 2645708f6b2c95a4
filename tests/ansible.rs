//! The Ansible collection `preflight.upgrade` (contrib/ansible) end to end, with the real
//! ansible-core: its playbook reads three controllers over a real sshd (tests/support/sshd.rs;
//! each inventory host reads a different root through `preflight_root`, as in tests/fleet.rs),
//! one of them through a binary the role copies over and removes, writes one facts document per
//! host and scans them with `preflight scan --host-facts`; that report must judge the host checks
//! exactly as `preflight scan --hosts` does over SSH with the same inventory. Also: the module's
//! failures, and its documentation as ansible-doc and ansible-galaxy read it.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use support::roots::root;
use support::sshd::Sshd;

/// What the tests leave out of every command's environment: the MAAS API and database are not
/// part of this test (MAAS001 and the other API checks are undecided on both paths alike).
const UNSET: &[&str] = &[
    "DATABASE_URL",
    "MAAS_URL",
    "MAAS_API_KEY",
    "MAAS_API_KEY_FILE",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSERVICE",
    "ANSIBLE_CONFIG",
    "ANSIBLE_COLLECTIONS_PATHS",
];

/// The host checks both paths judge per controller.
const HOST_CHECKS: &[&str] = &["MAAS002", "MAAS006"];

/// contrib/ansible: what ANSIBLE_COLLECTIONS_PATH points at.
fn collections() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/ansible")
}

fn collection() -> PathBuf {
    collections().join("ansible_collections/preflight/upgrade")
}

/// The built preflight (what the role copies to hosts and the playbook's scan runs).
fn preflight_binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("preflight")
}

/// An ansible-core command (`ansible-playbook`, `ansible-doc`, …) run in `work` with
/// HOME, the local and remote temp dirs and an empty ansible.cfg there, the collection on
/// ANSIBLE_COLLECTIONS_PATH, no colors and none of [`UNSET`]; fails the test when ansible-core
/// is missing.
fn ansible(program: &str, work: &Path) -> Command {
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program)).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    });
    assert!(
        on_path,
        "{program} is not on PATH: pip install ansible-core (.ci/run installs it)"
    );
    let config = work.join("ansible.cfg");
    if !config.exists() {
        std::fs::write(&config, "").unwrap();
    }
    for dir in ["home", "local-tmp", "remote-tmp"] {
        std::fs::create_dir_all(work.join(dir)).unwrap();
    }
    let mut cmd = Command::new(program);
    for var in UNSET {
        cmd.env_remove(var);
    }
    cmd.current_dir(work)
        .env("HOME", work.join("home"))
        .env("ANSIBLE_CONFIG", &config)
        .env("ANSIBLE_COLLECTIONS_PATH", collections())
        .env("ANSIBLE_LOCAL_TEMP", work.join("local-tmp"))
        .env("ANSIBLE_REMOTE_TEMP", work.join("remote-tmp"))
        .env("ANSIBLE_HOST_KEY_CHECKING", "True")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "False")
        // One SSH round trip per module instead of three.
        .env("ANSIBLE_PIPELINING", "True")
        // Ansible's default ssh_args less -C: compressing the ~200 MB debug binary the role
        // copies costs more than sending it over loopback.
        .env("ANSIBLE_SSH_ARGS", "-o ControlMaster=auto -o ControlPersist=60s")
        .env("NO_COLOR", "1")
        .env_remove("ANSIBLE_FORCE_COLOR");
    cmd
}

/// The python3 on this machine, as a path (pyenv's shims resolve to the real interpreter).
fn python3() -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What the two paths must agree on for one host check: the outcome's status and kind, its
/// per-host (host, status, kind) in report order, and its findings' (check, host, severity,
/// subject, message) in report order. Left out: durations, and the reasons' wording, which names
/// the transport where a host could not be checked — MAAS006 under a root is `not_available`
/// on both paths, but `preflight facts --root` says "not available with --root DIR" where the
/// SSH recorder says "not available under root DIR on HOST (ADDRESS:PORT)".
#[derive(Debug, PartialEq)]
struct HostCheck {
    status: Value,
    kind: Value,
    hosts: Vec<(Value, Value, Value)>,
    findings: Vec<(Value, Value, Value, Value, Value)>,
}

fn host_check(report: &Value, check: &str) -> HostCheck {
    let outcome = support::outcome_json(report, check);
    let hosts = outcome["hosts"]
        .as_array()
        .unwrap_or_else(|| panic!("{check} has no hosts[]: {outcome}"))
        .iter()
        .map(|h| (h["host"].clone(), h["status"].clone(), h["kind"].clone()))
        .collect();
    let findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .map(|f| {
            (
                f["check"].clone(),
                f["host"].clone(),
                f["severity"].clone(),
                f["subject"].clone(),
                f["message"].clone(),
            )
        })
        .collect();
    HostCheck {
        status: outcome["status"].clone(),
        kind: outcome["kind"].clone(),
        hosts,
        findings,
    }
}

#[test]
fn the_playbook_judges_the_hosts_as_the_ssh_path_does() {
    let started = std::time::Instant::now();
    let sshd = Sshd::start(3);
    // A 20.04 deb region (MAAS 3.5's debs install only on 22.04: a MAAS002 blocker) and two
    // 22.04 racks (snap, deb). maas-rack-2 has no preflight: the role copies the built one over
    // (once: a debug build is some 200 MB), the others have it "installed" (preflight_binary).
    let region = root("20.04", None, Some("1:3.4.2-14353-g.5a5221d57-0ubuntu1~20.04.1"));
    let rack = root("22.04", Some("3.4.2"), None);
    let rack_deb = root("22.04", None, Some("1:3.4.2-14353-g.5a5221d57-0ubuntu1~22.04.1"));
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let copies = w.join("host-tmp");
    std::fs::create_dir(&copies).unwrap();
    let binary = preflight_binary();
    let inventory = w.join("inventory.ini");
    std::fs::write(
        &inventory,
        format!(
            "[region]\n\
             maas-region-1 ansible_port={p0} preflight_root={r0} preflight_binary={bin}\n\n\
             [rack]\n\
             maas-rack-2 ansible_port={p1} preflight_root={r1} preflight_binary=/nonexistent/preflight\n\
             maas-rack-3 ansible_port={p2} preflight_root={r2} preflight_binary={bin}\n\n\
             [controllers:children]\nregion\nrack\n\n\
             [controllers:vars]\n\
             ansible_host=127.0.0.1\n\
             ansible_user=root\n\
             ansible_ssh_private_key_file={key}\n\
             ansible_ssh_common_args='-o UserKnownHostsFile={kh} -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o IdentityAgent=none'\n\
             ansible_python_interpreter={py}\n\
             preflight_remote_tmp={copies}\n\n\
             [all:vars]\n\
             preflight_local_binary={bin}\n",
            p0 = sshd.ports[0],
            p1 = sshd.ports[1],
            p2 = sshd.ports[2],
            r0 = region.path().display(),
            r1 = rack.path().display(),
            r2 = rack_deb.path().display(),
            bin = binary.display(),
            key = sshd.key.display(),
            kh = sshd.known_hosts.display(),
            py = python3(),
            copies = copies.display(),
        ),
    )
    .unwrap();

    // The Ansible path: the collection's playbook, as a user runs it.
    let facts_dir = w.join("facts");
    let report_file = w.join("report.json");
    let out = ansible("ansible-playbook", w)
        .arg("-i")
        .arg(&inventory)
        .arg(collection().join("playbooks/preflight.yml"))
        .args(["-e", "preflight_target=3.5"])
        .arg("-e")
        .arg(format!("preflight_facts_dir={}", facts_dir.display()))
        .arg("-e")
        .arg(format!("preflight_report={}", report_file.display()))
        .output()
        .unwrap();
    let log = format!("{}\n--- sshd\n{}", text(&out), sshd.log());
    assert_eq!(out.status.code(), Some(0), "ansible-playbook failed: {log}");
    let stdout = String::from_utf8_lossy(&out.stdout);

    // One document per host, named by the inventory, of the root the host var gave.
    let mut names: Vec<String> = std::fs::read_dir(&facts_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["maas-rack-2.json", "maas-rack-3.json", "maas-region-1.json"],
        "{log}"
    );
    for (name, dir) in [
        ("maas-region-1", &region),
        ("maas-rack-2", &rack),
        ("maas-rack-3", &rack_deb),
    ] {
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(facts_dir.join(format!("{name}.json"))).unwrap()).unwrap();
        assert_eq!(doc["preflight_facts"], 1, "{doc}");
        assert_eq!(doc["host"], name, "{doc}");
        assert_eq!(doc["root"], dir.path().to_str().unwrap(), "{doc}");
    }
    // The copied binaries are gone again: the hosts are as they were.
    let left: Vec<_> = std::fs::read_dir(&copies).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "the role left {left:?} on the hosts: {log}");
    // The table went to the play's output, then the verdict line.
    assert!(stdout.contains("maas-region-1"), "{log}");
    assert!(stdout.contains("preflight: "), "{log}");
    assert!(
        stdout.contains("blocker MAAS002 maas-region-1: "),
        "the verdict lists the blocker: {log}"
    );

    let by_ansible: Value = serde_json::from_str(&std::fs::read_to_string(&report_file).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}: {log}", report_file.display()));

    // The SSH path: preflight reads the same inventory over the same sshd itself (it takes the
    // key from ansible_ssh_private_key_file; ansible_ssh_common_args is Ansible's, so the same
    // options are given as --ssh-option, as tests/fleet.rs does).
    let ssh_scan = support::preflight(w)
        .env("HOME", w.join("home"))
        .args(["scan", "--target", "maas=3.5", "--format", "json", "--hosts"])
        .arg(&inventory)
        .args(sshd.scan_args())
        .output()
        .unwrap();
    let by_ssh: Value = serde_json::from_slice(&ssh_scan.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n--- sshd\n{}", text(&ssh_scan), sshd.log()));

    for check in HOST_CHECKS {
        let ansible = host_check(&by_ansible, check);
        let ssh = host_check(&by_ssh, check);
        assert_eq!(
            ansible, ssh,
            "{check}: the Ansible path (left) and the SSH path (right) disagree\n--- ansible report\n{by_ansible:#}\n--- ssh report\n{by_ssh:#}"
        );
        assert_eq!(ansible.hosts.len(), 3, "{check}: every host judged: {ansible:?}");
    }
    // The facts differ, so does the verdict per host: the 20.04 deb region is the blocker.
    let maas002 = host_check(&by_ansible, "MAAS002");
    assert_eq!(maas002.status, "fail", "{maas002:?}");
    let statuses: Vec<(&str, &str)> = maas002
        .hosts
        .iter()
        .map(|(h, s, _)| (h.as_str().unwrap(), s.as_str().unwrap()))
        .collect();
    // In the inventory's order on both paths: without the region API there is no upgrade order,
    // hosts are reported in the order given (the playbook passes the documents in play order).
    assert_eq!(
        statuses,
        [
            ("maas-region-1", "fail"),
            ("maas-rack-2", "pass"),
            ("maas-rack-3", "pass")
        ],
        "{maas002:?}"
    );
    // MAAS002's reasons name no transport: they agree word for word.
    let reasons = |report: &Value| -> Vec<Value> {
        let outcome = support::outcome_json(report, "MAAS002");
        outcome["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["reason"].clone())
            .collect()
    };
    assert_eq!(reasons(&by_ansible), reasons(&by_ssh));
    assert_eq!(maas002.findings.len(), 1, "{maas002:?}");
    assert_eq!(maas002.findings[0].1, "maas-region-1");
    assert_eq!(maas002.findings[0].2, "blocker");
    // The whole verdict too (the API checks are undecided alike on both paths), and the play
    // showed it with the scan's exit code.
    assert_eq!(by_ansible["status"], by_ssh["status"]);
    let verdict = format!(
        "preflight: {} (exit {})",
        by_ssh["status"].as_str().unwrap().to_uppercase(),
        ssh_scan.status.code().unwrap()
    );
    assert!(stdout.contains(&verdict), "{verdict}: {log}");
    eprintln!("ansible end to end: {:?}", started.elapsed());
}

/// The module's failures say what went wrong; check mode reads as a normal run does.
#[test]
fn the_module_fails_clearly_and_runs_in_check_mode() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let script = |name: &str, body: &str| {
        let path = w.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    };
    let failing = script("failing", "echo 'preflight: cannot read the root' >&2; exit 3");
    let not_json = script("not-json", "echo 'preflight 0.1.0'");
    let not_doc = script("not-doc", "echo '{\"schema_version\": 1, \"findings\": []}'");
    let image = root("22.04", Some("3.5.1"), None);
    let results = w.join("results.json");
    let playbook = w.join("module.yml");
    std::fs::write(
        &playbook,
        format!(
            r#"- hosts: localhost
  gather_facts: false
  tasks:
    - preflight.upgrade.preflight_facts:
        binary: /nonexistent/preflight
      register: missing_path
      ignore_errors: true
    - preflight.upgrade.preflight_facts:
        binary: preflight-not-on-path
      register: missing_name
      ignore_errors: true
    - preflight.upgrade.preflight_facts:
        binary: {failing}
      register: failing
      ignore_errors: true
    - preflight.upgrade.preflight_facts:
        binary: {not_json}
      register: not_json
      ignore_errors: true
    - preflight.upgrade.preflight_facts:
        binary: {not_doc}
      register: not_doc
      ignore_errors: true
    - preflight.upgrade.preflight_facts:
        binary: {bin}
        root: {root}
        name: image-1
      register: checked
      check_mode: true
    - ansible.builtin.copy:
        content: "{{{{ dict(missing_path=missing_path, missing_name=missing_name, failing=failing, not_json=not_json, not_doc=not_doc, checked=checked, fact=ansible_facts.preflight_facts) | to_json }}}}"
        dest: {results}
"#,
            bin = preflight_binary().display(),
            root = image.path().display(),
            results = results.display(),
        ),
    )
    .unwrap();
    let out = ansible("ansible-playbook", w).arg(&playbook).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let msg = |task: &str| {
        assert_eq!(r[task]["failed"], true, "{task}: {}", r[task]);
        r[task]["msg"].as_str().unwrap().to_string()
    };
    let m = msg("missing_path");
    assert!(m.contains("/nonexistent/preflight does not exist"), "{m}");
    let m = msg("missing_name");
    assert!(m.contains("'preflight-not-on-path' not found on PATH"), "{m}");
    let m = msg("failing");
    assert!(
        m.contains("exited with status 3") && m.contains("cannot read the root"),
        "{m}"
    );
    assert_eq!(r["failing"]["rc"], 3);
    let m = msg("not_json");
    assert!(m.contains("not JSON") && m.contains("preflight 0.1.0"), "{m}");
    let m = msg("not_doc");
    assert!(m.contains("not a preflight facts document"), "{m}");

    let checked = &r["checked"];
    assert_eq!(checked["failed"], false, "{checked}");
    assert_eq!(checked["changed"], false, "read-only: {checked}");
    let doc = &checked["preflight_facts"];
    assert_eq!(doc["host"], "image-1", "{doc}");
    assert_eq!(doc["facts"]["maas"]["snap"]["version"], "3.5.1", "{doc}");
    assert_eq!(r["fact"], *doc, "the same document as a host fact");
}

/// The collection as Ansible's own tools read it: the module compiles, ansible-doc parses the
/// module's DOCUMENTATION/EXAMPLES/RETURN and the role's argument specs, ansible-galaxy builds
/// the collection from galaxy.yml.
#[test]
fn the_collection_documents_itself() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let module = collection().join("plugins/modules/preflight_facts.py");
    // compile() as py_compile does, without writing __pycache__ into the collection.
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
        ])
        .arg(&module)
        .output()
        .unwrap();
    assert!(out.status.success(), "the module does not compile: {}", text(&out));

    let out = ansible("ansible-doc", w)
        .args(["--json", "-t", "module", "preflight.upgrade.preflight_facts"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let doc = &doc["preflight.upgrade.preflight_facts"];
    let options = doc["doc"]["options"].as_object().unwrap();
    let mut names: Vec<&str> = options.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["binary", "name", "root", "timeout"], "{doc}");
    assert_eq!(options["binary"]["default"], "preflight");
    assert!(doc["examples"]
        .as_str()
        .is_some_and(|e| e.contains("preflight.upgrade.preflight_facts")));
    assert!(doc["return"]["preflight_facts"].is_object(), "{doc}");

    let out = ansible("ansible-doc", w)
        .args(["--json", "-t", "role", "preflight.upgrade.preflight_facts"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let role: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let options = &role["preflight.upgrade.preflight_facts"]["entry_points"]["main"]["options"];
    for var in [
        "preflight_binary",
        "preflight_local_binary",
        "preflight_facts_dir",
        "preflight_root",
        "preflight_remote_tmp",
        "preflight_facts_timeout",
    ] {
        assert!(
            options[var].is_object(),
            "{var} is not in the role's argument specs: {role}"
        );
    }

    // Every variable the role and the playbook read is documented in the collection's README.
    let readme = std::fs::read_to_string(collection().join("README.md")).unwrap();
    for var in options.as_object().unwrap().keys().map(String::as_str).chain([
        "preflight_hosts",
        "preflight_target",
        "preflight_scan_args",
        "preflight_scan_binary",
        "preflight_report",
        "preflight_fail_on_unknown",
    ]) {
        assert!(
            readme.contains(&format!("| `{var}` |")),
            "README.md does not document {var}"
        );
    }

    let out = ansible("ansible-galaxy", w)
        .args(["collection", "build", "--output-path"])
        .arg(w)
        .arg(collection())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // The collection ships with preflight: its version is the crate's.
    let artifact = w.join(format!("preflight-upgrade-{}.tar.gz", env!("CARGO_PKG_VERSION")));
    assert!(artifact.exists(), "{}", text(&out));
}

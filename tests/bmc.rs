//! `preflight bmc --input`: the planted truth of a generated fleet, and malformed input.

mod support;

use std::io::Write;
use std::process::{Command as Std, Stdio};

use assert_cmd::Command;
use mocks::fleet::Fleet;
use predicates::prelude::*;
use preflight::report::{Report, Severity};
use serde_json::Value;

struct Files {
    dir: tempfile::TempDir,
    fleet: Fleet,
}

fn fleet(machines: usize, seed: u64) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::generate(machines, seed);
    std::fs::write(dir.path().join("power-parameters.json"), fleet.power_parameters_json()).unwrap();
    std::fs::write(dir.path().join("machines.json"), fleet.machines_json()).unwrap();
    Files { dir, fleet }
}

/// `preflight` run in the system's temp dir with none of the variables it reads.
fn preflight() -> Command {
    support::preflight(std::env::temp_dir())
}

/// The detector's groups of `check` at `severity` in a JSON report.
fn groups(report: &Value, check: &str, severity: Severity) -> Vec<Vec<String>> {
    let report: Report = serde_json::from_value(report.clone()).expect("the JSON report is a Report");
    support::groups(&report, check, severity)
}

fn run(args: &[&str]) -> (Option<i32>, Value) {
    let out = preflight().args(args).output().unwrap();
    let report =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report)
}

#[test]
fn a_real_size_machine_list_file_is_read_in_place_with_the_same_answer() {
    // 1,200 upstream-shaped machines pretty-printed like MAAS: about 20 MB, past the size from
    // which files are mapped and read in place.
    let f = fleet(1_200, 9);
    let input = f.dir.path().join("power-parameters.json");
    let machines = f.dir.path().join("machines-real.json");
    let real = f.fleet.machines_json_real();
    assert!(real.len() as u64 >= preflight::systems::maas::bmc::pieces::MAP_FROM_BYTES);
    std::fs::write(&machines, &real).unwrap();
    let args = |list: &std::path::Path| {
        [
            "bmc".to_string(),
            "--input".into(),
            input.display().to_string(),
            "--machines".into(),
            list.display().to_string(),
            "--format".into(),
            "json".into(),
        ]
    };
    let (code, report) = run(&args(&machines).each_ref().map(String::as_str));
    assert_eq!(code, Some(2));
    assert_eq!(groups(&report, "MAAS004", Severity::Blocker), f.fleet.truth.collisions);
    assert_eq!(
        groups(&report, "MAAS005", Severity::Warning),
        f.fleet.truth.shared_addresses
    );
    // The same list cut short: the error a stream gives, exit 3.
    std::fs::write(&machines, &real.as_bytes()[..real.len() - 3]).unwrap();
    let (code, report) = run(&args(&machines).each_ref().map(String::as_str));
    assert_eq!(code, Some(3));
    let text = report.to_string();
    assert!(text.contains("the machine list is truncated at byte"), "{text}");
}

#[test]
fn input_with_machine_list_finds_exactly_the_planted_groups() {
    let f = fleet(10_000, 42);
    let input = f.dir.path().join("power-parameters.json");
    let machines = f.dir.path().join("machines.json");
    let (code, report) = run(&[
        "bmc",
        "--input",
        input.to_str().unwrap(),
        "--machines",
        machines.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(2));
    assert_eq!(groups(&report, "MAAS004", Severity::Blocker), f.fleet.truth.collisions);
    assert_eq!(
        groups(&report, "MAAS005", Severity::Warning),
        f.fleet.truth.shared_addresses
    );
    let first = support::finding_json(&report, "MAAS004");
    assert!(
        first["evidence"]["hostnames"][0].as_str().unwrap().contains('-'),
        "hostnames joined from the machine list"
    );
}

#[test]
fn input_alone_infers_types_and_says_so() {
    let f = fleet(10_000, 43);
    let input = f.dir.path().join("power-parameters.json");
    let (code, report) = run(&["bmc", "--input", input.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, Some(2));
    assert_eq!(groups(&report, "MAAS004", Severity::Blocker), f.fleet.truth.collisions);
    assert_eq!(
        groups(&report, "MAAS005", Severity::Warning),
        f.fleet.truth.shared_addresses
    );
    let infos: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "info")
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    // apc PDUs (node_outlet is shared by three drivers) and manual maps cannot be typed.
    assert_eq!(infos, vec!["inferred power types", "unknown power types"]);
}

#[test]
fn reads_standard_input() {
    let f = fleet(2_000, 44);
    let body = std::fs::read(f.dir.path().join("power-parameters.json")).unwrap();
    let out = preflight()
        .args(["bmc", "--input", "-", "--format", "json"])
        .write_stdin(body)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(groups(&report, "MAAS004", Severity::Blocker), f.fleet.truth.collisions);
}

#[rstest::rstest]
#[case::not_an_object(b"[1, 2, 3]".to_vec(), "instead of '{'")]
#[case::truncated(br#"{"abc123": {"power_address": "10.0.0.1", "power_user": "ad"#.to_vec(), "truncated")]
#[case::value_not_an_object(br#"{"abc123": 42}"#.to_vec(), "machine 'abc123'")]
#[case::not_utf8(b"{\"abc123\": {\"power_user\": \"\xc3\x28\"}}".to_vec(), "machine 'abc123'")]
#[case::html(b"<html><title>502</title></html>".to_vec(), "instead of '{'")]
fn malformed_input_is_exit_3_with_the_cause(#[case] body: Vec<u8>, #[case] says: &str) {
    preflight()
        .args(["bmc", "--input", "-", "--format", "nagios"])
        .write_stdin(body)
        .assert()
        .code(3)
        .stdout(predicate::str::starts_with("PREFLIGHT UNKNOWN"))
        .stdout(predicate::str::contains(says));
}

/// 0290 removes nothing from a power type its table does not name (`defaultdict(set)`), so
/// BMCs of a type preflight does not know cannot collide: an info note, not a failure.
#[test]
fn given_power_types_0290_does_not_name_cannot_collide() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("p.json");
    let machines = dir.path().join("m.json");
    std::fs::write(&input, r#"{"aaa111": {"power_address": "10.0.0.1", "power_pass": "x"}, "bbb222": {"power_address": "10.0.0.1", "power_pass": "y"}}"#).unwrap();
    std::fs::write(&machines, r#"[{"system_id": "aaa111", "hostname": "a", "power_type": "frobnicator"}, {"system_id": "bbb222", "hostname": "b", "power_type": "frobnicator"}]"#).unwrap();
    preflight()
        .args(["bmc", "--input"])
        .arg(&input)
        .arg("--machines")
        .arg(&machines)
        .args(["--format", "json"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("frobnicator"))
        .stdout(predicate::str::contains("cannot collide"));
}

/// A machine the machine list does not name, whose keys name no single driver, could be of
/// any type: not compared, exit 3.
#[test]
fn machines_without_any_power_type_are_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("p.json");
    let machines = dir.path().join("m.json");
    std::fs::write(&input, r#"{"aaa111": {"power_address": "10.0.0.1", "power_pass": "x"}, "bbb222": {"power_address": "10.0.0.1", "power_pass": "y"}}"#).unwrap();
    std::fs::write(
        &machines,
        r#"[{"system_id": "aaa111", "hostname": "a", "power_type": "ipmi"}]"#,
    )
    .unwrap();
    preflight()
        .args(["bmc", "--input"])
        .arg(&input)
        .arg("--machines")
        .arg(&machines)
        .args(["--format", "nagios"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("bbb222"))
        .stdout(predicate::str::contains("not compared"));
}

/// The two files swapped (the machine list as --input, the power parameters as --machines):
/// exit 3, and the error says which file goes where.
#[test]
fn swapped_files_are_exit_3_saying_which_goes_where() {
    let f = fleet(50, 4);
    let (power, list) = (
        f.dir.path().join("power-parameters.json"),
        f.dir.path().join("machines.json"),
    );
    for (input, machines) in [(&list, None), (&list, Some(&power)), (&power, Some(&power))] {
        let mut cmd = preflight();
        cmd.args(["bmc", "--format", "nagios", "--input"]).arg(input);
        if let Some(m) = machines {
            cmd.arg("--machines").arg(m);
        }
        cmd.assert()
            .code(3)
            .stdout(predicate::str::starts_with("PREFLIGHT UNKNOWN"))
            .stdout(predicate::str::contains("were the two files swapped?"))
            .stdout(predicate::str::contains("machines power-parameters` goes to --input"));
    }
    // The same words on standard input.
    preflight()
        .args(["bmc", "--input", "-", "--format", "nagios"])
        .write_stdin(f.fleet.machines_json())
        .assert()
        .code(3)
        .stdout(predicate::str::contains("were the two files swapped?"));
}

#[test]
fn missing_file_and_bad_machine_list_are_exit_3() {
    preflight()
        .args(["bmc", "--input", "/nonexistent/power.json"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("/nonexistent/power.json"));
    let dir = tempfile::tempdir().unwrap();
    let machines = dir.path().join("m.json");
    std::fs::write(&machines, "{}").unwrap();
    preflight()
        .args(["bmc", "--input", "-", "--machines"])
        .arg(&machines)
        .write_stdin("{}")
        .assert()
        .code(3)
        .stdout(predicate::str::contains("machines read"));
}

#[test]
fn two_gib_of_whitespace_is_a_clear_error_in_bounded_memory() {
    // Address space capped at 1 GiB: buffering the input would abort instead of exiting 3.
    let bin = assert_cmd::cargo::cargo_bin("preflight");
    let mut child = Std::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 1048576 && exec '{}' bmc --input - --format nagios",
            bin.display()
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let block = vec![b' '; 1 << 20];
        for _ in 0..2048 {
            if stdin.write_all(&block).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("only whitespace"), "{stdout}");
}

#[test]
fn a_source_is_required_and_dsn_passwords_are_refused() {
    preflight()
        .arg("bmc")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--input"));
    preflight()
        .args(["bmc", "--database", "postgresql://maas:s3cret@db/maasdb"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("holds a password"))
        .stderr(predicate::str::contains("s3cret").not());
}

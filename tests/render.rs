//! Snapshot tests of every renderer on one fixed report.

use std::collections::BTreeMap;

use preflight::render::{render, Context, Format};
use preflight::report::{ErrorKind, Evidence, OutcomeStatus, Report, Severity};
use preflight::systems::find_check as find;
use preflight::systems::maas::bmc::evidence::BmcEvidence;

fn report() -> Report {
    let dup = find("MAAS004").unwrap();
    let skew = find("MAAS007").unwrap();
    let pg = find("MAAS003").unwrap();
    let host = find("MAAS002").unwrap();
    let evidence = BmcEvidence {
        bmc_count: 2,
        bmc_ids: None,
        controllers: None,
        hostnames: vec![Some("node-1".into()), Some("node-2".into())],
        pods: None,
        power_address: "10.0.0.5".into(),
        power_type: vec!["ipmi".into()],
        power_user: "admin".into(),
        system_ids: vec!["abc123".into(), "def456".into()],
    };
    let findings = vec![
        dup.finding(
            Severity::Blocker,
            "ipmi BMC 10.0.0.5 user admin",
            "2 machines on 2 different ipmi BMCs differ only in the password.",
            evidence,
        ),
        skew.finding(
            Severity::Warning,
            "region and rack controllers",
            "Controllers run 2 different versions (3.2.8, 3.2.9).",
            Evidence::default(),
        ),
    ];
    let mut refused = pg.outcome(
        OutcomeStatus::Error,
        Some("cannot connect to PostgreSQL at db:5432/maasdb as maas: connection refused | retry".into()),
    );
    refused.kind = Some(ErrorKind::Unreachable);
    let outcomes = vec![
        dup.outcome(OutcomeStatus::Fail, Some("1 finding".into())),
        skew.outcome(OutcomeStatus::Fail, Some("1 finding".into())),
        refused,
        host.outcome(
            OutcomeStatus::Skipped,
            Some("MAAS is not installed on this host".into()),
        ),
    ];
    let mut r = Report::new(
        BTreeMap::from([("maas".to_string(), "3.5".to_string())]),
        findings,
        outcomes,
        42,
    );
    r.preflight_version = "0.0.0-test".into();
    r
}

#[test]
fn table() {
    insta::assert_snapshot!(render(&report(), Format::Table, &Context::default()));
}

#[test]
fn json() {
    insta::assert_snapshot!(render(&report(), Format::Json, &Context::default()));
}

#[test]
fn nagios() {
    let text = render(&report(), Format::Nagios, &Context::default());
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "PREFLIGHT CRITICAL - 1 blocker, 1 warning, 1 check could not run"
    );
    assert!(first.len() <= 80, "status line within 80 characters");
    let last = text.lines().last().unwrap();
    assert_eq!(
        last, "| blockers=1;;0;0 warnings=1;0;;0 checks=4;;;0 errors=1;;;0",
        "perfdata that does not fit the status line follows the long text"
    );
    let long: Vec<&str> = text.lines().skip(1).filter(|l| *l != last).collect();
    assert!(!long.iter().any(|l| l.contains('|')), "no pipe in long text");
    insta::assert_snapshot!(text);
}

#[test]
fn every_renderer_names_the_kind_of_an_error() {
    let r = report();
    let table = render(&r, Format::Table, &Context::default());
    assert!(table.contains("ERROR (unreachable)"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json, &Context::default())).unwrap();
    let pg = json["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["check"] == "MAAS003")
        .unwrap();
    assert_eq!(pg["kind"], "unreachable");
    let others = json["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["check"] != "MAAS003");
    assert!(
        others.clone().all(|o| o.get("kind").is_none()),
        "no kind where nothing failed"
    );
    let junit = render(&r, Format::Junit, &Context::default());
    assert!(junit.contains(r#"type="unreachable""#), "{junit}");
    let sarif: serde_json::Value = serde_json::from_str(&render(&r, Format::Sarif, &Context::default())).unwrap();
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["properties"]["kind"],
        "unreachable"
    );
    let prometheus = render(&r, Format::Prometheus, &Context::default());
    assert!(
        prometheus.contains(r#"preflight_check_error{system="postgresql",check="MAAS003",kind="unreachable"} 1"#),
        "{prometheus}"
    );
}

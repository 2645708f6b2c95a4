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

/// A host check over three hosts: one passed, one found a blocker, one could not be reached.
fn fleet_report() -> Report {
    use preflight::report::HostOutcome;
    let host = find("MAAS002").unwrap();
    let mut blocker = host.finding(
        Severity::Blocker,
        "region-2",
        "region-2 runs Ubuntu 20.04 (focal); the MAAS 3.5 deb packages install only on Ubuntu 22.04 (jammy).",
        Evidence::default(),
    );
    blocker.host = Some("region-2".into());
    let mut outcome = host.outcome(OutcomeStatus::Error, Some("1 host could not be checked".into()));
    outcome.kind = Some(ErrorKind::Unreachable);
    let on = |name: &str, status, reason: &str, kind| HostOutcome {
        host: name.into(),
        status,
        reason: Some(reason.into()),
        kind,
    };
    outcome.hosts = vec![
        on(
            "rack-1",
            OutcomeStatus::Pass,
            "Ubuntu 22.04 (jammy) ≥ 22.04 for MAAS 3.5",
            None,
        ),
        on("region-2", OutcomeStatus::Fail, "1 finding", None),
        on(
            "region-3",
            OutcomeStatus::Error,
            "region-3 (10.0.0.3): connection refused",
            Some(ErrorKind::Unreachable),
        ),
    ];
    let mut r = Report::new(
        BTreeMap::from([("maas".to_string(), "3.5".to_string())]),
        vec![blocker],
        vec![outcome],
        7,
    );
    r.preflight_version = "0.0.0-test".into();
    r
}

#[test]
fn every_renderer_names_the_host() {
    let r = fleet_report();
    let table = render(&r, Format::Table, &Context::default());
    let matrix: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("rack-1") || l.contains("region-"))
        .collect();
    assert!(
        matrix.iter().any(|l| l.contains("rack-1") && l.contains('✓')),
        "{table}"
    );
    assert!(
        matrix.iter().any(|l| l.contains("region-2") && l.contains('✗')),
        "{table}"
    );
    assert!(
        matrix.iter().any(|l| l.contains("region-3") && l.contains('!')),
        "{table}"
    );
    assert!(
        table.contains("! region-3 MAAS002: region-3 (10.0.0.3): connection refused"),
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json, &Context::default())).unwrap();
    assert_eq!(json["findings"][0]["host"], "region-2");
    assert_eq!(json["outcomes"][0]["hosts"][2]["kind"], "unreachable");
    let junit = render(&r, Format::Junit, &Context::default());
    for case in [
        r#"name="MAAS002 on rack-1""#,
        r#"name="MAAS002 region-2""#,
        r#"name="MAAS002 on region-3""#,
    ] {
        assert!(junit.contains(case), "{case}: {junit}");
    }
    let sarif: serde_json::Value = serde_json::from_str(&render(&r, Format::Sarif, &Context::default())).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["properties"]["host"], "region-2");
    let html = render(&r, Format::Html, &Context::default());
    assert!(html.contains(r#"id="matrix""#), "the page has the host × check matrix");
    for host in ["rack-1", "region-2", "region-3"] {
        assert!(html.contains(host), "{host}");
    }
    assert!(html.contains("✓") && html.contains("✗"), "the matrix marks");
    let prometheus = render(&r, Format::Prometheus, &Context::default());
    for line in [
        r#"preflight_host_check_status{system="host",check="MAAS002",host="rack-1",status="pass"} 1"#,
        r#"preflight_host_check_status{system="host",check="MAAS002",host="region-3",status="error"} 1"#,
        r#"preflight_host_findings{system="host",check="MAAS002",host="region-2",severity="blocker"} 1"#,
    ] {
        assert!(prometheus.contains(line), "{line}: {prometheus}");
    }
}

//! The PostgreSQL probe against a real server: the throw-away cluster scripts/test starts.

mod support;

use preflight::engine::{self, Scan};
use preflight::probe::host::{HostSource, RecordedHost};
use preflight::probe::postgres::{begin_read_only, Migration0290, PgTarget};
use preflight::report::{OutcomeStatus, Status};
use support::{
    config_from_env, config_from_toml, database_url, outcome, scan_without_host, test_database_url,
};
use tokio_postgres::{Client, NoTls};

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("test cluster reachable");
    tokio::spawn(connection);
    client
}

/// A fresh database `name` (dropped first if a previous run left it).
async fn fresh_database(name: &str) -> Client {
    let admin = connect(&test_database_url()).await;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    connect(&database_url(name)).await
}

async fn ensure_role(role: &str) {
    let admin = connect(&test_database_url()).await;
    admin
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ))
        .await
        .unwrap();
}

fn target_for(url: &str) -> PgTarget {
    let config = config_from_env(&[("DATABASE_URL", url)], &[]);
    PgTarget::resolve(&config, None)
        .unwrap()
        .expect("a DSN was given")
}

#[tokio::test]
async fn reads_the_server_version() {
    let db = fresh_database("pf_version").await;
    let expected: String = db
        .query_one("SHOW server_version_num", &[])
        .await
        .unwrap()
        .get(0);
    let facts = target_for(&database_url("pf_version"))
        .probe(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(facts.server_version_num.to_string(), expected);
    assert!(facts.major() >= 12);
    assert_eq!(facts.database, "pf_version");
    assert_eq!(facts.owner, "postgres");
    assert!(
        !facts.endpoint.contains("preflight-test-secret"),
        "{}",
        facts.endpoint
    );
}

#[tokio::test]
async fn every_probe_transaction_is_read_only() {
    fresh_database("pf_readonly").await;
    let mut client = target_for(&database_url("pf_readonly"))
        .connect(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let tx = begin_read_only(&mut client).await.unwrap();
    let ro: String = tx
        .query_one("SHOW transaction_read_only", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(ro, "on");
    let err = tx
        .batch_execute("CREATE TABLE preflight_must_not_write (i int)")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION)
    );
}

#[tokio::test]
async fn detects_migration_0290() {
    let db = fresh_database("pf_0290").await;
    let target = target_for(&database_url("pf_0290"));
    let probe = || async {
        target
            .probe(std::time::Duration::from_secs(5))
            .await
            .unwrap()
            .migration_0290
    };
    assert_eq!(probe().await, Migration0290::NoMigrationTable);
    db.batch_execute(
        "CREATE TABLE django_migrations (id serial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamptz NOT NULL DEFAULT now());
         INSERT INTO django_migrations (app, name) VALUES ('maasserver', '0289_vault_secret'), ('metadataserver', '0290_migrate_node_power_parameters');",
    )
    .await
    .unwrap();
    assert_eq!(probe().await, Migration0290::NotApplied);
    db.batch_execute("INSERT INTO django_migrations (app, name) VALUES ('maasserver', '0290_migrate_node_power_parameters')")
        .await
        .unwrap();
    assert_eq!(probe().await, Migration0290::Applied);
}

#[tokio::test]
async fn database_owner_check() {
    let db = fresh_database("pf_owner").await;
    drop(db);
    ensure_role("pf_maas").await;
    let toml = "[postgresql]\nmaas_role = \"pf_maas\"\n";
    let url = database_url("pf_owner");
    let run = || async {
        let config = config_from_toml(toml, &[("DATABASE_URL", &url)], &["maas=3.5"]);
        engine::run(&scan_without_host(config)).await
    };
    let report = run().await;
    let owner = outcome(&report, "MAAS008");
    assert_eq!(owner.status, OutcomeStatus::Fail);
    let finding = report
        .findings
        .iter()
        .find(|f| f.check == "MAAS008")
        .unwrap();
    assert_eq!(finding.evidence["owner"], "postgres");
    assert_eq!(finding.evidence["maas_role"], "pf_maas");
    assert_eq!(report.status, Status::Critical);
    assert_eq!(
        outcome(&report, "MAAS003").status,
        OutcomeStatus::Pass,
        "PostgreSQL ≥ 14 meets 3.5"
    );

    connect(&test_database_url())
        .await
        .batch_execute("ALTER DATABASE pf_owner OWNER TO pf_maas")
        .await
        .unwrap();
    let report = run().await;
    assert_eq!(outcome(&report, "MAAS008").status, OutcomeStatus::Pass);

    // Below 3.5 the owner does not matter.
    let config = config_from_toml(toml, &[("DATABASE_URL", &url)], &["maas=3.4"]);
    let report = engine::run(&scan_without_host(config)).await;
    assert_eq!(outcome(&report, "MAAS008").status, OutcomeStatus::Skipped);
}

#[tokio::test]
async fn wrong_password_is_an_error_that_does_not_leak_it() {
    let base = test_database_url();
    let wrong = base.replace("preflight-test-secret", "Wr0ngPassw0rdXYZ");
    let config = config_from_env(&[("DATABASE_URL", &wrong)], &["maas=3.5"]);
    let report = engine::run(&scan_without_host(config)).await;
    let o = outcome(&report, "MAAS003");
    assert_eq!(o.status, OutcomeStatus::Error);
    let reason = o.reason.clone().unwrap();
    assert!(
        reason.contains("password authentication failed"),
        "{reason}"
    );
    assert!(reason.contains("127.0.0.1"), "{reason}");
    let json = preflight::render::json::render(&report);
    for secret in ["Wr0ngPassw0rdXYZ", "preflight-test-secret"] {
        assert!(!json.contains(secret));
    }
    assert_eq!(report.status, Status::Unknown);
}

#[tokio::test]
async fn missing_database_is_named() {
    let config = config_from_env(
        &[("DATABASE_URL", &database_url("pf_does_not_exist"))],
        &["maas=3.5"],
    );
    let report = engine::run(&scan_without_host(config)).await;
    let reason = outcome(&report, "MAAS003").reason.clone().unwrap();
    assert!(
        reason.contains("pf_does_not_exist") && reason.contains("does not exist"),
        "{reason}"
    );
}

#[tokio::test]
async fn discovers_the_database_from_regiond_conf() {
    fresh_database("pf_regiond").await;
    let url = test_database_url();
    let port = url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut host = RecordedHost::default();
    host.files.insert(
        "/etc/os-release".into(),
        "ID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n".into(),
    );
    host.commands.insert(
        "dpkg-query -W -f=${Version} maas-region-api".into(),
        (0, "1:3.4.10-0ubuntu1".into()),
    );
    host.files.insert(
        "/etc/maas/regiond.conf".into(),
        format!("database_host: 127.0.0.1\ndatabase_port: {port}\ndatabase_name: pf_regiond\ndatabase_user: postgres\ndatabase_pass: preflight-test-secret\nmaas_url: http://localhost:5240/MAAS\n"),
    );
    let scan = Scan {
        config: config_from_env(&[], &["maas=3.5"]),
        host: HostSource::Recorded(host),
        postgres: None,
    };
    let report = engine::run(&scan).await;
    assert_eq!(
        outcome(&report, "MAAS003").status,
        OutcomeStatus::Pass,
        "{:?}",
        outcome(&report, "MAAS003")
    );
    assert_eq!(outcome(&report, "MAAS002").status, OutcomeStatus::Pass);
    // The deb's version (3.4.10) says 0290 already ran.
    assert_eq!(outcome(&report, "MAAS004").status, OutcomeStatus::Pass);
    // Owned by postgres, but regiond.conf says MAAS connects as postgres: fine.
    assert_eq!(outcome(&report, "MAAS008").status, OutcomeStatus::Pass);
}

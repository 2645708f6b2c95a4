//! The PostgreSQL probe against a real server: the throw-away cluster scripts/test starts.

mod support;

use preflight::engine::{self, Scan};
use preflight::host::{HostSource, RecordedHost};
use preflight::report::{ErrorKind, OutcomeStatus, Status};
use preflight::systems::maas::facts::Migration0290;
use preflight::systems::maas::probe_postgres::{begin_read_only, PgTarget};
use support::{
    config_from_env, config_from_toml, connect, database_url, fresh_database, outcome, scan_without_host,
    test_database_url,
};
use tokio_postgres::Client;

async fn ensure_role(role: &str) {
    let admin = connect(&test_database_url()).await;
    admin
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ))
        .await
        .unwrap();
}

/// Asserts that a write through `client` fails as read-only (SQLSTATE 25006).
async fn assert_refuses_writes(client: &impl tokio_postgres::GenericClient) {
    let err = client
        .batch_execute("CREATE TABLE preflight_must_not_write (i int)")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION)
    );
}

fn target_for(url: &str) -> PgTarget {
    let config = config_from_env(&[("DATABASE_URL", url)], &[]);
    PgTarget::resolve(&config, None).unwrap().expect("a DSN was given")
}

#[tokio::test]
async fn reads_the_server_version() {
    let db = fresh_database("pf_version").await;
    let expected: String = db.query_one("SHOW server_version_num", &[]).await.unwrap().get(0);
    let facts = target_for(&database_url("pf_version"))
        .probe(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(facts.server_version_num.to_string(), expected);
    assert!(facts.major() >= 12);
    assert_eq!(facts.database, "pf_version");
    assert_eq!(facts.owner, "postgres");
    assert!(!facts.endpoint.contains("preflight-test-secret"), "{}", facts.endpoint);
}

#[tokio::test]
async fn every_probe_transaction_is_read_only() {
    fresh_database("pf_readonly").await;
    let mut client = target_for(&database_url("pf_readonly"))
        .connect(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let tx = begin_read_only(&mut client).await.unwrap();
    let ro: String = tx.query_one("SHOW transaction_read_only", &[]).await.unwrap().get(0);
    assert_eq!(ro, "on");
    assert_refuses_writes(&tx).await;
}

#[tokio::test]
async fn sessions_refuse_writes_even_outside_a_transaction() {
    fresh_database("pf_session_ro").await;
    let client = target_for(&database_url("pf_session_ro"))
        .connect(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let ro: String = client
        .query_one("SHOW default_transaction_read_only", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(ro, "on");
    assert_refuses_writes(&client).await;
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
    db.batch_execute(
        "INSERT INTO django_migrations (app, name) VALUES ('maasserver', '0290_migrate_node_power_parameters')",
    )
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
        let mut config = config_from_toml(toml, &[("DATABASE_URL", &url)], &["maas=3.5"]);
        // Room for a loaded machine: this test is about the owner, not about timeouts.
        config.timeout = std::time::Duration::from_secs(30);
        engine::run(&scan_without_host(config)).await
    };
    let report = run().await;
    let owner = outcome(&report, "MAAS008");
    assert_eq!(owner.status, OutcomeStatus::Fail);
    let finding = report.findings.iter().find(|f| f.check == "MAAS008").unwrap();
    assert_eq!(finding.evidence.to_map()["owner"], "postgres");
    assert_eq!(finding.evidence.to_map()["maas_role"], "pf_maas");
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
    assert!(reason.contains("password authentication failed"), "{reason}");
    assert!(reason.contains("127.0.0.1"), "{reason}");
    assert_eq!(o.kind, Some(ErrorKind::Auth), "a refused password is auth");
    let json = preflight::render::json::render(&report);
    for secret in ["Wr0ngPassw0rdXYZ", "preflight-test-secret"] {
        assert!(!json.contains(secret));
    }
    assert_eq!(report.status, Status::Unknown);
}

#[tokio::test]
async fn missing_database_is_named() {
    let config = config_from_env(&[("DATABASE_URL", &database_url("pf_does_not_exist"))], &["maas=3.5"]);
    let report = engine::run(&scan_without_host(config)).await;
    let reason = outcome(&report, "MAAS003").reason.clone().unwrap();
    assert!(
        reason.contains("pf_does_not_exist") && reason.contains("does not exist"),
        "{reason}"
    );
    assert_eq!(outcome(&report, "MAAS003").kind, Some(ErrorKind::NotFound));
}

#[tokio::test]
async fn a_role_that_may_not_read_the_tables_is_forbidden() {
    let db = fresh_database("pf_forbidden").await;
    db.batch_execute(MAAS_SCHEMA).await.unwrap();
    let admin = connect(&test_database_url()).await;
    admin
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE pf_reader LOGIN PASSWORD 'pf-reader-pw'; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
        .await
        .unwrap();
    let base = database_url("pf_forbidden");
    let url = base.replacen("postgres:preflight-test-secret@", "pf_reader:pf-reader-pw@", 1);
    assert_ne!(url, base, "the test cluster's URL names postgres and its password");
    let report = bmc_report(&url).await;
    let o = outcome(&report, "MAAS004");
    assert_eq!(o.status, OutcomeStatus::Error);
    assert!(o.reason.as_deref().unwrap().contains("permission denied"), "{o:?}");
    assert_eq!(o.kind, Some(ErrorKind::Forbidden), "{o:?}");
    let json = preflight::render::json::render(&report);
    assert!(json.contains("\"kind\": \"forbidden\""), "{json}");
}

#[tokio::test]
async fn discovers_the_database_from_regiond_conf() {
    let db = fresh_database("pf_regiond").await;
    db.batch_execute(MAAS_SCHEMA).await.unwrap();
    db.batch_execute(
        "INSERT INTO django_migrations (app, name) VALUES ('maasserver', '0290_migrate_node_power_parameters')",
    )
    .await
    .unwrap();
    let host = support::region_host("1:3.4.10-0ubuntu1", "pf_regiond");
    let scan = Scan::new(config_from_env(&[], &["maas=3.5"]), HostSource::Recorded(host));
    let report = engine::run(&scan).await;
    assert_eq!(
        outcome(&report, "MAAS003").status,
        OutcomeStatus::Pass,
        "{:?}",
        outcome(&report, "MAAS003")
    );
    assert_eq!(outcome(&report, "MAAS002").status, OutcomeStatus::Pass);
    // The database's django_migrations (not the deb's 3.4.10) says 0290 already ran.
    let maas004 = outcome(&report, "MAAS004");
    assert_eq!(maas004.status, OutcomeStatus::Pass);
    assert!(
        maas004.reason.as_deref().unwrap().contains("django_migrations"),
        "{maas004:?}"
    );
    assert_eq!(outcome(&report, "MAAS009").status, OutcomeStatus::Pass);
    // Owned by postgres, but regiond.conf says MAAS connects as postgres: fine.
    assert_eq!(outcome(&report, "MAAS008").status, OutcomeStatus::Pass);
}

/// The MAAS tables `preflight bmc --database` reads, with the real unique index (FACTS §1.2).
const MAAS_SCHEMA: &str = "
    CREATE TABLE django_migrations (id serial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamptz NOT NULL DEFAULT now());
    CREATE TABLE maasserver_bmc (
        id integer PRIMARY KEY, created timestamptz NOT NULL DEFAULT now(), updated timestamptz NOT NULL DEFAULT now(),
        power_type varchar(10) NOT NULL, power_parameters jsonb NOT NULL, bmc_type integer NOT NULL DEFAULT 0,
        name varchar(255) NOT NULL DEFAULT '');
    CREATE UNIQUE INDEX maasserver_bmc_power_type_parameters_idx ON maasserver_bmc (power_type, md5(power_parameters::text)) WHERE power_type <> 'manual';
    CREATE TABLE maasserver_node (id serial PRIMARY KEY, system_id varchar(41) NOT NULL UNIQUE, hostname varchar(255) NOT NULL,
        node_type integer NOT NULL DEFAULT 0, bmc_id integer REFERENCES maasserver_bmc (id));
";

/// Loads `fleet` as BMC rows (pods included) and nodes into a fresh database `name`.
async fn load_fleet(name: &str, fleet: &mocks::fleet::Fleet) -> Client {
    let db = fresh_database(name).await;
    db.batch_execute(MAAS_SCHEMA).await.unwrap();
    let (rows, machine_bmc) = fleet.bmc_rows();
    let rows_json: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::json!({"id": r.id, "bmc_type": r.bmc_type, "power_type": r.power_type, "name": r.name, "power_parameters": r.params}))
        .collect();
    db.execute(
        "INSERT INTO maasserver_bmc (id, bmc_type, power_type, name, power_parameters)
         SELECT id, bmc_type, power_type, name, power_parameters
           FROM jsonb_to_recordset(($1::text)::jsonb) AS r(id int, bmc_type int, power_type text, name text, power_parameters jsonb)",
        &[&serde_json::Value::Array(rows_json).to_string()],
    )
    .await
    .unwrap();
    let nodes: Vec<serde_json::Value> = fleet
        .machines
        .iter()
        .zip(&machine_bmc)
        .map(|(m, bmc)| serde_json::json!({"system_id": m.system_id, "hostname": m.hostname, "bmc_id": bmc}))
        .collect();
    db.execute(
        "INSERT INTO maasserver_node (system_id, hostname, bmc_id)
         SELECT system_id, hostname, bmc_id FROM jsonb_to_recordset(($1::text)::jsonb) AS r(system_id text, hostname text, bmc_id int)",
        &[&serde_json::Value::Array(nodes).to_string()],
    )
    .await
    .unwrap();
    db
}

async fn bmc_report(url: &str) -> preflight::report::Report {
    let config = config_from_env(&[("DATABASE_URL", url)], &[]);
    let host = HostSource::Recorded(RecordedHost::default());
    engine::run_bmc(&config, &engine::BmcSource::Database, &host).await
}

fn sorted(values: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = values
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn database_mode_finds_the_planted_groups_and_postgresql_agrees() {
    let fleet = mocks::fleet::Fleet::generate(10_000, 42);
    let db = load_fleet("pf_bmc_truth", &fleet).await;
    let report = bmc_report(&database_url("pf_bmc_truth")).await;
    assert_eq!(report.status, Status::Critical);

    let blockers: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.check == "MAAS004" && f.severity == preflight::report::Severity::Blocker)
        .collect();
    let mut machine_groups = Vec::new();
    let mut pod_groups = Vec::new();
    let mut reported: Vec<Vec<i64>> = Vec::new();
    for f in &blockers {
        let pods = sorted(&f.evidence.to_map()["pods"]);
        if pods.is_empty() {
            machine_groups.push(sorted(&f.evidence.to_map()["system_ids"]));
        } else {
            pod_groups.push(pods);
        }
        reported.push(
            f.evidence.to_map()["bmc_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect(),
        );
    }
    machine_groups.sort();
    pod_groups.sort();
    assert_eq!(
        machine_groups, fleet.truth.collisions,
        "machines behind colliding BMC rows"
    );
    assert_eq!(pod_groups, fleet.truth.pod_collisions, "pods (bmc_type 1) count");
    let shared: Vec<Vec<String>> = {
        let mut g: Vec<Vec<String>> = report
            .findings
            .iter()
            .filter(|f| f.check == "MAAS005")
            .map(|f| sorted(&f.evidence.to_map()["system_ids"]))
            .collect();
        g.sort();
        g
    };
    assert_eq!(shared, fleet.truth.shared_addresses);

    // Now do what 0290 does, one BMC at a time, and let the real unique index judge.
    let pack = preflight::systems::maas::checks::pack();
    let ids: Vec<(i32, String)> = db
        .query("SELECT id, power_type FROM maasserver_bmc ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut failed = std::collections::BTreeSet::new();
    for (id, power_type) in ids {
        let Some(key) = pack.bmc.removed_by_0290.get(&power_type) else {
            continue;
        };
        match db
            .execute(
                "UPDATE maasserver_bmc SET power_parameters = power_parameters - $2::text WHERE id = $1 AND jsonb_typeof(power_parameters) = 'object'",
                &[&id, key],
            )
            .await
        {
            Ok(_) => {}
            Err(e) => {
                let db_error = e.as_db_error().expect("a database error");
                assert_eq!(db_error.constraint(), Some("maasserver_bmc_power_type_parameters_idx"), "{db_error:?}");
                failed.insert(id as i64);
            }
        }
    }
    let mut predicted = std::collections::BTreeSet::new();
    for group in &reported {
        let hits = group.iter().filter(|id| failed.contains(id)).count();
        assert_eq!(
            hits,
            group.len() - 1,
            "all but the first BMC of group {group:?} hit the index"
        );
        predicted.extend(group.iter().copied());
    }
    assert!(
        failed.is_subset(&predicted),
        "PostgreSQL refused BMCs preflight did not report: {:?}",
        failed.difference(&predicted).collect::<Vec<_>>()
    );
}

/// The unique index is on (power_type, md5): BMC rows of two power types whose parameters are
/// equal after 0290 do not collide (PostgreSQL takes the removal), yet they share an address.
#[tokio::test]
async fn database_mode_rows_of_different_power_types_never_collide() {
    let db = fresh_database("pf_bmc_types").await;
    db.batch_execute(MAAS_SCHEMA).await.unwrap();
    db.batch_execute(
        r#"INSERT INTO maasserver_bmc (id, power_type, power_parameters) VALUES
             (1, 'ipmi', '{"power_address": "10.9.0.1", "power_user": "admin", "power_pass": "a"}'),
             (2, 'redfish', '{"power_address": "10.9.0.1", "power_user": "admin", "power_pass": "b"}')"#,
    )
    .await
    .unwrap();
    let report = bmc_report(&database_url("pf_bmc_types")).await;
    assert_eq!(
        outcome(&report, "MAAS004").status,
        OutcomeStatus::Pass,
        "{:?}",
        report.findings
    );
    assert_eq!(outcome(&report, "MAAS005").status, OutcomeStatus::Fail);
    db.batch_execute("UPDATE maasserver_bmc SET power_parameters = power_parameters - 'power_pass'")
        .await
        .expect("PostgreSQL takes 0290's removal");
}

#[tokio::test]
async fn database_mode_reports_0290_already_applied() {
    let fleet = mocks::fleet::Fleet::generate(300, 5);
    let db = load_fleet("pf_bmc_applied", &fleet).await;
    db.batch_execute(
        "INSERT INTO django_migrations (app, name) VALUES ('maasserver', '0290_migrate_node_power_parameters')",
    )
    .await
    .unwrap();
    let report = bmc_report(&database_url("pf_bmc_applied")).await;
    let o = outcome(&report, "MAAS004");
    assert_eq!(o.status, OutcomeStatus::Pass);
    assert!(o.reason.as_deref().unwrap().contains("0290 already applied"), "{o:?}");
    assert_eq!(
        outcome(&report, "MAAS005").status,
        OutcomeStatus::Fail,
        "shared addresses still matter"
    );
}

#[tokio::test]
async fn database_mode_without_maas_tables_is_an_error() {
    fresh_database("pf_bmc_empty").await;
    let report = bmc_report(&database_url("pf_bmc_empty")).await;
    let o = outcome(&report, "MAAS004");
    assert_eq!(o.status, OutcomeStatus::Error);
    assert!(
        o.reason.as_deref().unwrap().contains("no maasserver_bmc table"),
        "{o:?}"
    );
    assert_eq!(o.kind, Some(ErrorKind::NotFound));
    assert_eq!(report.status, Status::Unknown);
}

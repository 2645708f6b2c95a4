//! MAAS's part of `preflight scan --demo`: the fake region from mocks/ (5,000 machines with
//! planted duplicate-BMC groups, controllers on mixed versions, a second region stopped at
//! migration 0290) and a recorded PostgreSQL database.

use serde::Deserialize;

use super::config::MaasConfig;
use super::facts::{Migration0290, PgFacts};
use crate::config::{Config, Secret};
use crate::core::system::DemoPart;
use mocks::fleet::Fleet;
use mocks::maas::{MaasOptions, MaasServer, API_KEY};

#[derive(Deserialize)]
struct RecordedPostgres {
    server_version_num: u32,
    database: String,
    owner: String,
    maas_role: String,
    migration_0290_applied: bool,
}

/// Starts the fake region and points `config` at it and at the recorded database.
pub async fn start(config: &mut Config) -> DemoPart {
    let fleet = Fleet::generate(mocks::demo::MACHINES, mocks::demo::SEED);
    let mut options = MaasOptions::mixed(mocks::demo::REGION_VERSION, "2.8.6");
    // A second region whose upgrade to 3.3 stopped at migration 0290 (MAAS009).
    options.regions.push(mocks::maas::FakeController {
        system_id: "r3gn03".into(),
        hostname: "maas-region-3".into(),
        version: Some("3.3.10-14213-g.5a4c9d0ef".into()),
        ..mocks::maas::FakeController::default()
    });
    let server = MaasServer::start(&fleet, &options).await;
    let pg: RecordedPostgres =
        serde_json::from_str(mocks::demo::POSTGRES_JSON).expect("mocks' demo database is valid (tested)");
    let maas = config.of_mut::<MaasConfig>();
    maas.url = Some(server.maas_url());
    maas.api_key = Some(Secret::new(API_KEY.to_string()));
    maas.current = None;
    maas.pg_dsn = None;
    maas.recorded_postgres = Some(PgFacts {
        endpoint: format!("demo-db:5432/{} as {}", pg.database, pg.maas_role),
        server_version_num: pg.server_version_num,
        database: pg.database,
        owner: pg.owner,
        maas_role: pg.maas_role,
        migration_0290: if pg.migration_0290_applied {
            Migration0290::Applied
        } else {
            Migration0290::NotApplied
        },
    });
    DemoPart {
        banner: format!(
            "a fake MAAS {} region at {} ({} machines) with a recorded PostgreSQL 12 database",
            mocks::demo::REGION_VERSION,
            server.maas_url(),
            mocks::demo::MACHINES
        ),
        guard: Box::new(server),
    }
}

//! `preflight scan --demo`: starts the fake MAAS region from mocks/ on loopback (5,000 machines
//! with planted duplicate-BMC groups, controllers on mixed versions), a fake Mender Server and a
//! fake Backend.AI cluster, and scans them together with a recorded host (juju CLI output
//! included) and database, so every check fires without any of those systems at hand.

use serde::Deserialize;

use crate::config::{Config, Secret};
use crate::core::engine::Scan;
use crate::host::{HostSource, RecordedHost};
use crate::systems::backendai::config::BackendaiConfig;
use crate::systems::juju::config::JujuConfig;
use crate::systems::maas::config::MaasConfig;
use crate::systems::maas::postgres::{Migration0290, PgFacts};
use crate::systems::mender::config::MenderConfig;
use crate::version::Version;
use mocks::backendai::BackendaiCluster;
use mocks::fleet::Fleet;
use mocks::maas::{MaasOptions, MaasServer, API_KEY};
use mocks::mender::{MenderFleet, MenderServer};

#[derive(Deserialize)]
struct RecordedPostgres {
    server_version_num: u32,
    database: String,
    owner: String,
    maas_role: String,
    migration_0290_applied: bool,
}

/// A running demo; keep it alive while scanning.
pub struct Demo {
    server: MaasServer,
    _mender: MenderServer,
    _backendai: BackendaiCluster,
    /// The scan to run against it.
    pub scan: Scan,
}

impl Demo {
    /// Starts the fake region and prepares the scan. `config` supplies targets, timeouts and
    /// formats; its MAAS and database settings are replaced by the demo's.
    pub async fn start(mut config: Config) -> Demo {
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
        config.of_mut::<MaasConfig>().url = Some(server.maas_url());
        config.of_mut::<MaasConfig>().api_key = Some(Secret::new(API_KEY.to_string()));
        config.of_mut::<MaasConfig>().current = None;
        config.of_mut::<MaasConfig>().pg_dsn = None;
        let mender = MenderServer::start(&MenderFleet::generate(mocks::demo::MENDER_DEVICES)).await;
        config.of_mut::<MenderConfig>().url = Some(mender.url());
        config.of_mut::<MenderConfig>().token = Some(Secret::new(mocks::mender::TOKEN.to_string()));
        config.of_mut::<MenderConfig>().current = Version::parse(mocks::demo::MENDER_VERSION).ok();
        let backendai = BackendaiCluster::start(&mocks::demo::backendai()).await;
        config.of_mut::<BackendaiConfig>().manager_url = Some(backendai.manager.uri());
        config.of_mut::<BackendaiConfig>().storage_proxy_url = Some(backendai.storage_proxy.uri());
        config.of_mut::<BackendaiConfig>().webserver_url = Some(backendai.webserver.uri());
        config.of_mut::<JujuConfig>().cli = None;
        let host: RecordedHost =
            serde_json::from_str(mocks::demo::HOST_JSON).expect("mocks' demo host is valid (tested)");
        let pg: RecordedPostgres =
            serde_json::from_str(mocks::demo::POSTGRES_JSON).expect("mocks' demo database is valid (tested)");
        let postgres = PgFacts {
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
        };
        Demo {
            scan: Scan {
                config,
                host: HostSource::Recorded(host),
                postgres: Some(postgres),
            },
            server,
            _mender: mender,
            _backendai: backendai,
        }
    }

    /// One line for stderr saying what is being scanned.
    pub fn banner(&self) -> String {
        format!(
            "preflight demo: scanning a fake MAAS {} region at {} ({} machines), a recorded Ubuntu 20.04 snap host with a juju client, a recorded PostgreSQL 12 database, a fake Mender Server and a fake Backend.AI cluster",
            mocks::demo::REGION_VERSION,
            self.server.maas_url(),
            mocks::demo::MACHINES
        )
    }
}

//! The PostgreSQL probe (tokio-postgres): server version, owner of the MAAS database, and
//! whether migration 0290 is applied. Every query runs inside one `READ ONLY` transaction that
//! is rolled back; preflight never writes.
//!
//! The connection comes from `[postgresql] url`, `DATABASE_URL` or libpq's `PG*` variables
//! (filling what the DSN leaves open, as libpq does), else from this host's regiond.conf.

use super::facts::{BmcTable, Migration0290, NotAnObject, PgFacts};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use thiserror::Error;
use tokio_postgres::config::Host;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config as PgConfig, NoTls, Transaction};

use super::config::{DsnOrigin, MaasConfig};
use super::facts::RegiondConf;
use crate::config::{Config, Secret};
use crate::core::probed::{ErrorKind, ProbeError};
use crate::systems::maas::bmc::{BmcRules, HashedBmc, Observations, PartBuilder, PowerTypes};
use crate::systems::maas::facts::BmcRow;

/// Name of the MAAS database when nothing says otherwise.
pub const DEFAULT_DATABASE: &str = "maasdb";
/// Role MAAS connects as when nothing says otherwise.
pub const DEFAULT_MAAS_ROLE: &str = "maas";
/// The migration whose unique-index collisions MAAS004 predicts.
pub const MIGRATION_0290: &str = "0290_migrate_node_power_parameters";

/// A resolved connection target.
#[derive(Clone)]
pub struct PgTarget {
    pub config: PgConfig,
    pub database: String,
    pub maas_role: String,
    /// Where the connection settings came from, for messages.
    pub origin: String,
    password: Option<Secret>,
}

impl fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgTarget({} from {})", self.endpoint(), self.origin)
    }
}

/// Why the probe failed. Texts never contain the password.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PgError {
    #[error("the database connection string from {origin} is not valid: {cause}")]
    BadDsn { origin: String, cause: String },
    #[error("cannot connect to PostgreSQL at {endpoint} (settings from {origin}): {cause}")]
    Connect {
        endpoint: String,
        origin: String,
        cause: String,
        kind: ErrorKind,
    },
    #[error("PostgreSQL at {endpoint} did not answer within {seconds} s (timeout)")]
    Timeout { endpoint: String, seconds: u64 },
    #[error("query on {endpoint} failed: {cause}")]
    Query {
        endpoint: String,
        cause: String,
        kind: ErrorKind,
    },
    #[error("database {database} does not exist on {endpoint}")]
    NoDatabase { database: String, endpoint: String },
}

impl PgError {
    /// What kind of failure this is (a refused password is auth, a missing privilege
    /// forbidden, a damaged row a bad answer).
    pub fn kind(&self) -> ErrorKind {
        match self {
            PgError::BadDsn { .. } => ErrorKind::Config,
            PgError::Connect { kind, .. } | PgError::Query { kind, .. } => *kind,
            PgError::Timeout { .. } => ErrorKind::Timeout,
            PgError::NoDatabase { .. } => ErrorKind::NotFound,
        }
    }
}

impl From<PgError> for ProbeError {
    fn from(e: PgError) -> ProbeError {
        ProbeError::new(e.kind(), e.to_string())
    }
}

/// The kind of a driver error: by SQLSTATE when the server sent one, else by the I/O error
/// under it (no I/O error: the peer spoke something that is not PostgreSQL's protocol).
fn error_kind(e: &tokio_postgres::Error) -> ErrorKind {
    use tokio_postgres::error::SqlState;
    if let Some(code) = e.code() {
        return if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            ErrorKind::Auth
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            ErrorKind::Forbidden
        } else if *code == SqlState::INVALID_CATALOG_NAME || *code == SqlState::UNDEFINED_TABLE {
            ErrorKind::NotFound
        } else {
            ErrorKind::Failed
        };
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
                // Bytes that are not PostgreSQL's protocol (another server on the port): an
                // answer that ends mid-message is tokio-util's `decode_eof` error.
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => ErrorKind::BadAnswer,
                _ if io.to_string() == "bytes remaining on stream" => ErrorKind::BadAnswer,
                _ => ErrorKind::Unreachable,
            };
        }
        source = s.source();
    }
    ErrorKind::BadAnswer
}

/// Replaces every occurrence of the secret in `text` with `***`.
fn scrub(text: String, secret: Option<&Secret>) -> String {
    match secret.map(Secret::expose).filter(|s| !s.is_empty()) {
        Some(s) => text.replace(s, "***"),
        None => text,
    }
}

fn error_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            text
        }
    }
}

impl PgTarget {
    /// Resolves the target from configuration, falling back to regiond.conf. `None` when
    /// neither says where the database is.
    ///
    /// # Errors
    /// [`PgError::BadDsn`] for a connection string that does not parse.
    pub fn resolve(config: &Config, regiond: Option<&RegiondConf>) -> Result<Option<PgTarget>, PgError> {
        let (mut pg, origin, password) = match &config.of::<MaasConfig>().pg_dsn {
            Some((dsn, origin)) => {
                let mut pg = if dsn.expose().trim().is_empty() {
                    PgConfig::new()
                } else {
                    dsn.expose().parse::<PgConfig>().map_err(|e| PgError::BadDsn {
                        origin: origin.to_string(),
                        cause: scrub(e.to_string(), Some(dsn)),
                    })?
                };
                let libpq = &config.of::<MaasConfig>().libpq;
                if pg.get_hosts().is_empty() {
                    if let Some(h) = &libpq.host {
                        add_host(&mut pg, h);
                    }
                }
                if pg.get_ports().is_empty() {
                    if let Some(p) = libpq.port.as_deref().and_then(|p| p.parse().ok()) {
                        pg.port(p);
                    }
                }
                if pg.get_user().is_none() {
                    if let Some(u) = &libpq.user {
                        pg.user(u);
                    }
                }
                if pg.get_password().is_none() {
                    if let Some(p) = &libpq.password {
                        pg.password(p.expose());
                    }
                }
                if pg.get_dbname().is_none() {
                    if let Some(d) = libpq.dbname.as_ref().or(config.of::<MaasConfig>().pg_database.as_ref()) {
                        pg.dbname(d);
                    }
                }
                let password = pg
                    .get_password()
                    .map(|p| Secret::new(String::from_utf8_lossy(p).into_owned()));
                let origin = if *origin == DsnOrigin::LibpqEnv {
                    origin.to_string()
                } else {
                    format!("{origin} (and PG* variables)")
                };
                (pg, origin, password)
            }
            None => {
                let Some(conf) = regiond else { return Ok(None) };
                let mut pg = PgConfig::new();
                add_host(&mut pg, conf.database_host.as_deref().unwrap_or("localhost"));
                pg.port(conf.database_port.unwrap_or(5432));
                pg.user(conf.database_user.as_deref().unwrap_or(DEFAULT_MAAS_ROLE));
                pg.dbname(conf.database_name.as_deref().unwrap_or(DEFAULT_DATABASE));
                if let Some(p) = &conf.database_pass {
                    pg.password(p.expose());
                }
                (pg, conf.path.clone(), conf.database_pass.clone())
            }
        };
        if pg.get_hosts().is_empty() {
            let socket_dir = "/var/run/postgresql";
            if Path::new(socket_dir).exists() {
                pg.host_path(socket_dir);
            } else {
                pg.host("localhost");
            }
        }
        if pg.get_user().is_none() {
            pg.user(std::env::var("USER").unwrap_or_else(|_| DEFAULT_MAAS_ROLE.to_string()));
        }
        if pg.get_dbname().is_none() {
            pg.dbname(
                config
                    .of::<MaasConfig>()
                    .pg_database
                    .as_deref()
                    .unwrap_or(DEFAULT_DATABASE),
            );
        }
        pg.application_name("preflight");
        let database = pg.get_dbname().unwrap_or(DEFAULT_DATABASE).to_string();
        let maas_role = config
            .of::<MaasConfig>()
            .maas_role
            .clone()
            .or_else(|| regiond.and_then(|r| r.database_user.clone()))
            .unwrap_or_else(|| DEFAULT_MAAS_ROLE.to_string());
        Ok(Some(PgTarget {
            config: pg,
            database,
            maas_role,
            origin,
            password,
        }))
    }

    /// `host:port/database as user` (the first host), never the password.
    pub fn endpoint(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let user = self.config.get_user().unwrap_or("?");
        format!("{host}:{port}/{} as {user}", self.database)
    }

    /// A failed statement of this target's session as [`PgError::Query`]: its endpoint, the
    /// server's words with the password scrubbed out, and the kind.
    fn query_error(&self, e: &tokio_postgres::Error) -> PgError {
        PgError::Query {
            endpoint: self.endpoint(),
            cause: scrub(error_text(e), self.password.as_ref()),
            kind: error_kind(e),
        }
    }

    /// Connects (with `timeout` for connecting) and spawns the connection task.
    ///
    /// # Errors
    /// [`PgError::Connect`], [`PgError::Timeout`] or [`PgError::NoDatabase`].
    pub async fn connect(&self, timeout: Duration) -> Result<Client, PgError> {
        let mut config = self.config.clone();
        config.connect_timeout(timeout);
        // Belt and braces: the session itself refuses writes, whatever a query would do.
        config.options("-c default_transaction_read_only=on");
        let connecting = config.connect(NoTls);
        let (client, connection) = match tokio::time::timeout(timeout, connecting).await {
            Err(_) => {
                return Err(PgError::Timeout {
                    endpoint: self.endpoint(),
                    seconds: timeout.as_secs(),
                })
            }
            Ok(Err(e)) => {
                if e.code() == Some(&tokio_postgres::error::SqlState::INVALID_CATALOG_NAME) {
                    return Err(PgError::NoDatabase {
                        database: self.database.clone(),
                        endpoint: self.endpoint(),
                    });
                }
                return Err(PgError::Connect {
                    endpoint: self.endpoint(),
                    origin: self.origin.clone(),
                    cause: scrub(error_text(&e), self.password.as_ref()),
                    kind: error_kind(&e),
                });
            }
            Ok(Ok(pair)) => pair,
        };
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("PostgreSQL connection closed: {}", error_text(&e));
            }
        });
        Ok(client)
    }

    /// Reads [`PgFacts`] in one READ ONLY transaction, within `timeout` overall.
    ///
    /// # Errors
    /// Any [`PgError`].
    pub async fn probe(&self, timeout: Duration) -> Result<PgFacts, PgError> {
        let work = async {
            let mut client = self.connect(timeout).await?;
            let query_err = |e| self.query_error(&e);
            let tx = begin_read_only(&mut client).await.map_err(query_err)?;
            let facts = read_facts(&tx, &self.database, &self.maas_role)
                .await
                .map_err(query_err)?;
            tx.rollback().await.map_err(query_err)?;
            Ok(PgFacts {
                endpoint: self.endpoint(),
                ..facts
            })
        };
        // Connecting has its own timeout; this bounds the queries too.
        match tokio::time::timeout(timeout * 2, work).await {
            Ok(result) => result,
            Err(_) => Err(PgError::Timeout {
                endpoint: self.endpoint(),
                seconds: timeout.as_secs(),
            }),
        }
    }
}

fn add_host(pg: &mut PgConfig, host: &str) {
    if host.starts_with('/') {
        pg.host_path(host);
    } else {
        pg.host(host);
    }
}

/// Starts the one kind of transaction preflight uses: `READ ONLY`. Any write inside it fails
/// with SQLSTATE 25006 (`read_only_sql_transaction`).
///
/// # Errors
/// The driver's error when `BEGIN` fails.
pub async fn begin_read_only(client: &mut Client) -> Result<Transaction<'_>, tokio_postgres::Error> {
    client.build_transaction().read_only(true).start().await
}

async fn read_facts(tx: &Transaction<'_>, database: &str, maas_role: &str) -> Result<PgFacts, tokio_postgres::Error> {
    let version: String = tx
        .query_one("SELECT current_setting('server_version_num')", &[])
        .await?
        .get(0);
    let owner: Option<String> = tx
        .query_opt(
            "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = $1",
            &[&database],
        )
        .await?
        .map(|r| r.get(0));
    let has_table: bool = tx
        .query_one("SELECT to_regclass('django_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    let migration_0290 = if !has_table {
        Migration0290::NoMigrationTable
    } else if tx
        .query_opt(
            "SELECT 1 FROM django_migrations WHERE app = 'maasserver' AND name = $1",
            &[&MIGRATION_0290],
        )
        .await?
        .is_some()
    {
        Migration0290::Applied
    } else {
        Migration0290::NotApplied
    };
    Ok(PgFacts {
        endpoint: String::new(),
        server_version_num: version.trim().parse().unwrap_or(0),
        database: database.to_string(),
        owner: owner.unwrap_or_default(),
        maas_role: maas_role.to_string(),
        migration_0290,
    })
}

/// The SQL that reduces every BMC row: its id, bmc_type, power_type, name, the jsonb type of its
/// parameters, the md5 of its jsonb text after 0290's key removal (exactly as 0290 leaves it:
/// non-objects unchanged), address, user, whether it is `{}` after the removal, whether 0290
/// skips it (a value Python finds falsy), and — only for objects that hold a number — the text
/// after the removal, which 0290 writes back through Python's floats
/// ([`crate::systems::maas::bmc::jsonb::canonical_hash_after_python`]). `$1`, `$2`, … are pairs of (power types, removed
/// key) from the rules. Columns MAAS declares NOT NULL are read as they are, so a NULL is seen.
fn bmc_query(rules: &BmcRules) -> (String, Vec<(Vec<String>, String)>) {
    let mut by_key: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (power_type, key) in &rules.removed_by_0290 {
        by_key.entry(key.as_str()).or_default().push(power_type.clone());
    }
    let mut arms = String::new();
    let mut params = Vec::new();
    for (i, (key, mut types)) in by_key.into_iter().enumerate() {
        types.sort();
        arms.push_str(&format!(
            " WHEN b.power_type = ANY(${}::text[]) THEN b.power_parameters - ${}::text",
            2 * i + 1,
            2 * i + 2
        ));
        params.push((types, key.to_string()));
    }
    let after = format!(
        "(CASE WHEN jsonb_typeof(b.power_parameters) <> 'object' THEN b.power_parameters{arms} ELSE b.power_parameters END)"
    );
    let sql = format!(
        "SELECT b.id::text, b.bmc_type, b.power_type, COALESCE(b.name, ''),
                jsonb_typeof(b.power_parameters),
                md5({after}::text),
                COALESCE(b.power_parameters ->> 'power_address', ''),
                COALESCE(b.power_parameters ->> 'power_user', ''),
                {after} = '{{}}'::jsonb,
                b.power_parameters = ANY(ARRAY['null', '\"\"', '0', 'false', '[]', '{{}}']::jsonb[]),
                CASE WHEN jsonb_typeof(b.power_parameters) = 'object'
                      AND jsonb_path_exists(b.power_parameters, 'lax $.** ? (@.type() == \"number\")')
                     THEN {after}::text END
           FROM maasserver_bmc b"
    );
    (sql, params)
}

/// Column `index` (named `name`) of a `table` row, or the error a NULL where MAAS declares NOT
/// NULL deserves (`row_id` names the row).
fn not_null<'r, T: tokio_postgres::types::FromSql<'r>>(
    row: &'r tokio_postgres::Row,
    index: usize,
    table: &str,
    name: &str,
    row_id: &str,
) -> Result<T, String> {
    match row.try_get::<_, Option<T>>(index) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(format!(
            "{table} row {row_id} has {name} NULL, which MAAS declares NOT NULL: the database is damaged or not MAAS's; nothing was compared"
        )),
        Err(e) => Err(format!("{table}.{name} of row {row_id} cannot be read: {e}")),
    }
}

impl PgTarget {
    /// Reads every BMC row and its machines in one READ ONLY transaction, streaming the rows
    /// into detector records; `timeout` bounds connecting.
    ///
    /// # Errors
    /// Any [`PgError`]; a database without `maasserver_bmc` is named as such.
    pub async fn read_bmcs(&self, rules: &BmcRules, timeout: Duration) -> Result<BmcTable, PgError> {
        let mut client = self.connect(timeout).await?;
        let query_err = |e| self.query_error(&e);
        let tx = begin_read_only(&mut client).await.map_err(query_err)?;
        let has_table: bool = tx
            .query_one("SELECT to_regclass('maasserver_bmc') IS NOT NULL", &[])
            .await
            .map_err(query_err)?
            .get(0);
        if !has_table {
            return Err(PgError::Query {
                endpoint: self.endpoint(),
                cause: format!(
                    "database {} has no maasserver_bmc table: is it the MAAS database?",
                    self.database
                ),
                kind: ErrorKind::NotFound,
            });
        }
        let facts = read_facts(&tx, &self.database, &self.maas_role)
            .await
            .map_err(query_err)?;

        let mut types = PowerTypes::new(rules);
        let (sql, params) = bmc_query(rules);
        let values: Vec<Box<dyn ToSql + Sync + Send>> = params
            .into_iter()
            .flat_map(|(types, key)| [Box::new(types) as Box<dyn ToSql + Sync + Send>, Box::new(key)])
            .collect();
        let stream = tx
            .query_raw(&sql, values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)))
            .await
            .map_err(query_err)?;
        futures::pin_mut!(stream);
        let mut raw = Vec::new();
        let mut rows = HashMap::new();
        let mut not_objects = Vec::new();
        let damaged = |cause: String| PgError::Query {
            endpoint: self.endpoint(),
            cause,
            kind: ErrorKind::BadAnswer,
        };
        while let Some(row) = stream.next().await {
            let row = row.map_err(query_err)?;
            let id: String = not_null(&row, 0, "maasserver_bmc", "id", "?").map_err(damaged)?;
            let column = |index: usize, name: &str| -> Result<String, PgError> {
                not_null(&row, index, "maasserver_bmc", name, &id).map_err(damaged)
            };
            let bmc_type: i32 = not_null(&row, 1, "maasserver_bmc", "bmc_type", &id).map_err(damaged)?;
            let power_type = column(2, "power_type")?;
            let json_type = column(4, "power_parameters")?;
            let post = column(5, "power_parameters")?;
            let empty: bool = not_null(&row, 8, "maasserver_bmc", "power_parameters", &id).map_err(damaged)?;
            let skipped: bool = not_null(&row, 9, "maasserver_bmc", "power_parameters", &id).map_err(damaged)?;
            // A row with a number is written back through Python (1.50 becomes 1.5): its hash is
            // of that value. Such a row can only equal another row with a number, so the two
            // kinds of hash never meet.
            let post = match row.get::<_, Option<String>>(10) {
                Some(text) => match crate::systems::maas::bmc::jsonb::canonical_hash_after_python(&text) {
                    Ok(hash) => format!("{hash:032x}"),
                    Err(e) => {
                        tracing::warn!("BMC row {id}: {e}; compared as jsonb text");
                        post
                    }
                },
                None => post,
            };
            if json_type != "object" && !skipped {
                not_objects.push(NotAnObject {
                    id: id.clone(),
                    power_type: power_type.clone(),
                    json_type,
                });
            }
            rows.insert(
                id.clone(),
                BmcRow {
                    name: row.get(3),
                    bmc_type,
                    machines: Vec::new(),
                },
            );
            raw.push((
                id,
                types.intern(&power_type),
                post,
                row.get::<_, String>(6),
                row.get::<_, String>(7),
                empty,
            ));
        }
        let mut builder = PartBuilder::new(rules, &types);
        for (id, power_type, post, address, user, empty) in &raw {
            builder.add_hashed(&HashedBmc {
                id,
                power_type: *power_type,
                bmc: id.parse::<u64>().unwrap_or_default(),
                post: u128::from_str_radix(post, 16).unwrap_or_default(),
                address,
                user,
                empty: *empty,
            });
        }
        let part = builder.finish();
        drop(raw);
        let nodes = tx
            .query(
                "SELECT n.bmc_id::text, n.system_id, n.hostname, n.id::text, n.node_type FROM maasserver_node n WHERE n.bmc_id IS NOT NULL ORDER BY n.system_id",
                &[],
            )
            .await
            .map_err(query_err)?;
        for n in nodes {
            let node_id: String = n.get(3);
            let system_id: String = not_null(&n, 1, "maasserver_node", "system_id", &node_id).map_err(damaged)?;
            let hostname: String = not_null(&n, 2, "maasserver_node", "hostname", &node_id).map_err(damaged)?;
            let node_type: i32 = not_null(&n, 4, "maasserver_node", "node_type", &node_id).map_err(damaged)?;
            if let Some(row) = rows.get_mut(&n.get::<_, String>(0)) {
                row.machines.push((system_id, hostname, node_type));
            }
        }
        tx.rollback().await.map_err(query_err)?;
        Ok(BmcTable {
            endpoint: self.endpoint(),
            migration_0290: facts.migration_0290,
            observations: Observations::from_parts(types, vec![part]),
            rows,
            not_objects,
        })
    }
}

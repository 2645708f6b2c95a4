//! The `[maas]` and `[postgresql]` sections and MAAS's environment variables (`MAAS_URL`,
//! `MAAS_API_KEY`, `MAAS_API_KEY_FILE`, `DATABASE_URL` and libpq's `PG*`), resolved.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{parse_version, read_secret_file, ConfigError, Secret, Sources};
use crate::version::Version;

/// Concurrent per-machine power-parameter requests, unless configured.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// `[maas]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaasSection {
    /// The URL `maas login` takes, e.g. `http://10.0.0.2:5240/MAAS`.
    pub url: Option<String>,
    /// `consumer_key:token_key:token_secret`. Prefer `api_key_file`.
    pub api_key: Option<Secret>,
    /// A file holding the API key (first line).
    pub api_key_file: Option<PathBuf>,
    /// The running MAAS version, when neither the API nor this host can tell it.
    pub current: Option<String>,
    /// Concurrent per-machine requests when the bulk power-parameters call is refused.
    pub concurrency: Option<usize>,
}

/// `[postgresql]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSection {
    /// A libpq connection string or URL (`postgresql://maas@localhost/maasdb`).
    pub url: Option<Secret>,
    /// The MAAS database name (default: the DSN's database, else `maasdb`).
    pub database: Option<String>,
    /// The role MAAS connects as (default: regiond.conf's database_user, else `maas`).
    pub maas_role: Option<String>,
}

/// Where the database connection string came from (for messages; never the DSN itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsnOrigin {
    Flag,
    ConfigFile,
    DatabaseUrl,
    LibpqEnv,
}

impl fmt::Display for DsnOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DsnOrigin::Flag => "--database",
            DsnOrigin::ConfigFile => "[postgresql] url in the config file",
            DsnOrigin::DatabaseUrl => "DATABASE_URL",
            DsnOrigin::LibpqEnv => "the PG* environment variables",
        })
    }
}

/// libpq's environment variables (`PGHOST`, …), applied to fields a DSN leaves open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LibpqEnv {
    pub host: Option<String>,
    pub port: Option<String>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub dbname: Option<String>,
}

impl LibpqEnv {
    fn is_empty(&self) -> bool {
        self.host.is_none() && self.port.is_none() && self.user.is_none() && self.dbname.is_none()
    }
}

/// MAAS settings, resolved.
#[derive(Debug, Clone)]
pub struct MaasConfig {
    /// The region API's URL.
    pub url: Option<String>,
    pub api_key: Option<Secret>,
    pub current: Option<Version>,
    pub concurrency: usize,
    /// Explicit DSN and where it came from; `None` means discover (regiond.conf).
    pub pg_dsn: Option<(Secret, DsnOrigin)>,
    pub libpq: LibpqEnv,
    pub pg_database: Option<String>,
    pub maas_role: Option<String>,
    /// Database facts that replace the database probe (`--demo`'s recorded database).
    pub recorded_postgres: Option<super::facts::PgFacts>,
    /// The controllers to inspect besides this host (`scan --hosts`, `--host-facts`).
    pub fleet: Fleet,
}

impl MaasConfig {
    /// `[maas]` and `[postgresql]` under the environment.
    ///
    /// # Errors
    /// A bad section, an unreadable key file or a bad `current` version.
    pub fn load(sources: &Sources) -> Result<MaasConfig, ConfigError> {
        let maas: MaasSection = sources.section("maas")?;
        let postgresql: PostgresSection = sources.section("postgresql")?;
        let api_key = match (sources.env("MAAS_API_KEY"), sources.env("MAAS_API_KEY_FILE")) {
            (Some(key), _) => Some(Secret::new(key)),
            (None, Some(p)) => Some(read_secret_file("the MAAS API key", Path::new(&p))?),
            (None, None) => match (maas.api_key, maas.api_key_file) {
                (Some(key), _) => Some(key),
                (None, Some(p)) => Some(read_secret_file("the MAAS API key", &p)?),
                (None, None) => None,
            },
        };
        let libpq = LibpqEnv {
            host: sources.env("PGHOST"),
            port: sources.env("PGPORT"),
            user: sources.env("PGUSER"),
            password: sources.env("PGPASSWORD").map(Secret::new),
            dbname: sources.env("PGDATABASE"),
        };
        let pg_dsn = match (sources.env("DATABASE_URL"), postgresql.url) {
            (Some(url), _) => Some((Secret::new(url), DsnOrigin::DatabaseUrl)),
            (None, Some(url)) => Some((url, DsnOrigin::ConfigFile)),
            (None, None) if !libpq.is_empty() => Some((Secret::new(String::new()), DsnOrigin::LibpqEnv)),
            (None, None) => None,
        };
        Ok(MaasConfig {
            url: sources.env("MAAS_URL").or(maas.url),
            api_key,
            current: maas
                .current
                .as_deref()
                .map(|v| parse_version("[maas] current", v))
                .transpose()?,
            concurrency: maas.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1),
            pg_dsn,
            libpq,
            pg_database: postgresql.database,
            maas_role: postgresql.maas_role,
            recorded_postgres: None,
            fleet: Fleet::default(),
        })
    }
}

/// Which hosts to inspect besides this one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fleet {
    /// Facts documents: files, or directories whose `*.json` files are read (sorted by name).
    pub documents: Vec<PathBuf>,
    /// Hosts to read over SSH.
    pub ssh: Option<SshHosts>,
}

/// Hosts to read over SSH, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshHosts {
    pub from: HostsFrom,
    /// How to connect (sudo, timeouts, extra ssh arguments); an inventory host's own
    /// variables refine it per host.
    pub options: crate::host::ssh::SshOptions,
    /// Hosts read at once (at least 1).
    pub concurrency: usize,
}

/// Where the hosts to read over SSH come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostsFrom {
    /// An Ansible inventory's hosts, each with its options.
    Inventory(Vec<(crate::host::ssh::SshTarget, crate::host::ssh::SshOptions)>),
    /// The region and rack controllers the region API lists, by hostname.
    Maas,
}

impl Fleet {
    /// Whether any host is to be inspected.
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty() && self.ssh.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{env_of, parse_file_config, Config, FileConfig, Overrides};
    use std::time::Duration;

    #[test]
    fn env_overrides_file_and_flags_override_env() {
        let file = parse_file_config(
            "t.toml",
            "[maas]\nurl = \"http://file:5240/MAAS\"\napi_key = \"a:b:c\"\n[scan]\ntimeout = 5\ntargets = { maas = \"3.4\" }\n",
            &crate::systems::configurable(),
        )
        .unwrap();
        let overrides = Overrides {
            targets: vec!["maas=3.5".into()],
            timeout: Some(9),
            ..Default::default()
        };
        let env = env_of(&[("MAAS_URL", "http://env:5240/MAAS")]);
        let c = Config::from_layers(None, file, &overrides, &env, &crate::systems::configurable()).unwrap();
        assert_eq!(c.of::<MaasConfig>().url.as_deref(), Some("http://env:5240/MAAS"));
        assert_eq!(c.of::<MaasConfig>().api_key.clone().unwrap().expose(), "a:b:c");
        assert_eq!(c.timeout, Duration::from_secs(9));
        assert_eq!(c.targets["maas"].raw, "3.5");
    }

    #[test]
    fn libpq_env_alone_is_a_dsn() {
        let c = Config::from_layers(
            None,
            FileConfig::default(),
            &Overrides::default(),
            &env_of(&[("PGHOST", "/tmp")]),
            &crate::systems::configurable(),
        )
        .unwrap();
        assert_eq!(c.of::<MaasConfig>().pg_dsn.clone().unwrap().1, DsnOrigin::LibpqEnv);
    }
}

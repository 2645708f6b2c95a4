//! Configuration: `preflight.toml`, then environment variables, then command-line flags, each
//! overriding the one before (ARCHITECTURE.md "Environment").
//!
//! The file is found at `--config FILE`, else `./preflight.toml`, else
//! `/etc/preflight/preflight.toml`; none at all is fine. A broken file is a miette diagnostic
//! that points at the offending line. Secrets (API keys, database passwords) come only from the
//! environment, a file path, or the config file — never from a plain flag — and are wrapped in
//! [`Secret`], whose `Debug` and `Display` print `***`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;
use thiserror::Error;

use crate::core::check::{self as checks, CheckDef};
use crate::version::Version;

/// The waivers file looked for beside the config file (or in the current directory).
pub const DEFAULT_WAIVERS: &str = "preflight.waivers.toml";

/// Default location searched after `./preflight.toml`.
pub const SYSTEM_CONFIG: &str = "/etc/preflight/preflight.toml";
/// Seconds the whole run may take, unless configured.
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// The same with `--format nagios` (the plugin convention).
pub const NAGIOS_TIMEOUT_SECS: u64 = 10;
/// Retries for retryable HTTP failures, unless configured.
pub const DEFAULT_RETRIES: usize = 2;
/// Largest accepted HTTP response, unless configured (MiB).
pub const DEFAULT_MAX_RESPONSE_MIB: u64 = 1024;
/// Concurrent per-machine power-parameter requests, unless configured.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// The names of the registered systems (what `--target` and the selectors accept), in
/// registry order.
pub fn known_systems() -> Vec<&'static str> {
    crate::systems::SYSTEMS.iter().map(|s| s.name()).collect()
}

/// A secret string. Never printed: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Secret(value)
    }
    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `preflight.toml`, as written by the user. Every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub maas: MaasSection,
    #[serde(default)]
    pub postgresql: PostgresSection,
    #[serde(default)]
    pub scan: ScanSection,
    #[serde(default)]
    pub mender: MenderSection,
    #[serde(default)]
    pub juju: JujuSection,
    #[serde(default)]
    pub backendai: BackendaiSection,
    /// Accepted findings (see [`crate::waivers`]).
    #[serde(default)]
    pub waiver: Vec<crate::waivers::WaiverSpec>,
}

/// `[mender]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenderSection {
    /// The server's URL (`https://mender.example.com`).
    pub url: Option<String>,
    /// A personal access token (prefer MENDER_TOKEN or `token_file`).
    pub token: Option<Secret>,
    /// A file holding the personal access token.
    pub token_file: Option<PathBuf>,
    /// A user for `POST /api/management/v1/useradm/auth/login` (password: MENDER_PASSWORD).
    pub username: Option<String>,
    /// The running version (the server has no version endpoint), e.g. `3.7.4`.
    pub current: Option<String>,
    /// `open-source` or `enterprise`.
    pub edition: Option<String>,
    /// The edition after the upgrade [default: `edition`].
    pub target_edition: Option<String>,
}

/// `[juju]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JujuSection {
    /// The juju CLI [default: `juju` on PATH].
    pub cli: Option<PathBuf>,
    /// `in-place` (juju upgrade-controller, the default) or `migrate` (new controller).
    #[serde(default)]
    pub upgrade: crate::systems::juju::checks::Plan,
}

/// `[backendai]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendaiSection {
    /// The manager's API endpoint (`https://manager:8081`).
    pub manager_url: Option<String>,
    /// The storage proxy's manager-facing endpoint (`http://storage-proxy:6022`).
    pub storage_proxy_url: Option<String>,
    /// The web server (`https://webui:8090`).
    pub webserver_url: Option<String>,
}

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

/// `[scan]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSection {
    /// Seconds for connecting and for each read.
    pub timeout: Option<u64>,
    /// Retries for retryable HTTP failures.
    pub retries: Option<usize>,
    /// Largest accepted HTTP response in MiB.
    pub max_response_mib: Option<u64>,
    /// Target version per system, e.g. `{ maas = "3.5" }`.
    #[serde(default)]
    pub targets: BTreeMap<String, String>,
    /// Only these checks (ids, names or systems).
    #[serde(default)]
    pub select: Vec<String>,
    /// Never these checks (ids, names or systems).
    #[serde(default)]
    pub ignore: Vec<String>,
    /// `warning` (default) or `blocker`.
    pub fail_on: Option<crate::report::FailOn>,
    /// PEM file of extra CA certificates (internal CAs) for every HTTPS system.
    pub ca_cert: Option<PathBuf>,
    /// Turn TLS certificate verification off (config only; reported in every output).
    #[serde(default)]
    pub insecure: bool,
    /// A run in which nothing was checked (no system configured or found) is OK, not UNKNOWN.
    #[serde(default)]
    pub allow_nothing: bool,
}

/// A configuration problem. Exit code 3.
#[derive(Debug, Error, Diagnostic)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {cause}")]
    #[diagnostic(code(preflight::config::read))]
    Read { path: String, cause: String },

    #[error("the config file is not valid: {message}")]
    #[diagnostic(code(preflight::config::parse), help("see README.md § Configuration for every key"))]
    Parse {
        message: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("here")]
        span: Option<SourceSpan>,
    },

    #[error("cannot read {what} from {path}: {cause}")]
    #[diagnostic(code(preflight::config::secret_file))]
    SecretFile {
        what: &'static str,
        path: String,
        cause: String,
    },

    #[error("bad --target '{given}': {why}")]
    #[diagnostic(code(preflight::config::target), help("use SYSTEM=VERSION, e.g. --target maas=3.5; known systems: {}", known_systems().join(", ")))]
    Target { given: String, why: String },

    #[error("bad {what} '{given}': {why}")]
    #[diagnostic(code(preflight::config::value))]
    Value {
        what: &'static str,
        given: String,
        why: String,
    },
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

/// Everything a scan needs, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file that was read, if any.
    pub path: Option<PathBuf>,
    pub maas_url: Option<String>,
    pub maas_api_key: Option<Secret>,
    pub maas_current: Option<Version>,
    pub concurrency: usize,
    /// Explicit DSN and where it came from; `None` means discover (regiond.conf).
    pub pg_dsn: Option<(Secret, DsnOrigin)>,
    pub libpq: LibpqEnv,
    pub pg_database: Option<String>,
    pub maas_role: Option<String>,
    pub timeout: Duration,
    pub retries: usize,
    pub max_response_bytes: u64,
    /// Target per system (`maas` → `3.5`). Missing systems take their pack's newest release.
    pub targets: BTreeMap<String, Version>,
    pub mender: MenderConfig,
    pub juju: JujuConfig,
    pub backendai: BackendaiConfig,
    /// Which checks run (`--select`, `--ignore`, `[scan]`).
    pub selection: Selection,
    /// How findings turn into the status and exit code.
    pub policy: crate::report::Policy,
    /// Waivers from the config file and the waivers file.
    pub waivers: Vec<crate::waivers::Waiver>,
    /// (check, subject) of the baseline's findings.
    pub baseline: Option<std::collections::BTreeSet<(String, String)>>,
    /// Extra trusted CA certificates (PEM), from `--ca-cert` or `[scan] ca_cert`.
    pub ca_pem: Option<Vec<u8>>,
    /// TLS verification off (`[scan] insecure = true`).
    pub insecure: bool,
}

/// `--select` / `--ignore`: check ids, names or system names.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl Selection {
    /// A pattern names a check by id or name, or all of a system's checks: those about it
    /// (`host`, `postgresql`, …) and those of its pack (`maas` includes MAAS002 about the host).
    fn matches(pattern: &str, def: &CheckDef) -> bool {
        let prefix = crate::systems::find(pattern).map(|s| s.prefix());
        def.id.eq_ignore_ascii_case(pattern)
            || def.name == pattern
            || def.system.as_str() == pattern
            || prefix.is_some_and(|p| def.id.starts_with(p))
    }

    /// Whether check `id` runs under this selection.
    pub fn includes(&self, id: &str) -> bool {
        let Some(def) = checks::catalogue().into_iter().find(|c| c.id == id) else {
            return true;
        };
        (self.select.is_empty() || self.select.iter().any(|p| Self::matches(p, def)))
            && !self.ignore.iter().any(|p| Self::matches(p, def))
    }
}

/// The closest known check id, name or system to `given`, for "did you mean".
pub fn did_you_mean(given: &str) -> Option<String> {
    let mut candidates: Vec<String> = checks::catalogue()
        .iter()
        .flat_map(|c| [c.id.clone(), c.name.clone()])
        .collect();
    candidates.extend(known_systems().into_iter().map(str::to_string));
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&c.to_ascii_lowercase(), &given.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

fn check_selectors(list: &[String]) -> Result<(), ConfigError> {
    for given in list {
        let known = checks::catalogue().iter().any(|c| Selection::matches(given, c));
        if !known {
            return Err(ConfigError::Value {
                what: "check selector",
                given: given.clone(),
                why: match did_you_mean(given) {
                    Some(s) => format!("no such check id, name or system; did you mean '{s}'?"),
                    None => "no such check id, name or system (see `preflight checks`)".into(),
                },
            });
        }
    }
    Ok(())
}

/// Mender Server settings, resolved.
#[derive(Debug, Clone, Default)]
pub struct MenderConfig {
    pub url: Option<String>,
    pub token: Option<Secret>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub current: Option<Version>,
    pub edition: Option<String>,
    pub target_edition: Option<String>,
}

/// Juju settings, resolved.
#[derive(Debug, Clone, Default)]
pub struct JujuConfig {
    /// Set explicitly: a missing CLI is then an error, not a skip.
    pub cli: Option<PathBuf>,
    pub plan: crate::systems::juju::checks::Plan,
}

/// Backend.AI settings, resolved.
#[derive(Debug, Clone, Default)]
pub struct BackendaiConfig {
    pub manager_url: Option<String>,
    pub storage_proxy_url: Option<String>,
    pub webserver_url: Option<String>,
    /// Keypair for signed requests (superadmin, for /manager/status from 26.x).
    pub access_key: Option<String>,
    pub secret_key: Option<Secret>,
}

/// Command-line overrides (the last layer).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub targets: Vec<String>,
    pub timeout: Option<u64>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub fail_on: Option<crate::report::FailOn>,
    /// `-w`: range on the warning count.
    pub warning: Option<String>,
    /// `-c`: range on the blocker count.
    pub critical: Option<String>,
    /// `--ca-cert FILE`.
    pub ca_cert: Option<PathBuf>,
    /// The timeout when neither flag nor file sets one (10 s for `--format nagios`).
    pub default_timeout: Option<u64>,
    /// `--waivers FILE`.
    pub waivers: Option<PathBuf>,
    /// `--baseline report.json`.
    pub baseline: Option<PathBuf>,
    /// `--allow-nothing`: a run in which nothing was checked exits 0.
    pub allow_nothing: bool,
}

/// Reads the config file that applies: `explicit`, else `./preflight.toml`, else
/// [`SYSTEM_CONFIG`]. Returns the path and text, or `None` when there is none.
///
/// # Errors
/// [`ConfigError::Read`] when an explicit file cannot be read (a missing default file is fine).
pub fn read_config_file(explicit: Option<&Path>) -> Result<Option<(PathBuf, String)>, ConfigError> {
    if let Some(path) = explicit {
        return std::fs::read_to_string(path)
            .map(|text| Some((path.to_path_buf(), text)))
            .map_err(|e| ConfigError::Read {
                path: path.display().to_string(),
                cause: e.to_string(),
            });
    }
    for candidate in [Path::new("preflight.toml"), Path::new(SYSTEM_CONFIG)] {
        if let Ok(text) = std::fs::read_to_string(candidate) {
            return Ok(Some((candidate.to_path_buf(), text)));
        }
    }
    Ok(None)
}

/// Parses config text; errors carry the source and a span for miette.
///
/// # Errors
/// [`ConfigError::Parse`] pointing at the offending key or value.
pub fn parse_file_config(name: &str, text: &str) -> Result<FileConfig, ConfigError> {
    parse_toml(name, text)
}

/// Parses any TOML file preflight reads, with a spanned diagnostic on error.
///
/// # Errors
/// [`ConfigError::Parse`] pointing at the offending key or value.
pub fn parse_toml<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        message: e.message().trim().to_string(),
        src: NamedSource::new(name, text.to_string()),
        span: e
            .span()
            .map(|r| SourceSpan::from(r.start..r.end.max(r.start + 1).min(text.len().max(1)))),
    })
}

fn read_secret_file(what: &'static str, path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::SecretFile {
        what,
        path: path.display().to_string(),
        cause: e.to_string(),
    })?;
    Ok(Secret::new(text.lines().next().unwrap_or("").trim().to_string()))
}

fn parse_target(given: &str) -> Result<(String, Version), ConfigError> {
    let bad = |why: &str| ConfigError::Target {
        given: given.to_string(),
        why: why.to_string(),
    };
    let (system, version) = given.split_once('=').ok_or_else(|| bad("missing '='"))?;
    let system = system.trim().to_ascii_lowercase();
    if crate::systems::find(&system).is_none() {
        return Err(bad(&format!("unknown system '{system}'")));
    }
    let version = Version::parse(version).map_err(|e| bad(&e.to_string()))?;
    Ok((system, version))
}

impl Config {
    /// Layers file, environment and flags. `env` looks up one variable (the process environment
    /// in production, a map in tests).
    ///
    /// # Errors
    /// Any [`ConfigError`]: unreadable or invalid file, unreadable key file, bad target.
    pub fn load(overrides: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let (path, file) = match read_config_file(overrides.config.as_deref())? {
            Some((path, text)) => {
                let file = parse_file_config(&path.display().to_string(), &text)?;
                (Some(path), file)
            }
            None => (None, FileConfig::default()),
        };
        Config::from_layers(path, file, overrides, env)
    }

    /// The layering itself, for an already parsed file.
    ///
    /// # Errors
    /// As [`Config::load`], minus file reading.
    pub fn from_layers(
        path: Option<PathBuf>,
        file: FileConfig,
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());

        let maas_url = env("MAAS_URL").or(file.maas.url);
        let maas_api_key = match (env("MAAS_API_KEY"), env("MAAS_API_KEY_FILE")) {
            (Some(key), _) => Some(Secret::new(key)),
            (None, Some(p)) => Some(read_secret_file("the MAAS API key", Path::new(&p))?),
            (None, None) => match (file.maas.api_key, file.maas.api_key_file) {
                (Some(key), _) => Some(key),
                (None, Some(p)) => Some(read_secret_file("the MAAS API key", &p)?),
                (None, None) => None,
            },
        };
        let maas_current = file
            .maas
            .current
            .as_deref()
            .map(|v| {
                Version::parse(v).map_err(|e| ConfigError::Value {
                    what: "[maas] current",
                    given: v.to_string(),
                    why: e.to_string(),
                })
            })
            .transpose()?;

        let libpq = LibpqEnv {
            host: env("PGHOST"),
            port: env("PGPORT"),
            user: env("PGUSER"),
            password: env("PGPASSWORD").map(Secret::new),
            dbname: env("PGDATABASE"),
        };
        let pg_dsn = match (env("DATABASE_URL"), file.postgresql.url) {
            (Some(url), _) => Some((Secret::new(url), DsnOrigin::DatabaseUrl)),
            (None, Some(url)) => Some((url, DsnOrigin::ConfigFile)),
            (None, None) if !libpq.is_empty() => Some((Secret::new(String::new()), DsnOrigin::LibpqEnv)),
            (None, None) => None,
        };

        let mut targets = BTreeMap::new();
        for (system, version) in &file.scan.targets {
            let (s, v) = parse_target(&format!("{system}={version}"))?;
            targets.insert(s, v);
        }
        for given in &overrides.targets {
            let (s, v) = parse_target(given)?;
            targets.insert(s, v);
        }

        let timeout = overrides
            .timeout
            .or(file.scan.timeout)
            .or(overrides.default_timeout)
            .unwrap_or(DEFAULT_TIMEOUT_SECS);
        if timeout == 0 {
            return Err(ConfigError::Value {
                what: "timeout",
                given: "0".into(),
                why: "must be at least 1 second".into(),
            });
        }
        let mender = MenderConfig {
            url: env("MENDER_URL").or(file.mender.url),
            token: match (env("MENDER_TOKEN"), file.mender.token, file.mender.token_file) {
                (Some(t), _, _) => Some(Secret::new(t)),
                (None, Some(t), _) => Some(t),
                (None, None, Some(p)) => Some(read_secret_file("the Mender token", &p)?),
                (None, None, None) => None,
            },
            username: env("MENDER_USERNAME").or(file.mender.username),
            password: env("MENDER_PASSWORD").map(Secret::new),
            current: file
                .mender
                .current
                .as_deref()
                .map(|v| {
                    Version::parse(v).map_err(|e| ConfigError::Value {
                        what: "[mender] current",
                        given: v.to_string(),
                        why: e.to_string(),
                    })
                })
                .transpose()?,
            target_edition: file.mender.target_edition.or_else(|| file.mender.edition.clone()),
            edition: file.mender.edition,
        };
        let juju = JujuConfig {
            cli: file.juju.cli,
            plan: file.juju.upgrade,
        };
        let backendai = BackendaiConfig {
            manager_url: env("BACKENDAI_ENDPOINT").or(file.backendai.manager_url),
            storage_proxy_url: file.backendai.storage_proxy_url,
            webserver_url: file.backendai.webserver_url,
            access_key: env("BACKENDAI_ACCESS_KEY"),
            secret_key: env("BACKENDAI_SECRET_KEY").map(Secret::new),
        };
        let split = |v: &[String]| -> Vec<String> {
            v.iter()
                .flat_map(|s| s.split(','))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let selection = Selection {
            select: split(&[file.scan.select.clone(), overrides.select.clone()].concat()),
            ignore: split(&[file.scan.ignore.clone(), overrides.ignore.clone()].concat()),
        };
        check_selectors(&selection.select)?;
        check_selectors(&selection.ignore)?;
        let range = |given: &Option<String>, what: &'static str| -> Result<crate::report::Range, ConfigError> {
            match given {
                None => Ok(crate::report::Range::ZERO),
                Some(text) => crate::report::Range::parse(text).map_err(|why| ConfigError::Value {
                    what,
                    given: text.clone(),
                    why,
                }),
            }
        };
        let policy = crate::report::Policy {
            fail_on: overrides.fail_on.or(file.scan.fail_on).unwrap_or_default(),
            warning: range(&overrides.warning, "--warning range")?,
            critical: range(&overrides.critical, "--critical range")?,
            allow_nothing: overrides.allow_nothing || file.scan.allow_nothing,
        };
        let mut waivers = crate::waivers::validate(file.waiver)?;
        let (waivers_file, required) = match &overrides.waivers {
            Some(p) => (p.clone(), true),
            None => (
                path.as_deref()
                    .and_then(Path::parent)
                    .unwrap_or(Path::new(""))
                    .join(DEFAULT_WAIVERS),
                false,
            ),
        };
        waivers.extend(crate::waivers::read_file(&waivers_file, required)?);
        let baseline = overrides
            .baseline
            .as_deref()
            .map(crate::waivers::read_baseline)
            .transpose()?;
        let ca_pem = match overrides.ca_cert.as_ref().or(file.scan.ca_cert.as_ref()) {
            None => None,
            Some(p) => {
                let pem = std::fs::read(p).map_err(|e| ConfigError::Read {
                    path: p.display().to_string(),
                    cause: e.to_string(),
                })?;
                let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ConfigError::Value {
                    what: "CA certificate file",
                    given: p.display().to_string(),
                    why: format!("not PEM certificates: {e}"),
                })?;
                if certs.is_empty() {
                    return Err(ConfigError::Value {
                        what: "CA certificate file",
                        given: p.display().to_string(),
                        why: "not PEM certificates: no BEGIN CERTIFICATE block in it".into(),
                    });
                }
                Some(pem)
            }
        };
        Ok(Config {
            ca_pem,
            insecure: file.scan.insecure,
            waivers,
            baseline,
            selection,
            policy,
            mender,
            juju,
            backendai,
            path,
            maas_url,
            maas_api_key,
            maas_current,
            concurrency: file.maas.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1),
            pg_dsn,
            libpq,
            pg_database: file.postgresql.database,
            maas_role: file.postgresql.maas_role,
            timeout: Duration::from_secs(timeout),
            retries: file.scan.retries.unwrap_or(DEFAULT_RETRIES),
            max_response_bytes: file.scan.max_response_mib.unwrap_or(DEFAULT_MAX_RESPONSE_MIB) * 1024 * 1024,
            targets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn env_overrides_file_and_flags_override_env() {
        let file = parse_file_config(
            "t.toml",
            "[maas]\nurl = \"http://file:5240/MAAS\"\napi_key = \"a:b:c\"\n[scan]\ntimeout = 5\ntargets = { maas = \"3.4\" }\n",
        )
        .unwrap();
        let overrides = Overrides {
            targets: vec!["maas=3.5".into()],
            timeout: Some(9),
            ..Default::default()
        };
        let env = env_of(&[("MAAS_URL", "http://env:5240/MAAS")]);
        let c = Config::from_layers(None, file, &overrides, &env).unwrap();
        assert_eq!(c.maas_url.as_deref(), Some("http://env:5240/MAAS"));
        assert_eq!(c.maas_api_key.unwrap().expose(), "a:b:c");
        assert_eq!(c.timeout, Duration::from_secs(9));
        assert_eq!(c.targets["maas"].raw, "3.5");
    }

    #[test]
    fn parse_error_points_at_the_line() {
        let text = "[maas]\nurl = \"x\"\nbogus = 1\n";
        let err = parse_file_config("p.toml", text).unwrap_err();
        match err {
            ConfigError::Parse {
                span: Some(span),
                message,
                ..
            } => {
                assert_eq!(&text[span.offset()..span.offset() + span.len()], "bogus");
                assert!(message.contains("unknown field"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_targets() {
        for bad in ["maas", "nomad=1.0", "maas=latest"] {
            let o = Overrides {
                targets: vec![bad.into()],
                ..Default::default()
            };
            assert!(
                Config::from_layers(None, FileConfig::default(), &o, &env_of(&[])).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn config_debug_redacts_every_secret() {
        let env = env_of(&[
            ("MAAS_API_KEY", "ck:tk:CANARY-ts"),
            ("DATABASE_URL", "postgresql://u:CANARY-pw@h/db"),
            ("PGPASSWORD", "CANARY-pg"),
            ("MENDER_TOKEN", "CANARY-mt"),
            ("MENDER_PASSWORD", "CANARY-mp"),
            ("BACKENDAI_SECRET_KEY", "CANARY-bs"),
        ]);
        let c = Config::from_layers(None, FileConfig::default(), &Overrides::default(), &env).unwrap();
        assert!(!format!("{c:?}").contains("CANARY"), "{c:?}");
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s} {s:?}"), "*** ***");
    }

    #[test]
    fn libpq_env_alone_is_a_dsn() {
        let c = Config::from_layers(
            None,
            FileConfig::default(),
            &Overrides::default(),
            &env_of(&[("PGHOST", "/tmp")]),
        )
        .unwrap();
        assert_eq!(c.pg_dsn.unwrap().1, DsnOrigin::LibpqEnv);
    }
}

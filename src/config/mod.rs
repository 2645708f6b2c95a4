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

use miette::{NamedSource, SourceSpan};
use serde::Deserialize;

use crate::core::check::CheckDef;
use crate::core::knowledge::KnowledgePack;

pub mod catalogue;
pub mod error;

use crate::version::Version;
pub use catalogue::Catalogue;
use error::parse_error;
pub use error::{parse_toml, ConfigError};

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
/// What configuration needs of a system: its names, its checks, its sections of
/// `preflight.toml` and how it reads them. Every registered system is one (the registry's
/// systems are given to [`Config::load`] by the caller, so this module names none).
pub trait Configurable: Sync {
    /// The name in `--target NAME=VERSION` and the selectors (`maas`).
    fn name(&self) -> &'static str;

    /// The check-id prefix its pack owns (`MAAS`).
    fn prefix(&self) -> &'static str;

    /// Its knowledge pack (`checks/maas.toml`, merged with `--knowledge DIR`'s file).
    fn pack(&self) -> &'static dyn KnowledgePack;

    /// The catalogue entries of its pack.
    fn checks(&self) -> &'static [CheckDef] {
        self.pack().checks()
    }

    /// The sections of `preflight.toml` it owns (`[maas]`, `[postgresql]`).
    fn config_sections(&self) -> &'static [&'static str];

    /// Reads and validates its own configuration (its sections of `preflight.toml` and its
    /// environment variables) when the configuration is loaded; the engine finds it again
    /// with [`Config::of`].
    ///
    /// # Errors
    /// A bad section, an unreadable secret file, a bad value: the run exits 3 before probing.
    fn load_config(&self, sources: &Sources) -> Result<Box<dyn SystemConfig>, ConfigError>;
}

impl Catalogue {
    /// The catalogue of `systems`.
    pub fn of(systems: &[&dyn Configurable]) -> Catalogue {
        let mut checks: Vec<&'static CheckDef> = systems.iter().flat_map(|s| s.checks()).collect();
        checks.sort_by(|a, b| a.id.cmp(&b.id));
        Catalogue {
            checks,
            systems: systems.iter().map(|s| (s.name(), s.prefix())).collect(),
        }
    }
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

/// `preflight.toml`, as written by the user: the shared `[scan]` section and the waivers.
/// Every registered system reads its own sections from [`FileConfig::source`] (see
/// [`Sources::section`]); a top-level key that neither names is refused.
#[derive(Debug, Default, Deserialize)]
pub struct FileConfig {
    #[serde(default)]
    pub scan: ScanSection,
    /// Accepted findings (see [`crate::waivers`]).
    #[serde(default)]
    pub waiver: Vec<crate::waivers::WaiverSpec>,
    /// The file's name and text, which the systems' sections are read from.
    #[serde(skip)]
    pub source: Option<FileSource>,
}

/// A config file's name (for diagnostics) and text.
#[derive(Debug, Clone)]
pub struct FileSource {
    pub name: String,
    pub text: String,
}

/// The sections of `preflight.toml` that no system owns.
const SHARED_SECTIONS: &[&str] = &["scan", "waiver"];

/// One registered system's resolved configuration, kept in [`Config`] and found by its type
/// ([`Config::of`]). Implemented for every `Clone + Debug` type (whose `Debug` must not show
/// secrets: hold them in [`Secret`]).
pub trait SystemConfig: std::any::Any + Send + Sync + fmt::Debug {
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn SystemConfig>;
    /// As `Any`, to downcast.
    fn as_any(&self) -> &dyn std::any::Any;
    /// As `Any`, to downcast mutably.
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

impl<T: std::any::Any + Send + Sync + fmt::Debug + Clone> SystemConfig for T {
    fn clone_box(&self) -> Box<dyn SystemConfig> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

impl Clone for Box<dyn SystemConfig> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// What a system's configuration is read from: the config file (if any) and the environment
/// (empty values count as unset).
pub struct Sources<'a> {
    file: Option<&'a FileSource>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Sources<'a> {
    /// Sources over `file` and `env`.
    pub fn new(file: Option<&'a FileSource>, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Sources { file, env }
    }

    /// The environment variable `name`, unless unset or blank.
    pub fn env(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.trim().is_empty())
    }

    /// The section `[key]` of the config file as `T` (`T::default()` when the file or the
    /// section is absent).
    ///
    /// # Errors
    /// [`ConfigError::Parse`] pointing at the offending key or value in the file.
    pub fn section<T: serde::de::DeserializeOwned + Default>(&self, key: &'static str) -> Result<T, ConfigError> {
        let Some(file) = self.file else {
            return Ok(T::default());
        };
        let picked = serde::Deserializer::deserialize_map(
            toml::Deserializer::new(&file.text),
            Pick::<T> {
                key,
                item: std::marker::PhantomData,
            },
        );
        picked
            .map(Option::unwrap_or_default)
            .map_err(|e| parse_error(&file.name, &file.text, &e))
    }
}

/// Deserializes one top-level key of a document, ignoring the others.
struct Pick<T> {
    key: &'static str,
    item: std::marker::PhantomData<T>,
}

impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Pick<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a table with an optional [{}] section", self.key)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.key {
                found = Some(map.next_value::<T>()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(found)
    }
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

/// Everything a scan needs, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file that was read, if any.
    pub path: Option<PathBuf>,
    pub timeout: Duration,
    pub retries: usize,
    pub max_response_bytes: u64,
    /// Target per system (`maas` → `3.5`). Missing systems take their pack's newest release.
    pub targets: BTreeMap<String, Version>,
    /// Each registered system's own configuration, found by type ([`Config::of`]).
    pub systems: Vec<Box<dyn SystemConfig>>,
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
    /// What the patterns are matched against.
    pub catalogue: Catalogue,
}

impl Selection {
    /// Whether check `id` runs under this selection (a check the catalogue does not know
    /// always does).
    pub fn includes(&self, id: &str) -> bool {
        let Some(def) = self.catalogue.checks.iter().find(|c| c.id == id) else {
            return true;
        };
        (self.select.is_empty() || self.select.iter().any(|p| self.catalogue.matches(p, def)))
            && !self.ignore.iter().any(|p| self.catalogue.matches(p, def))
    }
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

/// Parses config text, knowing the sections of `systems`; errors carry the source and a span
/// for miette.
///
/// # Errors
/// [`ConfigError::Parse`] pointing at the offending key or value.
pub fn parse_file_config(name: &str, text: &str, systems: &[&dyn Configurable]) -> Result<FileConfig, ConfigError> {
    let keys: BTreeMap<toml::Spanned<String>, serde::de::IgnoredAny> = parse_toml(name, text)?;
    let mut known: Vec<&str> = SHARED_SECTIONS.to_vec();
    for system in systems {
        known.extend(system.config_sections());
    }
    if let Some(key) = keys.keys().find(|k| !known.contains(&k.get_ref().as_str())) {
        let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        let span = key.span();
        return Err(ConfigError::Parse {
            message: format!("unknown field `{}`, expected one of {}", key.get_ref(), list.join(", ")),
            src: NamedSource::new(name, text.to_string()),
            span: Some(SourceSpan::from(span.start..span.end.max(span.start + 1))),
        });
    }
    let mut file: FileConfig = parse_toml(name, text)?;
    file.source = Some(FileSource {
        name: name.to_string(),
        text: text.to_string(),
    });
    Ok(file)
}

/// The first line of the file at `path`, trimmed, as a secret (`what` names it in errors).
///
/// # Errors
/// [`ConfigError::SecretFile`] when the file cannot be read.
pub fn read_secret_file(what: &'static str, path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::SecretFile {
        what,
        path: path.display().to_string(),
        cause: e.to_string(),
    })?;
    Ok(Secret::new(text.lines().next().unwrap_or("").trim().to_string()))
}

/// `v` as a version, or the error naming `what` (`[maas] current`).
///
/// # Errors
/// [`ConfigError::Value`] when `v` is not a version.
pub fn parse_version(what: &'static str, v: &str) -> Result<Version, ConfigError> {
    Version::parse(v).map_err(|e| ConfigError::Value {
        what,
        given: v.to_string(),
        why: e.to_string(),
    })
}

fn parse_target(given: &str, catalogue: &Catalogue) -> Result<(String, Version), ConfigError> {
    let bad = |why: &str| ConfigError::Target {
        given: given.to_string(),
        why: why.to_string(),
        known: catalogue.names().join(", "),
    };
    let (system, version) = given.split_once('=').ok_or_else(|| bad("missing '='"))?;
    let system = system.trim().to_ascii_lowercase();
    if !catalogue.names().contains(&system.as_str()) {
        return Err(bad(&format!("unknown system '{system}'")));
    }
    let version = Version::parse(version).map_err(|e| bad(&e.to_string()))?;
    Ok((system, version))
}

impl Config {
    /// The configuration of the registered system whose config type is `T`.
    ///
    /// # Panics
    /// When no registered system loads a `T` (a programming error: every registered system's
    /// configuration is loaded with the rest, and each system asks only for its own).
    pub fn of<T: 'static>(&self) -> &T {
        self.systems
            .iter()
            .find_map(|c| (**c).as_any().downcast_ref::<T>())
            .unwrap_or_else(|| panic!("no registered system loads a {}", std::any::type_name::<T>()))
    }

    /// [`Config::of`], to change (the demo points systems at its fakes).
    ///
    /// # Panics
    /// As [`Config::of`].
    pub fn of_mut<T: 'static>(&mut self) -> &mut T {
        self.systems
            .iter_mut()
            .find_map(|c| (**c).as_any_mut().downcast_mut::<T>())
            .unwrap_or_else(|| panic!("no registered system loads a {}", std::any::type_name::<T>()))
    }

    /// Layers file, environment and flags for `systems` (the registry's). `env` looks up one
    /// variable (the process environment in production, a map in tests).
    ///
    /// # Errors
    /// Any [`ConfigError`]: unreadable or invalid file, unreadable key file, bad target.
    pub fn load(
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
        systems: &[&dyn Configurable],
    ) -> Result<Config, ConfigError> {
        let (path, file) = match read_config_file(overrides.config.as_deref())? {
            Some((path, text)) => {
                let file = parse_file_config(&path.display().to_string(), &text, systems)?;
                (Some(path), file)
            }
            None => (None, FileConfig::default()),
        };
        Config::from_layers(path, file, overrides, env, systems)
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
        systems: &[&dyn Configurable],
    ) -> Result<Config, ConfigError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let catalogue = Catalogue::of(systems);

        let mut targets = BTreeMap::new();
        for (system, version) in &file.scan.targets {
            let (s, v) = parse_target(&format!("{system}={version}"), &catalogue)?;
            targets.insert(s, v);
        }
        for given in &overrides.targets {
            let (s, v) = parse_target(given, &catalogue)?;
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
        let sources = Sources::new(file.source.as_ref(), &env);
        let systems = systems
            .iter()
            .map(|system| system.load_config(&sources))
            .collect::<Result<Vec<_>, _>>()?;
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
            catalogue,
        };
        selection.catalogue.check_selectors(&selection.select)?;
        selection.catalogue.check_selectors(&selection.ignore)?;
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
        let mut waivers = crate::waivers::validate(file.waiver, &selection.catalogue)?;
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
        waivers.extend(crate::waivers::read_file(
            &waivers_file,
            required,
            &selection.catalogue,
        )?);
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
            systems,
            path,
            timeout: Duration::from_secs(timeout),
            retries: file.scan.retries.unwrap_or(DEFAULT_RETRIES),
            max_response_bytes: file.scan.max_response_mib.unwrap_or(DEFAULT_MAX_RESPONSE_MIB) * 1024 * 1024,
            targets,
        })
    }
}

/// An environment of only `pairs`, as [`Config::load`] reads one (for tests).
#[cfg(test)]
pub(crate) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: std::collections::HashMap<String, String> =
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k| map.get(k).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_points_at_the_line() {
        let text = "[maas]\nurl = \"x\"\nbogus = 1\n";
        // A system's section is read by that system, when the layers are joined.
        let file = parse_file_config("p.toml", text, &crate::systems::configurable()).unwrap();
        let err = Config::from_layers(
            None,
            file,
            &Overrides::default(),
            &env_of(&[]),
            &crate::systems::configurable(),
        )
        .unwrap_err();
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
    fn an_unknown_section_points_at_its_key() {
        let text = "[scan]\ntimeout = 5\n[nomad]\nurl = \"x\"\n";
        match parse_file_config("p.toml", text, &crate::systems::configurable()).unwrap_err() {
            ConfigError::Parse {
                span: Some(span),
                message,
                ..
            } => {
                assert_eq!(&text[span.offset()..span.offset() + span.len()], "nomad");
                assert!(
                    message.starts_with("unknown field `nomad`, expected one of `scan`, `waiver`, `maas`"),
                    "{message}"
                );
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
                Config::from_layers(
                    None,
                    FileConfig::default(),
                    &o,
                    &env_of(&[]),
                    &crate::systems::configurable()
                )
                .is_err(),
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
            ("PROXMOX_VE_API_TOKEN", "root@pam!preflight=CANARY-pve"),
        ]);
        let c = Config::from_layers(
            None,
            FileConfig::default(),
            &Overrides::default(),
            &env,
            &crate::systems::configurable(),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("CANARY"), "{c:?}");
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s} {s:?}"), "*** ***");
    }
}

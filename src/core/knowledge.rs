//! `--knowledge DIR`: knowledge packs beside the binary's. A `DIR/<pack>.toml` (same name as
//! an embedded pack, e.g. `mender.toml`) is merged over the embedded pack: its tables merge
//! key by key, its values (an empty array too) replace, and its arrays of tables extend the
//! embedded rows — a row whose `id` or `version` equals an embedded row's replaces that row,
//! any other row is added (a new release row without a new binary). A file that is not valid TOML, or whose merged
//! pack the system does not accept, is a configuration error (exit 3) naming the file.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::config::error::{parse_toml, ConfigError};
use crate::core::check::{CheckDef, Pack};

/// A system's knowledge pack: its file name, its embedded text, and the pack parsed once (the
/// embedded text merged with `--knowledge DIR`'s file of the same name).
pub struct PackFile<T> {
    file: &'static str,
    embedded: &'static str,
    parsed: OnceLock<T>,
}

impl<T: serde::de::DeserializeOwned> PackFile<T> {
    /// The pack `file` (`mender.toml`) shipped as `embedded` (`include_str!` of `checks/file`).
    pub const fn new(file: &'static str, embedded: &'static str) -> Self {
        PackFile {
            file,
            embedded,
            parsed: OnceLock::new(),
        }
    }

    /// The file name, under `checks/` and in `--knowledge DIR`.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The embedded text.
    pub fn embedded(&self) -> &'static str {
        self.embedded
    }

    /// The parsed pack.
    ///
    /// # Panics
    /// When the pack does not parse: the embedded ones are tested to, and a `--knowledge` one
    /// is checked by [`PackFile::check`] before any command runs.
    pub fn get(&self) -> &T {
        self.parsed
            .get_or_init(|| parse(self.file, self.embedded).expect("checked at start (check), embedded one tested"))
    }

    /// Whether the pack parses (with `--knowledge DIR`'s file merged over it).
    ///
    /// # Errors
    /// The configuration error naming the file.
    pub fn check(&self) -> Result<(), ConfigError> {
        parse::<T>(self.file, self.embedded).map(|_| ())
    }
}

/// A system's knowledge pack seen without its type: what the engine and the CLI ask of every
/// pack (its file, whether it parses, its checks). [`PackFile`] of any [`Pack`] is one.
pub trait KnowledgePack: Sync {
    /// The file name, under `checks/` and in `--knowledge DIR` (`maas.toml`).
    fn file(&self) -> &'static str;

    /// Whether the pack (with `--knowledge DIR`'s file merged over it) parses and is accepted;
    /// checked before any command runs.
    ///
    /// # Errors
    /// The configuration error naming the file.
    fn check(&self) -> Result<(), ConfigError>;

    /// The catalogue entries of the pack's checks.
    ///
    /// # Panics
    /// As [`PackFile::get`]: when the pack does not parse, which [`KnowledgePack::check`] rules
    /// out before any command runs (and a test does for the embedded packs).
    fn checks(&'static self) -> &'static [CheckDef];
}

impl<T: serde::de::DeserializeOwned + Pack + Send + Sync> KnowledgePack for PackFile<T> {
    fn file(&self) -> &'static str {
        PackFile::file(self)
    }

    fn check(&self) -> Result<(), ConfigError> {
        PackFile::check(self)
    }

    fn checks(&'static self) -> &'static [CheckDef] {
        self.get().checks()
    }
}

/// The directory given with `--knowledge` (set once, before any pack is read).
static DIR: OnceLock<PathBuf> = OnceLock::new();

/// Uses `dir` for every pack read from now on. Returns `false` when a directory was set
/// already (the first one stays).
pub fn set_dir(dir: PathBuf) -> bool {
    DIR.set(dir).is_ok()
}

/// Where a pack comes from: the binary, or a file of `--knowledge DIR` merged over it.
pub fn origin(file: &str) -> Option<PathBuf> {
    DIR.get().map(|d| d.join(file)).filter(|p| p.is_file())
}

/// The text of pack `file` (embedded as `embedded`): the embedded text, or the merge of
/// `--knowledge DIR`'s file over it.
///
/// # Errors
/// [`ConfigError`] when DIR's file cannot be read or is not valid TOML.
pub fn text(file: &str, embedded: &'static str) -> Result<Cow<'static, str>, ConfigError> {
    let Some(path) = origin(file) else {
        return Ok(Cow::Borrowed(embedded));
    };
    merged_text(&path, embedded).map(Cow::Owned)
}

/// Pack `file` (embedded as `embedded`), merged with `--knowledge DIR`'s file when there is
/// one, parsed as `T`.
///
/// # Errors
/// As [`text`], and [`ConfigError::Value`] naming the file when the merged pack is not a `T`.
pub fn parse<T: serde::de::DeserializeOwned>(file: &str, embedded: &'static str) -> Result<T, ConfigError> {
    let text = text(file, embedded)?;
    toml::from_str(&text).map_err(|e| ConfigError::Value {
        what: "knowledge pack",
        given: origin(file).map_or_else(|| file.to_string(), |p| p.display().to_string()),
        why: e.message().trim().to_string(),
    })
}

/// The text of `embedded` with the pack at `path` merged over it.
///
/// # Errors
/// As [`text`].
pub fn merged_text(path: &Path, embedded: &str) -> Result<String, ConfigError> {
    let given = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        cause: e.to_string(),
    })?;
    let over: toml::Table = parse_toml(&path.display().to_string(), &given)?;
    let mut base: toml::Table = toml::from_str(embedded).map_err(|e| ConfigError::Read {
        path: "the embedded pack".into(),
        cause: e.to_string(),
    })?;
    merge(&mut base, over);
    toml::to_string(&base).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        cause: e.to_string(),
    })
}

/// Merges `over` into `base` (see the module documentation).
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (Some(toml::Value::Array(b)), toml::Value::Array(o))
                if !o.is_empty() && o.iter().all(toml::Value::is_table) =>
            {
                for row in o {
                    match b.iter_mut().find(|r| same_row(r, &row)) {
                        Some(existing) => *existing = row,
                        None => b.push(row),
                    }
                }
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Whether two rows are the same entry: equal `id` (checks) or equal `version` (releases).
fn same_row(a: &toml::Value, b: &toml::Value) -> bool {
    ["id", "version"]
        .iter()
        .any(|k| a.get(k).is_some_and(|v| Some(v) == b.get(k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMBEDDED: &str = r#"
system = "mender"
[paths]
allowed_jumps = ["1.7-2.0"]
[[series]]
version = "4.0"
last = "4.0.1"
[[check]]
id = "X001"
title = "old"
"#;

    #[test]
    fn rows_are_replaced_by_key_and_added_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mender.toml");
        std::fs::write(
            &path,
            "[[series]]\nversion = \"4.0\"\nlast = \"4.0.2\"\n[[series]]\nversion = \"4.2\"\nlast = \"4.2.0\"\n[[check]]\nid = \"X001\"\ntitle = \"new\"\n[paths]\nallowed_jumps = []\n",
        )
        .unwrap();
        let merged: toml::Table = toml::from_str(&merged_text(&path, EMBEDDED).unwrap()).unwrap();
        let series = merged["series"].as_array().unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!(series[0]["last"].as_str(), Some("4.0.2"));
        assert_eq!(series[1]["version"].as_str(), Some("4.2"));
        assert_eq!(merged["check"][0]["title"].as_str(), Some("new"));
        assert_eq!(merged["paths"]["allowed_jumps"].as_array().map(Vec::len), Some(0));
        assert_eq!(merged["system"].as_str(), Some("mender"));
    }

    #[test]
    fn a_broken_file_points_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mender.toml");
        std::fs::write(&path, "[[series]\nversion = 1\n").unwrap();
        match merged_text(&path, EMBEDDED).unwrap_err() {
            ConfigError::Parse { span: Some(_), .. } => {}
            other => panic!("{other:?}"),
        }
    }
}

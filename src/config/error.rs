//! Why a configuration cannot be used (exit 3), and the TOML parsing every config file shares.

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

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
    #[diagnostic(
        code(preflight::config::target),
        help("use SYSTEM=VERSION, e.g. --target maas=3.5; known systems: {known}")
    )]
    Target { given: String, why: String, known: String },

    #[error("bad {what} '{given}': {why}")]
    #[diagnostic(code(preflight::config::value))]
    Value {
        what: &'static str,
        given: String,
        why: String,
    },
}

/// Parses any TOML file preflight reads, with a spanned diagnostic on error.
///
/// # Errors
/// [`ConfigError::Parse`] pointing at the offending key or value.
pub fn parse_toml<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| parse_error(name, text, &e))
}

/// A TOML error of `name` (text `text`) as a spanned diagnostic.
pub(crate) fn parse_error(name: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    ConfigError::Parse {
        message: e.message().trim().to_string(),
        src: NamedSource::new(name, text.to_string()),
        span: e
            .span()
            .map(|r| SourceSpan::from(r.start..r.end.max(r.start + 1).min(text.len().max(1)))),
    }
}

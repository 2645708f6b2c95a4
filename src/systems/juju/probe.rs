//! The Juju probe: runs the juju CLI (`juju version`, `juju controllers --format=json
//! --refresh`, `juju models --format=json -c NAME`) with the configured timeout and parses its
//! JSON (FACTS.md §3). Read-only commands only.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::core::probed::{ErrorKind, ProbeError, Probed};
use crate::host::{HostSource, RunError};
use crate::systems::juju::facts::{Controller, JujuState, Model};
use crate::version::Version;

/// `juju controllers --format=json` (wire shape, upstream `ControllerSet`): `controllers` is
/// `null` when the client knows none (it still exits 0).
#[derive(Deserialize)]
pub struct Controllers {
    #[serde(default)]
    controllers: Option<BTreeMap<String, ControllerEntry>>,
}

#[derive(Deserialize)]
struct ControllerEntry {
    #[serde(rename = "agent-version", default)]
    agent_version: Option<String>,
}

/// `juju models --all --format=json` (wire shape, upstream `ModelSummarySet`).
#[derive(Deserialize)]
pub struct Models {
    #[serde(default)]
    models: Option<Vec<ModelEntry>>,
}

#[derive(Deserialize)]
struct ModelEntry {
    /// `owner/name` (the qualified name).
    name: String,
    #[serde(rename = "short-name", default)]
    short_name: Option<String>,
    #[serde(rename = "is-controller", default)]
    is_controller: bool,
    #[serde(rename = "agent-version", default)]
    agent_version: Option<String>,
}

/// `3.6.4-genericlinux-amd64` → `3.6.4` (drops the OS and architecture juju appends).
pub fn juju_version(text: &str) -> Option<Version> {
    let t = text.trim();
    let parts: Vec<&str> = t.split('-').collect();
    let core = if parts.len() >= 3 {
        parts[..parts.len() - 2].join("-")
    } else {
        t.to_string()
    };
    Version::parse(&core).ok()
}

/// What a juju command left: its JSON, and its standard error (the `--refresh` warnings).
async fn run_json<T: for<'de> Deserialize<'de>>(
    source: &HostSource,
    cli: &str,
    args: &[&str],
) -> Result<(T, String), ProbeError> {
    let line = format!("{cli} {}", args.join(" "));
    let out = source.command(cli, args).await.map_err(|e| match e {
        RunError::NotFound => ProbeError::new(ErrorKind::NotFound, format!("{cli} is not installed (set [juju] cli)")),
        RunError::Failed(cause) => cause,
    })?;
    let said = last_error_line(&out.stderr);
    if out.code != 0 {
        return Err(ProbeError::new(
            ErrorKind::Failed,
            match said {
                Some(text) => format!("`{line}` exited with status {}: {text}", out.code),
                None => format!("`{line}` exited with status {}", out.code),
            },
        ));
    }
    serde_json::from_str(&out.stdout).map(|t| (t, out.stderr)).map_err(|e| {
        ProbeError::new(
            ErrorKind::BadAnswer,
            format!("`{line}` printed something that is not the expected JSON: {e}"),
        )
    })
}

/// The last non-empty line of a command's standard error, trimmed (juju's `ERROR …` line).
fn last_error_line(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(str::to_string)
}

/// The line of `juju controllers --refresh`'s standard error about controller `name`, if any:
/// the client could not refresh its cached details (an unreachable or stale controller).
fn refresh_error(stderr: &str, name: &str) -> Option<String> {
    stderr
        .lines()
        .map(str::trim)
        .find(|l| {
            l.split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ':')
                .any(|w| w == name)
        })
        .map(str::to_string)
}

/// Reads the client, the controllers and every model of each (`juju models --all`, which an
/// admin needs). Skipped when no juju CLI is configured and none is on PATH, or when the client
/// knows no controller; failed when a configured or found CLI errors or prints garbage. A
/// controller that cannot be read is kept with the cause: the others are still checked.
pub async fn probe(source: &HostSource, cli: Option<&str>) -> Probed<JujuState> {
    let (cli, explicit) = match cli {
        Some(c) => (c, true),
        None => ("juju", false),
    };
    let version = match source.command(cli, &["version"]).await {
        Ok(out) if out.code == 0 => out.stdout,
        Ok(out) => {
            return Probed::Failed(ProbeError::new(
                ErrorKind::Failed,
                format!("`{cli} version` exited with status {}", out.code),
            ))
        }
        Err(RunError::NotFound) if !explicit => {
            return Probed::Skipped("Juju not found: no juju CLI on PATH (set [juju] cli to check Juju)".into())
        }
        Err(RunError::NotFound) => {
            return Probed::Failed(ProbeError::new(
                ErrorKind::NotFound,
                format!("the configured juju CLI {cli} is not there"),
            ))
        }
        Err(RunError::Failed(cause)) => return Probed::Failed(cause),
    };
    let Some(client) = juju_version(&version) else {
        return Probed::Failed(ProbeError::new(
            ErrorKind::BadAnswer,
            format!("`{cli} version` printed '{}', not a version", version.trim()),
        ));
    };
    let (listed, refresh_stderr): (Controllers, String) =
        match run_json(source, cli, &["controllers", "--format=json", "--refresh"]).await {
            Ok(c) => c,
            Err(e) => return Probed::Failed(e),
        };
    let listed = listed.controllers.unwrap_or_default();
    if listed.is_empty() {
        return Probed::Skipped("the juju client knows no controller (`juju controllers` lists none)".into());
    }
    let mut controllers = Vec::new();
    for (name, entry) in listed {
        let agent = entry.agent_version.as_deref().and_then(juju_version);
        let read = match (&agent, refresh_error(&refresh_stderr, &name)) {
            (_, Some(warning)) => Err(ProbeError::new(
                ErrorKind::Unreachable,
                format!("`{cli} controllers --refresh` could not refresh controller {name}: {warning}"),
            )),
            (None, None) => Err(ProbeError::new(
                ErrorKind::BadAnswer,
                format!("controller {name} reports no agent-version"),
            )),
            (Some(_), None) => read_models(source, cli, &name).await,
        };
        controllers.push(Controller {
            name,
            agent,
            models: read,
        });
    }
    Probed::Found(JujuState { client, controllers })
}

async fn read_models(source: &HostSource, cli: &str, controller: &str) -> Result<Vec<Model>, ProbeError> {
    let (models, _): (Models, String) = run_json(source, cli, &["models", "--all", "--format=json", "-c", controller])
        .await
        .map_err(|e| {
            if e.detail.contains("permission denied") || e.detail.contains("unauthorized") {
                ProbeError::new(
                    ErrorKind::Forbidden,
                    format!("{e} (`juju models --all` lists every user's models for a controller admin only: run preflight as one)"),
                )
            } else {
                e
            }
        })?;
    models
        .models
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let agent = m.agent_version.as_deref().and_then(juju_version).ok_or_else(|| {
                ProbeError::new(
                    ErrorKind::BadAnswer,
                    format!("model {} of controller {controller} reports no agent-version", m.name),
                )
            })?;
            let is_controller =
                m.is_controller || (m.short_name.as_deref() == Some("controller") && m.name.ends_with("/controller"));
            Ok(Model {
                name: m.name,
                agent,
                is_controller,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_os_and_arch() {
        assert_eq!(juju_version("3.6.4-genericlinux-amd64").unwrap().normalized(), "3.6.4");
        assert_eq!(juju_version("2.9.42-ubuntu-amd64").unwrap().normalized(), "2.9.42");
        assert_eq!(juju_version("3.6.4").unwrap().normalized(), "3.6.4");
        assert!(juju_version("garbage").is_none());
    }
}

//! The Juju probe: runs the juju CLI (`juju version`, `juju controllers --format=json
//! --refresh`, `juju models --format=json -c NAME`) with the configured timeout and parses its
//! JSON (FACTS.md §3). Read-only commands only.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::host::{HostSource, RunError};
use super::Probed;
use crate::checks::juju::{Controller, JujuState, Model};
use crate::version::Version;

/// `juju controllers --format=json` (wire shape).
#[derive(Deserialize)]
pub struct Controllers {
    #[serde(default)]
    controllers: BTreeMap<String, ControllerEntry>,
}

#[derive(Deserialize)]
struct ControllerEntry {
    #[serde(rename = "agent-version")]
    agent_version: Option<String>,
}

/// `juju models --format=json` (wire shape).
#[derive(Deserialize)]
pub struct Models {
    #[serde(default)]
    models: Vec<ModelEntry>,
}

#[derive(Deserialize)]
struct ModelEntry {
    name: String,
    #[serde(rename = "agent-version")]
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

async fn run_json<T: for<'de> Deserialize<'de>>(source: &HostSource, cli: &str, args: &[&str]) -> Result<T, String> {
    let line = format!("{cli} {}", args.join(" "));
    let (code, out) = source.command(cli, args).await.map_err(|e| match e {
        RunError::NotFound => format!("{cli} is not installed (set [juju] cli)"),
        RunError::Failed(cause) => cause,
    })?;
    if code != 0 {
        return Err(format!("`{line}` exited with status {code}"));
    }
    serde_json::from_str(&out).map_err(|e| format!("`{line}` printed something that is not the expected JSON: {e}"))
}

/// Reads client, controllers and models. Skipped when no juju CLI is configured and none is on
/// PATH; failed when a configured or found CLI errors or prints garbage.
pub async fn probe(source: &HostSource, cli: Option<&str>) -> Probed<JujuState> {
    let (cli, explicit) = match cli {
        Some(c) => (c, true),
        None => ("juju", false),
    };
    let version = match source.command(cli, &["version"]).await {
        Ok((0, out)) => out,
        Ok((code, _)) => return Probed::Failed(format!("`{cli} version` exited with status {code}")),
        Err(RunError::NotFound) if !explicit => {
            return Probed::Skipped("Juju not found: no juju CLI on PATH (set [juju] cli to check Juju)".into())
        }
        Err(RunError::NotFound) => return Probed::Failed(format!("the configured juju CLI {cli} is not there")),
        Err(RunError::Failed(cause)) => return Probed::Failed(cause),
    };
    let Some(client) = juju_version(&version) else {
        return Probed::Failed(format!("`{cli} version` printed '{}', not a version", version.trim()));
    };
    let listed: Controllers = match run_json(source, cli, &["controllers", "--format=json", "--refresh"]).await {
        Ok(c) => c,
        Err(e) => return Probed::Failed(e),
    };
    if listed.controllers.is_empty() {
        return Probed::Skipped("the juju client knows no controller".into());
    }
    let mut controllers = Vec::new();
    for (name, entry) in listed.controllers {
        let Some(agent) = entry.agent_version.as_deref().and_then(juju_version) else {
            return Probed::Failed(format!("controller {name} reports no agent-version"));
        };
        let models: Models = match run_json(source, cli, &["models", "--format=json", "-c", &name]).await {
            Ok(m) => m,
            Err(e) => return Probed::Failed(e),
        };
        let models = models
            .models
            .into_iter()
            .filter_map(|m| {
                m.agent_version
                    .as_deref()
                    .and_then(juju_version)
                    .map(|agent| Model { name: m.name, agent })
            })
            .collect();
        controllers.push(Controller { name, agent, models });
    }
    Probed::Found(JujuState { client, controllers })
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

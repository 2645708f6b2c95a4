//! Where host facts come from, for every system that reads its host: files, commands and
//! process command lines, and the facts any system may want of a host (the release from
//! `/etc/os-release` or `lsb_release -a`, systemd unit states). What a system makes of its
//! host (MAAS: its install, regiond.conf, time sync) lives in that system's folder.
//!
//! A [`HostSource`] is this machine ([`HostSource::Live`]), a root directory on it
//! ([`HostSource::Root`]: a mounted image, a container root; `--root`), or a recorded host
//! ([`HostSource::Recorded`]: `--demo`, tests, and hosts recorded over SSH), so the same parsing
//! serves all. A system lists the reads its host probe makes ([`HostRead`]), so a remote host
//! can be recorded in one go.

pub mod inventory;
pub mod root;
pub mod ssh;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::FutureExt;
use serde::Deserialize;

use crate::core::probed::{ErrorKind, ProbeError};
use crate::version::Series;

/// A host recorded as files, command outputs and process command lines.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedHost {
    /// Path → content. A path listed with any content also "exists".
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Command line (words joined by one space) → `[exit code, stdout]`.
    #[serde(default)]
    pub commands: BTreeMap<String, (i32, String)>,
    /// `argv[0]` of each running process.
    #[serde(default)]
    pub processes: Vec<String>,
    /// Command line → what it printed on standard error (nothing when not listed).
    #[serde(default)]
    pub stderr: BTreeMap<String, String>,
    /// Command lines that start but never finish (a hung `systemctl`, a stuck D-Bus).
    #[serde(default)]
    pub hanging: BTreeSet<String>,
    /// The time limit, in seconds, the commands in [`RecordedHost::hanging`] were stopped at on
    /// the host (over SSH: timeout(1) with [`ssh::SshOptions::command_timeout`]); the probe
    /// then reports each at once with that limit. Without one (a hand-written recording), a
    /// hanging command is waited for [`RECORDED_COMMAND_TIMEOUT`].
    #[serde(default)]
    pub hanging_limit: Option<f32>,
    /// Paths that exist but cannot be read by the user preflight runs as (regiond.conf is mode
    /// 0640, root and the maas group).
    #[serde(default)]
    pub unreadable: BTreeSet<String>,
    /// Reads that were asked of the host but could not be made, and why, keyed by
    /// [`HostRead::line`]: `file PATH` (it exists but could not be read, kind forbidden: "sudo
    /// -n was refused on HOST: …") or `command LINE` (the source cannot run it, kind not
    /// available: a running system's state asked under a root directory). Recorded over SSH
    /// ([`ssh::record`]).
    #[serde(default)]
    pub unread: BTreeMap<String, String>,
    /// Every read asked of this host, in order, as [`HostRead::line`] words it (tests hold a
    /// probe to the reads it declares).
    #[serde(skip)]
    pub asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl RecordedHost {
    fn ask(&self, line: String) {
        if let Ok(mut asked) = self.asked.lock() {
            asked.push(line);
        }
    }
}

/// How long a recorded host's command may run: recorded answers come at once, so only a
/// [`RecordedHost::hanging`] command ever reaches it.
pub const RECORDED_COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// What a finished command left: its exit code and both of its outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The exit status (-1 when a signal ended it).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Why a command did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The program is not installed (or not recorded).
    NotFound,
    /// It could not be started (kind failed) or did not finish in time (kind timeout).
    Failed(ProbeError),
}

/// Where host facts are read from.
#[derive(Debug, Clone)]
pub enum HostSource {
    /// This machine, with a per-command timeout.
    Live { timeout: Duration },
    /// A root directory on this machine (`--root DIR`): its files, and the commands that can
    /// read a root that is not `/` ([`root::command_under`]); what needs the running system is
    /// not available.
    Root { root: PathBuf, timeout: Duration },
    /// A recorded host.
    Recorded(RecordedHost),
}

/// One read a host probe makes: what [`HostSource`] offers, named so that a remote host can be
/// recorded with every read a probe needs in one go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRead {
    /// A file's text. A `privileged` file (regiond.conf: mode 0640, root and the maas group) is
    /// read through `sudo -n` where a remote collection may use it.
    File { path: &'static str, privileged: bool },
    /// Whether a path exists.
    Exists(&'static str),
    /// A command (program and arguments): its exit code and outputs.
    Command(&'static [&'static str]),
    /// `argv[0]` of every running process.
    Processes,
}

impl HostRead {
    /// The read in words: `file PATH`, `exists PATH`, `command PROGRAM ARGS…`, `processes`.
    pub fn line(&self) -> String {
        match self {
            HostRead::File { path, .. } => format!("file {path}"),
            HostRead::Exists(path) => format!("exists {path}"),
            HostRead::Command(argv) => format!("command {}", argv.join(" ")),
            HostRead::Processes => "processes".into(),
        }
    }
}

impl HostSource {
    /// Whether this is a root directory (`--root`), not a running system.
    pub fn is_root(&self) -> bool {
        matches!(self, HostSource::Root { .. })
    }

    /// A file's text, `None` when it is missing or cannot be read.
    pub fn read(&self, path: &str) -> Option<String> {
        self.read_file(path).ok().flatten()
    }

    /// A file's text: `Ok(None)` when there is no such file, `Err` when it exists but cannot be
    /// read (kind forbidden for "permission denied", failed otherwise).
    pub fn read_file(&self, path: &str) -> Result<Option<String>, ProbeError> {
        let denied = || ProbeError::new(ErrorKind::Forbidden, "permission denied");
        match self {
            HostSource::Live { .. } => match std::fs::read_to_string(path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(denied()),
                Err(e) => Err(ProbeError::new(ErrorKind::Failed, e.to_string())),
            },
            HostSource::Root { root: dir, .. } => match std::fs::read_to_string(root::join(dir, path)) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(denied()),
                Err(e) => Err(ProbeError::new(ErrorKind::Failed, e.to_string())),
            },
            HostSource::Recorded(r) => {
                r.ask(format!("file {path}"));
                if let Some(cause) = r.unread.get(&format!("file {path}")) {
                    return Err(ProbeError::new(ErrorKind::Forbidden, cause.clone()));
                }
                if r.unreadable.contains(path) {
                    return Err(denied());
                }
                Ok(r.files.get(path).cloned())
            }
        }
    }

    /// Whether `path` exists (a file, or a directory holding one in a recorded host).
    pub fn exists(&self, path: &str) -> bool {
        match self {
            HostSource::Live { .. } => Path::new(path).exists(),
            HostSource::Root { root: dir, .. } => root::join(dir, path).exists(),
            HostSource::Recorded(r) => {
                r.ask(format!("exists {path}"));
                r.files.keys().any(|f| f == path || f.starts_with(&format!("{path}/")))
            }
        }
    }

    /// Runs a command; `None` when it cannot be started (not installed) or times out.
    pub async fn run(&self, program: &str, args: &[&str]) -> Option<(i32, String)> {
        self.command(program, args).await.ok().map(|o| (o.code, o.stdout))
    }

    /// Runs a command with the source's timeout and returns its exit code and outputs.
    ///
    /// # Errors
    /// [`RunError::NotFound`] when the program is not there; [`RunError::Failed`] when it cannot
    /// be started or does not finish in time.
    pub async fn command(&self, program: &str, args: &[&str]) -> Result<Output, RunError> {
        let line = std::iter::once(program)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        let (run, timeout) = match self {
            HostSource::Live { timeout } => (
                spawn(program.to_string(), args.iter().map(|a| a.to_string()).collect()).boxed(),
                *timeout,
            ),
            HostSource::Root { root: dir, timeout } => match root::command_under(dir, program, args) {
                Some(argv) => (spawn(program.to_string(), argv).boxed(), *timeout),
                None => {
                    return Err(RunError::Failed(ProbeError::new(
                        ErrorKind::NotAvailable,
                        format!(
                            "`{line}` needs the running system: not available with --root {}",
                            dir.display()
                        ),
                    )))
                }
            },
            HostSource::Recorded(r) => {
                r.ask(format!("command {line}"));
                if let Some(cause) = r.unread.get(&format!("command {line}")) {
                    return Err(RunError::Failed(ProbeError::new(
                        ErrorKind::NotAvailable,
                        cause.clone(),
                    )));
                }
                let stderr = r.stderr.get(&line).cloned().unwrap_or_default();
                let answer = r
                    .commands
                    .get(&line)
                    .cloned()
                    .map(|(code, stdout)| Output { code, stdout, stderr })
                    .ok_or(RunError::NotFound);
                let hangs = r.hanging.contains(&line);
                if let (true, Some(limit)) = (hangs, r.hanging_limit) {
                    return Err(RunError::Failed(ProbeError::new(
                        ErrorKind::Timeout,
                        format!("{line} did not finish within {limit} s (stopped on the host by timeout(1))"),
                    )));
                }
                let run = async move {
                    if hangs {
                        std::future::pending::<()>().await;
                    }
                    answer
                };
                (run.boxed(), RECORDED_COMMAND_TIMEOUT)
            }
        };
        // A command that does not finish in time is killed (kill_on_drop) and named.
        tokio::time::timeout(timeout, run).await.unwrap_or_else(|_| {
            Err(RunError::Failed(ProbeError::new(
                ErrorKind::Timeout,
                format!("{line} did not finish within {} s", timeout.as_secs_f32()),
            )))
        })
    }

    /// The command lines' first words (`argv[0]`) of the running processes.
    pub fn processes(&self) -> Vec<String> {
        match self {
            HostSource::Live { .. } => {
                let Ok(dir) = std::fs::read_dir("/proc") else {
                    return Vec::new();
                };
                dir.flatten()
                    .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
                    .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                    .filter_map(|raw| {
                        raw.split(|b| *b == 0)
                            .next()
                            .map(|argv0| String::from_utf8_lossy(argv0).into_owned())
                    })
                    .filter(|argv0| !argv0.is_empty())
                    .collect()
            }
            // A root directory runs nothing.
            HostSource::Root { .. } => Vec::new(),
            HostSource::Recorded(r) => {
                r.ask("processes".into());
                r.processes.clone()
            }
        }
    }
}

/// Runs `program` with `args` on this machine (no stdin; killed when dropped).
async fn spawn(program: String, args: Vec<String>) -> Result<Output, RunError> {
    let child = tokio::process::Command::new(&program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match child.await {
        Ok(out) => Ok(Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(RunError::NotFound),
        Err(e) => Err(RunError::Failed(ProbeError::new(
            ErrorKind::Failed,
            format!("cannot run {program}: {e}"),
        ))),
    }
}

/// The Ubuntu (or other) release of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// `ubuntu`, `debian`, … (os-release `ID`; `lsb_release` Distributor ID lower-cased).
    pub id: String,
    /// `22.04`.
    pub version: String,
    /// `jammy`.
    pub codename: String,
    /// Where it was read: `/etc/os-release` or `lsb_release -a`.
    pub source: String,
}

impl Release {
    /// The release as a series (22.04), if its version parses.
    pub fn series(&self) -> Option<Series> {
        Series::parse(&self.version).ok()
    }
}

/// systemd unit states (`systemctl is-active` / `is-enabled` output).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnitState {
    pub active: Option<String>,
    pub enabled: Option<String>,
    /// Why a state is missing (`systemctl` not there, failing with no word, hanging): the
    /// first such failure.
    pub unread: Option<ProbeError>,
}

impl UnitState {
    /// `is-active` said `active`.
    pub fn is_active(&self) -> bool {
        self.active.as_deref() == Some("active")
    }
}

/// Parses `/etc/os-release` (shell-style `KEY=value`, values optionally quoted).
pub fn parse_os_release(text: &str) -> Option<Release> {
    let mut fields = BTreeMap::new();
    for line in text.lines() {
        let Some((k, v)) = line.trim().split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').trim_matches('\'');
        fields.insert(k.trim().to_string(), v.to_string());
    }
    let id = fields.get("ID")?.to_ascii_lowercase();
    Some(Release {
        id,
        version: fields.get("VERSION_ID").cloned().unwrap_or_default(),
        codename: fields
            .get("VERSION_CODENAME")
            .or_else(|| fields.get("UBUNTU_CODENAME"))
            .cloned()
            .unwrap_or_default(),
        source: "/etc/os-release".into(),
    })
}

/// Parses `lsb_release -a` output (`Distributor ID:\tUbuntu`, `Release:\t22.04`,
/// `Codename:\tjammy`); the "No LSB modules are available." line goes to stderr and is ignored.
pub fn parse_lsb_release(text: &str) -> Option<Release> {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim().to_string())
        })
    };
    let version = field("Release")?;
    Some(Release {
        id: field("Distributor ID").unwrap_or_default().to_ascii_lowercase(),
        version,
        codename: field("Codename").unwrap_or_default(),
        source: "lsb_release -a".into(),
    })
}

/// The state of systemd unit `name` (`systemctl is-active` / `is-enabled`).
pub async fn unit(source: &HostSource, name: &str) -> UnitState {
    let mut unread = None;
    let mut word = |verb: &str, out: Result<Output, RunError>| {
        let failure = match out {
            Ok(out) => match out.stdout.trim() {
                "" => ProbeError::new(
                    ErrorKind::Failed,
                    format!("`systemctl {verb} {name}` printed nothing (exit status {})", out.code),
                ),
                word => return Some(word.to_string()),
            },
            Err(RunError::NotFound) => ProbeError::new(ErrorKind::NotFound, "systemctl is not there"),
            Err(RunError::Failed(cause)) => cause,
        };
        unread.get_or_insert(failure);
        None
    };
    let active = word("is-active", source.command("systemctl", &["is-active", name]).await);
    let enabled = word("is-enabled", source.command("systemctl", &["is-enabled", name]).await);
    UnitState {
        active,
        enabled,
        unread,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hanging_command_is_cut_at_the_timeout() {
        let live = HostSource::Live {
            timeout: Duration::from_millis(300),
        };
        let started = std::time::Instant::now();
        let err = live.command("sleep", &["30"]).await.unwrap_err();
        assert_eq!(
            err,
            RunError::Failed(ProbeError::new(
                ErrorKind::Timeout,
                "sleep 30 did not finish within 0.3 s"
            ))
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "waited {:?}",
            started.elapsed()
        );

        let mut recorded = RecordedHost::default();
        recorded.hanging.insert("systemctl is-active chrony".into());
        let err = HostSource::Recorded(recorded)
            .command("systemctl", &["is-active", "chrony"])
            .await
            .unwrap_err();
        assert_eq!(
            err,
            RunError::Failed(ProbeError::new(
                ErrorKind::Timeout,
                "systemctl is-active chrony did not finish within 1 s"
            ))
        );

        // Recorded over SSH, the host's own limit is known: named, and not waited for again.
        recorded = RecordedHost::default();
        recorded.hanging.insert("systemctl is-active chrony".into());
        recorded.hanging_limit = Some(10.0);
        let started = std::time::Instant::now();
        let err = HostSource::Recorded(recorded)
            .command("systemctl", &["is-active", "chrony"])
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < RECORDED_COMMAND_TIMEOUT,
            "waited {:?}",
            started.elapsed()
        );
        assert_eq!(
            err,
            RunError::Failed(ProbeError::new(
                ErrorKind::Timeout,
                "systemctl is-active chrony did not finish within 10 s (stopped on the host by timeout(1))"
            ))
        );
    }

    #[test]
    fn os_release() {
        let r = parse_os_release("NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nVERSION_CODENAME=jammy\n").unwrap();
        assert_eq!(
            (r.id.as_str(), r.version.as_str(), r.codename.as_str()),
            ("ubuntu", "22.04", "jammy")
        );
        assert_eq!(r.series().unwrap().to_string(), "22.04");
    }

    #[test]
    fn lsb_release() {
        let r = parse_lsb_release(
            "Distributor ID:\tUbuntu\nDescription:\tUbuntu 20.04.6 LTS\nRelease:\t20.04\nCodename:\tfocal\n",
        )
        .unwrap();
        assert_eq!(
            (r.id.as_str(), r.version.as_str(), r.codename.as_str()),
            ("ubuntu", "20.04", "focal")
        );
    }
}

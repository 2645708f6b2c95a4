//! Recording a remote host over the system's OpenSSH client, agentless: every read a system
//! declares ([`HostRead`]) runs on the remote host in one `ssh [options] HOST sh -s` round trip,
//! a POSIX `sh` script sent on standard input that only reads (`test`, `cat`, `head`, `sudo -n
//! cat`, and the declared commands). Its output, framed by a random boundary token, becomes a
//! [`RecordedHost`], so a system's host probe runs on it unchanged
//! (`probe(&HostSource::Recorded(host))`). Nothing is installed or written on the remote host.
//!
//! The facts relied on: ssh(1) (`-T` no terminal, `-p` port, `-l` login name, exit status 255
//! when ssh itself fails, the remote command run by the user's login shell), ssh_config(5)
//! (`BatchMode=yes`: never ask for a password or passphrase, or to accept a host key;
//! `ConnectTimeout=`: seconds to wait for the TCP connection and the SSH banner; the user's
//! `~/.ssh/config` and `/etc/ssh/ssh_config` apply unless `-F` is given), sudo(8) (`-n`: fail
//! instead of prompting), timeout(1) (exit status 124 when the command timed out), head(1)
//! (`-z`: NUL-terminated lines) and proc(5) (`/proc/PID/cmdline`: the arguments, NUL-separated).

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures::StreamExt;
use rand::Rng;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::{root, HostRead, RecordedHost};
use crate::core::probed::{ErrorKind, ProbeError};

/// How to reach one host (from an Ansible inventory or the MAAS API's controller list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// What the host is called in the report and in every message (`region-2.maas`).
    pub name: String,
    /// The host name or IP address ssh connects to; `None`: the name. It may also be a `Host`
    /// alias of the user's ssh_config(5).
    pub address: Option<String>,
    /// The TCP port (`ssh -p`); `None`: ssh's own choice (ssh_config `Port`, else 22).
    pub port: Option<u16>,
    /// The login name (`ssh -l`); `None`: ssh's own choice (ssh_config `User`, else the local
    /// user).
    pub user: Option<String>,
}

impl SshTarget {
    /// A target reached by its name, with ssh's own port and user.
    pub fn named(name: impl Into<String>) -> SshTarget {
        SshTarget {
            name: name.into(),
            address: None,
            port: None,
            user: None,
        }
    }

    /// The address ssh connects to: [`SshTarget::address`], else the name.
    pub fn address(&self) -> &str {
        self.address.as_deref().unwrap_or(&self.name)
    }

    /// The host as messages name it: `region-2.maas (127.0.0.1:2222)`, or only the name when
    /// neither an address nor a port is given. Never holds a user's credentials.
    pub fn label(&self) -> String {
        match (&self.address, self.port) {
            (None, None) => self.name.clone(),
            (_, None) => format!("{} ({})", self.name, self.address()),
            (_, Some(port)) if self.address().contains(':') => {
                format!("{} ([{}]:{port})", self.name, self.address())
            }
            (_, Some(port)) => format!("{} ({}:{port})", self.name, self.address()),
        }
    }
}

/// How to connect and read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshOptions {
    /// The OpenSSH client to run (default `ssh`, looked up in `PATH`).
    pub ssh: PathBuf,
    /// How long ssh waits for the connection and the SSH banner (`-o ConnectTimeout=`, whole
    /// seconds, rounded up, at least 1).
    pub connect_timeout: Duration,
    /// How long the recording of one host may take in all (connecting, every read); ssh is
    /// killed when it is over (kind timeout).
    pub timeout: Duration,
    /// How long each declared command may run on the remote host (whole seconds, rounded up,
    /// at least 1), through timeout(1) where the remote host has it; one that does not finish
    /// is recorded as [`RecordedHost::hanging`], with the limit ([`RecordedHost::hanging_limit`]).
    pub command_timeout: Duration,
    /// Read privileged files ([`HostRead::File`] with `privileged: true`) the login user
    /// cannot read through `sudo -n cat`. When sudo refuses (no NOPASSWD rule, not installed),
    /// the file is recorded as unreadable with sudo's words ([`RecordedHost::unread`]).
    pub sudo: bool,
    /// More ssh arguments, before the destination: `["-F", config]`, `["-i", key]`,
    /// `["-o", "UserKnownHostsFile=…"]`. The user's ssh_config applies unless they hold `-F`.
    pub extra: Vec<String>,
    /// A root directory on the remote host to read instead of `/` (a mounted image, a
    /// container root): files under it, commands translated as
    /// [`root::command_under`] does (`dpkg-query --admindir`, `systemctl --root is-enabled`;
    /// the others are not available), no processes.
    pub root: Option<String>,
}

impl Default for SshOptions {
    fn default() -> SshOptions {
        SshOptions {
            ssh: PathBuf::from("ssh"),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            command_timeout: Duration::from_secs(10),
            sudo: false,
            extra: Vec::new(),
            root: None,
        }
    }
}

/// The most the remote script may print (larger: kind bad answer).
pub const MAX_OUTPUT: usize = 32 << 20;
/// The most of ssh's standard error kept.
const MAX_STDERR: usize = 1 << 20;

/// Records `target` over ssh with every read of `reads`, in one `ssh … sh -s` invocation.
///
/// # Errors
/// A [`ProbeError`] naming the host (`region-2.maas (127.0.0.1:2222)`) and ssh's last line
/// on standard error: kind unreachable (connection refused, no route, name not resolved, the
/// connection closed), timeout (`ConnectTimeout`, or [`SshOptions::timeout`] over: ssh is
/// killed), auth (the host key does not match known_hosts or is not in it, the login was
/// refused), bad answer (output that is not the script's framing), not found (no ssh client),
/// config (an address or user that would read as an ssh option), failed (anything else).
pub async fn record(target: &SshTarget, reads: &[HostRead], options: &SshOptions) -> Result<RecordedHost, ProbeError> {
    let label = target.label();
    for (what, value) in [("address", Some(target.address())), ("user", target.user.as_deref())] {
        if value.is_some_and(|v| v.is_empty() || v.starts_with('-') || v.contains(char::is_whitespace)) {
            return Err(ProbeError::config(format!(
                "ssh {what} of {label} is empty, starts with '-' or holds a space"
            )));
        }
    }
    let token = boundary();
    let plan = Plan::new(reads, options);
    let script = plan.script(&token);
    let (code, stdout, stderr) = run_ssh(target, &label, options, script.into_bytes()).await?;
    let last = last_line(&stderr);
    if code == 255 {
        return Err(connection_error(&label, &stderr, options));
    }
    decode(&plan, &token, &stdout, &label).map_err(|why| {
        ProbeError::new(
            ErrorKind::BadAnswer,
            format!(
                "{label} did not answer the ssh recording as expected ({why}; ssh exit status {code}{})",
                if last.is_empty() {
                    String::new()
                } else {
                    format!(", last on stderr: {last}")
                }
            ),
        )
    })
}

/// Records every target with its own options (see [`record`]), at most `concurrency` at a time
/// (at least 1), all by `deadline` (the run's `--timeout`: each recording is bounded by it as
/// well as by its own timeout); the results are in the order of `jobs`. A host still being
/// recorded at the deadline is stopped (ssh is killed), and one whose turn comes after it is not
/// started: both are errors of kind timeout that say so. A progress bar is drawn on standard
/// error only when it is a terminal.
pub async fn record_all(
    jobs: &[(SshTarget, SshOptions)],
    reads: &[HostRead],
    concurrency: usize,
    deadline: std::time::Instant,
) -> Vec<Result<RecordedHost, ProbeError>> {
    let concurrency = concurrency.max(1);
    let bar = if std::io::stderr().is_terminal() {
        let bar =
            indicatif::ProgressBar::with_draw_target(Some(jobs.len() as u64), indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} hosts over ssh {pos}/{len} [{bar:30}] {eta}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let results = futures::stream::iter(jobs)
        .map(|(target, options)| {
            let bar = &bar;
            async move {
                let result = if std::time::Instant::now() >= deadline {
                    Err(past_deadline(target, jobs.len(), concurrency, false))
                } else {
                    tokio::time::timeout_at(deadline.into(), record(target, reads, options))
                        .await
                        .unwrap_or_else(|_| Err(past_deadline(target, jobs.len(), concurrency, true)))
                };
                bar.inc(1);
                result
            }
        })
        .buffered(concurrency)
        .collect()
        .await;
    bar.finish_and_clear();
    results
}

/// Why `target` has no recording: the run's deadline passed while it was being recorded
/// (`begun`) or before its turn came.
fn past_deadline(target: &SshTarget, hosts: usize, concurrency: usize, begun: bool) -> ProbeError {
    let what = if begun {
        format!(
            "recording {} over ssh was stopped at the run's deadline",
            target.label()
        )
    } else {
        format!(
            "{} was not recorded: its turn came after the run's deadline",
            target.label()
        )
    };
    ProbeError::new(
        ErrorKind::Timeout,
        format!("{what} (--timeout bounds the whole run; {hosts} hosts over ssh, {concurrency} at a time): raise --timeout or --ssh-concurrency"),
    )
}

/// A fresh boundary token: 128 random bits in hex. It is only ever on the script's standard
/// input, which no command it runs reads, so no file, output or process can print it.
fn boundary() -> String {
    let bits: u128 = rand::thread_rng().gen();
    format!("preflight-{bits:032x}")
}

/// Whole seconds, rounded up, at least 1.
fn seconds(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).max(1) as u64
}

/// What the script does for one read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Read a file (its path on the remote host, under the root), through sudo when allowed.
    File { at: String, sudo: bool },
    /// Test a path (on the remote host, under the root).
    Exists { at: String },
    /// Run a command (argv as run, translated under the root).
    Command { argv: Vec<String> },
    /// argv[0] of every process.
    Processes,
    /// Not run: the source cannot offer it (a running system's state under a root); why.
    Unavailable(String),
    /// Not run: a root directory runs no processes.
    NoProcesses,
}

/// The reads and what the script does for each, in order.
struct Plan {
    steps: Vec<(HostRead, Step)>,
    /// The seconds timeout(1) gives each command.
    command_seconds: u64,
}

impl Plan {
    fn new(reads: &[HostRead], options: &SshOptions) -> Plan {
        let root = options.root.clone().filter(|r| !r.trim_end_matches('/').is_empty());
        let at = |path: &str| match &root {
            Some(dir) => root::join(Path::new(dir), path).to_string_lossy().into_owned(),
            None => path.to_string(),
        };
        let steps = reads
            .iter()
            .map(|read| {
                let step = match *read {
                    HostRead::File { path, privileged } => Step::File {
                        at: at(path),
                        sudo: privileged && options.sudo,
                    },
                    HostRead::Exists(path) => Step::Exists { at: at(path) },
                    HostRead::Command(argv) => match (&root, argv.split_first()) {
                        (_, None) => Step::Unavailable("an empty command".into()),
                        (None, Some(_)) => Step::Command {
                            argv: argv.iter().map(|a| a.to_string()).collect(),
                        },
                        (Some(dir), Some((program, args))) => {
                            match root::command_under(Path::new(dir), program, args) {
                                Some(args) => Step::Command {
                                    argv: std::iter::once(program.to_string()).chain(args).collect(),
                                },
                                None => Step::Unavailable(format!(
                                    "`{}` needs the running system: not available under root {dir}",
                                    argv.join(" ")
                                )),
                            }
                        }
                    },
                    HostRead::Processes if root.is_some() => Step::NoProcesses,
                    HostRead::Processes => Step::Processes,
                };
                (*read, step)
            })
            .collect();
        Plan {
            steps,
            command_seconds: seconds(options.command_timeout),
        }
    }

    /// The POSIX sh script (see the module's doc). Every record starts a line with the token:
    /// `TOKEN start 1 timeout=yes|no`, then per step `TOKEN INDEX KIND [ARG]` with, for the
    /// kinds that carry one, a payload ended by one newline the decoder removes; last
    /// `TOKEN done`. Commands' standard error goes straight into its frame (fd 3), standard
    /// output through a variable (`printf x` keeps its trailing newlines).
    fn script(&self, token: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "B={token}");
        s.push_str(concat!(
            "exec 3>&1\n",
            "h() { printf '%s %s\\n' \"$B\" \"$*\"; }\n",
            "t() { printf '\\n'; }\n",
            "TO= ; TY=no\n",
        ));
        let _ = writeln!(
            s,
            "if command -v timeout >/dev/null 2>&1; then TO=\"timeout -k 1 {}\"; TY=yes; fi",
            self.command_seconds
        );
        s.push_str(concat!(
            // f INDEX PATH SUDO: a file.
            "f() {\n",
            "  if [ -d \"$2\" ]; then h \"$1 dir\"\n",
            "  elif [ -r \"$2\" ]; then h \"$1 content\"; cat -- \"$2\" </dev/null 2>/dev/null; t\n",
            "  elif [ \"$3\" = 1 ] && command -v sudo >/dev/null 2>&1; then\n",
            "    if [ -e \"$2\" ]; then v=1; else v=0; fi\n",
            "    h \"$1 sudo-stderr $v\"\n",
            "    o=$(LC_ALL=C sudo -n cat -- \"$2\" </dev/null 2>&3 3>&-; r=$?; printf x; exit $r); r=$?\n",
            "    t; h \"$1 sudo-stdout $r\"; printf '%s' \"${o%x}\"; t\n",
            "  elif [ -e \"$2\" ]; then\n",
            "    if [ \"$3\" = 1 ]; then h \"$1 nosudo\"; else h \"$1 unreadable\"; fi\n",
            "  else h \"$1 missing\"; fi\n",
            "}\n",
            // e INDEX PATH: a path's existence.
            "e() { if [ -e \"$2\" ]; then h \"$1 yes\"; else h \"$1 no\"; fi; }\n",
            // c INDEX ARGV...: a command.
            "c() {\n",
            "  i=$1; shift\n",
            "  if ! command -v \"$1\" >/dev/null 2>&1; then h \"$i missing\"; return; fi\n",
            "  h \"$i stderr\"\n",
            "  o=$($TO \"$@\" </dev/null 2>&3 3>&-; r=$?; printf x; exit $r); r=$?\n",
            "  t; h \"$i stdout $r\"; printf '%s' \"${o%x}\"; t\n",
            "}\n",
            // p INDEX: argv[0] of each process.
            "p() {\n",
            "  h \"$1 processes\"\n",
            "  for q in /proc/[0-9]*/cmdline; do h \"$1 process\"; head -z -n 1 -- \"$q\" </dev/null 2>/dev/null; t; done\n",
            "}\n",
            "h \"start 1 timeout=$TY\"\n",
        ));
        for (i, (_, step)) in self.steps.iter().enumerate() {
            match step {
                Step::File { at, sudo } => {
                    let _ = writeln!(s, "f {i} {} {}", quote(at), u8::from(*sudo));
                }
                Step::Exists { at } => {
                    let _ = writeln!(s, "e {i} {}", quote(at));
                }
                Step::Command { argv } => {
                    let words: Vec<String> = argv.iter().map(|a| quote(a)).collect();
                    let _ = writeln!(s, "c {i} {}", words.join(" "));
                }
                Step::Processes => {
                    let _ = writeln!(s, "p {i}");
                }
                Step::Unavailable(_) | Step::NoProcesses => {}
            }
        }
        s.push_str("h done\nexit 0\n");
        s
    }
}

/// `word` as one sh word: single-quoted, each `'` as `'\''`.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// One record of the script's output: its header line (after the token and a space) and the
/// bytes up to the next token.
#[derive(Debug, PartialEq, Eq)]
struct Frame<'a> {
    header: &'a str,
    body: &'a [u8],
}

impl Frame<'_> {
    /// The payload: the body less the newline the script ends every payload with.
    fn payload(&self) -> Result<&[u8], String> {
        self.body
            .strip_suffix(b"\n")
            .ok_or_else(|| format!("record `{}` is not ended by a newline", self.header))
    }

    /// The payload as text (lossily: bytes that are not UTF-8 become U+FFFD).
    fn text(&self) -> Result<String, String> {
        Ok(String::from_utf8_lossy(self.payload()?).into_owned())
    }

    /// Checks a record that carries no payload.
    fn empty(&self) -> Result<(), String> {
        if self.body.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "record `{}` has {} unexpected bytes",
                self.header,
                self.body.len()
            ))
        }
    }
}

/// Splits the output into frames. What comes before the first token (a noisy login shell) is
/// ignored; each token must begin a line.
fn frames<'a>(out: &'a [u8], token: &str) -> Result<Vec<Frame<'a>>, String> {
    let token = token.as_bytes();
    let starts: Vec<usize> = memchr::memmem::find_iter(out, token).collect();
    if starts.is_empty() {
        return Err(format!("no framed record in {} bytes of output", out.len()));
    }
    let mut frames = Vec::with_capacity(starts.len());
    for (n, &at) in starts.iter().enumerate() {
        if at > 0 && out[at - 1] != b'\n' && n > 0 {
            return Err("a boundary token inside a line".into());
        }
        let end = starts.get(n + 1).copied().unwrap_or(out.len());
        let segment = &out[at + token.len()..end];
        let segment = segment
            .strip_prefix(b" ")
            .ok_or("a boundary token not followed by a space")?;
        let cut = memchr::memchr(b'\n', segment).ok_or("a record header without a newline")?;
        let header = std::str::from_utf8(&segment[..cut]).map_err(|_| "a record header that is not UTF-8")?;
        frames.push(Frame {
            header,
            body: &segment[cut + 1..],
        });
    }
    Ok(frames)
}

/// The frames in order, each expected with a known header shape.
struct Frames<'a> {
    frames: std::vec::IntoIter<Frame<'a>>,
}

impl<'a> Frames<'a> {
    /// The next frame, which must belong to read `index`: its words after the index.
    fn next(&mut self, index: usize) -> Result<(Vec<&'a str>, Frame<'a>), String> {
        let frame = self
            .frames
            .next()
            .ok_or_else(|| format!("the output ends before read {index}"))?;
        let mut words = frame.header.split(' ');
        if words.next() != Some(index.to_string().as_str()) {
            return Err(format!(
                "record `{}` where one of read {index} was expected",
                frame.header
            ));
        }
        Ok((words.collect(), frame))
    }
}

/// A status word of a record header as a number.
fn status(word: Option<&&str>, header: &str) -> Result<i32, String> {
    word.and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("record `{header}` has no exit status"))
}

/// Builds the recorded host from the script's output.
fn decode(plan: &Plan, token: &str, out: &[u8], label: &str) -> Result<RecordedHost, String> {
    let all = frames(out, token)?;
    let mut frames = Frames {
        frames: all.into_iter(),
    };
    let start = frames.frames.next().ok_or("no start record")?;
    let has_timeout = match start.header {
        "start 1 timeout=yes" => true,
        "start 1 timeout=no" => false,
        other => return Err(format!("record `{other}` where the start record was expected")),
    };
    start.empty()?;
    let mut host = RecordedHost {
        hanging_limit: has_timeout.then_some(plan.command_seconds as f32),
        ..RecordedHost::default()
    };
    let mut exists = Vec::new();
    for (i, (read, step)) in plan.steps.iter().enumerate() {
        match (read, step) {
            (HostRead::File { path, .. }, Step::File { .. }) => {
                let (words, frame) = frames.next(i)?;
                match words.as_slice() {
                    ["content"] => {
                        host.files.insert(path.to_string(), frame.text()?);
                    }
                    ["missing"] => frame.empty()?,
                    ["dir"] => {
                        frame.empty()?;
                        unreadable(&mut host, path, format!("{path} is a directory on {label}"));
                    }
                    ["unreadable"] => {
                        frame.empty()?;
                        unreadable(&mut host, path, format!("permission denied on {label}"));
                    }
                    ["nosudo"] => {
                        frame.empty()?;
                        unreadable(
                            &mut host,
                            path,
                            format!("permission denied on {label}, and sudo is not installed there"),
                        );
                    }
                    ["sudo-stderr", visible @ ("0" | "1")] => {
                        let stderr = frame.text()?;
                        let (words, out) = frames.next(i)?;
                        let code = match words.as_slice() {
                            ["sudo-stdout", code] => status(Some(code), out.header)?,
                            _ => return Err(format!("record `{}` where sudo's output was expected", out.header)),
                        };
                        let said = last_line(&stderr).to_string();
                        if code == 0 {
                            host.files.insert(path.to_string(), out.text()?);
                        } else if said.starts_with("cat:") && said.ends_with("No such file or directory") {
                            out.payload()?;
                        } else if said.starts_with("cat:") {
                            out.payload()?;
                            unreadable(&mut host, path, format!("sudo -n cat failed on {label}: {said}"));
                        } else if *visible == "0" {
                            // Not visible to the login user and sudo would not tell: as far as
                            // can be known, there is none.
                            out.payload()?;
                        } else {
                            out.payload()?;
                            let said = if said.is_empty() {
                                format!("exit status {code}")
                            } else {
                                said
                            };
                            unreadable(&mut host, path, format!("sudo -n was refused on {label}: {said}"));
                        }
                    }
                    _ => return Err(format!("record `{}` is not a file's", frame.header)),
                }
            }
            (HostRead::Exists(path), Step::Exists { .. }) => {
                let (words, frame) = frames.next(i)?;
                frame.empty()?;
                match words.as_slice() {
                    ["yes"] => exists.push(*path),
                    ["no"] => {}
                    _ => return Err(format!("record `{}` is not a path test's", frame.header)),
                }
            }
            (HostRead::Command(argv), Step::Command { .. }) => {
                let line = argv.join(" ");
                let (words, frame) = frames.next(i)?;
                match words.as_slice() {
                    ["missing"] => frame.empty()?,
                    ["stderr"] => {
                        let stderr = frame.text()?;
                        let (words, out) = frames.next(i)?;
                        let code = match words.as_slice() {
                            ["stdout", code] => status(Some(code), out.header)?,
                            _ => return Err(format!("record `{}` where a command's output was expected", out.header)),
                        };
                        let stdout = out.text()?;
                        if has_timeout && code == 124 {
                            host.hanging.insert(line.clone());
                        } else {
                            host.commands.insert(line.clone(), (code, stdout));
                        }
                        if !stderr.is_empty() {
                            host.stderr.insert(line, stderr);
                        }
                    }
                    _ => return Err(format!("record `{}` is not a command's", frame.header)),
                }
            }
            (HostRead::Command(argv), Step::Unavailable(why)) => {
                host.unread
                    .insert(format!("command {}", argv.join(" ")), format!("{why} on {label}"));
            }
            (HostRead::Processes, Step::Processes) => {
                let (words, frame) = frames.next(i)?;
                if words.as_slice() != ["processes"] {
                    return Err(format!("record `{}` is not the process list", frame.header));
                }
                frame.empty()?;
                while frames
                    .frames
                    .as_slice()
                    .first()
                    .is_some_and(|f| f.header == format!("{i} process"))
                {
                    let (_, frame) = frames.next(i)?;
                    let raw = frame.payload()?;
                    let argv0 = raw.split(|b| *b == 0).next().unwrap_or_default();
                    if !argv0.is_empty() {
                        host.processes.push(String::from_utf8_lossy(argv0).into_owned());
                    }
                }
            }
            (HostRead::Processes, Step::NoProcesses) => {}
            (read, step) => return Err(format!("internal: read {} planned as {step:?}", read.line())),
        }
    }
    let done = frames.frames.next().ok_or("the output ends before the done record")?;
    if done.header != "done" {
        return Err(format!("record `{}` where the done record was expected", done.header));
    }
    done.empty()?;
    if let Some(extra) = frames.frames.next() {
        return Err(format!("record `{}` after the done record", extra.header));
    }
    for path in exists {
        let under = format!("{path}/");
        if !host.files.keys().any(|f| f == path || f.starts_with(&under)) {
            // A listed path exists (RecordedHost's rule); it was only tested, not read.
            host.files.insert(under, String::new());
        }
    }
    Ok(host)
}

/// Records `path` as existing but not readable, and why.
fn unreadable(host: &mut RecordedHost, path: &str, why: String) {
    host.unreadable.insert(path.to_string());
    host.unread.insert(format!("file {path}"), why);
}

/// The last non-empty line of ssh's standard error.
fn last_line(stderr: &str) -> &str {
    stderr
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// Why ssh itself failed (exit status 255), from what it printed on standard error.
fn connection_error(label: &str, stderr: &str, options: &SshOptions) -> ProbeError {
    let last = last_line(stderr);
    let last = if last.is_empty() {
        "ssh exited with status 255 and printed nothing"
    } else {
        last
    };
    let has = |words: &[&str]| words.iter().any(|w| stderr.contains(w));
    let (kind, what) = if has(&[
        "REMOTE HOST IDENTIFICATION HAS CHANGED",
        "has changed and you have requested strict checking",
    ]) {
        (
            ErrorKind::Auth,
            format!("the host key of {label} does not match the one in known_hosts"),
        )
    } else if has(&["Host key verification failed"]) {
        (
            ErrorKind::Auth,
            format!("the host key of {label} does not match known_hosts (or is not in it)"),
        )
    } else if has(&["Permission denied", "Too many authentication failures"]) {
        (ErrorKind::Auth, format!("ssh could not log in to {label}"))
    } else if has(&["timed out", "Connection timed out"]) {
        (
            ErrorKind::Timeout,
            format!(
                "{label} did not answer ssh within {} s (ConnectTimeout)",
                seconds(options.connect_timeout)
            ),
        )
    } else if has(&[
        "Connection refused",
        "No route to host",
        "Network is unreachable",
        "Could not resolve hostname",
        "Name or service not known",
        "Temporary failure in name resolution",
        "Connection closed",
        "Connection reset",
        "kex_exchange_identification",
    ]) {
        (ErrorKind::Unreachable, format!("cannot reach {label} over ssh"))
    } else {
        (ErrorKind::Failed, format!("ssh to {label} failed"))
    };
    ProbeError::new(kind, format!("{what}: {last}"))
}

/// Runs ssh with `script` on its standard input; its exit status and both outputs.
async fn run_ssh(
    target: &SshTarget,
    label: &str,
    options: &SshOptions,
    script: Vec<u8>,
) -> Result<(i32, Vec<u8>, String), ProbeError> {
    let mut command = tokio::process::Command::new(&options.ssh);
    command
        .args(["-o", "BatchMode=yes", "-o"])
        .arg(format!("ConnectTimeout={}", seconds(options.connect_timeout)))
        .arg("-T");
    if let Some(port) = target.port {
        command.arg("-p").arg(port.to_string());
    }
    if let Some(user) = &target.user {
        command.arg("-l").arg(user);
    }
    command
        .args(&options.extra)
        .arg("--")
        .arg(target.address())
        .args(["sh", "-s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Failed
        };
        ProbeError::new(
            kind,
            format!("cannot record {label}: cannot run {}: {e}", options.ssh.display()),
        )
    })?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(ProbeError::new(
            ErrorKind::Failed,
            format!("cannot record {label}: ssh's pipes were not opened"),
        ));
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let (waited, overflow) = {
        let all = async {
            let write = async move {
                // ssh may exit before reading it all (connection refused): its status says why.
                let _ = stdin.write_all(&script).await;
                drop(stdin);
            };
            let (_, overflow, _, status) = tokio::join!(
                write,
                read_capped(stdout, &mut out, MAX_OUTPUT),
                read_capped(stderr, &mut err, MAX_STDERR),
                child.wait()
            );
            (status, overflow)
        };
        match tokio::time::timeout(options.timeout, all).await {
            Ok((status, overflow)) => (Some(status), overflow),
            Err(_) => (None, false),
        }
    };
    let stderr = String::from_utf8_lossy(&err).into_owned();
    let Some(status) = waited else {
        let _ = child.start_kill();
        let last = last_line(&stderr);
        return Err(ProbeError::new(
            ErrorKind::Timeout,
            format!(
                "recording {label} over ssh did not finish within {} s{}",
                options.timeout.as_secs_f32(),
                if last.is_empty() {
                    String::new()
                } else {
                    format!(": {last}")
                }
            ),
        ));
    };
    if overflow {
        return Err(ProbeError::new(
            ErrorKind::BadAnswer,
            format!("{label} printed more than {} MiB over ssh", MAX_OUTPUT >> 20),
        ));
    }
    let status = status.map_err(|e| ProbeError::new(ErrorKind::Failed, format!("cannot record {label}: ssh: {e}")))?;
    Ok((status.code().unwrap_or(-1), out, stderr))
}

/// Reads `pipe` into `buf` until its end or `cap` bytes (then `true`, and the pipe is closed,
/// so the writer stops). Read by chunks, so what was read stays in `buf` if cancelled.
async fn read_capped(mut pipe: impl AsyncRead + Unpin, buf: &mut Vec<u8>, cap: usize) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > cap {
                    return true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "preflight-0123456789abcdef0123456789abcdef";

    fn plan(reads: &[HostRead], root: Option<&str>) -> Plan {
        Plan::new(
            reads,
            &SshOptions {
                sudo: true,
                root: root.map(str::to_string),
                ..SshOptions::default()
            },
        )
    }

    const READS: &[HostRead] = &[
        HostRead::File {
            path: "/etc/os-release",
            privileged: false,
        },
        HostRead::Exists("/run/systemd/system"),
        HostRead::Command(&["dpkg-query", "-W", "-f=${Version}", "maas-region-api"]),
        HostRead::Command(&["lsb_release", "-a"]),
        HostRead::Processes,
        HostRead::File {
            path: "/etc/maas/regiond.conf",
            privileged: true,
        },
    ];

    fn answer(body: &str) -> Vec<u8> {
        body.replace("@ ", &format!("{TOKEN} ")).into_bytes()
    }

    #[test]
    fn a_framed_answer_becomes_a_recorded_host() {
        let out = answer(concat!(
            "motd noise\n",
            "@ start 1 timeout=yes\n",
            "@ 0 content\nID=ubuntu\nT 0 fake\n\n", // the file holds a line like a frame, no token
            "@ 1 yes\n",
            "@ 2 stderr\n\n@ 2 stdout 0\n1:3.4.2-0ubuntu1\n",
            "@ 3 missing\n",
            "@ 4 processes\n",
            "@ 4 process\n/usr/sbin/sshd\0-D\0\n",
            "@ 4 process\nsshd: root@notty\n",
            "@ 4 process\n\n",
            "@ 5 sudo-stderr 1\nsudo: a password is required\n\n@ 5 sudo-stdout 1\n\n",
            "@ done\n",
        ));
        let host = decode(&plan(READS, None), TOKEN, &out, "r (h:22)").unwrap();
        assert_eq!(host.files["/etc/os-release"], "ID=ubuntu\nT 0 fake\n");
        assert!(host.files.contains_key("/run/systemd/system/"));
        assert_eq!(
            host.commands["dpkg-query -W -f=${Version} maas-region-api"],
            (0, "1:3.4.2-0ubuntu1".into())
        );
        assert!(host.stderr.is_empty() && !host.commands.contains_key("lsb_release -a"));
        // timeout(1) ran the commands, for this long.
        assert_eq!(host.hanging_limit, Some(10.0));
        assert_eq!(host.processes, ["/usr/sbin/sshd", "sshd: root@notty"]);
        assert!(host.unreadable.contains("/etc/maas/regiond.conf"));
        assert_eq!(
            host.unread["file /etc/maas/regiond.conf"],
            "sudo -n was refused on r (h:22): sudo: a password is required"
        );
    }

    #[test]
    fn anything_off_the_framing_is_refused_without_panicking() {
        let p = plan(READS, None);
        let good = concat!(
            "@ start 1 timeout=no\n",
            "@ 0 missing\n",
            "@ 1 no\n",
            "@ 2 missing\n",
            "@ 3 stderr\noops\n@ 3 stdout 124\nx\n",
            "@ 4 processes\n",
            "@ 5 missing\n",
            "@ done\n"
        );
        let host = decode(&p, TOKEN, &answer(good), "r").unwrap();
        // Without timeout(1) on the remote host, 124 is the command's own status.
        assert_eq!(host.commands["lsb_release -a"], (124, "x".into()));
        assert_eq!(host.hanging_limit, None);
        assert_eq!(host.stderr["lsb_release -a"], "oops");
        for bad in [
            String::new(),
            "garbage\n".into(),
            good.replace("@ done\n", ""),
            good.replace("@ 1 no\n", ""),
            good.replace("@ 1 no\n", "@ 1 maybe\n"),
            good.replace("@ 1 no\n", "@ 1 no\nextra"),
            good.replace("stdout 124\nx\n", "stdout 124\nx"),
            good.replace("stdout 124", "stdout x"),
            good.replace("@ 0 missing\n", "@ 0 missing@ 0 missing\n"),
            good.replace("@ start 1 timeout=no", "@ start 2 timeout=no"),
            format!("{good}T done\n"),
            good.replace("@ done\n", "@ done"),
        ] {
            let err = decode(&p, TOKEN, &answer(&bad), "r");
            assert!(err.is_err(), "accepted {bad:?}");
        }
        // Another run's token is not this one's.
        let other = answer(good)
            .iter()
            .map(|b| if *b == b'0' { b'1' } else { *b })
            .collect::<Vec<u8>>();
        assert!(decode(&p, TOKEN, &other, "r").is_err());
        // Random bytes never panic.
        let mut rng = rand::thread_rng();
        for _ in 0..200 {
            let mut bytes = answer(good);
            for _ in 0..4 {
                let at = rng.gen_range(0..bytes.len());
                bytes[at] = rng.gen();
            }
            let _ = decode(&p, TOKEN, &bytes, "r");
        }
    }

    #[test]
    fn the_script_quotes_every_word_and_translates_under_a_root() {
        let p = plan(READS, Some("/srv/images/a'b"));
        let script = p.script(TOKEN);
        assert!(script.starts_with(&format!("B={TOKEN}\n")));
        assert!(
            script.contains("f 0 '/srv/images/a'\\''b/etc/os-release' 0\n"),
            "{script}"
        );
        assert!(script.contains("f 5 '/srv/images/a'\\''b/etc/maas/regiond.conf' 1\n"));
        assert!(script.contains(
            "c 2 'dpkg-query' '--admindir=/srv/images/a'\\''b/var/lib/dpkg' '-W' '-f=${Version}' 'maas-region-api'\n"
        ));
        assert!(!script.contains("lsb_release") && !script.contains("\np 4"));
        assert!(script.contains("timeout -k 1 10"));
        assert_eq!(quote("it's"), "'it'\\''s'");
        let host = decode(
            &p,
            TOKEN,
            &answer("@ start 1 timeout=yes\n@ 0 missing\n@ 1 no\n@ 2 missing\n@ 5 missing\n@ done\n"),
            "r",
        )
        .unwrap();
        assert_eq!(
            host.unread["command lsb_release -a"],
            "`lsb_release -a` needs the running system: not available under root /srv/images/a'b on r"
        );
        assert!(host.processes.is_empty());
    }

    #[test]
    fn ssh_failures_get_their_kind_and_name_the_host() {
        let o = SshOptions::default();
        let cases = [
            (
                "ssh: connect to host 127.0.0.1 port 1: Connection refused\n",
                ErrorKind::Unreachable,
            ),
            (
                "ssh: Could not resolve hostname x.invalid: Name or service not known\n",
                ErrorKind::Unreachable,
            ),
            (
                "ssh: connect to host 10.0.0.1 port 22: No route to host\n",
                ErrorKind::Unreachable,
            ),
            ("Connection timed out during banner exchange\n", ErrorKind::Timeout),
            (
                "ssh: connect to host 10.0.0.1 port 22: Connection timed out\n",
                ErrorKind::Timeout,
            ),
            (
                "@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.\n",
                ErrorKind::Auth,
            ),
            ("Host key verification failed.\n", ErrorKind::Auth),
            ("root@127.0.0.1: Permission denied (publickey).\n", ErrorKind::Auth),
            ("something new\n", ErrorKind::Failed),
        ];
        for (stderr, kind) in cases {
            let e = connection_error("region-2.maas (127.0.0.1:2222)", stderr, &o);
            assert_eq!(e.kind, kind, "{stderr}");
            assert!(e.detail.contains("region-2.maas (127.0.0.1:2222)"), "{}", e.detail);
            assert!(e.detail.ends_with(last_line(stderr)), "{}", e.detail);
        }
        let e = connection_error(
            "h",
            "@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @\nHost key verification failed.\n",
            &o,
        );
        assert_eq!(
            e.detail,
            "the host key of h does not match the one in known_hosts: Host key verification failed."
        );
    }

    #[test]
    fn labels() {
        let mut t = SshTarget::named("region-2.maas");
        assert_eq!(t.label(), "region-2.maas");
        t.address = Some("127.0.0.1".into());
        assert_eq!(t.label(), "region-2.maas (127.0.0.1)");
        t.port = Some(2222);
        assert_eq!(t.label(), "region-2.maas (127.0.0.1:2222)");
        t.address = Some("::1".into());
        assert_eq!(t.label(), "region-2.maas ([::1]:2222)");
        assert_eq!(seconds(Duration::from_millis(1500)), 2);
        assert_eq!(seconds(Duration::ZERO), 1);
    }
}

//! The command line (clap derive). Doc comments here are the `--help` text.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::report::FailOn;

use crate::config::{Config, Overrides};
use crate::core::check as checks;
use crate::core::engine;
use crate::core::scan::Scan;
use crate::demo::Demo;
use crate::host::HostSource;
use crate::render::{self, Format};
use crate::report::{Report, Status};
use crate::systems::bmc::{self as bmc_command, BmcSource};

/// Read-only pre-upgrade scanner for MAAS, its PostgreSQL database and its hosts.
///
/// preflight reads the live systems you are about to upgrade and reports every blocker before
/// the maintenance window — not halfway through a migration at 3 a.m. It never writes.
///
/// Exit codes (Nagios convention): 0 OK, 1 WARNING (warnings only), 2 CRITICAL (at least one
/// blocker), 3 UNKNOWN (a check could not run, bad configuration or input).
#[derive(Debug, Parser)]
#[command(name = "preflight", version, propagate_version = true)]
#[command(
    after_help = "Examples:\n  preflight scan --demo                       see every check fire against a fake MAAS\n  MAAS_URL=http://10.0.0.2:5240/MAAS MAAS_API_KEY_FILE=~/maas.key \\\n    preflight scan --target maas=3.5          scan a real MAAS for a 3.5 upgrade\n  preflight scan --format nagios              as a Nagios/Icinga plugin\n  preflight bmc --input power-parameters.json the 0290 blocker from a saved dump\n  preflight explain MAAS004                   what a check does and how to fix it"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// More log output on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Knowledge packs (TOML) merged over the embedded ones: DIR/maas.toml, DIR/mender.toml, …
    /// Their rows replace the embedded rows of the same id or version, other rows are added (a
    /// new release without a new binary). `preflight checks` shows which pack a check came from.
    #[arg(long, value_name = "DIR", global = true, env = "PREFLIGHT_KNOWLEDGE")]
    pub knowledge: Option<PathBuf>,
}

/// preflight's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan MAAS, its database and this host for upgrade blockers.
    ///
    /// Systems come from the config file, the environment (MAAS_URL, MAAS_API_KEY or
    /// MAAS_API_KEY_FILE, DATABASE_URL or PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE) and what
    /// is discoverable on this host (the maas snap or deb, regiond.conf). A system that is
    /// neither configured nor discoverable is skipped; one that cannot be read makes the scan
    /// UNKNOWN (exit 3) unless a blocker makes it CRITICAL. A scan in which every system was
    /// skipped checked nothing: UNKNOWN too, unless --allow-nothing.
    Scan(ScanArgs),
    /// Find the BMCs migration 0290 will make collide, from a file or the MAAS database.
    ///
    /// Runs MAAS004 (duplicate-bmc-credentials) and MAAS005 (shared-bmc-address) alone, with
    /// the same formats and exit codes as `scan`. From a file: the JSON object that
    /// `maas $PROFILE machines power-parameters` prints (system_id → parameters; admin only),
    /// optionally joined with `maas $PROFILE machines read` for power types and hostnames.
    /// From the database: every maasserver_bmc row (pods included), hashed by PostgreSQL with
    /// 0290's exact key removal, in a READ ONLY transaction.
    Bmc(BmcArgs),
    /// Scan on a schedule and serve /healthz, /metrics and /report.json for monitoring.
    ///
    /// The first scan runs before the server listens; later ones every --interval seconds.
    /// /healthz answers 200 for OK and WARNING, 503 for CRITICAL and UNKNOWN.
    Serve(ServeArgs),
    /// Print the upgrade path of every configured system: each step and what it needs first.
    ///
    /// Reads the same facts as `scan` but runs only the upgrade-path checks (MAAS001,
    /// MENDER001, JUJU002, BAI002), and prints the way from what runs to the target: for
    /// Backend.AI every patch and major upgrade, for Juju the in-place upgrades and the new
    /// controllers with model migration, for Mender every minor, for MAAS the series' needs.
    /// Exit codes as `scan`: 2 when a path is not supported as planned, 3 when one could not be
    /// computed.
    Plan(PlanArgs),
    /// Print this host's facts as a versioned JSON document, reading nothing over the network.
    ///
    /// The release (os-release, lsb_release), systemd-timesyncd and chrony, how MAAS is
    /// installed (snap and its mode, or deb) and its version, and regiond.conf's non-secret
    /// fields — what the host checks (MAAS002, MAAS006…) judge. `preflight scan --host-facts`
    /// reads these documents, so facts collected on every controller (by Ansible, a script, an
    /// image build) give one report. The database password never enters the document.
    ///
    /// Examples:
    ///   preflight facts > "$(hostname).json"
    ///   preflight facts --root /mnt/region-image --name region-2
    Facts(FactsArgs),
    /// List every check: id, name, system, default severity and title.
    Checks {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Print a check's documentation: what it checks, why it matters, remediation, source.
    Explain {
        /// Check id (MAAS004) or name (duplicate-bmc-credentials).
        id: String,
    },
}

/// Options every report-producing command shares.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Config file [default: ./preflight.toml, else /etc/preflight/preflight.toml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write a report to a file (replaced atomically): FORMAT=FILE adds one more format (e.g.
    /// sarif=preflight.sarif, junit=junit.xml, prometheus=/var/lib/node_exporter/textfile/
    /// preflight.prom); a bare FILE takes --format's output off standard output. Repeatable.
    #[arg(long, short, value_name = "[FORMAT=]FILE")]
    pub output: Vec<String>,

    /// Seconds the whole run may take; a system that does not answer in time is an error, the
    /// others still report [default: 60; 10 with --format nagios].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,

    /// Which findings fail the run: `warning` (warnings exit 1, blockers 2; the Nagios mapping)
    /// or `blocker` (a warnings-only run exits 0). A check that could not run always exits 3.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    /// Nagios threshold on the number of warnings (range syntax: 10, 10:, ~:10, @10:20)
    /// [default: 0, any warning].
    #[arg(short = 'w', long, value_name = "RANGE", allow_hyphen_values = true)]
    pub warning: Option<String>,

    /// Nagios threshold on the number of blockers (range syntax) [default: 0, any blocker].
    #[arg(short = 'c', long, value_name = "RANGE", allow_hyphen_values = true)]
    pub critical: Option<String>,

    /// Extra CA certificates (PEM) to trust for HTTPS systems, e.g. an internal CA.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Waivers file ([[waiver]] tables: check, subject glob, justification, expires)
    /// [default: preflight.waivers.toml beside the config, if there].
    // The brackets are TOML for the reader of --help, not links.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,

    /// A JSON report of an earlier run: its findings are accepted, only new ones count.
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,

    /// Run only these checks: ids, names or systems (repeatable, or comma-separated).
    #[arg(long, value_name = "ID|NAME|SYSTEM")]
    pub select: Vec<String>,

    /// Skip these checks: ids, names or systems (repeatable, or comma-separated).
    #[arg(long, value_name = "ID|NAME|SYSTEM")]
    pub ignore: Vec<String>,

    /// Accept a run in which nothing was checked (no system configured or found): exit 0,
    /// not 3 UNKNOWN. For pipelines that run preflight where a system may be absent.
    #[arg(long)]
    pub allow_nothing: bool,
}

/// Arguments of `preflight scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Upgrade target as SYSTEM=VERSION, e.g. maas=3.5 (repeatable) [default: the newest
    /// release preflight knows, stated in the report].
    #[arg(long = "target", value_name = "SYSTEM=VERSION")]
    pub targets: Vec<String>,

    /// Scan a fake MAAS (5,000 machines, mixed controllers) started on loopback, with a
    /// recorded host and database: every check fires, nothing real is touched.
    #[arg(long)]
    pub demo: bool,

    /// Host facts documents of the controllers (what `preflight facts` prints on each): files,
    /// or directories of `*.json` (repeatable). The host checks then judge every controller,
    /// each finding naming its host; a controller the region API lists that no document covers
    /// is an error, never a silent pass.
    #[arg(long = "host-facts", value_name = "FILE|DIR", num_args = 1..)]
    pub host_facts: Vec<PathBuf>,

    /// Inspect the controllers over SSH: an Ansible inventory (INI or YAML; ansible_host,
    /// ansible_port, ansible_user, ansible_become, ansible_ssh_private_key_file), or `maas`
    /// for the region and rack controllers the region API lists. Agentless: the system's
    /// OpenSSH client (BatchMode, your ssh config) runs the same read-only reads as on this
    /// host, one round trip per host. A host that cannot be reached is an error naming it.
    #[arg(long, value_name = "FILE|maas")]
    pub hosts: Option<String>,

    /// With --hosts: read privileged files (regiond.conf, mode 0640) through `sudo -n`.
    #[arg(long, requires = "hosts")]
    pub sudo: bool,

    /// With --hosts: an ssh option for every host, as `-o` takes it (repeatable), e.g.
    /// `--ssh-option UserKnownHostsFile=./known_hosts`.
    #[arg(long = "ssh-option", value_name = "OPTION", requires = "hosts")]
    pub ssh_options: Vec<String>,

    /// With --hosts: how many hosts are read at once (--timeout bounds them all together: hosts
    /// whose turn comes after it are reported as not read).
    #[arg(long = "ssh-concurrency", value_name = "N", default_value_t = 16, requires = "hosts")]
    pub ssh_concurrency: usize,

    #[command(flatten)]
    pub report: ReportArgs,
}

impl ScanArgs {
    /// The hosts to inspect besides this one; each host's recording is bounded by `timeout`
    /// (the run's).
    ///
    /// # Errors
    /// An inventory that cannot be read or parsed.
    fn fleet(&self, timeout: std::time::Duration) -> Result<crate::systems::fleet::Fleet, CliError> {
        use crate::systems::fleet::{inventory_targets, Fleet, HostsFrom, SshHosts};
        let ssh = match self.hosts.as_deref() {
            None => None,
            Some(from) => {
                let mut options = crate::host::ssh::SshOptions {
                    sudo: self.sudo,
                    timeout,
                    connect_timeout: timeout.min(std::time::Duration::from_secs(10)),
                    ..Default::default()
                };
                for o in &self.ssh_options {
                    options.extra.extend(["-o".to_string(), o.clone()]);
                }
                let from = if from == "maas" {
                    HostsFrom::Maas
                } else {
                    let text = std::fs::read_to_string(from).map_err(|e| CliError {
                        message: format!("cannot read the inventory {from}: {e}"),
                        help: Some("--hosts takes an Ansible inventory file (INI or YAML), or `maas`".into()),
                    })?;
                    let hosts = crate::host::inventory::parse(&text, from).map_err(|e| CliError {
                        message: e.to_string(),
                        help: Some("`ansible-inventory -i FILE --list` shows how Ansible reads it".into()),
                    })?;
                    HostsFrom::Inventory(inventory_targets(&hosts, &options))
                };
                Some(SshHosts {
                    from,
                    options,
                    concurrency: self.ssh_concurrency.max(1),
                })
            }
        };
        Ok(Fleet {
            documents: self.host_facts.clone(),
            ssh,
        })
    }
}

/// Arguments of `preflight plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Upgrade target as SYSTEM=VERSION, e.g. backendai=24.09 (a series means its newest
    /// release; repeatable) [default: the newest release preflight knows].
    #[arg(long = "target", value_name = "SYSTEM=VERSION")]
    pub targets: Vec<String>,

    /// Plan against the demo's fake systems (as `scan --demo`).
    #[arg(long)]
    pub demo: bool,

    /// Config file [default: ./preflight.toml, else /etc/preflight/preflight.toml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,

    /// Seconds the whole run may take [default: 60].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

/// Arguments of `preflight serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default; port 0 picks a free port).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9795")]
    pub listen: std::net::SocketAddr,

    /// Seconds between scans.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub interval: u64,

    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Arguments of `preflight bmc`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["input", "database"])))]
pub struct BmcArgs {
    /// The power-parameters JSON (`maas $PROFILE machines power-parameters > FILE`); `-` reads
    /// standard input.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// The machine list (`maas $PROFILE machines read > FILE`) to take power types and hostnames
    /// from [default: power types inferred from each map's keys, stated in the report].
    #[arg(long, value_name = "FILE", requires = "input")]
    pub machines: Option<PathBuf>,

    /// Read the MAAS database instead. DSN is optional: without it, [postgresql] url,
    /// DATABASE_URL / PG* variables or this host's regiond.conf. A DSN given here must not hold
    /// a password (use PGPASSWORD or the config file).
    // The brackets are TOML for the reader of --help, not links.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long, value_name = "DSN", num_args = 0..=1, default_missing_value = "")]
    pub database: Option<String>,

    #[command(flatten)]
    pub report: ReportArgs,
}

/// `preflight facts`.
#[derive(Debug, Args)]
pub struct FactsArgs {
    /// Read a mounted image, container root or chroot instead of `/`: its files, dpkg's
    /// database under it (dpkg-query --admindir) and its unit files (systemctl --root). What
    /// needs the running system (a unit's active state, running processes, lsb_release) is
    /// reported as not available, never guessed.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// The host's name in the document [default: the hostname, from DIR/etc/hostname with
    /// --root].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FactsFormat::Json)]
    pub format: FactsFormat,

    /// Seconds a command (systemctl, dpkg-query, lsb_release) may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
}

/// Formats of `preflight facts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FactsFormat {
    /// The versioned document, pretty-printed.
    Json,
    /// The same facts as lines for a person.
    Table,
}

/// Formats of `preflight checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

fn init_logging(verbose: u8) {
    // Only preflight's own events: dependencies (HTTP, TLS, database drivers) stay at warn, so
    // no request header or connection string reaches the log at any verbosity.
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::new(format!("warn,preflight={level}"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color_enabled(&std::io::stderr()))
        .without_time()
        .try_init();
}

/// Colors only on a terminal and only without `NO_COLOR` (https://no-color.org).
fn color_enabled(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Prints a diagnostic to stderr.
fn report_error(err: impl miette::Diagnostic + Send + Sync + 'static) {
    eprintln!("{:?}", miette::Report::new(err));
}

/// A plain error with a help line.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
struct CliError {
    message: String,
    #[help]
    help: Option<String>,
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> ExitCode {
    init_logging(cli.verbose);
    if let Some(dir) = &cli.knowledge {
        if let Err(code) = use_knowledge(dir) {
            return code;
        }
    }
    match cli.command {
        Command::Scan(args) => scan(args),
        Command::Bmc(args) => bmc(args),
        Command::Serve(args) => serve(args),
        Command::Plan(args) => plan(args),
        Command::Facts(args) => facts(&args),
        Command::Checks { format } => {
            print!("{}", list_checks(format));
            ExitCode::SUCCESS
        }
        Command::Explain { id } => match crate::systems::find_check(&id) {
            Some(def) => {
                print!("{}", explain(def));
                ExitCode::SUCCESS
            }
            None => {
                report_error(CliError {
                    message: format!("no check '{id}'"),
                    help: Some("`preflight checks` lists every check id and name".into()),
                });
                ExitCode::from(Status::Unknown.exit_code())
            }
        },
    }
}

/// Merges `--knowledge DIR` over the embedded packs and checks every pack before anything runs.
fn use_knowledge(dir: &std::path::Path) -> Result<(), ExitCode> {
    if !dir.is_dir() {
        report_error(CliError {
            message: format!("--knowledge {}: not a directory", dir.display()),
            help: Some(
                "give a directory holding packs named like the embedded ones (maas.toml, mender.toml, …)".into(),
            ),
        });
        return Err(unknown());
    }
    crate::core::knowledge::set_dir(dir.to_path_buf());
    for system in crate::systems::SYSTEMS {
        if let Err(e) = system.pack().check() {
            report_error(e);
            return Err(unknown());
        }
    }
    Ok(())
}

/// Where check `def`'s pack comes from: `maas.toml` (embedded) or `maas.toml + DIR/maas.toml`.
fn pack_of(def: &checks::CheckDef) -> String {
    let Some(system) = crate::systems::SYSTEMS
        .iter()
        .find(|s| s.checks().iter().any(|c| c.id == def.id))
    else {
        return String::new();
    };
    match crate::core::knowledge::origin(system.pack().file()) {
        Some(path) => format!("{} + {}", system.pack().file(), path.display()),
        None => system.pack().file().to_string(),
    }
}

fn unknown() -> ExitCode {
    ExitCode::from(Status::Unknown.exit_code())
}

fn load_config(report: &ReportArgs, targets: &[String]) -> Result<Config, ExitCode> {
    let overrides = Overrides {
        config: report.config.clone(),
        targets: targets.to_vec(),
        timeout: report.timeout,
        select: report.select.clone(),
        ignore: report.ignore.clone(),
        fail_on: report.fail_on,
        warning: report.warning.clone(),
        critical: report.critical.clone(),
        ca_cert: report.ca_cert.clone(),
        default_timeout: (report.format == Format::Nagios).then_some(crate::config::NAGIOS_TIMEOUT_SECS),
        waivers: report.waivers.clone(),
        baseline: report.baseline.clone(),
        allow_nothing: report.allow_nothing,
    };
    Config::load(
        &overrides,
        &|name| std::env::var(name).ok(),
        &crate::systems::configurable(),
    )
    .map_err(|e| {
        report_error(e);
        unknown()
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            report_error(CliError {
                message: format!("cannot start the async runtime: {e}"),
                help: None,
            });
            unknown()
        })
}

/// Where each format goes: `(format, Some(file))` or `(format, None)` for standard output.
fn destinations(args: &ReportArgs) -> Result<Vec<(Format, Option<PathBuf>)>, String> {
    let mut out = Vec::new();
    let mut stdout_taken = false;
    for given in &args.output {
        let (format, path) = match given.split_once('=') {
            Some((name, path)) if Format::from_str(name, true).is_ok() => {
                (Format::from_str(name, true).expect("checked"), path)
            }
            _ => {
                stdout_taken = true;
                (args.format, given.as_str())
            }
        };
        if path.is_empty() {
            return Err(format!("--output {given}: no file name"));
        }
        out.push((format, Some(PathBuf::from(path))));
    }
    if !stdout_taken {
        out.push((args.format, None));
    }
    Ok(out)
}

/// Writes `text` to `path` through a temporary file in the same directory and a rename, so a
/// reader (node_exporter, a CI upload) never sees half a report.
fn write_atomically(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    write(&mut file)
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// Renders `report` to standard output and every `--output`, and returns its exit code.
fn emit(report: &Report, args: &ReportArgs, config_path: Option<String>) -> ExitCode {
    let destinations = match destinations(args) {
        Ok(d) => d,
        Err(message) => {
            report_error(CliError {
                message,
                help: Some("e.g. --output sarif=preflight.sarif".into()),
            });
            return unknown();
        }
    };
    for (format, path) in destinations {
        let ctx = render::Context {
            color: path.is_none() && format == Format::Table && color_enabled(&std::io::stdout()),
            config_path: config_path.clone(),
        };
        // JSON, the format of large reports, streams; the others are rendered whole first.
        let write = |out: &mut dyn Write| match format {
            Format::Json => render::json::write(report, out),
            _ => out.write_all(render::render(report, format, &ctx).as_bytes()),
        };
        let written = match &path {
            Some(path) => write_atomically(path, write)
                .map_err(|e| format!("cannot write the {} report to {}: {e}", format.name(), path.display())),
            None => write(&mut std::io::stdout().lock()).map_err(|e| format!("cannot write the report to stdout: {e}")),
        };
        if let Err(message) = written {
            report_error(CliError { message, help: None });
            return unknown();
        }
    }
    report.status.into()
}

/// What `scan` and `serve` start from: the configuration with `args`' fleet (`--hosts`,
/// `--host-facts`) in it, and the runtime. Either error is reported on stderr before it is
/// returned as the exit code.
fn scan_setup(args: &ScanArgs) -> Result<(Config, tokio::runtime::Runtime), ExitCode> {
    let mut config = load_config(&args.report, &args.targets)?;
    match args.fleet(config.timeout) {
        Ok(fleet) => crate::systems::fleet::use_fleet(&mut config, fleet),
        Err(e) => {
            report_error(e);
            return Err(unknown());
        }
    }
    Ok((config, runtime()?))
}

fn scan(args: ScanArgs) -> ExitCode {
    let (config, runtime) = match scan_setup(&args) {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    let config_path = config.path.as_ref().map(|p| p.display().to_string());
    let report = runtime.block_on(scan_once(config, args.demo));
    emit(&report, &args.report, config_path)
}

/// One scan of what `config` names, or of the demo's fake systems.
async fn scan_once(config: Config, demo: bool) -> Report {
    if demo {
        let demo = Demo::start(config).await;
        eprintln!("{}", demo.banner());
        engine::run(&demo.scan, crate::systems::SYSTEMS).await
    } else {
        engine::run(&Scan::live(config), crate::systems::SYSTEMS).await
    }
}

fn plan(args: PlanArgs) -> ExitCode {
    let report_args = ReportArgs {
        config: args.config.clone(),
        format: Format::Table,
        output: Vec::new(),
        timeout: args.timeout,
        fail_on: None,
        warning: None,
        critical: None,
        ca_cert: None,
        waivers: None,
        baseline: None,
        select: crate::plan::path_checks().iter().map(|s| s.to_string()).collect(),
        ignore: Vec::new(),
        allow_nothing: false,
    };
    let config = match load_config(&report_args, &args.targets) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let report = runtime.block_on(scan_once(config, args.demo));
    let plan = crate::plan::Plan::of(&report);
    print!(
        "{}",
        match args.format {
            ListFormat::Table => plan.table(),
            ListFormat::Json => plan.json(),
        }
    );
    plan.status.into()
}

fn serve(args: ServeArgs) -> ExitCode {
    let (config, runtime) = match scan_setup(&args.scan) {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    let interval = std::time::Duration::from_secs(args.interval.max(1));
    let served = runtime.block_on(async {
        if args.scan.demo {
            let demo = Demo::start(config).await;
            eprintln!("{}", demo.banner());
            crate::serve::serve(args.listen, interval, || {
                engine::run(&demo.scan, crate::systems::SYSTEMS)
            })
            .await
        } else {
            let scan = Scan::live(config);
            crate::serve::serve(args.listen, interval, || engine::run(&scan, crate::systems::SYSTEMS)).await
        }
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report_error(CliError {
                message: format!("cannot serve on {}: {e}", args.listen),
                help: Some("pick another --listen address or port".into()),
            });
            unknown()
        }
    }
}

fn facts(args: &FactsArgs) -> ExitCode {
    let timeout = std::time::Duration::from_secs(args.timeout.max(1));
    let source = match &args.root {
        Some(root) if !root.is_dir() => {
            report_error(CliError {
                message: format!("--root {}: not a directory", root.display()),
                help: Some("give the directory an image or container root is mounted at".into()),
            });
            return unknown();
        }
        Some(root) => HostSource::Root {
            root: root.clone(),
            timeout,
        },
        None => HostSource::Live { timeout },
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let doc = runtime.block_on(crate::systems::host_facts::collect(&source, args.name.as_deref()));
    match args.format {
        FactsFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("a facts document serializes")
        ),
        FactsFormat::Table => print!("{}", crate::systems::host_facts::lines(&doc)),
    }
    ExitCode::SUCCESS
}

fn bmc(args: BmcArgs) -> ExitCode {
    let mut config = match load_config(&args.report, &[]) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let source = match (&args.input, &args.database) {
        (Some(input), _) => BmcSource::File {
            input: input.clone(),
            machines: args.machines.clone(),
        },
        (None, dsn) => {
            if let Some(dsn) = dsn.as_deref().filter(|d| !d.trim().is_empty()) {
                let has_password = dsn
                    .parse::<tokio_postgres::Config>()
                    .map(|c| c.get_password().is_some());
                if has_password.unwrap_or(false) {
                    report_error(CliError {
                        message: "the connection string given with --database holds a password".into(),
                        help: Some("secrets are never taken from the command line: set PGPASSWORD, or put the DSN in DATABASE_URL or [postgresql] url".into()),
                    });
                    return unknown();
                }
                bmc_command::use_database(&mut config, dsn);
            }
            BmcSource::Database
        }
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let host = HostSource::Live {
        timeout: config.timeout,
    };
    let report = runtime.block_on(bmc_command::run_bmc(&config, &source, &host));
    let started = std::time::Instant::now();
    let code = emit(
        &report,
        &args.report,
        config.path.as_ref().map(|p| p.display().to_string()),
    );
    tracing::info!("report rendered in {:?}", started.elapsed());
    // The process ends next: freeing a fleet-sized report one allocation at a time (tens of
    // milliseconds for 20,000 findings) would only delay the exit.
    std::mem::forget(report);
    code
}

/// `preflight checks` output.
pub fn list_checks(format: ListFormat) -> String {
    let all = crate::systems::catalogue();
    match format {
        ListFormat::Json => {
            let list: Vec<_> = all
                .iter()
                .map(|c| serde_json::json!({"id": c.id, "name": c.name, "system": c.system, "severity": c.severity, "title": c.title, "pack": pack_of(c)}))
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&list).expect("serializable"))
        }
        ListFormat::Table => {
            let mut table = render::table::plain_table(vec!["Id", "Name", "System", "Severity", "Title", "Pack"]);
            for c in all {
                table.add_row(vec![
                    c.id.clone(),
                    c.name.clone(),
                    c.system.to_string(),
                    c.severity.to_string(),
                    c.title.to_string(),
                    pack_of(c),
                ]);
            }
            format!("{table}\n`preflight explain ID` prints a check's documentation.\n")
        }
    }
}

/// `preflight explain ID` output.
pub fn explain(def: &checks::CheckDef) -> String {
    let para = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(
        "{id} {name} ({system}, {severity})\n{title}\n\nWhat it checks\n  {what}\n\nWhy it matters\n  {why}\n\nRemediation\n  {rem}\n\nSource\n  {source}\n",
        id = def.id,
        name = def.name,
        system = def.system,
        severity = def.severity,
        title = def.title,
        what = para(&def.what),
        why = para(&def.why),
        rem = para(&def.remediation),
        source = para(&def.source),
    )
}

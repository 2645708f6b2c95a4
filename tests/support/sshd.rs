//! A real OpenSSH server for the SSH recording tests: `/usr/sbin/sshd -D -e -f CONFIG` on
//! 127.0.0.1 with free ports, a throw-away host key and user key (`ssh-keygen -t ed25519`), an
//! `AuthorizedKeysFile DIR/authorized/%u` in its temp dir (so root and the unprivileged
//! [`UNPRIVILEGED`] user log in with the same test key), `StrictModes no`, `PermitRootLogin
//! prohibit-password`, `UsePAM no`, `Subsystem sftp internal-sftp` (Ansible copies files over
//! SFTP; tests/ansible.rs), and a known_hosts file for `[127.0.0.1]:PORT` and
//! `[localhost]:PORT`. Killed on drop. Runs as root (as the tests do here and in CI): sshd
//! needs it to log in as other users.

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use preflight::host::ssh::{SshOptions, SshTarget};

/// The unprivileged user the refused-sudo tests log in as (created on first use, no password
/// and no sudo rule, like scripts/test's `preflight-pg`).
pub const UNPRIVILEGED: &str = "preflight-ssh";

/// A running sshd.
pub struct Sshd {
    /// Its temp dir (mode 0755, so sshd can read the unprivileged user's authorized key as
    /// that user): keys, config, known_hosts, log.
    pub dir: tempfile::TempDir,
    /// The ports it listens on, all on 127.0.0.1.
    pub ports: Vec<u16>,
    /// The test user's private key.
    pub key: PathBuf,
    /// known_hosts holding the server's host key for every port, as 127.0.0.1 and localhost.
    pub known_hosts: PathBuf,
    child: Child,
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn keygen(path: &Path, comment: &str) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen runs (apt-get install openssh-client)");
    assert!(status.success(), "ssh-keygen failed");
}

/// `ssh-ed25519 AAAA…` of a `.pub` file (no comment).
pub fn public_key(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// Creates [`UNPRIVILEGED`] if missing, with a shell and the password field `*` (no password,
/// but not locked: sshd without PAM refuses a `!` account), once per test binary.
pub fn unprivileged_user() -> &'static str {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let exists = Command::new("id").arg(UNPRIVILEGED).output().unwrap().status.success();
        if !exists {
            let status = Command::new("useradd")
                .args(["--system", "--no-create-home", "--shell", "/bin/sh", UNPRIVILEGED])
                .status()
                .expect("useradd runs (the tests run as root)");
            assert!(status.success(), "useradd {UNPRIVILEGED} failed");
        }
        let status = Command::new("usermod")
            .args(["-p", "*", "--shell", "/bin/sh", UNPRIVILEGED])
            .status()
            .expect("usermod runs");
        assert!(status.success(), "usermod {UNPRIVILEGED} failed");
    });
    UNPRIVILEGED
}

impl Sshd {
    /// Starts sshd on `ports` free ports and waits until each accepts connections.
    pub fn start(ports: usize) -> Sshd {
        assert!(
            Path::new("/usr/sbin/sshd").exists(),
            "/usr/sbin/sshd is missing: apt-get install -y --no-install-recommends openssh-server openssh-client sudo"
        );
        unprivileged_user();
        // sshd refuses to start without its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let dir = tempfile::Builder::new().prefix("preflight-sshd.").tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let host_key = dir.path().join("host_ed25519");
        let key = dir.path().join("user_ed25519");
        keygen(&host_key, "preflight-test-host");
        keygen(&key, "preflight-test-user");
        let authorized = dir.path().join("authorized");
        std::fs::create_dir(&authorized).unwrap();
        std::fs::set_permissions(&authorized, std::fs::Permissions::from_mode(0o755)).unwrap();
        let user_pub = format!("{}\n", public_key(&key.with_extension("pub")));
        for user in ["root", UNPRIVILEGED] {
            let file = authorized.join(user);
            std::fs::write(&file, &user_pub).unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let ports: Vec<u16> = (0..ports).map(|_| free_port()).collect();
        let mut config = String::new();
        for port in &ports {
            config.push_str(&format!("Port {port}\n"));
        }
        config.push_str(&format!(
            "ListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}/%u\nStrictModes no\nPermitRootLogin prohibit-password\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPidFile {}\nMaxStartups 100:30:200\nSubsystem sftp internal-sftp\n",
            host_key.display(),
            authorized.display(),
            dir.path().join("sshd.pid").display(),
        ));
        let config_path = dir.path().join("sshd_config");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("sshd.log")).unwrap();
        let mut child = Command::new("/usr/sbin/sshd")
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("sshd starts");

        let host_pub = public_key(&host_key.with_extension("pub"));
        let known_hosts = dir.path().join("known_hosts");
        let mut kh = std::fs::File::create(&known_hosts).unwrap();
        for port in &ports {
            writeln!(kh, "[127.0.0.1]:{port} {host_pub}").unwrap();
            writeln!(kh, "[localhost]:{port} {host_pub}").unwrap();
        }

        let deadline = Instant::now() + Duration::from_secs(20);
        for port in &ports {
            while TcpStream::connect(("127.0.0.1", *port)).is_err() {
                if let Some(status) = child.try_wait().unwrap() {
                    let log = std::fs::read_to_string(dir.path().join("sshd.log")).unwrap_or_default();
                    panic!("sshd exited ({status}) before listening on {port}: {log}");
                }
                assert!(Instant::now() < deadline, "sshd did not listen on {port} within 20 s");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Sshd {
            dir,
            ports,
            key,
            known_hosts,
            child,
        }
    }

    /// The options that reach this server: its key, its known_hosts, no agent, no other ssh
    /// config (`-F /dev/null`), short timeouts.
    pub fn options(&self) -> SshOptions {
        self.options_with(&self.known_hosts)
    }

    /// [`Sshd::options`] trusting the host keys in `known_hosts` instead.
    pub fn options_with(&self, known_hosts: &Path) -> SshOptions {
        let mut extra = vec![
            "-F".to_string(),
            "/dev/null".into(),
            "-i".into(),
            self.key.display().to_string(),
        ];
        extra.extend(pinned(known_hosts).into_iter().flat_map(|o| ["-o".to_string(), o]));
        SshOptions {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            extra,
            ..SshOptions::default()
        }
    }

    /// The options of [`Sshd::options`] as `preflight scan --ssh-option` arguments, for a scan
    /// whose inventory names the key (`ansible_ssh_private_key_file`).
    pub fn scan_args(&self) -> Vec<String> {
        pinned(&self.known_hosts)
            .into_iter()
            .flat_map(|o| ["--ssh-option".to_string(), o])
            .collect()
    }

    /// A target named `name` at `address`, port number `port` of this server, as `user`.
    pub fn target(&self, name: &str, address: &str, port: usize, user: &str) -> SshTarget {
        SshTarget {
            name: name.into(),
            address: Some(address.into()),
            port: Some(self.ports[port]),
            user: Some(user.into()),
        }
    }

    /// What sshd logged so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `-o` options that hold ssh to one server: only the given key (no agent), only the host
/// keys in `known_hosts` (none from the system's file), and no connection to an unknown key.
fn pinned(known_hosts: &Path) -> [String; 5] {
    [
        "IdentitiesOnly=yes".into(),
        "IdentityAgent=none".into(),
        format!("UserKnownHostsFile={}", known_hosts.display()),
        "GlobalKnownHostsFile=/dev/null".into(),
        "StrictHostKeyChecking=yes".into(),
    ]
}

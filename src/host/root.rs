//! Reading a root directory that is not `/` (`--root DIR`: a mounted image, a container root,
//! a chroot): its files under DIR, and the commands that can be told to read DIR instead of the
//! running system — dpkg's database through `dpkg-query --admindir`, unit files through
//! `systemctl --root` (which only offers what needs no running manager: `is-enabled`). Anything
//! else needs the running system and is not available.

use std::path::{Path, PathBuf};

/// `path` (absolute, as on the host) under `root`: `/etc/os-release` → `ROOT/etc/os-release`.
pub fn join(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// The arguments that make `program args` read `root` instead of the running system, or
/// `None` when the command needs the running system (a unit's active state, `lsb_release`,
/// anything not listed). From systemctl(1): `--root=` "use the specified root path when looking
/// for unit files", for `enable`/`disable`/`is-enabled`-style verbs only; from dpkg-query(1):
/// `--admindir=dir` "the location of the dpkg database".
pub fn command_under(root: &Path, program: &str, args: &[&str]) -> Option<Vec<String>> {
    let owned = || args.iter().map(|a| a.to_string());
    match (program, args) {
        ("dpkg-query", _) => Some(
            std::iter::once(format!("--admindir={}", join(root, "/var/lib/dpkg").display()))
                .chain(owned())
                .collect(),
        ),
        ("systemctl", ["is-enabled", ..]) => Some(
            std::iter::once(format!("--root={}", root.display()))
                .chain(owned())
                .collect(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_commands_read_the_root() {
        let root = Path::new("/mnt/image");
        assert_eq!(
            join(root, "/etc/os-release"),
            PathBuf::from("/mnt/image/etc/os-release")
        );
        assert_eq!(
            command_under(root, "dpkg-query", &["-W", "-f=${Version}", "maas-region-api"]).unwrap(),
            [
                "--admindir=/mnt/image/var/lib/dpkg",
                "-W",
                "-f=${Version}",
                "maas-region-api"
            ]
        );
        assert_eq!(
            command_under(root, "systemctl", &["is-enabled", "chrony"]).unwrap(),
            ["--root=/mnt/image", "is-enabled", "chrony"]
        );
        assert_eq!(command_under(root, "systemctl", &["is-active", "chrony"]), None);
        assert_eq!(command_under(root, "lsb_release", &["-a"]), None);
    }
}

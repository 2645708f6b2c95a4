//! Controller roots as an image or container holds them, for the tests that read hosts through
//! `preflight_root` / `--root` (tests/fleet.rs, tests/ansible.rs).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes `text` at `path` under `root`, every directory on the way 0755 (sshd's users read it).
pub fn put(root: &Path, path: &str, text: &str) {
    let file = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, text).unwrap();
    let mut dir = file.parent().unwrap().to_path_buf();
    while dir.starts_with(root) {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir.pop();
    }
}

/// A controller's root: Ubuntu `ubuntu`, the MAAS snap (`snap`) or deb, systemd's marker.
pub fn root(ubuntu: &str, snap: Option<&str>, deb: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::set_permissions(r, std::fs::Permissions::from_mode(0o755)).unwrap();
    put(r, "/etc/os-release", &format!("ID=ubuntu\nVERSION_ID=\"{ubuntu}\"\n"));
    put(r, "/run/systemd/system/.keep", "");
    if let Some(v) = snap {
        put(
            r,
            "/snap/maas/current/meta/snap.yaml",
            &format!("name: maas\nversion: {v}\n"),
        );
        put(r, "/var/snap/maas/common/snap_mode", "rack");
    }
    if let Some(v) = deb {
        put(
            r,
            "/var/lib/dpkg/status",
            &format!("Package: maas-region-api\nStatus: install ok installed\nArchitecture: all\nVersion: {v}\n"),
        );
    }
    dir
}

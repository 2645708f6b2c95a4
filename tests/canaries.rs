//! Canary secrets in every place a secret can come from, every command and format, at -vvv,
//! with systems that fail in different ways: no canary may reach stdout, stderr or a file.

use assert_cmd::Command;
use mocks::fleet::Fleet;

const CANARIES: &[(&str, &str)] = &[
    (
        "MAAS_API_KEY",
        "CanaryConsumer:CanaryToken:CANARY-maas-token-secret-7f3a",
    ),
    (
        "DATABASE_URL",
        "postgresql://maas:CANARY-db-password-91c2@127.0.0.1:9/maasdb",
    ),
    ("MENDER_TOKEN", "CANARY-mender-token-55aa"),
    ("MENDER_PASSWORD", "CANARY-mender-password-1b2c"),
    ("BACKENDAI_ACCESS_KEY", "AKCANARY"),
    ("BACKENDAI_SECRET_KEY", "CANARY-bai-secret-3d4e"),
];

fn secrets() -> Vec<String> {
    let mut s: Vec<String> = CANARIES.iter().map(|(_, v)| v.to_string()).collect();
    s.extend(["CANARY-maas-token-secret-7f3a", "CANARY-db-password-91c2"].map(String::from));
    s
}

fn assert_clean(what: &str, texts: &[String]) {
    for text in texts {
        for secret in secrets() {
            assert!(!text.contains(&secret), "{what} leaks {secret}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_canary_leaves_in_any_format_or_log() {
    let dir = tempfile::tempdir().unwrap();
    // Failing systems of several kinds: refused connection, a real fake region that rejects the
    // canary key (401), and TLS against plain HTTP.
    let fleet = Fleet::generate(50, 1);
    let region = mocks::maas::MaasServer::start(&fleet, &mocks::maas::MaasOptions::mixed("3.2.9", "3.2.9")).await;
    for (maas_url, mender_url) in [
        ("http://127.0.0.1:9/MAAS".to_string(), "http://127.0.0.1:9".to_string()),
        (region.maas_url(), region.maas_url().replace("http://", "https://")),
    ] {
        for format in ["table", "json", "nagios", "sarif", "junit", "prometheus", "html"] {
            let mut cmd = Command::cargo_bin("preflight").unwrap();
            cmd.current_dir(dir.path())
                .envs(CANARIES.iter().copied())
                .env("MAAS_URL", &maas_url)
                .env("MENDER_URL", &mender_url)
                .env("MENDER_USERNAME", "admin")
                .env("BACKENDAI_ENDPOINT", "http://127.0.0.1:9")
                .args([
                    "scan",
                    "-vvv",
                    "--timeout",
                    "5",
                    "--format",
                    format,
                    "--output",
                    "json=out.json",
                ]);
            let out = cmd.output().unwrap();
            assert_ne!(out.status.code(), Some(0), "a failing scan is never OK");
            let file = std::fs::read_to_string(dir.path().join("out.json")).unwrap_or_default();
            assert_clean(
                &format!("scan {format} against {maas_url}"),
                &[
                    String::from_utf8_lossy(&out.stdout).into_owned(),
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                    file,
                ],
            );
        }
    }
}

#[test]
fn bmc_passwords_never_leave_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::generate(3_000, 9);
    std::fs::write(dir.path().join("p.json"), fleet.power_parameters_json()).unwrap();
    let passwords = fleet.secrets();
    for format in ["table", "json", "nagios", "sarif", "junit", "prometheus", "html"] {
        let out = Command::cargo_bin("preflight")
            .unwrap()
            .current_dir(dir.path())
            .args(["bmc", "--input", "p.json", "-vvv", "--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for p in &passwords {
            assert!(!text.contains(p.as_str()), "bmc {format} leaks a BMC secret");
        }
    }
}

//! TLS: a self-signed certificate is refused (an error, never a pass) until `--ca-cert` trusts
//! it. The server is a minimal HTTPS Backend.AI manager on loopback (rcgen + tokio-rustls).

mod support;

use std::sync::Arc;

use preflight::engine;
use preflight::report::OutcomeStatus;
use support::{config_from_toml, outcome, scan_without_host};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Starts an HTTPS server with a fresh self-signed certificate for 127.0.0.1; returns its URL
/// and the certificate (PEM).
async fn https_manager() -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let pem = cert.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&request);
                let body = if line.starts_with("GET /manager/status") {
                    r#"{"nodes": [], "active_sessions": 0}"#
                } else {
                    r#"{"version": "v8.20240915", "manager": "24.09.8"}"#
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, pem)
}

#[tokio::test]
async fn self_signed_is_refused_until_trusted() {
    let (url, pem) = https_manager().await;
    let toml = format!("[backendai]\nmanager_url = \"{url}\"\n[scan]\ntargets = {{ backendai = \"24.09.9\" }}\n");
    let report = engine::run(&scan_without_host(config_from_toml(&toml, &[], &[]))).await;
    let o = outcome(&report, "BAI001");
    assert_eq!(o.status, OutcomeStatus::Error, "{o:?}");
    assert!(o.reason.as_deref().unwrap().contains(&url), "{o:?}");

    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let trusted = format!("{toml}ca_cert = \"{}\"\n", ca.display());
    let report = engine::run(&scan_without_host(config_from_toml(&trusted, &[], &[]))).await;
    assert_eq!(
        outcome(&report, "BAI001").status,
        OutcomeStatus::Pass,
        "{:?}",
        outcome(&report, "BAI001")
    );
    assert_eq!(outcome(&report, "BAI002").status, OutcomeStatus::Pass);
}

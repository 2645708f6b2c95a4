//! Fake live systems for preflight's tests and `preflight scan --demo`.
//!
//! - [`fleet`]: a seeded generator of MAAS machines and their power parameters, with planted
//!   BMC collisions and the answer the detector must give (the "truth").
//! - [`maas`]: a MAAS region API 2.0 on loopback (wiremock), shaped like the real one: OAuth
//!   PLAINTEXT required, `version/`, `regioncontrollers/`, `rackcontrollers/`, `machines/`,
//!   bulk and per-machine power parameters.
//! - [`mender`], [`backendai`]: a Mender Server management API and a Backend.AI cluster.
//! - [`demo`]: the recorded host (with juju CLI output) and database facts `--demo` scans.

pub mod backendai;
pub mod demo;
pub mod fleet;
pub mod maas;
pub mod mender;
pub mod proxmox;

/// Mounts mocks that make the server's verification fail (when it is dropped) if any request
/// with a write method reaches it past the routes mounted before: preflight only reads.
pub async fn refuse_writes(server: &wiremock::MockServer) {
    for write in ["POST", "PUT", "PATCH", "DELETE"] {
        wiremock::Mock::given(wiremock::matchers::method(write))
            .respond_with(wiremock::ResponseTemplate::new(405))
            .with_priority(9)
            .named(format!("preflight must not {write}"))
            .expect(0)
            .mount(server)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    #[should_panic(expected = "preflight must not POST")]
    async fn a_write_fails_the_test() {
        let server = wiremock::MockServer::start().await;
        super::refuse_writes(&server).await;
        let mut tcp = tokio::net::TcpStream::connect(server.address()).await.unwrap();
        tcp.write_all(
            b"POST /MAAS/api/2.0/machines/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer).await;
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 405"));
        server.verify().await;
    }
}

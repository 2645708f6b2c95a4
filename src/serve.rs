//! `preflight serve`: scans on a schedule and serves the latest result over HTTP for monitoring:
//! `/healthz` (200 when OK or WARNING, 503 when CRITICAL, UNKNOWN or before the first scan),
//! `/metrics` (Prometheus text format) and `/report.json` (the JSON report). Reports hold no
//! secret, so neither does any answer. Binds loopback unless told otherwise.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::sync::RwLock;

use crate::render::{self, Context, Format};
use crate::report::{Report, Status};

type Latest = Arc<RwLock<Option<Report>>>;

async fn healthz(State(latest): State<Latest>) -> impl IntoResponse {
    match latest.read().await.as_ref() {
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "no scan has finished yet\n".to_string(),
        ),
        Some(r) => {
            let t = r.tally();
            let line = format!(
                "{} - {} blocker(s), {} warning(s), {} check(s) could not run\n",
                r.status.nagios_name(),
                t.blockers,
                t.warnings,
                t.errors
            );
            let code = match r.status {
                Status::Ok | Status::Warning => StatusCode::OK,
                Status::Critical | Status::Unknown => StatusCode::SERVICE_UNAVAILABLE,
            };
            (code, line)
        }
    }
}

async fn rendered(latest: Latest, format: Format, content_type: &'static str) -> axum::response::Response {
    match latest.read().await.as_ref() {
        None => (StatusCode::SERVICE_UNAVAILABLE, "no scan has finished yet\n").into_response(),
        Some(r) => (
            [(header::CONTENT_TYPE, content_type)],
            render::render(r, format, &Context::default()),
        )
            .into_response(),
    }
}

/// The routes over the latest report.
fn router(latest: Latest) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/metrics",
            get(|State(l): State<Latest>| rendered(l, Format::Prometheus, "text/plain; version=0.0.4")),
        )
        .route(
            "/report.json",
            get(|State(l): State<Latest>| rendered(l, Format::Json, "application/json")),
        )
        .with_state(latest)
}

/// Runs `scan` once, then binds `listen` (printing the address on stderr), serves, and re-runs
/// `scan` every `interval` until the process is stopped.
///
/// # Errors
/// The listen address cannot be bound, or the server fails.
pub async fn serve<F, Fut>(listen: SocketAddr, interval: Duration, scan: F) -> std::io::Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Report>,
{
    let latest: Latest = Arc::new(RwLock::new(Some(scan().await)));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("preflight serve: listening on http://{}", listener.local_addr()?);
    // The scans run on this task, beside the server: a scan never blocks an answer, which
    // always comes from the latest finished report.
    let refresh = async {
        loop {
            tokio::time::sleep(interval).await;
            let report = scan().await;
            *latest.write().await = Some(report);
        }
    };
    tokio::select! {
        served = axum::serve(listener, router(latest.clone())) => served,
        () = refresh => Ok(()),
    }
}

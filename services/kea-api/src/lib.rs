#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod health;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use sqlx::PgPool;

/// Settings the server needs, built by the binary from flags and the environment.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The base URL Twilio uses to reach this server (signatures are checked against it).
    pub public_url: String,
    /// How long one request may take before it is answered 503 (bounds shutdown draining too).
    pub request_timeout: Duration,
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: PgPool,
    /// The server's settings.
    pub config: Arc<ApiConfig>,
}

/// The whole HTTP surface of `kea serve`.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    kea_telemetry::http_layers(routes, timeout).with_state(state)
}

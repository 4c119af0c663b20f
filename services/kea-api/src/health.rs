//! Liveness and readiness, for Kubernetes probes and for people.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;

/// 200 while the process is up and serving HTTP; nothing else is checked, so a database outage
/// does not get healthy replicas restarted.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// 200 when this replica can do its work: the database answers and every migration this binary
/// knows about is applied. 503 otherwise, saying which.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match kea_store::pending_migrations(&state.db).await {
        Ok(pending) if pending.is_empty() => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Ok(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"status": "not ready", "reason": "migrations not applied (run `kea migrate`)", "pending": pending}),
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not ready", "reason": "database unreachable"})),
            )
        }
    }
}

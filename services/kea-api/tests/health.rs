//! Health and readiness, in process (axum `oneshot`) against a real database.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kea_api::{AppState, router};
use kea_test_db::TestDb;
use tower::ServiceExt;

fn state(db: sqlx::PgPool) -> AppState {
    let config = common::config("http://127.0.0.1:8080", "test-auth-token", None);
    AppState::new(db, config)
}

async fn get(state: AppState, path: &str) -> (StatusCode, serde_json::Value) {
    let res = router(state)
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn ready_when_migrated_and_says_why_when_not() {
    let db = TestDb::new().await;
    assert_eq!(
        get(state(db.pool().clone()), "/readyz").await,
        (StatusCode::OK, serde_json::json!({"status": "ready"}))
    );
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(db.pool())
        .await
        .unwrap();
    let (status, body) = get(state(db.pool().clone()), "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body["pending"].as_array().map(Vec::len),
        Some(kea_store::MIGRATOR.iter().count())
    );
}

#[tokio::test]
async fn unready_but_alive_when_the_database_is_gone() {
    // A pool that points at a closed port: readiness fails, liveness does not.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://kea@127.0.0.1:1/kea")
        .unwrap();
    let (status, body) = get(state(pool.clone()), "/readyz").await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("database unreachable")
        )
    );
    assert_eq!(get(state(pool), "/healthz").await.0, StatusCode::OK);
}

//! The least an axum + sqlx server can do for the data API's single-row read, for
//! `scripts/bench-data-api`: the same statement on connections already set to the same role and
//! claims, with no token check, no parsing or planning, no middleware and no headers beyond the
//! content type. It is not kea; it shows how close to pgbench any server on this stack and
//! machine can get, so kea's own cost can be read against it.
//!
//! Settings (environment): `DATABASE_URL`, `FLOOR_LISTEN` (`127.0.0.1:18999`), `FLOOR_SQL` (the
//! statement, one text parameter), `FLOOR_PARAM`, `FLOOR_ROLE`, `FLOOR_CLAIMS`,
//! `FLOOR_CONNECTIONS` (4).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection, Row};
use tokio::sync::Mutex;

struct Floor {
    connections: Vec<Mutex<PgConnection>>,
    next: AtomicUsize,
    sql: String,
    param: String,
}

async fn read(State(floor): State<Arc<Floor>>) -> impl IntoResponse {
    let i = floor.next.fetch_add(1, Ordering::Relaxed) % floor.connections.len();
    let mut conn = floor.connections[i].lock().await;
    let rows = sqlx::query(AssertSqlSafe(floor.sql.clone()))
        .bind(floor.param.clone())
        .fetch_all(&mut *conn)
        .await;
    match rows
        .as_deref()
        .map(|rows| rows.first().map(|r| r.try_get::<String, _>("body")))
    {
        Ok(Some(Ok(body))) => Ok(([(header::CONTENT_TYPE, "application/json")], body)),
        _ => Err(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = setting("DATABASE_URL")?;
    let count: usize = std::env::var("FLOOR_CONNECTIONS")
        .unwrap_or_else(|_| "4".into())
        .parse()?;
    let mut connections = Vec::new();
    for _ in 0..count.max(1) {
        let mut conn = PgConnection::connect(&url).await?;
        sqlx::query(
            "SELECT set_config('role', $1, false), set_config('request.jwt.claims', $2, false), \
             set_config('default_transaction_read_only', 'on', false)",
        )
        .bind(setting("FLOOR_ROLE")?)
        .bind(setting("FLOOR_CLAIMS")?)
        .execute(&mut conn)
        .await?;
        connections.push(Mutex::new(conn));
    }
    let floor = Arc::new(Floor {
        connections,
        next: AtomicUsize::new(0),
        sql: setting("FLOOR_SQL")?,
        param: setting("FLOOR_PARAM")?,
    });
    let listen = std::env::var("FLOOR_LISTEN").unwrap_or_else(|_| "127.0.0.1:18999".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(
        listener,
        Router::new().route("/", get(read)).with_state(floor),
    )
    .await?;
    Ok(())
}

//! The data API: PostgREST's dialect over schema `api`, served under `/rest/v1`.
//!
//! A request goes through pure stages, as in PostgREST's `App.hs`:
//! [`auth::authenticate`] (JWT → role) → [`request::parse`] (HTTP → [`request::ApiRequest`]) →
//! [`plan::plan`] (with the [`schema_cache::SchemaCache`]) → [`sql::to_sql`] (one statement, bind
//! values only) → [`exec::execute`] (the only stage that touches PostgreSQL: one transaction as the
//! request's role) → [`response::respond`]. Tenancy is enforced by PostgreSQL (roles and
//! row-level security on the tables under the `api` views), not by these stages.
//!
//! Reads (JSON, single object, CSV; exact/planned/estimated counts), writes (POST insert and
//! upsert with `on_conflict` and `Prefer: resolution`, `missing=default`, `columns=`; PATCH and
//! DELETE with filters and `limit`; PUT single-row upsert; `Prefer: return=minimal|headers-only|
//! representation` and `tx=rollback|commit`) and calls of the functions of schema `api`
//! (`POST /rpc/<f>` with a JSON object of named arguments, `GET /rpc/<f>?arg=…` with the read
//! grammar applied to a function that returns rows). Reads and GET calls run in a read-only
//! transaction, as do POST calls of STABLE or IMMUTABLE functions; writes in a read-write one.
//!
//! `GET /rest/v1/` answers with an OpenAPI 3.1 description of every resource in the schema cache
//! ([`openapi`]), without a token.

pub mod auth;
pub mod conn;
pub mod error;
pub mod exec;
pub mod openapi;
pub mod plan;
pub mod request;
pub mod response;
pub mod schema_cache;
pub mod sql;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::AppState;
use error::PgrstError;
use schema_cache::SchemaCache;

/// The data API's routes, under `/rest/v1` (full paths rather than a nested router, which
/// would rebuild every request's URI without its prefix).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rest/v1", any(root))
        .route("/rest/v1/", any(root))
        .route("/rest/v1/{resource}", any(handle))
        .route("/rest/v1/rpc/{function}", any(handle_rpc))
}

async fn handle(
    State(state): State<AppState>,
    Path(resource): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = request::parse(&method, &resource, uri.query(), &headers);
    match serve(&state, parsed, &headers, &body).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn handle_rpc(
    State(state): State<AppState>,
    Path(function): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = request::parse_rpc(&method, &function, uri.query(), &headers);
    match serve(&state, parsed, &headers, &body).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn serve(
    state: &AppState,
    parsed: Result<request::ApiRequest, PgrstError>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, PgrstError> {
    let started = std::time::Instant::now();
    let secret = state.config.jwt_secret.as_ref().map(|s| s.expose());
    let auth = state.jwts.authenticate(headers, secret)?;
    let mut req = parsed?;
    request::parse_body(&mut req, body)?;
    let cache = schema(state).await?;
    let plan = plan::plan(&req, &cache)?;
    let q = sql::to_sql(&plan);
    let planned = started.elapsed();
    let res = exec::execute(&state.reads, &state.db, &q, &auth).await?;
    let executed = started.elapsed();
    let mut response = response::respond(&plan, res)?;
    // Where the time went, for a client's developer tools (the W3C Server-Timing header):
    // parsing, authenticating and planning; the database; writing the answer.
    let timing = server_timing(planned, executed - planned, started.elapsed() - executed);
    if let Ok(value) = axum::http::HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", value);
    }
    Ok(response)
}

/// The `Server-Timing` value for the three phases, in milliseconds to the microsecond (written
/// from whole microseconds: formatting floats was a measurable part of a read's CPU).
fn server_timing(plan: Duration, db: Duration, render: Duration) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(64);
    for (i, (name, d)) in [("plan", plan), ("db", db), ("render", render)]
        .into_iter()
        .enumerate()
    {
        let us = d.as_micros();
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(out, "{sep}{name};dur={}.{:03}", us / 1000, us % 1000);
    }
    out
}

/// The schema cache, loaded on first use (and the reload listener started with it).
async fn schema(state: &AppState) -> Result<Arc<SchemaCache>, PgrstError> {
    if let Some(c) = state.schema.get() {
        return Ok(c);
    }
    let _loading = state.schema.loading.lock().await;
    if let Some(c) = state.schema.get() {
        return Ok(c);
    }
    if state.schema.claim_listener() {
        exec::spawn_schema_listener(state.db.clone(), state.schema.clone());
    }
    exec::reload(&state.db, &state.schema).await
}

/// `GET /rest/v1/`: the OpenAPI description ([`openapi`]); no token needed.
pub async fn root(State(state): State<AppState>, method: Method) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return PgrstError::unsupported_method(method.as_str()).into_response();
    }
    match schema(&state).await {
        Ok(cache) => (
            [(axum::http::header::CONTENT_TYPE, openapi::CONTENT_TYPE)],
            axum::Json(openapi::document(&cache)),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn server_timing_is_in_milliseconds_to_the_microsecond() {
        assert_eq!(
            super::server_timing(
                Duration::from_micros(1234),
                Duration::from_nanos(5_900),
                Duration::ZERO
            ),
            "plan;dur=1.234, db;dur=0.005, render;dur=0.000"
        );
    }
}

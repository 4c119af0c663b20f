//! The only stage that talks to PostgreSQL: runs a planned statement in a transaction as the
//! request's role, loads the schema cache, and listens for `NOTIFY pgrst`.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgDatabaseError, PgListener};
use sqlx::{AssertSqlSafe, PgPool, Row};

use super::auth::AuthContext;
use super::conn::ReadPool;
use super::error::PgrstError;
use super::schema_cache::{CatalogDoc, SchemaCache, SchemaHandle};
use super::sql::{Bind, SqlQuery};

/// What a read statement returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbResult {
    /// The number of rows matching the filters, when counted.
    pub total: Option<i64>,
    /// The number of rows in the body.
    pub page_count: i64,
    /// The body, JSON text as PostgreSQL assembled it.
    pub body: String,
    /// For an upsert: how many of the written rows were inserted (not updated).
    pub inserted: Option<i64>,
}

/// Sets the role and claims for the transaction of a write (`is_local = true`).
const LOCAL_SETTINGS: &str =
    "SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)";

/// Runs `q` as `auth`'s role with its claims.
///
/// A read is one statement in a read-only implicit transaction on a connection of `reads`, whose
/// session already has (or is first given) the role and claims: one round trip when they have
/// not changed since that connection's last request. A write (or a call that may write) runs on
/// `db` in a read-write transaction with transaction-local settings; it is committed, or rolled
/// back for `Prefer: tx=rollback` and when a single object was asked for and the statement did
/// not touch exactly one row.
pub async fn execute(
    reads: &ReadPool,
    db: &PgPool,
    q: &SqlQuery,
    auth: &AuthContext,
) -> Result<DbResult, PgrstError> {
    let map = |e| map_error(e, auth.authenticated);
    if q.read_only {
        let mut lease = reads.acquire().await.map_err(map)?;
        super::conn::set(&mut lease, auth.db_role, &auth.claims_json)
            .await
            .map_err(map)?;
        if q.calls_function {
            // The function could change the session's settings: send them again next time.
            lease.state = None;
        }
        let result = run(lease.start().map_err(map)?, q).await;
        lease.finish(&result);
        let result = result.map_err(map)?;
        if q.singular && result.page_count != 1 {
            return Err(PgrstError::singular(result.page_count));
        }
        return Ok(result);
    }
    let mut tx = db
        .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE")
        .await
        .map_err(map)?;
    sqlx::query(LOCAL_SETTINGS)
        .bind(auth.db_role)
        .bind(&*auth.claims_json)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
    let result = run(&mut tx, q).await.map_err(map)?;
    if q.singular && result.page_count != 1 {
        tx.rollback().await.map_err(map)?;
        return Err(PgrstError::singular(result.page_count));
    }
    // A write to a store's settings or menu: its document follows, validated, in this
    // transaction (kea_store::store_sync), so the next call hears exactly what was written.
    let touched = kea_store::store_sync::touched_stores(&mut tx)
        .await
        .map_err(|e| store_error(&e))?;
    if !touched.is_empty() {
        sqlx::query("SET LOCAL ROLE NONE")
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        if let Err(e) = kea_store::store_sync::sync_documents(&mut tx, &touched, &actor(auth)).await
        {
            tx.rollback().await.map_err(map)?;
            return Err(match e {
                kea_store::store_sync::SyncError::Invalid { store_id, problems } => {
                    let details: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    PgrstError::new(
                        axum::http::StatusCode::BAD_REQUEST,
                        "23514",
                        format!(
                            "the change would make store `{store_id}` invalid: {}",
                            details.join("; ")
                        ),
                    )
                    .details(details.join("\n"))
                    .hint("The same rules as `kea store import`; nothing was changed.")
                }
                kea_store::store_sync::SyncError::Store(e) => store_error(&e),
            });
        }
    }
    if q.rollback {
        tx.rollback().await.map_err(map)?;
    } else {
        tx.commit().await.map_err(map)?;
    }
    Ok(result)
}

/// Who made a write, for the store's change record: `merchant:<id>`, `service`, …
fn actor(auth: &AuthContext) -> String {
    let claims: serde_json::Value = serde_json::from_str(&auth.claims_json).unwrap_or_default();
    let role = claims["role"].as_str().unwrap_or("unknown");
    match claims["merchant_id"].as_str().or(claims["sub"].as_str()) {
        Some(id) if role != "service" => format!("{role}:{id}"),
        _ => role.to_owned(),
    }
}

fn store_error(e: &kea_store::StoreError) -> PgrstError {
    tracing::error!(error = %e, "data API: deriving a store's document failed");
    PgrstError::internal()
}

/// Binds each of `binds` to a query (either kind), in order.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for b in $binds {
            query = match b {
                Bind::Text(s) => query.bind(s.clone()),
                Bind::TextArray(v) => query.bind(v.clone()),
                Bind::Int(i) => query.bind(*i),
            };
        }
        query
    }};
}

/// The statement (and, for `count=planned`, its EXPLAIN) on a connection already set up.
async fn run(conn: &mut sqlx::PgConnection, q: &SqlQuery) -> Result<DbResult, sqlx::Error> {
    let query = bind_all!(sqlx::query(AssertSqlSafe(q.sql.clone())), &q.binds);
    // `fetch_all`, not `fetch_one`: sqlx sends `fetch_one`'s Sync separately, one more round
    // trip per statement; the statement returns exactly one row either way.
    let row = query
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .next()
        .ok_or(sqlx::Error::RowNotFound)?;
    let mut total: Option<i64> = row.try_get("total_count")?;
    if let Some(count) = &q.planned_count {
        let explain = bind_all!(
            sqlx::query_scalar::<_, serde_json::Value>(AssertSqlSafe(format!(
                "EXPLAIN (FORMAT JSON) {}",
                count.sql
            ))),
            &count.binds
        );
        let plan = explain.fetch_one(&mut *conn).await?;
        total = plan[0]["Plan"]["Plan Rows"].as_f64().map(|n| n as i64);
    }
    Ok(DbResult {
        total,
        page_count: row.try_get("page_count")?,
        body: row.try_get("body")?,
        inserted: if q.counts_inserted {
            row.try_get("inserted")?
        } else {
            None
        },
    })
}

fn map_error(e: sqlx::Error, authenticated: bool) -> PgrstError {
    match &e {
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                return PgrstError::from_sqlstate(
                    pg.code(),
                    pg.message(),
                    pg.detail(),
                    pg.hint(),
                    authenticated,
                );
            }
            tracing::error!(error = %e, "data API: database error without a SQLSTATE");
            PgrstError::internal()
        }
        sqlx::Error::PoolTimedOut => PgrstError::new(
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            "PGRST003",
            "Timed out acquiring connection from connection pool.",
        ),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::Protocol(_) => {
            tracing::warn!(error = %e, "data API: database unreachable");
            PgrstError::unavailable()
        }
        _ => {
            tracing::error!(error = %e, "data API: statement failed");
            PgrstError::internal()
        }
    }
}

/// The catalog facts of schema `api` as one JSON document (see [`CatalogDoc`]).
const CATALOG_SQL: &str = r#"
WITH api_rels AS (
    SELECT c.oid, c.relname, c.relkind
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'api' AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
),
sources AS (
    -- a table of schema api is its own source
    SELECT r.relname AS "table", a.attname AS "column", r.oid::bigint AS base, a.attname AS base_column
    FROM api_rels r
    JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE r.relkind IN ('r', 'p', 'f')
    UNION
    -- a view's columns come from the base-table columns its rewrite rule depends on, by name
    SELECT DISTINCT r.relname, va.attname, d.refobjid::bigint, ba.attname
    FROM api_rels r
    JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = r.oid
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = rw.oid
        AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> r.oid AND d.refobjsubid > 0
    JOIN pg_catalog.pg_attribute ba ON ba.attrelid = d.refobjid AND ba.attnum = d.refobjsubid
    JOIN pg_catalog.pg_attribute va ON va.attrelid = r.oid AND va.attname = ba.attname
        AND va.attnum > 0 AND NOT va.attisdropped
    WHERE r.relkind IN ('v', 'm')
),
columns AS (
    -- a view's column is not null when a base column it comes from is not null; a column of a
    -- domain type is the domain's base type to clients (filters cast to it, OpenAPI shows it), as
    -- it was when the rule was a CHECK constraint: the domain still checks what is written
    SELECT r.relname AS "table", a.attname AS "column",
           CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod)
                ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END AS type_sql,
           a.attnum::int AS position,
           NOT (a.attnotnull OR EXISTS (
               SELECT FROM sources s
               JOIN pg_catalog.pg_attribute ba ON ba.attrelid = s.base::oid AND ba.attname = s.base_column
               WHERE s."table" = r.relname AND s."column" = a.attname AND ba.attnotnull
           )) AS nullable,
           pg_catalog.col_description(r.oid, a.attnum) AS description
    FROM api_rels r
    JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
),
relations AS (
    SELECT r.relname AS "table", pg_catalog.obj_description(r.oid, 'pg_class') AS description
    FROM api_rels r
),
fks AS (
    SELECT con.conname AS name, con.conrelid::bigint AS "table",
           array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS columns,
           con.confrelid::bigint AS foreign_table,
           array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i) AS foreign_columns
    FROM pg_catalog.pg_constraint con
    WHERE con.contype = 'f'
),
uniques AS (
    SELECT con.conrelid::bigint AS "table",
           array(SELECT a.attname FROM unnest(con.conkey) k(n)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS columns,
           con.contype = 'p' AS "primary"
    FROM pg_catalog.pg_constraint con
    WHERE con.contype IN ('p', 'u')
),
routines AS (
    SELECT p.proname AS name,
           pg_catalog.format_type(p.prorettype, NULL) AS return_type,
           p.proretset AS returns_set,
           p.provolatile::text AS volatility,
           pg_catalog.obj_description(p.oid, 'pg_proc') AS description,
           coalesce((
               SELECT json_agg(json_build_object(
                          'name', coalesce(a.name, ''),
                          'type_sql', pg_catalog.format_type(a.type, NULL),
                          'has_default', a.input_n > p.pronargs - p.pronargdefaults) ORDER BY a.n)
               FROM (SELECT x.n, x.type, x.name, x.mode,
                            count(*) FILTER (WHERE x.mode IN ('i', 'b', 'v')) OVER (ORDER BY x.n) AS input_n
                     FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]), p.proargnames,
                                 coalesce(p.proargmodes, pg_catalog.array_fill('i'::"char", ARRAY[p.pronargs]::int[])))
                          WITH ORDINALITY AS x(type, name, mode, n)) a
               WHERE a.mode IN ('i', 'b', 'v')
           ), '[]') AS args,
           coalesce(
               (SELECT json_agg(json_build_object(
                           'name', x.name, 'type_sql', pg_catalog.format_type(x.type, NULL)) ORDER BY x.n)
                FROM unnest(p.proallargtypes, p.proargnames, p.proargmodes)
                     WITH ORDINALITY AS x(type, name, mode, n)
                WHERE x.mode IN ('o', 'b', 't')),
               (SELECT json_agg(json_build_object(
                           'name', att.attname,
                           'type_sql', pg_catalog.format_type(att.atttypid, att.atttypmod)) ORDER BY att.attnum)
                FROM pg_catalog.pg_type t
                JOIN pg_catalog.pg_attribute att ON att.attrelid = t.typrelid AND att.attnum > 0 AND NOT att.attisdropped
                WHERE t.oid = p.prorettype AND t.typtype = 'c'),
               '[]') AS columns
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'api' AND p.prokind = 'f'
)
SELECT json_build_object(
    'columns', coalesce((SELECT json_agg(c) FROM columns c), '[]'),
    'sources', coalesce((SELECT json_agg(s) FROM sources s), '[]'),
    'fks', coalesce((SELECT json_agg(f) FROM fks f), '[]'),
    'uniques', coalesce((SELECT json_agg(u) FROM uniques u), '[]'),
    'relations', coalesce((SELECT json_agg(r) FROM relations r), '[]'),
    'routines', coalesce((SELECT json_agg(r) FROM routines r), '[]')
)::text
"#;

/// Reads schema `api` from the catalog.
pub async fn load_schema(pool: &PgPool) -> Result<SchemaCache, PgrstError> {
    let text: String = sqlx::query_scalar(CATALOG_SQL)
        .fetch_one(pool)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "data API: loading the schema cache failed");
            PgrstError::schema_cache_unavailable()
        })?;
    let doc: CatalogDoc = serde_json::from_str(&text).map_err(|e| {
        tracing::error!(error = %e, "data API: the catalog document does not parse");
        PgrstError::schema_cache_unavailable()
    })?;
    Ok(SchemaCache::from_catalog(&doc))
}

/// Loads the cache into `handle` now.
pub async fn reload(pool: &PgPool, handle: &SchemaHandle) -> Result<Arc<SchemaCache>, PgrstError> {
    let cache = load_schema(pool).await?;
    tracing::info!(
        tables = cache.tables.len(),
        relationships = cache.relationships.len(),
        "data API schema cache loaded"
    );
    Ok(handle.set(cache))
}

/// Listens on channel `pgrst` and reloads the cache on `reload schema` (or an empty payload, as
/// PostgREST), once listening (a notification sent before may have been missed), and after the
/// listening connection was lost (likewise).
/// Ends when the pool is closed.
pub fn spawn_schema_listener(pool: PgPool, handle: Arc<SchemaHandle>) {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(500);
        while !pool.is_closed() {
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "data API: schema listener cannot connect");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            };
            if let Err(e) = listener.listen("pgrst").await {
                tracing::warn!(error = %e, "data API: LISTEN pgrst failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
            backoff = Duration::from_millis(500);
            // A change notified before this LISTEN took effect (the first request loads the cache
            // while this task is still connecting; a reconnect leaves a gap) would be missed: read
            // the catalog again now that no later one can be.
            let _ = reload(&pool, &handle).await;
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => {
                        if matches!(n.payload(), "" | "reload schema") {
                            let _ = reload(&pool, &handle).await;
                        }
                    }
                    Ok(None) => {
                        // The connection was lost; it reconnects on the next call. Reload, since a
                        // NOTIFY may have been missed meanwhile.
                        let _ = reload(&pool, &handle).await;
                    }
                    Err(e) => {
                        if !pool.is_closed() {
                            tracing::warn!(error = %e, "data API: schema listener failed");
                        }
                        break;
                    }
                }
            }
        }
    });
}

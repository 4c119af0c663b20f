#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod calls;
pub mod console;
pub mod dev_cluster;
pub mod direct;
mod import;
pub mod pipeline;
pub mod routing;
pub mod store_sync;

use std::sync::LazyLock;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, migrate::Migrator};

pub use import::{ImportReport, ItemChanges, import_store};

/// The schema migrations, embedded in the binary so a deployed `kea` carries its own schema.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// Where apalis's migrations record themselves: a table of their own, so the two histories never
/// mistake each other's versions for missing ones.
pub const APALIS_MIGRATIONS_TABLE: &str = "_apalis_migrations";

/// apalis's job-storage migrations (schema `apalis`), applied before kea's own, which refer to
/// `apalis.jobs` (jobs are enqueued by triggers in the transaction that causes them).
pub static APALIS_MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| {
    let mut migrator = apalis_postgres::PostgresStorage::migrations();
    migrator.dangerous_set_table_name(APALIS_MIGRATIONS_TABLE);
    migrator
});

/// Both sets of migrations, in the order they are applied.
pub fn migrators() -> [&'static Migrator; 2] {
    [&APALIS_MIGRATOR, &MIGRATOR]
}

/// Everything that can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The connection string could not be parsed.
    #[error("DATABASE_URL is not a valid PostgreSQL connection string: {0}")]
    BadUrl(#[source] sqlx::Error),
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    Connect {
        /// Host and port (never the password).
        target: String,
        /// What the driver said.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the migrations failed.
    #[error("applying migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Another store already answers this phone number.
    #[error("$.phone: {phone} is already the number of store `{other_store}`")]
    PhoneTaken {
        /// The number in the file.
        phone: String,
        /// The store that has it.
        other_store: String,
    },
    /// Any other database error.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A statement assembled once, from `const` parts, on first use.
pub(crate) type LazySql = std::sync::LazyLock<String>;

/// How long a pooled connection may sit idle before it is pinged when next handed out.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Opens a connection pool to `url`, failing fast (within `connect_timeout`) when the server is not
/// there, so a misconfigured deployment says so at start-up rather than on the first call.
pub async fn connect(
    url: &str,
    max_connections: u32,
    connect_timeout: Duration,
) -> Result<PgPool, StoreError> {
    let options: PgConnectOptions = url.parse().map_err(StoreError::BadUrl)?;
    let target = format!("{}:{}", options.get_host(), options.get_port());
    pool_options(max_connections, connect_timeout)
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Connect { target, source })
}

/// How kea's pools lend connections.
fn pool_options(max_connections: u32, acquire_timeout: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        // sqlx pings every connection it hands out by default: a round trip (two wake-ups of a
        // PostgreSQL backend) before each statement, as much CPU as a small statement. A
        // connection in steady use is known to be alive; only one that sat idle is checked
        // (a restarted server is then found before the statement, not by it).
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// A pool beside `pool` (same database, options and size; connecting when first used) for the
/// job queue's own statements: apalis's fetch, lock, acknowledgement and heartbeat.
///
/// Each of those reads a few jobs by key, and sqlx keeps each one prepared, so PostgreSQL plans
/// it once per connection and keeps that plan. A plan made while `apalis.jobs` was small (a new
/// database, or a worker started before the first busy hour) hashed or scanned the whole table,
/// and kept doing so as the table grew to a week of finished jobs: under load the acknowledgement
/// of two or three jobs took 2 ms, reading every row (auto_explain, `scripts/bench-calls`). On
/// these connections PostgreSQL plans without sequential scans, hash joins or merge joins, so
/// those statements look their jobs up by key whatever the table's size when they were planned.
#[must_use]
pub fn job_queue_pool(pool: &PgPool) -> PgPool {
    let options = (*pool.connect_options()).clone().options([
        ("enable_seqscan", "off"),
        ("enable_hashjoin", "off"),
        ("enable_mergejoin", "off"),
    ]);
    pool_options(
        pool.options().get_max_connections(),
        pool.options().get_acquire_timeout(),
    )
    .connect_lazy_with(options)
}

/// Applies every migration not yet applied; safe to run any number of times and from several
/// replicas at once (sqlx takes an advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    for migrator in migrators() {
        migrator.run(pool).await?;
    }
    Ok(())
}

/// The versions of embedded migrations that the database has not applied (successfully) yet.
/// Empty means the schema is what this binary expects.
pub async fn pending_migrations(pool: &PgPool) -> Result<Vec<i64>, StoreError> {
    let mut pending = Vec::new();
    for migrator in migrators() {
        // The table name is one of the two constants above, never input.
        let table: &str = &migrator.table_name;
        let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(table)
            .fetch_one(pool)
            .await?;
        let applied: Vec<i64> = if exists.is_some() {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT version FROM {table} WHERE success"
            )))
            .fetch_all(pool)
            .await?
        } else {
            Vec::new()
        };
        pending.extend(
            migrator
                .iter()
                .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
                .map(|m| m.version),
        );
    }
    Ok(pending)
}

/// How many stores the database holds; `kea dev` imports the samples only into an empty one.
pub async fn store_count(pool: &PgPool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM stores")
        .fetch_one(pool)
        .await?)
}

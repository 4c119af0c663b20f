#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod calls;
pub mod dev_cluster;
mod import;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, migrate::Migrator};

pub use import::{ImportReport, ItemChanges, import_store};

/// The schema migrations, embedded in the binary so a deployed `kea` carries its own schema.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

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

/// Opens a connection pool to `url`, failing fast (within `connect_timeout`) when the server is not
/// there, so a misconfigured deployment says so at start-up rather than on the first call.
pub async fn connect(
    url: &str,
    max_connections: u32,
    connect_timeout: Duration,
) -> Result<PgPool, StoreError> {
    let options: PgConnectOptions = url.parse().map_err(StoreError::BadUrl)?;
    let target = format!("{}:{}", options.get_host(), options.get_port());
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(connect_timeout)
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Connect { target, source })
}

/// Applies every migration not yet applied; safe to run any number of times and from several
/// replicas at once (sqlx takes an advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// The versions of embedded migrations that the database has not applied (successfully) yet.
/// Empty means the schema is what this binary expects.
pub async fn pending_migrations(pool: &PgPool) -> Result<Vec<i64>, StoreError> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    let applied: Vec<i64> = if table.is_some() {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    Ok(MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
        .map(|m| m.version)
        .collect())
}

/// How many stores the database holds; `kea dev` imports the samples only into an empty one.
pub async fn store_count(pool: &PgPool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM stores")
        .fetch_one(pool)
        .await?)
}

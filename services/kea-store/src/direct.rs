//! Connections lent without sqlx's pool, for the statements that run on every request.
//!
//! sqlx's pool pings every connection as it is returned (`Sync`, then wait for `ReadyForQuery`):
//! a second round trip for each statement, paid by PostgreSQL (a backend woken, a message read,
//! one written) and by us, and it cannot be turned off. A statement that ran to its end leaves
//! the connection ready (sqlx reads any answer still owed before its next statement), so the
//! ping only matters for a statement that never finished; this pool closes such a connection
//! instead of lending it again.
//!
//! The rule that keeps a lent connection sound: [`Lease::start`] before a statement,
//! [`Lease::finish`] with its result after. A lease dropped in between (the request was cancelled
//! mid-statement), or finished with anything but a plain database error, closes the connection.
//! Each connection can carry a state of the borrower's (`S`, e.g. the session settings it was
//! given), kept while the connection lives and reset when a new one is opened.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgQueryResult, PgRow};
use sqlx::{Connection, FromRow, Postgres};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::PING_AFTER_IDLE;

struct Idle<S> {
    conn: PgConnection,
    state: S,
    since: Instant,
}

struct Shared<S> {
    options: PgConnectOptions,
    slots: Arc<Semaphore>,
    idle: Mutex<Vec<Idle<S>>>,
    acquire_timeout: Duration,
}

/// The pool (cheap to clone): at most `max` connections, opened when needed and kept.
pub struct DirectPool<S = ()> {
    shared: Arc<Shared<S>>,
}

impl<S> Clone for DirectPool<S> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<S> std::fmt::Debug for DirectPool<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectPool")
            .field("available", &self.shared.slots.available_permits())
            .finish_non_exhaustive()
    }
}

impl<S: Default + Send + 'static> DirectPool<S> {
    /// At most `max` (at least one) connections to the database `options` describe; a borrower
    /// waits up to `acquire_timeout` for one.
    #[must_use]
    pub fn new(options: PgConnectOptions, max: u32, acquire_timeout: Duration) -> Self {
        Self {
            shared: Arc::new(Shared {
                options,
                slots: Arc::new(Semaphore::new(max.max(1) as usize)),
                idle: Mutex::new(Vec::new()),
                acquire_timeout,
            }),
        }
    }

    /// Connections to `pool`'s database, with its options, as many as it may open, waiting as
    /// long as it would for one.
    #[must_use]
    pub fn beside(pool: &sqlx::PgPool) -> Self {
        Self::new(
            (*pool.connect_options()).clone(),
            pool.options().get_max_connections(),
            pool.options().get_acquire_timeout(),
        )
    }

    /// A connection: the most recently returned one (pinged first if it sat idle, as a restarted
    /// server may have closed it), or a new one.
    pub async fn acquire(&self) -> Result<Lease<S>, sqlx::Error> {
        let permit = tokio::time::timeout(
            self.shared.acquire_timeout,
            self.shared.slots.clone().acquire_owned(),
        )
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
        .map_err(|_| sqlx::Error::PoolClosed)?;
        loop {
            let idle = self
                .shared
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some(mut idle) = idle else {
                let conn = PgConnection::connect_with(&self.shared.options).await?;
                return Ok(Lease::new(self.shared.clone(), permit, conn, S::default()));
            };
            if idle.since.elapsed() > PING_AFTER_IDLE && idle.conn.ping().await.is_err() {
                // Broken while idle: drop it and try the next one.
                continue;
            }
            return Ok(Lease::new(
                self.shared.clone(),
                permit,
                idle.conn,
                idle.state,
            ));
        }
    }
}

/// One connection, lent to one borrower; returned when dropped, unless it may be unusable.
pub struct Lease<S: Default> {
    shared: Arc<Shared<S>>,
    _permit: OwnedSemaphorePermit,
    conn: Option<PgConnection>,
    /// The borrower's record of this connection, kept with it between leases.
    pub state: S,
    /// A statement is in flight: dropped now, the connection's protocol state is unknown.
    busy: bool,
    /// The connection failed in a way that may have left it unusable.
    broken: bool,
}

impl<S: Default> Lease<S> {
    fn new(
        shared: Arc<Shared<S>>,
        permit: OwnedSemaphorePermit,
        conn: PgConnection,
        state: S,
    ) -> Self {
        Self {
            shared,
            _permit: permit,
            conn: Some(conn),
            state,
            busy: false,
            broken: false,
        }
    }

    /// The connection, for one statement; call [`Lease::finish`] with its result. A lease
    /// dropped in between (the borrower was cancelled mid-statement) closes the connection.
    pub fn start(&mut self) -> Result<&mut PgConnection, sqlx::Error> {
        self.busy = true;
        self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// Records how the statement begun with [`Lease::start`] ended: anything but a database
    /// error (a refused statement leaves the connection fine) means the connection is not reused.
    pub fn finish<T>(&mut self, result: &Result<T, sqlx::Error>) {
        self.busy = false;
        if let Err(e) = result
            && !matches!(e, sqlx::Error::Database(_) | sqlx::Error::RowNotFound)
        {
            self.broken = true;
        }
    }
}

impl<S: Default> Drop for Lease<S> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.busy || self.broken {
            // Dropped here (not returned): sqlx closes the socket.
            return;
        }
        let state = std::mem::take(&mut self.state);
        self.shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Idle {
                conn,
                state,
                since: Instant::now(),
            });
    }
}

/// What runs one statement at a time: sqlx's pool, or a [`DirectPool`] (no ping after each), so
/// a function on the hot path serves both (tests and rare callers keep their `PgPool`).
pub trait RunStatement: Sync {
    /// Runs one statement that returns one row (none is `RowNotFound`, as with sqlx).
    fn fetch_one<'q, O>(
        &self,
        statement: sqlx::query::QueryAs<'q, Postgres, O, PgArguments>,
    ) -> impl Future<Output = Result<O, sqlx::Error>> + Send
    where
        O: Send + Unpin + for<'r> FromRow<'r, PgRow>,
    {
        async move {
            self.fetch_optional(statement)
                .await?
                .ok_or(sqlx::Error::RowNotFound)
        }
    }

    /// Runs one statement that returns at most one row.
    fn fetch_optional<'q, O>(
        &self,
        statement: sqlx::query::QueryAs<'q, Postgres, O, PgArguments>,
    ) -> impl Future<Output = Result<Option<O>, sqlx::Error>> + Send
    where
        O: Send + Unpin + for<'r> FromRow<'r, PgRow>;

    /// Runs one statement for its effect.
    fn execute(
        &self,
        statement: sqlx::query::Query<'_, Postgres, PgArguments>,
    ) -> impl Future<Output = Result<PgQueryResult, sqlx::Error>> + Send;
}

impl RunStatement for sqlx::PgPool {
    async fn fetch_optional<'q, O>(
        &self,
        statement: sqlx::query::QueryAs<'q, Postgres, O, PgArguments>,
    ) -> Result<Option<O>, sqlx::Error>
    where
        O: Send + Unpin + for<'r> FromRow<'r, PgRow>,
    {
        statement.fetch_optional(self).await
    }

    async fn execute(
        &self,
        statement: sqlx::query::Query<'_, Postgres, PgArguments>,
    ) -> Result<PgQueryResult, sqlx::Error> {
        statement.execute(self).await
    }
}

impl<S: Default + Send + 'static> RunStatement for DirectPool<S> {
    async fn fetch_optional<'q, O>(
        &self,
        statement: sqlx::query::QueryAs<'q, Postgres, O, PgArguments>,
    ) -> Result<Option<O>, sqlx::Error>
    where
        O: Send + Unpin + for<'r> FromRow<'r, PgRow>,
    {
        let mut lease = self.acquire().await?;
        let result = statement.fetch_optional(lease.start()?).await;
        lease.finish(&result);
        result
    }

    async fn execute(
        &self,
        statement: sqlx::query::Query<'_, Postgres, PgArguments>,
    ) -> Result<PgQueryResult, sqlx::Error> {
        let mut lease = self.acquire().await?;
        let result = statement.execute(lease.start()?).await;
        lease.finish(&result);
        result
    }
}

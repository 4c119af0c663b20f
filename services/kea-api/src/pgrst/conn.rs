//! The data API's read connections: a small pool of its own that remembers, per connection, the
//! role and claims it last set, so a read costs one round trip when they have not changed.
//!
//! Why not sqlx's pool: it pings every connection as it is returned (a round trip per request,
//! paid by PostgreSQL and by us), and it cannot tell us what a connection's session settings are.
//!
//! Tenancy rests on one invariant: a connection's recorded [`Settings`] are either `None` (not
//! known: they are sent again before the next statement) or exactly what its session has. So:
//! - the record is cleared *before* `set_config` is sent and written only after it succeeded;
//! - a statement that could change session settings (a function call) clears it;
//! - a connection whose request was cancelled mid-statement, or that failed with anything but a
//!   plain database error, is closed rather than reused (its protocol state is unknown);
//! - these connections run nothing but the data API's reads.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Sets the role and the claims for the rest of the session (`is_local = false`: a read is one
/// statement in its own implicit transaction, made read-only by the third setting).
const SESSION_SETTINGS: &str = "SELECT set_config('role', $1, false), \
     set_config('request.jwt.claims', $2, false), \
     set_config('default_transaction_read_only', 'on', false)";

/// An idle connection idle for longer than this is pinged before use (a database restart may have
/// closed it).
const PING_AFTER_IDLE: Duration = Duration::from_secs(5);

/// The role and claims a connection's session has.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    role: &'static str,
    claims: String,
}

struct Idle {
    conn: PgConnection,
    settings: Option<Settings>,
    since: Instant,
}

struct Shared {
    options: PgConnectOptions,
    slots: Arc<Semaphore>,
    idle: Mutex<Vec<Idle>>,
    acquire_timeout: Duration,
}

/// The pool (cheap to clone).
#[derive(Clone)]
pub struct ReadPool {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ReadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadPool")
            .field("available", &self.shared.slots.available_permits())
            .finish_non_exhaustive()
    }
}

impl ReadPool {
    /// At most `max` connections to the database `options` describe, opened when needed.
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

    /// A connection for one request: an idle one (the most recently used, whose settings are the
    /// likeliest to match) or a new one. Waits up to the acquire timeout for a free slot.
    pub async fn acquire(&self) -> Result<Lease, sqlx::Error> {
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
                return Ok(Lease::new(self.shared.clone(), permit, conn, None));
            };
            if idle.since.elapsed() > PING_AFTER_IDLE && idle.conn.ping().await.is_err() {
                // Broken while idle: drop it and try the next one.
                continue;
            }
            return Ok(Lease::new(
                self.shared.clone(),
                permit,
                idle.conn,
                idle.settings,
            ));
        }
    }
}

/// One connection, lent to one request; returned to the pool when dropped, unless it is unusable.
pub struct Lease {
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
    conn: Option<PgConnection>,
    settings: Option<Settings>,
    /// A statement is in flight: if the lease is dropped now, the request was cancelled and the
    /// connection's state is unknown.
    busy: bool,
    /// The connection failed in a way that may have left it unusable.
    broken: bool,
}

impl Lease {
    fn new(
        shared: Arc<Shared>,
        permit: OwnedSemaphorePermit,
        conn: PgConnection,
        settings: Option<Settings>,
    ) -> Self {
        Self {
            shared,
            _permit: permit,
            conn: Some(conn),
            settings,
            busy: false,
            broken: false,
        }
    }

    /// Makes the session's role and claims `role` and `claims`, unless they already are.
    pub async fn set(&mut self, role: &'static str, claims: &str) -> Result<(), sqlx::Error> {
        if self
            .settings
            .as_ref()
            .is_some_and(|s| s.role == role && s.claims == claims)
        {
            return Ok(());
        }
        self.settings = None;
        let result = sqlx::query(SESSION_SETTINGS)
            .bind(role)
            .bind(claims)
            .execute(self.start()?)
            .await
            .map(|_| ());
        self.finish(&result);
        if result.is_ok() {
            self.settings = Some(Settings {
                role,
                claims: claims.to_owned(),
            });
        }
        result
    }

    /// Forgets the session's settings, so the next request sends them again (after a statement
    /// that runs functions, which could change them).
    pub fn forget_settings(&mut self) {
        self.settings = None;
    }

    /// The connection, for one statement; call [`Lease::finish`] with its result. A lease
    /// dropped in between (the request was cancelled mid-statement) closes the connection.
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

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.busy || self.broken {
            // Dropped here (not returned): sqlx closes the socket.
            return;
        }
        self.shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Idle {
                conn,
                settings: self.settings.take(),
                since: Instant::now(),
            });
    }
}

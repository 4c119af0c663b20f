#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod console;
mod health;
pub mod metrics;
pub(crate) mod pgrst;
pub mod tokens;
pub mod twilio;

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
    /// Twilio's auth token: every webhook's signature is checked with it.
    pub twilio_auth_token: kea_secrets::Secret,
    /// kea's Twilio account: a webhook for another account (`AccountSid`) is refused even when
    /// its signature checks out. `None` accepts any.
    pub twilio_account_sid: Option<String>,
    /// The Twilio queue a caller who asks for a person is put in (`<Enqueue>`).
    pub twilio_queue: String,
    /// The TaskRouter workflow that routes that queue to agents, if any.
    pub twilio_workflow_sid: Option<String>,
    /// How long a caller waits for an agent before being offered the store's line or a call
    /// back (`KEA_TRANSFER_TIMEOUT_SECS`).
    pub transfer_timeout: Duration,
    /// HS256 secret of the data API's bearer tokens (`KEA_JWT_SECRET`); without it every
    /// data-API request is answered 500 PGRST300, as PostgREST does.
    pub jwt_secret: Option<kea_secrets::Secret>,
    /// Most connections the data API's reads hold (`KEA_DATA_API_CONNECTIONS`); `None`: as many as
    /// the main pool may.
    pub data_api_connections: Option<u32>,
    /// What time it is for the call path (the machine's clock, or a fixed instant in tests).
    pub clock: Clock,
    /// Whether calls outside a store's hours (or on a closure date) are told when it opens
    /// instead of ordering. A paused store never takes orders either way.
    pub enforce_store_hours: bool,
}

/// The time webhooks happen at: the machine's clock, or a fixed instant (`KEA_CLOCK`) so that
/// tests and demos do not depend on when they run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock(Option<chrono::DateTime<chrono::Utc>>);

impl Clock {
    /// The machine's clock.
    #[must_use]
    pub fn system() -> Self {
        Clock(None)
    }

    /// Always `at`.
    #[must_use]
    pub fn fixed(at: chrono::DateTime<chrono::Utc>) -> Self {
        Clock(Some(at))
    }

    /// Now.
    #[must_use]
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.unwrap_or_else(chrono::Utc::now)
    }
}

/// What every handler can reach: one allocation, so that handing it to a request (axum clones
/// the state for each) is one reference count, not one per part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    /// The database pool.
    pub db: PgPool,
    /// The data API's read connections, on the same database: they keep a request's role and
    /// claims at session level and serve nothing else (see `pgrst::conn`).
    pub reads: pgrst::conn::ReadPool,
    /// The webhooks' connections, on the same database, as many as `db` may open: a turn's save
    /// and a status callback are one statement each, and sqlx's pool would add a round trip to
    /// every one of them (see `kea_store::direct`).
    pub calls_db: kea_store::direct::DirectPool,
    /// The server's settings.
    pub config: Arc<ApiConfig>,
    /// Parsed menus, shared by every request.
    pub menus: Arc<twilio::menus::Menus>,
    /// The calls this process is taking, between their turns.
    pub live_calls: Arc<twilio::live::LiveCalls>,
    /// The data API's schema cache (loaded on first use, reloaded on `NOTIFY pgrst`).
    pub schema: Arc<pgrst::schema_cache::SchemaHandle>,
    /// The data API's tokens already verified with `config.jwt_secret`.
    pub jwts: Arc<pgrst::auth::JwtCache>,
    /// The console's live updates (one `LISTEN kea_tasks` for the process).
    pub console: Arc<console::Hub>,
}

impl AppState {
    /// State for a server on `db` with `config`.
    pub fn new(db: PgPool, config: ApiConfig) -> Self {
        let reads = pgrst::conn::ReadPool::new(
            (*db.connect_options()).clone(),
            config
                .data_api_connections
                .unwrap_or_else(|| db.options().get_max_connections()),
            db.options().get_acquire_timeout(),
        );
        let calls_db = kea_store::direct::DirectPool::beside(&db);
        Self(Arc::new(Shared {
            db,
            reads,
            calls_db,
            config: Arc::new(config),
            menus: Arc::default(),
            live_calls: Arc::default(),
            schema: Arc::default(),
            jwts: Arc::default(),
            console: Arc::default(),
        }))
    }
}

/// The whole HTTP surface of `kea serve`.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .merge(twilio::routes())
        .merge(pgrst::routes())
        .nest("/console", console::routes());
    // The console's event stream stays open for hours: it is kept out of the request timeout.
    kea_telemetry::http_layers(routes, timeout)
        .merge(console::live_routes())
        .with_state(state)
}

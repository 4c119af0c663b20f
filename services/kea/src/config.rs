//! Everything kea reads from its environment, in one place: each setting is a flag and an
//! environment variable (`--help` lists them all). Libraries get plain structs built here.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use kea_secrets::{EnvSecrets, Secret, Secrets, VaultAuth, VaultConfig, VaultSecrets};

/// Logging: `KEA_LOG` (a filter such as `info` or `kea=debug`) and `KEA_LOG_FORMAT`.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Log filter: `info`, `debug`, `kea_store=debug,sqlx=warn`, …
    #[arg(
        long = "log",
        env = "KEA_LOG",
        default_value = "info,sqlx=warn",
        global = true
    )]
    filter: String,
    /// Log line format: `text` or `json`.
    #[arg(
        long = "log-format",
        env = "KEA_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    format: String,
}

impl LogArgs {
    /// Installs the subscriber.
    pub fn init(&self) -> anyhow::Result<()> {
        let format = self.format.parse().context("KEA_LOG_FORMAT")?;
        kea_telemetry::init(&self.filter, format).context("KEA_LOG")?;
        Ok(())
    }
}

/// `database_url` when given, else the database of the `kea dev` running in `data_dir` (its
/// cluster's port is kept in `data_dir/port`): how the commands a person runs beside `kea dev`
/// find its database.
pub fn local_database_url(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<String> {
    if let Some(url) = database_url.filter(|u| !u.trim().is_empty()) {
        return Ok(url.to_owned());
    }
    let port_file = data_dir.join("port");
    let port = std::fs::read_to_string(&port_file).with_context(|| {
        format!(
            "DATABASE_URL is not set and {} does not exist (is `kea dev` running here?)",
            port_file.display()
        )
    })?;
    Ok(format!("postgres://postgres@127.0.0.1:{}/kea", port.trim()))
}

/// Where the database is.
#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// PostgreSQL connection string, e.g. postgres://kea@db.internal:5432/kea
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Most connections this process opens [default: twice this machine's cores, from 4 to 16].
    #[arg(long, env = "KEA_DB_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    pub db_max_connections: Option<u32>,
}

/// The pool size when none is given: twice the cores, PostgreSQL's own rule for the connections
/// that keep a server busy. More only queue inside PostgreSQL: on 2 cores, 4 connections instead
/// of 16 measured about a tenth less CPU per webhook request (docs/OPERATIONS.md). The cores are
/// this machine's (a pod's share, in Kubernetes): with `kea dev` and on one host that is the
/// database's too; replicas each get a pool in proportion to their CPU. Never fewer than 4 (a
/// turn, a job and a data-API read at once without queuing), never more than 16.
fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    u32::try_from(cores.saturating_mul(2))
        .unwrap_or(u32::MAX)
        .clamp(4, 16)
}

impl DatabaseArgs {
    /// The connection string, or a message saying how to give one.
    pub fn required_url(&self) -> anyhow::Result<&str> {
        match self.database_url.as_deref() {
            Some(url) if !url.trim().is_empty() => Ok(url),
            _ => bail!(
                "DATABASE_URL is not set: set it or pass --database-url (`kea dev` starts a database of its own)"
            ),
        }
    }

    /// The pool size: `--db-max-connections`, else [`default_pool_size`].
    pub fn max_connections(&self) -> u32 {
        self.db_max_connections.unwrap_or_else(default_pool_size)
    }

    /// Connects, failing within a few seconds when the server is not there.
    pub async fn connect(&self, url: &str) -> anyhow::Result<sqlx::PgPool> {
        kea_store::connect(url, self.max_connections(), Duration::from_secs(5))
            .await
            .context("connecting to DATABASE_URL")
    }
}

/// The HTTP server's own settings.
#[derive(Debug, clap::Args)]
pub struct HttpArgs {
    /// Address to listen on.
    #[arg(long, env = "KEA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The base URL Twilio uses to reach this server; default http:// + the listen address.
    #[arg(long, env = "KEA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds one request may take before it gets 503 (also bounds draining at shutdown).
    #[arg(long, env = "KEA_REQUEST_TIMEOUT_SECS", default_value_t = 10)]
    pub request_timeout_secs: u64,
    /// Twilio queue for callers who ask for a person.
    #[arg(long, env = "KEA_TWILIO_QUEUE", default_value = "kea-agents")]
    pub twilio_queue: String,
    /// TaskRouter workflow SID that routes the queue to agents (optional).
    #[arg(long, env = "TWILIO_WORKFLOW_SID")]
    pub twilio_workflow_sid: Option<String>,
    /// Seconds a caller waits for an agent before being offered the store's line or a call back.
    #[arg(long, env = "KEA_TRANSFER_TIMEOUT_SECS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(5..=3600))]
    pub transfer_timeout_secs: u64,
    /// Most database connections the data API's reads hold, besides the main pool (default:
    /// KEA_DB_MAX_CONNECTIONS). About twice the database server's cores serves the most reads.
    #[arg(long, env = "KEA_DATA_API_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    pub data_api_connections: Option<u32>,
    /// Store opening hours and closure dates on calls: `enforce` (a closed store tells the caller
    /// when it opens) or `ignore` [default: enforce for `kea serve`, ignore for `kea dev`]. A
    /// paused store takes no orders either way.
    #[arg(long, env = "KEA_STORE_HOURS", value_parser = ["enforce", "ignore"])]
    pub store_hours: Option<String>,
    /// Use this instant (RFC 3339, e.g. 2026-12-07T18:30:00-05:00) as the current time on the
    /// call path instead of the machine's clock: for tests and demos.
    #[arg(long, env = "KEA_CLOCK")]
    pub clock: Option<String>,
}

impl HttpArgs {
    /// The API's configuration; webhooks are verified with the Twilio auth token in `credentials`.
    pub fn api_config(&self, credentials: &Credentials) -> anyhow::Result<kea_api::ApiConfig> {
        self.api_config_with(credentials, true)
    }

    /// [`HttpArgs::api_config`], with whether hours are enforced when `--store-hours` is not given.
    pub fn api_config_with(
        &self,
        credentials: &Credentials,
        hours_by_default: bool,
    ) -> anyhow::Result<kea_api::ApiConfig> {
        let clock = match self.clock.as_deref().filter(|c| !c.trim().is_empty()) {
            None => kea_api::Clock::system(),
            Some(text) => kea_api::Clock::fixed(
                chrono::DateTime::parse_from_rfc3339(text.trim())
                    .with_context(|| {
                        format!("KEA_CLOCK `{text}` is not an RFC 3339 time such as 2026-12-07T18:30:00-05:00")
                    })?
                    .with_timezone(&chrono::Utc),
            ),
        };
        let enforce_store_hours = match self.store_hours.as_deref() {
            Some(mode) => mode == "enforce",
            None => hours_by_default,
        };
        let Some(twilio_auth_token) = credentials.twilio_auth_token.clone() else {
            bail!(
                "TWILIO_AUTH_TOKEN is not set (in the environment or Vault): webhooks cannot be verified without it"
            );
        };
        let public_url = match &self.public_url {
            Some(url) => {
                let url = url.trim_end_matches('/').to_owned();
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    bail!("KEA_PUBLIC_URL `{url}` must start with http:// or https://");
                }
                url
            }
            None => format!("http://{}", self.listen),
        };
        Ok(kea_api::ApiConfig {
            public_url,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            twilio_auth_token,
            twilio_account_sid: credentials.twilio_account_sid.clone(),
            twilio_queue: self.twilio_queue.clone(),
            twilio_workflow_sid: self.twilio_workflow_sid.clone().filter(|s| !s.is_empty()),
            transfer_timeout: Duration::from_secs(self.transfer_timeout_secs),
            jwt_secret: credentials.jwt_secret.clone(),
            data_api_connections: self.data_api_connections,
            clock,
            enforce_store_hours,
        })
    }
}

/// Where secrets come from: Vault/OpenBao when `VAULT_ADDR` is set, the environment otherwise.
#[derive(Debug, clap::Args)]
pub struct SecretsArgs {
    /// Vault or OpenBao address, e.g. https://vault.internal:8200
    #[arg(long, env = "VAULT_ADDR")]
    pub vault_addr: Option<String>,
    /// Vault token (token auth).
    #[arg(long, env = "VAULT_TOKEN", hide_env_values = true)]
    pub vault_token: Option<String>,
    /// Vault role for Kubernetes auth (instead of a token).
    #[arg(long, env = "VAULT_ROLE")]
    pub vault_role: Option<String>,
    /// KV v2 mount holding kea's own secrets.
    #[arg(long, env = "VAULT_KV_MOUNT", default_value = "secret")]
    pub vault_kv_mount: String,
    /// Path under the mount holding kea's own secrets (TWILIO_AUTH_TOKEN, KEA_JWT_SECRET, …).
    #[arg(long, env = "VAULT_KV_PATH", default_value = "kea")]
    pub vault_kv_path: String,
}

impl SecretsArgs {
    /// Connects to Vault (checking the credentials now, not on first use) or reads the environment.
    pub async fn build(&self) -> anyhow::Result<Arc<dyn Secrets>> {
        let Some(addr) = self.vault_addr.as_deref().filter(|a| !a.is_empty()) else {
            return Ok(Arc::new(EnvSecrets::new(std::env::vars())));
        };
        let auth = match (&self.vault_role, &self.vault_token) {
            (Some(role), _) if !role.is_empty() => VaultAuth::kubernetes(role.clone()),
            (_, Some(token)) if !token.is_empty() => VaultAuth::Token(Secret::new(token.clone())),
            _ => bail!("VAULT_ADDR is set but neither VAULT_TOKEN nor VAULT_ROLE is"),
        };
        let mut config = VaultConfig::new(addr, auth);
        config.app_mount = self.vault_kv_mount.clone();
        config.app_path = self.vault_kv_path.clone();
        let vault = VaultSecrets::connect(config)
            .await
            .with_context(|| format!("connecting to Vault at {addr}"))?;
        Ok(Arc::new(vault))
    }
}

/// kea's credentials for Twilio and for signing data-API tokens.
#[derive(Debug)]
pub struct Credentials {
    /// Twilio account SID (not secret).
    pub twilio_account_sid: Option<String>,
    /// Twilio auth token: signs webhooks and authenticates REST calls.
    pub twilio_auth_token: Option<Secret>,
    /// HS256 secret for data-API bearer tokens.
    pub jwt_secret: Option<Secret>,
}

impl Credentials {
    /// Reads each credential once, at start-up, from `secrets`.
    pub async fn load(secrets: &dyn Secrets) -> anyhow::Result<Self> {
        Ok(Self {
            twilio_account_sid: optional(secrets, "TWILIO_ACCOUNT_SID")
                .await?
                .map(|s| s.expose().to_owned()),
            twilio_auth_token: optional(secrets, "TWILIO_AUTH_TOKEN").await?,
            jwt_secret: optional(secrets, "KEA_JWT_SECRET").await?,
        })
    }
}

async fn optional(secrets: &dyn Secrets, name: &str) -> anyhow::Result<Option<Secret>> {
    match secrets.get(name).await {
        Ok(secret) => Ok(Some(secret)),
        // Unset in the environment, or a key the Vault secret does not have: not configured.
        Err(
            kea_secrets::SecretsError::Missing { .. }
            | kea_secrets::SecretsError::KeyNotInSecret { .. },
        ) => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {name}")),
    }
}

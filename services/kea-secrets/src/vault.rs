//! [`VaultSecrets`]: secrets from HashiCorp Vault or OpenBao (KV version 2), with a short-lived cache.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::RwLock;
use tracing::{debug, info};
use vaultrs::client::{Client as _, VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;

use crate::{Secret, SecretRef, Secrets, SecretsError, is_vault_ref};

/// Default KV v2 mount of the application secrets.
pub const DEFAULT_APP_MOUNT: &str = "secret";
/// Default path (under [`DEFAULT_APP_MOUNT`]) of the application secrets.
pub const DEFAULT_APP_PATH: &str = "kea";
/// Default mount of the Kubernetes auth method.
pub const DEFAULT_KUBERNETES_MOUNT: &str = "kubernetes";
/// Where Kubernetes mounts a pod's service-account token.
pub const DEFAULT_JWT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/// Default timeout of one request to Vault.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a secret read from Vault is reused before it is read again.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);

/// How to reach Vault and where the application secrets live. The binary fills it from
/// `VAULT_ADDR`, `VAULT_TOKEN` / `VAULT_ROLE` and its flags; start from [`VaultConfig::new`].
#[derive(Debug, Clone)]
pub struct VaultConfig {
    /// The server, e.g. `https://vault.internal:8200`.
    pub addr: String,
    /// How to log in.
    pub auth: VaultAuth,
    /// KV v2 mount of the application secrets (default `secret`).
    pub app_mount: String,
    /// Path of the application secrets under `app_mount` (default `kea`); [`Secrets::get`]
    /// returns the key of that name.
    pub app_path: String,
    /// Timeout of each request to Vault.
    pub timeout: Duration,
    /// How long a secret read from Vault is reused; zero turns the cache off.
    pub cache_ttl: Duration,
    /// PEM CA bundles to trust for an `https` address, besides the system's.
    pub ca_certs: Vec<PathBuf>,
}

impl VaultConfig {
    /// A configuration with the defaults: app secrets at `secret/kea`, a 10 s timeout, a 60 s cache.
    pub fn new(addr: impl Into<String>, auth: VaultAuth) -> Self {
        Self {
            addr: addr.into(),
            auth,
            app_mount: DEFAULT_APP_MOUNT.to_owned(),
            app_path: DEFAULT_APP_PATH.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            cache_ttl: DEFAULT_CACHE_TTL,
            ca_certs: Vec::new(),
        }
    }
}

/// How kea logs in to Vault.
#[derive(Debug, Clone)]
pub enum VaultAuth {
    /// A token given directly (`VAULT_TOKEN`).
    Token(Secret),
    /// The Kubernetes auth method: the pod's service-account token is exchanged for a Vault token.
    Kubernetes {
        /// The Vault role bound to the service account (`VAULT_ROLE`).
        role: String,
        /// Mount of the auth method (default `kubernetes`).
        mount: String,
        /// The service-account token file (default [`DEFAULT_JWT_PATH`]).
        jwt_path: PathBuf,
    },
}

impl VaultAuth {
    /// Kubernetes auth with `role`, the default mount and the default token path.
    pub fn kubernetes(role: impl Into<String>) -> Self {
        Self::Kubernetes {
            role: role.into(),
            mount: DEFAULT_KUBERNETES_MOUNT.to_owned(),
            jwt_path: PathBuf::from(DEFAULT_JWT_PATH),
        }
    }
}

/// Secrets from Vault or OpenBao, KV version 2.
///
/// [`get`](Secrets::get) returns a key of `<app_mount>/<app_path>`; [`resolve`](Secrets::resolve)
/// reads `vault:<mount>/<path>#<key>` references and returns plain values as they are. Values must be
/// strings. Each secret path read is kept for [`VaultConfig::cache_ttl`], so a POS push does not call
/// Vault every time. With Kubernetes auth an expired Vault token is replaced by logging in again.
pub struct VaultSecrets {
    addr: String,
    auth: VaultAuth,
    app_mount: String,
    app_path: String,
    timeout: Duration,
    cache_ttl: Duration,
    client: RwLock<VaultClient>,
    cache: Mutex<HashMap<(String, String), Cached>>,
}

/// One KV secret as read: every key, with values still JSON.
type KvData = Arc<HashMap<String, Value>>;

struct Cached {
    read_at: Instant,
    data: KvData,
}

impl VaultSecrets {
    /// Logs in (Kubernetes auth) and checks the token with a lookup-self, so a wrong address or
    /// token fails at start-up with a message naming the address, not at the first phone call.
    pub async fn connect(cfg: VaultConfig) -> Result<Self, SecretsError> {
        let addr = check_addr(&cfg.addr)?;
        let token = match &cfg.auth {
            VaultAuth::Token(token) => check_token(token)?,
            VaultAuth::Kubernetes { .. } => String::new(),
        };
        let mut client = build_client(&addr, &token, &cfg)?;
        if let VaultAuth::Kubernetes {
            role,
            mount,
            jwt_path,
        } = &cfg.auth
        {
            kubernetes_login(&addr, &mut client, role, mount, jwt_path, cfg.timeout).await?;
        }
        vaultrs::token::lookup_self(&client).await.map_err(|e| {
            let action = match (&cfg.auth, status(&e)) {
                (VaultAuth::Token(_), Some(403)) => {
                    "checking the token (lookup-self); the token is wrong, expired or revoked"
                }
                _ => "checking the token (lookup-self)",
            };
            vault_error(&addr, action, &e, cfg.timeout)
        })?;
        info!(vault.addr = %addr, vault.auth = auth_kind(&cfg.auth), "connected to Vault at {addr}");
        Ok(Self {
            addr,
            auth: cfg.auth,
            app_mount: cfg.app_mount,
            app_path: cfg.app_path,
            timeout: cfg.timeout,
            cache_ttl: cfg.cache_ttl,
            client: RwLock::new(client),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Returns `key` of the KV secret at `mount/path`.
    async fn lookup(&self, mount: &str, path: &str, key: &str) -> Result<Secret, SecretsError> {
        let data = self.read(mount, path).await?;
        let reference = || {
            SecretRef {
                mount: mount.to_owned(),
                path: path.to_owned(),
                key: key.to_owned(),
            }
            .to_string()
        };
        match data.get(key) {
            Some(Value::String(s)) => Ok(Secret::new(s.clone())),
            Some(other) => Err(SecretsError::NotAString {
                reference: reference(),
                found: json_type(other),
            }),
            None => {
                let mut keys_present: Vec<String> = data.keys().cloned().collect();
                keys_present.sort();
                Err(SecretsError::KeyNotInSecret {
                    reference: reference(),
                    keys_present,
                })
            }
        }
    }

    /// Reads the whole secret at `mount/path`, from the cache when it is fresh enough.
    async fn read(&self, mount: &str, path: &str) -> Result<KvData, SecretsError> {
        let cache_key = (mount.to_owned(), path.to_owned());
        if let Some(hit) = self.cached(&cache_key) {
            debug!(
                vault.mount = mount,
                vault.path = path,
                cache.hit = true,
                "read Vault secret {mount}/{path} (cached)"
            );
            return Ok(hit);
        }
        let mut result = self.fetch(mount, path).await;
        if let Err(e) = &result
            && status(e) == Some(403)
            && matches!(self.auth, VaultAuth::Kubernetes { .. })
        {
            // The token from a Kubernetes login expires; log in again once and retry.
            debug!(vault.addr = %self.addr, "Vault answered 403, logging in again");
            self.relogin().await?;
            result = self.fetch(mount, path).await;
        }
        let data: KvData = match result {
            Ok(data) => Arc::new(data),
            Err(e) => return Err(self.read_error(mount, path, &e).await),
        };
        debug!(
            vault.mount = mount,
            vault.path = path,
            cache.hit = false,
            "read Vault secret {mount}/{path}"
        );
        if !self.cache_ttl.is_zero() {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache.retain(|_, c| c.read_at.elapsed() < self.cache_ttl);
            cache.insert(
                cache_key,
                Cached {
                    read_at: Instant::now(),
                    data: Arc::clone(&data),
                },
            );
        }
        Ok(data)
    }

    fn cached(&self, key: &(String, String)) -> Option<KvData> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .get(key)
            .filter(|c| c.read_at.elapsed() < self.cache_ttl)
            .map(|c| Arc::clone(&c.data))
    }

    async fn fetch(&self, mount: &str, path: &str) -> Result<HashMap<String, Value>, ClientError> {
        let client = self.client.read().await;
        vaultrs::kv2::read(&*client, mount, path).await
    }

    async fn relogin(&self) -> Result<(), SecretsError> {
        if let VaultAuth::Kubernetes {
            role,
            mount,
            jwt_path,
        } = &self.auth
        {
            let mut client = self.client.write().await;
            kubernetes_login(&self.addr, &mut client, role, mount, jwt_path, self.timeout).await?;
        }
        Ok(())
    }

    async fn read_error(&self, mount: &str, path: &str, e: &ClientError) -> SecretsError {
        if status(e).is_none() && !is_transport(e) && self.has_metadata(mount, path).await {
            // Vault answers a read of a deleted (or destroyed) latest version with a 404 that has
            // no `errors` list, which vaultrs does not turn into an `APIError`.
            return SecretsError::SecretNotFound {
                addr: self.addr.clone(),
                mount: mount.to_owned(),
                path: path.to_owned(),
            };
        }
        match (status(e), e) {
            (Some(404), ClientError::APIError { errors, .. }) if !errors.is_empty() => vault_error(
                &self.addr,
                &format!("reading `{mount}/{path}` (is `{mount}` a KV version 2 mount?)"),
                e,
                self.timeout,
            ),
            (Some(404), _) => SecretsError::SecretNotFound {
                addr: self.addr.clone(),
                mount: mount.to_owned(),
                path: path.to_owned(),
            },
            (Some(403), _) => vault_error(
                &self.addr,
                &format!("reading `{mount}/{path}`; the token's policies do not allow it"),
                e,
                self.timeout,
            ),
            _ => vault_error(
                &self.addr,
                &format!("reading `{mount}/{path}`"),
                e,
                self.timeout,
            ),
        }
    }

    /// Whether Vault has metadata for `mount/path`, i.e. the secret exists in some version.
    async fn has_metadata(&self, mount: &str, path: &str) -> bool {
        let client = self.client.read().await;
        vaultrs::kv2::read_metadata(&*client, mount, path)
            .await
            .is_ok()
    }
}

impl fmt::Debug for VaultSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultSecrets")
            .field("addr", &self.addr)
            .field("auth", &self.auth)
            .field("app", &format_args!("{}/{}", self.app_mount, self.app_path))
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Secrets for VaultSecrets {
    async fn get(&self, name: &str) -> Result<Secret, SecretsError> {
        self.lookup(&self.app_mount, &self.app_path, name).await
    }

    async fn resolve(&self, value: &str) -> Result<Secret, SecretsError> {
        if !is_vault_ref(value) {
            return Ok(Secret::new(value.to_owned()));
        }
        let r: SecretRef = value.parse()?;
        self.lookup(&r.mount, &r.path, &r.key).await
    }
}

/// Checks the address up front: vaultrs panics on one it cannot parse.
fn check_addr(addr: &str) -> Result<String, SecretsError> {
    let addr = addr.trim();
    let url = reqwest::Url::parse(addr).map_err(|e| SecretsError::BadConfig {
        what: format!(
            "the address `{addr}` is not a URL ({e}); expected e.g. `https://vault.internal:8200`"
        ),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(SecretsError::BadConfig {
            what: format!("the address `{addr}` must be an http:// or https:// URL with a host"),
        });
    }
    Ok(addr.trim_end_matches('/').to_owned())
}

/// The token goes into a header: vaultrs panics on characters a header cannot hold.
fn check_token(token: &Secret) -> Result<String, SecretsError> {
    let token = token.expose().trim();
    if token.is_empty() {
        return Err(SecretsError::BadConfig {
            what: "the Vault token is empty".to_owned(),
        });
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SecretsError::BadConfig {
            what: "the Vault token contains spaces or characters that cannot go in an HTTP header"
                .to_owned(),
        });
    }
    Ok(token.to_owned())
}

fn build_client(addr: &str, token: &str, cfg: &VaultConfig) -> Result<VaultClient, SecretsError> {
    let ca_certs = cfg
        .ca_certs
        .iter()
        .map(|p| {
            p.to_str()
                .map(str::to_owned)
                .ok_or_else(|| SecretsError::BadConfig {
                    what: format!("the CA bundle path `{}` is not UTF-8", p.display()),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Every field that vaultrs would otherwise default from VAULT_* variables is set here:
    // the binary owns the environment.
    let settings = VaultClientSettingsBuilder::default()
        .address(addr)
        .token(token)
        .timeout(Some(cfg.timeout))
        .verify(true)
        .ca_certs(ca_certs)
        .identity(None)
        .namespace(None)
        .build()
        .map_err(|e| SecretsError::BadConfig {
            what: format!("the address `{addr}`: {e}"),
        })?;
    VaultClient::new(settings)
        .map_err(|e| vault_error(addr, "setting up the HTTP client", &e, cfg.timeout))
}

async fn kubernetes_login(
    addr: &str,
    client: &mut VaultClient,
    role: &str,
    mount: &str,
    jwt_path: &Path,
    timeout: Duration,
) -> Result<(), SecretsError> {
    let jwt = tokio::fs::read_to_string(jwt_path)
        .await
        .map_err(|e| SecretsError::Jwt {
            path: jwt_path.to_owned(),
            reason: e.to_string(),
        })?;
    let jwt = jwt.trim();
    if jwt.is_empty() {
        return Err(SecretsError::Jwt {
            path: jwt_path.to_owned(),
            reason: "the file is empty".to_owned(),
        });
    }
    let auth = vaultrs::auth::kubernetes::login(&*client, mount, role, jwt)
        .await
        .map_err(|e| {
            vault_error(
                addr,
                &format!(
                    "logging in with Kubernetes role `{role}` (auth mount `{mount}`, service-account token `{}`)",
                    jwt_path.display()
                ),
                &e,
                timeout,
            )
        })?;
    client.set_token(&auth.client_token);
    debug!(vault.addr = %addr, vault.role = role, "logged in to Vault with Kubernetes auth");
    Ok(())
}

/// The HTTP status of an answer that carried Vault's `errors` list (what Vault sends for
/// refusals and unknown paths).
fn status(e: &ClientError) -> Option<u16> {
    match e {
        ClientError::APIError { code, .. } => Some(*code),
        _ => None,
    }
}

fn vault_error(addr: &str, action: &str, e: &ClientError, timeout: Duration) -> SecretsError {
    SecretsError::Vault {
        addr: addr.to_owned(),
        what: format!("{action}: {}", describe(e, timeout)),
        source: Box::new(Cause::of(e)),
    }
}

/// Whether the request failed before Vault answered (connect error, timeout, …).
fn is_transport(e: &ClientError) -> bool {
    let mut next: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = next {
        if err.is::<reqwest::Error>() {
            return true;
        }
        next = err.source();
    }
    false
}

/// One line saying what went wrong: Vault's own message, or why it could not be asked.
fn describe(e: &ClientError, timeout: Duration) -> String {
    if let ClientError::APIError { code, errors } = e {
        let said: Vec<String> = errors
            .iter()
            .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|m| !m.is_empty())
            .collect();
        return if said.is_empty() {
            format!("HTTP {code}")
        } else {
            format!("HTTP {code}: {}", said.join("; "))
        };
    }
    let mut next: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(re) = err.downcast_ref::<reqwest::Error>() {
            if re.is_timeout() {
                return format!("no answer within {timeout:?}");
            }
            if re.is_connect() {
                return "could not connect (is the address right and the server running?)"
                    .to_owned();
            }
        }
        next = err.source();
    }
    e.to_string()
}

/// A copy of an error chain's messages only. vaultrs/rustify errors carry response bodies in
/// fields that `Debug` prints, and a body may hold secret values; the messages do not.
#[derive(Debug)]
struct Cause {
    message: String,
    source: Option<Box<Cause>>,
}

impl Cause {
    fn of(e: &(dyn StdError + 'static)) -> Self {
        Self {
            message: e.to_string(),
            source: e.source().map(|s| Box::new(Self::of(s))),
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for Cause {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|c| c as &(dyn StdError + 'static))
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn auth_kind(auth: &VaultAuth) -> &'static str {
    match auth {
        VaultAuth::Token(_) => "token",
        VaultAuth::Kubernetes { .. } => "kubernetes",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_addresses_are_config_errors_not_panics() {
        for addr in [
            "",
            "not a url",
            "vault.internal:8200",
            "ftp://vault:21",
            "http://",
        ] {
            let err = check_addr(addr).expect_err(addr);
            assert!(
                matches!(err, SecretsError::BadConfig { .. }),
                "{addr}: {err:?}"
            );
            assert!(err.to_string().contains(addr.trim()), "{addr}: {err}");
        }
        assert_eq!(
            check_addr(" http://127.0.0.1:8200/ ").ok().as_deref(),
            Some("http://127.0.0.1:8200")
        );
    }

    #[test]
    fn tokens_that_cannot_be_headers_are_refused_without_echo() {
        for token in ["", "  ", "a b", "tok\u{7f}en", "tøken"] {
            let err = check_token(&Secret::new(token.to_owned())).expect_err(token);
            assert!(matches!(err, SecretsError::BadConfig { .. }), "{err:?}");
        }
        assert_eq!(
            check_token(&Secret::new("s.abc\n".to_owned()))
                .ok()
                .as_deref(),
            Some("s.abc")
        );
    }

    #[test]
    fn config_debug_redacts_the_token() {
        let cfg = VaultConfig::new(
            "http://127.0.0.1:8200",
            VaultAuth::Token(Secret::new("s.hunter2".to_owned())),
        );
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            (cfg.app_mount.as_str(), cfg.app_path.as_str()),
            ("secret", "kea")
        );
    }
}

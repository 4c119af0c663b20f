#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod env;
mod error;
mod reference;
mod secret;
mod vault;

pub use env::EnvSecrets;
pub use error::{BoxError, SecretsError};
pub use reference::{SecretRef, is_vault_ref};
pub use secret::Secret;
pub use vault::{
    DEFAULT_APP_MOUNT, DEFAULT_APP_PATH, DEFAULT_CACHE_TTL, DEFAULT_JWT_PATH,
    DEFAULT_KUBERNETES_MOUNT, DEFAULT_TIMEOUT, VaultAuth, VaultConfig, VaultSecrets,
};

/// Where kea gets its secrets: the environment ([`EnvSecrets`]) or Vault ([`VaultSecrets`]).
///
/// The binary builds one at start-up and hands out an `Arc<dyn Secrets>`.
#[async_trait::async_trait]
pub trait Secrets: Send + Sync + std::fmt::Debug {
    /// A named application secret, e.g. `TWILIO_AUTH_TOKEN`: with [`EnvSecrets`] the variable of
    /// that name, with [`VaultSecrets`] that key of the configured application path.
    async fn get(&self, name: &str) -> Result<Secret, SecretsError>;

    /// Resolves a store-level value that may be a `vault:<mount>/<path>#<key>` reference; plain
    /// values are returned as they are.
    async fn resolve(&self, value: &str) -> Result<Secret, SecretsError>;
}

//! [`SecretsError`]: every message names the variable, reference or address involved and never a value.

use std::path::PathBuf;

/// The boxed cause of a Vault failure (a `vaultrs` error; boxed so `vaultrs` is not part of this API).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong getting a secret.
///
/// Messages name what was asked for (a variable, a `vault:` reference, a path, the Vault address)
/// and never contain a secret value, so they are safe to log and to show at start-up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// An application secret is not set in the environment (or is empty).
    #[error(
        "secret `{name}` is not set: set the environment variable `{name}` (or configure Vault)"
    )]
    Missing {
        /// The variable name, e.g. `TWILIO_AUTH_TOKEN`.
        name: String,
    },

    /// A string meant as a Vault reference could not be parsed.
    #[error(
        "bad Vault reference `{input}`: {reason} (expected `{}`)",
        crate::reference::shape()
    )]
    BadRef {
        /// The reference as written (or `[value not shown]` when it did not look like a reference at all).
        input: String,
        /// What is wrong or missing.
        reason: String,
    },

    /// A `vault:` reference was given but kea runs without Vault.
    #[error(
        "`{reference}` is a Vault reference, but Vault is not configured (set VAULT_ADDR and VAULT_TOKEN or VAULT_ROLE)"
    )]
    VaultNotConfigured {
        /// The reference.
        reference: String,
    },

    /// The Vault configuration itself is unusable (bad address, empty token, …).
    #[error("Vault configuration: {what}")]
    BadConfig {
        /// What is wrong.
        what: String,
    },

    /// The Kubernetes service-account token could not be read.
    #[error("reading the Kubernetes service-account token `{}` for Vault login: {reason}", .path.display())]
    Jwt {
        /// The token file.
        path: PathBuf,
        /// What went wrong (the I/O error, or "the file is empty").
        reason: String,
    },

    /// A request to Vault failed: unreachable, rejected token, permission denied, unexpected answer.
    #[error("Vault at {addr}: {what}")]
    Vault {
        /// The Vault address.
        addr: String,
        /// What kea was doing and what Vault said, e.g. `checking the token (lookup-self): HTTP 403: permission denied`.
        what: String,
        /// The underlying client error.
        #[source]
        source: BoxError,
    },

    /// There is no secret at a KV path (or its latest version is deleted).
    #[error(
        "Vault at {addr}: no secret at `{mount}/{path}` (KV v2 mount `{mount}`, path `{path}`)"
    )]
    SecretNotFound {
        /// The Vault address.
        addr: String,
        /// The KV v2 mount.
        mount: String,
        /// The path under the mount.
        path: String,
    },

    /// The secret exists but lacks the key.
    #[error("`{reference}`: the secret has no key `{key}` (keys present: {keys_present:?})", key = key_of(.reference))]
    KeyNotInSecret {
        /// The reference, `vault:<mount>/<path>#<key>`.
        reference: String,
        /// The keys the secret does have (never their values), sorted.
        keys_present: Vec<String>,
    },

    /// The key holds a number, object, … where a string was expected.
    #[error("`{reference}`: the value is {found}, not a string")]
    NotAString {
        /// The reference, `vault:<mount>/<path>#<key>`.
        reference: String,
        /// The JSON type found, e.g. `a number`.
        found: &'static str,
    },
}

fn key_of(reference: &str) -> &str {
    reference.split_once('#').map_or("", |(_, k)| k)
}

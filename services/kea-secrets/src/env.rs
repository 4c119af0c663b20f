//! [`EnvSecrets`]: secrets from the environment the binary read, for `kea dev` and deployments without Vault.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;

use crate::{Secret, SecretRef, Secrets, SecretsError, is_vault_ref};

/// Secrets taken from environment variables that the binary read and passed in.
///
/// [`get`](Secrets::get) looks a name up among the variables; an unset or empty variable is
/// [`SecretsError::Missing`]. [`resolve`](Secrets::resolve) returns plain values as they are and
/// refuses `vault:` references with [`SecretsError::VaultNotConfigured`].
///
/// ```
/// use kea_secrets::{EnvSecrets, Secrets};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), kea_secrets::SecretsError> {
/// let secrets = EnvSecrets::new([("TWILIO_AUTH_TOKEN".to_owned(), "abc".to_owned())]);
/// assert_eq!(secrets.get("TWILIO_AUTH_TOKEN").await?.expose(), "abc");
/// assert!(secrets.get("KEA_JWT_SECRET").await.is_err());
/// assert_eq!(secrets.resolve("plain value").await?.expose(), "plain value");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct EnvSecrets {
    vars: HashMap<String, Secret>,
}

impl EnvSecrets {
    /// Keeps the given variables (typically `std::env::vars()`, read by the binary).
    pub fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            vars: vars.into_iter().map(|(k, v)| (k, Secret::new(v))).collect(),
        }
    }
}

impl fmt::Debug for EnvSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvSecrets")
            .field("variables", &self.vars.len())
            .finish()
    }
}

#[async_trait]
impl Secrets for EnvSecrets {
    async fn get(&self, name: &str) -> Result<Secret, SecretsError> {
        match self.vars.get(name) {
            Some(value) if !value.expose().is_empty() => Ok(value.clone()),
            _ => Err(SecretsError::Missing {
                name: name.to_owned(),
            }),
        }
    }

    async fn resolve(&self, value: &str) -> Result<Secret, SecretsError> {
        if !is_vault_ref(value) {
            return Ok(Secret::new(value.to_owned()));
        }
        let reference: SecretRef = value.parse()?;
        Err(SecretsError::VaultNotConfigured {
            reference: reference.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> EnvSecrets {
        EnvSecrets::new([
            ("TWILIO_AUTH_TOKEN".to_owned(), "tok-123".to_owned()),
            ("EMPTY".to_owned(), String::new()),
        ])
    }

    #[tokio::test]
    async fn get_returns_the_variable() {
        let s = secrets().get("TWILIO_AUTH_TOKEN").await.expect("set");
        assert_eq!(s.expose(), "tok-123");
    }

    #[tokio::test]
    async fn get_missing_or_empty_names_the_variable() {
        for name in ["KEA_JWT_SECRET", "EMPTY"] {
            let err = secrets().get(name).await.expect_err(name);
            assert!(
                matches!(&err, SecretsError::Missing { name: n } if n == name),
                "{err:?}"
            );
            assert!(err.to_string().contains(&format!("`{name}`")), "{err}");
        }
    }

    #[tokio::test]
    async fn resolve_plain_value_is_returned_as_is() {
        let s = secrets().resolve("plain-pos-secret").await.expect("plain");
        assert_eq!(s.expose(), "plain-pos-secret");
        assert_eq!(secrets().resolve("").await.expect("empty").expose(), "");
    }

    #[tokio::test]
    async fn resolve_vault_ref_without_vault_names_the_ref() {
        let err = secrets()
            .resolve("vault:secret/stores/tonys#pos_secret")
            .await
            .expect_err("no vault");
        assert!(
            matches!(&err, SecretsError::VaultNotConfigured { reference } if reference == "vault:secret/stores/tonys#pos_secret"),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("vault:secret/stores/tonys#pos_secret"),
            "{msg}"
        );
        assert!(msg.contains("VAULT_ADDR"), "{msg}");
    }

    #[tokio::test]
    async fn resolve_malformed_ref_is_a_bad_ref() {
        let err = secrets()
            .resolve("vault:secret/stores/tonys")
            .await
            .expect_err("bad");
        assert!(matches!(err, SecretsError::BadRef { .. }), "{err:?}");
    }

    #[test]
    fn debug_shows_no_names_or_values() {
        let shown = format!("{:?}", secrets());
        assert_eq!(shown, "EnvSecrets { variables: 2 }");
    }
}

//! [`SecretRef`]: the `vault:<mount>/<path>#<key>` strings that store JSON may hold instead of a secret.

use std::fmt;
use std::str::FromStr;

use crate::SecretsError;

const PREFIX: &str = "vault:";
const SHAPE: &str = "vault:<mount>/<path>#<key>";

/// A reference to one key of a KV v2 secret, written `vault:<mount>/<path>#<key>`.
///
/// The mount is the first path segment, the path is the rest, the key follows `#`:
/// `vault:secret/stores/tonys#pos_secret` is key `pos_secret` of `stores/tonys` on mount `secret`.
///
/// ```
/// use kea_secrets::SecretRef;
///
/// let r: SecretRef = "vault:secret/stores/tonys#pos_secret".parse()?;
/// assert_eq!((r.mount.as_str(), r.path.as_str(), r.key.as_str()), ("secret", "stores/tonys", "pos_secret"));
/// assert_eq!(r.to_string(), "vault:secret/stores/tonys#pos_secret");
/// # Ok::<(), kea_secrets::SecretsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretRef {
    /// The KV v2 mount, e.g. `secret`.
    pub mount: String,
    /// The secret's path under the mount, e.g. `stores/tonys`.
    pub path: String,
    /// The key inside the secret, e.g. `pos_secret`.
    pub key: String,
}

/// Whether `s` is meant as a Vault reference rather than a plain value.
///
/// This is deliberately looser than the parser: ` vault:…` or `Vault:…` count as references, so a
/// mistyped reference fails with [`SecretsError::BadRef`] instead of being sent to a POS as a password.
pub fn is_vault_ref(s: &str) -> bool {
    s.trim_start()
        .get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
}

impl FromStr for SecretRef {
    type Err = SecretsError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| SecretsError::BadRef {
            // A string that is not a reference may be the secret itself: keep it out of the error.
            input: if is_vault_ref(input) {
                input.to_owned()
            } else {
                "[value not shown]".to_owned()
            },
            reason,
        };
        let Some(rest) = input.strip_prefix(PREFIX) else {
            return Err(bad(if is_vault_ref(input) {
                format!("the prefix must be exactly `{PREFIX}` (lowercase, nothing before it)")
            } else {
                format!("it does not start with `{PREFIX}`")
            }));
        };
        let Some((location, key)) = rest.split_once('#') else {
            return Err(bad("missing `#<key>` after the path".to_owned()));
        };
        if key.is_empty() {
            return Err(bad("the key after `#` is empty".to_owned()));
        }
        if key.trim() != key {
            return Err(bad(
                "the key after `#` starts or ends with whitespace".to_owned()
            ));
        }
        let (mount, path) = location.split_once('/').unwrap_or((location, ""));
        if mount.is_empty() {
            return Err(bad("missing the mount before the first `/`".to_owned()));
        }
        if path.is_empty() {
            return Err(bad(format!("missing the path after mount `{mount}/`")));
        }
        if location.split('/').any(str::is_empty) {
            return Err(bad(format!(
                "the path `{location}` has an empty segment (`//` or a trailing `/`)"
            )));
        }
        if location
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '?')
        {
            return Err(bad(format!(
                "the path `{location}` contains whitespace, a control character or `?`"
            )));
        }
        Ok(Self {
            mount: mount.to_owned(),
            path: path.to_owned(),
            key: key.to_owned(),
        })
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}/{}#{}", self.mount, self.path, self.key)
    }
}

/// The expected shape, for error messages.
pub(crate) const fn shape() -> &'static str {
    SHAPE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_good_refs() {
        let cases = [
            (
                "vault:secret/stores/tonys#pos_secret",
                ("secret", "stores/tonys", "pos_secret"),
            ),
            (
                "vault:secret/kea#TWILIO_AUTH_TOKEN",
                ("secret", "kea", "TWILIO_AUTH_TOKEN"),
            ),
            ("vault:kv/a/b/c#k", ("kv", "a/b/c", "k")),
            (
                "vault:secret/x#key#with#hashes",
                ("secret", "x", "key#with#hashes"),
            ),
        ];
        for (input, (mount, path, key)) in cases {
            let r: SecretRef = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (r.mount.as_str(), r.path.as_str(), r.key.as_str()),
                (mount, path, key),
                "{input}"
            );
            assert_eq!(r.to_string(), input, "round trip");
        }
    }

    #[test]
    fn rejects_bad_refs_naming_input_and_problem() {
        let cases = [
            ("vault:secret/stores/tonys", "missing `#<key>`"),
            ("vault:secret/stores/tonys#", "key after `#` is empty"),
            ("vault:secret#key", "missing the path"),
            ("vault:secret/#key", "missing the path"),
            ("vault:/stores/tonys#key", "missing the mount"),
            ("vault:#key", "missing the mount"),
            ("vault:secret/a//b#key", "empty segment"),
            ("vault:secret/a/#key", "empty segment"),
            ("vault:secret/a b#key", "whitespace"),
            ("vault:secret/a#key ", "whitespace"),
            ("Vault:secret/a#key", "exactly `vault:`"),
            (" vault:secret/a#key", "exactly `vault:`"),
        ];
        for (input, want) in cases {
            let err = input.parse::<SecretRef>().expect_err(input);
            let msg = err.to_string();
            assert!(
                matches!(err, SecretsError::BadRef { .. }),
                "{input}: {err:?}"
            );
            assert!(msg.contains(want), "{input}: `{msg}` should say `{want}`");
            assert!(
                msg.contains(input),
                "{input}: `{msg}` should name the input"
            );
            assert!(
                msg.contains(SHAPE),
                "{input}: `{msg}` should show the expected shape"
            );
        }
    }

    #[test]
    fn not_a_reference_is_rejected_without_echoing_the_value() {
        let err = "hunter2-plain-secret"
            .parse::<SecretRef>()
            .expect_err("not a ref");
        let msg = err.to_string();
        assert!(msg.contains("does not start with `vault:`"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(!format!("{err:?}").contains("hunter2"));
    }

    #[test]
    fn is_vault_ref_catches_near_misses() {
        assert!(is_vault_ref("vault:secret/a#k"));
        assert!(is_vault_ref("VAULT:secret/a#k"));
        assert!(is_vault_ref("  vault:oops"));
        assert!(!is_vault_ref("hunter2"));
        assert!(!is_vault_ref("vault"));
        assert!(!is_vault_ref(""));
        assert!(!is_vault_ref("my-vault:x"));
    }
}

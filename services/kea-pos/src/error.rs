//! [`PosError`]: why a push did not reach the POS, split by what the job should do about it.

/// Why a push failed. The variant tells the `push_to_pos` job what to do: retry a
/// [`PosError::Transient`] with backoff, and turn a [`PosError::Permanent`] or
/// [`PosError::Config`] into `pos_failed` plus a task for an agent to phone the store.
///
/// Messages name the order, the POS kind and the HTTP status, and at most the error codes and
/// field names the POS returned: never a secret, a header value or a request or response body
/// (those carry the caller's name, phone number and address), so they are safe to log and to
/// store on the task.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PosError {
    /// The POS refused the order and will refuse it again (a 4xx other than 408/429, or an
    /// order that cannot be expressed in the POS's terms).
    #[error("{message}")]
    Permanent {
        /// The HTTP status, when the POS answered.
        status: Option<u16>,
        /// What happened, e.g. `webhook answered HTTP 422 for order 0192…`.
        message: String,
    },
    /// Worth retrying: a timeout, a connection error, HTTP 408, 429 or 5xx, or a Vault outage
    /// while resolving the credentials.
    #[error("{message}")]
    Transient {
        /// The HTTP status, when the POS answered.
        status: Option<u16>,
        /// What happened.
        message: String,
    },
    /// The store's POS configuration is unusable: no POS, a bad URL, a credential that cannot be
    /// resolved. Retrying does not help until someone fixes the store.
    #[error("POS configuration: {message}")]
    Config {
        /// What is wrong, naming the field (never its value when it is a secret).
        message: String,
    },
}

impl PosError {
    /// Whether the job should retry (with backoff) rather than give up.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self, PosError::Transient { .. })
    }

    /// The HTTP status the POS answered, if it answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            PosError::Permanent { status, .. } | PosError::Transient { status, .. } => *status,
            PosError::Config { .. } => None,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        PosError::Config {
            message: message.into(),
        }
    }
}

/// What a non-2xx HTTP status means for a push: 408, 429 and 5xx are worth retrying, every other
/// status (the rest of 4xx, and 1xx/3xx, which a POS API should never send) is permanent.
#[must_use]
pub fn status_is_transient(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

/// The error for a POS that answered `status` (not 2xx); `detail` is a short summary without
/// personal data (error codes, field names) or empty.
pub(crate) fn from_status(status: u16, context: &str, detail: &str) -> PosError {
    let message = if detail.is_empty() {
        format!("{context}: HTTP {status}")
    } else {
        format!("{context}: HTTP {status}: {detail}")
    };
    if status_is_transient(status) {
        PosError::Transient {
            status: Some(status),
            message,
        }
    } else {
        PosError::Permanent {
            status: Some(status),
            message,
        }
    }
}

/// The error for a request that got no answer: timeouts and connection failures are transient;
/// a request reqwest could not even build is a configuration problem.
pub(crate) fn from_reqwest(err: &reqwest::Error, context: &str) -> PosError {
    // reqwest's Display includes the URL, which for a webhook is the merchant's own endpoint and
    // may carry a token in its query string: describe the failure without it.
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_builder() {
        return PosError::config(format!("{context}: the request could not be built"));
    } else if err.is_body() || err.is_decode() {
        "the response could not be read"
    } else {
        "the request failed"
    };
    PosError::Transient {
        status: None,
        message: format!("{context}: {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping() {
        let cases: &[(u16, bool)] = &[
            (400, false),
            (401, false),
            (403, false),
            (404, false),
            (408, true),
            (409, false),
            (410, false),
            (413, false),
            (422, false),
            (429, true),
            (500, true),
            (502, true),
            (503, true),
            (504, true),
            (599, true),
            (301, false),
        ];
        for &(status, transient) in cases {
            assert_eq!(status_is_transient(status), transient, "HTTP {status}");
            let err = from_status(status, "webhook for order x", "");
            assert_eq!(err.is_transient(), transient, "HTTP {status}");
            assert_eq!(err.status(), Some(status));
            assert_eq!(
                err.to_string(),
                format!("webhook for order x: HTTP {status}")
            );
        }
    }

    #[test]
    fn config_is_not_transient() {
        let err = PosError::config("store has no POS");
        assert!(!err.is_transient());
        assert_eq!(err.status(), None);
        assert_eq!(err.to_string(), "POS configuration: store has no POS");
    }
}

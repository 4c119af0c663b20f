//! The one error type of this crate.

use std::time::Duration;

/// Everything that can go wrong in kea-twilio: a webhook that does not parse, a REST call that
/// Twilio refuses or that never gets an answer.
///
/// Messages name the offending parameter or HTTP status, never the auth token, and never a
/// parameter's value when it may be personal data (phone numbers, transcripts).
#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    /// The webhook body is not `application/x-www-form-urlencoded` text.
    #[error("malformed webhook form body: {reason}")]
    BadForm {
        /// What the form parser objected to.
        reason: String,
    },

    /// A webhook parameter is missing or has the wrong shape (e.g. `Confidence=high`).
    #[error("bad webhook parameter: {reason}")]
    BadParameter {
        /// The parser's message, which names the parameter.
        reason: String,
    },

    /// Twilio answered a REST call with an error status and (usually) its error JSON.
    #[error(
        "Twilio API error: HTTP {status}{}: {message}{}",
        code.map(|c| format!(", code {c}")).unwrap_or_default(),
        more_info.as_deref().map(|m| format!(" (see {m})")).unwrap_or_default()
    )]
    Api {
        /// The HTTP status of the answer.
        status: u16,
        /// Twilio's error code (e.g. 21211 "invalid To number"), when the body carried one.
        code: Option<u32>,
        /// Twilio's message, or the HTTP reason phrase when the body was not Twilio's JSON.
        message: String,
        /// Twilio's link to the error's documentation.
        more_info: Option<String>,
    },

    /// No complete answer within the configured timeout. Not retried: the message may have been
    /// sent, and sending it twice is worse than reporting the failure.
    #[error("Twilio API request timed out after {after:?}")]
    Timeout {
        /// The per-request timeout that ran out.
        after: Duration,
    },

    /// The request could not be sent or its answer not read (connection refused, reset, TLS …).
    #[error("Twilio API request failed: {0}")]
    Transport(#[source] reqwest::Error),

    /// Twilio answered with a success status but a body that is not the expected JSON.
    #[error("Twilio API answered HTTP {status} with a body that does not decode: {reason}")]
    Decode {
        /// The HTTP status of the answer.
        status: u16,
        /// What the JSON decoder objected to.
        reason: String,
    },

    /// The client's configuration cannot work, e.g. a base URL that does not parse.
    #[error("bad Twilio client configuration: {reason}")]
    Config {
        /// What is wrong, naming the setting.
        reason: String,
    },
    /// A TwiML document could not be read.
    #[error("bad TwiML: {reason}")]
    BadTwiml {
        /// What was wrong with it.
        reason: String,
    },
}

impl TwilioError {
    /// Whether retrying the same request later may succeed (429, 5xx, connection failures).
    ///
    /// Background jobs use this to choose between retrying and giving up for good.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { status, .. } => *status == 429 || *status >= 500,
            Self::Transport(e) => e.is_connect(),
            Self::Timeout { .. } => true,
            Self::BadForm { .. }
            | Self::BadParameter { .. }
            | Self::Decode { .. }
            | Self::Config { .. }
            | Self::BadTwiml { .. } => false,
        }
    }
}

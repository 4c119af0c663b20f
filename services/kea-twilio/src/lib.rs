#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod client;
mod error;
#[cfg(any(test, feature = "mock"))]
pub mod mock;
mod signature;
pub mod twiml;
mod twiml_read;
mod webhook;

pub use client::{
    Call, Client, DEFAULT_API_BASE, DEFAULT_BASE_BACKOFF, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT,
    MAX_BACKOFF, MAX_RETRY_AFTER, Message, OutboundMessage,
};
pub use error::TwilioError;
pub use signature::{SIGNATURE_HEADER, compute_signature, validate_signature};
pub use webhook::{CallStatus, MessageStatus, MessageStatusRequest, VoiceRequest, parse_form};

/// What kea needs from Twilio's REST API: the port that services depend on, implemented by
/// [`Client`] (and by `mock::MockTwilio` with the `mock` feature).
///
/// Hold it as `Arc<dyn TwilioApi>`.
#[async_trait::async_trait]
pub trait TwilioApi: Send + Sync {
    /// Sends an SMS; see [`Client::send_message`].
    async fn send_message(&self, msg: OutboundMessage) -> Result<Message, TwilioError>;

    /// Redirects a live call to new TwiML; see [`Client::update_call`].
    async fn update_call(&self, call_sid: &str, twiml: &str) -> Result<Call, TwilioError>;
}

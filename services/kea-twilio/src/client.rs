//! The REST client: what kea asks of Twilio (today: sending an SMS).
//!
//! Its surface mirrors the `twilio` crate (twilio-rs): [`Client::new`] with the account SID and
//! auth token, then [`Client::send_message`] with an [`OutboundMessage`]. On top it has a
//! configurable base URL (`TWILIO_API_BASE`, for mocks), a per-request timeout and retries with
//! exponential backoff and jitter on 429, 5xx and failed connections. Services hold it as an
//! `Arc<dyn TwilioApi>` so tests can swap it.

use std::fmt;
use std::time::Duration;

use rand::Rng as _;
use reqwest::header::{ACCEPT, HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Deserializer, Serialize};

use crate::{MessageStatus, TwilioApi, TwilioError};

/// Twilio's REST API, used when no other base URL is configured.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";
/// How long one attempt may take, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// The first backoff; each retry doubles it (up to [`MAX_BACKOFF`]), plus jitter.
pub const DEFAULT_BASE_BACKOFF: Duration = Duration::from_millis(250);
/// The longest computed backoff between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// A `Retry-After` longer than this is not waited for inside one call: the error is returned so
/// the caller (a background job) can retry later instead of holding a worker.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// A Twilio REST client for one account.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    account_sid: String,
    auth_token: String,
    base_url: String,
    timeout: Duration,
    max_retries: u32,
    base_backoff: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"[redacted]")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("base_backoff", &self.base_backoff)
            .finish()
    }
}

impl Client {
    /// A client for the account `account_sid` (`AC…`), authenticating with `auth_token`,
    /// talking to [`DEFAULT_API_BASE`] with [`DEFAULT_TIMEOUT`] and [`DEFAULT_MAX_RETRIES`].
    pub fn new(account_sid: &str, auth_token: &str) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("kea-twilio/", env!("CARGO_PKG_VERSION")))
            .build()
            // The same assumption `reqwest::Client::new()` makes.
            .expect("the TLS backend and DNS resolver initialise");
        Self {
            http,
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            base_url: DEFAULT_API_BASE.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            base_backoff: DEFAULT_BASE_BACKOFF,
        }
    }

    /// Talks to `url` (scheme, host and optional path prefix) instead of Twilio, e.g. a mock
    /// (`TWILIO_API_BASE`). A trailing `/` is ignored.
    #[must_use]
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Gives each attempt at most `timeout`, connection included.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries up to `max_retries` times after the first attempt, waiting `base_backoff`,
    /// then twice that, and so on (capped at [`MAX_BACKOFF`], with jitter), or what
    /// `Retry-After` says. `with_retries(0, _)` makes a single attempt.
    #[must_use]
    pub fn with_retries(mut self, max_retries: u32, base_backoff: Duration) -> Self {
        self.max_retries = max_retries;
        self.base_backoff = base_backoff;
        self
    }

    /// Uses `http` (e.g. one shared connection pool) instead of the client's own.
    #[must_use]
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// The account this client acts for.
    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    /// Sends an SMS: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`.
    ///
    /// Returns the created message (status usually `queued`; delivery is reported later to the
    /// status callback). Retries 429, 5xx and failed connections; any other error status becomes
    /// [`TwilioError::Api`] with Twilio's code at once. A timeout is not retried, because Twilio
    /// may have accepted the message.
    pub async fn send_message(&self, msg: OutboundMessage) -> Result<Message, TwilioError> {
        let url = self.account_url(&["Messages.json"])?;
        self.post_form(url, &msg.form()).await
    }

    /// Redirects a live call to new TwiML (`POST /2010-04-01/Accounts/{sid}/Calls/{CallSid}.json`
    /// with `Twiml`): Twilio stops what the call was doing (waiting in a queue, say) and runs it.
    /// Retried like [`Client::send_message`]; a call that has ended is Twilio's 21220, not retried.
    pub async fn update_call(&self, call_sid: &str, twiml: &str) -> Result<Call, TwilioError> {
        let resource = format!("{call_sid}.json");
        let url = self.account_url(&["Calls", &resource])?;
        self.post_form(url, &[("Twiml", twiml)]).await
    }

    /// POSTs `form` to `url` with the account's credentials, retrying 429s, 5xx and failed
    /// connections with backoff (honouring `Retry-After`), and decodes the JSON answer.
    async fn post_form<T: serde::de::DeserializeOwned>(
        &self,
        url: Url,
        form: &[(&str, &str)],
    ) -> Result<T, TwilioError> {
        let mut attempt: u32 = 0;
        loop {
            let sent = self
                .http
                .post(url.clone())
                .basic_auth(&self.account_sid, Some(&self.auth_token))
                .header(ACCEPT, "application/json")
                .timeout(self.timeout)
                .form(form)
                .send()
                .await;
            let (wait, err) = match sent {
                Ok(resp) if resp.status().is_success() => {
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await.map_err(|e| self.transport(e))?;
                    return serde_json::from_slice(&body).map_err(|e| TwilioError::Decode {
                        status,
                        reason: e.to_string(),
                    });
                }
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = retry_after(resp.headers());
                    // An unreadable error body still leaves the status to report.
                    let body = resp.bytes().await.unwrap_or_default();
                    let err = api_error(status, &body);
                    if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()) {
                        return Err(err);
                    }
                    match retry_after {
                        Some(wait) if wait > MAX_RETRY_AFTER => return Err(err),
                        Some(wait) => (wait, err),
                        None => (self.backoff(attempt), err),
                    }
                }
                Err(e) if e.is_connect() => (self.backoff(attempt), self.transport(e)),
                Err(e) => return Err(self.transport(e)),
            };
            if attempt >= self.max_retries {
                return Err(err);
            }
            attempt += 1;
            let status = match &err {
                TwilioError::Api { status, .. } => Some(*status),
                _ => None,
            };
            tracing::warn!(
                attempt,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                http.status = status,
                "Twilio request failed (HTTP {status:?}), retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// `{base}/2010-04-01/Accounts/{AccountSid}/{resource…}`, each part one path segment.
    fn account_url(&self, resource: &[&str]) -> Result<Url, TwilioError> {
        let mut url = Url::parse(&self.base_url).map_err(|e| TwilioError::Config {
            reason: format!(
                "Twilio API base URL {:?} does not parse: {e}",
                self.base_url
            ),
        })?;
        url.path_segments_mut()
            .map_err(|()| TwilioError::Config {
                reason: format!("Twilio API base URL {:?} cannot have a path", self.base_url),
            })?
            .pop_if_empty()
            .extend(["2010-04-01", "Accounts", &self.account_sid])
            .extend(resource);
        Ok(url)
    }

    /// Exponential backoff with "equal jitter": half the delay fixed, half random, so that
    /// many workers retrying together spread out but none retries at once.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_backoff
            .saturating_mul(2u32.saturating_pow(attempt))
            .min(MAX_BACKOFF);
        let half = exp / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }

    fn transport(&self, e: reqwest::Error) -> TwilioError {
        if e.is_timeout() {
            TwilioError::Timeout {
                after: self.timeout,
            }
        } else {
            TwilioError::Transport(e)
        }
    }
}

#[async_trait::async_trait]
impl TwilioApi for Client {
    async fn send_message(&self, msg: OutboundMessage) -> Result<Message, TwilioError> {
        Client::send_message(self, msg).await
    }

    async fn update_call(&self, call_sid: &str, twiml: &str) -> Result<Call, TwilioError> {
        Client::update_call(self, call_sid, twiml).await
    }
}

/// `Retry-After` in seconds (Twilio's form). An HTTP date is ignored and the computed backoff
/// used instead.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// Twilio's error JSON: `{"code": 21211, "message": "…", "more_info": "…", "status": 400}`.
#[derive(Deserialize)]
struct ErrorBody {
    code: Option<u32>,
    message: Option<String>,
    more_info: Option<String>,
    /// Problem-details bodies (e.g. from a mock) carry `detail`/`title` instead of `message`,
    /// and Prism adds what broke the spec under `validation`.
    detail: Option<String>,
    title: Option<String>,
    #[serde(default)]
    validation: Vec<Violation>,
}

#[derive(Deserialize)]
struct Violation {
    #[serde(default)]
    location: Vec<String>,
    message: String,
}

fn api_error(status: StatusCode, body: &[u8]) -> TwilioError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let (code, message, more_info) = match parsed {
        Some(b) => {
            let mut message = b.message.or(b.detail).or(b.title);
            if !b.validation.is_empty() {
                let violations: Vec<String> = b
                    .validation
                    .iter()
                    .map(|v| format!("{}: {}", v.location.join("."), v.message))
                    .collect();
                let summary = violations.join("; ");
                message = Some(match message {
                    Some(m) => format!("{m} ({summary})"),
                    None => summary,
                });
            }
            (b.code, message, b.more_info)
        }
        None => (None, None, None),
    };
    TwilioError::Api {
        status: status.as_u16(),
        code,
        message: message.map_or_else(
            || {
                status
                    .canonical_reason()
                    .unwrap_or("unexpected status")
                    .to_owned()
            },
            |m| mask_phone_numbers(&m),
        ),
        more_info,
    }
}

/// Twilio's messages quote phone numbers ("The 'To' number +15551234567 is not valid"); errors
/// end up in logs, so runs of 7 or more digits keep only their last four (`***4567`).
fn mask_phone_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 7 {
            out.push_str("***");
            out.push_str(&digits[digits.len() - 4..]);
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// An SMS to send, as in twilio-rs: `OutboundMessage::new(from, to, body)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    /// The sender: the store's Twilio number (E.164).
    pub from: String,
    /// The recipient (E.164).
    pub to: String,
    /// The text.
    pub body: String,
    /// Where Twilio posts the message's status changes (`/twilio/sms/status`).
    pub status_callback: Option<String>,
}

impl OutboundMessage {
    /// An SMS from `from` to `to` saying `body`.
    pub fn new(from: impl Into<String>, to: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            from: from.into(),
            to: to.into(),
            body: body.into(),
            status_callback: None,
        }
    }

    /// Asks Twilio to post status changes to `url`.
    #[must_use]
    pub fn with_status_callback(mut self, url: impl Into<String>) -> Self {
        self.status_callback = Some(url.into());
        self
    }

    /// The form fields. Empty fields are left out, so Twilio names what is missing.
    fn form(&self) -> Vec<(&'static str, &str)> {
        [
            ("To", self.to.as_str()),
            ("From", self.from.as_str()),
            ("Body", self.body.as_str()),
            (
                "StatusCallback",
                self.status_callback.as_deref().unwrap_or(""),
            ),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }
}

/// A message as Twilio describes it (`api.v2010.account.message`); unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Message {
    /// The message's id (`SM…`); status callbacks carry it as `MessageSid`.
    pub sid: String,
    /// The account that sent it.
    pub account_sid: Option<String>,
    /// Where it is in its life; `queued` right after sending.
    pub status: Option<MessageStatus>,
    /// The recipient.
    pub to: Option<String>,
    /// The sender.
    pub from: Option<String>,
    /// The text as Twilio stored it.
    pub body: Option<String>,
    /// `outbound-api` for messages kea sends.
    pub direction: Option<String>,
    /// How many SMS segments the text takes (Twilio sends it as a string).
    #[serde(deserialize_with = "lenient_u32")]
    pub num_segments: Option<u32>,
    /// How many media items are attached (Twilio sends it as a string).
    #[serde(deserialize_with = "lenient_u32")]
    pub num_media: Option<u32>,
    /// Why sending failed, for `failed`/`undelivered`.
    pub error_code: Option<u32>,
    /// Twilio's description of `error_code`.
    pub error_message: Option<String>,
    /// The price, once known (negative, as a decimal string).
    pub price: Option<String>,
    /// The price's currency.
    pub price_unit: Option<String>,
    /// The messaging service used, if any.
    pub messaging_service_sid: Option<String>,
    /// When Twilio created it (RFC 2822).
    pub date_created: Option<String>,
    /// When it was sent (RFC 2822).
    pub date_sent: Option<String>,
    /// When it last changed (RFC 2822).
    pub date_updated: Option<String>,
    /// The message's own API path.
    pub uri: Option<String>,
}

/// A call as Twilio describes it (`api.v2010.account.call`); unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct Call {
    /// The call's id (`CA…`).
    pub sid: String,
    /// `queued`, `ringing`, `in-progress`, `completed`, …
    pub status: Option<String>,
    /// The caller.
    pub from: Option<String>,
    /// The number called.
    pub to: Option<String>,
}

/// A count Twilio sends as `"1"`, `1` or `null`.
fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Count {
        Number(u32),
        Text(String),
    }
    Ok(match Option::<Count>::deserialize(d)? {
        Some(Count::Number(n)) => Some(n),
        Some(Count::Text(s)) => s.trim().parse().ok(),
        None => None,
    })
}

#[cfg(test)]
mod tests;

//! `"kind": "webhook"`: the order, signed, `POST`ed to the merchant's own endpoint.
//!
//! Exactly as `contracts/pos.md` says: `Content-Type: application/json`,
//! `Idempotency-Key: <order id>` (the same on every retry), `X-Kea-Signature:
//! sha256=<hex HMAC-SHA256(secret, raw body)>` and `X-Kea-Timestamp: <unix seconds>`, the same
//! timestamp also in the signed body.

use std::time::Duration;

use serde_json::{Value, json};

use crate::http::send;
use crate::{
    Accepted, IDEMPOTENCY_HEADER, PosAdapter, PosError, PosOrder, SIGNATURE_HEADER,
    TIMESTAMP_HEADER, sign,
};
use kea_secrets::Secret;

/// How long a push waits for the merchant's endpoint unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The `event` of a confirmed order.
pub const EVENT_ORDER_CONFIRMED: &str = "order.confirmed";

/// The unix time in seconds: the default clock of [`WebhookPos`].
#[must_use]
pub fn system_clock() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Pushes orders to a merchant's webhook.
///
/// Its `Debug` shows the endpoint's scheme, host and port only: the path or query of a merchant's
/// URL may carry a token.
#[derive(Clone)]
pub struct WebhookPos {
    url: reqwest::Url,
    secret: Secret,
    http: reqwest::Client,
    timeout: Duration,
    clock: fn() -> i64,
}

impl WebhookPos {
    /// A webhook adapter for `url` (http or https), signing with `secret`, sending through
    /// `http` (the worker's shared client) with a [`DEFAULT_TIMEOUT`].
    pub fn new(url: &str, secret: Secret, http: reqwest::Client) -> Result<Self, PosError> {
        let url = parse_http_url(url, "pos.url")?;
        if secret.expose().is_empty() {
            return Err(PosError::config("`pos.secret` is empty"));
        }
        Ok(Self {
            url,
            secret,
            http,
            timeout: DEFAULT_TIMEOUT,
            clock: system_clock,
        })
    }

    /// How long one push waits for an answer (connecting, sending and reading); past it, the
    /// push is a [`PosError::Transient`].
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Where the signing timestamp comes from (unix seconds); tests fix it.
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    /// The endpoint orders go to.
    #[must_use]
    pub fn url(&self) -> &str {
        self.url.as_str()
    }
}

impl std::fmt::Debug for WebhookPos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookPos")
            .field("origin", &self.url.origin().ascii_serialization())
            .field("secret", &self.secret)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl PosAdapter for WebhookPos {
    async fn push(&self, order: &PosOrder) -> Result<Accepted, PosError> {
        order.check_totals()?;
        let timestamp = (self.clock)();
        let body =
            serde_json::to_vec(&body(order, timestamp)).map_err(|e| PosError::Permanent {
                status: None,
                message: format!("webhook: order {} cannot be serialised: {e}", order.id),
            })?;
        let signature = sign(self.secret.expose().as_bytes(), &body);
        let request = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, order.id.to_string())
            .header(SIGNATURE_HEADER, signature)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .body(body);
        let answer = send(
            request,
            &self.url,
            self.timeout,
            &format!("webhook: order {}", order.id),
        )
        .await?;
        Ok(Accepted {
            pos_ref: None,
            status: answer.status,
        })
    }

    fn kind(&self) -> &'static str {
        "webhook"
    }
}

/// The webhook body for `order`, signed at `timestamp`: `{"event", "timestamp", "order"}` with
/// every field `contracts/pos.md` lists, absent values as `null`.
#[must_use]
pub fn body(order: &PosOrder, timestamp: i64) -> Value {
    let items: Vec<Value> = order
        .items
        .iter()
        .map(|item| {
            json!({
                "sku": item.sku,
                "name": item.name,
                "size": item.size,
                "quantity": item.quantity,
                "modifiers": item.modifiers.iter().map(|m| json!({
                    "sku": m.sku,
                    "name": m.name,
                    "portion": m.portion,
                    "price_cents": m.price_cents,
                })).collect::<Vec<_>>(),
                "unit_price_cents": item.unit_price_cents,
                "line_total_cents": item.line_total_cents,
                "notes": item.notes,
            })
        })
        .collect();
    json!({
        "event": EVENT_ORDER_CONFIRMED,
        "timestamp": timestamp,
        "order": {
            "id": order.id,
            "store_id": order.store_id,
            "call_sid": order.call_sid,
            "customer_name": order.customer_name,
            "customer_phone": order.customer_phone,
            "fulfillment": order.fulfillment.as_str(),
            "delivery_address": order.delivery_address,
            "ready_at": order.ready_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "subtotal_cents": order.subtotal_cents,
            "tax_cents": order.tax_cents,
            "delivery_fee_cents": order.delivery_fee_cents,
            "total_cents": order.total_cents,
            "items": items,
        }
    })
}

/// Parses an http(s) URL from the store file; the message names the field, not the value (a
/// webhook URL may carry a token).
pub(crate) fn parse_http_url(url: &str, field: &str) -> Result<reqwest::Url, PosError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| PosError::config(format!("`{field}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(PosError::config(format!(
            "`{field}` must be an http or https URL with a host"
        )));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn body_is_exactly_the_contract() {
        let got = body(&fixtures::pickup(), 1_764_150_000);
        let want = json!({
            "event": "order.confirmed",
            "timestamp": 1_764_150_000,
            "order": {
                "id": "01920000-0000-7000-8000-000000000001",
                "store_id": "tonys-pizza",
                "call_sid": "CA0123456789abcdef0123456789abcdef",
                "customer_name": "Maria Lopez",
                "customer_phone": "+15551234567",
                "fulfillment": "pickup",
                "delivery_address": null,
                "ready_at": "2026-11-26T18:40:00Z",
                "subtotal_cents": 2297,
                "tax_cents": 201,
                "delivery_fee_cents": 0,
                "total_cents": 2498,
                "items": [
                    {
                        "sku": "pep", "name": "Pepperoni Pizza", "size": "large", "quantity": 1,
                        "modifiers": [{"sku": "xcheese", "name": "Extra cheese", "portion": "regular", "price_cents": 200}],
                        "unit_price_cents": 1899, "line_total_cents": 1899, "notes": "well done"
                    },
                    {
                        "sku": "dcoke", "name": "Diet Coke", "size": null, "quantity": 2,
                        "modifiers": [],
                        "unit_price_cents": 199, "line_total_cents": 398, "notes": null
                    }
                ]
            }
        });
        assert_eq!(got, want);
    }

    #[test]
    fn delivery_body() {
        let got = body(&fixtures::delivery(), 1);
        assert_eq!(got["order"]["fulfillment"], "delivery");
        assert_eq!(got["order"]["delivery_address"], "12 Elm St, Springfield");
        assert_eq!(got["order"]["delivery_fee_cents"], 350);
        assert_eq!(got["order"]["total_cents"], 2848);
        assert_eq!(got["order"]["call_sid"], Value::Null);
    }

    #[test]
    fn url_and_secret_are_checked() {
        let http = reqwest::Client::new();
        let secret = || Secret::new("s".to_owned());
        assert!(
            WebhookPos::new(
                "https://pos.example.com/kea?token=abc",
                secret(),
                http.clone()
            )
            .is_ok()
        );
        for bad in [
            "",
            "pos.example.com/kea",
            "mailto:x@example.com",
            "file:///etc/passwd",
        ] {
            let err = WebhookPos::new(bad, secret(), http.clone())
                .err()
                .unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(matches!(err, PosError::Config { .. }), "{err:?}");
        }
        let err = WebhookPos::new("https://pos.example.com", Secret::new(String::new()), http)
            .err()
            .unwrap_or_else(|| panic!("empty secret accepted"));
        assert!(err.to_string().contains("pos.secret"), "{err}");
    }

    #[test]
    fn debug_hides_the_secret() {
        let pos = WebhookPos::new(
            "https://pos.example.com",
            Secret::new("whsec_x".to_owned()),
            reqwest::Client::new(),
        );
        assert!(!format!("{pos:?}").contains("whsec_x"));
    }
}

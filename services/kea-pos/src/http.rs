//! The one HTTP exchange both adapters make: POST a JSON body, classify the answer.

use std::time::{Duration, Instant};

use crate::error::{PosError, from_reqwest, from_status};

/// The longest POS answer kea reads; a POS reply is a few kilobytes at most.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// At most this many error entries from a POS answer go into an error message.
const MAX_DETAILS: usize = 5;

/// A 2xx answer.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends `request` to `url` (already carrying its headers and body) with `timeout`, and turns
/// anything but a 2xx from `url` itself into a [`PosError`] described by `context` (e.g.
/// `square: order <id>`).
///
/// A client that follows redirects may turn the POST into a GET of another page whose 200 says
/// nothing about the order, so an answer from anywhere but `url` is a permanent failure: the
/// store file should name the final URL.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    url: &reqwest::Url,
    timeout: Duration,
    context: &str,
) -> Result<Answer, PosError> {
    let started = Instant::now();
    let result = request.timeout(timeout).send().await;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut response = match result {
        Ok(r) => r,
        Err(err) => {
            let err = from_reqwest(&err, context);
            tracing::debug!(duration_ms = elapsed_ms, error = %err, "POS request failed");
            return Err(err);
        }
    };
    let status = response.status().as_u16();
    if response.url() != url {
        return Err(PosError::Permanent {
            status: Some(status),
            message: format!(
                "{context}: the endpoint redirected elsewhere (HTTP {status} from the new \
                 location); put the final URL in the store file"
            ),
        });
    }
    let mut body = Vec::new();
    // Read the answer within the same timeout; a body cut short only loses detail.
    let read = tokio::time::timeout(timeout.saturating_sub(started.elapsed()), async {
        while let Ok(Some(chunk)) = response.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() >= MAX_RESPONSE_BYTES {
                break;
            }
        }
    })
    .await;
    tracing::debug!(
        http.status = status,
        duration_ms = elapsed_ms,
        "POS answered"
    );
    if (200..300).contains(&status) {
        if read.is_err() {
            // The POS accepted but we could not read its answer: the order is there, only the
            // POS reference is lost. Treat as accepted without a body rather than push again.
            body.clear();
        }
        Ok(Answer { status, body })
    } else {
        Err(from_status(status, context, &summarize_errors(&body)))
    }
}

/// Error codes and field names from a POS's error body, never values: Square's
/// `{"errors": [{"category", "code", "field", "detail"}]}` and Prism's problem+json
/// `{"validation": [{"location", "message"}]}`. Empty when the body is neither.
pub(crate) fn summarize_errors(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(errors) = value.get("errors").and_then(|e| e.as_array()) {
        for e in errors.iter().take(MAX_DETAILS) {
            let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("?");
            match e.get("field").and_then(|f| f.as_str()) {
                Some(field) => parts.push(format!("{code} ({field})")),
                None => parts.push(code.to_owned()),
            }
        }
    }
    if let Some(found) = value.get("validation").and_then(|v| v.as_array()) {
        for v in found.iter().take(MAX_DETAILS) {
            let location = v
                .get("location")
                .and_then(|l| l.as_array())
                .map(|l| {
                    l.iter()
                        .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .unwrap_or_default();
            // Prism's messages come from the schema ("must be string"), never from the values.
            let message = v
                .get("message")
                .and_then(|c| c.as_str())
                .unwrap_or("invalid");
            parts.push(format!("{location}: {message}"));
        }
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_keep_codes_and_fields_only() {
        let square = br#"{"errors":[{"category":"INVALID_REQUEST_ERROR","code":"INVALID_VALUE","field":"order.fulfillments[0].pickup_details.recipient.phone_number","detail":"+15551234567 is not a phone number"}]}"#;
        assert_eq!(
            summarize_errors(square),
            "INVALID_VALUE (order.fulfillments[0].pickup_details.recipient.phone_number)"
        );
        let prism = br#"{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","title":"Invalid request","status":422,"validation":[{"location":["body","order","line_items","0","quantity"],"severity":"Error","code":"type","message":"Request body property order.line_items.0.quantity must be string"}]}"#;
        assert_eq!(
            summarize_errors(prism),
            "body.order.line_items.0.quantity: Request body property order.line_items.0.quantity must be string"
        );
        assert_eq!(
            summarize_errors(b"<html>Maria Lopez +15551234567</html>"),
            ""
        );
        assert_eq!(summarize_errors(br#"{"customer":"Maria"}"#), "");
    }
}

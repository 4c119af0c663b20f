//! Twilio's webhooks: the voice call, its turns, status callbacks and the fallback URL.
//!
//! Every request must carry a valid `X-Twilio-Signature` for `public_url` + the path and query
//! Twilio requested ([`SignedForm`]); anything else gets 403 and nothing is recorded. Answers are
//! TwiML, and errors become TwiML too (an apology and a transfer to a person): a non-2xx answer
//! would make Twilio play its own error message to the caller.

pub mod live;
pub mod menus;
pub mod queue;
mod status;
mod voice;

use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Router, body::Bytes};

use crate::AppState;

/// The webhook routes, under `/twilio` (full paths rather than a nested router, which would
/// rebuild every webhook's URI without its prefix).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/twilio/voice", post(voice::incoming))
        .route("/twilio/voice/turn", post(voice::turn))
        .route("/twilio/status", post(status::call_status))
        .route("/twilio/sms/status", post(status::message_status))
        .route("/twilio/fallback", post(status::fallback))
        .route("/twilio/queue/wait", post(queue::wait))
        .route("/twilio/queue/leave", post(queue::leave))
        .route("/twilio/queue/choice", post(queue::choice))
}

/// A webhook's form, extracted only when Twilio's signature over it verifies, with its typed
/// request (`T`, e.g. [`kea_twilio::VoiceRequest`]) parsed once, here. A form `T` cannot be read
/// from is answered with the apology TwiML (no real Twilio request lacks what `T` needs).
#[derive(Debug)]
pub struct SignedForm<T = serde::de::IgnoredAny> {
    /// Every parameter, in the order sent (cleaned of control characters).
    pub params: Vec<(String, String)>,
    /// The typed request.
    pub request: T,
}

impl<T> SignedForm<T> {
    /// The value of parameter `name`, if it was sent.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for SignedForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let path_and_query = req
            .extensions()
            .get::<OriginalUri>()
            .map(|u| u.0.clone())
            .unwrap_or_else(|| req.uri().clone())
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_default();
        let signature = req
            .headers()
            .get(kea_twilio::SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let forbidden = || (StatusCode::FORBIDDEN, "invalid Twilio signature").into_response();
        let Some(signature) = signature else {
            tracing::warn!(http.path = %path_and_query, "webhook without X-Twilio-Signature refused");
            return Err(forbidden());
        };
        let params = kea_twilio::parse_form(&body).map_err(|_| forbidden())?;
        let url = format!("{}{}", state.config.public_url, path_and_query);
        if !kea_twilio::validate_signature(
            state.config.twilio_auth_token.expose(),
            &url,
            &params,
            &signature,
        ) {
            tracing::warn!(http.path = %path_and_query, "webhook with a wrong X-Twilio-Signature refused");
            return Err(forbidden());
        }
        // A correctly signed request from another Twilio account is still not ours.
        if let Some(ours) = state.config.twilio_account_sid.as_deref()
            && let Some((_, theirs)) = params.iter().find(|(k, _)| k == "AccountSid")
            && theirs != ours
        {
            tracing::warn!(http.path = %path_and_query, account = %theirs, "webhook for another Twilio account refused");
            return Err((StatusCode::FORBIDDEN, "not this Twilio account").into_response());
        }
        // What is stored and parsed is clean text: a NUL or another control character (which
        // PostgreSQL's JSON cannot hold, and no caller says) is dropped.
        let dirty = params
            .iter()
            .any(|(k, v)| k.chars().chain(v.chars()).any(unwanted));
        let (params, body) = if dirty {
            let params: Vec<(String, String)> = params
                .into_iter()
                .map(|(k, v)| (k.replace(unwanted, ""), v.replace(unwanted, "")))
                .collect();
            let body = Bytes::from(serde_urlencoded::to_string(&params).unwrap_or_default());
            (params, body)
        } else {
            (params, body)
        };
        match serde_urlencoded::from_bytes::<T>(&body) {
            Ok(request) => Ok(Self { params, request }),
            Err(e) => {
                tracing::error!(http.path = %path_and_query, error = %e, "signed webhook without the parameters it needs; apologising");
                Err(apology(state))
            }
        }
    }
}

/// What a caller hears when something failed on our side: an apology, then a person.
pub fn apology(state: &AppState) -> Response {
    twiml(
        kea_twilio::twiml::Response::new()
            .say(
                "Sorry, something went wrong on our side. Let me get someone to help you.",
                "en-US",
                None,
            )
            .push(queue::enqueue(state))
            .to_xml(),
    )
}

/// Characters no transcript or Twilio parameter should hold: control characters other than tab
/// and line breaks.
fn unwanted(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// A TwiML document as an HTTP response.
pub fn twiml(xml: String) -> Response {
    (
        [(header::CONTENT_TYPE, kea_twilio::twiml::CONTENT_TYPE)],
        xml,
    )
        .into_response()
}

//! Status callbacks and the fallback URL.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use kea_store::pipeline::SmsStatusRecord;

use super::{SignedForm, twiml};
use crate::AppState;

/// The call statuses Twilio reports (`CallStatus`).
const CALL_STATUSES: [&str; 8] = [
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
];

/// `POST /twilio/status`: the call's status changed. A call that ends without an outcome (the
/// caller hung up mid-order) is marked `abandoned`. Always 204: Twilio does not act on the answer.
pub async fn call_status(State(state): State<AppState>, form: SignedForm) -> Response {
    let (Some(sid), Some(status)) = (form.param("CallSid"), form.param("CallStatus")) else {
        tracing::warn!("status callback without CallSid or CallStatus ignored");
        return StatusCode::NO_CONTENT.into_response();
    };
    if !CALL_STATUSES.contains(&status) {
        tracing::warn!(call.sid = %sid, call.status = %status, "unknown CallStatus ignored");
        return StatusCode::NO_CONTENT.into_response();
    }
    let duration = form
        .param("CallDuration")
        .and_then(|d| d.parse::<i32>().ok());
    match kea_store::calls::record_status(&state.calls_db, sid, status, duration, &form.params)
        .await
    {
        Ok(true) => {
            tracing::info!(call.sid = %sid, call.status = %status, "call status recorded");
            // (A caller who hung up while waiting for a person needs nobody any more: the same
            // statement gave up on the transfer.)
            if kea_store::calls::is_final_status(status) {
                state.live_calls.forget(sid);
            }
        }
        Ok(false) => {
            tracing::warn!(call.sid = %sid, call.status = %status, "status callback for an unknown call")
        }
        Err(e) => {
            // Twilio retries on 5xx, which is what we want when the database hiccups.
            tracing::error!(call.sid = %sid, error = %e, "recording a call status failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /twilio/sms/status`: a message the server sent changed status; recorded on its
/// `sms_messages` row.
pub async fn message_status(State(state): State<AppState>, form: SignedForm) -> Response {
    let (Some(sid), Some(status)) = (form.param("MessageSid"), form.param("MessageStatus")) else {
        tracing::warn!("message status callback without MessageSid or MessageStatus");
        return StatusCode::BAD_REQUEST.into_response();
    };
    let error_code = form.param("ErrorCode").filter(|c| !c.is_empty());
    match kea_store::pipeline::record_sms_status(&state.db, sid, status, error_code).await {
        Ok(SmsStatusRecord::Recorded) => {
            tracing::info!(message.sid = %sid, message.status = %status, "message status recorded")
        }
        Ok(SmsStatusRecord::Early) => tracing::info!(
            message.sid = %sid,
            message.status = %status,
            "status for a message not recorded yet: kept until its sid is"
        ),
        Err(e) => {
            tracing::error!(message.sid = %sid, error = %e, "recording a message status failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /twilio/fallback`: Twilio could not use our answer (`ErrorCode`, `ErrorUrl`). Apologise
/// and hand the caller to a person.
pub async fn fallback(State(state): State<AppState>, form: SignedForm) -> Response {
    tracing::error!(
        call.sid = form.param("CallSid").unwrap_or(""),
        twilio.error_code = form.param("ErrorCode").unwrap_or(""),
        twilio.error_url = form.param("ErrorUrl").unwrap_or(""),
        "Twilio used the fallback URL; transferring the caller"
    );
    twiml(
        kea_twilio::twiml::Response::new()
            .say("Sorry, we're having trouble on our end. Let me connect you with someone who can help.", "en-US", None)
            .push(super::queue::enqueue(&state))
            .to_xml(),
    )
}

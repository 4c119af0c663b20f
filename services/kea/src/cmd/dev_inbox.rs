//! `kea dev`'s stand-in for Twilio's REST API, at `/dev/twilio` on the dev server: the workers'
//! real Twilio client sends texts to it (`POST /2010-04-01/Accounts/{sid}/Messages.json`, HTTP
//! Basic auth with the dev credentials), and it answers as Twilio does, prints each text, and then
//! reports the message `sent` and `delivered` to the text's status callback with a signed request,
//! as Twilio would. A call redirect (`Calls/{sid}.json`) is printed: a laptop has no live call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};

use super::dev_board::{Board, Text};

#[derive(Clone)]
struct Inbox {
    board: Board,
    account_sid: String,
    auth_token: String,
    /// Random per process, so message sids never repeat after a restart.
    process: u64,
    sent: Arc<AtomicU64>,
    http: reqwest::Client,
}

/// The base URL to give the Twilio client (`TWILIO_API_BASE`), for a dev server at `base`.
pub fn api_base(base: &str) -> String {
    format!("{}/dev/twilio", base.trim_end_matches('/'))
}

/// The routes to merge into the dev server; each text is also shown on `board`.
pub fn routes(account_sid: &str, auth_token: &str, board: Board) -> Router {
    Router::new()
        .route(
            "/dev/twilio/2010-04-01/Accounts/{account}/Messages.json",
            post(message),
        )
        .route(
            "/dev/twilio/2010-04-01/Accounts/{account}/Calls/{call}",
            post(call),
        )
        .with_state(Inbox {
            board,
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            process: rand::random::<u64>() & 0x00ff_ffff_ffff_ffff,
            sent: Arc::default(),
            http: reqwest::Client::new(),
        })
}

/// Whether the request carries the dev account's Basic credentials, as Twilio requires.
fn authorised(inbox: &Inbox, headers: &HeaderMap, account: &str) -> bool {
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", inbox.account_sid, inbox.auth_token));
    account == inbox.account_sid
        && headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == format!("Basic {expected}"))
}

fn unauthorised() -> (StatusCode, axum::Json<Value>) {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"code": 20003, "message": "Authenticate", "status": 401})),
    )
}

async fn message(
    State(inbox): State<Inbox>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, axum::Json<Value>) {
    if !authorised(&inbox, &headers, &account) {
        return unauthorised();
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (to, from, text, callback) = (get("To"), get("From"), get("Body"), get("StatusCallback"));
    if to.is_empty() || text.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"code": 21604, "message": "A 'To' phone number and a 'Body' are required.", "status": 400}),
            ),
        );
    }
    let n = inbox.sent.fetch_add(1, Ordering::Relaxed) + 1;
    let sid = format!("SMdev{:014x}{n:015}", inbox.process);
    tracing::info!(to = %to, from = %from, message.sid = %sid, "TEXT (kea dev inbox, not sent off this machine): {text}");
    inbox.board.text(Text {
        sid: sid.clone(),
        to: to.clone(),
        from: from.clone(),
        body: text.clone(),
        received_at: chrono::Utc::now(),
        status: "queued".to_owned(),
        callback_answer: None,
    });
    if !callback.is_empty() {
        tokio::spawn(report(
            inbox.clone(),
            callback,
            sid.clone(),
            to.clone(),
            from.clone(),
        ));
    }
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "sid": sid, "account_sid": inbox.account_sid, "to": to, "from": from, "body": text,
            "status": "queued", "direction": "outbound-api", "num_segments": "1", "num_media": "0",
        })),
    )
}

/// Reports the message `sent`, then `delivered`, to its status callback, signed as Twilio signs.
async fn report(inbox: Inbox, callback: String, sid: String, to: String, from: String) {
    for status in ["sent", "delivered"] {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let params: Vec<(String, String)> = [
            ("AccountSid", inbox.account_sid.as_str()),
            ("MessageSid", sid.as_str()),
            ("SmsSid", sid.as_str()),
            ("MessageStatus", status),
            ("SmsStatus", status),
            ("To", to.as_str()),
            ("From", from.as_str()),
            ("ApiVersion", "2010-04-01"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let signature = kea_twilio::compute_signature(&inbox.auth_token, &callback, &params);
        let sent = inbox
            .http
            .post(&callback)
            .header(kea_twilio::SIGNATURE_HEADER, signature)
            .form(&params)
            .send()
            .await;
        match sent {
            Ok(r) => {
                let answered = r.status().as_u16();
                tracing::info!(message.sid = %sid, status, answered, "text status reported (kea dev inbox)");
                inbox.board.text_status(&sid, status, Some(answered));
            }
            Err(e) => {
                tracing::warn!(message.sid = %sid, status, error = %e, "text status could not be reported");
                inbox.board.text_status(&sid, status, None);
            }
        }
    }
}

async fn call(
    State(inbox): State<Inbox>,
    Path((account, call)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, axum::Json<Value>) {
    if !authorised(&inbox, &headers, &account) {
        return unauthorised();
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let twiml = form
        .iter()
        .find(|(k, _)| k == "Twiml")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let sid = call.trim_end_matches(".json").to_owned();
    tracing::info!(call.sid = %sid, twiml, "call redirected (kea dev: there is no live call to redirect)");
    (
        StatusCode::OK,
        axum::Json(json!({"sid": sid, "status": "in-progress"})),
    )
}

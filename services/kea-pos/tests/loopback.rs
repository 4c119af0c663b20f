//! Both adapters over loopback, against a small local receiver that records each request and
//! answers with whatever the test queued (a status and body, optionally after a delay).

#![expect(clippy::unwrap_used, reason = "tests")]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use chrono::TimeZone as _;
use kea_menu::FulfillmentKind;
use kea_pos::{
    PosAdapter, PosError, PosItem, PosModifier, PosOrder, SquarePos, WebhookPos, sign, square,
    verify, webhook,
};
use kea_secrets::Secret;
use uuid::Uuid;

const SECRET: &str = "whsec_loopback_test";
const NOW: i64 = 1_764_150_000;

#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Recorded>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
}

/// A queued answer: status, delay before answering, body.
type Answer = (u16, Duration, &'static str);

/// What the receiver answers unless told otherwise; personal data, so a leak into an error shows.
const DEFAULT_BODY: &str = r#"{"error":"Maria Lopez +15551234567 not accepted"}"#;

impl Receiver {
    fn answer(&self, status: u16, delay: Duration) {
        self.answer_with(status, delay, DEFAULT_BODY);
    }

    fn answer_with(&self, status: u16, delay: Duration, body: &'static str) {
        self.answers
            .lock()
            .unwrap()
            .push_back((status, delay, body));
    }

    fn seen(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}

async fn receive(
    State(rx): State<Receiver>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    rx.seen.lock().unwrap().push(Recorded {
        method,
        uri,
        headers,
        body,
    });
    let (status, delay, body) =
        rx.answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or((200, Duration::ZERO, DEFAULT_BODY));
    tokio::time::sleep(delay).await;
    (StatusCode::from_u16(status).unwrap(), body)
}

async fn start() -> (Receiver, SocketAddr) {
    let rx = Receiver::default();
    let app = Router::new()
        .route(
            "/moved",
            axum::routing::post(|| async {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [("location", "/orders/new-home")],
                )
            }),
        )
        .fallback(receive)
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (rx, addr)
}

fn fixed_clock() -> i64 {
    NOW
}

fn adapter(addr: SocketAddr) -> WebhookPos {
    WebhookPos::new(
        &format!("http://{addr}/orders/kea?store=tonys"),
        Secret::new(SECRET.to_owned()),
        reqwest::Client::new(),
    )
    .unwrap()
    .with_clock(fixed_clock)
    .with_timeout(Duration::from_secs(5))
}

fn order() -> PosOrder {
    PosOrder {
        id: Uuid::parse_str("01920000-0000-7000-8000-0000000000aa").unwrap(),
        store_id: "tonys-pizza".to_owned(),
        call_sid: Some("CA0123456789abcdef0123456789abcdef".to_owned()),
        customer_name: "Maria Lopez".to_owned(),
        customer_phone: "+15551234567".to_owned(),
        fulfillment: FulfillmentKind::Delivery,
        delivery_address: Some("12 Elm St, Springfield".to_owned()),
        ready_at: chrono::Utc
            .with_ymd_and_hms(2026, 11, 26, 19, 5, 0)
            .single()
            .unwrap(),
        subtotal_cents: 2297,
        tax_cents: 201,
        delivery_fee_cents: 350,
        total_cents: 2848,
        prep_minutes: 25,
        items: vec![
            PosItem {
                sku: "pep".to_owned(),
                name: "Pepperoni Pizza".to_owned(),
                size: Some("large".to_owned()),
                quantity: 1,
                modifiers: vec![
                    PosModifier {
                        sku: "cheese".to_owned(),
                        name: "Extra Cheese".to_owned(),
                        portion: "extra".to_owned(),
                        price_cents: 200,
                    },
                    PosModifier {
                        sku: "onions".to_owned(),
                        name: "No Onions".to_owned(),
                        portion: "no".to_owned(),
                        price_cents: 0,
                    },
                ],
                unit_price_cents: 1899,
                line_total_cents: 1899,
                notes: None,
            },
            PosItem {
                sku: "dcoke".to_owned(),
                name: "Diet Coke".to_owned(),
                size: None,
                quantity: 2,
                modifiers: vec![],
                unit_price_cents: 199,
                line_total_cents: 398,
                notes: None,
            },
        ],
    }
}

fn header<'a>(r: &'a Recorded, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header in {:?}", r.headers))
}

/// Error messages must stay safe to log: no secret, no personal data, no response body.
fn assert_clean(err: &PosError) {
    let text = format!("{err} {err:?}");
    for leak in [SECRET, "Maria", "+1555", "Elm St", "not accepted"] {
        assert!(!text.contains(leak), "{leak:?} leaked into {text}");
    }
}

#[tokio::test]
async fn sends_exactly_the_contract() {
    let (rx, addr) = start().await;
    let accepted = adapter(addr).push(&order()).await.unwrap();
    assert_eq!(accepted.status, 200);
    assert_eq!(accepted.pos_ref, None);

    let seen = rx.seen();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, Method::POST);
    assert_eq!(r.uri.to_string(), "/orders/kea?store=tonys");
    assert_eq!(header(r, "content-type"), "application/json");
    assert_eq!(
        header(r, "idempotency-key"),
        "01920000-0000-7000-8000-0000000000aa"
    );
    assert_eq!(header(r, "x-kea-timestamp"), NOW.to_string());
    let signature = header(r, "x-kea-signature");
    assert_eq!(signature, sign(SECRET.as_bytes(), &r.body));
    assert!(verify(
        SECRET.as_bytes(),
        &r.body,
        signature,
        header(r, "x-kea-timestamp"),
        NOW + 5,
        300
    ));

    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body, webhook::body(&order(), NOW));
    assert_eq!(body["event"], "order.confirmed");
    assert_eq!(body["timestamp"], NOW);
    assert_eq!(body["order"]["id"], "01920000-0000-7000-8000-0000000000aa");
    assert_eq!(body["order"]["ready_at"], "2026-11-26T19:05:00Z");
    // Portions as the kitchen prints them, each with what it adds to the unit price.
    assert_eq!(
        body["order"]["items"][0]["modifiers"],
        serde_json::json!([
            {"sku": "cheese", "name": "Extra Cheese", "portion": "extra", "price_cents": 200},
            {"sku": "onions", "name": "No Onions", "portion": "no", "price_cents": 0},
        ])
    );
}

#[tokio::test]
async fn a_retry_sends_the_same_idempotency_key() {
    let (rx, addr) = start().await;
    rx.answer(500, Duration::ZERO);
    rx.answer(503, Duration::ZERO);
    let pos = adapter(addr);

    let err = pos.push(&order()).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.status(), Some(500));
    assert_clean(&err);
    let err = pos.push(&order()).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(pos.push(&order()).await.unwrap().status, 200);

    let keys: Vec<_> = rx
        .seen()
        .iter()
        .map(|r| header(r, "idempotency-key").to_owned())
        .collect();
    assert_eq!(keys, vec!["01920000-0000-7000-8000-0000000000aa"; 3]);
}

#[tokio::test]
async fn status_mapping_over_http() {
    let (rx, addr) = start().await;
    let pos = adapter(addr);
    for (status, transient) in [
        (422, false),
        (400, false),
        (401, false),
        (404, false),
        (408, true),
        (429, true),
        (500, true),
        (502, true),
    ] {
        rx.answer(status, Duration::ZERO);
        let err = pos.push(&order()).await.unwrap_err();
        assert_eq!(err.is_transient(), transient, "HTTP {status}: {err:?}");
        assert_eq!(err.status(), Some(status));
        match (&err, transient) {
            (PosError::Permanent { .. }, false) | (PosError::Transient { .. }, true) => {}
            _ => panic!("HTTP {status}: {err:?}"),
        }
        assert_clean(&err);
    }
    for status in [200, 201, 202, 204] {
        rx.answer(status, Duration::ZERO);
        assert_eq!(pos.push(&order()).await.unwrap().status, status);
    }
}

#[tokio::test]
async fn a_slow_endpoint_is_a_transient_timeout() {
    let (rx, addr) = start().await;
    rx.answer(200, Duration::from_secs(3));
    let pos = adapter(addr).with_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let err = pos.push(&order()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.status(), None);
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_clean(&err);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_transient() {
    // A port that was free a moment ago: nothing listens there now.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let err = adapter(addr).push(&order()).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(err.to_string().contains("could not connect"), "{err}");
    assert_clean(&err);
}

#[tokio::test]
async fn an_order_that_does_not_add_up_is_never_sent() {
    let (rx, addr) = start().await;
    let mut wrong = order();
    wrong.total_cents += 1;
    let err = adapter(addr).push(&wrong).await.unwrap_err();
    assert!(
        matches!(err, PosError::Permanent { status: None, .. }),
        "{err:?}"
    );
    assert!(rx.seen().is_empty());
}

#[tokio::test]
async fn square_sends_token_version_and_the_same_idempotency_key() {
    let (rx, addr) = start().await;
    rx.answer(503, Duration::ZERO);
    rx.answer_with(
        200,
        Duration::ZERO,
        r#"{"order":{"id":"sq-order-1","location_id":"L1"}}"#,
    );
    rx.answer(401, Duration::ZERO);
    let pos = SquarePos::new(
        "L1",
        Secret::new("EAAA-loopback-token".to_owned()),
        reqwest::Client::new(),
    )
    .unwrap()
    .with_base_url(&format!("http://{addr}/sandbox"))
    .unwrap();

    let err = pos.push(&order()).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_clean(&err);
    assert!(!err.to_string().contains("EAAA"), "{err}");
    let accepted = pos.push(&order()).await.unwrap();
    assert_eq!(accepted.pos_ref.as_deref(), Some("sq-order-1"));
    assert_eq!(accepted.status, 200);
    let err = pos.push(&order()).await.unwrap_err();
    assert!(
        matches!(
            err,
            PosError::Permanent {
                status: Some(401),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("EAAA"), "{err}");

    let seen = rx.seen();
    assert_eq!(seen.len(), 3);
    for r in &seen {
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.uri.path(), "/sandbox/v2/orders");
        assert_eq!(header(r, "authorization"), "Bearer EAAA-loopback-token");
        assert_eq!(header(r, "square-version"), square::SQUARE_VERSION);
        assert_eq!(header(r, "content-type"), "application/json");
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body, square::body(&order(), "L1").unwrap());
        assert_eq!(
            body["idempotency_key"],
            "01920000-0000-7000-8000-0000000000aa"
        );
    }
}

#[tokio::test]
async fn a_redirect_is_not_a_delivery() {
    let (rx, addr) = start().await;
    let pos = WebhookPos::new(
        &format!("http://{addr}/moved"),
        Secret::new(SECRET.to_owned()),
        reqwest::Client::new(),
    )
    .unwrap();
    let err = pos.push(&order()).await.unwrap_err();
    assert!(matches!(err, PosError::Permanent { .. }), "{err:?}");
    assert!(err.to_string().contains("redirected"), "{err}");
    assert_clean(&err);
    // reqwest followed the 307 (same method and body) to the receiver, which said 200.
    assert_eq!(rx.seen().len(), 1);
}

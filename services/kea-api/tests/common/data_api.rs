//! The data-API tests' fixture, shared by `data_api.rs` and `data_api_writes.rs`: two stores of
//! two merchants with calls, orders, workers and tasks, tokens for each role, requests in process
//! (axum `oneshot`) and direct SQL as the database owner.
#![allow(dead_code, reason = "each test file uses part of the fixture")]

pub use axum::body::Body;
pub use axum::http::{HeaderMap, Request, StatusCode};
pub use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
pub use kea_api::{AppState, router};
pub use kea_test_db::TestDb;
pub use serde_json::{Value, json};
pub use tower::ServiceExt;

pub const SECRET: &str = "data-api-test-secret-at-least-32-bytes";
pub const TONYS: &str = include_str!("../../../../tests/fixtures/stores/tonys-pizza.json");
pub const CASITA: &str = include_str!("../../../../tests/fixtures/stores/la-casita.json");

pub const CALL_A: &str = "CA0000000000000000000000000000000a"; // tony's, order placed
pub const CALL_B: &str = "CA0000000000000000000000000000000b"; // tony's, abandoned, no order
pub const CALL_C: &str = "CA0000000000000000000000000000000c"; // la casita, order placed
pub const ORDER_A: &str = "00000000-0000-4000-8000-00000000000a";
pub const ORDER_C: &str = "00000000-0000-4000-8000-00000000000c";
pub const WORKER_1: &str = "00000000-0000-4000-8000-0000000000f1";
pub const WORKER_2: &str = "00000000-0000-4000-8000-0000000000f2";
pub const TASK_1: &str = "00000000-0000-4000-8000-0000000000e1";
pub const TASK_2: &str = "00000000-0000-4000-8000-0000000000e2";

pub struct Fixture {
    pub db: TestDb,
    pub app: axum::Router,
    pub tonys_merchant: String,
    pub casita_merchant: String,
}

pub fn app_with(db: &TestDb, secret: Option<&str>) -> axum::Router {
    let config = super::common::config("http://127.0.0.1:8080", "t", secret);
    router(AppState::new(db.pool().clone(), config))
}

pub async fn fixture() -> Fixture {
    let db = TestDb::new().await;
    let mut tx = db.pool().begin().await.unwrap();
    for doc in [TONYS, CASITA] {
        kea_store::import_store(&mut tx, &kea_menu::Store::parse(doc).unwrap())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let statements = [
        format!(
            "INSERT INTO calls (call_sid, store_id, from_number, to_number, status, outcome, started_at, ended_at) VALUES
             ('{CALL_A}', 'tonys-pizza', '+15557654321', '+15550100001', 'completed', 'order_placed', '2026-11-20 18:00:00+00', '2026-11-20 18:03:00+00'),
             ('{CALL_B}', 'tonys-pizza', '+15557654322', '+15550100001', 'completed', 'abandoned', '2026-11-20 19:00:00+00', '2026-11-20 19:01:00+00'),
             ('{CALL_C}', 'la-casita', '+15557654323', '+15550100002', 'in-progress', NULL, '2026-11-20 20:00:00+00', NULL)"
        ),
        format!(
            "INSERT INTO call_events (call_sid, seq, kind, payload) VALUES
             ('{CALL_A}', 0, 'webhook', '{{\"CallStatus\": \"ringing\"}}'),
             ('{CALL_A}', 1, 'twiml', '{{\"say\": \"hi\"}}'),
             ('{CALL_A}', 2, 'state', '{{\"state\": \"done\"}}'),
             ('{CALL_C}', 0, 'webhook', '{{\"CallStatus\": \"ringing\"}}')"
        ),
        format!(
            "INSERT INTO orders (id, call_sid, store_id, status, customer_name, customer_phone, fulfillment,
                                 subtotal_cents, tax_cents, total_cents, confidence, created_at) VALUES
             ('{ORDER_A}', '{CALL_A}', 'tonys-pizza', 'confirmed', 'Ann', '+15557654321', 'pickup', 3000, 250, 3250, 0.9, '2026-11-20 18:03:00+00'),
             ('{ORDER_C}', '{CALL_C}', 'la-casita', 'pending_verification', NULL, '+15557654323', 'pickup', 1125, 100, 1225, NULL, '2026-11-20 20:02:00+00')"
        ),
        format!(
            "INSERT INTO order_items (order_id, line_no, store_id, sku, name, size, quantity, modifiers, unit_price_cents, line_total_cents, notes) VALUES
             ('{ORDER_A}', 1, 'tonys-pizza', 'pizza-cheese', 'Cheese Pizza', 'large', 2, '[\"extra-cheese\"]', 1000, 2000, 'crispy crust please'),
             ('{ORDER_A}', 2, 'tonys-pizza', 'pizza-pepperoni', 'Pepperoni Pizza', 'medium', 1, '[]', 1000, 1000, NULL),
             ('{ORDER_C}', 1, 'la-casita', 'taco-asada', 'Taco Asada', NULL, 3, '[]', 375, 1125, 'no onions')"
        ),
        format!(
            "INSERT INTO workers (id, name, attributes, activity) VALUES
             ('{WORKER_1}', 'Wanda', '{{\"languages\": [\"en-US\"]}}', 'available'),
             ('{WORKER_2}', 'Walt', '{{}}', 'offline')"
        ),
        format!(
            "INSERT INTO tasks (id, order_id, call_sid, store_id, kind, status, worker_id, priority) VALUES
             ('{TASK_1}', '{ORDER_C}', '{CALL_C}', 'la-casita', 'verify_order', 'assigned', '{WORKER_1}', 5),
             ('{TASK_2}', NULL, '{CALL_B}', 'tonys-pizza', 'callback', 'reserved', '{WORKER_2}', 1)"
        ),
    ];
    for s in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(s))
            .execute(db.pool())
            .await
            .unwrap();
    }
    let merchant = |store: &'static str| {
        let pool = db.pool().clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT merchant_id::text FROM stores WHERE id = $1")
                .bind(store)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let tonys_merchant = merchant("tonys-pizza").await;
    let casita_merchant = merchant("la-casita").await;
    let app = app_with(&db, Some(SECRET));
    Fixture {
        db,
        app,
        tonys_merchant,
        casita_merchant,
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn jwt(claims: Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

pub fn service() -> String {
    jwt(json!({"role": "service", "exp": now() + 300}))
}

pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    pub fn content_range(&self) -> &str {
        self.headers
            .get("content-range")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_owned()
    }
}

pub async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Res {
    send(app, method, path, token, headers, "").await
}

pub async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Res {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("/rest/v1{}", encode_uri(path)));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if !body.is_empty() {
        req = req.header("content-type", "application/json");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    Res {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

pub async fn get(app: &axum::Router, path: &str, token: &str) -> Res {
    call(app, "GET", path, Some(token), &[]).await
}

/// Percent-encodes what a client library would (quotes, braces, spaces, …), leaving `%` escapes.
pub fn encode_uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$'()*+,;:@/?&=%".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a direct SQL query (as the owner) returns, as JSON.
pub async fn sql(db: &TestDb, query: &str) -> Value {
    let text: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT coalesce(json_agg(t), '[]')::text FROM ({query}) t"
    )))
    .fetch_one(db.pool())
    .await
    .unwrap_or_else(|e| panic!("{query}: {e}"));
    serde_json::from_str(&text).unwrap()
}

impl Res {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

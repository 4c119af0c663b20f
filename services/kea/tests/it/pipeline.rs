//! The order pipeline as deployed: `kea worker` processes against PostgreSQL, a POS over
//! loopback that dedupes by `Idempotency-Key` as the contract asks merchants to, and a Twilio
//! stand-in. Fault tests: a worker killed with SIGKILL mid-push, and PostgreSQL restarted with
//! jobs queued and with the worker running.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use kea_test_db::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

use crate::kea;

/// A POS that records each order once per idempotency key and can hold its first answer back
/// (it has accepted the order but the worker does not know yet).
#[derive(Clone, Default)]
pub struct Pos {
    /// Every request's idempotency key, in arrival order.
    pub requests: Arc<Mutex<Vec<String>>>,
    /// The orders the POS holds, by idempotency key.
    pub orders: Arc<Mutex<BTreeMap<String, serde_json::Value>>>,
    /// Hold the answer to the first request this long.
    pub hold_first: Option<Duration>,
    /// Fail this many requests with 500 first (storing nothing), then accept.
    pub fail_first: usize,
    /// Refuse everything with 503 while set (a POS down until it is cleared).
    pub down: Arc<AtomicBool>,
}

async fn pos_receive(State(pos): State<Pos>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|k| k.to_str().ok())
        .map(str::to_owned)
    else {
        return StatusCode::BAD_REQUEST;
    };
    let (first, seen) = {
        let mut requests = pos.requests.lock().unwrap();
        requests.push(key.clone());
        (requests.len() == 1, requests.len())
    };
    let down = pos.down.load(Ordering::SeqCst);
    if down || seen <= pos.fail_first {
        return if down {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
    }
    let order: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    pos.orders.lock().unwrap().entry(key).or_insert(order);
    if let (true, Some(hold)) = (first, pos.hold_first) {
        tokio::time::sleep(hold).await;
    }
    StatusCode::OK
}

/// Twilio's Messages resource, enough for the worker: answers 201 with a message sid.
async fn twilio_messages(State(count): State<Arc<Mutex<u32>>>) -> (StatusCode, String) {
    let mut n = count.lock().unwrap();
    *n += 1;
    (
        StatusCode::CREATED,
        serde_json::json!({"sid": format!("SM{:032x}", *n), "status": "queued"}).to_string(),
    )
}

/// Starts the POS and the Twilio stand-in; returns their base URLs.
pub async fn start_peers(pos: Pos) -> (String, String, Arc<Mutex<u32>>) {
    let texts = Arc::new(Mutex::new(0));
    let pos_app = axum::Router::new()
        .route("/pos", post(pos_receive))
        .with_state(pos);
    let twilio_app = axum::Router::new()
        .route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            post(twilio_messages),
        )
        .with_state(texts.clone());
    let pos_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let twilio_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let pos_url = format!("http://{}/pos", pos_listener.local_addr().unwrap());
    let twilio_url = format!("http://{}", twilio_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(pos_listener, pos_app).await.unwrap() });
    tokio::spawn(async move { axum::serve(twilio_listener, twilio_app).await.unwrap() });
    (pos_url, twilio_url, texts)
}

/// Imports Tony's Pizza with its POS pointed at `pos_url`.
fn import_store(database_url: &str, pos_url: &str) {
    import_store_with_pos(
        database_url,
        serde_json::json!({"kind": "webhook", "url": pos_url, "secret": "whsec_faults"}),
    );
}

/// Imports the sample tonys-pizza with its `pos` section replaced by `pos`.
pub fn import_store_with_pos(database_url: &str, pos: serde_json::Value) {
    let mut doc: serde_json::Value = serde_json::from_str(&crate::fixture("tonys-pizza")).unwrap();
    doc["pos"] = pos;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tonys-pizza.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    crate::kea_ok(
        database_url,
        ["store".as_ref(), "import".as_ref(), path.as_os_str()],
    );
}

/// Waits until the POS has received a push (its answer may still be held back).
async fn wait_for_first_push(pos: &Pos) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while pos.requests.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the POS never got the push");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A `kea worker` process, stopped with SIGTERM when dropped.
pub struct Worker {
    child: Child,
}

impl Worker {
    pub fn start(database_url: &str, twilio_url: &str) -> Self {
        Self::start_with(database_url, twilio_url, &[])
    }

    /// [`Worker::start`] with more settings (`KEA_JOB_MAX_ATTEMPTS`, …).
    pub fn start_with(database_url: &str, twilio_url: &str, env: &[(&str, &str)]) -> Self {
        let child = kea()
            .arg("worker")
            .envs(env.iter().copied())
            .env("DATABASE_URL", database_url)
            .env("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
            .env("TWILIO_AUTH_TOKEN", "faults-token")
            .env("TWILIO_API_BASE", twilio_url)
            .env("KEA_JOB_HEARTBEAT_MS", "300")
            .env("KEA_JOB_MIN_BACKOFF_MS", "50")
            .env("KEA_JOB_MAX_BACKOFF_MS", "500")
            .env("KEA_POS_TIMEOUT_SECS", "60")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self { child }
    }

    /// SIGKILL: no shutdown, no chance to release its jobs.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        std::mem::forget(self);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).ok();
        self.child.wait().ok();
    }
}

/// Places an order as the dialog does (a call and a `pending_verification` order with its
/// lines, in one transaction): two cans of Coke, $3.98 + 8.75 % tax = $4.33.
async fn place_order(pool: &PgPool) -> Uuid {
    let call_sid = format!("CA{}", Uuid::new_v4().simple());
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO calls (call_sid, store_id, from_number, to_number)
         VALUES ($1, 'tonys-pizza', '+15551234567', '+15550100001')",
    )
    .bind(&call_sid)
    .execute(&mut *tx)
    .await
    .unwrap();
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO orders (call_sid, store_id, customer_name, customer_phone, fulfillment,
                             subtotal_cents, tax_cents, total_cents, confidence, ready_at)
         VALUES ($1, 'tonys-pizza', 'Dana', '+15551234567', 'pickup', 398, 35, 433, 0.97,
                 now() + interval '20 minutes')
         RETURNING id",
    )
    .bind(&call_sid)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO order_items (order_id, line_no, store_id, sku, name, quantity,
                                  unit_price_cents, line_total_cents)
         VALUES ($1, 1, 'tonys-pizza', 'coke-can', 'Coke', 2, 199, 398)",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn status(pool: &PgPool, id: Uuid) -> Option<String> {
    sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .ok()
}

async fn wait_until_sent(pool: &PgPool, ids: &[Uuid], seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    for id in ids {
        loop {
            let s = status(pool, *id).await;
            if s.as_deref() == Some("sent_to_pos") {
                break;
            }
            if Instant::now() >= deadline {
                let jobs: Vec<String> = sqlx::query_scalar(
                    "SELECT row_to_json(j)::text FROM (
                         SELECT job_type, status, attempts, lock_by, last_result FROM apalis.jobs
                         WHERE idempotency_key = $1 ORDER BY run_at) j",
                )
                .bind(id.to_string())
                .fetch_all(pool)
                .await
                .unwrap_or_default();
                panic!("order {id} is {s:?}, never sent_to_pos; its jobs: {jobs:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn a_worker_killed_mid_push_resumes_without_a_second_order_at_the_pos() {
    let db = TestDb::new().await;
    let pos = Pos {
        hold_first: Some(Duration::from_secs(120)),
        ..Pos::default()
    };
    let (pos_url, twilio_url, texts) = start_peers(pos.clone()).await;
    import_store(db.url(), &pos_url);
    let worker = Worker::start(db.url(), &twilio_url);
    let id = place_order(db.pool()).await;

    // The POS has accepted the order; its answer is held back. Kill the worker now.
    wait_for_first_push(&pos).await;
    worker.kill9();
    assert_eq!(status(db.pool(), id).await.as_deref(), Some("confirmed"));

    // A new worker finds the dead one's job once it has missed its heartbeats, and pushes again.
    let _worker = Worker::start(db.url(), &twilio_url);
    wait_until_sent(db.pool(), &[id], 30).await;
    let requests = pos.requests.lock().unwrap().clone();
    assert!(requests.len() >= 2, "the push was retried: {requests:?}");
    assert!(
        requests.iter().all(|k| *k == id.to_string()),
        "every attempt carries the order id as its key: {requests:?}"
    );
    assert_eq!(pos.orders.lock().unwrap().len(), 1, "one order at the POS");
    let deadline = Instant::now() + Duration::from_secs(10);
    while *texts.lock().unwrap() == 0 {
        assert!(Instant::now() < deadline, "no receipt texted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn postgres_restarting_loses_no_queued_job() {
    let dir = tempfile::tempdir().unwrap();
    // A cluster of its own: restarting the shared test cluster would break the other tests.
    let (mut cluster, url) = crate::own_cluster(dir.path(), 55700).await;

    let pos = Pos::default();
    let (pos_url, twilio_url, _texts) = start_peers(pos.clone()).await;
    import_store(&url, &pos_url);

    let restart = |mut c: kea_store::dev_cluster::DevCluster| async move {
        tokio::task::spawn_blocking(move || {
            c.stop().unwrap();
            c.start().unwrap();
            c
        })
        .await
        .unwrap()
    };

    // Queued while no worker runs, then PostgreSQL restarts.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(place_order(&pool).await);
    }
    pool.close().await;
    cluster = restart(cluster).await;

    let worker = Worker::start(&url, &twilio_url);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .unwrap();
    wait_until_sent(&pool, &ids, 30).await;

    // And restarted again under a running worker, with new orders before and after.
    ids.push(place_order(&pool).await);
    pool.close().await;
    cluster = restart(cluster).await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .unwrap();
    ids.push(place_order(&pool).await);
    wait_until_sent(&pool, &ids, 60).await;

    let keys: BTreeSet<String> = pos.requests.lock().unwrap().iter().cloned().collect();
    let want: BTreeSet<String> = ids.iter().map(Uuid::to_string).collect();
    assert_eq!(keys, want, "every order reached the POS");
    assert_eq!(pos.orders.lock().unwrap().len(), ids.len());
    pool.close().await;
    drop(worker);
    tokio::task::spawn_blocking(move || cluster.stop().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn sigterm_lets_the_push_in_flight_finish_before_the_worker_exits() {
    let db = TestDb::new().await;
    let pos = Pos {
        hold_first: Some(Duration::from_secs(2)),
        ..Pos::default()
    };
    let (pos_url, twilio_url, _texts) = start_peers(pos.clone()).await;
    import_store(db.url(), &pos_url);
    let mut worker = Worker::start(db.url(), &twilio_url);
    let id = place_order(db.pool()).await;
    wait_for_first_push(&pos).await;
    let pid = nix::unistd::Pid::from_raw(worker.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let exit = tokio::task::spawn_blocking(move || {
        let status = worker.child.wait().unwrap();
        std::mem::forget(worker);
        status
    })
    .await
    .unwrap();
    assert!(exit.success(), "kea worker exited with {exit}");
    assert_eq!(
        status(db.pool(), id).await.as_deref(),
        Some("sent_to_pos"),
        "the push in flight was finished and recorded"
    );
    assert_eq!(pos.requests.lock().unwrap().len(), 1);
}

/// A POS that checks each request's signature with `secret`, answering 401 when it does not verify.
async fn start_verifying_pos(secret: &'static str) -> (String, Arc<Mutex<Vec<bool>>>) {
    let verdicts: Arc<Mutex<Vec<bool>>> = Arc::default();
    let seen = verdicts.clone();
    let app = axum::Router::new().route(
        "/pos",
        post(move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                let ok = kea_pos::verify(
                    secret.as_bytes(),
                    &body,
                    &header("x-kea-signature"),
                    &header("x-kea-timestamp"),
                    now,
                    300,
                );
                seen.lock().unwrap().push(ok);
                if ok {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/pos", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, verdicts)
}

#[tokio::test]
async fn a_pos_secret_in_vault_is_resolved_when_the_order_is_pushed() {
    let Some(bao) = kea_test_bao::DevServer::start().await else {
        return;
    };
    const SECRET: &str = "whsec_from_vault_5b1e";
    // kea's own credentials and the store's webhook secret, in Vault only.
    bao.put(
        "kea",
        serde_json::json!({
            "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
            "TWILIO_AUTH_TOKEN": "vault-token"
        }),
    )
    .await;
    bao.put("pos/tonys", serde_json::json!({"webhook_secret": SECRET}))
        .await;
    let db = TestDb::new().await;
    let (pos_url, verdicts) = start_verifying_pos(SECRET).await;
    let (_, twilio_url, texts) = start_peers(Pos::default()).await;

    import_store_with_pos(
        db.url(),
        serde_json::json!({
            "kind": "webhook", "url": pos_url, "secret": "vault:secret/pos/tonys#webhook_secret"
        }),
    );
    let stored: String =
        sqlx::query_scalar("SELECT document::text FROM stores WHERE id = 'tonys-pizza'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(
        !stored.contains(SECRET),
        "the secret itself is never stored"
    );

    let child = kea()
        .arg("worker")
        .env("DATABASE_URL", db.url())
        .env("VAULT_ADDR", bao.addr())
        .env("VAULT_TOKEN", bao.root_token())
        .env("TWILIO_API_BASE", &twilio_url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _worker = Worker { child };
    let id = place_order(db.pool()).await;
    wait_until_sent(db.pool(), &[id], 30).await;
    assert_eq!(
        *verdicts.lock().unwrap(),
        [true],
        "signed with the secret from Vault"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while *texts.lock().unwrap() == 0 {
        assert!(
            Instant::now() < deadline,
            "no receipt: Twilio credentials from Vault"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_pos_answering_500_three_times_then_200_gets_the_order_once() {
    let db = TestDb::new().await;
    let pos = Pos {
        fail_first: 3,
        ..Pos::default()
    };
    let (pos_url, twilio_url, texts) = start_peers(pos.clone()).await;
    import_store(db.url(), &pos_url);
    let _worker = Worker::start(db.url(), &twilio_url);
    let id = place_order(db.pool()).await;
    wait_until_sent(db.pool(), &[id], 30).await;
    let requests = pos.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 4, "three 500s, then the 200: {requests:?}");
    assert!(
        requests.iter().all(|k| *k == id.to_string()),
        "{requests:?}"
    );
    assert_eq!(pos.orders.lock().unwrap().len(), 1, "one order at the POS");
    let deadline = Instant::now() + Duration::from_secs(10);
    while *texts.lock().unwrap() != 1 {
        assert!(Instant::now() < deadline, "no receipt");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_pos_down_for_good_fails_the_order_with_a_task_and_a_text() {
    let db = TestDb::new().await;
    let pos = Pos {
        down: Arc::new(AtomicBool::new(true)),
        ..Pos::default()
    };
    let (pos_url, twilio_url, texts) = start_peers(pos.clone()).await;
    import_store(db.url(), &pos_url);
    let _worker = Worker::start(db.url(), &twilio_url);
    let id = place_order(db.pool()).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while status(db.pool(), id).await.as_deref() != Some("pos_failed") {
        assert!(Instant::now() < deadline, "never pos_failed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // KEA_JOB_MAX_ATTEMPTS is 8 by default: that many tries, then a person takes over.
    assert_eq!(pos.requests.lock().unwrap().len(), 8);
    let task: (String, String) =
        sqlx::query_as("SELECT kind, status FROM tasks WHERE order_id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(task, ("callback".to_owned(), "pending".to_owned()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while *texts.lock().unwrap() != 1 {
        assert!(Instant::now() < deadline, "the caller was not told");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kind: String = sqlx::query_scalar("SELECT kind FROM sms_messages WHERE order_id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(kind, "order_problem");
}

/// The worker's job kinds share one listener for queued jobs (with apalis's own, each kind held
/// a connection for good, and a worker with fewer than eight stalled with every job queued).
#[tokio::test]
async fn a_worker_with_four_database_connections_still_sends_every_order() {
    let db = TestDb::new().await;
    let pos = Pos::default();
    let (pos_url, twilio_url, texts) = start_peers(pos.clone()).await;
    import_store(db.url(), &pos_url);
    let _worker = Worker::start_with(db.url(), &twilio_url, &[("KEA_DB_MAX_CONNECTIONS", "4")]);
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(place_order(db.pool()).await);
    }
    wait_until_sent(db.pool(), &ids, 30).await;
    assert_eq!(
        pos.orders.lock().unwrap().len(),
        6,
        "each order once at the POS"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while *texts.lock().unwrap() != 6 {
        assert!(Instant::now() < deadline, "not every receipt was sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

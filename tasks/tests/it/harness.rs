//! A test pipeline: database, store, scripted POS, mock Twilio and running workers.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use kea_menu::{FulfillmentKind, OrderLine, Store, price_order};
use kea_store::calls::{NewOrder, NewOrderItem};
use kea_tasks::{RetrySettings, TaskEnv, WorkerSettings};
use kea_test_db::TestDb;
use kea_twilio::mock::MockTwilio;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

pub const POS_SECRET: &str = "whsec_pipeline_test";

/// One request the POS received.
#[derive(Debug, Clone)]
pub struct PosHit {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub answered: u16,
}

/// A POS that answers with the scripted statuses in turn (the last one from then on).
#[derive(Clone, Default)]
pub struct ScriptedPos {
    script: Arc<Mutex<VecDeque<u16>>>,
    pub hits: Arc<Mutex<Vec<PosHit>>>,
}

impl ScriptedPos {
    pub fn hits(&self) -> Vec<PosHit> {
        self.hits.lock().unwrap().clone()
    }
}

async fn receive(State(pos): State<ScriptedPos>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = {
        let mut script = pos.script.lock().unwrap();
        if script.len() > 1 {
            script.pop_front().unwrap()
        } else {
            script.front().copied().unwrap_or(200)
        }
    };
    pos.hits.lock().unwrap().push(PosHit {
        headers,
        body,
        answered: status,
    });
    StatusCode::from_u16(status).unwrap()
}

async fn start_pos(script: &[u16]) -> (ScriptedPos, SocketAddr) {
    let pos = ScriptedPos {
        script: Arc::new(Mutex::new(script.iter().copied().collect())),
        hits: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/pos", post(receive))
        .with_state(pos.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (pos, addr)
}

/// Options for a [`Pipeline`].
pub struct Setup {
    /// Statuses the POS answers with, in turn.
    pub pos_script: Vec<u16>,
    /// Point the store at a port nobody listens on instead.
    pub pos_down: bool,
    /// `verification_policy` in the store file.
    pub policy: Option<&'static str>,
    /// Attempts per job.
    pub max_attempts: usize,
    /// Start the workers now.
    pub start_workers: bool,
    /// The entity model `extract_order` asks for a second opinion.
    pub entity_model: Option<Arc<dyn kea_tasks::EntityModel>>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            pos_script: vec![200],
            pos_down: false,
            policy: None,
            max_attempts: 4,
            start_workers: true,
            entity_model: None,
        }
    }
}

pub struct Pipeline {
    pub db: TestDb,
    pub store: Store,
    pub pos: ScriptedPos,
    pub twilio: Arc<MockTwilio>,
    settings: WorkerSettings,
    env: TaskEnv,
    stop: Option<oneshot::Sender<()>>,
    worker: Option<tokio::task::JoinHandle<Result<(), kea_tasks::WorkerError>>>,
}

impl Pipeline {
    pub async fn new(setup: Setup) -> Self {
        let db = TestDb::new().await;
        let (pos, addr) = start_pos(&setup.pos_script).await;
        let url = if setup.pos_down {
            // Bound then dropped: nothing listens there.
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            drop(l);
            format!("http://127.0.0.1:{port}/pos")
        } else {
            format!("http://{addr}/pos")
        };
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/stores/tonys-pizza.json"
        );
        let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        doc["pos"] = json!({"kind": "webhook", "url": url, "secret": POS_SECRET});
        if let Some(policy) = setup.policy {
            doc["verification_policy"] = json!(policy);
        }
        let store = Store::from_json(&doc).unwrap();
        let mut tx = db.pool().begin().await.unwrap();
        kea_store::import_store(&mut tx, &store).await.unwrap();
        tx.commit().await.unwrap();

        let twilio = Arc::new(MockTwilio::new());
        let env = TaskEnv {
            db: db.pool().clone(),
            orders_db: kea_store::direct::DirectPool::beside(db.pool()),
            secrets: Arc::new(kea_secrets::EnvSecrets::new(Vec::<(String, String)>::new())),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .unwrap(),
            twilio: twilio.clone(),
            public_url: Some("https://kea.example".to_owned()),
            pos_max_attempts: setup.max_attempts,
            entity_model: setup.entity_model.clone(),
            stores: kea_tasks::StoreCache::default(),
        };
        let mut settings = WorkerSettings::new(format!("test-{}", Uuid::new_v4()));
        settings.retry = RetrySettings {
            max_attempts: setup.max_attempts,
            min_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
        };
        settings.heartbeat = Duration::from_millis(300);
        settings.shutdown_timeout = Duration::from_secs(5);
        let mut p = Self {
            db,
            store,
            pos,
            twilio,
            settings,
            env,
            stop: None,
            worker: None,
        };
        if setup.start_workers {
            p.start_workers();
        }
        p
    }

    pub fn start_workers(&mut self) {
        let (tx, rx) = oneshot::channel();
        let env = self.env.clone();
        let settings = self.settings.clone();
        self.worker = Some(tokio::spawn(kea_tasks::run(env, settings, async move {
            let _ = rx.await;
        })));
        self.stop = Some(tx);
    }

    /// Stops the workers and waits for them to finish.
    pub async fn stop_workers(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(worker) = self.worker.take() {
            tokio::time::timeout(Duration::from_secs(20), worker)
                .await
                .expect("workers stop within 20 s")
                .unwrap()
                .unwrap();
        }
    }

    /// Places an order as the dialog does (a call, then the order in one transaction) with
    /// `confidence`; returns its id.
    pub async fn place_order(&self, confidence: f32) -> Uuid {
        self.place_order_after(confidence, &[]).await
    }

    /// [`Pipeline::place_order`] on a call where the caller said `said`, turn by turn (as
    /// webhook events with a `SpeechResult`, the way the call path records them).
    pub async fn place_order_after(&self, confidence: f32, said: &[&str]) -> Uuid {
        let call_sid = format!("CA{}", Uuid::new_v4().simple());
        let lines = vec![
            OrderLine {
                sku: "pizza-pepperoni".to_owned(),
                size: Some("large".to_owned()),
                quantity: 1,
                modifiers: vec!["extra-cheese".to_owned()],
            },
            OrderLine {
                sku: "coke-can".to_owned(),
                size: None,
                quantity: 2,
                modifiers: vec![],
            },
        ];
        let price = price_order(&self.store, &lines, FulfillmentKind::Pickup).unwrap();
        let mut tx = self.db.pool().begin().await.unwrap();
        sqlx::query(
            "INSERT INTO calls (call_sid, store_id, from_number, to_number, next_event_seq)
             VALUES ($1, $2, '+15551234567', $3, $4)",
        )
        .bind(&call_sid)
        .bind(&self.store.id)
        .bind(&self.store.phone)
        .bind(i32::try_from(said.len()).unwrap())
        .execute(&mut *tx)
        .await
        .unwrap();
        for (seq, text) in said.iter().enumerate() {
            sqlx::query(
                "INSERT INTO call_events (call_sid, seq, kind, payload) VALUES ($1, $2, 'webhook', $3)",
            )
            .bind(&call_sid)
            .bind(i32::try_from(seq).unwrap())
            .bind(json!({"CallSid": call_sid, "SpeechResult": text, "Confidence": "0.93"}))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        let items = lines
            .iter()
            .zip(&price.lines)
            .map(|(l, p)| NewOrderItem {
                sku: &l.sku,
                name: &self.store.menu.item(&l.sku).unwrap().name,
                size: l.size.as_deref(),
                quantity: l.quantity as i32,
                modifiers: l.modifiers.iter().map(String::as_str).collect(),
                unit_price_cents: p.unit_price_cents,
                line_total_cents: p.line_total_cents,
            })
            .collect();
        let id = kea_store::calls::insert_order(
            &mut tx,
            &NewOrder {
                call_sid: &call_sid,
                store_id: &self.store.id,
                status: kea_store::pipeline::OrderStatus::PendingVerification,
                customer_name: "Dana",
                customer_phone: "+15551234567",
                fulfillment: "pickup",
                delivery_address: None,
                subtotal_cents: price.subtotal_cents,
                tax_cents: price.tax_cents,
                delivery_fee_cents: price.delivery_fee_cents,
                total_cents: price.total_cents,
                confidence,
                ready_at: chrono::Utc::now() + chrono::Duration::minutes(20),
                items,
            },
            Uuid::new_v4(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    }

    pub async fn status(&self, id: Uuid) -> String {
        sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// Waits (up to 20 s) until `check` holds, panicking with `what` otherwise.
    pub async fn wait_for<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for {what}");
    }

    pub async fn wait_for_status(&self, id: Uuid, want: &str) {
        let start = Instant::now();
        loop {
            let status = self.status(id).await;
            if status == want {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "order {id} is {status:?}, never became {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The jobs for this order, as `(job_type, status, attempts)`.
    pub async fn jobs(&self, id: Uuid) -> Vec<(String, String, i32)> {
        sqlx::query_as(
            "SELECT job_type, status, attempts FROM apalis.jobs
             WHERE idempotency_key = $1 ORDER BY job_type",
        )
        .bind(id.to_string())
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }

    /// Tasks for the order, as `(kind, status, reason)`.
    pub async fn tasks(&self, id: Uuid) -> Vec<(String, String, Option<String>)> {
        sqlx::query_as("SELECT kind, status, reason FROM tasks WHERE order_id = $1 ORDER BY kind")
            .bind(id)
            .fetch_all(self.db.pool())
            .await
            .unwrap()
    }

    pub async fn total(&self, id: Uuid) -> i64 {
        sqlx::query_scalar("SELECT total_cents FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }
}

/// "$12.34".
pub fn dollars(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// An entity model that labels by a fixed list of phrases: a stand-in for kea-ner's BERT model
/// (tested with the real model in the `kea` crate), so these tests check the job around it.
pub struct PhraseModel(pub Vec<(&'static str, &'static str)>);

impl kea_tasks::EntityModel for PhraseModel {
    fn entities(&self, texts: &[String]) -> Result<Vec<Vec<kea_ner::data::Span>>, String> {
        Ok(texts
            .iter()
            .map(|text| {
                let lower = text.to_lowercase();
                let mut spans: Vec<kea_ner::data::Span> = self
                    .0
                    .iter()
                    .filter_map(|(phrase, label)| {
                        let start = lower.find(phrase)?;
                        Some(kea_ner::data::Span {
                            start,
                            end: start + phrase.len(),
                            label: (*label).to_owned(),
                        })
                    })
                    .collect();
                spans.sort_by_key(|s| s.start);
                spans
            })
            .collect())
    }

    fn describe(&self) -> String {
        "phrase list (test)".to_owned()
    }
}

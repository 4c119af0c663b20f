//! What the order pipeline (kea-tasks) reads and writes.
//!
//! Every status change here is conditional on the status it expects to find, so a job that runs
//! twice (a retry, a worker that died after its commit) changes nothing the second time. The jobs
//! that follow a change are queued by the `orders_enqueue` trigger in the same transaction
//! (migration `…04_pipeline.sql`), never by the caller.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;
use crate::direct::RunStatement;

/// Where an order is (`orders.status`, whose type, the domain `order_status`, lists the same
/// values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed; waiting for `extract_order` and `decide_order`, or for an agent.
    PendingVerification,
    /// Decided; waiting for the POS push.
    Confirmed,
    /// The POS has it.
    SentToPos,
    /// The POS kept refusing it; an agent phones the store.
    PosFailed,
    /// An agent rejected it; the caller is told why.
    Rejected,
    /// Cancelled (by the merchant or the caller).
    Cancelled,
}

impl OrderStatus {
    /// Every status, in the pipeline's order.
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::PendingVerification,
        OrderStatus::Confirmed,
        OrderStatus::SentToPos,
        OrderStatus::PosFailed,
        OrderStatus::Rejected,
        OrderStatus::Cancelled,
    ];

    /// As `orders.status` stores it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingVerification => "pending_verification",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::SentToPos => "sent_to_pos",
            OrderStatus::PosFailed => "pos_failed",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for OrderStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not an order status"))
    }
}

// Text on the wire. Written by hand rather than derived: a derived text enum matches its column's
// type by name, and `orders.status` is the domain `order_status` over text, which `&str` (compared
// by base type) accepts.
impl sqlx::Type<sqlx::Postgres> for OrderStatus {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <&str as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for OrderStatus {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for OrderStatus {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(<&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?.parse()?)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order as the pipeline sees it: the row and its lines. Its store is read apart, by version
/// ([`OrderRow::store_updated_at`]), so a process parses each store once, not once per job.
#[derive(Debug, Clone)]
pub struct PipelineOrder {
    /// The order row.
    pub order: OrderRow,
    /// Its lines, in the order the caller gave them.
    pub items: Vec<OrderItemRow>,
}

/// One row of `orders`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    /// The order id; also the idempotency key at the POS.
    pub id: Uuid,
    /// The call that placed it.
    pub call_sid: Option<String>,
    /// The store.
    pub store_id: String,
    /// Where the order is in the pipeline.
    pub status: OrderStatus,
    /// The name the caller gave.
    pub customer_name: Option<String>,
    /// E.164.
    pub customer_phone: Option<String>,
    /// `pickup` or `delivery`.
    pub fulfillment: String,
    /// For deliveries.
    pub delivery_address: Option<String>,
    /// Sum of the lines.
    pub subtotal_cents: i64,
    /// Tax on the subtotal.
    pub tax_cents: i64,
    /// Delivery fee (0 for pickup).
    pub delivery_fee_cents: i64,
    /// What the caller pays.
    pub total_cents: i64,
    /// How sure the dialog was, 0..1.
    pub confidence: Option<f32>,
    /// When it will be ready.
    pub ready_at: Option<DateTime<Utc>>,
    /// When the order was placed.
    pub created_at: DateTime<Utc>,
    /// When the call that placed it ended, if it has.
    pub call_ended_at: Option<DateTime<Utc>>,
    /// The language the call was in (BCP 47), for texts to the caller.
    pub language: String,
    /// What the agent who rejected the order said to the caller.
    pub rejection_reason: Option<String>,
    /// When the order's store was last changed: the version of its document to use.
    pub store_updated_at: DateTime<Utc>,
}

/// One row of `order_items`.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct OrderItemRow {
    /// 1-based position.
    pub line_no: i32,
    /// Menu sku.
    pub sku: String,
    /// Name as ordered.
    pub name: String,
    /// Size, for items with sizes.
    pub size: Option<String>,
    /// How many.
    pub quantity: i32,
    /// Option skus (JSON array of strings).
    pub modifiers: Value,
    /// Price of one, options included.
    pub unit_price_cents: i64,
    /// unit × quantity.
    pub line_total_cents: i64,
    /// Free text.
    pub notes: Option<String>,
}

/// Loads an order with its lines, in one statement; `None` if there is no such order.
pub async fn load_order(
    db: &impl RunStatement,
    id: Uuid,
) -> Result<Option<PipelineOrder>, StoreError> {
    let statement = sqlx::query_as(
        "SELECT o.id, o.call_sid, o.store_id, o.status, o.customer_name, o.customer_phone,
                o.fulfillment, o.delivery_address, o.subtotal_cents, o.tax_cents,
                o.delivery_fee_cents, o.total_cents, o.confidence, o.ready_at, o.created_at,
                c.ended_at AS call_ended_at, coalesce(c.language, 'en-US') AS language,
                o.rejection_reason, s.updated_at AS store_updated_at,
                coalesce((SELECT json_agg(i ORDER BY i.line_no)
                            FROM (SELECT line_no, sku, name, size, quantity, modifiers,
                                         unit_price_cents, line_total_cents, notes
                                    FROM order_items WHERE order_id = o.id) i),
                         '[]') AS items
         FROM orders o
         JOIN stores s ON s.id = o.store_id
         LEFT JOIN calls c ON c.call_sid = o.call_sid
         WHERE o.id = $1",
    )
    .bind(id);
    let found: Option<OrderRowWithItems> = db.fetch_optional(statement).await?;
    Ok(found.map(|f| PipelineOrder {
        order: f.order,
        items: f.items.0,
    }))
}

/// An order row with its lines as JSON (what [`load_order`] reads).
#[derive(sqlx::FromRow)]
struct OrderRowWithItems {
    #[sqlx(flatten)]
    order: OrderRow,
    items: sqlx::types::Json<Vec<OrderItemRow>>,
}

/// What the caller said on the order's call, turn by turn (each webhook's `SpeechResult`), for
/// the entity model's second reading.
pub async fn caller_turns(pool: &PgPool, call_sid: &str) -> Result<Vec<String>, StoreError> {
    let turns: Vec<String> = sqlx::query_scalar(
        "SELECT btrim(payload->>'SpeechResult') FROM call_events
          WHERE call_sid = $1 AND kind = 'webhook'
            AND coalesce(btrim(payload->>'SpeechResult'), '') <> ''
          ORDER BY seq",
    )
    .bind(call_sid)
    .fetch_all(pool)
    .await?;
    Ok(turns)
}

/// Records the entity model's second opinion on an order (`orders.second_opinion`).
pub async fn record_second_opinion(
    pool: &PgPool,
    id: Uuid,
    opinion: &Value,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE orders SET second_opinion = $2 WHERE id = $1")
        .bind(id)
        .bind(opinion)
        .execute(pool)
        .await?;
    Ok(())
}

/// `pending_verification` → `confirmed`, by a job that goes on to push the order itself (no
/// push job is queued for it: `kea.pipeline_inline`). False if the order was not pending
/// (already decided, or cancelled).
pub async fn confirm_order(db: &impl RunStatement, id: Uuid) -> Result<bool, StoreError> {
    let statement = sqlx::query(
        "WITH inline AS (SELECT set_config('kea.pipeline_inline', 'on', true))
         UPDATE orders SET status = 'confirmed', decided_at = now(), decision_reason = NULL,
                           updated_at = now()
           FROM inline
          WHERE id = $1 AND status = 'pending_verification'",
    )
    .bind(id);
    let done = db.execute(statement).await?;
    Ok(done.rows_affected() == 1)
}

/// Leaves the order `pending_verification` and asks an agent: a `verify_order` task saying why.
/// Returns false when the order is no longer pending. A second call adds no second task.
pub async fn send_to_verification(
    pool: &PgPool,
    id: Uuid,
    reason: &str,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let store_id: Option<String> = sqlx::query_scalar(
        "UPDATE orders SET decided_at = now(), decision_reason = $2
         WHERE id = $1 AND status = 'pending_verification'
         RETURNING store_id",
    )
    .bind(id)
    .bind(reason)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(store_id) = store_id else {
        return Ok(false);
    };
    open_task(&mut tx, id, &store_id, "verify_order", 10, reason).await?;
    tx.commit().await?;
    Ok(true)
}

/// `confirmed` → `sent_to_pos` with the POS's reference, by a job that goes on to text the
/// receipt itself (no receipt job is queued: `kea.pipeline_inline`). False when the order was
/// not `confirmed` (already recorded by an earlier run).
pub async fn mark_sent_to_pos(
    pool: &PgPool,
    id: Uuid,
    pos_ref: Option<&str>,
) -> Result<bool, StoreError> {
    let marked: bool = sqlx::query_scalar(MARK_SENT.as_str())
        .bind(id)
        .bind(pos_ref)
        .fetch_one(pool)
        .await?;
    Ok(marked)
}

/// [`mark_sent_to_pos`] and [`reserve_sms`] for the receipt `sms` in one statement: one round
/// trip and one commit where there were two, and the receipt is reserved exactly when the order
/// is recorded as at the POS. Returns whether the order was marked, and the receipt's slot.
pub async fn mark_sent_to_pos_reserving_receipt(
    db: &impl RunStatement,
    pos_ref: Option<&str>,
    sms: &NewSms<'_>,
) -> Result<(bool, SmsSlot), StoreError> {
    let statement = sqlx::query_as(MARK_SENT_RESERVING.as_str()).bind(sms.order_id);
    let (marked, sid): (bool, Option<String>) =
        db.fetch_one(bind_sms(statement, sms).bind(pos_ref)).await?;
    Ok((marked, SmsSlot::of(sid)))
}

/// `confirmed` → `sent_to_pos` ($1 the order; `pos_ref`, the parameter of the POS's reference)
/// as the CTE `sent`, by a job that goes on to text the receipt itself (`kea.pipeline_inline`: no
/// receipt job is queued).
fn mark_sent_cte(pos_ref: &str) -> String {
    format!(
        "inline AS (SELECT set_config('kea.pipeline_inline', 'on', true)),
     sent AS (
       UPDATE orders SET status = 'sent_to_pos', sent_to_pos_at = now(),
                         pos_ref = coalesce({pos_ref}, pos_ref), pos_error = NULL, updated_at = now()
         FROM inline
        WHERE id = $1 AND status = 'confirmed'
       RETURNING 1)"
    )
}

/// A message's row, reserved as `sending` unless it exists ($1 the order, $2 its store, $3 the
/// kind, $4 from, $5 to, $6 the text), as the CTE `slot`: the sid, if Twilio already accepted it.
const RESERVE_SMS_CTE: &str = "slot AS (
       INSERT INTO sms_messages (order_id, store_id, kind, from_number, to_number, body, status)
       VALUES ($1, $2, $3, $4, $5, $6, 'sending')
       ON CONFLICT (order_id, kind) DO UPDATE SET body = EXCLUDED.body
       RETURNING message_sid)";

use crate::LazySql;
static MARK_SENT: LazySql = LazySql::new(|| {
    format!(
        "WITH {} SELECT EXISTS (SELECT FROM sent)",
        mark_sent_cte("$2")
    )
});
static MARK_SENT_RESERVING: LazySql = LazySql::new(|| {
    format!(
        "WITH {}, {RESERVE_SMS_CTE} SELECT EXISTS (SELECT FROM sent), (SELECT message_sid FROM slot)",
        mark_sent_cte("$7")
    )
});
static RESERVE_SMS: LazySql =
    LazySql::new(|| format!("WITH {RESERVE_SMS_CTE} SELECT message_sid FROM slot"));

/// Binds [`RESERVE_SMS_CTE`]'s $2–$6 after the order ($1, bound by the caller).
fn bind_sms<'q, O>(
    statement: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    sms: &'q NewSms<'q>,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    statement
        .bind(sms.store_id)
        .bind(sms.kind)
        .bind(sms.from)
        .bind(sms.to)
        .bind(sms.body)
}

/// `confirmed` → `pos_failed`, with a `callback` task for an agent to phone the store (the
/// trigger queues the text to the caller). False when the order was not `confirmed`.
pub async fn mark_pos_failed(pool: &PgPool, id: Uuid, error: &str) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let store_id: Option<String> = sqlx::query_scalar(
        "UPDATE orders SET status = 'pos_failed', pos_error = $2
         WHERE id = $1 AND status = 'confirmed'
         RETURNING store_id",
    )
    .bind(id)
    .bind(error)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(store_id) = store_id else {
        return Ok(false);
    };
    let reason = format!("The POS did not take the order; phone the store. {error}");
    open_task(&mut tx, id, &store_id, "callback", 20, &reason).await?;
    tx.commit().await?;
    Ok(true)
}

/// Records the last transient POS error while the push is still being retried.
pub async fn record_pos_error(pool: &PgPool, id: Uuid, error: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE orders SET pos_error = $2 WHERE id = $1")
        .bind(id)
        .bind(error)
        .execute(pool)
        .await?;
    Ok(())
}

async fn open_task(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    order_id: Uuid,
    store_id: &str,
    kind: &str,
    priority: i32,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tasks (order_id, call_sid, store_id, kind, priority, reason)
         SELECT id, call_sid, $2, $3, $4, $5 FROM orders WHERE id = $1
         ON CONFLICT (order_id, kind) WHERE order_id IS NOT NULL
                                        AND status NOT IN ('completed', 'canceled')
         DO NOTHING",
    )
    .bind(order_id)
    .bind(store_id)
    .bind(kind)
    .bind(priority)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A text message about an order, before it is sent.
#[derive(Debug, Clone)]
pub struct NewSms<'a> {
    /// The order it is about.
    pub order_id: Uuid,
    /// The store it is from.
    pub store_id: &'a str,
    /// `receipt` or `order_problem`.
    pub kind: &'a str,
    /// The store's number.
    pub from: &'a str,
    /// The caller's number.
    pub to: &'a str,
    /// The text.
    pub body: &'a str,
}

/// Where a text message about an order stands before sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsSlot {
    /// Twilio already accepted this message (its sid): do not send it again.
    Sent(String),
    /// Not sent yet, or an earlier attempt died before Twilio answered: send it.
    ToSend,
}

impl SmsSlot {
    /// The slot of a message whose row holds `sid`.
    fn of(sid: Option<String>) -> Self {
        sid.map_or(Self::ToSend, Self::Sent)
    }
}

/// Reserves the one message of `sms.kind` for the order (creating its row with status
/// `sending`), or reports that it was already sent. Reserving before sending means a crash
/// between Twilio's answer and the record can at worst repeat one message, never lose it.
pub async fn reserve_sms(pool: &PgPool, sms: &NewSms<'_>) -> Result<SmsSlot, StoreError> {
    let statement = sqlx::query_as(RESERVE_SMS.as_str()).bind(sms.order_id);
    let (sid,): (Option<String>,) = bind_sms(statement, sms).fetch_one(pool).await?;
    Ok(SmsSlot::of(sid))
}

/// Records Twilio's answer to a message reserved with [`reserve_sms`]: its sid and status, or
/// the status a callback already reported for that sid if it is further along. One round trip:
/// `kea_record_sms_sent` takes the sid's advisory lock (which the callback's writer takes too,
/// so the two cannot miss each other), then reads the early status and updates the message.
pub async fn record_sms_sent(
    db: &impl RunStatement,
    order_id: Uuid,
    kind: &str,
    message_sid: &str,
    status: &str,
) -> Result<(), StoreError> {
    let statement = sqlx::query("SELECT kea_record_sms_sent($1, $2, $3, $4)")
        .bind(order_id)
        .bind(kind)
        .bind(message_sid)
        .bind(status);
    db.execute(statement).await?;
    Ok(())
}

/// Records that Twilio refused a reserved message for good (`error_code`: Twilio's code).
pub async fn record_sms_failed(
    pool: &PgPool,
    order_id: Uuid,
    kind: &str,
    error_code: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sms_messages SET status = 'failed', error_code = $3
         WHERE order_id = $1 AND kind = $2",
    )
    .bind(order_id)
    .bind(kind)
    .bind(error_code)
    .execute(pool)
    .await?;
    Ok(())
}

/// Where a message status callback was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsStatusRecord {
    /// On the message's row (unless the message was already further along).
    Recorded,
    /// No message has that sid yet: kept, and applied when the sid is recorded (a callback can
    /// beat the recording of Twilio's answer). A sid kea never sent stays there until pruned.
    Early,
}

/// Records a message status callback. A status never moves a message back: callbacks can arrive
/// out of order, and a late `sent` after `delivered` is ignored. One round trip
/// (`kea_record_sms_status`, under the sid's advisory lock like [`record_sms_sent`]).
pub async fn record_sms_status(
    pool: &PgPool,
    message_sid: &str,
    status: &str,
    error_code: Option<&str>,
) -> Result<SmsStatusRecord, StoreError> {
    let recorded: bool = sqlx::query_scalar("SELECT kea_record_sms_status($1, $2, $3)")
        .bind(message_sid)
        .bind(status)
        .bind(error_code)
        .fetch_one(pool)
        .await?;
    Ok(if recorded {
        SmsStatusRecord::Recorded
    } else {
        SmsStatusRecord::Early
    })
}

/// What the pipeline looks like right now, for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct PipelineGauges {
    /// `(job_type, status, jobs, of which dead)` per job type and apalis status.
    pub jobs: Vec<(String, String, i64, i64)>,
    /// `(status, orders)`.
    pub orders: Vec<(String, i64)>,
    /// `(kind, tasks)` for tasks not yet completed or canceled.
    pub open_tasks: Vec<(String, i64)>,
    /// `(activity, workers)`: agents available, busy, offline.
    pub workers: Vec<(String, i64)>,
}

/// Counts jobs (with the dead-letter ones), orders and open tasks.
pub async fn gauges(pool: &PgPool) -> Result<PipelineGauges, StoreError> {
    let jobs = sqlx::query_as(
        "SELECT job_type, status, count(*),
                count(*) FILTER (WHERE status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts))
         FROM apalis.jobs GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await?;
    let orders = sqlx::query_as("SELECT status, count(*) FROM orders GROUP BY 1 ORDER BY 1")
        .fetch_all(pool)
        .await?;
    let open_tasks = sqlx::query_as(
        "SELECT kind, count(*) FROM tasks WHERE status NOT IN ('completed', 'canceled')
         GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    let workers = sqlx::query_as("SELECT activity, count(*) FROM workers GROUP BY 1 ORDER BY 1")
        .fetch_all(pool)
        .await?;
    Ok(PipelineGauges {
        jobs,
        orders,
        open_tasks,
        workers,
    })
}

/// Hands back to the queue the jobs that the worker `worker` (its apalis id) had fetched or was
/// running when it failed at `failed_at` (its connection to PostgreSQL was lost): that worker
/// instance is gone, and apalis re-queues a worker's jobs only once the worker stops
/// heartbeating, which a worker restarted under the same id never does. Jobs it locked after
/// the restart (more than a second later) are left alone; any job run twice is harmless, as every
/// job changes an order only from the status it expects. Returns how many were re-queued.
pub async fn requeue_jobs_of_failed_worker(
    pool: &PgPool,
    worker: &str,
    failed_at: chrono::DateTime<chrono::Utc>,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE apalis.jobs SET status = 'Pending', lock_by = NULL, lock_at = NULL, done_at = NULL,
                attempts = attempts + 1,
                last_result = '{\"Err\": \"Re-queued: its worker lost the database and restarted.\"}'
         WHERE lock_by = $1 AND status IN ('Queued', 'Running')
           AND lock_at <= $2 + interval '1 second'",
    )
    .bind(worker)
    .bind(failed_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes jobs that finished successfully more than `keep` ago (apalis keeps every job row;
/// failed and dead ones stay for people to look at), and early message statuses as old, whose
/// message never came (returns the jobs deleted).
pub async fn prune_done_jobs(pool: &PgPool, keep: std::time::Duration) -> Result<u64, StoreError> {
    let keep_secs = i64::try_from(keep.as_secs()).unwrap_or(i64::MAX);
    let done = sqlx::query(
        "DELETE FROM apalis.jobs
         WHERE status = 'Done' AND done_at < now() - make_interval(secs => $1::float8)",
    )
    .bind(keep_secs as f64)
    .execute(pool)
    .await?;
    // Early message statuses whose sid never came: callbacks about messages kea did not send.
    sqlx::query(
        "DELETE FROM sms_status_early WHERE received_at < now() - make_interval(secs => $1::float8)",
    )
    .bind(keep_secs as f64)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod order_status_tests {
    use super::OrderStatus;

    #[test]
    fn every_status_reads_back_as_itself_and_nothing_else_reads() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
        }
        assert!("Confirmed".parse::<OrderStatus>().is_err());
        assert!("".parse::<OrderStatus>().is_err());
    }
}

//! The agent console's SQL: sign-in, sessions, what an agent sees of its tasks, and the order
//! edits an agent makes while verifying.
//!
//! Reads that show an agent its work run as the agent ([`crate::routing::as_agent`]), so row-level
//! security decides what exists for it, as it does for the data API.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgPool, Row};
use uuid::Uuid;

use crate::StoreError;
use crate::routing::as_agent;

/// A worker who may sign in: its id, name and password hash.
#[derive(Debug, Clone, FromRow)]
pub struct SignInRecord {
    /// The worker.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// argon2 PHC string.
    pub password_hash: String,
}

/// The worker with this e-mail (case-insensitive) that has a password.
pub async fn worker_for_sign_in(
    pool: &PgPool,
    email: &str,
) -> Result<Option<SignInRecord>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, name, password_hash FROM workers
          WHERE lower(email) = lower($1) AND password_hash IS NOT NULL",
    )
    .bind(email)
    .fetch_optional(pool)
    .await?)
}

/// Records a new session (the token's SHA-256 only).
pub async fn create_session(
    pool: &PgPool,
    token_sha256: &[u8],
    worker: Uuid,
    csrf_token: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO console_sessions (token_sha256, worker_id, csrf_token, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_sha256)
    .bind(worker)
    .bind(csrf_token)
    .bind(expires_at)
    .execute(pool)
    .await?;
    // Sessions that ended long ago go on the way.
    sqlx::query("DELETE FROM console_sessions WHERE expires_at < now() - interval '1 day'")
        .execute(pool)
        .await?;
    Ok(())
}

/// A live session: who is signed in and the form token.
#[derive(Debug, Clone, FromRow)]
pub struct Session {
    /// The worker.
    pub worker_id: Uuid,
    /// Its name.
    pub worker_name: String,
    /// The worker's activity now.
    pub activity: String,
    /// The CSRF token every form of this session must carry.
    pub csrf_token: String,
}

/// The unexpired session of this token hash.
pub async fn session(pool: &PgPool, token_sha256: &[u8]) -> Result<Option<Session>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT s.worker_id, w.name AS worker_name, w.activity, s.csrf_token
           FROM console_sessions s JOIN workers w ON w.id = s.worker_id
          WHERE s.token_sha256 = $1 AND s.expires_at > now()",
    )
    .bind(token_sha256)
    .fetch_optional(pool)
    .await?)
}

/// Ends a session.
pub async fn delete_session(pool: &PgPool, token_sha256: &[u8]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM console_sessions WHERE token_sha256 = $1")
        .bind(token_sha256)
        .execute(pool)
        .await?;
    Ok(())
}

/// A task as the console lists it.
#[derive(Debug, Clone, FromRow)]
pub struct TaskSummary {
    /// The task.
    pub id: Uuid,
    /// `verify_order`, `callback`, `transfer`.
    pub kind: String,
    /// `reserved` (offered), `assigned`, `completed`, `canceled`.
    pub status: String,
    /// Higher first.
    pub priority: i32,
    /// Why kea asked.
    pub reason: Option<String>,
    /// The order, if any.
    pub order_id: Option<Uuid>,
    /// The call, if any.
    pub call_sid: Option<String>,
    /// The store's name.
    pub store_name: Option<String>,
    /// The caller's language (`en`, `es`).
    pub language: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the offer lapses (offers only).
    pub reservation_expires_at: Option<DateTime<Utc>>,
    /// The order's total.
    pub total_cents: Option<i64>,
    /// The order's status.
    pub order_status: Option<String>,
    /// The caller's number (to call back).
    pub caller_phone: Option<String>,
}

/// The console's task query with the given tail (`WHERE …`): one text, audited here.
macro_rules! task_summary {
    ($tail:literal) => {
        concat!(
            "SELECT t.id, t.kind, t.status, t.priority, t.reason, t.order_id, t.call_sid,
                    s.name AS store_name, t.attributes ->> 'language' AS language, t.created_at,
                    t.reservation_expires_at, o.total_cents, o.status AS order_status,
                    coalesce(o.customer_phone, c.from_number) AS caller_phone
               FROM api.tasks t
               LEFT JOIN api.stores s ON s.id = t.store_id
               LEFT JOIN api.orders o ON o.id = t.order_id
               LEFT JOIN api.calls c ON c.call_sid = t.call_sid ",
            $tail
        )
    };
}

/// The worker's open tasks (offers first), then the last few it finished.
pub async fn tasks_of(
    pool: &PgPool,
    worker: Uuid,
) -> Result<(Vec<TaskSummary>, Vec<TaskSummary>), StoreError> {
    let mut tx = pool.begin().await?;
    as_agent(&mut tx, worker).await?;
    let open = sqlx::query_as(task_summary!(
        "WHERE t.worker_id = $1 AND t.status IN ('reserved', 'assigned')
         ORDER BY t.status DESC, t.priority DESC, t.created_at"
    ))
    .bind(worker)
    .fetch_all(&mut *tx)
    .await?;
    let done = sqlx::query_as(task_summary!(
        "WHERE t.worker_id = $1 AND t.status IN ('completed', 'canceled')
         ORDER BY t.finished_at DESC NULLS LAST LIMIT 5"
    ))
    .bind(worker)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((open, done))
}

/// One of the worker's tasks, if it may see it.
pub async fn task_of(
    pool: &PgPool,
    worker: Uuid,
    task: Uuid,
) -> Result<Option<TaskSummary>, StoreError> {
    let mut tx = pool.begin().await?;
    as_agent(&mut tx, worker).await?;
    let row = sqlx::query_as(task_summary!("WHERE t.id = $1"))
        .bind(task)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(row)
}

/// What the agent needs to verify an order: the order, its lines, and which store's menu (as
/// of when) prices it.
#[derive(Debug, Clone)]
pub struct OrderForAgent {
    /// The order's columns as JSON (status, customer, totals, confidence, reasons…).
    pub order: Value,
    /// The lines, in order, as JSON objects.
    pub lines: Vec<Value>,
    /// The store, for its menu (the edit form and pricing).
    pub store_id: String,
    /// When the store last changed: the key of the server's parsed-menu cache.
    pub store_updated_at: DateTime<Utc>,
    /// The store's phone number.
    pub store_phone: String,
}

/// The order behind a task, read as the agent (None if it may not see it).
pub async fn order_for_agent(
    pool: &PgPool,
    worker: Uuid,
    order: Uuid,
) -> Result<Option<OrderForAgent>, StoreError> {
    let mut tx = pool.begin().await?;
    as_agent(&mut tx, worker).await?;
    let row = sqlx::query(
        "SELECT to_jsonb(o) AS o,
                coalesce((SELECT jsonb_agg(to_jsonb(i) ORDER BY i.line_no)
                            FROM api.order_items i WHERE i.order_id = o.id), '[]') AS lines,
                o.store_id
           FROM api.orders o WHERE o.id = $1",
    )
    .bind(order)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let store_id: String = row.try_get("store_id")?;
    // The store's menu is not the agent's to read through the API (the document holds POS
    // settings); kea reads it for the agent once RLS has said the order is visible.
    let (store_updated_at, store_phone): (DateTime<Utc>, String) =
        sqlx::query_as("SELECT updated_at, phone FROM stores WHERE id = $1")
            .bind(&store_id)
            .fetch_one(pool)
            .await?;
    let lines: Value = row.try_get("lines")?;
    Ok(Some(OrderForAgent {
        order: row.try_get("o")?,
        lines: lines.as_array().cloned().unwrap_or_default(),
        store_id,
        store_updated_at,
        store_phone,
    }))
}

/// One turn of a call as the agent reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptTurn {
    /// `caller` or `kea`.
    pub speaker: &'static str,
    /// What was said.
    pub text: String,
    /// Speech recognition's confidence (caller turns), 0..1.
    pub confidence: Option<f64>,
}

/// The call's transcript, turn by turn, read as the agent (empty if it may not see the call).
pub async fn transcript(
    pool: &PgPool,
    worker: Uuid,
    call_sid: &str,
) -> Result<Vec<TranscriptTurn>, StoreError> {
    let mut tx = pool.begin().await?;
    as_agent(&mut tx, worker).await?;
    let events: Vec<(String, Value)> = sqlx::query_as(
        "SELECT kind, payload FROM api.call_events
          WHERE call_sid = $1 AND kind IN ('webhook', 'state') ORDER BY seq",
    )
    .bind(call_sid)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(transcript_of(&events))
}

/// The transcript from the replay record's events: the caller's speech from each webhook, kea's
/// prompts from each state change.
fn transcript_of(events: &[(String, Value)]) -> Vec<TranscriptTurn> {
    let mut turns = Vec::new();
    for (kind, payload) in events {
        match kind.as_str() {
            "webhook" => {
                let text = payload
                    .get("SpeechResult")
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .unwrap_or_default();
                if !text.is_empty() {
                    let confidence = payload.get("Confidence").and_then(|c| match c {
                        Value::String(s) => s.parse().ok(),
                        other => other.as_f64(),
                    });
                    turns.push(TranscriptTurn {
                        speaker: "caller",
                        text: text.to_owned(),
                        confidence,
                    });
                }
            }
            "state" => {
                for said in payload
                    .get("said")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    turns.push(TranscriptTurn {
                        speaker: "kea",
                        text: said.to_owned(),
                        confidence: None,
                    });
                }
            }
            _ => {}
        }
    }
    turns
}

/// The record of an order or task, newest last, with the acting worker's name.
pub async fn history(
    pool: &PgPool,
    worker: Uuid,
    task: Uuid,
    order: Option<Uuid>,
) -> Result<Vec<(DateTime<Utc>, Option<String>, String, Value)>, StoreError> {
    let mut tx = pool.begin().await?;
    as_agent(&mut tx, worker).await?;
    let rows = sqlx::query_as(
        "SELECT e.at, w.name, e.action, e.detail
           FROM api.task_events e LEFT JOIN api.workers w ON w.id = e.worker_id
          WHERE e.task_id = $1 OR (e.order_id = $2 AND $2 IS NOT NULL)
          ORDER BY e.id",
    )
    .bind(task)
    .bind(order)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// An order line as the agent set it, priced by kea-menu.
#[derive(Debug, Clone)]
pub struct EditedLine {
    /// Menu sku.
    pub sku: String,
    /// Item name.
    pub name: String,
    /// Size, if the item has sizes.
    pub size: Option<String>,
    /// How many.
    pub quantity: i32,
    /// Option skus.
    pub modifiers: Vec<String>,
    /// One unit, options included.
    pub unit_price_cents: i64,
    /// unit × quantity.
    pub line_total_cents: i64,
}

/// The order's new totals.
#[derive(Debug, Clone, Copy)]
pub struct EditedTotals {
    /// Sum of the lines.
    pub subtotal_cents: i64,
    /// Tax.
    pub tax_cents: i64,
    /// Delivery fee.
    pub delivery_fee_cents: i64,
    /// Total.
    pub total_cents: i64,
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The agent holds no assigned verify or callback task for the order, or the order is past
    /// changing.
    #[error("order {0} is not open for this agent to change")]
    NotYours(Uuid),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for EditError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Db(e))
    }
}

/// Replaces the order's lines and totals with the agent's (already priced by kea-menu), and
/// records the change (before and after) in `task_events`, in one transaction. Only while the
/// worker holds the order's verify or callback task, assigned, and the order is still waiting for
/// a decision.
pub async fn replace_order_lines(
    pool: &PgPool,
    worker: Uuid,
    order: Uuid,
    lines: &[EditedLine],
    totals: EditedTotals,
) -> Result<(), EditError> {
    let mut tx = pool.begin().await?;
    let task: Option<Uuid> = sqlx::query_scalar(
        "SELECT t.id FROM tasks t JOIN orders o ON o.id = t.order_id
          WHERE t.order_id = $1 AND t.worker_id = $2 AND t.status = 'assigned'
            AND t.kind IN ('verify_order', 'callback')
            AND o.status IN ('pending_verification', 'pos_failed')
          FOR UPDATE OF o",
    )
    .bind(order)
    .bind(worker)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(task) = task else {
        return Err(EditError::NotYours(order));
    };
    let before: Value = sqlx::query_scalar(
        "SELECT jsonb_build_object(
                  'total_cents', o.total_cents,
                  'lines', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                 'sku', i.sku, 'size', i.size, 'quantity', i.quantity,
                                 'modifiers', i.modifiers, 'line_total_cents', i.line_total_cents)
                                 ORDER BY i.line_no)
                            FROM order_items i WHERE i.order_id = o.id), '[]'))
           FROM orders o WHERE o.id = $1",
    )
    .bind(order)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM order_items WHERE order_id = $1")
        .bind(order)
        .execute(&mut *tx)
        .await?;
    for (n, line) in lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO order_items (order_id, line_no, store_id, sku, name, size, quantity,
                                      modifiers, unit_price_cents, line_total_cents)
             SELECT $1, $2, store_id, $3, $4, $5, $6, $7, $8, $9 FROM orders WHERE id = $1",
        )
        .bind(order)
        .bind(i32::try_from(n + 1).unwrap_or(i32::MAX))
        .bind(&line.sku)
        .bind(&line.name)
        .bind(&line.size)
        .bind(line.quantity)
        .bind(serde_json::json!(line.modifiers))
        .bind(line.unit_price_cents)
        .bind(line.line_total_cents)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "UPDATE orders SET subtotal_cents = $2, tax_cents = $3, delivery_fee_cents = $4,
                           total_cents = $5
          WHERE id = $1",
    )
    .bind(order)
    .bind(totals.subtotal_cents)
    .bind(totals.tax_cents)
    .bind(totals.delivery_fee_cents)
    .bind(totals.total_cents)
    .execute(&mut *tx)
    .await?;
    let after = serde_json::json!({
        "total_cents": totals.total_cents,
        "lines": lines.iter().map(|l| serde_json::json!({
            "sku": l.sku, "size": l.size, "quantity": l.quantity, "modifiers": l.modifiers,
            "line_total_cents": l.line_total_cents,
        })).collect::<Vec<_>>(),
    });
    sqlx::query(
        "INSERT INTO task_events (task_id, order_id, worker_id, action, detail)
         VALUES ($1, $2, $3, 'order_edited', jsonb_build_object('before', $4::jsonb, 'after', $5::jsonb))",
    )
    .bind(task)
    .bind(order)
    .bind(worker)
    .bind(before)
    .bind(after)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Runs one data-API-equivalent change as the agent: `sql` (one statement on the `api` views,
/// `$1` the id) inside a transaction with the agent's role and claims. Returns the rows changed;
/// a refusal by a policy or a trigger comes back as the database error, message and hint intact.
pub async fn act_as_agent(
    pool: &PgPool,
    worker: Uuid,
    sql: &'static str,
    id: Uuid,
    value: &str,
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    as_agent(&mut tx, worker).await?;
    let done = sqlx::query(sql)
        .bind(id)
        .bind(value)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn transcript_interleaves_caller_and_kea() {
        let events = vec![
            (
                "state".to_owned(),
                json!({"said": ["Thanks for calling Tony's. What can I get you?"]}),
            ),
            (
                "webhook".to_owned(),
                json!({"SpeechResult": " a large pepperoni ", "Confidence": "0.62"}),
            ),
            (
                "state".to_owned(),
                json!({"said": ["A large pepperoni. Anything else?"]}),
            ),
            ("webhook".to_owned(), json!({"CallStatus": "in-progress"})),
            ("twiml".to_owned(), json!({"xml": "<Response/>"})),
        ];
        let t = transcript_of(&events);
        assert_eq!(t.len(), 3);
        assert_eq!(t[1].speaker, "caller");
        assert_eq!(t[1].text, "a large pepperoni");
        assert_eq!(t[1].confidence, Some(0.62));
        assert_eq!(t[2].speaker, "kea");
    }
}

//! Calls, their replay record and the orders they place.
//!
//! A webhook turn is one short transaction: [`lock_call`] (the row lock serialises turns of one
//! call, whichever replica takes them), the pure dialog step in the caller's code, then
//! [`save_turn`], [`append_events`] and, when the caller confirmed, [`insert_order`].

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::StoreError;

/// Which store answers `phone` (the webhook's `To`) and when it last changed, so a cache of
/// parsed menus can tell whether its copy is current without reading the whole document.
pub async fn store_by_phone(
    pool: &PgPool,
    phone: &str,
) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, updated_at FROM stores WHERE phone = $1")
            .bind(phone)
            .fetch_optional(pool)
            .await?,
    )
}

/// The store file of `store_id` as last imported, and when that was.
pub async fn store_document(
    pool: &PgPool,
    store_id: &str,
) -> Result<Option<(Value, chrono::DateTime<chrono::Utc>)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT document, updated_at FROM stores WHERE id = $1")
            .bind(store_id)
            .fetch_optional(pool)
            .await?,
    )
}

/// The phone number of the store a call was made to.
pub async fn store_phone_of_call(
    pool: &PgPool,
    call_sid: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT s.phone FROM calls c JOIN stores s ON s.id = c.store_id WHERE c.call_sid = $1",
    )
    .bind(call_sid)
    .fetch_optional(pool)
    .await?)
}

/// The language a call is held in (BCP 47), if the call is known.
pub async fn call_language(pool: &PgPool, call_sid: &str) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT language FROM calls WHERE call_sid = $1")
            .bind(call_sid)
            .fetch_optional(pool)
            .await?,
    )
}

/// The store's own line (staff, not the number callers dial), for the call's store, if it has one.
pub async fn staff_phone_of_call(
    pool: &PgPool,
    call_sid: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT s.staff_phone FROM calls c JOIN stores s ON s.id = c.store_id WHERE c.call_sid = $1",
    )
    .bind(call_sid)
    .fetch_optional(pool)
    .await?
    .flatten())
}

/// A new call, as the first webhook announces it.
#[derive(Debug, Clone)]
pub struct NewCall<'a> {
    /// Twilio's CallSid.
    pub call_sid: &'a str,
    /// The store called.
    pub store_id: &'a str,
    /// Twilio's AccountSid.
    pub account_sid: Option<&'a str>,
    /// Caller ID.
    pub from_number: &'a str,
    /// The number dialled.
    pub to_number: &'a str,
    /// The dialog's state before the first turn.
    pub state: &'a Value,
    /// The store's default language (BCP 47).
    pub language: &'a str,
}

/// Records a call unless it is already recorded (Twilio may deliver the first webhook twice).
/// Returns true when this request created it.
pub async fn insert_call(
    tx: &mut Transaction<'_, Postgres>,
    call: &NewCall<'_>,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO calls (call_sid, store_id, account_sid, from_number, to_number, state, language)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (call_sid) DO NOTHING",
    )
    .bind(call.call_sid)
    .bind(call.store_id)
    .bind(call.account_sid)
    .bind(call.from_number)
    .bind(call.to_number)
    .bind(call.state)
    .bind(call.language)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// A call's row as a turn needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallRow {
    /// The store called.
    pub store_id: String,
    /// Caller ID.
    pub from_number: String,
    /// The dialog state after the last turn.
    pub state: Value,
    /// Turns taken so far.
    pub turns: i32,
    /// Set once the call has ended one way or another.
    pub outcome: Option<String>,
    /// Twilio's last CallStatus.
    pub status: String,
    /// When the store was last re-imported (for the menu cache).
    pub store_updated_at: chrono::DateTime<chrono::Utc>,
}

/// Loads and locks the call for the rest of the transaction.
pub async fn lock_call(
    tx: &mut Transaction<'_, Postgres>,
    call_sid: &str,
) -> Result<Option<CallRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT c.store_id, c.from_number, c.state, c.turns, c.outcome, c.status, s.updated_at AS store_updated_at
         FROM calls c JOIN stores s ON s.id = c.store_id
         WHERE c.call_sid = $1
         FOR UPDATE OF c",
    )
    .bind(call_sid)
    .fetch_optional(&mut **tx)
    .await?)
}

/// The TwiML already sent for `turn` of the call, if that turn was taken: a repeated delivery
/// gets the same answer and does not run the dialog again.
pub async fn twiml_of_turn(
    tx: &mut Transaction<'_, Postgres>,
    call_sid: &str,
    turn: i32,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT payload->>'xml' FROM call_events
         WHERE call_sid = $1 AND kind = 'twiml' AND (payload->>'turn')::int = $2
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(call_sid)
    .bind(turn)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Saves the state after a turn; `outcome` is set once (a later turn never clears it).
pub async fn save_turn(
    tx: &mut Transaction<'_, Postgres>,
    call_sid: &str,
    state: &Value,
    turns: i32,
    language: &str,
    outcome: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE calls SET state = $2, turns = $3, language = $4, outcome = coalesce(outcome, $5)
         WHERE call_sid = $1",
    )
    .bind(call_sid)
    .bind(state)
    .bind(turns)
    .bind(language)
    .bind(outcome)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One entry of the replay record.
#[derive(Debug, Clone)]
pub struct CallEvent {
    /// `webhook`, `twiml`, `state`, `status`, `error` or `message`.
    pub kind: &'static str,
    /// What crossed the boundary.
    pub payload: Value,
    /// Server time the turn took, in microseconds, where known.
    pub server_micros: Option<i64>,
}

/// Appends events to the call's replay record, numbering them after the last one. The caller
/// holds the call's row lock ([`lock_call`]), so numbers never collide.
pub async fn append_events(
    tx: &mut Transaction<'_, Postgres>,
    call_sid: &str,
    events: &[CallEvent],
) -> Result<(), StoreError> {
    let kinds: Vec<&str> = events.iter().map(|e| e.kind).collect();
    let payloads: Vec<&Value> = events.iter().map(|e| &e.payload).collect();
    let micros: Vec<Option<i64>> = events.iter().map(|e| e.server_micros).collect();
    sqlx::query(
        "INSERT INTO call_events (call_sid, seq, kind, payload, server_micros)
         SELECT $1, base.next + e.ord - 1, e.kind, e.payload, e.micros
         FROM (SELECT coalesce(max(seq) + 1, 0) AS next FROM call_events WHERE call_sid = $1) base,
              unnest($2::text[], $3::jsonb[], $4::bigint[]) WITH ORDINALITY AS e(kind, payload, micros, ord)",
    )
    .bind(call_sid)
    .bind(&kinds)
    .bind(&payloads)
    .bind(&micros)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An order as the dialog placed it, priced.
#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    /// The call that placed it.
    pub call_sid: &'a str,
    /// The store.
    pub store_id: &'a str,
    /// Where it starts (`PendingVerification` for an order from a call).
    pub status: crate::pipeline::OrderStatus,
    /// Who it is for.
    pub customer_name: &'a str,
    /// E.164.
    pub customer_phone: &'a str,
    /// `pickup` or `delivery`.
    pub fulfillment: &'a str,
    /// For delivery.
    pub delivery_address: Option<&'a str>,
    /// Sum of the lines.
    pub subtotal_cents: i64,
    /// Tax on the subtotal.
    pub tax_cents: i64,
    /// Delivery fee, 0 for pickup.
    pub delivery_fee_cents: i64,
    /// What the customer pays.
    pub total_cents: i64,
    /// 0..1.
    pub confidence: f32,
    /// When it will be ready.
    pub ready_at: chrono::DateTime<chrono::Utc>,
    /// The lines.
    pub items: Vec<NewOrderItem<'a>>,
}

/// One line of a [`NewOrder`].
#[derive(Debug, Clone)]
pub struct NewOrderItem<'a> {
    /// Menu sku.
    pub sku: &'a str,
    /// The item's name when ordered.
    pub name: &'a str,
    /// Chosen size, if the item has sizes.
    pub size: Option<&'a str>,
    /// How many.
    pub quantity: i32,
    /// Option skus.
    pub modifiers: Vec<&'a str>,
    /// Price of one, options included.
    pub unit_price_cents: i64,
    /// unit × quantity.
    pub line_total_cents: i64,
}

/// Writes the order and its lines; a call places at most one order (a repeat returns the first's id).
pub async fn insert_order(
    tx: &mut Transaction<'_, Postgres>,
    order: &NewOrder<'_>,
) -> Result<Uuid, StoreError> {
    let existing: Option<Uuid> = sqlx::query_scalar("SELECT id FROM orders WHERE call_sid = $1")
        .bind(order.call_sid)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO orders (call_sid, store_id, status, customer_name, customer_phone, fulfillment,
                             delivery_address, subtotal_cents, tax_cents, delivery_fee_cents,
                             total_cents, confidence, ready_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         RETURNING id",
    )
    .bind(order.call_sid)
    .bind(order.store_id)
    .bind(order.status)
    .bind(order.customer_name)
    .bind(order.customer_phone)
    .bind(order.fulfillment)
    .bind(order.delivery_address)
    .bind(order.subtotal_cents)
    .bind(order.tax_cents)
    .bind(order.delivery_fee_cents)
    .bind(order.total_cents)
    .bind(order.confidence)
    .bind(order.ready_at)
    .fetch_one(&mut **tx)
    .await?;
    let line_nos: Vec<i32> = (1..).take(order.items.len()).collect();
    let skus: Vec<&str> = order.items.iter().map(|i| i.sku).collect();
    let names: Vec<&str> = order.items.iter().map(|i| i.name).collect();
    let sizes: Vec<Option<&str>> = order.items.iter().map(|i| i.size).collect();
    let quantities: Vec<i32> = order.items.iter().map(|i| i.quantity).collect();
    let modifiers: Vec<Value> = order
        .items
        .iter()
        .map(|i| serde_json::json!(i.modifiers))
        .collect();
    let units: Vec<i64> = order.items.iter().map(|i| i.unit_price_cents).collect();
    let totals: Vec<i64> = order.items.iter().map(|i| i.line_total_cents).collect();
    sqlx::query(
        "INSERT INTO order_items (order_id, store_id, line_no, sku, name, size, quantity, modifiers,
                                  unit_price_cents, line_total_cents)
         SELECT $1, $2, * FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::int[],
                                      $8::jsonb[], $9::bigint[], $10::bigint[])",
    )
    .bind(id)
    .bind(order.store_id)
    .bind(&line_nos)
    .bind(&skus)
    .bind(&names)
    .bind(&sizes)
    .bind(&quantities)
    .bind(&modifiers)
    .bind(&units)
    .bind(&totals)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// Records Twilio's status callback. A call that ends with no outcome yet (the caller hung up
/// mid-order) becomes `abandoned`; one that never connected (`busy`, `failed`, `no-answer`)
/// becomes `failed`. Returns false when the call is unknown.
pub async fn record_status(
    pool: &PgPool,
    call_sid: &str,
    status: &str,
    duration_seconds: Option<i32>,
    payload: &Value,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let Some(_) = lock_call(&mut tx, call_sid).await? else {
        return Ok(false);
    };
    let ended = matches!(
        status,
        "completed" | "busy" | "failed" | "no-answer" | "canceled"
    );
    let outcome = match status {
        "completed" | "canceled" => Some("abandoned"),
        "busy" | "failed" | "no-answer" => Some("failed"),
        _ => None,
    };
    sqlx::query(
        "UPDATE calls SET status = $2, duration_seconds = coalesce($3, duration_seconds),
                          ended_at = CASE WHEN $4 THEN coalesce(ended_at, now()) ELSE ended_at END,
                          outcome = coalesce(outcome, $5)
         WHERE call_sid = $1",
    )
    .bind(call_sid)
    .bind(status)
    .bind(duration_seconds)
    .bind(ended)
    .bind(outcome)
    .execute(&mut *tx)
    .await?;
    append_events(
        &mut tx,
        call_sid,
        &[CallEvent {
            kind: "status",
            payload: payload.clone(),
            server_micros: None,
        }],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

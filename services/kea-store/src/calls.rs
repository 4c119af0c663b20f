//! Calls, their replay record and the orders they place.
//!
//! A webhook turn is two statements: [`load_call`] reads the call, the caller's code runs the pure
//! dialog step, and [`save_turn`] records the result in one statement (the call's turn count, and
//! its replay record: the webhook in, the state after, the TwiML out; the state is kept only
//! there, once per turn), and only if the call is
//! still at the turn it read: of two deliveries of one turn, taken at once by two replicas, one
//! is saved and the other learns it was [`TurnSaved::AlreadyTaken`]. A turn that places an order
//! writes the order and its lines in the same statement (one round trip and one commit, as any
//! turn). Each commit is synchronous: what Twilio got an answer for is recorded.

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::StoreError;
use crate::direct::{DirectPool, RunStatement};

/// Which store answers `phone` (the webhook's `To`) and when it last changed, so a cache of
/// parsed menus can tell whether its copy is current without reading the whole document.
pub async fn store_by_phone(
    db: &DirectPool,
    phone: &str,
) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>, StoreError> {
    Ok(db
        .fetch_optional(
            sqlx::query_as("SELECT id, updated_at FROM stores WHERE phone = $1").bind(phone),
        )
        .await?)
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
    /// The store called.
    pub store_id: &'a str,
    /// Twilio's AccountSid.
    pub account_sid: Option<&'a str>,
    /// Caller ID.
    pub from_number: &'a str,
    /// The number dialled.
    pub to_number: &'a str,
}

/// A call's row as a turn needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallRow {
    /// The store called.
    pub store_id: String,
    /// Caller ID.
    pub from_number: String,
    /// The dialog state after the last turn (the `after` of its last `state` event; every
    /// version of kea has recorded it there).
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

/// The call as it stands, and its store's version. Nothing is locked: [`save_turn`] saves only
/// if the call is still at the turn read here.
pub async fn load_call(pool: &PgPool, call_sid: &str) -> Result<Option<CallRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT c.store_id, c.from_number,
                coalesce((SELECT e.payload->'after' FROM call_events e
                           WHERE e.call_sid = c.call_sid AND e.kind = 'state'
                           ORDER BY e.seq DESC LIMIT 1), '{}') AS state,
                c.turns, c.outcome, c.status, s.updated_at AS store_updated_at
         FROM calls c JOIN stores s ON s.id = c.store_id
         WHERE c.call_sid = $1",
    )
    .bind(call_sid)
    .fetch_optional(pool)
    .await?)
}

/// The TwiML already sent for `turn` of the call, if that turn was taken: a repeated delivery
/// gets the same answer and does not run the dialog again.
pub async fn twiml_of_turn(
    pool: &PgPool,
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
    .fetch_optional(pool)
    .await?)
}

/// Everything one webhook turn leaves behind.
#[derive(Debug)]
pub struct TurnRecord<'a, S> {
    /// Twilio's CallSid.
    pub call_sid: &'a str,
    /// Turns the call had taken when it was read: the turn is saved only if it still has.
    pub turns_before: i32,
    /// Set on the call's first webhook: the call is created by its first turn.
    pub new_call: Option<NewCall<'a>>,
    /// The dialog's state after the turn.
    pub state: &'a S,
    /// The language the call is now held in (BCP 47).
    pub language: &'a str,
    /// How the call ended, if it did (set once; a later turn never clears it).
    pub outcome: Option<&'a str>,
    /// The webhook's parameters, in the order sent.
    pub webhook: &'a [(String, String)],
    /// What kea said.
    pub said: &'a [&'a str],
    /// The TwiML answered.
    pub twiml: &'a str,
    /// Server time the turn took, in microseconds.
    pub server_micros: i64,
    /// The order the caller confirmed in this turn.
    pub order: Option<NewOrder<'a>>,
}

/// Whether a turn was saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnSaved {
    /// Recorded.
    Saved {
        /// The order the turn placed, if it placed one.
        order_id: Option<Uuid>,
    },
    /// Another delivery of the same turn was recorded first: answer with its TwiML.
    AlreadyTaken,
}

/// A webhook's parameters as a JSON object (the replay record's `webhook` event).
struct Params<'a>(&'a [(String, String)]);

impl serde::Serialize for Params<'_> {
    fn serialize<Z: serde::Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The replay record's `state` event: the state after the turn (the state before it is the
/// previous turn's), what was said, and what came of it.
#[derive(serde::Serialize)]
struct StateEvent<'a, S> {
    turn: i32,
    after: &'a S,
    said: &'a [&'a str],
    outcome: Option<&'a str>,
    order_id: Option<Uuid>,
}

/// The replay record's `twiml` event.
#[derive(serde::Serialize)]
struct TwimlEvent<'a> {
    turn: i32,
    xml: &'a str,
}

/// A turn's three events, numbered from the `first` the call statement (the `turn` CTE) returns.
/// Parameters: $1 the call, $4 webhook, $5 state event, $6 TwiML event, $7 server micros. The
/// state event is where the dialog's state is kept: [`load_call`] reads the last one.
const TURN_EVENTS: &str = "INSERT INTO call_events (call_sid, seq, kind, payload, server_micros)
     SELECT $1, turn.first + v.ord, v.kind, v.payload, v.micros
       FROM turn,
            (VALUES (0, 'webhook', $4::jsonb, NULL::bigint),
                    (1, 'state', $5::jsonb, NULL::bigint),
                    (2, 'twiml', $6::jsonb, $7::bigint)) AS v(ord, kind, payload, micros)";

/// The first turn creates the call (unless a repeated delivery already did).
/// $2 language, $3 outcome; $8 store, $9 account, $10 from, $11 to.
const FIRST_TURN_CTE: &str = "turn AS (
       INSERT INTO calls (call_sid, store_id, account_sid, from_number, to_number,
                          language, outcome, turns, next_event_seq)
       VALUES ($1, $8, $9, $10, $11, $2, $3, 1, 3)
       ON CONFLICT (call_sid) DO NOTHING
       RETURNING 0 AS first)";

/// A later turn advances the call if it is still at turn $8.
const NEXT_TURN_CTE: &str = "turn AS (
       UPDATE calls SET language = $2, outcome = coalesce(outcome, $3),
                        turns = turns + 1, next_event_seq = next_event_seq + 3,
                        updated_at = now()
        WHERE call_sid = $1 AND turns = $8
       RETURNING next_event_seq - 3 AS first)";

/// The order a turn places and its lines, written only if the `turn` CTE yields a row, as
/// `(saved, order_id)`; a call places at most one order (a repeat yields the first's id). Its
/// own numbering: $1 the call, $2–$14 the order, $15–$22 the lines as arrays; [`renumber`]
/// fits it after a statement's own parameters. The lines' trigger reads the order's store from
/// the order row this statement inserted: `items` reads `placed`, so the order is in first.
const ORDER_CTES: &str = "placed AS (
       INSERT INTO orders (call_sid, store_id, status, customer_name, customer_phone, fulfillment,
                           delivery_address, subtotal_cents, tax_cents, delivery_fee_cents,
                           total_cents, confidence, ready_at, id)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 FROM turn
       ON CONFLICT (call_sid) DO NOTHING
       RETURNING id, store_id),
     items AS (
       INSERT INTO order_items (order_id, store_id, line_no, sku, name, size, quantity, modifiers,
                                unit_price_cents, line_total_cents)
       SELECT placed.id, placed.store_id, line.*
         FROM placed,
              unnest($15::int[], $16::text[], $17::text[], $18::text[], $19::int[], $20::jsonb[],
                     $21::bigint[], $22::bigint[]) AS line)
     SELECT EXISTS (SELECT FROM turn) AS saved,
            coalesce((SELECT id FROM placed),
                     (SELECT id FROM orders WHERE call_sid = $1)) AS order_id";

/// `sql` with each parameter from $2 on moved up by `by` ($1, the call, stays).
fn renumber(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        match rest[at + 1..at + 1 + digits].parse::<usize>() {
            Ok(n) if n >= 2 => out.push_str(&format!("${}", n + by)),
            _ => out.push_str(&rest[at..at + 1 + digits]),
        }
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    out
}

use crate::LazySql;
/// What a turn without an order yields, in the shape [`ORDER_CTES`] gives a turn with one.
const NO_ORDER: &str = "SELECT EXISTS (SELECT FROM turn) AS saved, NULL::uuid AS order_id";
static FIRST_TURN: LazySql =
    LazySql::new(|| format!("WITH {FIRST_TURN_CTE}, events AS ({TURN_EVENTS}) {NO_ORDER}"));
static NEXT_TURN: LazySql =
    LazySql::new(|| format!("WITH {NEXT_TURN_CTE}, events AS ({TURN_EVENTS}) {NO_ORDER}"));
static FIRST_TURN_WITH_ORDER: LazySql = LazySql::new(|| {
    let order = renumber(ORDER_CTES, 10);
    format!("WITH {FIRST_TURN_CTE}, events AS ({TURN_EVENTS}), {order}")
});
static NEXT_TURN_WITH_ORDER: LazySql = LazySql::new(|| {
    let order = renumber(ORDER_CTES, 7);
    format!("WITH {NEXT_TURN_CTE}, events AS ({TURN_EVENTS}), {order}")
});
/// [`insert_order`]: the order alone, in the caller's transaction.
static ORDER_ONLY: LazySql = LazySql::new(|| format!("WITH turn AS (SELECT), {ORDER_CTES}"));

/// A statement yielding `(saved, order_id)`.
type TurnQuery<'q> =
    sqlx::query::QueryAs<'q, Postgres, (bool, Option<Uuid>), sqlx::postgres::PgArguments>;

/// Binds [`ORDER_CTES`]' $2–$22 (renumbered): the order as `id`, then its lines.
fn bind_order<'q>(statement: TurnQuery<'q>, order: &'q NewOrder<'q>, id: Uuid) -> TurnQuery<'q> {
    let items = &order.items;
    let line_nos: Vec<i32> = (1..).take(items.len()).collect();
    let modifiers: Vec<Value> = items
        .iter()
        .map(|i| serde_json::json!(i.modifiers))
        .collect();
    statement
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
        .bind(id)
        .bind(line_nos)
        .bind(items.iter().map(|i| i.sku).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.name).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.size).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.quantity).collect::<Vec<_>>())
        .bind(modifiers)
        .bind(items.iter().map(|i| i.unit_price_cents).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.line_total_cents).collect::<Vec<_>>())
}

/// Records a turn (see the module's documentation), and the order it placed, in one statement:
/// one round trip and one commit.
pub async fn save_turn<S: serde::Serialize + Sync>(
    db: &DirectPool,
    turn: &TurnRecord<'_, S>,
) -> Result<TurnSaved, StoreError> {
    let number = turn.turns_before + 1;
    // Decided here so the replay record can name the order it is written with.
    let order = turn.order.as_ref().map(|order| (order, Uuid::new_v4()));
    let webhook = sqlx::types::Json(Params(turn.webhook));
    let state_event = sqlx::types::Json(StateEvent {
        turn: number,
        after: turn.state,
        said: turn.said,
        outcome: turn.outcome,
        order_id: order.map(|(_, id)| id),
    });
    let twiml = sqlx::types::Json(TwimlEvent {
        turn: number,
        xml: turn.twiml,
    });
    let sql: &str = match (&turn.new_call, order) {
        (Some(_), None) => &FIRST_TURN,
        (None, None) => &NEXT_TURN,
        (Some(_), Some(_)) => &FIRST_TURN_WITH_ORDER,
        (None, Some(_)) => &NEXT_TURN_WITH_ORDER,
    };
    // $1–$7 are the same for all four; the first turn adds the call's facts, a later one the
    // turn it must still be at.
    let statement = sqlx::query_as(sql)
        .bind(turn.call_sid)
        .bind(turn.language)
        .bind(turn.outcome)
        .bind(&webhook)
        .bind(&state_event)
        .bind(&twiml)
        .bind(turn.server_micros);
    let statement = match &turn.new_call {
        Some(call) => statement
            .bind(call.store_id)
            .bind(call.account_sid)
            .bind(call.from_number)
            .bind(call.to_number),
        None => statement.bind(turn.turns_before),
    };
    let statement = match order {
        Some((order, id)) => bind_order(statement, order, id),
        None => statement,
    };
    let (saved, order_id) = db.fetch_one(statement).await?;
    Ok(if saved {
        TurnSaved::Saved { order_id }
    } else {
        TurnSaved::AlreadyTaken
    })
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

/// Writes the order (as `id`) and its lines in the caller's transaction, as a turn does; a call
/// places at most one order (a repeat returns the first's id).
pub async fn insert_order(
    tx: &mut Transaction<'_, Postgres>,
    order: &NewOrder<'_>,
    id: Uuid,
) -> Result<Uuid, StoreError> {
    let statement = sqlx::query_as(ORDER_ONLY.as_str()).bind(order.call_sid);
    let (_, placed) = bind_order(statement, order, id)
        .fetch_one(&mut **tx)
        .await?;
    // None only if another transaction placed the call's order after this one's snapshot.
    placed.ok_or(StoreError::Db(sqlx::Error::RowNotFound))
}

/// A status callback's CTEs: the call's row ($1, $2 status, $3 duration, $4 whether it ended,
/// $5 its outcome if it has none) and its replay event ($6, the parameters).
const STATUS_CTES: &str = "call AS (
       UPDATE calls SET status = $2, duration_seconds = coalesce($3, duration_seconds),
                        ended_at = CASE WHEN $4 THEN coalesce(ended_at, now()) ELSE ended_at END,
                        outcome = coalesce(outcome, $5),
                        next_event_seq = next_event_seq + 1, updated_at = now()
        WHERE call_sid = $1
       RETURNING next_event_seq - 1 AS seq),
     event AS (
       INSERT INTO call_events (call_sid, seq, kind, payload)
       SELECT $1, call.seq, 'status', $6 FROM call)";
static STATUS: LazySql =
    LazySql::new(|| format!("WITH {STATUS_CTES} SELECT EXISTS (SELECT FROM call)"));
static STATUS_ENDING_WAIT: LazySql = LazySql::new(|| {
    format!(
        "WITH {STATUS_CTES}, {} SELECT EXISTS (SELECT FROM call)",
        crate::routing::cancel_transfer_ctes("'the caller hung up'")
    )
});

/// Whether Twilio's `CallStatus` says the call is over (it will send no more turns).
#[must_use]
pub fn is_final_status(status: &str) -> bool {
    matches!(
        status,
        "completed" | "busy" | "failed" | "no-answer" | "canceled"
    )
}

/// Records Twilio's status callback, in one statement. A call that ends with no outcome yet (the
/// caller hung up mid-order) becomes `abandoned`; one that never connected (`busy`, `failed`,
/// `no-answer`) becomes `failed`. A final status ([`is_final_status`]) also gives up on the
/// caller's transfer if they were waiting for a person (nobody needs to take
/// it any more), in the same statement. Returns false when the call is unknown.
pub async fn record_status(
    db: &DirectPool,
    call_sid: &str,
    status: &str,
    duration_seconds: Option<i32>,
    params: &[(String, String)],
) -> Result<bool, StoreError> {
    let ended = is_final_status(status);
    let outcome = match status {
        "completed" | "canceled" => Some("abandoned"),
        "busy" | "failed" | "no-answer" => Some("failed"),
        _ => None,
    };
    let sql: &str = if ended { &STATUS_ENDING_WAIT } else { &STATUS };
    let statement = sqlx::query_as(sql)
        .bind(call_sid)
        .bind(status)
        .bind(duration_seconds)
        .bind(ended)
        .bind(outcome)
        .bind(sqlx::types::Json(Params(params)));
    let (recorded,): (bool,) = db.fetch_one(statement).await?;
    Ok(recorded)
}

#[cfg(test)]
mod tests {
    use super::renumber;

    #[test]
    fn renumber_moves_every_parameter_but_the_call() {
        assert_eq!(
            renumber("SELECT $1, $2, $15::int[], $22 FROM t WHERE a = $1", 8),
            "SELECT $1, $10, $23::int[], $30 FROM t WHERE a = $1"
        );
        // A dollar sign that is not a parameter is left as it is.
        assert_eq!(renumber("SELECT '$x', $$ $3", 1), "SELECT '$x', $$ $4");
    }

    #[test]
    fn the_order_statements_number_their_parameters_after_the_turn() {
        for (sql, last) in [
            (super::NEXT_TURN_WITH_ORDER.as_str(), 29),
            (super::FIRST_TURN_WITH_ORDER.as_str(), 32),
        ] {
            assert!(sql.contains(&format!("${last}::bigint[]")), "{sql}");
            assert!(!sql.contains(&format!("${}", last + 1)), "{sql}");
        }
    }
}

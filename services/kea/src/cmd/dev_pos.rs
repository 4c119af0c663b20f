//! `kea dev`'s stand-in for the stores' point-of-sale systems, at `/dev/pos/{store}` on the dev
//! server: it receives the signed order webhook exactly as a merchant's POS would (checking the
//! signature with the shipped verifier and treating a repeated `Idempotency-Key` as the same
//! order) and prints each order as a kitchen ticket. The sample stores point at it in `kea dev`,
//! so an order goes all the way to `sent_to_pos` and the caller's receipt without leaving the
//! machine.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use sqlx::PgPool;

use super::dev_board::{Board, Ticket};

/// The dev POS: which orders it took (by idempotency key → its reference).
#[derive(Clone)]
struct DevPos {
    db: PgPool,
    taken: Arc<Mutex<HashMap<String, String>>>,
    board: Board,
}

/// The routes to merge into the dev server; each ticket is also shown on `board`.
pub fn routes(db: PgPool, board: Board) -> Router {
    Router::new()
        .route("/dev/pos/{store_id}", post(receive))
        .with_state(DevPos {
            db,
            taken: Arc::default(),
            board,
        })
}

/// Where a store's orders go in `kea dev` (`base` is the dev server's URL).
pub fn url(base: &str, store_id: &str) -> String {
    format!("{}/dev/pos/{store_id}", base.trim_end_matches('/'))
}

async fn receive(
    State(pos): State<DevPos>,
    Path(store_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, axum::Json<Value>) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let refuse = |status: StatusCode, why: &str| {
        tracing::warn!(store = %store_id, why, "dev POS refused an order");
        (status, axum::Json(json!({"error": why})))
    };
    let store: Option<(Option<String>, String)> =
        match sqlx::query_as("SELECT pos_secret, timezone FROM stores WHERE id = $1")
            .bind(&store_id)
            .fetch_optional(&pos.db)
            .await
        {
            Ok(s) => s,
            Err(_) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
        };
    let Some((Some(secret), timezone)) = store else {
        return refuse(
            StatusCode::NOT_FOUND,
            "no such store, or it has no webhook secret",
        );
    };
    let (Some(signature), Some(timestamp)) = (
        header(kea_pos::SIGNATURE_HEADER),
        header(kea_pos::TIMESTAMP_HEADER),
    ) else {
        return refuse(StatusCode::BAD_REQUEST, "unsigned request");
    };
    let now = chrono::Utc::now().timestamp();
    if !kea_pos::verify(
        secret.as_bytes(),
        &body,
        signature,
        timestamp,
        now,
        kea_pos::DEFAULT_TOLERANCE_SECS,
    ) {
        return refuse(StatusCode::UNAUTHORIZED, "bad signature");
    }
    let Some(key) = header(kea_pos::IDEMPOTENCY_HEADER).map(str::to_owned) else {
        return refuse(StatusCode::BAD_REQUEST, "no Idempotency-Key");
    };
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "the order is not JSON");
    };
    let (reference, first) = {
        let Ok(mut taken) = pos.taken.lock() else {
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "dev POS state poisoned");
        };
        let next = taken.len() + 1;
        match taken.get(&key) {
            Some(r) => (r.clone(), false),
            None => {
                let r = format!("dev-{next:05}");
                taken.insert(key.clone(), r.clone());
                (r, true)
            }
        }
    };
    if first {
        let ticket = ticket(&payload, &reference, &store_id, &timezone);
        tracing::info!(store = %store_id, pos_ref = %reference, "{}", printout(&ticket));
        pos.board.ticket(ticket);
    } else {
        tracing::info!(store = %store_id, pos_ref = %reference, "dev POS: the same order again (same Idempotency-Key), not printed twice");
        pos.board.repeated(&reference);
    }
    (StatusCode::OK, axum::Json(json!({"id": reference})))
}

/// The order webhook's payload as a kitchen ticket, its times in the store's own time zone.
fn ticket(payload: &Value, reference: &str, store_id: &str, timezone: &str) -> Ticket {
    let order = &payload["order"];
    let lines = order["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let mut line = format!(
                "{} × {}",
                i["quantity"].as_i64().unwrap_or(1),
                i["name"].as_str().unwrap_or("?")
            );
            if let Some(size) = i["size"].as_str() {
                line.push_str(&format!(" ({size})"));
            }
            let mods: Vec<&str> = i["modifiers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["name"].as_str())
                .collect();
            if !mods.is_empty() {
                line.push_str(&format!(": {}", mods.join(", ")));
            }
            line
        })
        .collect();
    Ticket {
        reference: reference.to_owned(),
        store_id: store_id.to_owned(),
        received_at: chrono::Utc::now(),
        fulfillment: order["fulfillment"].as_str().unwrap_or("pickup").to_owned(),
        customer: order["customer_name"].as_str().unwrap_or("?").to_owned(),
        ready_at: order["ready_at"]
            .as_str()
            .map(|at| local_time(at, timezone)),
        lines,
        total_cents: order["total_cents"].as_i64().unwrap_or(0),
        repeats: 0,
    }
}

/// "18:30" in the store's zone (the webhook sends UTC); anything unreadable as it came.
fn local_time(at: &str, timezone: &str) -> String {
    match (
        chrono::DateTime::parse_from_rfc3339(at),
        timezone.parse::<chrono_tz::Tz>(),
    ) {
        (Ok(t), Ok(tz)) => t.with_timezone(&tz).format("%H:%M").to_string(),
        _ => at.to_owned(),
    }
}

/// The ticket as a kitchen prints it: "KITCHEN TICKET · pickup for Dana ready at 18:30 ·
/// 1 × Pepperoni Pizza (large): Extra Cheese, No Onions · total $20.65".
fn printout(t: &Ticket) -> String {
    format!(
        "KITCHEN TICKET · {} for {} ready at {} · {} · total ${}.{:02}",
        t.fulfillment,
        t.customer,
        t.ready_at.as_deref().unwrap_or("?"),
        t.lines.join(" · "),
        t.total_cents / 100,
        t.total_cents % 100
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_read_like_a_kitchen_printout() {
        let payload = json!({"order": {
            "fulfillment": "pickup", "customer_name": "Dana", "ready_at": "2026-12-07T23:30:00Z",
            "total_cents": 2065,
            "items": [{"quantity": 1, "name": "Pepperoni Pizza", "size": "large",
                       "modifiers": [{"name": "Extra Cheese"}, {"name": "No Onions"}]}]
        }});
        assert_eq!(
            printout(&ticket(
                &payload,
                "dev-00001",
                "tonys-pizza",
                "America/New_York"
            )),
            "KITCHEN TICKET · pickup for Dana ready at 18:30 · 1 × Pepperoni Pizza (large): Extra Cheese, No Onions · total $20.65"
        );
    }
}

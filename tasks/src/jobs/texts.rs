//! `send_receipt` and `notify_order_problem`: texts to the caller from the store's number.
//!
//! Each order gets at most one message of each kind: the `sms_messages` row is reserved before
//! Twilio is asked, and a message Twilio accepted (it has a sid) is never sent again.

use apalis::prelude::Data;
use kea_store::pipeline::OrderStatus;
use kea_store::pipeline::{NewSms, PipelineOrder, SmsSlot};
use kea_twilio::{OutboundMessage, TwilioError};

use super::{Job, NotifyOrderProblem, SendReceipt, load, modifier_skus, store_of};
use crate::receipt::{OrderText, Problem, ReceiptLine, problem};
use crate::{JobError, TaskEnv};

/// `send_receipt`'s handler.
pub async fn send_receipt(job: SendReceipt, env: Data<TaskEnv>) -> Result<(), JobError> {
    let Some(order) = load(&env.orders_db, job.order_id, SendReceipt::NAME).await? else {
        return Ok(());
    };
    if !matches!(
        order.order.status,
        OrderStatus::SentToPos | OrderStatus::Confirmed
    ) {
        tracing::info!(order.id = %job.order_id, status = %order.order.status, "no receipt for this order");
        return Ok(());
    }
    let store = store_of(&env, &order).await?;
    receipt(&env, &order, &store).await
}

/// Texts the caller the order's receipt (at most once per order).
pub(crate) async fn receipt(
    env: &TaskEnv,
    order: &PipelineOrder,
    store: &kea_menu::Store,
) -> Result<(), JobError> {
    let body = receipt_body(order, store);
    send(env, order, store, "receipt", &body).await
}

/// The receipt's text.
pub(crate) fn receipt_body(order: &PipelineOrder, store: &kea_menu::Store) -> String {
    crate::receipt::receipt(&order_text(order, store))
}

/// `notify_order_problem`'s handler.
pub async fn notify_order_problem(
    job: NotifyOrderProblem,
    env: Data<TaskEnv>,
) -> Result<(), JobError> {
    let Some(order) = load(&env.orders_db, job.order_id, NotifyOrderProblem::NAME).await? else {
        return Ok(());
    };
    let kind = match order.order.status {
        OrderStatus::Rejected => Problem::Rejected(order.order.rejection_reason.as_deref()),
        OrderStatus::PosFailed => Problem::PosFailed,
        other => {
            tracing::info!(order.id = %job.order_id, status = %other, "order no longer has a problem");
            return Ok(());
        }
    };
    let store = store_of(&env, &order).await?;
    let body = problem(&order_text(&order, &store), kind);
    send(&env, &order, &store, "order_problem", &body).await
}

fn order_text<'a>(order: &'a PipelineOrder, store: &'a kea_menu::Store) -> OrderText<'a> {
    let o = &order.order;
    OrderText {
        store_name: &store.name,
        store_phone: &store.phone,
        timezone: &store.timezone,
        customer_name: o.customer_name.as_deref(),
        lines: order
            .items
            .iter()
            .map(|i| ReceiptLine {
                quantity: i.quantity,
                size: i.size.as_deref(),
                name: &i.name,
                options: receipt_options(store, &i.sku, &modifier_skus(&i.modifiers)),
            })
            .collect(),
        total_cents: o.total_cents,
        fulfillment: &o.fulfillment,
        ready_at: o.ready_at,
        language: &o.language,
    }
}

/// A line's options for the caller's text, in a store with portions: "No Onions", "Extra Cheese".
fn receipt_options(store: &kea_menu::Store, item_sku: &str, modifiers: &[String]) -> Vec<String> {
    if !store.uses_portions() {
        return Vec::new();
    }
    store
        .menu
        .item(item_sku)
        .and_then(|item| kea_menu::resolve_modifiers(store, item, modifiers).ok())
        .map(|resolved| resolved.into_iter().map(|m| m.kitchen_name).collect())
        .unwrap_or_default()
}

async fn send(
    env: &TaskEnv,
    order: &PipelineOrder,
    store: &kea_menu::Store,
    kind: &str,
    body: &str,
) -> Result<(), JobError> {
    let Some(sms) = new_sms(order, store, kind, body) else {
        return Ok(());
    };
    let slot = kea_store::pipeline::reserve_sms(&env.db, &sms).await?;
    send_reserved(env, &sms, slot).await
}

/// The text of `kind` to the caller; `None` (logged) when the caller left no number.
pub(crate) fn new_sms<'a>(
    order: &'a PipelineOrder,
    store: &'a kea_menu::Store,
    kind: &'a str,
    body: &'a str,
) -> Option<NewSms<'a>> {
    let id = order.order.id;
    let Some(to) = order
        .order
        .customer_phone
        .as_deref()
        .filter(|p| !p.is_empty())
    else {
        tracing::info!(order.id = %id, kind, "no phone number to text");
        return None;
    };
    Some(NewSms {
        order_id: id,
        store_id: &store.id,
        kind,
        from: &store.phone,
        to,
        body,
    })
}

/// Sends a text whose row is reserved (`slot`), unless Twilio already accepted it.
pub(crate) async fn send_reserved(
    env: &TaskEnv,
    sms: &NewSms<'_>,
    slot: SmsSlot,
) -> Result<(), JobError> {
    let (id, kind, body) = (sms.order_id, sms.kind, sms.body);
    if let SmsSlot::Sent(sid) = slot {
        tracing::debug!(order.id = %id, kind, message.sid = %sid, "already sent");
        return Ok(());
    }
    let mut message = OutboundMessage::new(sms.from, sms.to, body);
    if let Some(base) = &env.public_url {
        message = message
            .with_status_callback(format!("{}/twilio/sms/status", base.trim_end_matches('/')));
    }
    match env.twilio.send_message(message).await {
        Ok(sent) => {
            let status = sent
                .status
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "queued".to_owned());
            kea_store::pipeline::record_sms_sent(&env.orders_db, id, kind, &sent.sid, &status)
                .await?;
            tracing::info!(order.id = %id, kind, message.sid = %sent.sid, "text sent");
            Ok(())
        }
        Err(e) if e.is_transient() => Err(JobError::SmsTransient {
            order_id: id,
            source: e,
        }),
        Err(e) => {
            // Twilio refused this message for good (a bad number, an opted-out caller): record
            // why and stop; retrying would be refused the same way.
            let code = match &e {
                TwilioError::Api { code, status, .. } => {
                    Some(code.map_or_else(|| status.to_string(), |c| c.to_string()))
                }
                _ => None,
            };
            tracing::error!(order.id = %id, kind, error = %e, "text refused by Twilio");
            kea_store::pipeline::record_sms_failed(&env.db, id, kind, code.as_deref()).await?;
            Ok(())
        }
    }
}

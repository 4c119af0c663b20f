//! `push_order_to_pos`: a confirmed order to the store's POS, exactly once in effect.
//!
//! Every attempt sends the same idempotency key (the order id), so a retry after a crash
//! between the POS's acceptance and kea's record cannot create a second order at the POS.
//! Transient failures are retried with exponential backoff and jitter (the worker's retry
//! policy); a permanent one, or the last transient one, makes the order `pos_failed` with a
//! `callback` task for an agent to phone the store (and the trigger queues a text to the caller).
//! Once the POS has the order, the same job texts the caller the receipt ([`push_and_text`]):
//! a retry resumes from the order's status (`sent_to_pos`: only the receipt is left).

use apalis::prelude::{Attempt, Data};
use chrono::Duration;
use kea_menu::{FulfillmentKind, PosConfig, Store};
use kea_pos::{PosError, PosItem, PosModifier, PosOrder};
use kea_store::pipeline::{NewSms, OrderStatus, PipelineOrder, SmsSlot};

use super::texts::{new_sms, receipt, receipt_body, send_reserved};
use super::{Job, PushOrderToPos, fulfillment_kind, load, modifier_skus, store_of};
use crate::{JobError, TaskEnv};

/// The job's handler (for an order an agent confirmed; `extract_order` pushes the ones kea
/// confirms itself).
pub async fn run(
    job: PushOrderToPos,
    env: Data<TaskEnv>,
    attempt: Attempt,
) -> Result<(), JobError> {
    let Some(order) = load(&env.orders_db, job.order_id, PushOrderToPos::NAME).await? else {
        return Ok(());
    };
    if !matches!(
        order.order.status,
        OrderStatus::Confirmed | OrderStatus::SentToPos
    ) {
        tracing::debug!(order.id = %job.order_id, status = %order.order.status, "not waiting for the POS");
        return Ok(());
    }
    let store = store_of(&env, &order).await?;
    push_and_text(&env, &order, &store, attempt.current()).await
}

/// Pushes a `confirmed` order (this is the job's `attempt`), then texts the receipt; an order
/// already `sent_to_pos` gets only the receipt (sent at most once: `sms_messages`).
pub(crate) async fn push_and_text(
    env: &TaskEnv,
    order: &PipelineOrder,
    store: &Store,
    attempt: usize,
) -> Result<(), JobError> {
    if order.order.status != OrderStatus::Confirmed {
        return receipt(env, order, store).await;
    }
    // The receipt is reserved in the statement that records the push.
    let body = receipt_body(order, store);
    let sms = new_sms(order, store, "receipt", &body);
    let slot = match push(env, order, store, attempt, sms.as_ref()).await? {
        Pushed::NotDue => return Ok(()),
        Pushed::Due(slot) => slot,
    };
    match (sms, slot) {
        (Some(sms), Some(slot)) => send_reserved(env, &sms, slot).await,
        (Some(sms), None) => {
            let slot = kea_store::pipeline::reserve_sms(&env.db, &sms).await?;
            send_reserved(env, &sms, slot).await
        }
        // No number to text (logged).
        (None, _) => Ok(()),
    }
}

/// What came of a push.
enum Pushed {
    /// The order failed at the POS for good: no receipt.
    NotDue,
    /// The POS has the order (or the store has none and reads its orders in kea): the receipt
    /// is due, and reserved if the push was recorded with it.
    Due(Option<SmsSlot>),
}

/// One push; the receipt `sms`, if any, is reserved in the statement that records it.
async fn push(
    env: &TaskEnv,
    order: &PipelineOrder,
    store: &Store,
    attempt: usize,
    sms: Option<&NewSms<'_>>,
) -> Result<Pushed, JobError> {
    let id = order.order.id;
    if matches!(store.pos, PosConfig::None) {
        // The store reads its orders in kea; the caller still gets a receipt.
        tracing::info!(order.id = %id, "store has no POS; order stays confirmed in kea");
        return Ok(Pushed::Due(None));
    }
    let result =
        match kea_pos::adapter_for(&store.pos, env.secrets.as_ref(), env.http.clone()).await {
            Ok(adapter) => adapter.push(&pos_order(order, store)).await,
            Err(e) => Err(e),
        };
    match result {
        Ok(accepted) => {
            let pos_ref = accepted.pos_ref.as_deref();
            let (marked, slot) = match sms {
                Some(sms) => {
                    let (marked, slot) = kea_store::pipeline::mark_sent_to_pos_reserving_receipt(
                        &env.orders_db,
                        pos_ref,
                        sms,
                    )
                    .await?;
                    (marked, Some(slot))
                }
                None => (
                    kea_store::pipeline::mark_sent_to_pos(&env.db, id, pos_ref).await?,
                    None,
                ),
            };
            if marked {
                tracing::info!(order.id = %id, http.status = accepted.status, "order sent to the POS");
            }
            Ok(Pushed::Due(slot))
        }
        Err(e) if e.is_transient() && attempt < env.pos_max_attempts => {
            tracing::warn!(order.id = %id, attempt, error = %e, "POS push failed; will retry");
            kea_store::pipeline::record_pos_error(&env.db, id, &e.to_string()).await?;
            Err(JobError::PosTransient {
                order_id: id,
                source: e,
            })
        }
        Err(e) => {
            let error = describe(&e, attempt);
            tracing::error!(order.id = %id, error = %error, "POS push failed for good");
            kea_store::pipeline::mark_pos_failed(&env.db, id, &error).await?;
            Ok(Pushed::NotDue)
        }
    }
}

fn describe(e: &PosError, attempts: usize) -> String {
    if e.is_transient() {
        format!("{e} (gave up after {attempts} attempts)")
    } else {
        e.to_string()
    }
}

/// A line's options as the POS gets them: each at its portion, named as a kitchen ticket prints
/// it ("Extra Cheese", "No Onions") and with what it adds to the unit price, all from the store's
/// menu by its pricing rules (options are looked up in the item's own groups, where skus are
/// unique). An option gone from the menu keeps its price inside the unit price and goes as its
/// sku; extract_order flags such an order for an agent before it gets here.
fn pos_modifiers(store: &Store, item_sku: &str, modifiers: &[String]) -> Vec<PosModifier> {
    let resolved = store
        .menu
        .item(item_sku)
        .and_then(|item| kea_menu::resolve_modifiers(store, item, modifiers).ok());
    match resolved {
        Some(resolved) => resolved
            .into_iter()
            .map(|m| PosModifier {
                portion: m.portion.to_string(),
                name: m.kitchen_name,
                price_cents: m.price_cents,
                sku: m.sku,
            })
            .collect(),
        None => modifiers
            .iter()
            .map(|m| {
                let (portion, sku) = kea_menu::Portion::parse_modifier(m);
                PosModifier {
                    sku: sku.to_owned(),
                    name: kea_menu::kitchen_name(portion, sku),
                    portion: portion.to_string(),
                    price_cents: 0,
                }
            })
            .collect(),
    }
}

/// The order in the POS adapters' terms: option names and prices come from the store's menu.
#[must_use]
pub fn pos_order(order: &PipelineOrder, store: &Store) -> PosOrder {
    let o = &order.order;
    let kind = fulfillment_kind(&o.fulfillment);
    let prep_minutes = match kind {
        FulfillmentKind::Pickup => store.fulfillment.pickup_minutes,
        FulfillmentKind::Delivery => store.fulfillment.delivery_minutes,
    };
    let items = order
        .items
        .iter()
        .map(|i| PosItem {
            sku: i.sku.clone(),
            name: i.name.clone(),
            size: i.size.clone(),
            quantity: u32::try_from(i.quantity).unwrap_or(0),
            modifiers: pos_modifiers(store, &i.sku, &modifier_skus(&i.modifiers)),
            unit_price_cents: i.unit_price_cents,
            line_total_cents: i.line_total_cents,
            notes: i.notes.clone(),
        })
        .collect();
    PosOrder {
        id: o.id,
        store_id: o.store_id.clone(),
        call_sid: o.call_sid.clone(),
        customer_name: o.customer_name.clone().unwrap_or_default(),
        customer_phone: o.customer_phone.clone().unwrap_or_default(),
        fulfillment: kind,
        delivery_address: o.delivery_address.clone(),
        ready_at: o
            .ready_at
            .unwrap_or_else(|| o.created_at + Duration::minutes(i64::from(prep_minutes))),
        subtotal_cents: o.subtotal_cents,
        tax_cents: o.tax_cents,
        delivery_fee_cents: o.delivery_fee_cents,
        total_cents: o.total_cents,
        prep_minutes,
        items,
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    /// Tony's, with a veggie pizza that comes with onions and olives, and mushrooms in portions.
    fn store() -> Store {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/stores/tonys-pizza.json"
        );
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for item in doc["menu"]["items"].as_array_mut().unwrap() {
            if item["sku"] == "pizza-veggie" {
                item["includes"] = serde_json::json!({"toppings": ["onions", "olives"]});
            }
        }
        for group in doc["menu"]["modifier_groups"].as_array_mut().unwrap() {
            for option in group["options"].as_array_mut().unwrap() {
                if option["sku"] == "mushrooms" || option["sku"] == "onions" {
                    option["portions"] = serde_json::json!({"light": 175, "extra": 350});
                }
            }
        }
        Store::from_json(&doc).unwrap()
    }

    #[test]
    fn options_reach_the_pos_at_their_portion_with_kitchen_names_and_prices() {
        let store = store();
        let mods: Vec<String> = ["no:olives", "extra:onions", "extra:mushrooms", "bacon"]
            .map(str::to_owned)
            .to_vec();
        let got: Vec<(String, String, String, i64)> = pos_modifiers(&store, "pizza-veggie", &mods)
            .into_iter()
            .map(|m| (m.sku, m.name, m.portion, m.price_cents))
            .collect();
        let want = [
            ("olives", "No Black Olives", "no", 0),
            // Included: only what extra costs beyond the regular portion.
            ("onions", "Extra Onions", "extra", 350 - 175),
            ("mushrooms", "Extra Mushrooms", "extra", 350),
            // At regular portion, the merchant's own name, as before portions.
            ("bacon", "bacon", "regular", 175),
        ]
        .map(|(s, n, p, c)| (s.to_owned(), n.to_owned(), p.to_owned(), c));
        assert_eq!(got, want);
    }

    #[test]
    fn an_option_gone_from_the_menu_still_reaches_the_pos_by_its_sku() {
        let got = pos_modifiers(&store(), "pizza-veggie", &["no:anchovies".to_owned()]);
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].sku.as_str(), got[0].portion.as_str()),
            ("anchovies", "no")
        );
    }
}

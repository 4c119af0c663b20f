//! `extract_order`: the order's second reading before anyone acts on it, and the decision it
//! leads to (the store's policy, applied here rather than in a job of its own: a hop that bought
//! nothing but another load of the order).
//!
//! Two checks, both recorded in the [`Extraction`] the decision reads:
//! - the order re-priced against the store's current menu (a sku dropped mid-call, or a price
//!   that no longer recomputes to the same cents, is a reason for a person to look);
//! - the entity model's second opinion: it re-reads the caller's turns, the entities are resolved
//!   to the menu with the dialog's matcher ([`kea_ner::resolve`]), and the order they imply is
//!   compared with the dialog's. The opinion is stored on the order (`orders.second_opinion`)
//!   for the console, and a disagreement sends the order to an agent.

use apalis::prelude::{Attempt, Data};
use kea_menu::matcher::MenuMatcher;
use kea_menu::{OrderLine, Store, price_order};
use kea_ner::resolve::{NerLine, TurnSpans, compare, resolve};
use kea_store::pipeline::PipelineOrder;
use serde_json::json;

use kea_store::pipeline::OrderStatus;

use super::decide_order::decide_now;
use super::push_order_to_pos::push_and_text;
use super::{ExtractOrder, Job, fulfillment_kind, load, modifier_skus, store_of};
use crate::decide::Extraction;
use crate::{JobError, TaskEnv};

/// Entity-model readings running at once in this process: one per core.
static INFERENCE: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// The job's handler: takes the order as far as it goes (decided, then pushed and texted when
/// kea confirms it); a retry resumes from the order's status.
pub async fn run(job: ExtractOrder, env: Data<TaskEnv>, attempt: Attempt) -> Result<(), JobError> {
    let Some(mut order) = load(&env.orders_db, job.order_id, ExtractOrder::NAME).await? else {
        return Ok(());
    };
    let store = store_of(&env, &order).await?;
    match order.order.status {
        OrderStatus::PendingVerification => {
            if !second_reading_and_decision(&env, &order, &store).await? {
                return Ok(());
            }
            order.order.status = OrderStatus::Confirmed;
        }
        // A retry after the decision (or the push) was recorded: go on from there.
        OrderStatus::Confirmed | OrderStatus::SentToPos => {}
        other => {
            tracing::debug!(order.id = %job.order_id, status = %other, "nothing left to do");
            return Ok(());
        }
    }
    push_and_text(&env, &order, &store, attempt.current()).await
}

/// The re-pricing and the entity model's reading, then the store's policy; true when kea
/// confirmed the order.
async fn second_reading_and_decision(
    env: &TaskEnv,
    order: &PipelineOrder,
    store: &Store,
) -> Result<bool, JobError> {
    let id = order.order.id;
    let mut extraction = extract(order, store);
    if let (Some(model), Some(call_sid)) = (env.entity_model.clone(), &order.order.call_sid) {
        let turns = kea_store::pipeline::caller_turns(&env.db, call_sid).await?;
        let texts = turns.clone();
        // Inference is CPU work: off the async runtime's threads, and no more at once than the
        // machine has cores (the job itself mostly waits on the POS and Twilio, so many run).
        let permit = INFERENCE.acquire().await;
        let read = tokio::task::spawn_blocking(move || {
            model.entities(&texts).map(|s| (s, model.describe()))
        })
        .await
        .unwrap_or_else(|e| Err(format!("the entity model panicked: {e}")));
        drop(permit);
        match read {
            Ok((spans, model_name)) => {
                let (opinion, problem) = second_opinion(store, order, &turns, &spans, &model_name);
                kea_store::pipeline::record_second_opinion(&env.db, id, &opinion).await?;
                extraction.problems.extend(problem);
            }
            // The model is a second opinion: without it the order is judged on the rest.
            Err(e) => tracing::warn!(order.id = %id, error = %e, "entity model failed"),
        }
    }
    decide_now(env, order, store, &extraction).await
}

/// The order's lines as the menu model prices them.
fn order_lines(order: &PipelineOrder) -> Vec<OrderLine> {
    order
        .items
        .iter()
        .map(|i| OrderLine {
            sku: i.sku.clone(),
            size: i.size.clone(),
            quantity: u32::try_from(i.quantity).unwrap_or(0),
            modifiers: modifier_skus(&i.modifiers),
        })
        .collect()
}

/// Compares the stored order with what the current menu makes of its lines.
pub(crate) fn extract(order: &PipelineOrder, store: &Store) -> Extraction {
    let mut problems = Vec::new();
    let lines = order_lines(order);
    if lines.is_empty() {
        problems.push("the order has no lines".to_owned());
    }
    let o = &order.order;
    match price_order(store, &lines, fulfillment_kind(&o.fulfillment)) {
        Err(e) => problems.push(format!("the current menu cannot price the order: {e}")),
        Ok(price) => {
            for (item, priced) in order.items.iter().zip(&price.lines) {
                if item.line_total_cents != priced.line_total_cents {
                    problems.push(format!(
                        "line {} (`{}`) is {} cents but the menu now says {}",
                        item.line_no, item.sku, item.line_total_cents, priced.line_total_cents
                    ));
                }
            }
            if (
                o.subtotal_cents,
                o.tax_cents,
                o.delivery_fee_cents,
                o.total_cents,
            ) != (
                price.subtotal_cents,
                price.tax_cents,
                price.delivery_fee_cents,
                price.total_cents,
            ) {
                problems.push(format!(
                    "total {} cents but the menu now prices it at {}",
                    o.total_cents, price.total_cents
                ));
            }
        }
    }
    Extraction { problems }
}

/// The model's reading of the caller's turns, resolved to the menu and compared with the
/// dialog's order: the record to store, and the problem to report when they disagree.
pub(crate) fn second_opinion(
    store: &Store,
    order: &PipelineOrder,
    turns: &[String],
    spans: &[Vec<kea_ner::data::Span>],
    model: &str,
) -> (serde_json::Value, Option<String>) {
    let matcher = MenuMatcher::new(&store.menu);
    // The model's menu spans re-cut along this store's names.
    let spans: Vec<Vec<kea_ner::data::Span>> = turns
        .iter()
        .zip(spans)
        .map(|(text, spans)| kea_ner::align::align_to_menu(text, spans, &matcher))
        .collect();
    let turn_spans: Vec<TurnSpans> = turns
        .iter()
        .zip(&spans)
        .map(|(text, spans)| TurnSpans { text, spans })
        .collect();
    let heard = resolve(store, &matcher, &turn_spans);
    let dialog: Vec<NerLine> = order_lines(order).iter().map(NerLine::from).collect();
    let agreement = compare(&store.menu, &dialog, &heard.items);
    let entities: Vec<serde_json::Value> = turns
        .iter()
        .zip(&spans)
        .map(|(text, spans)| {
            json!({
                "text": text,
                "entities": spans.iter().filter_map(|s| Some(json!({
                    "label": s.label, "start": s.start, "end": s.end,
                    "text": text.get(s.start..s.end)?,
                }))).collect::<Vec<_>>(),
            })
        })
        .collect();
    let problem = (!agreement.agrees).then(|| {
        format!(
            "the entity model heard {} where the dialog has {}",
            describe_lines(&agreement.only_model),
            describe_lines(&agreement.only_dialog)
        )
    });
    let opinion = json!({
        "model": model,
        "agrees": agreement.agrees,
        "confidence": agreement.confidence,
        "only_dialog": agreement.only_dialog,
        "only_model": agreement.only_model,
        "order": heard,
        "turns": entities,
    });
    (opinion, problem)
}

/// "2 × pizza-cheese (large; bacon)", or "nothing".
fn describe_lines(lines: &[NerLine]) -> String {
    if lines.is_empty() {
        return "nothing".to_owned();
    }
    lines
        .iter()
        .map(|l| {
            let mut detail: Vec<String> = l.size.iter().cloned().collect();
            detail.extend(l.modifiers.iter().cloned());
            if detail.is_empty() {
                format!("{} × {}", l.quantity, l.sku)
            } else {
                format!("{} × {} ({})", l.quantity, l.sku, detail.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

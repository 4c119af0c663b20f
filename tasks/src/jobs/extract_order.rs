//! `extract_order`: the order's second reading before anyone acts on it.
//!
//! Today it re-prices the order against the store's current menu (a sku dropped mid-call, or a
//! price that no longer recomputes to the same cents, is a reason for a person to look). The
//! entity-recognition model re-reading the transcript joins here when it lands, adding its
//! disagreements to the same [`Extraction`].

use apalis::prelude::Data;
use kea_menu::{OrderLine, price_order};
use kea_store::pipeline::PipelineOrder;

use super::{
    DecideOrder, ExtractOrder, Job, enqueue, fulfillment_kind, load, modifier_skus, store_of,
};
use crate::decide::Extraction;
use crate::{JobError, TaskEnv};

/// The job's handler.
pub async fn run(job: ExtractOrder, env: Data<TaskEnv>) -> Result<(), JobError> {
    let Some(order) = load(&env.db, job.order_id, ExtractOrder::NAME).await? else {
        return Ok(());
    };
    if order.order.status != "pending_verification" {
        tracing::debug!(order.id = %job.order_id, status = %order.order.status, "already decided");
        return Ok(());
    }
    let extraction = extract(&order)?;
    let next = DecideOrder {
        order_id: job.order_id,
        extraction,
    };
    enqueue(&env.db, &next, &job.order_id.to_string()).await
}

/// Compares the stored order with what the current menu makes of its lines.
pub(crate) fn extract(order: &PipelineOrder) -> Result<Extraction, JobError> {
    let store = store_of(order)?;
    let mut problems = Vec::new();
    let lines: Vec<OrderLine> = order
        .items
        .iter()
        .map(|i| OrderLine {
            sku: i.sku.clone(),
            size: i.size.clone(),
            quantity: u32::try_from(i.quantity).unwrap_or(0),
            modifiers: modifier_skus(&i.modifiers),
        })
        .collect();
    if lines.is_empty() {
        problems.push("the order has no lines".to_owned());
    }
    let o = &order.order;
    match price_order(&store, &lines, fulfillment_kind(&o.fulfillment)) {
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
    Ok(Extraction { problems })
}

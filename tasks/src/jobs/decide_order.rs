//! `decide_order`: confirm the order (the trigger then queues the POS push) or leave it
//! `pending_verification` with a `verify_order` task for an agent. `extract_order` decides
//! itself ([`decide_now`]): this job runs the decisions queued before it did.

use apalis::prelude::Data;
use kea_store::pipeline::{OrderStatus, PipelineOrder};

use super::{DecideOrder, Job, load, store_of};
use crate::decide::{Decision, Evidence, Extraction, decide};
use crate::{JobError, TaskEnv};

/// The job's handler.
pub async fn run(job: DecideOrder, env: Data<TaskEnv>) -> Result<(), JobError> {
    let Some(order) = load(&env.db, job.order_id, DecideOrder::NAME).await? else {
        return Ok(());
    };
    if order.order.status != OrderStatus::PendingVerification {
        tracing::debug!(order.id = %job.order_id, status = %order.order.status, "already decided");
        return Ok(());
    }
    let store = store_of(&env, &order).await?;
    decide_now(&env, &order, &store, &job.extraction).await
}

/// Applies the store's policy to the order with what the extraction found.
pub(crate) async fn decide_now(
    env: &TaskEnv,
    order: &PipelineOrder,
    store: &kea_menu::Store,
    extraction: &Extraction,
) -> Result<(), JobError> {
    let id = order.order.id;
    let evidence = Evidence {
        policy: store.verification_policy,
        confidence: order.order.confidence,
        // The dialog writes an order only after the caller said yes to the read-back.
        caller_confirmed: order.order.call_sid.is_some(),
        extraction,
    };
    match decide(&evidence) {
        Decision::Confirm => {
            if kea_store::pipeline::confirm_order(&env.db, id).await? {
                tracing::info!(order.id = %id, "order confirmed");
            }
        }
        Decision::Verify(reason) => {
            if kea_store::pipeline::send_to_verification(&env.db, id, &reason).await? {
                tracing::info!(order.id = %id, %reason, "order sent to an agent");
            }
        }
    }
    Ok(())
}

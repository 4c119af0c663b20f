//! `decide_order`: confirm the order (the trigger then queues the POS push) or leave it
//! `pending_verification` with a `verify_order` task for an agent. `extract_order` decides
//! itself ([`decide_now`]): this job runs the decisions queued before it did.

use apalis::prelude::{Attempt, Data};
use kea_store::pipeline::{OrderStatus, PipelineOrder};

use super::{DecideOrder, Job, load, store_of};
use crate::decide::{Decision, Evidence, Extraction, decide};
use crate::{JobError, TaskEnv};

/// The job's handler.
pub async fn run(job: DecideOrder, env: Data<TaskEnv>, attempt: Attempt) -> Result<(), JobError> {
    let Some(mut order) = load(&env.orders_db, job.order_id, DecideOrder::NAME).await? else {
        return Ok(());
    };
    if order.order.status != OrderStatus::PendingVerification {
        tracing::debug!(order.id = %job.order_id, status = %order.order.status, "already decided");
        return Ok(());
    }
    let store = store_of(&env, &order).await?;
    if decide_now(&env, &order, &store, &job.extraction).await? {
        order.order.status = OrderStatus::Confirmed;
        super::push_order_to_pos::push_and_text(&env, &order, &store, attempt.current()).await?;
    }
    Ok(())
}

/// Applies the store's policy to the order with what the extraction found; true when this
/// confirmed it (the caller goes on to push it: no push job is queued for it).
pub(crate) async fn decide_now(
    env: &TaskEnv,
    order: &PipelineOrder,
    store: &kea_menu::Store,
    extraction: &Extraction,
) -> Result<bool, JobError> {
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
            let confirmed = kea_store::pipeline::confirm_order(&env.orders_db, id).await?;
            if confirmed {
                tracing::info!(order.id = %id, "order confirmed");
            }
            Ok(confirmed)
        }
        Decision::Verify(reason) => {
            if kea_store::pipeline::send_to_verification(&env.db, id, &reason).await? {
                tracing::info!(order.id = %id, %reason, "order sent to an agent");
            }
            Ok(false)
        }
    }
}

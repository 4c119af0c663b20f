//! The pipeline's jobs. Each is a struct of ids (state is loaded fresh when the job runs) with a
//! stable `NAME`: apalis's queue name and `apalis.jobs.job_type`. Queued jobs carry the name, so
//! a job is never renamed; a new behaviour gets a new job.
//!
//! ```text
//! order placed ─► extract_order (and decide) ─┬─► (confirmed) ─► push_order_to_pos ─┬─► send_receipt
//!                                              └─► verify_order task (agent)         └─► notify_order_problem
//! ```
//! Jobs that follow a status change (`push_order_to_pos`, `send_receipt`,
//! `notify_order_problem`) are queued by the `orders_enqueue` trigger; the others by
//! [`enqueue`], both in the transaction of their cause. (`decide_order` is no longer queued:
//! `extract_order` decides; the job stays for the ones queued before.) Every job is idempotent: it checks the
//! order's status first and changes it only from the status it expects.

mod connect_transfer;
mod decide_order;
mod extract_order;
mod push_order_to_pos;
mod texts;

use kea_store::pipeline::PipelineOrder;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::JobError;
use crate::decide::Extraction;

pub use connect_transfer::{connect_twiml, run as connect_transfer};
pub use decide_order::run as decide_order;
pub use extract_order::run as extract_order;
pub use push_order_to_pos::{pos_order, run as push_order_to_pos};
pub use texts::{notify_order_problem, send_receipt};

/// A job type: its arguments and its queue name.
pub trait Job: Serialize + DeserializeOwned + Clone + Send + Sync + Unpin + 'static {
    /// The queue name (`apalis.jobs.job_type`); never change it once shipped.
    const NAME: &'static str;
}

/// Re-reads the order against the store's current menu (and, once it lands, the transcript
/// through entity recognition), then queues [`DecideOrder`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractOrder {
    /// The order.
    pub order_id: Uuid,
}

impl Job for ExtractOrder {
    const NAME: &'static str = "extract_order";
}

/// Applies the store's verification policy: confirm, or ask an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecideOrder {
    /// The order.
    pub order_id: Uuid,
    /// What [`ExtractOrder`] found.
    #[serde(default)]
    pub extraction: Extraction,
}

impl Job for DecideOrder {
    const NAME: &'static str = "decide_order";
}

/// Sends a confirmed order to the store's POS (idempotency key: the order id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushOrderToPos {
    /// The order.
    pub order_id: Uuid,
}

impl Job for PushOrderToPos {
    const NAME: &'static str = "push_order_to_pos";
}

/// Texts the caller the receipt once the POS has the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendReceipt {
    /// The order.
    pub order_id: Uuid,
}

impl Job for SendReceipt {
    const NAME: &'static str = "send_receipt";
}

/// Texts the caller that the order was rejected by an agent or failed at the POS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyOrderProblem {
    /// The order.
    pub order_id: Uuid,
}

impl Job for NotifyOrderProblem {
    const NAME: &'static str = "notify_order_problem";
}

/// Connects a caller waiting for a person to the agent who accepted the `transfer` task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectTransfer {
    /// The transfer task.
    pub task_id: Uuid,
}

impl Job for ConnectTransfer {
    const NAME: &'static str = "connect_transfer";
}

/// Queues `job` in the caller's transaction (or on any connection), at most once per `key`
/// for its job type.
pub async fn enqueue<'c, J: Job>(
    conn: impl sqlx::PgExecutor<'c>,
    job: &J,
    key: &str,
) -> Result<(), JobError> {
    let args = serde_json::to_value(job).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("SELECT kea_enqueue($1, $2, $3)")
        .bind(J::NAME)
        .bind(args)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Loads the order; `None` (logged) when it no longer exists, which ends the job.
async fn load(
    db: &kea_store::direct::DirectPool,
    order_id: Uuid,
    job: &str,
) -> Result<Option<PipelineOrder>, JobError> {
    let order = kea_store::pipeline::load_order(db, order_id).await?;
    if order.is_none() {
        tracing::warn!(order.id = %order_id, job, "order not found; nothing to do");
    }
    Ok(order)
}

/// The order's store, as of the version the order was loaded with: from the process's cache, or
/// read and parsed once (validated at import, so a failure means hand-edited data).
async fn store_of(
    env: &crate::TaskEnv,
    order: &PipelineOrder,
) -> Result<std::sync::Arc<kea_menu::Store>, JobError> {
    let (id, version) = (&order.order.store_id, order.order.store_updated_at);
    if let Some(store) = env.stores.get(id, version) {
        return Ok(store);
    }
    let bad = |reason: String| JobError::BadStore {
        store_id: id.clone(),
        reason,
    };
    let Some((document, updated_at)) = kea_store::calls::store_document(&env.db, id).await? else {
        return Err(bad("the store no longer exists".to_owned()));
    };
    let store =
        std::sync::Arc::new(kea_menu::Store::from_json(&document).map_err(|e| bad(e.to_string()))?);
    env.stores.put(id, updated_at, store.clone());
    Ok(store)
}

/// `pickup` or `delivery` as the pricing type.
fn fulfillment_kind(s: &str) -> kea_menu::FulfillmentKind {
    if s == "delivery" {
        kea_menu::FulfillmentKind::Delivery
    } else {
        kea_menu::FulfillmentKind::Pickup
    }
}

/// An order line's option skus (a JSON array of strings).
fn modifier_skus(modifiers: &serde_json::Value) -> Vec<String> {
    modifiers
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

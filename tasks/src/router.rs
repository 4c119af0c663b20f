//! The task router: TaskRouter's semantics on kea's own PostgreSQL.
//!
//! A pass offers every pending task (highest priority, then oldest, first) to one worker: the
//! workflow (kea_routing) says which target applies at the task's age (the store's own agents,
//! then anyone with the language, then anyone), the longest-idle available worker who matches
//! and has room gets the offer, and [`kea_store::routing::reserve`] makes it atomically. Offers
//! that lapse go back to `pending` first. Workers who turned a task down are not offered it again
//! for [`RouterSettings::refusal_window`].
//!
//! A pass runs when PostgreSQL says something changed (`NOTIFY kea_tasks`: a task created,
//! rejected or finished, a worker going available) and on a short tick, which is what moves a
//! task to its next target when a timeout passes and expires unanswered offers. Any number of
//! `kea worker` replicas may route at once: the reservation, not the router, is the lock.

use std::time::Duration;

use kea_routing::{Candidate, Queue, Workflow, WorkflowConfig, choose_worker};
use kea_store::StoreError;
use sqlx::PgPool;
use sqlx::postgres::PgListener;

/// How the router runs.
#[derive(Debug, Clone)]
pub struct RouterSettings {
    /// The longest a pass waits without a notification (timeouts and escalations).
    pub tick: Duration,
    /// Most pending tasks looked at in one pass.
    pub batch: i64,
    /// How long a worker who rejected or let an offer lapse is not offered that task again.
    pub refusal_window: Duration,
}

impl Default for RouterSettings {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(1),
            batch: 500,
            refusal_window: Duration::from_secs(60),
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Offers that lapsed and went back to pending.
    pub expired: i32,
    /// Offers made.
    pub offered: usize,
    /// Pending tasks that nobody could take now.
    pub waiting: usize,
}

/// The routing configuration in force: the stored one when it compiles, kea's default otherwise
/// (a bad edit is logged with its column and does not stop routing).
pub async fn load_workflow(db: &PgPool) -> Result<(Workflow, i32), StoreError> {
    let stored = kea_store::routing::routing_config(db).await?;
    let queues: Vec<Queue> = stored
        .queues
        .iter()
        .map(|(name, target)| Queue::new(name.clone(), target.clone()))
        .collect();
    let compiled = serde_json::from_value::<WorkflowConfig>(stored.workflow.clone())
        .map_err(|e| e.to_string())
        .and_then(|config| Workflow::compile(&config, &queues).map_err(|e| e.to_string()));
    match compiled {
        Ok(w) => Ok((w, stored.reservation_timeout_secs)),
        Err(e) => {
            tracing::error!(error = %e, "the stored workflow is not valid; routing with kea's default");
            let fallback = Workflow::compile(
                &WorkflowConfig::default_for_kea(),
                &kea_routing::default_queues(),
            )
            .map_err(|e| StoreError::Db(sqlx::Error::Protocol(e.to_string())))?;
            Ok((fallback, stored.reservation_timeout_secs))
        }
    }
}

/// One routing pass (see the module doc).
pub async fn route_once(
    db: &PgPool,
    workflow: &Workflow,
    reservation_timeout_secs: i32,
    settings: &RouterSettings,
) -> Result<PassReport, StoreError> {
    let mut report = PassReport {
        expired: kea_store::routing::expire_reservations(db).await?,
        ..PassReport::default()
    };
    let tasks = kea_store::routing::pending_tasks(
        db,
        settings.batch,
        settings.refusal_window.as_secs_f64(),
    )
    .await?;
    if tasks.is_empty() {
        return Ok(report);
    }
    let mut workers: Vec<Candidate> = kea_store::routing::available_workers(db)
        .await?
        .into_iter()
        .map(|w| Candidate {
            id: w.id.to_string(),
            attributes: w.attributes,
            free_capacity: u32::try_from(w.free_capacity).unwrap_or(0),
            idle_secs: w.idle_secs,
        })
        .collect();
    for task in &tasks {
        let Some(step) = workflow.route(&task.attributes, task.age_secs) else {
            report.waiting += 1;
            continue;
        };
        let refused: Vec<String> = task.refused_by.iter().map(ToString::to_string).collect();
        let eligible = workers.iter().filter(|c| !refused.contains(&c.id));
        let Some(chosen) = choose_worker(&step, &task.attributes, eligible) else {
            report.waiting += 1;
            continue;
        };
        let chosen_id = chosen.id.clone();
        let Ok(worker_id) = uuid::Uuid::parse_str(&chosen_id) else {
            continue;
        };
        let step_name = format!("{}/{}", step.filter, step.target_index);
        let offered = kea_store::routing::reserve(
            db,
            task.id,
            worker_id,
            &step_name,
            reservation_timeout_secs,
        )
        .await?;
        if let Some(w) = workers.iter_mut().find(|c| c.id == chosen_id) {
            if offered {
                w.free_capacity -= 1;
                // Just offered a task: the least idle now.
                w.idle_secs = 0.0;
            } else {
                // Someone else changed this worker or the task meanwhile; the next pass sees.
                w.free_capacity = 0;
            }
        }
        if offered {
            tracing::info!(task.id = %task.id, worker.id = %worker_id, step = %step_name, "task offered");
            report.offered += 1;
        } else {
            report.waiting += 1;
        }
    }
    Ok(report)
}

/// Routes until the process stops: a pass on every notification and every tick.
pub async fn run(db: PgPool, settings: RouterSettings) {
    let mut listener: Option<PgListener> = None;
    let mut config: Option<(Workflow, i32)> = None;
    loop {
        if listener.is_none() {
            listener = listen(&db).await;
            // Notifications may have been missed: re-read the configuration too.
            config = None;
        }
        if config.is_none() {
            match load_workflow(&db).await {
                Ok(c) => config = Some(c),
                Err(e) => tracing::warn!(error = %e, "router: cannot load the workflow; retrying"),
            }
        }
        if let Some((workflow, timeout)) = &config {
            match route_once(&db, workflow, *timeout, &settings).await {
                Ok(r) if r.offered > 0 || r.expired > 0 => {
                    tracing::debug!(
                        offered = r.offered,
                        expired = r.expired,
                        waiting = r.waiting,
                        "routing pass"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "router: pass failed; retrying"),
            }
        }
        // Wait for a change or the tick.
        match listener.as_mut() {
            Some(l) => match tokio::time::timeout(settings.tick, l.try_recv()).await {
                Err(_) => {}
                Ok(Ok(Some(n))) => {
                    if n.channel() == "kea_routing_config" {
                        tracing::info!("router: routing configuration changed; reloading");
                        config = None;
                    }
                }
                Ok(Ok(None)) | Ok(Err(_)) => {
                    tracing::warn!("router: lost the notification connection; reconnecting");
                    listener = None;
                }
            },
            None => tokio::time::sleep(settings.tick).await,
        }
    }
}

async fn listen(db: &PgPool) -> Option<PgListener> {
    match PgListener::connect_with(db).await {
        Ok(mut l) => match l.listen_all(["kea_tasks", "kea_routing_config"]).await {
            Ok(()) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "router: cannot LISTEN; routing on the tick alone");
                None
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "router: cannot connect to listen; routing on the tick alone");
            None
        }
    }
}

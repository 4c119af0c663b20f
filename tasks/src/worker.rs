//! The workers: one apalis worker per job kind, on `apalis.jobs` in kea's own database.
//!
//! Every worker gets the same middleware (crates.io and apalis's examples): tracing, a panic
//! caught as an error, a concurrency limit of its own, and retries with exponential backoff and
//! jitter. Jobs are announced by PostgreSQL's `NOTIFY` on insert, read by one listener for the
//! whole process ([`crate::wakeups`]), so a new job starts within milliseconds; the heartbeat
//! also polls, which picks up retries and jobs that a dead worker left behind (re-queued once
//! it missed its heartbeats).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use apalis::layers::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use apalis::layers::retry::{HasherRng, RetryPolicy};
use apalis::prelude::{Monitor, PollWith, Strategy, WorkerBuilder, WorkerBuilderExt};
use apalis_postgres::{Config, PostgresStorage};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::jobs::{
    ConnectTransfer, DecideOrder, ExtractOrder, Job, NotifyOrderProblem, PushOrderToPos,
    SendReceipt,
};
use crate::wakeups::JobWakeups;
use crate::{TaskEnv, WorkerError, jobs};

/// How many jobs of each kind one process runs at once.
#[derive(Debug, Clone)]
pub struct Concurrency {
    /// `extract_order`, which decides and then pushes and texts itself: it mostly waits on the
    /// POS and Twilio (its entity-model reading is limited to one per core on its own).
    pub extract: usize,
    /// `decide_order`.
    pub decide: usize,
    /// `push_order_to_pos` (waits on merchants' servers).
    pub push: usize,
    /// `send_receipt` and `notify_order_problem` (wait on Twilio).
    pub sms: usize,
}

impl Default for Concurrency {
    fn default() -> Self {
        Self {
            extract: 8,
            decide: 4,
            push: 8,
            sms: 8,
        }
    }
}

/// Retries: exponential backoff from `min_backoff`, doubling up to `max_backoff`, with jitter.
#[derive(Debug, Clone)]
pub struct RetrySettings {
    /// Attempts in all (the first included) before a job is left failed (dead letter), and
    /// before a transient POS failure becomes `pos_failed`.
    pub max_attempts: usize,
    /// The first wait.
    pub min_backoff: Duration,
    /// The longest wait.
    pub max_backoff: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// How the workers of one process run.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Unique per process (replicas and restarts each get their own), e.g. `kea-worker-<host>-<pid>`.
    pub name: String,
    /// Per-kind concurrency.
    pub concurrency: Concurrency,
    /// Retry policy.
    pub retry: RetrySettings,
    /// How often a worker says it is alive (and polls for retries).
    pub heartbeat: Duration,
    /// Missed heartbeats after which another worker re-queues a dead worker's jobs.
    pub missed_heartbeats: usize,
    /// How long a stop waits for jobs in flight before abandoning them (they are re-queued).
    pub shutdown_timeout: Duration,
    /// How long finished jobs are kept (apalis keeps every row; failed ones are never pruned).
    pub keep_done_jobs: Duration,
    /// How the task router runs.
    pub router: crate::router::RouterSettings,
}

impl WorkerSettings {
    /// Defaults for a process called `name`.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            concurrency: Concurrency::default(),
            retry: RetrySettings::default(),
            heartbeat: Duration::from_secs(2),
            missed_heartbeats: 5,
            shutdown_timeout: Duration::from_secs(20),
            keep_done_jobs: Duration::from_secs(7 * 24 * 3600),
            router: crate::router::RouterSettings::default(),
        }
    }
}

fn storage<J: Job>(queue_db: &PgPool, s: &WorkerSettings) -> PostgresStorage<J> {
    let config = Config::default()
        .queue(J::NAME)
        .batch_size(16)
        .heartbeat_interval(s.heartbeat)
        .missed_heartbeats(s.missed_heartbeats);
    PostgresStorage::new(queue_db).with_config(config)
}

/// How often a worker also polls for jobs, besides being woken by `NOTIFY` as soon as one is
/// queued: a listener that lost its connection (PostgreSQL restarted) may miss notifications,
/// and a worker woken only by them would never see those jobs.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// [`storage`], woken by PostgreSQL's notifications (through the process's one listener) and
/// by a poll every [`POLL_EVERY`].
fn listening_storage<J: Job>(
    queue_db: &PgPool,
    s: &WorkerSettings,
    wakeups: &JobWakeups,
) -> PollWith<PostgresStorage<J>, Strategy> {
    let strategy = Strategy::new()
        .stream(wakeups.subscribe(J::NAME))
        .interval(POLL_EVERY);
    PollWith::new(storage::<J>(queue_db, s), strategy)
}

type Backoff = apalis::layers::retry::backoff::ExponentialBackoff<HasherRng>;

fn retry_policy(
    r: &RetrySettings,
) -> Result<apalis::layers::retry::BackoffRetryPolicy<Backoff>, WorkerError> {
    let mut maker =
        ExponentialBackoffMaker::new(r.min_backoff, r.max_backoff, 0.5, HasherRng::default())
            .map_err(|e| WorkerError::Config(format!("retry backoff {r:?}: {e}")))?;
    Ok(RetryPolicy::retries(r.max_attempts.saturating_sub(1)).with_backoff(maker.make_backoff()))
}

/// Registers the worker of job `$job` (handler `$handler`, at most `$limit` at once) with
/// `$monitor`, sharing `$env`, the job queue's pool `$queue_db`, `$settings` and the retry
/// `$policy`.
macro_rules! worker {
    ($monitor:expr, $env:expr, $queue_db:expr, $settings:expr, $policy:expr, $wakeups:expr, $job:ty, $handler:path, $limit:expr) => {{
        let (env, queue_db, settings, policy, wakeups, limit) = (
            $env.clone(),
            $queue_db.clone(),
            $settings.clone(),
            $policy.clone(),
            $wakeups.clone(),
            $limit,
        );
        $monitor.register(move |_restarts| {
            WorkerBuilder::new(format!("{}:{}", settings.name, <$job as Job>::NAME))
                .backend(listening_storage::<$job>(&queue_db, &settings, &wakeups))
                // Order matters to apalis: the concurrency limit outside the retries (a job
                // keeps one slot across its retries), retries outside tracing (spans show the
                // attempt), panics caught inside retries (a panic is retried like an error).
                .concurrency(limit)
                .retry(policy.clone())
                .enable_tracing()
                .catch_panic()
                .data(env.clone())
                .build($handler)
        })
    }};
}

/// Runs every job kind's worker until `shutdown` completes, then lets jobs in flight finish
/// (up to [`WorkerSettings::shutdown_timeout`]); jobs not finished are re-queued.
pub async fn run(
    env: TaskEnv,
    settings: WorkerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    let policy = retry_policy(&settings.retry)?;
    // apalis's own statements, on connections that plan them as key lookups.
    let queue_db = kea_store::job_queue_pool(&env.db);
    let (wakeups, listening) = JobWakeups::start(env.db.clone());
    let requeue_db = env.db.clone();
    let hand_backs = PendingHandBacks::default();
    let monitor = Monitor::new()
        .shutdown_timeout(settings.shutdown_timeout)
        // A worker whose backend fails (PostgreSQL restarting, a network blip) stops; start it
        // again, pausing a little longer each time (at most a second) so an outage is not a
        // busy loop. Queued jobs wait in the database meanwhile, and the jobs the failed
        // instance had taken are handed back (apalis would not: the worker keeps its id).
        .should_restart(move |worker, error| {
            let restarts = u32::try_from(worker.restarts()).unwrap_or(u32::MAX);
            tracing::warn!(worker = %worker.name(), restarts, %error, "job worker failed; restarting");
            hand_back_jobs(
                requeue_db.clone(),
                hand_backs.clone(),
                worker.name().to_owned(),
                Utc::now(),
            );
            std::thread::sleep(Duration::from_millis(50).saturating_mul(restarts.min(20)));
            true
        });
    let monitor = worker!(
        monitor,
        env,
        queue_db,
        settings,
        policy,
        wakeups,
        ExtractOrder,
        jobs::extract_order,
        settings.concurrency.extract
    );
    let monitor = worker!(
        monitor,
        env,
        queue_db,
        settings,
        policy,
        wakeups,
        DecideOrder,
        jobs::decide_order,
        settings.concurrency.decide
    );
    let monitor = worker!(
        monitor,
        env,
        queue_db,
        settings,
        policy,
        wakeups,
        PushOrderToPos,
        jobs::push_order_to_pos,
        settings.concurrency.push
    );
    let monitor = worker!(
        monitor,
        env,
        queue_db,
        settings,
        policy,
        wakeups,
        SendReceipt,
        jobs::send_receipt,
        settings.concurrency.sms
    );
    let monitor = worker!(
        monitor,
        env,
        queue_db,
        settings,
        policy,
        wakeups,
        NotifyOrderProblem,
        jobs::notify_order_problem,
        settings.concurrency.sms
    );
    let monitor = worker!(
        monitor,
        env,
        queue_db,
        settings,
        policy,
        wakeups,
        ConnectTransfer,
        jobs::connect_transfer,
        settings.concurrency.sms
    );
    let pruner = tokio::spawn(prune(env.db.clone(), settings.keep_done_jobs));
    // Offers tasks to agents; every replica routes, the reservations keep them apart.
    let router = tokio::spawn(crate::router::run(env.db.clone(), settings.router.clone()));
    tracing::info!(worker = %settings.name, "job workers started");
    let monitor = monitor
        .run_with_signal(async move {
            shutdown.await;
            Ok(())
        })
        .await
        .map_err(|e| WorkerError::Monitor(e.to_string()));
    pruner.abort();
    router.abort();
    listening.abort();
    queue_db.close().await;
    monitor?;
    tracing::info!(worker = %settings.name, "job workers stopped");
    Ok(())
}

/// The latest failure of each worker whose jobs are being handed back: one failure's hand-back
/// covers every job locked up to it, so an earlier one still retrying during an outage stops
/// rather than pile up beside it (a worker may fail every second while the database is down).
type PendingHandBacks = Arc<Mutex<HashMap<String, DateTime<Utc>>>>;

/// Re-queues, in the background, the jobs a failed worker instance had taken (see
/// [`kea_store::pipeline::requeue_jobs_of_failed_worker`]), retrying while the database is down.
fn hand_back_jobs(db: PgPool, pending: PendingHandBacks, worker: String, failed_at: DateTime<Utc>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::error!(worker, "no runtime to re-queue a failed worker's jobs on");
        return;
    };
    pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(worker.clone(), failed_at);
    let name = worker.clone();
    let latest = move |pending: &PendingHandBacks, done: bool| {
        let mut pending = pending.lock().unwrap_or_else(PoisonError::into_inner);
        let latest = pending.get(&worker) == Some(&failed_at);
        if latest && done {
            pending.remove(&worker);
        }
        latest
    };
    runtime.spawn(async move {
        for _ in 0..300 {
            if !latest(&pending, false) {
                return;
            }
            match kea_store::pipeline::requeue_jobs_of_failed_worker(&db, &name, failed_at).await {
                Ok(jobs) => {
                    if jobs > 0 {
                        tracing::info!(worker = name, jobs, "re-queued the jobs of a failed worker");
                    }
                    latest(&pending, true);
                    return;
                }
                Err(e) => {
                    tracing::debug!(worker = name, error = %e, "re-queueing a failed worker's jobs; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        tracing::error!(worker = name, "gave up re-queueing a failed worker's jobs after a minute");
    });
}

/// Deletes old finished jobs every ten minutes (any replica may; the deletes do not conflict).
async fn prune(db: sqlx::PgPool, keep: Duration) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        match kea_store::pipeline::prune_done_jobs(&db, keep).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "pruned finished jobs"),
            Err(e) => tracing::warn!(error = %e, "pruning finished jobs failed"),
        }
    }
}

//! One `LISTEN` for every job kind's worker in a process.
//!
//! PostgreSQL announces each queued job on apalis's channel (`apalis::job::insert`, with the
//! job's kind in the payload). apalis's own listener (`Pubsub`) holds one connection per job
//! kind, so each job woke six backends and six streams, and six of the pool's connections were
//! never free: a worker given fewer than eight connections stalled. Here one listener reads
//! the channel and wakes only the kind's worker, which then fetches a batch as usual.
//!
//! A wake-up is a signal, not a job: wake-ups that arrive while one is still pending are one
//! wake-up (one fetch takes them all). Notifications sent while the listener is reconnecting
//! are lost, so every worker is woken once it is back; the workers' interval poll covers the
//! rest (jobs retried later, jobs a dead worker left behind).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// apalis's channel (its `notify_new_jobs` trigger).
const CHANNEL: &str = "apalis::job::insert";

/// How long to wait before listening again after the database refused.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// The wake-up senders of a process, by job kind.
#[derive(Clone, Default)]
pub(crate) struct JobWakeups {
    kinds: Arc<Mutex<HashMap<&'static str, mpsc::Sender<()>>>>,
}

impl JobWakeups {
    /// Starts listening on `db`, until the pool is closed or the returned task is aborted.
    pub(crate) fn start(db: PgPool) -> (Self, tokio::task::JoinHandle<()>) {
        let wakeups = Self::default();
        let listening = tokio::spawn(wakeups.clone().listen(db));
        (wakeups, listening)
    }

    /// The wake-ups of `kind`'s worker. A worker restarted by the monitor subscribes again;
    /// its new stream replaces the old one.
    pub(crate) fn subscribe(&self, kind: &'static str) -> ReceiverStream<()> {
        let (tx, rx) = mpsc::channel(1);
        self.kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(kind, tx);
        ReceiverStream::new(rx)
    }

    fn wake(&self, kind: &str) {
        if let Some(tx) = self
            .kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(kind)
        {
            // Full: a wake-up is already pending, and its fetch will take this job too.
            let _ = tx.try_send(());
        }
    }

    fn wake_all(&self) {
        for tx in self
            .kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            let _ = tx.try_send(());
        }
    }

    async fn listen(self, db: PgPool) {
        while !db.is_closed() {
            let mut listener = match listen_on(&db).await {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::debug!(%error, "cannot listen for queued jobs yet; retrying");
                    tokio::time::sleep(RETRY_AFTER).await;
                    continue;
                }
            };
            // Jobs queued before this point were announced to nobody.
            self.wake_all();
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) => match job_kind(notification.payload()) {
                        Some(kind) => self.wake(&kind),
                        None => self.wake_all(),
                    },
                    // The connection was lost and is back (try_recv reconnects before it
                    // returns): what was announced meanwhile is lost.
                    Ok(None) => self.wake_all(),
                    Err(error) => {
                        tracing::debug!(%error, "lost the listener for queued jobs; listening again");
                        tokio::time::sleep(RETRY_AFTER).await;
                        break;
                    }
                }
            }
        }
    }
}

/// A listener on apalis's channel.
async fn listen_on(db: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(db).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// The job kind a notification names (`{"job_type": …, "id": …, "run_at": …}`).
fn job_kind(payload: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Announcement {
        job_type: String,
    }
    serde_json::from_str::<Announcement>(payload)
        .ok()
        .map(|a| a.job_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_stream::StreamExt;

    #[test]
    fn a_notification_names_its_job_kind() {
        let payload =
            r#"{"job_type": "extract_order", "id": "01J", "run_at": "2026-12-07T10:00:00Z"}"#;
        assert_eq!(job_kind(payload).as_deref(), Some("extract_order"));
        assert_eq!(job_kind("not json"), None);
        assert_eq!(job_kind(r#"{"id": "01J"}"#), None);
    }

    #[tokio::test]
    async fn wake_ups_go_to_their_kind_and_pending_ones_are_one() {
        let wakeups = JobWakeups::default();
        let mut extract = wakeups.subscribe("extract_order");
        let mut receipt = wakeups.subscribe("send_receipt");
        wakeups.wake("extract_order");
        wakeups.wake("extract_order");
        wakeups.wake("a_kind_nobody_runs");
        assert_eq!(extract.next().await, Some(()));
        // The second wake-up found the first pending: one fetch takes both jobs.
        assert!(
            tokio::time::timeout(Duration::from_millis(20), extract.next())
                .await
                .is_err()
        );
        assert!(
            tokio::time::timeout(Duration::from_millis(20), receipt.next())
                .await
                .is_err()
        );
        wakeups.wake_all();
        assert_eq!(receipt.next().await, Some(()));
        assert_eq!(extract.next().await, Some(()));
    }

    #[tokio::test]
    async fn a_worker_that_subscribes_again_gets_the_wake_ups() {
        let wakeups = JobWakeups::default();
        let old = wakeups.subscribe("extract_order");
        drop(old);
        let mut new = wakeups.subscribe("extract_order");
        wakeups.wake("extract_order");
        assert_eq!(new.next().await, Some(()));
    }
}

//! Live updates for the console: PostgreSQL's `NOTIFY kea_tasks` (sent by the task and worker
//! triggers) fanned out to each signed-in browser over server-sent events. One listener per
//! process, started on the first subscriber; each browser gets only the notifications that name
//! its worker. Nothing polls: a browser hears of an offer when PostgreSQL commits it.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{OnceCell, broadcast};
use tokio_stream::wrappers::BroadcastStream;
use uuid::Uuid;

/// A task or worker change, as the triggers send it.
#[derive(Debug, Clone, Deserialize)]
pub struct TaskChange {
    /// The task, when a task changed.
    #[serde(default)]
    pub task: Option<Uuid>,
    /// Its new status.
    #[serde(default)]
    pub status: Option<String>,
    /// The workers concerned (the old and the new holder, or the worker whose activity changed).
    #[serde(default, deserialize_with = "ids")]
    pub workers: Vec<Uuid>,
    /// A worker's new activity.
    #[serde(default)]
    pub activity: Option<String>,
}

/// A list of worker ids, nulls (no holder) left out.
fn ids<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Uuid>, D::Error> {
    Ok(Vec::<Option<Uuid>>::deserialize(d)?
        .into_iter()
        .flatten()
        .collect())
}

/// The process's one listener and its subscribers.
#[derive(Default)]
pub struct Hub {
    sender: OnceCell<broadcast::Sender<TaskChange>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

impl Hub {
    /// A receiver of every change, starting the listener if this is the first.
    pub async fn subscribe(&self, db: &PgPool) -> broadcast::Receiver<TaskChange> {
        self.sender
            .get_or_init(|| async {
                let (tx, _) = broadcast::channel(256);
                tokio::spawn(listen(db.clone(), tx.clone()));
                tx
            })
            .await
            .subscribe()
    }
}

/// Forwards `kea_tasks` notifications until the process ends, reconnecting after a lost
/// connection (the browsers are told to refresh then, since notifications may have been missed).
async fn listen(db: PgPool, tx: broadcast::Sender<TaskChange>) {
    loop {
        match PgListener::connect_with(&db).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen("kea_tasks").await {
                    tracing::warn!(error = %e, "console: cannot LISTEN kea_tasks; retrying");
                } else {
                    // Anything may have happened while we were not listening.
                    let _ = tx.send(TaskChange {
                        task: None,
                        status: None,
                        workers: Vec::new(),
                        activity: None,
                    });
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(n)) => match serde_json::from_str::<TaskChange>(n.payload()) {
                                Ok(change) => {
                                    let _ = tx.send(change);
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, payload = n.payload(), "console: unreadable notification");
                                }
                            },
                            Ok(None) => {
                                tracing::warn!(
                                    "console: lost the notification connection; reconnecting"
                                );
                                break;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "console: notification connection failed");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "console: cannot connect to listen; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The event stream of one signed-in worker: `tasks` events naming the task that changed (the
/// page then fetches its fresh task list), and `refresh` after a gap (missed notifications).
pub fn stream_for(
    worker: Uuid,
    rx: broadcast::Receiver<TaskChange>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Browsers drop an event whose data is empty (the SSE spec), so every event says something.
    let hello =
        futures_util::stream::once(async { Ok(Event::default().event("ready").data("{}")) });
    let changes = BroadcastStream::new(rx).filter_map(move |item| async move {
        match item {
            Ok(change) if change.workers.is_empty() && change.task.is_none() => {
                Some(Ok(Event::default().event("refresh").data("{}")))
            }
            Ok(change) if change.workers.contains(&worker) => {
                let data = serde_json::json!({
                    "task": change.task,
                    "status": change.status,
                    "activity": change.activity,
                });
                Some(Ok(Event::default().event("tasks").data(data.to_string())))
            }
            Ok(_) => None,
            // This browser fell behind: it should re-read everything.
            Err(_) => Some(Ok(Event::default().event("refresh").data("{}"))),
        }
    });
    Sse::new(hello.chain(changes)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

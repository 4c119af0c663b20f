//! Tasks, workers and offers: the SQL behind the router (kea_tasks::router), `kea agent add`
//! and the console.
//!
//! The invariants live in PostgreSQL (`migrations/20261207000001_agents.sql`): [`reserve`] takes
//! a task only from `pending` and counts a worker's tasks with the worker's row locked, so no two
//! routers can give one task to two workers or a worker more than its capacity; what an agent may
//! change is checked by triggers that read the agent's claims, the same for the data API and the
//! console ([`as_agent`]).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::StoreError;

/// The routing configuration as stored: queues and the `default` workflow.
#[derive(Debug, Clone)]
pub struct RoutingConfig {
    /// `(name, target_workers)` of every queue.
    pub queues: Vec<(String, String)>,
    /// The workflow's TaskRouter-shaped configuration.
    pub workflow: Value,
    /// Seconds a worker has to accept an offer.
    pub reservation_timeout_secs: i32,
}

/// Loads the queues and the `default` workflow.
pub async fn routing_config(pool: &PgPool) -> Result<RoutingConfig, StoreError> {
    let queues = sqlx::query_as::<_, (String, String)>(
        "SELECT name, target_workers FROM task_queues ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    let (workflow, reservation_timeout_secs) = sqlx::query_as::<_, (Value, i32)>(
        "SELECT configuration, reservation_timeout FROM workflows WHERE name = 'default'",
    )
    .fetch_one(pool)
    .await?;
    Ok(RoutingConfig {
        queues,
        workflow,
        reservation_timeout_secs,
    })
}

/// A task waiting for a worker.
#[derive(Debug, Clone)]
pub struct PendingTask {
    /// The task.
    pub id: Uuid,
    /// Its attributes (kind, store_id, language, …).
    pub attributes: Value,
    /// Seconds since it was created.
    pub age_secs: f64,
    /// Workers who turned it down or let the offer lapse in the last `refusal_window` seconds:
    /// not offered it again meanwhile.
    pub refused_by: Vec<Uuid>,
}

/// The pending tasks, highest priority then oldest first (TaskRouter's order), at most `limit`.
pub async fn pending_tasks(
    pool: &PgPool,
    limit: i64,
    refusal_window_secs: f64,
) -> Result<Vec<PendingTask>, StoreError> {
    let rows = sqlx::query(
        "SELECT t.id, t.attributes,
                extract(epoch FROM now() - t.created_at)::float8 AS age,
                coalesce((SELECT array_agg(DISTINCT r.worker_id) FROM task_reservations r
                           WHERE r.task_id = t.id AND r.status IN ('rejected', 'timeout')
                             AND r.responded_at > now() - make_interval(secs => $2)),
                         '{}') AS refused_by
           FROM tasks t
          WHERE t.status = 'pending'
          ORDER BY t.priority DESC, t.created_at
          LIMIT $1",
    )
    .bind(limit)
    .bind(refusal_window_secs)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(PendingTask {
                id: r.try_get("id")?,
                attributes: r.try_get("attributes")?,
                age_secs: r.try_get("age")?,
                refused_by: r.try_get("refused_by")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// A worker who could be offered a task now.
#[derive(Debug, Clone)]
pub struct AvailableWorker {
    /// The worker.
    pub id: Uuid,
    /// Its attributes (skills, languages, stores).
    pub attributes: Value,
    /// How many more tasks it can hold.
    pub free_capacity: i64,
    /// Seconds since it became free.
    pub idle_secs: f64,
}

/// Workers who are `available` with room for another task.
pub async fn available_workers(pool: &PgPool) -> Result<Vec<AvailableWorker>, StoreError> {
    let rows = sqlx::query(
        "SELECT w.id, w.attributes,
                w.capacity - (SELECT count(*) FROM tasks t
                               WHERE t.worker_id = w.id AND t.status IN ('reserved', 'assigned'))
                    AS free,
                extract(epoch FROM now() - w.idle_since)::float8 AS idle
           FROM workers w
          WHERE w.activity = 'available'",
    )
    .fetch_all(pool)
    .await?;
    let mut workers = Vec::with_capacity(rows.len());
    for r in rows {
        let free: i64 = r.try_get("free")?;
        if free > 0 {
            workers.push(AvailableWorker {
                id: r.try_get("id")?,
                attributes: r.try_get("attributes")?,
                free_capacity: free,
                idle_secs: r.try_get("idle")?,
            });
        }
    }
    Ok(workers)
}

/// Offers `task` to `worker` if both still allow it (see the module doc). True when offered.
pub async fn reserve(
    pool: &PgPool,
    task: Uuid,
    worker: Uuid,
    step: &str,
    timeout_secs: i32,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar("SELECT kea_reserve($1, $2, $3, $4)")
        .bind(task)
        .bind(worker)
        .bind(step)
        .bind(timeout_secs)
        .fetch_one(pool)
        .await?)
}

/// Puts the offers nobody answered in time back to `pending`. Returns how many.
pub async fn expire_reservations(pool: &PgPool) -> Result<i32, StoreError> {
    Ok(sqlx::query_scalar("SELECT kea_expire_reservations()")
        .fetch_one(pool)
        .await?)
}

/// The soonest instant something will need the router without a notification: an offer
/// expiring. `None` when no offer is open.
pub async fn next_reservation_expiry(pool: &PgPool) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT min(reservation_expires_at) FROM tasks WHERE status = 'reserved'",
    )
    .fetch_one(pool)
    .await?)
}

/// How many workers who take `skill` tasks are not offline.
pub async fn agents_on_duty(pool: &PgPool, skill: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM workers
          WHERE activity <> 'offline' AND attributes -> 'skills' ? $1",
    )
    .bind(skill)
    .fetch_one(pool)
    .await?)
}

/// Switches the transaction on `conn` to the `kea_agent` role with `worker`'s claims, as the data
/// API does for an agent's token: row-level security and the agent triggers then apply to what
/// follows, exactly as they would to the same request through `/rest/v1`.
pub async fn as_agent(conn: &mut PgConnection, worker: Uuid) -> Result<(), StoreError> {
    let claims = serde_json::json!({"role": "agent", "worker_id": worker}).to_string();
    sqlx::query(
        "SELECT set_config('role', 'kea_agent', true), set_config('request.jwt.claims', $1, true)",
    )
    .bind(claims)
    .execute(conn)
    .await?;
    Ok(())
}

/// A call-center agent as `kea agent add` writes it.
#[derive(Debug, Clone)]
pub struct NewAgent<'a> {
    /// Sign-in e-mail (case-insensitive, unique).
    pub email: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Language subtags (`en`, `es`).
    pub languages: &'a [String],
    /// Store ids served; empty serves none in particular (reached after the first escalation).
    pub stores: &'a [String],
    /// Task kinds taken (`verify_order`, `callback`, `transfer`).
    pub skills: &'a [String],
    /// Tasks held at once.
    pub capacity: i32,
    /// Where a transferred caller is connected (E.164 or `client:<identity>`).
    pub contact: Option<&'a str>,
    /// argon2 PHC string of the password.
    pub password_hash: &'a str,
}

/// Creates the agent, or updates the one with this e-mail. Returns its id and whether it is new.
pub async fn upsert_agent(pool: &PgPool, a: &NewAgent<'_>) -> Result<(Uuid, bool), StoreError> {
    let attributes = serde_json::json!({
        "languages": a.languages,
        "stores": a.stores,
        "skills": a.skills,
    });
    let mut tx = pool.begin().await?;
    let existing: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM workers WHERE lower(email) = lower($1) FOR UPDATE")
            .bind(a.email)
            .fetch_optional(&mut *tx)
            .await?;
    let result = match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE workers SET name = $2, attributes = $3, capacity = $4, contact = $5,
                                    password_hash = $6
                 WHERE id = $1",
            )
            .bind(id)
            .bind(a.name)
            .bind(&attributes)
            .bind(a.capacity)
            .bind(a.contact)
            .bind(a.password_hash)
            .execute(&mut *tx)
            .await?;
            (id, false)
        }
        None => {
            let id = sqlx::query_scalar(
                "INSERT INTO workers (email, name, attributes, capacity, contact, password_hash)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(a.email)
            .bind(a.name)
            .bind(&attributes)
            .bind(a.capacity)
            .bind(a.contact)
            .bind(a.password_hash)
            .fetch_one(&mut *tx)
            .await?;
            (id, true)
        }
    };
    tx.commit().await?;
    Ok(result)
}

/// Store ids that do not exist, of those given.
pub async fn unknown_stores(pool: &PgPool, ids: &[String]) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT i FROM unnest($1::text[]) AS i WHERE NOT EXISTS (SELECT FROM stores WHERE id = i)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?)
}

/// Finds a merchant by its id or its exact name.
pub async fn find_merchant(pool: &PgPool, id_or_name: &str) -> Result<Option<Uuid>, StoreError> {
    let by_id = Uuid::parse_str(id_or_name).ok();
    Ok(sqlx::query_scalar(
        "SELECT id FROM merchants WHERE id = $1 OR name = $2 ORDER BY (id = $1) DESC NULLS LAST LIMIT 1",
    )
    .bind(by_id)
    .bind(id_or_name)
    .fetch_optional(pool)
    .await?)
}

/// Creates the merchant's user, or updates the one with this e-mail. Returns its id and whether
/// it is new.
pub async fn upsert_merchant_user(
    pool: &PgPool,
    merchant: Uuid,
    email: &str,
    password_hash: &str,
) -> Result<(Uuid, bool), StoreError> {
    let row = sqlx::query(
        "INSERT INTO merchant_users (merchant_id, email, password_hash) VALUES ($1, $2, $3)
         ON CONFLICT (lower(email)) DO UPDATE
            SET merchant_id = EXCLUDED.merchant_id, password_hash = EXCLUDED.password_hash
         RETURNING id, (xmax = 0) AS inserted",
    )
    .bind(merchant)
    .bind(email)
    .bind(password_hash)
    .fetch_one(pool)
    .await?;
    Ok((row.try_get("id")?, row.try_get("inserted")?))
}

/// A transfer an agent accepted: the caller's call and where to reach the agent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AcceptedTransfer {
    /// The waiting caller's call.
    pub call_sid: String,
    /// The agent.
    pub worker_id: Uuid,
    /// The agent's number or `client:<identity>`; `None` if it has none.
    pub contact: Option<String>,
    /// The caller's language (BCP 47).
    pub language: String,
    /// Whether the call has ended (the caller hung up while waiting).
    pub call_ended: bool,
}

/// The transfer task `task` if it is assigned (accepted) and not yet connected.
pub async fn accepted_transfer(
    pool: &PgPool,
    task: Uuid,
) -> Result<Option<AcceptedTransfer>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT t.call_sid, t.worker_id, w.contact, c.language,
                (c.ended_at IS NOT NULL OR c.status <> 'in-progress') AS call_ended
           FROM tasks t JOIN workers w ON w.id = t.worker_id JOIN calls c ON c.call_sid = t.call_sid
          WHERE t.id = $1 AND t.kind = 'transfer' AND t.status = 'assigned'",
    )
    .bind(task)
    .fetch_optional(pool)
    .await?)
}

/// Closes a transfer task: `completed` once the caller was connected to the agent, `canceled`
/// when the caller could not be (hung up, left the queue), recording why.
pub async fn finish_transfer(
    pool: &PgPool,
    task: Uuid,
    connected: bool,
    detail: Value,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE tasks SET status = $2, finished_at = now()
          WHERE id = $1 AND kind = 'transfer' AND status NOT IN ('completed', 'canceled')",
    )
    .bind(task)
    .bind(if connected { "completed" } else { "canceled" })
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        sqlx::query(
            "INSERT INTO task_events (task_id, worker_id, action, detail)
             SELECT id, worker_id, $2, $3 FROM tasks WHERE id = $1",
        )
        .bind(task)
        .bind(if connected {
            "call_connected"
        } else {
            "canceled"
        })
        .bind(detail)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Opens the `transfer` task of a caller who asked for a person (at most one open per call).
/// Returns the open task's id.
pub async fn open_transfer(
    pool: &PgPool,
    call_sid: &str,
    reason: &str,
) -> Result<Uuid, StoreError> {
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO tasks (call_sid, kind, priority, reason)
         VALUES ($1, 'transfer', 30, $2)
         ON CONFLICT (call_sid) WHERE kind = 'transfer' AND status NOT IN ('completed', 'canceled')
         DO NOTHING
         RETURNING id",
    )
    .bind(call_sid)
    .bind(reason)
    .fetch_optional(pool)
    .await?;
    match inserted {
        Some(id) => Ok(id),
        None => Ok(sqlx::query_scalar(
            "SELECT id FROM tasks WHERE call_sid = $1 AND kind = 'transfer'
                AND status NOT IN ('completed', 'canceled')",
        )
        .bind(call_sid)
        .fetch_one(pool)
        .await?),
    }
}

/// Where a waiting caller stands: the transfer task's status and how many open transfers are
/// ahead of it (older, still waiting for an agent).
pub async fn transfer_position(
    pool: &PgPool,
    call_sid: &str,
) -> Result<Option<(Uuid, String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT t.id, t.status,
                (SELECT count(*) FROM tasks o
                  WHERE o.kind = 'transfer' AND o.status IN ('pending', 'reserved')
                    AND o.created_at < t.created_at) AS ahead
           FROM tasks t
          WHERE t.call_sid = $1 AND t.kind = 'transfer'
          ORDER BY t.created_at DESC LIMIT 1",
    )
    .bind(call_sid)
    .fetch_optional(pool)
    .await?)
}

/// The CTEs that give up on call `$1`'s waiting transfer, unless an agent already has it:
/// `canceled` yields the task, `noted` records why (`why`, a parameter or a literal). Data-changing
/// CTEs run whether or not the statement reads them.
pub(crate) fn cancel_transfer_ctes(why: &str) -> String {
    format!(
        "canceled AS (
       UPDATE tasks SET status = 'canceled', finished_at = now()
        WHERE call_sid = $1 AND kind = 'transfer' AND status IN ('pending', 'reserved')
       RETURNING id),
     noted AS (
       INSERT INTO task_events (task_id, action, detail)
       SELECT id, 'canceled', jsonb_build_object('why', {why}::text) FROM canceled)"
    )
}

static CANCEL_TRANSFER: crate::LazySql = crate::LazySql::new(|| {
    format!(
        "WITH {} SELECT EXISTS (SELECT FROM canceled)",
        cancel_transfer_ctes("$2")
    )
});

/// Gives up on a waiting caller's transfer (timed out, hung up): the task is canceled unless an
/// agent already has it, in one statement. Returns whether it was canceled.
pub async fn cancel_transfer(
    db: &impl crate::direct::RunStatement,
    call_sid: &str,
    why: &str,
) -> Result<bool, StoreError> {
    let statement = sqlx::query_as(CANCEL_TRANSFER.as_str())
        .bind(call_sid)
        .bind(why);
    let (canceled,): (bool,) = db.fetch_one(statement).await?;
    Ok(canceled)
}

/// Opens a `callback` task for a caller who chose to be called back instead of waiting.
pub async fn open_caller_callback(
    pool: &PgPool,
    call_sid: &str,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tasks (call_sid, kind, priority, reason)
         SELECT $1, 'callback', 25, $2
          WHERE NOT EXISTS (SELECT FROM tasks WHERE call_sid = $1 AND kind = 'callback'
                                                 AND status NOT IN ('completed', 'canceled'))",
    )
    .bind(call_sid)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(())
}

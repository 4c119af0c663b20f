//! The job queue's recovery helpers against a real PostgreSQL database.
#![expect(clippy::unwrap_used, reason = "tests")]

use kea_store::pipeline::requeue_jobs_of_failed_worker;
use kea_test_db::TestDb;

/// Every job as (idempotency key, status, worker holding it), by key.
async fn jobs(pool: &sqlx::PgPool) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT idempotency_key, status, lock_by FROM apalis.jobs ORDER BY idempotency_key",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_failed_worker_s_jobs_are_handed_back_and_later_ones_kept() {
    let db = TestDb::new().await;
    let pool = db.pool();
    // Three jobs: two taken by worker w1 before it failed (one fetched, one running), one it
    // took after its restart; and one of another worker.
    sqlx::query(
        "INSERT INTO apalis.workers (id, worker_type, storage_name)
         VALUES ('w1', 'push_order_to_pos', 'PgStorage'), ('w2', 'push_order_to_pos', 'PgStorage')",
    )
    .execute(pool)
    .await
    .unwrap();
    for (key, status, by, ago) in [
        ("a", "Queued", "w1", 5),
        ("b", "Running", "w1", 3),
        ("c", "Running", "w1", -10),
        ("d", "Running", "w2", 5),
    ] {
        sqlx::query("SELECT kea_enqueue('push_order_to_pos', '{}'::jsonb, $1)")
            .bind(key)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query(
            "UPDATE apalis.jobs SET status = $2, lock_by = $3,
                    lock_at = now() - make_interval(secs => $4)
             WHERE idempotency_key = $1",
        )
        .bind(key)
        .bind(status)
        .bind(by)
        .bind(f64::from(ago))
        .execute(pool)
        .await
        .unwrap();
    }
    let n = requeue_jobs_of_failed_worker(pool, "w1", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(n, 2);
    let rows = jobs(pool).await;
    let want = [
        ("a", "Pending", None),
        ("b", "Pending", None),
        ("c", "Running", Some("w1")),
        ("d", "Running", Some("w2")),
    ]
    .map(|(k, s, b)| (k.to_owned(), s.to_owned(), b.map(str::to_owned)));
    assert_eq!(rows, want);
}

#[tokio::test]
async fn a_done_job_lets_go_of_its_worker_and_a_failed_one_keeps_it() {
    let db = TestDb::new().await;
    let pool = db.pool();
    sqlx::query(
        "INSERT INTO apalis.workers (id, worker_type, storage_name)
         VALUES ('w1', 'extract_order', 'PgStorage')",
    )
    .execute(pool)
    .await
    .unwrap();
    for key in ["done", "failed", "running"] {
        sqlx::query("SELECT kea_enqueue('extract_order', '{}'::jsonb, $1)")
            .bind(key)
            .execute(pool)
            .await
            .unwrap();
    }
    // Taken by w1, as apalis takes them; then one finishes, one fails, one is still running.
    sqlx::query(
        "UPDATE apalis.jobs SET status = 'Running', lock_by = 'w1', lock_at = now(), attempts = 1",
    )
    .execute(pool)
    .await
    .unwrap();
    for (key, status) in [("done", "Done"), ("failed", "Failed")] {
        sqlx::query(
            "UPDATE apalis.jobs SET status = $2, done_at = now() WHERE idempotency_key = $1",
        )
        .bind(key)
        .bind(status)
        .execute(pool)
        .await
        .unwrap();
    }
    let rows = jobs(pool).await;
    let want = [
        ("done", "Done", None),
        ("failed", "Failed", Some("w1")),
        ("running", "Running", Some("w1")),
    ]
    .map(|(k, s, b)| (k.to_owned(), s.to_owned(), b.map(str::to_owned)));
    assert_eq!(rows, want);
    // What apalis's acknowledgement and heartbeat look up by worker is only the jobs in flight
    // (and failed ones), not every job the worker ever finished.
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE lock_by = 'w1'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(held, 2);
}

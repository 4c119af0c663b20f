//! The job queue's recovery helpers against a real PostgreSQL database.
#![expect(clippy::unwrap_used, reason = "tests")]

use kea_store::pipeline::requeue_jobs_of_failed_worker;
use kea_test_db::TestDb;

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
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT idempotency_key, status, lock_by FROM apalis.jobs ORDER BY idempotency_key",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let want = [
        ("a", "Pending", None),
        ("b", "Pending", None),
        ("c", "Running", Some("w1")),
        ("d", "Running", Some("w2")),
    ]
    .map(|(k, s, b)| (k.to_owned(), s.to_owned(), b.map(str::to_owned)));
    assert_eq!(rows, want);
}

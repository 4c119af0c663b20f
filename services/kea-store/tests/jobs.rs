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

/// Registers `id` as a worker of `extract_order` jobs (a job's `lock_by` must name one).
async fn register_extract_worker(pool: &sqlx::PgPool, id: &str) {
    sqlx::query(
        "INSERT INTO apalis.workers (id, worker_type, storage_name)
         VALUES ($1, 'extract_order', 'PgStorage')",
    )
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
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
    register_extract_worker(pool, "w1").await;
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

/// The plan PostgreSQL keeps for `statement` (prepared on `conn` while `apalis.jobs` was empty,
/// executed once, then again after the table grew to `grown` jobs), as EXPLAIN's text.
async fn plan_kept_from_an_empty_table(
    conn: &mut sqlx::PgConnection,
    pool: &sqlx::PgPool,
    prepare: &'static str,
    execute: &'static str,
    grown: i32,
) -> String {
    // A generic plan at once, as sqlx's prepared statements get after their fifth execution.
    sqlx::query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::raw_sql(prepare).execute(&mut *conn).await.unwrap();
    sqlx::raw_sql(execute).execute(&mut *conn).await.unwrap();
    sqlx::query(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at,
                                  priority, metadata, idempotency_key, done_at)
         SELECT apalis.generate_ulid(), 'extract_order', convert_to('{}', 'UTF8'), 'Done', 1, 8,
                now(), 0, ''::hstore, 'done-' || n || '-' || random(), now()
           FROM generate_series(1, $1) n",
    )
    .bind(grown)
    .execute(pool)
    .await
    .unwrap();
    let lines: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {execute}")))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    lines.join("\n")
}

/// apalis's statements that mark fetched jobs running and acknowledge finished ones, in their
/// shape (ids from the worker, the worker's name), planned once on a job-queue connection while
/// the table was empty, as on a new database: they still look each job up by its primary key
/// when the table has grown, instead of reading it whole (as such a plan did on an ordinary
/// connection) or every index entry a worker's name ever had (as they did with the `lock_by`
/// index that kept finished jobs).
#[tokio::test]
async fn apalis_s_statements_look_jobs_up_by_key_however_small_the_table_was_when_planned() {
    let db = TestDb::new().await;
    let queue = kea_store::job_queue_pool(db.pool());
    let mut conn = queue.acquire().await.unwrap();
    let running = plan_kept_from_an_empty_table(
        &mut conn,
        db.pool(),
        "PREPARE running(text[], text) AS
           UPDATE apalis.jobs SET status = 'Running', lock_at = now(), lock_by = $2
            WHERE (status = 'Pending' OR status = 'Queued'
                   OR (status = 'Failed' AND attempts < max_attempts))
              AND run_at < now() AND id = ANY($1)",
        "EXECUTE running('{01J00000000000000000000000}', 'w1')",
        3000,
    )
    .await;
    let acknowledge = plan_kept_from_an_empty_table(
        &mut conn,
        db.pool(),
        "PREPARE acknowledge(jsonb, text) AS
           WITH j AS (SELECT value ->> 'task_id' AS task_id, value ->> 'status' AS status
                        FROM jsonb_array_elements($1) AS value),
                locked AS (SELECT jobs.id FROM apalis.jobs AS jobs JOIN j ON j.task_id = jobs.id
                            WHERE jobs.lock_by = $2 ORDER BY jobs.id FOR UPDATE)
           UPDATE apalis.jobs AS jobs SET status = j.status, done_at = now()
             FROM j JOIN locked ON locked.id = j.task_id
            WHERE jobs.id = locked.id",
        r#"EXECUTE acknowledge('[{"task_id": "01J00000000000000000000000", "status": "Done"}]', 'w1')"#,
        3000,
    )
    .await;
    for (name, plan) in [("running", &running), ("acknowledge", &acknowledge)] {
        assert!(plan.contains("jobs_pkey"), "{name} by id:\n{plan}");
        for whole in [
            "Seq Scan",
            "Hash Join",
            "Merge Join",
            "BitmapOr",
            "idx_apalis_jobs_lock_by",
            "idx_apalis_jobs_fetch_partial",
        ] {
            assert!(!plan.contains(whole), "{name} reads {whole}:\n{plan}");
        }
    }
}

/// kea's apalis.get_jobs (PL/pgSQL, its plan kept) takes what apalis's did: the due jobs of the
/// kind, waiting or failed with attempts left, highest priority first then oldest, at most as
/// many as asked, marked queued for the worker.
#[tokio::test]
async fn a_fetch_takes_the_due_jobs_of_its_kind_by_priority_then_age() {
    let db = TestDb::new().await;
    let pool = db.pool();
    register_extract_worker(pool, "w1").await;
    for (key, kind, status, attempts, priority, age) in [
        ("old", "extract_order", "Pending", 0, 0, 30),
        ("new", "extract_order", "Pending", 0, 0, 10),
        ("urgent", "extract_order", "Pending", 0, 5, 1),
        ("retry", "extract_order", "Failed", 2, 0, 20),
        ("spent", "extract_order", "Failed", 8, 0, 40),
        ("later", "extract_order", "Pending", 0, 9, -60),
        ("other", "push_order_to_pos", "Pending", 0, 9, 50),
        ("taken", "extract_order", "Running", 1, 9, 50),
    ] {
        sqlx::query("SELECT kea_enqueue($2, '{}'::jsonb, $1)")
            .bind(key)
            .bind(kind)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query(
            "UPDATE apalis.jobs SET status = $2, attempts = $3, priority = $4,
                    run_at = now() - make_interval(secs => $5)
             WHERE idempotency_key = $1",
        )
        .bind(key)
        .bind(status)
        .bind(attempts)
        .bind(priority)
        .bind(f64::from(age))
        .execute(pool)
        .await
        .unwrap();
    }
    let fetch = || async {
        let taken: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT idempotency_key, status, lock_by
               FROM apalis.get_jobs('w1', 'extract_order', 3)",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        taken
    };
    let first = fetch().await;
    let keys: Vec<&str> = first.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(keys, ["urgent", "old", "retry"]);
    assert!(
        first
            .iter()
            .all(|(_, s, by)| s == "Queued" && by.as_deref() == Some("w1")),
        "{first:?}"
    );
    let second = fetch().await;
    let keys: Vec<&str> = second.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(keys, ["new"]);
    assert!(fetch().await.is_empty());
}

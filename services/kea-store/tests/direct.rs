//! The connections lent without sqlx's pool (`kea_store::direct`), against PostgreSQL: kept and
//! lent again after a statement, closed when a statement never finished, never more than asked.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::time::Duration;

use kea_store::direct::{DirectPool, RunStatement};
use kea_test_db::TestDb;

/// The backend a statement ran on.
async fn backend(db: &DirectPool) -> i32 {
    let (pid,): (i32,) = db
        .fetch_one(sqlx::query_as("SELECT pg_backend_pid()"))
        .await
        .unwrap();
    pid
}

#[tokio::test]
async fn a_connection_is_lent_again_after_its_statement_and_after_a_refused_one() {
    let db = TestDb::new().await;
    let direct = DirectPool::beside(db.pool());
    let first = backend(&direct).await;
    assert_eq!(backend(&direct).await, first, "the same connection, kept");

    // A statement PostgreSQL refuses leaves the connection as it was: it is kept.
    let refused = direct
        .execute(sqlx::query("SELECT * FROM no_such_table"))
        .await;
    assert!(
        matches!(refused, Err(sqlx::Error::Database(_))),
        "{refused:?}"
    );
    assert_eq!(backend(&direct).await, first);
}

#[tokio::test]
async fn a_statement_that_never_finished_closes_its_connection() {
    let db = TestDb::new().await;
    let direct = DirectPool::beside(db.pool());
    let first = backend(&direct).await;
    // The borrower gives up mid-statement (a request timed out): the connection's protocol
    // state is unknown, so it must not be lent again.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        direct.execute(sqlx::query("SELECT pg_sleep(5)")),
    )
    .await;
    assert!(gave_up.is_err(), "the statement was cut short");
    let next = backend(&direct).await;
    assert_ne!(
        next, first,
        "a new connection, not the one left mid-statement"
    );
}

#[tokio::test]
async fn a_connection_closed_while_idle_is_replaced_before_it_is_lent() {
    let db = TestDb::new().await;
    let direct = DirectPool::beside(db.pool());
    let first = backend(&direct).await;
    let _: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(first)
        .fetch_one(db.pool())
        .await
        .unwrap();
    // Idle for longer than a connection is trusted without a check (a restarted server).
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let next = backend(&direct).await;
    assert_ne!(next, first);
}

#[tokio::test]
async fn no_more_connections_than_asked_and_a_wait_that_ends() {
    let db = TestDb::new().await;
    let options: sqlx::postgres::PgConnectOptions = db.url().parse().unwrap();
    let direct: DirectPool = DirectPool::new(options, 1, Duration::from_millis(300));
    let held = direct.acquire().await.unwrap();
    let waited = direct.acquire().await;
    assert!(
        matches!(waited, Err(sqlx::Error::PoolTimedOut)),
        "the only connection is lent: {:?}",
        waited.err()
    );
    drop(held);
    direct.acquire().await.unwrap();
}

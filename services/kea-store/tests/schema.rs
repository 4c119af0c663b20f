//! The migrated schema, read back from PostgreSQL's catalog.
#![expect(clippy::unwrap_used, reason = "tests")]

use kea_test_db::TestDb;

/// Every index is paid for by every row written to its table: none may repeat another (the
/// same columns, or the leading columns of another, when it is not unique; the same columns
/// twice, when it is, unless a foreign key is bound to one of the two), in kea's tables or apalis's.
#[tokio::test]
async fn no_index_repeats_another() {
    let db = TestDb::new().await;
    let repeated: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.indexrelid::regclass::text, b.indexrelid::regclass::text
           FROM pg_index a
           JOIN pg_index b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
           JOIN pg_class t ON t.oid = a.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE n.nspname IN ('public', 'apalis')
            AND a.indpred IS NULL AND b.indpred IS NULL
            AND a.indexprs IS NULL AND b.indexprs IS NULL
            AND (b.indkey::text = a.indkey::text OR b.indkey::text LIKE a.indkey::text || ' %')
            AND (b.indclass::text = a.indclass::text OR b.indclass::text LIKE a.indclass::text || ' %')
            AND (NOT a.indisunique
                 OR (b.indisunique AND b.indkey::text = a.indkey::text AND a.indexrelid > b.indexrelid
                     AND NOT EXISTS (SELECT FROM pg_constraint f WHERE f.contype = 'f'
                                        AND f.conindid IN (a.indexrelid, b.indexrelid))))
          ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(
        repeated.is_empty(),
        "indexes that repeat another: {repeated:?}"
    );
}

/// The statuses kea's code knows are the ones `orders.status` (the domain `order_status`)
/// accepts, no more and no fewer, and they read back as themselves.
#[tokio::test]
async fn order_statuses_are_the_ones_the_database_accepts() {
    use kea_store::pipeline::OrderStatus;
    let db = TestDb::new().await;
    for status in OrderStatus::ALL {
        let back: OrderStatus = sqlx::query_scalar("SELECT $1::order_status")
            .bind(status)
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(back, status);
    }
    let listed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''[a-z_]+''', 'g')
          WHERE c.contypid = 'order_status'::regtype",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(listed, OrderStatus::ALL.len() as i64);
    let refused = sqlx::query("SELECT 'lost'::order_status")
        .execute(db.pool())
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("order_status_check"),
        "{refused}"
    );
}

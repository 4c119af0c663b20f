//! Message statuses against a real PostgreSQL database: out-of-order callbacks, and callbacks that
//! beat the recording of the message's sid.
#![expect(clippy::unwrap_used, reason = "tests")]

use kea_store::import_store;
use kea_store::pipeline::{
    NewSms, SmsSlot, SmsStatusRecord, mark_sent_to_pos_reserving_receipt, record_sms_sent,
    record_sms_status, reserve_sms,
};
use kea_test_db::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

const TONYS: &str = include_str!("../../../tests/fixtures/stores/tonys-pizza.json");

async fn with_tonys() -> TestDb {
    let db = TestDb::new().await;
    let mut tx = db.pool().begin().await.unwrap();
    import_store(&mut tx, &kea_menu::Store::parse(TONYS).unwrap())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    db
}

/// A new order of Tony's in `status`.
async fn new_order(pool: &PgPool, status: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO orders (store_id, status, fulfillment, subtotal_cents, tax_cents, total_cents)
         VALUES ('tonys-pizza', $1, 'pickup', 0, 0, 0) RETURNING id",
    )
    .bind(status)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The order's receipt, before it is sent.
fn receipt_of(order: Uuid) -> NewSms<'static> {
    NewSms {
        order_id: order,
        store_id: "tonys-pizza",
        kind: "receipt",
        from: "+15550100001",
        to: "+15557654321",
        body: "Thanks!",
    }
}

/// A new order with its receipt reserved (row status `sending`, no sid yet).
async fn reserved_receipt(pool: &PgPool) -> Uuid {
    let order = new_order(pool, "cancelled").await;
    let slot = reserve_sms(pool, &receipt_of(order)).await.unwrap();
    assert_eq!(slot, SmsSlot::ToSend);
    order
}

async fn message(pool: &PgPool, order: Uuid) -> (Option<String>, String, Option<String>) {
    sqlx::query_as(
        "SELECT message_sid, status, error_code FROM sms_messages
         WHERE order_id = $1 AND kind = 'receipt'",
    )
    .bind(order)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn early_statuses(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sms_status_early")
        .fetch_one(pool)
        .await
        .unwrap()
}

fn owned(sid: &str, status: &str, code: Option<&str>) -> (Option<String>, String, Option<String>) {
    (
        Some(sid.to_owned()),
        status.to_owned(),
        code.map(str::to_owned),
    )
}

#[tokio::test]
async fn a_status_never_moves_a_message_back() {
    let db = with_tonys().await;
    let pool = db.pool();
    let order = reserved_receipt(pool).await;
    record_sms_sent(pool, order, "receipt", "SM1", "queued")
        .await
        .unwrap();
    assert_eq!(message(pool, order).await, owned("SM1", "queued", None));
    for (status, expected) in [
        ("delivered", "delivered"),
        // Late callbacks from earlier steps are ignored...
        ("sent", "delivered"),
        ("queued", "delivered"),
        // ...while another final status replaces a final one, and `read` comes after all.
        ("undelivered", "undelivered"),
        ("read", "read"),
        ("delivered", "read"),
    ] {
        let record = record_sms_status(pool, "SM1", status, None).await.unwrap();
        assert_eq!(record, SmsStatusRecord::Recorded);
        assert_eq!(message(pool, order).await.1, expected, "after {status}");
    }
}

#[tokio::test]
async fn a_callback_before_the_sid_is_recorded_is_applied_when_it_is() {
    let db = with_tonys().await;
    let pool = db.pool();
    let order = reserved_receipt(pool).await;
    let record = record_sms_status(pool, "SM2", "undelivered", Some("30003"))
        .await
        .unwrap();
    assert_eq!(record, SmsStatusRecord::Early);
    assert_eq!(early_statuses(pool).await, 1);
    // The row is untouched until then.
    assert_eq!(message(pool, order).await.1, "sending");
    record_sms_sent(pool, order, "receipt", "SM2", "queued")
        .await
        .unwrap();
    assert_eq!(
        message(pool, order).await,
        owned("SM2", "undelivered", Some("30003"))
    );
    assert_eq!(early_statuses(pool).await, 0);

    // An early status behind Twilio's answer does not move it back either.
    let order = reserved_receipt(pool).await;
    record_sms_status(pool, "SM3", "accepted", None)
        .await
        .unwrap();
    record_sms_sent(pool, order, "receipt", "SM3", "queued")
        .await
        .unwrap();
    let status: String =
        sqlx::query_scalar("SELECT status FROM sms_messages WHERE message_sid = 'SM3'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(status, "queued");
}

#[tokio::test]
async fn callbacks_racing_the_recording_of_the_sid_are_never_lost() {
    let db = with_tonys().await;
    let pool = db.pool();
    let mut orders = Vec::new();
    for _ in 0..40 {
        orders.push(reserved_receipt(pool).await);
    }
    // Each message's `delivered` callback and the recording of its sid run at the same time.
    let mut tasks = tokio::task::JoinSet::new();
    for (i, order) in orders.iter().copied().enumerate() {
        let sid = format!("SMR{i}");
        let (p1, p2, s1) = (pool.clone(), pool.clone(), sid.clone());
        tasks.spawn(async move {
            record_sms_status(&p1, &s1, "delivered", None)
                .await
                .map(|_| ())
        });
        tasks.spawn(async move { record_sms_sent(&p2, order, "receipt", &sid, "queued").await });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    for (i, order) in orders.iter().copied().enumerate() {
        assert_eq!(
            message(pool, order).await,
            owned(&format!("SMR{i}"), "delivered", None)
        );
    }
    assert_eq!(early_statuses(pool).await, 0);
}

#[tokio::test]
async fn recording_a_push_reserves_the_receipt_once_and_a_retry_finds_it_sent() {
    let db = with_tonys().await;
    let pool = db.pool();
    let order = new_order(pool, "confirmed").await;
    let sms = receipt_of(order);
    let first = mark_sent_to_pos_reserving_receipt(pool, Some("pos-1"), &sms)
        .await
        .unwrap();
    assert_eq!(first, (true, SmsSlot::ToSend));
    let row: (String, Option<String>, bool) = sqlx::query_as(
        "SELECT o.status, o.pos_ref, EXISTS (SELECT FROM sms_messages m
                                              WHERE m.order_id = o.id AND m.status = 'sending')
           FROM orders o WHERE o.id = $1",
    )
    .bind(order)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        ("sent_to_pos".to_owned(), Some("pos-1".to_owned()), true)
    );
    // The text went out; a retry of the job (the POS answered again) marks nothing and finds
    // the receipt sent, so the caller gets one text.
    record_sms_sent(
        pool,
        order,
        "receipt",
        "SM00000000000000000000000000000001",
        "queued",
    )
    .await
    .unwrap();
    let again = mark_sent_to_pos_reserving_receipt(pool, Some("pos-1"), &sms)
        .await
        .unwrap();
    assert_eq!(
        again,
        (
            false,
            SmsSlot::Sent("SM00000000000000000000000000000001".to_owned())
        )
    );
}

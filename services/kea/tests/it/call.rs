//! `kea call` against a real `kea serve`: a whole order placed through the signed webhooks.

use std::io::Write;
use std::process::Stdio;

use kea_test_db::TestDb;

use crate::{Server, import_stores, kea};

#[tokio::test]
async fn a_terminal_call_places_an_order_through_the_webhooks() {
    let db = TestDb::new().await;
    import_stores(db.url(), &["tonys-pizza"]);
    let server = Server::start(db.url(), "call-test-token").await;
    let url = server.url.clone();

    let mut call = kea()
        .args(["call", "--store", "tonys-pizza", "--from", "+15557654321"])
        .env("DATABASE_URL", db.url())
        .env("KEA_URL", &url)
        .env("TWILIO_AUTH_TOKEN", "call-test-token")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let script = "Hi, can I get a large pepperoni pizza and two cokes?\nNo, that's all.\nPickup, please.\nIt's Maria.\nYes.\nYes, that's right.\n";
    call.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = tokio::task::spawn_blocking(move || call.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Tony's Pizza"), "{stdout}");
    assert!(stdout.contains("ended: kea hung up"), "{stdout}");

    let (name, phone, total, outcome): (String, String, i64, String) = sqlx::query_as(
        "SELECT o.customer_name, o.customer_phone, o.total_cents, c.outcome
         FROM orders o JOIN calls c USING (call_sid)",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    // large pepperoni 18.99 + 2 × Coke 1.99 = 22.97, tax 8.75 % = 2.01 (2.009875 rounded half up)
    assert_eq!(
        (name.as_str(), phone.as_str(), total, outcome.as_str()),
        ("Maria", "+15557654321", 2498, "order_placed")
    );
    let lines: Vec<(String, Option<String>, i32)> =
        sqlx::query_as("SELECT sku, size, quantity FROM order_items ORDER BY line_no")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(
        lines,
        [
            ("pizza-pepperoni".to_owned(), Some("large".to_owned()), 1),
            ("coke-can".to_owned(), None, 2)
        ]
    );
}

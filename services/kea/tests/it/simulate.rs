//! `kea simulate` and `kea replay` against a real `kea serve`: every public scenario over the
//! signed webhooks, then a recorded call replayed through the dialog engine.

use kea_test_db::TestDb;

use crate::{Server, import_stores, kea};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");

#[tokio::test]
async fn every_public_scenario_passes_over_http_and_replays_identically() {
    let db = TestDb::new().await;
    import_stores(db.url(), &["tonys-pizza", "la-casita", "bean-there"]);
    let server = Server::start(db.url(), "simulate-token").await;
    let url = server.url.clone();

    let run = |args: &[&str]| {
        kea()
            .args(args)
            .env("DATABASE_URL", db.url())
            .env("KEA_URL", &url)
            .env("TWILIO_AUTH_TOKEN", "simulate-token")
            .output()
            .unwrap()
    };
    let out = run(&[
        "simulate",
        "--concurrency",
        "4",
        &format!("{FIXTURES}/scenarios"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("27 passed, 0 failed"), "{stdout}");
    assert!(stdout.contains("server time per turn ms: p50="), "{stdout}");

    // A wrong token: every webhook is refused, so every scenario fails, loudly.
    let refused = kea()
        .args([
            "simulate",
            "--only",
            "tonys-01",
            &format!("{FIXTURES}/scenarios"),
        ])
        .env("DATABASE_URL", db.url())
        .env("KEA_URL", &url)
        .env("TWILIO_AUTH_TOKEN", "not-the-token")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&refused.stdout);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(
        text.contains("403") && text.contains("0 passed, 1 failed"),
        "{text}"
    );

    let sid: String = sqlx::query_scalar(
        "SELECT call_sid FROM calls WHERE outcome = 'order_placed' ORDER BY turns DESC LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let out = run(&["replay", &sid]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.ends_with(" differ\n") && stdout.contains(", 0 differ"),
        "{stdout}"
    );

    // Had kea said something else then, the replay shows it and fails.
    sqlx::query(
        "UPDATE call_events SET payload = jsonb_set(payload, '{said}', '[\"Something else entirely.\"]')
         WHERE call_sid = $1 AND kind = 'state' AND seq = (SELECT min(seq) FROM call_events WHERE call_sid = $1 AND kind = 'state')",
    )
    .bind(&sid)
    .execute(db.pool())
    .await
    .unwrap();
    let out = run(&["replay", &sid]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("then: Something else entirely.") && stdout.contains(", 1 differ"),
        "{stdout}"
    );
}

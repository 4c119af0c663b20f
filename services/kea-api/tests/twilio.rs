//! The Twilio webhooks in process (axum `oneshot`) against a real database: signatures, call state,
//! the replay record, repeated deliveries and status callbacks.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kea_api::{AppState, router};
use kea_test_db::TestDb;
use tower::ServiceExt;

const TOKEN: &str = "test-auth-token";
const PUBLIC: &str = "https://kea.example.com";
const SID: &str = "CA0123456789abcdef0123456789abcdef";
const TONYS: &str = include_str!("../../../tests/fixtures/stores/tonys-pizza.json");
/// The dialog state after a call's last turn: its last `state` event's `after`.
const LAST_STATE: &str =
    "SELECT payload->'after' FROM call_events WHERE kind = 'state' ORDER BY seq DESC LIMIT 1";

fn app(db: &TestDb) -> axum::Router {
    let config = common::config(PUBLIC, TOKEN, None);
    router(AppState::new(db.pool().clone(), config))
}

async fn with_tonys() -> TestDb {
    let db = TestDb::new().await;
    let store = kea_menu::Store::parse(TONYS).unwrap();
    let mut tx = db.pool().begin().await.unwrap();
    kea_store::import_store(&mut tx, &store).await.unwrap();
    tx.commit().await.unwrap();
    db
}

fn params(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("CallSid", SID),
        ("From", "+15557654321"),
        ("To", "+15550100001"),
        ("Direction", "inbound"),
        ("CallStatus", "in-progress"),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in extra {
        p.retain(|(name, _)| name != k);
        p.push(((*k).to_owned(), (*v).to_owned()));
    }
    p
}

/// POSTs `params` to `path_and_query`, signed as Twilio would sign them (or with `signature`).
async fn post(
    app: &axum::Router,
    path_and_query: &str,
    params: &[(String, String)],
    signature: Option<&str>,
) -> (StatusCode, String) {
    let body = serde_urlencoded_body(params);
    let sig = signature.map(str::to_owned).unwrap_or_else(|| {
        kea_twilio::compute_signature(TOKEN, &format!("{PUBLIC}{path_and_query}"), params)
    });
    let req = Request::post(path_and_query)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .body(Body::from(body))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn serde_urlencoded_body(params: &[(String, String)]) -> String {
    serde_urlencoded::to_string(params).unwrap()
}

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

#[tokio::test]
async fn a_forged_or_missing_signature_gets_403_and_records_nothing() {
    let db = with_tonys().await;
    let app = app(&db);
    let p = params(&[]);
    let (status, _) = post(&app, "/twilio/voice", &p, Some("bm90IGEgc2lnbmF0dXJl")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Signed for another URL (the signature covers the URL, so a replay elsewhere fails).
    let elsewhere =
        kea_twilio::compute_signature(TOKEN, "https://evil.example.com/twilio/voice", &p);
    assert_eq!(
        post(&app, "/twilio/voice", &p, Some(&elsewhere)).await.0,
        StatusCode::FORBIDDEN
    );
    // Signed with another token.
    let wrong =
        kea_twilio::compute_signature("another-token", &format!("{PUBLIC}/twilio/voice"), &p);
    assert_eq!(
        post(&app, "/twilio/voice", &p, Some(&wrong)).await.0,
        StatusCode::FORBIDDEN
    );
    // A parameter changed after signing.
    let sig = kea_twilio::compute_signature(TOKEN, &format!("{PUBLIC}/twilio/voice"), &p);
    let tampered = params(&[("From", "+15550000000")]);
    assert_eq!(
        post(&app, "/twilio/voice", &tampered, Some(&sig)).await.0,
        StatusCode::FORBIDDEN
    );
    for path in [
        "/twilio/voice/turn?n=1",
        "/twilio/status",
        "/twilio/fallback",
        "/twilio/sms/status",
    ] {
        let req = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("CallSid=x"))
            .unwrap();
        assert_eq!(
            app.clone().oneshot(req).await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(count(&db, "SELECT count(*) FROM calls").await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM call_events").await, 0);
}

#[tokio::test]
async fn the_explicit_default_port_variant_of_the_url_is_accepted() {
    let db = with_tonys().await;
    let app = app(&db);
    let p = params(&[]);
    let sig = kea_twilio::compute_signature(TOKEN, "https://kea.example.com:443/twilio/voice", &p);
    let (status, xml) = post(&app, "/twilio/voice", &p, Some(&sig)).await;
    assert_eq!(status, StatusCode::OK, "{xml}");
}

#[tokio::test]
async fn an_unknown_number_gets_a_polite_goodbye_never_an_error() {
    let db = with_tonys().await;
    let (status, xml) = post(
        &app(&db),
        "/twilio/voice",
        &params(&[("To", "+15559999999")]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        xml.contains("<Say") && xml.ends_with("<Hangup/></Response>"),
        "{xml}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM calls").await, 0);
}

#[tokio::test]
async fn a_call_is_greeted_recorded_and_each_turn_is_taken_once() {
    let db = with_tonys().await;
    let app = app(&db);
    let (status, greeting) = post(&app, "/twilio/voice", &params(&[]), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        greeting.contains("Tony&apos;s Pizza") || greeting.contains("Tony's Pizza"),
        "{greeting}"
    );
    let action = format!("{PUBLIC}/twilio/voice/turn?n=1");
    assert!(
        greeting.contains(&format!("action=\"{action}\"")),
        "{greeting}"
    );
    assert!(
        greeting.contains("<Redirect"),
        "silence falls through to a redirect: {greeting}"
    );
    assert!(
        greeting.contains("input=\"speech\"") && greeting.contains("hints=\""),
        "{greeting}"
    );

    let speech = params(&[
        ("SpeechResult", "Can I get a large pepperoni pizza?"),
        ("Confidence", "0.92"),
    ]);
    let (status, first) = post(&app, "/twilio/voice/turn?n=1", &speech, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let events = count(&db, "SELECT count(*) FROM call_events").await;
    let state: serde_json::Value = sqlx::query_scalar(LAST_STATE)
        .fetch_one(db.pool())
        .await
        .unwrap();

    // Twilio delivers the same turn again: the same answer, nothing new recorded, no second pizza.
    let (status, again) = post(&app, "/twilio/voice/turn?n=1", &speech, None).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    assert_eq!(count(&db, "SELECT count(*) FROM call_events").await, events);
    let state_after: serde_json::Value = sqlx::query_scalar(LAST_STATE)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(state_after, state);

    let (turns, outcome): (i32, Option<String>) =
        sqlx::query_as("SELECT turns, outcome FROM calls WHERE call_sid = $1")
            .bind(SID)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!((turns, outcome), (2, None));
    // The replay record: params in, state, TwiML out with the server time, per turn, in order.
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM call_events WHERE call_sid = $1 ORDER BY seq")
            .bind(SID)
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(
        kinds,
        ["webhook", "state", "twiml", "webhook", "state", "twiml"]
    );
    let micros: Vec<Option<i64>> = sqlx::query_scalar(
        "SELECT server_micros FROM call_events WHERE kind = 'twiml' ORDER BY seq",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(
        micros.iter().all(|m| m.is_some_and(|m| m > 0)),
        "{micros:?}"
    );
}

#[tokio::test]
async fn a_caller_who_hangs_up_mid_order_leaves_an_abandoned_call() {
    let db = with_tonys().await;
    let app = app(&db);
    post(&app, "/twilio/voice", &params(&[]), None).await;
    let done = params(&[("CallStatus", "completed"), ("CallDuration", "17")]);
    let (status, _) = post(&app, "/twilio/status", &done, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (outcome, status, duration, ended): (Option<String>, String, Option<i32>, bool) =
        sqlx::query_as("SELECT outcome, status, duration_seconds, ended_at IS NOT NULL FROM calls")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        (outcome.as_deref(), status.as_str(), duration, ended),
        (Some("abandoned"), "completed", Some(17), true)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM orders").await, 0);
}

#[tokio::test]
async fn a_caller_who_hangs_up_while_waiting_for_a_person_is_no_longer_waited_for() {
    let db = with_tonys().await;
    let app = app(&db);
    post(&app, "/twilio/voice", &params(&[]), None).await;
    sqlx::query(
        "INSERT INTO tasks (call_sid, kind, priority, reason)
         VALUES ($1, 'transfer', 30, 'the caller asked for a person')",
    )
    .bind(SID)
    .execute(db.pool())
    .await
    .unwrap();
    let task = || async {
        sqlx::query_as::<_, (String, Option<String>)>(
            "SELECT t.status, (SELECT e.detail->>'why' FROM task_events e
                                WHERE e.task_id = t.id AND e.action = 'canceled')
               FROM tasks t WHERE t.call_sid = $1",
        )
        .bind(SID)
        .fetch_one(db.pool())
        .await
        .unwrap()
    };
    // Still on the line: still waited for.
    let on_line = params(&[("CallStatus", "in-progress")]);
    assert_eq!(
        post(&app, "/twilio/status", &on_line, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(task().await, ("pending".to_owned(), None));
    // Gone: the transfer is given up, saying why, with the status recorded.
    let gone = params(&[("CallStatus", "completed"), ("CallDuration", "40")]);
    assert_eq!(
        post(&app, "/twilio/status", &gone, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        task().await,
        ("canceled".to_owned(), Some("the caller hung up".to_owned()))
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM call_events WHERE kind = 'status'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn the_fallback_apologises_and_transfers() {
    let db = with_tonys().await;
    let p = params(&[
        ("ErrorCode", "11200"),
        ("ErrorUrl", "https://kea.example.com/twilio/voice"),
    ]);
    let (status, xml) = post(&app(&db), "/twilio/fallback", &p, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains("<Say") && xml.contains("<Enqueue"), "{xml}");
}

#[tokio::test]
async fn message_status_callbacks_are_recorded_on_the_message() {
    let db = with_tonys().await;
    let app = app(&db);
    sqlx::query(
        "INSERT INTO sms_messages (store_id, kind, message_sid, from_number, to_number, body, status)
         VALUES ('tonys-pizza', 'receipt', 'SM0123', '+15550100001', '+15557654321', 'hi', 'queued')",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let form = |status: &str, code: &str| -> Vec<(String, String)> {
        [
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("MessageSid", "SM0123"),
            ("MessageStatus", status),
            ("SmsStatus", status),
            ("ErrorCode", code),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    };
    // Each callback is answered 204 and leaves the message with this status and error code.
    for (status, code, want) in [
        ("delivered", "", ("delivered", None)),
        ("undelivered", "30003", ("undelivered", Some("30003"))),
        // A late callback from an earlier step does not move the message back.
        ("sent", "", ("undelivered", Some("30003"))),
    ] {
        let (answer, _) = post(&app, "/twilio/sms/status", &form(status, code), None).await;
        assert_eq!(answer, StatusCode::NO_CONTENT);
        let row: (String, Option<String>) = sqlx::query_as(
            "SELECT status, error_code FROM sms_messages WHERE message_sid = 'SM0123'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(
            row,
            (want.0.to_owned(), want.1.map(str::to_owned)),
            "after {status}"
        );
    }
    // A callback about a message kea has not recorded (yet) is acknowledged (Twilio must not
    // retry it) and kept until its sid is recorded.
    let mut unknown = form("sent", "");
    unknown[1].1 = "SM9999".to_owned();
    assert_eq!(
        post(&app, "/twilio/sms/status", &unknown, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM sms_status_early WHERE message_sid = 'SM9999'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn metrics_report_jobs_orders_and_tasks_from_the_database() {
    let db = with_tonys().await;
    let app = app(&db);
    sqlx::query(
        "SELECT kea_enqueue('push_order_to_pos', '{}'::jsonb, 'k1'),
                kea_enqueue('push_order_to_pos', '{}'::jsonb, 'k2')",
    )
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query(
        "UPDATE apalis.jobs SET status = 'Failed', attempts = max_attempts WHERE idempotency_key = 'k2'",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let req = Request::get("/metrics").body(Body::empty()).unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = String::from_utf8(
        axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains("kea_jobs{job_type=\"push_order_to_pos\",status=\"Pending\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("kea_jobs_dead{job_type=\"push_order_to_pos\"} 1\n"),
        "{text}"
    );
}

/// With store hours enforced, a call at a time the store is closed (the clock injected, so the
/// test passes at any hour) hears when it opens and ends, recorded as `closed_hours`; a paused
/// store takes no order even when hours are not enforced.
#[tokio::test]
async fn a_closed_or_paused_store_takes_no_order_and_says_why() {
    let db = with_tonys().await;
    let mut config = common::config(PUBLIC, TOKEN, None);
    config.enforce_store_hours = true;
    // Monday 2026-12-07 07:30 in New York, before Tony's opens.
    config.clock = kea_api::Clock::fixed(
        chrono::DateTime::parse_from_rfc3339("2026-12-07T07:30:00-05:00")
            .unwrap()
            .with_timezone(&chrono::Utc),
    );
    let enforcing = router(AppState::new(db.pool().clone(), config));
    let (status, twiml) = post(&enforcing, "/twilio/voice", &params(&[]), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(twiml.contains("closed right now"), "{twiml}");
    assert!(twiml.contains("<Hangup"), "{twiml}");
    assert!(!twiml.contains("<Gather"), "{twiml}");
    let outcome: Option<String> =
        sqlx::query_scalar("SELECT outcome FROM calls WHERE call_sid = $1")
            .bind(SID)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(outcome.as_deref(), Some("closed_hours"));
    assert_eq!(count(&db, "SELECT count(*) FROM orders").await, 0);

    // Paused by the merchant: no order whatever the time.
    sqlx::query(
        "UPDATE stores SET document = jsonb_set(document, '{phone_orders_paused}', 'true'),
                           updated_at = now()",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let ignoring = app(&db);
    let other = params(&[("CallSid", "CA0123456789abcdef0123456789abcd99")]);
    let (_, twiml) = post(&ignoring, "/twilio/voice", &other, None).await;
    assert!(twiml.contains("not taking phone orders"), "{twiml}");
    let outcome: Option<String> =
        sqlx::query_scalar("SELECT outcome FROM calls WHERE call_sid = $1")
            .bind("CA0123456789abcdef0123456789abcd99")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(outcome.as_deref(), Some("paused"));
}

/// An order for later today: the order's `ready_at` (what the POS payload and the receipt carry)
/// is the time the caller asked for, not "now plus the pickup minutes".
#[tokio::test]
async fn an_order_for_later_today_is_ready_at_the_time_asked() {
    let db = TestDb::new().await;
    let mut doc: serde_json::Value = serde_json::from_str(TONYS).unwrap();
    doc["scheduled_orders"] = serde_json::json!(true);
    let store = kea_menu::Store::from_json(&doc).unwrap();
    let mut tx = db.pool().begin().await.unwrap();
    kea_store::import_store(&mut tx, &store).await.unwrap();
    tx.commit().await.unwrap();
    let mut config = common::config(PUBLIC, TOKEN, None);
    config.enforce_store_hours = true;
    // Monday 2026-12-07, noon in New York.
    config.clock = kea_api::Clock::fixed(
        chrono::DateTime::parse_from_rfc3339("2026-12-07T12:00:00-05:00")
            .unwrap()
            .with_timezone(&chrono::Utc),
    );
    let app = router(AppState::new(db.pool().clone(), config));
    post(&app, "/twilio/voice", &params(&[]), None).await;
    let turns = [
        "A large pepperoni pizza for 6:30 please.",
        "No, that's all.",
        "Pickup.",
        "It's Dana.",
        "Yes.",
        "Yes, that's right.",
    ];
    for (n, said) in turns.iter().enumerate() {
        let speech = params(&[("SpeechResult", said), ("Confidence", "0.95")]);
        let (status, _) = post(
            &app,
            &format!("/twilio/voice/turn?n={}", n + 1),
            &speech,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let ready_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT ready_at FROM orders")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(ready_at.to_rfc3339(), "2026-12-07T23:30:00+00:00");
}

/// What arrives is cleaned before it is stored (a NUL in a transcript no longer fails the turn),
/// and a correctly signed webhook for another Twilio account is refused.
#[tokio::test]
async fn control_characters_are_dropped_and_other_accounts_refused() {
    let db = with_tonys().await;
    let mut config = common::config(PUBLIC, TOKEN, None);
    config.twilio_account_sid = Some("AC00000000000000000000000000000000".to_owned());
    let app = router(AppState::new(db.pool().clone(), config));
    let (status, _) = post(&app, "/twilio/voice", &params(&[]), None).await;
    assert_eq!(status, StatusCode::OK);
    let speech = params(&[
        ("SpeechResult", "a large\u{0} pepperoni\u{7} pizza"),
        ("Confidence", "0.92"),
    ]);
    let (status, twiml) = post(&app, "/twilio/voice/turn?n=1", &speech, None).await;
    assert_eq!(status, StatusCode::OK, "{twiml}");
    assert!(twiml.contains("Pepperoni Pizza"), "{twiml}");
    let stored: String = sqlx::query_scalar(
        "SELECT payload->>'SpeechResult' FROM call_events WHERE kind = 'webhook' AND seq > 0 ORDER BY seq LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(stored, "a large pepperoni pizza");

    let other = params(&[
        ("AccountSid", "AC99999999999999999999999999999999"),
        ("CallSid", "CA0123456789abcdef0123456789abcd77"),
    ]);
    let (status, _) = post(&app, "/twilio/voice", &other, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM calls WHERE call_sid = 'CA0123456789abcdef0123456789abcd77'"
        )
        .await,
        0
    );
}

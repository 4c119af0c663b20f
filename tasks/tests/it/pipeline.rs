use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use crate::harness::{self, POS_SECRET, Pipeline, Setup, dollars};

fn body_json(hit: &crate::harness::PosHit) -> Value {
    serde_json::from_slice(&hit.body).unwrap()
}

#[tokio::test]
async fn a_sure_order_reaches_the_pos_once_and_the_caller_gets_a_receipt() {
    let p = Pipeline::new(Setup::default()).await;
    let id = p.place_order(0.97).await;
    p.wait_for_status(id, "sent_to_pos").await;
    let total = p.total(id).await;

    let hits = p.pos.hits();
    assert_eq!(hits.len(), 1, "one push");
    let hit = &hits[0];
    assert_eq!(hit.headers["idempotency-key"], id.to_string().as_str());
    let signature = hit.headers["x-kea-signature"].to_str().unwrap();
    let timestamp = hit.headers["x-kea-timestamp"].to_str().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(kea_pos::verify(
        POS_SECRET.as_bytes(),
        &hit.body,
        signature,
        timestamp,
        now,
        300
    ));
    let body = body_json(hit);
    assert_eq!(body["event"], "order.confirmed");
    assert_eq!(body["order"]["id"], id.to_string());
    assert_eq!(body["order"]["total_cents"], total);
    assert_eq!(
        body["order"]["items"][0]["modifiers"][0]["name"],
        "extra cheese"
    );

    p.wait_for("the receipt", || async { !p.twilio.sent().is_empty() })
        .await;
    // Give a duplicate, if there were going to be one, the time to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = p.twilio.sent();
    assert_eq!(sent.len(), 1, "one receipt: {sent:?}");
    let sms = &sent[0];
    assert_eq!(sms.to, "+15551234567");
    assert_eq!(sms.from, p.store.phone);
    assert!(sms.body.contains(&dollars(total)), "{}", sms.body);
    assert!(
        sms.body.contains("Tony's Pizza") && sms.body.contains("Pepperoni"),
        "{}",
        sms.body
    );

    p.wait_for("the receipt's record", || async {
        let sid: Option<String> = sqlx::query_scalar(
            "SELECT message_sid FROM sms_messages WHERE order_id = $1 AND kind = 'receipt'",
        )
        .bind(id)
        .fetch_optional(p.db.pool())
        .await
        .unwrap()
        .flatten();
        sid.is_some()
    })
    .await;
    p.wait_for("every job done", || async {
        p.jobs(id)
            .await
            .iter()
            .all(|(_, status, _)| status == "Done")
            && p.jobs(id).await.len() == 1
    })
    .await;
    let kinds: Vec<String> = p.jobs(id).await.into_iter().map(|j| j.0).collect();
    // One job takes the order all the way: decided, pushed, texted.
    assert_eq!(kinds, ["extract_order"]);
    assert!(p.tasks(id).await.is_empty(), "no agent needed");
}

#[tokio::test]
async fn a_pos_failing_three_times_then_accepting_gets_the_order_once() {
    let p = Pipeline::new(Setup {
        pos_script: vec![500, 500, 500, 200],
        max_attempts: 6,
        ..Setup::default()
    })
    .await;
    let id = p.place_order(0.97).await;
    p.wait_for_status(id, "sent_to_pos").await;
    let hits = p.pos.hits();
    let answered: Vec<u16> = hits.iter().map(|h| h.answered).collect();
    assert_eq!(answered, [500, 500, 500, 200]);
    let keys: std::collections::BTreeSet<_> = hits
        .iter()
        .map(|h| h.headers["idempotency-key"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 1, "one idempotency key for every attempt");
    assert_eq!(
        keys.first().map(String::as_str),
        Some(id.to_string().as_str())
    );
    p.wait_for("the receipt", || async { p.twilio.sent().len() == 1 })
        .await;
    let pos_error: Option<String> =
        sqlx::query_scalar("SELECT pos_error FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(p.db.pool())
            .await
            .unwrap();
    assert_eq!(
        pos_error, None,
        "the last transient error is cleared once delivered"
    );
}

#[tokio::test]
async fn a_pos_down_for_good_fails_the_order_opens_a_task_and_tells_the_caller() {
    let p = Pipeline::new(Setup {
        pos_down: true,
        max_attempts: 3,
        ..Setup::default()
    })
    .await;
    let id = p.place_order(0.97).await;
    p.wait_for_status(id, "pos_failed").await;
    let tasks = p.tasks(id).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(
        (tasks[0].0.as_str(), tasks[0].1.as_str()),
        ("callback", "pending")
    );
    let reason = tasks[0].2.clone().unwrap_or_default();
    assert!(
        reason.contains("phone the store") && reason.contains("3 attempts"),
        "{reason}"
    );
    p.wait_for("the problem text", || async { p.twilio.sent().len() == 1 })
        .await;
    let sms = &p.twilio.sent()[0];
    assert!(
        sms.body.contains("trouble") && sms.body.contains(&p.store.phone),
        "{}",
        sms.body
    );
    let kind: String = sqlx::query_scalar("SELECT kind FROM sms_messages WHERE order_id = $1")
        .bind(id)
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    assert_eq!(kind, "order_problem");
}

#[tokio::test]
async fn a_pos_refusing_the_order_is_not_retried() {
    let p = Pipeline::new(Setup {
        pos_script: vec![422],
        ..Setup::default()
    })
    .await;
    let id = p.place_order(0.97).await;
    p.wait_for_status(id, "pos_failed").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(p.pos.hits().len(), 1, "a 422 is permanent");
    let reason = p.tasks(id).await[0].2.clone().unwrap_or_default();
    assert!(reason.contains("422"), "{reason}");
}

#[tokio::test]
async fn an_unsure_order_waits_for_an_agent_who_can_approve_or_reject_it() {
    let p = Pipeline::new(Setup::default()).await;
    let unsure = p.place_order(0.5).await;
    p.wait_for("a verification task", || async {
        !p.tasks(unsure).await.is_empty()
    })
    .await;
    let tasks = p.tasks(unsure).await;
    assert_eq!(
        (tasks[0].0.as_str(), tasks[0].1.as_str()),
        ("verify_order", "pending")
    );
    assert!(
        tasks[0]
            .2
            .as_deref()
            .unwrap_or("")
            .contains("low confidence 0.50")
    );
    assert_eq!(p.status(unsure).await, "pending_verification");
    assert!(
        p.pos.hits().is_empty(),
        "nothing goes to the POS before the agent"
    );

    // The agent approves (through the data API in production: a plain status change).
    sqlx::query("UPDATE orders SET status = 'confirmed' WHERE id = $1")
        .bind(unsure)
        .execute(p.db.pool())
        .await
        .unwrap();
    p.wait_for_status(unsure, "sent_to_pos").await;
    assert_eq!(p.pos.hits().len(), 1);

    let rejected = p.place_order(0.3).await;
    p.wait_for("a second task", || async {
        !p.tasks(rejected).await.is_empty()
    })
    .await;
    sqlx::query(
        "UPDATE orders SET status = 'rejected', rejection_reason = 'We are out of dough tonight'
         WHERE id = $1",
    )
    .bind(rejected)
    .execute(p.db.pool())
    .await
    .unwrap();
    p.wait_for("the rejection text, with the agent's reason", || async {
        p.twilio.sent().iter().any(|m| {
            m.body.contains("could not accept") && m.body.contains("We are out of dough tonight.")
        })
    })
    .await;
    assert_eq!(
        p.pos.hits().len(),
        1,
        "a rejected order never reaches the POS"
    );
}

#[tokio::test]
async fn policy_always_sends_even_a_sure_order_to_an_agent() {
    let p = Pipeline::new(Setup {
        policy: Some("always"),
        ..Setup::default()
    })
    .await;
    let id = p.place_order(1.0).await;
    p.wait_for("a verification task", || async {
        !p.tasks(id).await.is_empty()
    })
    .await;
    assert!(
        p.tasks(id).await[0]
            .2
            .as_deref()
            .unwrap_or("")
            .contains("checks every order")
    );
    assert_eq!(p.status(id).await, "pending_verification");
}

#[tokio::test]
async fn jobs_are_queued_with_their_cause_or_not_at_all() {
    let p = Pipeline::new(Setup {
        start_workers: false,
        ..Setup::default()
    })
    .await;
    let id = p.place_order(0.97).await;
    assert_eq!(
        p.jobs(id).await,
        [("extract_order".to_owned(), "Pending".to_owned(), 0)]
    );
    // A change that rolls back leaves no job behind.
    let mut tx = p.db.pool().begin().await.unwrap();
    sqlx::query("UPDATE orders SET status = 'confirmed' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(p.jobs(id).await.len(), 1);
    // Queueing the same step twice keeps one job.
    for _ in 0..2 {
        sqlx::query("SELECT kea_enqueue('extract_order', '{}'::jsonb, $1)")
            .bind(id.to_string())
            .execute(p.db.pool())
            .await
            .unwrap();
    }
    assert_eq!(p.jobs(id).await.len(), 1);
}

#[tokio::test]
async fn queued_jobs_wait_for_a_worker_and_survive_its_absence() {
    let mut p = Pipeline::new(Setup {
        start_workers: false,
        ..Setup::default()
    })
    .await;
    let mut ids: Vec<Uuid> = Vec::new();
    for confidence in [0.97, 0.96, 0.99] {
        ids.push(p.place_order(confidence).await);
    }
    p.start_workers();
    for id in &ids {
        p.wait_for_status(*id, "sent_to_pos").await;
    }
    p.stop_workers().await;
    assert_eq!(p.pos.hits().len(), 3);
}

#[tokio::test]
async fn a_job_that_fails_every_attempt_is_dead_lettered_and_visible() {
    let p = Pipeline::new(Setup {
        max_attempts: 2,
        ..Setup::default()
    })
    .await;
    // A store document that no longer parses (edited by hand) fails every attempt.
    sqlx::query("UPDATE stores SET document = document - 'menu'")
        .execute(p.db.pool())
        .await
        .unwrap();
    let id = p.place_order(0.97).await;
    p.wait_for("the job to be dead-lettered", || async {
        let dead: Option<bool> = sqlx::query_scalar(
            "SELECT dead FROM api.jobs WHERE idempotency_key = $1 AND job_type = 'extract_order'",
        )
        .bind(id.to_string())
        .fetch_optional(p.db.pool())
        .await
        .unwrap();
        dead == Some(true)
    })
    .await;
    assert_eq!(p.status(id).await, "pending_verification");
}

/// The model heard what the dialog placed: recorded as agreeing, and the order goes on.
#[tokio::test]
async fn a_second_opinion_that_agrees_is_recorded_and_the_order_goes_on() {
    let model = harness::PhraseModel(vec![
        ("large", "SIZE"),
        ("pepperoni pizza", "ITEM"),
        ("extra", "PORTION"),
        ("cheese", "MODIFIER"),
        ("two", "QUANTITY"),
        ("cokes", "ITEM"),
    ]);
    let p = Pipeline::new(Setup {
        entity_model: Some(std::sync::Arc::new(model)),
        ..Setup::default()
    })
    .await;
    let id = p
        .place_order_after(
            0.97,
            &[
                "A large pepperoni pizza with extra cheese and two cokes.",
                "Yes.",
            ],
        )
        .await;
    p.wait_for_status(id, "sent_to_pos").await;
    let opinion: serde_json::Value =
        sqlx::query_scalar("SELECT second_opinion FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(p.db.pool())
            .await
            .unwrap();
    assert_eq!(opinion["agrees"], true, "{opinion:#}");
    assert_eq!(opinion["model"], "phrase list (test)");
    assert_eq!(opinion["turns"][0]["entities"][0]["label"], "SIZE");
}

/// The dialog's order has a mistake (two Cokes where the caller asked for one): the model's
/// disagreement sends the order to an agent, with both readings in the reason.
#[tokio::test]
async fn a_second_opinion_that_disagrees_sends_the_order_to_an_agent() {
    let model = harness::PhraseModel(vec![
        ("large", "SIZE"),
        ("pepperoni pizza", "ITEM"),
        ("extra", "PORTION"),
        ("cheese", "MODIFIER"),
        ("coke", "ITEM"),
    ]);
    let p = Pipeline::new(Setup {
        entity_model: Some(std::sync::Arc::new(model)),
        ..Setup::default()
    })
    .await;
    let id = p
        .place_order_after(
            0.97,
            &["A large pepperoni pizza with extra cheese and a coke."],
        )
        .await;
    p.wait_for("the verify task", || async {
        !p.tasks(id).await.is_empty()
    })
    .await;
    assert_eq!(p.status(id).await, "pending_verification");
    let reason: String = sqlx::query_scalar("SELECT decision_reason FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    assert!(
        reason.contains("the entity model heard 1 × coke-can where the dialog has 2 × coke-can"),
        "{reason}"
    );
    assert!(p.pos.hits().is_empty(), "nothing reaches the POS");
}

/// A change made another way than by a job that goes on itself (an agent's approval through the
/// data API) still queues the next job.
#[tokio::test]
async fn an_approval_from_outside_a_job_still_queues_the_push() {
    let p = Pipeline::new(Setup {
        start_workers: false,
        ..Setup::default()
    })
    .await;
    let id = p.place_order(0.97).await;
    sqlx::query("UPDATE orders SET status = 'confirmed' WHERE id = $1")
        .bind(id)
        .execute(p.db.pool())
        .await
        .unwrap();
    let kinds: Vec<String> = p.jobs(id).await.into_iter().map(|j| j.0).collect();
    assert_eq!(kinds, ["extract_order", "push_order_to_pos"]);
}

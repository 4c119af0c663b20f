//! Routing against PostgreSQL: who is offered what, when, and never two at once.

use std::collections::HashMap;
use std::time::Duration;

use kea_menu::Store;
use kea_routing::Workflow;
use kea_tasks::router::{RouterSettings, load_workflow, route_once};
use kea_test_db::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

struct Routing {
    db: TestDb,
    workflow: Workflow,
    timeout: i32,
}

impl Routing {
    async fn new() -> Self {
        let db = TestDb::new().await;
        for name in ["tonys-pizza", "la-casita"] {
            let path = format!(
                "{}/../tests/fixtures/stores/{name}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let store = Store::from_json(&doc).unwrap();
            let mut tx = db.pool().begin().await.unwrap();
            kea_store::import_store(&mut tx, &store).await.unwrap();
            tx.commit().await.unwrap();
        }
        let (workflow, timeout) = load_workflow(db.pool()).await.unwrap();
        Self {
            db,
            workflow,
            timeout,
        }
    }

    fn pool(&self) -> &PgPool {
        self.db.pool()
    }

    async fn route(&self) -> kea_tasks::router::PassReport {
        route_once(
            self.pool(),
            &self.workflow,
            self.timeout,
            &RouterSettings::default(),
        )
        .await
        .unwrap()
    }

    /// An available agent.
    async fn worker(&self, name: &str, languages: &[&str], stores: &[&str], capacity: i32) -> Uuid {
        sqlx::query_scalar(
            "INSERT INTO workers (name, attributes, capacity, activity)
             VALUES ($1, $2, $3, 'available') RETURNING id",
        )
        .bind(name)
        .bind(json!({"languages": languages, "stores": stores,
                     "skills": ["verify_order", "callback", "transfer"]}))
        .bind(capacity)
        .fetch_one(self.pool())
        .await
        .unwrap()
    }

    /// A call to `store` in `language` with a pending `transfer` task, `age_secs` old.
    async fn task(&self, store: &str, language: &str, age_secs: i64) -> Uuid {
        let call_sid = format!("CA{}", Uuid::new_v4().simple());
        sqlx::query(
            "INSERT INTO calls (call_sid, store_id, from_number, to_number, language)
             SELECT $1, id, '+15551234567', phone, $2 FROM stores WHERE id = $3",
        )
        .bind(&call_sid)
        .bind(language)
        .bind(store)
        .execute(self.pool())
        .await
        .unwrap();
        sqlx::query_scalar(
            "INSERT INTO tasks (call_sid, kind, priority, reason, created_at)
             VALUES ($1, 'transfer', 30, 'test', now() - make_interval(secs => $2))
             RETURNING id",
        )
        .bind(&call_sid)
        .bind(age_secs as f64)
        .fetch_one(self.pool())
        .await
        .unwrap()
    }

    /// Makes `worker` look idle for `interval` (`'1 hour'`): the longest idle is offered first.
    async fn idle_for(&self, worker: Uuid, interval: &str) {
        sqlx::query("UPDATE workers SET idle_since = now() - $2::interval WHERE id = $1")
            .bind(worker)
            .bind(interval)
            .execute(self.pool())
            .await
            .unwrap();
    }

    async fn holder(&self, task: Uuid) -> (String, Option<Uuid>) {
        sqlx::query_as("SELECT status, worker_id FROM tasks WHERE id = $1")
            .bind(task)
            .fetch_one(self.pool())
            .await
            .unwrap()
    }

    /// Runs `sql` ($1 = id, $2 = value) as agent `worker`, as the data API would.
    async fn as_agent(
        &self,
        worker: Uuid,
        sql: &'static str,
        id: Uuid,
        value: &str,
    ) -> Result<u64, String> {
        kea_store::console::act_as_agent(self.pool(), worker, sql, id, value)
            .await
            .map_err(|e| e.to_string())
    }

    /// The invariants: one live offer per task and it names the holder; nobody over capacity.
    async fn check_invariants(&self) {
        let doubles: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT task_id FROM task_reservations
                                    WHERE status IN ('pending', 'accepted')
                                    GROUP BY task_id HAVING count(*) > 1) d",
        )
        .fetch_one(self.pool())
        .await
        .unwrap();
        assert_eq!(doubles, 0, "a task with two live reservations");
        let mismatched: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM tasks t
              WHERE t.status = 'reserved'
                AND NOT EXISTS (SELECT FROM task_reservations r
                                 WHERE r.task_id = t.id AND r.worker_id = t.worker_id
                                   AND r.status = 'pending')",
        )
        .fetch_one(self.pool())
        .await
        .unwrap();
        assert_eq!(mismatched, 0, "a reserved task without its reservation");
        let over: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM workers w
              WHERE (SELECT count(*) FROM tasks t WHERE t.worker_id = w.id
                       AND t.status IN ('reserved', 'assigned')) > w.capacity",
        )
        .fetch_one(self.pool())
        .await
        .unwrap();
        assert_eq!(over, 0, "a worker holding more than its capacity");
    }
}

#[tokio::test]
async fn many_routers_racing_never_give_one_task_to_two_workers_or_overfill_one() {
    let r = Routing::new().await;
    let mut workers = Vec::new();
    for i in 0..12 {
        let stores: &[&str] = if i % 2 == 0 {
            &["tonys-pizza"]
        } else {
            &["la-casita"]
        };
        workers.push(
            r.worker(&format!("w{i}"), &["en", "es"], stores, 1 + i % 3)
                .await,
        );
    }
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 {
            "tonys-pizza"
        } else {
            "la-casita"
        };
        tasks.push(r.task(store, "en-US", 200).await);
    }
    // Eight routers at once, plus a storm of direct reservations of random pairs, all racing.
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let pool = r.pool().clone();
        let (workflow, timeout) = load_workflow(&pool).await.unwrap();
        racers.spawn(async move {
            for _ in 0..5 {
                route_once(&pool, &workflow, timeout, &RouterSettings::default())
                    .await
                    .unwrap();
            }
        });
    }
    for k in 0..4usize {
        let pool = r.pool().clone();
        let (tasks, workers) = (tasks.clone(), workers.clone());
        racers.spawn(async move {
            for n in 0..100usize {
                let t = tasks[(n * 7 + k * 13) % tasks.len()];
                let w = workers[(n * 5 + k) % workers.len()];
                kea_store::routing::reserve(&pool, t, w, "race", 30)
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(done) = racers.join_next().await {
        done.unwrap();
    }
    r.check_invariants().await;
    // Capacity in all is 1+2+3 repeated: 24 tasks can be held; all of it is used.
    let reserved: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks WHERE status = 'reserved'")
        .fetch_one(r.pool())
        .await
        .unwrap();
    assert_eq!(reserved, 24);
    let busy: i64 = sqlx::query_scalar("SELECT count(*) FROM workers WHERE activity = 'busy'")
        .fetch_one(r.pool())
        .await
        .unwrap();
    assert_eq!(busy, 12, "every full worker is busy");
}

#[tokio::test]
async fn the_store_s_own_agents_first_then_the_language_then_anyone() {
    let r = Routing::new().await;
    let other_store_es = r.worker("es elsewhere", &["es"], &["tonys-pizza"], 1).await;
    let other_store_en = r.worker("en elsewhere", &["en"], &["tonys-pizza"], 1).await;
    // A Spanish caller of La Casita, 10 s in: only La Casita's own Spanish speakers qualify.
    let young = r.task("la-casita", "es-US", 10).await;
    let report = r.route().await;
    assert_eq!((report.offered, report.waiting), (0, 1));
    assert_eq!(r.holder(young).await, ("pending".to_owned(), None));
    // The same at 35 s: anyone who speaks Spanish.
    sqlx::query("UPDATE tasks SET created_at = now() - interval '35 seconds' WHERE id = $1")
        .bind(young)
        .execute(r.pool())
        .await
        .unwrap();
    r.route().await;
    assert_eq!(
        r.holder(young).await,
        ("reserved".to_owned(), Some(other_store_es))
    );
    // A second Spanish caller after 2 minutes: anyone at all, English speakers included.
    let old = r.task("la-casita", "es-US", 125).await;
    r.route().await;
    assert_eq!(
        r.holder(old).await,
        ("reserved".to_owned(), Some(other_store_en))
    );
    let step: String = sqlx::query_scalar("SELECT routing_step FROM tasks WHERE id = $1")
        .bind(old)
        .fetch_one(r.pool())
        .await
        .unwrap();
    assert_eq!(step, "every task/2");
    r.check_invariants().await;
}

#[tokio::test]
async fn the_store_s_own_agent_is_preferred_and_the_longest_idle_goes_first() {
    let r = Routing::new().await;
    let outsider = r.worker("outsider", &["en"], &[], 1).await;
    let first = r
        .worker("own, idle longer", &["en"], &["tonys-pizza"], 1)
        .await;
    let second = r
        .worker("own, idle less", &["en"], &["tonys-pizza"], 1)
        .await;
    r.idle_for(first, "10 minutes").await;
    let a = r.task("tonys-pizza", "en-US", 0).await;
    let b = r.task("tonys-pizza", "en-US", 0).await;
    let c = r.task("tonys-pizza", "en-US", 0).await;
    r.route().await;
    assert_eq!(r.holder(a).await.1, Some(first));
    assert_eq!(r.holder(b).await.1, Some(second));
    assert_eq!(
        r.holder(c).await,
        ("pending".to_owned(), None),
        "{outsider} waits for 30 s"
    );
}

#[tokio::test]
async fn capacity_is_respected_and_busy_is_kea_s() {
    let r = Routing::new().await;
    let w = r.worker("two at once", &["en"], &["tonys-pizza"], 2).await;
    let mut tasks = Vec::new();
    for _ in 0..5 {
        tasks.push(r.task("tonys-pizza", "en-US", 0).await);
    }
    r.route().await;
    r.route().await;
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks WHERE worker_id = $1")
        .bind(w)
        .fetch_one(r.pool())
        .await
        .unwrap();
    assert_eq!(held, 2);
    let activity: String = sqlx::query_scalar("SELECT activity FROM workers WHERE id = $1")
        .bind(w)
        .fetch_one(r.pool())
        .await
        .unwrap();
    assert_eq!(activity, "busy");
    // An agent may not say it is busy itself; asking to be available while full keeps it busy.
    let idle = r.worker("idle", &["en"], &[], 1).await;
    let err = r
        .as_agent(
            idle,
            "UPDATE api.workers SET activity = $2 WHERE id = $1",
            idle,
            "busy",
        )
        .await
        .unwrap_err();
    assert!(err.contains("busy is set by kea"), "{err}");
    r.as_agent(
        w,
        "UPDATE api.workers SET activity = $2 WHERE id = $1",
        w,
        "offline",
    )
    .await
    .unwrap();
    r.as_agent(
        w,
        "UPDATE api.workers SET activity = $2 WHERE id = $1",
        w,
        "available",
    )
    .await
    .unwrap();
    let activity: String = sqlx::query_scalar("SELECT activity FROM workers WHERE id = $1")
        .bind(w)
        .fetch_one(r.pool())
        .await
        .unwrap();
    assert_eq!(
        activity, "available",
        "its offers went back when it went offline"
    );
}

#[tokio::test]
async fn an_offline_worker_s_offers_go_to_the_next_and_a_rejected_task_is_not_offered_back() {
    let r = Routing::new().await;
    let a = r.worker("a", &["en"], &["tonys-pizza"], 1).await;
    r.idle_for(a, "1 hour").await;
    let b = r.worker("b", &["en"], &["tonys-pizza"], 1).await;
    let t = r.task("tonys-pizza", "en-US", 0).await;
    r.route().await;
    assert_eq!(r.holder(t).await.1, Some(a));
    // `a` goes offline through the data API's rules: its offer is rescinded and goes to `b`.
    let n = r
        .as_agent(
            a,
            "UPDATE api.workers SET activity = $2 WHERE id = $1",
            a,
            "offline",
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(r.holder(t).await, ("pending".to_owned(), None));
    r.route().await;
    assert_eq!(r.holder(t).await, ("reserved".to_owned(), Some(b)));
    // `b` rejects: back to pending, and not offered to `b` again while it is the only one.
    let n = r
        .as_agent(
            b,
            "UPDATE api.tasks SET status = $2 WHERE id = $1",
            t,
            "pending",
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    r.route().await;
    assert_eq!(r.holder(t).await, ("pending".to_owned(), None));
    // `a` comes back and gets it.
    r.as_agent(
        a,
        "UPDATE api.workers SET activity = $2 WHERE id = $1",
        a,
        "available",
    )
    .await
    .unwrap();
    r.route().await;
    assert_eq!(r.holder(t).await, ("reserved".to_owned(), Some(a)));
    let events: Vec<String> =
        sqlx::query_scalar("SELECT action FROM task_events WHERE task_id = $1 ORDER BY id")
            .bind(t)
            .fetch_all(r.pool())
            .await
            .unwrap();
    assert_eq!(
        events,
        [
            "created",
            "offered",
            "rescinded",
            "offered",
            "rejected",
            "offered"
        ]
    );
    r.check_invariants().await;
}

#[tokio::test]
async fn an_unanswered_offer_times_out_to_the_next_worker() {
    let r = Routing::new().await;
    let a = r.worker("a", &["en"], &["tonys-pizza"], 1).await;
    r.idle_for(a, "1 hour").await;
    let b = r.worker("b", &["en"], &["tonys-pizza"], 1).await;
    let t = r.task("tonys-pizza", "en-US", 0).await;
    r.route().await;
    assert_eq!(r.holder(t).await.1, Some(a));
    sqlx::query(
        "UPDATE tasks SET reservation_expires_at = now() - interval '1 second' WHERE id = $1",
    )
    .bind(t)
    .execute(r.pool())
    .await
    .unwrap();
    let report = r.route().await;
    assert_eq!(report.expired, 1);
    assert_eq!(r.holder(t).await, ("reserved".to_owned(), Some(b)));
    let statuses: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT worker_id, status FROM task_reservations WHERE task_id = $1 ORDER BY created_at",
    )
    .bind(t)
    .fetch_all(r.pool())
    .await
    .unwrap();
    assert_eq!(
        statuses,
        [(a, "timeout".to_owned()), (b, "pending".to_owned())]
    );
}

#[tokio::test]
async fn an_agent_cannot_act_on_another_agent_s_task() {
    let r = Routing::new().await;
    let a = r.worker("a", &["en"], &["tonys-pizza"], 1).await;
    let b = r.worker("b", &["en"], &["la-casita"], 1).await;
    let t = r.task("tonys-pizza", "en-US", 0).await;
    r.route().await;
    assert_eq!(r.holder(t).await.1, Some(a));
    // `b` cannot see it, so cannot accept or reject it.
    for status in ["assigned", "pending", "completed"] {
        let n = r
            .as_agent(
                b,
                "UPDATE api.tasks SET status = $2 WHERE id = $1",
                t,
                status,
            )
            .await
            .unwrap();
        assert_eq!(n, 0, "{status}");
    }
    assert_eq!(r.holder(t).await, ("reserved".to_owned(), Some(a)));
    // `a` may accept; then not hand it back by "rejecting" an accepted task.
    r.as_agent(
        a,
        "UPDATE api.tasks SET status = $2 WHERE id = $1",
        t,
        "assigned",
    )
    .await
    .unwrap();
    let err = r
        .as_agent(
            a,
            "UPDATE api.tasks SET status = $2 WHERE id = $1",
            t,
            "pending",
        )
        .await
        .unwrap_err();
    assert!(
        err.contains("cannot move a task from assigned to pending"),
        "{err}"
    );
    // Nor change another worker's activity.
    let n = r
        .as_agent(
            a,
            "UPDATE api.workers SET activity = $2 WHERE id = $1",
            b,
            "offline",
        )
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_changed_workflow_is_checked_and_routes_by_its_own_rules() {
    let r = Routing::new().await;
    // Spanish callers only to Spanish speakers, whatever their age.
    sqlx::query(
        "INSERT INTO task_queues (name, target_workers) VALUES ('spanish', 'languages HAS \"es\"')",
    )
    .execute(r.pool())
    .await
    .unwrap();
    sqlx::query(
        r#"UPDATE workflows SET configuration = '{"task_routing": {"filters": [
             {"filter_friendly_name": "spanish callers", "expression": "language == \"es\"",
              "targets": [{"queue": "spanish"}]}],
             "default_filter": {"queue": "everyone"}}}' WHERE name = 'default'"#,
    )
    .execute(r.pool())
    .await
    .unwrap();
    let (workflow, timeout) = load_workflow(r.pool()).await.unwrap();
    let en = r.worker("en", &["en"], &[], 1).await;
    let es = r.worker("es", &["es"], &[], 1).await;
    let t_es = r.task("la-casita", "es-US", 500).await;
    let t_en = r.task("tonys-pizza", "en-US", 500).await;
    route_once(r.pool(), &workflow, timeout, &RouterSettings::default())
        .await
        .unwrap();
    assert_eq!(r.holder(t_es).await.1, Some(es));
    assert_eq!(r.holder(t_en).await.1, Some(en));
    // A broken edit does not stop routing: kea's default is used, and the error logged.
    sqlx::query("UPDATE task_queues SET target_workers = 'languages HAS' WHERE name = 'spanish'")
        .execute(r.pool())
        .await
        .unwrap();
    assert!(load_workflow(r.pool()).await.is_ok());
}

#[tokio::test]
async fn the_router_offers_a_new_task_within_moments_of_its_creation() {
    let r = Routing::new().await;
    let w = r.worker("a", &["en"], &["tonys-pizza"], 1).await;
    let router = tokio::spawn(kea_tasks::router::run(
        r.pool().clone(),
        RouterSettings {
            tick: Duration::from_secs(30),
            ..RouterSettings::default()
        },
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = r.task("tonys-pizza", "en-US", 0).await;
    // The tick is 30 s: only the notification can make this quick.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut seen = HashMap::new();
    while std::time::Instant::now() < deadline {
        let h = r.holder(t).await;
        seen.insert(h.0.clone(), h.1);
        if h.0 == "reserved" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    router.abort();
    assert_eq!(
        seen.get("reserved"),
        Some(&Some(w)),
        "not offered on NOTIFY: {seen:?}"
    );
}

//! The agent console as an agent uses it: a real headless Chromium (tests/browser/driver.mjs,
//! playwright-core on the system's Chromium) against `kea serve` and `kea worker` processes,
//! PostgreSQL, a POS over loopback and Twilio's REST API mocked by Prism from its OpenAPI file.
//!
//! Screenshots of every page land in `target/console-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kea_menu::{FulfillmentKind, OrderLine, Store, price_order};
use kea_test_db::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use uuid::Uuid;

use crate::pipeline::{Pos, Worker, import_store_with_pos, start_peers};
use crate::{Server, kea};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const TOKEN: &str = "console-test-token";
const EMAIL: &str = "ana@console.example";
const PASSWORD: &str = "correct horse battery";
const STAFF_PHONE: &str = "+15550109999";

/// Says why a test skips (something it needs is missing); under CI a missing piece is a failure.
pub(crate) fn skip(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("console browser test cannot run in CI: {why}");
    }
    eprintln!("skipped: {why}");
}

/// The browser, one JSON command at a time.
pub(crate) struct Browser {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    shots: PathBuf,
}

impl Browser {
    pub(crate) async fn start() -> Option<Self> {
        let driver = Path::new(ROOT).join("tests/browser");
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        if !Path::new(&chromium).is_file() {
            skip(&format!("{chromium} is absent (apt-get install chromium)"));
            return None;
        }
        if !driver.join("node_modules/playwright-core").is_dir() {
            skip("tests/browser/node_modules is absent (./scripts/test installs it)");
            return None;
        }
        let spawned = tokio::process::Command::new("node")
            .arg(driver.join("driver.mjs"))
            .env("CHROMIUM", &chromium)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn();
        let Ok(mut child) = spawned else {
            skip("node is not installed");
            return None;
        };
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let shots = Path::new(ROOT).join("target/console-screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Some(Self {
            child,
            stdin,
            stdout,
            shots,
        })
    }

    /// Sends a command; returns the answer, failing the test on an error.
    pub(crate) async fn send(&mut self, command: Value) -> Value {
        let answer = self.try_send(command.clone()).await;
        assert_eq!(answer["ok"], true, "browser: {command} → {answer}");
        answer
    }

    pub(crate) async fn try_send(&mut self, command: Value) -> Value {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .unwrap();
        let line = tokio::time::timeout(Duration::from_secs(60), self.stdout.next_line())
            .await
            .expect("the browser did not answer within 60 s")
            .unwrap()
            .expect("the browser driver exited");
        serde_json::from_str(&line).unwrap()
    }

    pub(crate) async fn shot(&mut self, name: &str) {
        let path = self.shots.join(format!("{name}.png"));
        self.send(json!({"cmd": "screenshot", "path": path})).await;
    }

    pub(crate) async fn text(&mut self, selector: &str) -> String {
        self.send(json!({"cmd": "text", "selector": selector}))
            .await["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub(crate) async fn click(&mut self, button: &str) {
        self.send(json!({"cmd": "click", "button": button})).await;
    }

    /// Fails on unlabelled fields, unnamed buttons, a positive tabindex or a page error.
    pub(crate) async fn check_accessible(&mut self, page: &str) {
        let a = self.send(json!({"cmd": "audit"})).await;
        assert_eq!(a["unlabelled"], json!([]), "{page}: unlabelled fields");
        assert_eq!(a["unnamedButtons"], 0, "{page}: buttons without a name");
        assert_eq!(
            a["positiveTabindex"], 0,
            "{page}: tabindex breaks the focus order"
        );
        assert_eq!(a["lang"], "en", "{page}");
        let e = self.send(json!({"cmd": "errors"})).await;
        assert_eq!(e["errors"], json!([]), "{page}: script errors");
    }

    pub(crate) async fn close(mut self) {
        let _ = self.stdin.write_all(b"{\"cmd\":\"close\"}\n").await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// Everything a console test runs against.
struct Stack {
    db: TestDb,
    pos: Pos,
    server: Server,
    _worker: Worker,
    _prism: kea_test_prism::Prism,
    store: Store,
}

impl Stack {
    async fn start() -> Option<Self> {
        let prism = tokio::task::spawn_blocking(|| {
            let spec = kea_test_prism::shared_spec("twilio_api_v2010.json")?;
            kea_test_prism::start(Path::new(ROOT), &spec, Duration::from_secs(180))
        })
        .await
        .unwrap();
        let prism = match prism {
            Ok(p) => p,
            Err(why) => {
                skip(&format!("Twilio's OpenAPI mock: {why}"));
                return None;
            }
        };
        let db = TestDb::new().await;
        let pos = Pos::default();
        let (pos_url, _, _) = start_peers(pos.clone()).await;
        import_store_with_pos(
            db.url(),
            json!({"kind": "webhook", "url": pos_url, "secret": "whsec_console"}),
        );
        sqlx::query("UPDATE stores SET staff_phone = $1 WHERE id = 'tonys-pizza'")
            .bind(STAFF_PHONE)
            .execute(db.pool())
            .await
            .unwrap();
        let document: Value =
            sqlx::query_scalar("SELECT document FROM stores WHERE id = 'tonys-pizza'")
                .fetch_one(db.pool())
                .await
                .unwrap();
        let store = Store::from_json(&document).unwrap();
        let server = Server::start_with(
            db.url(),
            TOKEN,
            &[
                ("KEA_TRANSFER_TIMEOUT_SECS", "6"),
                ("KEA_LOG", "info,sqlx=warn"),
            ],
        )
        .await;
        let worker = Worker::start_with(
            db.url(),
            &prism.url(),
            &[("KEA_JOB_MAX_ATTEMPTS", "2"), ("KEA_LOG", "warn")],
        );
        Some(Self {
            db,
            pos,
            server,
            _worker: worker,
            _prism: prism,
            store,
        })
    }

    fn pool(&self) -> &PgPool {
        self.db.pool()
    }

    /// `kea agent add`, the password on standard input.
    fn add_agent(&self, email: &str, password: &str, extra: &[&str]) -> Uuid {
        use std::io::Write;
        let mut child = kea()
            .args([
                "agent",
                "add",
                email,
                "--name",
                "Ana Ortiz",
                "--languages",
                "en,es",
            ])
            .args(extra)
            .env("DATABASE_URL", self.db.url())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Uuid::parse_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap()
    }

    /// A caller plays `says` to Tony's at speech confidence `confidence` through `kea simulate`;
    /// returns the call's sid.
    fn call(&self, name: &str, says: &[&str], confidence: f32, outcome: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let scenario = dir.path().join(format!("{name}.toml"));
        let toml = format!(
            "id = \"{name}\"\nstore = \"tonys-pizza\"\ndescription = \"console test\"\n\n\
             [caller]\nphone = \"+15557654321\"\nname = \"Victor\"\nfulfillment = \"pickup\"\n\
             confidence = {confidence}\nsay = {says:?}\n\n[expect]\noutcome = \"{outcome}\"\n"
        );
        let toml = if outcome == "order_placed" {
            // Every order these tests place is one large pepperoni pizza.
            format!(
                "{toml}\n[[expect.items]]\nsku = \"pizza-pepperoni\"\nsize = \"large\"\nquantity = 1\n"
            )
        } else {
            toml
        };
        std::fs::write(&scenario, toml).unwrap();
        let out = kea()
            .args(["simulate", "--url", &self.server.url])
            .arg(&scenario)
            .env("DATABASE_URL", self.db.url())
            .env("TWILIO_AUTH_TOKEN", TOKEN)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The newest call is this one.
        let pool = self.pool().clone();
        futures_block(async move {
            sqlx::query_scalar("SELECT call_sid FROM calls ORDER BY started_at DESC LIMIT 1")
                .fetch_one(&pool)
                .await
                .unwrap()
        })
    }

    /// A caller who asked for a person: the simulated caller hangs up at the `<Enqueue>` (and
    /// reports the call completed), while a real one waits in the queue: put the call back in
    /// progress, as it is for a caller on hold.
    async fn caller_on_hold(&self) -> String {
        let call = self.call(
            "person",
            &["Can I speak to a real person please?"],
            0.9,
            "transferred",
        );
        sqlx::query("UPDATE calls SET status = 'in-progress', ended_at = NULL, outcome = NULL WHERE call_sid = $1")
            .bind(&call)
            .execute(self.pool())
            .await
            .unwrap();
        call
    }

    /// POSTs a Twilio webhook, signed as Twilio signs it; returns the TwiML.
    async fn webhook(&self, path: &str, params: &[(&str, &str)]) -> String {
        let url = format!("{}{path}", self.server.url);
        let owned: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let signature = kea_twilio::compute_signature(TOKEN, &url, &owned);
        let res = reqwest::Client::new()
            .post(&url)
            .header(kea_twilio::SIGNATURE_HEADER, signature)
            .form(params)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.unwrap()
    }

    async fn scalar<T>(&self, sql: &'static str, id: &str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
    {
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(self.pool())
            .await
            .unwrap()
    }

    async fn wait_until(&self, what: &str, sql: &'static str, id: &str, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got: Option<String> = sqlx::query_scalar(sql)
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .unwrap();
            if got.as_deref() == Some(want) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: still {got:?}, want {want}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits for an offer to show in the console; on failure says what the database holds.
async fn wait_offer(b: &mut Browser, stack: &Stack) -> Value {
    let answer = b
        .try_send(json!({"cmd": "wait", "selector": "li.offer"}))
        .await;
    if answer["ok"] != true {
        let state: Value = sqlx::query_scalar(
            "SELECT jsonb_build_object(
                'tasks', (SELECT jsonb_agg(to_jsonb(t)) FROM tasks t),
                'workers', (SELECT jsonb_agg(jsonb_build_object('name', name, 'activity', activity,
                                                                'attributes', attributes)) FROM workers),
                'orders', (SELECT jsonb_agg(jsonb_build_object('status', status, 'confidence', confidence))
                             FROM orders),
                'jobs', (SELECT jsonb_agg(jsonb_build_object('type', job_type, 'status', status,
                                                             'result', last_result)) FROM apalis.jobs))",
        )
        .fetch_one(stack.pool())
        .await
        .unwrap();
        panic!("no offer showed: {answer}\ndatabase: {state:#}");
    }
    answer
}

/// Runs a future to completion from synchronous code inside the test's runtime.
fn futures_block<F: std::future::Future + Send + 'static>(f: F) -> F::Output
where
    F::Output: Send + 'static,
{
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// The total kea-menu gives one medium pepperoni pizza for pickup, as the page writes money.
fn medium_pepperoni_total(store: &Store) -> (i64, String) {
    let lines = [OrderLine {
        sku: "pizza-pepperoni".to_owned(),
        size: Some("medium".to_owned()),
        quantity: 1,
        modifiers: Vec::new(),
    }];
    let cents = price_order(store, &lines, FulfillmentKind::Pickup)
        .unwrap()
        .total_cents;
    (cents, format!("${}.{:02}", cents / 100, cents % 100))
}

const ORDER_OF_CALL: &str = "SELECT id::text FROM orders WHERE call_sid = $1";
const ORDER_STATUS: &str = "SELECT status FROM orders WHERE id::text = $1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_verifies_corrects_and_approves_orders_and_takes_a_waiting_caller() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    let Some(mut b) = Browser::start().await else {
        return;
    };
    stack.add_agent(
        EMAIL,
        PASSWORD,
        &[
            "--stores",
            "tonys-pizza",
            "--capacity",
            "2",
            "--contact",
            "+15557770001",
        ],
    );
    let base = stack.server.url.clone();

    // Signed out: the console sends you to sign in. A wrong password says so and signs nobody in.
    let r = b
        .send(json!({"cmd": "goto", "url": format!("{base}/console")}))
        .await;
    assert!(
        r["url"].as_str().unwrap().ends_with("/console/login"),
        "{r}"
    );
    b.check_accessible("sign-in").await;
    b.shot("01-sign-in").await;
    b.send(json!({"cmd": "fill", "label": "E-mail", "value": EMAIL}))
        .await;
    b.send(json!({"cmd": "fill", "label": "Password", "value": "wrong password"}))
        .await;
    b.click("Sign in").await;
    assert_eq!(
        b.text("#sign-in-error").await,
        "That e-mail and password do not match an agent."
    );
    b.shot("02-sign-in-refused").await;
    // The refused sign-in's 401 is the only resource error the browser may have logged.
    let e = b.send(json!({"cmd": "errors"})).await;
    assert!(
        e["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m.as_str().unwrap().contains("401")),
        "{e}"
    );
    b.send(json!({"cmd": "fill", "label": "Password", "value": PASSWORD}))
        .await;
    b.click("Sign in").await;
    assert!(b.text(".who").await.contains("Ana Ortiz"));
    b.click("Go available").await;
    b.check_accessible("console").await;
    b.shot("03-available").await;

    // A low-confidence call: the order arrives live, no reload.
    let call = stack.call("low-1", &["a large pepperoni pizza"], 0.7, "order_placed");
    let order: String = stack.scalar(ORDER_OF_CALL, &call).await;
    let offer = wait_offer(&mut b, &stack).await;
    assert_eq!(
        offer["navigations"], 0,
        "the offer must arrive without a reload"
    );
    b.send(json!({"cmd": "wait", "selector": "section#task h2"}))
        .await;
    assert!(
        b.text("section#task h2")
            .await
            .starts_with("Verify an order")
    );
    b.shot("04-offer").await;

    // Accept with the keyboard, change the size, approve: the POS gets the corrected order once.
    b.send(json!({"cmd": "press", "key": "a", "navigates": true}))
        .await;
    assert!(b.text(".task-status").await.starts_with("Yours"));
    b.check_accessible("verify").await;
    b.shot("05-verify").await;

    // The entity model's second reading, when it disagrees, is shown beside the order.
    sqlx::query(
        r#"UPDATE orders SET second_opinion = '{"agrees": false, "confidence": 0,
             "only_dialog": [{"sku": "pizza-pepperoni", "size": "large", "quantity": 1, "modifiers": []}],
             "only_model": [{"sku": "pizza-pepperoni", "size": "medium", "quantity": 1, "modifiers": ["extra-cheese"]}]}'
           WHERE id::text = $1"#,
    )
    .bind(&order)
    .execute(stack.pool())
    .await
    .unwrap();
    let here = b.send(json!({"cmd": "url"})).await;
    let url = here["url"].as_str().map(str::to_owned).unwrap_or_default();
    b.send(json!({"cmd": "goto", "url": url})).await;
    let second = b.text("section.second-opinion").await;
    assert!(
        second.contains("Heard by the model, not on the order")
            && second.contains("1 × Pepperoni Pizza, medium, extra cheese")
            && second.contains("1 × Pepperoni Pizza, large"),
        "{second}"
    );
    b.check_accessible("second-opinion").await;
    b.shot("05b-second-opinion").await;
    b.send(json!({"cmd": "select", "label": "Size", "value": "medium"}))
        .await;
    b.click("Save line 1").await;
    let (cents, dollars) = medium_pepperoni_total(&stack.store);
    assert_eq!(b.text("#order-total").await, dollars);
    b.shot("06-corrected").await;
    b.send(json!({"cmd": "press", "key": "v", "navigates": true}))
        .await;
    stack
        .wait_until("corrected order", ORDER_STATUS, &order, "sent_to_pos")
        .await;
    b.shot("07-approved").await;
    {
        let requests = stack.pos.requests.lock().unwrap().clone();
        assert_eq!(
            requests,
            std::slice::from_ref(&order),
            "one push, under the order's key"
        );
        let pushed = stack.pos.orders.lock().unwrap()[&order].clone();
        assert_eq!(pushed["order"]["total_cents"], cents, "{pushed}");
        assert_eq!(pushed["order"]["items"][0]["size"], "medium", "{pushed}");
    }
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT e.action FROM task_events e JOIN tasks t ON t.id = e.task_id
          WHERE t.order_id::text = $1 ORDER BY e.id",
    )
    .bind(&order)
    .fetch_all(stack.pool())
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "created",
            "offered",
            "accepted",
            "order_edited",
            "order_approved",
            "completed"
        ]
    );

    // The POS is down: the next order fails there; the agent approves it again once it is back.
    stack.pos.down.store(true, Ordering::SeqCst);
    let call = stack.call("low-2", &["a large pepperoni pizza"], 0.7, "order_placed");
    let order2: String = stack.scalar(ORDER_OF_CALL, &call).await;
    wait_offer(&mut b, &stack).await;
    b.send(json!({"cmd": "press", "key": "a", "navigates": true}))
        .await;
    b.send(json!({"cmd": "press", "key": "v", "navigates": true}))
        .await;
    stack
        .wait_until("failing push", ORDER_STATUS, &order2, "pos_failed")
        .await;
    let offer = wait_offer(&mut b, &stack).await;
    assert_eq!(offer["navigations"], 0);
    b.send(json!({"cmd": "press", "key": "a", "navigates": true}))
        .await;
    assert!(
        b.text("section#task h2")
            .await
            .starts_with("Call the store")
    );
    b.shot("08-callback").await;
    stack.pos.down.store(false, Ordering::SeqCst);
    b.click("Approve and push to the POS again").await;
    stack
        .wait_until("re-approved order", ORDER_STATUS, &order2, "sent_to_pos")
        .await;
    assert_eq!(
        stack.pos.orders.lock().unwrap().len(),
        2,
        "each order at the POS once"
    );

    // A caller asks for a person: waits in kea's queue, is offered, and connected on accept
    // through Twilio's REST API (Prism checks the request against Twilio's OpenAPI).
    let call = stack.caller_on_hold().await;
    let hold = stack
        .webhook(
            "/twilio/queue/wait",
            &[("CallSid", &call), ("QueueTime", "0")],
        )
        .await;
    assert!(hold.contains("next in line"), "{hold}");
    wait_offer(&mut b, &stack).await;
    b.send(json!({"cmd": "wait", "selector": "section#task .pane[data-kind=transfer]"}))
        .await;
    assert!(
        b.text("section#task h2")
            .await
            .starts_with("Caller waiting")
    );
    b.shot("09-transfer").await;
    b.send(json!({"cmd": "press", "key": "a", "navigates": true}))
        .await;
    let connected = "SELECT status FROM tasks WHERE call_sid = $1 AND kind = 'transfer'";
    stack
        .wait_until("transfer", connected, &call, "completed")
        .await;
    let detail: Value = sqlx::query_scalar(
        "SELECT e.detail FROM task_events e JOIN tasks t ON t.id = e.task_id
          WHERE t.call_sid = $1 AND e.action = 'call_connected'",
    )
    .bind(&call)
    .fetch_one(stack.pool())
    .await
    .unwrap();
    assert_eq!(detail["to"], "+15557770001", "{detail}");

    // Nobody on duty: the caller is offered the store's own line at once.
    b.click("Go offline").await;
    let call = stack.caller_on_hold().await;
    let leave = stack
        .webhook(
            "/twilio/queue/wait",
            &[("CallSid", &call), ("QueueTime", "0")],
        )
        .await;
    assert!(leave.contains("<Leave/>"), "{leave}");
    let choice = stack
        .webhook(
            "/twilio/queue/leave",
            &[("CallSid", &call), ("QueueResult", "leave")],
        )
        .await;
    assert!(choice.contains("press 1 or say store"), "{choice}");
    let dial = stack
        .webhook(
            "/twilio/queue/choice",
            &[("CallSid", &call), ("Digits", "1")],
        )
        .await;
    assert!(dial.contains(&format!(">{STAFF_PHONE}</Dial>")), "{dial}");

    // An agent on duty who does not answer: after the timeout (6 s here) the caller leaves the
    // queue and asks for a call back instead.
    b.click("Go available").await;
    let call = stack.caller_on_hold().await;
    stack
        .webhook(
            "/twilio/queue/wait",
            &[("CallSid", &call), ("QueueTime", "0")],
        )
        .await;
    wait_offer(&mut b, &stack).await;
    let leave = stack
        .webhook(
            "/twilio/queue/wait",
            &[("CallSid", &call), ("QueueTime", "7")],
        )
        .await;
    assert!(leave.contains("<Leave/>"), "{leave}");
    stack
        .webhook(
            "/twilio/queue/leave",
            &[("CallSid", &call), ("QueueResult", "leave")],
        )
        .await;
    let bye = stack
        .webhook(
            "/twilio/queue/choice",
            &[("CallSid", &call), ("SpeechResult", "call me back please")],
        )
        .await;
    assert!(
        bye.contains("call you back") && bye.contains("<Hangup/>"),
        "{bye}"
    );
    let kinds: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, status FROM tasks WHERE call_sid = $1 ORDER BY created_at")
            .bind(&call)
            .fetch_all(stack.pool())
            .await
            .unwrap();
    assert_eq!(kinds[0], ("transfer".to_owned(), "canceled".to_owned()));
    assert_eq!(kinds[1].0, "callback");
    b.shot("10-callback-offered").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_forms_bad_sign_ins_and_other_agents_tasks_change_nothing() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    stack.add_agent(
        EMAIL,
        PASSWORD,
        &["--stores", "tonys-pizza", "--contact", "+15557770001"],
    );
    stack.add_agent(
        "ben@console.example",
        "another password",
        &["--stores", "tonys-pizza", "--contact", "client:ben"],
    );
    let base = stack.server.url.clone();
    let http = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    let sign_in = |email: &'static str, password: &'static str| {
        let base = base.clone();
        async move {
            let res = http()
                .post(format!("{base}/console/login"))
                .form(&[("email", email), ("password", password)])
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let cookie = res
                .headers()
                .get("set-cookie")
                .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
            (status, cookie, res.text().await.unwrap())
        }
    };
    // A bad sign-in: 401, the same words for a wrong e-mail and a wrong password, no cookie.
    for (email, password) in [
        (EMAIL, "nope nope nope"),
        ("nobody@console.example", PASSWORD),
    ] {
        let (status, cookie, body) = sign_in(email, password).await;
        assert_eq!((status, cookie), (401, None));
        assert!(body.contains("That e-mail and password do not match an agent."));
    }
    let (status, ana, _) = sign_in(EMAIL, PASSWORD).await;
    assert_eq!(status, 303);
    let ana = ana.unwrap();
    let (_, ben, _) = sign_in("ben@console.example", "another password").await;
    let ben = ben.unwrap();
    let page = |cookie: String| {
        let base = base.clone();
        async move {
            http()
                .get(format!("{base}/console"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let csrf_of = |html: &str| {
        let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
        html[at..at + 43].to_owned()
    };
    let ana_csrf = csrf_of(&page(ana.clone()).await);
    let ben_csrf = csrf_of(&page(ben.clone()).await);
    let post = |cookie: String,
                path: String,
                form: Vec<(&'static str, String)>,
                origin: Option<&'static str>| {
        let base = base.clone();
        async move {
            let mut req = http()
                .post(format!("{base}{path}"))
                .header("cookie", cookie)
                .form(&form);
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let ana_id: Uuid = sqlx::query_scalar("SELECT id FROM workers WHERE email = $1")
        .bind(EMAIL)
        .fetch_one(stack.pool())
        .await
        .unwrap();
    let status_of = || async {
        sqlx::query_scalar::<_, String>("SELECT activity FROM workers WHERE id = $1")
            .bind(ana_id)
            .fetch_one(stack.pool())
            .await
            .unwrap()
    };
    // Forged: no token, another session's token, a token from another site's page.
    for (form, origin) in [
        (vec![("activity", "available".to_owned())], None),
        (
            vec![
                ("activity", "available".to_owned()),
                ("csrf", ben_csrf.clone()),
            ],
            None,
        ),
        (
            vec![
                ("activity", "available".to_owned()),
                ("csrf", ana_csrf.clone()),
            ],
            Some("https://evil.example"),
        ),
    ] {
        let (status, body) = post(ana.clone(), "/console/activity".to_owned(), form, origin).await;
        assert_eq!(status, 403, "{body}");
        assert!(
            body.contains("did not come from your console session"),
            "{body}"
        );
        assert_eq!(
            status_of().await,
            "offline",
            "a refused form changed nothing"
        );
    }
    // Replayed after signing out: the session is gone, so is the form's power.
    let (status, _) = post(
        ana.clone(),
        "/console/activity".to_owned(),
        vec![
            ("activity", "available".to_owned()),
            ("csrf", ana_csrf.clone()),
        ],
        Some("http://127.0.0.1"),
    )
    .await;
    assert_eq!(status, 403, "cross-origin even with the right token");
    let (status, _) = post(
        ana.clone(),
        "/console/activity".to_owned(),
        vec![
            ("activity", "available".to_owned()),
            ("csrf", ana_csrf.clone()),
        ],
        None,
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(status_of().await, "available");
    let (status, _) = post(
        ana.clone(),
        "/console/logout".to_owned(),
        vec![("csrf", ana_csrf.clone())],
        None,
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = post(
        ana.clone(),
        "/console/activity".to_owned(),
        vec![
            ("activity", "offline".to_owned()),
            ("csrf", ana_csrf.clone()),
        ],
        None,
    )
    .await;
    assert_eq!(status, 303, "a signed-out session is sent to sign in");
    assert_eq!(
        status_of().await,
        "available",
        "the replayed form changed nothing"
    );

    // Ben acts on a task offered to Ana: refused in words, nothing changed.
    let call = stack.caller_on_hold().await;
    stack
        .webhook(
            "/twilio/queue/wait",
            &[("CallSid", &call), ("QueueTime", "0")],
        )
        .await;
    let task = "SELECT id::text FROM tasks WHERE call_sid = $1";
    stack
        .wait_until(
            "offer",
            "SELECT status FROM tasks WHERE call_sid = $1",
            &call,
            "reserved",
        )
        .await;
    let task_id: String = stack.scalar(task, &call).await;
    for action in ["accept", "reject"] {
        let (status, body) = post(
            ben.clone(),
            format!("/console/tasks/{task_id}/{action}"),
            vec![("csrf", ben_csrf.clone())],
            None,
        )
        .await;
        assert_eq!(status, 404, "{body}");
        assert!(body.contains("That task is not yours to act on"), "{body}");
    }
    let holder: (String, Uuid) =
        sqlx::query_as("SELECT status, worker_id FROM tasks WHERE id::text = $1")
            .bind(&task_id)
            .fetch_one(stack.pool())
            .await
            .unwrap();
    assert_eq!(holder, ("reserved".to_owned(), ana_id));
}

/// How long after a low-confidence call hangs up its task shows in an available agent's console
/// (the browser's clock against PostgreSQL's `calls.ended_at`, both this machine's). Run it with
/// `cargo nextest run -p kea --run-ignored only -E 'test(offer_latency)'`; prints p50/p95.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run it on demand"]
async fn offer_latency() {
    let calls: usize = std::env::var("KEA_LATENCY_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(25);
    let Some(stack) = Stack::start().await else {
        return;
    };
    let Some(mut b) = Browser::start().await else {
        return;
    };
    stack.add_agent(EMAIL, PASSWORD, &["--stores", "tonys-pizza"]);
    let base = stack.server.url.clone();
    b.send(json!({"cmd": "goto", "url": format!("{base}/console")}))
        .await;
    b.send(json!({"cmd": "fill", "label": "E-mail", "value": EMAIL}))
        .await;
    b.send(json!({"cmd": "fill", "label": "Password", "value": PASSWORD}))
        .await;
    b.click("Sign in").await;
    b.click("Go available").await;
    let mut millis = Vec::new();
    for n in 0..calls {
        let call = stack.call(
            &format!("latency-{n}"),
            &["a large pepperoni pizza"],
            0.7,
            "order_placed",
        );
        let shown = wait_offer(&mut b, &stack).await["at"].as_f64().unwrap();
        let ended: f64 = sqlx::query_scalar(
            "SELECT extract(epoch FROM ended_at)::float8 * 1000 FROM calls WHERE call_sid = $1",
        )
        .bind(&call)
        .fetch_one(stack.pool())
        .await
        .unwrap();
        millis.push(shown - ended);
        // Done with it: the console clears it, ready for the next.
        sqlx::query("UPDATE tasks SET status = 'canceled' WHERE call_sid = $1")
            .bind(&call)
            .execute(stack.pool())
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while b
            .send(json!({"cmd": "count", "selector": "li.offer"}))
            .await["count"]
            != 0
        {
            assert!(Instant::now() < deadline, "the canceled offer stayed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    millis.sort_by(f64::total_cmp);
    let at =
        |q: f64| millis[((millis.len() as f64 * q).ceil() as usize).clamp(1, millis.len()) - 1];
    println!(
        "hang-up → offer in the console, {} calls: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        millis.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    );
    b.close().await;
}

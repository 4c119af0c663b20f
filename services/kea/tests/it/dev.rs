//! `kea dev` from nothing: its own PostgreSQL, migrations, the sample stores, the server; Ctrl-C
//! stops it all, and a second start reuses the cluster.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::{free_port, kea, wait_for};

fn start(data_dir: &std::path::Path, port: u16) -> Child {
    kea()
        .arg("dev")
        .env("KEA_DATA_DIR", data_dir)
        .env("KEA_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A new `kea dev` folder under `root` with its own PostgreSQL port remembered, so that it cannot
/// race another test's `kea dev` for the first free port.
fn fresh_data_dir(root: &std::path::Path) -> std::path::PathBuf {
    let data = root.join("kea-data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("port"), format!("{}\n", free_port())).unwrap();
    data
}

/// Sends `signal` and returns (exit success, stdout). Its output is read while it stops, so a
/// full pipe never holds it up.
async fn stop(child: Child, signal: Signal) -> (bool, String) {
    kill(Pid::from_raw(child.id() as i32), signal).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let out = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("kea dev did not stop")
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn kea_dev_brings_everything_up_and_down_and_reuses_its_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kea-data");
    let port = free_port();
    let client = reqwest::Client::new();
    let readyz = format!("http://127.0.0.1:{port}/readyz");

    let child = start(&data, port);
    assert_eq!(wait_for(&client, &readyz, 200, 60).await, Some(200));
    let pg_port: u16 = std::fs::read_to_string(data.join("port"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{pg_port}/kea");
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let stores: Vec<String> = sqlx::query_scalar("SELECT id FROM stores ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(stores, ["bean-there", "la-casita", "tonys-pizza"]);
    // The job workers run inside kea dev: an order for a store without a POS is confirmed and its
    // receipt, with only the dev credentials, is printed to the log instead of sent.
    sqlx::query("UPDATE stores SET document = document || '{\"pos\": {\"kind\": \"none\"}}' WHERE id = 'bean-there'")
        .execute(&mut conn)
        .await
        .unwrap();
    // Confirmed at once, as an agent would confirm it.
    confirm_an_order(&mut conn).await;
    let first_sids = receipt_sids(&mut conn, 1).await;
    // A store the developer adds survives restarts (and the samples are not re-imported over it).
    sqlx::query("UPDATE stores SET name = 'Tony''s Test Kitchen' WHERE id = 'tonys-pizza'")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let (ok, stdout) = stop(child, Signal::SIGINT).await;
    assert!(ok, "{stdout}");
    assert!(
        stdout.contains("Initialised a private PostgreSQL cluster"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Sample store tonys-pizza: created"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("http://127.0.0.1:{port}/readyz")),
        "{stdout}"
    );
    assert!(
        stdout.contains("Stopped the private PostgreSQL cluster."),
        "{stdout}"
    );
    assert!(stdout.contains("text inbox"), "{stdout}");
    assert!(
        PgConnection::connect(&url).await.is_err(),
        "PostgreSQL stopped with kea dev"
    );

    let child = start(&data, port);
    assert_eq!(wait_for(&client, &readyz, 200, 60).await, Some(200));
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let name: String = sqlx::query_scalar("SELECT name FROM stores WHERE id = 'tonys-pizza'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(name, "Tony's Test Kitchen");
    // Texts sent after a restart get ids of their own (the inbox's counter starts again, its
    // process part does not repeat), so nothing collides with the texts already recorded.
    confirm_an_order(&mut conn).await;
    let sids = receipt_sids(&mut conn, 2).await;
    assert!(sids.contains(&first_sids[0]), "{sids:?}");
    assert_ne!(sids[0], sids[1], "{sids:?}");
    conn.close().await.unwrap();
    let (ok, stdout) = stop(child, Signal::SIGTERM).await;
    assert!(ok, "{stdout}");
    assert!(
        !stdout.contains("Initialised"),
        "the second start reuses the cluster: {stdout}"
    );
    assert!(!stdout.contains("Sample store"), "{stdout}");
    let secret = std::fs::read_to_string(data.join("jwt-secret")).unwrap();
    assert!(
        stdout.contains(secret.trim()),
        "the generated JWT secret is printed and kept"
    );
}

/// A busy port or a second `kea dev` in the same folder stops at once, says why, and touches
/// nothing: no cluster is started, and the first `kea dev` keeps running.
#[tokio::test]
async fn a_busy_port_or_a_second_kea_dev_fails_at_once_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kea-data");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let started = Instant::now();
    let out = start(&data, port).wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it failed at once"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in use"), "{err}");
    assert!(!data.join("pg").exists(), "no cluster was started");
    drop(taken);

    let client = reqwest::Client::new();
    // Its own PostgreSQL port (remembered in the folder), so that it cannot race another test's
    // `kea dev` for the first free port.
    std::fs::write(data.join("port"), format!("{}\n", free_port())).unwrap();
    let first_port = free_port();
    let first = start(&data, first_port);
    let readyz = format!("http://127.0.0.1:{first_port}/readyz");
    assert_eq!(wait_for(&client, &readyz, 200, 60).await, Some(200));
    let out = start(&data, free_port()).wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another kea dev is running"), "{err}");
    assert_eq!(
        wait_for(&client, &readyz, 200, 5).await,
        Some(200),
        "the first one still runs"
    );
    let (ok, _) = stop(first, Signal::SIGINT).await;
    assert!(ok);
}

/// A call on `kea dev` goes all the way: the order reaches its stand-in POS (signature checked),
/// which prints the kitchen ticket, the order is `sent_to_pos`, and the receipt is texted (to the
/// log); nothing leaves the machine.
#[tokio::test]
async fn kea_dev_takes_a_call_to_the_kitchen_ticket_and_the_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let data = fresh_data_dir(dir.path());
    let port = free_port();
    let client = reqwest::Client::new();
    let readyz = format!("http://127.0.0.1:{port}/readyz");
    // The kitchen ticket is an info line.
    let child = kea()
        .arg("dev")
        .env("KEA_DATA_DIR", &data)
        .env("KEA_LISTEN", format!("127.0.0.1:{port}"))
        .env("KEA_LOG", "info,sqlx=warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(wait_for(&client, &readyz, 200, 60).await, Some(200));
    let scenarios = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/scenarios"
    );
    let out = kea()
        .args(["simulate", "--only", "tonys-01", scenarios])
        .env("KEA_URL", format!("http://127.0.0.1:{port}"))
        .env("KEA_DATA_DIR", &data)
        .env("TWILIO_AUTH_TOKEN", "test-auth-token")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("1 passed, 0 failed"), "{said}");
    let pg_port = std::fs::read_to_string(data.join("port")).unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/kea", pg_port.trim());
    let mut conn = PgConnection::connect(&url).await.unwrap();
    // The order reaches the stand-in POS, and the receipt is texted to the inbox, which reports
    // it delivered through the signed status callback.
    let receipt = |column: &str| {
        format!(
            "SELECT {column} FROM orders o JOIN sms_messages m ON m.order_id = o.id
              WHERE o.store_id = 'tonys-pizza' AND m.kind = 'receipt'"
        )
    };
    wait_until(&mut conn, &receipt("o.status"), "sent_to_pos").await;
    wait_until(&mut conn, &receipt("m.status"), "delivered").await;
    conn.close().await.unwrap();
    // Ctrl-C: heard once, and everything is down in well under the 2 seconds a person waits.
    let asked = Instant::now();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let child_out = child.wait_with_output().unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    let log = String::from_utf8_lossy(&child_out.stderr);
    assert_eq!(log.matches("Ctrl-C: shutting down").count(), 1, "{log}");
    assert!(log.contains("KITCHEN TICKET"), "{log}");
    assert!(
        log.contains("Pepperoni") || log.contains("Hawaiian"),
        "{log}"
    );
    assert!(log.contains("TEXT (kea dev inbox"), "{log}");
}

/// Adds a confirmed (already approved) order at bean-there, which the pipeline then texts for.
async fn confirm_an_order(conn: &mut PgConnection) {
    sqlx::query(
        "INSERT INTO orders (store_id, status, customer_name, customer_phone, fulfillment,
                             subtotal_cents, tax_cents, total_cents, confidence)
         VALUES ('bean-there', 'confirmed', 'Dev', '+15551230000', 'pickup', 0, 0, 0, 1.0)",
    )
    .execute(conn)
    .await
    .unwrap();
}

/// Waits (up to 20 s) until bean-there has `count` receipts with Twilio sids; returns the sids.
async fn receipt_sids(conn: &mut PgConnection, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let sids: Vec<String> = sqlx::query_scalar(
            "SELECT message_sid FROM sms_messages
              WHERE store_id = 'bean-there' AND kind = 'receipt' AND message_sid IS NOT NULL
              ORDER BY created_at",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        if sids.len() >= count {
            assert!(sids.iter().all(|s| s.starts_with("SMdev")), "{sids:?}");
            return sids;
        }
        assert!(
            Instant::now() < deadline,
            "kea dev's workers sent {} receipts, not {count}",
            sids.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `sql` (one text value) until it is `want`, for up to 30 seconds.
async fn wait_until(conn: &mut PgConnection, sql: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_optional(&mut *conn)
            .await
            .unwrap();
        if got.as_deref() == Some(want) {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {got:?}, want {want}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The newcomer's first hour, in a browser: `kea dev` on a fresh folder, a call placed from the
/// `/dev` page's phone through the real signed webhooks, and the order's kitchen ticket and the
/// caller's receipt appearing on the same page (pushed, not reloaded), with the order
/// `sent_to_pos`. Screenshots land in `target/console-screenshots/dev-*.png`.
#[tokio::test]
async fn a_call_from_the_dev_page_reaches_the_kitchen_and_the_inbox() {
    let Some(mut b) = crate::console::Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = fresh_data_dir(dir.path());
    let port = free_port();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let child = start(&data, port);
    assert_eq!(
        wait_for(&client, &format!("{base}/readyz"), 200, 60).await,
        Some(200)
    );

    // Only a browser on this machine: another Host (a tunnel, DNS rebinding) is refused.
    let refused = client
        .get(format!("{base}/dev"))
        .header("Host", "kea.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    b.send(json!({"cmd": "goto", "url": format!("{base}/dev")}))
        .await;
    b.send(json!({"cmd": "wait", "selector": "#live.on"})).await;
    b.check_accessible("dev page").await;
    b.shot("dev-page").await;

    // The phone: the caller of the public scenario tonys-01, answering what kea asks.
    let scenario = kea_sim::Scenario::parse(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/scenarios/tonys-01-single-pickup.toml"
        ))
        .unwrap(),
        "tonys-01",
    )
    .unwrap();
    let mut caller = kea_sim::SimCaller::new(&scenario);
    b.send(json!({"cmd": "select", "label": "Store", "value": "tonys-pizza"}))
        .await;
    b.send(json!({"cmd": "fill", "label": "Your number", "value": scenario.caller.phone}))
        .await;
    b.click("Call").await;
    let mut steps = 1;
    loop {
        b.send(json!({"cmd": "wait", "selector": format!("#transcript[data-steps=\"{steps}\"]")}))
            .await;
        if b.send(json!({"cmd": "count", "selector": "#transcript li.end"}))
            .await["count"]
            != 0
        {
            break;
        }
        assert!(steps < 20, "the call never ended");
        let prompt = b
            .text("#transcript li:nth-last-child(1 of .kea) .says")
            .await;
        match caller.respond(&prompt) {
            Some(text) => {
                b.send(json!({"cmd": "fill", "label": "You say", "value": text}))
                    .await;
                b.click("Say").await;
            }
            None => b.click("Stay silent").await,
        }
        steps += 1;
        if steps == 3 {
            b.shot("dev-page-call").await;
        }
    }
    let ended = b.text("#transcript li.end").await;
    assert!(ended.contains("kea hung up"), "{ended}");
    // Each turn shows the TwiML kea answered and its time.
    let twiml = b.text("#transcript li.kea details pre").await;
    assert!(twiml.contains("<Response>"), "{twiml}");

    // The ticket and the delivered receipt arrive by themselves, with no reload.
    let ticket = b
        .send(json!({"cmd": "wait", "selector": "#tickets li.ticket"}))
        .await;
    assert_eq!(ticket["navigations"], 0);
    let lines = b.text("#tickets li.ticket").await;
    assert!(lines.contains("Pepperoni Pizza (large)"), "{lines}");
    assert!(lines.contains("Maria"), "{lines}");
    let delivered = b
        .send(json!({"cmd": "wait", "selector": "#texts li.text .status.delivered"}))
        .await;
    assert_eq!(delivered["navigations"], 0);
    let text = b.text("#texts li.text .body").await;
    assert!(text.to_lowercase().contains("pepperoni"), "{text}");
    b.send(json!({"cmd": "wait", "selector": "#calls .status.sent_to_pos"}))
        .await;
    b.shot("dev-page-after-call").await;

    let pg_port = std::fs::read_to_string(data.join("port")).unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/kea", pg_port.trim());
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let (sid, status): (String, String) = sqlx::query_as(
        "SELECT c.call_sid, o.status FROM calls c JOIN orders o ON o.call_sid = c.call_sid
          WHERE c.store_id = 'tonys-pizza'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(status, "sent_to_pos");
    conn.close().await.unwrap();

    // The call's timeline, linked from the call list.
    b.send(json!({"cmd": "goto", "url": format!("{base}/dev/calls/{sid}")}))
        .await;
    let timeline = b.text("ol.timeline").await;
    assert!(timeline.contains("large pepperoni"), "{timeline}");
    assert!(timeline.contains("ms on the server"), "{timeline}");
    b.check_accessible("call timeline").await;
    b.shot("dev-call-timeline").await;

    // The tokens on the page work against the data API, each with its own reach.
    b.send(json!({"cmd": "goto", "url": format!("{base}/dev")}))
        .await;
    let service = b
        .send(json!({"cmd": "value", "selector": "#token-1"}))
        .await["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let orders: serde_json::Value = client
        .get(format!("{base}/rest/v1/orders?select=status"))
        .bearer_auth(&service)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orders, json!([{"status": "sent_to_pos"}]));

    b.close().await;
    let (ok, _) = stop(child, Signal::SIGINT).await;
    assert!(ok);
}

/// An open `/dev` page (its event stream never ends by itself) does not hold up Ctrl-C.
#[tokio::test]
async fn ctrl_c_does_not_wait_for_open_pages() {
    let dir = tempfile::tempdir().unwrap();
    let data = fresh_data_dir(dir.path());
    let port = free_port();
    let client = reqwest::Client::new();
    let child = start(&data, port);
    assert_eq!(
        wait_for(&client, &format!("http://127.0.0.1:{port}/readyz"), 200, 60).await,
        Some(200)
    );
    let mut stream = client
        .get(format!("http://127.0.0.1:{port}/dev/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let first = stream.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: ready"));
    let asked = Instant::now();
    let (ok, _) = stop(child, Signal::SIGINT).await;
    assert!(ok);
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "{:?}",
        asked.elapsed()
    );
    // The stream ended with the server rather than being cut.
    while let Ok(Some(_)) = stream.chunk().await {}
}

//! `kea dev` from nothing: its own PostgreSQL, migrations, the sample stores, the server; Ctrl-C
//! stops it all, and a second start reuses the cluster.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
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
    sqlx::query(
        "INSERT INTO orders (store_id, status, customer_name, customer_phone, fulfillment,
                             subtotal_cents, tax_cents, total_cents, confidence)
         VALUES ('bean-there', 'confirmed', 'Dev', '+15551230000', 'pickup', 0, 0, 0, 1.0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let sid: Option<String> = sqlx::query_scalar(
            "SELECT message_sid FROM sms_messages WHERE store_id = 'bean-there' AND kind = 'receipt'",
        )
        .fetch_optional(&mut conn)
        .await
        .unwrap()
        .flatten();
        if let Some(sid) = sid {
            assert!(sid.starts_with("SMdev"), "{sid}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "kea dev's workers sent no receipt"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
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
    let data = dir.path().join("kea-data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("port"), format!("{}\n", free_port())).unwrap();
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

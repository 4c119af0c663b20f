//! The conformance tool the platform is judged with (`../shared/tools/caller.py`) against a real
//! `kea serve` and `kea worker`: every public scenario, through the signed webhooks, checked
//! through the data API, and every placed order followed to caller.py's POS receiver (one signed
//! push, one idempotency key) and its Twilio stand-in (one receipt with the right total).
//! Skips, saying so, when `../shared` (beside the project) or python3 is absent.

use std::path::Path;
use std::process::Command;

use kea_test_db::TestDb;

use crate::{Server, TEST_JWT_SECRET, import_stores, kea};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[tokio::test]
async fn caller_py_passes_every_public_scenario() {
    let tool = Path::new(ROOT).join("../shared/tools/caller.py");
    if !tool.exists() {
        eprintln!(
            "skipping: {} is absent (it lives in ../shared beside the project)",
            tool.display()
        );
        return;
    }
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipping: python3 is not installed");
        return;
    }
    // Every SMS the worker sends is also checked against Twilio's OpenAPI description by a
    // Prism mock of it (caller.py's --validate-twilio), when Prism is available (it is in CI).
    let prism = tokio::task::spawn_blocking(|| {
        let spec = kea_test_prism::shared_spec("twilio_api_v2010.json")?;
        kea_test_prism::start(Path::new(ROOT), &spec, std::time::Duration::from_secs(180))
    });
    let db = TestDb::new().await;
    let stores = format!("{ROOT}/tests/fixtures/stores");
    import_stores(db.url(), &["tonys-pizza", "la-casita", "bean-there"]);
    let server = Server::start(db.url(), "conformance-token").await;
    // caller.py's Twilio stand-in listens on 18082 and its POS receiver on 18081 (where the
    // fixture stores point).
    let worker = kea()
        .arg("worker")
        .env("DATABASE_URL", db.url())
        .env("TWILIO_ACCOUNT_SID", format!("AC{}", "0".repeat(32)))
        .env("TWILIO_AUTH_TOKEN", "conformance-token")
        .env("TWILIO_API_BASE", "http://127.0.0.1:18082")
        .env("KEA_PUBLIC_URL", &server.url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let worker = Stopped(worker);
    let prism = match prism.await.unwrap() {
        Ok(prism) => Some(prism),
        Err(why) if std::env::var_os("CI").is_some() => panic!("Prism is needed in CI: {why}"),
        Err(why) => {
            eprintln!("not validating texts against Twilio's OpenAPI description: {why}");
            None
        }
    };
    let validate: Vec<String> = prism
        .as_ref()
        .map(|p| vec!["--validate-twilio".to_owned(), p.url()])
        .unwrap_or_default();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(tool)
            .args([
                "--base-url",
                &server.url,
                "--auth-token",
                "conformance-token",
            ])
            .args(["--jwt-secret", TEST_JWT_SECRET, "--stores", &stores])
            .args(["--scenarios", &format!("{ROOT}/tests/fixtures/scenarios")])
            .args(["--wait", "20"])
            .args(&validate)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("27 passed, 0 failed"), "{stdout}");
    drop(worker);
}

/// SIGTERM on drop, so a failed assertion does not leave a worker behind.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).ok();
        self.0.wait().ok();
    }
}

//! The conformance tool the platform is judged with (`../shared/tools/caller.py`) against a real
//! `kea serve`: every public scenario, through the signed webhooks, checked through the data API.
//! Skips, saying so, when `../shared` (beside the project) or python3 is absent.

use std::path::Path;
use std::process::Command;

use kea_test_db::TestDb;

use crate::{Server, TEST_JWT_SECRET, import_stores};

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
    let db = TestDb::new().await;
    let stores = format!("{ROOT}/tests/fixtures/stores");
    import_stores(db.url(), &["tonys-pizza", "la-casita", "bean-there"]);
    let server = Server::start(db.url(), "conformance-token").await;
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
            // The POS push and the SMS receipt arrive with the order pipeline.
            .args(["--no-peers", "--skip-peer-checks", "--wait", "2"])
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
}

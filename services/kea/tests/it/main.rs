//! End-to-end tests of the `kea` binary: real processes, real PostgreSQL, HTTP over loopback.
#![expect(clippy::unwrap_used, reason = "tests")]

mod cli;
mod dev;
mod serve;
mod store_import;

use std::net::TcpListener;
use std::process::Command;

/// The `kea` binary with none of the developer's kea settings leaking in.
pub fn kea() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kea"));
    for var in [
        "DATABASE_URL",
        "KEA_LISTEN",
        "KEA_PUBLIC_URL",
        "KEA_DATA_DIR",
        "KEA_JWT_SECRET",
        "VAULT_ADDR",
        "VAULT_TOKEN",
        "VAULT_ROLE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("KEA_LOG", "warn");
    cmd
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The sample stores, as the project ships them.
pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../tests/fixtures/stores/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

/// Polls `url` until it answers `status` or `seconds` pass; returns the last status seen.
pub async fn wait_for(
    client: &reqwest::Client,
    url: &str,
    status: u16,
    seconds: u64,
) -> Option<u16> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let mut last = None;
    while std::time::Instant::now() < deadline {
        if let Ok(res) = client.get(url).send().await {
            last = Some(res.status().as_u16());
            if last == Some(status) {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    last
}

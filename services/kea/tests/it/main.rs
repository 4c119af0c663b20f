//! End-to-end tests of the `kea` binary: real processes, real PostgreSQL, HTTP over loopback.
#![expect(clippy::unwrap_used, reason = "tests")]

mod call;
mod cli;
mod conformance;
mod console;
mod data_api_clients;
mod dev;
mod docs;
mod ner;
mod pipeline;
mod serve;
mod simulate;
mod store_import;
mod turns;

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
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_API_BASE",
        "KEA_WORKER_NAME",
        "KEA_JOB_MAX_ATTEMPTS",
        "KEA_JOB_MIN_BACKOFF_MS",
        "KEA_JOB_MAX_BACKOFF_MS",
        "KEA_JOB_HEARTBEAT_MS",
        "KEA_NER_MODEL",
        "KEA_CLOCK",
    ] {
        cmd.env_remove(var);
    }
    // No test trains the entity model by surprise: `kea dev` runs without one unless a test
    // gives it a model, and workers look for it where none is.
    cmd.env("KEA_DEV_NO_NER_TRAINING", "true");
    cmd.env("KEA_NER_MODEL", "/nonexistent/kea-ner-model");
    // Tests run at any hour: store hours are enforced only where a test sets a clock.
    cmd.env("KEA_STORE_HOURS", "ignore");
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

/// Runs `kea <args>` against `database_url`, failing the test with kea's stderr unless it
/// succeeds.
pub fn kea_ok<S: AsRef<std::ffi::OsStr>>(database_url: &str, args: impl IntoIterator<Item = S>) {
    let out = kea()
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Imports the sample stores named (`tonys-pizza`, …) with `kea store import`.
pub fn import_stores(database_url: &str, names: &[&str]) {
    let dir = format!("{}/../../tests/fixtures/stores", env!("CARGO_MANIFEST_DIR"));
    let files = names.iter().map(|n| format!("{dir}/{n}.json"));
    kea_ok(
        database_url,
        ["store".to_owned(), "import".to_owned()]
            .into_iter()
            .chain(files),
    );
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

/// A PostgreSQL cluster of a test's own under `root` (first free port from `first_port`), with a
/// migrated database `kea`: for tests that stop, restart or crash PostgreSQL, which the shared
/// test cluster must never see. Returns the cluster and the database's URL.
pub async fn own_cluster(
    root: &std::path::Path,
    first_port: u16,
) -> (kea_store::dev_cluster::DevCluster, String) {
    let cluster = tokio::task::spawn_blocking({
        let root = root.to_owned();
        move || {
            let mut c = kea_store::dev_cluster::DevCluster::new(&root, first_port).unwrap();
            c.init_if_needed().unwrap();
            c.start().unwrap();
            c
        }
    })
    .await
    .unwrap();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    sqlx::raw_sql("CREATE DATABASE kea")
        .execute(&mut admin)
        .await
        .unwrap();
    drop(admin);
    let url = cluster.url("kea");
    kea_ok(&url, ["migrate"]);
    (cluster, url)
}

/// The data-API signing secret the test servers use.
pub const TEST_JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef0123456789";

/// A `kea serve` process on a free port, stopped (SIGTERM, then waited for) when dropped.
pub struct Server {
    child: std::process::Child,
    /// Where it listens.
    pub url: String,
}

impl Server {
    /// Starts `kea serve` on `database_url` with `auth_token` and waits until it answers.
    pub async fn start(database_url: &str, auth_token: &str) -> Self {
        Self::start_with(database_url, auth_token, &[]).await
    }

    /// [`Server::start`] with more settings.
    pub async fn start_with(database_url: &str, auth_token: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        // The server's log goes to a file, so that a test that fails now and then can be read
        // afterwards (nextest names the test; the log names the port it printed).
        let logs = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-logs");
        std::fs::create_dir_all(&logs).unwrap();
        let log = std::fs::File::create(logs.join(format!("serve-{port}.log"))).unwrap();
        let child = kea()
            .arg("serve")
            .envs(env.iter().copied())
            .env("DATABASE_URL", database_url)
            .env("KEA_LISTEN", format!("127.0.0.1:{port}"))
            .env("TWILIO_AUTH_TOKEN", auth_token)
            .env("KEA_JWT_SECRET", TEST_JWT_SECRET)
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let up = wait_for(&reqwest::Client::new(), &format!("{url}/healthz"), 200, 20).await;
        assert_eq!(up, Some(200), "kea serve did not come up");
        Self { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).ok();
        self.child.wait().ok();
    }
}

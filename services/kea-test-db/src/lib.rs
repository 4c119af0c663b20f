#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failure here should stop the test loudly"
)]

use std::fs::File;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use kea_store::dev_cluster::DevCluster;
use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

/// A database of its own for one test, migrated, dropped on drop.
pub struct TestDb {
    name: String,
    admin_url: String,
    url: String,
    pool: PgPool,
}

impl TestDb {
    /// Creates a fresh database from the migrated template.
    pub async fn new() -> Self {
        let admin_url = admin_url();
        let template = ensure_template(&admin_url).await;
        let name = format!("kea_t_{:016x}", rand::random::<u64>());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        // PostgreSQL refuses to copy a template while another backend is copying it; retry briefly.
        let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
        let mut attempt = 0;
        loop {
            match sqlx::raw_sql(AssertSqlSafe(sql.clone()))
                .execute(&mut admin)
                .await
            {
                Ok(_) => break,
                Err(e)
                    if attempt < 50 && e.to_string().contains("being accessed by other users") =>
                {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 + 10 * attempt)).await;
                }
                Err(e) => panic!("creating test database {name}: {e}"),
            }
        }
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(url.parse::<PgConnectOptions>().unwrap())
            .await
            .unwrap();
        Self {
            name,
            admin_url,
            url,
            pool,
        }
    }

    /// A pool connected to this test's database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The connection string of this test's database (for a `kea` process under test).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop cannot await: finish on a thread with a runtime of its own. The pool's connections
        // belong to the test's runtime, which is blocked here, so they are not closed politely:
        // `WITH (FORCE)` ends them.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    sqlx::raw_sql(AssertSqlSafe(sql))
                        .execute(&mut admin)
                        .await
                        .ok();
                    admin.close().await.ok();
                }
            });
        });
        dropped.join().ok();
    }
}

/// The superuser connection string of the server tests use (see the crate docs).
pub fn admin_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("KEA_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => private_cluster_url(),
    })
    .clone()
}

/// Starts (once, across concurrent test processes) the private cluster under `target/`.
fn private_cluster_url() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/kea-test-pg");
    std::fs::create_dir_all(&root).unwrap();
    let lock_path = root.join("lock");
    let lock_file = File::create(&lock_path).unwrap();
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .unwrap();
    let mut cluster = DevCluster::new(&root, 55500)
        .unwrap_or_else(|e| panic!("tests need PostgreSQL (or KEA_TEST_DATABASE_URL): {e}"));
    cluster
        .init_if_needed()
        .unwrap_or_else(|e| panic!("initialising the test cluster: {e}"));
    cluster
        .start()
        .unwrap_or_else(|e| panic!("starting the test cluster: {e}"));
    let url = cluster.url("postgres");
    // Leave it running for the other test processes and the next run.
    std::mem::forget(cluster);
    url
}

fn with_database(url: &str, database: &str) -> String {
    let options: PgConnectOptions = url.parse().unwrap();
    let base = url.split('?').next().unwrap_or(url);
    let query = url
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    let current = options.get_database().unwrap_or("postgres");
    match base.rsplit_once('/') {
        Some((prefix, last)) if last == current => format!("{prefix}/{database}{query}"),
        _ => format!("{base}/{database}{query}"),
    }
}

/// Builds `kea_template_<hash>` once per set of migrations; returns its name.
async fn ensure_template(admin_url: &str) -> String {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let mut hash = Sha256::new();
            for m in kea_store::migrators().iter().flat_map(|m| m.iter()) {
                hash.update(m.version.to_le_bytes());
                hash.update(&*m.checksum);
            }
            let digest = hash.finalize();
            let name = format!(
                "kea_template_{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                digest[0], digest[1], digest[2], digest[3], digest[4], digest[5]
            );
            let mut admin = PgConnection::connect(admin_url).await.unwrap();
            // One builder across every test process; the others wait, then find it built.
            sqlx::query("SELECT pg_advisory_lock(7302871)")
                .execute(&mut admin)
                .await
                .unwrap();
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut admin)
                    .await
                    .unwrap();
            if !exists {
                let building = format!("{name}_build");
                let run = |sql: String| sqlx::raw_sql(AssertSqlSafe(sql));
                run(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                run(format!("CREATE DATABASE {building}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&with_database(admin_url, &building))
                    .await
                    .unwrap();
                kea_store::migrate(&pool).await.unwrap();
                pool.close().await;
                // Renamed only once complete, so a crash mid-build never leaves a half template.
                run(format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
            }
            sqlx::query("SELECT pg_advisory_unlock(7302871)")
                .execute(&mut admin)
                .await
                .unwrap();
            admin.close().await.ok();
            name
        })
        .await
        .clone()
}

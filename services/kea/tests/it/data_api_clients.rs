//! PostgREST's own client libraries against a real `kea serve`: `@supabase/postgrest-js` under
//! `node --test` and the Python `postgrest` package under pytest (tests/conformance/data-api/),
//! each comparing what the data API answers with what a direct SQL query on the same database
//! returns. The database is seeded here: the fixture stores, then tests/conformance/data-api/seed.sql.
//!
//! The clients are installed by `./scripts/test` (`ensure_data_api_clients` in scripts/lib.sh):
//! npm packages under tests/conformance/data-api/js/node_modules, Python packages in a venv under
//! target/data-api-py. When they are missing these tests skip, saying so, except under CI (`CI`
//! set), where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kea_test_db::TestDb;
use sqlx::AssertSqlSafe;

use crate::{Server, TEST_JWT_SECRET, import_stores};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn suite_dir() -> PathBuf {
    Path::new(ROOT).join("tests/conformance/data-api")
}

/// Skips (returns false) or, under CI, fails when a prerequisite is missing.
fn require(ok: bool, what: &str) -> bool {
    if ok {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    assert!(
        !ci,
        "{what}; ./scripts/test installs it (ensure_data_api_clients in scripts/lib.sh)"
    );
    eprintln!("skipping: {what}; ./scripts/test installs it");
    false
}

/// A test database with the fixture stores and the suite's seed, and `kea serve` on it.
async fn seeded_server() -> (TestDb, Server) {
    let db = TestDb::new().await;
    import_stores(db.url(), &["tonys-pizza", "la-casita", "bean-there"]);
    let seed_path = suite_dir().join("seed.sql");
    let seed = std::fs::read_to_string(&seed_path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", seed_path.display()));
    sqlx::raw_sql(AssertSqlSafe(seed))
        .execute(db.pool())
        .await
        .unwrap_or_else(|e| panic!("applying {}: {e}", seed_path.display()));
    let server = Server::start(db.url(), "data-api-clients").await;
    (db, server)
}

/// Runs `cmd` in `dir` against `server` and `db`; fails with its output unless it succeeds.
async fn run_suite(mut cmd: Command, dir: PathBuf, db: &TestDb, server: &Server, name: &str) {
    cmd.current_dir(&dir)
        .env("KEA_URL", &server.url)
        .env("KEA_JWT_SECRET", TEST_JWT_SECRET)
        .env("DATABASE_URL", db.url())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("NODE_OPTIONS");
    let out: Output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap_or_else(|e| panic!("{name}: the runner's thread failed: {e}"))
        .unwrap_or_else(|e| {
            panic!(
                "{name}: could not start the runner in {}: {e}",
                dir.display()
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    println!("{stdout}");
}

#[tokio::test]
async fn postgrest_js_agrees_with_sql() {
    let dir = suite_dir().join("js");
    let node = Command::new("node").arg("--version").output();
    if !require(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "node is not installed (the postgrest-js conformance tests need it)",
    ) {
        return;
    }
    if !require(
        dir.join("node_modules/@supabase/postgrest-js/package.json")
            .exists()
            && dir.join("node_modules/pg/package.json").exists()
            && dir.join("node_modules/jsonwebtoken/package.json").exists(),
        &format!(
            "the npm packages of {} are not installed (npm ci there)",
            dir.display()
        ),
    ) {
        return;
    }
    let (db, server) = seeded_server().await;
    let mut cmd = Command::new("node");
    // One file at a time: the write tests change rows that the read tests of other files compare.
    cmd.args(["--test", "--test-concurrency=1", "--test-reporter=spec"]);
    run_suite(cmd, dir, &db, &server, "node --test (postgrest-js)").await;
}

/// The Python with the suite's packages: KEA_DATA_API_PYTHON, else the venv `./scripts/test`
/// makes, else python3.
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("KEA_DATA_API_PYTHON")
        && !p.is_empty()
    {
        return PathBuf::from(p);
    }
    let venv = Path::new(ROOT).join("target/data-api-py/bin/python");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("python3")
}

#[tokio::test]
async fn postgrest_py_agrees_with_sql() {
    let python = python();
    let probe = Command::new(&python)
        .args(["-c", "import postgrest, pytest, psycopg, jwt"])
        .output();
    if !require(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        &format!(
            "{} lacks the Python packages of tests/conformance/data-api/python/requirements.txt",
            python.display()
        ),
    ) {
        return;
    }
    let (db, server) = seeded_server().await;
    let mut cmd = Command::new(&python);
    cmd.args(["-m", "pytest", "-q", "-p", "no:cacheprovider"]);
    run_suite(
        cmd,
        suite_dir().join("python"),
        &db,
        &server,
        "pytest (postgrest)",
    )
    .await;
}

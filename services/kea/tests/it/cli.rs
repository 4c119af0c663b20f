//! The command's surface: help for everything, and clear refusals when configuration is missing.

use crate::kea;

#[test]
fn every_subcommand_has_help() {
    let out = kea().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in [
        "dev", "serve", "worker", "migrate", "store", "call", "simulate", "replay",
    ] {
        assert!(
            text.contains(&format!("  {sub} ")),
            "`kea --help` lists {sub}:\n{text}"
        );
        let out = kea().args([sub, "--help"]).output().unwrap();
        assert!(out.status.success(), "kea {sub} --help");
    }
    let out = kea().args(["store", "import", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DATABASE_URL"), "{text}");
}

#[test]
fn a_missing_database_url_is_explained() {
    for args in [
        vec!["migrate"],
        vec!["serve"],
        vec!["worker"],
        vec!["store", "import", "x.json"],
    ] {
        let out = kea().args(&args).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("DATABASE_URL is not set"), "{args:?}: {err}");
    }
}

#[test]
fn a_pool_of_no_connections_is_refused() {
    // A pool of 0 would hang every request until its acquire timeout: refused before anything
    // starts, naming the setting.
    let out = kea()
        .args(["migrate", "--database-url", "postgres://127.0.0.1:1/x"])
        .env("KEA_DB_MAX_CONNECTIONS", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--db-max-connections"), "{err}");
}

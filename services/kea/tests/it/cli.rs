//! The command's surface: help for everything, and honest refusals for what is not built yet.

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
fn the_worker_is_not_built_yet_and_says_so() {
    let out = kea().arg("worker").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "prints nothing that looks like a result"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kea worker is not available yet"), "{err}");
}

#[test]
fn a_missing_database_url_is_explained() {
    for args in [
        vec!["migrate"],
        vec!["serve"],
        vec!["store", "import", "x.json"],
    ] {
        let out = kea().args(&args).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("DATABASE_URL is not set"), "{args:?}: {err}");
    }
}

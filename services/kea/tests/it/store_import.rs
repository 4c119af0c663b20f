//! `kea store import` through the real binary against a fresh database.

use std::path::PathBuf;

use kea_test_db::TestDb;
use serde_json::Value;

use crate::{fixture, kea};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn import(db: &TestDb, files: &[PathBuf]) -> Run {
    let out = kea()
        .args(["store", "import"])
        .args(files)
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn migrate(db: &TestDb) {
    crate::kea_ok(db.url(), ["migrate"]);
}

/// Writes the sample store `name` with `edit` applied into `dir`; returns the path.
fn write_store(
    dir: &tempfile::TempDir,
    file: &str,
    name: &str,
    edit: impl FnOnce(&mut Value),
) -> PathBuf {
    let mut doc: Value = serde_json::from_str(&fixture(name)).unwrap();
    edit(&mut doc);
    let path = dir.path().join(file);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path
}

async fn snapshot(db: &TestDb) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws('|',
            (SELECT json_agg(s ORDER BY id)::text FROM (SELECT id, phone, document FROM stores) s),
            (SELECT json_agg(m ORDER BY store_id, sku)::text FROM (SELECT store_id, sku, price_cents, available FROM menu_items) m),
            (SELECT json_agg(o ORDER BY store_id, group_id, sku)::text FROM modifier_options o),
            (SELECT count(*)::text FROM merchants))",
    )
    .fetch_one(db.pool())
    .await
    .unwrap()
}

fn samples(dir: &tempfile::TempDir) -> Vec<PathBuf> {
    ["tonys-pizza", "la-casita", "bean-there"]
        .iter()
        .map(|n| write_store(dir, &format!("{n}.json"), n, |_| {}))
        .collect()
}

#[tokio::test]
async fn imports_every_sample_store_then_reports_no_change() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    migrate(&db);
    let run = import(&db, &samples(&dir));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "tonys-pizza: created with 13 menu items\nla-casita: created with 13 menu items\nbean-there: created with 11 menu items\n"
    );
    let run = import(&db, &samples(&dir));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "tonys-pizza: unchanged\nla-casita: unchanged\nbean-there: unchanged\n"
    );
}

#[tokio::test]
async fn a_reimport_prints_what_changed() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    migrate(&db);
    assert_eq!(import(&db, &samples(&dir)[..1]).code, Some(0));
    let edited = write_store(&dir, "tonys-next.json", "tonys-pizza", |doc| {
        let items = doc["menu"]["items"].as_array_mut().unwrap();
        items.retain(|i| i["sku"] != "wings");
        items[0]["name"] = "Classic Cheese Pizza".into();
    });
    let run = import(&db, &[edited]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "tonys-pizza: updated: 1 changed: pizza-cheese; 1 removed (now unavailable): wings\n"
    );
}

/// Each way a file can be wrong: the message names the file, the JSON path and the problem, the
/// command fails, and the database is exactly as it was.
#[tokio::test]
async fn invalid_files_are_refused_naming_the_path_and_change_nothing() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    migrate(&db);
    assert_eq!(import(&db, &samples(&dir)[..1]).code, Some(0));
    let before = snapshot(&db).await;

    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(&str, &str, Edit, &str, &str)> = vec![
        (
            "duplicate-sku.json",
            "bean-there",
            Box::new(|d| {
                let sku = d["menu"]["items"][0]["sku"].clone();
                d["menu"]["items"][1]["sku"] = sku;
            }),
            "$.menu.items[1].sku",
            "duplicate",
        ),
        (
            "missing-group.json",
            "bean-there",
            Box::new(|d| {
                d["menu"]["items"][0]["modifier_groups"] = serde_json::json!(["no-such-group"])
            }),
            "$.menu.items[0].modifier_groups[0]",
            "no-such-group",
        ),
        (
            "bad-phone.json",
            "bean-there",
            Box::new(|d| d["phone"] = "555-0100".into()),
            "$.phone",
            "E.164",
        ),
        (
            "min-over-max.json",
            "bean-there",
            Box::new(|d| {
                d["menu"]["modifier_groups"][0]["min"] = 3.into();
                d["menu"]["modifier_groups"][0]["max"] = 1.into();
            }),
            "$.menu.modifier_groups[0].min",
            "max",
        ),
        (
            "negative-price.json",
            "bean-there",
            Box::new(|d| {
                let item = d["menu"]["items"]
                    .as_array_mut()
                    .unwrap()
                    .iter_mut()
                    .find(|i| i.get("price_cents").is_some())
                    .unwrap();
                item["price_cents"] = (-100).into();
            }),
            "price_cents",
            "-100",
        ),
        (
            "same-phone.json",
            "bean-there",
            Box::new(|d| d["phone"] = "+15550100001".into()),
            "$.phone",
            "tonys-pizza",
        ),
        (
            "not-json.json",
            "bean-there",
            Box::new(|d| *d = Value::String("{".into())),
            "$",
            "",
        ),
    ];
    for (file, name, edit, path, words) in cases {
        let bad = write_store(&dir, file, name, edit);
        let good = write_store(&dir, "casita-ok.json", "la-casita", |_| {});
        // A good file beside the bad one is not imported either.
        let run = import(&db, &[good, bad]);
        assert_eq!(run.code, Some(1), "{file}: {}", run.stdout);
        assert!(run.stdout.is_empty(), "{file}: {}", run.stdout);
        let line = run
            .stderr
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file}: {}", run.stderr));
        assert!(
            line.contains(path) && line.contains(words),
            "{file}: expected {path} and {words:?} in: {line}"
        );
        assert!(
            run.stderr.contains("Nothing was imported."),
            "{}",
            run.stderr
        );
        assert_eq!(snapshot(&db).await, before, "{file} changed the database");
    }
}

#[tokio::test]
async fn two_files_claiming_one_number_are_refused_together() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    migrate(&db);
    let a = write_store(&dir, "a.json", "la-casita", |_| {});
    let b = write_store(&dir, "b.json", "bean-there", |d| {
        d["phone"] = "+15550100002".into()
    });
    let run = import(&db, &[a, b]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("b.json: $.phone: +15550100002 is also the number in"),
        "{}",
        run.stderr
    );
    let stores: i64 = sqlx::query_scalar("SELECT count(*) FROM stores")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(stores, 0);
}

#[tokio::test]
async fn an_unreadable_file_is_named() {
    let db = TestDb::new().await;
    let run = import(&db, &[PathBuf::from("/no/such/store.json")]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .starts_with("/no/such/store.json: cannot read the file"),
        "{}",
        run.stderr
    );
}

//! The docs name only what exists. Every data-API path and filter column they name is in the
//! OpenAPI document a running `kea serve` gives; every `table.column` (or `schema.table`) is in
//! the migrated database; every `kea …` command is one the binary has; every repository path is
//! in the repository. A rename that forgets the docs fails here.

use std::collections::BTreeSet;
use std::path::Path;

use kea_test_db::TestDb;
use regex::Regex;
use serde_json::Value;

use crate::{Server, TEST_JWT_SECRET, kea};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The project's own prose: the README and `docs/`.
fn documents() -> Vec<(String, String)> {
    let mut files = vec![Path::new(ROOT).join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(ROOT).unwrap_or(&p).display().to_string();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The inline code spans of a Markdown text (fenced blocks included, as lines).
fn code_spans(text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            spans.push(line.trim().to_owned());
            continue;
        }
        let parts: Vec<&str> = line.split('`').collect();
        spans.extend(parts.iter().skip(1).step_by(2).map(|s| (*s).to_owned()));
    }
    spans
}

#[tokio::test]
async fn every_name_the_docs_use_exists() {
    let db = TestDb::new().await;
    let server = Server::start(db.url(), "docs-test").await;
    let token = kea_api::tokens::mint(
        TEST_JWT_SECRET,
        kea_api::tokens::Role::Service,
        chrono::Utc::now().timestamp(),
        600,
    )
    .unwrap();
    let openapi: Value = reqwest::Client::new()
        .get(format!("{}/rest/v1/", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text, column_name::text FROM information_schema.columns
          WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let schemas: BTreeSet<&str> = columns.iter().map(|(s, _, _)| s.as_str()).collect();
    let tables: BTreeSet<&str> = columns.iter().map(|(_, t, _)| t.as_str()).collect();
    let has_column =
        |table: &str, column: &str| columns.iter().any(|(_, t, c)| t == table && c == column);
    let has_table =
        |schema: &str, table: &str| columns.iter().any(|(s, t, _)| s == schema && t == table);

    let rest = Regex::new(r"/rest/v1/([a-z_]+)(\?[^\s`)]*)?").unwrap();
    let filter = Regex::new(r"(?:^|[?&])([a-z_]+)=").unwrap();
    let dotted = Regex::new(r"^([a-z_]+)\.([a-z_]+)$").unwrap();
    let not_columns = [
        "select",
        "order",
        "limit",
        "offset",
        "on_conflict",
        "columns",
        "and",
        "or",
    ];

    let mut checked = 0;
    let mut missing = Vec::new();
    let mut known = std::collections::HashMap::new();
    for (file, text) in documents() {
        // Data-API paths and the columns their filters name, against the OpenAPI document.
        for m in rest.captures_iter(&text) {
            let name = &m[1];
            checked += 1;
            if openapi["paths"][format!("/{name}")].is_null() {
                missing.push(format!("{file}: /rest/v1/{name} is not in the data API"));
                continue;
            }
            if let Some(query) = m.get(2) {
                for f in filter.captures_iter(query.as_str()) {
                    let column = &f[1];
                    if not_columns.contains(&column) {
                        continue;
                    }
                    checked += 1;
                    if openapi["components"]["schemas"][name]["properties"][column].is_null() {
                        missing.push(format!("{file}: /rest/v1/{name} has no column `{column}`"));
                    }
                }
            }
        }
        for span in code_spans(&text) {
            // `table.column` and `schema.table`, against the database.
            if let Some(m) = dotted.captures(&span) {
                let (left, right) = (&m[1], &m[2]);
                if tables.contains(left) {
                    checked += 1;
                    if !has_column(left, right) {
                        missing.push(format!("{file}: `{span}`: {left} has no column {right}"));
                    }
                } else if schemas.contains(left) {
                    checked += 1;
                    if !has_table(left, right) {
                        missing.push(format!("{file}: `{span}`: no table {right} in {left}"));
                    }
                }
            }
            // Repository paths.
            let first = span.split_whitespace().next().unwrap_or_default();
            if [
                "migrations/",
                "k8s/",
                "scripts/",
                "tests/",
                "services/",
                "docs/",
                ".ci/",
            ]
            .iter()
            .any(|top| first.starts_with(top))
            {
                let path = first.trim_end_matches(['…', '*', ',', '.']);
                checked += 1;
                if !Path::new(ROOT).join(path).exists() {
                    missing.push(format!("{file}: `{first}` is not in the repository"));
                }
            }
        }
        // `kea <command> [<subcommand>]`, against the binary (each asked once).
        for span in code_spans(&text) {
            for command in commands_in(&span) {
                checked += 1;
                let answer = known
                    .entry(command.clone())
                    .or_insert_with(|| command_exists(&command));
                if let Err(why) = answer {
                    missing.push(format!("{file}: `{span}`: {why}"));
                }
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} names were found: is the parsing broken?"
    );
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "the docs name what does not exist:\n{}",
        missing.join("\n")
    );
}

/// The `kea …` commands a code span runs (the words after `kea` up to the first flag or value).
fn commands_in(span: &str) -> Vec<Vec<String>> {
    let words: Vec<&str> = span.split_whitespace().collect();
    let mut found = Vec::new();
    for (at, word) in words.iter().enumerate() {
        // `-p kea` is cargo's package, not the binary.
        if (*word != "kea" && !word.ends_with("/kea")) || (at > 0 && words[at - 1] == "-p") {
            continue;
        }
        let command: Vec<String> = words[at + 1..]
            .iter()
            .take(2)
            .take_while(|w| {
                w.starts_with(|c: char| c.is_ascii_lowercase())
                    && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            })
            .map(|w| (*w).to_owned())
            .collect();
        if !command.is_empty() {
            found.push(command);
        }
    }
    found
}

/// Whether `kea <command…>` is a command: its first word is a subcommand, and a second word is
/// one of that subcommand's own (when it has any).
fn command_exists(command: &[String]) -> Result<(), String> {
    let help = |args: &[&str]| {
        let out = kea().args(args).arg("--help").output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let listed = |help: &str, name: &str| {
        help.split("Commands:")
            .nth(1)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .any(|l| l.split_whitespace().next() == Some(name))
    };
    let (_, top) = help(&[]);
    if !listed(&top, &command[0]) {
        return Err(format!("kea has no command `{}`", command[0]));
    }
    if let Some(second) = command.get(1) {
        let (ok, sub) = help(&[command[0].as_str()]);
        if ok && sub.contains("Commands:") && !listed(&sub, second) {
            return Err(format!("`kea {}` has no command `{second}`", command[0]));
        }
    }
    Ok(())
}

//! `kea store import FILE...`: create or update stores from store JSON.
//!
//! All files are checked before anything is written: the schema and the semantic rules
//! (`kea_menu::Store::parse`), clashes between the files themselves, then a dry run of each import
//! against the database (phone numbers taken by other stores). Only when every file passes is each
//! one imported, in a transaction of its own.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use kea_menu::Store;
use kea_store::ImportReport;
use sqlx::PgPool;

use crate::config::DatabaseArgs;

/// `kea store import`
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Store JSON files (see docs: the store file format).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    db: DatabaseArgs,
    /// `kea dev`'s data directory: without DATABASE_URL, its database is the one imported into.
    #[arg(long, env = "KEA_DATA_DIR", default_value = ".kea")]
    data_dir: std::path::PathBuf,
}

pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let url = crate::config::local_database_url(args.db.database_url.as_deref(), &args.data_dir)?;
    let url = url.as_str();
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    for path in &args.files {
        match std::fs::read_to_string(path) {
            Ok(text) => documents.push((path.display().to_string(), text)),
            Err(e) => problems.push(format!("{}: cannot read the file: {e}", path.display())),
        }
    }
    if !problems.is_empty() {
        return Ok(refuse(&problems));
    }
    let pool = args.db.connect(url).await?;
    match import_documents(&pool, &documents).await? {
        Ok(reports) => {
            for report in reports {
                println!("{report}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => Ok(refuse(&problems)),
    }
}

fn refuse(problems: &[String]) -> ExitCode {
    for problem in problems {
        eprintln!("{problem}");
    }
    eprintln!("Nothing was imported.");
    ExitCode::FAILURE
}

/// Imports `(label, json)` documents, all or nothing as far as validation goes. Returns the reports,
/// or the problems (each `label: $.path: message`) when any document is refused; database errors
/// that are not about the input come back as `Err`.
pub async fn import_documents(
    pool: &PgPool,
    documents: &[(String, String)],
) -> anyhow::Result<Result<Vec<ImportReport>, Vec<String>>> {
    let mut problems = Vec::new();
    let mut stores: Vec<(&str, Store)> = Vec::new();
    for (label, text) in documents {
        match Store::parse(text) {
            Ok(store) => stores.push((label, store)),
            Err(e) => problems.extend(
                e.problems
                    .iter()
                    .map(|p| format!("{label}: {}: {}", p.path, p.message)),
            ),
        }
    }
    // Two files in one batch may not claim the same store or the same number.
    let mut ids: HashMap<&str, &str> = HashMap::new();
    let mut phones: HashMap<&str, &str> = HashMap::new();
    for (label, store) in &stores {
        if let Some(first) = ids.insert(&store.id, label) {
            problems.push(format!(
                "{label}: $.id: store `{}` is also defined in {first}",
                store.id
            ));
        }
        if let Some(first) = phones.insert(&store.phone, label) {
            problems.push(format!(
                "{label}: $.phone: {} is also the number in {first}",
                store.phone
            ));
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    // Dry run: every import inside a transaction that is rolled back, so database-level refusals
    // (a number another store has) are found before anything is written.
    for (label, store) in &stores {
        let mut tx = pool.begin().await.context("starting a transaction")?;
        match kea_store::import_store(&mut tx, store).await {
            Ok(_) => {}
            Err(e @ kea_store::StoreError::PhoneTaken { .. }) => {
                problems.push(format!("{label}: {e}"))
            }
            Err(e) => return Err(e).with_context(|| format!("importing {label}")),
        }
        tx.rollback().await.context("rolling back the dry run")?;
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let mut reports = Vec::new();
    for (label, store) in &stores {
        let mut tx = pool.begin().await.context("starting a transaction")?;
        let report = kea_store::import_store(&mut tx, store)
            .await
            .with_context(|| format!("importing {label}"))?;
        tx.commit()
            .await
            .with_context(|| format!("committing {label}"))?;
        reports.push(report);
    }
    Ok(Ok(reports))
}

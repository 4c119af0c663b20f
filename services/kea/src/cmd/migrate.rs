//! `kea migrate`: apply `migrations/` to DATABASE_URL.

use std::process::ExitCode;

use anyhow::Context;

use crate::config::DatabaseArgs;

/// `kea migrate`
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    db: DatabaseArgs,
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let url = args.db.required_url()?;
    let pool = args.db.connect(url).await?;
    let pending = kea_store::pending_migrations(&pool)
        .await
        .context("reading the applied migrations")?;
    kea_store::migrate(&pool)
        .await
        .context("applying migrations")?;
    match pending.len() {
        0 => println!("Database schema is up to date."),
        n => println!("Applied {n} migration(s): {pending:?}."),
    }
    Ok(ExitCode::SUCCESS)
}

//! `kea agent add` and `kea merchant add`: the people who sign in.
//!
//! The password is read from standard input (a pipe, or typed at the terminal), never from a
//! flag, so it does not end up in shell history or the process list. Only the new id goes to
//! standard output; what happened is said on standard error.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

/// Where the people are kept: DATABASE_URL, else the `kea dev` running in KEA_DATA_DIR.
#[derive(Debug, clap::Args)]
pub struct LocalDatabase {
    /// PostgreSQL connection string; default: `kea dev`'s database in KEA_DATA_DIR.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// `kea dev`'s folder (its cluster's port is kept there).
    #[arg(long, env = "KEA_DATA_DIR", default_value = ".kea")]
    data_dir: PathBuf,
}

impl LocalDatabase {
    async fn pool(&self) -> anyhow::Result<sqlx::PgPool> {
        let url = crate::config::local_database_url(self.database_url.as_deref(), &self.data_dir)?;
        kea_store::connect(&url, 2, std::time::Duration::from_secs(5))
            .await
            .context("connecting to the database")
    }
}

/// `kea agent add EMAIL --name NAME [--languages en,es] [--stores ID,…] [--capacity N]`
#[derive(Debug, clap::Args)]
pub struct AgentAddArgs {
    /// The e-mail the agent signs in to the console with (an existing agent's is updated).
    email: String,
    /// The agent's name, as the console shows it.
    #[arg(long)]
    name: String,
    /// Languages the agent speaks (tasks are routed by the caller's language).
    #[arg(long, value_delimiter = ',', default_value = "en")]
    languages: Vec<String>,
    /// Stores whose tasks the agent is offered first (store ids).
    #[arg(long, value_delimiter = ',')]
    stores: Vec<String>,
    /// How many tasks the agent holds at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=50))]
    capacity: i32,
    /// Kinds of task the agent takes; `transfer` (callers asking for a person) needs --contact.
    #[arg(long, value_delimiter = ',')]
    skills: Vec<String>,
    /// Where a transferred caller is connected: an E.164 number or `client:<identity>`.
    #[arg(long)]
    contact: Option<String>,
    #[command(flatten)]
    db: LocalDatabase,
}

/// `kea merchant add EMAIL --merchant ID`
#[derive(Debug, clap::Args)]
pub struct MerchantAddArgs {
    /// The e-mail the merchant's user signs in with (an existing user's is updated).
    email: String,
    /// The merchant: its id, or its name as the store files give it.
    #[arg(long)]
    merchant: String,
    #[command(flatten)]
    db: LocalDatabase,
}

const SKILLS: [&str; 3] = ["verify_order", "callback", "transfer"];

/// Checks what a person typed and normalises it: languages to lower-case primary subtags,
/// skills to the known kinds (all that apply by default), the contact to its two forms.
fn checked_agent(args: &AgentAddArgs) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let email = args.email.trim();
    if !email.contains('@') || email.contains(char::is_whitespace) {
        bail!("`{email}` is not an e-mail address");
    }
    if args.name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    let mut languages = Vec::new();
    for l in &args.languages {
        let primary = l
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_lowercase();
        if primary.len() < 2
            || primary.len() > 3
            || !primary.chars().all(|c| c.is_ascii_alphabetic())
        {
            bail!("--languages: `{l}` is not a language code (e.g. en, es)");
        }
        if !languages.contains(&primary) {
            languages.push(primary);
        }
    }
    if let Some(c) = &args.contact {
        let phone = c.starts_with('+')
            && (8..=16).contains(&c.len())
            && c[1..].chars().all(|d| d.is_ascii_digit())
            && !c[1..].starts_with('0');
        let client = c.strip_prefix("client:").is_some_and(|id| {
            !id.is_empty()
                && id.len() <= 121
                && id
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "_.@-".contains(ch))
        });
        if !phone && !client {
            bail!(
                "--contact: `{c}` is neither an E.164 number (+15551234567) nor client:<identity>"
            );
        }
    }
    let skills = if args.skills.is_empty() {
        SKILLS
            .iter()
            .filter(|s| **s != "transfer" || args.contact.is_some())
            .map(|s| (*s).to_owned())
            .collect()
    } else {
        for s in &args.skills {
            if !SKILLS.contains(&s.as_str()) {
                bail!(
                    "--skills: `{s}` is not a kind of task ({})",
                    SKILLS.join(", ")
                );
            }
        }
        if args.skills.iter().any(|s| s == "transfer") && args.contact.is_none() {
            bail!("--skills transfer needs --contact: where should a caller be connected?");
        }
        args.skills.clone()
    };
    Ok((languages, skills))
}

/// The password from standard input: the first line (a terminal is asked for it).
fn read_password() -> anyhow::Result<String> {
    let mut stdin = std::io::stdin();
    let mut text = String::new();
    if stdin.is_terminal() {
        eprint!("Password (shown as you type; pipe it in to hide it): ");
        std::io::stderr().flush().ok();
        stdin.read_line(&mut text).context("reading the password")?;
    } else {
        stdin
            .read_to_string(&mut text)
            .context("reading the password from standard input")?;
    }
    let password = text.lines().next().unwrap_or("").to_owned();
    if password.chars().count() < 8 {
        bail!("the password (from standard input) must be at least 8 characters");
    }
    Ok(password)
}

pub async fn agent_add(args: AgentAddArgs) -> anyhow::Result<ExitCode> {
    let (languages, skills) = checked_agent(&args)?;
    let db = args.db.pool().await?;
    let stores: Vec<String> = args.stores.iter().map(|s| s.trim().to_owned()).collect();
    let unknown = kea_store::routing::unknown_stores(&db, &stores).await?;
    if !unknown.is_empty() {
        bail!(
            "--stores: no store {} (import it first with `kea store import`)",
            unknown.join(", ")
        );
    }
    let password = read_password()?;
    let hash = kea_api::console::auth::hash_password(&password)?;
    let (id, created) = kea_store::routing::upsert_agent(
        &db,
        &kea_store::routing::NewAgent {
            email: args.email.trim(),
            name: args.name.trim(),
            languages: &languages,
            stores: &stores,
            skills: &skills,
            capacity: args.capacity,
            contact: args.contact.as_deref(),
            password_hash: &hash,
        },
    )
    .await
    .context("saving the agent")?;
    eprintln!(
        "{} agent {} <{}>: languages {}, stores {}, skills {}, capacity {}. Sign in at /console.",
        if created { "Created" } else { "Updated" },
        args.name.trim(),
        args.email.trim(),
        languages.join(","),
        if stores.is_empty() {
            "any".to_owned()
        } else {
            stores.join(",")
        },
        skills.join(","),
        args.capacity,
    );
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

pub async fn merchant_add(args: MerchantAddArgs) -> anyhow::Result<ExitCode> {
    let email = args.email.trim();
    if !email.contains('@') || email.contains(char::is_whitespace) {
        bail!("`{email}` is not an e-mail address");
    }
    let db = args.db.pool().await?;
    let Some(merchant) = kea_store::routing::find_merchant(&db, args.merchant.trim()).await? else {
        bail!(
            "--merchant: no merchant `{}` (give its id or its name as in the store file)",
            args.merchant
        );
    };
    let password = read_password()?;
    let hash = kea_api::console::auth::hash_password(&password)?;
    let (id, created) = kea_store::routing::upsert_merchant_user(&db, merchant, email, &hash)
        .await
        .context("saving the merchant's user")?;
    eprintln!(
        "{} merchant user <{email}> for merchant {merchant}.",
        if created { "Created" } else { "Updated" }
    );
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: AgentAddArgs,
    }

    fn parse(argv: &[&str]) -> anyhow::Result<(Vec<String>, Vec<String>)> {
        let cli = Cli::try_parse_from(std::iter::once("kea").chain(argv.iter().copied()))?;
        checked_agent(&cli.args)
    }

    #[test]
    fn agents_are_checked_and_normalised() {
        let Ok((langs, skills)) = parse(&[
            "ana@x.example",
            "--name",
            "Ana",
            "--languages",
            "en-US,ES,en",
        ]) else {
            panic!("valid agent refused");
        };
        assert_eq!(langs, ["en", "es"]);
        assert_eq!(
            skills,
            ["verify_order", "callback"],
            "no transfers without a contact"
        );
        let Ok((_, skills)) = parse(&[
            "ana@x.example",
            "--name",
            "Ana",
            "--contact",
            "+15551230000",
        ]) else {
            panic!("valid agent refused");
        };
        assert_eq!(skills, SKILLS);
        for bad in [
            &["not-an-email", "--name", "Ana"][..],
            &["a@x.example", "--name", " "],
            &["a@x.example", "--name", "A", "--languages", "english1"],
            &["a@x.example", "--name", "A", "--contact", "5551230000"],
            &["a@x.example", "--name", "A", "--skills", "cooking"],
            &["a@x.example", "--name", "A", "--skills", "transfer"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}

//! `kea call --store ID`: a phone call from the terminal, through the real webhooks.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use sqlx::{Connection, PgConnection};

use crate::phone::{self, Caller, Ended, Reply, Server};

/// `kea call`
#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// The store to phone (its id, e.g. tonys-pizza).
    #[arg(long)]
    store: String,
    /// Your caller ID.
    #[arg(long, default_value = "+15557654321")]
    from: String,
    #[command(flatten)]
    target: TargetArgs,
}

/// Which server to call and how to sign for it (shared with `kea simulate`).
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// Where the kea server listens.
    #[arg(long, env = "KEA_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The URL the server checks signatures against (its KEA_PUBLIC_URL); default: --url.
    #[arg(long, env = "KEA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Twilio auth token the server uses (kea dev's test token by default).
    #[arg(
        long,
        env = "TWILIO_AUTH_TOKEN",
        default_value = "test-auth-token",
        hide_env_values = true
    )]
    pub auth_token: String,
    /// Twilio account SID sent with each webhook.
    #[arg(
        long,
        env = "TWILIO_ACCOUNT_SID",
        default_value = "AC00000000000000000000000000000000"
    )]
    pub account_sid: String,
    /// Database to look stores up in; default: DATABASE_URL, else `kea dev`'s cluster in KEA_DATA_DIR.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// `kea dev`'s folder (its cluster's port is kept there).
    #[arg(long, env = "KEA_DATA_DIR", default_value = ".kea")]
    pub data_dir: PathBuf,
}

impl TargetArgs {
    /// The server as the phone sees it.
    pub fn server(&self) -> Server {
        let base_url = self.url.trim_end_matches('/').to_owned();
        let public_url = self
            .public_url
            .as_deref()
            .unwrap_or(&base_url)
            .trim_end_matches('/')
            .to_owned();
        Server {
            base_url,
            public_url,
            auth_token: self.auth_token.clone(),
            account_sid: self.account_sid.clone(),
        }
    }

    /// The database that holds the stores: DATABASE_URL, else `kea dev`'s cluster.
    fn database_url(&self) -> anyhow::Result<String> {
        crate::config::local_database_url(self.database_url.as_deref(), &self.data_dir)
    }

    /// Connects to the database that holds the stores.
    pub async fn database(&self) -> anyhow::Result<PgConnection> {
        PgConnection::connect(&self.database_url()?)
            .await
            .context("connecting to the database to look up stores")
    }

    /// A pool on the database that holds the stores.
    pub async fn pool(&self, connections: u32) -> anyhow::Result<sqlx::PgPool> {
        kea_store::connect(
            &self.database_url()?,
            connections,
            std::time::Duration::from_secs(5),
        )
        .await
        .context("connecting to the database to look up stores")
    }

    /// The phone number of store `id`.
    pub async fn store_phone(&self, db: &mut PgConnection, id: &str) -> anyhow::Result<String> {
        let phone: Option<String> = sqlx::query_scalar("SELECT phone FROM stores WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
        match phone {
            Some(phone) => Ok(phone),
            None => bail!("no store `{id}` in the database"),
        }
    }
}

/// The person at the terminal.
struct Terminal;

impl Caller for Terminal {
    async fn respond(&mut self, prompt: &str) -> Reply {
        println!("kea: {prompt}");
        print!("you> ");
        std::io::stdout().flush().ok();
        let line = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map(|n| (n, line))
        })
        .await;
        match line {
            Ok(Ok((0, _))) | Ok(Err(_)) | Err(_) => Reply::HangUp,
            Ok(Ok((_, line))) => match line.trim() {
                "" => Reply::Silence,
                "/hangup" | "/quit" => Reply::HangUp,
                text => Reply::Speak(text.to_owned()),
            },
        }
    }
}

pub async fn run(args: CallArgs) -> anyhow::Result<ExitCode> {
    let mut db = args.target.database().await?;
    let to = args.target.store_phone(&mut db, &args.store).await?;
    drop(db);
    println!(
        "Calling {} ({to}) from {}. Type what you say; an empty line is silence; Ctrl-D or /hangup hangs up.",
        args.store, args.from
    );
    let http = reqwest::Client::new();
    let call = phone::place_call(
        &http,
        &args.target.server(),
        phone::Dial {
            sid: phone::new_call_sid(),
            from: &args.from,
            to: &to,
        },
        &mut Terminal,
        100,
    )
    .await?;
    if let Some(phone::Line::System(last)) = call.transcript.last() {
        println!("kea: {last}");
    }
    let how = match call.ended {
        Ended::Hangup => "kea hung up",
        Ended::Transferred => "transferred to a person",
        Ended::CallerHungUp => "you hung up",
    };
    println!("Call {} ended: {how}.", call.sid);
    Ok(ExitCode::SUCCESS)
}

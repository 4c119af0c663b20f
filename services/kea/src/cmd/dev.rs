//! `kea dev`: the whole platform on one machine with no set-up.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use kea_store::dev_cluster::DevCluster;
use sqlx::{Connection, PgConnection};

use crate::cmd::worker::JobArgs;
use crate::cmd::{ner, serve, store_import};
use crate::config::{Credentials, DatabaseArgs, HttpArgs, SecretsArgs};

/// The sample stores `kea dev` puts into an empty database, so there is something to call.
const SAMPLE_STORES: [(&str, &str); 3] = [
    (
        "tonys-pizza.json",
        include_str!("../../../../tests/fixtures/stores/tonys-pizza.json"),
    ),
    (
        "la-casita.json",
        include_str!("../../../../tests/fixtures/stores/la-casita.json"),
    ),
    (
        "bean-there.json",
        include_str!("../../../../tests/fixtures/stores/bean-there.json"),
    ),
];

/// The database `kea dev` uses inside its private cluster.
const DEV_DATABASE: &str = "kea";

/// Twilio credentials `kea dev` uses when none are configured: test values, not a real account.
const DEV_TWILIO_ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
const DEV_TWILIO_AUTH_TOKEN: &str = "test-auth-token";

/// `kea dev`
#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Folder for the private PostgreSQL cluster and generated dev secrets.
    #[arg(long, env = "KEA_DATA_DIR", default_value = ".kea")]
    data_dir: PathBuf,
    #[command(flatten)]
    db: DatabaseArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    secrets: SecretsArgs,
    #[command(flatten)]
    jobs: JobArgs,
    /// Do not train the entity model when there is none (orders then get no second opinion).
    #[arg(long, env = "KEA_DEV_NO_NER_TRAINING")]
    no_ner_training: bool,
}

pub async fn run(args: DevArgs) -> anyhow::Result<ExitCode> {
    // Before anything is started or changed: one kea dev per data directory, and the port free.
    let _lock = lock_data_dir(&args.data_dir)?;
    let listener = serve::bind(args.http.listen).await?;
    let local = format!(
        "http://{}",
        listener
            .local_addr()
            .context("reading the listen address")?
    );
    // Owned here so that every way out of this function (error or Ctrl-C) stops the cluster.
    let mut cluster: Option<DevCluster> = None;
    let url = match args
        .db
        .database_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => url.to_owned(),
        None => {
            let started = start_cluster(&args.data_dir).await?;
            let url = started.url(DEV_DATABASE);
            cluster = Some(started);
            url
        }
    };
    let pool = args.db.connect(&url).await?;
    kea_store::migrate(&pool)
        .await
        .context("applying migrations")?;
    if kea_store::store_count(&pool)
        .await
        .context("counting stores")?
        == 0
    {
        let documents: Vec<(String, String)> = SAMPLE_STORES
            .iter()
            .map(|(name, text)| ((*name).to_owned(), with_dev_pos(text, &local)))
            .collect();
        match store_import::import_documents(&pool, &documents).await? {
            Ok(reports) => reports.iter().for_each(|r| println!("Sample store {r}")),
            Err(problems) => anyhow::bail!(
                "the bundled sample stores were refused: {}",
                problems.join("; ")
            ),
        }
    }

    fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let secrets = args.secrets.build().await?;
    let mut credentials = Credentials::load(secrets.as_ref()).await?;
    // Test values, so a simulated caller can sign webhooks without a Twilio account.
    credentials
        .twilio_account_sid
        .get_or_insert_with(|| DEV_TWILIO_ACCOUNT_SID.to_owned());
    if credentials.twilio_auth_token.is_none() {
        credentials.twilio_auth_token =
            Some(kea_secrets::Secret::new(DEV_TWILIO_AUTH_TOKEN.to_owned()));
    }
    let jwt_generated = credentials.jwt_secret.is_none();
    if jwt_generated {
        credentials.jwt_secret = Some(kea_secrets::Secret::new(dev_jwt_secret(&args.data_dir)?));
    }
    serve::log_credentials(&credentials);

    // A laptop is for trying calls at any hour: store hours are not enforced unless asked for.
    let config = args.http.api_config_with(&credentials, false)?;
    let (mut task_env, task_settings) = args.jobs.build(pool.clone(), secrets, &credentials)?;
    task_env.public_url = Some(config.public_url.clone());
    let texts_logged = args.jobs.twilio_api_base.is_none()
        && credentials.twilio_auth_token.as_ref().map(|t| t.expose())
            == Some(DEV_TWILIO_AUTH_TOKEN);
    if texts_logged {
        // The real Twilio client, against kea dev's own stand-in for Twilio's REST API.
        let client = kea_twilio::Client::new(DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN)
            .with_base_url(super::dev_inbox::api_base(&local));
        task_env.twilio = Arc::new(client);
    }
    let model_dir = args
        .jobs
        .ner_model
        .clone()
        .unwrap_or_else(|| ner::default_model_dir(&args.data_dir));
    let training = !model_dir.join("meta.json").exists() && !args.no_ner_training;
    task_env.entity_model = if training {
        // The server is up at once; orders get their second reading once the model is ready.
        let later = Arc::new(ner::ModelInTraining::default());
        spawn_training(pool.clone(), model_dir.clone(), later.clone());
        Some(later as Arc<dyn kea_tasks::EntityModel>)
    } else {
        ner::worker_model(&model_dir)?
    };
    println!();
    println!("kea dev is starting on {}", config.public_url);
    println!(
        "  open:       {local}/dev   (phone a store from the browser; kitchen tickets, texts, calls, tokens)"
    );
    println!("  health:     {}/healthz", config.public_url);
    println!("  readiness:  {}/readyz", config.public_url);
    match &cluster {
        Some(c) => println!(
            "  database:   {} (private cluster in {})",
            c.url(DEV_DATABASE),
            c.data_dir().display()
        ),
        None => println!("  database:   DATABASE_URL"),
    }
    println!(
        "  entity model: {}{}",
        model_dir.display(),
        if training {
            " (training in the background, a few minutes; progress in the log)"
        } else if task_env.entity_model.is_none() {
            " (none: orders get no second reading)"
        } else {
            ""
        }
    );
    println!(
        "  store hours: {}",
        if config.enforce_store_hours {
            "enforced"
        } else {
            "not enforced in kea dev (--store-hours enforce to try them)"
        }
    );
    if jwt_generated {
        let secret = credentials
            .jwt_secret
            .as_ref()
            .map(|s| s.expose())
            .unwrap_or_default();
        println!(
            "  KEA_JWT_SECRET (generated, kept in {}): {secret}",
            args.data_dir.join("jwt-secret").display()
        );
    }
    // A token for the data API right away, and the binary by its full path (it is not on PATH).
    let kea_bin = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "kea".to_owned());
    if let Some(secret) = credentials.jwt_secret.as_ref() {
        match kea_api::tokens::mint(
            secret.expose(),
            kea_api::tokens::Role::Service,
            chrono::Utc::now().timestamp(),
            24 * 3600,
        ) {
            Ok(token) => {
                println!(
                    "  data API:   {}/rest/v1/ with a Bearer token, e.g.",
                    config.public_url
                );
                println!(
                    "              curl -H 'Authorization: Bearer {token}' {}/rest/v1/orders",
                    config.public_url
                );
                println!(
                    "              (service role, 24 h; others: {kea_bin} token --role merchant --merchant <id>)"
                );
            }
            Err(e) => println!("  data API:   no token could be made: {e}"),
        }
    }
    println!("  kea:        {kea_bin}");
    if credentials.twilio_auth_token.as_ref().map(|t| t.expose()) == Some(DEV_TWILIO_AUTH_TOKEN) {
        println!(
            "  twilio:     test credentials (account {DEV_TWILIO_ACCOUNT_SID}, auth token `{DEV_TWILIO_AUTH_TOKEN}`)"
        );
    }
    let stores: Vec<(String, String)> = sqlx::query_as("SELECT id, phone FROM stores ORDER BY id")
        .fetch_all(&pool)
        .await
        .context("listing stores")?;
    let listed: Vec<String> = stores
        .iter()
        .map(|(id, phone)| format!("{id} ({phone})"))
        .collect();
    println!("  stores:     {}", listed.join(", "));
    println!(
        "  webhooks:   {}/twilio/voice (a Twilio number's voice URL)",
        config.public_url
    );
    println!(
        "  POS:        {} (a stand-in: the sample stores' orders arrive there, signature checked, printed here as kitchen tickets)",
        super::dev_pos::url(&local, "<store>")
    );
    if let Some((id, _)) = stores.first() {
        println!(
            "  test call:  {kea_bin} call --url {} --store {id}   (in another terminal)",
            config.public_url
        );
    }
    println!(
        "  scenarios:  {kea_bin} simulate --url {} tests/fixtures/scenarios",
        config.public_url
    );
    println!(
        "  workers:    order pipeline (decide, POS push, texts {}) and the task router",
        match &args.jobs.twilio_api_base {
            _ if texts_logged => {
                "to kea dev's text inbox (printed here, delivery reported back; nothing is sent)"
                    .to_owned()
            }
            Some(base) => format!("via {base}"),
            None => format!("via {}", kea_twilio::DEFAULT_API_BASE),
        }
    );
    println!(
        "  console:    {}/console   (add an agent: echo 'a password' | {kea_bin} agent add you@example.com --name You --stores {})",
        config.public_url,
        stores
            .iter()
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    println!("Press Ctrl-C to stop.");
    println!();

    // One Ctrl-C (or SIGTERM), heard once, stops the server and the workers together.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        serve::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };

    let board = super::dev_board::Board::default();
    let phone = crate::phone::Server {
        base_url: local.clone(),
        public_url: config.public_url.trim_end_matches('/').to_owned(),
        auth_token: credentials
            .twilio_auth_token
            .as_ref()
            .map(|t| t.expose().to_owned())
            .unwrap_or_default(),
        account_sid: credentials
            .twilio_account_sid
            .clone()
            .unwrap_or_else(|| DEV_TWILIO_ACCOUNT_SID.to_owned()),
    };
    let dev_routes = super::dev_pos::routes(pool.clone(), board.clone())
        .merge(super::dev_inbox::routes(
            DEV_TWILIO_ACCOUNT_SID,
            DEV_TWILIO_AUTH_TOKEN,
            board.clone(),
        ))
        .merge(super::dev_page::routes(
            pool.clone(),
            board.clone(),
            phone,
            credentials
                .jwt_secret
                .as_ref()
                .map(|s| s.expose().to_owned()),
            kea_bin.clone(),
            stop_rx.clone(),
        ));
    let running = async {
        tokio::join!(
            serve::serve(
                pool.clone(),
                listener,
                config,
                move |app| {
                    app.merge(dev_routes)
                        .layer(axum::middleware::from_fn_with_state(
                            board,
                            super::dev_page::announce_calls,
                        ))
                },
                stopped(stop_rx.clone()),
            ),
            kea_tasks::run(task_env, task_settings, stopped(stop_rx.clone())),
        )
    };
    // Stopping is bounded: what has not drained STOP_GRACE after Ctrl-C (a browser's open event
    // stream, a job waiting on a slow POS) is dropped, as a crash would drop it (a dropped job's
    // lease runs out and it is taken again), and a second Ctrl-C does not wait at all.
    let out_of_time = async {
        stopped(stop_rx.clone()).await;
        tokio::select! {
            () = tokio::time::sleep(STOP_GRACE) => tracing::warn!(
                "still stopping after {STOP_GRACE:?}: leaving the rest (open pages, jobs in flight) behind"
            ),
            () = second_ctrl_c() => tracing::info!("second Ctrl-C: stopping now"),
        }
    };
    let finished = tokio::select! {
        done = running => Some(done),
        () = out_of_time => None,
    };
    pool.close().await;
    if let Some(mut c) = cluster.take() {
        tokio::task::spawn_blocking(move || c.stop())
            .await
            .context("waiting for PostgreSQL to stop")?
            .context("stopping the private PostgreSQL cluster")?;
        println!("Stopped the private PostgreSQL cluster.");
    }
    if let Some((served, worked)) = finished {
        served?;
        worked.context("running the job workers")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// How long `kea dev` lets the server and the workers drain after Ctrl-C.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_millis(1500);

/// The Ctrl-C after the first (the first is heard by [`serve::shutdown_signal`]).
async fn second_ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Initialises (first time) and starts the private cluster, and makes sure the database exists.
async fn start_cluster(data_dir: &Path) -> anyhow::Result<DevCluster> {
    let dir = data_dir.to_owned();
    let cluster = tokio::task::spawn_blocking(move || -> anyhow::Result<DevCluster> {
        let mut cluster = DevCluster::new(&dir, 54330)?;
        if cluster.init_if_needed()? {
            println!(
                "Initialised a private PostgreSQL cluster in {}",
                cluster.data_dir().display()
            );
        }
        cluster.start()?;
        Ok(cluster)
    })
    .await
    .context("starting PostgreSQL")?
    .context("starting the private PostgreSQL cluster")?;

    let mut admin = PgConnection::connect(&cluster.url("postgres"))
        .await
        .context("connecting to the private cluster")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DEV_DATABASE)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        sqlx::raw_sql("CREATE DATABASE kea")
            .execute(&mut admin)
            .await
            .context("creating the kea database")?;
    }
    admin.close().await.ok();
    Ok(cluster)
}

/// The data-API signing secret for this dev folder: made once, then reused so tokens survive restarts.
fn dev_jwt_secret(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("jwt-secret");
    if let Ok(text) = fs::read_to_string(&path) {
        let text = text.trim();
        if text.len() >= 32 {
            return Ok(text.to_owned());
        }
    }
    let secret: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    writeln!(file, "{secret}").with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}

/// Holds `data_dir/dev.lock` for as long as this `kea dev` runs, so a second one in the same
/// folder stops at once instead of sharing (and later stopping) the first one's cluster.
fn lock_data_dir(data_dir: &Path) -> anyhow::Result<fs::File> {
    fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join("dev.lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another kea dev is running in {} : stop it first, or give this one another --data-dir",
            data_dir.display()
        ),
        Err(fs::TryLockError::Error(e)) => {
            Err(anyhow::Error::new(e).context(format!("locking {}", path.display())))
        }
    }
}

/// Trains the entity model in the background and hands it to the workers when it is ready.
fn spawn_training(pool: sqlx::PgPool, dir: PathBuf, later: Arc<ner::ModelInTraining>) {
    tokio::spawn(async move {
        match train_dev_model(&pool, &dir).await {
            Ok(()) => match ner::worker_model(&dir) {
                Ok(Some(model)) => later.ready(model),
                Ok(None) => tracing::warn!("the entity model was trained but not saved"),
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "loading the new entity model"),
            },
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "training the entity model failed"),
        }
    });
}

/// The first `kea dev` in a folder trains the entity model once (a few minutes, in the
/// background, with its progress in the log) on the built-in menus and the stores in the
/// database; later runs reuse it.
async fn train_dev_model(pool: &sqlx::PgPool, dir: &Path) -> anyhow::Result<()> {
    let mut stores = ner::built_in(kea_ner::menus::TRAIN)?;
    let documents: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT document FROM stores ORDER BY id")
            .fetch_all(pool)
            .await
            .context("reading the stores")?;
    for store in documents
        .iter()
        .filter_map(|d| kea_menu::Store::from_json(d).ok())
    {
        if !stores.iter().any(|s| s.id == store.id) {
            stores.push(store);
        }
    }
    let settings = ner::dev_settings();
    let examples = ner::examples_of(&stores, ner::DEV_EXAMPLES_PER_STORE, settings.seed);
    tracing::info!(
        utterances = examples.len(),
        menus = stores.len(),
        model = %dir.display(),
        "training the entity model once, in the background (a few minutes; kept and reused)"
    );
    let started = std::time::Instant::now();
    let model =
        tokio::task::spawn_blocking(move || ner::train_with_progress(&examples, &settings, true))
            .await
            .context("the training thread")??;
    model
        .save(dir)
        .with_context(|| format!("saving the model to {}", dir.display()))?;
    tracing::info!(
        took = ?started.elapsed(),
        "entity model trained; orders get a second reading from now on"
    );
    Ok(())
}

/// A sample store file with its POS webhook pointed at `kea dev`'s own stand-in POS (the file's
/// URL is a port nothing listens on), so orders reach `sent_to_pos` on a laptop.
fn with_dev_pos(text: &str, base: &str) -> String {
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(text) else {
        return text.to_owned();
    };
    let id = doc["id"].as_str().unwrap_or_default().to_owned();
    if doc["pos"]["kind"] == "webhook" {
        doc["pos"]["url"] = super::dev_pos::url(base, &id).into();
    }
    doc.to_string()
}

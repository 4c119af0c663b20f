//! `kea worker`: the order pipeline's background jobs (kea-tasks on apalis).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;

use crate::cmd::serve;
use crate::config::{Credentials, DatabaseArgs, SecretsArgs};

/// `kea worker`
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    db: DatabaseArgs,
    #[command(flatten)]
    secrets: SecretsArgs,
    #[command(flatten)]
    pub jobs: JobArgs,
}

/// How the jobs run and where they reach the outside world.
#[derive(Debug, clap::Args)]
pub struct JobArgs {
    /// Base URL of Twilio's REST API (a mock's, in tests) [default: https://api.twilio.com;
    /// `kea dev` with its test credentials prints texts instead of sending them].
    #[arg(long, env = "TWILIO_API_BASE")]
    pub twilio_api_base: Option<String>,
    /// The base URL Twilio reaches kea at, for text-message status callbacks; unset asks for none.
    #[arg(long, env = "KEA_PUBLIC_URL")]
    pub callback_url: Option<String>,
    /// This process's worker name (unique per replica); default: kea-<pid>-<random>.
    #[arg(long, env = "KEA_WORKER_NAME")]
    pub worker_name: Option<String>,
    /// Attempts per job (the first included) before it is left failed (dead letter) and before a
    /// POS that keeps failing makes the order `pos_failed`.
    #[arg(long, env = "KEA_JOB_MAX_ATTEMPTS", default_value_t = 8)]
    pub max_attempts: usize,
    /// First retry backoff; it doubles each attempt (with jitter) up to --max-backoff-ms.
    #[arg(long, env = "KEA_JOB_MIN_BACKOFF_MS", default_value_t = 500)]
    pub min_backoff_ms: u64,
    /// Longest retry backoff.
    #[arg(long, env = "KEA_JOB_MAX_BACKOFF_MS", default_value_t = 60_000)]
    pub max_backoff_ms: u64,
    /// Heartbeat (and retry poll) interval; a worker silent for 5 heartbeats has its jobs re-queued.
    #[arg(long, env = "KEA_JOB_HEARTBEAT_MS", default_value_t = 2_000)]
    pub heartbeat_ms: u64,
    /// Orders being pushed at once in this process, by each of the two jobs that push
    /// (`extract_order`, which decides and goes on to push, and `push_order_to_pos`).
    #[arg(long, env = "KEA_POS_CONCURRENCY", default_value_t = 8)]
    pub pos_concurrency: usize,
    /// Text messages in flight at once in this process.
    #[arg(long, env = "KEA_SMS_CONCURRENCY", default_value_t = 8)]
    pub sms_concurrency: usize,
    /// Timeout of one POS request.
    #[arg(long, env = "KEA_POS_TIMEOUT_SECS", default_value_t = 10)]
    pub pos_timeout_secs: u64,
    /// The trained entity model `extract_order` asks for a second opinion on every order
    /// [default: <KEA_DATA_DIR>/ner, else .kea/ner]; without one, orders are only re-priced.
    #[arg(long = "ner-model", env = "KEA_NER_MODEL")]
    pub ner_model: Option<std::path::PathBuf>,
}

impl JobArgs {
    /// The entity model's folder: `--ner-model`, else `<KEA_DATA_DIR>/ner`, else `.kea/ner`.
    pub fn ner_model_dir(&self) -> std::path::PathBuf {
        self.ner_model.clone().unwrap_or_else(|| {
            let data_dir = std::env::var_os("KEA_DATA_DIR").unwrap_or_else(|| ".kea".into());
            crate::cmd::ner::default_model_dir(std::path::Path::new(&data_dir))
        })
    }

    /// The jobs' environment and the workers' settings.
    pub fn build(
        &self,
        pool: PgPool,
        secrets: Arc<dyn kea_secrets::Secrets>,
        credentials: &Credentials,
    ) -> anyhow::Result<(kea_tasks::TaskEnv, kea_tasks::WorkerSettings)> {
        let (Some(sid), Some(token)) = (
            credentials.twilio_account_sid.as_deref(),
            credentials.twilio_auth_token.as_ref(),
        ) else {
            anyhow::bail!(
                "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to text callers their receipts"
            );
        };
        let base = self
            .twilio_api_base
            .clone()
            .unwrap_or_else(|| kea_twilio::DEFAULT_API_BASE.to_owned());
        let twilio = kea_twilio::Client::new(sid, token.expose()).with_base_url(base);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(self.pos_timeout_secs))
            .connect_timeout(Duration::from_secs(self.pos_timeout_secs.min(5)))
            .build()
            .context("building the POS HTTP client")?;
        let orders_db = kea_store::direct::DirectPool::beside(&pool);
        let env = kea_tasks::TaskEnv {
            db: pool,
            orders_db,
            secrets,
            http,
            twilio: Arc::new(twilio) as Arc<dyn kea_twilio::TwilioApi>,
            public_url: self.callback_url.clone(),
            pos_max_attempts: self.max_attempts,
            entity_model: None,
            stores: kea_tasks::StoreCache::default(),
        };
        let name = self
            .worker_name
            .clone()
            .unwrap_or_else(|| format!("kea-{}-{:08x}", std::process::id(), rand::random::<u32>()));
        let mut settings = kea_tasks::WorkerSettings::new(name);
        settings.retry = kea_tasks::RetrySettings {
            max_attempts: self.max_attempts.max(1),
            min_backoff: Duration::from_millis(self.min_backoff_ms.max(1)),
            max_backoff: Duration::from_millis(self.max_backoff_ms.max(self.min_backoff_ms).max(1)),
        };
        settings.heartbeat = Duration::from_millis(self.heartbeat_ms.max(100));
        // Most pushes are made by `extract_order` (it decides, then pushes): it gets the same.
        settings.concurrency.extract = self.pos_concurrency.max(1);
        settings.concurrency.push = self.pos_concurrency.max(1);
        settings.concurrency.sms = self.sms_concurrency.max(1);
        Ok((env, settings))
    }
}

pub async fn run(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let url = args.db.required_url()?;
    let secrets = args.secrets.build().await?;
    let credentials = Credentials::load(secrets.as_ref()).await?;
    serve::log_credentials(&credentials);
    let pool = args.db.connect(url).await?;
    let pending = kea_store::pending_migrations(&pool)
        .await
        .context("reading the applied migrations")?;
    if !pending.is_empty() {
        anyhow::bail!("database migrations are not applied ({pending:?}): run `kea migrate` first");
    }
    let (mut env, settings) = args.jobs.build(pool.clone(), secrets, &credentials)?;
    env.entity_model = crate::cmd::ner::worker_model(&args.jobs.ner_model_dir())?;
    kea_tasks::run(env, settings, serve::shutdown_signal())
        .await
        .context("running the job workers")?;
    pool.close().await;
    Ok(ExitCode::SUCCESS)
}

//! What every job needs, shared by all workers in a process.

use std::sync::Arc;

use kea_secrets::Secrets;
use kea_twilio::TwilioApi;
use sqlx::PgPool;

/// The jobs' shared dependencies (crates.io's `Environment`): cheap to clone.
#[derive(Clone)]
pub struct TaskEnv {
    /// The database (the same one apalis keeps its jobs in).
    pub db: PgPool,
    /// Resolves `vault:` references in POS credentials at push time.
    pub secrets: Arc<dyn Secrets>,
    /// The HTTP client the POS adapters use (connection pooling, timeouts).
    pub http: reqwest::Client,
    /// Twilio's REST API, for texts to callers.
    pub twilio: Arc<dyn TwilioApi>,
    /// The base URL Twilio reaches kea at, for message status callbacks
    /// (`{public_url}/twilio/sms/status`); `None` asks for no callbacks.
    pub public_url: Option<String>,
    /// After how many failed attempts a transient POS failure becomes `pos_failed`.
    pub pos_max_attempts: usize,
}

impl std::fmt::Debug for TaskEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskEnv")
            .field("public_url", &self.public_url)
            .field("pos_max_attempts", &self.pos_max_attempts)
            .finish_non_exhaustive()
    }
}

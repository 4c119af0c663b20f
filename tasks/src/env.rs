//! What every job needs, shared by all workers in a process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use kea_secrets::Secrets;
use kea_twilio::TwilioApi;
use sqlx::PgPool;

/// The jobs' shared dependencies (crates.io's `Environment`): cheap to clone.
#[derive(Clone)]
pub struct TaskEnv {
    /// The database (the same one apalis keeps its jobs in).
    pub db: PgPool,
    /// The same database, for the statements every order runs (loading it, confirming it,
    /// recording the push and the receipt): connections lent without sqlx's ping after each
    /// statement ([`kea_store::direct`]). At most as many as `db`.
    pub orders_db: kea_store::direct::DirectPool,
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
    /// The entity model that re-reads each call for `extract_order` (loaded once per process);
    /// `None` when no model is available, and orders are then only re-priced.
    pub entity_model: Option<Arc<dyn EntityModel>>,
    /// The stores' parsed documents, by version.
    pub stores: StoreCache,
}

/// Parsed store documents by store and version (`stores.updated_at`), shared by a process's
/// jobs: a store is read and parsed once per change, not once per job.
#[derive(Clone, Default)]
pub struct StoreCache(Arc<Mutex<HashMap<String, Versioned>>>);

/// A parsed store and the version (`stores.updated_at`) it was parsed from.
type Versioned = (DateTime<Utc>, Arc<kea_menu::Store>);

impl StoreCache {
    /// The store `id` as of `version`, if it is cached.
    pub fn get(&self, id: &str, version: DateTime<Utc>) -> Option<Arc<kea_menu::Store>> {
        let stores = self.0.lock().unwrap_or_else(|p| p.into_inner());
        stores
            .get(id)
            .filter(|(v, _)| *v == version)
            .map(|(_, s)| s.clone())
    }

    /// Keeps `store` as the store `id` at `version`.
    pub fn put(&self, id: &str, version: DateTime<Utc>, store: Arc<kea_menu::Store>) {
        let mut stores = self.0.lock().unwrap_or_else(|p| p.into_inner());
        stores.insert(id.to_owned(), (version, store));
    }
}

/// An entity recogniser over caller turns: kea-ner's BERT model in the `kea` binary. A trait so
/// this crate builds without libtorch; implementations block (run them off the async threads).
pub trait EntityModel: Send + Sync {
    /// The entities in each text (byte offsets), in the labels of [`kea_ner::data::LABELS`].
    ///
    /// # Errors
    /// The model failed to run; the message says why.
    fn entities(&self, texts: &[String]) -> Result<Vec<Vec<kea_ner::data::Span>>, String>;

    /// What model this is (for the record of its opinion): name, training date, steps.
    fn describe(&self) -> String;
}

impl std::fmt::Debug for TaskEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskEnv")
            .field("public_url", &self.public_url)
            .field("pos_max_attempts", &self.pos_max_attempts)
            .field(
                "entity_model",
                &self.entity_model.as_ref().map(|m| m.describe()),
            )
            .finish_non_exhaustive()
    }
}

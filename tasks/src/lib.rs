#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod decide;
mod env;
pub mod jobs;
pub mod receipt;
pub mod router;
mod wakeups;
mod worker;

pub use env::{EntityModel, StoreCache, TaskEnv};
pub use worker::{Concurrency, RetrySettings, WorkerSettings, run};

/// Why a job did not finish. A job that returns one of these is retried with backoff (up to the
/// worker's retry limit, then left `Failed` in `apalis.jobs`: the dead-letter state that
/// `api.jobs` shows with `dead = true`).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The database could not be read or written.
    #[error(transparent)]
    Store(#[from] kea_store::StoreError),
    /// A database error outside kea-store's helpers.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// The POS could not be reached; the push is retried with the same idempotency key.
    #[error("POS push for order {order_id} failed, will retry: {source}")]
    PosTransient {
        /// The order.
        order_id: uuid::Uuid,
        /// What the adapter said.
        #[source]
        source: kea_pos::PosError,
    },
    /// Twilio could not be reached or was overloaded; the text is retried.
    #[error("text message for order {order_id} not sent, will retry: {source}")]
    SmsTransient {
        /// The order.
        order_id: uuid::Uuid,
        /// What the client said.
        #[source]
        source: kea_twilio::TwilioError,
    },
    /// Twilio could not be reached to connect a waiting caller; retried.
    #[error("call {call_sid} not connected to the agent, will retry: {source}")]
    CallTransient {
        /// The caller's call.
        call_sid: String,
        /// What the client said.
        #[source]
        source: kea_twilio::TwilioError,
    },
    /// The store's document in the database is not a valid store (it was imported through the
    /// validator, so this means the database was edited by hand).
    #[error("store `{store_id}` has an invalid document: {reason}")]
    BadStore {
        /// The store.
        store_id: String,
        /// What the validator said.
        reason: String,
    },
}

/// Everything that can stop the workers themselves.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// apalis's monitor failed.
    #[error("job workers failed: {0}")]
    Monitor(String),
    /// The settings are unusable.
    #[error("job worker settings: {0}")]
    Config(String),
}

//! The model's one error type: every failure from files, weights, inputs or libtorch is reported
//! as a value, never a panic, since the model runs inside the server and the CLI.

use std::path::PathBuf;

/// What can go wrong loading, training, saving or running the model.
#[derive(Debug, thiserror::Error)]
pub enum NerError {
    /// No base folder was given and `KEA_NER_BASE` is not set.
    #[error(
        "the base weights' folder is not set: set KEA_NER_BASE (scripts/lib.sh's ensure_libtorch does) or pass a path"
    )]
    BaseNotSet,
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A JSON file (config, labels, meta) did not parse or could not be written.
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The vocabulary could not be read by the tokenizer.
    #[error("{path}: {source}")]
    Tokenizer {
        path: PathBuf,
        #[source]
        source: rust_tokenizers::error::TokenizerError,
    },
    /// libtorch refused an operation (reading or writing weights, a tensor conversion).
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// rust-bert refused the configuration.
    #[error("rust-bert: {0}")]
    RustBert(#[from] rust_bert::RustBertError),
    /// The base weights hold a tensor the model has no place for: not the expected architecture.
    #[error("the base weights hold {name}, which the BERT model has no place for")]
    UnexpectedWeight { name: String },
    /// The base weights lack tensors the model needs.
    #[error("the base weights lack {}", names.join(", "))]
    MissingWeights { names: Vec<String> },
    /// A tensor in the base weights has another shape than the configuration implies.
    #[error("the base weight {name} has shape {found:?}, the configuration implies {expected:?}")]
    WeightShape {
        name: String,
        expected: Vec<i64>,
        found: Vec<i64>,
    },
    /// The label set is unusable (empty names, duplicates, not a BIO set).
    #[error("invalid labels: {0}")]
    InvalidLabels(String),
    /// A training example's span is not a range of character boundaries inside its text.
    #[error(
        "example {example}: span {start}..{end} is not a range of character boundaries in its text"
    )]
    InvalidSpan {
        example: usize,
        start: usize,
        end: usize,
    },
    /// A training example's span has a label outside the label set.
    #[error("example {example}: label {label:?} is not in the label set")]
    UnknownLabel { example: usize, label: String },
    /// The training settings cannot work (no examples, a zero batch size, ...).
    #[error("invalid training settings: {0}")]
    InvalidSettings(String),
    /// rust-bert or libtorch answered in a way this code does not expect (a bug here, not an input).
    #[error("unexpected: {0}")]
    Unexpected(&'static str),
    /// The loss became NaN or infinite: the learning rate is too high for these examples.
    #[error("training diverged at step {step} (loss {loss})")]
    Diverged { step: usize, loss: f64 },
}

impl NerError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> NerError {
        let path = path.into();
        move |source| NerError::Io { path, source }
    }

    pub(crate) fn json(path: impl Into<PathBuf>) -> impl FnOnce(serde_json::Error) -> NerError {
        let path = path.into();
        move |source| NerError::Json { path, source }
    }
}

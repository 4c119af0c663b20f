//! Reading the base MiniLM: its Hugging Face `config.json` as rust-bert's `BertConfig`, and its
//! `model.safetensors` copied into a rust-bert variable store. The file names its tensors as
//! Hugging Face's `BertModel` does (`embeddings.word_embeddings.weight`, ...); rust-bert's
//! `BertForTokenClassification` keeps the encoder under `bert.`, so the names gain that prefix.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rust_bert::bert::BertConfig;
use tch::Tensor;
use tch::nn::VarStore;

use super::{Labels, NerError};

/// Reads a BERT `config.json` and sets the class map rust-bert requires for token classification.
pub(crate) fn read_config(path: &Path, labels: &Labels) -> Result<BertConfig, NerError> {
    let text = std::fs::read_to_string(path).map_err(NerError::io(path))?;
    let mut config: BertConfig = serde_json::from_str(&text).map_err(NerError::json(path))?;
    let names = labels.names().iter().cloned();
    config.id2label = Some((0..).zip(names.clone()).collect::<HashMap<i64, String>>());
    config.label2id = Some(names.zip(0..).collect::<HashMap<String, i64>>());
    // The last layer's output is read from the per-layer outputs (see Model::hidden_states);
    // rust-bert's token classifier does not return it otherwise.
    config.output_hidden_states = Some(true);
    config.output_attentions = Some(false);
    Ok(config)
}

/// Copies every encoder tensor of a safetensors file into the store's `bert.*` variables, without
/// recording the copies for autograd. Tensors the encoder does not use (`embeddings.position_ids`,
/// the `pooler.*` of sentence embeddings) are skipped; the classifier keeps its random start.
/// A tensor the store has no place for, a shape mismatch or an encoder variable left unfilled is
/// an error: each means the file is not the model the configuration describes.
pub(crate) fn load_base(store: &VarStore, path: &Path) -> Result<(), NerError> {
    let tensors = Tensor::read_safetensors(path)?;
    let mut variables = store.variables();
    let mut filled = HashSet::new();
    tch::no_grad(|| -> Result<(), NerError> {
        for (name, tensor) in tensors {
            if name == "embeddings.position_ids" || name.starts_with("pooler.") {
                continue;
            }
            let target = if name.starts_with("bert.") {
                name
            } else {
                format!("bert.{name}")
            };
            let Some(variable) = variables.get_mut(&target) else {
                return Err(NerError::UnexpectedWeight { name: target });
            };
            if variable.size() != tensor.size() {
                return Err(NerError::WeightShape {
                    expected: variable.size(),
                    found: tensor.size(),
                    name: target,
                });
            }
            let source = tensor.to_kind(variable.kind()).to_device(variable.device());
            variable.f_copy_(&source)?;
            filled.insert(target);
        }
        Ok(())
    })?;
    let mut missing: Vec<String> = variables
        .into_keys()
        .filter(|name| !name.starts_with("classifier.") && !filled.contains(name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        missing.sort();
        Err(NerError::MissingWeights { names: missing })
    }
}

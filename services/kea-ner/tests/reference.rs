//! The base MiniLM weights, loaded into rust-bert by kea-ner, give the same last hidden states as a
//! reference computed once with PyTorch from the same files (tests/make_reference.py, stored in
//! tests/fixtures/minilm_reference.json): the tensor renaming, the configuration and the tokenizer
//! all have to be right for that. Skips, saying so, when KEA_NER_BASE is not set.
#![cfg(feature = "torch")]

use std::error::Error;
use std::path::PathBuf;

use kea_ner::model::{BASE_ENV, Device, Labels, Model};
use serde::Deserialize;

/// Largest allowed difference of a value or norm: the reference is float64, libtorch float32, and
/// six layers of float32 rounding stay well below this; a wrongly loaded tensor is off by far more.
const TOLERANCE: f64 = 1e-4;

#[derive(Deserialize)]
struct Reference {
    weights_bytes: u64,
    dims: usize,
    sentences: Vec<Sentence>,
}

#[derive(Deserialize)]
struct Sentence {
    text: String,
    token_ids: Vec<i64>,
    leading: Vec<Vec<f64>>,
    norms: Vec<f64>,
    means: Vec<f64>,
}

fn base() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os(BASE_ENV)?);
    if dir.join("model.safetensors").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {BASE_ENV}={} holds no model.safetensors",
            dir.display()
        );
        None
    }
}

#[test]
fn base_weights_match_pytorch_reference() -> Result<(), Box<dyn Error>> {
    let Some(base) = base() else {
        eprintln!(
            "skipped: {BASE_ENV} is not set (source scripts/lib.sh and run ensure_libtorch, or run scripts/test)"
        );
        return Ok(());
    };
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/minilm_reference.json"
    );
    let reference: Reference = serde_json::from_str(&std::fs::read_to_string(fixture)?)?;
    let size = std::fs::metadata(base.join("model.safetensors"))?.len();
    assert_eq!(
        size,
        reference.weights_bytes,
        "{} is not the file the reference was made from: rerun tests/make_reference.py",
        base.display()
    );

    let model = Model::from_base(&base, Labels::new(&["ITEM"])?, 0, Device::Cpu)?;
    for sentence in &reference.sentences {
        let got = model.hidden_states(&sentence.text)?;
        assert_eq!(
            got.token_ids, sentence.token_ids,
            "word-pieces of {:?}",
            sentence.text
        );
        assert_eq!(got.states.len(), sentence.leading.len());
        let mut worst = 0.0f64;
        for (t, row) in got.states.iter().enumerate() {
            let norm = row
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum::<f64>()
                .sqrt();
            let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / row.len() as f64;
            let mut diffs = vec![
                (norm - sentence.norms[t]).abs(),
                (mean - sentence.means[t]).abs(),
            ];
            diffs.extend(
                row[..reference.dims]
                    .iter()
                    .zip(&sentence.leading[t])
                    .map(|(&a, &b)| (f64::from(a) - b).abs()),
            );
            let diff = diffs.into_iter().fold(0.0, f64::max);
            assert!(
                diff < TOLERANCE,
                "{:?}: token {t} differs from the reference by {diff}",
                sentence.text
            );
            worst = worst.max(diff);
        }
        eprintln!(
            "{:?}: {} tokens, largest difference {worst:.2e}",
            sentence.text,
            got.token_ids.len()
        );
    }
    Ok(())
}

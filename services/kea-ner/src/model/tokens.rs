//! Word-piece tokenization that remembers where each word came from, so a class predicted on a
//! word-piece maps back to a byte range of the caller's utterance, and batching of encodings into
//! padded tensors.

use rust_tokenizers::Mask;
use rust_tokenizers::tokenizer::{BertTokenizer, Tokenizer, TruncationStrategy};
use tch::{Device, Tensor};

/// The target id the loss skips (PyTorch's `ignore_index` convention).
pub(crate) const IGNORE: i64 = -100;

/// A word as BERT's basic tokenizer splits text (at spaces and punctuation), located in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word {
    /// Byte offset of the word's first character.
    pub start: usize,
    /// Byte offset just past the word's last character.
    pub end: usize,
    /// Index of the word's first word-piece in [`Encoding::ids`]: the piece the class is read from.
    pub token: usize,
}

/// One text as the model sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Encoding {
    /// Vocabulary ids: `[CLS]`, the word-pieces, `[SEP]`.
    pub ids: Vec<i64>,
    /// The words whose first piece survived truncation, in order.
    pub words: Vec<Word>,
}

/// Tokenizes `text` into at most `max_len` pieces (special tokens included) and groups the pieces
/// into words. The tokenizer's offsets count characters; they are turned into byte offsets here.
pub(crate) fn encode(tokenizer: &BertTokenizer, text: &str, max_len: usize) -> Encoding {
    let input = tokenizer.encode(text, None, max_len, &TruncationStrategy::LongestFirst, 0);
    // Byte offset of each character, plus the end, so character offset `i` is `bytes[i]`.
    let bytes: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .collect();
    let byte = |chars: u32| bytes.get(chars as usize).copied().unwrap_or(text.len());
    let mut words: Vec<Word> = Vec::new();
    for (i, (offset, mask)) in input.token_offsets.iter().zip(&input.mask).enumerate() {
        let special = input.special_tokens_mask.get(i).is_some_and(|&m| m != 0);
        let Some(offset) = offset.filter(|_| !special) else {
            continue;
        };
        let (start, end) = (byte(offset.begin), byte(offset.end));
        match (mask, words.last_mut()) {
            (Mask::Continuation, Some(word)) => word.end = word.end.max(end),
            _ => words.push(Word {
                start,
                end,
                token: i,
            }),
        }
    }
    Encoding {
        ids: input.token_ids,
        words,
    }
}

/// Stacks encodings into right-padded `(ids, attention mask)` tensors of shape
/// `(batch, longest)`, padding with id 0 (`[PAD]`) and mask 0.
pub(crate) fn batch(encodings: &[&Encoding], device: Device) -> (Tensor, Tensor) {
    let width = encodings.iter().map(|e| e.ids.len()).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(encodings.len() * width);
    let mut mask = Vec::with_capacity(encodings.len() * width);
    for e in encodings {
        ids.extend_from_slice(&e.ids);
        ids.resize(ids.len() + width - e.ids.len(), 0);
        mask.extend(std::iter::repeat_n(1i64, e.ids.len()));
        mask.resize(mask.len() + width - e.ids.len(), 0);
    }
    let shape = [encodings.len() as i64, width as i64];
    (
        Tensor::from_slice(&ids).view(shape).to_device(device),
        Tensor::from_slice(&mask).view(shape).to_device(device),
    )
}

/// Right-pads per-token targets to `width` with [`IGNORE`] and stacks them like [`batch`].
pub(crate) fn batch_targets(targets: &[&[i64]], width: usize, device: Device) -> Tensor {
    let mut flat = Vec::with_capacity(targets.len() * width);
    for t in targets {
        flat.extend_from_slice(t);
        flat.resize(flat.len() + width - t.len(), IGNORE);
    }
    Tensor::from_slice(&flat)
        .view([targets.len() as i64, width as i64])
        .to_device(device)
}

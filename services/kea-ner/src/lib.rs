//! Entity recognition for kea: a second reading of every call.
//!
//! - [`align`]: the model's menu spans re-cut along the store's own names.
//! - [`data`]: labelled caller utterances generated from any store's menu (seeded, reproducible),
//!   the BIO label set, and entity-level metrics. Pure: no libtorch.
//! - [`menus`]: the menus built in for training and for held-out evaluation.
//! - [`resolve`]: from entities to the order they imply, with the dialog's menu matcher, and how
//!   that order compares with the dialog's. Pure.
//! - `model` (feature `torch`): MiniLM (a 6-layer BERT) as rust-bert's
//!   `BertForTokenClassification`, fine-tuned on [`data`] and run over a call's turns.

pub mod align;
pub mod data;
pub mod menus;
#[cfg(feature = "torch")]
pub mod model;
pub mod resolve;

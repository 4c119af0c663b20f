//! Entity labels as BIO classes, and the conversions between an example's labelled byte spans
//! ([`crate::data::Example`]) and per-word BIO classes in both directions.

use serde::{Deserialize, Serialize};

use super::NerError;
use super::tokens::{Encoding, IGNORE};
use crate::data::Example;

/// An entity found by [`super::Model::predict`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// The entity type: "ITEM", "QUANTITY", ...
    pub label: String,
    /// `input[start..end]`.
    pub text: String,
    /// Byte offset of the entity's first character in the input.
    pub start: usize,
    /// Byte offset just past the entity's last character.
    pub end: usize,
    /// Mean probability the model gave its predicted class over the entity's words: a confidence
    /// for the caller to threshold, not a calibrated probability.
    pub score: f32,
}

/// The classifier's classes: `O` (outside any entity) first, then `B-TYPE` (an entity's first word)
/// and `I-TYPE` (its later words) for each entity type. A class's index is its id in the model's
/// output, so the order is saved with a trained model (`labels.json`) and must not change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Labels {
    names: Vec<String>,
}

/// The class of a word in BIO terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bio<'a> {
    Outside,
    Begin(&'a str),
    Inside(&'a str),
}

impl Labels {
    /// The classes for these entity types ("ITEM", "QUANTITY", ...), in this order.
    pub fn new<S: AsRef<str>>(entity_types: &[S]) -> Result<Labels, NerError> {
        let mut names = vec!["O".to_string()];
        for ty in entity_types {
            let ty = ty.as_ref();
            names.push(format!("B-{ty}"));
            names.push(format!("I-{ty}"));
        }
        Labels::from_names(names)
    }

    /// Checks a saved class list: `O` first, then a `B-`/`I-` pair per entity type, no duplicates.
    pub fn from_names(names: Vec<String>) -> Result<Labels, NerError> {
        if names.first().map(String::as_str) != Some("O") {
            return Err(NerError::InvalidLabels(
                "the first class must be \"O\"".into(),
            ));
        }
        if names.len().is_multiple_of(2) {
            return Err(NerError::InvalidLabels(
                "after \"O\", each entity type needs a B- and an I- class".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for pair in names[1..].chunks(2) {
            let (Some(ty), Some(inside)) = (pair[0].strip_prefix("B-"), pair.get(1)) else {
                return Err(NerError::InvalidLabels(format!(
                    "{:?} is not a B- class",
                    pair[0]
                )));
            };
            if ty.is_empty() || ty.trim() != ty || ty.starts_with("B-") || ty.starts_with("I-") {
                return Err(NerError::InvalidLabels(format!("bad entity type {ty:?}")));
            }
            if inside.strip_prefix("I-") != Some(ty) {
                return Err(NerError::InvalidLabels(format!(
                    "B-{ty} must be followed by I-{ty}"
                )));
            }
            if !seen.insert(ty) {
                return Err(NerError::InvalidLabels(format!("{ty:?} appears twice")));
            }
        }
        Ok(Labels { names })
    }

    /// The class names, indexed by class id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The entity types, without BIO prefixes.
    pub fn entity_types(&self) -> impl Iterator<Item = &str> {
        self.names[1..].iter().step_by(2).map(|n| &n[2..])
    }

    /// The number of classes (`1 + 2 × entity types`).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Never true: `O` is always there. (Present because clippy asks for it beside `len`.)
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Class ids of an entity type's `B-` and `I-` classes.
    fn ids_of(&self, ty: &str) -> Option<(i64, i64)> {
        self.entity_types()
            .position(|t| t == ty)
            .map(|i| (1 + 2 * i as i64, 2 + 2 * i as i64))
    }

    pub(crate) fn bio(&self, id: usize) -> Bio<'_> {
        match id {
            0 => Bio::Outside,
            _ => match self.names.get(id) {
                Some(name) if id % 2 == 1 => Bio::Begin(&name[2..]),
                Some(name) => Bio::Inside(&name[2..]),
                None => Bio::Outside,
            },
        }
    }
}

impl TryFrom<Vec<String>> for Labels {
    type Error = NerError;

    fn try_from(names: Vec<String>) -> Result<Labels, NerError> {
        Labels::from_names(names)
    }
}

impl From<Labels> for Vec<String> {
    fn from(labels: Labels) -> Vec<String> {
        labels.names
    }
}

/// Per-token training targets for an encoded example: each word's first word-piece gets the word's
/// BIO class (`B-` for an entity's first word, `I-` for the rest, `O` outside entities); special
/// tokens and continuation pieces get [`IGNORE`], so the loss looks at one decision per word,
/// the same decision [`decode`] reads back. A word belongs to the span it overlaps.
pub(crate) fn targets(
    index: usize,
    example: &Example,
    encoding: &Encoding,
    labels: &Labels,
) -> Result<Vec<i64>, NerError> {
    let text = &example.text;
    let mut spans = Vec::with_capacity(example.spans.len());
    for span in &example.spans {
        if span.start > span.end
            || span.end > text.len()
            || !text.is_char_boundary(span.start)
            || !text.is_char_boundary(span.end)
        {
            return Err(NerError::InvalidSpan {
                example: index,
                start: span.start,
                end: span.end,
            });
        }
        let ids = labels
            .ids_of(&span.label)
            .ok_or_else(|| NerError::UnknownLabel {
                example: index,
                label: span.label.clone(),
            })?;
        spans.push((span, ids, false));
    }
    let mut out = vec![IGNORE; encoding.ids.len()];
    for word in &encoding.words {
        let hit = spans
            .iter_mut()
            .find(|(s, _, _)| word.start < s.end && s.start < word.end);
        out[word.token] = match hit {
            Some((_, (begin, inside), started)) => {
                let id = if *started { *inside } else { *begin };
                *started = true;
                id
            }
            None => 0,
        };
    }
    Ok(out)
}

/// Reads entities back from each word's predicted class and its probability: `B-X` opens an
/// entity, `I-X` extends an open `X` entity (or opens one, when the model skipped the `B-`),
/// anything else closes it. An entity runs from its first word's start to its last word's end.
pub(crate) fn decode(
    text: &str,
    encoding: &Encoding,
    labels: &Labels,
    classes: &[(usize, f32)],
) -> Vec<Entity> {
    struct Open<'a> {
        label: &'a str,
        start: usize,
        end: usize,
        score_sum: f32,
        words: usize,
    }
    fn close(text: &str, open: Option<Open<'_>>, out: &mut Vec<Entity>) {
        if let Some(o) = open {
            out.push(Entity {
                label: o.label.to_string(),
                text: text.get(o.start..o.end).unwrap_or_default().to_string(),
                start: o.start,
                end: o.end,
                score: o.score_sum / o.words as f32,
            });
        }
    }
    let mut out = Vec::new();
    let mut open: Option<Open<'_>> = None;
    for (word, &(class, prob)) in encoding.words.iter().zip(classes) {
        match labels.bio(class) {
            Bio::Inside(ty) if open.as_ref().is_some_and(|o| o.label == ty) => {
                if let Some(o) = open.as_mut() {
                    o.end = word.end;
                    o.score_sum += prob;
                    o.words += 1;
                }
            }
            Bio::Begin(ty) | Bio::Inside(ty) => {
                close(text, open.take(), &mut out);
                open = Some(Open {
                    label: ty,
                    start: word.start,
                    end: word.end,
                    score_sum: prob,
                    words: 1,
                });
            }
            Bio::Outside => close(text, open.take(), &mut out),
        }
    }
    close(text, open, &mut out);
    out
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::super::tokens::Word;
    use super::*;
    use crate::data::Span;

    fn labels() -> Labels {
        Labels::new(&["ITEM", "QUANTITY"]).unwrap()
    }

    /// An encoding of whitespace-separated words, one piece each, after a [CLS] at token 0.
    fn words(text: &str) -> Encoding {
        let mut words = Vec::new();
        let mut pos = 0;
        for w in text.split(' ') {
            words.push(Word {
                start: pos,
                end: pos + w.len(),
                token: words.len() + 1,
            });
            pos += w.len() + 1;
        }
        Encoding {
            ids: vec![0; words.len() + 2],
            words,
        }
    }

    #[test]
    fn label_names_round_trip_and_reject_bad_sets() {
        let l = labels();
        assert_eq!(
            l.names(),
            ["O", "B-ITEM", "I-ITEM", "B-QUANTITY", "I-QUANTITY"]
        );
        assert_eq!(l.entity_types().collect::<Vec<_>>(), ["ITEM", "QUANTITY"]);
        assert_eq!(Labels::from_names(l.names().to_vec()).ok(), Some(l));
        for bad in [
            vec!["B-ITEM", "I-ITEM"],
            vec!["O", "B-ITEM"],
            vec!["O", "B-ITEM", "I-SIZE"],
            vec!["O", "B-ITEM", "I-ITEM", "B-ITEM", "I-ITEM"],
            vec!["O", "B-", "I-"],
        ] {
            let names = bad.iter().map(|s| s.to_string()).collect();
            assert!(Labels::from_names(names).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn spans_become_bio_targets_on_first_pieces() {
        let text = "two large pepperoni pizzas please";
        let example = Example {
            text: text.into(),
            lang: "en".into(),
            store: "test".into(),
            spans: vec![
                Span {
                    start: 10,
                    end: 26,
                    label: "ITEM".into(),
                },
                Span {
                    start: 0,
                    end: 3,
                    label: "QUANTITY".into(),
                },
            ],
        };
        let enc = words(text);
        let t = targets(0, &example, &enc, &labels()).unwrap();
        assert_eq!(t, [IGNORE, 3, 0, 1, 2, 0, IGNORE]);

        let mut bad = example.clone();
        bad.spans[0].label = "SIZE".into();
        assert!(matches!(
            targets(7, &bad, &enc, &labels()),
            Err(NerError::UnknownLabel { example: 7, .. })
        ));
        bad.spans[0] = Span {
            start: 30,
            end: 99,
            label: "ITEM".into(),
        };
        assert!(matches!(
            targets(7, &bad, &enc, &labels()),
            Err(NerError::InvalidSpan { example: 7, .. })
        ));
    }

    #[test]
    fn decode_reads_bio_back_to_spans() {
        let text = "two large pepperoni pizzas please";
        let enc = words(text);
        let classes = [(3, 0.9), (0, 0.8), (1, 0.6), (2, 0.8), (0, 0.9)];
        let got = decode(text, &enc, &labels(), &classes);
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].label.as_str(), got[0].text.as_str()),
            ("QUANTITY", "two")
        );
        assert_eq!(
            (
                got[1].label.as_str(),
                got[1].text.as_str(),
                got[1].start,
                got[1].end
            ),
            ("ITEM", "pepperoni pizzas", 10, 26)
        );
        assert!((got[1].score - 0.7).abs() < 1e-6);

        // An I- without its B-, or after another type, opens a new entity.
        let classes = [(4, 0.5), (2, 0.5), (2, 0.5), (0, 0.5), (2, 0.5)];
        let got = decode(text, &enc, &labels(), &classes);
        let spans: Vec<_> = got
            .iter()
            .map(|e| (e.label.as_str(), e.text.as_str()))
            .collect();
        assert_eq!(
            spans,
            [
                ("QUANTITY", "two"),
                ("ITEM", "large pepperoni"),
                ("ITEM", "please")
            ]
        );
    }
}

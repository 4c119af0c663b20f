//! Training data generated from store menus.
//!
//! [`generate`] turns any [`kea_menu::Store`] into labelled caller utterances: what people say on
//! the phone when they order from that menu, in English and Spanish, with the menu's own item,
//! size and option names (aliases, plurals, Spanish `names`), quantities in digits and words,
//! portions and refusals, corrections, fillers, stutters and speech-recognition slips, and the
//! caller's name, phone number, address and pickup/delivery choice. The model learns phone-order
//! *language* around whatever names a menu has, which is what lets it work on stores it never saw
//! (training holds out whole stores; see [`split_by_store`]).
//!
//! Generation is seeded ([`GenSettings::seed`]) and reproducible: the same store and settings give
//! the same examples, byte for byte, on every machine (the generator is `rand`'s portable
//! ChaCha-based `StdRng`, and nothing depends on hash-map order). Transcripts come in the styles
//! recognisers produce: cased and punctuated, or lower-case without punctuation or apostrophes.
//! Callers speak Spanish to any store ([`GenSettings::spanish_share`]): with the store's Spanish
//! `names` when it has them, else with its English names, as Spanish speakers do.
//!
//! # Labels
//!
//! Spans mark *mentions*, by what the words are, not by what the caller commits to: "do you
//! deliver?" has a FULFILLMENT span just as "for delivery" does, and an item named in a question
//! is an ITEM. Deciding what the order becomes (the turn's intent, which line an option belongs
//! to, what a refusal covers) is the resolver's job, downstream of the model, and the conventions
//! below keep that decidable from the spans and the words between them. Every span is a whole
//! number of words; articles ("a", "the", "un", "una"), connectors ("with", "and", "con", "de",
//! "or", "ni") and a cue's trailing "of"/"de" are never inside a span.
//!
//! | label | covers | examples (span in brackets) |
//! | --- | --- | --- |
//! | `ITEM` | an item's name as the caller says it: the menu name, an alias, a plural, the Spanish name, the name without its category word ("a large \[pepperoni\]"), or a bare category word standing for an item ("a mushroom \[pizza\]"). Numbers and volumes that belong to the product's name stay inside ("\[two liter soda\]", "\[2 liter\]"). Containers the caller wraps around a name are outside: "an order of \[fries\]", "a can of \[coke\]", "a bottle of \[coke\]". | "two \[pepperoni pizzas\]", "\[tacos al pastor\]" |
//! | `QUANTITY` | a count of items: number words or digits, "a couple", "a dozen", "half a dozen", "un par", "una docena", and "one"/"uno" standing for one line of an implied item ("\[one\] with ham and \[one\] with onions"). A bare article ("a", "an", "un", "una") is not a quantity; quantity 1 is the default. | "\[two\] large pizzas", "\[a couple\] of cokes" |
//! | `SIZE` | a size of a sized item, as the menu or the caller's language names it | "\[large\]", "\[12 piece\]", "\[twelve piece\]", "\[grande\]", "\[quart\]" |
//! | `MODIFIER` | an option (topping, flavour, protein, milk, sauce...) without its portion or refusal cue; a cue that is part of an option's menu name is split off the same way ("no onions" is NEGATION + MODIFIER, "extra cheese" PORTION + MODIFIER, "add guacamole" O + MODIFIER) | "with \[mushrooms\] and \[onions\]", "a \[chicken\] burrito" |
//! | `PORTION` | how much of an option: "extra", "double", "more", "lots", "a lot", "plenty", "heavy on", "light", "lite", "light on", "easy on", "a little", "a little bit", "not too much", "less", "on the side", "separately", and Spanish "extra", "doble", "más", "bastante", "mucho/a/os/as", "poco/a/os/as", "poquito/a", "un poco", "un poquito", "aparte", "al lado", "a un lado", "por separado" | "\[extra\] cheese", "ranch \[on the side\]", "queso \[extra\]" |
//! | `NEGATION` | a refusal cue | "\[no\] onions", "\[without\] any beans", "\[hold\] the pickles", "\[leave off\] the", "\[don't put\] any", "\[sin\] cebolla", "\[no le ponga\]", "\[que no lleve\]" |
//! | `CORRECTION` | a cue that the caller revises or cancels something said before: the entities after it replace the ones before, or (after "instead of", "rather than", "en vez de", "en lugar de") are the ones replaced; with "scratch", "cancel", "forget", "remove", "never mind", "cancele", "quite", "olvídese", "ya no quiero" the ITEM after it is dropped. "actually" and "mejor" are always spans of their own. | "\[actually\] \[make that\] a large", "\[no wait\]", "\[scratch\] the wings", "a sprite \[instead\]", "\[mejor\] una grande" |
//! | `PERSON` | the caller's name, and a spelled-out name as its own span | "this is \[Maria Lopez\]", "\[Dana\], \[D A N A\]" |
//! | `PHONE` | a phone number from its first digit to its last, in any spoken or written form | "\[555 010 4477\]", "\[five five five, oh one oh, ...\]" |
//! | `ADDRESS` | a delivery address: number, street, street type, and unit and city when said | "to \[42 West Oak Street, apartment 3\]" |
//! | `FULFILLMENT` | the word(s) naming pickup or delivery; "for" and "para" (except in "para llevar") stay outside | "for \[pickup\]", "I'll \[pick it up\]", "\[to go\]", "\[delivered\]", "para \[recoger\]", "\[a domicilio\]" |
//!
//! A pre-posed PORTION or NEGATION cue applies to the MODIFIERs after it that are joined to it
//! by "and", "or", "ni" or commas ("\[no\] onions or peppers" refuses both); "with", "add",
//! "plus" or "con", another cue, or an ITEM ends that reach, and the generator always puts one of
//! those before an option the cue does not cover ("no onions but add mushrooms"). A post-posed
//! cue ("on the side", "aparte", Spanish "extra") applies to the MODIFIERs just before it, back to
//! such a word. An option said before an ITEM belongs to it ("a \[chicken\] \[burrito\]"); one said
//! after belongs to the ITEM before it, or to the one named after it ("add \[bacon\] to the
//! \[burger\]"); with no ITEM in the utterance, to the item understood ("a \[large\] with \[ham\]") or
//! a line ordered before.
//!
//! The BIO tag set for a token classifier is [`bio_labels`]; [`Example::bio`] tags the words of an
//! example (see [`words`] for what a word is) and [`spans_from_bio`] turns predicted tags back
//! into spans. [`score`] compares spans the CoNLL way: a span counts only when its start, end
//! and label all match.

mod generator;
mod lexicon;
mod metrics;
mod numbers;
mod slips;
mod utterance;
mod vocab;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use generator::{GenSettings, generate};
pub use metrics::{Counts, Scores, score};

/// The label names, one constant each, so code never hand-writes a label string.
pub mod label {
    /// See the module docs' label table.
    pub const ITEM: &str = "ITEM";
    /// See the module docs' label table.
    pub const QUANTITY: &str = "QUANTITY";
    /// See the module docs' label table.
    pub const SIZE: &str = "SIZE";
    /// See the module docs' label table.
    pub const MODIFIER: &str = "MODIFIER";
    /// See the module docs' label table.
    pub const PORTION: &str = "PORTION";
    /// See the module docs' label table.
    pub const NEGATION: &str = "NEGATION";
    /// See the module docs' label table.
    pub const CORRECTION: &str = "CORRECTION";
    /// See the module docs' label table.
    pub const PERSON: &str = "PERSON";
    /// See the module docs' label table.
    pub const PHONE: &str = "PHONE";
    /// See the module docs' label table.
    pub const ADDRESS: &str = "ADDRESS";
    /// See the module docs' label table.
    pub const FULFILLMENT: &str = "FULFILLMENT";
}

/// Every entity label, in a fixed order (the order of [`bio_labels`] after `"O"`).
pub const LABELS: &[&str] = &[
    label::ITEM,
    label::QUANTITY,
    label::SIZE,
    label::MODIFIER,
    label::PORTION,
    label::NEGATION,
    label::CORRECTION,
    label::PERSON,
    label::PHONE,
    label::ADDRESS,
    label::FULFILLMENT,
];

/// The token classifier's tag set: `"O"`, then `"B-<label>"` and `"I-<label>"` for each of
/// [`LABELS`] in order. The index of a tag in this list is its class id.
#[must_use]
pub fn bio_labels() -> Vec<String> {
    std::iter::once("O".to_owned())
        .chain(
            LABELS
                .iter()
                .flat_map(|label| [format!("B-{label}"), format!("I-{label}")]),
        )
        .collect()
}

/// One labelled caller utterance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// What the caller said, as a speech recogniser might transcribe it.
    pub text: String,
    /// `"en"` or `"es"`.
    pub lang: String,
    /// The entities, sorted by position, non-overlapping, each a whole number of [`words`].
    pub spans: Vec<Span>,
    /// Id of the store whose menu the utterance was generated from, so evaluation can hold out
    /// whole stores.
    pub store: String,
}

/// One entity: a byte range of [`Example::text`] and its label (one of [`LABELS`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// One of [`LABELS`].
    pub label: String,
}

impl Example {
    /// The words of the span, or `""` when the span does not fit the text (a prediction gone
    /// wrong should not panic a report).
    #[must_use]
    pub fn span_text(&self, span: &Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// The example's [`words`], each with its BIO tag: `B-<label>` on a span's first word,
    /// `I-<label>` on the rest, `O` elsewhere. This is the target a token classifier learns
    /// (word pieces after the first of a word are usually masked out of the loss).
    #[must_use]
    pub fn bio(&self) -> Vec<(usize, usize, String)> {
        let mut spans = self.spans.iter().peekable();
        words(&self.text)
            .into_iter()
            .map(|(start, end)| {
                while spans.next_if(|span| span.end <= start).is_some() {}
                let tag = match spans.peek() {
                    Some(span) if span.start <= start && end <= span.end => {
                        let prefix = if span.start == start { "B" } else { "I" };
                        format!("{prefix}-{}", span.label)
                    }
                    _ => "O".to_owned(),
                };
                (start, end, tag)
            })
            .collect()
    }
}

/// Shows the text with each span in brackets and its label: `[two|QUANTITY] [large|SIZE]
/// [pepperoni pizzas|ITEM] with [extra|PORTION] [cheese|MODIFIER]`. Meant for eyes, in debugging
/// and reports.
impl fmt::Display for Example {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut at = 0;
        for span in &self.spans {
            let (Some(before), Some(inside)) = (
                self.text.get(at..span.start),
                self.text.get(span.start..span.end),
            ) else {
                continue;
            };
            write!(f, "{before}[{inside}|{}]", span.label)?;
            at = span.end;
        }
        f.write_str(self.text.get(at..).unwrap_or(""))
    }
}

/// Splits text into words as BERT's basic tokenizer does before word pieces: each maximal run of
/// letters and digits is a word, and every other character that is not whitespace is a word of
/// its own. Returns byte ranges. Spans always start and end on these boundaries.
#[must_use]
pub fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut run: Option<usize> = None;
    for (at, c) in text.char_indices() {
        if c.is_alphanumeric() {
            run.get_or_insert(at);
            continue;
        }
        if let Some(start) = run.take() {
            out.push((start, at));
        }
        if !c.is_whitespace() {
            out.push((at, at + c.len_utf8()));
        }
    }
    if let Some(start) = run {
        out.push((start, text.len()));
    }
    out
}

/// Turns per-word BIO tags (as predicted for [`words`]) back into spans.
///
/// An `I-` tag that does not continue a span of its label starts a new one, as the CoNLL
/// evaluation script reads tags, so a model that misses a `B-` still gets the span it meant.
/// Tags other than `B-<label>`/`I-<label>` (including `"O"`) end the current span. `words` and
/// `tags` are paired up to the shorter of the two.
#[must_use]
pub fn spans_from_bio<T: AsRef<str>>(words: &[(usize, usize)], tags: &[T]) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut open = false;
    for (&(start, end), tag) in words.iter().zip(tags) {
        let tag = tag.as_ref();
        let (begin, label) = match (tag.strip_prefix("B-"), tag.strip_prefix("I-")) {
            (Some(label), _) => (true, label),
            (None, Some(label)) => (false, label),
            (None, None) => {
                open = false;
                continue;
            }
        };
        match out.last_mut() {
            Some(last) if open && !begin && last.label == label => last.end = end,
            _ => out.push(Span {
                start,
                end,
                label: label.to_owned(),
            }),
        }
        open = true;
    }
    out
}

/// Splits examples into (training, held out): an example is held out when its store is one of
/// `held_out`. Evaluating on whole unseen stores measures what matters, generalising to menus
/// the model never saw, which a random split of utterances would overstate.
#[must_use]
pub fn split_by_store(examples: Vec<Example>, held_out: &[&str]) -> (Vec<Example>, Vec<Example>) {
    examples
        .into_iter()
        .partition(|example| !held_out.contains(&example.store.as_str()))
}

#[cfg(test)]
mod tests;

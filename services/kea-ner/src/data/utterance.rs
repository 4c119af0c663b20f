//! Building an utterance piece by piece and rendering it to text with byte-exact spans.
//!
//! The generator never edits rendered text: it appends pieces (plain words, labelled entities,
//! punctuation), and [`Utterance::render`] applies the transcript style (case, punctuation,
//! apostrophes) to each piece before joining them. Offsets are measured on the final text, so no
//! transformation can shift a span off its words.

use super::Span;

/// One piece of an utterance: words that belong together (one entity, or a run of plain words),
/// or one punctuation mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) text: String,
    /// The entity label, `None` for plain words and punctuation.
    pub(crate) label: Option<&'static str>,
    /// Punctuation sticks to the word before it ("pizza," not "pizza ,").
    pub(crate) glued: bool,
    /// For ITEM pieces, the index of the menu item meant, so tests can check the matcher finds it.
    pub(crate) item: Option<usize>,
}

impl Piece {
    pub(crate) fn is_plain(&self) -> bool {
        self.label.is_none() && !self.glued
    }
}

/// An utterance under construction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Utterance {
    pub(crate) pieces: Vec<Piece>,
    /// Text put before the next plain piece without a space, for Spanish "¿" and "¡".
    opening: Option<&'static str>,
}

/// How a transcript looks: recognisers differ in case, punctuation and apostrophes, and the model
/// must read them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Style {
    /// Everything lower-case.
    pub(crate) lowercase: bool,
    /// Sentence punctuation kept (otherwise , . ? ! ; : ( ) " ¿ ¡ are dropped).
    pub(crate) punctuation: bool,
    /// Apostrophes kept ("I'd", otherwise "Id").
    pub(crate) apostrophes: bool,
}

/// Rendered text, its spans, and for each ITEM span (by index into `spans`) the item meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub(crate) text: String,
    pub(crate) spans: Vec<Span>,
    pub(crate) items: Vec<(usize, usize)>,
}

impl Utterance {
    /// Plain words (no label). Empty text is ignored.
    pub(crate) fn say(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let text = match self.opening.take() {
            Some(opening) => format!("{opening}{text}"),
            None => text.to_owned(),
        };
        self.pieces.push(Piece {
            text,
            label: None,
            glued: false,
            item: None,
        });
    }

    /// A labelled entity. Empty text is ignored.
    pub(crate) fn entity(&mut self, label: &'static str, text: &str) {
        self.push_entity(label, text, None);
    }

    /// An ITEM entity meaning menu item `item`.
    pub(crate) fn item(&mut self, text: &str, item: usize) {
        self.push_entity(super::label::ITEM, text, Some(item));
    }

    fn push_entity(&mut self, label: &'static str, text: &str, item: Option<usize>) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.pieces.push(Piece {
            text: text.to_owned(),
            label: Some(label),
            glued: false,
            item,
        });
    }

    /// A punctuation mark glued to the word before. At the very start it is dropped; after
    /// another mark it replaces that mark when it ends a sentence and is dropped otherwise, so
    /// pieces can be joined without ", ," or ", .".
    pub(crate) fn mark(&mut self, mark: &'static str) {
        let Some(last) = self.pieces.last_mut() else {
            return;
        };
        if last.glued {
            if ends_sentence(mark) {
                last.text = mark.to_owned();
            }
            return;
        }
        self.pieces.push(Piece {
            text: mark.to_owned(),
            label: None,
            glued: true,
            item: None,
        });
    }

    /// Opens a Spanish question or exclamation: `"¿"` or `"¡"` goes before the next plain words.
    pub(crate) fn open(&mut self, opening: &'static str) {
        self.opening = Some(opening);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Whether the last piece is a punctuation mark that ends a sentence.
    pub(crate) fn ends_sentence(&self) -> bool {
        self.pieces
            .last()
            .is_some_and(|piece| piece.glued && ends_sentence(&piece.text))
    }

    /// The text and spans in `style`. Sentence starts are capitalised unless the style is
    /// lower-case.
    pub(crate) fn render(&self, style: Style) -> Rendered {
        let mut text = String::new();
        let mut spans = Vec::new();
        let mut items = Vec::new();
        let mut sentence_start = true;
        for piece in &self.pieces {
            let cleaned = clean(&piece.text, style);
            if cleaned.is_empty() {
                continue;
            }
            if piece.glued {
                if !text.is_empty() {
                    text.push_str(&cleaned);
                    sentence_start |= ends_sentence(&cleaned);
                }
                continue;
            }
            if !text.is_empty() {
                text.push(' ');
            }
            let cleaned = if sentence_start && !style.lowercase {
                capitalise(&cleaned)
            } else {
                cleaned
            };
            sentence_start = false;
            let start = text.len();
            text.push_str(&cleaned);
            if let Some(label) = piece.label {
                if let Some(item) = piece.item {
                    items.push((spans.len(), item));
                }
                spans.push(Span {
                    start,
                    end: text.len(),
                    label: label.to_owned(),
                });
            }
        }
        Rendered { text, spans, items }
    }
}

fn ends_sentence(mark: &str) -> bool {
    mark.ends_with(['.', '?', '!'])
}

/// Dropped from transcripts without punctuation.
const PUNCTUATION: &[char] = &[',', '.', '?', '!', ';', ':', '(', ')', '"', '¿', '¡'];

fn clean(text: &str, style: Style) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !style.punctuation && PUNCTUATION.contains(&c) {
            out.push(' ');
        } else if !style.apostrophes && matches!(c, '\'' | '’') {
            continue;
        } else if style.lowercase {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    let mut joined = String::with_capacity(out.len());
    for word in out.split_whitespace() {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(word);
    }
    joined
}

/// Upper-cases the first letter, skipping an opening "¿" or "¡".
fn capitalise(text: &str) -> String {
    match text.char_indices().find(|(_, c)| c.is_alphabetic()) {
        Some((at, c)) if c.is_lowercase() => {
            let mut out = String::with_capacity(text.len() + 2);
            out.push_str(&text[..at]);
            out.extend(c.to_uppercase());
            out.push_str(&text[at + c.len_utf8()..]);
            out
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASED: Style = Style {
        lowercase: false,
        punctuation: true,
        apostrophes: true,
    };
    const ASR: Style = Style {
        lowercase: true,
        punctuation: false,
        apostrophes: false,
    };

    fn sample() -> Utterance {
        let mut u = Utterance::default();
        u.mark(",");
        u.say("hi");
        u.mark(",");
        u.mark(",");
        u.say("I'd like");
        u.entity("QUANTITY", "two");
        u.item("Pepperoni Pizzas", 1);
        u.mark(",");
        u.mark(".");
        u.say("my number is");
        u.entity("PHONE", "(555) 010-4477");
        u.mark(".");
        u
    }

    #[test]
    fn renders_cased_with_spans_on_the_words() {
        let r = sample().render(CASED);
        assert_eq!(
            r.text,
            "Hi, I'd like two Pepperoni Pizzas. My number is (555) 010-4477."
        );
        let texts: Vec<&str> = r.spans.iter().map(|s| &r.text[s.start..s.end]).collect();
        assert_eq!(texts, ["two", "Pepperoni Pizzas", "(555) 010-4477"]);
        assert_eq!(r.items, [(1, 1)]);
    }

    #[test]
    fn renders_recogniser_style() {
        let r = sample().render(ASR);
        assert_eq!(
            r.text,
            "hi id like two pepperoni pizzas my number is 555 010-4477"
        );
        let texts: Vec<&str> = r.spans.iter().map(|s| &r.text[s.start..s.end]).collect();
        assert_eq!(texts, ["two", "pepperoni pizzas", "555 010-4477"]);
    }

    #[test]
    fn spanish_openings_go_on_the_next_plain_words() {
        let mut u = Utterance::default();
        u.open("¿");
        u.say("tienen");
        u.item("tacos al pastor", 0);
        u.mark("?");
        assert_eq!(u.render(CASED).text, "¿Tienen tacos al pastor?");
        assert_eq!(u.render(ASR).text, "tienen tacos al pastor");
    }
}

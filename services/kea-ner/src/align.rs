//! Menu-aware decoding: the model's menu spans (ITEM, MODIFIER, SIZE) re-cut along the store's
//! own names.
//!
//! A model that never saw a menu cannot know where its names begin and end: "chicken marsala" is
//! one dish at a pasta house, "chicken burrito" an option and an item at a taqueria, "family size"
//! a size only where the menu says so. The store's matcher knows. Within each run of words the
//! model marked as menu words (and a word either side it left out), the words are covered with
//! as few exact menu names as possible (the matcher's exact and derived readings, never fuzzy
//! ones); each name becomes one span, labelled with what it names on this menu, as the model
//! read it when the name allows several readings ("chicken" the item or the protein). Words no
//! name covers keep the model's labels, so speech-recognition slips the matcher cannot read stay
//! as the model found them. Spans of other labels (quantities, portions, refusals, names…) are
//! never touched, and no menu span crosses them.

use kea_menu::matcher::{MatchKind, MenuMatcher, Target, tokenize};

use crate::data::{Span, label, words};

const MENU_LABELS: &[&str] = &[label::ITEM, label::MODIFIER, label::SIZE];
/// Longest menu name tried, in words.
const MAX_NAME_WORDS: usize = 6;

/// The menu labels a phrase has on this menu when it is exactly one name, best reading first.
fn readings(matcher: &MenuMatcher, phrase: &str) -> Vec<&'static str> {
    readings_of(matcher, phrase, false)
}

/// [`readings`], or with `fuzzy` only the readings close in sound or spelling ("pepper only
/// pizza" for Pepperoni Pizza, a speech-recognition slip), which the matcher scores below exact
/// ones.
fn readings_of(matcher: &MenuMatcher, phrase: &str, fuzzy: bool) -> Vec<&'static str> {
    let tokens = tokenize(phrase);
    if tokens.is_empty() {
        return Vec::new();
    }
    let found = matcher.find(&tokens);
    let [only] = found.as_slice() else {
        return Vec::new();
    };
    if only.start != 0 || only.end != tokens.len() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (target, kind) in &only.targets {
        if (*kind == MatchKind::Fuzzy) != fuzzy {
            continue;
        }
        let l = match target {
            Target::Item(_) | Target::Category(_) => label::ITEM,
            Target::Option { .. } => label::MODIFIER,
            Target::Size(_) => label::SIZE,
        };
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// Whether a phrase names a menu category and nothing else.
fn category_only(matcher: &MenuMatcher, phrase: &str) -> bool {
    let tokens = tokenize(phrase);
    let found = matcher.find(&tokens);
    matches!(found.as_slice(), [only] if only.targets.iter().all(|(t, _)| matches!(t, Target::Category(_))))
}

/// Re-cuts `spans` (sorted, non-overlapping, over `text`) along the menu's names; see the module
/// docs.
#[must_use]
pub fn align_to_menu(text: &str, spans: &[Span], matcher: &MenuMatcher) -> Vec<Span> {
    let ws = words(text);
    if ws.is_empty() {
        return spans.to_vec();
    }
    let span_of: Vec<Option<usize>> = ws
        .iter()
        .map(|w| spans.iter().position(|s| s.start <= w.0 && w.1 <= s.end))
        .collect();
    let words = Words {
        text,
        ws: &ws,
        spans,
        span_of: &span_of,
    };
    let mut cuts: Vec<Span> = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        if !words.is_menu(i) {
            i += 1;
            continue;
        }
        // The run: menu words and portion words (an item's name may hold one: "Harbor
        // Doble"), bridged over up to three unlabelled words ("jugo [de] limón"), with up to
        // three unlabelled words either side ("[family] size").
        let mut start = i;
        while start > 0 && words.in_run(start - 1) {
            start -= 1;
        }
        let mut end = i + 1;
        loop {
            while end < ws.len() && words.in_run(end) {
                end += 1;
            }
            let mut j = end;
            while j < ws.len() && j - end < EDGE_WORDS && words.is_free(j) {
                j += 1;
            }
            if j > end && j < ws.len() && words.is_menu(j) {
                end = j;
                continue;
            }
            break;
        }
        let mut from = start;
        while from > 0 && start - from < EDGE_WORDS && words.is_free(from - 1) {
            from -= 1;
        }
        let mut to = end;
        while to < ws.len() && to - end < EDGE_WORDS && words.is_free(to) {
            to += 1;
        }
        cuts.extend(words.cut(from, to, matcher));
        i = end;
    }
    // The model's other spans, except portion words a menu name took in.
    let mut out: Vec<Span> = spans
        .iter()
        .filter(|s| !MENU_LABELS.contains(&s.label.as_str()))
        .filter(|s| !cuts.iter().any(|c| c.start < s.end && s.start < c.end))
        .cloned()
        .collect();
    out.extend(cuts);
    out.sort_by_key(|s| s.start);
    out
}

/// Unlabelled words a run may take in at each edge or bridge between its menu words.
const EDGE_WORDS: usize = 3;

/// Words the model may have put in a menu span that name nothing on their own: joining words,
/// articles and containers ("a [side] of fries"); left out when no menu name covers them.
const NOT_NAMES: &[&str] = &[
    "and", "y", "of", "de", "del", "la", "el", "los", "las", "the", "a", "an", "un", "una", "with",
    "con", "or", "o", "side", "order", "orders", "orden", "ordenes", "bottle", "bottles", "can",
    "cans", "glass", "botella", "vaso", "lata",
];

/// An utterance's words and the model's spans over them.
struct Words<'a> {
    text: &'a str,
    ws: &'a [(usize, usize)],
    spans: &'a [Span],
    /// Each word's span, by index into `spans`.
    span_of: &'a [Option<usize>],
}

impl Words<'_> {
    fn label(&self, i: usize) -> Option<&str> {
        self.span_of[i].map(|k| self.spans[k].label.as_str())
    }

    fn is_menu(&self, i: usize) -> bool {
        self.label(i).is_some_and(|l| MENU_LABELS.contains(&l))
    }

    fn in_run(&self, i: usize) -> bool {
        self.label(i)
            .is_some_and(|l| MENU_LABELS.contains(&l) || l == label::PORTION)
            || (self.is_punctuation(i) && self.glued(i))
    }

    /// Unlabelled and a word (not a filler the matcher drops, not loose punctuation).
    fn is_free(&self, i: usize) -> bool {
        self.span_of[i].is_none()
            && !tokenize(self.word(i)).is_empty()
            && (!self.is_punctuation(i) || self.glued(i))
    }

    fn word(&self, i: usize) -> &str {
        &self.text[self.ws[i].0..self.ws[i].1]
    }

    fn is_punctuation(&self, i: usize) -> bool {
        !self.word(i).chars().any(char::is_alphanumeric)
    }

    /// Touching the words on both sides ("lemon-lime").
    fn glued(&self, i: usize) -> bool {
        i > 0
            && i + 1 < self.ws.len()
            && self.ws[i - 1].1 == self.ws[i].0
            && self.ws[i].1 == self.ws[i + 1].0
    }

    /// A window of words can be a name only if it starts and ends with a word the matcher reads.
    fn edges_read(&self, a: usize, b: usize) -> bool {
        !tokenize(self.word(a)).is_empty() && !tokenize(self.word(b - 1)).is_empty()
    }

    /// Covers words `start..stop` with menu names (dynamic programming: most words covered,
    /// then fewest names); menu words no name covers keep the model's spans, less the words
    /// that name nothing alone ([`NOT_NAMES`]).
    fn cut(&self, start: usize, stop: usize, matcher: &MenuMatcher) -> Vec<Span> {
        let n = stop - start;
        // (weight of the words covered, names used): an exact name's words weigh 10 each, a
        // name close in sound 7 (the matcher's own weights), so a slip ("pepper only pizza")
        // wins over reading two of its words exactly only when it covers more.
        let mut best: Vec<(usize, usize)> = vec![(0, 0); n + 1];
        let mut choice: Vec<Option<(usize, &'static str)>> = vec![None; n + 1];
        for k in (0..n).rev() {
            best[k] = best[k + 1];
            for len in 1..=MAX_NAME_WORDS.min(n - k) {
                let (a, b) = (start + k, start + k + len);
                // A name takes in unlabelled words only along with words the model marked.
                if !(a..b).any(|w| self.is_menu(w)) || !self.edges_read(a, b) {
                    continue;
                }
                let phrase = &self.text[self.ws[a].0..self.ws[b - 1].1];
                let mut weight = 10;
                let mut options = readings(matcher, phrase);
                // A slip: only over words the model put in menu spans, two or more of them.
                if options.is_empty() && len >= 2 && (a..b).all(|w| self.is_menu(w)) {
                    options = readings_of(matcher, phrase, true);
                    weight = 7;
                }
                let Some(&first) = options.first() else {
                    continue;
                };
                // A portion word inside: only an item's own name ("Harbor Doble"); the
                // portion of an option ("extra cheese") stays the caller's portion.
                let has_portion = (a..b).any(|w| self.label(w) == Some(label::PORTION));
                let chosen = if has_portion {
                    if !options.contains(&label::ITEM) {
                        continue;
                    }
                    label::ITEM
                } else {
                    // The model's reading when the name allows it, else the menu's first.
                    (a..b)
                        .find_map(|w| self.label(w).filter(|l| options.contains(l)))
                        .and_then(|l| options.iter().copied().find(|o| *o == l))
                        .unwrap_or(first)
                };
                let score = (best[k + len].0 + weight * len, best[k + len].1 + 1);
                if score.0 > best[k].0 || (score.0 == best[k].0 && score.1 < best[k].1) {
                    best[k] = score;
                    choice[k] = Some((len, chosen));
                }
            }
        }
        let mut out: Vec<Span> = Vec::new();
        let mut named = Vec::new();
        let mut k = 0;
        while k < n {
            let w = start + k;
            if let Some((len, l)) = choice[k] {
                out.push(Span {
                    start: self.ws[w].0,
                    end: self.ws[w + len - 1].1,
                    label: l.to_owned(),
                });
                named.push(out.len() - 1);
                k += len;
                continue;
            }
            // Not part of a name: a menu word keeps its span from the model, joined with the
            // words of the same span just before it.
            if let Some(index) = self.span_of[w].filter(|_| self.is_menu(w)) {
                let last_named = named.last() == Some(&out.len().wrapping_sub(1));
                let joined = out.last_mut().filter(|last| {
                    k > 0
                        && !last_named
                        && self.span_of[w - 1] == Some(index)
                        && last.end == self.ws[w - 1].1
                });
                match joined {
                    Some(last) => last.end = self.ws[w].1,
                    None => out.push(Span {
                        start: self.ws[w].0,
                        end: self.ws[w].1,
                        label: self.spans[index].label.clone(),
                    }),
                }
            }
            k += 1;
        }
        // Leftovers that name nothing alone go, and so does a category word before an item
        // of it ("a side of fries": "side" names the category, the caller's container).
        let item_after = |j: usize| out[j + 1..].iter().any(|s| s.label == label::ITEM);
        let mut kept = Vec::with_capacity(out.len());
        for (j, span) in out.iter().enumerate() {
            let phrase = &self.text[span.start..span.end];
            let nothing = if named.contains(&j) {
                span.label == label::ITEM && item_after(j) && category_only(matcher, phrase)
            } else {
                tokenize(phrase)
                    .iter()
                    .all(|t| NOT_NAMES.contains(&t.text.as_str()))
            };
            if !nothing {
                kept.push(span.clone());
            }
        }
        let mut out = kept;
        // "[pepperoni] [pizza]": a category word right after an item is part of its name.
        let mut j = 1;
        while j < out.len() {
            let between = &self.text[out[j - 1].end..out[j].start];
            if out[j - 1].label == label::ITEM
                && out[j].label == label::ITEM
                && between.chars().all(char::is_whitespace)
                && category_only(matcher, &self.text[out[j].start..out[j].end])
                && !category_only(matcher, &self.text[out[j - 1].start..out[j - 1].end])
            {
                out[j - 1].end = out[j].end;
                out.remove(j);
            } else {
                j += 1;
            }
        }
        // An item's name right before another item's is an option said before its item ("a
        // [chicken] [burrito]") when the menu has it as an option too.
        for j in 1..out.len() {
            if out[j].label == label::ITEM
                && out[j - 1].label == label::ITEM
                && out[j - 1].end < out[j].start
                && readings(matcher, &self.text[out[j - 1].start..out[j - 1].end])
                    .contains(&label::MODIFIER)
            {
                out[j - 1].label = label::MODIFIER.to_owned();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use kea_menu::Store;

    use super::*;

    const HARBOR: &str = include_str!("../../../dialog/tests/stores/harbor-burger.json");
    const CASITA: &str = include_str!("../../../tests/fixtures/stores/la-casita.json");

    fn spans(text: &str, marked: &[(&str, &str)]) -> Vec<Span> {
        let mut from = 0;
        marked
            .iter()
            .map(|(words, l)| {
                let start = from + text[from..].find(words).unwrap_or(0);
                from = start + words.len();
                Span {
                    start,
                    end: from,
                    label: (*l).to_owned(),
                }
            })
            .collect()
    }

    fn aligned(json: &str, text: &str, marked: &[(&str, &str)]) -> Vec<(String, String)> {
        let store = match Store::parse(json) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let matcher = MenuMatcher::new(&store.menu);
        align_to_menu(text, &spans(text, marked), &matcher)
            .into_iter()
            .map(|s| (text[s.start..s.end].to_owned(), s.label))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn names_split_by_the_model_are_joined() {
        assert_eq!(
            aligned(
                HARBOR,
                "un Harbor Doble sin tocino",
                &[
                    ("Harbor", "ITEM"),
                    ("Doble", "PORTION"),
                    ("sin", "NEGATION"),
                    ("tocino", "MODIFIER")
                ]
            ),
            pairs(&[
                ("Harbor Doble", "ITEM"),
                ("sin", "NEGATION"),
                ("tocino", "MODIFIER")
            ]),
            "an item's name takes in a word read as a portion"
        );
        assert_eq!(
            aligned(
                HARBOR,
                "extra bacon",
                &[("extra", "PORTION"), ("bacon", "MODIFIER")]
            ),
            pairs(&[("extra", "PORTION"), ("bacon", "MODIFIER")]),
            "an option keeps its portion apart"
        );
        assert_eq!(
            aligned(
                HARBOR,
                "two double burgers",
                &[("double", "ITEM"), ("burgers", "ITEM")]
            ),
            pairs(&[("double burgers", "ITEM")])
        );
        assert_eq!(
            aligned(
                HARBOR,
                "salsa de la casa y mostaza",
                &[
                    ("salsa de", "MODIFIER"),
                    ("la casa", "ITEM"),
                    ("mostaza", "MODIFIER")
                ]
            ),
            pairs(&[("salsa de la casa", "MODIFIER"), ("mostaza", "MODIFIER")])
        );
    }

    #[test]
    fn names_joined_by_the_model_are_split() {
        assert_eq!(
            aligned(
                HARBOR,
                "a side of garlic parmesan Fries",
                &[("garlic parmesan Fries", "ITEM")]
            ),
            pairs(&[("garlic parmesan", "MODIFIER"), ("Fries", "ITEM")])
        );
        assert_eq!(
            aligned(CASITA, "a chicken burrito", &[("chicken burrito", "ITEM")]),
            pairs(&[("chicken", "MODIFIER"), ("burrito", "ITEM")])
        );
        // One name here: stays one.
        assert_eq!(
            aligned(
                CASITA,
                "two chicken tacos",
                &[("chicken", "MODIFIER"), ("tacos", "ITEM")]
            ),
            pairs(&[("chicken tacos", "ITEM")])
        );
    }

    #[test]
    fn fillers_joining_words_and_containers_stay_out() {
        assert_eq!(
            aligned(
                HARBOR,
                "two um milkshakes uh",
                &[("um milkshakes uh", "ITEM")]
            ),
            pairs(&[("milkshakes", "ITEM")])
        );
        assert_eq!(
            aligned(HARBOR, "one side of Fries", &[("side of Fries", "ITEM")]),
            pairs(&[("Fries", "ITEM")])
        );
        assert_eq!(
            aligned(
                HARBOR,
                "with lemon-lime",
                &[("lemon", "MODIFIER"), ("lime", "MODIFIER")]
            ),
            pairs(&[("lemon-lime", "MODIFIER")])
        );
        assert_eq!(
            aligned(
                HARBOR,
                "un refresco de cola",
                &[("refresco", "ITEM"), ("cola", "MODIFIER")]
            ),
            pairs(&[("refresco", "ITEM"), ("cola", "MODIFIER")])
        );
    }

    #[test]
    fn a_slip_over_menu_words_reads_as_the_name_it_sounds_like() {
        const TONYS: &str = include_str!("../../../tests/fixtures/stores/tonys-pizza.json");
        assert_eq!(
            aligned(
                TONYS,
                "a large pepper only pizza",
                &[
                    ("large", "SIZE"),
                    ("pepper", "MODIFIER"),
                    ("only", "ITEM"),
                    ("pizza", "ITEM")
                ]
            ),
            pairs(&[("large", "SIZE"), ("pepper only pizza", "ITEM")])
        );
    }

    #[test]
    fn the_menu_decides_the_label_and_the_model_breaks_ties() {
        assert_eq!(
            aligned(HARBOR, "and onion rings", &[("onion rings", "MODIFIER")]),
            pairs(&[("onion rings", "ITEM")])
        );
        assert_eq!(
            aligned(
                HARBOR,
                "a small fries",
                &[("small", "ITEM"), ("fries", "ITEM")]
            ),
            pairs(&[("small", "SIZE"), ("fries", "ITEM")])
        );
    }

    #[test]
    fn words_no_name_covers_keep_the_models_spans() {
        assert_eq!(
            aligned(HARBOR, "one avo cado", &[("avo cado", "MODIFIER")]),
            pairs(&[("avo cado", "MODIFIER")])
        );
        assert_eq!(
            aligned(
                HARBOR,
                "no balsam glazy",
                &[
                    ("no", "NEGATION"),
                    ("balsam", "MODIFIER"),
                    ("glazy", "MODIFIER")
                ]
            ),
            pairs(&[
                ("no", "NEGATION"),
                ("balsam", "MODIFIER"),
                ("glazy", "MODIFIER")
            ])
        );
        assert_eq!(aligned(HARBOR, "", &[]), pairs(&[]));
    }
}

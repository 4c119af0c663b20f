//! Reading one utterance: what the caller asked for, in menu terms and in dialog terms.
//!
//! [`Analysis::new`] tokenises the transcript and matches it against the menu once; the
//! intents on [`Analysis`] (yes, no, done, a person, cancel, a correction, one of each…) are
//! named predicates backed by the named phrase lists in `phrases`, so the flow asks "is this a
//! correction?" rather than listing words. `details` reads what is not menu words: phone
//! numbers ([`parse_phone`]), names ([`extract_name`]), addresses ([`extract_address`]) and both
//! said in passing ([`Volunteered`]). Order edits are applied by [`crate::order::Work`], which
//! walks the [`Mention`]s this module produces.

mod details;
mod phrases;

use kea_menu::matcher::{Match, MatchKind, Target, Token, tokenize};

use self::details::find_phone;
pub(crate) use self::details::{Volunteered, e164};
pub use self::details::{extract_address, extract_name, parse_phone};
use self::phrases::*;
use crate::Language;

/// One unit of an utterance, in order: a menu match, a number, or another word.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mention {
    /// A recognised menu span (index into [`Analysis::matches`]).
    Menu(usize),
    /// A quantity.
    Num(u32),
    /// Any other word, as its token text.
    Word(String),
}

/// The analysis of one utterance against one menu.
#[derive(Debug, Clone)]
pub(crate) struct Analysis {
    /// The utterance's tokens.
    pub tokens: Vec<Token>,
    /// Menu matches, non-overlapping, in order.
    pub matches: Vec<Match>,
    /// Mentions, in order, with phone-number digits left out.
    pub mentions: Vec<Mention>,
    /// A phone number the caller said, in E.164.
    pub phone: Option<String>,
    /// How many Spanish number words the caller used ("dos tacos"), which tokenising turns
    /// into digits, for language detection.
    pub spanish_numbers: usize,
}

impl Analysis {
    /// Tokenises and matches `text`.
    pub(crate) fn new(text: &str, matcher: &kea_menu::matcher::MenuMatcher) -> Self {
        let mut tokens = tokenize(text);
        tokens.truncate(200);
        let (phone, phone_span) = find_phone(&tokens);
        let matches = refusals_need_a_cue(matcher.find(&tokens), &tokens);
        let mut mentions = Vec::with_capacity(tokens.len());
        let mut i = 0;
        let mut next_match = 0;
        while i < tokens.len() {
            if phone_span.as_ref().is_some_and(|r| r.contains(&i)) {
                i += 1;
                continue;
            }
            while next_match < matches.len() && matches[next_match].start < i {
                next_match += 1;
            }
            if next_match < matches.len() && matches[next_match].start == i {
                mentions.push(Mention::Menu(next_match));
                i = matches[next_match].end.max(i + 1);
                next_match += 1;
                continue;
            }
            let text = &tokens[i].text;
            match kea_menu::matcher::number_value(text) {
                Some(n) if text.chars().all(|c| c.is_ascii_digit()) => {
                    mentions.push(Mention::Num(n))
                }
                _ => mentions.push(Mention::Word(text.clone())),
            }
            i += 1;
        }
        let spanish_numbers = text
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| SPANISH_NUMBERS.contains(&w.to_lowercase().as_str()))
            .count();
        Analysis {
            tokens,
            matches,
            mentions,
            phone,
            spanish_numbers,
        }
    }

    /// The plain words (not menu words), in order.
    pub(crate) fn words(&self) -> Vec<&str> {
        self.mentions
            .iter()
            .filter_map(|m| match m {
                Mention::Word(w) => Some(w.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Whether the token texts contain `phrase` (space-separated words) as a run.
    pub(crate) fn has(&self, phrase: &str) -> bool {
        crate::phrase::anywhere(self.tokens.len(), phrase, |k| {
            Some(self.tokens[k].text.as_str())
        })
    }

    pub(crate) fn has_any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.has(p))
    }

    /// Like [`Analysis::has_any`], over the words outside menu names only, so an item called
    /// "Manager's Special" is not a request for the manager.
    pub(crate) fn has_any_plain(&self, phrases: &[&str]) -> bool {
        let words = self.words();
        phrases
            .iter()
            .any(|phrase| crate::phrase::anywhere(words.len(), phrase, |k| Some(words[k])))
    }

    /// Whether the caller used an ordering word ("get", "want", "add", "quiero").
    pub(crate) fn has_any_order_word(&self) -> bool {
        self.has_any(ORDER_WORDS)
    }

    /// Whether any menu item, option, size or category was recognised.
    pub(crate) fn has_menu(&self) -> bool {
        !self.matches.is_empty()
    }

    /// Whether an item (or category) was recognised, not just options or sizes.
    pub(crate) fn has_item(&self) -> bool {
        self.matches.iter().any(|m| {
            m.targets
                .iter()
                .any(|(t, _)| matches!(t, Target::Item(_) | Target::Category(_)))
        })
    }

    /// The language the words suggest, if they clearly suggest one.
    pub(crate) fn language(&self) -> Option<Language> {
        let words = self.words();
        let es = words.iter().filter(|w| SPANISH.contains(w)).count() + self.spanish_numbers;
        let en = words.iter().filter(|w| ENGLISH.contains(w)).count();
        if es > en && es >= 1 {
            Some(Language::Es)
        } else if en > es && en >= 2 {
            Some(Language::En)
        } else {
            None
        }
    }

    /// Position of the first yes-word or no-word; `Some(true)` for yes.
    pub(crate) fn yes_no(&self) -> Option<bool> {
        for token in &self.tokens {
            let t = token.text.as_str();
            if NO.contains(&t) {
                return Some(false);
            }
            if YES.contains(&t) {
                return Some(!self.has_any(NOT_YES));
            }
        }
        if self.has_any(YES_PHRASES) {
            return Some(true);
        }
        if self.has_any(NO_PHRASES) {
            return Some(false);
        }
        None
    }

    /// "That's all", "nothing else", "no", "es todo": the caller has nothing more to order.
    pub(crate) fn done(&self) -> bool {
        self.has_any(DONE) || (self.yes_no() == Some(false) && !self.has_menu())
    }

    /// The caller wants a person.
    pub(crate) fn wants_person(&self) -> bool {
        self.has_any_plain(PERSON)
    }

    /// The caller wants to abandon the whole order ("never mind", "cancel the order").
    pub(crate) fn wants_cancel(&self) -> bool {
        let cancel = self.has_any(CANCEL);
        cancel && !self.has_item()
    }

    /// "Sorry, what was that?": the caller did not understand the last prompt.
    pub(crate) fn wants_repeat(&self) -> bool {
        !self.has_menu() && self.has_any(REPEAT)
    }

    /// A question about the menu ("what pizzas do you have", "do you have calzones").
    pub(crate) fn menu_question(&self) -> bool {
        self.has_any(MENU_QUESTION)
    }

    /// A price question ("how much is…", "what does … cost").
    pub(crate) fn price_question(&self) -> bool {
        self.has_any(PRICE_QUESTION) && self.has_any(PRICE_WORDS)
    }

    /// A reference back to something just discussed: "I'll take one", "I'll take that".
    pub(crate) fn takes_it(&self) -> bool {
        !self.has_item() && self.has_any(TAKES_IT)
    }

    /// "What do I have?": the caller wants to hear the order so far.
    pub(crate) fn asks_for_order_so_far(&self) -> bool {
        self.has_any(ORDER_SO_FAR)
    }

    /// "I said…", "should be…": the caller restates a line rather than adding one.
    pub(crate) fn is_correction(&self) -> bool {
        self.has_any(CORRECTION)
    }

    /// "Another", "extra", "also": the caller asks for more, so nothing is a restatement.
    pub(crate) fn asks_for_more(&self) -> bool {
        self.has_any(MORE)
    }

    /// "One of each", "both": every option said, each on its own order.
    pub(crate) fn wants_one_of_each(&self) -> bool {
        self.has_any(ONE_OF_EACH)
    }

    /// "Do you have …?" (rather than "what is…" or "how much…").
    pub(crate) fn asks_if_we_have(&self) -> bool {
        self.has_any(HAVE_QUESTION)
    }

    /// An item asked for with an ordering word ("and a Coke"): order words, even in answer to
    /// a question that takes free text such as a name or an address.
    pub(crate) fn orders_item(&self) -> bool {
        self.has_item() && self.has_any_order_word()
    }

    /// The plain words that may name something the caller wants (not fillers, not ordering
    /// words), for "sorry, we don't have …".
    pub(crate) fn content_words(&self) -> Vec<&str> {
        self.words()
            .into_iter()
            .filter(|w| !NOT_CONTENT.contains(w) && w.chars().any(char::is_alphabetic))
            .collect()
    }

    /// The first number said.
    pub(crate) fn first_number(&self) -> Option<u32> {
        self.mentions.iter().find_map(|m| match m {
            Mention::Num(n) => Some(*n),
            _ => None,
        })
    }

    /// The first size said, as spoken.
    pub(crate) fn first_size(&self) -> Option<String> {
        self.matches.iter().find_map(|m| {
            m.targets.iter().find_map(|(t, _)| match t {
                Target::Size(spoken) => Some(spoken.clone()),
                _ => None,
            })
        })
    }

    /// Pickup or delivery, if the caller named one.
    pub(crate) fn fulfillment(&self) -> Option<kea_menu::FulfillmentKind> {
        use kea_menu::FulfillmentKind::{Delivery, Pickup};
        let delivery = self.has_any(DELIVERY);
        let pickup = self.has_any(PICKUP);
        match (pickup, delivery) {
            (true, false) => Some(Pickup),
            (false, true) => Some(Delivery),
            _ => None,
        }
    }
}

/// The match's item reading, if it has one, and how it matched (exact, derived, fuzzy).
pub(crate) fn item_kind(m: &Match) -> Option<(usize, MatchKind)> {
    m.targets.iter().find_map(|(t, k)| match t {
        Target::Item(i) => Some((*i, *k)),
        _ => None,
    })
}

/// Words that refuse what follows them ("hold the onions", "without any cilantro", "sin
/// cebolla") and words that add, which end a refusal's reach ("no cilantro with onions").
const REFUSING: &[&str] = &[
    "no", "not", "without", "sin", "hold", "off", "out", "skip", "minus", "avoid", "nix", "none",
    "quita", "quitale", "quitenle", "remove", "nada",
];
const ADDING: &[&str] = &["with", "con", "add", "plus", "extra", "but"];

/// A store's refusal option ("no onions") is heard in its bare name ("onions", a
/// [`MatchKind::Refused`] reading) only within a few words after a refusal; elsewhere "with
/// onions" would order the opposite.
fn refusals_need_a_cue(mut matches: Vec<Match>, tokens: &[Token]) -> Vec<Match> {
    for m in &mut matches {
        if !m.targets.iter().any(|(_, k)| *k == MatchKind::Refused) {
            continue;
        }
        let cued = tokens[..m.start.min(tokens.len())]
            .iter()
            .rev()
            .take(5)
            .take_while(|t| !ADDING.contains(&t.text.as_str()))
            .any(|t| REFUSING.contains(&t.text.as_str()));
        if !cued {
            m.targets.retain(|(_, k)| *k != MatchKind::Refused);
        }
    }
    matches.retain(|m| !m.targets.is_empty());
    matches
}

//! Resolving a caller's words to menu entries: items, options, sizes and categories.
//!
//! Use [`tokenize`] to turn a transcript into [`Token`]s (lower-case, accent-free, contractions
//! expanded, number words as digits, fillers and stutters dropped), then [`MenuMatcher::find`] to
//! get the best non-overlapping set of [`Match`]es. The matcher is built once per menu with
//! [`MenuMatcher::new`] and is cheap to query; it holds indices into the menu it was built from,
//! so always pass that same menu alongside it.
//!
//! Matching has three tiers ([`MatchKind`]): an exact match of a name or alias (plurals folded),
//! a *derived* match (an item's name without its category word: "pepperoni" for "Pepperoni
//! Pizza"), and a *fuzzy* match (edit distance plus a phonetic key) for speech-recognition
//! slips such as "pepper only pizza". The best cover is chosen by dynamic programming over the
//! tokens, so a longer exact match ("Diet Coke") always beats a shorter one inside it ("Coke"),
//! and near names are never confused: they match exactly or not at all.

use std::collections::HashMap;

use crate::store::Menu;

/// One word of a transcript, in the two forms matching needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word lower-cased, without accents or punctuation, number words as digits.
    pub text: String,
    /// `text` with plurals folded ("pizzas" → "pizza"), the form names are compared in.
    pub key: String,
}

/// What a span of words refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An item, by index into `menu.items`.
    Item(usize),
    /// A modifier option, by indices into `menu.modifier_groups` and that group's `options`.
    Option {
        /// Index of the group in `menu.modifier_groups`.
        group: usize,
        /// Index of the option in the group's `options`.
        option: usize,
    },
    /// A size word; the value is the spoken size in key form ("large", "12 piece", "grande"),
    /// to be resolved against one item with [`MenuMatcher::resolve_size`].
    Size(String),
    /// A category word ("pizza", "tacos"): the items of that category, by index.
    Category(Vec<usize>),
}

/// How good a match is; earlier variants are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    /// A name, alias or size word, word for word (plurals and accents folded).
    Exact,
    /// An item name without its category word ("pepperoni" for "Pepperoni Pizza").
    Derived,
    /// What an option that is a refusal names without its negation ("onions" for "no onions"
    /// in a store without portions): it means that option only after a refusal ("hold the
    /// onions"), which the dialog checks.
    Refused,
    /// Close in spelling or sound, not equal: the caller should be asked to confirm.
    Fuzzy,
}

/// One recognised span of tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// First token of the span.
    pub start: usize,
    /// One past the last token of the span.
    pub end: usize,
    /// Every reading of the span, best first; the dialog picks one by context (the same words
    /// may name an item and an option, e.g. "coke" the can and "coke" the soda flavour).
    pub targets: Vec<(Target, MatchKind)>,
    /// Similarity of the words to the name, 1.0 for exact and derived matches.
    pub score: f32,
}

impl Match {
    /// The best kind among the match's readings.
    #[must_use]
    pub fn kind(&self) -> MatchKind {
        self.targets
            .iter()
            .map(|(_, kind)| *kind)
            .min()
            .unwrap_or(MatchKind::Fuzzy)
    }
}

#[derive(Debug, Clone)]
struct Entry {
    keys: Vec<String>,
    joined: String,
    phonetic: String,
    target: Target,
    kind: MatchKind,
}

/// Generic size words and what they mean, for menus that do not list them as aliases.
const SIZE_SYNONYMS: &[(&str, &[&str])] = &[
    ("large", &["grande", "big", "larg"]),
    (
        "small",
        &["chico", "chica", "pequeno", "pequena", "little", "smal"],
    ),
    ("medium", &["mediano", "mediana", "regular"]),
    ("regular", &["medium", "mediano", "normal"]),
];

/// Connecting words of menu names and how else callers say them (Spanish, casual).
const CONNECTORS: &[(&str, &[&str])] = &[
    ("and", &["y", "n", "with", "con"]),
    ("with", &["con", "and", "y"]),
    ("y", &["and"]),
    ("con", &["with", "and"]),
];

/// How else callers say the "extra" that starts an option's name ("extra cheese").
const EXTRA_SYNONYMS: &[&str] = &["more", "additional", "added", "mas"];

/// Words never matched fuzzily and never starting or ending a fuzzy span.
const STOPWORDS: &[&str] = &[
    "a", "an", "the", "and", "with", "of", "to", "for", "on", "in", "i", "me", "my", "you", "it",
    "is", "that", "this", "can", "get", "have", "want", "would", "like", "please", "some", "de",
    "y", "con", "sin", "el", "la", "los", "las", "un", "una", "quiero", "por", "favor", "also",
    "just", "order", "yes", "no", "what", "how", "much", "do", "does", "will", "be", "at", "or",
    "make", "change", "actually", "then", "okay", "ok", "yeah", "uh", "um", "let", "give",
];

/// Fillers dropped by [`tokenize`].
const FILLERS: &[&str] = &[
    "um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "mm", "ah", "eh",
];

/// Builds and holds the search structures for one menu. See the module docs.
#[derive(Debug, Clone)]
pub struct MenuMatcher {
    entries: Vec<Entry>,
    by_first: HashMap<String, Vec<usize>>,
    max_len: usize,
    hints: Vec<String>,
}

impl MenuMatcher {
    /// Indexes every item name and alias, option name and alias, size name and alias, category
    /// and derived name of `menu`.
    #[must_use]
    pub fn new(menu: &Menu) -> Self {
        let mut entries: Vec<Entry> = Vec::new();
        let mut hints: Vec<String> = Vec::new();
        let push_one =
            |entries: &mut Vec<Entry>, keys: Vec<String>, target: Target, kind: MatchKind| {
                if keys.is_empty() {
                    return;
                }
                let joined: String = keys.concat();
                let exists = entries.iter().any(|e| e.keys == keys && e.target == target);
                if !exists {
                    entries.push(Entry {
                        phonetic: phonetic_key(&joined),
                        joined,
                        keys,
                        target,
                        kind,
                    });
                }
            };
        // "chips and salsa" is also "chips y salsa", "chips n salsa", "chips con salsa".
        let push = |entries: &mut Vec<Entry>, phrase: &str, target: Target, kind: MatchKind| {
            let keys: Vec<String> = tokenize(phrase).into_iter().map(|t| t.key).collect();
            for (word, others) in CONNECTORS {
                if keys.iter().any(|k| k == word) {
                    for other in *others {
                        let variant = keys
                            .iter()
                            .map(|k| {
                                if k == word {
                                    (*other).to_owned()
                                } else {
                                    k.clone()
                                }
                            })
                            .collect::<Vec<String>>();
                        // "with cheese" is never said "and cheese": a name does not start
                        // with "and".
                        if matches!(variant.first().map(String::as_str), Some("and" | "y" | "n")) {
                            continue;
                        }
                        push_one(entries, variant, target.clone(), kind);
                    }
                }
            }
            push_one(entries, keys, target, kind);
        };
        let mut categories: Vec<(String, Vec<usize>)> = Vec::new();
        for (index, item) in menu.items.iter().enumerate() {
            hints.push(item.name.clone());
            push(
                &mut entries,
                &item.name,
                Target::Item(index),
                MatchKind::Exact,
            );
            // What callers may say: aliases, and the name in each of the store's languages.
            for alias in item.aliases.iter().chain(item.names.values()) {
                push(&mut entries, alias, Target::Item(index), MatchKind::Exact);
            }
            for size in &item.sizes {
                let key = keys_of(&size.name).join(" ");
                push(
                    &mut entries,
                    &size.name,
                    Target::Size(key.clone()),
                    MatchKind::Exact,
                );
                for alias in size.aliases.iter().chain(size.names.values()) {
                    push(
                        &mut entries,
                        alias,
                        Target::Size(key.clone()),
                        MatchKind::Exact,
                    );
                }
                hints.push(size.name.clone());
            }
            if let Some(category) = &item.category {
                let key = keys_of(category).join(" ");
                match categories.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, items)) => items.push(index),
                    None => categories.push((key, vec![index])),
                }
            }
        }
        // Derived names: an item's name without its category word, when that is unambiguous.
        let mut derived: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
        for (index, item) in menu.items.iter().enumerate() {
            let Some(category) = &item.category else {
                continue;
            };
            let category_keys = keys_of(category);
            let name_keys = keys_of(&item.name);
            let rest: Vec<String> = name_keys
                .iter()
                .filter(|k| !category_keys.contains(k))
                .cloned()
                .collect();
            if rest.is_empty() || rest.len() == name_keys.len() {
                continue;
            }
            match derived.iter_mut().find(|(k, _)| *k == rest) {
                Some((_, items)) => items.push(index),
                None => derived.push((rest, vec![index])),
            }
        }
        for (keys, items) in derived {
            let phrase = keys.join(" ");
            let target = match items.as_slice() {
                [one] => Target::Item(*one),
                _ => Target::Category(items.clone()),
            };
            push(&mut entries, &phrase, target, MatchKind::Derived);
        }
        for (key, items) in categories {
            hints.push(key.clone());
            push(
                &mut entries,
                &key,
                Target::Category(items),
                MatchKind::Exact,
            );
        }
        for (group_index, group) in menu.modifier_groups.iter().enumerate() {
            for (option_index, option) in group.options.iter().enumerate() {
                let target = Target::Option {
                    group: group_index,
                    option: option_index,
                };
                hints.push(option.name.clone());
                push(&mut entries, &option.name, target.clone(), MatchKind::Exact);
                for alias in option.aliases.iter().chain(option.names.values()) {
                    push(&mut entries, alias, target.clone(), MatchKind::Exact);
                }
                // "add guacamole" is also said as just "guacamole"; "extra cheese" as "more
                // cheese", "additional cheese" or "más queso" (Spanish after "con").
                for name in std::iter::once(&option.name).chain(&option.aliases) {
                    let keys = keys_of(name);
                    if keys.len() < 2 {
                        continue;
                    }
                    let rest = keys[1..].join(" ");
                    match keys[0].as_str() {
                        "add" => push(&mut entries, &rest, target.clone(), MatchKind::Derived),
                        "no" | "without" | "sin" | "hold" => {
                            push(&mut entries, &rest, target.clone(), MatchKind::Refused);
                        }
                        "extra" => {
                            for more in EXTRA_SYNONYMS {
                                push(
                                    &mut entries,
                                    &format!("{more} {rest}"),
                                    target.clone(),
                                    MatchKind::Derived,
                                );
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        for (word, synonyms) in SIZE_SYNONYMS {
            for synonym in *synonyms {
                push(
                    &mut entries,
                    synonym,
                    Target::Size((*synonym).to_owned()),
                    MatchKind::Exact,
                );
            }
            push(
                &mut entries,
                word,
                Target::Size((*word).to_owned()),
                MatchKind::Exact,
            );
        }
        let mut by_first: HashMap<String, Vec<usize>> = HashMap::new();
        let mut max_len = 1;
        for (index, entry) in entries.iter().enumerate() {
            max_len = max_len.max(entry.keys.len());
            if let Some(first) = entry.keys.first() {
                by_first.entry(first.clone()).or_default().push(index);
            }
        }
        let mut seen = std::collections::HashSet::new();
        hints.retain(|h| seen.insert(h.to_lowercase()));
        MenuMatcher {
            entries,
            by_first,
            max_len,
            hints,
        }
    }

    /// Menu words worth passing to a speech recogniser as hints, each once, menu order.
    #[must_use]
    pub fn hints(&self) -> &[String] {
        &self.hints
    }

    /// The best non-overlapping readings of `tokens`, in order of position.
    #[must_use]
    pub fn find(&self, tokens: &[Token]) -> Vec<Match> {
        let candidates = self.candidates(tokens);
        // best[i]: the best (score, matches) for tokens[i..].
        let n = tokens.len();
        let mut best: Vec<(u32, Vec<usize>)> = vec![(0, Vec::new()); n + 1];
        let mut starting: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (index, candidate) in candidates.iter().enumerate() {
            starting[candidate.start].push(index);
        }
        for i in (0..n).rev() {
            let mut choice = best[i + 1].clone();
            for &c in &starting[i] {
                let candidate = &candidates[c];
                let weight: u32 = match candidate.kind() {
                    MatchKind::Exact => 10,
                    MatchKind::Derived | MatchKind::Refused => 9,
                    MatchKind::Fuzzy => 7,
                };
                let span = u32::try_from(candidate.end - candidate.start).unwrap_or(u32::MAX);
                // Covering the same words with fewer, longer names wins a tie: "jalapeno
                // peppers" is one topping, not jalapenos and peppers.
                let score = (best[candidate.end].0 + weight.saturating_mul(span).saturating_mul(4))
                    .saturating_sub(1);
                if score > choice.0 {
                    let mut picked = vec![c];
                    picked.extend_from_slice(&best[candidate.end].1);
                    choice = (score, picked);
                }
            }
            best[i] = choice;
        }
        let picked = best.swap_remove(0).1;
        let mut out: Vec<Match> = Vec::with_capacity(picked.len());
        for match_ in picked.into_iter().map(|i| candidates[i].clone()) {
            // "pepper only | pizza": a category word right after an item of that category is
            // part of the item's name, not a second request.
            if let (Some(prev), Some((Target::Category(items), _))) =
                (out.last_mut(), match_.targets.first())
                && prev.end == match_.start
                && prev
                    .targets
                    .iter()
                    .any(|(t, _)| matches!(t, Target::Item(i) if items.contains(i)))
            {
                prev.end = match_.end;
                continue;
            }
            // "tacos | al pastel": an item right after its category word takes the word in.
            if let Some(prev) = out.last_mut()
                && prev.end == match_.start
                && let [(Target::Category(items), _)] = prev.targets.as_slice()
                && match_
                    .targets
                    .iter()
                    .any(|(t, _)| matches!(t, Target::Item(i) if items.contains(i)))
            {
                let start = prev.start;
                *prev = match_;
                prev.start = start;
                continue;
            }
            out.push(match_);
        }
        out
    }

    /// Every span that matches something, before overlaps are resolved.
    fn candidates(&self, tokens: &[Token]) -> Vec<Match> {
        let mut out: Vec<Match> = Vec::new();
        for start in 0..tokens.len() {
            let Some(list) = self.by_first.get(&tokens[start].key) else {
                continue;
            };
            for &index in list {
                let entry = &self.entries[index];
                let end = start + entry.keys.len();
                if end <= tokens.len()
                    && entry
                        .keys
                        .iter()
                        .zip(&tokens[start..end])
                        .all(|(k, t)| *k == t.key)
                {
                    add_reading(&mut out, start, end, entry.target.clone(), entry.kind, 1.0);
                }
            }
        }
        // Fuzzy readings of spans with no exact reading of their own, skipping spans whose
        // every word is already part of an exact reading (they need no second guess).
        let mut covered = vec![false; tokens.len()];
        for m in &out {
            for flag in &mut covered[m.start..m.end] {
                *flag = true;
            }
        }
        for start in 0..tokens.len() {
            if !fuzzy_edge(&tokens[start]) {
                continue;
            }
            for len in 1..=self.max_len.min(4) {
                let end = start + len;
                if end > tokens.len() || !fuzzy_edge(&tokens[end - 1]) {
                    break;
                }
                if tokens[start..end]
                    .iter()
                    .any(|t| t.key.chars().all(|c| c.is_ascii_digit()))
                {
                    break;
                }
                if covered[start..end].iter().all(|c| *c)
                    || out.iter().any(|m| m.start == start && m.end == end)
                {
                    continue;
                }
                let joined: String = tokens[start..end].iter().map(|t| t.key.as_str()).collect();
                if joined.chars().count() < 5 {
                    continue;
                }
                let phonetic = phonetic_key(&joined);
                let mut best: Option<(f32, usize)> = None;
                for (index, entry) in self.entries.iter().enumerate() {
                    if matches!(entry.target, Target::Size(_) | Target::Category(_)) {
                        continue;
                    }
                    let score = similarity(&joined, &phonetic, entry);
                    let needed = match entry.target {
                        Target::Option { .. } => 0.85,
                        _ => 0.0,
                    };
                    if score > needed && best.is_none_or(|(s, _)| score > s) {
                        best = Some((score, index));
                    }
                }
                if let Some((score, index)) = best {
                    let entry = &self.entries[index];
                    let kind = if score >= 0.999 {
                        MatchKind::Exact
                    } else {
                        MatchKind::Fuzzy
                    };
                    add_reading(&mut out, start, end, entry.target.clone(), kind, score);
                }
            }
        }
        out
    }

    /// The menu's own name of the size `spoken` (a [`Target::Size`] value) for item `item` of
    /// `menu`, trying the item's sizes and aliases first and then generic synonyms ("grande" is
    /// "large").
    #[must_use]
    pub fn resolve_size(menu: &Menu, item: usize, spoken: &str) -> Option<String> {
        let item = menu.items.get(item)?;
        let spoken_keys = keys_of(spoken).join(" ");
        for size in &item.sizes {
            if keys_of(&size.name).join(" ") == spoken_keys
                || size
                    .aliases
                    .iter()
                    .chain(size.names.values())
                    .any(|a| keys_of(a).join(" ") == spoken_keys)
            {
                return Some(size.name.clone());
            }
        }
        for (word, synonyms) in SIZE_SYNONYMS {
            if *word == spoken_keys || synonyms.contains(&spoken_keys.as_str()) {
                let wanted = std::iter::once(*word).chain(synonyms.iter().copied());
                for candidate in wanted {
                    if let Some(size) = item
                        .sizes
                        .iter()
                        .find(|s| s.name.to_lowercase() == candidate)
                    {
                        return Some(size.name.clone());
                    }
                }
            }
        }
        None
    }

    /// How alike `words` is to the name of a target (0 to 1), for "did you mean" suggestions.
    #[must_use]
    pub fn closest_items(&self, words: &str, limit: usize) -> Vec<(usize, f32)> {
        let joined: String = tokenize(words).into_iter().map(|t| t.key).collect();
        let phonetic = phonetic_key(&joined);
        let mut scored: Vec<(usize, f32)> = Vec::new();
        for entry in &self.entries {
            if let Target::Item(item) = entry.target {
                let score = strsim::normalized_levenshtein(&joined, &entry.joined) as f32;
                let score = if phonetic_close(&phonetic, &entry.phonetic) {
                    score.max(0.5)
                } else {
                    score
                };
                match scored.iter_mut().find(|(i, _)| *i == item) {
                    Some((_, s)) => *s = s.max(score),
                    None => scored.push((item, score)),
                }
            }
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(limit);
        scored
    }
}

fn add_reading(
    out: &mut Vec<Match>,
    start: usize,
    end: usize,
    target: Target,
    kind: MatchKind,
    score: f32,
) {
    if let Some(existing) = out.iter_mut().find(|m| m.start == start && m.end == end) {
        if !existing.targets.iter().any(|(t, _)| *t == target) {
            existing.targets.push((target, kind));
            existing.targets.sort_by_key(|(_, k)| *k);
        }
        existing.score = existing.score.max(score);
    } else {
        out.push(Match {
            start,
            end,
            targets: vec![(target, kind)],
            score,
        });
    }
}

fn fuzzy_edge(token: &Token) -> bool {
    !STOPWORDS.contains(&token.text.as_str()) && !STOPWORDS.contains(&token.key.as_str())
}

/// Similarity of spoken words to an entry, or 0 when they are not close enough to ask about.
fn similarity(joined: &str, phonetic: &str, entry: &Entry) -> f32 {
    let a = joined.chars().count();
    let b = entry.joined.chars().count();
    if b < 4 || a.abs_diff(b) * 3 > b.max(a) {
        return 0.0;
    }
    let score = strsim::normalized_levenshtein(joined, &entry.joined) as f32;
    if score >= 0.8 || (score >= 0.7 && phonetic_close(phonetic, &entry.phonetic)) {
        score
    } else {
        0.0
    }
}

fn phonetic_close(a: &str, b: &str) -> bool {
    a.len() >= 3 && b.len() >= 3 && strsim::levenshtein(a, b) <= 1
}

/// The key words of a menu phrase, as [`tokenize`] would give them.
fn keys_of(phrase: &str) -> Vec<String> {
    tokenize(phrase).into_iter().map(|t| t.key).collect()
}

/// How alike two words are, 1.0 for equal, by normalised edit distance; words shorter than four
/// letters only match exactly (one letter changes a short word into another word).
#[must_use]
pub fn word_similarity(a: &str, b: &str) -> f64 {
    if a.chars().count().max(b.chars().count()) < 4 {
        return if a == b { 1.0 } else { 0.0 };
    }
    strsim::normalized_levenshtein(a, b)
}

/// A small Metaphone-like key: how a word sounds, ignoring vowels and doubled letters, so that
/// "pepper only" and "pepperoni" come out close.
#[must_use]
pub fn phonetic_key(word: &str) -> String {
    let chars: Vec<char> = word.chars().filter(char::is_ascii_alphabetic).collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let code = match c {
            'a' | 'e' | 'i' | 'o' | 'u' => {
                if i == 0 {
                    Some('A')
                } else {
                    None
                }
            }
            'p' if next == Some('h') => {
                i += 1;
                Some('F')
            }
            'c' if next == Some('h') => {
                i += 1;
                Some('X')
            }
            's' if next == Some('h') => {
                i += 1;
                Some('X')
            }
            'c' if matches!(next, Some('e' | 'i' | 'y')) => Some('S'),
            'c' | 'k' | 'q' => Some('K'),
            'g' if next == Some('h') => {
                i += 1;
                None
            }
            'x' => Some('K'),
            'z' => Some('S'),
            'v' => Some('F'),
            'w' | 'y' | 'h' => {
                if matches!(next, Some('a' | 'e' | 'i' | 'o' | 'u')) && i == 0 {
                    Some(c.to_ascii_uppercase())
                } else {
                    None
                }
            }
            'd' => Some('T'),
            'b' => Some('P'),
            other => Some(other.to_ascii_uppercase()),
        };
        if let Some(code) = code
            && !out.ends_with(code)
        {
            out.push(code);
        }
        i += 1;
    }
    out
}

/// Lower-cases `c` and drops its accent ("Ñ" → "n"); characters that are neither letters nor
/// digits become spaces.
fn fold_char(c: char, out: &mut String) {
    for lower in c.to_lowercase() {
        let plain = match lower {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            '\'' | '’' | '`' => '\'',
            other if other.is_alphanumeric() => other,
            _ => ' ',
        };
        out.push(plain);
    }
}

const CONTRACTIONS: &[(&str, &str)] = &[
    ("i'd", "i would"),
    ("i'll", "i will"),
    ("i'm", "i am"),
    ("i've", "i have"),
    ("that's", "that is"),
    ("it's", "it is"),
    ("what's", "what is"),
    ("there's", "there is"),
    ("that'll", "that will"),
    ("we'll", "we will"),
    ("you're", "you are"),
    ("don't", "do not"),
    ("doesn't", "does not"),
    ("didn't", "did not"),
    ("can't", "cannot"),
    ("won't", "will not"),
    ("let's", "let us"),
    ("lemme", "let me"),
    ("gimme", "give me"),
    ("wanna", "want to"),
    ("gonna", "going to"),
    ("gotta", "got to"),
    ("y'all", "you all"),
    ("name's", "name is"),
    ("how's", "how is"),
    ("where's", "where is"),
];

const NUMBERS: &[(&str, u32)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("dozen", 12),
    ("cero", 0),
    ("uno", 1),
    ("una", 1),
    ("un", 1),
    ("dos", 2),
    ("tres", 3),
    ("cuatro", 4),
    ("cinco", 5),
    ("seis", 6),
    ("siete", 7),
    ("ocho", 8),
    ("nueve", 9),
    ("diez", 10),
    ("doce", 12),
    ("docena", 12),
    ("veinte", 20),
];

/// The value of a number word ("three", "tres", "dozen") or digits ("3").
#[must_use]
pub fn number_value(word: &str) -> Option<u32> {
    if !word.is_empty() && word.len() <= 9 && word.chars().all(|c| c.is_ascii_digit()) {
        return word.parse().ok();
    }
    NUMBERS.iter().find(|(w, _)| *w == word).map(|(_, n)| *n)
}

/// Splits a transcript into [`Token`]s: lower-case, accent-free, contractions expanded, number
/// words as digits ("a couple of" → "2", "twenty five" → "25"), fillers ("um", "uh") and
/// immediate repetitions ("the, the") dropped.
#[must_use]
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut folded);
    }
    let mut words: Vec<String> = Vec::new();
    for raw in folded.split_whitespace() {
        let raw = raw.trim_matches('\'');
        if raw.is_empty() {
            continue;
        }
        if let Some((_, expanded)) = CONTRACTIONS.iter().find(|(c, _)| *c == raw) {
            words.extend(expanded.split(' ').map(str::to_owned));
            continue;
        }
        let word = raw
            .strip_suffix("'s")
            .map_or_else(|| raw.replace('\'', ""), |w| format!("{w}s"));
        if word.is_empty() || FILLERS.contains(&word.as_str()) {
            continue;
        }
        words.push(word);
    }
    // Multi-word quantities, then number words to digits.
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        let after = words.get(i + 2).map(String::as_str);
        match (w, next, after) {
            ("a" | "un", Some("couple" | "par"), Some("of" | "de")) => {
                out.push("2".into());
                i += 3;
                continue;
            }
            ("a" | "un", Some("couple" | "par"), _) => {
                out.push("2".into());
                i += 2;
                continue;
            }
            ("a" | "una", Some("dozen" | "docena"), Some("de")) => {
                out.push("12".into());
                i += 3;
                continue;
            }
            ("a" | "una", Some("dozen" | "docena"), _) => {
                out.push("12".into());
                i += 2;
                continue;
            }
            ("half", Some("a"), Some("dozen")) => {
                out.push("6".into());
                i += 3;
                continue;
            }
            ("half", Some("dozen"), _) => {
                out.push("6".into());
                i += 2;
                continue;
            }
            _ => {}
        }
        match number_value(w) {
            Some(tens)
                if (20..=90).contains(&tens)
                    && tens % 10 == 0
                    && !w.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                match next.and_then(number_value) {
                    Some(unit)
                        if (1..=9).contains(&unit)
                            && !next
                                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit())) =>
                    {
                        out.push((tens + unit).to_string());
                        i += 2;
                    }
                    _ => {
                        out.push(tens.to_string());
                        i += 1;
                    }
                }
            }
            Some(n) if !w.starts_with(|c: char| c.is_ascii_digit()) => {
                out.push(n.to_string());
                i += 1;
            }
            _ => {
                out.push(w.to_owned());
                i += 1;
            }
        }
    }
    // "the, the" is a stutter; "5 5 5" is a phone number.
    out.dedup_by(|b, a| a == b && !a.chars().all(|c| c.is_ascii_digit()));
    out.into_iter()
        .map(|text| Token {
            key: stem(&text),
            text,
        })
        .collect()
}

/// Folds an English plural to its singular, the same way for menu names and spoken words, so
/// both sides meet ("pizzas" → "pizza", "sandwiches" → "sandwich", "berries"/"berry" → "berrie").
#[must_use]
pub fn stem(word: &str) -> String {
    let len = word.chars().count();
    let mut w = word.to_owned();
    if len > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is")
    {
        w.pop();
        for suffix in ["che", "she", "xe", "sse", "zze"] {
            if w.ends_with(suffix) {
                w.pop();
                break;
            }
        }
    }
    let chars: Vec<char> = w.chars().collect();
    if chars.len() >= 3
        && chars[chars.len() - 1] == 'y'
        && !matches!(chars[chars.len() - 2], 'a' | 'e' | 'i' | 'o' | 'u')
    {
        w.pop();
        w.push_str("ie");
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn names(store: &crate::Store, text: &str) -> Vec<String> {
        let matcher = MenuMatcher::new(&store.menu);
        let tokens = tokenize(text);
        matcher
            .find(&tokens)
            .into_iter()
            .map(|m| {
                let (target, kind) = &m.targets[0];
                let name = match target {
                    Target::Item(i) => store.menu.items[*i].sku.clone(),
                    Target::Option { group, option } => {
                        format!(
                            "opt:{}",
                            store.menu.modifier_groups[*group].options[*option].sku
                        )
                    }
                    Target::Size(s) => format!("size:{s}"),
                    Target::Category(items) => format!("cat:{}", items.len()),
                };
                match kind {
                    MatchKind::Fuzzy => format!("~{name}"),
                    _ => name,
                }
            })
            .collect()
    }

    #[test]
    fn tokenize_normalises() {
        let cases: &[(&str, &str)] = &[
            (
                "Um, yeah, lemme get uh, the, the chicken",
                "yeah let me get the chicken",
            ),
            ("I'd like TWO large Pizzas!", "i would like 2 large pizzas"),
            ("a couple of cokes", "2 cokes"),
            ("a dozen wings", "12 wings"),
            ("twenty five", "25"),
            ("Piña, limón", "pina limon"),
            ("tres tacos y una horchata", "3 tacos y 1 horchata"),
            ("meat lover's pizza", "meat lovers pizza"),
            ("twelve piece", "12 piece"),
            ("un par de tacos", "2 tacos"),
        ];
        for (input, want) in cases {
            let got: Vec<String> = tokenize(input).into_iter().map(|t| t.text).collect();
            assert_eq!(got.join(" "), *want, "{input}");
        }
    }

    #[test]
    fn stems_fold_plurals() {
        for (a, b) in [
            ("pizzas", "pizza"),
            ("tacos", "taco"),
            ("sandwiches", "sandwich"),
            ("berries", "berry"),
            ("jalapenos", "jalapeno"),
            ("cokes", "coke"),
            ("knots", "knot"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} / {b}");
        }
        assert_eq!(stem("glass"), "glass");
        assert_eq!(stem("hummus"), "hummus");
    }

    #[test]
    fn numbers() {
        for (word, n) in [
            ("three", 3),
            ("tres", 3),
            ("12", 12),
            ("dozen", 12),
            ("una", 1),
        ] {
            assert_eq!(number_value(word), Some(n), "{word}");
        }
        assert_eq!(number_value("pizza"), None);
        assert_eq!(number_value("99999999999999"), None);
    }

    #[test]
    fn finds_the_right_entries() {
        let tonys = fixtures::store(fixtures::TONYS);
        let casita = fixtures::store(fixtures::CASITA);
        let bean = fixtures::store(fixtures::BEAN);
        let cases: &[(&crate::Store, &str, &[&str])] = &[
            (&tonys, "a diet coke", &["diet-coke-can"]),
            (&tonys, "a coke", &["coke-can"]),
            (
                &tonys,
                "two cokes and a diet coke",
                &["coke-can", "diet-coke-can"],
            ),
            (&casita, "a mexican coke", &["mexican-coke"]),
            (
                &tonys,
                "large pepperoni pizzas",
                &["size:large", "pizza-pepperoni"],
            ),
            (
                &tonys,
                "a large pepperoni with extra cheese",
                &["size:large", "pizza-pepperoni", "opt:extra-cheese"],
            ),
            (
                &tonys,
                "the twelve piece wings",
                &["size:12 piece", "wings"],
            ),
            (
                &tonys,
                "a large pepper only pizza",
                &["size:large", "~pizza-pepperoni"],
            ),
            (&tonys, "garlic knots", &["garlic-knots"]),
            (&tonys, "some pizza", &["cat:6"]),
            (&tonys, "a coca cola", &["coke-can"]),
            (&tonys, "meat lover's pizza", &["pizza-meat-lovers"]),
            (&casita, "chips and guac", &["chips-guac"]),
            (&casita, "3 al pastor tacos", &["taco-al-pastor"]),
            (
                &casita,
                "tres tacos de asada y una horchata grande",
                &["taco-asada", "horchata", "size:grande"],
            ),
            (&casita, "no onions", &["opt:no-onion"]),
            (&casita, "burrito with guac", &["burrito", "opt:add-guac"]),
            (
                &bean,
                "large iced oat milk latte with an extra shot",
                &[
                    "size:large",
                    "opt:iced",
                    "opt:milk-oat",
                    "latte",
                    "opt:extra-shot",
                ],
            ),
            (&bean, "a small coffee", &["size:small", "drip-coffee"]),
            (
                &bean,
                "two medium cappuccinos",
                &["size:medium", "cappuccino"],
            ),
            (&bean, "a medium chai", &["size:medium", "chai-latte"]),
        ];
        for (store, text, want) in cases {
            assert_eq!(names(store, text), *want, "{text}");
        }
    }

    #[test]
    fn connectors_and_slips() {
        let casita = fixtures::store(fixtures::CASITA);
        let bean = fixtures::store(fixtures::BEAN);
        let tonys = fixtures::store(fixtures::TONYS);
        let cases: &[(&crate::Store, &str, &[&str])] = &[
            (&casita, "chips con salsa", &["chips-salsa"]),
            (&casita, "chips y guacamole", &["chips-guac"]),
            (&casita, "chips n salsa", &["chips-salsa"]),
            (&casita, "three tacos al pastel", &["~taco-al-pastor"]),
            (
                &casita,
                "a chicken keysadilla",
                &["opt:p-pollo", "~quesadilla"],
            ),
            (&bean, "a large cafe lotte", &["size:large", "~latte"]),
            (&tonys, "a peperoni pizza", &["~pizza-pepperoni"]),
            (&tonys, "a margarita pizza", &["~pizza-margherita"]),
        ];
        for (store, text, want) in cases {
            assert_eq!(names(store, text), *want, "{text}");
        }
    }

    #[test]
    fn near_names_are_never_confused() {
        let tonys = fixtures::store(fixtures::TONYS);
        let casita = fixtures::store(fixtures::CASITA);
        for text in ["diet coke", "a diet coke please", "diet cokes"] {
            assert_eq!(names(&tonys, text), ["diet-coke-can"], "{text}");
        }
        assert_eq!(names(&casita, "mexican cokes"), ["mexican-coke"]);
        assert_eq!(names(&tonys, "coke"), ["coke-can"]);
    }

    #[test]
    fn ordinary_words_are_not_fuzzy_matches() {
        let tonys = fixtures::store(fixtures::TONYS);
        let bean = fixtures::store(fixtures::BEAN);
        for text in [
            "that is all thank you",
            "no thanks",
            "i will call back later",
            "pickup please",
            "yes that is right",
        ] {
            assert!(
                names(&tonys, text).is_empty(),
                "{text}: {:?}",
                names(&tonys, text)
            );
            assert!(
                names(&bean, text).is_empty(),
                "{text}: {:?}",
                names(&bean, text)
            );
        }
    }

    #[test]
    fn extra_and_refusal_options_are_heard_as_callers_say_them() {
        let tonys = fixtures::store(fixtures::TONYS);
        for text in ["more cheese", "additional cheese", "added cheese"] {
            assert_eq!(names(&tonys, text), ["opt:extra-cheese"], "{text}");
        }
        let bean = fixtures::store(fixtures::BEAN);
        assert_eq!(names(&bean, "an additional shot"), ["opt:extra-shot"]);
        // "Onions" is the store's "no onions" only as a refused reading, which the dialog
        // keeps after a refusal; "no onions" itself is exact.
        let casita = fixtures::store(fixtures::CASITA);
        let matcher = MenuMatcher::new(&casita.menu);
        let found = matcher.find(&tokenize("hold the onions"));
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .targets
                .iter()
                .all(|(_, kind)| *kind == MatchKind::Refused)
        );
        assert_eq!(names(&casita, "no onions"), ["opt:no-onion"]);
        assert_eq!(names(&casita, "sin cebolla"), ["opt:no-onion"]);
    }

    #[test]
    fn names_in_each_language_are_heard() {
        let mut store = fixtures::store(fixtures::CASITA);
        let taco = store
            .menu
            .items
            .iter()
            .position(|i| i.sku == "taco-al-pastor")
            .unwrap_or(0);
        store.menu.items[taco]
            .names
            .insert("es".into(), "Taco de Pastor al Trompo".into());
        assert_eq!(
            names(&store, "dos tacos de pastor al trompo"),
            vec!["taco-al-pastor".to_owned()]
        );
    }

    #[test]
    fn the_longest_exact_name_wins_over_two_shorter_ones() {
        let mut store = fixtures::store(fixtures::TONYS);
        let toppings = store
            .menu
            .modifier_groups
            .iter()
            .position(|g| g.id == "toppings")
            .unwrap_or(0);
        let mut jalapeno_peppers = store.menu.modifier_groups[toppings].options[0].clone();
        jalapeno_peppers.sku = "jalapeno-peppers".into();
        jalapeno_peppers.name = "jalapeno peppers".into();
        jalapeno_peppers.aliases = vec!["jalapeno".into()];
        store.menu.modifier_groups[toppings]
            .options
            .push(jalapeno_peppers);
        let found = names(&store, "a large cheese pizza with jalapeno peppers");
        assert!(
            found.contains(&"opt:jalapeno-peppers".to_owned()),
            "{found:?}"
        );
        assert!(!found.contains(&"opt:peppers".to_owned()), "{found:?}");
    }

    #[test]
    fn phonetic_keys() {
        assert_eq!(phonetic_key("pepperoni"), "PRN");
        assert!(phonetic_close(
            &phonetic_key("pepperonly"),
            &phonetic_key("pepperoni")
        ));
        assert_ne!(phonetic_key("coke"), phonetic_key("diet coke"));
    }

    #[test]
    fn sizes_resolve_per_item() {
        let casita = fixtures::store(fixtures::CASITA);
        let menu = &casita.menu;
        let horchata = menu
            .items
            .iter()
            .position(|i| i.sku == "horchata")
            .unwrap_or(0);
        let nachos = menu
            .items
            .iter()
            .position(|i| i.sku == "nachos")
            .unwrap_or(0);
        assert_eq!(
            MenuMatcher::resolve_size(menu, horchata, "grande"),
            Some("large".into())
        );
        assert_eq!(
            MenuMatcher::resolve_size(menu, horchata, "chico"),
            Some("small".into())
        );
        assert_eq!(
            MenuMatcher::resolve_size(menu, nachos, "medium"),
            Some("regular".into())
        );
        assert_eq!(MenuMatcher::resolve_size(menu, horchata, "12 piece"), None);
    }

    #[test]
    fn closest_items_for_suggestions() {
        let tonys = fixtures::store(fixtures::TONYS);
        let matcher = MenuMatcher::new(&tonys.menu);
        let best = matcher.closest_items("pepperony", 1);
        assert_eq!(
            best.first().map(|(i, _)| tonys.menu.items[*i].sku.as_str()),
            Some("pizza-pepperoni")
        );
    }
}

//! Reading one utterance: what the caller asked for, in menu terms and in dialog terms.
//!
//! [`Analysis::new`] tokenises the transcript and matches it against the menu once; the
//! predicates on [`Analysis`] (yes, no, done, transfer, cancel…) and [`parse_phone`] /
//! [`extract_name`] / [`extract_address`] read the rest. Order edits are applied by
//! [`crate::order::Work`], which walks the [`Mention`]s this module produces.

use kea_menu::matcher::{Match, MatchKind, Target, Token, tokenize};

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

const SPANISH: &[&str] = &[
    "hola",
    "quiero",
    "quisiera",
    "dame",
    "deme",
    "gustaria",
    "favor",
    "gracias",
    "si",
    "es",
    "todo",
    "nada",
    "mas",
    "para",
    "recoger",
    "domicilio",
    "con",
    "sin",
    "el",
    "los",
    "las",
    "y",
    "de",
    "por",
    "pedir",
    "ordenar",
    "orden",
    "tambien",
    "bueno",
    "buenas",
    "tardes",
    "dias",
    "noches",
    "nombre",
    "llamo",
    "soy",
    "numero",
    "este",
    "esta",
    "correcto",
    "cancelar",
    "persona",
    "gerente",
    "cuanto",
    "cuesta",
    "tienen",
    "que",
    "quiere",
    "seria",
    "bien",
    "claro",
    "listo",
    "eso",
    "me",
    "mi",
    "entrega",
    "llevar",
    "cambia",
    "quita",
    "agrega",
    "olvidalo",
    "perdon",
    "senor",
    "senora",
    "usted",
    "tiene",
    "hay",
    "cual",
    "cuales",
    "puede",
    "porfa",
    "vale",
];
const ENGLISH: &[&str] = &[
    "hi", "hello", "i", "want", "would", "like", "can", "get", "please", "thanks", "thank", "yes",
    "yeah", "the", "and", "with", "of", "to", "that", "is", "it", "my", "name", "order", "pickup",
    "all", "have", "what", "how", "much", "you", "for", "some", "just", "okay", "sure", "will",
    "take", "also", "delivery", "pick", "up", "no", "let", "me", "give", "am", "be", "this",
];

impl Analysis {
    /// Tokenises and matches `text`.
    pub(crate) fn new(text: &str, matcher: &kea_menu::matcher::MenuMatcher) -> Self {
        let mut tokens = tokenize(text);
        tokens.truncate(200);
        let (phone, phone_span) = find_phone(&tokens);
        let matches = matcher.find(&tokens);
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
            .filter(|w| {
                matches!(
                    w.to_lowercase().as_str(),
                    "dos"
                        | "tres"
                        | "cuatro"
                        | "cinco"
                        | "seis"
                        | "siete"
                        | "ocho"
                        | "nueve"
                        | "diez"
                        | "una"
                        | "uno"
                        | "unos"
                        | "unas"
                )
            })
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
        let want: Vec<&str> = phrase.split(' ').collect();
        self.tokens
            .windows(want.len())
            .any(|w| w.iter().zip(&want).all(|(t, p)| t.text == *p))
    }

    pub(crate) fn has_any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.has(p))
    }

    /// Like [`Analysis::has_any`], over the words outside menu names only, so an item called
    /// "Manager's Special" is not a request for the manager.
    pub(crate) fn has_any_plain(&self, phrases: &[&str]) -> bool {
        let words = self.words();
        phrases.iter().any(|phrase| {
            let want: Vec<&str> = phrase.split(' ').collect();
            words.windows(want.len()).any(|w| w == want.as_slice())
        })
    }

    /// Whether the caller used an ordering word ("get", "want", "add", "quiero").
    pub(crate) fn has_any_order_word(&self) -> bool {
        self.has_any(&[
            "get", "want", "like", "add", "order", "have", "take", "also", "and", "give", "need",
            "quiero", "quisiera", "dame", "deme", "agrega", "agregue", "ponme", "tambien", "me da",
        ])
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
        const YES: &[&str] = &[
            "yes",
            "yeah",
            "yep",
            "yup",
            "yea",
            "sure",
            "correct",
            "right",
            "ok",
            "okay",
            "perfect",
            "absolutely",
            "asi",
            "andale",
            "yessir",
            "yup",
            "certainly",
            "definitely",
            "si",
            "claro",
            "correcto",
            "exacto",
            "exactamente",
            "vale",
            "fine",
            "great",
            "good",
            "affirmative",
            "alright",
            "bueno",
            "perfecto",
            "listo",
        ];
        const NO: &[&str] = &[
            "no",
            "nope",
            "nah",
            "incorrect",
            "wrong",
            "negative",
            "incorrecto",
        ];
        for token in &self.tokens {
            let t = token.text.as_str();
            if NO.contains(&t) {
                return Some(false);
            }
            if YES.contains(&t) {
                return Some(!self.has_any(&["not right", "not correct", "is wrong"]));
            }
        }
        if self.has_any(&[
            "go ahead",
            "please do",
            "esta bien",
            "de acuerdo",
            "that works",
            "sounds good",
        ]) {
            return Some(true);
        }
        if self.has_any(&["not really", "do not", "dont"]) {
            return Some(false);
        }
        None
    }

    /// "That's all", "nothing else", "no", "es todo": the caller has nothing more to order.
    pub(crate) fn done(&self) -> bool {
        self.has_any(&[
            "that is all",
            "that is it",
            "that will be all",
            "that will be it",
            "nothing else",
            "nothing more",
            "i am good",
            "i am done",
            "all set",
            "that is everything",
            "es todo",
            "nada mas",
            "seria todo",
            "no thanks",
            "no thank you",
            "no gracias",
            "that should be it",
            "that should do it",
            "i am all set",
            "nothing",
            "done",
            "thats all",
            "thats it",
            "just that",
            "only that",
            "that is all i need",
            "that will do",
            "that does it",
            "we are good",
            "we are all set",
            "that is good",
            "ya es todo",
            "eso es todo",
            "thats everything",
            "that is about it",
            "that is all for now",
            "es todo",
            "solo eso",
            "eso seria todo",
            "nada",
        ]) || (self.yes_no() == Some(false) && !self.has_menu())
    }

    /// The caller wants a person.
    pub(crate) fn wants_person(&self) -> bool {
        self.has_any_plain(&[
            "agent",
            "real person",
            "a person",
            "human",
            "manager",
            "representative",
            "operator",
            "speak to someone",
            "talk to someone",
            "speak with someone",
            "talk to somebody",
            "speak to somebody",
            "live person",
            "employee",
            "persona",
            "gerente",
            "representante",
            "agente",
            "operador",
            "humano",
            "con alguien",
        ])
    }

    /// The caller wants to abandon the whole order ("never mind", "cancel the order").
    pub(crate) fn wants_cancel(&self) -> bool {
        let cancel = self.has_any(&[
            "cancel",
            "never mind",
            "nevermind",
            "forget it",
            "forget about it",
            "forget the order",
            "forget the whole",
            "cancela",
            "cancelar",
            "cancelalo",
            "olvidalo",
            "olvida",
            "ya no quiero nada",
        ]);
        cancel && !self.has_item()
    }

    /// "Sorry, what was that?": the caller did not understand the last prompt.
    pub(crate) fn wants_repeat(&self) -> bool {
        !self.has_menu()
            && self.has_any(&[
                "what was that",
                "say that again",
                "repeat",
                "come again",
                "pardon",
                "what did you say",
                "i did not catch",
                "did not hear",
                "perdon",
                "como dijo",
                "que dijo",
                "repita",
                "mande",
            ])
    }

    /// A question about the menu ("what pizzas do you have", "do you have calzones").
    pub(crate) fn menu_question(&self) -> bool {
        self.has_any(&[
            "do you have",
            "you got",
            "what are the options",
            "what options",
            "what flavors",
            "what do you guys have",
            "do you guys have",
            "you have any",
            "do you sell",
            "do you carry",
            "do you make",
            "do you do",
            "what do you have",
            "what kind",
            "what kinds",
            "what type",
            "what types",
            "what flavors",
            "what sizes",
            "what is on the menu",
            "what comes",
            "the menu",
            "your menu",
            "what are your",
            "what are the",
            "what options",
            "que tienen",
            "tienen",
            "que hay",
            "hay",
            "el menu",
            "que tipo",
            "que sabores",
            "cuales son",
        ])
    }

    /// A price question ("how much is…", "what does … cost").
    pub(crate) fn price_question(&self) -> bool {
        self.has_any(&[
            "how much",
            "what is the price",
            "what does",
            "what do",
            "price of",
            "the price",
            "cost",
            "costs",
            "cuanto",
            "cuesta",
            "cuestan",
            "precio",
            "vale",
        ]) && (self.has("how much")
            || self.has("cost")
            || self.has("costs")
            || self.has("price")
            || self.has("cuanto")
            || self.has("cuesta")
            || self.has("cuestan")
            || self.has("precio"))
    }

    /// A reference back to something just discussed: "I'll take one", "I'll take that".
    pub(crate) fn takes_it(&self) -> bool {
        !self.has_item()
            && self.has_any(&[
                "take 1",
                "take it",
                "take that",
                "take those",
                "take them",
                "have 1",
                "have that",
                "have it",
                "get 1",
                "get that",
                "get it",
                "want 1",
                "want that",
                "want it",
                "i will take",
                "add it",
                "add that",
                "add 1",
                "lo quiero",
                "la quiero",
                "quiero 1",
                "dame 1",
                "deme 1",
                "me da 1",
                "agregalo",
                "sounds good",
                "let us do",
                "let us get",
                "i will do",
                "do that",
                "do 1",
                "that 1",
                "that please",
            ])
    }

    /// Pickup or delivery, if the caller named one.
    pub(crate) fn fulfillment(&self) -> Option<kea_menu::FulfillmentKind> {
        use kea_menu::FulfillmentKind::{Delivery, Pickup};
        let delivery = self.has_any(&[
            "delivery",
            "deliver",
            "delivered",
            "domicilio",
            "entrega",
            "envio",
            "enviar",
            "bring it",
            "delivering",
        ]);
        let pickup = self.has_any(&[
            "pickup",
            "pick up",
            "pick it up",
            "picking up",
            "carry out",
            "carryout",
            "takeout",
            "take out",
            "to go",
            "recoger",
            "para llevar",
            "paso por",
            "come get",
            "collect",
        ]);
        match (pickup, delivery) {
            (true, false) => Some(Pickup),
            (false, true) => Some(Delivery),
            _ => None,
        }
    }
}

/// A 10-digit (or 1 + 10-digit) North American number in `tokens`, said as digits or digit
/// words, and the token range it spans.
fn find_phone(tokens: &[Token]) -> (Option<String>, Option<std::ops::Range<usize>>) {
    let digit_of = |t: &str| -> Option<String> {
        if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
            Some(t.to_owned())
        } else if matches!(t, "oh" | "o") {
            Some("0".to_owned())
        } else {
            None
        }
    };
    let mut i = 0;
    while i < tokens.len() {
        let mut digits = String::new();
        let mut j = i;
        while j < tokens.len() {
            match digit_of(&tokens[j].text) {
                Some(d) => digits.push_str(&d),
                None if tokens[j].text == "double" && j + 1 < tokens.len() => {
                    if let Some(d) = digit_of(&tokens[j + 1].text).filter(|d| d.len() == 1) {
                        digits.push_str(&d);
                        digits.push_str(&d);
                        j += 1;
                    } else {
                        break;
                    }
                }
                None => break,
            }
            j += 1;
        }
        if let Some(phone) = e164(&digits) {
            return (Some(phone), Some(i..j));
        }
        i = j.max(i + 1);
    }
    (None, None)
}

/// `digits` as an E.164 US number, when it is 10 digits or 1 followed by 10.
pub(crate) fn e164(digits: &str) -> Option<String> {
    match digits.len() {
        10 if !digits.starts_with(['0', '1']) => Some(format!("+1{digits}")),
        11 if digits.starts_with('1') => Some(format!("+{digits}")),
        _ => None,
    }
}

/// A phone number said or typed in `text` ("555 201 7788", "five five five…", "+1 555-201-7788").
#[must_use]
pub fn parse_phone(text: &str) -> Option<String> {
    let tokens = tokenize(text);
    let (phone, _) = find_phone(&tokens);
    phone.or_else(|| {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        e164(&digits)
    })
}

/// Words that introduce a name ("it's", "my name is", "me llamo") or surround it.
const NAME_PREFIXES: &[&str] = &[
    "my name is",
    "the names",
    "my names",
    "the name is",
    "name is",
    "names",
    "it is",
    "its",
    "this is",
    "i am",
    "im",
    "put it under",
    "put it down under",
    "under the name",
    "under",
    "call me",
    "me llamo",
    "mi nombre es",
    "el nombre es",
    "a nombre de",
    "soy",
    "es",
    "yeah",
    "yes",
    "sure",
    "si",
    "uh",
    "um",
    "okay",
    "ok",
    "oh",
    "well",
    "hi",
    "hello",
    "it",
    "for",
    "de",
    "para",
];
const NAME_STOP: &[&str] = &[
    "please", "thanks", "thank", "por", "gracias", "and", "y", "the", "from", "calling", "here",
];

/// The caller's name in an answer to "what name…?", capitalised ("it's kevin." → "Kevin").
#[must_use]
pub fn extract_name(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | '.' | '!' | '?' | ';' | ':' | '¿' | '¡')
        })
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let lower: Vec<String> = words.iter().map(|w| fold_word(w)).collect();
    let mut start = 0;
    'strip: loop {
        for prefix in NAME_PREFIXES {
            let parts: Vec<&str> = prefix.split(' ').collect();
            if lower.len() >= start + parts.len()
                && parts
                    .iter()
                    .enumerate()
                    .all(|(k, p)| lower[start + k] == *p)
                && lower.len() > start + parts.len()
            {
                start += parts.len();
                continue 'strip;
            }
        }
        break;
    }
    let mut name: Vec<String> = Vec::new();
    for (word, low) in words.iter().zip(&lower).skip(start) {
        if NAME_STOP.contains(&low.as_str()) || name.len() == 3 {
            break;
        }
        let clean: String = word
            .chars()
            .filter(|c| c.is_alphabetic() || matches!(c, '\'' | '-'))
            .collect();
        if clean.is_empty() {
            continue;
        }
        let mut chars = clean.chars();
        let capitalised: String = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        name.push(capitalised);
    }
    (!name.is_empty()).then(|| name.join(" "))
}

/// `word` lower-cased, without apostrophes or accents ("It's" → "its", "José" → "jose").
fn fold_word(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| !matches!(c, '\'' | '’'))
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

/// The delivery address in an answer to "what's the address?", without lead-in words.
#[must_use]
pub fn extract_address(text: &str) -> Option<String> {
    let mut rest = text.trim();
    let lead_ins = [
        "my address is",
        "the address is",
        "address is",
        "it's",
        "it is",
        "deliver it to",
        "deliver to",
        "send it to",
        "bring it to",
        "yeah,",
        "yes,",
        "sure,",
        "uh,",
        "um,",
        "it’s",
        "mi dirección es",
        "mi direccion es",
        "la dirección es",
        "la direccion es",
        "es",
        "a",
        "to",
        "at",
    ];
    loop {
        let lower = rest.to_lowercase();
        let Some(prefix) = lead_ins
            .iter()
            .find(|p| lower.starts_with(*p) && lower[p.len()..].starts_with([' ', ',']))
        else {
            break;
        };
        rest = rest[prefix.len()..].trim_start_matches([' ', ',']);
    }
    let rest = rest.trim().trim_end_matches(['.', '!', '?']).trim();
    (rest.chars().filter(char::is_ascii_alphanumeric).count() >= 3).then(|| rest.to_owned())
}

/// Whether an item reading of a match is at least as good as its best option reading.
pub(crate) fn item_kind(m: &Match) -> Option<(usize, MatchKind)> {
    m.targets.iter().find_map(|(t, k)| match t {
        Target::Item(i) => Some((*i, *k)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        let cases: &[(&str, Option<&str>)] = &[
            ("555 201 7788", Some("+15552017788")),
            ("You can reach me at 555 201 7788.", Some("+15552017788")),
            (
                "five five five two oh one seven seven eight eight",
                Some("+15552017788"),
            ),
            ("(555) 201-7788", Some("+15552017788")),
            ("+1 555 201 7788", Some("+15552017788")),
            ("1 555 201 7788", Some("+15552017788")),
            (
                "cinco cinco cinco dos cero uno siete siete ocho ocho",
                Some("+15552017788"),
            ),
            ("two large pizzas", None),
            ("555 1234", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_phone(text).as_deref(), *want, "{text}");
        }
    }

    #[test]
    fn names() {
        let cases: &[(&str, Option<&str>)] = &[
            ("It's Kevin.", Some("Kevin")),
            ("My name is Priya Patel.", Some("Priya Patel")),
            ("Lupita.", Some("Lupita")),
            ("Me llamo José.", Some("José")),
            ("Yeah, it's Tom, thanks", Some("Tom")),
            ("This is Ana", Some("Ana")),
            ("Es", Some("Es")),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(extract_name(text).as_deref(), *want, "{text}");
        }
    }

    #[test]
    fn addresses() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "42 Elm Street, apartment 3B.",
                Some("42 Elm Street, apartment 3B"),
            ),
            ("It's 9 Oak Avenue", Some("9 Oak Avenue")),
            ("Deliver it to 100 Main St.", Some("100 Main St")),
            (
                "Mi dirección es Calle 5 número 20",
                Some("Calle 5 número 20"),
            ),
            ("uh", None),
        ];
        for (text, want) in cases {
            assert_eq!(extract_address(text).as_deref(), *want, "{text}");
        }
    }
}

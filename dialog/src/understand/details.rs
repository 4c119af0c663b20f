//! What callers say that is not menu words: phone numbers, names and delivery addresses, as
//! answers to their questions or said in passing ("hi, this is Maria, for delivery to 42 Elm
//! Street").
//!
//! Names and addresses are read from the raw transcript (capitals and punctuation help), not
//! from the tokens the menu matcher sees, and what is found is then hidden from the matcher so
//! that "42 Elm Street" is neither a quantity nor an item.

use std::ops::Range;

use kea_menu::matcher::{MatchKind, Target, Token, tokenize};

/// A 10-digit (or 1 + 10-digit) North American number in `tokens`, said as digits or digit
/// words, and the token range it spans.
pub(super) fn find_phone(tokens: &[Token]) -> (Option<String>, Option<std::ops::Range<usize>>) {
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
    "mi nombre",
    "el nombre es",
    "a nombre de",
    "al nombre de",
    "bajo el nombre de",
    "soy",
    "claro",
    "bueno",
    "pues",
    "mire",
    "so",
    "ah",
    "eh",
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
/// Lower-case words inside a name ("María de la Cruz", "Ludwig van Beethoven").
const NAME_PARTICLES: &[&str] = &[
    "de", "del", "la", "las", "los", "da", "van", "von", "di", "du",
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
            let word = |k: usize| Some(lower[k].as_str());
            if let Some(n) = crate::phrase::at(lower.len(), start, prefix, word)
                && lower.len() > start + n
            {
                start += n;
                continue 'strip;
            }
        }
        break;
    }
    let mut name: Vec<String> = Vec::new();
    let mut count = 0;
    for (k, (word, low)) in words.iter().zip(&lower).enumerate().skip(start) {
        if NAME_STOP.contains(&low.as_str()) || count == 3 {
            break;
        }
        if !name.is_empty() && NAME_PARTICLES.contains(&low.as_str()) {
            // A particle stays lower-case, and only inside a name: "María de la Cruz".
            let more = lower[k + 1..]
                .iter()
                .find(|w| !NAME_PARTICLES.contains(&w.as_str()))
                .is_some_and(|w| !NAME_STOP.contains(&w.as_str()));
            if !more {
                break;
            }
            name.push(word.to_lowercase());
            continue;
        }
        count += 1;
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
    // "42 Elm Street, apartment 3B, and…": no trailing connectors or courtesies.
    let mut rest = rest.trim();
    loop {
        rest = rest.trim_end_matches(['.', '!', '?', ',', ';', ' ']);
        let cut = [
            "and",
            "y",
            "please",
            "thanks",
            "thank you",
            "por favor",
            "gracias",
        ]
        .iter()
        .find_map(|tail| {
            let at = rest.len().checked_sub(tail.len())?;
            (rest.is_char_boundary(at)
                && rest[at..].eq_ignore_ascii_case(tail)
                && rest[..at].ends_with([' ', ',']))
            .then_some(at)
        });
        let Some(at) = cut else {
            break;
        };
        rest = &rest[..at];
    }
    (rest.chars().filter(char::is_ascii_alphanumeric).count() >= 3).then(|| rest.to_owned())
}

/// A word of the raw transcript, with where it sits and how it ends.
struct RawWord<'t> {
    /// The word as said, without the punctuation around it ("Maria", "3B", "I'd").
    core: &'t str,
    /// Byte range of `core` in the transcript.
    range: Range<usize>,
    /// `core` folded by [`fold_word`] ("María" → "maria", "I'd" → "id").
    fold: String,
    /// Punctuation after the word ends a phrase ("Maria, I'd like…").
    pause: bool,
    /// Punctuation after the word ends a sentence.
    full_stop: bool,
}

/// The transcript's words with their byte ranges; a lone dash counts as a pause.
fn raw_words(text: &str) -> Vec<RawWord<'_>> {
    let mut out: Vec<RawWord<'_>> = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                start = None;
                let word = &text[s..i];
                let keep = |c: char| c.is_alphanumeric();
                let Some(first) = word.find(keep) else {
                    // "—", "-", "…": a pause after the previous word.
                    if let Some(last) = out.last_mut() {
                        last.pause = true;
                        last.full_stop |= word.contains(['.', '!', '?']);
                    }
                    continue;
                };
                let end = word
                    .char_indices()
                    .rev()
                    .find(|(_, c)| keep(*c))
                    .map_or(word.len(), |(k, c)| k + c.len_utf8());
                let core = &word[first..end];
                let tail = &word[end..];
                out.push(RawWord {
                    core,
                    range: s + first..s + end,
                    fold: fold_word(core),
                    pause: tail.contains([',', ';', ':', '.', '!', '?']),
                    full_stop: tail.contains(['.', '!', '?']),
                });
            }
            _ => {}
        }
    }
    out
}

/// Lead-ins of a name said without being asked. `true`: the words alone say a name follows
/// ("my name is maria"); `false`: only a capitalised word that is not a common or menu word is
/// taken for a name ("this is Maria", not "this is for pickup").
const NAME_LEADS: &[(&str, bool)] = &[
    ("under the name of", true),
    ("under the name", true),
    ("put it down under", true),
    ("put the order under", true),
    ("put it under", true),
    ("put that under", true),
    ("my name is", true),
    ("the name is", true),
    ("my names", true),
    ("the names", true),
    ("name is", true),
    ("bajo el nombre de", true),
    ("mi nombre es", true),
    ("el nombre es", true),
    ("a nombre de", true),
    ("al nombre de", true),
    ("me llamo", true),
    ("le habla", false),
    ("this is", false),
    ("it is", false),
    ("its", false),
    ("i am", false),
    ("im", false),
    ("under", false),
    ("soy", false),
    ("habla", false),
];

/// Lead-ins of an address said without being asked. `true`: whatever follows is the address
/// ("my address is …"); `false`: it must look like one (a house number or a street word).
const ADDRESS_LEADS: &[(&str, bool)] = &[
    ("my address is", true),
    ("the address is", true),
    ("address is", true),
    ("my address", true),
    ("mi direccion es", true),
    ("la direccion es", true),
    ("direccion es", true),
    ("mi direccion", true),
    ("deliver it to", false),
    ("deliver that to", false),
    ("deliver them to", false),
    ("deliver this to", false),
    ("deliver to", false),
    ("delivered to", false),
    ("delivery to", false),
    ("bring it over to", false),
    ("bring it to", false),
    ("send it to", false),
    ("entrega a", false),
    ("entrega en", false),
    ("entregar a", false),
    ("entregar en", false),
    ("entreguen a", false),
    ("entreguen en", false),
    ("domicilio a", false),
    ("domicilio en", false),
    ("envio a", false),
    ("enviar a", false),
    ("envien a", false),
];

/// Words that may follow a name said after a weak lead-in, in a transcript without capitals.
const AFTER_A_NAME: &[&str] = &[
    "and", "for", "please", "thanks", "thank", "here", "calling", "speaking", "again", "from",
    "with", "i", "im", "id", "ill", "i'd", "i'll", "i'm", "my", "phone", "number", "on", "at", "y",
    "para", "por", "gracias", "de", "aqui", "hablando", "mi", "con",
];

/// Words that are not names ("this is for pickup", "I'm calling", "soy de aquí"), folded.
const NOT_NAMES: &[&str] = &[
    "a",
    "about",
    "actually",
    "again",
    "all",
    "also",
    "an",
    "and",
    "any",
    "are",
    "at",
    "back",
    "be",
    "but",
    "call",
    "calling",
    "can",
    "could",
    "deliver",
    "delivery",
    "do",
    "done",
    "fine",
    "for",
    "from",
    "get",
    "going",
    "gonna",
    "good",
    "great",
    "have",
    "hello",
    "here",
    "hey",
    "hi",
    "how",
    "hungry",
    "i",
    "id",
    "ill",
    "im",
    "in",
    "is",
    "it",
    "its",
    "just",
    "like",
    "looking",
    "me",
    "my",
    "name",
    "need",
    "new",
    "no",
    "not",
    "number",
    "of",
    "ok",
    "okay",
    "on",
    "one",
    "or",
    "order",
    "ordering",
    "over",
    "phone",
    "pick",
    "pickup",
    "please",
    "ready",
    "really",
    "set",
    "so",
    "sorry",
    "still",
    "sure",
    "take",
    "thank",
    "thanks",
    "that",
    "the",
    "there",
    "this",
    "to",
    "trying",
    "under",
    "up",
    "uh",
    "um",
    "want",
    "wanted",
    "we",
    "well",
    "what",
    "will",
    "with",
    "wondering",
    "would",
    "yeah",
    "yes",
    "you",
    "your",
    "address",
    "everything",
    "correct",
    "right",
    "wrong",
    "perfect",
    "starving",
    "interested",
    "curious",
    "allergic",
    "vegetarian",
    "vegan",
    "outside",
    "nearby",
    "close",
    "way",
    "coming",
    "driving",
    "picking",
    "home",
    "work",
    "still",
    "available",
    "open",
    "closed",
    "speaking",
    "glad",
    "happy",
    "al",
    "alergico",
    "alergica",
    "aqui",
    "bien",
    "bueno",
    "buenas",
    "buenos",
    "cliente",
    "como",
    "con",
    "de",
    "del",
    "domicilio",
    "el",
    "en",
    "entrega",
    "es",
    "eso",
    "esta",
    "este",
    "gracias",
    "hola",
    "la",
    "las",
    "le",
    "llamando",
    "lo",
    "los",
    "mas",
    "mi",
    "muy",
    "nada",
    "nombre",
    "nuevo",
    "nueva",
    "orden",
    "ordenar",
    "otra",
    "para",
    "pedir",
    "por",
    "favor",
    "pues",
    "que",
    "quiero",
    "quisiera",
    "recoger",
    "si",
    "sin",
    "su",
    "tambien",
    "todo",
    "un",
    "una",
    "uno",
    "usted",
    "vez",
    "y",
    "yo",
];

/// Words after which an address has ended ("… 3B and my number is …"), folded.
const ADDRESS_STOP: &[&str] = &[
    "and", "y", "please", "por", "gracias", "thanks", "thank", "my", "mi", "under", "for", "para",
    "i", "id", "ill", "im", "can", "could", "would", "also", "tambien", "with", "con", "it", "its",
    "this", "quiero", "quisiera", "then", "ok", "okay", "pickup", "recoger",
];

/// Street words that make a phrase an address without a house number.
const STREET_WORDS: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "av",
    "road",
    "rd",
    "lane",
    "ln",
    "drive",
    "dr",
    "boulevard",
    "blvd",
    "way",
    "court",
    "ct",
    "place",
    "pl",
    "circle",
    "parkway",
    "highway",
    "hwy",
    "apartment",
    "apt",
    "suite",
    "unit",
    "calle",
    "avenida",
    "camino",
    "colonia",
    "departamento",
    "depto",
    "numero",
];

/// Abbreviations whose period does not end an address ("100 Main St. Apt 4").
const ABBREVIATIONS: &[&str] = &[
    "st", "ave", "av", "apt", "dr", "rd", "blvd", "ln", "ct", "pl", "no", "n", "s", "e", "w",
    "ste", "hwy", "pkwy", "mt", "ft", "jr", "sr", "depto", "col",
];

/// A name, an address or both, said before the dialog asked for them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Volunteered {
    /// The name, capitalised as said, accents kept ("María José").
    pub name: Option<String>,
    /// The delivery address, as said.
    pub address: Option<String>,
    /// Byte offset where the name's lead-in starts ("my name is…").
    pub name_at: Option<usize>,
    /// The lead-in leaves no doubt that a name follows ("my name is", "me llamo").
    pub name_certain: bool,
    /// Byte offset where the address's lead-in starts ("deliver to…").
    pub address_at: Option<usize>,
    /// Byte ranges of the name and the address, kept away from the menu matcher so that
    /// "42 Elm Street" is not a quantity and an item, nor "Olive" a topping.
    pub hidden: Vec<Range<usize>>,
    /// A time of day the order is wanted for ("for 6:30", "a las siete").
    pub time: Option<SaidTime>,
}

/// A time of day as the caller said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SaidTime {
    /// 0–23 (1–12 when said with or without AM/PM).
    pub hour: u32,
    pub minute: u32,
    /// `Some(true)` for PM ("pm", "tonight", "de la tarde"), `Some(false)` for AM.
    pub pm: Option<bool>,
}

/// What introduces a time, and whether a bare hour after it is a time ("at 7"); after "for" only
/// minutes or AM/PM make one ("for 6:30", "for 7 pm"), since "for 2" is two of something.
const TIME_LEADS: &[(&[&str], bool)] = &[
    (&["at"], true),
    (&["by"], true),
    (&["around"], true),
    (&["for"], false),
    (&["para", "las"], true),
    (&["para", "la"], true),
    (&["a", "las"], true),
    (&["a", "la"], true),
];

/// A time said from word `i` on: the word after it and the time.
fn time_at(words: &[RawWord<'_>], i: usize) -> Option<(usize, SaidTime)> {
    for (lead, bare_ok) in TIME_LEADS {
        let n = lead.len();
        if i + n > words.len()
            || !lead
                .iter()
                .enumerate()
                .all(|(k, w)| words[i + k].fold == *w)
        {
            continue;
        }
        let Some((mut end, hour, minute, minutes_said, mut pm)) = clock_at(words, i + n) else {
            continue;
        };
        let next = |k: usize| words.get(k).map(|w| w.fold.as_str());
        match (next(end), next(end + 1), next(end + 2)) {
            (Some("pm" | "p.m" | "tonight"), ..) => (pm, end) = (Some(true), end + 1),
            (Some("am" | "a.m"), ..) => (pm, end) = (Some(false), end + 1),
            (Some("p"), Some("m"), _) => (pm, end) = (Some(true), end + 2),
            (Some("a"), Some("m"), _) => (pm, end) = (Some(false), end + 2),
            (Some("this" | "in"), Some("evening" | "afternoon"), _) => {
                (pm, end) = (Some(true), end + 2)
            }
            (Some("de"), Some("la"), Some("tarde" | "noche")) => (pm, end) = (Some(true), end + 3),
            (Some("de"), Some("la"), Some("manana")) => (pm, end) = (Some(false), end + 3),
            (Some("oclock"), ..) => end += 1,
            _ => {}
        }
        if minutes_said || pm.is_some() || *bare_ok {
            return Some((end, SaidTime { hour, minute, pm }));
        }
    }
    None
}

/// "6:30", "6:30pm", "7pm", "six thirty", "seis y media", "7": the word after it, hour, minute,
/// whether minutes were said, and AM/PM when glued on.
fn clock_at(words: &[RawWord<'_>], j: usize) -> Option<(usize, u32, u32, bool, Option<bool>)> {
    let w = words.get(j)?;
    let core = w.core.to_lowercase();
    let (digits, pm) = match core.strip_suffix("pm") {
        Some(d) => (d.to_owned(), Some(true)),
        None => match core.strip_suffix("am") {
            Some(d) if !d.is_empty() => (d.to_owned(), Some(false)),
            _ => (core.clone(), None),
        },
    };
    if let Some((h, m)) = digits.split_once(':') {
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        return (h < 24 && m < 60).then_some((j + 1, h, m, true, pm));
    }
    let hour = kea_menu::matcher::number_value(&digits).filter(|h| (1..24).contains(h))?;
    if pm.is_some() {
        return Some((j + 1, hour, 0, false, pm));
    }
    let value = |k: usize| {
        words
            .get(k)
            .and_then(|w| kea_menu::matcher::number_value(&w.fold))
    };
    match (words.get(j + 1).map(|w| w.fold.as_str()), value(j + 1)) {
        (Some("y"), _) => match words.get(j + 2).map(|w| w.fold.as_str()) {
            Some("media") => Some((j + 3, hour, 30, true, None)),
            Some("cuarto") => Some((j + 3, hour, 15, true, None)),
            _ => value(j + 2)
                .filter(|m| *m < 60)
                .map(|m| (j + 3, hour, m, true, None)),
        },
        // "six thirty", "seven forty five"
        (_, Some(tens)) if (10..60).contains(&tens) => match value(j + 2) {
            Some(ones) if tens % 10 == 0 && ones < 10 => {
                Some((j + 3, hour, tens + ones, true, None))
            }
            _ => Some((j + 2, hour, tens, true, None)),
        },
        _ => Some((j + 1, hour, 0, false, None)),
    }
}

impl Volunteered {
    /// Finds a name and a delivery address in `text`. `matcher` rules out menu words as names,
    /// and `store` the store's own name ("this is Tony's?").
    pub(crate) fn find(text: &str, matcher: &kea_menu::matcher::MenuMatcher, store: &str) -> Self {
        let mut out = Volunteered::default();
        let words = raw_words(text);
        let store_words: Vec<String> = store.split_whitespace().map(fold_word).collect();
        // A recogniser that writes no capitals at all: capitals cannot mark names.
        let lowercase = !text.chars().any(char::is_uppercase);
        let mut i = 0;
        while i < words.len() {
            if out.time.is_none()
                && let Some((end, time)) = time_at(&words, i)
            {
                out.time = Some(time);
                out.hidden
                    .push(words[i].range.start..words[end - 1].range.end);
                i = end;
                continue;
            }
            if out.address.is_none()
                && let Some((len, strong)) = lead_at(&words, i, ADDRESS_LEADS)
                && let Some((end, address)) = address_after(text, &words, i + len, strong)
            {
                out.address_at = Some(words[i].range.start);
                out.hidden
                    .push(words[i + len].range.start..words[end - 1].range.end);
                out.address = Some(address);
                i = end;
                continue;
            }
            if out.name.is_none()
                && let Some((len, strong)) = lead_at(&words, i, NAME_LEADS)
                && let Some((end, name)) =
                    name_after(&words, i + len, (strong, lowercase), matcher, &store_words)
            {
                out.name_at = Some(words[i].range.start);
                out.name_certain = strong;
                out.hidden
                    .push(words[i + len].range.start..words[end - 1].range.end);
                out.name = Some(name);
                i = end;
                continue;
            }
            i += 1;
        }
        out
    }

    /// `text` with the name and address blanked out, for the menu matcher.
    pub(crate) fn menu_text<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        if self.hidden.is_empty() {
            return std::borrow::Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut hidden = self.hidden.clone();
        hidden.sort_by_key(|r| r.start);
        for r in hidden {
            if r.start >= at && r.end <= text.len() {
                out.push_str(&text[at..r.start]);
                out.push_str(" , ");
                at = r.end;
            }
        }
        out.push_str(&text[at..]);
        std::borrow::Cow::Owned(out)
    }
}

/// The longest lead-in of `leads` starting at word `i`: its length in words and strength.
fn lead_at(words: &[RawWord], i: usize, leads: &[(&str, bool)]) -> Option<(usize, bool)> {
    // A lead-in does not run over a sentence end ("… for delivery. To 42 …" is fine).
    let word = |j: usize| (j == i || !words[j - 1].full_stop).then(|| words[j].fold.as_str());
    leads.iter().find_map(|(lead, strong)| {
        crate::phrase::at(words.len(), i, lead, word).map(|len| (len, *strong))
    })
}

/// The name starting at word `j`, and the index after its last word. After a weak lead-in the
/// first word must be capitalised, unless the transcript has no capitals at all (`lowercase`).
fn name_after(
    words: &[RawWord],
    j: usize,
    (strong, lowercase): (bool, bool),
    matcher: &kea_menu::matcher::MenuMatcher,
    store_words: &[String],
) -> Option<(usize, String)> {
    let capitalised = |w: &RawWord| w.core.chars().next().is_some_and(char::is_uppercase);
    let first_capitalised = capitalised(words.get(j)?);
    if !strong && !lowercase && !first_capitalised {
        return None;
    }
    let mut name: Vec<String> = Vec::new();
    let mut count = 0;
    let mut k = j;
    while k < words.len() && count < 3 {
        let w = &words[k];
        if !name.is_empty()
            && !words[k - 1].pause
            && NAME_PARTICLES.contains(&w.fold.as_str())
            && words[k + 1..]
                .iter()
                .find(|n| !NAME_PARTICLES.contains(&n.fold.as_str()))
                .is_some_and(|n| {
                    (!first_capitalised || capitalised(n)) && !NOT_NAMES.contains(&n.fold.as_str())
                })
        {
            // "me llamo María de la Cruz".
            name.push(w.core.to_lowercase());
            k += 1;
            continue;
        }
        count += 1;
        let w = &words[k];
        let name_like = w.fold.chars().count() >= 2
            && w.core
                .chars()
                .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-'))
            && !NOT_NAMES.contains(&w.fold.as_str())
            && !store_words.contains(&w.fold)
            && (name.is_empty() || !first_capitalised || capitalised(w))
            && !is_menu_word(w.core, matcher, strong);
        if !name_like {
            break;
        }
        let mut chars = w.core.chars();
        name.push(
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default(),
        );
        k += 1;
        if w.pause {
            break;
        }
    }
    while name
        .last()
        .is_some_and(|w| NAME_PARTICLES.contains(&fold_word(w).as_str()))
    {
        name.pop();
    }
    // Without capitals to go by, a weak lead-in's name must end its phrase ("it's Dana, and…",
    // "it's Dana for pickup"): "it's important you leave off…", "I am wanting to order…" name
    // nobody.
    if !strong
        && lowercase
        && k < words.len()
        && !words[k - 1].pause
        && !words[k - 1].full_stop
        && !AFTER_A_NAME.contains(&words[k].fold.as_str())
    {
        return None;
    }
    (!name.is_empty()).then(|| (k, name.join(" ")))
}

/// Whether `word` names something on the menu exactly: an item or category ("pepperoni"), or
/// unless `items_only` also an option or a size ("olive", "large").
fn is_menu_word(word: &str, matcher: &kea_menu::matcher::MenuMatcher, items_only: bool) -> bool {
    let tokens = tokenize(word);
    !tokens.is_empty()
        && matcher.find(&tokens).iter().any(|m| {
            m.targets.iter().any(|(t, kind)| {
                *kind != MatchKind::Fuzzy
                    && (!items_only || matches!(t, Target::Item(_) | Target::Category(_)))
            })
        })
}

/// The address starting at word `j`, and the index after its last word.
fn address_after(text: &str, words: &[RawWord], j: usize, strong: bool) -> Option<(usize, String)> {
    let mut k = j;
    while k < words.len() && k - j < 14 {
        let w = &words[k];
        if k > j
            && (ADDRESS_STOP.contains(&w.fold.as_str())
                || lead_at(words, k, NAME_LEADS).is_some_and(|(_, strong)| strong)
                || phone_digits_from(words, k) >= 7)
        {
            break;
        }
        k += 1;
        if w.full_stop && !ABBREVIATIONS.contains(&w.fold.as_str()) {
            break;
        }
    }
    let body = words.get(j..k)?;
    let numbered = body
        .iter()
        .any(|w| w.fold.starts_with(|c: char| c.is_ascii_digit()))
        && body.iter().any(|w| w.fold.chars().any(char::is_alphabetic));
    let street = body.len() >= 2 && body.iter().any(|w| STREET_WORDS.contains(&w.fold.as_str()));
    let first = body.first()?;
    let last = body.last()?;
    let address = &text[first.range.start..last.range.end];
    let enough = address.chars().filter(char::is_ascii_alphanumeric).count() >= 3;
    (enough && (strong || numbered || street)).then(|| (k, address.to_owned()))
}

/// How many digits the run of all-digit words from word `k` holds (a phone number, not a
/// house number, when it is 7 or more).
fn phone_digits_from(words: &[RawWord], k: usize) -> usize {
    words[k..]
        .iter()
        .take_while(|w| !w.fold.is_empty() && w.fold.chars().all(|c| c.is_ascii_digit()))
        .map(|w| w.fold.len())
        .sum()
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
            ("Sí, claro, Lupita Hernández", Some("Lupita Hernández")),
            ("me llamo maría josé", Some("María José")),
            ("María de la Cruz.", Some("María de la Cruz")),
            ("A nombre de Ángel, por favor", Some("Ángel")),
            ("Bueno, es para Begoña", Some("Begoña")),
            ("Mi nombre es Sofía", Some("Sofía")),
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
            (
                "42 Elm Street, apartment 3B, and",
                Some("42 Elm Street, apartment 3B"),
            ),
            ("9 Oak Avenue, please.", Some("9 Oak Avenue")),
            ("Calle 5 número 20, por favor", Some("Calle 5 número 20")),
        ];
        for (text, want) in cases {
            assert_eq!(extract_address(text).as_deref(), *want, "{text}");
        }
    }
}

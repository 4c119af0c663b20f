//! Speech-recognition slips in entity words: what a recogniser makes of menu names it does not
//! know. The model must tag "pepper only pizza" as the item it is, so the training data has to
//! contain such words with their labels.

use rand::Rng;
use rand::rngs::StdRng;

/// Words recognisers turn into other words (each direction listed where both happen).
const HOMOPHONES: &[(&str, &str)] = &[
    ("roll", "role"),
    ("rolls", "roles"),
    ("mein", "main"),
    ("thai", "tie"),
    ("chai", "chi"),
    ("tso's", "so's"),
    ("wrap", "rap"),
    ("wraps", "raps"),
    ("steak", "stake"),
    ("flour", "flower"),
    ("mousse", "moose"),
    ("caesar", "seizure"),
    ("pepperoni", "pepper only"),
    ("jalapenos", "halapenos"),
    ("jalapeños", "holla penos"),
    ("jalapeno", "halapeno"),
    ("quesadilla", "case a dia"),
    ("quesadillas", "kesadias"),
    ("latte", "lotte"),
    ("mocha", "mocka"),
    ("cappuccino", "cap a chino"),
    ("croissant", "crescent"),
    ("bagel", "bagle"),
    ("horchata", "or chata"),
    ("carnitas", "car neat us"),
    ("guacamole", "guac a molly"),
    ("wonton", "won ton"),
    ("rangoon", "rang goon"),
    ("kung", "kong"),
    ("pao", "pow"),
    ("mild", "mile"),
    ("mushrooms", "mush rooms"),
    ("fries", "freeze"),
    ("sprite", "spright"),
    ("burrito", "bureto"),
    ("nachos", "notches"),
    ("asada", "a sada"),
    ("pollo", "poyo"),
    ("chorizo", "cherizo"),
    ("cilantro", "silantro"),
    ("gyro", "hero"),
    ("pho", "fuh"),
    ("naan", "non"),
    ("hummus", "humus"),
    ("cheddar", "chedder"),
    ("mozzarella", "mozzarela"),
    ("parmesan", "parmesean"),
    ("bbq", "barbecue"),
    ("barbecue", "bbq"),
    ("donut", "doughnut"),
    ("chili", "chilly"),
    ("hazelnut", "hazel nut"),
    ("espresso", "expresso"),
    ("macchiato", "mock yacht oh"),
    ("broccoli", "brockley"),
    ("teriyaki", "terry yaki"),
    ("lo", "low"),
    ("knots", "nots"),
    ("wings", "wins"),
    ("cajun", "cage in"),
    ("margherita", "margarita"),
    ("hawaiian", "hawaii in"),
    ("americano", "american oh"),
    ("cola", "cole a"),
    ("sour", "sower"),
    ("potstickers", "pot stickers"),
    ("eggroll", "egg role"),
    ("dumplings", "dump links"),
    ("pastor", "pastore"),
    ("tamarind", "tamarin"),
    ("horchatas", "or chatas"),
    ("tacos", "talkos"),
    ("coke", "coat"),
    ("gluten", "glue ten"),
    ("pickles", "nickels"),
    ("mayo", "mayo's"),
    ("ranch", "range"),
    ("olives", "all of"),
    ("meat", "meet"),
    ("lovers", "lover's"),
    ("skim", "scheme"),
    ("oat", "oath"),
    ("chip", "ship"),
    ("veggie", "vegie"),
];

/// Short words a long word may be heard as starting with ("cheeseburger" → "cheese burger").
const PARTS: &[&str] = &[
    "cheese", "burger", "pepper", "straw", "berry", "blue", "pine", "apple", "water", "melon",
    "butter", "milk", "shake", "pan", "cake", "cup", "hot", "dog", "egg", "roll", "pot", "mush",
    "meat", "ball", "pop", "corn", "sun", "sand", "ham", "fish", "chick", "rasp", "black", "cran",
    "grape", "lemon", "orange", "lime", "ice", "tea", "house", "garlic", "bread", "stick",
    "spring", "chip", "cookie", "dough", "hazel", "wheat", "honey", "onion", "french", "pork",
    "ginger", "bean", "sweet", "potato", "tater", "sauce", "jack", "car", "cap", "pea", "chai",
    "mac", "moz", "pep", "jala", "guac", "quesa", "horch", "break", "fast", "club", "tur", "key",
    "chow", "lo", "won", "pot", "sticker", "dump", "ling",
];

/// A slip of the recogniser on `text`, or `None` when none applies. Only one slip per call:
/// heavier damage would leave nothing the menu could be matched against.
pub(crate) fn slip(rng: &mut StdRng, text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    // Try the kinds of slip in a random order, so each happens when it can.
    let mut kinds = [0u8, 1, 2, 3, 4, 5];
    for i in (1..kinds.len()).rev() {
        kinds.swap(i, rng.random_range(0..=i));
    }
    for kind in kinds {
        let slipped = match kind {
            0 => homophone(rng, &words),
            1 => merge(rng, &words),
            2 => split(rng, &words),
            3 => drop_plural(&words),
            4 => respell(rng, &words),
            _ => drop_accents(&lower),
        };
        if let Some(slipped) = slipped
            && slipped != lower
            && !slipped.trim().is_empty()
        {
            return Some(slipped.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    None
}

fn homophone(rng: &mut StdRng, words: &[&str]) -> Option<String> {
    let hits: Vec<(usize, &str)> = words
        .iter()
        .enumerate()
        .filter_map(|(at, word)| {
            HOMOPHONES
                .iter()
                .find(|(said, _)| said == word)
                .map(|(_, heard)| (at, *heard))
        })
        .collect();
    if hits.is_empty() {
        return None;
    }
    let (at, heard) = hits[rng.random_range(0..hits.len())];
    Some(replace_word(words, at, heard))
}

/// Two words run together: "egg roll" → "eggroll".
fn merge(rng: &mut StdRng, words: &[&str]) -> Option<String> {
    if words.len() < 2 {
        return None;
    }
    let at = rng.random_range(0..words.len() - 1);
    let (a, b) = (words[at], words[at + 1]);
    if !a.chars().all(char::is_alphabetic) || !b.chars().all(char::is_alphabetic) {
        return None;
    }
    let mut out: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    out[at] = format!("{a}{b}");
    out.remove(at + 1);
    Some(out.join(" "))
}

/// A long word heard as two: at a known part ("cheese burger") or else at a syllable edge in its
/// middle ("quesa dilla").
fn split(rng: &mut StdRng, words: &[&str]) -> Option<String> {
    let long: Vec<usize> = (0..words.len())
        .filter(|&at| words[at].chars().count() >= 7 && words[at].chars().all(char::is_alphabetic))
        .collect();
    if long.is_empty() {
        return None;
    }
    let at = long[rng.random_range(0..long.len())];
    let word: Vec<char> = words[at].chars().collect();
    let known = (3..word.len() - 2).find(|&cut| {
        let left: String = word[..cut].iter().collect();
        PARTS.contains(&left.as_str())
    });
    let cut = known.or_else(|| {
        let middle = word.len() / 2;
        (2..word.len() - 2)
            .filter(|&cut| is_vowel(word[cut - 1]) && !is_vowel(word[cut]))
            .min_by_key(|&cut| cut.abs_diff(middle))
    })?;
    let left: String = word[..cut].iter().collect();
    let right: String = word[cut..].iter().collect();
    Some(replace_word(words, at, &format!("{left} {right}")))
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'á' | 'é' | 'í' | 'ó' | 'ú')
}

/// "two pizzas" heard as "two pizza".
fn drop_plural(words: &[&str]) -> Option<String> {
    let at = words.len() - 1;
    let last = words[at];
    if last.chars().count() > 3 && last.ends_with('s') && !last.ends_with("ss") {
        return Some(replace_word(words, at, &last[..last.len() - 1]));
    }
    None
}

/// Spelled as it sounds: doubled letters single, "ph" as "f", "que" as "ke", "ll" as "y"...
fn respell(rng: &mut StdRng, words: &[&str]) -> Option<String> {
    const RULES: &[(&str, &str)] = &[
        ("ph", "f"),
        ("ck", "k"),
        ("que", "ke"),
        ("qu", "kw"),
        ("ll", "y"),
        ("zz", "z"),
        ("pp", "p"),
        ("cc", "c"),
        ("tt", "t"),
        ("ss", "s"),
        ("rr", "r"),
        ("ñ", "n"),
        ("ie", "ee"),
        ("ea", "ee"),
        ("ai", "ay"),
        ("x", "ks"),
        ("ch", "sh"),
        ("tion", "shun"),
        ("ough", "o"),
    ];
    let joined = words.join(" ");
    let applicable: Vec<&(&str, &str)> = RULES
        .iter()
        .filter(|(from, _)| joined.contains(from))
        .collect();
    if applicable.is_empty() {
        return None;
    }
    let (from, to) = applicable[rng.random_range(0..applicable.len())];
    Some(joined.replacen(from, to, 1))
}

fn drop_accents(text: &str) -> Option<String> {
    let plain: String = text
        .chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            other => other,
        })
        .collect();
    (plain != text).then_some(plain)
}

fn replace_word(words: &[&str], at: usize, with: &str) -> String {
    words
        .iter()
        .enumerate()
        .map(|(i, word)| if i == at { with } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn slips_change_the_words_but_keep_something() {
        let mut rng = StdRng::seed_from_u64(7);
        for text in [
            "Pepperoni Pizza",
            "egg roll",
            "cheeseburger",
            "quesadillas",
            "jalapeños",
            "General Tso's Chicken",
        ] {
            for _ in 0..50 {
                let Some(slipped) = slip(&mut rng, text) else {
                    panic!("no slip for {text}");
                };
                assert_ne!(slipped, text.to_lowercase());
                assert_eq!(slipped.trim(), slipped);
                assert!(!slipped.contains("  "), "{slipped:?}");
            }
        }
    }

    #[test]
    fn each_kind_of_slip() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            split(&mut rng, &["cheeseburger"]).as_deref(),
            Some("cheese burger")
        );
        assert_eq!(
            merge(&mut rng, &["egg", "roll"]).as_deref(),
            Some("eggroll")
        );
        assert_eq!(
            drop_plural(&["two", "pizzas"]).as_deref(),
            Some("two pizza")
        );
        assert_eq!(drop_plural(&["glass"]), None);
        assert_eq!(
            homophone(&mut rng, &["pepperoni", "pizza"]).as_deref(),
            Some("pepper only pizza")
        );
        assert_eq!(drop_accents("jalapeños").as_deref(), Some("jalapenos"));
        assert_eq!(slip(&mut rng, "7"), None);
    }
}

//! The grammar the engine's sentences are built from, in English and Spanish: money, lists,
//! number words, sizes, and how order lines are described with the agreement Spanish needs.
//!
//! The sentences themselves live in [`crate::prompts`]; this module turns menu data into the
//! phrases they are made of, so a change to how a line is described applies to every sentence
//! at once. Money is said as dollars and cents (`$20.65`), item names as the menu spells them,
//! quantities as words.

use kea_menu::{Item, Menu};

use crate::Language;
use crate::order::Draft;

/// `cents` as `$12.34`.
pub(crate) fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}${}.{:02}", cents / 100, cents % 100)
}

/// "a, b and c" / "a, b y c".
pub(crate) fn list(lang: Language, items: &[String], or: bool) -> String {
    let joiner = match (lang, or) {
        (Language::En, false) => " and ",
        (Language::En, true) => " or ",
        (Language::Es, false) => " y ",
        (Language::Es, true) => " o ",
    };
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{}{joiner}{last}", rest.join(", ")),
    }
}

fn count_word(lang: Language, n: u32, next: &str) -> String {
    const EN: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    const ES: [&str; 13] = [
        "cero", "un", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez",
        "once", "doce",
    ];
    match (lang, n) {
        (Language::En, 1) => {
            if next.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
                "an".to_owned()
            } else {
                "a".to_owned()
            }
        }
        (Language::En, n) if n <= 12 => EN[n as usize].to_owned(),
        // "un Burrito", "una Horchata": the gender is guessed from the name.
        (Language::Es, 1) => {
            if spanish_noun(next).feminine {
                "una".to_owned()
            } else {
                "un".to_owned()
            }
        }
        (Language::Es, n) if n <= 12 => ES[n as usize].to_owned(),
        (_, n) => n.to_string(),
    }
}

/// A size as the caller hears it ("large" / "grande").
pub(crate) fn size_word(lang: Language, size: &str) -> String {
    if lang == Language::Es {
        match size.to_lowercase().as_str() {
            "small" => return "chico".into(),
            "medium" => return "mediano".into(),
            "large" => return "grande".into(),
            _ => {}
        }
    }
    size.to_owned()
}

/// How a menu name behaves as a Spanish noun: its gender (for "un"/"una", "chico"/"chica")
/// and whether it names a portion of many things ("Nachos", "Chips and Salsa"), said as
/// "una orden de …".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpanishNoun {
    pub feminine: bool,
    pub portion: bool,
}

/// Head nouns (English or Spanish, lower-case, singular) that are feminine in Spanish.
const FEMININE: &[&str] = &[
    "pizza",
    "salad",
    "ensalada",
    "soda",
    "coke",
    "coca",
    "cola",
    "horchata",
    "quesadilla",
    "torta",
    "tostada",
    "enchilada",
    "sopa",
    "soup",
    "limonada",
    "lemonade",
    "cerveza",
    "beer",
    "galleta",
    "cookie",
    "dona",
    "donut",
    "hamburguesa",
    "burger",
    "malteada",
    "shake",
    "bebida",
    "drink",
    "empanada",
    "chimichanga",
    "concha",
    "orden",
    "order",
    "leche",
    "milk",
    "pasta",
    "lasagna",
    "crepa",
    "crepe",
    "gordita",
    "salsa",
    "papa",
    "fries",
    "wing",
    "alita",
    "bowl",
    "agua",
    "water",
    "flauta",
    "michelada",
    "margarita",
    "dumpling",
    "roll",
];
/// Head nouns ending in "a" that are masculine ("un Mocha", "un Matcha").
const MASCULINE_A: &[&str] = &["mocha", "matcha", "chai", "panda", "dia", "mapa", "tuna"];

/// [`SpanishNoun`] of a menu name. The head noun is the last word of an English-style name
/// ("Chicken Taco", "Pepperoni Pizza") and the first of a Spanish-style one ("Taco de Pollo").
pub(crate) fn spanish_noun(name: &str) -> SpanishNoun {
    let words: Vec<String> = name
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .map(|c| match c {
                    'á' => 'a',
                    'é' => 'e',
                    'í' => 'i',
                    'ó' => 'o',
                    'ú' => 'u',
                    other => other,
                })
                .collect()
        })
        .filter(|w: &String| !w.is_empty())
        .collect();
    let spanish_style = words
        .iter()
        .skip(1)
        .any(|w| matches!(w.as_str(), "de" | "con" | "del"));
    let head = if spanish_style {
        words.first()
    } else {
        words.last()
    };
    let head = head.map_or("", String::as_str);
    let plural = |w: &str| w.len() > 3 && w.ends_with('s') && !w.ends_with("ss");
    let portion = plural(head)
        || words
            .iter()
            .any(|w| matches!(w.as_str(), "and" | "y" | "&"))
            && words.first().is_some_and(|w| plural(w));
    let singular = if plural(head) {
        head.strip_suffix("es")
            .filter(|s| s.ends_with(['s', 'x', 'z']) || s.ends_with("ch") || s.ends_with("sh"))
            .unwrap_or_else(|| head.trim_end_matches('s'))
    } else {
        head
    };
    let feminine = if FEMININE.contains(&singular) {
        true
    } else if MASCULINE_A.contains(&singular) {
        false
    } else {
        singular.ends_with('a')
    };
    SpanishNoun { feminine, portion }
}

/// A size said after a Spanish noun, agreeing with it: "grande", "chica", "medianos",
/// "de 12 piezas".
fn spanish_size(size: &str, feminine: bool, plural: bool) -> String {
    let lower = size.to_lowercase();
    let pieces = lower
        .strip_suffix(" piece")
        .or_else(|| lower.strip_suffix(" pieces"))
        .or_else(|| lower.strip_suffix(" pc"))
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()));
    if let Some(n) = pieces {
        return format!("de {n} piezas");
    }
    let (stem, variable) = match lower.as_str() {
        "small" | "chico" | "chica" | "pequeño" | "pequeña" => ("chic", true),
        "medium" | "mediano" | "mediana" => ("median", true),
        "large" | "grande" => ("grande", false),
        "regular" => ("regular", false),
        "pint" => return "de una pinta".to_owned(),
        "quart" => return "de un cuarto".to_owned(),
        _ => return size.to_owned(),
    };
    let mut out = stem.to_owned();
    if variable {
        out.push(if feminine { 'a' } else { 'o' });
    }
    if plural {
        out.push_str(if out.ends_with(['a', 'e', 'i', 'o', 'u']) {
            "s"
        } else {
            "es"
        });
    }
    out
}

/// "el Burrito", "la Horchata grande", "las dos Pepperoni Pizzas" — "the …" in English.
pub(crate) fn the(lang: Language, menu: &Menu, draft: &Draft) -> String {
    let body = describe(lang, menu, draft, false);
    match lang {
        Language::En => format!("the {body}"),
        Language::Es => {
            let noun = spanish_noun(&menu.items[draft.item].name);
            let article = match (noun.portion, noun.feminine, draft.quantity > 1) {
                (true, _, false) => "la orden de",
                (true, _, true) => "las órdenes de",
                (false, true, false) => "la",
                (false, true, true) => "las",
                (false, false, false) => "el",
                (false, false, true) => "los",
            };
            format!("{article} {body}")
        }
    }
}

/// An option for a Spanish speaker: its Spanish alias when it has one ("sin cebolla"),
/// without a leading "con" (the sentence already says it).
fn spanish_name(option: &kea_menu::ModifierOption) -> String {
    let spanish = option.aliases.iter().find(|a| {
        let lower = a.to_lowercase();
        lower.starts_with("sin ")
            || lower.starts_with("con ")
            || lower.contains(['á', 'é', 'í', 'ó', 'ú', 'ñ'])
    });
    match spanish {
        Some(alias) => alias.strip_prefix("con ").unwrap_or(alias).to_owned(),
        None => option_name(&option.name),
    }
}

/// An option as said after "with": "add guacamole" is just "guacamole".
fn option_name(name: &str) -> String {
    let lower = name.to_lowercase();
    match lower.strip_prefix("add ") {
        Some(rest) => rest.to_owned(),
        None => name.to_owned(),
    }
}

fn plural(name: &str, n: u32) -> String {
    if n == 1 || name.ends_with('s') || name.ends_with('S') {
        name.to_owned()
    } else if name.ends_with("ch") || name.ends_with("sh") || name.ends_with('x') {
        format!("{name}es")
    } else {
        format!("{name}s")
    }
}

/// "two large Pepperoni Pizzas with extra cheese" / "dos Pepperoni Pizzas grandes con extra
/// cheese": item names as the menu spells them, numbers and sizes in the caller's language.
pub(crate) fn describe(lang: Language, menu: &Menu, draft: &Draft, with_count: bool) -> String {
    let item: &Item = &menu.items[draft.item];
    let name_of = |option: &kea_menu::ModifierOption| match lang {
        Language::En => option_name(&option.name),
        Language::Es if !option.names.is_empty() => {
            kea_menu::localized(&option.name, &option.names, "es").to_owned()
        }
        Language::Es => spanish_name(option),
    };
    let group_of = |g: usize| &menu.modifier_groups[g];
    // Added options go after "with"; portions and refusals after the line, as a kitchen says
    // them: "a Classic Burger with bacon, extra pickles, no onions".
    let mut options = Vec::new();
    let mut portions = Vec::new();
    for &(g, o) in &draft.mods {
        let option = &group_of(g).options[o];
        let included = item.includes_option(&group_of(g).id, &option.sku);
        match (draft.portion_of((g, o)), lang) {
            (kea_menu::Portion::Regular, _) if included => {}
            (kea_menu::Portion::Regular, _) => options.push(name_of(option)),
            (portion, Language::En) => portions.push(portion_en(portion, &name_of(option))),
            (portion, Language::Es) => portions.push(portion_es(portion, &name_of(option))),
        }
    }
    for &(g, o) in &draft.refused {
        let name = name_of(&group_of(g).options[o]);
        portions.push(match lang {
            Language::En => format!("no {name}"),
            Language::Es => format!("sin {name}"),
        });
    }
    // "sin cebolla" is said after the item, never after "con".
    if lang == Language::Es {
        let (refusals, added): (Vec<String>, Vec<String>) =
            options.into_iter().partition(|o| o.starts_with("sin "));
        options = added;
        portions.splice(0..0, refusals);
    }
    let mut out = match lang {
        Language::En => describe_en(item, draft, &options, with_count),
        Language::Es => {
            // The store's Spanish name, when it gives one.
            let mut spoken = item.clone();
            spoken.name = kea_menu::localized(&item.name, &item.names, "es").to_owned();
            describe_es(&spoken, draft, &options, with_count)
        }
    };
    for (n, phrase) in portions.iter().enumerate() {
        // Spanish runs on ("tacos sin cebolla, con queso extra"); English lists after a comma.
        out.push_str(if n == 0 && lang == Language::Es {
            " "
        } else {
            ", "
        });
        out.push_str(phrase);
    }
    out
}

/// "extra pickles", "light sauce", "ranch on the side".
fn portion_en(portion: kea_menu::Portion, name: &str) -> String {
    match portion {
        kea_menu::Portion::Extra => format!("extra {name}"),
        kea_menu::Portion::Light => format!("light {name}"),
        kea_menu::Portion::Side => format!("{name} on the side"),
        kea_menu::Portion::No => format!("no {name}"),
        kea_menu::Portion::Regular => name.to_owned(),
    }
}

/// "con tocino extra", "con poca salsa", "con ranch aparte".
fn portion_es(portion: kea_menu::Portion, name: &str) -> String {
    match portion {
        kea_menu::Portion::Extra => format!("con {name} extra"),
        kea_menu::Portion::Light => format!("con poco {name}"),
        kea_menu::Portion::Side => format!("con {name} aparte"),
        kea_menu::Portion::No => format!("sin {name}"),
        kea_menu::Portion::Regular => format!("con {name}"),
    }
}

/// [`describe`] in English: "two large Pepperoni Pizzas with extra cheese", "an order of
/// Garlic Knots".
fn describe_en(item: &Item, draft: &Draft, options: &[String], with_count: bool) -> String {
    let lang = Language::En;
    let size = draft
        .size
        .as_deref()
        .filter(|_| item.sizes.len() > 1 || item.default_size.is_none())
        .map(|s| size_word(lang, s));
    let mut out = String::new();
    // "Garlic Knots" is already plural: say "an order of Garlic Knots".
    let plural_name = item.name.ends_with('s') || item.name.ends_with('S');
    let name = plural(&item.name, draft.quantity);
    let body = match &size {
        Some(s) => format!("{s} {name}"),
        None => name,
    };
    if with_count {
        if plural_name {
            let orders = if draft.quantity == 1 {
                "order"
            } else {
                "orders"
            };
            out.push_str(&format!(
                "{} {orders} of ",
                count_word(lang, draft.quantity, orders)
            ));
        } else {
            out.push_str(&count_word(lang, draft.quantity, &body));
            out.push(' ');
        }
    }
    out.push_str(&body);
    if !options.is_empty() {
        out.push_str(" with ");
        out.push_str(&list(lang, options, false));
    }
    out
}

/// [`describe`] in Spanish: "una Horchata grande", "dos Chicken Tacos", "una orden grande de
/// Nachos", "una orden de Buffalo Wings de 12 piezas": numbers, articles and sizes agree.
fn describe_es(item: &Item, draft: &Draft, options: &[String], with_count: bool) -> String {
    let lang = Language::Es;
    let mut out = String::new();
    // "una Horchata grande", "dos Chicken Tacos", "una orden grande de Nachos",
    // "una orden de Buffalo Wings de 12 piezas": numbers, articles and sizes agree.
    let noun = spanish_noun(&item.name);
    let many = draft.quantity > 1;
    let raw_size = draft
        .size
        .as_deref()
        .filter(|_| item.sizes.len() > 1 || item.default_size.is_none());
    let (before, after) = match raw_size {
        Some(s) if noun.portion && with_count => {
            let said = spanish_size(s, true, many);
            if said.starts_with("de ") {
                (None, Some(said))
            } else {
                (Some(said), None)
            }
        }
        Some(s) => (
            None,
            Some(spanish_size(s, noun.feminine, many && !noun.portion)),
        ),
        None => (None, None),
    };
    if with_count && noun.portion {
        if many {
            out.push_str(&count_word(lang, draft.quantity, "órdenes"));
            out.push_str(" órdenes");
        } else {
            out.push_str("una orden");
        }
        if let Some(b) = &before {
            out.push(' ');
            out.push_str(b);
        }
        out.push_str(" de ");
        out.push_str(&item.name);
    } else {
        if with_count {
            out.push_str(&count_word(lang, draft.quantity, &item.name));
            out.push(' ');
        }
        if noun.portion {
            out.push_str(&item.name);
        } else {
            out.push_str(&plural(&item.name, draft.quantity));
        }
    }
    if let Some(a) = &after {
        out.push(' ');
        out.push_str(a);
    }
    if !options.is_empty() {
        out.push_str(" con ");
        out.push_str(&list(lang, options, false));
    }
    out
}

/// The item's name without its category word, for lists ("Pepperoni" in a list of pizzas).
pub(crate) fn short_name(item: &Item) -> String {
    let Some(category) = &item.category else {
        return item.name.clone();
    };
    let category_keys: Vec<String> = kea_menu::matcher::tokenize(category)
        .into_iter()
        .map(|t| t.key)
        .collect();
    let kept: Vec<&str> = item
        .name
        .split_whitespace()
        .filter(|w| {
            let key = kea_menu::matcher::tokenize(w)
                .into_iter()
                .map(|t| t.key)
                .collect::<Vec<_>>();
            !(key.len() == 1 && category_keys.contains(&key[0]))
        })
        .collect();
    if kept.is_empty() || kept.len() == item.name.split_whitespace().count() {
        item.name.clone()
    } else {
        kept.join(" ")
    }
}

/// What to call a group of items when asking "which … would you like": the category word when
/// item names use it ("pizza"), else nothing.
pub(crate) fn category_word(menu: &Menu, items: &[usize]) -> Option<String> {
    let first = menu.items.get(*items.first()?)?;
    let category = first.category.as_ref()?;
    let keys: Vec<String> = kea_menu::matcher::tokenize(category)
        .into_iter()
        .map(|t| t.key)
        .collect();
    let [key] = keys.as_slice() else { return None };
    let all_same = items
        .iter()
        .all(|&i| menu.items.get(i).and_then(|it| it.category.as_ref()) == Some(category));
    let used = items.iter().any(|&i| {
        kea_menu::matcher::tokenize(&menu.items[i].name)
            .iter()
            .any(|t| t.key == *key)
    });
    (all_same && used).then(|| key.clone())
}

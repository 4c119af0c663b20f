//! What a caller can call each thing on one menu, in English and Spanish: item names with their
//! plurals, aliases, names without the category word and bare category words; sizes with their
//! spoken variants; options split into their core words and any cue the menu put in the name
//! ("no onions" is a refusal of "onions"). Built once per store, so generating an utterance is
//! only picking and joining.

use kea_menu::matcher::stem;
use kea_menu::{Portions, Store};

use super::numbers;

/// One way to say an item, in the singular and the plural. A form that only exists in the plural
/// (the alias "tacos al pastor") has no singular.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameForm {
    pub(crate) one: Option<String>,
    pub(crate) many: String,
}

impl NameForm {
    fn new(phrase: &str, plural: fn(&str) -> String, plural_item: bool) -> NameForm {
        if looks_plural(phrase) && !plural_item {
            NameForm {
                one: None,
                many: phrase.to_owned(),
            }
        } else {
            NameForm {
                one: Some(phrase.to_owned()),
                many: plural(phrase),
            }
        }
    }
}

/// How callers say one item.
#[derive(Debug, Clone)]
pub(crate) struct ItemLex {
    /// Index into `menu.items`.
    pub(crate) index: usize,
    /// English names: the menu name first, then aliases.
    pub(crate) en: Vec<NameForm>,
    /// Spanish names: the store's Spanish name (or the English names callers use instead) and
    /// Spanish aliases.
    pub(crate) es: Vec<NameForm>,
    /// The name without its category word ("pepperoni"), when that still names only this item.
    pub(crate) derived: Option<NameForm>,
    /// The category word in the name ("pizza" of "Cheese Pizza"), which callers use for the item
    /// when other words say which one ("a mushroom pizza").
    pub(crate) head: Option<NameForm>,
    /// The item's own name is plural ("Garlic Knots"): one of it is "an order of".
    pub(crate) plural_name: bool,
    pub(crate) sizes: Vec<SizeLex>,
    /// Indices into [`Lexicon::groups`] (the same as `menu.modifier_groups`).
    pub(crate) groups: Vec<usize>,
    /// Indices into [`Lexicon::options`] of what the item comes with.
    pub(crate) includes: Vec<usize>,
    pub(crate) container: Container,
}

/// What a caller may wrap around an item's name ("an order of", "a cup of"): never part of
/// the ITEM span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    /// Food: "an order of".
    Order,
    /// Sides and starters: "an order of", "a side of".
    Side,
    /// Coffee and tea: "a cup of".
    Cup,
    /// Other drinks: "a cup of", "a bottle of", "a glass of", "a can of".
    Drink,
    /// Soups: "a bowl of".
    Bowl,
}

/// How callers say one size of one item.
#[derive(Debug, Clone)]
pub(crate) struct SizeLex {
    pub(crate) en: Vec<String>,
    /// Spanish forms, each as (masculine, feminine): "chico"/"chica".
    pub(crate) es: Vec<(String, String)>,
    /// The Spanish forms are Spanish adjectives, which agree in number ("papas grandes"); a
    /// size the caller says in English ("quart") or with a count ("6 piezas") does not.
    pub(crate) es_agrees: bool,
    /// A measure ("pint", "quart") that reads "a quart of soup".
    pub(crate) measure: bool,
}

/// A modifier group, for choosing options that make sense together.
#[derive(Debug, Clone)]
pub(crate) struct GroupLex {
    /// Indices into [`Lexicon::options`].
    pub(crate) options: Vec<usize>,
}

/// A cue a menu wrote into an option's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cue {
    /// "no onions", "without beans", "sin arroz": the option is a refusal.
    No,
    /// "extra cheese", "double shot": the option is an extra portion.
    Extra,
    /// "add guacamole", "with cheese", "con queso": only says the option is added.
    Add,
}

/// One way to say an option: the cue word(s) the menu wrote before the core, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OptionForm {
    pub(crate) cue: Option<String>,
    pub(crate) core: String,
}

/// How callers say one option.
#[derive(Debug, Clone)]
pub(crate) struct OptionLex {
    /// Index into `menu.modifier_groups[group].options`.
    pub(crate) group: usize,
    /// The cue in the option's name, which fixes how it can be ordered: a refusal option only
    /// with a refusal cue, an extra option only as extra.
    pub(crate) cue: Option<Cue>,
    pub(crate) en: Vec<OptionForm>,
    pub(crate) es: Vec<OptionForm>,
    pub(crate) portions: Portions,
    /// Its group allows one option only (a flavour, a protein, a crust).
    pub(crate) single: bool,
}

/// Everything callers can say about one store.
#[derive(Debug, Clone)]
pub(crate) struct Lexicon {
    pub(crate) store_id: String,
    pub(crate) store_name: String,
    pub(crate) delivery: bool,
    pub(crate) items: Vec<ItemLex>,
    pub(crate) groups: Vec<GroupLex>,
    pub(crate) options: Vec<OptionLex>,
}

/// Nouns counted without a plural ("two beef with broccoli", "two fried rice").
const MASS: &[&str] = &[
    "rice",
    "chicken",
    "beef",
    "pork",
    "shrimp",
    "broccoli",
    "mein",
    "salsa",
    "guacamole",
    "guac",
    "bacon",
    "fish",
    "sushi",
    "corn",
    "hummus",
    "couscous",
    "tofu",
    "cheese",
    "pho",
    "ramen",
    "udon",
    "queso",
    "steak",
    "lamb",
    "spinach",
    "kale",
    "lettuce",
    "asada",
    "pastor",
];

/// Prepositions after a name's head noun: "Beef *with* Broccoli", "taco *de* asada".
const PREPOSITIONS: &[&str] = &[
    "with", "of", "in", "on", "de", "con", "al", "a", "en", "del",
];

/// Words that make a phrase Spanish: function words, and food words a menu may list as aliases
/// without accents ("pollo", "arroz frito") that an English-speaking caller would not say.
const SPANISH_WORDS: &[&str] = &[
    "de",
    "del",
    "la",
    "el",
    "las",
    "los",
    "con",
    "sin",
    "y",
    "muy",
    "pollo",
    "res",
    "camaron",
    "camarones",
    "arroz",
    "queso",
    "frijoles",
    "cebolla",
    "cerdo",
    "pescado",
    "picante",
    "vegetariano",
    "vegetariana",
    "limon",
    "mandarina",
    "tamarindo",
    "pina",
    "crema",
    "aguacate",
    "tocino",
    "lechuga",
    "tomate",
    "papas",
    "refresco",
    "leche",
    "blanco",
    "frito",
    "fritas",
    "grande",
    "chico",
    "chica",
    "mediano",
    "mediana",
    "picosa",
    "vidrio",
    "totopos",
    "agua",
    "jamon",
    "hongos",
    "champinones",
    "elote",
    "puerco",
];

/// Containers callers put before a name ("can of coke"); never part of an ITEM.
const CONTAINERS: &[&str] = &[
    "can", "bottle", "cup", "glass", "order", "side", "bowl", "plate", "box", "bag", "piece",
];

/// Category-word heads a Spanish caller puts first: "pizza de pepperoni".
const SPANISH_FIRST_HEADS: &[&str] = &[
    "pizza",
    "taco",
    "burrito",
    "quesadilla",
    "torta",
    "sandwich",
    "wrap",
    "hamburguesa",
];

/// Whether a phrase is Spanish: accented letters, or a Spanish function word.
pub(crate) fn is_spanish(phrase: &str) -> bool {
    phrase
        .chars()
        .any(|c| c.is_alphabetic() && !c.is_ascii_alphabetic())
        || phrase
            .to_lowercase()
            .split_whitespace()
            .any(|w| SPANISH_WORDS.contains(&w))
}

/// The head noun's index: the word before the first preposition, else the last word.
fn head_index(words: &[&str]) -> usize {
    words
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, w)| PREPOSITIONS.contains(&w.to_lowercase().as_str()))
        .map_or(words.len().saturating_sub(1), |(at, _)| at - 1)
}

/// Whether a phrase's head noun is plural ("tacos al pastor", "Garlic Knots").
pub(crate) fn looks_plural(phrase: &str) -> bool {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    if words.is_empty() {
        return false;
    }
    let head = words[head_index(&words)].to_lowercase();
    head.chars().count() > 3
        && head.ends_with('s')
        && !head.ends_with("ss")
        && !head.ends_with("us")
        && !head.ends_with("is")
}

/// An English plural of a menu phrase: the head noun pluralised ("cheese pizzas", "egg rolls",
/// "sandwiches", "beef with broccoli" unchanged), keeping its case.
pub(crate) fn plural_en(phrase: &str) -> String {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    if words.is_empty() {
        return String::new();
    }
    let at = head_index(&words);
    let head = words[at];
    let lower = head.to_lowercase();
    if MASS.contains(&lower.as_str()) || looks_plural(head) || !lower.ends_with(char::is_alphabetic)
    {
        return words.join(" ");
    }
    let upper = head.chars().last().is_some_and(char::is_uppercase) && head.len() > 1;
    let suffix = if lower.ends_with("ch")
        || lower.ends_with("sh")
        || lower.ends_with("ss")
        || lower.ends_with('x')
        || lower.ends_with('z')
        || lower == "tomato"
        || lower == "potato"
    {
        "es"
    } else {
        "s"
    };
    let plural = if lower.ends_with('y')
        && !lower.ends_with("ay")
        && !lower.ends_with("ey")
        && !lower.ends_with("oy")
        && !lower.ends_with("uy")
    {
        format!("{}ies", &head[..head.len() - 1])
    } else {
        format!("{head}{suffix}")
    };
    let plural = if upper { plural.to_uppercase() } else { plural };
    let mut out: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    out[at] = plural;
    out.join(" ")
}

/// A Spanish plural of a menu phrase: the noun and its adjectives before any preposition
/// ("hamburguesas clásicas", "tacos de asada"). A phrase whose first word does not end in a
/// vowel is taken for a brand or an English name and left alone ("Harbor Doble"), as callers do.
pub(crate) fn plural_es(phrase: &str) -> String {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    let Some(first) = words.first() else {
        return String::new();
    };
    if !first.to_lowercase().ends_with(is_spanish_vowel) || looks_plural(phrase) {
        return words.join(" ");
    }
    let mut out = Vec::with_capacity(words.len());
    let mut in_noun_phrase = true;
    for (at, word) in words.iter().enumerate() {
        if at > 0 && PREPOSITIONS.contains(&word.to_lowercase().as_str()) {
            in_noun_phrase = false;
        }
        out.push(if in_noun_phrase {
            plural_es_word(word)
        } else {
            (*word).to_owned()
        });
    }
    out.join(" ")
}

fn is_spanish_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'á' | 'é' | 'í' | 'ó' | 'ú')
}

/// "grande" → "grandes", "regular" → "regulares", "luz" → "luces".
pub(crate) fn plural_es_word(word: &str) -> String {
    let lower = word.to_lowercase();
    if lower.ends_with('s') || !lower.ends_with(char::is_alphabetic) {
        word.to_owned()
    } else if lower.ends_with(is_spanish_vowel) {
        format!("{word}s")
    } else if let Some(stem) = word.strip_suffix('z') {
        format!("{stem}ces")
    } else {
        format!("{word}es")
    }
}

/// Whether a Spanish noun phrase takes "una"/"la": its head noun ends in "a".
pub(crate) fn feminine(phrase: &str) -> bool {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    if words.is_empty() {
        return false;
    }
    let has_preposition = words
        .iter()
        .skip(1)
        .any(|w| PREPOSITIONS.contains(&w.to_lowercase().as_str()));
    let head = if has_preposition || is_spanish(phrase) {
        words[head_index(&words).min(if has_preposition { words.len() } else { 0 })]
    } else {
        words[words.len() - 1]
    };
    let head = head.to_lowercase();
    let head = head.trim_end_matches('s');
    head.ends_with('a') || head.ends_with("ción") || head == "orden"
}

/// Splits a cue the menu wrote at the start of an option's name.
fn split_cue(phrase: &str) -> (Option<(Cue, String)>, String) {
    const CUES: &[(&str, Cue)] = &[
        ("an extra", Cue::Extra),
        ("add extra", Cue::Extra),
        ("extra", Cue::Extra),
        ("double", Cue::Extra),
        ("without", Cue::No),
        ("hold the", Cue::No),
        ("no", Cue::No),
        ("not", Cue::No),
        ("sin", Cue::No),
        ("add an", Cue::Add),
        ("add a", Cue::Add),
        ("add", Cue::Add),
        ("with", Cue::Add),
        ("con", Cue::Add),
        ("plus", Cue::Add),
    ];
    let lower = phrase.to_lowercase();
    for (cue, kind) in CUES {
        if let Some(rest) = lower.strip_prefix(cue)
            && rest.starts_with(' ')
            && !rest.trim().is_empty()
        {
            let core = phrase[cue.len()..].trim().to_owned();
            return (Some((*kind, phrase[..cue.len()].to_owned())), core);
        }
    }
    (None, phrase.trim().to_owned())
}

/// Strips a container callers say before a name ("can of coke" → "coke"), or an article.
fn strip_container(phrase: &str) -> Option<String> {
    let lower = phrase.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let skip = usize::from(matches!(words.first(), Some(&("a" | "an"))));
    let rest = &words[skip..];
    match rest {
        [container, "of", ..] if CONTAINERS.contains(container) && rest.len() > 2 => {
            Some(original_words(phrase, skip + 2))
        }
        _ if skip > 0 && rest.len() > 1 => Some(original_words(phrase, skip)),
        _ => None,
    }
}

fn original_words(phrase: &str, skip: usize) -> String {
    phrase
        .split_whitespace()
        .skip(skip)
        .collect::<Vec<_>>()
        .join(" ")
}

fn key(phrase: &str) -> String {
    phrase
        .to_lowercase()
        .split_whitespace()
        .map(stem)
        .collect::<Vec<_>>()
        .join(" ")
}

fn spanish_name(names: &std::collections::BTreeMap<String, String>) -> Option<&str> {
    names
        .get("es")
        .or_else(|| names.get("es-US"))
        .or_else(|| {
            names
                .iter()
                .find(|(tag, _)| tag.starts_with("es-"))
                .map(|(_, name)| name)
        })
        .map(String::as_str)
}

impl Lexicon {
    pub(crate) fn new(store: &Store) -> Lexicon {
        let menu = &store.menu;
        // Options first: items refer to them.
        let mut options = Vec::new();
        let mut groups = Vec::new();
        let mut option_index: Vec<Vec<usize>> = Vec::new();
        for group in &menu.modifier_groups {
            let mut in_group = Vec::new();
            for option in &group.options {
                in_group.push(options.len());
                options.push(option_lex(groups.len(), group.max, option));
            }
            groups.push(GroupLex {
                options: in_group.clone(),
            });
            option_index.push(in_group);
        }
        let group_of = |id: &str| menu.modifier_groups.iter().position(|g| g.id == id);

        let mut items: Vec<ItemLex> = Vec::new();
        for (index, item) in menu.items.iter().enumerate() {
            let plural_item = looks_plural(&item.name);
            let mut en: Vec<NameForm> = Vec::new();
            let mut es: Vec<NameForm> = Vec::new();
            let own_keys: Vec<String> = std::iter::once(&item.name)
                .chain(&item.aliases)
                .chain(item.names.values())
                .map(|n| key(n))
                .collect();
            let mut phrases: Vec<String> = vec![item.name.clone()];
            for alias in &item.aliases {
                match strip_container(alias) {
                    // "can of coke" is "can of" + "coke" when "coke" alone names the item too.
                    Some(rest) if own_keys.contains(&key(&rest)) => phrases.push(rest),
                    Some(_) => {}
                    None => phrases.push(alias.clone()),
                }
            }
            let es_name = spanish_name(&item.names);
            for phrase in &phrases {
                let seen_key = |forms: &[NameForm], phrase: &str| {
                    forms.iter().any(|f| {
                        f.one.as_deref().is_some_and(|o| key(o) == key(phrase))
                            || key(&f.many) == key(phrase)
                    })
                };
                if !is_spanish(phrase) && !seen_key(&en, phrase) {
                    en.push(NameForm::new(phrase, plural_en, plural_item));
                }
                // Spanish callers use Spanish aliases, and the English names when the store has
                // no Spanish name.
                if (is_spanish(phrase) || es_name.is_none()) && !seen_key(&es, phrase) {
                    let plural = if is_spanish(phrase) {
                        plural_es
                    } else {
                        plural_en
                    };
                    es.push(NameForm::new(phrase, plural, plural_item));
                }
            }
            if let Some(name) = es_name {
                es.insert(0, NameForm::new(name, plural_es, looks_plural(name)));
            }
            if en.is_empty() {
                en.push(NameForm::new(&item.name, plural_en, plural_item));
            }
            let item_groups: Vec<usize> = item
                .modifier_groups
                .iter()
                .filter_map(|id| group_of(id))
                .collect();
            let includes = item
                .includes
                .iter()
                .filter_map(|(group_id, skus)| {
                    let g = group_of(group_id)?;
                    Some(skus.iter().filter_map(move |sku| {
                        let o = menu.modifier_groups[g]
                            .options
                            .iter()
                            .position(|option| option.sku == *sku)?;
                        Some((g, o))
                    }))
                })
                .flatten()
                .filter_map(|(g, o)| option_index.get(g)?.get(o).copied())
                .collect();
            let category = item.category.as_deref().unwrap_or("").to_lowercase();
            let container = if ["coffee", "tea", "café"]
                .iter()
                .any(|w| category.contains(w))
            {
                Container::Cup
            } else if ["drink", "beverage", "bebida", "soda"]
                .iter()
                .any(|w| category.contains(w))
            {
                Container::Drink
            } else if ["side", "appetizer", "starter"]
                .iter()
                .any(|w| category.contains(w))
            {
                Container::Side
            } else if category.contains("soup") || category.contains("sopa") {
                Container::Bowl
            } else {
                Container::Order
            };
            items.push(ItemLex {
                index,
                en,
                es,
                derived: None,
                head: None,
                plural_name: plural_item,
                sizes: item.sizes.iter().map(size_lex).collect(),
                groups: item_groups,
                includes,
                container,
            });
        }
        derive_names(store, &mut items, &options);
        Lexicon {
            store_id: store.id.clone(),
            store_name: store.name.clone(),
            delivery: store.fulfillment.delivery,
            items,
            groups,
            options,
        }
    }
}

/// Fills [`ItemLex::derived`] and [`ItemLex::head`] from the items' categories, and adds the
/// Spanish "pizza de pepperoni" forms.
fn derive_names(store: &Store, items: &mut [ItemLex], options: &[OptionLex]) {
    let menu = &store.menu;
    let mut derived: Vec<(usize, String, String)> = Vec::new();
    for lex in items.iter_mut() {
        let item = &menu.items[lex.index];
        let Some(category) = item.category.as_deref() else {
            continue;
        };
        let category_keys: Vec<String> = category
            .to_lowercase()
            .split_whitespace()
            .map(stem)
            .collect();
        let words: Vec<&str> = item.name.split_whitespace().collect();
        let is_head = |w: &&str| category_keys.contains(&stem(&w.to_lowercase()));
        let Some(head) = words.iter().rev().find(|w| is_head(w)) else {
            continue;
        };
        let head = head.to_lowercase();
        lex.head = Some(NameForm {
            one: Some(stem_singular(&head)),
            many: plural_en(&stem_singular(&head)),
        });
        let rest: Vec<&str> = words.iter().filter(|w| !is_head(w)).copied().collect();
        let siblings = menu
            .items
            .iter()
            .filter(|other| other.category.as_deref() == Some(category))
            .count();
        let rest = rest.join(" ");
        let rest_key = key(&rest);
        // An item's option of the same name ("pepperoni" topping) would make "a pepperoni"
        // mean two things; the matcher does not derive then either.
        let clashes = lex.groups.iter().any(|&g| {
            options
                .iter()
                .filter(|o| o.group == g)
                .flat_map(|o| o.en.iter().chain(&o.es))
                .any(|form| key(&form.core) == rest_key)
        });
        if siblings >= 2 && rest.chars().count() >= 3 && !rest.is_empty() && !clashes {
            derived.push((lex.index, rest, head));
        }
    }
    for (index, rest, head) in &derived {
        let unique = derived
            .iter()
            .filter(|(_, r, _)| key(r) == key(rest))
            .count()
            == 1;
        let Some(lex) = items.iter_mut().find(|lex| lex.index == *index) else {
            continue;
        };
        if !unique {
            continue;
        }
        lex.derived = Some(NameForm {
            one: Some(rest.clone()),
            many: plural_en(rest),
        });
        let head = stem_singular(head);
        if spanish_name(&menu.items[*index].names).is_none()
            && SPANISH_FIRST_HEADS.contains(&head.as_str())
        {
            let rest = rest.to_lowercase();
            lex.es.push(NameForm {
                one: Some(format!("{head} de {rest}")),
                many: format!("{} de {rest}", plural_es_word(&head)),
            });
        }
    }
}

/// The singular of a category word as callers say it ("Tacos" → "taco", "Burgers" → "burger").
fn stem_singular(word: &str) -> String {
    let lower = word.to_lowercase();
    if looks_plural(&lower) {
        let stemmed = stem(&lower);
        // stem folds "y" to "ie" ("berry" → "berrie"); callers say the word.
        stemmed.strip_suffix("ie").map_or(stemmed.clone(), |s| {
            if lower.ends_with("ies") {
                format!("{s}y")
            } else {
                stemmed.clone()
            }
        })
    } else {
        lower
    }
}

fn option_lex(group: usize, max: u32, option: &kea_menu::ModifierOption) -> OptionLex {
    let (name_cue, _) = split_cue(&option.name);
    let kind = name_cue.as_ref().map(|(cue, _)| *cue);
    let mut en: Vec<OptionForm> = Vec::new();
    let mut es: Vec<OptionForm> = Vec::new();
    let es_names: Vec<&String> = option.names.values().collect();
    let phrases = std::iter::once((&option.name, false))
        .chain(option.aliases.iter().map(|a| (a, false)))
        .chain(es_names.iter().map(|n| (*n, true)));
    for (phrase, from_names) in phrases {
        let (cue, core) = split_cue(phrase);
        let form = match (&cue, kind) {
            // The same kind of cue as the name, or an alias that is the bare thing
            // ("guacamole" for "add guacamole").
            (Some((c, text)), Some(k)) if *c == k => OptionForm {
                cue: Some(text.clone()),
                core,
            },
            (None, _) => OptionForm { cue: None, core },
            // "no meat" for a veggie option, "extra cheese" for "add cheese": a different
            // meaning from the option's own; leave it out.
            _ => continue,
        };
        if form.core.is_empty() {
            continue;
        }
        let spanish = from_names || is_spanish(phrase);
        let list = if spanish { &mut es } else { &mut en };
        if !list.iter().any(|f| key(&f.core) == key(&form.core)) {
            list.push(form);
        }
    }
    if en.is_empty() {
        en.push(OptionForm {
            cue: None,
            core: option.name.clone(),
        });
    }
    // Spanish callers use the English names when the store gives no Spanish one.
    if option.names.is_empty() {
        for form in &en {
            if !es.iter().any(|f| key(&f.core) == key(&form.core)) {
                es.push(form.clone());
            }
        }
    }
    OptionLex {
        group,
        cue: kind,
        en,
        es,
        portions: option.portions,
        single: max <= 1,
    }
}

fn size_lex(size: &kea_menu::Size) -> SizeLex {
    let name = size.name.trim().to_owned();
    let lower = name.to_lowercase();
    let mut en: Vec<String> = vec![name.clone()];
    for alias in &size.aliases {
        if !is_spanish(alias) {
            en.push(alias.clone());
        }
    }
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut es: Vec<(String, String)> = Vec::new();
    let mut es_agrees = false;
    match words.as_slice() {
        [n, unit] if n.chars().all(|c| c.is_ascii_digit()) => {
            let count: u32 = n.parse().unwrap_or(0);
            let unit_es = match *unit {
                "piece" | "pieces" | "pc" | "pcs" => Some("piezas"),
                "oz" | "ounce" | "ounces" => Some("onzas"),
                _ => None,
            };
            if count > 0 {
                en.push(format!("{} {unit}", numbers::en_words(count)));
                en.push(format!("{n}-{unit}"));
                if let Some(unit_es) = unit_es {
                    for said in [
                        format!("{n} {unit_es}"),
                        format!("{} {unit_es}", numbers::es_words(count)),
                    ] {
                        es.push((said.clone(), said));
                    }
                }
            }
        }
        ["large"] => {
            en.push("big".to_owned());
            es.push(("grande".to_owned(), "grande".to_owned()));
            es_agrees = true;
        }
        ["small"] => {
            es.extend([
                ("chico".to_owned(), "chica".to_owned()),
                ("pequeño".to_owned(), "pequeña".to_owned()),
            ]);
            es_agrees = true;
        }
        ["medium"] => {
            es.push(("mediano".to_owned(), "mediana".to_owned()));
            es_agrees = true;
        }
        ["regular"] => {
            es.push(("regular".to_owned(), "regular".to_owned()));
            es_agrees = true;
        }
        _ => {}
    }
    let localized: Vec<&String> = size
        .names
        .values()
        .chain(size.aliases.iter().filter(|a| is_spanish(a)))
        .collect();
    if !localized.is_empty() {
        es_agrees = localized
            .iter()
            .all(|name| !name.chars().any(|c| c.is_ascii_digit()) && is_spanish_adjective(name));
        es = localized
            .into_iter()
            .map(|name| (name.clone(), name.clone()))
            .collect();
    }
    if es.is_empty() {
        es.push((name.clone(), name.clone()));
    }
    let measure = words.iter().any(|w| {
        [
            "pint", "quart", "gallon", "liter", "litre", "oz", "ounce", "cup", "bowl", "half",
        ]
        .contains(w)
    });
    SizeLex {
        en,
        es,
        es_agrees,
        measure,
    }
}

/// A Spanish size word that takes a plural ("grande", "chica"), as far as its ending tells.
fn is_spanish_adjective(word: &str) -> bool {
    let lower = word.to_lowercase();
    lower.split_whitespace().count() == 1 && lower.ends_with(['a', 'e', 'o'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_plurals() {
        let cases = [
            ("Cheese Pizza", "Cheese Pizzas"),
            ("egg roll", "egg rolls"),
            ("Breakfast Sandwich", "Breakfast Sandwiches"),
            ("Beef with Broccoli", "Beef with Broccoli"),
            ("Chocolate Chip Cookie", "Chocolate Chip Cookies"),
            ("Garlic Knots", "Garlic Knots"),
            ("Fried Rice", "Fried Rice"),
            ("taco de asada", "tacos de asada"),
            ("Coke", "Cokes"),
            ("berry smoothie", "berry smoothies"),
            ("blueberry", "blueberries"),
            ("Hot and Sour Soup", "Hot and Sour Soups"),
            ("BLT", "BLTS"),
            ("2 liter", "2 liters"),
        ];
        for (one, many) in cases {
            assert_eq!(plural_en(one), many, "{one}");
        }
    }

    #[test]
    fn spanish_plurals_and_gender() {
        assert_eq!(plural_es("Hamburguesa Clásica"), "Hamburguesas Clásicas");
        assert_eq!(plural_es("Harbor Doble"), "Harbor Doble");
        assert_eq!(plural_es("taco de pollo"), "tacos de pollo");
        assert_eq!(plural_es("Papas Fritas"), "Papas Fritas");
        assert_eq!(plural_es_word("regular"), "regulares");
        assert!(feminine("Hamburguesa Clásica"));
        assert!(feminine("pizza de pepperoni"));
        assert!(feminine("Pepperoni Pizza"));
        assert!(!feminine("Refresco"));
        assert!(!feminine("taco de pollo"));
    }

    #[test]
    fn cues_in_option_names() {
        let cases = [
            ("no onions", Some(Cue::No), "onions"),
            ("without beans", Some(Cue::No), "beans"),
            ("extra shot", Some(Cue::Extra), "shot"),
            ("an extra shot", Some(Cue::Extra), "shot"),
            ("add guacamole", Some(Cue::Add), "guacamole"),
            ("con queso", Some(Cue::Add), "queso"),
            ("nonfat", None, "nonfat"),
            ("extra", None, "extra"),
        ];
        for (phrase, cue, core) in cases {
            let (found, rest) = split_cue(phrase);
            assert_eq!(found.map(|(c, _)| c), cue, "{phrase}");
            assert_eq!(rest, core, "{phrase}");
        }
    }

    #[test]
    fn containers_come_off_aliases() {
        assert_eq!(strip_container("can of coke").as_deref(), Some("coke"));
        assert_eq!(
            strip_container("a cup of coffee").as_deref(),
            Some("coffee")
        );
        assert_eq!(
            strip_container("an extra shot").as_deref(),
            Some("extra shot")
        );
        assert_eq!(strip_container("glass bottle coke"), None);
    }
}

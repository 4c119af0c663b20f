//! Portions and refusals: for each option a clause mentions, whether the caller wants it extra,
//! light, on the side, left off, or not at all — read from the words around it, for any menu.
//!
//! The grammar, over the clause's mentions (menu spans, numbers, other words):
//! - a **portion word** before an option applies to that option only: "extra cheese and
//!   mushrooms" is extra cheese and (regular) mushrooms;
//! - a **refusal** before options covers every option joined to it by "and"/"or"/"nor" until
//!   anything else is said: "hold the tomato and lettuce, and add bacon", "without mushrooms or
//!   peppers";
//! - a refusal of a portion refuses the portion, not the option: "no extra cheese" leaves the
//!   cheese as it was;
//! - a portion word right after an option applies to it when no option follows: "tocino extra",
//!   "ranch on the side", "cebolla aparte";
//! - an addition ("with", "add", "plus", "con", "but") or an item or a number ends a refusal.

use kea_menu::Portion;

use crate::understand::Mention;

/// What the caller said about one option mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// At this portion (`No` for a refusal).
    At(Portion),
    /// "No extra X", "not thin crust": the caller refuses a portion (or a choice), which adds or
    /// removes nothing by itself.
    NotThat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    Refuse,
    Portion(Portion),
    /// Starts an addition: ends a refusal's scope.
    Add,
    /// Joins options under the same refusal.
    Join,
}

/// Cue phrases, by kind. Longer phrases are tried first; words are compared as tokenised
/// (lower case, accents removed).
const CUES: &[(&str, Cue)] = &[
    // refusals
    ("do not put any", Cue::Refuse),
    ("dont put any", Cue::Refuse),
    ("do not put", Cue::Refuse),
    ("dont put", Cue::Refuse),
    ("do not add", Cue::Refuse),
    ("dont add", Cue::Refuse),
    ("i do not want", Cue::Refuse),
    ("i dont want", Cue::Refuse),
    ("do not want", Cue::Refuse),
    ("dont want", Cue::Refuse),
    ("leave off the", Cue::Refuse),
    ("leave off", Cue::Refuse),
    ("leave out the", Cue::Refuse),
    ("leave out", Cue::Refuse),
    ("hold the", Cue::Refuse),
    ("hold off on", Cue::Refuse),
    ("hold off", Cue::Refuse),
    // A common slip for "hold off" / "hold the".
    ("hold on", Cue::Refuse),
    ("hold", Cue::Refuse),
    ("without adding", Cue::Refuse),
    ("no add", Cue::Refuse),
    ("without any", Cue::Refuse),
    ("without the", Cue::Refuse),
    ("without", Cue::Refuse),
    ("no more", Cue::Refuse),
    ("none of the", Cue::Refuse),
    ("avoid", Cue::Refuse),
    ("minus", Cue::Refuse),
    ("nix", Cue::Refuse),
    ("no", Cue::Refuse),
    ("not", Cue::Refuse),
    ("sin", Cue::Refuse),
    ("nada de", Cue::Refuse),
    ("no le pongas", Cue::Refuse),
    ("no le ponga", Cue::Refuse),
    // more
    ("a lot of", Cue::Portion(Portion::Extra)),
    ("lots of", Cue::Portion(Portion::Extra)),
    ("lot of", Cue::Portion(Portion::Extra)),
    ("plenty of", Cue::Portion(Portion::Extra)),
    ("heavy on the", Cue::Portion(Portion::Extra)),
    ("heavy on", Cue::Portion(Portion::Extra)),
    ("a bunch of", Cue::Portion(Portion::Extra)),
    ("loaded with", Cue::Portion(Portion::Extra)),
    ("extra", Cue::Portion(Portion::Extra)),
    ("more", Cue::Portion(Portion::Extra)),
    ("additional", Cue::Portion(Portion::Extra)),
    ("double", Cue::Portion(Portion::Extra)),
    ("heavy", Cue::Portion(Portion::Extra)),
    ("mas", Cue::Portion(Portion::Extra)),
    ("doble", Cue::Portion(Portion::Extra)),
    ("bastante", Cue::Portion(Portion::Extra)),
    ("mucho", Cue::Portion(Portion::Extra)),
    ("mucha", Cue::Portion(Portion::Extra)),
    // less
    ("go light on the", Cue::Portion(Portion::Light)),
    ("go light on", Cue::Portion(Portion::Light)),
    ("easy on the", Cue::Portion(Portion::Light)),
    ("easy on", Cue::Portion(Portion::Light)),
    ("a little bit of", Cue::Portion(Portion::Light)),
    ("a little", Cue::Portion(Portion::Light)),
    ("a bit of", Cue::Portion(Portion::Light)),
    ("not much", Cue::Portion(Portion::Light)),
    ("not too much", Cue::Portion(Portion::Light)),
    ("a touch of", Cue::Portion(Portion::Light)),
    ("a drizzle of", Cue::Portion(Portion::Light)),
    ("light on the", Cue::Portion(Portion::Light)),
    ("light on", Cue::Portion(Portion::Light)),
    ("light", Cue::Portion(Portion::Light)),
    ("lightly", Cue::Portion(Portion::Light)),
    ("little", Cue::Portion(Portion::Light)),
    ("poco de", Cue::Portion(Portion::Light)),
    ("poquito de", Cue::Portion(Portion::Light)),
    ("poco", Cue::Portion(Portion::Light)),
    ("poca", Cue::Portion(Portion::Light)),
    // additions
    ("with", Cue::Add),
    ("add", Cue::Add),
    ("plus", Cue::Add),
    ("but", Cue::Add),
    ("also", Cue::Add),
    ("con", Cue::Add),
    ("pero", Cue::Add),
    ("agrega", Cue::Add),
    ("agregale", Cue::Add),
    // joins
    ("and", Cue::Join),
    ("or", Cue::Join),
    ("nor", Cue::Join),
    ("either", Cue::Join),
    ("any", Cue::Join),
    ("the", Cue::Join),
    ("a", Cue::Join),
    ("an", Cue::Join),
    ("y", Cue::Join),
    ("o", Cue::Join),
    ("ni", Cue::Join),
    ("e", Cue::Join),
];

/// Portion phrases that follow the option they apply to ("ranch on the side", "tocino extra").
const AFTER: &[(&str, Portion)] = &[
    ("on the side", Portion::Side),
    ("on side", Portion::Side),
    ("aparte", Portion::Side),
    ("al lado", Portion::Side),
    ("por un lado", Portion::Side),
    ("extra", Portion::Extra),
    ("doble", Portion::Extra),
    ("light", Portion::Light),
];

/// The cue starting at `k`, and how many mentions it spans.
fn cue_at(words: &[Option<String>], k: usize) -> Option<(usize, Cue)> {
    CUES.iter().find_map(|(phrase, cue)| {
        let n = words_at(words, k, phrase)?;
        Some((n, *cue))
    })
}

/// How many mentions the words of `phrase` span at `k`, if they are there.
fn words_at(words: &[Option<String>], k: usize, phrase: &str) -> Option<usize> {
    crate::phrase::at(words.len(), k, phrase, |j| words[j].as_deref())
}

/// Each mention as one plain word, where it is one: a word; "a" for the number one (the
/// article "a little" may have been read as a number); a one-word menu span by its text ("on
/// the side" where the menu has a Sides category). `span_word(k)` gives that text for menu
/// spans.
fn plain_words(ms: &[Mention], span_word: &dyn Fn(usize) -> Option<String>) -> Vec<Option<String>> {
    ms.iter()
        .enumerate()
        .map(|(k, m)| match m {
            Mention::Word(t) => Some(t.clone()),
            Mention::Num(1) => Some("a".to_owned()),
            Mention::Num(_) => None,
            Mention::Menu(_) => span_word(k),
        })
        .collect()
}

/// A mark for every mention of the clause (`None` where nothing was said, or for mentions that
/// are not options). `is_option(k)` says whether mention `k` names an option.
pub(crate) fn marks(
    ms: &[Mention],
    is_option: impl Fn(usize) -> bool,
    span_word: &dyn Fn(usize) -> Option<String>,
) -> Vec<Option<Mark>> {
    let words = plain_words(ms, span_word);
    let mut out = vec![None; ms.len()];
    // The refusal in force, and a portion waiting for its option.
    let mut refusing = false;
    // Whether the refusal has already covered an option: then a portion word starts something
    // new ("no onions and extra pickles") rather than qualifying it ("no extra pickles").
    let mut refused_one = false;
    let mut portion: Option<Portion> = None;
    let mut k = 0;
    while k < ms.len() {
        if is_option(k) {
            refused_one |= refusing;
            out[k] = Some(match (refusing, portion) {
                (true, Some(_)) => Mark::NotThat,
                (true, None) => Mark::At(Portion::No),
                (false, Some(p)) => Mark::At(p),
                (false, None) => Mark::At(Portion::Regular),
            });
            portion = None;
            // A portion said right after it, with no other option to claim it.
            if let Some((n, p)) = AFTER
                .iter()
                .find_map(|(phrase, p)| words_at(&words, k + 1, phrase).map(|n| (n, *p)))
                && !(k + 1 + n < ms.len() && is_option(k + 1 + n))
                && !refusing
            {
                out[k] = Some(Mark::At(p));
                k += 1 + n;
                continue;
            }
            k += 1;
            continue;
        }
        match &ms[k] {
            // "a little", "a lot of": the article may have been read as the number one.
            Mention::Word(_) | Mention::Num(1) => match cue_at(&words, k) {
                Some((n, Cue::Refuse)) => {
                    refusing = true;
                    refused_one = false;
                    portion = None;
                    k += n;
                }
                Some((n, Cue::Portion(p))) => {
                    if refused_one {
                        refusing = false;
                    }
                    portion = Some(p);
                    k += n;
                }
                Some((n, Cue::Add)) => {
                    refusing = false;
                    portion = None;
                    k += n;
                }
                Some((n, Cue::Join)) => k += n,
                None => {
                    // Anything else ends a refusal: "no onions on the carnitas", "no, a large".
                    refusing = false;
                    portion = None;
                    k += 1;
                }
            },
            // An item, a size or a number starts something new.
            _ => {
                refusing = false;
                portion = None;
                k += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mentions from a sketch: `@name` is an option, `#n` a number, `!name` an item, other words
    /// words.
    fn sketch(text: &str) -> Vec<Mention> {
        text.split_whitespace()
            .map(|w| match w.chars().next() {
                Some('@') | Some('!') => Mention::Menu(w.len()),
                Some('#') => Mention::Num(w[1..].parse().unwrap_or(1)),
                _ => Mention::Word(w.to_owned()),
            })
            .collect()
    }

    /// The marks of the options of `text`, in order, as short strings.
    fn read(text: &str) -> Vec<String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let ms = sketch(text);
        let marks = marks(&ms, |k| words[k].starts_with('@'), &|_| None);
        words
            .iter()
            .zip(marks)
            .filter(|(w, _)| w.starts_with('@'))
            .map(|(w, m)| {
                let name = &w[1..];
                match m {
                    Some(Mark::At(Portion::Regular)) | None => name.to_owned(),
                    Some(Mark::At(p)) => format!("{}:{name}", p.as_str()),
                    Some(Mark::NotThat) => format!("not:{name}"),
                }
            })
            .collect()
    }

    #[test]
    fn portions_and_refusals_in_english() {
        let cases: &[(&str, &[&str])] = &[
            (
                "!burger with no @onions and extra @pickles",
                &["no:onions", "extra:pickles"],
            ),
            (
                "!burger hold the @tomato and @lettuce and add @bacon",
                &["no:tomato", "no:lettuce", "bacon"],
            ),
            (
                "!pizza without @mushrooms or @peppers",
                &["no:mushrooms", "no:peppers"],
            ),
            (
                "!pizza with extra @cheese and @mushrooms",
                &["extra:cheese", "mushrooms"],
            ),
            (
                "@pesto @bacon and avoid @onions",
                &["pesto", "bacon", "no:onions"],
            ),
            ("!burger but no extra @pickles please", &["not:pickles"]),
            // A refused plain choice: mark_mod turns it into nothing.
            ("not @thin crust", &["no:thin"]),
            (
                "!wrap with the @ranch on the side and light @tomato",
                &["side:ranch", "light:tomato"],
            ),
            ("!pizza with a lot of @cheese", &["extra:cheese"]),
            ("#1 !pizza with a little @sauce", &["light:sauce"]),
            ("!pizza leave off the @olives", &["no:olives"]),
            ("i dont want any @onions on it", &["no:onions"]),
            ("!pizza with more @cheese", &["extra:cheese"]),
            ("!pizza with additional @cheese", &["extra:cheese"]),
            ("no @onions on the !carnitas", &["no:onions"]),
            ("no @onions !burger with @bacon", &["no:onions", "bacon"]),
        ];
        for (text, want) in cases {
            assert_eq!(read(text), *want, "{text}");
        }
    }

    #[test]
    fn portions_and_refusals_in_spanish() {
        let cases: &[(&str, &[&str])] = &[
            (
                "!hamburguesa sin @cebolla y con @tocino extra",
                &["no:cebolla", "extra:tocino"],
            ),
            (
                "!wrap sin @aguacate por favor y unas !papas",
                &["no:aguacate"],
            ),
            ("!tacos con sin @cebolla", &["no:cebolla"]),
            ("!pizza con mucho @queso", &["extra:queso"]),
            ("!pizza sin @cebolla ni @chile", &["no:cebolla", "no:chile"]),
            ("!ensalada con @aderezo aparte", &["side:aderezo"]),
        ];
        for (text, want) in cases {
            assert_eq!(read(text), *want, "{text}");
        }
    }

    #[test]
    fn a_portion_after_an_option_waits_for_the_next_option_when_there_is_one() {
        assert_eq!(read("with @bacon extra @cheese"), ["bacon", "extra:cheese"]);
        assert_eq!(read("con @tocino extra"), ["extra:tocino"]);
    }
}

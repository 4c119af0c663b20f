use kea_menu::Store;
use kea_menu::matcher::MenuMatcher;

use super::*;

const TONYS: &str = include_str!("../../../../tests/fixtures/stores/tonys-pizza.json");
const CASITA: &str = include_str!("../../../../tests/fixtures/stores/la-casita.json");
const HARBOR: &str = include_str!("../../../../dialog/tests/stores/harbor-burger.json");

fn store(json: &str) -> Store {
    match Store::parse(json) {
        Ok(s) => s,
        Err(e) => panic!("sample store does not parse: {e}"),
    }
}

/// "[two|QUANTITY] large [pizzas|ITEM]" → the text without brackets, and its spans.
fn marked(s: &str) -> (String, Vec<Span>) {
    let mut text = String::new();
    let mut spans = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let close = rest[open..].find(']').map_or(rest.len(), |c| open + c);
        let inner = &rest[open + 1..close];
        let (words, label) = inner.split_once('|').unwrap_or((inner, "ITEM"));
        let start = text.len();
        text.push_str(words);
        spans.push(Span {
            start,
            end: text.len(),
            label: label.to_owned(),
        });
        rest = rest.get(close + 1..).unwrap_or("");
    }
    text.push_str(rest);
    (text, spans)
}

fn order(json: &str, turns: &[&str]) -> NerOrder {
    let store = store(json);
    let matcher = MenuMatcher::new(&store.menu);
    let marked: Vec<(String, Vec<Span>)> = turns.iter().map(|t| marked(t)).collect();
    let turns: Vec<TurnSpans> = marked
        .iter()
        .map(|(text, spans)| TurnSpans { text, spans })
        .collect();
    resolve(&store, &matcher, &turns)
}

fn line(sku: &str, size: Option<&str>, quantity: u32, modifiers: &[&str]) -> NerLine {
    NerLine {
        sku: sku.to_owned(),
        size: size.map(str::to_owned),
        quantity,
        modifiers: modifiers.iter().map(|m| (*m).to_owned()).collect(),
    }
}

fn sorted(mut lines: Vec<NerLine>) -> Vec<NerLine> {
    for l in &mut lines {
        l.modifiers.sort();
    }
    lines.sort();
    lines
}

#[test]
fn resolves_each_kind_of_entity() {
    let cases: &[(&str, &str, &[&str], Vec<NerLine>)] = &[
        (
            "items with their own sizes, counts and options",
            TONYS,
            &[
                "[two|QUANTITY] [small|SIZE] [pepperoni pizzas|ITEM] with [mushrooms|MODIFIER] and a [large|SIZE] [hawaiian|ITEM] with [extra|PORTION] [cheese|MODIFIER]",
            ],
            vec![
                line("pizza-pepperoni", Some("small"), 2, &["mushrooms"]),
                line("pizza-hawaiian", Some("large"), 1, &["extra-cheese"]),
            ],
        ),
        (
            "a refusal of an add-on adds nothing; a refusal's reach covers joined options",
            TONYS,
            &[
                "a [large|SIZE] [cheese pizza|ITEM] [no|NEGATION] [onions|MODIFIER] or [olives|MODIFIER] but add [bacon|MODIFIER]",
            ],
            vec![line("pizza-cheese", Some("large"), 1, &["bacon"])],
        ),
        (
            "a store's refusal option heard after a refusal cue",
            CASITA,
            &[
                "[three|QUANTITY] [chicken tacos|ITEM] [hold|NEGATION] the [onions|MODIFIER] and [cilantro|MODIFIER]",
            ],
            vec![line("taco-pollo", None, 3, &["no-onion", "no-cilantro"])],
        ),
        (
            "portions, included options and a post-posed cue",
            HARBOR,
            &[
                "a [classic burger|ITEM] [no|NEGATION] [pickles|MODIFIER] [extra|PORTION] [bacon|MODIFIER] and [ranch|MODIFIER] [on the side|PORTION]",
            ],
            vec![line(
                "classic-burger",
                None,
                1,
                &["no:pickles", "extra:bacon", "side:ranch"],
            )],
        ),
        (
            "an option before its item",
            CASITA,
            &["a [steak|MODIFIER] [burrito|ITEM] with [guac|MODIFIER]"],
            vec![line("burrito", None, 1, &["p-asada", "add-guac"])],
        ),
        (
            "answers to questions go to the line asked about",
            TONYS,
            &[
                "a [pepperoni pizza|ITEM] and [wings|ITEM]",
                "[medium|SIZE]",
                "[hot|MODIFIER]",
            ],
            vec![
                line("pizza-pepperoni", Some("medium"), 1, &[]),
                line("wings", None, 1, &["sauce-hot"]),
            ],
        ),
        (
            "a count that names a size",
            TONYS,
            &["[12|QUANTITY] [wings|ITEM] with [bbq|MODIFIER]"],
            vec![line("wings", Some("12 piece"), 1, &["sauce-bbq"])],
        ),
        (
            "corrections change the last line or drop an item",
            TONYS,
            &[
                "a [large|SIZE] [pepperoni pizza|ITEM] and a [coke|ITEM]",
                "[actually|CORRECTION] [make that|CORRECTION] a [medium|SIZE]",
                "[scratch|CORRECTION] the [coke|ITEM]",
            ],
            vec![line("pizza-pepperoni", Some("medium"), 1, &[])],
        ),
        (
            "a count before options splits the line",
            CASITA,
            &[
                "[two|QUANTITY] [quesadillas|ITEM] [one|QUANTITY] with [chicken|MODIFIER] and [one|QUANTITY] with [steak|MODIFIER]",
            ],
            vec![
                line("quesadilla", None, 1, &["p-pollo"]),
                line("quesadilla", None, 1, &["p-asada"]),
            ],
        ),
        (
            "a question about the menu orders nothing",
            TONYS,
            &[
                "What kind of [pizzas|ITEM] do you have?",
                "Okay, a [large|SIZE] [margherita|ITEM] then.",
            ],
            vec![line("pizza-margherita", Some("large"), 1, &[])],
        ),
        (
            "what a price question was about is taken with 'I'll take one'",
            TONYS,
            &[
                "How much is a [large|SIZE] [cheese pizza|ITEM]?",
                "Great, I'll take [one|QUANTITY].",
            ],
            vec![line("pizza-cheese", Some("large"), 1, &[])],
        ),
        (
            "an item after 'on the' names a line already ordered",
            CASITA,
            &[
                "[two|QUANTITY] [carnitas tacos|ITEM], [no|NEGATION] [onions|MODIFIER] on the [carnitas|ITEM]",
            ],
            vec![line("taco-carnitas", None, 2, &["no-onion"])],
        ),
        (
            "a portion and an item that together are the store's option",
            TONYS,
            &[
                "a [large|SIZE] [pepperoni|ITEM] with [extra|PORTION] [cheese|ITEM] and [mushrooms|MODIFIER]",
            ],
            vec![line(
                "pizza-pepperoni",
                Some("large"),
                1,
                &["extra-cheese", "mushrooms"],
            )],
        ),
        (
            "an item implied by its options",
            HARBOR,
            &["a [large|SIZE] [root beer|MODIFIER]"],
            vec![line("soda", Some("large"), 1, &["root-beer"])],
        ),
    ];
    for (what, json, turns, want) in cases {
        let got = order(json, turns);
        assert_eq!(sorted(got.items), sorted(want.clone()), "{what}");
    }
}

#[test]
fn reads_the_caller_details() {
    let got = order(
        TONYS,
        &[
            "a [cheese pizza|ITEM] for [delivery|FULFILLMENT]",
            "it's [Dana|PERSON], [D A N A|PERSON]",
            "[555 201 7788|PHONE]",
            "[42 Elm Street apartment 3B|ADDRESS]",
        ],
    );
    assert_eq!(got.name.as_deref(), Some("Dana"));
    assert_eq!(got.phone.as_deref(), Some("+15552017788"));
    assert_eq!(got.address.as_deref(), Some("42 Elm Street apartment 3B"));
    assert_eq!(got.fulfillment.as_deref(), Some("delivery"));
    let es = order(CASITA, &["un [burrito|ITEM] [para llevar|FULFILLMENT]"]);
    assert_eq!(es.fulfillment.as_deref(), Some("pickup"));
}

#[test]
fn spans_outside_the_text_are_ignored() {
    let store = store(TONYS);
    let matcher = MenuMatcher::new(&store.menu);
    let spans = [Span {
        start: 3,
        end: 99,
        label: "ITEM".into(),
    }];
    let got = resolve(
        &store,
        &matcher,
        &[TurnSpans {
            text: "a coke",
            spans: &spans,
        }],
    );
    assert!(got.items.is_empty());
}

#[test]
fn compares_orders_as_multisets() {
    let store = store(TONYS);
    let a = vec![
        line("garlic-knots", None, 1, &[]),
        line("pizza-cheese", Some("large"), 2, &["bacon", "olives"]),
    ];
    let b = vec![
        line("pizza-cheese", Some("large"), 2, &["olives", "bacon"]),
        line("garlic-knots", Some("6 piece"), 1, &[]),
    ];
    let same = compare(&store.menu, &a, &b);
    assert!(same.agrees);
    assert!((same.confidence - 1.0).abs() < f32::EPSILON);
    let c = vec![line("pizza-cheese", Some("large"), 2, &["bacon"])];
    let differ = compare(&store.menu, &a, &c);
    assert!(!differ.agrees);
    assert_eq!(differ.only_dialog.len(), 2);
    assert_eq!(differ.only_model.len(), 1);
    assert!(differ.confidence < 0.01);
}

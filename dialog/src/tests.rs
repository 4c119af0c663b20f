//! Unit tests of the dialog flow, one behaviour per case, English and Spanish.

use kea_menu::matcher::MenuMatcher;
use kea_menu::{FulfillmentKind, OrderLine, Store};

use crate::{Context, DialogState, Event, Language, Next, Outcome, Turn, step};

const TONYS: &str = include_str!("../../tests/fixtures/stores/tonys-pizza.json");
const CASITA: &str = include_str!("../../tests/fixtures/stores/la-casita.json");
const BEAN: &str = include_str!("../../tests/fixtures/stores/bean-there.json");

fn store(json: &str) -> Store {
    match Store::parse(json) {
        Ok(store) => store,
        Err(err) => panic!("sample store does not parse: {err}"),
    }
}

fn event(text: &str) -> Event {
    match text {
        "<silence>" => Event::Silence,
        t if t.starts_with("#") => Event::Digits(t.trim_start_matches('#').to_owned()),
        t if t.starts_with("~") => Event::Speech {
            text: t.trim_start_matches('~').to_owned(),
            confidence: 0.4,
        },
        t => Event::Speech {
            text: t.to_owned(),
            confidence: 0.93,
        },
    }
}

/// Plays `said` after the greeting; returns the final state, the last turn, and all prompts.
fn call(store: &Store, said: &[&str]) -> (DialogState, Turn, Vec<String>) {
    let matcher = MenuMatcher::new(&store.menu);
    let ctx = Context {
        store,
        matcher: &matcher,
        now: None,
        enforce_hours: false,
    };
    let (mut state, mut turn) = step(&DialogState::new("+15557654321"), &Event::Start, &ctx);
    let mut heard = vec![text_of(&turn)];
    for s in said {
        let (next, t) = step(&state, &event(s), &ctx);
        state = next;
        turn = t;
        heard.push(text_of(&turn));
    }
    (state, turn, heard)
}

fn text_of(turn: &Turn) -> String {
    turn.say
        .iter()
        .map(|u| u.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn line(sku: &str, size: Option<&str>, quantity: u32, mods: &[&str]) -> OrderLine {
    OrderLine {
        sku: sku.into(),
        size: size.map(str::to_owned),
        quantity,
        modifiers: mods.iter().map(|m| (*m).to_owned()).collect(),
    }
}

fn sorted(mut lines: Vec<OrderLine>) -> Vec<OrderLine> {
    for l in &mut lines {
        l.modifiers.sort();
    }
    lines.sort_by(|a, b| {
        (&a.sku, &a.size, a.quantity, &a.modifiers).cmp(&(
            &b.sku,
            &b.size,
            b.quantity,
            &b.modifiers,
        ))
    });
    lines
}

#[test]
fn understands_orders() {
    let tonys = store(TONYS);
    let casita = store(CASITA);
    let bean = store(BEAN);
    type Case<'a> = (&'a str, &'a Store, &'a [&'a str], Vec<OrderLine>);
    let cases: Vec<Case> = vec![
        (
            "several items with word quantities",
            &tonys,
            &["Yeah, I'd like two large cheese pizzas and a Caesar salad."],
            vec![
                line("pizza-cheese", Some("large"), 2, &[]),
                line("caesar-salad", None, 1, &[]),
            ],
        ),
        (
            "a refusal option heard after 'hold the', over both options",
            &casita,
            &["two carnitas tacos, hold the onions and cilantro"],
            vec![line("taco-carnitas", None, 2, &["no-onion", "no-cilantro"])],
        ),
        (
            "'with onions' never orders the store's 'no onions'",
            &casita,
            &["two carnitas tacos with onions and cheese"],
            vec![line("taco-carnitas", None, 2, &["taco-cheese"])],
        ),
        (
            "'take off the onions' puts the refusal option on",
            &casita,
            &["a chicken taco", "take off the onions"],
            vec![line("taco-pollo", None, 1, &["no-onion"])],
        ),
        (
            "a correction with nothing ordered yet is the order",
            &tonys,
            &["large sausage, no wait, a large cheese pizza with sausage"],
            vec![line("pizza-cheese", Some("large"), 1, &["sausage"])],
        ),
        (
            "an item implied by a size and toppings is asked, keeping them",
            &tonys,
            &["a large with bacon and jalapenos", "the margherita"],
            vec![line(
                "pizza-margherita",
                Some("large"),
                1,
                &["bacon", "jalapenos"],
            )],
        ),
        (
            "options waiting for an item that does not take them imply their own",
            &tonys,
            &["a two liter bottle of sprite and a caesar salad"],
            vec![
                line("soda-2l", None, 1, &["flavor-sprite"]),
                line("caesar-salad", None, 1, &[]),
            ],
        ),
        (
            "a number before a word naming an option group counts options",
            &tonys,
            &[
                "one large two topping pizza with bacon and olives",
                "pepperoni",
            ],
            vec![line(
                "pizza-pepperoni",
                Some("large"),
                1,
                &["bacon", "olives"],
            )],
        ),
        (
            "'all of those pizzas' points back at the line, not a new one",
            &tonys,
            &["three cheese pizzas, large, and on all of those pizzas put mushrooms"],
            vec![line("pizza-cheese", Some("large"), 3, &["mushrooms"])],
        ),
        (
            "a new phrase after a line: its size and joined toppings go to its own item",
            &tonys,
            &["a small pepperoni pizza and a large bacon and onion hawaiian pizza"],
            vec![
                line("pizza-pepperoni", Some("small"), 1, &[]),
                line("pizza-hawaiian", Some("large"), 1, &["bacon", "onions"]),
            ],
        ),
        (
            "'and cheese' after an option is not the taco's 'with cheese'",
            &casita,
            &["a burrito with chicken and cheese"],
            vec![line("burrito", None, 1, &["p-pollo", "add-cheese"])],
        ),
        (
            "more and additional mean the store's extra",
            &tonys,
            &["a small cheese pizza with more cheese"],
            vec![line("pizza-cheese", Some("small"), 1, &["extra-cheese"])],
        ),
        (
            "a couple of",
            &tonys,
            &["A couple of Cokes please"],
            vec![line("coke-can", None, 2, &[])],
        ),
        (
            "digits",
            &tonys,
            &["3 sprites"],
            vec![line("sprite-can", None, 3, &[])],
        ),
        (
            "near names: Diet Coke is not Coke",
            &tonys,
            &["a diet coke and a coke"],
            vec![
                line("diet-coke-can", None, 1, &[]),
                line("coke-can", None, 1, &[]),
            ],
        ),
        (
            "near names: Mexican Coke",
            &casita,
            &["two mexican cokes"],
            vec![line("mexican-coke", None, 2, &[])],
        ),
        (
            "size in words",
            &tonys,
            &["the twelve piece wings with hot sauce"],
            vec![line("wings", Some("12 piece"), 1, &["sauce-hot"])],
        ),
        (
            "size in digits",
            &tonys,
            &["12 piece wings, mild"],
            vec![line("wings", Some("12 piece"), 1, &["sauce-mild"])],
        ),
        (
            "default size needs no question",
            &tonys,
            &["some garlic knots"],
            vec![line("garlic-knots", None, 1, &[])],
        ),
        (
            "modifiers after the item",
            &tonys,
            &["a large pepperoni with extra cheese and mushrooms, thin crust please"],
            vec![line(
                "pizza-pepperoni",
                Some("large"),
                1,
                &["extra-cheese", "mushrooms", "thin-crust"],
            )],
        ),
        (
            "modifier before the item",
            &casita,
            &["a chicken quesadilla"],
            vec![line("quesadilla", None, 1, &["p-pollo"])],
        ),
        (
            "modifier bound to the right item",
            &casita,
            &["Three al pastor tacos and two carnitas tacos, no onions on the carnitas."],
            vec![
                line("taco-al-pastor", None, 3, &[]),
                line("taco-carnitas", None, 2, &["no-onion"]),
            ],
        ),
        (
            "modifier to the nearest item offering it",
            &casita,
            &["a burrito with guac and a chicken quesadilla"],
            vec![
                line("burrito", None, 1, &["add-guac"]),
                line("quesadilla", None, 1, &["p-pollo"]),
            ],
        ),
        (
            "fillers and repetitions",
            &casita,
            &["Um, yeah, lemme get uh, the, the chicken quesadilla and, uh, chips and guac."],
            vec![
                line("quesadilla", None, 1, &["p-pollo"]),
                line("chips-guac", None, 1, &[]),
            ],
        ),
        (
            "one name, two choices",
            &casita,
            &["Two Jarritos, one mandarin and one tamarind."],
            vec![
                line("jarritos", None, 1, &["j-mandarin"]),
                line("jarritos", None, 1, &["j-tamarind"]),
            ],
        ),
        (
            "modifiers around the item",
            &bean,
            &["Can I get a large iced oat milk latte with an extra shot?"],
            vec![line(
                "latte",
                Some("large"),
                1,
                &["iced", "milk-oat", "extra-shot"],
            )],
        ),
        (
            "plurals",
            &bean,
            &["Two medium cappuccinos and a blueberry muffin."],
            vec![
                line("cappuccino", Some("medium"), 2, &[]),
                line("muffin-blueberry", None, 1, &[]),
            ],
        ),
        (
            "alias",
            &bean,
            &["a small coffee"],
            vec![line("drip-coffee", Some("small"), 1, &[])],
        ),
        (
            "spanish quantities and size after the item",
            &casita,
            &["Hola, quiero tres tacos de asada y una horchata grande."],
            vec![
                line("taco-asada", None, 3, &[]),
                line("horchata", Some("large"), 1, &[]),
            ],
        ),
        (
            "spanish options",
            &casita,
            &["un burrito de pollo con guacamole y sin arroz"],
            vec![line(
                "burrito",
                None,
                1,
                &["p-pollo", "add-guac", "no-rice"],
            )],
        ),
        (
            "correction in the same utterance",
            &tonys,
            &["Can I get a small cheese pizza, actually make that a large."],
            vec![line("pizza-cheese", Some("large"), 1, &[])],
        ),
        (
            "quantity change later",
            &tonys,
            &["a sprite", "make that three"],
            vec![line("sprite-can", None, 3, &[])],
        ),
        (
            "size change later",
            &tonys,
            &["a medium pepperoni pizza", "actually make it a large"],
            vec![line("pizza-pepperoni", Some("large"), 1, &[])],
        ),
        (
            "removal later",
            &tonys,
            &[
                "A large veggie pizza and some garlic knots.",
                "Actually, scratch the garlic knots.",
            ],
            vec![line("pizza-veggie", Some("large"), 1, &[])],
        ),
        (
            "removal of part of a quantity",
            &tonys,
            &["three cokes", "take off one coke"],
            vec![line("coke-can", None, 2, &[])],
        ),
        (
            "replacement later",
            &tonys,
            &[
                "A medium pepperoni pizza and a Sprite.",
                "Change the Sprite to a Diet Coke.",
            ],
            vec![
                line("pizza-pepperoni", Some("medium"), 1, &[]),
                line("diet-coke-can", None, 1, &[]),
            ],
        ),
        (
            "replacement keeps the quantity",
            &tonys,
            &["two sprites", "change the sprites to diet cokes"],
            vec![line("diet-coke-can", None, 2, &[])],
        ),
        (
            "instead of",
            &tonys,
            &["a coke", "can I get a sprite instead of the coke"],
            vec![line("sprite-can", None, 1, &[])],
        ),
        (
            "spanish removal",
            &casita,
            &[
                "tres tacos de pollo y una horchata chica",
                "quita la horchata",
            ],
            vec![line("taco-pollo", None, 3, &[])],
        ),
        (
            "option removed",
            &tonys,
            &[
                "a large cheese pizza with onions and bacon",
                "remove the onions",
            ],
            vec![line("pizza-cheese", Some("large"), 1, &["bacon"])],
        ),
        (
            "price question then I'll take one",
            &tonys,
            &["How much is a large cheese pizza?", "Great, I'll take one."],
            vec![line("pizza-cheese", Some("large"), 1, &[])],
        ),
        (
            "size answer",
            &tonys,
            &["Can I get a Hawaiian pizza?", "Medium, please."],
            vec![line("pizza-hawaiian", Some("medium"), 1, &[])],
        ),
        (
            "choice answer",
            &tonys,
            &["the twelve piece wings", "Barbecue."],
            vec![line("wings", Some("12 piece"), 1, &["sauce-bbq"])],
        ),
        (
            "spanish choice answer",
            &casita,
            &["quiero un burrito", "pollo"],
            vec![line("burrito", None, 1, &["p-pollo"])],
        ),
        (
            "category then choice",
            &casita,
            &["two tacos", "carnitas"],
            vec![line("taco-carnitas", None, 2, &[])],
        ),
        (
            "spanish quantity change",
            &casita,
            &["dos tacos de pollo", "mejor que sean tres"],
            vec![line("taco-pollo", None, 3, &[])],
        ),
        (
            "no wait",
            &tonys,
            &["a small coke, no wait, a sprite"],
            vec![line("sprite-can", None, 1, &[])],
        ),
        (
            "negated item is removed",
            &tonys,
            &[
                "a large cheese pizza and garlic knots",
                "actually no garlic knots",
            ],
            vec![line("pizza-cheese", Some("large"), 1, &[])],
        ),
        (
            "spanish negated item",
            &casita,
            &[
                "tres tacos de pollo y unos chips and salsa",
                "sin los chips and salsa",
            ],
            vec![line("taco-pollo", None, 3, &[])],
        ),
        (
            "size split",
            &tonys,
            &["two pepperoni pizzas, one large and one small"],
            vec![
                line("pizza-pepperoni", Some("large"), 1, &[]),
                line("pizza-pepperoni", Some("small"), 1, &[]),
            ],
        ),
        (
            "category with a size, then items",
            &tonys,
            &["two large pizzas, one pepperoni and one cheese"],
            vec![
                line("pizza-pepperoni", Some("large"), 1, &[]),
                line("pizza-cheese", Some("large"), 1, &[]),
            ],
        ),
        (
            "split by option with 'with'",
            &bean,
            &["two large americanos, one with an extra shot"],
            vec![
                line("americano", Some("large"), 1, &["extra-shot"]),
                line("americano", Some("large"), 1, &[]),
            ],
        ),
        (
            "flavour after 'of'",
            &tonys,
            &["a two liter of diet coke"],
            vec![line("soda-2l", None, 1, &["flavor-diet-coke"])],
        ),
        (
            "spanish ellipsis",
            &casita,
            &["cuatro tacos al pastor y dos de pollo"],
            vec![
                line("taco-al-pastor", None, 4, &[]),
                line("taco-pollo", None, 2, &[]),
            ],
        ),
        (
            "restating at the read-back",
            &tonys,
            &[
                "a coke",
                "no",
                "pickup",
                "Mo",
                "yes",
                "no, I said two cokes",
            ],
            vec![line("coke-can", None, 2, &[])],
        ),
        (
            "make that names its line",
            &tonys,
            &["two sprites and a caesar salad", "make that three sprites"],
            vec![
                line("sprite-can", None, 3, &[]),
                line("caesar-salad", None, 1, &[]),
            ],
        ),
        (
            "offer accepted with details",
            &tonys,
            &["do you have wings?", "yeah, twelve piece with hot sauce"],
            vec![line("wings", Some("12 piece"), 1, &["sauce-hot"])],
        ),
        (
            "fuzzy then yes",
            &tonys,
            &["a large pepper only pizza", "yes"],
            vec![line("pizza-pepperoni", Some("large"), 1, &[])],
        ),
        (
            "a number that names a size",
            &tonys,
            &["twelve wings, mild"],
            vec![line("wings", Some("12 piece"), 1, &["sauce-mild"])],
        ),
        (
            "a dozen names a size",
            &tonys,
            &["a dozen wings with barbecue sauce"],
            vec![line("wings", Some("12 piece"), 1, &["sauce-bbq"])],
        ),
        (
            "not a X, a Y",
            &tonys,
            &["a sprite", "not a sprite, a diet coke"],
            vec![line("diet-coke-can", None, 1, &[])],
        ),
        (
            "three of those",
            &tonys,
            &["a caesar salad", "actually I'll need three of those"],
            vec![line("caesar-salad", None, 3, &[])],
        ),
        (
            "fuzzy then no",
            &tonys,
            &["a large pepper only pizza", "no"],
            vec![],
        ),
        (
            "low confidence then yes",
            &tonys,
            &["~a medium hawaiian pizza", "yes that's right"],
            vec![line("pizza-hawaiian", Some("medium"), 1, &[])],
        ),
    ];
    for (name, store, said, want) in cases {
        let (state, _, heard) = call(store, said);
        assert_eq!(
            sorted(state.lines()),
            sorted(want),
            "{name}: heard {heard:#?}"
        );
    }
}

/// (case, store, said, what the last prompt must contain)
#[test]
fn asks_the_right_question() {
    let tonys = store(TONYS);
    let casita = store(CASITA);
    let bean = store(BEAN);
    let cases: Vec<(&str, &Store, &[&str], &[&str])> = vec![
        (
            "greeting",
            &tonys,
            &[],
            &["Tony's Pizza", "What can I get for you?"],
        ),
        (
            "size",
            &tonys,
            &["a hawaiian pizza"],
            &["What size", "small, medium or large?"],
        ),
        (
            "spanish size",
            &casita,
            &["quiero una horchata"],
            &["tamaño", "chico o grande"],
        ),
        (
            "required choice names its options",
            &tonys,
            &["12 piece wings"],
            &[
                "Which wing sauce",
                "mild, hot, barbecue or garlic parmesan?",
            ],
        ),
        (
            "required choice in spanish",
            &casita,
            &["quiero un burrito"],
            &[
                "¿Cuál",
                "al pastor, carne asada, chicken, carnitas o veggie?",
            ],
        ),
        (
            "anything else",
            &tonys,
            &["a large cheese pizza"],
            &["Anything else?"],
        ),
        (
            "pickup or delivery when both are offered",
            &tonys,
            &["a large cheese pizza", "that's all"],
            &["pickup or delivery?"],
        ),
        (
            "no fulfillment question when only pickup",
            &bean,
            &["a croissant", "that's it"],
            &["What name"],
        ),
        (
            "address for delivery",
            &tonys,
            &["a large cheese pizza for delivery", "no that's all"],
            &["delivery address?"],
        ),
        (
            "delivery minimum",
            &tonys,
            &["a coke for delivery", "that's all"],
            &["$15.00", "What else would you like to add?"],
        ),
        (
            "name",
            &tonys,
            &["a large cheese pizza", "that's all", "pickup"],
            &["What name"],
        ),
        (
            "phone by its last four digits",
            &tonys,
            &["a large cheese pizza", "that's all", "pickup", "It's Maria"],
            &["ending in 4321"],
        ),
        (
            "read-back with the total",
            &tonys,
            &[
                "a large pepperoni pizza",
                "that's all",
                "pickup",
                "It's Maria",
                "yes",
            ],
            &[
                "a large Pepperoni Pizza",
                "Maria",
                "$20.65",
                "Is that correct?",
            ],
        ),
        (
            "delivery read-back with the fee",
            &tonys,
            &[
                "a medium meat lovers pizza for delivery",
                "no",
                "42 Elm Street, apartment 3B.",
                "Kevin",
                "yes",
            ],
            &[
                "42 Elm Street, apartment 3B",
                "$3.00 delivery fee",
                "$22.56",
            ],
        ),
        (
            "spanish read-back",
            &casita,
            &["quiero tres tacos de asada", "no, es todo", "Lupita", "sí"],
            &["Su orden", "Lupita", "¿Es correcto?"],
        ),
        (
            "read-back fix reads back again",
            &tonys,
            &[
                "A medium pepperoni pizza and a Sprite.",
                "no that's all",
                "pickup",
                "Omar",
                "yes",
                "No, change the Sprite to a Diet Coke.",
            ],
            &["Diet Coke instead of", "Is that correct?"],
        ),
        (
            "read-back no asks what to change",
            &tonys,
            &["a coke", "no", "pickup", "Omar", "yes", "no"],
            &["What would you like to change?"],
        ),
        (
            "fuzzy match is confirmed",
            &tonys,
            &["a large pepper only pizza"],
            &["Did you say a large Pepperoni Pizza?"],
        ),
        (
            "low confidence is confirmed",
            &tonys,
            &["~a large cheese pizza"],
            &["Did you say a large Cheese Pizza?"],
        ),
        (
            "spanish confirmation",
            &casita,
            &["~quiero tres tacos de asada"],
            &["¿Es correcto?"],
        ),
        (
            "after no, ask again",
            &tonys,
            &["a large pepper only pizza", "no"],
            &["What would you like?"],
        ),
        (
            "menu question",
            &tonys,
            &["What kind of pizzas do you have?"],
            &[
                "Cheese, Pepperoni, Margherita, Veggie Supreme, Hawaiian and Meat Lovers",
                "What would you like?",
            ],
        ),
        (
            "price question",
            &tonys,
            &["How much is a large cheese pizza?"],
            &["$16.99", "Would you like one?"],
        ),
        (
            "price question without a size",
            &tonys,
            &["how much is a pepperoni pizza"],
            &["$12.99 for small", "$18.99 for large"],
        ),
        (
            "spanish price question",
            &casita,
            &["¿cuánto cuesta el burrito?"],
            &["$10.50"],
        ),
        (
            "unknown item refused with alternatives",
            &tonys,
            &["Do you guys have calzones?"],
            &[
                "Sorry, we don't have calzones",
                "pizza",
                "What would you like?",
            ],
        ),
        (
            "unknown item",
            &casita,
            &["do you have enchiladas"],
            &["we don't have enchiladas", "tacos"],
        ),
        (
            "spanish unknown item",
            &casita,
            &["¿tienen enchiladas?"],
            &["no tenemos enchiladas"],
        ),
        (
            "silence reprompts",
            &tonys,
            &["<silence>"],
            &["didn't hear", "What can I get for you?"],
        ),
        (
            "not understood reprompts",
            &tonys,
            &["blah blah"],
            &["didn't catch"],
        ),
        (
            "repeat request repeats the question",
            &tonys,
            &["a hawaiian pizza", "Sorry, what was that?"],
            &["What size"],
        ),
        (
            "spanish greeting reply",
            &casita,
            &["Hola, quiero dos tacos de pollo"],
            &["dos Chicken Taco", "¿Algo más?"],
        ),
    ];
    let extra: Vec<(&str, &Store, &[&str], &[&str])> = vec![
        (
            "unknown item said as an order",
            &bean,
            &["a small hot chocolate please"],
            &["Sorry, we don't have hot chocolate", "What would you like?"],
        ),
        (
            "done with nothing ordered",
            &tonys,
            &["no that's all"],
            &["I don't have anything on your order yet."],
        ),
        (
            "spanish silence",
            &casita,
            &["quiero dos tacos de pollo", "<silence>"],
            &["Perdón, no le escuché.", "¿Algo más?"],
        ),
        (
            "spanish not understood",
            &casita,
            &["quiero dos tacos de pollo", "bla bla bla"],
            &["Perdón, no le entendí."],
        ),
        (
            "spanish name question",
            &casita,
            &["quiero dos tacos de pollo", "no, es todo"],
            &["¿A nombre de quién"],
        ),
        (
            "spanish phone question",
            &casita,
            &["quiero dos tacos de pollo", "no, es todo", "Lupita"],
            &["número que termina en 4321"],
        ),
        (
            "spanish menu question",
            &casita,
            &["¿qué tacos tienen?"],
            &[
                "De tacos tenemos Al Pastor, Carne Asada, Chicken, Carnitas y Veggie",
                "¿Qué le gustaría ordenar?",
            ],
        ),
        (
            "spanish price answer then offer",
            &casita,
            &["¿cuánto cuesta una horchata grande?"],
            &["$3.99", "¿Quiere que se lo agregue?"],
        ),
        (
            "only pickup offered",
            &casita,
            &["two chicken tacos for delivery"],
            &["we only do pickup", "Anything else?"],
        ),
        (
            "keypad phone",
            &tonys,
            &["a coke", "no", "pickup", "Mo", "no", "#5552017788"],
            &["Is that correct?"],
        ),
        (
            "yes to anything else",
            &tonys,
            &["a coke", "yes"],
            &["what else would you like?"],
        ),
        (
            "repeat my order",
            &tonys,
            &["two cokes", "can you repeat my order?"],
            &["So far I have two Cokes.", "Anything else?"],
        ),
        (
            "total question",
            &tonys,
            &["a large cheese pizza", "how much is that?"],
            &["So far your total is $18.48 with tax.", "Anything else?"],
        ),
        (
            "option question",
            &bean,
            &["do you have oat milk?"],
            &[
                "Yes, we have oat milk for $0.75 extra",
                "What would you like?",
            ],
        ),
        (
            "sizes question",
            &tonys,
            &["what sizes does the pepperoni come in"],
            &[
                "Pepperoni Pizza is $12.99 for small, $15.99 for medium or $18.99 for large",
                "Would you like one?",
            ],
        ),
    ];
    for (name, store, said, want) in cases.into_iter().chain(extra) {
        let (_, turn, heard) = call(store, said);
        let text = text_of(&turn);
        for w in want {
            assert!(
                text.contains(w),
                "{name}: {text:?} lacks {w:?}; heard {heard:#?}"
            );
        }
        assert!(
            matches!(turn.next, Next::Listen { .. }),
            "{name}: {:?}",
            turn.next
        );
    }
}

#[test]
fn ends_calls() {
    let tonys = store(TONYS);
    let casita = store(CASITA);
    let cases: Vec<(&str, &Store, &[&str], Outcome, Next)> = vec![
        (
            "done twice with nothing ordered",
            &tonys,
            &["no that's all", "no that's all"],
            Outcome::Cancelled,
            Next::Hangup,
        ),
        (
            "real person",
            &tonys,
            &["Can I speak to a real person please?"],
            Outcome::Transferred,
            Next::Transfer,
        ),
        (
            "agent",
            &tonys,
            &["agent"],
            Outcome::Transferred,
            Next::Transfer,
        ),
        (
            "manager mid-order",
            &tonys,
            &["a coke", "let me talk to the manager"],
            Outcome::Transferred,
            Next::Transfer,
        ),
        (
            "spanish person",
            &casita,
            &["quiero hablar con una persona"],
            Outcome::Transferred,
            Next::Transfer,
        ),
        (
            "three silences",
            &tonys,
            &["<silence>", "<silence>", "<silence>"],
            Outcome::Transferred,
            Next::Transfer,
        ),
        (
            "three misunderstandings",
            &tonys,
            &["blah", "blah blah", "zzz"],
            Outcome::Transferred,
            Next::Transfer,
        ),
        (
            "zero on the keypad",
            &tonys,
            &["#0"],
            Outcome::Transferred,
            Next::Transfer,
        ),
        (
            "cancel",
            &tonys,
            &[
                "I want a large cheese pizza.",
                "Actually, never mind. Cancel the order.",
            ],
            Outcome::Cancelled,
            Next::Hangup,
        ),
        (
            "forget it",
            &tonys,
            &["a coke", "forget it"],
            Outcome::Cancelled,
            Next::Hangup,
        ),
        (
            "spanish cancel",
            &casita,
            &["quiero un taco de pollo", "cancela la orden"],
            Outcome::Cancelled,
            Next::Hangup,
        ),
        (
            "cancel at the read-back",
            &tonys,
            &["a coke", "no", "pickup", "Omar", "yes", "no, cancel it"],
            Outcome::Cancelled,
            Next::Hangup,
        ),
    ];
    for (name, store, said, outcome, next) in cases {
        let (state, turn, heard) = call(store, said);
        assert_eq!(turn.outcome, Some(outcome), "{name}: {heard:#?}");
        assert_eq!(turn.next, next, "{name}");
        assert!(turn.order.is_none(), "{name}");
        assert!(state.ended(), "{name}");
        assert!(!text_of(&turn).is_empty(), "{name}");
    }
}

#[test]
fn places_the_order() {
    let tonys = store(TONYS);
    let (state, turn, heard) = call(
        &tonys,
        &[
            "a large pepperoni pizza",
            "that's all",
            "delivery",
            "42 Elm Street, apartment 3B.",
            "It's Kevin.",
            "yes",
            "yes",
        ],
    );
    assert_eq!(turn.outcome, Some(Outcome::OrderPlaced), "{heard:#?}");
    assert_eq!(turn.next, Next::Hangup);
    let Some(order) = turn.order.clone() else {
        panic!("no order: {heard:#?}")
    };
    assert_eq!(
        order.lines,
        vec![line("pizza-pepperoni", Some("large"), 1, &[])]
    );
    assert_eq!(order.fulfillment, FulfillmentKind::Delivery);
    assert_eq!(order.customer_name, "Kevin");
    assert_eq!(order.customer_phone, "+15557654321");
    assert_eq!(
        order.delivery_address.as_deref(),
        Some("42 Elm Street, apartment 3B")
    );
    assert_eq!(order.ready_in_minutes, 45);
    assert!(order.confidence > 0.9 && order.confidence <= 1.0);
    assert!(text_of(&turn).contains("45 minutes"));
    assert!(state.ended());
    // A turn after the end only says goodbye.
    let matcher = MenuMatcher::new(&tonys.menu);
    let ctx = Context {
        store: &tonys,
        matcher: &matcher,
        now: None,
        enforce_hours: false,
    };
    let (_, after) = step(&state, &event("hello?"), &ctx);
    assert_eq!(after.next, Next::Hangup);
    assert_eq!(after.order, None);
}

#[test]
fn callback_number_replaces_caller_id() {
    let tonys = store(TONYS);
    for (said, want) in [
        (
            &[
                "One small cheese pizza please. You can reach me at 555 201 7788.",
                "no",
                "pickup",
                "Paul",
                "yes",
            ][..],
            "+15552017788",
        ),
        (
            &[
                "a coke",
                "no",
                "pickup",
                "Paul",
                "no, use five five five two oh one seven seven eight eight",
                "yes",
            ][..],
            "+15552017788",
        ),
        (
            &[
                "a coke",
                "no",
                "pickup",
                "Paul",
                "no",
                "555-201-7788",
                "yes",
            ][..],
            "+15552017788",
        ),
    ] {
        let (_, turn, heard) = call(&tonys, said);
        assert_eq!(
            turn.order.map(|o| o.customer_phone),
            Some(want.to_owned()),
            "{heard:#?}"
        );
    }
}

#[test]
fn a_low_confidence_line_is_checked_and_certain_once_the_caller_confirms_it() {
    let tonys = store(TONYS);
    let (_, turn, heard) = call(
        &tonys,
        &[
            "~a large pepper only pizza",
            "yes",
            "no",
            "pickup",
            "Vic",
            "yes",
            "yes",
        ],
    );
    let Some(order) = turn.order else {
        panic!("no order: {heard:#?}")
    };
    // The line was held and read back ("did you say …?") before it joined the order; the
    // caller's yes makes it certain, so the pipeline need not ask an agent about it.
    assert!(
        heard
            .iter()
            .any(|h| h.to_lowercase().contains("did you say")),
        "{heard:#?}"
    );
    assert!(
        (order.confidence - 1.0).abs() < f32::EPSILON,
        "{}",
        order.confidence
    );
}

#[test]
fn language_follows_the_caller() {
    let casita = store(CASITA);
    let tonys = store(TONYS);
    let (state, turn, _) = call(&casita, &["Hola, quiero tres tacos de asada"]);
    assert_eq!(state.language(), Language::Es);
    assert_eq!(turn.language.bcp47(), "es-US");
    assert!(turn.say.iter().all(|u| u.language == Language::Es));
    let (state, _, _) = call(
        &casita,
        &[
            "Hola, quiero tres tacos de asada",
            "actually can I switch to English please",
        ],
    );
    assert_eq!(state.language(), Language::En);
    // A store without es-US keeps speaking English.
    let (state, _, _) = call(&tonys, &["hola, quiero una pizza grande de pepperoni"]);
    assert_eq!(state.language(), Language::En);
    // Menu words in Spanish do not switch an English caller.
    let (state, _, _) = call(&casita, &["I'd like two tacos de asada please"]);
    assert_eq!(state.language(), Language::En);
    // A store that lists Spanish first greets in Spanish.
    let mut spanish_first = casita.clone();
    spanish_first.languages = vec!["es-US".into(), "en-US".into()];
    let (_, turn, _) = call(&spanish_first, &[]);
    assert!(text_of(&turn).contains("Gracias por llamar"));
}

#[test]
fn steps_are_deterministic_and_states_round_trip() {
    let tonys = store(TONYS);
    let matcher = MenuMatcher::new(&tonys.menu);
    let ctx = Context {
        store: &tonys,
        matcher: &matcher,
        now: None,
        enforce_hours: false,
    };
    let said = [
        "A medium pepperoni pizza and a Sprite.",
        "no",
        "pickup",
        "Omar",
        "yes",
        "No, change the Sprite to a Diet Coke.",
        "yes",
    ];
    let mut a = step(&DialogState::new("+15557654321"), &Event::Start, &ctx).0;
    let mut b = a.clone();
    for s in said {
        let (na, ta) = step(&a, &event(s), &ctx);
        let (nb, tb) = step(&b, &event(s), &ctx);
        assert_eq!(ta, tb);
        assert_eq!(na, nb);
        let json = serde_json::to_string(&na).unwrap_or_default();
        let back: DialogState =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(back, na);
        assert!(json.len() < 2000, "state too big: {json}");
        a = na;
        b = back;
    }
    assert!(a.ended());
}

#[test]
fn hints_name_the_menu() {
    let tonys = store(TONYS);
    let matcher = MenuMatcher::new(&tonys.menu);
    let ctx = Context {
        store: &tonys,
        matcher: &matcher,
        now: None,
        enforce_hours: false,
    };
    let hints = crate::hints(&ctx);
    for word in ["Pepperoni Pizza", "Diet Coke", "extra cheese", "12 piece"] {
        assert!(hints.iter().any(|h| h == word), "{word} not in {hints:?}");
    }
    let (_, turn, _) = call(&tonys, &["a hawaiian pizza"]);
    assert_eq!(
        turn.next,
        Next::Listen {
            hints: vec!["small".into(), "medium".into(), "large".into()]
        }
    );
}

const WOK: &str = include_str!("../tests/stores/golden-wok.json");

/// Plays `said` to the end and returns the placed order with everything the caller heard.
fn placed(store: &Store, said: &[&str]) -> (crate::PlacedOrder, Vec<String>) {
    let (_, turn, heard) = call(store, said);
    match turn.order {
        Some(order) => (order, heard),
        None => panic!("no order: {heard:#?}"),
    }
}

fn never_asked(heard: &[String], questions: &[&str]) {
    for h in heard {
        for q in questions {
            assert!(!h.contains(q), "asked {q:?} again: {heard:#?}");
        }
    }
}

#[test]
fn volunteered_details_are_kept_and_not_asked_again() {
    let tonys = store(TONYS);
    let casita = store(CASITA);
    let wok = store(WOK);
    // Name, delivery and address in the first breath; only the number is left to confirm.
    let (order, heard) = placed(
        &tonys,
        &[
            "Hi, this is Maria, I'd like a large pepperoni for delivery to 42 Elm Street apartment 3B",
            "no that's all",
            "yes",
            "yes",
        ],
    );
    assert_eq!(
        order.lines,
        vec![line("pizza-pepperoni", Some("large"), 1, &[])]
    );
    assert_eq!(order.fulfillment, FulfillmentKind::Delivery);
    assert_eq!(order.customer_name, "Maria");
    assert_eq!(
        order.delivery_address.as_deref(),
        Some("42 Elm Street apartment 3B")
    );
    never_asked(
        &heard,
        &["What name", "delivery address?", "pickup or delivery?"],
    );
    assert!(
        heard
            .iter()
            .any(|h| h.contains("for delivery to 42 Elm Street apartment 3B under Maria")),
        "the read-back confirms them: {heard:#?}"
    );
    assert!(heard[1].starts_with("Thanks, Maria."), "{heard:#?}");

    // A number, pickup and a name said along the way.
    let (order, heard) = placed(
        &tonys,
        &[
            "two cokes and a large cheese pizza, this is for pickup",
            "my number is 555 123 4567",
            "and the name's Dana Scott",
            "that's all",
            "yes",
        ],
    );
    assert_eq!(order.customer_phone, "+15551234567");
    assert_eq!(order.customer_name, "Dana Scott");
    assert_eq!(order.fulfillment, FulfillmentKind::Pickup);
    never_asked(
        &heard,
        &[
            "What name",
            "pickup or delivery?",
            "ending in",
            "phone number",
        ],
    );

    // Spanish: "soy María", "para entrega a …", accents kept.
    let (order, heard) = placed(
        &wok,
        &[
            "Hola, soy María, quiero dos lo mein de pollo para entrega a Calle Olmo 42, departamento 3",
            "no, es todo",
            "sí",
            "sí",
        ],
    );
    assert_eq!(order.customer_name, "María");
    assert_eq!(order.fulfillment, FulfillmentKind::Delivery);
    assert_eq!(
        order.delivery_address.as_deref(),
        Some("Calle Olmo 42, departamento 3")
    );
    assert_eq!(order.lines, vec![line("lo-mein", None, 2, &["np-chicken"])]);
    never_asked(
        &heard,
        &["A nombre de quién", "dirección", "recoger o a domicilio"],
    );

    // "me llamo…" and "para recoger".
    let (order, heard) = placed(
        &casita,
        &[
            "Buenas, me llamo José Ángel de la Cruz, quiero tres tacos de asada para recoger",
            "no, es todo",
            "sí",
            "sí",
        ],
    );
    assert_eq!(order.customer_name, "José Ángel de la Cruz");
    assert_eq!(order.lines, vec![line("taco-asada", None, 3, &[])]);
    never_asked(&heard, &["A nombre de quién"]);

    // A name corrected at the read-back is read back again, not placed.
    let (state, turn, heard) = call(
        &tonys,
        &[
            "I'm Maria and I'd like a coke and a large cheese pizza",
            "that's all",
            "pickup",
            "yes",
            "no, the name is Mariah",
        ],
    );
    assert_eq!(turn.outcome, None, "{heard:#?}");
    assert!(!state.ended());
    let text = text_of(&turn);
    assert!(
        text.contains("under Mariah") && text.contains("Is that correct?"),
        "{heard:#?}"
    );
    // "No, the name is…" at the phone question is about the name, not the number.
    let (_, turn, heard) = call(
        &tonys,
        &[
            "I'm Maria, a large cheese pizza",
            "that's all",
            "pickup",
            "no, my name is Mariah",
        ],
    );
    assert!(text_of(&turn).contains("ending in 4321"), "{heard:#?}");
}

#[test]
fn volunteered_details_do_not_misread_the_order() {
    let tonys = store(TONYS);
    let casita = store(CASITA);
    let matcher = MenuMatcher::new(&tonys.menu);
    // (utterance, name, address)
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        ("this is for pickup", None, None),
        ("I'd like a large cheese pizza", None, None),
        ("Hi, it's a large pepperoni please", None, None),
        ("It's Pepperoni.", None, None),
        ("Yes, this is correct", None, None),
        ("I'm good, that's all", None, None),
        ("Hi, is this Tony's? This is Tony's Pizza?", None, None),
        ("Hi, this is Maria, I'd like a pizza", Some("Maria"), None),
        (
            "I'm Priya Patel and I want two cokes",
            Some("Priya Patel"),
            None,
        ),
        ("my name is olive", Some("Olive"), None),
        ("put it under Kevin please", Some("Kevin"), None),
        ("soy María y quiero dos tacos", Some("María"), None),
        ("soy alérgico a la cebolla", None, None),
        ("me llamo maría josé", Some("María José"), None),
        ("a nombre de Ángel, por favor", Some("Ángel"), None),
        (
            "a large pepperoni for delivery to 42 Elm Street apartment 3B",
            None,
            Some("42 Elm Street apartment 3B"),
        ),
        (
            "deliver it to 100 Main St. Apt 4, and my name is Kevin",
            Some("Kevin"),
            Some("100 Main St. Apt 4"),
        ),
        (
            "delivery to 9 Oak Avenue, my number is 555 201 7788",
            None,
            Some("9 Oak Avenue"),
        ),
        ("deliver it to my house", None, None),
        ("delivery at 6 please", None, None),
        ("para entrega a domicilio", None, None),
        (
            "para entrega a Calle Olmo 42, departamento 3",
            None,
            Some("Calle Olmo 42, departamento 3"),
        ),
        (
            "mi dirección es Avenida Juárez 100",
            None,
            Some("Avenida Juárez 100"),
        ),
    ];
    for (text, name, address) in cases {
        let found = crate::understand::Volunteered::find(text, &matcher, &tonys.name);
        assert_eq!(found.name.as_deref(), *name, "name in {text:?}");
        assert_eq!(found.address.as_deref(), *address, "address in {text:?}");
    }
    // Address words and names stay out of the order.
    let orders: Vec<(&str, &Store, &[&str], Vec<OrderLine>)> = vec![
        (
            "house number and street are not a quantity and an item",
            &tonys,
            &["a large pepperoni for delivery to 42 Elm Street apartment 3B"],
            vec![line("pizza-pepperoni", Some("large"), 1, &[])],
        ),
        (
            "a street named like an item",
            &tonys,
            &["a sprite and a large cheese pizza delivered to 55 Coke Street"],
            vec![
                line("sprite-can", None, 1, &[]),
                line("pizza-cheese", Some("large"), 1, &[]),
            ],
        ),
        (
            "a name that is a topping",
            &tonys,
            &["my name is Olive, a small cheese pizza please"],
            vec![line("pizza-cheese", Some("small"), 1, &[])],
        ),
        (
            "spanish name and pickup",
            &casita,
            &["soy Rosa, quiero dos tacos de pollo para recoger"],
            vec![line("taco-pollo", None, 2, &[])],
        ),
    ];
    for (name, store, said, want) in orders {
        let (state, _, heard) = call(store, said);
        assert_eq!(sorted(state.lines()), sorted(want), "{name}: {heard:#?}");
    }
}

#[test]
fn half_and_half_never_drops_an_option() {
    let tonys = store(TONYS);
    let casita = store(CASITA);
    let bean = store(BEAN);
    // One sauce per order: ask which, listing the two said.
    let (state, turn, heard) = call(&tonys, &["12 piece wings, half hot, half mild"]);
    let text = text_of(&turn);
    assert!(
        text.contains("only put one wing sauce") && text.contains("hot or mild?"),
        "{heard:#?}"
    );
    assert_eq!(state.lines(), vec![line("wings", Some("12 piece"), 1, &[])]);
    let cases: Vec<(&str, &Store, &[&str], Vec<OrderLine>)> = vec![
        (
            "the caller picks one",
            &tonys,
            &["12 piece wings, half hot, half mild", "hot"],
            vec![line("wings", Some("12 piece"), 1, &["sauce-hot"])],
        ),
        (
            "before the item",
            &tonys,
            &["half hot half mild 6 piece wings", "mild please"],
            vec![line("wings", Some("6 piece"), 1, &["sauce-mild"])],
        ),
        (
            "one of each when there are two orders",
            &tonys,
            &["two 6 piece wings, half hot half mild", "one of each"],
            vec![
                line("wings", Some("6 piece"), 1, &["sauce-hot"]),
                line("wings", Some("6 piece"), 1, &["sauce-mild"]),
            ],
        ),
        (
            "a correction is not a conflict",
            &tonys,
            &["12 piece wings with hot, no wait, mild"],
            vec![line("wings", Some("12 piece"), 1, &["sauce-mild"])],
        ),
        (
            "a later change is not a conflict",
            &tonys,
            &["12 piece wings with hot", "make that mild"],
            vec![line("wings", Some("12 piece"), 1, &["sauce-mild"])],
        ),
        (
            "a group that takes two keeps both",
            &bean,
            &["a large latte half vanilla half caramel"],
            vec![line(
                "latte",
                Some("large"),
                1,
                &["syrup-vanilla", "syrup-caramel"],
            )],
        ),
        (
            "two crusts",
            &tonys,
            &[
                "a large cheese pizza half thin crust half stuffed crust",
                "thin",
            ],
            vec![line("pizza-cheese", Some("large"), 1, &["thin-crust"])],
        ),
        (
            "spanish",
            &casita,
            &["quiero un burrito con pollo y asada", "asada"],
            vec![line("burrito", None, 1, &["p-asada"])],
        ),
    ];
    for (name, store, said, want) in cases {
        let (state, _, heard) = call(store, said);
        assert_eq!(sorted(state.lines()), sorted(want), "{name}: {heard:#?}");
    }
    // Prompts: answering the sauce question with two sauces asks again; Spanish asks "¿Cuál…?";
    // one of each is offered only when the orders can be shared out; three syrups for two slots.
    let prompts: Vec<(&str, &Store, &[&str], &[&str])> = vec![
        (
            "two sauces for the sauce question",
            &tonys,
            &["12 piece wings", "hot and mild"],
            &["only put one wing sauce", "hot or mild?"],
        ),
        (
            "still undecided",
            &tonys,
            &["12 piece wings, half hot, half mild", "hmm both"],
            &["hot or mild?"],
        ),
        (
            "one of each offered",
            &tonys,
            &["two 6 piece wings, half hot half mild"],
            &["each order of 6 piece Buffalo Wings", "or one of each?"],
        ),
        (
            "spanish",
            &casita,
            &["quiero un burrito con pollo y asada"],
            &[
                "solo puedo poner una opción",
                "¿Cuál prefiere: chicken o carne asada?",
            ],
        ),
        (
            "more than the group takes",
            &bean,
            &["a large latte with vanilla, caramel and hazelnut"],
            &["up to 2 syrup choices", "vanilla, caramel and hazelnut?"],
        ),
    ];
    for (name, store, said, want) in prompts {
        let (_, turn, heard) = call(store, said);
        let text = text_of(&turn);
        for w in want {
            assert!(text.contains(w), "{name}: {text:?} lacks {w:?}; {heard:#?}");
        }
    }
}

#[test]
fn spanish_read_back_is_natural() {
    let casita = store(CASITA);
    let wok = store(WOK);
    let tonys = store(TONYS);
    let (_, turn, heard) = call(
        &casita,
        &[
            "quiero un burrito de pollo, dos horchatas grandes, unos nachos grandes y una horchata chica",
            "no, es todo",
            "Lupita",
            "sí",
        ],
    );
    let text = text_of(&turn);
    for want in [
        "un Burrito con chicken",
        "dos Horchatas grandes",
        "una orden grande de Nachos",
        "una Horchata chica",
        "a nombre de Lupita",
    ] {
        assert!(text.contains(want), "{text:?} lacks {want:?}: {heard:#?}");
    }
    assert!(!text.contains(" 1 "), "digits for one: {text:?}");
    let (_, turn, heard) = call(
        &wok,
        &["quiero dos wonton soup quart y un crab rangoon 12 piece"],
    );
    let text = text_of(&turn);
    for want in [
        "dos Wonton Soups de un cuarto",
        "un Crab Rangoon de 12 piezas",
    ] {
        assert!(text.contains(want), "{text:?} lacks {want:?}: {heard:#?}");
    }
    // Questions name the item with its article.
    let (_, turn, _) = call(&casita, &["quiero una horchata"]);
    assert!(text_of(&turn).contains("¿De qué tamaño quiere la Horchata: chico o grande?"));
    let (_, turn, _) = call(&casita, &["quiero un burrito"]);
    assert!(text_of(&turn).contains("quiere para el Burrito"));
    let (_, turn, _) = call(&casita, &["¿cuánto cuesta la horchata grande?"]);
    assert!(text_of(&turn).contains("La Horchata grande cuesta $3.99"));
    // English stays as it was.
    let (_, turn, _) = call(&tonys, &["two large pepperoni pizzas"]);
    assert!(text_of(&turn).contains("two large Pepperoni Pizzas"));
    // Gender and portions from the name.
    for (name, feminine, portion) in [
        ("Pepperoni Pizza", true, false),
        ("Burrito", false, false),
        ("Horchata", true, false),
        ("Chicken Taco", false, false),
        ("Nachos", false, true),
        ("Chips and Salsa", true, true),
        ("Mocha", false, false),
        ("Taco de Pollo", false, false),
        ("Buffalo Wings", true, true),
    ] {
        let noun = crate::speech::spanish_noun(name);
        assert_eq!((noun.feminine, noun.portion), (feminine, portion), "{name}");
    }
}

/// A debugging aid, not a check: `KEA_TRY='tonys|first line|second line' cargo test -p kea-dialog
/// --lib try_a_call -- --ignored --nocapture` prints the prompts and the lines kea understood.
#[test]
#[ignore = "a debugging aid: plays the lines in KEA_TRY"]
fn try_a_call() {
    let Ok(spec) = std::env::var("KEA_TRY") else {
        return;
    };
    let mut parts = spec.split('|');
    let file;
    let json = match parts.next() {
        Some("casita") => CASITA,
        Some("bean") => BEAN,
        Some("harbor") => include_str!("../tests/stores/harbor-burger.json"),
        Some(path) if path.ends_with(".json") => {
            file = std::fs::read_to_string(path).unwrap_or_default();
            file.as_str()
        }
        _ => TONYS,
    };
    let said: Vec<&str> = parts.collect();
    let st = store(json);
    let matcher = MenuMatcher::new(&st.menu);
    for line in &said {
        let an = crate::understand::Analysis::new(line, &matcher);
        for m in &an.matches {
            println!("match {}..{} {:?}", m.start, m.end, m.targets);
        }
    }
    let (state, _, heard) = call(&store(json), &said);
    for (i, prompt) in heard.iter().enumerate() {
        println!("kea:    {prompt}");
        if let Some(s) = said.get(i) {
            println!("caller: {s}");
        }
    }
    println!("{:#?}", state.lines);
}

#[test]
fn only_a_caller_who_asked_hears_sure() {
    let tonys = store(TONYS);
    let (_, turn, _) = call(&tonys, &["I want to talk to a person"]);
    assert!(text_of(&turn).starts_with("Sure"), "{}", text_of(&turn));
    let (_, turn, _) = call(&tonys, &["blah blah", "blah blah", "blah blah"]);
    assert_eq!(turn.next, Next::Transfer);
    let said = text_of(&turn);
    assert!(!said.contains("Sure"), "{said}");
    assert!(said.contains("trouble understanding"), "{said}");
}

/// A closed store: no order is taken, and the caller hears why and when it opens, in the store's
/// time zone (Tony's is in New York), in English and, where the store speaks it, Spanish.
#[test]
fn a_closed_store_says_when_it_opens_and_takes_no_order() {
    use chrono::TimeZone;
    let tonys = store(TONYS);
    let casita = store(CASITA);
    let at = |store: &Store, utc: chrono::DateTime<chrono::Utc>| {
        let matcher = MenuMatcher::new(&store.menu);
        let ctx = Context {
            store,
            matcher: &matcher,
            now: Some(utc),
            enforce_hours: true,
        };
        step(&DialogState::new("+15557654321"), &Event::Start, &ctx).1
    };
    let utc = |y, mo, d, h, mi| {
        chrono::Utc
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap_or_default()
    };
    let hours_of = |s: &Store, day: kea_menu::Weekday| {
        s.hours.get(&day).map(|h| (h.open.clone(), h.close.clone()))
    };
    let mon = hours_of(&tonys, kea_menu::Weekday::Mon);
    assert!(mon.is_some(), "Tony's has Monday hours");
    // Monday 2026-12-07 08:00 in New York is 13:00 UTC: before opening.
    let early = at(&tonys, utc(2026, 12, 7, 13, 0));
    assert_eq!(early.outcome, Some(Outcome::ClosedHours));
    assert_eq!(early.next, Next::Hangup);
    assert!(early.order.is_none());
    let said = text_of(&early);
    assert!(
        said.contains("closed right now") && said.contains("today at"),
        "{said}"
    );
    // A closure date: closed all day, open again the next day.
    let mut closed = tonys.clone();
    closed.closures.push(kea_menu::Closure {
        date: "2026-12-07".into(),
        note: None,
    });
    let noon = at(&closed, utc(2026, 12, 7, 17, 0));
    assert_eq!(noon.outcome, Some(Outcome::ClosedToday));
    assert!(
        text_of(&noon).contains("closed today; we open again tomorrow at"),
        "{}",
        text_of(&noon)
    );
    // Paused: no time needed.
    let mut paused = tonys.clone();
    paused.phone_orders_paused = true;
    let (_, turn, _) = call(&paused, &[]);
    assert_eq!(turn.outcome, Some(Outcome::Paused));
    assert!(text_of(&turn).contains("not taking phone orders"));
    // Open: unchanged.
    let open = at(&tonys, utc(2026, 12, 7, 17, 0));
    assert_eq!(open.outcome, None);
    assert!(matches!(open.next, Next::Listen { .. }));
    // A store that speaks Spanish says it in both.
    let es = at(&casita, utc(2026, 12, 7, 9, 0));
    assert_eq!(es.say.len(), 2, "{es:?}");
    assert_eq!(es.say[1].language, Language::Es);
    assert!(
        es.say[1].text.contains("estamos cerrados"),
        "{}",
        es.say[1].text
    );
}

/// An item the store has run out of is never sold: the caller hears so and is offered the others
/// of its kind, keeping the size said; one that runs out mid-call is offered again the same way.
#[test]
fn a_sold_out_item_is_refused_with_an_alternative() {
    let mut tonys = store(TONYS);
    let margherita = tonys
        .menu
        .items
        .iter()
        .position(|i| i.sku == "pizza-margherita")
        .unwrap_or(0);
    tonys.menu.items[margherita].available = false;
    let (state, _, heard) = call(&tonys, &["a large margherita pizza", "pepperoni then"]);
    let asked = &heard[1];
    assert!(
        asked.contains("out of the Margherita Pizza") && asked.contains("Pepperoni"),
        "{asked}"
    );
    assert!(!asked.contains("Margherita,"), "not offered again: {asked}");
    assert_eq!(
        sorted(state.lines()),
        vec![line("pizza-pepperoni", Some("large"), 1, &[])]
    );

    // Ordered while available, then it runs out before the next turn.
    let open = store(TONYS);
    let matcher = MenuMatcher::new(&open.menu);
    let ctx = Context {
        store: &open,
        matcher: &matcher,
        now: None,
        enforce_hours: false,
    };
    let (state, _) = step(&DialogState::new("+15557654321"), &Event::Start, &ctx);
    let (state, _) = step(&state, &event("a large margherita pizza"), &ctx);
    let sold_matcher = MenuMatcher::new(&tonys.menu);
    let sold = Context {
        store: &tonys,
        matcher: &sold_matcher,
        now: None,
        enforce_hours: false,
    };
    let (state, turn) = step(&state, &event("and a coke"), &sold);
    let said = text_of(&turn);
    assert!(said.contains("out of the Margherita Pizza"), "{said}");
    assert!(state.lines().iter().all(|l| l.sku != "pizza-margherita"));
}

/// "For 6:30": an order for later today where the store takes them, read back with its time and
/// placed with it; refused with the reason elsewhere, and never read as a quantity.
#[test]
fn orders_for_later_today() {
    use chrono::TimeZone;
    let mut tonys = store(TONYS);
    tonys.scheduled_orders = true;
    // Monday 2026-12-07 12:00 in New York.
    let noon = chrono::Utc
        .with_ymd_and_hms(2026, 12, 7, 17, 0, 0)
        .single()
        .unwrap_or_default();
    let play = |store: &Store, said: &[&str]| {
        let matcher = MenuMatcher::new(&store.menu);
        let ctx = Context {
            store,
            matcher: &matcher,
            now: Some(noon),
            enforce_hours: true,
        };
        let (mut state, mut turn) = step(&DialogState::new("+15557654321"), &Event::Start, &ctx);
        let mut heard = Vec::new();
        for s in said {
            (state, turn) = step(&state, &event(s), &ctx);
            heard.push(text_of(&turn));
        }
        (state, turn, heard)
    };
    let (state, turn, heard) = play(
        &tonys,
        &[
            "a large pepperoni pizza for 6:30 please",
            "no that's all",
            "pickup",
            "it's Dana",
            "yes",
            "yes",
        ],
    );
    assert!(heard[0].contains("ready at 6:30 PM"), "{heard:?}");
    assert_eq!(
        sorted(state.lines()),
        vec![line("pizza-pepperoni", Some("large"), 1, &[])],
        "6:30 is a time, not a quantity"
    );
    assert!(
        heard
            .iter()
            .any(|h| h.contains("ready at 6:30 PM. Your total")
                || h.contains("under Dana, ready at 6:30 PM")),
        "the read-back says the time: {heard:?}"
    );
    let placed = turn.order.clone().expect("placed");
    assert_eq!(
        placed.ready_at.map(|t| t.to_rfc3339()),
        Some("2026-12-07T23:30:00+00:00".to_owned())
    );
    assert!(
        text_of(&turn).contains("ready for pickup at 6:30 PM"),
        "{}",
        text_of(&turn)
    );

    // After closing, or at a store that does not take them: said so, for as soon as possible.
    let (state, _, heard) = play(&tonys, &["a coke at 11 pm"]);
    assert!(heard[0].contains("before we close at 10 PM"), "{heard:?}");
    assert!(state.ready_at.is_none());
    let (_, _, heard) = play(&store(TONYS), &["a coke for 6:30"]);
    assert!(
        heard[0].contains("only take orders for as soon as possible"),
        "{heard:?}"
    );
    // "For two" is two of something, not a time.
    let (state, _, _) = play(&tonys, &["pepperoni pizzas for 2, large"]);
    assert!(state.ready_at.is_none());
    // Spanish.
    let (state, _, _) = play(&tonys, &["una coca para las seis y media"]);
    assert!(state.ready_at.is_some());
}

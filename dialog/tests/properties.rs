//! Property tests: no sequence of events panics, every turn says something, every `<Gather>`
//! has a prompt, and every step is deterministic.

use kea_dialog::{Context, DialogState, Event, Next, Outcome, step};
use kea_menu::Store;
use kea_menu::matcher::MenuMatcher;
use proptest::prelude::*;

const STORES: [&str; 3] = [
    include_str!("../../tests/fixtures/stores/tonys-pizza.json"),
    include_str!("../../tests/fixtures/stores/la-casita.json"),
    include_str!("../../tests/fixtures/stores/bean-there.json"),
];

const WORDS: &[&str] = &[
    "um",
    "uh",
    "the",
    "a",
    "and",
    "with",
    "no",
    "yes",
    "yeah",
    "nope",
    "that's all",
    "actually",
    "make that",
    "scratch",
    "change",
    "to",
    "instead of",
    "cancel",
    "never mind",
    "two",
    "three",
    "a couple of",
    "dozen",
    "dos",
    "tres",
    "una",
    "large",
    "small",
    "grande",
    "12 piece",
    "twelve",
    "extra",
    "on the",
    "how much",
    "what kind of",
    "do you have",
    "I'll take one",
    "delivery",
    "pickup",
    "my name is",
    "555 201 7788",
    "agent",
    "sorry what was that",
    "quiero",
    "sí",
    "por favor",
    "¿",
    "!",
    ",",
    ".",
    "'",
    "ñ",
    "😀",
    "0",
    "999999999999",
    "-5",
    "",
];

fn utterance(menu_words: Vec<String>) -> impl Strategy<Value = String> {
    let menu = proptest::sample::select(menu_words);
    let fixed = proptest::sample::select(WORDS.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>());
    let random = "[a-zA-Z0-9 ]{0,12}";
    proptest::collection::vec(prop_oneof![3 => menu, 3 => fixed, 1 => random], 0..10)
        .prop_map(|w| w.join(" "))
}

fn events(menu_words: Vec<String>) -> impl Strategy<Value = Vec<Event>> {
    let speech = (
        utterance(menu_words),
        prop_oneof![Just(0.92f32), Just(0.3f32), 0.0f32..=1.0, Just(f32::NAN)],
    )
        .prop_map(|(text, confidence)| Event::Speech { text, confidence });
    let event = prop_oneof![
        8 => speech,
        1 => Just(Event::Silence),
        1 => "[0-9#*]{0,12}".prop_map(Event::Digits),
        1 => Just(Event::Start),
    ];
    proptest::collection::vec(event, 0..16)
}

/// The menu words of sample store `i`, to build utterances from.
fn menu_words(i: usize) -> Vec<String> {
    Store::parse(STORES[i])
        .map(|s| MenuMatcher::new(&s.menu).hints().to_vec())
        .unwrap_or_else(|_| vec!["pizza".into()])
}

fn check_turn(turn: &kea_dialog::Turn) -> Result<(), TestCaseError> {
    prop_assert!(!turn.say.is_empty(), "a turn with nothing to say: {turn:?}");
    prop_assert!(
        turn.say.iter().all(|u| !u.text.trim().is_empty()),
        "an empty utterance: {turn:?}"
    );
    match &turn.next {
        Next::Listen { .. } => {
            prop_assert!(turn.outcome.is_none());
            prop_assert!(
                turn.say.last().is_some_and(|u| u.text.trim().len() > 1),
                "no prompt: {turn:?}"
            );
        }
        Next::Transfer => prop_assert_eq!(turn.outcome, Some(Outcome::Transferred)),
        Next::Hangup => {}
    }
    prop_assert_eq!(
        turn.order.is_some(),
        turn.outcome == Some(Outcome::OrderPlaced)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn no_sequence_of_events_breaks_the_dialog((store_index, list) in (0..3usize).prop_flat_map(|i| (Just(i), events(menu_words(i))))) {
        let store = Store::parse(STORES[store_index]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let matcher = MenuMatcher::new(&store.menu);
        let ctx = Context { store: &store, matcher: &matcher, now: None, enforce_hours: false };
        let (mut state, turn) = step(&DialogState::new("+15557654321"), &Event::Start, &ctx);
        check_turn(&turn)?;
        for event in &list {
            let (next, turn) = step(&state, event, &ctx);
            check_turn(&turn)?;
            let (again, turn_again) = step(&state, event, &ctx);
            prop_assert_eq!(&again, &next);
            prop_assert_eq!(&turn_again, &turn);
            let json = serde_json::to_string(&next).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back: DialogState = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&back, &next);
            if let Some(order) = &turn.order {
                prop_assert!(kea_menu::price_order(&store, &order.lines, order.fulfillment).is_ok());
                prop_assert!((0.0..=1.0).contains(&order.confidence));
            }
            state = next;
        }
    }

    #[test]
    fn any_text_is_safe(text in "\\PC{0,80}", confidence in any::<f32>()) {
        let store = Store::parse(STORES[0]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let matcher = MenuMatcher::new(&store.menu);
        let ctx = Context { store: &store, matcher: &matcher, now: None, enforce_hours: false };
        let (state, _) = step(&DialogState::new("anonymous"), &Event::Start, &ctx);
        let (_, turn) = step(&state, &Event::Speech { text, confidence }, &ctx);
        check_turn(&turn)?;
    }
}

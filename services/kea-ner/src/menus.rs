//! Menus the model learns from when no others are given, built into the binary so training and
//! evaluation work from any checkout: the sample stores, the dialog tests' Golden Wok, and menus
//! written for this crate (`menus/train`). `menus/eval` (and Harbor Burger) are held out: they
//! are never trained on, so `kea ner eval` measures how the model does on menus it never saw.

/// (file name, store JSON) of the training menus.
pub const TRAIN: &[(&str, &str)] = &[
    (
        "tonys-pizza.json",
        include_str!("../../../tests/fixtures/stores/tonys-pizza.json"),
    ),
    (
        "bean-there.json",
        include_str!("../../../tests/fixtures/stores/bean-there.json"),
    ),
    (
        "la-casita.json",
        include_str!("../../../tests/fixtures/stores/la-casita.json"),
    ),
    (
        "golden-wok.json",
        include_str!("../../../dialog/tests/stores/golden-wok.json"),
    ),
    (
        "deli-corner.json",
        include_str!("../menus/train/deli-corner.json"),
    ),
    (
        "sakura-sushi.json",
        include_str!("../menus/train/sakura-sushi.json"),
    ),
    (
        "bangkok-kitchen.json",
        include_str!("../menus/train/bangkok-kitchen.json"),
    ),
    (
        "taqueria-sol.json",
        include_str!("../menus/train/taqueria-sol.json"),
    ),
    (
        "morning-glory-diner.json",
        include_str!("../menus/train/morning-glory-diner.json"),
    ),
];

/// (file name, store JSON) of the held-out menus.
pub const EVAL: &[(&str, &str)] = &[
    (
        "harbor-burger.json",
        include_str!("../../../dialog/tests/stores/harbor-burger.json"),
    ),
    (
        "bella-napoli-pasta.json",
        include_str!("../menus/eval/bella-napoli-pasta.json"),
    ),
    (
        "green-bowl.json",
        include_str!("../menus/eval/green-bowl.json"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_menu_is_a_valid_store_and_none_is_both_trained_and_held_out() {
        let mut train_ids = Vec::new();
        for (name, json) in TRAIN.iter().chain(EVAL) {
            let store = kea_menu::Store::parse(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            if TRAIN.iter().any(|(n, _)| n == name) {
                train_ids.push(store.id);
            } else {
                assert!(!train_ids.contains(&store.id), "{name} is in both lists");
            }
        }
    }
}

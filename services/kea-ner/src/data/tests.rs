//! Tests of the generator on the sample stores, including what only the crate can see: which
//! menu item each ITEM span was generated for.

use std::collections::BTreeMap;

use kea_menu::Store;
use kea_menu::matcher::{MenuMatcher, Target, tokenize};

use super::generator::generate_traced;
use super::*;

const STORE_DIRS: [&str; 2] = [
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/stores"),
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../dialog/tests/stores"),
];

/// Every sample store, in file-name order.
fn stores() -> Vec<Store> {
    let mut paths: Vec<std::path::PathBuf> = STORE_DIRS
        .iter()
        .flat_map(|dir| match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect::<Vec<_>>(),
            Err(err) => panic!("cannot list {dir}: {err}"),
        })
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "sample stores missing: {paths:?}");
    paths
        .iter()
        .map(|path| {
            let json = match std::fs::read_to_string(path) {
                Ok(json) => json,
                Err(err) => panic!("cannot read {}: {err}", path.display()),
            };
            match Store::parse(&json) {
                Ok(store) => store,
                Err(err) => panic!("{} does not parse: {err}", path.display()),
            }
        })
        .collect()
}

fn settings(count: usize) -> GenSettings {
    GenSettings {
        count,
        ..GenSettings::default()
    }
}

/// Whether the matcher, run over the span's words alone, finds the item (or a category holding
/// it, for "a mushroom pizza").
fn resolves(matcher: &MenuMatcher, text: &str, item: usize) -> bool {
    matcher.find(&tokenize(text)).iter().any(|found| {
        found.targets.iter().any(|(target, _)| match target {
            Target::Item(i) => *i == item,
            Target::Category(items) => items.contains(&item),
            _ => false,
        })
    })
}

#[test]
fn item_spans_resolve_to_the_item_they_were_generated_for() {
    for store in stores() {
        let matcher = MenuMatcher::new(&store.menu);
        let (mut total, mut found) = (0usize, 0usize);
        let mut misses: BTreeMap<String, usize> = BTreeMap::new();
        for (example, items) in generate_traced(&store, &settings(3000)) {
            for (span, item) in items {
                let text = example.span_text(&example.spans[span]);
                total += 1;
                if resolves(&matcher, text, item) {
                    found += 1;
                } else {
                    *misses
                        .entry(format!("{text} → {}", store.menu.items[item].name))
                        .or_default() += 1;
                }
            }
        }
        let rate = found as f64 / total as f64;
        let mut worst: Vec<(String, usize)> = misses.into_iter().collect();
        worst.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        worst.truncate(15);
        println!(
            "{}: {found}/{total} ITEM spans resolve ({rate:.3}); most missed: {worst:?}",
            store.id
        );
        assert!(total > 1500, "{}: only {total} ITEM spans", store.id);
        assert!(
            rate >= 0.9,
            "{}: {rate:.3} of ITEM spans resolve; misses {worst:?}",
            store.id
        );
    }
}

#[test]
fn every_item_of_every_store_is_said() {
    for store in stores() {
        let mut said = vec![0usize; store.menu.items.len()];
        for (_, items) in generate_traced(&store, &settings(3000)) {
            for (_, item) in items {
                said[item] += 1;
            }
        }
        for (item, count) in store.menu.items.iter().zip(&said) {
            assert!(
                *count >= 20,
                "{}: {} said {count} times",
                store.id,
                item.name
            );
        }
    }
}

#[test]
fn spanish_uses_the_stores_spanish_names() {
    let stores = stores();
    let Some(harbor) = stores.iter().find(|s| s.id == "harbor-burger") else {
        panic!("harbor-burger is a sample store");
    };
    let examples = generate(harbor, &settings(3000));
    let spanish: Vec<&Example> = examples.iter().filter(|e| e.lang == "es").collect();
    let said = |word: &str| {
        spanish
            .iter()
            .filter(|e| e.text.to_lowercase().contains(word))
            .count()
    };
    for word in ["hamburguesa", "papas fritas", "cebolla", "sin", "malteada"] {
        assert!(said(word) >= 10, "{word} said {} times", said(word));
    }
}

#[test]
fn refusals_and_portions_use_the_cue_words() {
    let mut negations: BTreeMap<String, usize> = BTreeMap::new();
    let mut portions: BTreeMap<String, usize> = BTreeMap::new();
    for store in stores() {
        for example in generate(&store, &settings(2000)) {
            for span in &example.spans {
                let text = example.span_text(span).to_lowercase();
                match span.label.as_str() {
                    label::NEGATION => *negations.entry(text).or_default() += 1,
                    label::PORTION => *portions.entry(text).or_default() += 1,
                    _ => {}
                }
            }
        }
    }
    for word in ["no", "without", "hold", "sin"] {
        assert!(
            negations.get(word).copied().unwrap_or(0) > 20,
            "{word}: {negations:?}"
        );
    }
    for word in ["extra", "light", "on the side", "aparte", "double"] {
        assert!(
            portions.get(word).copied().unwrap_or(0) > 10,
            "{word}: {portions:?}"
        );
    }
    // Refusal cues are a closed set: a span outside it is a generator bug.
    for cue in negations.keys() {
        let first = cue.split_whitespace().next().unwrap_or("");
        assert!(
            [
                "no", "without", "hold", "leave", "skip", "minus", "don't", "dont", "take", "sin",
                "que",
            ]
            .contains(&first),
            "unexpected refusal cue {cue:?}"
        );
    }
}

#[test]
fn no_thanks_is_not_a_refusal() {
    for store in stores() {
        for example in generate(&store, &settings(1500)) {
            let lower = example.text.to_lowercase();
            if lower.starts_with("no thanks") || lower.starts_with("no, thanks") {
                assert!(example.spans.is_empty(), "{example}");
            }
        }
    }
}

#[test]
fn a_store_without_options_or_sizes_still_generates() {
    let json = r#"{
      "id": "tiny", "merchant": "Tiny LLC", "name": "Tiny", "phone": "+15550100099",
      "timezone": "UTC", "tax_rate_bps": 0, "fulfillment": {},
      "menu": {"items": [{"sku": "tea", "name": "Tea", "price_cents": 100}]}
    }"#;
    let store = match Store::parse(json) {
        Ok(store) => store,
        Err(err) => panic!("{err}"),
    };
    let examples = generate(&store, &settings(500));
    assert_eq!(examples.len(), 500);
    let items = examples
        .iter()
        .flat_map(|e| &e.spans)
        .filter(|s| s.label == label::ITEM)
        .count();
    assert!(items > 100);
}

#[test]
fn split_lines_count_each_part() {
    // "two burritos, one with chicken and one with steak": each part's "one" is a QUANTITY.
    let stores = stores();
    let Some(casita) = stores.iter().find(|s| s.id == "la-casita") else {
        panic!("la-casita is a sample store");
    };
    let found = generate(casita, &settings(4000)).into_iter().any(|e| {
        e.spans.windows(2).any(|pair| {
            e.span_text(&pair[0]) == "one"
                && pair[0].label == label::QUANTITY
                && pair[1].label == label::MODIFIER
        })
    });
    assert!(found);
}

//! The public data API on the sample stores: determinism, span invariants, coverage of labels
//! and languages, BIO round trips, holding out stores, and a readable sample for eyes.

use std::collections::BTreeMap;

use kea_menu::Store;
use kea_ner::data::{
    Example, GenSettings, LABELS, bio_labels, generate, spans_from_bio, split_by_store, words,
};

const STORE_DIRS: [&str; 2] = [
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/stores"),
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../dialog/tests/stores"),
];

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
    paths
        .iter()
        .map(|path| {
            let json = std::fs::read_to_string(path)
                .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
            Store::parse(&json).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        })
        .collect()
}

fn settings(seed: u64, count: usize) -> GenSettings {
    GenSettings {
        seed,
        count,
        ..GenSettings::default()
    }
}

/// Whether a byte offset is a word boundary: no letter or digit on both sides of it.
fn boundary(text: &str, at: usize) -> bool {
    let before = text[..at].chars().next_back();
    let after = text[at..].chars().next();
    !(before.is_some_and(char::is_alphanumeric) && after.is_some_and(char::is_alphanumeric))
}

fn check_spans(example: &Example) {
    let text = &example.text;
    let mut last_end = 0;
    for span in &example.spans {
        assert!(LABELS.contains(&span.label.as_str()), "{example:?}");
        assert!(span.start < span.end, "empty span in {example:?}");
        assert!(span.start >= last_end, "overlap or disorder in {example:?}");
        assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        let inside = &text[span.start..span.end];
        assert_eq!(inside.trim(), inside, "padded span in {example:?}");
        assert!(
            boundary(text, span.start) && boundary(text, span.end),
            "span {inside:?} cuts a word in {text:?}"
        );
        last_end = span.end;
    }
    assert_eq!(text.trim(), text, "{example:?}");
    assert!(!text.contains("  "), "{example:?}");
    assert!(!text.is_empty());
}

#[test]
fn same_seed_same_examples_other_seed_other_examples() {
    for store in stores() {
        let a = generate(&store, &settings(7, 300));
        let b = generate(&store, &settings(7, 300));
        let c = generate(&store, &settings(8, 300));
        assert_eq!(a, b, "{}", store.id);
        assert_ne!(a, c, "{}", store.id);
        assert_eq!(a.len(), 300);
        // A longer run starts with the shorter one: the count only decides where to stop.
        assert_eq!(generate(&store, &settings(7, 100))[..], a[..100]);
    }
}

#[test]
fn spans_are_sorted_disjoint_labelled_and_on_word_boundaries() {
    for store in stores() {
        for example in generate(&store, &settings(1, 3000)) {
            check_spans(&example);
            assert_eq!(example.store, store.id);
            assert!(example.lang == "en" || example.lang == "es");
        }
    }
}

#[test]
fn every_store_gives_every_label_in_both_languages() {
    for store in stores() {
        let examples = generate(&store, &settings(2, 4000));
        let mut counts: BTreeMap<(&str, String), usize> = BTreeMap::new();
        for example in &examples {
            for span in &example.spans {
                *counts
                    .entry((example.lang.as_str(), span.label.clone()))
                    .or_default() += 1;
            }
        }
        for lang in ["en", "es"] {
            for label in LABELS {
                let n = counts
                    .get(&(lang, (*label).to_owned()))
                    .copied()
                    .unwrap_or(0);
                let floor = if lang == "en" { 40 } else { 10 };
                assert!(n >= floor, "{} {lang} {label}: {n}", store.id);
            }
        }
        let spanish = examples.iter().filter(|e| e.lang == "es").count();
        assert!(
            (700..1300).contains(&spanish),
            "{}: {spanish} Spanish",
            store.id
        );
        let empty = examples.iter().filter(|e| e.spans.is_empty()).count();
        assert!(
            empty > 80,
            "{}: only {empty} examples without entities",
            store.id
        );
    }
}

#[test]
fn spanish_share_zero_and_one() {
    let stores = stores();
    let store = &stores[0];
    let english = generate(
        store,
        &GenSettings {
            spanish_share: 0.0,
            ..settings(3, 500)
        },
    );
    assert!(english.iter().all(|e| e.lang == "en"));
    let spanish = generate(
        store,
        &GenSettings {
            spanish_share: 1.0,
            ..settings(3, 500)
        },
    );
    assert!(spanish.iter().all(|e| e.lang == "es"));
    assert!(generate(store, &settings(3, 0)).is_empty());
}

#[test]
fn recogniser_style_and_cased_style_both_occur() {
    let stores = stores();
    let examples = generate(&stores[0], &settings(4, 2000));
    let lower = examples
        .iter()
        .filter(|e| e.text == e.text.to_lowercase() && !e.text.contains(['.', ',', '?']))
        .count();
    let cased = examples
        .iter()
        .filter(|e| e.text.starts_with(char::is_uppercase))
        .count();
    assert!(lower > 600 && cased > 600, "lower {lower}, cased {cased}");
}

#[test]
fn bio_tags_round_trip_to_the_spans() {
    let tags = bio_labels();
    for store in stores() {
        for example in generate(&store, &settings(5, 1500)) {
            let tagged = example.bio();
            for (_, _, tag) in &tagged {
                assert!(tags.contains(tag), "{tag}");
            }
            let spans_words: Vec<(usize, usize)> =
                tagged.iter().map(|(s, e, _)| (*s, *e)).collect();
            assert_eq!(spans_words, words(&example.text));
            let tag_list: Vec<&str> = tagged.iter().map(|(_, _, t)| t.as_str()).collect();
            assert_eq!(
                spans_from_bio(&spans_words, &tag_list),
                example.spans,
                "{example}"
            );
        }
    }
}

#[test]
fn bio_label_set() {
    let tags = bio_labels();
    assert_eq!(tags.len(), 1 + 2 * LABELS.len());
    assert_eq!(tags[0], "O");
    assert_eq!(tags[1], "B-ITEM");
    assert_eq!(tags[2], "I-ITEM");
    let unique: std::collections::BTreeSet<&String> = tags.iter().collect();
    assert_eq!(unique.len(), tags.len());
}

#[test]
fn words_split_like_bert() {
    let text = "Hi, I'd like (555) 010-4477 — jalapeños!";
    let split: Vec<&str> = words(text).into_iter().map(|(s, e)| &text[s..e]).collect();
    assert_eq!(
        split,
        [
            "Hi",
            ",",
            "I",
            "'",
            "d",
            "like",
            "(",
            "555",
            ")",
            "010",
            "-",
            "4477",
            "—",
            "jalapeños",
            "!"
        ]
    );
}

#[test]
fn spans_from_bio_reads_tags_the_conll_way() {
    let text = "two large pepperoni pizzas no onions";
    let w = words(text);
    let span = |start, end, label: &str| kea_ner::data::Span {
        start,
        end,
        label: label.to_owned(),
    };
    // An I- without a B- starts a span; a B- after a B- of the same label starts another.
    let tags = [
        "B-QUANTITY",
        "I-SIZE",
        "B-ITEM",
        "I-ITEM",
        "O",
        "B-MODIFIER",
    ];
    assert_eq!(
        spans_from_bio(&w, &tags),
        [
            span(0, 3, "QUANTITY"),
            span(4, 9, "SIZE"),
            span(10, 26, "ITEM"),
            span(30, 36, "MODIFIER"),
        ]
    );
    let tags = ["B-ITEM", "B-ITEM", "I-MODIFIER", "I-MODIFIER", "O", "O"];
    assert_eq!(
        spans_from_bio(&w, &tags),
        [
            span(0, 3, "ITEM"),
            span(4, 9, "ITEM"),
            span(10, 26, "MODIFIER")
        ]
    );
}

#[test]
fn split_by_store_holds_out_whole_stores() {
    let stores = stores();
    let mut all = Vec::new();
    for store in &stores {
        all.extend(generate(store, &settings(6, 50)));
    }
    let held = [stores[0].id.as_str(), stores[1].id.as_str()];
    let (train, test) = split_by_store(all.clone(), &held);
    assert_eq!(train.len() + test.len(), all.len());
    assert_eq!(test.len(), 100);
    assert!(test.iter().all(|e| held.contains(&e.store.as_str())));
    assert!(train.iter().all(|e| !held.contains(&e.store.as_str())));
}

#[test]
fn examples_serialise_to_json_and_back() {
    let stores = stores();
    for example in generate(&stores[0], &settings(9, 50)) {
        let json = serde_json::to_string(&example).unwrap_or_default();
        let back: Example = serde_json::from_str(&json).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(back, example);
    }
}

#[test]
fn display_brackets_each_span() {
    let example = Example {
        text: "two large pepperoni pizzas, no onions".to_owned(),
        lang: "en".to_owned(),
        spans: vec![
            kea_ner::data::Span {
                start: 0,
                end: 3,
                label: "QUANTITY".to_owned(),
            },
            kea_ner::data::Span {
                start: 4,
                end: 9,
                label: "SIZE".to_owned(),
            },
            kea_ner::data::Span {
                start: 10,
                end: 26,
                label: "ITEM".to_owned(),
            },
            kea_ner::data::Span {
                start: 28,
                end: 30,
                label: "NEGATION".to_owned(),
            },
            kea_ner::data::Span {
                start: 31,
                end: 37,
                label: "MODIFIER".to_owned(),
            },
        ],
        store: "tonys-pizza".to_owned(),
    };
    assert_eq!(
        example.to_string(),
        "[two|QUANTITY] [large|SIZE] [pepperoni pizzas|ITEM], [no|NEGATION] [onions|MODIFIER]"
    );
}

/// A readable sample, for eyes: `cargo test -p kea-ner --test data_generation sample -- --nocapture`.
#[test]
fn sample() {
    for store in stores() {
        for example in generate(
            &store,
            &settings(
                20,
                std::env::var("KEA_NER_SAMPLE")
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(4),
            ),
        ) {
            println!("{:<14} {} {example}", example.store, example.lang);
        }
    }
}

/// Speed and label counts, for the numbers in reports. Timing means something only in release:
/// `cargo test -p kea-ner --release --test data_generation stats -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check; run in release"]
fn stats() {
    for store in stores() {
        let started = std::time::Instant::now();
        let examples = generate(&store, &settings(12, 20_000));
        let elapsed = started.elapsed();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut spanish = 0;
        for example in &examples {
            spanish += usize::from(example.lang == "es");
            for span in &example.spans {
                *counts
                    .entry(
                        LABELS
                            .iter()
                            .copied()
                            .find(|l| *l == span.label)
                            .unwrap_or("?"),
                    )
                    .or_default() += 1;
            }
        }
        println!(
            "{}: 20000 examples in {:.0} ms ({:.0}/s), {spanish} Spanish, spans {counts:?}",
            store.id,
            elapsed.as_secs_f64() * 1000.0,
            20_000.0 / elapsed.as_secs_f64()
        );
    }
}

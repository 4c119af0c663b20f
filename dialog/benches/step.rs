//! One dialog step on a realistic utterance, with the matcher built once as the server does.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kea_dialog::{Context, DialogState, Event, step};
use kea_menu::Store;
use kea_menu::matcher::MenuMatcher;

fn bench(c: &mut Criterion) {
    let store = Store::parse(include_str!("../../tests/fixtures/stores/tonys-pizza.json"))
        .expect("the sample store is valid");
    let matcher = MenuMatcher::new(&store.menu);
    let ctx = Context {
        store: &store,
        matcher: &matcher,
        now: None,
        enforce_hours: false,
    };
    let (state, _) = step(&DialogState::new("+15557654321"), &Event::Start, &ctx);
    let said = Event::Speech {
        text: "Hi, can I get two large pepperoni pizzas with extra cheese and a Diet Coke?".into(),
        confidence: 0.92,
    };
    c.bench_function(
        "step: two large pepperoni pizzas with extra cheese and a diet coke",
        |b| b.iter(|| step(black_box(&state), black_box(&said), black_box(&ctx))),
    );
    let json = serde_json::to_string(&state).expect("a state serialises");
    c.bench_function("step incl. state JSON load and save", |b| {
        b.iter(|| {
            let state: DialogState = serde_json::from_str(black_box(&json)).expect("round-trips");
            let (next, turn) = step(&state, black_box(&said), black_box(&ctx));
            (serde_json::to_string(&next).expect("serialises"), turn)
        })
    });
    c.bench_function("MenuMatcher::new (once per store)", |b| {
        b.iter(|| MenuMatcher::new(black_box(&store.menu)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Plays every scenario (the public ones in `tests/fixtures/scenarios` and this crate's own in
//! `dialog/tests/scenarios`) against [`kea_dialog::step`] with the simulated caller of `kea-sim`
//! (the same caller `kea simulate` puts on the phone over HTTP), and checks the outcome and the
//! order with `kea_sim::check`, plus what only the pure engine shows: the state survives JSON after
//! every turn, the read-back said the total, and the order prices by `kea_menu::price_order`.
//! Failures print the transcript.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kea_dialog::{Context, DialogState, Event, Next, PlacedOrder, step};
use kea_menu::matcher::MenuMatcher;
use kea_menu::{Store, price_order};
use kea_sim::{ObservedLine, ObservedOrder, Scenario, SimCaller};

const PUBLIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/scenarios");
const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios");
const STORES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/stores");
/// Stores only this crate's scenarios use, to check that nothing depends on the sample menus.
const OWN_STORES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stores");

struct Played {
    outcome: &'static str,
    order: Option<PlacedOrder>,
    transcript: Vec<(&'static str, String)>,
    error: Option<String>,
}

/// Plays one call the way Twilio and the simulated caller would.
fn play(store: &Store, matcher: &MenuMatcher, scenario: &Scenario) -> Played {
    let ctx = Context {
        store,
        matcher,
        now: None,
        enforce_hours: false,
    };
    let mut caller = SimCaller::new(scenario);
    let mut state = DialogState::new(caller.phone());
    let mut event = Event::Start;
    let mut heard: Vec<String> = Vec::new();
    let mut played = Played {
        outcome: "abandoned",
        order: None,
        transcript: Vec::new(),
        error: None,
    };
    for _ in 0..40 {
        let (next_state, turn) = step(&state, &event, &ctx);
        // Every turn must be replayable: the state survives JSON.
        let json = serde_json::to_string(&next_state).unwrap_or_default();
        if serde_json::from_str::<DialogState>(&json).ok().as_ref() != Some(&next_state) {
            played.error = Some(format!("state does not round-trip: {json}"));
            return played;
        }
        state = next_state;
        heard.extend(turn.say.iter().map(|u| u.text.clone()));
        match turn.next {
            Next::Listen { .. } => {
                let prompt = heard.join(" ");
                heard.clear();
                played.transcript.push(("system", prompt.clone()));
                let said = caller.respond(&prompt);
                if caller.hung_up() {
                    return played;
                }
                played.transcript.push((
                    "caller",
                    said.clone().unwrap_or_else(|| "<silence>".to_owned()),
                ));
                event = match said {
                    Some(text) => Event::Speech {
                        text,
                        confidence: caller.confidence(),
                    },
                    None => Event::Silence,
                };
            }
            Next::Transfer => {
                played.transcript.push(("system", heard.join(" ")));
                played.outcome = "transferred";
                return played;
            }
            Next::Hangup => {
                played.transcript.push(("system", heard.join(" ")));
                played.outcome = turn
                    .outcome
                    .map_or("abandoned", kea_dialog::Outcome::as_str);
                played.order = turn.order;
                return played;
            }
        }
    }
    played.error = Some("more than 40 turns: the dialog loops".to_owned());
    played
}

fn check(store: &Store, scenario: &Scenario, played: &Played) -> Vec<String> {
    if let Some(e) = &played.error {
        return vec![e.clone()];
    }
    let observed = played.order.as_ref().map(|order| ObservedOrder {
        lines: order
            .lines
            .iter()
            .map(|l| ObservedLine {
                sku: l.sku.clone(),
                size: l.size.clone(),
                quantity: l.quantity,
                modifiers: l.modifiers.clone(),
            })
            .collect(),
        fulfillment: order.fulfillment.as_str().to_owned(),
        customer_name: order.customer_name.clone(),
        customer_phone: order.customer_phone.clone(),
        delivery_address: order.delivery_address.clone(),
        total_cents: price_order(store, &order.lines, order.fulfillment)
            .map_or(-1, |p| p.total_cents),
    });
    let mut fails = kea_sim::check(store, scenario, Some(played.outcome), observed.as_ref());
    if let Some(order) = &played.order {
        if !order.customer_phone.starts_with('+') {
            fails.push(format!(
                "customer_phone {:?} is not E.164",
                order.customer_phone
            ));
        }
        if !(0.0..=1.0).contains(&order.confidence) {
            fails.push(format!("confidence {} out of range", order.confidence));
        }
        if fails.is_empty() {
            let (_, _, total) = kea_sim::expected_total(store, &scenario.expect);
            let money = format!("${}.{:02}", total / 100, total % 100);
            if !played
                .transcript
                .iter()
                .any(|(who, t)| *who == "system" && t.contains(&money))
            {
                fails.push(format!("the read-back never said the total {money}"));
            }
        }
    }
    fails
}

fn load_stores() -> BTreeMap<String, Store> {
    let extra = std::env::var("KEA_STORES").unwrap_or_default();
    let mut paths: Vec<PathBuf> = [STORES, OWN_STORES, extra.as_str()]
        .iter()
        .filter(|dir| !dir.is_empty())
        .flat_map(|dir| {
            std::fs::read_dir(dir)
                .map(|d| {
                    d.filter_map(|e| e.ok().map(|e| e.path()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let store = Store::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (store.id.clone(), store)
        })
        .collect()
}

fn run(dir: &str, min: usize) {
    let stores = load_stores();
    let matchers: BTreeMap<&str, MenuMatcher> = stores
        .iter()
        .map(|(id, s)| (id.as_str(), MenuMatcher::new(&s.menu)))
        .collect();
    let list = kea_sim::load(&[PathBuf::from(dir)]).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        list.len() >= min,
        "expected at least {min} scenarios in {dir}, found {}",
        list.len()
    );
    let mut failed = Vec::new();
    for scenario in &list {
        let id = &scenario.id;
        let (Some(store), Some(matcher)) = (
            stores.get(&scenario.store),
            matchers.get(scenario.store.as_str()),
        ) else {
            failed.push(format!("{id}: unknown store {:?}", scenario.store));
            continue;
        };
        let played = play(store, matcher, scenario);
        let fails = check(store, scenario, &played);
        let turns = played
            .transcript
            .iter()
            .filter(|(w, _)| *w == "caller")
            .count();
        if fails.is_empty() {
            println!("PASS  {id:40} turns={turns}");
        } else {
            println!("FAIL  {id:40} {}", fails.join("; "));
            failed.push(format!("{id}: {}", fails.join("; ")));
        }
        if !fails.is_empty() || std::env::var_os("SCENARIO_VERBOSE").is_some() {
            for (who, text) in &played.transcript {
                println!("        {who:>6}: {text}");
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failed.len(),
        list.len(),
        failed.join("\n")
    );
}

#[test]
fn public_scenarios_pass() {
    run(PUBLIC, 27);
}

#[test]
fn own_scenarios_pass() {
    run(OWN, 10);
}

/// Scenarios from another folder (e.g. a held-out set): `KEA_SCENARIOS=/path cargo test`, with
/// their stores' JSON files in `KEA_STORES=/path` when they are not the sample stores.
#[test]
fn extra_scenarios_pass() {
    if let Some(dir) = std::env::var_os("KEA_SCENARIOS") {
        run(&dir.to_string_lossy(), 1);
    }
}

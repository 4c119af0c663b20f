//! Plays every scenario (the public ones in `tests/fixtures/scenarios` and this crate's own in
//! `dialog/tests/scenarios`) against [`kea_dialog::step`] with a port of the simulated caller
//! (`shared/tools/caller.py`, `Caller.respond`), and checks the outcome and the order exactly as
//! caller.py does. Failures print the transcript.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kea_dialog::{Context, DialogState, Event, Next, Outcome, PlacedOrder, step};
use kea_menu::matcher::MenuMatcher;
use kea_menu::{FulfillmentKind, Store, price_order};
use toml::{Table, Value};

const PUBLIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/scenarios");
const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios");
const STORES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/stores");
/// Stores only this crate's scenarios use, to check that nothing depends on the sample menus.
const OWN_STORES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stores");

const CONFIRM: &[&str] = &[
    "is that correct",
    "is that right",
    "is this correct",
    "is everything correct",
    "did you say",
    "did i get that right",
    "shall i place",
    "should i place",
    "place the order",
    "place this order",
    "sound good",
    "sounds good?",
    "confirm",
    "correct?",
    "right?",
    "¿es correcto",
    "es correcto",
    "¿correcto",
    "está bien?",
    "confirma",
];
const ADDRESS: &[&str] = &[
    "address",
    "deliver it to",
    "where should we deliver",
    "where to deliver",
    "dirección",
    "direccion",
];
const NAME: &[&str] = &["name", "nombre"];
const PHONE: &[&str] = &[
    "phone",
    "number",
    "reach you",
    "call you",
    "teléfono",
    "telefono",
    "número",
    "numero",
];
const PICKUP: &[&str] = &[
    "pickup",
    "pick up",
    "pick it up",
    "carry out",
    "carryout",
    "takeout",
    "take out",
    "recoger",
    "para llevar",
];
const DELIVERY: &[&str] = &["delivery", "deliver", "entrega", "domicilio"];
const SIZE_Q: &[&str] = &[
    "what size",
    "which size",
    "size would",
    "size do",
    "tamaño",
    "tamano",
];
const SIZE_PAIRS: &[(&str, &str)] = &[
    ("small", "large"),
    ("regular", "large"),
    ("pint", "quart"),
    ("6 piece", "12 piece"),
    ("six piece", "twelve piece"),
    ("chico", "grande"),
    ("pequeño", "grande"),
];
const CHOICE: &[&str] = &[
    "which",
    "what kind",
    "what type",
    "what flavor",
    "choose",
    "would you prefer",
    "cuál",
    "cual",
    "qué sabor",
    "que sabor",
    "qué tipo",
];
const OPEN: &[&str] = &[
    "anything else",
    "what else",
    "what can i get",
    "what would you like",
    "what can i",
    "ready to order",
    "help you",
    "take your order",
    "your order",
    "to order",
    "algo más",
    "algo mas",
    "qué le",
    "que le",
    "qué desea",
    "que desea",
    "ordenar",
    "pedir",
];
const OFFER: &[&str] = &[
    "would you like",
    "do you want",
    "want to add",
    "can i add",
    "interested in",
    "le gustaría",
    "le gustaria",
    "quiere",
];

fn has(p: &str, words: &[&str]) -> bool {
    words.iter().any(|w| p.contains(w))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// A port of caller.py's `Caller`.
struct Caller {
    phone: String,
    name: String,
    fulfillment: String,
    address: String,
    callback_phone: Option<String>,
    lang: String,
    say: Vec<String>,
    confidence: f32,
    answers: Table,
    sizes: Vec<String>,
    choices: Vec<String>,
    on: Vec<(regex::Regex, String, bool)>,
    hangup_after: Option<i64>,
    spoken: i64,
    unknown: u32,
    hung_up: bool,
}

impl Caller {
    fn new(sc: &Table) -> Caller {
        let empty = Table::new();
        let c = sc.get("caller").and_then(Value::as_table).unwrap_or(&empty);
        let s = |k: &str, d: &str| c.get(k).and_then(Value::as_str).unwrap_or(d).to_owned();
        let answers = c
            .get("answers")
            .and_then(Value::as_table)
            .cloned()
            .unwrap_or_default();
        let on = c
            .get("on")
            .and_then(Value::as_array)
            .map(|rules| {
                rules
                    .iter()
                    .filter_map(|r| {
                        let when = r.get("when")?.as_str()?;
                        let say = r.get("say")?.as_str()?.to_owned();
                        Some((regex::Regex::new(when).ok()?, say, false))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Caller {
            phone: s("phone", "+15557654321"),
            name: s("name", "Sam"),
            fulfillment: s("fulfillment", "pickup"),
            address: s("address", ""),
            callback_phone: c
                .get("callback_phone")
                .and_then(Value::as_str)
                .map(str::to_owned),
            lang: s("language", "en"),
            say: strings(c.get("say")),
            confidence: c
                .get("confidence")
                .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
                .unwrap_or(0.92) as f32,
            sizes: strings(answers.get("size")),
            choices: strings(answers.get("choice")),
            answers,
            on,
            hangup_after: c.get("hangup_after").and_then(Value::as_integer),
            spoken: 0,
            unknown: 0,
            hung_up: false,
        }
    }

    fn es(&self, en: &str, es: &str) -> String {
        if self.lang == "es" {
            es.to_owned()
        } else {
            en.to_owned()
        }
    }

    fn answer(&self, key: &str, default: String) -> String {
        self.answers
            .get(key)
            .and_then(Value::as_str)
            .map_or(default, str::to_owned)
    }

    fn pop_say(&mut self) -> String {
        if self.say.is_empty() {
            String::new()
        } else {
            self.say.remove(0)
        }
    }

    fn respond(&mut self, prompt: &str) -> String {
        let p = prompt.to_lowercase();
        if let Some(limit) = self.hangup_after
            && self.spoken >= limit
        {
            self.hung_up = true;
            return String::new();
        }
        self.spoken += 1;
        for rule in &mut self.on {
            if !rule.2 && rule.0.is_match(&p) {
                rule.2 = true;
                self.unknown = 0;
                return speak(&rule.1);
            }
        }
        if has(&p, CONFIRM) {
            let a = self.answer("confirm", self.es("Yes, that's right.", "Sí, es correcto."));
            return self.known(a);
        }
        if has(&p, ADDRESS) {
            let a = self.answer("address", self.address.clone());
            return self.known(a);
        }
        if has(&p, NAME) {
            let a = self.answer(
                "name",
                self.es(&format!("It's {}.", self.name), &format!("{}.", self.name)),
            );
            return self.known(a);
        }
        if has(&p, PHONE) {
            let digits: String = self.phone.chars().filter(char::is_ascii_digit).collect();
            if let Some(cb) = self.callback_phone.clone() {
                return self.known(cb);
            }
            let heard: String = p.chars().filter(char::is_ascii_digit).collect();
            let last4 = &digits[digits.len().saturating_sub(4)..];
            if heard.contains(last4)
                || has(
                    &p,
                    &["this number", "calling from", "ending in", "este número"],
                )
            {
                let a = self.answer(
                    "phone",
                    self.es("Yes, this number is fine.", "Sí, este número."),
                );
                return self.known(a);
            }
            let ten = &digits[digits.len().saturating_sub(10)..];
            let spaced: Vec<String> = ten.chars().map(|c| c.to_string()).collect();
            return self.known(spaced.join(" "));
        }
        if has(&p, DELIVERY) && has(&p, PICKUP) {
            let default = if self.fulfillment == "pickup" {
                self.es("Pickup, please.", "Para recoger.")
            } else {
                self.es("Delivery, please.", "A domicilio.")
            };
            let a = self.answer("fulfillment", default);
            return self.known(a);
        }
        if (has(&p, SIZE_Q)
            || SIZE_PAIRS
                .iter()
                .any(|(a, b)| p.contains(a) && p.contains(b)))
            && !self.sizes.is_empty()
        {
            let a = self.sizes.remove(0);
            return self.known(a);
        }
        if has(&p, CHOICE) && !self.choices.is_empty() {
            let a = self.choices.remove(0);
            return self.known(a);
        }
        if has(&p, OPEN) {
            if !self.say.is_empty() {
                let a = self.pop_say();
                return self.known(a);
            }
            let a = self.answer("done", self.es("No, that's all.", "No, es todo."));
            return self.known(a);
        }
        if has(&p, OFFER) {
            if !self.say.is_empty() {
                let a = self.pop_say();
                return self.known(a);
            }
            let a = self.answer("offer", self.es("No, thank you.", "No, gracias."));
            return self.known(a);
        }
        if has(&p, PICKUP) && !has(&p, DELIVERY) && p.trim_end().ends_with('?') {
            let a = if self.fulfillment == "pickup" {
                self.es("Yes.", "Sí.")
            } else {
                self.es("No, delivery please.", "No, a domicilio.")
            };
            return self.known(a);
        }
        if !self.say.is_empty() && self.unknown == 0 {
            self.unknown += 1;
            let a = self.pop_say();
            return speak(&a);
        }
        self.unknown += 1;
        if self.unknown >= 4 {
            self.hung_up = true;
            return String::new();
        }
        self.es("Sorry, what was that?", "¿Perdón?")
    }

    fn known(&mut self, text: String) -> String {
        self.unknown = 0;
        speak(&text)
    }
}

fn speak(text: &str) -> String {
    if text.is_empty() || text == "<silence>" {
        String::new()
    } else {
        text.to_owned()
    }
}

struct Played {
    outcome: String,
    order: Option<PlacedOrder>,
    transcript: Vec<(String, String)>,
    error: Option<String>,
}

/// Plays one call the way Twilio and caller.py would.
fn play(store: &Store, matcher: &MenuMatcher, sc: &Table) -> Played {
    let ctx = Context { store, matcher };
    let mut caller = Caller::new(sc);
    let mut state = DialogState::new(&caller.phone);
    let mut event = Event::Start;
    let mut heard: Vec<String> = Vec::new();
    let mut transcript = Vec::new();
    let mut gathers = 0;
    loop {
        let (next_state, turn) = step(&state, &event, &ctx);
        // Every turn must be replayable: the state survives JSON.
        let json = serde_json::to_string(&next_state).unwrap_or_default();
        let back: Option<DialogState> = serde_json::from_str(&json).ok();
        if back.as_ref() != Some(&next_state) {
            return Played {
                outcome: "error".into(),
                order: None,
                transcript,
                error: Some(format!("state does not round-trip: {json}")),
            };
        }
        state = next_state;
        heard.extend(turn.say.iter().map(|u| u.text.clone()));
        match turn.next {
            Next::Listen { .. } => {
                gathers += 1;
                if gathers > 40 {
                    return Played {
                        outcome: "loop".into(),
                        order: None,
                        transcript,
                        error: Some("more than 40 turns: the dialog loops".into()),
                    };
                }
                let prompt = heard.join(" ");
                heard.clear();
                transcript.push(("system".to_owned(), prompt.clone()));
                let utt = caller.respond(&prompt);
                if caller.hung_up {
                    return Played {
                        outcome: "abandoned".into(),
                        order: None,
                        transcript,
                        error: None,
                    };
                }
                if utt.is_empty() {
                    transcript.push(("caller".to_owned(), "<silence>".to_owned()));
                    event = Event::Silence;
                } else {
                    transcript.push(("caller".to_owned(), utt.clone()));
                    event = Event::Speech {
                        text: utt,
                        confidence: caller.confidence,
                    };
                }
            }
            Next::Transfer => {
                transcript.push(("system".to_owned(), heard.join(" ")));
                return Played {
                    outcome: "transferred".into(),
                    order: None,
                    transcript,
                    error: None,
                };
            }
            Next::Hangup => {
                transcript.push(("system".to_owned(), heard.join(" ")));
                let outcome = match turn.outcome {
                    Some(Outcome::OrderPlaced) => "order_placed",
                    Some(Outcome::Cancelled) => "cancelled",
                    Some(Outcome::Transferred) => "transferred",
                    None => "abandoned",
                };
                return Played {
                    outcome: outcome.into(),
                    order: turn.order,
                    transcript,
                    error: None,
                };
            }
        }
    }
}

type ItemKey = (String, String, u32, Vec<String>);

fn item_key(
    store: &Store,
    sku: &str,
    size: Option<&str>,
    quantity: u32,
    modifiers: &[String],
) -> ItemKey {
    let mut size = size.map(str::to_lowercase);
    if size.is_none() {
        size = store
            .menu
            .item(sku)
            .and_then(|i| i.default_size.clone())
            .map(|s| s.to_lowercase());
    }
    let mut mods = modifiers.to_vec();
    mods.sort();
    (sku.to_owned(), size.unwrap_or_default(), quantity, mods)
}

fn norm(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn check(store: &Store, sc: &Table, played: &Played) -> Vec<String> {
    let mut fails = Vec::new();
    if let Some(e) = &played.error {
        return vec![e.clone()];
    }
    let empty = Table::new();
    let exp = sc.get("expect").and_then(Value::as_table).unwrap_or(&empty);
    let want = exp
        .get("outcome")
        .and_then(Value::as_str)
        .unwrap_or("order_placed");
    if played.outcome != want {
        fails.push(format!("outcome {:?}, want {want:?}", played.outcome));
    }
    if want != "order_placed" {
        if played.order.is_some() {
            fails.push("an order was placed for a call that should have none".into());
        }
        return fails;
    }
    let Some(order) = &played.order else {
        fails.push("no order".into());
        return fails;
    };
    let mut got: Vec<ItemKey> = order
        .lines
        .iter()
        .map(|l| item_key(store, &l.sku, l.size.as_deref(), l.quantity, &l.modifiers))
        .collect();
    got.sort();
    let items: Vec<&Table> = exp
        .get("items")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_table).collect())
        .unwrap_or_default();
    let mut wanted: Vec<ItemKey> = items
        .iter()
        .map(|it| {
            item_key(
                store,
                it.get("sku").and_then(Value::as_str).unwrap_or(""),
                it.get("size").and_then(Value::as_str),
                it.get("quantity").and_then(Value::as_integer).unwrap_or(1) as u32,
                &strings(it.get("modifiers")),
            )
        })
        .collect();
    wanted.sort();
    if got != wanted {
        fails.push(format!("items {got:?} != expected {wanted:?}"));
    }
    let fulfillment = match order.fulfillment {
        FulfillmentKind::Pickup => "pickup",
        FulfillmentKind::Delivery => "delivery",
    };
    if let Some(f) = exp.get("fulfillment").and_then(Value::as_str)
        && f != fulfillment
    {
        fails.push(format!("fulfillment {fulfillment:?} != {f:?}"));
    }
    if let Some(n) = exp.get("customer_name").and_then(Value::as_str)
        && norm(n) != norm(&order.customer_name)
    {
        fails.push(format!("customer_name {:?} != {n:?}", order.customer_name));
    }
    let last10 = |p: &str| {
        let d: String = p.chars().filter(char::is_ascii_digit).collect();
        d[d.len().saturating_sub(10)..].to_owned()
    };
    if let Some(p) = exp.get("customer_phone").and_then(Value::as_str)
        && last10(p) != last10(&order.customer_phone)
    {
        fails.push(format!(
            "customer_phone {:?} != {p:?}",
            order.customer_phone
        ));
    }
    if !order.customer_phone.starts_with('+') {
        fails.push(format!(
            "customer_phone {:?} is not E.164",
            order.customer_phone
        ));
    }
    let have = norm(order.delivery_address.as_deref().unwrap_or(""));
    for part in strings(exp.get("address_contains")) {
        if !have.contains(&norm(&part)) {
            fails.push(format!(
                "delivery_address {:?} lacks {part:?}",
                order.delivery_address
            ));
        }
    }
    if got == wanted {
        // The total by the pricing rules in store.md, computed independently of kea-menu.
        let mut sub = 0i64;
        for it in &items {
            let sku = it.get("sku").and_then(Value::as_str).unwrap_or("");
            let Some(item) = store.menu.item(sku) else {
                continue;
            };
            let unit = if item.sizes.is_empty() {
                item.price_cents.unwrap_or(0)
            } else {
                let size = it
                    .get("size")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| item.default_size.clone())
                    .unwrap_or_default();
                item.sizes
                    .iter()
                    .find(|s| s.name == size)
                    .map_or(0, |s| s.price_cents)
            };
            let opts: i64 = strings(it.get("modifiers"))
                .iter()
                .map(|o| {
                    store
                        .menu
                        .modifier_groups
                        .iter()
                        .flat_map(|g| &g.options)
                        .find(|x| x.sku == *o)
                        .map_or(0, |x| x.price_cents)
                })
                .sum();
            sub += (unit + opts) * it.get("quantity").and_then(Value::as_integer).unwrap_or(1);
        }
        let tax = (sub * i64::from(store.tax_rate_bps) + 5000) / 10000;
        let fee = if fulfillment == "delivery" {
            store.fulfillment.delivery_fee_cents
        } else {
            0
        };
        let total = sub + tax + fee;
        match price_order(store, &order.lines, order.fulfillment) {
            Ok(p) if p.total_cents == total => {}
            other => fails.push(format!(
                "total {other:?} != {total} (subtotal {sub}, tax {tax})"
            )),
        }
        // The read-back said the total.
        let money = format!("${}.{:02}", total / 100, total % 100);
        if !played
            .transcript
            .iter()
            .any(|(who, t)| who == "system" && t.contains(&money))
        {
            fails.push(format!("the read-back never said the total {money}"));
        }
    }
    if !(0.0..=1.0).contains(&order.confidence) {
        fails.push(format!("confidence {} out of range", order.confidence));
    }
    fails
}

fn load_stores() -> BTreeMap<String, Store> {
    let mut stores = BTreeMap::new();
    let mut paths: Vec<PathBuf> = [STORES, OWN_STORES]
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(dir)
                .map(|d| {
                    d.filter_map(|e| e.ok().map(|e| e.path()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect();
    paths.sort();
    for path in paths {
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            match Store::parse(&text) {
                Ok(store) => {
                    stores.insert(store.id.clone(), store);
                }
                Err(e) => panic!("{}: {e}", path.display()),
            }
        }
    }
    stores
}

fn scenarios(dir: &str) -> Vec<(String, Table)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(Path::new(dir))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            match text.parse::<Table>() {
                Ok(t) => (
                    p.file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    t,
                ),
                Err(e) => panic!("{}: {e}", p.display()),
            }
        })
        .collect()
}

fn run(dir: &str, min: usize) {
    let stores = load_stores();
    let matchers: BTreeMap<String, MenuMatcher> = stores
        .iter()
        .map(|(id, s)| (id.clone(), MenuMatcher::new(&s.menu)))
        .collect();
    let list = scenarios(dir);
    assert!(
        list.len() >= min,
        "expected at least {min} scenarios in {dir}, found {}",
        list.len()
    );
    let mut failed = Vec::new();
    for (id, sc) in &list {
        let store_id = sc.get("store").and_then(Value::as_str).unwrap_or("");
        let (Some(store), Some(matcher)) = (stores.get(store_id), matchers.get(store_id)) else {
            failed.push(format!("{id}: unknown store {store_id:?}"));
            continue;
        };
        let played = play(store, matcher, sc);
        let fails = check(store, sc, &played);
        if fails.is_empty() {
            println!(
                "PASS  {id:40} turns={}",
                played
                    .transcript
                    .iter()
                    .filter(|(w, _)| w == "caller")
                    .count()
            );
            if std::env::var_os("SCENARIO_VERBOSE").is_some() {
                for (who, text) in &played.transcript {
                    println!("        {who:>6}: {text}");
                }
            }
        } else {
            println!("FAIL  {id:40} {}", fails.join("; "));
            for (who, text) in &played.transcript {
                println!("        {who:>6}: {text}");
            }
            failed.push(format!("{id}: {}", fails.join("; ")));
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

/// Scenarios from another folder (e.g. a held-out set): `KEA_SCENARIOS=/path cargo test`.
#[test]
fn extra_scenarios_pass() {
    if let Some(dir) = std::env::var_os("KEA_SCENARIOS") {
        run(&dir.to_string_lossy(), 1);
    }
}

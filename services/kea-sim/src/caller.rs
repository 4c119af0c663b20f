//! The simulated caller: answers each prompt the way `scenarios.md` describes (the same rules as
//! the conformance tool's caller), so a scenario plays the same against the pure engine and over
//! HTTP.

use regex::Regex;

use crate::Scenario;

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

/// A goal-driven caller playing one scenario.
#[derive(Debug)]
pub struct SimCaller {
    scenario: Scenario,
    say: Vec<String>,
    sizes: Vec<String>,
    choices: Vec<String>,
    rules: Vec<(Regex, String, bool)>,
    spoken: u32,
    unknown: u32,
    hung_up: bool,
}

impl SimCaller {
    /// A caller for `scenario` (its regexes were checked when it was parsed; a bad one is skipped).
    pub fn new(scenario: &Scenario) -> Self {
        let c = &scenario.caller;
        Self {
            say: c.say.clone(),
            sizes: c.answers.size.0.clone(),
            choices: c.answers.choice.0.clone(),
            rules: c
                .on
                .iter()
                .filter_map(|r| Some((Regex::new(&r.when).ok()?, r.say.clone(), false)))
                .collect(),
            scenario: scenario.clone(),
            spoken: 0,
            unknown: 0,
            hung_up: false,
        }
    }

    /// The caller's number.
    pub fn phone(&self) -> &str {
        &self.scenario.caller.phone
    }

    /// The speech-recognition confidence reported with each utterance.
    pub fn confidence(&self) -> f32 {
        self.scenario.caller.confidence
    }

    /// True once the caller has hung up.
    pub fn hung_up(&self) -> bool {
        self.hung_up
    }

    fn es(&self, en: &str, es: &str) -> String {
        if self.scenario.caller.language == "es" {
            es.to_owned()
        } else {
            en.to_owned()
        }
    }

    fn pop_say(&mut self) -> String {
        if self.say.is_empty() {
            String::new()
        } else {
            self.say.remove(0)
        }
    }

    /// What the caller says after hearing `prompt`: `None` is silence (or, once [`Self::hung_up`],
    /// the end of the call).
    pub fn respond(&mut self, prompt: &str) -> Option<String> {
        let p = prompt.to_lowercase();
        if let Some(limit) = self.scenario.caller.hangup_after
            && self.spoken >= limit
        {
            self.hung_up = true;
            return None;
        }
        self.spoken += 1;
        if let Some(rule) = self.rules.iter_mut().find(|r| !r.2 && r.0.is_match(&p)) {
            rule.2 = true;
            self.unknown = 0;
            return speak(rule.1.clone());
        }
        let answers = self.scenario.caller.answers.clone();
        let caller = self.scenario.caller.clone();
        if has(&p, CONFIRM) {
            return self.known(
                answers
                    .confirm
                    .unwrap_or_else(|| self.es("Yes, that's right.", "Sí, es correcto.")),
            );
        }
        if has(&p, ADDRESS) {
            return self.known(answers.address.unwrap_or(caller.address));
        }
        if has(&p, NAME) {
            let default = self.es(
                &format!("It's {}.", caller.name),
                &format!("{}.", caller.name),
            );
            return self.known(answers.name.unwrap_or(default));
        }
        if has(&p, PHONE) {
            if let Some(callback) = caller.callback_phone {
                return self.known(callback);
            }
            let digits: String = caller.phone.chars().filter(char::is_ascii_digit).collect();
            let heard: String = p.chars().filter(char::is_ascii_digit).collect();
            let last4 = &digits[digits.len().saturating_sub(4)..];
            if heard.contains(last4)
                || has(
                    &p,
                    &["this number", "calling from", "ending in", "este número"],
                )
            {
                return self.known(
                    answers.phone.unwrap_or_else(|| {
                        self.es("Yes, this number is fine.", "Sí, este número.")
                    }),
                );
            }
            let ten = &digits[digits.len().saturating_sub(10)..];
            return self.known(ten.chars().map(String::from).collect::<Vec<_>>().join(" "));
        }
        if has(&p, DELIVERY) && has(&p, PICKUP) {
            let default = if caller.fulfillment == "pickup" {
                self.es("Pickup, please.", "Para recoger.")
            } else {
                self.es("Delivery, please.", "A domicilio.")
            };
            return self.known(answers.fulfillment.unwrap_or(default));
        }
        if (has(&p, SIZE_Q)
            || SIZE_PAIRS
                .iter()
                .any(|(a, b)| p.contains(a) && p.contains(b)))
            && !self.sizes.is_empty()
        {
            let size = self.sizes.remove(0);
            return self.known(size);
        }
        if has(&p, CHOICE) && !self.choices.is_empty() {
            let choice = self.choices.remove(0);
            return self.known(choice);
        }
        if has(&p, OPEN) {
            if !self.say.is_empty() {
                let next = self.pop_say();
                return self.known(next);
            }
            return self.known(
                answers
                    .done
                    .unwrap_or_else(|| self.es("No, that's all.", "No, es todo.")),
            );
        }
        if has(&p, OFFER) {
            // Callers get on with their own agenda before taking up an offer.
            if !self.say.is_empty() {
                let next = self.pop_say();
                return self.known(next);
            }
            return self.known(
                answers
                    .offer
                    .unwrap_or_else(|| self.es("No, thank you.", "No, gracias.")),
            );
        }
        if has(&p, PICKUP) && !has(&p, DELIVERY) && p.trim_end().ends_with('?') {
            let answer = if caller.fulfillment == "pickup" {
                self.es("Yes.", "Sí.")
            } else {
                self.es("No, delivery please.", "No, a domicilio.")
            };
            return self.known(answer);
        }
        if !self.say.is_empty() && self.unknown == 0 {
            self.unknown += 1;
            return speak(self.pop_say());
        }
        self.unknown += 1;
        if self.unknown >= 4 {
            self.hung_up = true;
            return None;
        }
        Some(self.es("Sorry, what was that?", "¿Perdón?"))
    }

    fn known(&mut self, text: String) -> Option<String> {
        self.unknown = 0;
        speak(text)
    }
}

fn speak(text: String) -> Option<String> {
    if text.is_empty() || text == "<silence>" {
        None
    } else {
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(toml: &str) -> SimCaller {
        SimCaller::new(&Scenario::parse(toml, "t").unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn answers_each_kind_of_question() {
        let mut c = caller(
            r#"store = "s"
               [caller]
               name = "Priya"
               fulfillment = "delivery"
               address = "42 Elm Street"
               say = ["A Hawaiian pizza."]
               [caller.answers]
               size = ["Medium.", "Large."]
               choice = "Barbecue."
            "#,
        );
        assert_eq!(
            c.respond("Thanks for calling! What can I get for you?")
                .as_deref(),
            Some("A Hawaiian pizza.")
        );
        assert_eq!(
            c.respond("What size would you like: small, medium or large?")
                .as_deref(),
            Some("Medium.")
        );
        assert_eq!(
            c.respond("Which sauce would you like?").as_deref(),
            Some("Barbecue.")
        );
        assert_eq!(
            c.respond("Anything else?").as_deref(),
            Some("No, that's all.")
        );
        assert_eq!(
            c.respond("Pickup or delivery?").as_deref(),
            Some("Delivery, please.")
        );
        assert_eq!(
            c.respond("What's the delivery address?").as_deref(),
            Some("42 Elm Street")
        );
        assert_eq!(c.respond("And your name?").as_deref(), Some("It's Priya."));
        assert_eq!(
            c.respond("Is the number ending in 4321 best?").as_deref(),
            Some("Yes, this number is fine.")
        );
        assert_eq!(
            c.respond("A medium Hawaiian pizza. Is that correct?")
                .as_deref(),
            Some("Yes, that's right.")
        );
    }

    #[test]
    fn scripted_reactions_fire_once_and_hangups_happen() {
        let mut c = caller(
            r#"store = "s"
               [caller]
               hangup_after = 2
               say = ["A Sprite."]
               [[caller.on]]
               when = "sprite.*correct"
               say = "Change the Sprite to a Diet Coke."
            "#,
        );
        assert_eq!(
            c.respond("A Sprite. Is that correct?").as_deref(),
            Some("Change the Sprite to a Diet Coke.")
        );
        assert_eq!(
            c.respond("A Sprite. Is that correct?").as_deref(),
            Some("Yes, that's right.")
        );
        assert_eq!(c.respond("Anything else?"), None);
        assert!(c.hung_up());
    }

    #[test]
    fn four_prompts_it_cannot_place_make_it_hang_up() {
        let mut c = caller("store = \"s\"\n[caller]\nsay = [\"Hi.\"]\n");
        assert_eq!(c.respond("Hmm.").as_deref(), Some("Hi."));
        assert_eq!(c.respond("Hmm.").as_deref(), Some("Sorry, what was that?"));
        assert_eq!(c.respond("Hmm.").as_deref(), Some("Sorry, what was that?"));
        assert_eq!(c.respond("Hmm."), None);
        assert!(c.hung_up());
    }

    #[test]
    fn spanish_callers_answer_in_spanish() {
        let mut c = caller("store = \"s\"\n[caller]\nlanguage = \"es\"\nname = \"Lupita\"\n");
        assert_eq!(c.respond("¿A nombre de quién?").as_deref(), Some("Lupita."));
        assert_eq!(
            c.respond("¿Es correcto?").as_deref(),
            Some("Sí, es correcto.")
        );
    }
}

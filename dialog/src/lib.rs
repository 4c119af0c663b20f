#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
//!
//! # Modules
//!
//! - this module: the API the HTTP layer calls ([`step`], [`hints`]) and the dialog's flow:
//!   which question comes next, and how each answer moves the dialog on ([`DialogState`]).
//! - `understand`: reading one utterance (intents, yes/no, phone numbers, names, addresses).
//! - `order`: applying an utterance's items, corrections and removals to the order.
//! - `speech`: every sentence the engine says, in English and Spanish.

mod order;
mod speech;
mod understand;

use kea_menu::matcher::{MenuMatcher, Target};
use kea_menu::{FulfillmentKind, OrderLine, Store, price_order};
use serde::{Deserialize, Serialize};

use crate::order::{Ack, Clarify, Draft, Line, Work};
use crate::speech::{describe, list, money, pick};
use crate::understand::{Analysis, Mention, Volunteered};

pub use crate::understand::{extract_address, extract_name, parse_phone};

/// Everything the engine needs about the store for a turn; build it once per store and cache it.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The store the caller dialled.
    pub store: &'a Store,
    /// The matcher built from `store.menu` with [`MenuMatcher::new`].
    pub matcher: &'a MenuMatcher,
}

/// A language the engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English (`en-US`).
    #[default]
    En,
    /// Spanish (`es-US`).
    Es,
}

impl Language {
    /// The BCP 47 tag Twilio's `<Say>` and `<Gather>` take.
    #[must_use]
    pub fn bcp47(self) -> &'static str {
        match self {
            Language::En => "en-US",
            Language::Es => "es-US",
        }
    }
}

/// What happened on the call since the last turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// The call was answered.
    Start,
    /// The caller said something (Twilio's `SpeechResult` and `Confidence`).
    Speech {
        /// The transcript.
        text: String,
        /// The recogniser's confidence, 0 to 1.
        confidence: f32,
    },
    /// The caller pressed keys (Twilio's `Digits`).
    Digits(String),
    /// The caller said nothing before the `<Gather>` timed out.
    Silence,
}

/// One sentence to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utterance {
    /// The words.
    pub text: String,
    /// The language to say them in.
    pub language: Language,
}

/// What to do after speaking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Next {
    /// Listen for speech: a `<Gather>` whose prompt is the last utterance. `hints` are words
    /// expected for this particular question (sizes, options, yes/no); add [`hints`] for the
    /// whole menu.
    Listen {
        /// Words to pass to the recogniser for this question.
        hints: Vec<String>,
    },
    /// Hand the call to a person.
    Transfer,
    /// End the call.
    Hangup,
}

/// How a call ended, when this turn ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The caller confirmed an order: [`Turn::order`] holds it.
    OrderPlaced,
    /// The call goes to a person.
    Transferred,
    /// The caller cancelled; nothing is to be sent anywhere.
    Cancelled,
}

/// A confirmed order, ready to be written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedOrder {
    /// The lines, priced by [`kea_menu::price_order`] before the read-back.
    pub lines: Vec<OrderLine>,
    /// Pickup or delivery.
    pub fulfillment: FulfillmentKind,
    /// The name the order is under.
    pub customer_name: String,
    /// E.164 number to reach the customer.
    pub customer_phone: String,
    /// Where to deliver, for delivery orders.
    pub delivery_address: Option<String>,
    /// How sure the engine is that the order is what the caller meant (0 to 1): the lowest of
    /// the speech-recognition confidences and menu-match similarities behind its lines.
    pub confidence: f32,
    /// Minutes until the order is ready (pickup) or arrives (delivery).
    pub ready_in_minutes: u32,
}

/// The engine's answer to one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// What to say, in order.
    pub say: Vec<Utterance>,
    /// What to do after saying it.
    pub next: Next,
    /// Set when this turn ends the call.
    pub outcome: Option<Outcome>,
    /// Set with [`Outcome::OrderPlaced`].
    pub order: Option<PlacedOrder>,
    /// The language of the call from now on (for `<Gather language>`).
    pub language: Language,
}

/// The question the caller just heard; it decides how their next words are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "q", rename_all = "snake_case")]
enum Asked {
    /// Nothing yet: the call has not started.
    #[default]
    Nothing,
    /// "What can I get for you?" / "Anything else?": any order words, or "that's all".
    Order,
    /// "What size would you like for line N?": a size, or more order words.
    Size { line: usize },
    /// "Which <group> would you like for line N?": an option of that group.
    Choice { line: usize, group: usize },
    /// "Did you say …?" about the held lines: yes adds them, no drops them.
    ConfirmItems,
    /// "Which pizza would you like: …?" after a category word: one of the candidates.
    Clarify,
    /// "Would you like one?" after a menu or price answer: yes / "I'll take one" adds it.
    Offer,
    /// "Pickup or delivery?"
    Fulfillment,
    /// "Delivery needs at least $X; what else would you like?": more items, or "that's all".
    AddMore,
    /// "Would you like to make it pickup instead?" after declining to reach the minimum.
    SwitchToPickup,
    /// "What's the delivery address?": the rest of the utterance is the address.
    Address,
    /// "What name is the order under?": the utterance is the name.
    Name,
    /// "Is the number ending in 1234 best?": yes, or another number.
    ConfirmPhone,
    /// "What number can we reach you at?": a phone number.
    Phone,
    /// The read-back: yes places the order; edits are applied and read back again.
    ReadBack,
}

/// "Half hot, half mild" on a line whose sauce group takes one: the options the caller said,
/// to ask which they want (or, when the line is that many orders, whether one of each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Split {
    /// Index of the line among the confirmed lines (held lines follow them).
    line: usize,
    /// The line's item, to notice when the line has gone.
    sku: String,
    /// The modifier group's id.
    group: String,
    /// Skus of the options said, in the order said.
    options: Vec<String>,
}

/// The state of one call between turns, stored as JSON.
///
/// Start a call with [`DialogState::new`]; afterwards only [`step`] changes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DialogState {
    caller_id: String,
    #[serde(default)]
    language: Language,
    #[serde(default)]
    asked: Asked,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    lines: Vec<Line>,
    /// Lines waiting for "did you say …?".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    held: Vec<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clarify: Option<Clarify>,
    /// More options of one group said for a line than the group allows: which one(s)?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    split: Option<Split>,
    /// The item a menu or price answer was about, for "I'll take one".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    discussed: Option<Line>,
    /// Index of the line "make that…" refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last: Option<usize>,
    #[serde(default)]
    ordering_done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fulfillment: Option<FulfillmentKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[serde(default)]
    phone_confirmed: bool,
    #[serde(default)]
    silences: u8,
    #[serde(default)]
    misses: u8,
    #[serde(default)]
    turns: u16,
    #[serde(default)]
    ended: bool,
}

impl DialogState {
    /// The state of a new call from `caller_id` (Twilio's `From`).
    #[must_use]
    pub fn new(caller_id: &str) -> Self {
        DialogState {
            caller_id: caller_id.to_owned(),
            language: Language::En,
            asked: Asked::Nothing,
            lines: Vec::new(),
            held: Vec::new(),
            clarify: None,
            split: None,
            discussed: None,
            last: None,
            ordering_done: false,
            fulfillment: None,
            address: None,
            name: None,
            phone: None,
            phone_confirmed: false,
            silences: 0,
            misses: 0,
            turns: 0,
            ended: false,
        }
    }

    /// The confirmed order lines so far.
    #[must_use]
    pub fn lines(&self) -> Vec<OrderLine> {
        self.lines.iter().map(to_order_line).collect()
    }

    /// The language the call is in.
    #[must_use]
    pub fn language(&self) -> Language {
        self.language
    }

    /// Whether the call has ended (placed, cancelled or transferred).
    #[must_use]
    pub fn ended(&self) -> bool {
        self.ended
    }
}

fn to_order_line(line: &Line) -> OrderLine {
    OrderLine {
        sku: line.sku.clone(),
        size: line.size.clone(),
        quantity: line.quantity,
        modifiers: line.modifiers.clone(),
    }
}

/// Menu words to pass to the speech recogniser as `<Gather hints>`.
#[must_use]
pub fn hints(ctx: &Context) -> Vec<String> {
    ctx.matcher.hints().iter().take(400).cloned().collect()
}

/// Runs one turn: the call's state and what just happened in, the new state and what to do out.
///
/// Pure and deterministic: the same state, event and store always give the same result.
#[must_use]
pub fn step(state: &DialogState, event: &Event, ctx: &Context) -> (DialogState, Turn) {
    let mut s = state.clone();
    let mut reply = Reply::default();
    if s.ended {
        let text = pick(
            s.language,
            "Thanks for calling. Goodbye!",
            "Gracias por llamar. ¡Adiós!",
        );
        return finish(s, vec![text], Next::Hangup, None, None);
    }
    match event {
        Event::Start => {
            s = DialogState::new(&state.caller_id);
            s.language = if ctx
                .store
                .languages
                .first()
                .is_some_and(|l| l.starts_with("es"))
            {
                Language::Es
            } else {
                Language::En
            };
            let name = &ctx.store.name;
            reply.say.push(pick(
                s.language,
                &format!("Thanks for calling {name}!"),
                &format!("¡Gracias por llamar a {name}!"),
            ));
            if s.language == Language::En && speaks_spanish(ctx) {
                reply.extra_es = Some("También hablamos español.".to_owned());
            }
            reply.question = Some((
                Asked::Order,
                pick(
                    s.language,
                    "What can I get for you?",
                    "¿Qué le puedo ofrecer?",
                ),
                Vec::new(),
            ));
        }
        Event::Silence => {
            s.silences = s.silences.saturating_add(1);
            if s.silences >= 3 {
                return transfer(s, true);
            }
            reply.say.push(pick(
                s.language,
                "Sorry, I didn't hear anything.",
                "Perdón, no le escuché.",
            ));
        }
        Event::Digits(digits) => {
            s.silences = 0;
            if digits.trim() == "0" {
                return transfer(s, false);
            }
            let number: String = digits.chars().filter(char::is_ascii_digit).collect();
            match understand::e164(&number) {
                Some(phone) if matches!(s.asked, Asked::Phone | Asked::ConfirmPhone) => {
                    s.phone = Some(phone);
                    s.phone_confirmed = true;
                }
                _ => {
                    s.misses = s.misses.saturating_add(1);
                    if s.misses >= 3 {
                        return transfer(s, false);
                    }
                    reply.say.push(pick(
                        s.language,
                        "Sorry, please tell me instead.",
                        "Perdón, por favor dígamelo.",
                    ));
                }
            }
        }
        Event::Speech { text, confidence } => {
            s.silences = 0;
            s.turns = s.turns.saturating_add(1);
            if s.turns > 60 {
                return transfer(s, false);
            }
            match on_speech(&mut s, text, *confidence, ctx, &mut reply) {
                Flow::Continue => {}
                Flow::Transfer => return transfer(s, false),
                Flow::Cancel => {
                    s.ended = true;
                    let name = &ctx.store.name;
                    let mut say = std::mem::take(&mut reply.say);
                    let text = pick(
                        s.language,
                        &format!(
                            "Okay, I've cancelled your order. Thanks for calling {name}. Goodbye!"
                        ),
                        &format!(
                            "Muy bien, cancelé su orden. Gracias por llamar a {name}. ¡Adiós!"
                        ),
                    );
                    say.push(text);
                    return finish(s, say, Next::Hangup, Some(Outcome::Cancelled), None);
                }
                Flow::Place => return place(s, ctx),
            }
        }
    }
    let (asked, question, hints) = match reply.question.take() {
        Some(q) => q,
        None => next_question(&mut s, ctx),
    };
    s.asked = asked;
    let mut say = reply.say;
    let language = s.language;
    let mut utterances: Vec<Utterance> = say
        .drain(..)
        .filter(|t| !t.is_empty())
        .map(|text| Utterance { text, language })
        .collect();
    if let Some(es) = reply.extra_es {
        utterances.push(Utterance {
            text: es,
            language: Language::Es,
        });
    }
    utterances.push(Utterance {
        text: question,
        language,
    });
    let turn = Turn {
        say: utterances,
        next: Next::Listen { hints },
        outcome: None,
        order: None,
        language,
    };
    (s, turn)
}

fn speaks_spanish(ctx: &Context) -> bool {
    ctx.store.languages.iter().any(|l| l.starts_with("es"))
}

#[derive(Default)]
struct Reply {
    say: Vec<String>,
    extra_es: Option<String>,
    question: Option<(Asked, String, Vec<String>)>,
}

enum Flow {
    Continue,
    Transfer,
    Cancel,
    Place,
}

fn finish(
    mut s: DialogState,
    say: Vec<String>,
    next: Next,
    outcome: Option<Outcome>,
    order: Option<PlacedOrder>,
) -> (DialogState, Turn) {
    if outcome.is_some() {
        s.ended = true;
    }
    let language = s.language;
    let say = say
        .into_iter()
        .map(|text| Utterance { text, language })
        .collect();
    (
        s,
        Turn {
            say,
            next,
            outcome,
            order,
            language,
        },
    )
}

fn transfer(s: DialogState, silent: bool) -> (DialogState, Turn) {
    let text = if silent {
        pick(
            s.language,
            "I'm having trouble hearing you, so let me connect you with someone at the store. Please hold.",
            "No le escucho bien; le comunico con una persona de la tienda. Un momento, por favor.",
        )
    } else {
        pick(
            s.language,
            "Sure, let me connect you with someone at the store. Please hold.",
            "Claro, le comunico con una persona de la tienda. Un momento, por favor.",
        )
    };
    finish(
        s,
        vec![text],
        Next::Transfer,
        Some(Outcome::Transferred),
        None,
    )
}

/// Reads one utterance in the light of the question it answers.
fn on_speech(
    s: &mut DialogState,
    text: &str,
    confidence: f32,
    ctx: &Context,
    reply: &mut Reply,
) -> Flow {
    let menu = &ctx.store.menu;
    // A name or an address said in passing is kept away from the menu words.
    let vol = Volunteered::find(text, ctx.matcher, &ctx.store.name);
    let an = Analysis::new(&vol.menu_text(text), ctx.matcher);
    if speaks_spanish(ctx)
        && let Some(language) = an.language()
    {
        s.language = language;
    }
    let lang = s.language;
    if an.wants_person() {
        return Flow::Transfer;
    }
    if an.wants_cancel() && !matches!(s.asked, Asked::Address | Asked::Name) {
        return Flow::Cancel;
    }
    if !s.lines.is_empty()
        && an.has_any(&[
            "repeat my order",
            "repeat the order",
            "read it back",
            "read back",
            "what do i have",
            "what is my order",
            "what did i order",
            "what have i got",
            "repite mi orden",
            "que tengo",
        ])
    {
        let work = Work::new(menu, &s.lines, &[], None);
        let items: Vec<String> = work
            .lines
            .iter()
            .map(|d| describe(lang, menu, d, true))
            .collect();
        reply.say.push(pick(
            lang,
            &format!("So far I have {}.", list(lang, &items, false)),
            &format!("Hasta ahora tengo {}.", list(lang, &items, false)),
        ));
        return Flow::Continue;
    }
    if an.wants_repeat() {
        s.misses = s.misses.saturating_add(1);
        if s.misses >= 3 {
            return Flow::Transfer;
        }
        reply.say.push(pick(lang, "Sure.", "Claro."));
        return Flow::Continue;
    }
    let confidence = if confidence.is_finite() {
        confidence.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let asr = (confidence * 1000.0) as u16;
    let mut work = Work::new(menu, &s.lines, &s.held, s.last);
    work.asr = asr;
    work.hold_new = confidence < 0.6;
    work.correcting = (s.asked == Asked::ReadBack
        || an.has_any(&[
            "i said",
            "should be",
            "supposed to be",
            "i meant",
            "i mean",
            "dije",
        ]))
        && !an.has_any(&[
            "add", "another", "more", "also", "extra", "agrega", "otro", "otra", "mas",
        ]);
    let mut understood = false;
    let asked = s.asked;

    // A name or a delivery address the caller offered before being asked ("hi, this is Maria",
    // "for delivery to 42 Elm Street"): kept, so the question is not asked later. Answers to
    // those very questions are read below.
    let mut details = false;
    let mut greet = None;
    if asked != Asked::Name
        && let Some(name) = &vol.name
        && (asked != Asked::Address || vol.name_certain)
    {
        understood = true;
        if s.name.as_ref() != Some(name) {
            s.name = Some(name.clone());
            details = true;
            greet = name.split_whitespace().next().map(str::to_owned);
        }
    }
    if asked != Asked::Address
        && let Some(address) = &vol.address
        && ctx.store.fulfillment.delivery
    {
        understood = true;
        if s.address.as_ref() != Some(address) {
            s.address = Some(address.clone());
            details = true;
        }
    }

    // Things a caller may volunteer at any point.
    if let Some(phone) = &an.phone {
        s.phone = Some(phone.clone());
        s.phone_confirmed = true;
        understood = true;
    }
    if !matches!(asked, Asked::Address | Asked::Name)
        && let Some(kind) = an.fulfillment()
    {
        if offers(ctx.store, kind) {
            s.fulfillment = Some(kind);
        } else {
            reply.say.push(only_offer(lang, ctx.store));
        }
        understood = true;
    }

    let question = an.menu_question() || an.price_question();
    let mut edited = false;
    match asked {
        _ if question && !matches!(asked, Asked::Address | Asked::Name) => {
            answer_question(s, &an, ctx, reply);
            return Flow::Continue;
        }
        Asked::ConfirmItems => match an.yes_no() {
            Some(true) if !an.has_item() => {
                for line in &mut work.lines {
                    if line.held {
                        // The caller heard the line read back and said yes: no longer a guess.
                        line.held = false;
                        line.certainty = 1000;
                    }
                }
                work.last = work.lines.len().checked_sub(1);
                understood = true;
            }
            answer => {
                work.lines.retain(|l| !l.held);
                work.last = None;
                if answer == Some(false) || an.has_item() {
                    understood = true;
                }
                if an.has_menu() {
                    edited = work.apply(&an);
                } else if answer == Some(false) {
                    reply.say.push(pick(lang, "Sorry about that.", "Perdón."));
                    reply.question = Some((
                        Asked::Order,
                        pick(lang, "What would you like?", "¿Qué le gustaría ordenar?"),
                        Vec::new(),
                    ));
                }
            }
        },
        Asked::Clarify => {
            let candidates: Vec<usize> = s
                .clarify
                .as_ref()
                .map(|c| {
                    c.skus
                        .iter()
                        .filter_map(|sku| menu.items.iter().position(|i| i.sku == *sku))
                        .collect()
                })
                .unwrap_or_default();
            let chosen = pick_candidate(&an, &candidates, menu);
            if let (Some(item), Some(c)) = (chosen, s.clarify.take()) {
                let size = c.size.clone();
                let draft = Draft {
                    item,
                    quantity: c.quantity.max(1),
                    size,
                    mods: Vec::new(),
                    certainty: asr.min(1000),
                    held: false,
                    id: 0,
                };
                add_draft(&mut work, draft);
                // Sizes or options said with the choice ("the large pepperoni").
                let _ = work.apply(&without_items(&an));
                understood = true;
            } else {
                edited = work.apply(&an);
                if edited || an.done() {
                    s.clarify = None;
                }
            }
        }
        Asked::Offer => {
            if an.takes_it() || (an.yes_no() == Some(true) && !an.has_item()) {
                if let Some(line) = s.discussed.take()
                    && let Some(mut draft) = Work::new(menu, &[line], &[], None).lines.pop()
                {
                    if let Some(n) = an.mentions.iter().find_map(|m| match m {
                        Mention::Num(n) => Some(*n),
                        _ => None,
                    }) {
                        draft.quantity = n.clamp(1, 999);
                    }
                    draft.certainty = draft.certainty.min(asr);
                    add_draft(&mut work, draft);
                    // "Yes, twelve piece with hot sauce."
                    let _ = work.apply(&without_items(&an));
                }
                understood = true;
            } else if an.yes_no() == Some(false) && !an.has_item() {
                understood = true;
                reply.say.push(pick(lang, "No problem.", "Está bien."));
            } else {
                edited = work.apply(&an);
            }
        }
        Asked::Size { line } => {
            let size = an.matches.iter().find_map(|m| {
                m.targets.iter().find_map(|(t, _)| match t {
                    Target::Size(spoken) => Some(spoken.clone()),
                    _ => None,
                })
            });
            let resolved = work
                .lines
                .get(line)
                .zip(size)
                .and_then(|(d, spoken)| MenuMatcher::resolve_size(menu, d.item, &spoken));
            if let (Some(resolved), false) = (resolved, an.has_item()) {
                if let Some(d) = work.lines.get_mut(line) {
                    d.size = Some(resolved);
                }
                let _ = work.apply(&without_sizes(&an));
                understood = true;
            } else {
                edited = work.apply(&an);
            }
        }
        Asked::Choice { line, group } => {
            let pending = s.split.take();
            let picked = choose_options(&an, group, menu);
            let max = menu
                .modifier_groups
                .get(group)
                .map_or(1, |g| (g.max as usize).max(1));
            let each = pending
                .as_ref()
                .and_then(|p| split_options(p, menu))
                .filter(|(_, options)| {
                    work.lines
                        .get(line)
                        .is_some_and(|d| d.quantity as usize == options.len())
                        && (picked.is_empty() || picked.len() == options.len())
                        && an.has_any(&[
                            "of each",
                            "1 each",
                            "de cada",
                            "both",
                            "ambos",
                            "ambas",
                            "half and half",
                            "mitad y mitad",
                            "each",
                        ])
                });
            match (picked.is_empty(), work.lines.get(line)) {
                _ if each.is_some() => {
                    // "One of each": the line's orders, one per option.
                    if let Some((g, options)) = each {
                        split_line(&mut work, line, g, &options);
                    }
                    understood = true;
                }
                (false, Some(d)) if picked.len() > max => {
                    // "Hot and mild" for one sauce: ask again, never keep just one of them.
                    if let Some(g) = menu.modifier_groups.get(group) {
                        s.split = Some(Split {
                            line,
                            sku: menu.items[d.item].sku.clone(),
                            group: g.id.clone(),
                            options: picked
                                .iter()
                                .filter_map(|&o| g.options.get(o).map(|o| o.sku.clone()))
                                .collect(),
                        });
                    }
                    understood = true;
                }
                (false, Some(_)) => {
                    if let Some(d) = work.lines.get_mut(line) {
                        d.mods.retain(|(g, _)| *g != group);
                        for option in picked {
                            d.mods.push((group, option));
                        }
                    }
                    understood = true;
                }
                _ => {
                    s.split = pending;
                    edited = work.apply(&an);
                }
            }
        }
        Asked::AddMore if an.done() && !an.has_item() => {
            understood = true;
            if ctx.store.fulfillment.pickup {
                reply.question = Some((
                    Asked::SwitchToPickup,
                    pick(
                        lang,
                        "Would you like to make it a pickup order instead?",
                        "¿Quiere cambiarla a una orden para recoger?",
                    ),
                    yes_no_hints(lang),
                ));
            } else {
                return Flow::Transfer;
            }
        }
        Asked::SwitchToPickup if !an.has_item() => match an.yes_no() {
            Some(true) => {
                s.fulfillment = Some(FulfillmentKind::Pickup);
                understood = true;
            }
            Some(false) => {
                reply.say.push(pick(
                    lang,
                    "Sorry, we can't deliver an order below the minimum.",
                    "Lo siento, no podemos entregar una orden por debajo del mínimo.",
                ));
                return Flow::Cancel;
            }
            None => {}
        },
        Asked::Address if !(an.has_item() && an.has_any_order_word()) => {
            if an.fulfillment() == Some(FulfillmentKind::Pickup) && ctx.store.fulfillment.pickup {
                // "Actually, I'll pick it up."
                s.fulfillment = Some(FulfillmentKind::Pickup);
                understood = true;
            } else if let Some(address) = vol.address.clone().or_else(|| {
                let end = vol.name_at.filter(|_| vol.name_certain);
                extract_address(&text[..end.unwrap_or(text.len())])
            }) {
                s.address = Some(address);
                understood = true;
            }
        }
        Asked::Name if !(an.has_item() && an.has_any_order_word()) => {
            // "It's Maria, and it's going to 42 Elm Street": the name ends where the address
            // begins; "for delivery, my name is Maria": a clear lead-in wins.
            let answer = &text[..vol.address_at.unwrap_or(text.len())];
            let name = match &vol.name {
                Some(name) if vol.name_certain => Some(name.clone()),
                _ => extract_name(answer),
            };
            if let Some(name) = name {
                s.name = Some(name);
                understood = true;
            }
        }
        // "No, the name is Mariah": the no is about the name, not the number.
        Asked::ConfirmPhone | Asked::Phone if an.phone.is_none() && !an.has_item() && !details => {
            match an.yes_no() {
                Some(true) if asked == Asked::ConfirmPhone => {
                    s.phone_confirmed = true;
                    understood = true;
                }
                Some(false) => {
                    understood = true;
                    reply.question = Some((
                        Asked::Phone,
                        pick(
                            lang,
                            "What's the best phone number to reach you?",
                            "¿A qué número le podemos llamar?",
                        ),
                        Vec::new(),
                    ));
                }
                _ => {}
            }
        }
        Asked::ReadBack => {
            let answer = an.yes_no();
            if an.has_menu() {
                edited = work.apply(&an);
            }
            if answer == Some(true) && !edited && !details {
                return Flow::Place;
            }
            if !edited && !details && answer == Some(false) {
                understood = true;
                s.ordering_done = false;
                reply.question = Some((
                    Asked::Order,
                    pick(
                        lang,
                        "Sorry about that. What would you like to change?",
                        "Perdón. ¿Qué le gustaría cambiar?",
                    ),
                    Vec::new(),
                ));
            }
        }
        _ => {
            if an.takes_it() && s.discussed.is_some() {
                if let Some(line) = s.discussed.take()
                    && let Some(draft) = Work::new(menu, &[line], &[], None).lines.pop()
                {
                    add_draft(&mut work, draft);
                }
                understood = true;
            } else if an.done()
                && !an.has_item()
                && matches!(asked, Asked::Order | Asked::AddMore | Asked::Nothing)
            {
                if s.lines.is_empty() && s.held.is_empty() {
                    // "That's all" with nothing ordered: ask once more, then let them go.
                    if s.misses >= 1 {
                        return Flow::Cancel;
                    }
                    s.misses = s.misses.saturating_add(1);
                    reply.question = Some((
                        Asked::Order,
                        pick(
                            lang,
                            "I don't have anything on your order yet. What would you like to order?",
                            "Todavía no tengo nada en su orden. ¿Qué le gustaría ordenar?",
                        ),
                        Vec::new(),
                    ));
                    return Flow::Continue;
                }
                s.ordering_done = true;
                understood = true;
            } else if an.yes_no() == Some(true)
                && !an.has_menu()
                && matches!(asked, Asked::Order | Asked::AddMore)
            {
                // "Anything else?" — "Yes." — then what?
                understood = true;
                reply.question = Some((
                    Asked::Order,
                    pick(
                        lang,
                        "Sure, what else would you like?",
                        "Claro, ¿qué más le gustaría ordenar?",
                    ),
                    Vec::new(),
                ));
            } else {
                edited = work.apply(&an);
            }
        }
    }
    if edited {
        understood = true;
    }
    let before = (s.lines.clone(), s.held.clone());
    // Acknowledge what changed, describing lines as they ended up.
    let ack = acknowledge(lang, menu, &work);
    let clarify = work.clarify.take();
    if let Some(c) = work.conflicts.first() {
        // The line's index once held lines follow the confirmed ones (as `into_lines` leaves them).
        let line = work
            .lines
            .iter()
            .filter(|d| !d.held)
            .chain(work.lines.iter().filter(|d| d.held))
            .enumerate()
            .find(|(_, d)| d.id == c.id);
        if let (Some((line, draft)), Some(group)) = (line, menu.modifier_groups.get(c.group)) {
            s.split = Some(Split {
                line,
                sku: menu.items[draft.item].sku.clone(),
                group: group.id.clone(),
                options: c
                    .options
                    .iter()
                    .filter_map(|&o| group.options.get(o).map(|o| o.sku.clone()))
                    .collect(),
            });
            understood = true;
        }
    }
    let (lines, held, last) = work.into_lines();
    s.lines = lines;
    s.held = held;
    s.last = last;
    if let Some((items, quantity, size)) = clarify {
        s.clarify = Some(Clarify {
            skus: items.iter().map(|&i| menu.items[i].sku.clone()).collect(),
            quantity,
            size,
        });
        understood = true;
    }
    if (s.lines.clone(), s.held.clone()) != before {
        understood = true;
        if asked == Asked::ReadBack || s.ordering_done && edited {
            // Re-read after a fix; the caller is still finishing up.
            s.ordering_done = asked == Asked::ReadBack;
        }
    }
    if let Some(ack) = ack {
        reply.say.push(ack);
    }
    if let Some(name) = greet {
        reply.say.insert(
            0,
            pick(
                lang,
                &format!("Thanks, {name}."),
                &format!("Gracias, {name}."),
            ),
        );
    }
    if understood {
        s.misses = 0;
    } else {
        s.misses = s.misses.saturating_add(1);
        if s.misses >= 3 {
            return Flow::Transfer;
        }
        reply.say.push(not_understood(&an, ctx, lang));
        if reply.question.is_none()
            && matches!(asked, Asked::Order | Asked::Nothing)
            && s.lines.is_empty()
        {
            reply.question = Some((
                Asked::Order,
                pick(lang, "What would you like?", "¿Qué le gustaría ordenar?"),
                Vec::new(),
            ));
        }
    }
    Flow::Continue
}

fn yes_no_hints(lang: Language) -> Vec<String> {
    match lang {
        Language::En => vec!["yes".into(), "no".into()],
        Language::Es => vec!["sí".into(), "no".into()],
    }
}

fn offers(store: &Store, kind: FulfillmentKind) -> bool {
    match kind {
        FulfillmentKind::Pickup => store.fulfillment.pickup,
        FulfillmentKind::Delivery => store.fulfillment.delivery,
    }
}

fn only_offer(lang: Language, store: &Store) -> String {
    if store.fulfillment.pickup {
        pick(
            lang,
            "Sorry, we only do pickup.",
            "Perdón, solo tenemos servicio para recoger.",
        )
    } else {
        pick(
            lang,
            "Sorry, we only do delivery.",
            "Perdón, solo tenemos entrega a domicilio.",
        )
    }
}

fn add_draft(work: &mut Work, mut draft: Draft) {
    draft.id = work.new_id();
    work.acks.push(Ack::Added(draft.clone(), false));
    work.lines.push(draft);
    work.last = Some(work.lines.len() - 1);
}

/// The same analysis with item and category readings dropped (sizes and options kept).
fn without_items(an: &Analysis) -> Analysis {
    let mut copy = an.clone();
    for m in &mut copy.matches {
        m.targets
            .retain(|(t, _)| !matches!(t, Target::Item(_) | Target::Category(_)));
    }
    copy
}

/// The same analysis with size readings dropped.
fn without_sizes(an: &Analysis) -> Analysis {
    let mut copy = an.clone();
    for m in &mut copy.matches {
        m.targets.retain(|(t, _)| !matches!(t, Target::Size(_)));
    }
    copy
}

/// Which of `candidates` the caller named, by an item reading or a word of its name.
fn pick_candidate(an: &Analysis, candidates: &[usize], menu: &kea_menu::Menu) -> Option<usize> {
    for m in &an.matches {
        if let Some(item) = m.targets.iter().find_map(|(t, _)| match t {
            Target::Item(i) if candidates.contains(i) => Some(*i),
            _ => None,
        }) {
            return Some(item);
        }
    }
    // A distinctive word of one candidate's name ("the pepperoni").
    let words: Vec<String> = an.tokens.iter().map(|t| t.key.clone()).collect();
    let mut hits = candidates.iter().copied().filter(|&i| {
        let name = kea_menu::matcher::tokenize(&speech::short_name(&menu.items[i]));
        !name.is_empty() && name.iter().all(|t| words.contains(&t.key))
    });
    let first = hits.next();
    if hits.next().is_none() { first } else { None }
}

/// Options of group `group` the caller named, exactly or (for slips) closely.
fn choose_options(an: &Analysis, group: usize, menu: &kea_menu::Menu) -> Vec<usize> {
    let mut out = Vec::new();
    for m in &an.matches {
        for (t, _) in &m.targets {
            if let Target::Option { group: g, option } = t
                && *g == group
                && !out.contains(option)
            {
                out.push(*option);
            }
        }
    }
    if out.is_empty()
        && let Some(g) = menu.modifier_groups.get(group)
    {
        // Close spellings of an option name ("barbeque").
        let said: String = an
            .tokens
            .iter()
            .map(|t| t.key.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let mut best: Option<(f64, usize)> = None;
        for (index, option) in g.options.iter().enumerate() {
            for name in std::iter::once(&option.name).chain(&option.aliases) {
                let key: String = kea_menu::matcher::tokenize(name)
                    .into_iter()
                    .map(|t| t.key)
                    .collect::<Vec<_>>()
                    .join(" ");
                for word in said.split(' ') {
                    let score = kea_menu::matcher::word_similarity(word, &key);
                    if score >= 0.75 && best.is_none_or(|(s, _)| score > s) {
                        best = Some((score, index));
                    }
                }
            }
        }
        if let Some((_, index)) = best {
            out.push(index);
        }
    }
    out
}

fn acknowledge(lang: Language, menu: &kea_menu::Menu, work: &Work) -> Option<String> {
    let mut added_ids: Vec<u32> = Vec::new();
    let mut added: Vec<String> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    let mut changed_ids: Vec<u32> = Vec::new();
    // Lines both added and removed in this turn ("a hawaiian… scratch the hawaiian") net out.
    let fresh: Vec<u32> = work
        .acks
        .iter()
        .filter_map(|a| match a {
            Ack::Added(d, false) => Some(d.id),
            _ => None,
        })
        .collect();
    for ack in &work.acks {
        match ack {
            Ack::Added(d, merged) => {
                if !merged && (added_ids.contains(&d.id) || work.by_id(d.id).is_none()) {
                    continue;
                }
                let current = work.by_id(d.id).filter(|_| !merged);
                let line = current.unwrap_or(d);
                if !line.held {
                    added.push(describe(lang, menu, line, true));
                }
                added_ids.push(d.id);
            }
            Ack::Removed(d) if !d.held && !fresh.contains(&d.id) => {
                removed.push(describe(lang, menu, d, true))
            }
            Ack::Changed(d) if !changed_ids.contains(&d.id) => changed_ids.push(d.id),
            _ => {}
        }
    }
    let changed: Vec<String> = changed_ids
        .iter()
        .filter(|id| !added_ids.contains(id))
        .filter_map(|id| work.by_id(*id))
        .filter(|d| !d.held)
        .map(|d| describe(lang, menu, d, true))
        .collect();
    let mut parts = Vec::new();
    if !removed.is_empty() && !added.is_empty() && changed.is_empty() {
        parts.push(pick(
            lang,
            &format!(
                "Okay, {} instead of {}.",
                list(lang, &added, false),
                list(lang, &removed, false)
            ),
            &format!(
                "Muy bien, {} en lugar de {}.",
                list(lang, &added, false),
                list(lang, &removed, false)
            ),
        ));
        return Some(parts.join(" "));
    }
    if !removed.is_empty() {
        parts.push(pick(
            lang,
            &format!("Okay, I took off {}.", list(lang, &removed, false)),
            &format!("Muy bien, quité {}.", list(lang, &removed, false)),
        ));
    }
    if !added.is_empty() {
        parts.push(pick(
            lang,
            &format!("Got it: {}.", list(lang, &added, false)),
            &format!("Muy bien: {}.", list(lang, &added, false)),
        ));
    }
    if !changed.is_empty() {
        parts.push(pick(
            lang,
            &format!("Okay, {}.", list(lang, &changed, false)),
            &format!("Muy bien, {}.", list(lang, &changed, false)),
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Words that are not about the menu, for "sorry, we don't have …".
const NOT_CONTENT: &[&str] = &[
    "do",
    "you",
    "guys",
    "have",
    "any",
    "a",
    "an",
    "the",
    "some",
    "i",
    "would",
    "like",
    "want",
    "can",
    "get",
    "me",
    "please",
    "is",
    "there",
    "sell",
    "carry",
    "make",
    "got",
    "okay",
    "ok",
    "yeah",
    "yes",
    "no",
    "hi",
    "hello",
    "what",
    "about",
    "how",
    "much",
    "of",
    "to",
    "for",
    "and",
    "or",
    "let",
    "us",
    "order",
    "will",
    "take",
    "could",
    "may",
    "give",
    "also",
    "with",
    "just",
    "tienen",
    "hay",
    "quiero",
    "un",
    "una",
    "de",
    "y",
    "por",
    "favor",
    "me",
    "da",
    "dame",
    "hola",
    "que",
    "uh",
    "um",
    "so",
    "well",
    "then",
    "kind",
    "type",
    "kinds",
    "types",
    "it",
    "that",
    "this",
    "thanks",
    "thank",
    "need",
    "am",
    "are",
    "be",
    "today",
    "tonight",
    "my",
    "all",
    "y'all",
    "on",
    "in",
    "at",
    "your",
    "menu",
    "sorry",
    "what's",
    "was",
    "were",
    "does",
    "did",
    "get",
    "gimme",
    "actually",
    "maybe",
    "think",
    "go",
    "going",
    "looking",
    "for",
    "something",
    "really",
];

fn not_understood(an: &Analysis, ctx: &Context, lang: Language) -> String {
    let content: Vec<&str> = an
        .words()
        .into_iter()
        .filter(|w| !NOT_CONTENT.contains(w) && w.chars().any(char::is_alphabetic))
        .collect();
    // "A small hot chocolate, please": a size or a number says it was an order.
    let sized = an
        .matches
        .iter()
        .all(|m| m.targets.iter().all(|(t, _)| matches!(t, Target::Size(_))))
        && (an.has_menu() || an.mentions.iter().any(|m| matches!(m, Mention::Num(_))));
    let ordering = an.has_any_order_word() || an.menu_question() || sized;
    if content.is_empty() || !ordering || (an.has_menu() && !sized) {
        return pick(
            lang,
            "Sorry, I didn't catch that.",
            "Perdón, no le entendí.",
        );
    }
    refusal(&content.join(" "), ctx, lang)
}

/// "Sorry, we don't have calzones. We do have …".
fn refusal(what: &str, ctx: &Context, lang: Language) -> String {
    let menu = &ctx.store.menu;
    let close: Vec<String> = ctx
        .matcher
        .closest_items(what, 3)
        .into_iter()
        .filter(|(_, score)| *score >= 0.5)
        .map(|(i, _)| menu.items[i].name.clone())
        .collect();
    let alternatives = if close.is_empty() {
        categories_sentence(lang, menu)
    } else {
        pick(
            lang,
            &format!("We do have {}.", list(lang, &close, false)),
            &format!("Sí tenemos {}.", list(lang, &close, false)),
        )
    };
    pick(
        lang,
        &format!("Sorry, we don't have {what}. {alternatives}"),
        &format!("Lo siento, no tenemos {what}. {alternatives}"),
    )
}

fn categories_sentence(lang: Language, menu: &kea_menu::Menu) -> String {
    let mut categories: Vec<String> = Vec::new();
    for item in &menu.items {
        if let Some(c) = &item.category
            && !categories.iter().any(|x| x.eq_ignore_ascii_case(c))
        {
            categories.push(c.to_lowercase());
        }
    }
    if categories.is_empty() {
        let names: Vec<String> = menu.items.iter().take(5).map(|i| i.name.clone()).collect();
        return pick(
            lang,
            &format!("We have {}.", list(lang, &names, false)),
            &format!("Tenemos {}.", list(lang, &names, false)),
        );
    }
    pick(
        lang,
        &format!("We have {}.", list(lang, &categories, false)),
        &format!("Tenemos {}.", list(lang, &categories, false)),
    )
}

/// Answers a menu or price question, and offers the item when it was about one.
fn answer_question(s: &mut DialogState, an: &Analysis, ctx: &Context, reply: &mut Reply) {
    let lang = s.language;
    let menu = &ctx.store.menu;
    let mut scratch = Work::new(menu, &[], &[], None);
    let _ = scratch.apply(an);
    let drafts: Vec<Draft> = scratch.lines.clone();
    let what_next = pick(lang, "What would you like?", "¿Qué le gustaría ordenar?");
    if let Some((items, _, _)) = scratch.clarify.clone().filter(|_| drafts.is_empty()) {
        let names: Vec<String> = items
            .iter()
            .map(|&i| {
                let item = &menu.items[i];
                if an.price_question() {
                    format!("{} {}", speech::short_name(item), price_range(lang, item))
                } else {
                    speech::short_name(item)
                }
            })
            .collect();
        let kind = speech::category_word(menu, &items)
            .map(|w| format!("{w}s"))
            .or_else(|| {
                let first = menu.items.get(*items.first()?)?.category.clone()?;
                items
                    .iter()
                    .all(|&i| menu.items[i].category.as_ref() == Some(&first))
                    .then(|| first.to_lowercase())
            });
        reply.say.push(match kind {
            Some(kind) => pick(
                lang,
                &format!("For {kind} we have {}.", list(lang, &names, false)),
                &format!("De {kind} tenemos {}.", list(lang, &names, false)),
            ),
            None => pick(
                lang,
                &format!("We have {}.", list(lang, &names, false)),
                &format!("Tenemos {}.", list(lang, &names, false)),
            ),
        });
        reply.question = Some((Asked::Order, what_next, Vec::new()));
        s.misses = 0;
        return;
    }
    let Some(first) = drafts.first() else {
        // "Do you have oat milk?": an option, with what it costs.
        let option = an.matches.iter().find_map(|m| {
            m.targets.iter().find_map(|(t, _)| match t {
                Target::Option { group, option } => {
                    menu.modifier_groups.get(*group)?.options.get(*option)
                }
                _ => None,
            })
        });
        if let Some(option) = option {
            let extra = if option.price_cents > 0 {
                pick(
                    lang,
                    &format!(" for {} extra", money(option.price_cents)),
                    &format!(" por {} extra", money(option.price_cents)),
                )
            } else {
                String::new()
            };
            reply.say.push(pick(
                lang,
                &format!("Yes, we have {}{extra}.", option.name),
                &format!("Sí, tenemos {}{extra}.", option.name),
            ));
            reply.question = Some((Asked::Order, what_next, Vec::new()));
            s.misses = 0;
            return;
        }
        let content: Vec<&str> = an
            .words()
            .into_iter()
            .filter(|w| !NOT_CONTENT.contains(w) && w.chars().any(char::is_alphabetic))
            .collect();
        let lines: Vec<OrderLine> = s.lines.iter().map(to_order_line).collect();
        if an.price_question() && !lines.is_empty() {
            // "How much is that?": the order so far.
            let kind = s.fulfillment.unwrap_or(FulfillmentKind::Pickup);
            let total = price_order(ctx.store, &lines, kind)
                .or_else(|_| price_order(ctx.store, &lines, FulfillmentKind::Pickup))
                .map(|p| p.total_cents)
                .unwrap_or_else(|_| price_unchecked(ctx.store, &lines));
            reply.say.push(pick(
                lang,
                &format!("So far your total is {} with tax.", money(total)),
                &format!("Hasta ahora su total es {} con impuestos.", money(total)),
            ));
            reply.question = Some((
                Asked::Order,
                pick(lang, "Anything else?", "¿Algo más?"),
                Vec::new(),
            ));
            s.misses = 0;
            return;
        }
        if content.is_empty() || an.price_question() {
            reply.say.push(categories_sentence(lang, menu));
        } else {
            reply.say.push(refusal(&content.join(" "), ctx, lang));
        }
        reply.question = Some((Asked::Order, what_next, Vec::new()));
        s.misses = 0;
        return;
    };
    let item = &menu.items[first.item];
    let mut sentence = match (&first.size, item.sizes.is_empty()) {
        (None, false) => {
            let plural = item.name.ends_with('s');
            pick(
                lang,
                &format!(
                    "{} {} {}.",
                    item.name,
                    if plural { "are" } else { "is" },
                    price_range(lang, item)
                ),
                &format!(
                    "{} {} {}.",
                    item.name,
                    if plural { "cuestan" } else { "cuesta" },
                    price_range(lang, item)
                ),
            )
        }
        _ => {
            let mut one = first.clone();
            one.quantity = 1;
            let line = scratch.to_line(&one);
            let unit = price_order_unit(ctx.store, &line);
            pick(
                lang,
                &format!(
                    "{} is {}.",
                    capitalise(&describe(lang, menu, &one, true)),
                    unit.map_or_else(String::new, money)
                ),
                &format!(
                    "{} cuesta {}.",
                    capitalise(&speech::the(lang, menu, &one)),
                    unit.map_or_else(String::new, money)
                ),
            )
        }
    };
    let asked_have = an.has_any(&[
        "do you have",
        "do you guys have",
        "you have any",
        "do you sell",
        "do you carry",
        "do you make",
        "tienen",
        "hay",
    ]);
    if !an.price_question()
        && let Some(description) = &item.description
    {
        sentence = pick(
            lang,
            &format!("Yes, we have {}: {description}. {sentence}", item.name),
            &format!("Sí, tenemos {}: {description}. {sentence}", item.name),
        );
    } else if !an.price_question() && asked_have {
        sentence = pick(
            lang,
            &format!("Yes, we have it. {sentence}"),
            &format!("Sí, lo tenemos. {sentence}"),
        );
    }
    reply.say.push(sentence);
    let mut one = first.clone();
    one.quantity = 1;
    one.held = false;
    s.discussed = Some(scratch.to_line(&one));
    s.misses = 0;
    reply.question = Some((
        Asked::Offer,
        pick(lang, "Would you like one?", "¿Quiere que se lo agregue?"),
        yes_no_hints(lang),
    ));
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// "$12.99 small, $15.99 medium or $18.99 large", or the single price.
fn price_range(lang: Language, item: &kea_menu::Item) -> String {
    if item.sizes.is_empty() {
        return item.price_cents.map_or_else(String::new, money);
    }
    let parts: Vec<String> = item
        .sizes
        .iter()
        .map(|size| {
            let word = speech::size_word(lang, &size.name);
            pick(
                lang,
                &format!("{} for {word}", money(size.price_cents)),
                &format!("{} el {word}", money(size.price_cents)),
            )
        })
        .collect();
    list(lang, &parts, true)
}

fn price_order_unit(store: &Store, line: &Line) -> Option<i64> {
    let order_line = to_order_line(line);
    // Price the line on its own; required choices not made yet do not change the base price.
    let mut store_view = store.clone();
    for group in &mut store_view.menu.modifier_groups {
        group.min = 0;
    }
    let kind = if store.fulfillment.pickup {
        FulfillmentKind::Pickup
    } else {
        FulfillmentKind::Delivery
    };
    store_view.fulfillment.delivery_minimum_cents = 0;
    price_order(&store_view, &[order_line], kind)
        .ok()
        .map(|p| p.subtotal_cents)
}

/// The next thing to ask, given everything known; fills in what needs no question.
fn next_question(s: &mut DialogState, ctx: &Context) -> (Asked, String, Vec<String>) {
    let lang = s.language;
    let store = ctx.store;
    let menu = &store.menu;
    let work = Work::new(menu, &s.lines, &s.held, None);
    let held: Vec<&Draft> = work.lines.iter().filter(|d| d.held).collect();
    if !held.is_empty() {
        let said: Vec<String> = held.iter().map(|d| describe(lang, menu, d, true)).collect();
        return (
            Asked::ConfirmItems,
            pick(
                lang,
                &format!("Did you say {}?", list(lang, &said, false)),
                &format!("Entendí {}. ¿Es correcto?", list(lang, &said, false)),
            ),
            yes_no_hints(lang),
        );
    }
    if let Some(c) = &s.clarify {
        let items: Vec<usize> = c
            .skus
            .iter()
            .filter_map(|sku| menu.items.iter().position(|i| i.sku == *sku))
            .collect();
        let names: Vec<String> = items
            .iter()
            .map(|&i| speech::short_name(&menu.items[i]))
            .collect();
        let kind = speech::category_word(menu, &items);
        let text = match kind {
            Some(word) => pick(
                lang,
                &format!("Which {word} would you like: {}?", list(lang, &names, true)),
                &format!("¿Cuál {word} quiere: {}?", list(lang, &names, true)),
            ),
            None => pick(
                lang,
                &format!("Which one would you like: {}?", list(lang, &names, true)),
                &format!("¿Cuál quiere: {}?", list(lang, &names, true)),
            ),
        };
        return (Asked::Clarify, text, names);
    }
    if let Some(split) = s.split.clone() {
        match split_question(lang, menu, &work, &split) {
            Some(question) => return question,
            None => s.split = None,
        }
    }
    for (index, draft) in work.lines.iter().enumerate() {
        let item = &menu.items[draft.item];
        if !item.sizes.is_empty() && draft.size.is_none() && item.default_size.is_none() {
            let sizes: Vec<String> = item
                .sizes
                .iter()
                .map(|z| speech::size_word(lang, &z.name))
                .collect();
            let unsized_line = Draft {
                size: None,
                ..draft.clone()
            };
            let name = describe(lang, menu, &unsized_line, false);
            let the = speech::the(lang, menu, &unsized_line);
            return (
                Asked::Size { line: index },
                pick(
                    lang,
                    &format!(
                        "What size would you like for the {name}: {}?",
                        list(lang, &sizes, true)
                    ),
                    &format!("¿De qué tamaño quiere {the}: {}?", list(lang, &sizes, true)),
                ),
                item.sizes.iter().map(|z| z.name.clone()).collect(),
            );
        }
        for id in &item.modifier_groups {
            let Some(g) = menu.modifier_groups.iter().position(|g| g.id == *id) else {
                continue;
            };
            let group = &menu.modifier_groups[g];
            let chosen = draft.mods.iter().filter(|(dg, _)| *dg == g).count();
            if group.min > 0 && u32::try_from(chosen).unwrap_or(u32::MAX) < group.min {
                let options: Vec<String> = group.options.iter().map(|o| o.name.clone()).collect();
                let what = group.name.to_lowercase();
                let name = describe(lang, menu, draft, false);
                let the = speech::the(lang, menu, draft);
                return (
                    Asked::Choice {
                        line: index,
                        group: g,
                    },
                    pick(
                        lang,
                        &format!(
                            "Which {what} would you like for the {name}: {}?",
                            list(lang, &options, true)
                        ),
                        &format!(
                            "¿Cuál {what} quiere para {the}: {}?",
                            list(lang, &options, true)
                        ),
                    ),
                    options,
                );
            }
        }
    }
    if s.lines.is_empty() {
        s.ordering_done = false;
        let text = if s.asked == Asked::Nothing || s.turns <= 1 {
            pick(lang, "What can I get for you?", "¿Qué le puedo ofrecer?")
        } else {
            pick(
                lang,
                "What would you like to order?",
                "¿Qué le gustaría ordenar?",
            )
        };
        return (Asked::Order, text, Vec::new());
    }
    if !s.ordering_done {
        return (
            Asked::Order,
            pick(lang, "Anything else?", "¿Algo más?"),
            Vec::new(),
        );
    }
    let f = &store.fulfillment;
    if s.fulfillment.is_none() {
        match (f.pickup, f.delivery) {
            (true, true) => {
                return (
                    Asked::Fulfillment,
                    pick(
                        lang,
                        "Will that be for pickup or delivery?",
                        "¿Es para recoger o a domicilio?",
                    ),
                    vec!["pickup".into(), "delivery".into()],
                );
            }
            (false, true) => s.fulfillment = Some(FulfillmentKind::Delivery),
            _ => s.fulfillment = Some(FulfillmentKind::Pickup),
        }
    }
    let lines: Vec<OrderLine> = s.lines.iter().map(to_order_line).collect();
    if s.fulfillment == Some(FulfillmentKind::Delivery) {
        let subtotal: i64 = price_unchecked(store, &lines);
        if subtotal < f.delivery_minimum_cents {
            s.ordering_done = false;
            return (
                Asked::AddMore,
                pick(
                    lang,
                    &format!(
                        "Delivery orders need at least {} before tax, and you're at {} so far. What else would you like to add?",
                        money(f.delivery_minimum_cents),
                        money(subtotal)
                    ),
                    &format!(
                        "Para entrega a domicilio el mínimo es {} antes de impuestos y su orden va en {}. ¿Desea agregar algo más?",
                        money(f.delivery_minimum_cents),
                        money(subtotal)
                    ),
                ),
                Vec::new(),
            );
        }
        if s.address.is_none() {
            return (
                Asked::Address,
                pick(
                    lang,
                    "What's the delivery address?",
                    "¿Cuál es la dirección de entrega?",
                ),
                Vec::new(),
            );
        }
    }
    if s.name.is_none() {
        return (
            Asked::Name,
            pick(
                lang,
                "What name should I put the order under?",
                "¿A nombre de quién pongo la orden?",
            ),
            Vec::new(),
        );
    }
    if !s.phone_confirmed {
        let caller = parse_phone(&s.caller_id);
        match (&s.phone, caller) {
            (None, Some(number)) => {
                let last4: String = number
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                return (
                    Asked::ConfirmPhone,
                    pick(
                        lang,
                        &format!("And is the number ending in {last4} the best one to reach you?"),
                        &format!("¿Le podemos llamar al número que termina en {last4}?"),
                    ),
                    yes_no_hints(lang),
                );
            }
            (Some(_), _) => s.phone_confirmed = true,
            (None, None) => {
                return (
                    Asked::Phone,
                    pick(
                        lang,
                        "What's the best phone number to reach you?",
                        "¿A qué número le podemos llamar?",
                    ),
                    Vec::new(),
                );
            }
        }
    }
    (Asked::ReadBack, read_back(s, ctx), yes_no_hints(lang))
}

/// A pending split's group index and option indices, when the menu still has them.
fn split_options(split: &Split, menu: &kea_menu::Menu) -> Option<(usize, Vec<usize>)> {
    let g = menu
        .modifier_groups
        .iter()
        .position(|g| g.id == split.group)?;
    let options: Vec<usize> = split
        .options
        .iter()
        .filter_map(|sku| {
            menu.modifier_groups[g]
                .options
                .iter()
                .position(|o| o.sku == *sku)
        })
        .collect();
    (options.len() >= 2).then_some((g, options))
}

/// "Sorry, I can only put one wing sauce on the Buffalo Wings. Which would you like: hot or
/// mild?" — or `None` when the line has since gone or been settled.
fn split_question(
    lang: Language,
    menu: &kea_menu::Menu,
    work: &Work,
    split: &Split,
) -> Option<(Asked, String, Vec<String>)> {
    let (g, options) = split_options(split, menu)?;
    let draft = work.lines.get(split.line)?;
    let group = &menu.modifier_groups[g];
    let item = &menu.items[draft.item];
    if item.sku != split.sku
        || !item.modifier_groups.contains(&group.id)
        || draft.mods.iter().any(|(dg, _)| *dg == g)
    {
        return None;
    }
    let names: Vec<String> = options
        .iter()
        .map(|&o| group.options[o].name.clone())
        .collect();
    let what = group.name.to_lowercase();
    let name = describe(lang, menu, draft, false);
    let the = speech::the(lang, menu, draft);
    let one = describe(
        lang,
        menu,
        &Draft {
            quantity: 1,
            ..draft.clone()
        },
        false,
    );
    let each_one = if item.name.ends_with('s') {
        format!("each order of {one}")
    } else {
        format!("each {one}")
    };
    let max = group.max.max(1);
    let each = draft.quantity as usize == options.len();
    let text = match (max, each) {
        (1, true) => pick(
            lang,
            &format!(
                "Sorry, {each_one} comes with one {what}. Which would you like: {}, or one of each?",
                list(lang, &names, true)
            ),
            &format!(
                "Lo siento, cada orden lleva solo una opción de {what}. ¿Cuál prefiere: {}, o una de cada una?",
                list(lang, &names, true)
            ),
        ),
        (1, false) => pick(
            lang,
            &format!(
                "Sorry, I can only put one {what} on the {name}. Which would you like: {}?",
                list(lang, &names, true)
            ),
            &format!(
                "Lo siento, solo puedo poner una opción de {what} en {the}. ¿Cuál prefiere: {}?",
                list(lang, &names, true)
            ),
        ),
        (max, _) => pick(
            lang,
            &format!(
                "Sorry, the {name} can have up to {max} {what} choices. Which {max} would you like: {}?",
                list(lang, &names, false)
            ),
            &format!(
                "Lo siento, {the} lleva como máximo {max} opciones de {what}. ¿Cuáles prefiere: {}?",
                list(lang, &names, false)
            ),
        ),
    };
    Some((
        Asked::Choice {
            line: split.line,
            group: g,
        },
        text,
        names,
    ))
}

/// "One of each": line `line` becomes one order per option.
fn split_line(work: &mut Work, line: usize, group: usize, options: &[usize]) {
    let Some(base) = work.lines.get(line).cloned() else {
        return;
    };
    for (k, &option) in options.iter().enumerate() {
        let mut part = base.clone();
        part.quantity = 1;
        part.mods.retain(|(g, _)| *g != group);
        part.mods.push((group, option));
        if k == 0 {
            work.lines[line] = part.clone();
        } else {
            part.id = work.new_id();
            work.lines.push(part.clone());
        }
        work.acks.push(Ack::Changed(part));
    }
    work.last = Some(line);
}

fn price_unchecked(store: &Store, lines: &[OrderLine]) -> i64 {
    price_order(store, lines, FulfillmentKind::Pickup)
        .or_else(|_| {
            let mut view = store.clone();
            view.fulfillment.pickup = true;
            price_order(&view, lines, FulfillmentKind::Pickup)
        })
        .map_or(0, |p| p.subtotal_cents)
}

fn read_back(s: &DialogState, ctx: &Context) -> String {
    let lang = s.language;
    let menu = &ctx.store.menu;
    let work = Work::new(menu, &s.lines, &[], None);
    let items: Vec<String> = work
        .lines
        .iter()
        .map(|d| describe(lang, menu, d, true))
        .collect();
    let kind = s.fulfillment.unwrap_or(FulfillmentKind::Pickup);
    let lines: Vec<OrderLine> = s.lines.iter().map(to_order_line).collect();
    let total = price_order(ctx.store, &lines, kind).map(|p| p.total_cents);
    let name = s.name.clone().unwrap_or_default();
    let how = match (kind, lang) {
        (FulfillmentKind::Pickup, Language::En) => format!("for pickup under {name}"),
        (FulfillmentKind::Pickup, Language::Es) => format!("para recoger a nombre de {name}"),
        (FulfillmentKind::Delivery, Language::En) => format!(
            "for delivery to {} under {name}",
            s.address.clone().unwrap_or_default()
        ),
        (FulfillmentKind::Delivery, Language::Es) => format!(
            "a domicilio en {} a nombre de {name}",
            s.address.clone().unwrap_or_default()
        ),
    };
    let total_text = match (total, kind) {
        (Ok(cents), FulfillmentKind::Pickup) => pick(
            lang,
            &format!("Your total with tax is {}.", money(cents)),
            &format!("El total con impuestos es {}.", money(cents)),
        ),
        (Ok(cents), FulfillmentKind::Delivery) => pick(
            lang,
            &format!(
                "With tax and the {} delivery fee, your total is {}.",
                money(ctx.store.fulfillment.delivery_fee_cents),
                money(cents)
            ),
            &format!(
                "Con impuestos y {} de entrega, el total es {}.",
                money(ctx.store.fulfillment.delivery_fee_cents),
                money(cents)
            ),
        ),
        (Err(_), _) => String::new(),
    };
    pick(
        lang,
        &format!(
            "Here's your order: {}, {how}. {total_text} Is that correct?",
            list(lang, &items, false)
        ),
        &format!(
            "Su orden: {}, {how}. {total_text} ¿Es correcto?",
            list(lang, &items, false)
        ),
    )
}

fn place(mut s: DialogState, ctx: &Context) -> (DialogState, Turn) {
    let store = ctx.store;
    let kind = s.fulfillment.unwrap_or(FulfillmentKind::Pickup);
    let lines: Vec<OrderLine> = s.lines.iter().map(to_order_line).collect();
    if lines.is_empty() || price_order(store, &lines, kind).is_err() {
        // The read-back only happens for a priceable order; anything else is a person's job.
        return transfer(s, false);
    }
    let confidence = s
        .lines
        .iter()
        .map(|l| l.certainty)
        .min()
        .map_or(1.0, |c| f32::from(c.min(1000)) / 1000.0);
    let phone = s
        .phone
        .clone()
        .or_else(|| parse_phone(&s.caller_id))
        .unwrap_or_else(|| s.caller_id.clone());
    let minutes = match kind {
        FulfillmentKind::Pickup => store.fulfillment.pickup_minutes,
        FulfillmentKind::Delivery => store.fulfillment.delivery_minutes,
    };
    let order = PlacedOrder {
        lines,
        fulfillment: kind,
        customer_name: s.name.clone().unwrap_or_default(),
        customer_phone: phone,
        delivery_address: if kind == FulfillmentKind::Delivery {
            s.address.clone()
        } else {
            None
        },
        confidence,
        ready_in_minutes: minutes,
    };
    let lang = s.language;
    let name = &store.name;
    let when = match kind {
        FulfillmentKind::Pickup => pick(
            lang,
            &format!("It'll be ready for pickup in about {minutes} minutes."),
            &format!("Estará lista para recoger en unos {minutes} minutos."),
        ),
        FulfillmentKind::Delivery => pick(
            lang,
            &format!("It'll be delivered in about {minutes} minutes."),
            &format!("Llegará a su domicilio en unos {minutes} minutos."),
        ),
    };
    let text = pick(
        lang,
        &format!("Great, your order is in! {when} Thanks for calling {name}. Goodbye!"),
        &format!("¡Listo, su orden está confirmada! {when} Gracias por llamar a {name}. ¡Adiós!"),
    );
    s.ended = true;
    finish(
        s,
        vec![text],
        Next::Hangup,
        Some(Outcome::OrderPlaced),
        Some(order),
    )
}

#[cfg(test)]
mod tests;

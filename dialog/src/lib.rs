#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
//!
//! # Modules
//!
//! - this module: the API the HTTP layer calls ([`step`], [`hints`]) and what each kind of
//!   event does; the end of a call (placing the order, cancelling, transferring).
//! - `state`: [`DialogState`], stored as JSON between turns, and the question just asked.
//! - `answers`: reading one utterance: requests that apply whatever was asked, then one handler
//!   per question (items, options and sizes, pickup/delivery and address, name and phone,
//!   read-back, the caller's own questions), then settling the order and the reply.
//! - `questions`: which question comes next, from the state alone.
//! - `understand`: reading one utterance (named intents, yes/no, phone numbers, names,
//!   addresses).
//! - `order`: applying an utterance's items, corrections and removals to the order.
//! - `prompts`: every sentence the engine says, English and Spanish side by side.
//! - `speech`: the grammar the sentences are built from (numbers, sizes, lists, agreement).
//! - `pricing`: prices quoted while the order is still incomplete.

mod answers;
mod order;
mod phrase;
mod portions;
mod pricing;
mod prompts;
mod questions;
mod speech;
mod state;
mod understand;

use chrono::{DateTime, Utc};
use kea_menu::matcher::MenuMatcher;
use kea_menu::{ClosedBecause, FulfillmentKind, Opening, OrderLine, Store, price_order};
use serde::{Deserialize, Serialize};

use crate::answers::{Flow, Reply, on_speech};
use crate::prompts::Handoff;
use crate::questions::next_question;
use crate::state::{Asked, Question, to_order_line};

pub use crate::state::DialogState;
pub use crate::understand::{extract_address, extract_name, parse_phone};

/// Everything the engine needs about the store for a turn; build it once per store and cache it.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The store the caller dialled.
    pub store: &'a Store,
    /// The matcher built from `store.menu` with [`MenuMatcher::new`].
    pub matcher: &'a MenuMatcher,
    /// The time of the turn, for the store's hours and for orders for later today; `None`
    /// where no clock applies (simulations, replays): then only the pause switch is checked and
    /// orders are for as soon as possible.
    pub now: Option<DateTime<Utc>>,
    /// Whether a call outside the store's hours or on a closure date is turned away (a server
    /// may be told to ignore hours, as `kea dev` is).
    pub enforce_hours: bool,
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
    /// The store was outside its opening hours; the caller heard when it opens.
    ClosedHours,
    /// The store is closed today (a closure date).
    ClosedToday,
    /// The merchant has paused phone orders.
    Paused,
}

impl Outcome {
    /// As `calls.outcome` records it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::OrderPlaced => "order_placed",
            Outcome::Transferred => "transferred",
            Outcome::Cancelled => "cancelled",
            Outcome::ClosedHours => "closed_hours",
            Outcome::ClosedToday => "closed_today",
            Outcome::Paused => "paused",
        }
    }
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
    /// When the caller asked for it, for an order for later today.
    pub ready_at: Option<DateTime<Utc>>,
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
        let text = prompts::goodbye(s.language);
        return finish(s, vec![text], Next::Hangup, None, None);
    }
    let ended = match event {
        Event::Start => {
            if let Some(closed) = closed(&state.caller_id, ctx) {
                return closed;
            }
            s = on_start(&state.caller_id, ctx, &mut reply);
            None
        }
        Event::Silence => on_silence(&mut s, &mut reply),
        Event::Digits(digits) => on_digits(&mut s, digits, &mut reply),
        Event::Speech { text, confidence } => {
            s.silences = 0;
            s.turns = s.turns.saturating_add(1);
            if s.turns > 60 {
                return transfer(s, Handoff::ForStaff);
            }
            match on_speech(&mut s, text, *confidence, ctx, &mut reply) {
                Flow::Listen => None,
                Flow::Transfer(why) => Some(End::Transfer(why)),
                Flow::Cancel => Some(End::Cancel),
                Flow::Place => Some(End::Place),
            }
        }
    };
    match ended {
        None => listen(s, reply, ctx),
        Some(End::Transfer(why)) => transfer(s, why),
        Some(End::Cancel) => cancel(s, reply, ctx),
        Some(End::Place) => place(s, ctx),
    }
}

/// How a turn ends the call.
enum End {
    Transfer(Handoff),
    Cancel,
    Place,
}

/// A call to a store that takes no orders now: why and when it opens, in the store's first
/// language (and in Spanish too when it speaks Spanish), then goodbye. The pause switch holds
/// even without a time.
fn closed(caller_id: &str, ctx: &Context) -> Option<(DialogState, Turn)> {
    let store = ctx.store;
    let opening = match ctx.now.filter(|_| ctx.enforce_hours) {
        Some(now) => store.opening_at(now),
        None if store.phone_orders_paused => Opening::Closed {
            because: ClosedBecause::Paused,
            opens: None,
        },
        None => return None,
    };
    let Opening::Closed { because, opens } = opening else {
        return None;
    };
    let mut s = DialogState::new(caller_id);
    s.language = first_language(ctx);
    s.ended = true;
    let tz = store.time_zone();
    let when = opens.zip(ctx.now.map(|now| now.with_timezone(&tz)));
    let mut languages = vec![s.language];
    if s.language == Language::En && speaks_spanish(ctx) {
        languages.push(Language::Es);
    }
    let say = languages
        .into_iter()
        .map(|language| Utterance {
            text: prompts::closed(language, &store.name, because, when),
            language,
        })
        .collect();
    let outcome = match because {
        ClosedBecause::Hours => Outcome::ClosedHours,
        ClosedBecause::Closure => Outcome::ClosedToday,
        ClosedBecause::Paused => Outcome::Paused,
    };
    let language = s.language;
    Some((
        s,
        Turn {
            say,
            next: Next::Hangup,
            outcome: Some(outcome),
            order: None,
            language,
        },
    ))
}

/// The language a call starts in: the store's first.
fn first_language(ctx: &Context) -> Language {
    if ctx
        .store
        .languages
        .first()
        .is_some_and(|l| l.starts_with("es"))
    {
        Language::Es
    } else {
        Language::En
    }
}

/// A new call: the greeting in the store's first language (and a word in Spanish when it
/// speaks Spanish too), and the first question.
fn on_start(caller_id: &str, ctx: &Context, reply: &mut Reply) -> DialogState {
    let mut s = DialogState::new(caller_id);
    s.language = first_language(ctx);
    reply
        .say
        .push(prompts::welcome(s.language, &ctx.store.name));
    if s.language == Language::En && speaks_spanish(ctx) {
        reply.extra_es = Some(prompts::we_also_speak_spanish());
    }
    reply.question = Some(Question::new(
        Asked::Order,
        prompts::what_can_i_get(s.language),
    ));
    s
}

/// The caller said nothing: the question again, and a person after three silences in a row.
fn on_silence(s: &mut DialogState, reply: &mut Reply) -> Option<End> {
    s.silences = s.silences.saturating_add(1);
    if s.silences >= 3 {
        return Some(End::Transfer(Handoff::Silent));
    }
    reply.say.push(prompts::heard_nothing(s.language));
    None
}

/// Keys: 0 for a person; a phone number when one was asked for; anything else counts as not
/// understood.
fn on_digits(s: &mut DialogState, digits: &str, reply: &mut Reply) -> Option<End> {
    s.silences = 0;
    if digits.trim() == "0" {
        return Some(End::Transfer(Handoff::Asked));
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
                return Some(End::Transfer(Handoff::NotUnderstood));
            }
            reply.say.push(prompts::say_it_instead(s.language));
        }
    }
    None
}

/// The turn goes on: what was said, then the question (the one the turn chose, or the next in
/// line), and listen for the answer.
fn listen(mut s: DialogState, reply: Reply, ctx: &Context) -> (DialogState, Turn) {
    let Reply {
        say,
        extra_es,
        question,
    } = reply;
    let Question {
        asked,
        text: question,
        hints,
    } = match question {
        Some(q) => q,
        None => next_question(&mut s, ctx),
    };
    s.asked = asked;
    let language = s.language;
    let mut utterances: Vec<Utterance> = say
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(|text| Utterance { text, language })
        .collect();
    if let Some(es) = extra_es {
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

/// Whether the store takes calls in Spanish.
fn speaks_spanish(ctx: &Context) -> bool {
    ctx.store.languages.iter().any(|l| l.starts_with("es"))
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

fn transfer(s: DialogState, why: Handoff) -> (DialogState, Turn) {
    let text = prompts::transferring(s.language, why);
    finish(
        s,
        vec![text],
        Next::Transfer,
        Some(Outcome::Transferred),
        None,
    )
}

/// The caller cancelled: what the turn had to say (e.g. why delivery is impossible), then
/// goodbye.
fn cancel(mut s: DialogState, reply: Reply, ctx: &Context) -> (DialogState, Turn) {
    s.ended = true;
    let mut say = reply.say;
    say.push(prompts::cancelled(s.language, &ctx.store.name));
    finish(s, say, Next::Hangup, Some(Outcome::Cancelled), None)
}

/// The caller confirmed the read-back: the order to write, and goodbye.
fn place(mut s: DialogState, ctx: &Context) -> (DialogState, Turn) {
    let store = ctx.store;
    let kind = s.fulfillment.unwrap_or(FulfillmentKind::Pickup);
    let lines: Vec<OrderLine> = s.lines.iter().map(to_order_line).collect();
    if lines.is_empty() || price_order(store, &lines, kind).is_err() {
        // The read-back only happens for a priceable order; anything else is a person's job.
        return transfer(s, Handoff::ForStaff);
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
        ready_at: s.ready_at,
    };
    let lang = s.language;
    let when = match s.ready_at {
        Some(at) => prompts::ready_at(
            lang,
            kind,
            &prompts::clock_time(lang, at.with_timezone(&store.time_zone())),
        ),
        None => prompts::ready_in(lang, kind, minutes),
    };
    let text = prompts::order_placed(lang, &when, &store.name);
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

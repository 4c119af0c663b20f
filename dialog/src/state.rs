//! The state of a call between turns, and the question that decides how the next words are read.
//!
//! Why its own module: [`DialogState`] is stored as JSON between turns and replayed from the
//! call log, so its serialized form (field names, `Asked`'s tag and variant names, the serde
//! defaults) is a contract with every state already stored. Keeping it apart from the flow makes
//! any change to that contract stand out in review.

use kea_menu::{FulfillmentKind, OrderLine};
use serde::{Deserialize, Serialize};

use crate::Language;
use crate::order::{Clarify, Line};

/// The question the caller just heard; it decides how their next words are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "q", rename_all = "snake_case")]
pub(crate) enum Asked {
    /// Nothing yet: the call has not started.
    #[default]
    Nothing,
    /// "What can I get for you?" / "Anything else?": any order words, or "that's all".
    Order,
    /// "What size would you like for line N?": a size, or more order words.
    Size { line: usize },
    /// "Which `<group>` would you like for line N?": an option of that group.
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

impl Asked {
    /// Whether the answer is free text read whole (an address, a name), so words like "cancel",
    /// "pickup" or "what do you have" in it are not taken as requests of their own.
    pub(crate) fn takes_free_text(self) -> bool {
        matches!(self, Asked::Address | Asked::Name)
    }
}

/// A question to end a turn with: how its answer will be read, what to say, and the words the
/// recogniser should expect in the answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Question {
    pub asked: Asked,
    pub text: String,
    pub hints: Vec<String>,
}

impl Question {
    /// A question whose answer needs no recogniser hints.
    pub(crate) fn new(asked: Asked, text: String) -> Self {
        Question {
            asked,
            text,
            hints: Vec::new(),
        }
    }

    /// A question with hints (yes/no, sizes, options).
    pub(crate) fn with_hints(asked: Asked, text: String, hints: Vec<String>) -> Self {
        Question { asked, text, hints }
    }
}

/// "Half hot, half mild" on a line whose sauce group takes one: the options the caller said,
/// to ask which they want (or, when the line is that many orders, whether one of each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Split {
    /// Index of the line among the confirmed lines (held lines follow them).
    pub(crate) line: usize,
    /// The line's item, to notice when the line has gone.
    pub(crate) sku: String,
    /// The modifier group's id.
    pub(crate) group: String,
    /// Skus of the options said, in the order said.
    pub(crate) options: Vec<String>,
}

impl Split {
    /// The group's index and the options' indices, when the menu still has them (at least two:
    /// otherwise there is nothing left to choose between).
    pub(crate) fn resolve(&self, menu: &kea_menu::Menu) -> Option<(usize, Vec<usize>)> {
        let g = menu
            .modifier_groups
            .iter()
            .position(|g| g.id == self.group)?;
        let options: Vec<usize> = self
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
}

/// The state of one call between turns, stored as JSON.
///
/// Start a call with [`DialogState::new`]; afterwards only [`step`](crate::step) changes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DialogState {
    pub(crate) caller_id: String,
    #[serde(default)]
    pub(crate) language: Language,
    #[serde(default)]
    pub(crate) asked: Asked,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) lines: Vec<Line>,
    /// Lines waiting for "did you say …?".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) held: Vec<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) clarify: Option<Clarify>,
    /// More options of one group said for a line than the group allows: which one(s)?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) split: Option<Split>,
    /// The item a menu or price answer was about, for "I'll take one".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) discussed: Option<Line>,
    /// Index of the line "make that…" refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last: Option<usize>,
    #[serde(default)]
    pub(crate) ordering_done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fulfillment: Option<FulfillmentKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) phone: Option<String>,
    /// When the caller wants the order, if later today ("for 6:30"); as soon as possible
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ready_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub(crate) phone_confirmed: bool,
    #[serde(default)]
    pub(crate) silences: u8,
    #[serde(default)]
    pub(crate) misses: u8,
    #[serde(default)]
    pub(crate) turns: u16,
    #[serde(default)]
    pub(crate) ended: bool,
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
            ready_at: None,
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

    /// The lines kea heard but will check with the caller first ("did you say …?").
    #[must_use]
    pub fn held_lines(&self) -> Vec<OrderLine> {
        self.held.iter().map(to_order_line).collect()
    }

    /// The caller's name, as far as the call has got.
    #[must_use]
    pub fn customer_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The number to reach the caller at, when one was said (the caller ID otherwise).
    #[must_use]
    pub fn callback_phone(&self) -> Option<&str> {
        self.phone.as_deref()
    }

    /// The delivery address, when one was said.
    #[must_use]
    pub fn delivery_address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    /// Pickup or delivery, when the caller has said.
    #[must_use]
    pub fn fulfillment(&self) -> Option<FulfillmentKind> {
        self.fulfillment
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

pub(crate) fn to_order_line(line: &Line) -> OrderLine {
    OrderLine {
        sku: line.sku.clone(),
        size: line.size.clone(),
        quantity: line.quantity,
        modifiers: line.modifiers.clone(),
    }
}

//! Answers about who the order is for: the name and the callback number.

use std::ops::ControlFlow;

use super::{Answer, Flow, items};
use crate::prompts;
use crate::state::{Asked, Question};
use crate::understand::extract_name;

/// "What name should I put the order under?": the name, ending where an address said with it
/// begins ("it's Maria, and it's going to 42 Elm Street"); a clear lead-in ("for delivery, my
/// name is Maria") wins. An item asked for is order words.
pub(super) fn name(a: &mut Answer) -> ControlFlow<Flow> {
    if a.an.orders_item() {
        return items::order(a);
    }
    let (vol, text) = (a.vol, a.text);
    let answer = &text[..vol.address_at.unwrap_or(text.len())];
    let name = match &vol.name {
        Some(name) if vol.name_certain => Some(name.clone()),
        _ => extract_name(answer),
    };
    if let Some(name) = name {
        a.s.name = Some(name);
        a.understood = true;
    }
    ControlFlow::Continue(())
}

/// "Is the number ending in 1234 the best one?" and "What's the best number?": yes confirms the
/// caller ID (to the first), no asks for a number. A number said was already taken with
/// everything said in passing. An item, or a yes or no said with a new name ("no, the name is
/// Mariah": the no is about the name, not the number), is read as order words.
pub(super) fn phone(a: &mut Answer) -> ControlFlow<Flow> {
    if a.an.phone.is_some() || a.an.has_item() || a.details {
        return items::order(a);
    }
    let lang = a.lang();
    match a.an.yes_no() {
        Some(true) if a.asked == Asked::ConfirmPhone => {
            a.s.phone_confirmed = true;
            a.understood = true;
        }
        Some(false) => {
            a.understood = true;
            a.ask(Question::new(Asked::Phone, prompts::ask_phone(lang)));
        }
        _ => {}
    }
    ControlFlow::Continue(())
}

//! Answers about how the order leaves the store: pickup or delivery, the delivery minimum, the
//! delivery address.

use std::ops::ControlFlow;

use kea_menu::{FulfillmentKind, Store};

use super::{Answer, Flow, items};
use crate::prompts::{self, Handoff};
use crate::state::{Asked, Question};
use crate::understand::extract_address;

/// Whether the store offers `kind`.
pub(super) fn offers(store: &Store, kind: FulfillmentKind) -> bool {
    match kind {
        FulfillmentKind::Pickup => store.fulfillment.pickup,
        FulfillmentKind::Delivery => store.fulfillment.delivery,
    }
}

/// "Will that be for pickup or delivery?": the answer itself was taken with everything said in
/// passing; whatever else was said is order words.
pub(super) fn pickup_or_delivery(a: &mut Answer) -> ControlFlow<Flow> {
    items::order(a)
}

/// "Delivery needs at least $X; what else would you like to add?": "that's all" offers pickup
/// instead (or, where there is no pickup, a person); anything else is order words.
pub(super) fn add_more(a: &mut Answer) -> ControlFlow<Flow> {
    if !a.an.done() || a.an.has_item() {
        return items::order(a);
    }
    let lang = a.lang();
    a.understood = true;
    if a.ctx.store.fulfillment.pickup {
        a.ask(Question::with_hints(
            Asked::SwitchToPickup,
            prompts::switch_to_pickup(lang),
            prompts::yes_no_hints(lang),
        ));
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(Flow::Transfer(Handoff::ForStaff))
    }
}

/// "Would you like to make it a pickup order instead?": yes switches, no cancels (the order
/// cannot be delivered); an item is order words.
pub(super) fn switch_to_pickup(a: &mut Answer) -> ControlFlow<Flow> {
    if a.an.has_item() {
        return items::order(a);
    }
    match a.an.yes_no() {
        Some(true) => {
            a.s.fulfillment = Some(FulfillmentKind::Pickup);
            a.understood = true;
        }
        Some(false) => {
            let lang = a.lang();
            a.reply
                .say
                .push(prompts::cannot_deliver_below_minimum(lang));
            return ControlFlow::Break(Flow::Cancel);
        }
        None => {}
    }
    ControlFlow::Continue(())
}

/// "What's the delivery address?": the address (after any lead-in, before a name said with
/// it), or "actually I'll pick it up"; an item asked for is order words.
pub(super) fn address(a: &mut Answer) -> ControlFlow<Flow> {
    if a.an.orders_item() {
        return items::order(a);
    }
    let (vol, text) = (a.vol, a.text);
    if a.an.fulfillment() == Some(FulfillmentKind::Pickup) && a.ctx.store.fulfillment.pickup {
        // "Actually, I'll pick it up."
        a.s.fulfillment = Some(FulfillmentKind::Pickup);
        a.understood = true;
    } else if let Some(address) = vol.address.clone().or_else(|| {
        let end = vol.name_at.filter(|_| vol.name_certain);
        extract_address(&text[..end.unwrap_or(text.len())])
    }) {
        a.s.address = Some(address);
        a.understood = true;
    }
    ControlFlow::Continue(())
}

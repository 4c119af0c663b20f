//! Prices the dialog quotes before an order is complete.
//!
//! [`kea_menu::price_order`] prices a whole, valid order; while the caller is still ordering,
//! the dialog needs prices of incomplete ones (required choices not made yet, a fulfillment the
//! store may not offer, below the delivery minimum). These helpers relax exactly those checks
//! and nothing else, so the figures said match what the final order will cost.

use kea_menu::{FulfillmentKind, OrderLine, Store, price_order};

use crate::order::Line;
use crate::state::to_order_line;

/// The subtotal of `lines` as a pickup order (even where the store only delivers); 0 when they
/// cannot be priced at all.
pub(crate) fn subtotal_unchecked(store: &Store, lines: &[OrderLine]) -> i64 {
    price_order(store, lines, FulfillmentKind::Pickup)
        .or_else(|_| {
            let mut view = store.clone();
            view.fulfillment.pickup = true;
            price_order(&view, lines, FulfillmentKind::Pickup)
        })
        .map_or(0, |p| p.subtotal_cents)
}

/// The price of `line` on its own; required choices not made yet do not change the base price.
pub(crate) fn line_price(store: &Store, line: &Line) -> Option<i64> {
    let order_line = to_order_line(line);
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

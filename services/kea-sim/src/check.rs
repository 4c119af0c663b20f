//! Comparing what a call produced with what its scenario expects.

use kea_menu::Store;

use crate::{Expect, Scenario};

/// One line of the order a call produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedLine {
    /// Menu sku.
    pub sku: String,
    /// Size, if any.
    pub size: Option<String>,
    /// How many.
    pub quantity: u32,
    /// Option skus.
    pub modifiers: Vec<String>,
}

/// The order a call produced, as stored.
#[derive(Debug, Clone)]
pub struct ObservedOrder {
    /// The lines.
    pub lines: Vec<ObservedLine>,
    /// `pickup` or `delivery`.
    pub fulfillment: String,
    /// The name on the order.
    pub customer_name: String,
    /// The phone on the order.
    pub customer_phone: String,
    /// For delivery.
    pub delivery_address: Option<String>,
    /// What the customer pays.
    pub total_cents: i64,
}

type Key = (String, String, u32, Vec<String>);

fn key(store: &Store, sku: &str, size: Option<&str>, quantity: u32, modifiers: &[String]) -> Key {
    let size = size
        .map(str::to_owned)
        .or_else(|| store.menu.item(sku).and_then(|i| i.default_size.clone()))
        .unwrap_or_default()
        .to_lowercase();
    let mut modifiers = modifiers.to_vec();
    modifiers.sort();
    (sku.to_owned(), size, quantity, modifiers)
}

fn norm(s: &str) -> String {
    let kept: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn last10(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(10)..].to_owned()
}

/// (subtotal, tax, total) of the expected order by the pricing rules, computed from the store file
/// alone: unit = size or item price + options at their portions (store.md); tax rounded half up;
/// delivery fee for delivery.
pub fn expected_total(store: &Store, expect: &Expect) -> (i64, i64, i64) {
    let mut subtotal = 0;
    for it in &expect.items {
        let Some(item) = store.menu.item(&it.sku) else {
            continue;
        };
        let unit = if item.sizes.is_empty() {
            item.price_cents.unwrap_or(0)
        } else {
            let size = it
                .size
                .clone()
                .or_else(|| item.default_size.clone())
                .unwrap_or_default();
            item.sizes
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(&size))
                .map_or(0, |s| s.price_cents)
        };
        // Options at their portions, by store.md's rules ("extra:bacon", "no:onion").
        let options: i64 = match kea_menu::resolve_modifiers(store, item, &it.modifiers) {
            Ok(resolved) => resolved.iter().map(|m| m.price_cents).sum(),
            Err(_) => it
                .modifiers
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
                .sum(),
        };
        subtotal += (unit + options) * i64::from(it.quantity);
    }
    let tax = (subtotal * i64::from(store.tax_rate_bps) + 5000) / 10000;
    let fee = if expect.fulfillment.as_deref() == Some("delivery") {
        store.fulfillment.delivery_fee_cents
    } else {
        0
    };
    (subtotal, tax, subtotal + tax + fee)
}

/// Every way the call's `outcome` and `order` differ from the scenario; empty when it passes.
pub fn check(
    store: &Store,
    scenario: &Scenario,
    outcome: Option<&str>,
    order: Option<&ObservedOrder>,
) -> Vec<String> {
    let exp = &scenario.expect;
    let mut fails = Vec::new();
    if outcome != Some(exp.outcome.as_str()) {
        fails.push(format!("outcome {outcome:?}, want {:?}", exp.outcome));
    }
    if exp.outcome != "order_placed" {
        if order.is_some() && matches!(exp.outcome.as_str(), "cancelled" | "abandoned") {
            fails.push("an order exists for a call that should have none".to_owned());
        }
        return fails;
    }
    let Some(order) = order else {
        fails.push("no order for the call".to_owned());
        return fails;
    };
    let mut got: Vec<Key> = order
        .lines
        .iter()
        .map(|l| key(store, &l.sku, l.size.as_deref(), l.quantity, &l.modifiers))
        .collect();
    got.sort();
    let mut wanted: Vec<Key> = exp
        .items
        .iter()
        .map(|i| key(store, &i.sku, i.size.as_deref(), i.quantity, &i.modifiers))
        .collect();
    wanted.sort();
    if got != wanted {
        fails.push(format!("items {got:?} != expected {wanted:?}"));
    }
    if let Some(f) = &exp.fulfillment
        && *f != order.fulfillment
    {
        fails.push(format!("fulfillment {:?} != {f:?}", order.fulfillment));
    }
    if let Some(n) = &exp.customer_name
        && norm(n) != norm(&order.customer_name)
    {
        fails.push(format!("customer_name {:?} != {n:?}", order.customer_name));
    }
    if let Some(p) = &exp.customer_phone
        && last10(p) != last10(&order.customer_phone)
    {
        fails.push(format!(
            "customer_phone {:?} != {p:?}",
            order.customer_phone
        ));
    }
    let address = norm(order.delivery_address.as_deref().unwrap_or(""));
    for part in &exp.address_contains {
        if !address.contains(&norm(part)) {
            fails.push(format!(
                "delivery_address {:?} lacks {part:?}",
                order.delivery_address
            ));
        }
    }
    if got == wanted {
        let (subtotal, tax, total) = expected_total(store, exp);
        if order.total_cents != total {
            fails.push(format!(
                "total_cents {} != {total} (subtotal {subtotal}, tax {tax})",
                order.total_cents
            ));
        }
    }
    fails
}

#[cfg(test)]
mod tests {
    use super::*;

    const TONYS: &str = include_str!("../../../tests/fixtures/stores/tonys-pizza.json");

    fn scenario() -> Scenario {
        Scenario::parse(
            r#"store = "tonys-pizza"
               [expect]
               fulfillment = "delivery"
               customer_name = "Priya"
               customer_phone = "+15557654321"
               address_contains = ["42 Elm", "3B"]
               [[expect.items]]
               sku = "pizza-pepperoni"
               size = "large"
               [[expect.items]]
               sku = "garlic-knots"
               quantity = 2
            "#,
            "t",
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn order() -> ObservedOrder {
        ObservedOrder {
            lines: vec![
                ObservedLine {
                    sku: "garlic-knots".into(),
                    size: Some("6 piece".into()),
                    quantity: 2,
                    modifiers: vec![],
                },
                ObservedLine {
                    sku: "pizza-pepperoni".into(),
                    size: Some("Large".into()),
                    quantity: 1,
                    modifiers: vec![],
                },
            ],
            fulfillment: "delivery".into(),
            customer_name: "priya".into(),
            customer_phone: "+1 (555) 765-4321".into(),
            delivery_address: Some("42 Elm Street, apartment 3B".into()),
            // 1899 + 2 × 499 = 2897; tax 875 bps = 253.4875 → 253; + 300 delivery
            total_cents: 3450,
        }
    }

    #[test]
    fn a_matching_order_passes_and_the_total_is_computed_independently() {
        let store = Store::parse(TONYS).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            expected_total(&store, &scenario().expect),
            (2897, 253, 3450)
        );
        assert_eq!(
            check(&store, &scenario(), Some("order_placed"), Some(&order())),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_difference_is_reported() {
        let store = Store::parse(TONYS).unwrap_or_else(|e| panic!("{e}"));
        let mut o = order();
        o.lines[1].size = Some("medium".into());
        o.customer_name = "Pria".into();
        o.delivery_address = Some("42 Elm".into());
        let fails = check(&store, &scenario(), Some("order_placed"), Some(&o));
        assert_eq!(fails.len(), 3, "{fails:?}");
        let fails = check(&store, &scenario(), Some("transferred"), None);
        assert_eq!(fails.len(), 2, "{fails:?}");
    }
}

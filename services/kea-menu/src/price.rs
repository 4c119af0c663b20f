//! Order pricing, exactly as `store.md` defines it.
//!
//! Every total a caller hears, the POS receives or the dashboard shows comes from
//! [`price_order`], so they can never disagree. All amounts are integer cents and every
//! addition and multiplication is checked: a total that does not fit is [`PriceError::Overflow`],
//! never a wrapped number.
//!
//! A line's modifier entries are `"<sku>"` or `"<portion>:<sku>"` (see [`Portion`]);
//! [`resolve_modifiers`] turns them into priced [`ResolvedModifier`]s, the same ones the POS
//! payload and the kitchen ticket show.

use serde::{Deserialize, Serialize};

use crate::store::{Item, Menu, ModifierOption, Portion, Store, kitchen_name};

/// How the caller gets the order; delivery adds the store's fee and minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FulfillmentKind {
    /// The caller collects the order.
    Pickup,
    /// The store brings the order to the caller.
    Delivery,
}

impl FulfillmentKind {
    /// The serde spelling (`"pickup"`, `"delivery"`), for logs and database columns.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FulfillmentKind::Pickup => "pickup",
            FulfillmentKind::Delivery => "delivery",
        }
    }
}

impl std::fmt::Display for FulfillmentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of an order as the caller gave it, in menu ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrderLine {
    /// Item sku.
    pub sku: String,
    /// Size name as said (any case); `None` means the item's `default_size`.
    #[serde(default)]
    pub size: Option<String>,
    /// How many of this exact item, at least 1.
    pub quantity: u32,
    /// Chosen options: `"<sku>"` at regular portion or `"<portion>:<sku>"` (`"extra:cheese"`,
    /// `"no:onions"`). Options the item includes appear only when their portion changes.
    ///
    /// In a store that [uses portions](Store::uses_portions) an option may appear once; in one
    /// that does not, an option listed twice is charged twice and counts twice toward its
    /// group's `max` ("extra extra cheese"), as before portions existed.
    #[serde(default)]
    pub modifiers: Vec<String>,
}

/// The price of one order line; [`Price::lines`] keeps the order of the input lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PricedLine {
    /// Size (or item) price plus the chosen options, for one unit.
    pub unit_price_cents: i64,
    /// `unit_price_cents × quantity`.
    pub line_total_cents: i64,
}

/// A priced order. `total_cents = subtotal_cents + tax_cents + delivery_fee_cents` always.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Price {
    /// One entry per input line, same order.
    pub lines: Vec<PricedLine>,
    /// Sum of the line totals.
    pub subtotal_cents: i64,
    /// `subtotal × tax_rate_bps / 10000`, rounded half up (see [`tax_cents`]).
    pub tax_cents: i64,
    /// The store's delivery fee for delivery orders; 0 for pickup. Not taxed.
    pub delivery_fee_cents: i64,
    /// What the caller pays.
    pub total_cents: i64,
}

/// Why an order cannot be priced. Each message names the offending input so the dialog and the
/// API can say exactly what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// The sku is not an item of this store's menu.
    #[error("item `{sku}` is not on the menu")]
    UnknownItem {
        /// The sku asked for.
        sku: String,
    },
    /// The item comes in sizes, none was given and it has no `default_size`: the system must ask.
    /// (Also returned for an item with neither price nor sizes, which [`Store::parse`] rejects.)
    #[error("item `{sku}` needs a size (sizes: {})", list(.sizes))]
    SizeRequired {
        /// The item.
        sku: String,
        /// Its size names, to offer the caller.
        sizes: Vec<String>,
    },
    /// The size given is not one of the item's sizes.
    #[error("item `{sku}` has no size `{size}` (sizes: {})", list(.sizes))]
    UnknownSize {
        /// The item.
        sku: String,
        /// The size asked for.
        size: String,
        /// Its size names.
        sizes: Vec<String>,
    },
    /// A size was given for an item that has a single price.
    #[error("item `{sku}` does not come in sizes, but size `{size}` was given")]
    NoSizes {
        /// The item.
        sku: String,
        /// The size asked for.
        size: String,
    },
    /// The option is not in any of the item's modifier groups.
    #[error("modifier `{modifier}` is not allowed on item `{sku}` (allowed: {})", list(.allowed))]
    ModifierNotAllowed {
        /// The item.
        sku: String,
        /// The modifier entry as given on the line (`"anchovies"`, `"extra:anchovies"`).
        modifier: String,
        /// Option skus of all the item's groups.
        allowed: Vec<String>,
    },
    /// The option was asked for at a `light`, `extra` or `side` portion that its `portions` do not
    /// list. The dialog puts such an option on at regular portion and tells the caller; pricing
    /// refuses it.
    #[error("option `{sku}` is not offered at portion `{portion}` (its portions do not list it)")]
    PortionNotOffered {
        /// The option sku.
        sku: String,
        /// The portion asked for.
        portion: Portion,
    },
    /// The option appears more than once on one line (twice, or at two portions), in a store
    /// that [uses portions](Store::uses_portions).
    #[error("option `{sku}` is on the line more than once; an option appears once, at one portion")]
    DuplicateOption {
        /// The option sku.
        sku: String,
    },
    /// More options were chosen from one group than its `max` (counting included options the
    /// caller did not remove).
    #[error("item `{sku}` allows at most {max} option(s) from modifier group `{group}`")]
    TooManyOptions {
        /// The item.
        sku: String,
        /// The group id.
        group: String,
        /// The group's `max`.
        max: u32,
    },
    /// A group with `min` ≥ 1 has fewer than `min` options chosen (counting included options the
    /// caller did not remove): the system must ask.
    #[error("item `{sku}` needs a choice from modifier group `{group}` (options: {})", list(.options))]
    RequiredGroupMissing {
        /// The item.
        sku: String,
        /// The group id.
        group: String,
        /// The group's option skus, to offer the caller.
        options: Vec<String>,
    },
    /// A line asked for none of the item.
    #[error("item `{sku}` has quantity 0; quantity must be at least 1")]
    ZeroQuantity {
        /// The item.
        sku: String,
    },
    /// An amount does not fit in `i64` cents; only absurd quantities or prices get here.
    #[error("the order total is too large to compute")]
    Overflow,
    /// The store does not offer this way of getting the order.
    #[error("store `{store}` does not offer {fulfillment}")]
    FulfillmentNotOffered {
        /// The store id.
        store: String,
        /// What was asked for.
        fulfillment: FulfillmentKind,
    },
    /// A delivery order's subtotal is below the store's delivery minimum.
    #[error(
        "subtotal {subtotal_cents} cents is below the delivery minimum of {minimum_cents} cents"
    )]
    BelowDeliveryMinimum {
        /// The order's subtotal.
        subtotal_cents: i64,
        /// The store's `delivery_minimum_cents`.
        minimum_cents: i64,
    },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Tax on a subtotal: `subtotal × bps / 10000`, rounded half up (toward +∞ at exactly .5).
///
/// Exact for every input (computed in `i128`); the result saturates at the `i64` range, which
/// needs a tax rate far above any the store contract allows. [`price_order`] checks instead.
#[must_use]
pub fn tax_cents(subtotal_cents: i64, tax_rate_bps: u32) -> i64 {
    let rounded = rounded_tax(subtotal_cents, tax_rate_bps);
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

fn rounded_tax(subtotal_cents: i64, tax_rate_bps: u32) -> i128 {
    // |subtotal| < 2^63 and bps < 2^32, so the product and the +5000 fit in i128.
    (i128::from(subtotal_cents) * i128::from(tax_rate_bps) + 5000).div_euclid(10_000)
}

/// Prices an order for one store, checking every line against the menu rules.
///
/// The item's `available` flag is not checked: a sold-out item still has a price, and telling
/// the caller it is sold out is the dialog's job.
///
/// # Errors
///
/// The first rule the order breaks, as a [`PriceError`] naming the line's sku: unknown item,
/// zero quantity, size problems, modifier problems (see [`resolve_modifiers`], then each group's
/// `max` and `min`), fulfillment not offered, delivery minimum, or [`PriceError::Overflow`].
pub fn price_order(
    store: &Store,
    lines: &[OrderLine],
    fulfillment: FulfillmentKind,
) -> Result<Price, PriceError> {
    let offered = match fulfillment {
        FulfillmentKind::Pickup => store.fulfillment.pickup,
        FulfillmentKind::Delivery => store.fulfillment.delivery,
    };
    if !offered {
        return Err(PriceError::FulfillmentNotOffered {
            store: store.id.clone(),
            fulfillment,
        });
    }
    let once = store.uses_portions();
    let lines = lines
        .iter()
        .map(|line| price_line(&store.menu, line, once))
        .collect::<Result<Vec<_>, _>>()?;
    let subtotal_cents = lines
        .iter()
        .try_fold(0_i64, |sum, line| sum.checked_add(line.line_total_cents))
        .ok_or(PriceError::Overflow)?;
    let delivery_fee_cents = match fulfillment {
        FulfillmentKind::Pickup => 0,
        FulfillmentKind::Delivery => {
            let minimum_cents = store.fulfillment.delivery_minimum_cents;
            if subtotal_cents < minimum_cents {
                return Err(PriceError::BelowDeliveryMinimum {
                    subtotal_cents,
                    minimum_cents,
                });
            }
            store.fulfillment.delivery_fee_cents
        }
    };
    let tax_cents = i64::try_from(rounded_tax(subtotal_cents, store.tax_rate_bps))
        .map_err(|_| PriceError::Overflow)?;
    let total_cents = subtotal_cents
        .checked_add(tax_cents)
        .and_then(|sum| sum.checked_add(delivery_fee_cents))
        .ok_or(PriceError::Overflow)?;
    Ok(Price {
        lines,
        subtotal_cents,
        tax_cents,
        delivery_fee_cents,
        total_cents,
    })
}

fn price_line(menu: &Menu, line: &OrderLine, once: bool) -> Result<PricedLine, PriceError> {
    let item = menu
        .item(&line.sku)
        .ok_or_else(|| PriceError::UnknownItem {
            sku: line.sku.clone(),
        })?;
    if line.quantity == 0 {
        return Err(PriceError::ZeroQuantity {
            sku: item.sku.clone(),
        });
    }
    let mut unit_price_cents = base_price(item, line.size.as_deref())?;
    let modifiers = resolve(menu, item, &line.modifiers, once)?;
    for modifier in &modifiers {
        unit_price_cents = unit_price_cents
            .checked_add(modifier.price_cents)
            .ok_or(PriceError::Overflow)?;
    }
    for id in &item.modifier_groups {
        // A validated store has every group; an unknown id offers nothing and requires nothing.
        let Some(group) = menu.group(id) else {
            continue;
        };
        let in_group = || modifiers.iter().filter(|m| m.group_id == group.id);
        // Entries at any portion but `no` count; so do included options the line does not
        // mention (one it mentions is counted, or not, by its entry).
        let listed = in_group().filter(|m| m.portion != Portion::No).count();
        let kept = item.includes.get(id).map_or(0, |skus| {
            skus.iter()
                .filter(|sku| group.option(sku).is_some())
                .filter(|sku| !in_group().any(|m| m.sku == **sku))
                .count()
        });
        let count = listed + kept;
        if usize::try_from(group.max).is_ok_and(|max| count > max) {
            return Err(PriceError::TooManyOptions {
                sku: item.sku.clone(),
                group: group.id.clone(),
                max: group.max,
            });
        }
        if usize::try_from(group.min).is_ok_and(|min| count < min) {
            return Err(PriceError::RequiredGroupMissing {
                sku: item.sku.clone(),
                group: group.id.clone(),
                options: group.options.iter().map(|o| o.sku.clone()).collect(),
            });
        }
    }
    let line_total_cents = unit_price_cents
        .checked_mul(i64::from(line.quantity))
        .ok_or(PriceError::Overflow)?;
    Ok(PricedLine {
        unit_price_cents,
        line_total_cents,
    })
}

/// One modifier entry of an order line, resolved against the item's groups and priced: what the
/// POS payload and the kitchen ticket show for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResolvedModifier {
    /// The group the option was taken from: the first of the item's groups that has it.
    pub group_id: String,
    /// The option's sku.
    pub sku: String,
    /// The portion asked for.
    pub portion: Portion,
    /// The option's name.
    pub name: String,
    /// The option at its portion, for a kitchen ticket: `"Extra Cheese"`, `"No Onions"`; see
    /// [`kitchen_name`].
    pub kitchen_name: String,
    /// What this entry adds to the unit price (0 for `no`, and for included options except at
    /// `extra`).
    pub price_cents: i64,
    /// Whether the item comes with this option (its `includes` lists it).
    pub included: bool,
}

impl ResolvedModifier {
    /// The line entry this stands for, in canonical form (`"extra:cheese"`, `"onions"`).
    #[must_use]
    pub fn modifier(&self) -> String {
        self.portion.modifier(&self.sku)
    }
}

/// Resolves a line's modifier entries (`"<sku>"`, `"<portion>:<sku>"`) for `item`, in the order
/// given, with what each adds to the unit price as `store.md`'s pricing says:
///
/// - an added option: `price_cents` at regular portion, `portions[p]` at `light`/`extra`/`side`;
/// - an included option: 0 at regular, `light`, `side` or `no`; at `extra`,
///   `portions.extra − price_cents`, not below 0;
/// - `no:` an option the item does not include: 0 (a kitchen instruction, kept).
///
/// This checks each entry, not the line as a whole: groups' `min` and `max` are checked by
/// [`price_order`], so a line still being taken (a required group not yet asked) resolves.
///
/// # Errors
///
/// In entry order: [`PriceError::ModifierNotAllowed`] for an option that is in none of the
/// item's groups; [`PriceError::DuplicateOption`] for an option that appears a second time, when
/// the store [uses portions](Store::uses_portions); [`PriceError::PortionNotOffered`] for a
/// `light`/`extra`/`side` portion the option does not list (`no` is always offered);
/// [`PriceError::Overflow`] for a price difference that does not fit.
pub fn resolve_modifiers(
    store: &Store,
    item: &Item,
    modifiers: &[String],
) -> Result<Vec<ResolvedModifier>, PriceError> {
    resolve(&store.menu, item, modifiers, store.uses_portions())
}

/// [`resolve_modifiers`] with [`Store::uses_portions`] computed once per order: `once` says
/// whether an option may appear only once on a line.
fn resolve(
    menu: &Menu,
    item: &Item,
    modifiers: &[String],
    once: bool,
) -> Result<Vec<ResolvedModifier>, PriceError> {
    let mut resolved: Vec<ResolvedModifier> = Vec::with_capacity(modifiers.len());
    for modifier in modifiers {
        let (portion, sku) = Portion::parse_modifier(modifier);
        let (group, option) =
            menu.option_of_item(item, sku)
                .ok_or_else(|| PriceError::ModifierNotAllowed {
                    sku: item.sku.clone(),
                    modifier: modifier.clone(),
                    allowed: allowed_options(menu, item),
                })?;
        if once
            && resolved
                .iter()
                .any(|earlier| earlier.group_id == group.id && earlier.sku == option.sku)
        {
            return Err(PriceError::DuplicateOption {
                sku: option.sku.clone(),
            });
        }
        let included = item.includes_option(&group.id, &option.sku);
        resolved.push(ResolvedModifier {
            group_id: group.id.clone(),
            sku: option.sku.clone(),
            portion,
            name: option.name.clone(),
            kitchen_name: kitchen_name(portion, &option.name),
            price_cents: option_price(option, portion, included)?,
            included,
        });
    }
    Ok(resolved)
}

/// What one option at one portion adds to the unit price (`included`: the item comes with it),
/// by store.md's rules; see [`resolve_modifiers`]. A portion the option is not offered in is
/// [`PriceError::PortionNotOffered`].
pub fn option_price(
    option: &ModifierOption,
    portion: Portion,
    included: bool,
) -> Result<i64, PriceError> {
    let listed = || {
        option
            .portions
            .price(portion)
            .ok_or_else(|| PriceError::PortionNotOffered {
                sku: option.sku.clone(),
                portion,
            })
    };
    match (portion, included) {
        (Portion::No, _) | (Portion::Regular, true) => Ok(0),
        (Portion::Regular, false) => Ok(option.price_cents),
        (Portion::Extra, true) => listed()?
            .checked_sub(option.price_cents)
            .map(|more| more.max(0))
            .ok_or(PriceError::Overflow),
        (Portion::Light | Portion::Side, true) => listed().map(|_| 0),
        (Portion::Light | Portion::Extra | Portion::Side, false) => listed(),
    }
}

/// The item's price before options: the chosen (or default) size's, else its own.
fn base_price(item: &Item, size: Option<&str>) -> Result<i64, PriceError> {
    let size_names = || {
        item.sizes
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    };
    if item.sizes.is_empty() {
        return match (size, item.price_cents) {
            (Some(size), _) => Err(PriceError::NoSizes {
                sku: item.sku.clone(),
                size: size.to_owned(),
            }),
            (None, Some(cents)) => Ok(cents),
            (None, None) => Err(PriceError::SizeRequired {
                sku: item.sku.clone(),
                sizes: vec![],
            }),
        };
    }
    let name = size
        .or(item.default_size.as_deref())
        .ok_or_else(|| PriceError::SizeRequired {
            sku: item.sku.clone(),
            sizes: size_names(),
        })?;
    item.size(name)
        .map(|size| size.price_cents)
        .ok_or_else(|| PriceError::UnknownSize {
            sku: item.sku.clone(),
            size: name.to_owned(),
            sizes: size_names(),
        })
}

fn allowed_options(menu: &Menu, item: &Item) -> Vec<String> {
    item.modifier_groups
        .iter()
        .filter_map(|id| menu.group(id))
        .flat_map(|group| group.options.iter().map(|o| o.sku.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fixtures;

    fn line(sku: &str, size: Option<&str>, quantity: u32, modifiers: &[&str]) -> OrderLine {
        OrderLine {
            sku: sku.to_owned(),
            size: size.map(str::to_owned),
            quantity,
            modifiers: modifiers.iter().map(|m| (*m).to_owned()).collect(),
        }
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    /// A one-item-per-price store for arithmetic cases, built through the real parser.
    fn synthetic(tax_rate_bps: u32, fee: i64, minimum: i64, prices: &[i64]) -> Store {
        let items: Vec<_> = prices
            .iter()
            .enumerate()
            .map(|(i, cents)| json!({"sku": format!("i{i}"), "name": format!("Item {i}"), "price_cents": cents}))
            .collect();
        let json = json!({
            "id": "synthetic", "merchant": "m", "name": "n", "phone": "+15550100009",
            "timezone": "UTC", "tax_rate_bps": tax_rate_bps,
            "fulfillment": {"pickup": true, "delivery": true, "delivery_fee_cents": fee,
                            "delivery_minimum_cents": minimum},
            "menu": {"items": items}
        });
        match Store::from_json(&json) {
            Ok(store) => store,
            Err(err) => panic!("synthetic store is invalid:\n{err}"),
        }
    }

    #[test]
    fn tax_rounds_half_up() {
        let cases: &[(i64, u32, i64)] = &[
            (0, 875, 0),
            (1000, 0, 0),
            (1000, 875, 88),  // 87.5 → 88
            (1, 5000, 1),     // 0.5 → 1
            (3, 5000, 2),     // 1.5 → 2
            (5000, 1, 1),     // 0.5 → 1
            (4999, 1, 0),     // 0.4999 → 0
            (2297, 875, 201), // 200.9875 → 201
            (2296, 875, 201), // 200.9 → 201
            (2285, 875, 200), // 199.9375 → 200
            (2280, 875, 200), // 199.5 → 200
            (1999, 1, 0),
            (10_000, 875, 875),
            (1350, 950, 128),         // 128.25 → 128
            (999_999, 5000, 500_000), // 499999.5 → 500000
            (-1, 5000, 0),            // -0.5 → 0 (half up is toward +∞)
            (-3, 5000, -1),           // -1.5 → -1
            (i64::MAX, 10_000, i64::MAX),
            (i64::MAX, 20_000, i64::MAX), // saturates
            (i64::MIN, 20_000, i64::MIN), // saturates
        ];
        for &(subtotal, bps, tax) in cases {
            assert_eq!(
                tax_cents(subtotal, bps),
                tax,
                "{subtotal} cents at {bps} bps"
            );
        }
    }

    #[test]
    fn tonys_large_pepperoni_and_two_cokes_hand_checked() {
        let store = fixtures::store(fixtures::TONYS);
        let order = [
            line("pizza-pepperoni", Some("large"), 1, &[]),
            line("coke-can", None, 2, &[]),
        ];
        let price = price_order(&store, &order, FulfillmentKind::Pickup);
        assert_eq!(
            price,
            Ok(Price {
                lines: vec![
                    PricedLine {
                        unit_price_cents: 1899,
                        line_total_cents: 1899
                    },
                    PricedLine {
                        unit_price_cents: 199,
                        line_total_cents: 398
                    },
                ],
                subtotal_cents: 2297,
                tax_cents: 201, // 2297 × 8.75% = 200.9875
                delivery_fee_cents: 0,
                total_cents: 2498,
            })
        );
    }

    #[test]
    fn delivery_adds_the_fee_untaxed() {
        let store = fixtures::store(fixtures::TONYS);
        let order = [
            line("pizza-pepperoni", Some("large"), 1, &[]),
            line("coke-can", None, 2, &[]),
        ];
        let price = price_order(&store, &order, FulfillmentKind::Delivery);
        assert_eq!(
            price.map(|p| (
                p.subtotal_cents,
                p.tax_cents,
                p.delivery_fee_cents,
                p.total_cents
            )),
            Ok((2297, 201, 300, 2798))
        );
    }

    /// (store, lines, fulfillment, expected unit prices, subtotal, tax, fee, total)
    type Case = (
        &'static str,
        Vec<OrderLine>,
        FulfillmentKind,
        Vec<i64>,
        i64,
        i64,
        i64,
        i64,
    );

    #[test]
    fn sample_orders_price_as_the_contract_says() {
        use FulfillmentKind::{Delivery, Pickup};
        let cases: Vec<Case> = vec![
            // default_size when no size is said
            (
                "tonys",
                vec![line("garlic-knots", None, 1, &[])],
                Pickup,
                vec![499],
                499,
                44,
                0,
                543,
            ),
            // a said size beats the default
            (
                "tonys",
                vec![line("garlic-knots", Some("12 piece"), 1, &[])],
                Pickup,
                vec![899],
                899,
                79,
                0,
                978,
            ),
            // size names ignore case
            (
                "tonys",
                vec![line("pizza-cheese", Some("LARGE"), 1, &[])],
                Pickup,
                vec![1699],
                1699,
                149,
                0,
                1848,
            ),
            // priced options are added to the unit, and the unit is multiplied by quantity
            (
                "tonys",
                vec![line(
                    "pizza-cheese",
                    Some("large"),
                    2,
                    &["stuffed-crust", "extra-cheese", "mushrooms"],
                )],
                Pickup,
                vec![1699 + 250 + 175 + 175],
                4598,
                402, // 402.325
                0,
                5000,
            ),
            // an option chosen twice is charged twice
            (
                "tonys",
                vec![line(
                    "pizza-cheese",
                    Some("small"),
                    1,
                    &["extra-cheese", "extra-cheese"],
                )],
                Pickup,
                vec![1099 + 350],
                1449,
                127, // 126.7875
                0,
                1576,
            ),
            // a required group answered with a free option
            (
                "tonys",
                vec![line("wings", Some("12 piece"), 3, &["sauce-bbq"])],
                Pickup,
                vec![1599],
                4797,
                420,
                0,
                5217,
            ),
            (
                "tonys",
                vec![line("soda-2l", None, 1, &["flavor-sprite"])],
                Pickup,
                vec![399],
                399,
                35,
                0,
                434,
            ),
            // delivery at exactly the minimum is allowed
            (
                "tonys",
                vec![line("pizza-veggie", Some("medium"), 1, &[])],
                Delivery,
                vec![1699],
                1699,
                149, // 148.6625
                300,
                2148,
            ),
            // 9.5% tax; required protein with a price, optional extras
            (
                "casita",
                vec![
                    line("burrito", None, 1, &["p-asada", "add-guac"]),
                    line("taco-al-pastor", None, 3, &["no-onion"]),
                ],
                Pickup,
                vec![1350, 350],
                2400,
                228,
                0,
                2628,
            ),
            (
                "casita",
                vec![
                    line("nachos", Some("large"), 1, &["np-pollo"]),
                    line("jarritos", None, 2, &["j-lime"]),
                ],
                Pickup,
                vec![1349, 275],
                1899,
                180, // 180.405
                0,
                2079,
            ),
            // 8.25%; several optional groups on one drink, two extra shots
            (
                "bean",
                vec![line(
                    "latte",
                    Some("medium"),
                    1,
                    &[
                        "milk-oat",
                        "extra-shot",
                        "extra-shot",
                        "syrup-vanilla",
                        "iced",
                    ],
                )],
                Pickup,
                vec![475 + 75 + 200 + 60],
                810,
                67, // 66.825
                0,
                877,
            ),
            (
                "bean",
                vec![line(
                    "bagel",
                    None,
                    2,
                    &["bagel-everything", "cream-cheese"],
                )],
                Pickup,
                vec![375],
                750,
                62,
                0,
                812,
            ),
            // an empty order costs nothing
            ("bean", vec![], Pickup, vec![], 0, 0, 0, 0),
        ];
        for (store, lines, fulfillment, units, subtotal, tax, fee, total) in cases {
            let json = match store {
                "tonys" => fixtures::TONYS,
                "casita" => fixtures::CASITA,
                _ => fixtures::BEAN,
            };
            let price = price_order(&fixtures::store(json), &lines, fulfillment);
            let price = price.unwrap_or_else(|err| panic!("{store} {lines:?}: {err}"));
            let got_units: Vec<i64> = price.lines.iter().map(|l| l.unit_price_cents).collect();
            assert_eq!(got_units, units, "{store} {lines:?}");
            for (priced, line) in price.lines.iter().zip(&lines) {
                assert_eq!(
                    priced.line_total_cents,
                    priced.unit_price_cents * i64::from(line.quantity)
                );
            }
            assert_eq!(
                (
                    price.subtotal_cents,
                    price.tax_cents,
                    price.delivery_fee_cents,
                    price.total_cents
                ),
                (subtotal, tax, fee, total),
                "{store} {lines:?}"
            );
        }
    }

    #[test]
    fn zero_tax_store_charges_no_tax() {
        let store = synthetic(0, 250, 0, &[1234]);
        let price = price_order(
            &store,
            &[line("i0", None, 3, &[])],
            FulfillmentKind::Delivery,
        );
        assert_eq!(
            price.map(|p| (
                p.subtotal_cents,
                p.tax_cents,
                p.delivery_fee_cents,
                p.total_cents
            )),
            Ok((3702, 0, 250, 3952))
        );
    }

    /// (what is wrong, store, lines, fulfillment, expected error, expected message fragment)
    type ErrorCase<'a> = (
        &'static str,
        &'a Store,
        Vec<OrderLine>,
        FulfillmentKind,
        PriceError,
        &'static str,
    );

    #[test]
    fn every_price_error() {
        use FulfillmentKind::{Delivery, Pickup};
        let tonys = fixtures::store(fixtures::TONYS);
        let bean = fixtures::store(fixtures::BEAN);
        let big = i64::MAX / 2 + 1;
        // i2 × 1.5 (its tax at 50%) is just past i64::MAX.
        let huge = synthetic(5000, 10, 0, &[big, i64::MAX, i64::MAX / 3 * 2 + 10]);
        let pickup_off = {
            let mut store = tonys.clone();
            store.fulfillment.pickup = false;
            store
        };
        let pizza_sizes = strings(&["small", "medium", "large"]);
        let pizza_options = strings(&[
            "thin-crust",
            "stuffed-crust",
            "gluten-free-crust",
            "extra-cheese",
            "mushrooms",
            "onions",
            "olives",
            "peppers",
            "sausage",
            "bacon",
            "jalapenos",
        ]);
        let cases: Vec<ErrorCase<'_>> = vec![
            (
                "unknown item",
                &tonys,
                vec![line("pepsi", None, 1, &[])],
                Pickup,
                PriceError::UnknownItem {
                    sku: "pepsi".into(),
                },
                "item `pepsi` is not on the menu",
            ),
            (
                "size required",
                &tonys,
                vec![line("pizza-cheese", None, 1, &[])],
                Pickup,
                PriceError::SizeRequired {
                    sku: "pizza-cheese".into(),
                    sizes: pizza_sizes.clone(),
                },
                "item `pizza-cheese` needs a size (sizes: small, medium, large)",
            ),
            (
                "unknown size",
                &tonys,
                vec![line("pizza-cheese", Some("jumbo"), 1, &[])],
                Pickup,
                PriceError::UnknownSize {
                    sku: "pizza-cheese".into(),
                    size: "jumbo".into(),
                    sizes: pizza_sizes.clone(),
                },
                "item `pizza-cheese` has no size `jumbo` (sizes: small, medium, large)",
            ),
            (
                "size on an unsized item",
                &tonys,
                vec![line("coke-can", Some("large"), 1, &[])],
                Pickup,
                PriceError::NoSizes {
                    sku: "coke-can".into(),
                    size: "large".into(),
                },
                "item `coke-can` does not come in sizes, but size `large` was given",
            ),
            (
                "modifier from another item's group",
                &tonys,
                vec![line("pizza-cheese", Some("small"), 1, &["sauce-bbq"])],
                Pickup,
                PriceError::ModifierNotAllowed {
                    sku: "pizza-cheese".into(),
                    modifier: "sauce-bbq".into(),
                    allowed: pizza_options.clone(),
                },
                "modifier `sauce-bbq` is not allowed on item `pizza-cheese` (allowed: thin-crust, stuffed-crust,",
            ),
            (
                "modifier on an item without groups",
                &tonys,
                vec![line("coke-can", None, 1, &["extra-cheese"])],
                Pickup,
                PriceError::ModifierNotAllowed {
                    sku: "coke-can".into(),
                    modifier: "extra-cheese".into(),
                    allowed: vec![],
                },
                "modifier `extra-cheese` is not allowed on item `coke-can` (allowed: none)",
            ),
            (
                "modifier that is an item",
                &tonys,
                vec![line("pizza-cheese", Some("small"), 1, &["coke-can"])],
                Pickup,
                PriceError::ModifierNotAllowed {
                    sku: "pizza-cheese".into(),
                    modifier: "coke-can".into(),
                    allowed: pizza_options.clone(),
                },
                "modifier `coke-can`",
            ),
            (
                "two options from a max-1 group",
                &tonys,
                vec![line(
                    "pizza-cheese",
                    Some("small"),
                    1,
                    &["thin-crust", "stuffed-crust"],
                )],
                Pickup,
                PriceError::TooManyOptions {
                    sku: "pizza-cheese".into(),
                    group: "crust".into(),
                    max: 1,
                },
                "item `pizza-cheese` allows at most 1 option(s) from modifier group `crust`",
            ),
            (
                "the same option twice counts twice",
                &tonys,
                vec![line(
                    "pizza-cheese",
                    Some("small"),
                    1,
                    &["thin-crust", "thin-crust"],
                )],
                Pickup,
                PriceError::TooManyOptions {
                    sku: "pizza-cheese".into(),
                    group: "crust".into(),
                    max: 1,
                },
                "at most 1",
            ),
            (
                "seven toppings",
                &tonys,
                vec![line(
                    "pizza-cheese",
                    Some("small"),
                    1,
                    &[
                        "onions",
                        "olives",
                        "peppers",
                        "sausage",
                        "bacon",
                        "jalapenos",
                        "mushrooms",
                    ],
                )],
                Pickup,
                PriceError::TooManyOptions {
                    sku: "pizza-cheese".into(),
                    group: "toppings".into(),
                    max: 6,
                },
                "at most 6 option(s) from modifier group `toppings`",
            ),
            (
                "required group unanswered",
                &tonys,
                vec![line("wings", Some("6 piece"), 1, &[])],
                Pickup,
                PriceError::RequiredGroupMissing {
                    sku: "wings".into(),
                    group: "wing-sauce".into(),
                    options: strings(&[
                        "sauce-mild",
                        "sauce-hot",
                        "sauce-bbq",
                        "sauce-garlic-parm",
                    ]),
                },
                "item `wings` needs a choice from modifier group `wing-sauce` (options: sauce-mild, sauce-hot, sauce-bbq, sauce-garlic-parm)",
            ),
            (
                "a later line's error is still found",
                &bean,
                vec![
                    line("croissant", None, 1, &[]),
                    line("breakfast-sandwich", None, 1, &["cream-cheese"]),
                ],
                Pickup,
                PriceError::ModifierNotAllowed {
                    sku: "breakfast-sandwich".into(),
                    modifier: "cream-cheese".into(),
                    allowed: strings(&["bs-bacon", "bs-sausage", "bs-veggie"]),
                },
                "modifier `cream-cheese` is not allowed on item `breakfast-sandwich`",
            ),
            (
                "zero quantity",
                &tonys,
                vec![line("coke-can", None, 0, &[])],
                Pickup,
                PriceError::ZeroQuantity {
                    sku: "coke-can".into(),
                },
                "item `coke-can` has quantity 0",
            ),
            (
                "line overflows",
                &huge,
                vec![line("i1", None, 2, &[])],
                Pickup,
                PriceError::Overflow,
                "too large",
            ),
            (
                "subtotal overflows",
                &huge,
                vec![line("i0", None, 1, &[]), line("i0", None, 1, &[])],
                Pickup,
                PriceError::Overflow,
                "too large",
            ),
            (
                "total overflows with tax",
                &huge,
                vec![line("i2", None, 1, &[])],
                Pickup,
                PriceError::Overflow,
                "too large",
            ),
            (
                "total overflows with the delivery fee",
                &huge,
                vec![line("i1", None, 1, &[])],
                Delivery,
                PriceError::Overflow,
                "too large",
            ),
            (
                "delivery not offered",
                &bean,
                vec![line("croissant", None, 1, &[])],
                Delivery,
                PriceError::FulfillmentNotOffered {
                    store: "bean-there".into(),
                    fulfillment: Delivery,
                },
                "store `bean-there` does not offer delivery",
            ),
            (
                "pickup not offered",
                &pickup_off,
                vec![line("coke-can", None, 1, &[])],
                Pickup,
                PriceError::FulfillmentNotOffered {
                    store: "tonys-pizza".into(),
                    fulfillment: Pickup,
                },
                "store `tonys-pizza` does not offer pickup",
            ),
            (
                "below the delivery minimum",
                &tonys,
                vec![line("coke-can", None, 7, &[])],
                Delivery,
                PriceError::BelowDeliveryMinimum {
                    subtotal_cents: 1393,
                    minimum_cents: 1500,
                },
                "subtotal 1393 cents is below the delivery minimum of 1500 cents",
            ),
        ];
        for (name, store, lines, fulfillment, error, message) in cases {
            let got = price_order(store, &lines, fulfillment);
            assert_eq!(got.as_ref().err(), Some(&error), "{name}: {got:?}");
            let text = error.to_string();
            assert!(
                text.contains(message),
                "{name}: {text:?} should contain {message:?}"
            );
        }
    }

    /// (rule, item, size, modifiers, expected unit price or error), for the diner store: the
    /// burger (899) comes with lettuce, tomato, onion and american; see `fixtures::DINER`.
    type PortionCase = (
        &'static str,
        &'static str,
        Option<&'static str>,
        &'static [&'static str],
        Want,
    );

    /// What a line should price to, written so the case tables can be constants.
    #[derive(Debug, Clone, Copy)]
    enum Want {
        /// This unit price.
        Unit(i64),
        /// [`PriceError::PortionNotOffered`] for this option and portion.
        NotOffered(&'static str, Portion),
        /// [`PriceError::DuplicateOption`] for this option.
        Duplicate(&'static str),
        /// [`PriceError::TooManyOptions`] for this item, group and max.
        TooMany(&'static str, &'static str, u32),
    }

    impl Want {
        fn result(self) -> Result<i64, PriceError> {
            match self {
                Want::Unit(cents) => Ok(cents),
                Want::NotOffered(sku, portion) => Err(PriceError::PortionNotOffered {
                    sku: sku.into(),
                    portion,
                }),
                Want::Duplicate(sku) => Err(PriceError::DuplicateOption { sku: sku.into() }),
                Want::TooMany(sku, group, max) => Err(PriceError::TooManyOptions {
                    sku: sku.into(),
                    group: group.into(),
                    max,
                }),
            }
        }
    }

    const BURGER_OPTIONS: [&str; 12] = [
        "lettuce", "tomato", "onion", "pickles", "bacon", "american", "swiss", "cheddar", "ranch",
        "mayo", "bacon", "fries",
    ];

    const PORTION_CASES: &[PortionCase] = &[
        // an added option: price_cents at regular, portions[p] at light/extra/side
        (
            "added at regular",
            "burger",
            None,
            &["pickles"],
            Want::Unit(899 + 25),
        ),
        (
            "added at regular, with portions",
            "burger",
            None,
            &["bacon"],
            Want::Unit(899 + 200),
        ),
        (
            "added light",
            "burger",
            None,
            &["light:pickles"],
            Want::Unit(899 + 20),
        ),
        (
            "added extra",
            "burger",
            None,
            &["extra:bacon"],
            Want::Unit(899 + 300),
        ),
        (
            "added on the side",
            "burger",
            None,
            &["side:ranch"],
            Want::Unit(899 + 75),
        ),
        (
            "added extra, cheaper than regular",
            "burger",
            None,
            &["no:american", "extra:cheddar"],
            Want::Unit(899 + 50),
        ),
        (
            "pizza light cheese",
            "pizza",
            Some("large"),
            &["light:mozzarella"],
            Want::Unit(1500 + 150),
        ),
        (
            "pizza extra cheese",
            "pizza",
            Some("large"),
            &["extra:mozzarella"],
            Want::Unit(1500 + 300),
        ),
        (
            "added light, not listed",
            "burger",
            None,
            &["light:tomato"],
            Want::NotOffered("tomato", Portion::Light),
        ),
        (
            "added extra, no portions",
            "burger",
            None,
            &["extra:swiss"],
            Want::NotOffered("swiss", Portion::Extra),
        ),
        (
            "added on the side, not listed",
            "pizza",
            None,
            &["side:mozzarella"],
            Want::NotOffered("mozzarella", Portion::Side),
        ),
        // an included option: 0 at regular, light, side or no; at extra, portions.extra − price_cents
        (
            "included, not mentioned",
            "burger",
            None,
            &[],
            Want::Unit(899),
        ),
        (
            "included, listed at regular",
            "burger",
            None,
            &["tomato", "lettuce"],
            Want::Unit(899),
        ),
        (
            "included light",
            "burger",
            None,
            &["light:lettuce"],
            Want::Unit(899),
        ),
        (
            "included on the side",
            "burger",
            None,
            &["side:tomato"],
            Want::Unit(899),
        ),
        (
            "included removed",
            "burger",
            None,
            &["no:onion"],
            Want::Unit(899),
        ),
        (
            "included removed, priced option",
            "burger",
            None,
            &["no:tomato"],
            Want::Unit(899),
        ),
        (
            "included extra",
            "burger",
            None,
            &["extra:tomato"],
            Want::Unit(899 + (100 - 50)),
        ),
        (
            "included extra of a free option",
            "burger",
            None,
            &["extra:american"],
            Want::Unit(899 + 75),
        ),
        (
            "included extra, below the price, is free",
            "cheddar-melt",
            None,
            &["extra:cheddar"],
            Want::Unit(999),
        ),
        (
            "included extra, not listed",
            "burger",
            None,
            &["extra:onion"],
            Want::NotOffered("onion", Portion::Extra),
        ),
        (
            "included light, not listed",
            "burger",
            None,
            &["light:onion"],
            Want::NotOffered("onion", Portion::Light),
        ),
        (
            "included extra pepperoni on a supreme",
            "supreme",
            Some("large"),
            &["extra:pepperoni"],
            Want::Unit(1800 + 150),
        ),
        // no: an option the item does not include is a kitchen instruction
        (
            "no: of an option not included",
            "burger",
            None,
            &["no:pickles"],
            Want::Unit(899),
        ),
        (
            "no: of an option without portions",
            "burger",
            None,
            &["no:swiss", "no:fries"],
            Want::Unit(899),
        ),
        (
            "no: of a free-choice option on a pizza",
            "pizza",
            None,
            &["no:olives"],
            Want::Unit(1000),
        ),
        // an option appears at most once on a line, at one portion
        (
            "the same option twice",
            "burger",
            None,
            &["pickles", "pickles"],
            Want::Duplicate("pickles"),
        ),
        (
            "regular and extra",
            "burger",
            None,
            &["bacon", "extra:bacon"],
            Want::Duplicate("bacon"),
        ),
        (
            "light and extra",
            "pizza",
            None,
            &["light:mozzarella", "extra:mozzarella"],
            Want::Duplicate("mozzarella"),
        ),
        (
            "removed and added back",
            "burger",
            None,
            &["no:onion", "onion"],
            Want::Duplicate("onion"),
        ),
        (
            "no twice",
            "burger",
            None,
            &["no:onion", "no:onion"],
            Want::Duplicate("onion"),
        ),
        // the first of the item's groups is meant for a shared sku
        (
            "shared sku: the first group",
            "burger",
            None,
            &["extra:bacon", "fries"],
            Want::Unit(899 + 300 + 299),
        ),
        // substitution: a removal and an addition
        (
            "substitution",
            "burger",
            None,
            &["no:american", "swiss"],
            Want::Unit(899 + 50),
        ),
        // counting: any portion but no counts; included options not removed count
        (
            "min satisfied by an include",
            "burger",
            None,
            &["no:onion"],
            Want::Unit(899),
        ),
        (
            "min satisfied by an include at extra",
            "burger",
            None,
            &["extra:american"],
            Want::Unit(899 + 75),
        ),
        (
            "max counts includes",
            "burger",
            None,
            &["pickles", "bacon"],
            Want::TooMany("burger", "toppings", 4),
        ),
        (
            "max counts an added option against an include",
            "burger",
            None,
            &["swiss"],
            Want::TooMany("burger", "cheese", 1),
        ),
        (
            "max counts includes at another portion once",
            "burger",
            None,
            &["extra:tomato", "light:lettuce", "pickles"],
            Want::Unit(899 + 50 + 25),
        ),
        (
            "a removal frees a place",
            "burger",
            None,
            &["no:onion", "pickles", "bacon"],
            Want::Unit(899 + 25 + 200),
        ),
        (
            "no: entries count toward nothing",
            "pizza",
            None,
            &["mozzarella", "pepperoni", "olives", "no:mushrooms"],
            Want::Unit(1000 + 150 + 200 + 100),
        ),
        (
            "extra counts like regular",
            "pizza",
            None,
            &["extra:mozzarella", "extra:pepperoni", "olives", "mushrooms"],
            Want::TooMany("pizza", "pizza-toppings", 3),
        ),
        (
            "supreme: includes fill the group",
            "supreme",
            None,
            &["mozzarella", "mushrooms"],
            Want::TooMany("supreme", "pizza-toppings", 3),
        ),
        (
            "supreme: one more fits",
            "supreme",
            None,
            &["light:mozzarella"],
            Want::Unit(1300 + 150),
        ),
        (
            "supreme: swap olives for two",
            "supreme",
            None,
            &["no:olives", "mozzarella", "mushrooms"],
            Want::Unit(1300 + 150 + 100),
        ),
    ];

    #[test]
    fn portions_and_includes_price_as_the_contract_says() {
        let store = fixtures::store(fixtures::DINER);
        for (rule, sku, size, modifiers, expected) in PORTION_CASES {
            let got = price_order(
                &store,
                &[line(sku, *size, 1, modifiers)],
                FulfillmentKind::Pickup,
            )
            .map(|price| price.lines[0].unit_price_cents);
            assert_eq!(got, expected.result(), "{rule}: {sku} {modifiers:?}");
        }
    }

    #[test]
    fn removing_a_required_include_asks_again() {
        let store = fixtures::store(fixtures::DINER);
        let got = price_order(
            &store,
            &[line("burger", None, 1, &["no:american"])],
            FulfillmentKind::Pickup,
        );
        let error = PriceError::RequiredGroupMissing {
            sku: "burger".into(),
            group: "cheese".into(),
            options: strings(&["american", "swiss", "cheddar"]),
        };
        assert_eq!(got, Err(error));
    }

    #[test]
    fn unknown_options_are_still_refused_at_any_portion() {
        let store = fixtures::store(fixtures::DINER);
        for modifier in [
            "anchovies",
            "extra:anchovies",
            "no:anchovies",
            "foo:bacon",
            "mozzarella",
        ] {
            let got = price_order(
                &store,
                &[line("burger", None, 1, &[modifier])],
                FulfillmentKind::Pickup,
            );
            let error = PriceError::ModifierNotAllowed {
                sku: "burger".into(),
                modifier: modifier.into(),
                allowed: strings(&BURGER_OPTIONS),
            };
            assert_eq!(got, Err(error), "{modifier}");
        }
    }

    #[test]
    fn portion_errors_say_what_is_wrong() {
        let cases = [
            (
                PriceError::PortionNotOffered {
                    sku: "onion".into(),
                    portion: Portion::Extra,
                },
                "option `onion` is not offered at portion `extra` (its portions do not list it)",
            ),
            (
                PriceError::DuplicateOption {
                    sku: "bacon".into(),
                },
                "option `bacon` is on the line more than once; an option appears once, at one portion",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn a_diner_order_hand_checked() {
        let store = fixtures::store(fixtures::DINER);
        let order = [
            // 899 + extra tomato (100 − 50) + side of ranch 75, no onion
            line(
                "burger",
                None,
                2,
                &["extra:tomato", "no:onion", "side:ranch"],
            ),
            // 1800 + extra mozzarella 300, no olives (included)
            line(
                "supreme",
                Some("large"),
                1,
                &["extra:mozzarella", "no:olives"],
            ),
        ];
        let price = price_order(&store, &order, FulfillmentKind::Delivery);
        assert_eq!(
            price,
            Ok(Price {
                lines: vec![
                    PricedLine {
                        unit_price_cents: 1024,
                        line_total_cents: 2048
                    },
                    PricedLine {
                        unit_price_cents: 2100,
                        line_total_cents: 2100
                    },
                ],
                subtotal_cents: 4148,
                tax_cents: 415, // 414.8
                delivery_fee_cents: 300,
                total_cents: 4863,
            })
        );
    }

    /// A store without portions or includes behaves as before: the entries of one option are
    /// each charged and each counted, and `no:` is a free kitchen instruction.
    #[test]
    fn stores_without_portions_price_as_before() {
        let tonys = fixtures::store(fixtures::TONYS);
        assert!(!tonys.uses_portions());
        let cases: &[PortionCase] = &[
            (
                "listed twice, charged twice",
                "pizza-cheese",
                Some("small"),
                &["extra-cheese", "extra-cheese"],
                Want::Unit(1099 + 175 + 175),
            ),
            (
                "listed three times",
                "pizza-cheese",
                Some("small"),
                &["mushrooms", "mushrooms", "mushrooms"],
                Want::Unit(1099 + 3 * 175),
            ),
            (
                "listed twice, counted twice",
                "pizza-cheese",
                Some("small"),
                &["thin-crust", "thin-crust"],
                Want::TooMany("pizza-cheese", "crust", 1),
            ),
            (
                "no: is free and counts toward nothing",
                "pizza-cheese",
                Some("small"),
                &["thin-crust", "no:onions", "no:stuffed-crust"],
                Want::Unit(1099),
            ),
            (
                "an option and its removal",
                "pizza-cheese",
                Some("small"),
                &["onions", "no:onions"],
                Want::Unit(1099 + 175),
            ),
            (
                "no portion is listed",
                "pizza-cheese",
                Some("small"),
                &["extra:mushrooms"],
                Want::NotOffered("mushrooms", Portion::Extra),
            ),
        ];
        for (rule, sku, size, modifiers, expected) in cases {
            let got = price_order(
                &tonys,
                &[line(sku, *size, 1, modifiers)],
                FulfillmentKind::Pickup,
            )
            .map(|price| price.lines[0].unit_price_cents);
            assert_eq!(got, expected.result(), "{rule}: {sku} {modifiers:?}");
        }
    }

    #[test]
    fn resolved_modifiers_name_price_and_place_each_entry() {
        let store = fixtures::store(fixtures::DINER);
        let Some(burger) = store.menu.item("burger") else {
            panic!("the diner has a burger");
        };
        let entries = strings(&[
            "extra:bacon",
            "no:onion",
            "side:ranch",
            "tomato",
            "no:pickles",
            "extra:american",
            "fries",
        ]);
        let got = resolve_modifiers(&store, burger, &entries);
        let resolved =
            |group: &str, sku: &str, portion, name: &str, kitchen: &str, cents, included| {
                ResolvedModifier {
                    group_id: group.into(),
                    sku: sku.into(),
                    portion,
                    name: name.into(),
                    kitchen_name: kitchen.into(),
                    price_cents: cents,
                    included,
                }
            };
        let expected = vec![
            resolved(
                "toppings",
                "bacon",
                Portion::Extra,
                "bacon",
                "Extra Bacon",
                300,
                false,
            ),
            resolved(
                "toppings",
                "onion",
                Portion::No,
                "onion",
                "No Onion",
                0,
                true,
            ),
            resolved(
                "sauce",
                "ranch",
                Portion::Side,
                "ranch",
                "Ranch on the Side",
                75,
                false,
            ),
            resolved(
                "toppings",
                "tomato",
                Portion::Regular,
                "tomato",
                "tomato",
                0,
                true,
            ),
            resolved(
                "toppings",
                "pickles",
                Portion::No,
                "pickles",
                "No Pickles",
                0,
                false,
            ),
            resolved(
                "cheese",
                "american",
                Portion::Extra,
                "American",
                "Extra American",
                75,
                true,
            ),
            resolved(
                "extras",
                "fries",
                Portion::Regular,
                "fries",
                "fries",
                299,
                false,
            ),
        ];
        assert_eq!(got.as_ref(), Ok(&expected));
        let back: Vec<String> = expected.iter().map(ResolvedModifier::modifier).collect();
        assert_eq!(back, entries);
    }

    #[test]
    fn resolving_checks_entries_not_groups() {
        let store = fixtures::store(fixtures::DINER);
        let Some(burger) = store.menu.item("burger") else {
            panic!("the diner has a burger");
        };
        // The cheese group is left empty and toppings over its max: pricing refuses both, but
        // each entry resolves, so a line still being taken can be read back.
        let entries = strings(&["no:american", "pickles", "bacon"]);
        assert_eq!(
            resolve_modifiers(&store, burger, &entries).map(|r| r.len()),
            Ok(3)
        );
        let entries = strings(&["pickles", "extra:pickles"]);
        assert_eq!(
            resolve_modifiers(&store, burger, &entries),
            Err(PriceError::DuplicateOption {
                sku: "pickles".into()
            })
        );
        // A store without portions keeps repeats.
        let tonys = fixtures::store(fixtures::TONYS);
        let Some(pizza) = tonys.menu.item("pizza-cheese") else {
            panic!("tony's has a cheese pizza");
        };
        let entries = strings(&["extra-cheese", "extra-cheese"]);
        assert_eq!(
            resolve_modifiers(&tonys, pizza, &entries)
                .map(|r| r.iter().map(|m| m.price_cents).sum::<i64>()),
            Ok(350)
        );
    }

    #[test]
    fn extra_on_an_include_that_overflows_is_caught() {
        let mut store = fixtures::store(fixtures::DINER);
        store.menu.modifier_groups[0].options[1].price_cents = i64::MIN;
        let got = price_order(
            &store,
            &[line("burger", None, 1, &["extra:tomato"])],
            FulfillmentKind::Pickup,
        );
        assert_eq!(got, Err(PriceError::Overflow));
    }

    #[test]
    fn option_overflow_is_caught() {
        let mut store = synthetic(0, 0, 0, &[i64::MAX]);
        store.menu.modifier_groups.push(crate::ModifierGroup {
            id: "g".into(),
            name: "G".into(),
            names: std::collections::BTreeMap::new(),
            min: 0,
            max: 1,
            options: vec![crate::ModifierOption {
                sku: "o".into(),
                name: "O".into(),
                names: std::collections::BTreeMap::new(),
                price_cents: 1,
                aliases: vec![],
                portions: crate::Portions::default(),
            }],
        });
        store.menu.items[0].modifier_groups.push("g".into());
        assert_eq!(store.validate(), Ok(()));
        let got = price_order(
            &store,
            &[line("i0", None, 1, &["o"])],
            FulfillmentKind::Pickup,
        );
        assert_eq!(got, Err(PriceError::Overflow));
    }

    #[test]
    fn unpriced_item_built_in_code_asks_for_a_size() {
        let mut store = synthetic(0, 0, 0, &[100]);
        store.menu.items[0].price_cents = None;
        let got = price_order(&store, &[line("i0", None, 1, &[])], FulfillmentKind::Pickup);
        assert_eq!(
            got,
            Err(PriceError::SizeRequired {
                sku: "i0".into(),
                sizes: vec![]
            })
        );
        assert!(got.is_err_and(|e| e.to_string().contains("(sizes: none)")));
    }

    #[test]
    fn unavailable_items_still_have_a_price() {
        let mut store = fixtures::store(fixtures::TONYS);
        if let Some(item) = store.menu.items.iter_mut().find(|i| i.sku == "coke-can") {
            item.available = false;
        }
        let got = price_order(
            &store,
            &[line("coke-can", None, 1, &[])],
            FulfillmentKind::Pickup,
        );
        assert_eq!(got.map(|p| p.subtotal_cents), Ok(199));
    }

    #[test]
    fn fulfillment_kind_strings_match_serde() {
        for kind in [FulfillmentKind::Pickup, FulfillmentKind::Delivery] {
            assert_eq!(serde_json::to_value(kind).ok(), Some(json!(kind.as_str())));
            assert_eq!(kind.to_string(), kind.as_str());
        }
    }

    #[test]
    fn order_lines_read_with_optional_fields_absent() {
        let got: Result<OrderLine, _> =
            serde_json::from_value(json!({"sku": "coke-can", "quantity": 2}));
        assert_eq!(got.ok(), Some(line("coke-can", None, 2, &[])));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::fixtures;

    /// Random choices, turned into a valid order line for whichever item `item` lands on.
    #[derive(Debug, Clone)]
    struct LineSeed {
        item: usize,
        size: Option<usize>,
        quantity: u32,
        picks: Vec<usize>,
    }

    fn line_seed() -> impl Strategy<Value = LineSeed> {
        (
            any::<usize>(),
            proptest::option::of(any::<usize>()),
            1_u32..=50,
            proptest::collection::vec(any::<usize>(), 16),
        )
            .prop_map(|(item, size, quantity, picks)| LineSeed {
                item,
                size,
                quantity,
                picks,
            })
    }

    /// A line that obeys every menu rule: a size when one is needed, and between `min` and
    /// `max` options (repeats allowed) from each of the item's groups.
    fn valid_line(store: &Store, seed: &LineSeed) -> OrderLine {
        let items = &store.menu.items;
        let item = &items[seed.item % items.len()];
        let size = match (item.sizes.len(), seed.size) {
            (0, _) => None,
            (_, None) if item.default_size.is_some() => None,
            (n, pick) => Some(item.sizes[pick.unwrap_or(0) % n].name.to_uppercase()),
        };
        let mut picks = seed.picks.iter().cycle();
        let mut modifiers = Vec::new();
        for id in &item.modifier_groups {
            let Some(group) = store.menu.group(id) else {
                continue;
            };
            let span = (group.max - group.min + 1) as usize;
            let count = group.min as usize + picks.next().map_or(0, |p| p % span);
            for _ in 0..count {
                let pick = picks.next().copied().unwrap_or(0);
                modifiers.push(group.options[pick % group.options.len()].sku.clone());
            }
        }
        OrderLine {
            sku: item.sku.clone(),
            size,
            quantity: seed.quantity,
            modifiers,
        }
    }

    fn check_invariants(
        store: &Store,
        lines: &[OrderLine],
        price: &Price,
        fulfillment: FulfillmentKind,
    ) {
        assert_eq!(price.lines.len(), lines.len());
        let mut sum = 0;
        for (priced, line) in price.lines.iter().zip(lines) {
            assert!(priced.unit_price_cents >= 0);
            assert_eq!(
                priced.line_total_cents,
                priced.unit_price_cents * i64::from(line.quantity)
            );
            sum += priced.line_total_cents;
        }
        assert_eq!(price.subtotal_cents, sum);
        assert_eq!(
            price.tax_cents,
            tax_cents(price.subtotal_cents, store.tax_rate_bps)
        );
        let fee = match fulfillment {
            FulfillmentKind::Pickup => 0,
            FulfillmentKind::Delivery => store.fulfillment.delivery_fee_cents,
        };
        assert_eq!(price.delivery_fee_cents, fee);
        assert_eq!(
            price.total_cents,
            price.subtotal_cents + price.tax_cents + price.delivery_fee_cents
        );
        assert!(
            price.subtotal_cents >= 0
                && price.tax_cents >= 0
                && price.total_cents >= price.subtotal_cents
        );
    }

    /// Reorders `items` by sorting on random keys: any permutation is reachable.
    fn permute<T: Clone>(items: &[T], keys: &[u64]) -> (Vec<T>, Vec<usize>) {
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&i| keys.get(i).copied().unwrap_or(0));
        (order.iter().map(|&i| items[i].clone()).collect(), order)
    }

    proptest! {
        #[test]
        fn valid_orders_price_consistently(
            store_index in 0..3_usize,
            seeds in proptest::collection::vec(line_seed(), 0..8),
            delivery in any::<bool>(),
            keys in proptest::collection::vec(any::<u64>(), 8),
        ) {
            let store = fixtures::store(fixtures::ALL[store_index].1);
            let lines: Vec<OrderLine> = seeds.iter().map(|seed| valid_line(&store, seed)).collect();
            let fulfillment = if delivery { FulfillmentKind::Delivery } else { FulfillmentKind::Pickup };
            match price_order(&store, &lines, fulfillment) {
                Ok(price) => {
                    check_invariants(&store, &lines, &price, fulfillment);
                    let (shuffled, order) = permute(&lines, &keys);
                    let again = price_order(&store, &shuffled, fulfillment);
                    let again = again.map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(
                        (again.subtotal_cents, again.tax_cents, again.delivery_fee_cents, again.total_cents),
                        (price.subtotal_cents, price.tax_cents, price.delivery_fee_cents, price.total_cents)
                    );
                    for (position, &original) in order.iter().enumerate() {
                        prop_assert_eq!(again.lines[position], price.lines[original]);
                    }
                }
                // Valid lines can fail only on the store's delivery rules.
                Err(PriceError::FulfillmentNotOffered { .. }) => {
                    prop_assert!(delivery && !store.fulfillment.delivery);
                }
                Err(PriceError::BelowDeliveryMinimum { subtotal_cents, minimum_cents }) => {
                    prop_assert!(delivery && subtotal_cents < minimum_cents);
                }
                Err(other) => prop_assert!(false, "valid lines {lines:?} failed: {other}"),
            }
        }

        #[test]
        fn any_prices_and_rates_add_up(
            prices in proptest::collection::vec(0_i64..=10_000_000, 1..6),
            tax_rate_bps in 0_u32..=5000,
            fee in 0_i64..=5000,
            picks in proptest::collection::vec((any::<usize>(), 1_u32..=1000), 0..10),
            delivery in any::<bool>(),
        ) {
            let store = {
                let items: Vec<_> = prices.iter().enumerate().map(|(i, cents)| {
                    serde_json::json!({"sku": format!("i{i}"), "name": format!("I{i}"), "price_cents": cents})
                }).collect();
                let json = serde_json::json!({
                    "id": "p", "merchant": "m", "name": "n", "phone": "+15550100009", "timezone": "UTC",
                    "tax_rate_bps": tax_rate_bps,
                    "fulfillment": {"delivery": true, "delivery_fee_cents": fee},
                    "menu": {"items": items}
                });
                Store::from_json(&json).map_err(|e| TestCaseError::fail(e.to_string()))?
            };
            let lines: Vec<OrderLine> = picks.iter().map(|&(item, quantity)| OrderLine {
                sku: format!("i{}", item % prices.len()), size: None, quantity, modifiers: vec![],
            }).collect();
            let fulfillment = if delivery { FulfillmentKind::Delivery } else { FulfillmentKind::Pickup };
            let price = price_order(&store, &lines, fulfillment).map_err(|e| TestCaseError::fail(e.to_string()))?;
            check_invariants(&store, &lines, &price, fulfillment);
            let expected: i64 = picks.iter().map(|&(item, q)| prices[item % prices.len()] * i64::from(q)).sum();
            prop_assert_eq!(price.subtotal_cents, expected);
            let mut reversed = lines.clone();
            reversed.reverse();
            let again = price_order(&store, &reversed, fulfillment).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(again.total_cents, price.total_cents);
        }

        #[test]
        fn tax_is_the_nearest_cent_rounding_half_up(subtotal in any::<i64>(), bps in 0_u32..=10_000) {
            let tax = i128::from(tax_cents(subtotal, bps));
            let exact = i128::from(subtotal) * i128::from(bps);
            // tax − ½ ≤ subtotal × bps / 10000 < tax + ½
            prop_assert!(tax * 10_000 - 5_000 <= exact && exact < tax * 10_000 + 5_000);
            if subtotal >= 0 {
                prop_assert!(tax >= 0);
                prop_assert_eq!(tax, (exact + 5_000) / 10_000);
            }
        }

        #[test]
        fn portion_lines_price_as_their_resolved_modifiers_add_up(
            item in 0..4_usize,
            picks in proptest::collection::vec((any::<usize>(), 0..5_usize), 0..6),
            quantity in 1_u32..=5,
        ) {
            let store = fixtures::store(fixtures::DINER);
            let item = &store.menu.items[item];
            let options: Vec<&str> = item
                .modifier_groups
                .iter()
                .filter_map(|id| store.menu.group(id))
                .flat_map(|group| group.options.iter().map(|o| o.sku.as_str()))
                .collect();
            let modifiers: Vec<String> = picks
                .iter()
                .map(|&(option, portion)| Portion::ALL[portion].modifier(options[option % options.len()]))
                .collect();
            let line = OrderLine { sku: item.sku.clone(), size: None, quantity, modifiers };
            let resolved = resolve_modifiers(&store, item, &line.modifiers);
            match price_order(&store, std::slice::from_ref(&line), FulfillmentKind::Pickup) {
                Ok(price) => {
                    let resolved = resolved.map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let base = base_price(item, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let added: i64 = resolved.iter().map(|m| m.price_cents).sum();
                    prop_assert_eq!(price.lines[0].unit_price_cents, base + added);
                    prop_assert!(resolved.iter().all(|m| m.price_cents >= 0));
                    prop_assert_eq!(price.lines[0].line_total_cents, (base + added) * i64::from(quantity));
                }
                // Entry errors come from resolving; group errors only once every entry resolved.
                Err(err @ (PriceError::PortionNotOffered { .. } | PriceError::DuplicateOption { .. })) => {
                    prop_assert_eq!(resolved, Err(err));
                }
                Err(PriceError::TooManyOptions { .. } | PriceError::RequiredGroupMissing { .. }) => {
                    prop_assert!(resolved.is_ok());
                }
                Err(other) => prop_assert!(false, "{line:?} failed: {other}"),
            }
        }

        #[test]
        fn invalid_skus_never_panic(sku in "[a-z-]{0,12}", quantity in any::<u32>(), size in proptest::option::of("[a-zA-Z ]{0,8}")) {
            let store = fixtures::store(fixtures::TONYS);
            let line = OrderLine { sku, size, quantity, modifiers: vec!["thin-crust".into()] };
            let _ = price_order(&store, &[line], FulfillmentKind::Delivery);
        }
    }
}

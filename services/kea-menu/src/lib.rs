#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
//!
//! # Modules
//!
//! - [`store`]: the types a store file deserialises into, and menu look-ups. Use these everywhere
//!   a store is passed around; they are always the checked form.
//! - [`import`]: [`Store::parse`] and its [`StoreFileError`], the only way untrusted JSON becomes a
//!   [`Store`].
//! - [`matcher`]: [`matcher::MenuMatcher`], which resolves a caller's words to items, options,
//!   sizes and categories; shared by the dialog engine and the NER job.
//! - [`price`]: [`price_order`] and [`PriceError`], the only place an order total is computed.

pub mod hours;
pub mod import;
pub mod matcher;
pub mod price;
pub mod store;

pub use hours::{ClosedBecause, Opening, Unschedulable};
pub use import::{Problem, StoreFileError, is_e164};
pub use price::{
    FulfillmentKind, OrderLine, Price, PriceError, PricedLine, ResolvedModifier, option_price,
    price_order, resolve_modifiers, tax_cents,
};
pub use store::{
    Closure, Fulfillment, Item, Menu, ModifierGroup, ModifierOption, OpeningHours, Portion,
    Portions, PosConfig, Size, Store, VerificationPolicy, Weekday, kitchen_name, localized,
};

#[cfg(test)]
pub(crate) mod fixtures {
    //! The sample stores, shared by every test module.

    pub(crate) const TONYS: &str = include_str!("../../../tests/fixtures/stores/tonys-pizza.json");
    pub(crate) const CASITA: &str = include_str!("../../../tests/fixtures/stores/la-casita.json");
    pub(crate) const BEAN: &str = include_str!("../../../tests/fixtures/stores/bean-there.json");
    pub(crate) const ALL: [(&str, &str); 3] = [
        ("tonys-pizza", TONYS),
        ("la-casita", CASITA),
        ("bean-there", BEAN),
    ];

    /// A store that uses portions and includes, built for the tests (not a sample file).
    ///
    /// - `burger` (899) comes with lettuce, tomato and onion (`toppings`, max 4) and american
    ///   (`cheese`, min 1, max 1); `sauce` (max 2) and `extras` (which shares the sku `bacon`
    ///   with `toppings`, listed after it) are optional.
    /// - `cheddar-melt` (999) comes with cheddar, whose extra portion (50) costs less than its
    ///   price (100).
    /// - `pizza` and `supreme` (sized) take `pizza-toppings` (max 3); the supreme comes with
    ///   pepperoni and olives.
    pub(crate) const DINER: &str = r#"{
      "id": "diner", "merchant": "Diner LLC", "name": "Diner", "phone": "+15550100077",
      "timezone": "America/Chicago", "languages": ["en-US", "es-US"], "tax_rate_bps": 1000,
      "fulfillment": {"pickup": true, "delivery": true, "delivery_fee_cents": 300},
      "menu": {
        "items": [
          {"sku": "burger", "name": "Burger", "names": {"es": "Hamburguesa"}, "price_cents": 899,
           "modifier_groups": ["toppings", "cheese", "sauce", "extras"],
           "includes": {"toppings": ["lettuce", "tomato", "onion"], "cheese": ["american"]}},
          {"sku": "cheddar-melt", "name": "Cheddar Melt", "price_cents": 999,
           "modifier_groups": ["cheese", "toppings"], "includes": {"cheese": ["cheddar"]}},
          {"sku": "pizza", "name": "Pizza", "default_size": "small",
           "sizes": [{"name": "small", "price_cents": 1000},
                     {"name": "large", "price_cents": 1500, "names": {"es-US": "grande"}}],
           "modifier_groups": ["pizza-toppings"]},
          {"sku": "supreme", "name": "Supreme Pizza", "default_size": "small",
           "sizes": [{"name": "small", "price_cents": 1300}, {"name": "large", "price_cents": 1800}],
           "modifier_groups": ["pizza-toppings"], "includes": {"pizza-toppings": ["pepperoni", "olives"]}}
        ],
        "modifier_groups": [
          {"id": "toppings", "name": "Toppings", "names": {"es": "Ingredientes"}, "min": 0, "max": 4,
           "options": [
             {"sku": "lettuce", "name": "lettuce", "price_cents": 0, "portions": {"light": 0, "extra": 0}},
             {"sku": "tomato", "name": "tomato", "price_cents": 50, "portions": {"extra": 100, "side": 50}},
             {"sku": "onion", "name": "onion", "price_cents": 25, "names": {"es": "cebolla"}},
             {"sku": "pickles", "name": "pickles", "price_cents": 25, "portions": {"light": 20, "extra": 50}},
             {"sku": "bacon", "name": "bacon", "price_cents": 200,
              "portions": {"light": 150, "extra": 300, "side": 200}}
           ]},
          {"id": "cheese", "name": "Cheese", "min": 1, "max": 1,
           "options": [
             {"sku": "american", "name": "American", "price_cents": 0, "portions": {"extra": 75}},
             {"sku": "swiss", "name": "Swiss", "price_cents": 50},
             {"sku": "cheddar", "name": "cheddar", "price_cents": 100, "portions": {"extra": 50}}
           ]},
          {"id": "sauce", "name": "Sauce", "min": 0, "max": 2,
           "options": [
             {"sku": "ranch", "name": "ranch", "price_cents": 50, "portions": {"light": 50, "side": 75}},
             {"sku": "mayo", "name": "mayo", "price_cents": 0, "portions": {"light": 0}}
           ]},
          {"id": "extras", "name": "Extras", "min": 0, "max": 2,
           "options": [
             {"sku": "bacon", "name": "double bacon", "price_cents": 999},
             {"sku": "fries", "name": "fries", "price_cents": 299}
           ]},
          {"id": "pizza-toppings", "name": "Pizza toppings", "min": 0, "max": 3,
           "options": [
             {"sku": "mozzarella", "name": "mozzarella", "price_cents": 150,
              "portions": {"light": 150, "extra": 300}},
             {"sku": "pepperoni", "name": "pepperoni", "price_cents": 200, "portions": {"extra": 350}},
             {"sku": "olives", "name": "olives", "price_cents": 100},
             {"sku": "mushrooms", "name": "mushrooms", "price_cents": 100}
           ]}
        ]
      }
    }"#;

    /// Parses a sample store; the samples are known to be valid, which a test asserts.
    pub(crate) fn store(json: &str) -> crate::Store {
        match crate::Store::parse(json) {
            Ok(store) => store,
            Err(err) => panic!("sample store does not parse:\n{err}"),
        }
    }
}

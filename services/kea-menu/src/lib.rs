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

pub mod import;
pub mod matcher;
pub mod price;
pub mod store;

pub use import::{Problem, StoreFileError};
pub use price::{
    FulfillmentKind, OrderLine, Price, PriceError, PricedLine, price_order, tax_cents,
};
pub use store::{
    Fulfillment, Item, Menu, ModifierGroup, ModifierOption, OpeningHours, PosConfig, Size, Store,
    VerificationPolicy, Weekday,
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

    /// Parses a sample store; the samples are known to be valid, which a test asserts.
    pub(crate) fn store(json: &str) -> crate::Store {
        match crate::Store::parse(json) {
            Ok(store) => store,
            Err(err) => panic!("sample store does not parse:\n{err}"),
        }
    }
}

//! The store and menu model, shaped exactly like the store file.
//!
//! These types mirror `store.schema.json` field for field so that a store round-trips through
//! [`Store::to_json`] and [`Store::parse`] unchanged. Build them with [`Store::parse`] when the
//! JSON comes from outside; a value built in code can be checked with [`Store::validate`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One store: who answers the phone, when it is open, how it hands food over and what it sells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    /// Stable key; re-importing a file with the same id updates the store instead of adding one.
    pub id: String,
    /// The owning merchant's name, so one merchant can own several stores.
    pub merchant: String,
    /// What the greeting says.
    pub name: String,
    /// The E.164 number callers dial; incoming calls are routed to the store by it.
    pub phone: String,
    /// IANA zone that [`Store::hours`] are local to.
    pub timezone: String,
    /// Language tags the store can take orders in; the first is what a call starts in.
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    /// Sales tax in basis points of the subtotal (875 = 8.75%).
    pub tax_rate_bps: u32,
    /// Pickup/delivery offer and its fees and promised times.
    pub fulfillment: Fulfillment,
    /// Local opening hours per weekday; a day that is absent means closed that day.
    #[serde(default)]
    pub hours: BTreeMap<Weekday, OpeningHours>,
    /// Where confirmed orders are sent.
    #[serde(default)]
    pub pos: PosConfig,
    /// When a person checks an order before it goes to the POS.
    #[serde(default, skip_serializing_if = "VerificationPolicy::is_default")]
    pub verification_policy: VerificationPolicy,
    /// One-off days the store is closed (a holiday, a storm), in store-local dates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closures: Vec<Closure>,
    /// The merchant's switch to stop phone orders for now (kea answers, takes none).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub phone_orders_paused: bool,
    /// Whether callers may order for later today ("for 6:30"), within the opening hours.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scheduled_orders: bool,
    /// What callers can order.
    pub menu: Menu,
}

fn default_languages() -> Vec<String> {
    vec!["en-US".to_owned()]
}

impl Store {
    /// The store in its canonical JSON form: every default written out, absent optionals omitted.
    ///
    /// Storing this form (rather than the file as uploaded) means two imports of equivalent
    /// files compare equal, and [`Store::parse`] accepts it back unchanged.
    ///
    /// # Panics
    ///
    /// Never: every map key in a `Store` is a string and it holds no floats, the only things
    /// `serde_json` can fail to represent.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self)
            .expect("a Store serialises: its map keys are strings and it holds no floats")
    }

    /// Whether the store uses portions or includes: some option lists a [`Portions`] price, or
    /// some item [includes](Item::includes) an option.
    ///
    /// The contract says a store that uses neither behaves exactly as before they existed: there
    /// an option listed twice on a line is charged twice and counts twice toward its group's
    /// `max`. Once a store uses either, an option may appear at most once on a line.
    #[must_use]
    pub fn uses_portions(&self) -> bool {
        self.menu.uses_portions()
    }
}

/// A day of the week, as the store file spells it (`"mon"` … `"sun"`).
///
/// Declared Monday first so that a `BTreeMap<Weekday, _>` iterates in the order people read
/// opening hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// Every day, Monday first, for code that must consider each day (e.g. rendering hours).
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// The store-file key for the day, so callers never hand-write `"mon"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }
}

impl std::fmt::Display for Weekday {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A one-off closed day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    /// The store-local date, `"YYYY-MM-DD"`.
    pub date: String,
    /// Why, for people (not spoken to callers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One day's opening hours in store-local time, kept as the file gives them (`"HH:MM"`).
///
/// In the file this is a two-element array `["11:00", "22:00"]`. The strings are kept rather
/// than parsed so the canonical form repeats what the merchant wrote; [`Store::parse`] has
/// already checked them, and `close` may be `"24:00"` for "until midnight".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "[String; 2]", into = "[String; 2]")]
pub struct OpeningHours {
    /// Opening time, `"HH:MM"`.
    pub open: String,
    /// Closing time, `"HH:MM"`, later than `open`; `"24:00"` means midnight at the end of the day.
    pub close: String,
}

impl From<[String; 2]> for OpeningHours {
    fn from([open, close]: [String; 2]) -> Self {
        OpeningHours { open, close }
    }
}

impl From<OpeningHours> for [String; 2] {
    fn from(hours: OpeningHours) -> Self {
        [hours.open, hours.close]
    }
}

/// How the store hands orders over, and what delivery costs.
///
/// Every field has a default so a store file may give only what differs from a typical
/// pickup-only restaurant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fulfillment {
    /// Whether callers may collect the order themselves.
    pub pickup: bool,
    /// Whether the store delivers.
    pub delivery: bool,
    /// Added to the total of delivery orders.
    pub delivery_fee_cents: i64,
    /// Smallest subtotal the store delivers for.
    pub delivery_minimum_cents: i64,
    /// Ready-time the caller is promised for pickup.
    pub pickup_minutes: u32,
    /// Arrival time the caller is promised for delivery.
    pub delivery_minutes: u32,
}

impl Default for Fulfillment {
    fn default() -> Self {
        Fulfillment {
            pickup: true,
            delivery: false,
            delivery_fee_cents: 0,
            delivery_minimum_cents: 0,
            pickup_minutes: 20,
            delivery_minutes: 45,
        }
    }
}

/// Where confirmed orders go. Secrets may be Vault references (`vault:<mount>/<path>#<key>`),
/// which this crate keeps as opaque strings: resolving them is I/O and happens elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PosConfig {
    /// Orders stay in kea; staff read them from the dashboard.
    #[default]
    None,
    /// Orders are sent by `POST` to the merchant's URL, signed with `secret`.
    Webhook {
        /// Endpoint that receives each order.
        url: String,
        /// Signing secret, or a Vault reference to it.
        secret: String,
    },
    /// Orders are created in Square.
    Square {
        /// Square location the orders belong to.
        location_id: String,
        /// Square access token, or a Vault reference to it.
        access_token: String,
        /// Override for Square's API base URL, so tests can point at a local fake.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_url: Option<String>,
    },
}

/// When an order needs a call-center agent's check before it is sent to the POS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationPolicy {
    /// Orders the caller confirmed and that matched the menu with high confidence go straight to
    /// the POS; the others wait for an agent.
    #[default]
    Auto,
    /// Every order waits for an agent.
    Always,
}

impl VerificationPolicy {
    fn is_default(&self) -> bool {
        *self == Self::Auto
    }
}

impl PosConfig {
    /// The `kind` tag as written in the store file, for logs and database columns.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            PosConfig::None => "none",
            PosConfig::Webhook { .. } => "webhook",
            PosConfig::Square { .. } => "square",
        }
    }
}

/// What the store sells: items, and the shared modifier groups items refer to by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Menu {
    /// Everything a caller can order, in the merchant's order.
    pub items: Vec<Item>,
    /// Choices (crust, toppings, milk…) shared between items.
    #[serde(default)]
    pub modifier_groups: Vec<ModifierGroup>,
}

impl Menu {
    /// See [`Store::uses_portions`].
    #[must_use]
    pub fn uses_portions(&self) -> bool {
        self.modifier_groups
            .iter()
            .flat_map(|group| &group.options)
            .any(|option| !option.portions.is_empty())
            || self
                .items
                .iter()
                .any(|item| item.includes.values().any(|skus| !skus.is_empty()))
    }

    /// The item with this sku; skus are unique within a menu once parsed.
    #[must_use]
    pub fn item(&self, sku: &str) -> Option<&Item> {
        self.items.iter().find(|item| item.sku == sku)
    }

    /// The modifier group with this id; ids are unique within a menu once parsed.
    #[must_use]
    pub fn group(&self, id: &str) -> Option<&ModifierGroup> {
        self.modifier_groups.iter().find(|group| group.id == id)
    }

    /// An option of one group. Option skus are only unique within their group, so the group is
    /// part of the key.
    #[must_use]
    pub fn option(&self, group_id: &str, sku: &str) -> Option<&ModifierOption> {
        self.group(group_id)?.option(sku)
    }

    /// The option with this sku among the item's own modifier groups, with its group.
    ///
    /// Option skus are unique only within a group; when two of the item's groups share one, the
    /// first group in the item's `modifier_groups` is meant, as the contract says. `None` when no
    /// group of the item has the option (an option from another item's group is not allowed).
    #[must_use]
    pub fn option_of_item(
        &self,
        item: &Item,
        sku: &str,
    ) -> Option<(&ModifierGroup, &ModifierOption)> {
        item.modifier_groups.iter().find_map(|id| {
            let group = self.group(id)?;
            Some((group, group.option(sku)?))
        })
    }
}

/// Something a caller can order.
///
/// An item has either one `price_cents` or a list of `sizes` (never both); [`Store::parse`]
/// enforces that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Stable id used in orders and by the POS.
    pub sku: String,
    /// What the system says back to the caller.
    pub name: String,
    /// The name in other languages, keyed by language tag (`"es-US"`) or its first part
    /// (`"es"`); see [`localized`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
    /// Menu section, used when reading the menu out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Answer to "what's in it?".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other ways callers say the name.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Price of an item that has no sizes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_cents: Option<i64>,
    /// Sizes of a sized item, each with its own price.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<Size>,
    /// Size used when the caller names none; without it the system asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_size: Option<String>,
    /// Ids of the modifier groups that apply to this item, in the order they are asked.
    #[serde(default)]
    pub modifier_groups: Vec<String>,
    /// What the item comes with: group id → skus of that group's options that are on the line
    /// unless the caller removes them (`"no:<sku>"`). Only groups in `modifier_groups`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub includes: BTreeMap<String, Vec<String>>,
    /// False when the item is off for now (sold out); it stays on the menu so it can be
    /// recognised and explained.
    #[serde(default = "default_available")]
    pub available: bool,
}

fn default_available() -> bool {
    true
}

impl Item {
    /// The size with this name, ignoring case, because speech recognition and callers do not
    /// preserve it. Returns the menu's own [`Size`], whose `name` is the canonical spelling.
    #[must_use]
    pub fn size(&self, name: &str) -> Option<&Size> {
        self.sizes.iter().find(|size| same_name(&size.name, name))
    }

    /// Whether the item comes with this option of this group (its `includes` lists it).
    #[must_use]
    pub fn includes_option(&self, group_id: &str, sku: &str) -> bool {
        self.includes
            .get(group_id)
            .is_some_and(|skus| skus.iter().any(|included| included == sku))
    }
}

/// Compares two names the way callers' words are compared to menu names: ignoring case,
/// including non-ASCII case ("Piña" / "piña").
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// One size of a sized item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Size {
    /// Canonical name (`"large"`, `"12 piece"`).
    pub name: String,
    /// The name in other languages; see [`localized`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
    /// Price of the item in this size, before modifiers.
    pub price_cents: i64,
    /// Other ways callers say the size.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A choice offered on items, such as crust or toppings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModifierGroup {
    /// Id items use to refer to the group.
    pub id: String,
    /// What the system calls the group when it asks.
    pub name: String,
    /// The name in other languages; see [`localized`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
    /// Fewest options a caller must pick; at least 1 means the system must ask.
    pub min: u32,
    /// Most options a caller may pick from this group for one line.
    pub max: u32,
    /// The options, in the order they are read out.
    pub options: Vec<ModifierOption>,
}

impl ModifierGroup {
    /// The option with this sku in this group.
    #[must_use]
    pub fn option(&self, sku: &str) -> Option<&ModifierOption> {
        self.options.iter().find(|option| option.sku == sku)
    }
}

/// One option of a modifier group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModifierOption {
    /// Id used in order lines; unique within its group.
    pub sku: String,
    /// What the system says back.
    pub name: String,
    /// The name in other languages; see [`localized`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
    /// Added to the unit price when the option is added at regular portion (in a store that
    /// does not [use portions](Store::uses_portions), each time it is listed).
    pub price_cents: i64,
    /// Other ways callers say the option.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The portions other than regular and `no` that the option comes in, each with its price.
    #[serde(default, skip_serializing_if = "Portions::is_empty")]
    pub portions: Portions,
}

/// The `light`, `extra` and `side` portions an option comes in, each with the price in cents of
/// the option at that portion (replacing `price_cents`, not added to it). A portion left out is
/// not offered; regular and `no` always are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Portions {
    /// Price of a light portion (`"light:<sku>"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub light: Option<i64>,
    /// Price of an extra portion (`"extra:<sku>"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<i64>,
    /// Price of the option on the side (`"side:<sku>"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<i64>,
}

impl Portions {
    /// True when no portion is listed: the option comes only at regular portion (or `no`).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.light.is_none() && self.extra.is_none() && self.side.is_none()
    }

    /// The listed price of `portion`: `Some` only for `light`, `extra` or `side` when listed.
    /// Regular is priced by the option's `price_cents`, and `no` is always offered.
    #[must_use]
    pub fn price(&self, portion: Portion) -> Option<i64> {
        match portion {
            Portion::Light => self.light,
            Portion::Extra => self.extra,
            Portion::Side => self.side,
            Portion::Regular | Portion::No => None,
        }
    }
}

/// How much of an option goes on an order line, as POS systems' pre-modifiers say it.
///
/// On a line, a modifier entry is `"<sku>"` (regular) or `"<portion>:<sku>"`; see
/// [`Portion::parse_modifier`] and [`Portion::modifier`]. Serde and [`Display`](std::fmt::Display)
/// spell the portions `"regular"`, `"light"`, `"extra"`, `"side"` and `"no"`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Portion {
    /// The usual amount; written as the bare sku.
    #[default]
    Regular,
    /// Less than usual (`"light:sauce"`).
    Light,
    /// More than usual (`"extra:cheese"`).
    Extra,
    /// Served separately (`"side:ranch"`).
    Side,
    /// Left off (`"no:onions"`): removes an included option, or is a kitchen instruction.
    No,
}

impl Portion {
    /// Every portion, regular first.
    pub const ALL: [Portion; 5] = [
        Portion::Regular,
        Portion::Light,
        Portion::Extra,
        Portion::Side,
        Portion::No,
    ];

    /// Splits a line's modifier entry into its portion and option sku: `"extra:cheese"` is
    /// `(Extra, "cheese")`, `"cheese"` is `(Regular, "cheese")`.
    ///
    /// Only the prefixes `light`, `extra`, `side` and `no` are portions; any other entry
    /// (`"foo:bar"`, `"regular:cheese"`) is taken whole as a regular sku, which then matches no
    /// option, since skus cannot contain `:`.
    #[must_use]
    pub fn parse_modifier(modifier: &str) -> (Portion, &str) {
        if let Some((prefix, sku)) = modifier.split_once(':') {
            let portion = match prefix {
                "light" => Some(Portion::Light),
                "extra" => Some(Portion::Extra),
                "side" => Some(Portion::Side),
                "no" => Some(Portion::No),
                _ => None,
            };
            if let Some(portion) = portion {
                return (portion, sku);
            }
        }
        (Portion::Regular, modifier)
    }

    /// The entry's prefix without its `:`: `"light"`, `"extra"`, `"side"`, `"no"`, and `""` for
    /// regular, which has none.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Portion::Regular => "",
            Portion::Light => "light",
            Portion::Extra => "extra",
            Portion::Side => "side",
            Portion::No => "no",
        }
    }

    /// The line's modifier entry for `sku` at this portion: the inverse of
    /// [`Portion::parse_modifier`] (`Extra.modifier("cheese")` is `"extra:cheese"`).
    #[must_use]
    pub fn modifier(self, sku: &str) -> String {
        match self {
            Portion::Regular => sku.to_owned(),
            portion => format!("{}:{sku}", portion.as_str()),
        }
    }
}

impl std::fmt::Display for Portion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Portion::Regular => "regular",
            portion => portion.as_str(),
        })
    }
}

/// The label a kitchen ticket or POS shows for an option at a portion: `"Extra Cheese"`,
/// `"Light Sauce"`, `"Ranch on the Side"`, `"No Onions"`, and the option's name unchanged at
/// regular portion (what the merchant called it). Each word of the name is capitalised in the
/// labelled forms ("No Black Olives").
#[must_use]
pub fn kitchen_name(portion: Portion, option_name: &str) -> String {
    // A ticket's label capitalises each word: "No Black Olives".
    let name = option_name
        .split_whitespace()
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ");
    match portion {
        Portion::Regular => option_name.to_owned(),
        Portion::Light => format!("Light {name}"),
        Portion::Extra => format!("Extra {name}"),
        Portion::Side => format!("{name} on the Side"),
        Portion::No => format!("No {name}"),
    }
}

/// What to call something in `language`: its `names` entry for the exact tag (`"es-US"`), else
/// for the tag's first part (`"es"`), else its `name`, which serves every language.
#[must_use]
pub fn localized<'a>(
    name: &'a str,
    names: &'a BTreeMap<String, String>,
    language: &str,
) -> &'a str {
    let primary = language.split('-').next().unwrap_or(language);
    names
        .get(language)
        .or_else(|| names.get(primary))
        .map_or(name, String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn weekday_strings_match_serde() {
        for day in Weekday::ALL {
            assert_eq!(
                serde_json::to_value(day).ok(),
                Some(serde_json::Value::from(day.as_str()))
            );
            assert_eq!(day.to_string(), day.as_str());
        }
    }

    #[test]
    fn weekday_orders_monday_first() {
        let mut days = Weekday::ALL;
        days.reverse();
        days.sort();
        assert_eq!(days, Weekday::ALL);
    }

    #[test]
    fn pos_kind_matches_serde_tag() {
        let cases = [
            PosConfig::None,
            PosConfig::Webhook {
                url: "http://x".into(),
                secret: "s".into(),
            },
            PosConfig::Square {
                location_id: "L".into(),
                access_token: "vault:kv/square#token".into(),
                base_url: None,
            },
        ];
        for pos in cases {
            let json = serde_json::to_value(&pos).unwrap_or_default();
            assert_eq!(json["kind"], pos.kind(), "{pos:?}");
        }
    }

    #[test]
    fn defaults_fill_optional_fields() {
        let json = r#"{
          "id": "d", "merchant": "m", "name": "n", "phone": "+15550100009",
          "timezone": "UTC", "tax_rate_bps": 0, "fulfillment": {},
          "menu": {"items": [{"sku": "a", "name": "A", "price_cents": 1}]}
        }"#;
        let store = fixtures::store(json);
        assert_eq!(store.languages, ["en-US"]);
        assert_eq!(store.fulfillment, Fulfillment::default());
        assert!(store.fulfillment.pickup && !store.fulfillment.delivery);
        assert_eq!(
            (
                store.fulfillment.pickup_minutes,
                store.fulfillment.delivery_minutes
            ),
            (20, 45)
        );
        assert_eq!(store.pos, PosConfig::None);
        assert!(store.hours.is_empty());
        assert!(store.menu.modifier_groups.is_empty());
        let item = &store.menu.items[0];
        assert!(item.available);
        assert!(
            item.aliases.is_empty() && item.sizes.is_empty() && item.modifier_groups.is_empty()
        );
    }

    #[test]
    fn opening_hours_read_from_a_pair() {
        let store = fixtures::store(fixtures::TONYS);
        assert_eq!(
            store.hours.get(&Weekday::Mon),
            Some(&OpeningHours {
                open: "11:00".into(),
                close: "22:00".into()
            })
        );
        assert_eq!(store.hours.len(), 7);
    }

    #[test]
    fn menu_lookups() {
        let store = fixtures::store(fixtures::TONYS);
        let menu = &store.menu;
        assert_eq!(menu.item("coke-can").map(|i| i.name.as_str()), Some("Coke"));
        assert!(menu.item("pepsi").is_none());
        assert_eq!(menu.group("crust").map(|g| g.options.len()), Some(3));
        assert!(menu.group("nope").is_none());
        assert_eq!(
            menu.option("crust", "stuffed-crust").map(|o| o.price_cents),
            Some(250)
        );
        assert!(menu.option("toppings", "stuffed-crust").is_none());
        assert!(menu.option("nope", "stuffed-crust").is_none());
    }

    #[test]
    fn size_lookup_ignores_case_and_returns_canonical() {
        let store = fixtures::store(fixtures::TONYS);
        let knots = store.menu.item("garlic-knots");
        for said in ["6 piece", "6 PIECE", "6 Piece"] {
            assert_eq!(
                knots.and_then(|i| i.size(said)).map(|s| s.name.as_str()),
                Some("6 piece")
            );
        }
        assert!(knots.and_then(|i| i.size("24 piece")).is_none());
    }

    #[test]
    fn canonical_json_round_trips() {
        for (name, json) in fixtures::ALL {
            let store = fixtures::store(json);
            let canonical = store.to_json();
            let again = Store::parse(&canonical.to_string());
            assert_eq!(again.as_ref().ok(), Some(&store), "{name}: {again:?}");
            assert_eq!(again.map(|s| s.to_json()).ok(), Some(canonical), "{name}");
        }
    }

    #[test]
    fn modifier_entries_split_into_portion_and_sku() {
        let cases = [
            ("cheese", Portion::Regular, "cheese"),
            ("extra:cheese", Portion::Extra, "cheese"),
            ("light:sauce", Portion::Light, "sauce"),
            ("side:ranch", Portion::Side, "ranch"),
            ("no:onions", Portion::No, "onions"),
            ("foo:bar", Portion::Regular, "foo:bar"),
            ("regular:cheese", Portion::Regular, "regular:cheese"),
            ("Extra:cheese", Portion::Regular, "Extra:cheese"),
            ("no:", Portion::No, ""),
            ("", Portion::Regular, ""),
        ];
        for (entry, portion, sku) in cases {
            assert_eq!(Portion::parse_modifier(entry), (portion, sku), "{entry:?}");
        }
    }

    #[test]
    fn portion_strings_and_entries_round_trip() {
        let cases = [
            (Portion::Regular, "", "regular", "cheese"),
            (Portion::Light, "light", "light", "light:cheese"),
            (Portion::Extra, "extra", "extra", "extra:cheese"),
            (Portion::Side, "side", "side", "side:cheese"),
            (Portion::No, "no", "no", "no:cheese"),
        ];
        for (portion, prefix, display, entry) in cases {
            assert_eq!(portion.as_str(), prefix);
            assert_eq!(portion.to_string(), display);
            assert_eq!(
                serde_json::to_value(portion).ok(),
                Some(serde_json::Value::from(display))
            );
            assert_eq!(portion.modifier("cheese"), entry);
            assert_eq!(Portion::parse_modifier(entry), (portion, "cheese"));
        }
        assert_eq!(Portion::ALL.len(), 5);
    }

    #[test]
    fn kitchen_names() {
        let cases = [
            (Portion::Regular, "onions", "onions"),
            (Portion::Regular, "Extra Cheese", "Extra Cheese"),
            (Portion::Extra, "cheese", "Extra Cheese"),
            (Portion::Extra, "american cheese", "Extra American Cheese"),
            (Portion::No, "black  olives", "No Black Olives"),
            (Portion::Light, "sauce", "Light Sauce"),
            (Portion::Side, "ranch", "Ranch on the Side"),
            (Portion::No, "onions", "No Onions"),
            (Portion::No, "Onions", "No Onions"),
            (Portion::No, "ñame", "No Ñame"),
            (Portion::Extra, "", "Extra "),
        ];
        for (portion, name, label) in cases {
            assert_eq!(kitchen_name(portion, name), label, "{portion} {name}");
        }
    }

    #[test]
    fn localized_prefers_the_exact_tag_then_its_first_part() {
        let names: BTreeMap<String, String> = [
            ("es", "Tacos al pastor"),
            ("es-MX", "Tacos de trompo"),
            ("fr-CA", "Tacos (QC)"),
        ]
        .into_iter()
        .map(|(tag, name)| (tag.to_owned(), name.to_owned()))
        .collect();
        let cases = [
            ("es-MX", "Tacos de trompo"),
            ("es-US", "Tacos al pastor"),
            ("es", "Tacos al pastor"),
            ("en-US", "Pastor tacos"),
            ("fr", "Pastor tacos"),
            ("fr-CA", "Tacos (QC)"),
            ("", "Pastor tacos"),
        ];
        for (language, expected) in cases {
            assert_eq!(
                localized("Pastor tacos", &names, language),
                expected,
                "{language}"
            );
        }
        assert_eq!(localized("Burger", &BTreeMap::new(), "es-US"), "Burger");
    }

    #[test]
    fn names_read_on_every_level() {
        let store = fixtures::store(fixtures::DINER);
        let burger = store.menu.item("burger");
        assert_eq!(
            burger.map(|i| localized(&i.name, &i.names, "es-US")),
            Some("Hamburguesa")
        );
        let large = store.menu.item("pizza").and_then(|i| i.size("large"));
        assert_eq!(
            large.map(|s| (
                localized(&s.name, &s.names, "es-US"),
                localized(&s.name, &s.names, "es")
            )),
            Some(("grande", "large"))
        );
        let toppings = store.menu.group("toppings");
        assert_eq!(
            toppings.map(|g| localized(&g.name, &g.names, "es-US")),
            Some("Ingredientes")
        );
        let onion = store.menu.option("toppings", "onion");
        assert_eq!(
            onion.map(|o| localized(&o.name, &o.names, "es-US")),
            Some("cebolla")
        );
    }

    #[test]
    fn portions_are_priced_only_when_listed() {
        let store = fixtures::store(fixtures::DINER);
        let tomato = store
            .menu
            .option("toppings", "tomato")
            .map(|o| o.portions)
            .unwrap_or_default();
        assert_eq!(
            Portion::ALL.map(|p| tomato.price(p)),
            [None, None, Some(100), Some(50), None]
        );
        assert!(!tomato.is_empty());
        assert!(Portions::default().is_empty());
    }

    #[test]
    fn option_of_item_looks_in_the_items_groups_first_group_first() {
        let store = fixtures::store(fixtures::DINER);
        let menu = &store.menu;
        let (Some(burger), Some(melt), Some(pizza)) = (
            menu.item("burger"),
            menu.item("cheddar-melt"),
            menu.item("pizza"),
        ) else {
            panic!("the diner has a burger, a cheddar melt and a pizza");
        };
        let found = |item, sku| {
            menu.option_of_item(item, sku)
                .map(|(group, option)| (group.id.as_str(), option.name.as_str()))
        };
        // `toppings` is listed before `extras`, which also has a `bacon`.
        assert_eq!(found(burger, "bacon"), Some(("toppings", "bacon")));
        assert_eq!(found(burger, "fries"), Some(("extras", "fries")));
        assert_eq!(found(melt, "bacon"), Some(("toppings", "bacon")));
        assert_eq!(found(melt, "fries"), None);
        assert_eq!(found(pizza, "bacon"), None);
        assert_eq!(found(burger, "extra:bacon"), None);
    }

    #[test]
    fn includes_option_needs_the_group_and_the_sku() {
        let store = fixtures::store(fixtures::DINER);
        let burger = store.menu.item("burger");
        let includes = |group, sku| burger.is_some_and(|i| i.includes_option(group, sku));
        assert!(includes("toppings", "onion"));
        assert!(includes("cheese", "american"));
        assert!(!includes("toppings", "pickles"));
        assert!(!includes("cheese", "onion"));
        assert!(!includes("sauce", "ranch"));
    }

    #[test]
    fn uses_portions_when_any_option_has_portions_or_any_item_includes() {
        for (name, json) in fixtures::ALL {
            assert!(!fixtures::store(json).uses_portions(), "{name}");
        }
        let diner = fixtures::store(fixtures::DINER);
        assert!(diner.uses_portions());

        let mut only_includes = fixtures::store(fixtures::TONYS);
        only_includes.menu.items[0]
            .includes
            .insert("toppings".into(), vec!["mushrooms".into()]);
        assert_eq!(only_includes.validate(), Ok(()));
        assert!(only_includes.uses_portions());

        let mut only_portions = fixtures::store(fixtures::TONYS);
        only_portions.menu.modifier_groups[1].options[0]
            .portions
            .extra = Some(500);
        assert!(only_portions.uses_portions());

        let mut empty_includes = fixtures::store(fixtures::TONYS);
        empty_includes.menu.items[0]
            .includes
            .insert("toppings".into(), vec![]);
        assert!(!empty_includes.uses_portions());
    }

    #[test]
    fn names_portions_and_includes_round_trip() {
        let store = fixtures::store(fixtures::DINER);
        let canonical = store.to_json();
        assert_eq!(canonical["menu"]["items"][0]["names"]["es"], "Hamburguesa");
        assert_eq!(
            canonical["menu"]["items"][0]["includes"]["toppings"],
            serde_json::json!(["lettuce", "tomato", "onion"])
        );
        assert_eq!(
            canonical["menu"]["modifier_groups"][0]["options"][1]["portions"],
            serde_json::json!({"extra": 100, "side": 50})
        );
        let again = Store::from_json(&canonical);
        assert_eq!(again.as_ref().ok(), Some(&store), "{again:?}");
        assert_eq!(again.map(|s| s.to_json()).ok(), Some(canonical));
    }

    #[test]
    fn canonical_json_omits_empty_names_portions_and_includes() {
        let store = fixtures::store(fixtures::TONYS);
        let json = store.to_json();
        for item in json["menu"]["items"].as_array().into_iter().flatten() {
            assert!(item.get("names").is_none() && item.get("includes").is_none());
            for size in item["sizes"].as_array().into_iter().flatten() {
                assert!(size.get("names").is_none());
            }
        }
        for group in json["menu"]["modifier_groups"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert!(group.get("names").is_none());
            for option in group["options"].as_array().into_iter().flatten() {
                assert!(option.get("names").is_none() && option.get("portions").is_none());
            }
        }
        let diner = fixtures::store(fixtures::DINER).to_json();
        assert!(diner["menu"]["items"][2].get("includes").is_none());
        assert!(
            diner["menu"]["modifier_groups"][0]["options"][2]
                .get("portions")
                .is_none()
        );
    }

    #[test]
    fn canonical_json_writes_defaults_and_omits_absent_optionals() {
        let store = fixtures::store(fixtures::CASITA);
        let json = store.to_json();
        assert_eq!(json["fulfillment"]["delivery_fee_cents"], 0);
        assert_eq!(json["fulfillment"]["delivery_minutes"], 45);
        assert_eq!(json["menu"]["items"][0]["available"], true);
        assert!(json["menu"]["items"][0].get("sizes").is_none());
        assert!(json["menu"]["items"][0].get("description").is_none());
        assert_eq!(json["hours"]["mon"], serde_json::json!(["11:00", "22:00"]));
    }
}

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
    /// Added to the unit price each time the option is chosen.
    pub price_cents: i64,
    /// Other ways callers say the option.
    #[serde(default)]
    pub aliases: Vec<String>,
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

#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod error;
mod http;
#[cfg(any(test, feature = "mock"))]
pub mod mock;
mod signature;
pub mod square;
pub mod webhook;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kea_menu::{FulfillmentKind, PosConfig};
use kea_secrets::{Secret, Secrets, SecretsError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use error::{PosError, status_is_transient};
pub use signature::{
    DEFAULT_TOLERANCE_SECS, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify,
};
pub use square::SquarePos;
pub use webhook::WebhookPos;

/// The order as the POS receives it: everything a push needs, loaded fresh by the job.
///
/// Amounts are integer cents as priced by `kea_menu::price_order`, so
/// `total = subtotal + tax + delivery fee` and each line's total is `unit price × quantity`;
/// adapters check this before sending (see [`PosOrder::check_totals`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosOrder {
    /// kea's order id: the idempotency key at the POS, the same on every retry.
    pub id: Uuid,
    /// The store's id in kea.
    pub store_id: String,
    /// The Twilio CallSid of the call that placed the order, if it came from a call.
    pub call_sid: Option<String>,
    /// The name the caller gave.
    pub customer_name: String,
    /// The caller's phone number, E.164.
    pub customer_phone: String,
    /// Pickup or delivery.
    pub fulfillment: FulfillmentKind,
    /// The address for a delivery, as one line.
    pub delivery_address: Option<String>,
    /// When the order will be ready (pickup) or leave the store (delivery).
    pub ready_at: DateTime<Utc>,
    /// Sum of the line totals.
    pub subtotal_cents: i64,
    /// Sales tax on the subtotal, rounded half up.
    pub tax_cents: i64,
    /// The delivery fee (0 for pickup), not taxed.
    pub delivery_fee_cents: i64,
    /// What the caller pays.
    pub total_cents: i64,
    /// The store's preparation time in minutes (Square's `prep_time_duration`).
    pub prep_minutes: u32,
    /// The lines, in the order the caller gave them.
    pub items: Vec<PosItem>,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosItem {
    /// The menu item's sku.
    pub sku: String,
    /// The item's name as the menu spells it.
    pub name: String,
    /// The size's name, for items with sizes.
    pub size: Option<String>,
    /// How many, at least 1.
    pub quantity: u32,
    /// Chosen options; one listed twice was chosen (and charged) twice.
    pub modifiers: Vec<PosModifier>,
    /// Price of one unit: the size (or item) price plus every modifier's price.
    pub unit_price_cents: i64,
    /// `unit_price_cents × quantity`.
    pub line_total_cents: i64,
    /// Free-text instructions for this line ("well done").
    pub notes: Option<String>,
}

/// One chosen option of a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosModifier {
    /// The option's sku (without its portion).
    pub sku: String,
    /// The option as a kitchen ticket prints it: "Extra Cheese", "No Onions", "Mushrooms".
    pub name: String,
    /// `regular`, `light`, `extra`, `side` or `no` (store.md, "Portions").
    #[serde(default = "regular")]
    pub portion: String,
    /// What the option adds to one unit of the line.
    pub price_cents: i64,
}

fn regular() -> String {
    "regular".to_owned()
}

impl PosItem {
    /// The unit price without the modifiers: what Square calls the line's `base_price_money`.
    #[must_use]
    pub fn base_price_cents(&self) -> Option<i64> {
        self.modifiers
            .iter()
            .try_fold(self.unit_price_cents, |acc, m| {
                acc.checked_sub(m.price_cents)
            })
    }
}

impl PosOrder {
    /// Checks that the amounts add up, so the POS computes the total the caller was told:
    /// every line is `unit × quantity` with a unit price no smaller than its modifiers, the
    /// lines sum to the subtotal, and `subtotal + tax + delivery fee = total`. An order that
    /// fails is a [`PosError::Permanent`]: pushing it would put a wrong total on the POS.
    pub fn check_totals(&self) -> Result<(), PosError> {
        let fail = |what: String| PosError::Permanent {
            status: None,
            message: format!("order {} does not add up: {what}", self.id),
        };
        let mut subtotal: i64 = 0;
        for (n, item) in self.items.iter().enumerate() {
            if item.quantity == 0 {
                return Err(fail(format!("line {n} (`{}`) has quantity 0", item.sku)));
            }
            if item.unit_price_cents.checked_mul(i64::from(item.quantity))
                != Some(item.line_total_cents)
            {
                return Err(fail(format!(
                    "line {n} (`{}`): {} × {} ≠ {}",
                    item.sku, item.unit_price_cents, item.quantity, item.line_total_cents
                )));
            }
            if item.base_price_cents().is_none_or(|base| base < 0) {
                return Err(fail(format!(
                    "line {n} (`{}`): its modifiers cost more than its unit price {}",
                    item.sku, item.unit_price_cents
                )));
            }
            subtotal = subtotal
                .checked_add(item.line_total_cents)
                .ok_or_else(|| fail("the lines overflow".to_owned()))?;
        }
        if subtotal != self.subtotal_cents {
            return Err(fail(format!(
                "lines sum to {subtotal}, subtotal is {}",
                self.subtotal_cents
            )));
        }
        if self.tax_cents < 0 || self.delivery_fee_cents < 0 {
            return Err(fail("negative tax or delivery fee".to_owned()));
        }
        let total = self
            .subtotal_cents
            .checked_add(self.tax_cents)
            .and_then(|t| t.checked_add(self.delivery_fee_cents));
        if total != Some(self.total_cents) {
            return Err(fail(format!(
                "{} + {} + {} ≠ total {}",
                self.subtotal_cents, self.tax_cents, self.delivery_fee_cents, self.total_cents
            )));
        }
        Ok(())
    }
}

/// The POS took the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The POS's own id for the order, when it returns one (Square's order id); store it on the
    /// order so support can find it at the POS.
    pub pos_ref: Option<String>,
    /// The HTTP status the POS answered (2xx).
    pub status: u16,
}

/// A point-of-sale system kea sends confirmed orders to.
///
/// One [`push`](PosAdapter::push) is one attempt. Retrying is the job's business: it calls `push`
/// again with the same order, and every adapter sends the same idempotency key (the order id) so
/// the POS records the order once however many attempts reach it.
#[async_trait::async_trait]
pub trait PosAdapter: Send + Sync {
    /// Sends the order once.
    async fn push(&self, order: &PosOrder) -> Result<Accepted, PosError>;

    /// The store-file `kind` this adapter serves (`"webhook"`, `"square"`), for logs and metrics.
    fn kind(&self) -> &'static str;
}

/// Builds the adapter for a store's `pos` configuration, resolving its secret (`vault:` references
/// included) through `secrets`.
///
/// The `push_to_pos` job calls this on every attempt with the store it just loaded, so a rotated
/// secret or a changed URL takes effect at the next push ("resolved at push time"); `http` is
/// the worker's shared client. Errors:
/// - [`PosConfig::None`] is a [`PosError::Config`]: such a store keeps its orders in kea, and the
///   job should not enqueue a push for it at all;
/// - a URL that does not parse, a missing or empty secret, a bad or unknown `vault:` reference:
///   [`PosError::Config`];
/// - Vault unreachable or failing: [`PosError::Transient`], to retry.
pub async fn adapter_for(
    store_pos: &PosConfig,
    secrets: &dyn Secrets,
    http: reqwest::Client,
) -> Result<Arc<dyn PosAdapter>, PosError> {
    match store_pos {
        PosConfig::None => Err(PosError::config(
            "the store has no POS (`pos.kind` is `none`): its orders stay in kea",
        )),
        PosConfig::Webhook { url, secret } => {
            let secret = resolve(secrets, secret, "pos.secret").await?;
            Ok(Arc::new(WebhookPos::new(url, secret, http)?))
        }
        PosConfig::Square {
            location_id,
            access_token,
            base_url,
        } => {
            let token = resolve(secrets, access_token, "pos.access_token").await?;
            let mut pos = SquarePos::new(location_id, token, http)?;
            if let Some(base) = base_url {
                pos = pos.with_base_url(base)?;
            }
            Ok(Arc::new(pos))
        }
    }
}

async fn resolve(secrets: &dyn Secrets, value: &str, field: &str) -> Result<Secret, PosError> {
    match secrets.resolve(value).await {
        Ok(secret) if secret.expose().is_empty() => {
            Err(PosError::config(format!("`{field}` is empty")))
        }
        Ok(secret) => Ok(secret),
        // Vault itself failing (unreachable, sealed, 5xx) may pass; everything else needs a fix.
        Err(err @ SecretsError::Vault { .. }) => Err(PosError::Transient {
            status: None,
            message: format!("resolving `{field}`: {err}"),
        }),
        Err(err) => Err(PosError::config(format!("resolving `{field}`: {err}"))),
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Orders shared by the unit tests.

    use super::*;
    use chrono::TimeZone as _;

    /// A pickup order: a large pepperoni with extra cheese (2 ×) and two Diet Cokes, at 8.75 %.
    pub(crate) fn pickup() -> PosOrder {
        PosOrder {
            id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001),
            store_id: "tonys-pizza".to_owned(),
            call_sid: Some("CA0123456789abcdef0123456789abcdef".to_owned()),
            customer_name: "Maria Lopez".to_owned(),
            customer_phone: "+15551234567".to_owned(),
            fulfillment: FulfillmentKind::Pickup,
            delivery_address: None,
            ready_at: Utc
                .with_ymd_and_hms(2026, 11, 26, 18, 40, 0)
                .single()
                .unwrap_or_default(),
            subtotal_cents: 2297,
            tax_cents: 201,
            delivery_fee_cents: 0,
            total_cents: 2498,
            prep_minutes: 20,
            items: vec![
                PosItem {
                    sku: "pep".to_owned(),
                    name: "Pepperoni Pizza".to_owned(),
                    size: Some("large".to_owned()),
                    quantity: 1,
                    modifiers: vec![PosModifier {
                        sku: "xcheese".to_owned(),
                        name: "Extra cheese".to_owned(),
                        portion: "regular".to_owned(),
                        price_cents: 200,
                    }],
                    unit_price_cents: 1899,
                    line_total_cents: 1899,
                    notes: Some("well done".to_owned()),
                },
                PosItem {
                    sku: "dcoke".to_owned(),
                    name: "Diet Coke".to_owned(),
                    size: None,
                    quantity: 2,
                    modifiers: vec![],
                    unit_price_cents: 199,
                    line_total_cents: 398,
                    notes: None,
                },
            ],
        }
    }

    /// The same order delivered, with a $3.50 fee.
    pub(crate) fn delivery() -> PosOrder {
        PosOrder {
            id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0002),
            call_sid: None,
            fulfillment: FulfillmentKind::Delivery,
            delivery_address: Some("12 Elm St, Springfield".to_owned()),
            delivery_fee_cents: 350,
            total_cents: 2848,
            ..pickup()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kea_secrets::EnvSecrets;

    #[test]
    fn fixtures_add_up() {
        fixtures::pickup()
            .check_totals()
            .unwrap_or_else(|e| panic!("{e}"));
        fixtures::delivery()
            .check_totals()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fixtures::pickup().items[0].base_price_cents(), Some(1699));
    }

    #[test]
    fn totals_that_do_not_add_up_are_permanent() {
        let mut cases: Vec<(PosOrder, &str)> = Vec::new();
        let mut o = fixtures::pickup();
        o.total_cents += 1;
        cases.push((o, "≠ total 2499"));
        let mut o = fixtures::pickup();
        o.items[1].line_total_cents = 399;
        cases.push((o, "199 × 2 ≠ 399"));
        let mut o = fixtures::pickup();
        o.subtotal_cents = 2000;
        cases.push((o, "lines sum to 2297, subtotal is 2000"));
        let mut o = fixtures::pickup();
        o.items[0].modifiers[0].price_cents = 5000;
        cases.push((o, "modifiers cost more"));
        let mut o = fixtures::pickup();
        o.items[1].quantity = 0;
        o.items[1].line_total_cents = 0;
        cases.push((o, "quantity 0"));
        for (order, want) in cases {
            let err = order
                .check_totals()
                .err()
                .unwrap_or_else(|| panic!("{want}: accepted"));
            assert!(!err.is_transient());
            assert!(err.to_string().contains(want), "{err} lacks {want}");
            assert!(!err.to_string().contains("Maria"), "{err}");
        }
    }

    #[tokio::test]
    async fn adapter_for_each_kind() {
        let secrets = EnvSecrets::new([("X".to_owned(), "y".to_owned())]);
        let http = reqwest::Client::new();

        let err = adapter_for(&PosConfig::None, &secrets, http.clone())
            .await
            .err()
            .unwrap_or_else(|| panic!("none must be refused"));
        assert!(matches!(err, PosError::Config { .. }), "{err:?}");

        let webhook = PosConfig::Webhook {
            url: "https://pos.example.com/kea".to_owned(),
            secret: "whsec_plain".to_owned(),
        };
        let pos = adapter_for(&webhook, &secrets, http.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pos.kind(), "webhook");

        let square = PosConfig::Square {
            location_id: "L1".to_owned(),
            access_token: "EAAA-token".to_owned(),
            base_url: Some("http://127.0.0.1:9".to_owned()),
        };
        let pos = adapter_for(&square, &secrets, http.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pos.kind(), "square");

        // A vault reference without Vault, a bad URL, an empty secret: configuration errors that
        // never show the secret.
        let cases = [
            PosConfig::Webhook {
                url: "https://pos.example.com/kea".to_owned(),
                secret: "vault:secret/stores/tonys#pos_secret".to_owned(),
            },
            PosConfig::Webhook {
                url: "not a url".to_owned(),
                secret: "whsec_plain".to_owned(),
            },
            PosConfig::Webhook {
                url: "ftp://pos.example.com/kea".to_owned(),
                secret: "whsec_plain".to_owned(),
            },
            PosConfig::Webhook {
                url: "https://pos.example.com/kea".to_owned(),
                secret: String::new(),
            },
            PosConfig::Square {
                location_id: String::new(),
                access_token: "EAAA-token".to_owned(),
                base_url: None,
            },
        ];
        for config in cases {
            let err = adapter_for(&config, &secrets, http.clone())
                .await
                .err()
                .unwrap_or_else(|| panic!("{config:?} accepted"));
            assert!(matches!(err, PosError::Config { .. }), "{err:?}");
            assert!(!err.to_string().contains("whsec_plain"), "{err}");
            assert!(!err.to_string().contains("EAAA-token"), "{err}");
        }
    }
}

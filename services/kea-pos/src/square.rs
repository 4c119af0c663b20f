//! `"kind": "square"`: the order created through Square's Orders API (`POST /v2/orders`).
//!
//! The body follows `contracts/pos.md` and validates against Square's published OpenAPI
//! description (`specs/square_api.json`; `tests/square_prism.rs` checks it against a mock
//! generated from that file).
//!
//! # Money: Square's total is kea's total, to the cent
//!
//! Each line's `base_price_money` is the unit price without modifiers and each modifier carries
//! its own price, so Square's line total is `(base + modifiers) × quantity` = kea's
//! `line_total_cents`. kea's tax (one half-up rounding on the whole subtotal) and the delivery fee
//! are sent as fixed-amount, non-taxable order-level **service charges** ("Sales tax",
//! "Delivery fee"), and `pricing_options` turns off Square's automatic taxes and discounts, so
//! Square adds nothing of its own: its `total_money` equals kea's `total_cents` whatever the
//! rate. The alternative, an `ADDITIVE` order-level tax with the store's percentage, would let
//! Square compute the tax itself, per line item, each rounded separately: with several lines the
//! sum can differ from kea's by a cent or more, and the caller has already been told kea's total.
//! The cost of the choice: Square's reports show the tax as a service charge named "Sales tax",
//! not as a tax; the receipt and the amount to collect are right.

use std::time::Duration;

use kea_menu::FulfillmentKind;
use kea_secrets::Secret;
use serde_json::{Map, Value, json};

use crate::http::send;
use crate::webhook::parse_http_url;
use crate::{Accepted, PosAdapter, PosError, PosItem, PosOrder};

/// Square's production API.
pub const DEFAULT_BASE_URL: &str = "https://connect.squareup.com";
/// The `Square-Version` kea is written against: the default that `specs/square_api.json`
/// declares for the header (its `info.version`, `2.0`, is the spec's own version, not an API
/// version Square accepts).
pub const SQUARE_VERSION: &str = "2025-08-20";
/// How long a push waits for Square unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The currency of every amount kea sends (kea prices in US cents).
pub const CURRENCY: &str = "USD";
/// `order.source.name`: how the order shows up in the Square dashboard.
pub const SOURCE_NAME: &str = "kea";
/// The service charge that carries kea's sales tax.
pub const TAX_CHARGE_NAME: &str = "Sales tax";
/// The service charge that carries the delivery fee.
pub const DELIVERY_FEE_CHARGE_NAME: &str = "Delivery fee";

/// Creates orders in one Square location.
#[derive(Debug, Clone)]
pub struct SquarePos {
    base_url: reqwest::Url,
    access_token: Secret,
    location_id: String,
    square_version: &'static str,
    http: reqwest::Client,
    timeout: Duration,
}

impl SquarePos {
    /// An adapter for `location_id`, authenticating with `access_token`, against
    /// [`DEFAULT_BASE_URL`] with [`SQUARE_VERSION`] and a [`DEFAULT_TIMEOUT`].
    pub fn new(
        location_id: &str,
        access_token: Secret,
        http: reqwest::Client,
    ) -> Result<Self, PosError> {
        if location_id.trim().is_empty() {
            return Err(PosError::config("`pos.location_id` is empty"));
        }
        if access_token.expose().is_empty() {
            return Err(PosError::config("`pos.access_token` is empty"));
        }
        Ok(Self {
            base_url: parse_http_url(DEFAULT_BASE_URL, "base_url")?,
            access_token,
            location_id: location_id.to_owned(),
            square_version: SQUARE_VERSION,
            http,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Another API base (the sandbox, or a local mock in tests); a trailing `/` is fine.
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, PosError> {
        let mut url = parse_http_url(base_url, "pos.base_url")?;
        // `join` replaces the last path segment unless the base ends with `/`.
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        self.base_url = url;
        Ok(self)
    }

    /// Another `Square-Version` header value.
    #[must_use]
    pub fn with_square_version(mut self, version: &'static str) -> Self {
        self.square_version = version;
        self
    }

    /// How long one push waits for Square; past it, the push is a [`PosError::Transient`].
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The Square location orders are created in.
    #[must_use]
    pub fn location_id(&self) -> &str {
        &self.location_id
    }

    /// `POST`s an already built CreateOrder body: [`push`](PosAdapter::push) without the
    /// checks, for tests that send a deliberately broken body.
    #[doc(hidden)]
    pub async fn post_body(
        &self,
        order_id: uuid::Uuid,
        body: &Value,
    ) -> Result<Accepted, PosError> {
        let context = format!("square: order {order_id}");
        let url = self
            .base_url
            .join("v2/orders")
            .map_err(|e| PosError::config(format!("`pos.base_url`: {e}")))?;
        let body = serde_json::to_vec(body).map_err(|e| PosError::Permanent {
            status: None,
            message: format!("{context} cannot be serialised: {e}"),
        })?;
        let request = self
            .http
            .post(url.clone())
            .bearer_auth(self.access_token.expose())
            .header("Square-Version", self.square_version)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        let answer = send(request, &url, self.timeout, &context).await?;
        let pos_ref = serde_json::from_slice::<Value>(&answer.body)
            .ok()
            .and_then(|v| v.pointer("/order/id")?.as_str().map(str::to_owned));
        Ok(Accepted {
            pos_ref,
            status: answer.status,
        })
    }
}

#[async_trait::async_trait]
impl PosAdapter for SquarePos {
    async fn push(&self, order: &PosOrder) -> Result<Accepted, PosError> {
        let body = body(order, &self.location_id)?;
        self.post_body(order.id, &body).await
    }

    fn kind(&self) -> &'static str {
        "square"
    }
}

fn money(amount: i64) -> Value {
    json!({"amount": amount, "currency": CURRENCY})
}

/// At most `max` characters of `s` (Square's `maxLength`s count characters).
fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn line_item(item: &PosItem, order: &PosOrder) -> Result<Value, PosError> {
    let base = item
        .base_price_cents()
        .filter(|b| *b >= 0)
        .ok_or_else(|| PosError::Permanent {
            status: None,
            message: format!(
                "square: order {}: line `{}` has modifiers costing more than its unit price",
                order.id, item.sku
            ),
        })?;
    let mut line = Map::new();
    line.insert("name".into(), json!(clip(&item.name, 512)));
    line.insert("quantity".into(), json!(item.quantity.to_string()));
    if let Some(size) = item.size.as_deref().filter(|s| !s.is_empty()) {
        line.insert("variation_name".into(), json!(clip(size, 400)));
    }
    line.insert("base_price_money".into(), money(base));
    if !item.modifiers.is_empty() {
        let modifiers: Vec<Value> = item
            .modifiers
            .iter()
            .map(|m| json!({"name": clip(&m.name, 255), "base_price_money": money(m.price_cents)}))
            .collect();
        line.insert("modifiers".into(), Value::Array(modifiers));
    }
    if let Some(note) = item.notes.as_deref().filter(|n| !n.is_empty()) {
        line.insert("note".into(), json!(clip(note, 2000)));
    }
    Ok(Value::Object(line))
}

fn service_charge(name: &str, amount: i64) -> Value {
    json!({
        "name": name,
        "amount_money": money(amount),
        "calculation_phase": "TOTAL_PHASE",
        "taxable": false,
    })
}

/// The CreateOrder request body for `order` in `location_id`. Fails (permanently) for an order
/// whose amounts do not add up or a delivery without an address.
pub fn body(order: &PosOrder, location_id: &str) -> Result<Value, PosError> {
    order.check_totals()?;
    let line_items = order
        .items
        .iter()
        .map(|item| line_item(item, order))
        .collect::<Result<Vec<_>, _>>()?;

    let mut service_charges = Vec::new();
    if order.tax_cents > 0 {
        service_charges.push(service_charge(TAX_CHARGE_NAME, order.tax_cents));
    }
    if order.delivery_fee_cents > 0 {
        service_charges.push(service_charge(
            DELIVERY_FEE_CHARGE_NAME,
            order.delivery_fee_cents,
        ));
    }

    let display_name = if order.customer_name.trim().is_empty() {
        clip(&order.customer_phone, 255)
    } else {
        clip(&order.customer_name, 255)
    };
    let mut recipient = json!({
        "display_name": display_name,
        "phone_number": order.customer_phone,
    });
    let prep_time = format!("PT{}M", order.prep_minutes);
    let fulfillment = match order.fulfillment {
        FulfillmentKind::Pickup => json!({
            "type": "PICKUP",
            "state": "PROPOSED",
            "pickup_details": {
                "recipient": recipient,
                "schedule_type": "ASAP",
                "prep_time_duration": prep_time,
            },
        }),
        FulfillmentKind::Delivery => {
            let address = order
                .delivery_address
                .as_deref()
                .filter(|a| !a.trim().is_empty())
                .ok_or_else(|| PosError::Permanent {
                    status: None,
                    message: format!("square: order {}: a delivery without an address", order.id),
                })?;
            recipient["address"] = json!({"address_line_1": address});
            json!({
                "type": "DELIVERY",
                "state": "PROPOSED",
                "delivery_details": {
                    "recipient": recipient,
                    "schedule_type": "ASAP",
                    "prep_time_duration": prep_time,
                },
            })
        }
    };

    let mut square_order = Map::new();
    square_order.insert("location_id".into(), json!(location_id));
    square_order.insert("reference_id".into(), json!(order.id.to_string()));
    square_order.insert("source".into(), json!({"name": SOURCE_NAME}));
    square_order.insert("line_items".into(), Value::Array(line_items));
    if !service_charges.is_empty() {
        square_order.insert("service_charges".into(), Value::Array(service_charges));
    }
    square_order.insert("fulfillments".into(), json!([fulfillment]));
    square_order.insert(
        "pricing_options".into(),
        json!({"auto_apply_taxes": false, "auto_apply_discounts": false}),
    );
    Ok(json!({
        "idempotency_key": order.id.to_string(),
        "order": square_order,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn pickup_body_is_exactly_the_contract() {
        let got = body(&fixtures::pickup(), "L8CR9N4FT3T7V").unwrap_or_else(|e| panic!("{e}"));
        let want = json!({
            "idempotency_key": "01920000-0000-7000-8000-000000000001",
            "order": {
                "location_id": "L8CR9N4FT3T7V",
                "reference_id": "01920000-0000-7000-8000-000000000001",
                "source": {"name": "kea"},
                "line_items": [
                    {
                        "name": "Pepperoni Pizza",
                        "quantity": "1",
                        "variation_name": "large",
                        "base_price_money": {"amount": 1699, "currency": "USD"},
                        "modifiers": [
                            {"name": "Extra cheese", "base_price_money": {"amount": 200, "currency": "USD"}}
                        ],
                        "note": "well done"
                    },
                    {
                        "name": "Diet Coke",
                        "quantity": "2",
                        "base_price_money": {"amount": 199, "currency": "USD"}
                    }
                ],
                "service_charges": [
                    {
                        "name": "Sales tax",
                        "amount_money": {"amount": 201, "currency": "USD"},
                        "calculation_phase": "TOTAL_PHASE",
                        "taxable": false
                    }
                ],
                "fulfillments": [{
                    "type": "PICKUP",
                    "state": "PROPOSED",
                    "pickup_details": {
                        "recipient": {"display_name": "Maria Lopez", "phone_number": "+15551234567"},
                        "schedule_type": "ASAP",
                        "prep_time_duration": "PT20M"
                    }
                }],
                "pricing_options": {"auto_apply_taxes": false, "auto_apply_discounts": false}
            }
        });
        assert_eq!(got, want);
    }

    #[test]
    fn delivery_body() {
        let got = body(&fixtures::delivery(), "L1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got["order"]["fulfillments"],
            json!([{
                "type": "DELIVERY",
                "state": "PROPOSED",
                "delivery_details": {
                    "recipient": {
                        "display_name": "Maria Lopez",
                        "phone_number": "+15551234567",
                        "address": {"address_line_1": "12 Elm St, Springfield"}
                    },
                    "schedule_type": "ASAP",
                    "prep_time_duration": "PT20M"
                }
            }])
        );
        assert_eq!(
            got["order"]["service_charges"],
            json!([
                {"name": "Sales tax", "amount_money": {"amount": 201, "currency": "USD"},
                 "calculation_phase": "TOTAL_PHASE", "taxable": false},
                {"name": "Delivery fee", "amount_money": {"amount": 350, "currency": "USD"},
                 "calculation_phase": "TOTAL_PHASE", "taxable": false}
            ])
        );
    }

    /// What Square would compute from the body: lines (base + modifiers) × quantity, plus the
    /// service charges, with no taxes or discounts of its own.
    fn square_total(body: &Value) -> i64 {
        let amount = |v: &Value| v["amount"].as_i64().unwrap_or(i64::MIN);
        let mut total = 0;
        for line in body["order"]["line_items"].as_array().into_iter().flatten() {
            let quantity: i64 = line["quantity"]
                .as_str()
                .and_then(|q| q.parse().ok())
                .unwrap_or(0);
            let mut unit = amount(&line["base_price_money"]);
            for m in line["modifiers"].as_array().into_iter().flatten() {
                unit += amount(&m["base_price_money"]);
            }
            total += unit * quantity;
        }
        for charge in body["order"]["service_charges"]
            .as_array()
            .into_iter()
            .flatten()
        {
            total += amount(&charge["amount_money"]);
        }
        assert!(body["order"].get("taxes").is_none());
        assert!(body["order"].get("discounts").is_none());
        total
    }

    #[test]
    fn square_total_equals_kea_total() {
        for order in [fixtures::pickup(), fixtures::delivery()] {
            let b = body(&order, "L1").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(square_total(&b), order.total_cents);
        }
        // A tax-free pickup order sends no service charge at all.
        let mut free = fixtures::pickup();
        free.total_cents -= free.tax_cents;
        free.tax_cents = 0;
        let b = body(&free, "L1").unwrap_or_else(|e| panic!("{e}"));
        assert!(b["order"].get("service_charges").is_none(), "{b}");
        assert_eq!(square_total(&b), free.total_cents);
    }

    #[test]
    fn refuses_what_square_would_get_wrong() {
        let mut no_address = fixtures::delivery();
        no_address.delivery_address = None;
        let mut wrong_total = fixtures::pickup();
        wrong_total.total_cents = 1;
        for order in [no_address, wrong_total] {
            let err = body(&order, "L1")
                .err()
                .unwrap_or_else(|| panic!("accepted"));
            assert!(
                matches!(err, PosError::Permanent { status: None, .. }),
                "{err:?}"
            );
        }
    }

    #[test]
    fn long_text_is_clipped_and_blank_names_fall_back() {
        let mut order = fixtures::pickup();
        order.items[0].name = "x".repeat(600);
        order.items[0].notes = Some("é".repeat(2100));
        order.customer_name = " ".to_owned();
        let b = body(&order, "L1").unwrap_or_else(|e| panic!("{e}"));
        let line = &b["order"]["line_items"][0];
        assert_eq!(line["name"].as_str().map(|s| s.chars().count()), Some(512));
        assert_eq!(line["note"].as_str().map(|s| s.chars().count()), Some(2000));
        assert_eq!(
            b["order"]["fulfillments"][0]["pickup_details"]["recipient"]["display_name"],
            "+15551234567"
        );
    }

    #[test]
    fn config_is_checked_and_debug_hides_the_token() {
        let http = reqwest::Client::new();
        let token = || Secret::new("EAAAtoken".to_owned());
        let pos = SquarePos::new("L1", token(), http.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{pos:?}").contains("EAAAtoken"));
        assert!(SquarePos::new(" ", token(), http.clone()).is_err());
        assert!(SquarePos::new("L1", Secret::new(String::new()), http.clone()).is_err());
        assert!(pos.clone().with_base_url("connect.squareup.com").is_err());
        assert!(pos.with_base_url("http://127.0.0.1:4010/").is_ok());
    }
}

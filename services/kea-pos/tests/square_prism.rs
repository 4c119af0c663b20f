//! The Square adapter against a Prism mock generated from Square's OpenAPI description
//! (`../shared/specs/square_api.json`). Prism validates every request against the spec (path,
//! OAuth bearer token, body schema) and answers 422 when a request breaks it, so this proves that
//! what `SquarePos` sends is a CreateOrder request Square accepts.
//!
//! The published file does not load as it is: 60 `$ref`s inside *examples* point at
//! `https://developer-production-s.squarecdn.com/schemas/v1/common.json` (fetched at start-up,
//! and tests run offline), and `CatalogModifierToggleOverrideType` is referenced but not defined.
//! The test writes a copy with those external refs renamed to `x-external-ref` (examples only,
//! so no request schema changes) and each undefined component schema added as `{}`; the
//! CreateOrder schemas are untouched.
//!
//! Prism is started by `kea-test-prism`; the test is skipped, saying why, when `../shared` or Prism
//! is missing.
//! Loading the 3 MB spec takes Prism about 35 s.

#![expect(clippy::unwrap_used, reason = "tests")]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use chrono::TimeZone as _;
use kea_menu::FulfillmentKind;
use kea_pos::{PosAdapter, PosError, PosItem, PosModifier, PosOrder, SquarePos, square};
use kea_secrets::Secret;
use kea_test_prism::Prism;
use serde_json::{Value, json};
use uuid::Uuid;

/// Renames `$ref`s to other documents and defines undefined component schemas as `{}`.
fn make_loadable(spec: &mut Value) {
    fn walk(v: &mut Value, local: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    if r.starts_with("http") {
                        if let Some(r) = map.remove("$ref") {
                            map.insert("x-external-ref".to_owned(), r);
                        }
                    } else if let Some(name) = r.strip_prefix("#/components/schemas/") {
                        local.insert(name.to_owned());
                    }
                }
                map.values_mut().for_each(|v| walk(v, local));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, local)),
            _ => {}
        }
    }
    let mut referenced = BTreeSet::new();
    walk(spec, &mut referenced);
    let schemas = spec["components"]["schemas"].as_object_mut().unwrap();
    for name in referenced {
        if !schemas.contains_key(&name) {
            eprintln!("the spec references undefined schema {name}: defining it as {{}}");
            schemas.insert(name, json!({}));
        }
    }
    // The request schemas under test are the published ones.
    assert_eq!(
        schemas["CreateOrderRequest"]["properties"]["order"]["$ref"],
        "#/components/schemas/Order"
    );
}

/// Starts Prism on a loadable copy of Square's description, or says why the test cannot run.
fn start_prism() -> Result<(Prism, SocketAddr), String> {
    let spec = kea_test_prism::shared_spec("square_api.json")?;
    let mut doc: Value = serde_json::from_slice(&std::fs::read(spec).unwrap()).unwrap();
    make_loadable(&mut doc);
    let loadable = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("kea-pos-square-api-{}.json", std::process::id()));
    std::fs::write(&loadable, serde_json::to_vec(&doc).unwrap()).unwrap();
    // The 3 MB spec takes Prism about 35 s to load (longer when npx must download Prism first).
    let prism = kea_test_prism::start(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &loadable,
        Duration::from_secs(300),
    );
    let _ = std::fs::remove_file(&loadable);
    let prism = prism?;
    let addr = prism.addr;
    Ok((prism, addr))
}

fn adapter(addr: SocketAddr) -> SquarePos {
    SquarePos::new(
        "L8CR9N4FT3T7V",
        Secret::new("EAAAprism-does-not-check-the-token".to_owned()),
        reqwest::Client::new(),
    )
    .unwrap()
    .with_base_url(&format!("http://{addr}"))
    .unwrap()
    .with_timeout(Duration::from_secs(30))
}

fn pickup() -> PosOrder {
    PosOrder {
        id: Uuid::parse_str("01920000-0000-7000-8000-0000000000b1").unwrap(),
        store_id: "tonys-pizza".to_owned(),
        call_sid: Some("CA0123456789abcdef0123456789abcdef".to_owned()),
        customer_name: "Maria Lopez".to_owned(),
        customer_phone: "+15551234567".to_owned(),
        fulfillment: FulfillmentKind::Pickup,
        delivery_address: None,
        ready_at: chrono::Utc
            .with_ymd_and_hms(2026, 11, 26, 18, 40, 0)
            .single()
            .unwrap(),
        subtotal_cents: 3196,
        tax_cents: 280,
        delivery_fee_cents: 0,
        total_cents: 3476,
        prep_minutes: 20,
        items: vec![
            PosItem {
                sku: "pep".to_owned(),
                name: "Pepperoni Pizza".to_owned(),
                size: Some("large".to_owned()),
                quantity: 1,
                // Portions as a kitchen reads them: an extra portion, a removal (free), an add-on.
                modifiers: vec![
                    PosModifier {
                        sku: "cheese".to_owned(),
                        name: "Extra Cheese".to_owned(),
                        portion: "extra".to_owned(),
                        price_cents: 200,
                    },
                    PosModifier {
                        sku: "onions".to_owned(),
                        name: "No Onions".to_owned(),
                        portion: "no".to_owned(),
                        price_cents: 0,
                    },
                    PosModifier {
                        sku: "mushrooms".to_owned(),
                        name: "Mushrooms".to_owned(),
                        portion: "regular".to_owned(),
                        price_cents: 200,
                    },
                ],
                unit_price_cents: 2099,
                line_total_cents: 2099,
                notes: Some("well done".to_owned()),
            },
            PosItem {
                sku: "knots".to_owned(),
                name: "Garlic Knots".to_owned(),
                size: None,
                quantity: 3,
                modifiers: vec![],
                unit_price_cents: 299,
                line_total_cents: 897,
                notes: None,
            },
            PosItem {
                sku: "dcoke".to_owned(),
                name: "Diet Coke".to_owned(),
                size: None,
                quantity: 1,
                modifiers: vec![],
                unit_price_cents: 200,
                line_total_cents: 200,
                notes: None,
            },
        ],
    }
}

fn delivery() -> PosOrder {
    PosOrder {
        id: Uuid::parse_str("01920000-0000-7000-8000-0000000000b2").unwrap(),
        call_sid: None,
        fulfillment: FulfillmentKind::Delivery,
        delivery_address: Some("12 Elm St, Springfield, IL 62701".to_owned()),
        delivery_fee_cents: 350,
        total_cents: 3826,
        ..pickup()
    }
}

fn expect_rejected(result: Result<kea_pos::Accepted, PosError>, what: &str, field: &str) {
    let err = result.err().unwrap_or_else(|| panic!("{what}: accepted"));
    eprintln!("{what} → {err}");
    assert!(
        matches!(
            err,
            PosError::Permanent {
                status: Some(422),
                ..
            }
        ),
        "{what}: {err:?}"
    );
    assert!(err.to_string().contains(field), "{what}: {err}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn orders_against_square_openapi_mock() {
    let (prism, addr) = match start_prism() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("skipping the Prism test: {why}");
            return;
        }
    };
    let pos = adapter(addr);

    // A pickup and a delivery order, as kea sends them: accepted, and Square's order id kept.
    for order in [pickup(), delivery()] {
        order.check_totals().unwrap();
        let accepted = pos.push(&order).await.unwrap_or_else(|e| {
            panic!(
                "Prism rejected the {} order: {e}\n{}",
                order.fulfillment,
                prism.log()
            )
        });
        assert_eq!(accepted.status, 200, "{accepted:?}");
        // Prism answers with the spec's example order.
        assert_eq!(
            accepted.pos_ref.as_deref(),
            Some("CAISENgvlJ6jLWAzERDzjyHVybY")
        );
    }

    // Bodies Square would reject are rejected, permanently, naming the field.
    let order = pickup();
    let good = square::body(&order, pos.location_id()).unwrap();

    let mut broken = good.clone();
    broken["order"]["line_items"][0]["quantity"] = json!(1);
    expect_rejected(
        pos.post_body(order.id, &broken).await,
        "quantity as a number",
        "line_items.0.quantity",
    );

    let mut broken = good.clone();
    broken["order"]["fulfillments"][0]["type"] = json!("CARRYOUT");
    expect_rejected(
        pos.post_body(order.id, &broken).await,
        "an unknown fulfillment type",
        "fulfillments.0.type",
    );

    let mut broken = good.clone();
    broken["order"]["line_items"][1]["base_price_money"]["amount"] = json!("299");
    expect_rejected(
        pos.post_body(order.id, &broken).await,
        "an amount as a string",
        "base_price_money.amount",
    );

    let mut broken = good;
    broken["order"]
        .as_object_mut()
        .unwrap()
        .remove("location_id");
    expect_rejected(
        pos.post_body(order.id, &broken).await,
        "no location_id",
        "location_id",
    );
    drop(prism);
}

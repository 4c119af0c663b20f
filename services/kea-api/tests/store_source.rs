//! One source of truth for a store: what a merchant changes through the data API is what the next
//! call hears — an item marked unavailable is refused with an alternative, a new price is on the
//! order, a new alias is understood, a pause stops orders — and a change that would make the store
//! invalid is refused with `kea store import`'s own message and changes nothing. Another merchant
//! cannot make the change, every change is recorded with its author, and a second server on the
//! same database hears it at once.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

#[path = "common/data_api.rs"]
mod fixture;

use fixture::*;

const TOKEN: &str = "t";
const PUBLIC: &str = "http://127.0.0.1:8080";

fn merchant(id: &str) -> String {
    jwt(json!({"role": "merchant", "merchant_id": id, "exp": now() + 300}))
}

async fn patch(app: &axum::Router, path: &str, token: &str, body: &str) -> Res {
    send(app, "PATCH", path, Some(token), &[], body).await
}

/// Plays a call to Tony's through the signed webhooks: each line a turn; returns what kea said
/// in the last turn and in all of them.
async fn phone(app: &axum::Router, sid: &str, said: &[&str]) -> Vec<String> {
    let base = [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("CallSid", sid),
        ("From", "+15557654321"),
        ("To", "+15550100001"),
        ("CallStatus", "in-progress"),
    ];
    let mut heard = Vec::new();
    let mut path = "/twilio/voice".to_owned();
    for n in 0..=said.len() {
        let mut params: Vec<(String, String)> = base
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if n > 0 {
            params.push(("SpeechResult".into(), said[n - 1].to_owned()));
            params.push(("Confidence".into(), "0.95".into()));
            path = format!("/twilio/voice/turn?n={n}");
        }
        let sig = kea_twilio::compute_signature(TOKEN, &format!("{PUBLIC}{path}"), &params);
        let req = axum::http::Request::post(&path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", sig)
            .body(axum::body::Body::from(
                serde_urlencoded::to_string(&params).unwrap(),
            ))
            .unwrap();
        let res = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        heard.push(String::from_utf8_lossy(&bytes).replace("&apos;", "'"));
    }
    heard
}

async fn document(f: &Fixture) -> Value {
    sql(
        &f.db,
        "SELECT document FROM stores WHERE id = 'tonys-pizza'",
    )
    .await[0]["document"]
        .clone()
}

#[tokio::test]
async fn what_a_merchant_changes_is_what_the_next_call_hears() {
    let f = fixture().await;
    let tony = merchant(&f.tonys_merchant);

    // 86 the margherita: the next caller is told and offered another pizza.
    let r = patch(
        &f.app,
        "/menu_items?store_id=eq.tonys-pizza&sku=eq.pizza-margherita",
        &tony,
        r#"{"available": false}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let heard = phone(
        &f.app,
        "CA1000000000000000000000000000000a",
        &["a large margherita pizza"],
    )
    .await;
    assert!(
        heard[1].contains("out of the Margherita Pizza") && heard[1].contains("Pepperoni"),
        "{}",
        heard[1]
    );

    // A new price and a new alias: heard and priced on the next call.
    let r = patch(
        &f.app,
        "/menu_items?store_id=eq.tonys-pizza&sku=eq.caesar-salad",
        &tony,
        r#"{"price_cents": 899, "aliases": ["caesar", "house salad"]}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let doc = document(&f).await;
    let salad = doc["menu"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sku"] == "caesar-salad")
        .unwrap()
        .clone();
    assert_eq!(salad["price_cents"], 899);
    let heard = phone(
        &f.app,
        "CA1000000000000000000000000000000b",
        &[
            "a house salad please",
            "no that's all",
            "pickup",
            "it's Dana",
            "yes",
            "yes that's right",
        ],
    )
    .await;
    assert!(heard[1].contains("Caesar Salad"), "{}", heard[1]);
    // The order (and so the POS push, which is made from it) has the new price.
    let priced = sql(
        &f.db,
        "SELECT i.sku, i.unit_price_cents FROM order_items i JOIN orders o ON o.id = i.order_id
          WHERE o.call_sid = 'CA1000000000000000000000000000000b'",
    )
    .await;
    assert_eq!(
        priced,
        json!([{"sku": "caesar-salad", "unit_price_cents": 899}]),
        "{heard:?}"
    );

    // Paused: no orders on the phone.
    let r = patch(
        &f.app,
        "/stores?id=eq.tonys-pizza",
        &tony,
        r#"{"phone_orders_paused": true}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let heard = phone(&f.app, "CA1000000000000000000000000000000c", &[]).await;
    assert!(heard[0].contains("not taking phone orders"), "{}", heard[0]);

    // Every change, with its author, readable through the data API.
    let r = call(
        &f.app,
        "GET",
        "/store_changes?store_id=eq.tonys-pizza&via=eq.data_api&select=actor,via&order=id",
        Some(&tony),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let actor = format!("merchant:{}", f.tonys_merchant);
    assert_eq!(
        r.json(),
        json!([
            {"actor": actor, "via": "data_api"},
            {"actor": actor, "via": "data_api"},
            {"actor": actor, "via": "data_api"}
        ])
    );
}

#[tokio::test]
async fn invalid_or_foreign_changes_change_nothing() {
    let f = fixture().await;
    let before = document(&f).await;

    // More choices than the group has options: the import's own rule and message.
    let tony = merchant(&f.tonys_merchant);
    let r = patch(
        &f.app,
        "/modifier_groups?store_id=eq.tonys-pizza&id=eq.crust",
        &tony,
        r#"{"max_choices": 9}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.code(), "23514");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("modifier group `crust` has max 9 but only 3 options"),
        "{}",
        r.body
    );
    assert_eq!(document(&f).await, before);
    let max: Value = sql(
        &f.db,
        "SELECT max_choices FROM modifier_groups WHERE store_id = 'tonys-pizza' AND id = 'crust'",
    )
    .await;
    assert_eq!(max, json!([{"max_choices": 1}]));

    // Another merchant's token: nothing of Tony's changes.
    let casita = merchant(&f.casita_merchant);
    let r = patch(
        &f.app,
        "/menu_items?store_id=eq.tonys-pizza&sku=eq.pizza-cheese",
        &casita,
        r#"{"available": false}"#,
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(document(&f).await, before);
    let changes = sql(
        &f.db,
        "SELECT count(*) AS n FROM store_changes WHERE via = 'data_api'",
    )
    .await;
    assert_eq!(changes, json!([{"n": 0}]));
}

/// Two servers on one database: a change made through one is heard through the other at once.
#[tokio::test]
async fn a_change_through_one_server_is_heard_through_another() {
    let f = fixture().await;
    let other = app_with(&f.db, Some(SECRET));
    // The second server has parsed Tony's menu already.
    let heard = phone(&other, "CA2000000000000000000000000000000a", &["a coke"]).await;
    assert!(heard[1].contains("Coke"), "{}", heard[1]);
    let r = patch(
        &f.app,
        "/menu_items?store_id=eq.tonys-pizza&sku=eq.coke-can",
        &merchant(&f.tonys_merchant),
        r#"{"available": false}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let heard = phone(&other, "CA2000000000000000000000000000000b", &["a coke"]).await;
    assert!(heard[1].contains("out of the Coke"), "{}", heard[1]);
}

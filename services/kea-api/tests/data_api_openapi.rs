//! `GET /rest/v1/`: the OpenAPI 3.1 description of the data API, fetched from a migrated database
//! and validated against the official OpenAPI 3.1 JSON Schema.
//!
//! `fixtures/openapi-3.1-schema.json` is the OpenAPI Initiative's schema for OpenAPI 3.1
//! documents (`$id` `https://spec.openapis.org/oas/3.1/schema/2022-10-07`, Apache-2.0), copied
//! unchanged from the `openapi-spec-validator` 0.9.0 wheel on PyPI
//! (`openapi_spec_validator/resources/schemas/v3.1/schema.json`). It declares the JSON Schema
//! 2020-12 dialect by `$id`, which `jsonschema` resolves from its bundled meta-schemas (no network).
//! That schema only checks that a Schema Object is an object or a boolean, so each
//! `components.schemas` entry is also checked against the JSON Schema 2020-12 meta-schema, and the
//! `orders` schema is checked against real rows read through the API.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use kea_api::{AppState, router};
use kea_test_db::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "data-api-test-secret-at-least-32-bytes";
const OPENAPI_31_SCHEMA: &str = include_str!("fixtures/openapi-3.1-schema.json");
const TONYS: &str = include_str!("../../../tests/fixtures/stores/tonys-pizza.json");

fn app_with(db: &TestDb, secret: Option<&str>) -> axum::Router {
    let config = common::config("http://127.0.0.1:8080", "t", secret);
    router(AppState::new(db.pool().clone(), config))
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, String, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

fn service_token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    encode(
        &Header::new(Algorithm::HS256),
        &json!({"role": "service", "exp": now + 300}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

async fn openapi_document(app: &axum::Router) -> Value {
    let (status, content_type, body) = call(app, "GET", "/rest/v1/", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        content_type.starts_with("application/openapi+json"),
        "{content_type}"
    );
    serde_json::from_str(&body).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is invalid:\n{}",
        errors.join("\n")
    );
}

#[tokio::test]
async fn the_root_is_a_valid_openapi_31_document_of_every_resource() {
    let db = TestDb::new().await;
    let app = app_with(&db, Some(SECRET));
    let doc = openapi_document(&app).await;

    // Valid against the official OpenAPI 3.1 schema, formats (uri-reference, …) included.
    let meta: Value = serde_json::from_str(OPENAPI_31_SCHEMA).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&meta)
        .unwrap();
    assert_valid(&validator, &doc, "the OpenAPI document");
    // A broken document is caught (the validator is not vacuous).
    let mut broken = doc.clone();
    broken["paths"]["/orders"]["get"]["responses"]["200"] = json!({"content": 1});
    assert!(!validator.is_valid(&broken));

    // Each Schema Object is a valid JSON Schema 2020-12.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas {
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            panic!("components.schemas.{name} is not JSON Schema 2020-12: {e}");
        }
    }

    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "kea data API");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["servers"], json!([{"url": "/rest/v1"}]));

    // Every resource the contract lists.
    for resource in [
        "stores",
        "menu_items",
        "calls",
        "call_events",
        "orders",
        "order_items",
        "tasks",
        "workers",
    ] {
        let path = &doc["paths"][format!("/{resource}")];
        assert!(path["get"].is_object(), "/{resource} is missing");
        for m in ["post", "patch", "delete", "put"] {
            assert!(path[m].is_object(), "/{resource} {m}");
        }
        assert!(schemas.contains_key(resource), "{resource} schema");
    }

    // Every column of orders, with its type and nullability from the base table.
    let s = |ty: Value, format: Option<&str>| (ty, format.map(str::to_owned));
    let want = [
        ("id", s(json!("string"), Some("uuid"))),
        ("call_sid", s(json!(["string", "null"]), None)),
        ("store_id", s(json!("string"), None)),
        ("status", s(json!("string"), None)),
        ("customer_name", s(json!(["string", "null"]), None)),
        ("customer_phone", s(json!(["string", "null"]), None)),
        ("fulfillment", s(json!("string"), None)),
        ("delivery_address", s(json!(["string", "null"]), None)),
        ("subtotal_cents", s(json!("integer"), Some("int64"))),
        ("tax_cents", s(json!("integer"), Some("int64"))),
        ("delivery_fee_cents", s(json!("integer"), Some("int64"))),
        ("total_cents", s(json!("integer"), Some("int64"))),
        ("confidence", s(json!(["number", "null"]), Some("float"))),
        ("ready_at", s(json!(["string", "null"]), Some("date-time"))),
        ("pos_ref", s(json!(["string", "null"]), None)),
        ("created_at", s(json!("string"), Some("date-time"))),
        ("updated_at", s(json!("string"), Some("date-time"))),
        (
            "decided_at",
            s(json!(["string", "null"]), Some("date-time")),
        ),
        ("decision_reason", s(json!(["string", "null"]), None)),
        (
            "sent_to_pos_at",
            s(json!(["string", "null"]), Some("date-time")),
        ),
        ("pos_error", s(json!(["string", "null"]), None)),
        ("push_round", s(json!("integer"), Some("int32"))),
        ("rejection_reason", s(json!(["string", "null"]), None)),
        ("second_opinion", s(Value::Null, None)),
    ];
    let orders = &schemas["orders"];
    let props = orders["properties"].as_object().unwrap();
    let names: Vec<&str> = props.keys().map(String::as_str).collect();
    let want_names: Vec<&str> = want.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        {
            let mut n = names.clone();
            n.sort_unstable();
            n
        },
        {
            let mut n = want_names.clone();
            n.sort_unstable();
            n
        }
    );
    for (column, (ty, format)) in &want {
        let p = &props[*column];
        assert_eq!(&p["type"], ty, "orders.{column}");
        assert_eq!(
            p.get("format").and_then(Value::as_str),
            format.as_deref(),
            "orders.{column}"
        );
    }
    assert_eq!(orders["x-primary-key"], json!(["id"]));
    let embeds: Vec<&str> = orders["x-relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource"].as_str().unwrap())
        .collect();
    for e in ["order_items", "calls", "stores", "tasks"] {
        assert!(embeds.contains(&e), "orders embeds {e}: {embeds:?}");
    }
    // json columns accept anything; arrays have item types.
    assert_eq!(
        schemas["order_items"]["properties"]["modifiers"]["x-pg-type"],
        "jsonb"
    );
    assert!(
        schemas["order_items"]["properties"]["modifiers"]
            .get("type")
            .is_none()
    );
    assert_eq!(
        schemas["stores"]["properties"]["languages"],
        json!({"type": "array", "items": {"type": "string"}, "x-pg-type": "text[]"})
    );
    // The functions, by POST and (stable ones) GET.
    for f in ["order_summary", "store_order_stats"] {
        let path = &doc["paths"][format!("/rpc/{f}")];
        assert!(path["post"].is_object() && path["get"].is_object(), "{f}");
    }
    assert_eq!(
        doc["paths"]["/rpc/order_summary"]["get"]["parameters"][0]["name"],
        "order_id"
    );
    // One filter parameter per column.
    let params = doc["paths"]["/orders"]["parameters"].as_array().unwrap();
    assert_eq!(
        params
            .iter()
            .filter(|p| p["$ref"]
                .as_str()
                .unwrap()
                .starts_with("#/components/parameters/rowFilter.orders."))
            .count(),
        want.len()
    );
}

#[tokio::test]
async fn rows_read_through_the_api_match_their_schema() {
    let db = TestDb::new().await;
    let mut tx = db.pool().begin().await.unwrap();
    kea_store::import_store(&mut tx, &kea_menu::Store::parse(TONYS).unwrap())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO calls (call_sid, store_id, from_number, to_number, status, started_at) VALUES
         ('CA0000000000000000000000000000000a', 'tonys-pizza', '+15557654321', '+15550100001', 'completed', now());
         INSERT INTO orders (call_sid, store_id, status, customer_name, customer_phone, fulfillment,
                             subtotal_cents, tax_cents, total_cents, confidence) VALUES
         ('CA0000000000000000000000000000000a', 'tonys-pizza', 'confirmed', 'Ann', '+15557654321', 'pickup', 3000, 250, 3250, 0.9),
         (NULL, 'tonys-pizza', 'pending_verification', NULL, NULL, 'pickup', 1000, 0, 1000, NULL)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let app = app_with(&db, Some(SECRET));
    let doc = openapi_document(&app).await;
    let token = service_token();
    for resource in ["orders", "calls", "stores", "menu_items"] {
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&doc["components"]["schemas"][resource])
            .unwrap();
        let (status, _, body) =
            call(&app, "GET", &format!("/rest/v1/{resource}"), Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let rows: Value = serde_json::from_str(&body).unwrap();
        assert!(!rows.as_array().unwrap().is_empty(), "{resource}");
        for row in rows.as_array().unwrap() {
            assert_valid(&validator, row, &format!("a row of {resource}"));
        }
    }
}

#[tokio::test]
async fn the_root_needs_no_token_nor_secret_and_only_reads() {
    let db = TestDb::new().await;
    // Without a configured JWT secret the resources answer 500 PGRST300, the description still
    // answers.
    let app = app_with(&db, None);
    let doc = openapi_document(&app).await;
    assert!(doc["paths"]["/orders"].is_object());
    // Without the trailing slash too, and a token is not looked at.
    let (status, _, body) = call(&app, "GET", "/rest/v1", Some("not-a-jwt")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), doc);
    let (status, _, body) = call(&app, "POST", "/rest/v1/", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "PGRST117"
    );
}

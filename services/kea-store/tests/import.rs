//! Store import against a real PostgreSQL database (one fresh database per test).
#![expect(clippy::unwrap_used, reason = "tests")]

use kea_menu::Store;
use kea_store::{StoreError, import_store};
use kea_test_db::TestDb;
use serde_json::Value;
use sqlx::PgPool;

const TONYS: &str = include_str!("../../../tests/fixtures/stores/tonys-pizza.json");
const CASITA: &str = include_str!("../../../tests/fixtures/stores/la-casita.json");
const BEAN: &str = include_str!("../../../tests/fixtures/stores/bean-there.json");

fn store(text: &str) -> Store {
    Store::parse(text).unwrap()
}

fn edited(text: &str, edit: impl FnOnce(&mut Value)) -> Store {
    let mut doc: Value = serde_json::from_str(text).unwrap();
    edit(&mut doc);
    Store::parse(&doc.to_string()).unwrap()
}

async fn import(pool: &PgPool, store: &Store) -> Result<kea_store::ImportReport, StoreError> {
    let mut tx = pool.begin().await.unwrap();
    let report = import_store(&mut tx, store).await?;
    tx.commit().await.unwrap();
    Ok(report)
}

/// Everything an import can touch, as one comparable value.
async fn snapshot(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws('|',
            (SELECT json_agg(t ORDER BY name)::text FROM (SELECT name FROM merchants) t),
            (SELECT json_agg(s ORDER BY id)::text FROM (SELECT id, name, phone, document FROM stores) s),
            (SELECT json_agg(m ORDER BY store_id, sku)::text FROM (SELECT store_id, sku, name, price_cents, available FROM menu_items) m),
            (SELECT json_agg(z ORDER BY store_id, item_sku, name)::text FROM item_sizes z),
            (SELECT json_agg(g ORDER BY store_id, id)::text FROM modifier_groups g),
            (SELECT json_agg(o ORDER BY store_id, group_id, sku)::text FROM modifier_options o),
            (SELECT json_agg(l ORDER BY store_id, item_sku, group_id)::text FROM item_modifier_groups l))",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn imports_each_sample_store_with_its_whole_menu() {
    let db = TestDb::new().await;
    for text in [TONYS, CASITA, BEAN] {
        let s = store(text);
        let report = import(db.pool(), &s).await.unwrap();
        assert!(report.created, "{report}");
        assert_eq!(report.items.added.len(), s.menu.items.len());

        let items: i64 =
            sqlx::query_scalar("SELECT count(*) FROM menu_items WHERE store_id = $1 AND available")
                .bind(&s.id)
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(items as usize, s.menu.items.len());
        let sizes: i64 = sqlx::query_scalar("SELECT count(*) FROM item_sizes WHERE store_id = $1")
            .bind(&s.id)
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(
            sizes as usize,
            s.menu.items.iter().map(|i| i.sizes.len()).sum::<usize>()
        );
        let options: i64 =
            sqlx::query_scalar("SELECT count(*) FROM modifier_options WHERE store_id = $1")
                .bind(&s.id)
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(
            options as usize,
            s.menu
                .modifier_groups
                .iter()
                .map(|g| g.options.len())
                .sum::<usize>()
        );
        let links: i64 =
            sqlx::query_scalar("SELECT count(*) FROM item_modifier_groups WHERE store_id = $1")
                .bind(&s.id)
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(
            links as usize,
            s.menu
                .items
                .iter()
                .map(|i| i.modifier_groups.len())
                .sum::<usize>()
        );
    }
    let (phone, tax, pos): (String, i32, String) =
        sqlx::query_as("SELECT phone, tax_rate_bps, pos_kind FROM stores WHERE id = 'tonys-pizza'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        (phone.as_str(), tax, pos.as_str()),
        ("+15550100001", 875, "webhook")
    );
}

#[tokio::test]
async fn importing_the_same_file_again_changes_nothing() {
    let db = TestDb::new().await;
    import(db.pool(), &store(TONYS)).await.unwrap();
    let before = snapshot(db.pool()).await;
    let report = import(db.pool(), &store(TONYS)).await.unwrap();
    assert!(report.is_noop(), "{report}");
    assert_eq!(report.to_string(), "tonys-pizza: unchanged");
    assert_eq!(snapshot(db.pool()).await, before);
}

#[tokio::test]
async fn a_reimport_updates_in_place_and_keeps_removed_items_for_old_orders() {
    let db = TestDb::new().await;
    import(db.pool(), &store(TONYS)).await.unwrap();
    // An order that names the Caesar salad, which the next menu drops.
    sqlx::query(
        "WITH o AS (INSERT INTO orders (store_id, fulfillment, subtotal_cents, tax_cents, total_cents)
                    VALUES ('tonys-pizza', 'pickup', 799, 70, 869) RETURNING id)
         INSERT INTO order_items (order_id, line_no, store_id, sku, name, quantity, unit_price_cents, line_total_cents)
         SELECT id, 1, 'tonys-pizza', 'caesar-salad', 'Caesar Salad', 1, 799, 799 FROM o",
    )
    .execute(db.pool())
    .await
    .unwrap();

    let next = edited(TONYS, |doc| {
        let items = doc["menu"]["items"].as_array_mut().unwrap();
        items.retain(|i| i["sku"] != "caesar-salad");
        for item in items.iter_mut() {
            if item["sku"] == "sprite-can" {
                item["price_cents"] = 249.into();
            }
        }
        items.push(serde_json::json!({"sku": "cannoli", "name": "Cannoli", "category": "Desserts", "price_cents": 450}));
    });
    let report = import(db.pool(), &next).await.unwrap();
    assert!(!report.created);
    assert_eq!(report.items.added, ["cannoli"]);
    assert_eq!(report.items.changed, ["sprite-can"]);
    assert_eq!(report.items.removed, ["caesar-salad"]);
    assert_eq!(
        report.to_string(),
        "tonys-pizza: updated: 1 added: cannoli; 1 changed: sprite-can; 1 removed (now unavailable): caesar-salad"
    );

    let rows: Vec<(String, Option<i64>, bool)> =
        sqlx::query_as("SELECT sku, price_cents, available FROM menu_items WHERE sku IN ('caesar-salad', 'sprite-can', 'cannoli') ORDER BY sku")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(
        rows,
        [
            ("caesar-salad".to_owned(), Some(799), false),
            ("cannoli".to_owned(), Some(450), true),
            ("sprite-can".to_owned(), Some(249), true)
        ]
    );
    let lines: i64 =
        sqlx::query_scalar("SELECT count(*) FROM order_items WHERE sku = 'caesar-salad'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(lines, 1, "the old order keeps its line");

    // The salad comes back: available again.
    import(db.pool(), &store(TONYS)).await.unwrap();
    let available: bool =
        sqlx::query_scalar("SELECT available FROM menu_items WHERE sku = 'caesar-salad'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(available);
}

#[tokio::test]
async fn removed_modifier_groups_and_options_become_unavailable() {
    let db = TestDb::new().await;
    import(db.pool(), &store(TONYS)).await.unwrap();
    let next = edited(TONYS, |doc| {
        let groups = doc["menu"]["modifier_groups"].as_array_mut().unwrap();
        for g in groups.iter_mut() {
            if g["id"] == "toppings" {
                g["options"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|o| o["sku"] != "bacon");
            }
        }
    });
    let report = import(db.pool(), &next).await.unwrap();
    assert!(report.settings_changed, "{report}");
    let bacon: bool =
        sqlx::query_scalar("SELECT available FROM modifier_options WHERE sku = 'bacon'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(!bacon);
}

#[tokio::test]
async fn a_second_store_with_the_same_phone_is_refused_and_changes_nothing() {
    let db = TestDb::new().await;
    import(db.pool(), &store(TONYS)).await.unwrap();
    let before = snapshot(db.pool()).await;
    let clash = edited(CASITA, |doc| doc["phone"] = "+15550100001".into());
    let err = import(db.pool(), &clash).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "$.phone: +15550100001 is already the number of store `tonys-pizza`"
    );
    assert_eq!(snapshot(db.pool()).await, before);
}

#[tokio::test]
async fn a_store_may_change_its_own_number() {
    let db = TestDb::new().await;
    import(db.pool(), &store(TONYS)).await.unwrap();
    let moved = edited(TONYS, |doc| doc["phone"] = "+15550109999".into());
    let report = import(db.pool(), &moved).await.unwrap();
    assert!(report.settings_changed);
    let phone: String = sqlx::query_scalar("SELECT phone FROM stores WHERE id = 'tonys-pizza'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(phone, "+15550109999");
}

#[tokio::test]
async fn the_schema_refuses_bad_rows_whoever_writes_them() {
    let db = TestDb::new().await;
    import(db.pool(), &store(TONYS)).await.unwrap();
    sqlx::query(
        "INSERT INTO calls (call_sid, store_id, from_number, to_number)
         VALUES ('CA00000000000000000000000000000009', 'tonys-pizza', '+15551234567', '+15550100001')",
    )
    .execute(db.pool())
    .await
    .unwrap();
    for (sql, constraint) in [
        (
            "UPDATE stores SET phone = '555-0100' WHERE id = 'tonys-pizza'",
            "stores_phone_check",
        ),
        (
            "UPDATE stores SET pos_kind = 'toast' WHERE id = 'tonys-pizza'",
            "stores_pos_kind_check",
        ),
        (
            "UPDATE menu_items SET price_cents = -1 WHERE sku = 'sprite-can'",
            "menu_items_price_cents_check",
        ),
        (
            "UPDATE modifier_groups SET min_choices = 5 WHERE id = 'crust'",
            "modifier_groups_check",
        ),
        (
            "INSERT INTO orders (store_id, fulfillment, subtotal_cents, tax_cents, total_cents) VALUES ('tonys-pizza', 'pickup', 100, 9, 110)",
            "orders_check",
        ),
        (
            "INSERT INTO orders (store_id, fulfillment, status, subtotal_cents, tax_cents, total_cents) VALUES ('tonys-pizza', 'pickup', 'lost', 0, 0, 0)",
            "order_status_check",
        ),
        (
            "INSERT INTO orders (store_id, fulfillment, customer_phone, subtotal_cents, tax_cents, total_cents) VALUES ('tonys-pizza', 'pickup', '555-0100', 0, 0, 0)",
            "e164_phone_check",
        ),
        (
            "INSERT INTO orders (store_id, fulfillment, subtotal_cents, tax_cents, total_cents) VALUES ('tonys-pizza', 'pickup', 100, -9, 91)",
            "cents_check",
        ),
        (
            "INSERT INTO calls (call_sid, store_id, from_number, to_number, outcome) VALUES ('CA00000000000000000000000000000001', 'tonys-pizza', '+15551234567', '+15550100001', 'hung_up')",
            "call_outcome_check",
        ),
        // A call's rules are its columns' types (domains), and a trigger for the CallSid's form.
        (
            "INSERT INTO calls (call_sid, store_id, from_number, to_number, status) VALUES ('CA00000000000000000000000000000001', 'tonys-pizza', '+15551234567', '+15550100001', 'lost')",
            "call_status_check",
        ),
        (
            "INSERT INTO calls (call_sid, store_id, from_number, to_number, turns) VALUES ('CA00000000000000000000000000000001', 'tonys-pizza', '+15551234567', '+15550100001', -1)",
            "non_negative_integer_check",
        ),
        (
            "INSERT INTO calls (call_sid, store_id, from_number, to_number) VALUES ('CA0000', 'tonys-pizza', '+15551234567', '+15550100001')",
            "calls_call_sid_check",
        ),
        (
            "UPDATE calls SET call_sid = 'CA?' WHERE call_sid = 'CA00000000000000000000000000000009'",
            "calls_call_sid_check",
        ),
        (
            "INSERT INTO call_events (call_sid, seq, kind, payload) VALUES ('CA00000000000000000000000000000009', 0, 'note', '{}')",
            "call_event_kind_check",
        ),
        (
            "INSERT INTO call_events (call_sid, seq, kind, payload, server_micros) VALUES ('CA00000000000000000000000000000009', 0, 'twiml', '{}', -5)",
            "non_negative_bigint_check",
        ),
        (
            "INSERT INTO workers (name, activity) VALUES ('Ana', 'sleeping')",
            "workers_activity_check",
        ),
        (
            "INSERT INTO tasks (kind, call_sid) VALUES ('verify_order', NULL)",
            "tasks_check1",
        ),
    ] {
        let err = sqlx::query(sql).execute(db.pool()).await.unwrap_err();
        let name = match &err {
            sqlx::Error::Database(e) => e.constraint().map(str::to_owned),
            _ => None,
        };
        assert_eq!(name.as_deref(), Some(constraint), "{sql}: {err}");
    }
}

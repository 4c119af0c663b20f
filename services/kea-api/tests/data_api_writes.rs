//! Writes and calls through the data API (`/rest/v1`, PostgREST's dialect) against a real database:
//! POST (return preferences, `columns=`, `missing=default`, upserts with `on_conflict`), PATCH and
//! DELETE with filters and limits, PUT, `Prefer: tx=rollback`, `/rpc/<function>` by POST and GET,
//! tenancy on writes enforced by PostgreSQL, and hostile names in the write parameters. Results
//! are compared with direct SQL as the database owner.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

#[path = "common/data_api.rs"]
mod fixture;

use fixture::*;

fn merchant(id: &str) -> String {
    jwt(json!({"role": "merchant", "merchant_id": id, "exp": now() + 300}))
}

fn agent(worker: &str) -> String {
    jwt(json!({"role": "agent", "worker_id": worker, "exp": now() + 300}))
}

async fn post(app: &axum::Router, path: &str, token: &str, prefer: &str, body: &str) -> Res {
    let headers: Vec<(&str, &str)> = if prefer.is_empty() {
        Vec::new()
    } else {
        vec![("prefer", prefer)]
    };
    send(app, "POST", path, Some(token), &headers, body).await
}

async fn patch(app: &axum::Router, path: &str, token: &str, prefer: &str, body: &str) -> Res {
    let headers: Vec<(&str, &str)> = if prefer.is_empty() {
        Vec::new()
    } else {
        vec![("prefer", prefer)]
    };
    send(app, "PATCH", path, Some(token), &headers, body).await
}

const NEW_ITEM: &str = r#"{"store_id": "tonys-pizza", "sku": "calzone", "name": "Calzone", "category": "pizza", "price_cents": 1200, "available": true}"#;

/// Everything the tests may change, to check that a refused or rolled-back write left it as it was.
async fn snapshot(db: &TestDb) -> Value {
    sql(
        db,
        "SELECT (SELECT json_agg(o ORDER BY id) FROM orders o) AS orders,
                (SELECT json_agg(i ORDER BY id) FROM order_items i) AS items,
                (SELECT json_agg(m ORDER BY store_id, sku) FROM menu_items m) AS menu,
                (SELECT json_agg(t ORDER BY id) FROM tasks t) AS tasks,
                (SELECT json_agg(s ORDER BY id) FROM stores s) AS stores,
                (SELECT json_agg(m ORDER BY id) FROM merchants m) AS merchants",
    )
    .await
}

#[tokio::test]
async fn post_inserts_with_each_return_preference() {
    let f = fixture().await;
    let t = service();

    // return=minimal (the default): 201, no body.
    let r = post(&f.app, "/merchants", &t, "", r#"{"name": "Acme"}"#).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!((r.body.as_str(), r.content_range()), ("", "*/*"));
    assert_eq!(r.header("preference-applied"), "");
    assert_eq!(
        sql(&f.db, "SELECT name FROM merchants WHERE name = 'Acme'").await,
        json!([{"name": "Acme"}])
    );

    // return=representation with select=: the written rows as select shapes them.
    let r = post(
        &f.app,
        "/merchants?select=id,label:name",
        &t,
        "return=representation",
        r#"{"name": "Bistro"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.header("preference-applied"), "return=representation");
    assert!(r.header("content-type").starts_with("application/json"));
    assert_eq!(
        r.json(),
        sql(
            &f.db,
            "SELECT id, name AS label FROM merchants WHERE name = 'Bistro'"
        )
        .await
    );

    // return=headers-only: Location names the new row by its primary key.
    let r = post(
        &f.app,
        "/merchants",
        &t,
        "return=headers-only",
        r#"{"name": "Cafe"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body, "");
    let id = sql(&f.db, "SELECT id FROM merchants WHERE name = 'Cafe'").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(r.header("location"), format!("/merchants?id=eq.{id}"));
    assert_eq!(r.header("preference-applied"), "return=headers-only");

    // An array, counted; embedding in the representation.
    let r = post(
        &f.app,
        "/order_items?select=line_no,sku,orders(status)",
        &t,
        "return=representation, count=exact",
        &format!(
            r#"[{{"order_id": "{ORDER_A}", "line_no": 3, "store_id": "tonys-pizza", "sku": "wings", "name": "Wings", "quantity": 1, "unit_price_cents": 900, "line_total_cents": 900}},
                {{"order_id": "{ORDER_A}", "line_no": 4, "store_id": "tonys-pizza", "sku": "coke-can", "name": "Coke", "quantity": 2, "unit_price_cents": 200, "line_total_cents": 400}}]"#
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.content_range(), "*/2");
    assert_eq!(
        r.header("preference-applied"),
        "return=representation, count=exact"
    );
    assert_eq!(
        r.json(),
        json!([
            {"line_no": 3, "sku": "wings", "orders": {"status": "confirmed"}},
            {"line_no": 4, "sku": "coke-can", "orders": {"status": "confirmed"}}
        ])
    );
    assert_eq!(
        sql(
            &f.db,
            &format!("SELECT count(*) AS n FROM order_items WHERE order_id = '{ORDER_A}'")
        )
        .await,
        json!([{"n": 4}])
    );

    // A single object asked for, two rows written: 406 and nothing stays.
    let before = snapshot(&f.db).await;
    let r = send(
        &f.app,
        "POST",
        "/merchants",
        Some(&t),
        &[
            ("prefer", "return=representation"),
            ("accept", "application/vnd.pgrst.object+json"),
        ],
        r#"[{"name": "D1"}, {"name": "D2"}]"#,
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_ACCEPTABLE, "PGRST116")
    );
    assert_eq!(snapshot(&f.db).await, before);
    // One row: the object itself.
    let r = send(
        &f.app,
        "POST",
        "/merchants?select=name",
        Some(&t),
        &[
            ("prefer", "return=representation"),
            ("accept", "application/vnd.pgrst.object+json"),
        ],
        r#"{"name": "D3"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::CREATED, json!({"name": "D3"}))
    );
}

#[tokio::test]
async fn columns_missing_default_and_body_errors() {
    let f = fixture().await;
    let t = service();
    // columns= takes those keys only; the others are ignored.
    let r = post(
        &f.app,
        "/menu_items?columns=store_id,sku,name,price_cents",
        &t,
        "return=representation",
        r#"{"store_id": "tonys-pizza", "sku": "garlic-bread", "name": "Garlic Bread", "price_cents": 500, "available": false, "bogus": 1}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.json()[0]["available"],
        true,
        "available came from its default"
    );

    // missing=default: a row without a `columns=` key gets the column's default.
    let body = r#"[{"store_id": "tonys-pizza", "sku": "tiramisu", "name": "Tiramisu", "price_cents": 700, "available": false, "position": 7},
                   {"store_id": "tonys-pizza", "sku": "cannoli", "name": "Cannoli", "price_cents": 600}]"#;
    let path = "/menu_items?columns=store_id,sku,name,price_cents,available,position&select=sku,available,position";
    let r = post(
        &f.app,
        path,
        &t,
        "missing=default, return=representation",
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.header("preference-applied"),
        "missing=default, return=representation"
    );
    assert_eq!(
        r.json(),
        json!([
            {"sku": "tiramisu", "available": false, "position": 7},
            {"sku": "cannoli", "available": true, "position": 0}
        ])
    );
    assert_eq!(
        sql(&f.db, "SELECT sku, available, position FROM api.menu_items WHERE sku IN ('tiramisu', 'cannoli') ORDER BY sku DESC").await,
        r.json()
    );
    // Without it the missing key is null, which `available` refuses (23502 → 400).
    let body = body
        .replace("tiramisu", "panna-cotta")
        .replace("cannoli", "gelato");
    let r = post(&f.app, path, &t, "", &body).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "23502"),
        "{}",
        r.body
    );

    for (path, body, status, code) in [
        (
            "/menu_items",
            r#"{"store_id": "tonys-pizza", "sku": "x", "nope": 1}"#,
            400,
            "PGRST204",
        ),
        (
            "/menu_items?columns=store_id,nope",
            NEW_ITEM,
            400,
            "PGRST204",
        ),
        ("/menu_items", "{not json", 400, "PGRST102"),
        ("/menu_items", "", 400, "PGRST102"),
        ("/menu_items", "[1, 2]", 400, "PGRST102"),
        (
            "/merchants",
            r#"[{"name": "a"}, {"id": "b"}]"#,
            400,
            "PGRST102",
        ),
        // PostgreSQL's own errors, with PostgREST's statuses.
        ("/merchants", r#"{"name": "Acme"}"#, 201, ""),
        ("/merchants", r#"{"name": "Acme"}"#, 409, "23505"),
        (
            "/orders",
            r#"{"store_id": "nowhere", "fulfillment": "pickup", "subtotal_cents": 1, "tax_cents": 0, "total_cents": 1}"#,
            409,
            "23503",
        ),
        (
            "/orders",
            r#"{"store_id": "tonys-pizza", "fulfillment": "pickup", "subtotal_cents": 1, "tax_cents": 0, "total_cents": 5}"#,
            400,
            "23514",
        ),
        (
            "/orders",
            r#"{"id": "not-a-uuid", "store_id": "tonys-pizza"}"#,
            400,
            "22P02",
        ),
        // A call's status is checked by its column's type (a domain): the same answer.
        (
            "/calls",
            r#"{"call_sid": "CA00000000000000000000000000000001", "store_id": "tonys-pizza", "from_number": "+15551234567", "to_number": "+15550100001", "status": "lost"}"#,
            400,
            "23514",
        ),
        ("/nope", "{}", 404, "PGRST205"),
    ] {
        let r = post(&f.app, path, &t, "", body).await;
        assert_eq!(r.status.as_u16(), status, "{path} {body}: {}", r.body);
        if !code.is_empty() {
            assert_eq!(r.code(), code, "{path} {body}");
        }
    }
}

#[tokio::test]
async fn upserts_merge_or_ignore_duplicates() {
    let f = fixture().await;
    let t = service();
    let rows = r#"[{"store_id": "tonys-pizza", "sku": "caesar-salad", "name": "House Caesar", "price_cents": 999},
                   {"store_id": "tonys-pizza", "sku": "calzone", "name": "Calzone", "price_cents": 1200}]"#;
    // ignore-duplicates: the existing row stays, the new one is inserted and returned.
    let r = post(
        &f.app,
        "/menu_items?select=sku,name",
        &t,
        "resolution=ignore-duplicates, return=representation",
        rows,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.header("preference-applied"),
        "resolution=ignore-duplicates, return=representation"
    );
    assert_eq!(r.json(), json!([{"sku": "calzone", "name": "Calzone"}]));
    assert_eq!(
        sql(
            &f.db,
            "SELECT name FROM menu_items WHERE sku = 'wings' AND store_id = 'tonys-pizza'"
        )
        .await,
        json!([{"name": "Buffalo Wings"}])
    );
    // merge-duplicates on the primary key: both exist now, both are updated → 200.
    let r = post(
        &f.app,
        "/menu_items?select=sku,name,price_cents&order=sku",
        &t,
        "resolution=merge-duplicates,return=representation",
        &rows.replace("Calzone", "Big Calzone"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.json(),
        sql(&f.db, "SELECT sku, name, price_cents FROM api.menu_items WHERE sku IN ('caesar-salad', 'calzone') ORDER BY sku").await
    );
    assert_eq!(r.json()[0]["name"], "House Caesar");
    // A merge that inserts something is 201.
    let r = post(
        &f.app,
        "/menu_items",
        &t,
        "resolution=merge-duplicates",
        &rows.replace("calzone", "stromboli"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.header("preference-applied"),
        "resolution=merge-duplicates"
    );

    // on_conflict on a unique column that is not the key: orders.call_sid.
    let order = format!(
        r#"{{"call_sid": "{CALL_A}", "store_id": "tonys-pizza", "status": "cancelled", "fulfillment": "pickup", "subtotal_cents": 3000, "tax_cents": 250, "total_cents": 3250}}"#
    );
    let r = post(
        &f.app,
        "/orders?on_conflict=call_sid&select=id,status",
        &t,
        "resolution=merge-duplicates, return=representation",
        &order,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), json!([{"id": ORDER_A, "status": "cancelled"}]));
    assert_eq!(
        sql(
            &f.db,
            "SELECT count(*) AS n, max(status) AS s FROM orders WHERE store_id = 'tonys-pizza'"
        )
        .await,
        json!([{"n": 1, "s": "cancelled"}])
    );
    // Without a resolution the same body is a plain insert: 409.
    let r = post(&f.app, "/orders?on_conflict=call_sid", &t, "", &order).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::CONFLICT, "23505")
    );
}

#[tokio::test]
async fn patch_and_delete_with_filters_and_limits() {
    let f = fixture().await;
    let t = service();
    let r = patch(
        &f.app,
        "/menu_items?store_id=eq.tonys-pizza&sku=eq.caesar-salad",
        &t,
        "",
        r#"{"available": false, "price_cents": 1099}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!((r.body.as_str(), r.content_range()), ("", "0-0/*"));
    assert_eq!(
        sql(&f.db, "SELECT available, price_cents FROM menu_items WHERE store_id = 'tonys-pizza' AND sku = 'caesar-salad'").await,
        json!([{"available": false, "price_cents": 1099}])
    );
    // With a representation: 200 and the rows.
    let r = patch(
        &f.app,
        "/menu_items?store_id=eq.tonys-pizza&sku=like.*-can&select=sku,available&order=sku",
        &t,
        "return=representation, count=exact",
        r#"{"available": false}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.content_range(), "0-2/3");
    assert_eq!(
        r.json(),
        sql(&f.db, "SELECT sku, available FROM api.menu_items WHERE store_id = 'tonys-pizza' AND sku LIKE '%-can' ORDER BY sku").await
    );
    // Nothing matches: still 204, `*/*`.
    let r = patch(
        &f.app,
        "/menu_items?sku=eq.nothing",
        &t,
        "",
        r#"{"available": false}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.content_range()),
        (StatusCode::NO_CONTENT, "*/*")
    );
    // limit/order: only the first rows in that order.
    let r = patch(
        &f.app,
        "/menu_items?store_id=eq.tonys-pizza&sku=like.pizza-*&order=sku.desc&limit=2&select=sku",
        &t,
        "return=representation",
        r#"{"position": 99}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let want = sql(&f.db, "SELECT sku FROM menu_items WHERE store_id = 'tonys-pizza' AND sku LIKE 'pizza-%' ORDER BY sku DESC LIMIT 2").await;
    assert_eq!(r.json(), want);
    assert_eq!(
        sql(
            &f.db,
            "SELECT sku FROM menu_items WHERE position = 99 ORDER BY sku DESC"
        )
        .await,
        want
    );
    // A column the view does not have.
    let r = patch(
        &f.app,
        "/stores?id=eq.tonys-pizza",
        &t,
        "",
        r#"{"pos_secret": "x"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "PGRST204")
    );

    // DELETE: 204 `*/*`; counted; with a representation.
    let r = call(
        &f.app,
        "DELETE",
        &format!("/order_items?order_id=eq.{ORDER_A}&line_no=eq.2"),
        Some(&t),
        &[],
    )
    .await;
    assert_eq!(
        (r.status, r.content_range()),
        (StatusCode::NO_CONTENT, "*/*"),
        "{}",
        r.body
    );
    let r = call(
        &f.app,
        "DELETE",
        &format!("/order_items?order_id=eq.{ORDER_A}&select=sku"),
        Some(&t),
        &[("prefer", "return=representation,count=exact")],
    )
    .await;
    assert_eq!(
        (r.status, r.content_range()),
        (StatusCode::OK, "*/1"),
        "{}",
        r.body
    );
    assert_eq!(r.json(), json!([{"sku": "pizza-cheese"}]));
    assert_eq!(
        sql(
            &f.db,
            &format!("SELECT count(*) AS n FROM order_items WHERE order_id = '{ORDER_A}'")
        )
        .await,
        json!([{"n": 0}])
    );
    // DELETE with limit: one of the two tasks.
    let r = call(
        &f.app,
        "DELETE",
        "/tasks?order=priority.desc&limit=1",
        Some(&t),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        sql(&f.db, "SELECT id FROM tasks").await,
        json!([{"id": TASK_2}])
    );
}

#[tokio::test]
async fn put_replaces_or_inserts_one_row() {
    let f = fixture().await;
    let t = service();
    let path = "/menu_items?store_id=eq.tonys-pizza&sku=eq.calzone";
    let r = send(&f.app, "PUT", path, Some(&t), &[], NEW_ITEM).await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::NO_CONTENT, ""));
    let r = send(
        &f.app,
        "PUT",
        &format!("{path}&select=sku,price_cents"),
        Some(&t),
        &[("prefer", "return=representation")],
        &NEW_ITEM.replace("1200", "1300"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "replaced: {}", r.body);
    assert_eq!(r.json(), json!([{"sku": "calzone", "price_cents": 1300}]));
    let r = send(
        &f.app,
        "PUT",
        "/menu_items?store_id=eq.tonys-pizza&sku=eq.stromboli&select=sku",
        Some(&t),
        &[("prefer", "return=representation")],
        &NEW_ITEM.replace("calzone", "stromboli"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "inserted: {}", r.body);
    assert_eq!(
        sql(&f.db, "SELECT sku, price_cents FROM menu_items WHERE sku IN ('calzone', 'stromboli') ORDER BY sku").await,
        json!([{"sku": "calzone", "price_cents": 1300}, {"sku": "stromboli", "price_cents": 1200}])
    );
    for (path, body, status, code) in [
        ("/menu_items?sku=eq.calzone", NEW_ITEM, 405, "PGRST105"),
        (
            "/menu_items?store_id=eq.tonys-pizza&sku=neq.calzone",
            NEW_ITEM,
            405,
            "PGRST105",
        ),
        (
            "/menu_items?store_id=eq.tonys-pizza&sku=eq.calzone&name=eq.x",
            NEW_ITEM,
            405,
            "PGRST105",
        ),
        (
            "/menu_items?store_id=eq.tonys-pizza&sku=eq.other",
            NEW_ITEM,
            400,
            "PGRST115",
        ),
        (
            "/menu_items?store_id=eq.tonys-pizza&sku=eq.calzone&limit=1",
            NEW_ITEM,
            400,
            "PGRST114",
        ),
    ] {
        let r = send(&f.app, "PUT", path, Some(&t), &[], body).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code.to_owned()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn tx_rollback_answers_but_keeps_nothing() {
    let f = fixture().await;
    let t = service();
    let before = snapshot(&f.db).await;
    let r = post(
        &f.app,
        "/menu_items?select=sku",
        &t,
        "return=representation, tx=rollback",
        NEW_ITEM,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json(), json!([{"sku": "calzone"}]));
    assert_eq!(
        r.header("preference-applied"),
        "return=representation, tx=rollback"
    );
    let r = patch(
        &f.app,
        "/orders?id=not.is.null",
        &t,
        "tx=rollback",
        r#"{"status": "cancelled"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.content_range()),
        (StatusCode::NO_CONTENT, "0-1/*")
    );
    assert_eq!(r.header("preference-applied"), "tx=rollback");
    let r = call(
        &f.app,
        "DELETE",
        "/order_items",
        Some(&t),
        &[("prefer", "tx=rollback")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(snapshot(&f.db).await, before);
    // tx=commit is the default, said back.
    let r = post(&f.app, "/menu_items", &t, "tx=commit", NEW_ITEM).await;
    assert_eq!(
        (r.status, r.header("preference-applied")),
        (StatusCode::CREATED, "tx=commit")
    );
    assert_ne!(snapshot(&f.db).await, before);
}

#[tokio::test]
async fn rpc_calls_by_post_and_get() {
    let f = fixture().await;
    // A volatile function that writes, to check the transaction modes (created before the
    // first request, so the schema cache sees it when it loads).
    sqlx::raw_sql(
        "CREATE FUNCTION api.cancel_order(order_id uuid) RETURNS void LANGUAGE sql VOLATILE AS
         $$ UPDATE api.orders SET status = 'cancelled' WHERE id = cancel_order.order_id $$;
         GRANT EXECUTE ON FUNCTION api.cancel_order(uuid) TO kea_service;",
    )
    .execute(f.db.pool())
    .await
    .unwrap();
    let t = service();
    let want = sql(
        &f.db,
        &format!("SELECT api.order_summary('{ORDER_A}') AS s"),
    )
    .await[0]["s"]
        .clone();
    assert_eq!(want["store_name"], "Tony's Pizza", "{want}");
    assert_eq!(want["items"].as_array().unwrap().len(), 2);
    let r = post(
        &f.app,
        "/rpc/order_summary",
        &t,
        "",
        &format!(r#"{{"order_id": "{ORDER_A}"}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), want);
    for key in [
        "id",
        "status",
        "store_id",
        "store_name",
        "customer_name",
        "customer_phone",
        "fulfillment",
        "total_cents",
        "created_at",
        "items",
    ] {
        assert!(r.json().get(key).is_some(), "{key}");
    }
    for key in [
        "sku",
        "name",
        "size",
        "quantity",
        "modifiers",
        "line_total_cents",
        "notes",
    ] {
        assert!(r.json()["items"][0].get(key).is_some(), "{key}");
    }
    let r = get(
        &f.app,
        &format!("/rpc/order_summary?order_id={ORDER_A}"),
        &t,
    )
    .await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, want));
    // Not visible (or not there): null.
    let casita = merchant(&f.casita_merchant);
    let r = get(
        &f.app,
        &format!("/rpc/order_summary?order_id={ORDER_A}"),
        &casita,
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "null"));

    // A function returning a table: the read grammar applies to its rows.
    let stats = |cond: &str| {
        format!("SELECT * FROM api.store_order_stats('tonys-pizza') WHERE {cond} ORDER BY status")
    };
    sqlx::raw_sql(
        "INSERT INTO orders (store_id, status, fulfillment, subtotal_cents, tax_cents, total_cents) VALUES
         ('tonys-pizza', 'confirmed', 'pickup', 1000, 0, 1000), ('tonys-pizza', 'cancelled', 'pickup', 500, 0, 500)",
    )
    .execute(f.db.pool())
    .await
    .unwrap();
    let r = get(&f.app, "/rpc/store_order_stats?store_id=tonys-pizza", &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), sql(&f.db, &stats("true")).await);
    assert_eq!(
        r.json(),
        json!([
            {"status": "cancelled", "orders": 1, "total_cents": 500},
            {"status": "confirmed", "orders": 2, "total_cents": 4250}
        ])
    );
    let r = get(
        &f.app,
        "/rpc/store_order_stats?store_id=tonys-pizza&status=eq.confirmed&select=orders,total_cents",
        &t,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), json!([{"orders": 2, "total_cents": 4250}]));
    let r = call(
        &f.app,
        "GET",
        "/rpc/store_order_stats?store_id=tonys-pizza&orders=gte.1&order=total_cents.desc&limit=1",
        Some(&t),
        &[("prefer", "count=exact")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{}", r.body);
    assert_eq!(r.content_range(), "0-0/2");
    assert_eq!(
        r.json(),
        json!([{"status": "confirmed", "orders": 2, "total_cents": 4250}])
    );
    let r = post(
        &f.app,
        "/rpc/store_order_stats?status=eq.cancelled",
        &t,
        "",
        r#"{"store_id": "tonys-pizza"}"#,
    )
    .await;
    assert_eq!(r.json(), sql(&f.db, &stats("status = 'cancelled'")).await);
    // Tenancy: another merchant's store has no stats; anon may not call.
    let r = get(
        &f.app,
        "/rpc/store_order_stats?store_id=tonys-pizza",
        &casita,
    )
    .await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, json!([])));
    let r = call(
        &f.app,
        "GET",
        "/rpc/store_order_stats?store_id=tonys-pizza",
        None,
        &[],
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "42501")
    );

    // Errors as PostgREST answers them.
    for (method, path, body, status, code) in [
        ("POST", "/rpc/nope", "{}", 404, "PGRST202"),
        (
            "POST",
            "/rpc/order_summary",
            r#"{"order": 1}"#,
            404,
            "PGRST202",
        ),
        ("POST", "/rpc/order_summary", "{}", 404, "PGRST202"),
        ("GET", "/rpc/order_summary", "", 404, "PGRST202"),
        (
            "POST",
            "/rpc/order_summary",
            r#"{"order_id": "x"}"#,
            400,
            "22P02",
        ),
        ("POST", "/rpc/order_summary", "[]", 400, "PGRST102"),
        ("PATCH", "/rpc/order_summary", "{}", 405, "PGRST101"),
        (
            "GET",
            "/rpc/store_order_stats?store_id=x&nope=eq.1",
            "",
            400,
            "42703",
        ),
        // A volatile function that writes: not in GET's read-only transaction.
        (
            "GET",
            &format!("/rpc/cancel_order?order_id={ORDER_C}"),
            "",
            405,
            "25006",
        ),
    ] {
        let r = send(&f.app, method, path, Some(&t), &[], body).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code.to_owned()),
            "{method} {path} {body}: {}",
            r.body
        );
    }
    let r = post(
        &f.app,
        "/rpc/cancel_order",
        &t,
        "",
        &format!(r#"{{"order_id": "{ORDER_C}"}}"#),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::NO_CONTENT, ""));
    assert_eq!(
        sql(
            &f.db,
            &format!("SELECT status FROM orders WHERE id = '{ORDER_C}'")
        )
        .await,
        json!([{"status": "cancelled"}])
    );
}

#[tokio::test]
async fn merchants_write_only_their_own_rows() {
    let f = fixture().await;
    let tony = merchant(&f.tonys_merchant);
    // A broad filter changes only the merchant's rows.
    let r = patch(
        &f.app,
        "/orders?id=not.is.null",
        &tony,
        "",
        r#"{"status": "cancelled"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.content_range()),
        (StatusCode::NO_CONTENT, "0-0/*"),
        "{}",
        r.body
    );
    assert_eq!(
        sql(&f.db, "SELECT id, status FROM orders ORDER BY id").await,
        json!([{"id": ORDER_A, "status": "cancelled"}, {"id": ORDER_C, "status": "pending_verification"}])
    );
    let r = patch(
        &f.app,
        "/menu_items?sku=not.is.null",
        &tony,
        "return=representation",
        r#"{"available": false}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.json()
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["store_id"] == "tonys-pizza")
    );
    assert_eq!(
        sql(&f.db, "SELECT store_id, bool_or(available) AS any_available FROM menu_items GROUP BY store_id ORDER BY store_id").await,
        json!([{"store_id": "la-casita", "any_available": true}, {"store_id": "tonys-pizza", "any_available": false}])
    );
    let r = patch(
        &f.app,
        "/stores?id=not.is.null",
        &tony,
        "",
        r#"{"name": "Tony's"}"#,
    )
    .await;
    assert_eq!(r.content_range(), "0-0/*");
    assert_eq!(
        sql(&f.db, "SELECT id, name FROM stores ORDER BY id").await,
        json!([{"id": "la-casita", "name": "La Casita Taqueria"}, {"id": "tonys-pizza", "name": "Tony's"}])
    );

    let before = snapshot(&f.db).await;
    // Columns it may not change, rows it may not delete, and another merchant's store.
    let order = |store: &str| {
        format!(
            r#"{{"store_id": "{store}", "fulfillment": "pickup", "subtotal_cents": 100, "tax_cents": 0, "total_cents": 100}}"#
        )
    };
    for (method, path, body) in [
        (
            "PATCH",
            "/orders?id=not.is.null",
            r#"{"total_cents": 1}"#.to_owned(),
        ),
        (
            "PATCH",
            "/orders?id=not.is.null",
            r#"{"store_id": "la-casita"}"#.to_owned(),
        ),
        (
            "PATCH",
            "/stores?id=not.is.null",
            r#"{"merchant_id": "00000000-0000-4000-8000-000000000000"}"#.to_owned(),
        ),
        ("DELETE", "/menu_items?sku=not.is.null", String::new()),
        ("DELETE", "/orders?id=not.is.null", String::new()),
        ("POST", "/orders", order("la-casita")),
        (
            "POST",
            "/menu_items",
            NEW_ITEM.replace("tonys-pizza", "la-casita"),
        ),
        (
            "POST",
            "/tasks",
            format!(r#"{{"order_id": "{ORDER_A}", "kind": "callback"}}"#),
        ),
    ] {
        let r = send(&f.app, method, path, Some(&tony), &[], &body).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::FORBIDDEN, "42501"),
            "{method} {path} {body}: {}",
            r.body
        );
    }
    assert_eq!(snapshot(&f.db).await, before);
    // Its own store: fine.
    let r = post(
        &f.app,
        "/orders?select=store_id,total_cents",
        &tony,
        "return=representation",
        &order("tonys-pizza"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.json(),
        json!([{"store_id": "tonys-pizza", "total_cents": 100}])
    );
    let r = post(&f.app, "/menu_items", &tony, "", NEW_ITEM).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn agents_update_only_their_tasks_and_orders() {
    let f = fixture().await;
    let wanda = agent(WORKER_1);
    // A verify_order task is finished by deciding its order, not by marking it done.
    let before = snapshot(&f.db).await;
    let r = patch(
        &f.app,
        "/tasks?id=not.is.null",
        &wanda,
        "",
        r#"{"status": "completed"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "22023"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("completed by approving or rejecting its order"),
        "{}",
        r.body
    );
    assert_eq!(snapshot(&f.db).await, before);
    // The order behind its task: confirmed or rejected only; the task is then completed.
    let r = patch(
        &f.app,
        &format!("/orders?id=eq.{ORDER_C}"),
        &wanda,
        "",
        r#"{"status": "confirmed"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        sql(&f.db, "SELECT id, status FROM orders ORDER BY id").await,
        json!([{"id": ORDER_A, "status": "confirmed"}, {"id": ORDER_C, "status": "confirmed"}])
    );
    assert_eq!(
        sql(&f.db, "SELECT id, status FROM tasks ORDER BY id").await,
        json!([{"id": TASK_1, "status": "completed"}, {"id": TASK_2, "status": "reserved"}])
    );
    let before = snapshot(&f.db).await;
    let r = patch(
        &f.app,
        &format!("/orders?id=eq.{ORDER_C}"),
        &wanda,
        "",
        r#"{"status": "cancelled"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::FORBIDDEN, "42501"),
        "{}",
        r.body
    );
    assert_eq!(snapshot(&f.db).await, before);
    // Once decided, the order is no longer the agent's to decide (its task is done); another's
    // order is not even matched. Nothing changes.
    let r = patch(
        &f.app,
        "/orders?id=not.is.null",
        &wanda,
        "",
        r#"{"status": "rejected"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::FORBIDDEN, "42501"),
        "{}",
        r.body
    );
    assert!(r.body.contains("not this agent's to decide"), "{}", r.body);
    assert_eq!(snapshot(&f.db).await, before);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "UPDATE orders SET status = 'confirmed' WHERE id = '{ORDER_C}'"
    )))
    .execute(f.db.pool())
    .await
    .unwrap();
    let before = snapshot(&f.db).await;
    for (method, path, body) in [
        ("PATCH", "/tasks?id=not.is.null", r#"{"worker_id": null}"#),
        ("PATCH", "/tasks?id=not.is.null", r#"{"priority": 100}"#),
        ("POST", "/tasks", r#"{"call_sid": "x", "kind": "callback"}"#),
        ("DELETE", "/tasks?id=not.is.null", ""),
        (
            "PATCH",
            "/menu_items?sku=not.is.null",
            r#"{"available": false}"#,
        ),
    ] {
        let r = send(&f.app, method, path, Some(&wanda), &[], body).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::FORBIDDEN, "42501"),
            "{method} {path}: {}",
            r.body
        );
    }
    assert_eq!(snapshot(&f.db).await, before);

    // anon: nothing, and told to authenticate.
    for (method, path, body) in [
        ("POST", "/menu_items", NEW_ITEM),
        (
            "PATCH",
            "/orders?id=not.is.null",
            r#"{"status": "cancelled"}"#,
        ),
        ("DELETE", "/orders?id=not.is.null", ""),
        (
            "PUT",
            "/menu_items?store_id=eq.tonys-pizza&sku=eq.calzone",
            NEW_ITEM,
        ),
        (
            "POST",
            "/rpc/order_summary",
            r#"{"order_id": "00000000-0000-4000-8000-00000000000a"}"#,
        ),
    ] {
        let r = send(&f.app, method, path, None, &[], body).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::UNAUTHORIZED, "42501"),
            "{method} {path}: {}",
            r.body
        );
    }
    assert_eq!(snapshot(&f.db).await, before);
}

#[tokio::test]
async fn write_injection_attempts_are_rejected_and_harmless() {
    let f = fixture().await;
    let t = service();
    let before = snapshot(&f.db).await;
    for (path, prefer, code) in [
        (
            "/menu_items?on_conflict=sku);DROP TABLE orders;--",
            "resolution=merge-duplicates",
            "PGRST100",
        ),
        (
            "/menu_items?on_conflict=\"sku\"\"); DROP TABLE orders; --\"",
            "resolution=merge-duplicates",
            "PGRST100",
        ),
        (
            "/menu_items?on_conflict=\"sku\\\"); DROP TABLE orders; --\"",
            "resolution=merge-duplicates",
            "PGRST204",
        ),
        ("/menu_items?columns=sku,(SELECT 1)", "", "PGRST100"),
        ("/menu_items?columns=\"name\\\" = 'x'; --\"", "", "PGRST204"),
        (
            "/menu_items?select=sku;DELETE FROM orders",
            "return=representation",
            "PGRST100",
        ),
        (
            "/menu_items?select=\"x\"\"; DELETE FROM orders; --\"",
            "return=representation",
            "PGRST100",
        ),
        (
            "/menu_items?select=\"x\\\"; DELETE FROM orders; --\"",
            "return=representation",
            "42703",
        ),
    ] {
        let r = post(&f.app, &path.replace(' ', "%20"), &t, prefer, NEW_ITEM).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        assert_eq!(r.code(), code, "{path}");
    }
    // A body key is a column name too.
    let r = post(
        &f.app,
        "/merchants",
        &t,
        "",
        r#"{"name\") VALUES ('x'); DROP TABLE orders; --": 1}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "PGRST204")
    );
    // Values are bound, whatever they hold.
    let evil = "x'); DELETE FROM orders; --";
    let r = patch(
        &f.app,
        "/menu_items?store_id=eq.tonys-pizza&sku=eq.wings&select=description",
        &t,
        "return=representation",
        &json!({"description": evil}).to_string(),
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::OK, json!([{"description": evil}]))
    );
    let r = get(
        &f.app,
        &format!(
            "/rpc/store_order_stats?store_id={}",
            evil.replace(' ', "%20")
        ),
        &t,
    )
    .await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, json!([])));
    let mut after = snapshot(&f.db).await;
    let mut want = before;
    // Only the description changed (in the menu table, and so in Tony's document).
    let documented = sql(
        &f.db,
        "SELECT item->>'description' AS d FROM stores, jsonb_array_elements(document->'menu'->'items') item
          WHERE id = 'tonys-pizza' AND item->>'sku' = 'wings'",
    )
    .await;
    assert_eq!(documented, json!([{"d": evil}]));
    for v in [&mut after, &mut want] {
        for item in v[0]["menu"].as_array_mut().unwrap() {
            item.as_object_mut().unwrap().remove("description");
            item.as_object_mut().unwrap().remove("updated_at");
        }
        v[0].as_object_mut().unwrap().remove("stores");
    }
    assert_eq!(after, want);
}

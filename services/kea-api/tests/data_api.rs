//! The data API (`/rest/v1`, PostgREST's dialect) in process (axum `oneshot`) against a real
//! database: the conformance tools' queries, every operator compared with direct SQL, embedding,
//! ranges and counts, errors, and tenancy enforced by PostgreSQL.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

#[path = "common/data_api.rs"]
mod fixture;

use std::time::Duration;

use fixture::*;

fn ids(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].to_string())
        .collect()
}

#[tokio::test]
async fn caller_tool_queries_match_direct_sql() {
    let f = fixture().await;
    let t = service();
    let r = get(&f.app, &format!("/calls?call_sid=eq.{CALL_A}&select=*"), &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.json(),
        sql(
            &f.db,
            &format!("SELECT * FROM api.calls WHERE call_sid = '{CALL_A}'")
        )
        .await
    );
    assert_eq!(r.json()[0]["outcome"], "order_placed");
    assert_eq!(r.content_range(), "0-0/*");
    // A status no call can have (the column's type, a domain, refuses it on write) filters to
    // nothing, as a string compared with a string: not an error.
    let r = get(&f.app, "/calls?status=eq.lost&select=call_sid", &t).await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::OK, serde_json::json!([])),
        "{}",
        r.body
    );
    // Where the time went, as the W3C Server-Timing header says it.
    let timing = r.header("server-timing");
    for phase in ["plan;dur=", "db;dur=", "render;dur="] {
        assert!(timing.contains(phase), "{timing}");
    }

    let r = get(
        &f.app,
        &format!("/orders?call_sid=eq.{CALL_A}&select=*,order_items(*)"),
        &t,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let want = sql(
        &f.db,
        &format!(
            "SELECT o.*, (SELECT coalesce(json_agg(i), '[]') FROM api.order_items i WHERE i.order_id = o.id) AS order_items
             FROM api.orders o WHERE o.call_sid = '{CALL_A}'"
        ),
    )
    .await;
    let mut got = r.json();
    let sort = |v: &mut Value| {
        if let Some(items) = v[0]["order_items"].as_array_mut() {
            items.sort_by_key(|i| i["id"].as_i64());
        }
    };
    let mut want = want;
    sort(&mut got);
    sort(&mut want);
    assert_eq!(got, want);
    assert_eq!(got[0]["order_items"].as_array().unwrap().len(), 2);
    assert_eq!(got[0]["total_cents"], 3250);
    assert_eq!(
        got[0]["order_items"][0]["modifiers"],
        json!(["extra-cheese"])
    );

    let r = get(
        &f.app,
        &format!("/orders?call_sid=eq.{CALL_A}&select=id,status,total_cents,customer_phone"),
        &t,
    )
    .await;
    assert_eq!(
        r.json(),
        sql(&f.db, &format!("SELECT id, status, total_cents, customer_phone FROM api.orders WHERE call_sid = '{CALL_A}'")).await
    );

    let r = get(
        &f.app,
        &format!("/tasks?order_id=eq.{ORDER_C}&select=*"),
        &t,
    )
    .await;
    assert_eq!(
        r.json(),
        sql(
            &f.db,
            &format!("SELECT * FROM api.tasks WHERE order_id = '{ORDER_C}'")
        )
        .await
    );
    assert_eq!(r.json().as_array().unwrap().len(), 1);

    // The store view never shows the POS credentials.
    let r = get(&f.app, "/stores?select=*&order=id", &t).await;
    assert_eq!(
        r.json(),
        sql(&f.db, "SELECT * FROM api.stores ORDER BY id").await
    );
    assert!(!r.body.contains("pos_secret") && !r.body.contains("pos_access_token"));
    let r = get(&f.app, "/stores?select=pos_secret", &t).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "42703")
    );
}

#[tokio::test]
async fn every_operator_matches_direct_sql() {
    let f = fixture().await;
    let t = service();
    let cases: &[(&str, &str)] = &[
        ("quantity=eq.2", "quantity = 2"),
        ("quantity=neq.2", "quantity <> 2"),
        ("quantity=gt.1", "quantity > 1"),
        ("quantity=gte.2", "quantity >= 2"),
        ("quantity=lt.3", "quantity < 3"),
        ("quantity=lte.1", "quantity <= 1"),
        ("sku=like.pizza*", "sku LIKE 'pizza%'"),
        ("sku=ilike.*ASADA", "sku ILIKE '%asada'"),
        ("name=like.*Pizza", "name LIKE '%Pizza'"),
        (
            "sku=in.(pizza-cheese,taco-asada)",
            "sku IN ('pizza-cheese', 'taco-asada')",
        ),
        (
            "sku=not.in.(pizza-cheese,taco-asada)",
            "sku NOT IN ('pizza-cheese', 'taco-asada')",
        ),
        (
            "notes=in.(\"crispy crust please\",\"x,y\")",
            "notes IN ('crispy crust please', 'x,y')",
        ),
        ("size=is.null", "size IS NULL"),
        ("size=not.is.null", "size IS NOT NULL"),
        ("sku=not.eq.pizza-cheese", "sku <> 'pizza-cheese'"),
        ("sku=match.^taco", "sku ~ '^taco'"),
        ("sku=imatch.^PIZZA", "sku ~* '^PIZZA'"),
        ("size=isdistinct.large", "size IS DISTINCT FROM 'large'"),
        (
            "modifiers=cs.[\"extra-cheese\"]",
            "modifiers @> '[\"extra-cheese\"]'",
        ),
        (
            "modifiers=cd.[\"extra-cheese\",\"x\"]",
            "modifiers <@ '[\"extra-cheese\",\"x\"]'",
        ),
        (
            "modifiers->>0=eq.extra-cheese",
            "modifiers->>0 = 'extra-cheese'",
        ),
        (
            "notes=fts.crispy",
            "to_tsvector(notes) @@ to_tsquery('crispy')",
        ),
        (
            "notes=plfts(english).crusts",
            "to_tsvector('english', notes) @@ plainto_tsquery('english', 'crusts')",
        ),
        (
            "notes=wfts.\"no onions\"",
            "to_tsvector(notes) @@ websearch_to_tsquery('\"no onions\"')",
        ),
        (
            "sku=like(any).{pizza-c*,*asada}",
            "sku LIKE ANY(ARRAY['pizza-c%', '%asada'])",
        ),
        ("quantity=eq(any).{1,3}", "quantity = ANY(ARRAY[1, 3])"),
        ("quantity=gt(all).{0,1}", "quantity > ALL(ARRAY[0, 1])"),
        (
            "or=(quantity.gt.2,and(size.eq.large,sku.not.eq.pizza-pepperoni))",
            "quantity > 2 OR (size = 'large' AND NOT sku = 'pizza-pepperoni')",
        ),
        (
            "not.or=(quantity.eq.1,size.is.null)",
            "NOT (quantity = 1 OR size IS NULL)",
        ),
        (
            "and=(quantity.gte.1,or(sku.eq.taco-asada,notes.ilike.*CRISPY*))&unit_price_cents=lt.1000",
            "quantity >= 1 AND (sku = 'taco-asada' OR notes ILIKE '%crispy%') AND unit_price_cents < 1000",
        ),
    ];
    for (q, cond) in cases {
        let r = get(&f.app, &format!("/order_items?select=id&order=id&{q}"), &t).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
        let want = sql(
            &f.db,
            &format!("SELECT id FROM api.order_items WHERE {cond} ORDER BY id"),
        )
        .await;
        assert_eq!(r.json(), want, "{q}");
    }
    // Arrays and booleans on stores.
    for (q, cond) in [
        ("languages=cs.{es-US}", "languages @> '{es-US}'"),
        ("languages=ov.{es-US,fr-FR}", "languages && '{es-US,fr-FR}'"),
        ("delivery=is.true", "delivery IS TRUE"),
        ("pickup=is.false", "pickup IS FALSE"),
        ("hours->mon->>0=gte.10:00", "hours->'mon'->>0 >= '10:00'"),
    ] {
        let r = get(&f.app, &format!("/stores?select=id&order=id&{q}"), &t).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
        assert_eq!(
            r.json(),
            sql(
                &f.db,
                &format!("SELECT id FROM api.stores WHERE {cond} ORDER BY id")
            )
            .await,
            "{q}"
        );
    }
    // A value of the wrong type is PostgreSQL's 22P02, answered 400.
    let r = get(&f.app, "/order_items?quantity=eq.many", &t).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "22P02")
    );
}

#[tokio::test]
async fn select_renames_casts_and_json_paths() {
    let f = fixture().await;
    let t = service();
    let r = get(&f.app, "/order_items?select=qty:quantity,price:unit_price_cents::text,first:modifiers->>0,modifiers->0&order=id&limit=1", &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.json(),
        json!([{"qty": 2, "price": "1000", "first": "extra-cheese", "modifiers": "extra-cheese"}])
    );
    // JSON paths also reach into arrays, as PostgREST's to_jsonb(col)->… does.
    let r = get(
        &f.app,
        "/stores?select=id,first:languages->>0&languages->>0=eq.en-US&order=id",
        &t,
    )
    .await;
    assert_eq!(
        r.json(),
        sql(&f.db, "SELECT id, languages[1] AS first FROM api.stores WHERE languages[1] = 'en-US' ORDER BY id").await
    );
    let r = get(
        &f.app,
        "/workers?select=name&attributes->languages=cs.[\"en-US\"]",
        &t,
    )
    .await;
    assert_eq!(r.json(), json!([{"name": "Wanda"}]));
    let r = get(&f.app, "/order_items?select=id::regclass", &t).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "42704")
    );
}

#[tokio::test]
async fn embedding_in_both_directions() {
    let f = fixture().await;
    let t = service();
    // many-to-one: an object
    let r = get(
        &f.app,
        "/order_items?select=id,order_id,orders(id,status)&order=id",
        &t,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for item in r.json().as_array().unwrap() {
        assert_eq!(item["orders"]["id"], item["order_id"]);
    }
    // calls → orders: orders.call_sid is unique, so one-to-one: an object or null
    let r = get(
        &f.app,
        "/calls?select=call_sid,orders(id,total_cents)&order=call_sid",
        &t,
    )
    .await;
    assert_eq!(
        r.json(),
        json!([
            {"call_sid": CALL_A, "orders": {"id": ORDER_A, "total_cents": 3250}},
            {"call_sid": CALL_B, "orders": null},
            {"call_sid": CALL_C, "orders": {"id": ORDER_C, "total_cents": 1225}},
        ])
    );
    // calls → call_events with embedded order and limit
    let r = get(&f.app, &format!("/calls?select=call_sid,call_events(seq,kind)&call_sid=eq.{CALL_A}&call_events.order=seq.desc&call_events.limit=2"), &t).await;
    assert_eq!(
        r.json(),
        json!([{"call_sid": CALL_A, "call_events": [{"seq": 2, "kind": "state"}, {"seq": 1, "kind": "twiml"}]}])
    );
    // tasks → orders, and two levels: tasks → orders → order_items
    let r = get(
        &f.app,
        "/tasks?select=id,orders(id,order_items(sku))&order=id",
        &t,
    )
    .await;
    assert_eq!(
        r.json(),
        json!([
            {"id": TASK_1, "orders": {"id": ORDER_C, "order_items": [{"sku": "taco-asada"}]}},
            {"id": TASK_2, "orders": null},
        ])
    );
    // Aliases, embedded filters (rows of the parent stay) and !inner (they go).
    let r = get(
        &f.app,
        "/orders?select=id,lines:order_items(sku)&lines.sku=eq.taco-asada&order=id",
        &t,
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"id": ORDER_A, "lines": []}, {"id": ORDER_C, "lines": [{"sku": "taco-asada"}]}])
    );
    let r = get(
        &f.app,
        "/orders?select=id,order_items!inner(sku)&order_items.sku=eq.taco-asada",
        &t,
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"id": ORDER_C, "order_items": [{"sku": "taco-asada"}]}])
    );
    let r = get(
        &f.app,
        "/orders?select=id,order_items!inner()&order_items.quantity=gt.2",
        &t,
    )
    .await;
    assert_eq!(r.json(), json!([{"id": ORDER_C}]));
    let path = format!(
        "/orders?select=id,order_items(sku)&order_items.or=(quantity.gt.1,size.eq.medium)&order_items.order=line_no.desc&id=eq.{ORDER_A}"
    );
    let r = get(&f.app, &path, &t).await;
    assert_eq!(
        r.json(),
        json!([{"id": ORDER_A, "order_items": [{"sku": "pizza-pepperoni"}, {"sku": "pizza-cheese"}]}])
    );
    // A composite foreign key: order_items (store_id, sku) → menu_items.
    let r = get(
        &f.app,
        "/order_items?select=sku,menu_items(store_id,sku,name)&order=id",
        &t,
    )
    .await;
    for item in r.json().as_array().unwrap() {
        assert_eq!(item["menu_items"]["sku"], item["sku"], "{}", r.body);
    }
    let want = sql(&f.db, "SELECT id, (SELECT count(*) FROM api.menu_items m WHERE m.store_id = s.id) AS n FROM api.stores s ORDER BY id").await;
    let r = get(&f.app, "/stores?select=id,menu_items(sku)&order=id", &t).await;
    for (got, want) in r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .zip(want.as_array().unwrap())
    {
        assert_eq!(
            got["menu_items"].as_array().unwrap().len() as i64,
            want["n"].as_i64().unwrap()
        );
    }
    // Null filters on embeddings: semi- and anti-joins, also inside or=().
    let r = get(
        &f.app,
        "/calls?select=call_sid,orders(id)&orders=is.null",
        &t,
    )
    .await;
    assert_eq!(r.json(), json!([{"call_sid": CALL_B, "orders": null}]));
    let r = get(
        &f.app,
        "/calls?select=call_sid,orders()&orders=not.is.null&order=call_sid",
        &t,
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"call_sid": CALL_A}, {"call_sid": CALL_C}])
    );
    let r = get(
        &f.app,
        "/orders?select=id,order_items(sku)&order_items.sku=eq.taco-asada&order_items=not.is.null",
        &t,
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"id": ORDER_C, "order_items": [{"sku": "taco-asada"}]}])
    );
    let r = get(
        &f.app,
        "/calls?select=call_sid,orders()&or=(orders.is.null,status.eq.in-progress)&order=call_sid",
        &t,
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"call_sid": CALL_B}, {"call_sid": CALL_C}])
    );
    let r = get(&f.app, "/calls?select=*,orders(*)&orders=eq.1", &t).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "PGRST120")
    );
    // Relationship and embedding errors.
    let r = get(&f.app, "/orders?select=*,workers(*)", &t).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "PGRST200")
    );
    let r = get(&f.app, "/orders?order_items.sku=eq.x", &t).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "PGRST108")
    );
}

#[tokio::test]
async fn order_limit_offset_range_and_count() {
    let f = fixture().await;
    let t = service();
    let all = sql(
        &f.db,
        "SELECT id FROM api.order_items ORDER BY size DESC NULLS LAST, id",
    )
    .await;
    let r = get(
        &f.app,
        "/order_items?select=id&order=size.desc.nullslast,id",
        &t,
    )
    .await;
    assert_eq!(r.json(), all);
    let r = get(
        &f.app,
        "/order_items?select=id,size&order=size.asc.nullsfirst",
        &t,
    )
    .await;
    assert_eq!(r.json()[0]["size"], Value::Null);

    let r = get(&f.app, "/order_items?select=id&order=id&limit=2", &t).await;
    assert_eq!((r.status, r.content_range()), (StatusCode::OK, "0-1/*"));
    let r = call(
        &f.app,
        "GET",
        "/order_items?select=id&order=id&limit=2",
        Some(&t),
        &[("prefer", "count=exact")],
    )
    .await;
    assert_eq!(
        (r.status, r.content_range()),
        (StatusCode::PARTIAL_CONTENT, "0-1/3")
    );
    let r = call(
        &f.app,
        "GET",
        "/order_items?select=id&order=id",
        Some(&t),
        &[("prefer", "count=exact")],
    )
    .await;
    assert_eq!((r.status, r.content_range()), (StatusCode::OK, "0-2/3"));
    let r = call(
        &f.app,
        "GET",
        "/order_items?select=id&order=id",
        Some(&t),
        &[
            ("range", "1-2"),
            ("range-unit", "items"),
            ("prefer", "count=exact"),
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.content_range()),
        (StatusCode::PARTIAL_CONTENT, "1-2/3")
    );
    assert_eq!(
        ids(&r.json(), "id"),
        ids(&all_by_id(&f.db).await, "id")[1..3].to_vec()
    );
    let r = get(
        &f.app,
        "/order_items?select=id&order=id&offset=1&limit=1",
        &t,
    )
    .await;
    assert_eq!((r.status, r.content_range()), (StatusCode::OK, "1-1/*"));
    let r = call(
        &f.app,
        "GET",
        "/order_items?offset=10",
        Some(&t),
        &[("prefer", "count=exact")],
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::RANGE_NOT_SATISFIABLE, "PGRST103")
    );
    let r = call(
        &f.app,
        "GET",
        "/order_items?sku=eq.none",
        Some(&t),
        &[("prefer", "count=exact")],
    )
    .await;
    assert_eq!(
        (r.status, r.content_range(), r.body.as_str()),
        (StatusCode::OK, "*/0", "[]")
    );
    let r = get(&f.app, "/order_items?sku=eq.none", &t).await;
    assert_eq!(r.content_range(), "*/*");
    let r = call(&f.app, "GET", "/order_items", Some(&t), &[("range", "3-1")]).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::RANGE_NOT_SATISFIABLE, "PGRST103")
    );
    // Planned counts come from the planner's estimate; estimated ones are exact here.
    let r = call(
        &f.app,
        "GET",
        "/order_items?select=id",
        Some(&t),
        &[("prefer", "count=planned")],
    )
    .await;
    let (range, total) = r.content_range().split_once('/').unwrap();
    assert_eq!(range, "0-2", "{}", r.body);
    assert!(total.parse::<u64>().is_ok(), "{total}");
    let r = call(
        &f.app,
        "GET",
        "/order_items?select=id&quantity=gt.1",
        Some(&t),
        &[("prefer", "count=estimated")],
    )
    .await;
    assert_eq!(r.content_range(), "0-1/2");
    // HEAD: headers, no body.
    let r = call(
        &f.app,
        "HEAD",
        "/order_items",
        Some(&t),
        &[("prefer", "count=exact")],
    )
    .await;
    assert_eq!(
        (r.status, r.content_range(), r.body.as_str()),
        (StatusCode::OK, "0-2/3", "")
    );
}

async fn all_by_id(db: &TestDb) -> Value {
    sql(db, "SELECT id FROM api.order_items ORDER BY id").await
}

#[tokio::test]
async fn singular_object_and_errors() {
    let f = fixture().await;
    let t = service();
    let obj = [("accept", "application/vnd.pgrst.object+json")];
    let r = call(
        &f.app,
        "GET",
        &format!("/orders?id=eq.{ORDER_A}&select=id,status"),
        Some(&t),
        &obj,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({"id": ORDER_A, "status": "confirmed"}));
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/vnd.pgrst.object+json")
    );
    let r = call(&f.app, "GET", "/orders", Some(&t), &obj).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_ACCEPTABLE, "PGRST116")
    );
    assert_eq!(r.json()["details"], "The result contains 2 rows");
    let r = call(
        &f.app,
        "GET",
        "/orders?id=eq.00000000-0000-4000-8000-000000000000",
        Some(&t),
        &obj,
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_ACCEPTABLE, "PGRST116")
    );

    let r = get(&f.app, "/nope", &t).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_FOUND, "PGRST205")
    );
    let body = r.json();
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["code", "details", "hint", "message"]
    );
    for bad in [
        "/orders?status=confirmed",
        "/orders?select=id,",
        "/orders?or=(a.eq.1",
        "/orders?order=id.up",
        "/orders?limit=ten",
    ] {
        let r = get(&f.app, bad, &t).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::BAD_REQUEST, "PGRST100"),
            "{bad}: {}",
            r.body
        );
    }
    let r = get(&f.app, "/orders?nope=eq.1", &t).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "42703")
    );
    assert_eq!(r.json()["message"], "column orders.nope does not exist");
    // Writes without a body (data_api_writes.rs covers writes), and a verb the API lacks.
    for method in ["POST", "PATCH", "PUT"] {
        let r = call(&f.app, method, "/orders", Some(&t), &[]).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::BAD_REQUEST, "PGRST102"),
            "{method}"
        );
    }
    let r = call(&f.app, "TRACE", "/orders", Some(&t), &[]).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "PGRST117")
    );
    let r = call(
        &f.app,
        "GET",
        "/orders",
        Some(&t),
        &[("accept", "application/xml")],
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_ACCEPTABLE, "PGRST107")
    );
    // CSV: a header line, then the rows as PostgreSQL's record output quotes them.
    let csv = [("accept", "text/csv")];
    let r = call(
        &f.app,
        "GET",
        "/order_items?select=id,sku,quantity,notes&order=id",
        Some(&t),
        &csv,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let ids = ids(&all_by_id(&f.db).await, "id");
    assert_eq!(
        r.body,
        format!(
            "id,sku,quantity,notes\n{},pizza-cheese,2,\"crispy crust please\"\n{},pizza-pepperoni,1,\n{},taco-asada,3,\"no onions\"",
            ids[0], ids[1], ids[2]
        )
    );
}

#[tokio::test]
async fn merchants_see_only_their_stores() {
    let f = fixture().await;
    let tony =
        jwt(json!({"role": "merchant", "merchant_id": f.tonys_merchant, "exp": now() + 300}));
    let casita =
        jwt(json!({"role": "merchant", "merchant_id": f.casita_merchant, "exp": now() + 300}));
    let calls = get(&f.app, "/calls?select=call_sid&order=call_sid", &tony).await;
    assert_eq!(
        calls.json(),
        json!([{"call_sid": CALL_A}, {"call_sid": CALL_B}])
    );
    let r = get(&f.app, "/orders?select=id", &tony).await;
    assert_eq!(r.json(), json!([{"id": ORDER_A}]));
    // Asking for the other merchant's rows by filter, embedding or broad query finds nothing.
    for path in [
        format!("/orders?id=eq.{ORDER_C}"),
        "/orders?store_id=eq.la-casita".to_owned(),
        format!("/calls?call_sid=eq.{CALL_C}&select=*,orders(*)"),
        format!("/order_items?order_id=eq.{ORDER_C}"),
        format!("/call_events?call_sid=eq.{CALL_C}"),
        format!("/tasks?id=eq.{TASK_1}"),
        "/stores?id=eq.la-casita".to_owned(),
        "/menu_items?store_id=eq.la-casita".to_owned(),
        "/workers".to_owned(),
    ] {
        let r = get(&f.app, &path, &tony).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (StatusCode::OK, "[]"),
            "{path}"
        );
    }
    let r = get(
        &f.app,
        "/order_items?select=sku,orders(store_id)&order=id",
        &tony,
    )
    .await;
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    assert!(!r.body.contains("la-casita"));
    let r = get(
        &f.app,
        "/stores?select=id,orders(id),calls(call_sid)",
        &tony,
    )
    .await;
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    assert!(!r.body.contains(CALL_C) && !r.body.contains(ORDER_C));
    let r = call(
        &f.app,
        "GET",
        "/order_items?select=id",
        Some(&tony),
        &[("prefer", "count=exact")],
    )
    .await;
    assert_eq!(r.content_range(), "0-1/2");
    let r = get(&f.app, "/tasks?select=id", &tony).await;
    assert_eq!(r.json(), json!([{"id": TASK_2}]));
    // The other merchant sees its own.
    let r = get(&f.app, "/orders?select=id,order_items(sku)", &casita).await;
    assert_eq!(
        r.json(),
        json!([{"id": ORDER_C, "order_items": [{"sku": "taco-asada"}]}])
    );
    // A merchant token without a usable merchant_id sees nothing.
    for claims in [
        json!({"role": "merchant"}),
        json!({"role": "merchant", "merchant_id": "not-a-uuid"}),
    ] {
        let r = get(&f.app, "/orders", &jwt(claims)).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "[]"));
    }
}

#[tokio::test]
async fn agents_see_only_their_tasks_and_what_is_behind_them() {
    let f = fixture().await;
    let wanda = jwt(json!({"role": "agent", "worker_id": WORKER_1, "exp": now() + 300}));
    let r = get(&f.app, "/tasks?select=id", &wanda).await;
    assert_eq!(r.json(), json!([{"id": TASK_1}]));
    let r = get(&f.app, "/orders?select=id,order_items(sku)", &wanda).await;
    assert_eq!(
        r.json(),
        json!([{"id": ORDER_C, "order_items": [{"sku": "taco-asada"}]}])
    );
    let r = get(&f.app, "/calls?select=call_sid,call_events(seq)", &wanda).await;
    assert_eq!(
        r.json(),
        json!([{"call_sid": CALL_C, "call_events": [{"seq": 0}]}])
    );
    let r = get(&f.app, "/workers?select=id", &wanda).await;
    assert_eq!(r.json(), json!([{"id": WORKER_1}]));
    // The store behind the order of its task (to phone it), and no other.
    let r = get(&f.app, "/stores?select=id", &wanda).await;
    assert_eq!(r.json(), json!([{"id": "la-casita"}]));
    for path in [
        format!("/orders?id=eq.{ORDER_A}"),
        format!("/calls?call_sid=eq.{CALL_B}"),
        "/stores?id=eq.tonys-pizza".to_owned(),
        "/merchants".to_owned(),
    ] {
        let r = get(&f.app, &path, &wanda).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (StatusCode::OK, "[]"),
            "{path}"
        );
    }
    let walt = jwt(json!({"role": "agent", "worker_id": WORKER_2}));
    let r = get(&f.app, "/tasks?select=id,calls(call_sid)", &walt).await;
    assert_eq!(
        r.json(),
        json!([{"id": TASK_2, "calls": {"call_sid": CALL_B}}])
    );
    let r = get(&f.app, "/orders", &walt).await;
    assert_eq!(r.body, "[]");
}

#[tokio::test]
async fn tokens_are_checked() {
    let f = fixture().await;
    let expired = jwt(json!({"role": "service", "exp": now() - 60}));
    let r = get(&f.app, "/orders", &expired).await;
    assert_eq!(
        (r.status, r.code().as_str(), r.json()["message"].as_str()),
        (StatusCode::UNAUTHORIZED, "PGRST301", Some("JWT expired"))
    );
    assert!(r.headers.contains_key("www-authenticate"));
    // Within the 30 s leeway.
    let r = get(
        &f.app,
        "/orders",
        &jwt(json!({"role": "service", "exp": now() - 10})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get(
        &f.app,
        "/orders",
        &jwt(json!({"role": "service", "nbf": now() + 120})),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "PGRST301")
    );
    // A merchant token with its payload swapped for service claims fails the signature.
    let tony = jwt(json!({"role": "merchant", "merchant_id": f.tonys_merchant}));
    let service_payload = service();
    let mut parts: Vec<&str> = tony.split('.').collect();
    parts[1] = service_payload.split('.').nth(1).unwrap();
    let r = get(&f.app, "/orders", &parts.join(".")).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "PGRST301")
    );
    let other = encode(
        &Header::new(Algorithm::HS256),
        &json!({"role": "service"}),
        &EncodingKey::from_secret(b"some-other-secret-some-other-secret"),
    )
    .unwrap();
    let r = get(&f.app, "/orders", &other).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "PGRST301")
    );
    // No token: the anon role, which may read nothing.
    let r = call(&f.app, "GET", "/orders", None, &[]).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "42501")
    );
    // A role kea does not have.
    let r = get(&f.app, "/orders", &jwt(json!({"role": "postgres"}))).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::FORBIDDEN, "42501")
    );
    // A server without a JWT secret refuses every data-API request.
    let r = call(
        &app_with(&f.db, None),
        "GET",
        "/orders",
        Some(&service()),
        &[],
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "PGRST300")
    );
}

#[tokio::test]
async fn injection_attempts_are_rejected_or_harmless() {
    let f = fixture().await;
    let tony = jwt(json!({"role": "merchant", "merchant_id": f.tonys_merchant}));
    let attempts = [
        "/orders?select=id;DELETE FROM orders",
        "/orders?select=id,(SELECT 1)",
        "/orders?select=\"id\"\"; DELETE FROM orders; --\"",
        "/orders?order=id;DELETE FROM orders",
        "/orders?order=id.desc,(SELECT 1)",
        "/orders?status=eq.x'); DELETE FROM orders; --",
        "/orders?status=in.(x'),(DELETE FROM orders))",
        "/orders?or=(status.eq.x') OR true; --,id.is.null)",
        "/orders?id=eq.1 OR 1=1",
        "/orders?store_id=like.*%27 OR %271%27=%271",
        "/orders?select=id::text;DELETE FROM orders",
        "/orders?select=id,order_items!inner;DROP(*)",
        "/orders?\"id\"\") OR true --\"=eq.1",
        "/orders?select=*,stores(pos_secret)",
        "/orders?limit=1;DELETE FROM orders",
        "/orders?select=customer_phone->>'x'",
        "/orders?store_id=fts(english%27)).x",
    ];
    for a in attempts {
        let path = a.replace(' ', "%20");
        let r = get(&f.app, &path, &tony).await;
        assert!(
            r.status == StatusCode::OK || r.status.is_client_error(),
            "{a}: {} {}",
            r.status,
            r.body
        );
        if r.status == StatusCode::OK {
            assert!(
                !r.body.contains(ORDER_C) && !r.body.contains("la-casita"),
                "{a}: {}",
                r.body
            );
        }
    }
    let counts = sql(&f.db, "SELECT (SELECT count(*) FROM orders) AS o, (SELECT count(*) FROM order_items) AS i, (SELECT count(*) FROM stores) AS s").await;
    assert_eq!(counts, json!([{"o": 2, "i": 3, "s": 2}]));
}

#[tokio::test]
async fn schema_changes_are_picked_up_on_notify() {
    let f = fixture().await;
    let t = service();
    let r = get(&f.app, "/order_totals", &t).await;
    assert_eq!(r.code(), "PGRST205");
    sqlx::raw_sql(
        "CREATE VIEW api.order_totals WITH (security_invoker = true) AS SELECT id, total_cents FROM orders;
         GRANT SELECT ON api.order_totals TO kea_service;
         NOTIFY pgrst, 'reload schema';",
    )
    .execute(f.db.pool())
    .await
    .unwrap();
    let mut last = String::new();
    for _ in 0..100 {
        let r = get(
            &f.app,
            "/order_totals?select=total_cents&order=total_cents",
            &t,
        )
        .await;
        if r.status == StatusCode::OK {
            assert_eq!(
                r.json(),
                json!([{"total_cents": 1225}, {"total_cents": 3250}])
            );
            return;
        }
        last = r.body;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the new view never became visible: {last}");
}

/// The data API's connections keep the last request's role and claims at session level; on a
/// pool of one connection, every request (after another tenant's, after a failed one, after an
/// anonymous one) must still see exactly its own rows.
#[tokio::test]
async fn one_connection_serving_every_tenant_in_turn_never_leaks_rows() {
    let f = fixture().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(f.db.url())
        .await
        .unwrap();
    let config = common::config("http://127.0.0.1:8080", "t", Some(SECRET));
    let app = router(AppState::new(pool, config));
    let tony =
        jwt(json!({"role": "merchant", "merchant_id": f.tonys_merchant, "exp": now() + 300}));
    let casita =
        jwt(json!({"role": "merchant", "merchant_id": f.casita_merchant, "exp": now() + 300}));
    let stores = |r: &Res| -> Vec<String> {
        r.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["store_id"].as_str().unwrap().to_owned())
            .collect()
    };
    for _ in 0..3 {
        let all = get(&app, "/orders?select=store_id&order=store_id", &service()).await;
        assert_eq!(stores(&all), ["la-casita", "tonys-pizza"]);
        let mine = get(&app, "/orders?select=store_id", &tony).await;
        assert_eq!(stores(&mine), ["tonys-pizza"]);
        // A statement that fails after the settings were made…
        let bad = get(&app, "/orders?id=eq.not-a-uuid", &casita).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
        // A function call as one tenant…
        let stats = get(&app, "/rpc/store_order_stats?store_id=tonys-pizza", &casita).await;
        assert_eq!((stats.status, stats.body.as_str()), (StatusCode::OK, "[]"));
        let mine = get(&app, "/orders?select=store_id", &tony).await;
        assert_eq!(stores(&mine), ["tonys-pizza"]);
        // …and an anonymous request change nothing for the next one.
        let anon = call(&app, "GET", "/orders", None, &[]).await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{}", anon.body);
        let theirs = get(&app, "/orders?select=store_id", &casita).await;
        assert_eq!(stores(&theirs), ["la-casita"]);
    }
    // A write in between runs in its own transaction and leaves reads read-only.
    let patch = call(
        &app,
        "PATCH",
        &format!("/orders?id=eq.{ORDER_A}"),
        Some(&tony),
        &[("content-type", "application/json")],
    )
    .await;
    let _ = patch;
    let after = get(&app, "/orders?select=store_id", &casita).await;
    assert_eq!(stores(&after), ["la-casita"]);
}

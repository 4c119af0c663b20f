"""Every filter operator through the `postgrest` package's own methods where it has one and its
raw `.filter()` where it has none, each compared with the rows a direct SQL query returns."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from conftest import service, sql_rows

Q = Any

# (name, table, what the client adds to select("*"), the same condition in SQL[, order key])
CASES: list[tuple[Any, ...]] = [
    ("eq", "orders", lambda q: q.eq("status", "confirmed"), "status = 'confirmed'"),
    ("neq", "orders", lambda q: q.neq("status", "confirmed"), "status <> 'confirmed'"),
    ("gt", "orders", lambda q: q.gt("total_cents", 1519), "total_cents > 1519"),
    ("gte", "orders", lambda q: q.gte("total_cents", 1519), "total_cents >= 1519"),
    ("lt on a timestamp", "orders", lambda q: q.lt("created_at", "2026-11-21T08:01:30Z"),
     "created_at < '2026-11-21T08:01:30Z'"),
    ("lte on a timestamp", "orders", lambda q: q.lte("created_at", "2026-11-21T08:01:30Z"),
     "created_at <= '2026-11-21T08:01:30Z'"),
    ("gt on a real", "orders", lambda q: q.gt("confidence", 0.8), "confidence > 0.8::real"),
    ("like", "orders", lambda q: q.like("customer_name", "Alice*"), "customer_name LIKE 'Alice%'"),
    ("ilike", "orders", lambda q: q.ilike("customer_name", "alice*"), "customer_name ILIKE 'alice%'"),
    ("match", "orders", lambda q: q.filter("customer_name", "match", "^[A-Z][a-z]+ [A-Z]"),
     "customer_name ~ '^[A-Z][a-z]+ [A-Z]'"),
    ("imatch", "orders", lambda q: q.filter("customer_name", "imatch", "^(alice|bob)"),
     "customer_name ~* '^(alice|bob)'"),
    ("in", "orders", lambda q: q.in_("status", ["confirmed", "cancelled"]),
     "status IN ('confirmed', 'cancelled')"),
    ("in with a comma inside a value", "orders",
     lambda q: q.in_("delivery_address", ["12 Main Street, Springfield", "nowhere"]),
     "delivery_address IN ('12 Main Street, Springfield', 'nowhere')"),
    ("is null", "orders", lambda q: q.is_("customer_name", None), "customer_name IS NULL"),
    ("is true", "menu_items", lambda q: q.is_("available", True).eq("store_id", "la-casita"),
     "available IS TRUE AND store_id = 'la-casita'", "sku"),
    ("is false", "stores", lambda q: q.is_("delivery", False), "delivery IS FALSE"),
    ("isdistinct", "orders", lambda q: q.filter("customer_name", "isdistinct", "Alice Smith"),
     "customer_name IS DISTINCT FROM 'Alice Smith'"),
    ("cs on text[]", "stores", lambda q: q.contains("languages", ["en-US", "es-US"]),
     "languages @> ARRAY['en-US', 'es-US']"),
    ("cd on text[]", "stores", lambda q: q.contained_by("languages", ["en-US", "es-US"]),
     "languages <@ ARRAY['en-US', 'es-US']"),
    ("ov on text[]", "stores", lambda q: q.ov("languages", ["es-US", "fr-CA"]),
     "languages && ARRAY['es-US', 'fr-CA']"),
    ("cs on a jsonb array", "order_items", lambda q: q.filter("modifiers", "cs", '["extra-cheese"]'),
     "modifiers @> '[\"extra-cheese\"]'::jsonb"),
    ("cs on a jsonb object", "workers", lambda q: q.contains("attributes", {"skills": ["spanish"]}),
     "attributes @> '{\"skills\": [\"spanish\"]}'::jsonb"),
    ("cd on a jsonb array", "order_items",
     lambda q: q.filter("modifiers", "cd", '["milk-oat","extra-shot","no-onion"]'),
     "modifiers <@ '[\"milk-oat\",\"extra-shot\",\"no-onion\"]'::jsonb"),
    ("fts", "order_items", lambda q: q.fts("notes", "extra & crispy"),
     "to_tsvector(notes) @@ to_tsquery('extra & crispy')"),
    ("fts with a config", "order_items", lambda q: q.text_search("notes", "crisp:*", {"config": "english"}),
     "to_tsvector('english', notes) @@ to_tsquery('english', 'crisp:*')"),
    ("plfts", "order_items", lambda q: q.plfts("notes", "extra crispy"),
     "to_tsvector(notes) @@ plainto_tsquery('extra crispy')"),
    ("plfts with a config", "order_items",
     lambda q: q.text_search("notes", "extra crispy", {"type": "plain", "config": "english"}),
     "to_tsvector('english', notes) @@ plainto_tsquery('english', 'extra crispy')"),
    ("phfts", "order_items", lambda q: q.phfts("notes", "extra crispy"),
     "to_tsvector(notes) @@ phraseto_tsquery('extra crispy')"),
    ("wfts", "order_items", lambda q: q.wfts("notes", '"extra crispy" -tortillas'),
     "to_tsvector(notes) @@ websearch_to_tsquery('\"extra crispy\" -tortillas')"),
    ("not.eq", "orders", lambda q: q.not_.eq("status", "confirmed"), "NOT (status = 'confirmed')"),
    ("not.in", "orders", lambda q: q.not_.in_("status", ["confirmed", "cancelled"]),
     "NOT (status IN ('confirmed', 'cancelled'))"),
    ("not.is null", "orders", lambda q: q.not_.is_("call_sid", None), "call_sid IS NOT NULL"),
    ("not.ilike", "orders", lambda q: q.not_.ilike("customer_name", "alice*"),
     "NOT (customer_name ILIKE 'alice%')"),
    ("not.cs", "stores", lambda q: q.not_.contains("languages", ["es-US"]),
     "NOT (languages @> ARRAY['es-US'])"),
    ("not.or", "orders", lambda q: q.not_.or_("status.eq.confirmed,fulfillment.eq.delivery"),
     "NOT (status = 'confirmed' OR fulfillment = 'delivery')"),
    ("or", "orders", lambda q: q.or_("status.eq.cancelled,total_cents.gt.3000"),
     "status = 'cancelled' OR total_cents > 3000"),
    ("or with and nested", "orders",
     lambda q: q.or_("and(status.eq.confirmed,fulfillment.eq.delivery),customer_name.is.null"),
     "(status = 'confirmed' AND fulfillment = 'delivery') OR customer_name IS NULL"),
    ("or, and, or nested", "orders",
     lambda q: q.or_("and(fulfillment.eq.pickup,or(status.eq.cancelled,total_cents.lt.500)),status.eq.pos_failed"),
     "(fulfillment = 'pickup' AND (status = 'cancelled' OR total_cents < 500)) OR status = 'pos_failed'"),
    ("or with quoted values (comma, quote)", "orders",
     lambda q: q.or_('customer_name.eq."Frank O\'Brien",delivery_address.eq."99 Oak Avenue, Shelbyville"'),
     "customer_name = 'Frank O''Brien' OR delivery_address = '99 Oak Avenue, Shelbyville'"),
    ("not.and inside or", "orders",
     lambda q: q.or_("not.and(status.eq.confirmed,fulfillment.eq.pickup),total_cents.lt.0"),
     "NOT (status = 'confirmed' AND fulfillment = 'pickup') OR total_cents < 0"),
    ("like(any)", "orders", lambda q: q.like_any_of("customer_name", "Alice*,*Diaz"),
     "customer_name LIKE ANY (ARRAY['Alice%', '%Diaz'])"),
    ("like(all)", "orders", lambda q: q.like_all_of("customer_name", "A*,*h"),
     "customer_name LIKE ALL (ARRAY['A%', '%h'])"),
    ("ilike(any)", "orders", lambda q: q.ilike_any_of("customer_name", "alice*,BOB*"),
     "customer_name ILIKE ANY (ARRAY['alice%', 'BOB%'])"),
    ("ilike(all)", "orders", lambda q: q.ilike_all_of("customer_name", "*a*,*i*"),
     "customer_name ILIKE ALL (ARRAY['%a%', '%i%'])"),
    ("eq(any)", "orders", lambda q: q.filter("status", "eq(any)", "{confirmed,cancelled}"),
     "status = ANY (ARRAY['confirmed', 'cancelled'])"),
    ("neq(all)", "orders", lambda q: q.filter("status", "neq(all)", "{confirmed,cancelled}"),
     "status <> ALL (ARRAY['confirmed', 'cancelled'])"),
    ("gte(any)", "orders", lambda q: q.filter("total_cents", "gte(any)", "{3000,3669}"),
     "total_cents >= ANY (ARRAY[3000, 3669])"),
    ("match(any)", "orders", lambda q: q.filter("customer_name", "match(any)", "{^Eve,^Carol}"),
     "customer_name ~ ANY (ARRAY['^Eve', '^Carol'])"),
    ("a JSON path (->>)", "call_events", lambda q: q.eq("payload->>text", "hello"),
     "payload->>'text' = 'hello'", "call_sid,seq"),
]

ORDER_KEYS = {"orders": "id", "stores": "id", "order_items": "id", "workers": "id", "menu_items": "sku"}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_filter(case: tuple[Any, ...]) -> None:
    name, table, apply, where = case[:4]
    key = case[4] if len(case) > 4 else ORDER_KEYS[table]
    fn: Callable[[Q], Q] = apply
    q = fn(service().from_(table).select("*"))
    for k in key.split(","):
        q = q.order(k)
    got = q.execute().data
    want = sql_rows(f"SELECT * FROM api.{table} WHERE {where} ORDER BY {key}")
    assert got == want
    assert want, f"the seed should match some rows for {name}"


def test_filter_on_embedded_rows_only() -> None:
    got = (
        service()
        .from_("orders")
        .select("id,order_items(line_no,sku,quantity)")
        .gt("order_items.quantity", 1)
        .order("line_no", foreign_table="order_items")
        .order("id")
        .execute()
        .data
    )
    want = sql_rows(
        """SELECT o.id, (SELECT coalesce(json_agg(i), '[]'::json) FROM (
                             SELECT line_no, sku, quantity FROM api.order_items
                             WHERE order_id = o.id AND quantity > 1 ORDER BY line_no) i) AS order_items
           FROM api.orders o ORDER BY o.id"""
    )
    assert got == want

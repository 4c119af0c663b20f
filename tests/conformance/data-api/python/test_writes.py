"""Writes through the `postgrest` package: insert (one row, many, return=minimal and
representation), update, delete, upsert (on_conflict, ignore_duplicates), tx=rollback, and the
errors writes produce (23505 → 409, PGRST204, 42501 → 403), each checked with direct SQL. Every row
created here carries RUN in a name or sku and is removed at the end."""

from __future__ import annotations

from typing import Any

import pytest
from postgrest import CountMethod, ReturnMethod

from conftest import ANA, RUN, fails, last_status, merchant_a, service, sql, sql_rows, sql_value

SKU = f"{RUN}-item"


def name(n: int) -> str:
    return f"{RUN} worker {n}"


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    sql("DELETE FROM workers WHERE name LIKE %s", [f"{RUN} %"])
    sql("DELETE FROM menu_items WHERE sku LIKE %s", [f"{RUN}%"])
    sql("DELETE FROM orders WHERE customer_name LIKE %s", [f"{RUN} %"])
    sql(
        """UPDATE menu_items SET name = 'Conformance Special', price_cents = 1000, category = 'Test'
           WHERE sku = 'conformance-special' AND store_id = 'tonys-pizza'"""
    )


def by(key: str):
    return lambda row: row[key]


def test_insert_one_representation() -> None:
    got = (
        service()
        .from_("workers")
        .insert({"name": name(1), "activity": "busy", "attributes": {"skills": ["verify"], "languages": ["en-US"]}})
        .execute()
        .data
    )
    assert last_status() == 201
    assert len(got) == 1
    assert got == sql_rows("SELECT * FROM api.workers WHERE id = %s", [got[0]["id"]])


def test_insert_many_minimal_with_count() -> None:
    res = (
        service()
        .from_("workers")
        .insert(
            [{"name": name(2)}, {"name": name(3), "activity": "available"}],
            returning=ReturnMethod.minimal,
            count=CountMethod.exact,
            default_to_null=False,
        )
        .execute()
    )
    assert last_status() == 201
    assert res.data == []
    assert res.count == 2
    want = sql_rows(
        "SELECT name, activity FROM api.workers WHERE name IN (%s, %s) ORDER BY name", [name(2), name(3)]
    )
    assert want == [{"name": name(2), "activity": "offline"}, {"name": name(3), "activity": "available"}]


def test_insert_many_missing_key_is_null_by_default() -> None:
    fails(service().from_("workers").insert([{"name": name(9)}, {"name": name(10), "activity": "busy"}]), 400, "23502")
    assert sql_value("SELECT count(*) FROM workers WHERE name IN (%s, %s)", [name(9), name(10)]) == 0


def test_insert_select_shapes_representation() -> None:
    got = service().from_("workers").insert({"name": name(4)}).select("who:name,activity").execute().data
    assert got == [{"who": name(4), "activity": "offline"}]


def test_unique_violation_is_409() -> None:
    fails(service().from_("workers").insert({"id": ANA, "name": name(5)}), 409, "23505")
    assert sql_value("SELECT count(*) FROM workers WHERE name = %s", [name(5)]) == 0


def test_check_violation_is_400() -> None:
    fails(service().from_("workers").insert({"name": name(6), "activity": "asleep"}), 400, "23514")


def test_unknown_column_is_pgrst204() -> None:
    fails(service().from_("workers").insert({"name": name(7), "nonesuch": 1}), 400, "PGRST204")


def test_update_representation() -> None:
    got = service().from_("workers").update({"activity": "available"}).like("name", f"{RUN} worker *").execute().data
    assert last_status() == 200
    want = sql_rows("SELECT * FROM api.workers WHERE name LIKE %s ORDER BY name", [f"{RUN} worker %"])
    assert sorted(got, key=by("name")) == want
    assert len(want) >= 3 and all(w["activity"] == "available" for w in want)


def test_update_minimal() -> None:
    res = (
        service()
        .from_("workers")
        .update({"attributes": {"skills": ["callback"]}}, returning=ReturnMethod.minimal)
        .eq("name", name(1))
        .execute()
    )
    assert last_status() == 204
    assert res.data == []
    assert sql_value("SELECT attributes FROM workers WHERE name = %s", [name(1)]) == {"skills": ["callback"]}


def test_tx_rollback() -> None:
    q: Any = service().from_("workers").update({"activity": "busy"}).eq("name", name(2)).select("name,activity")
    q.request.headers["Prefer"] = q.request.headers["Prefer"] + ",tx=rollback"
    assert q.execute().data == [{"name": name(2), "activity": "busy"}]
    assert sql_value("SELECT activity FROM workers WHERE name = %s", [name(2)]) == "available"


def test_delete_representation() -> None:
    before = sql_rows("SELECT * FROM api.workers WHERE name IN (%s, %s) ORDER BY name", [name(3), name(4)])
    got = service().from_("workers").delete().in_("name", [name(3), name(4)]).execute().data
    assert last_status() == 200
    assert sorted(got, key=by("name")) == before
    assert sql_value("SELECT count(*) FROM workers WHERE name IN (%s, %s)", [name(3), name(4)]) == 0


def test_delete_minimal() -> None:
    service().from_("workers").delete(returning=ReturnMethod.minimal).eq("name", name(2)).execute()
    assert last_status() == 204
    assert sql_value("SELECT count(*) FROM workers WHERE name = %s", [name(2)]) == 0


def test_upsert_merge_on_composite_key() -> None:
    got = (
        service()
        .from_("menu_items")
        .upsert(
            [
                {"store_id": "tonys-pizza", "sku": "conformance-special", "name": f"{RUN} special",
                 "price_cents": 1100, "category": "Test"},
                {"store_id": "tonys-pizza", "sku": SKU, "name": f"{RUN} new", "price_cents": 500, "category": "Test"},
            ],
            on_conflict="store_id,sku",
        )
        .select("store_id,sku,name,price_cents")
        .execute()
        .data
    )
    assert last_status() == 201
    want = sql_rows(
        """SELECT store_id, sku, name, price_cents FROM api.menu_items
           WHERE store_id = 'tonys-pizza' AND sku IN ('conformance-special', %s) ORDER BY sku""",
        [SKU],
    )
    assert sorted(got, key=by("sku")) == want
    assert len(want) == 2
    assert next(r for r in want if r["sku"] == "conformance-special")["name"] == f"{RUN} special"


def test_upsert_ignore_duplicates() -> None:
    got = (
        service()
        .from_("menu_items")
        .upsert(
            [
                {"store_id": "tonys-pizza", "sku": "conformance-special", "name": "ignored", "price_cents": 1,
                 "category": "Test"},
                {"store_id": "tonys-pizza", "sku": f"{SKU}-2", "name": f"{RUN} newer", "price_cents": 2,
                 "category": "Test"},
            ],
            on_conflict="store_id,sku",
            ignore_duplicates=True,
        )
        .select("sku,name")
        .execute()
        .data
    )
    assert got == [{"sku": f"{SKU}-2", "name": f"{RUN} newer"}]
    assert (
        sql_value("SELECT name FROM menu_items WHERE store_id = 'tonys-pizza' AND sku = 'conformance-special'")
        == f"{RUN} special"
    )


def test_upsert_on_primary_key() -> None:
    [row] = service().from_("workers").insert({"name": name(8)}).execute().data
    got = (
        service()
        .from_("workers")
        .upsert({"id": row["id"], "name": name(8), "activity": "busy", "attributes": {}})
        .select("id,name,activity")
        .execute()
        .data
    )
    assert got == [{"id": row["id"], "name": name(8), "activity": "busy"}]
    assert sql_value("SELECT activity FROM workers WHERE id = %s", [row["id"]]) == "busy"


def order_row(store_id: str, n: int) -> dict[str, Any]:
    return {
        "store_id": store_id,
        "status": "confirmed",
        "customer_name": f"{RUN} customer {n}",
        "customer_phone": "+15559870000",
        "fulfillment": "pickup",
        "subtotal_cents": 1000,
        "tax_cents": 80,
        "total_cents": 1080,
    }


def test_merchant_inserts_order_in_own_store() -> None:
    got = merchant_a().from_("orders").insert(order_row("tonys-pizza", 1)).execute().data
    assert last_status() == 201
    assert got == sql_rows("SELECT * FROM api.orders WHERE id = %s", [got[0]["id"]])


def test_merchant_cannot_insert_in_other_store() -> None:
    fails(merchant_a().from_("orders").insert(order_row("la-casita", 2)), 403, "42501")
    assert sql_value("SELECT count(*) FROM orders WHERE customer_name = %s", [f"{RUN} customer 2"]) == 0


def test_merchant_cannot_change_the_money() -> None:
    fails(
        merchant_a().from_("orders").update({"total_cents": 1}).eq("customer_name", f"{RUN} customer 1"),
        403,
        "42501",
    )
    assert sql_value("SELECT total_cents FROM orders WHERE customer_name = %s", [f"{RUN} customer 1"]) == 1080

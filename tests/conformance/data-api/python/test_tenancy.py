"""Tenancy through every path: a merchant's token sees only its stores' rows through plain reads,
filters naming another merchant's rows, embedding and RPC; a broad PATCH or DELETE touches only its
rows. An agent sees only the tasks offered or assigned to it and the orders and calls behind them.
The expected rows come from direct SQL with the tenancy written out by hand."""

from __future__ import annotations

from typing import Any

import pytest
from postgrest import APIError, CountMethod

from conftest import (
    A_STORES_SQL,
    ANA,
    BEN,
    CY,
    MERCHANT_A,
    RUN,
    STORES_A,
    STORES_B,
    agent,
    assert_summary,
    expected_summary,
    fails,
    last_status,
    merchant_a,
    merchant_b,
    order,
    service,
    sql,
    sql_rows,
    sql_value,
)

A = A_STORES_SQL
MERCHANT_TABLES = [
    ("stores", f"merchant_id = '{MERCHANT_A}'", "id"),
    ("calls", f"store_id IN {A}", "call_sid"),
    ("orders", f"store_id IN {A}", "id"),
    ("order_items", f"order_id IN (SELECT id FROM api.orders WHERE store_id IN {A})", "id"),
    ("call_events", f"call_sid IN (SELECT call_sid FROM api.calls WHERE store_id IN {A})", "call_sid,seq"),
    ("menu_items", f"store_id IN {A}", "store_id,sku"),
    (
        "tasks",
        f"""store_id IN {A} OR order_id IN (SELECT id FROM api.orders WHERE store_id IN {A})
            OR call_sid IN (SELECT call_sid FROM api.calls WHERE store_id IN {A})""",
        "id",
    ),
]


@pytest.mark.parametrize(("table", "where", "key"), MERCHANT_TABLES, ids=[t[0] for t in MERCHANT_TABLES])
def test_merchant_reads_only_its_rows(table: str, where: str, key: str) -> None:
    q: Any = merchant_a().from_(table).select("*")
    for k in key.split(","):
        q = q.order(k)
    got = q.execute().data
    want = sql_rows(f"SELECT * FROM api.{table} WHERE {where} ORDER BY {key}")
    assert got == want
    assert want
    assert sql_value(f"SELECT count(*) FROM api.{table}") > len(want), "the seed should give B rows too"


def test_merchant_sees_no_workers() -> None:
    assert merchant_a().from_("workers").select("*").execute().data == []


def test_filter_naming_other_merchant_finds_nothing() -> None:
    assert merchant_a().from_("orders").select("*").in_("store_id", STORES_B).execute().data == []
    assert merchant_a().from_("calls").select("*").eq("store_id", "la-casita").execute().data == []
    assert (
        merchant_b()
        .from_("orders")
        .select("id")
        .or_(f"store_id.eq.{STORES_A[0]},store_id.eq.{STORES_A[1]}")
        .execute()
        .data
        == []
    )


def test_other_merchants_order_by_id() -> None:
    assert merchant_a().from_("orders").select("*").eq("id", order(7)).execute().data == []
    fails(merchant_a().from_("orders").select("*").eq("id", order(7)).single(), 406, "PGRST116")


def test_count_only_its_rows() -> None:
    res = merchant_b().from_("orders").select("*", count=CountMethod.exact, head=True).execute()
    assert res.count == sql_value("SELECT count(*) FROM api.orders WHERE store_id = 'la-casita'")


def test_embedding_stores_orders_items() -> None:
    got = merchant_b().from_("stores").select("id,orders(id,order_items(sku))").order("id").execute().data
    for s in got:
        s["orders"].sort(key=lambda o: o["id"])
    want = sql_rows(
        """SELECT s.id, (SELECT coalesce(json_agg(x), '[]'::json) FROM (
                   SELECT o.id, (SELECT coalesce(json_agg(i), '[]'::json) FROM (
                                     SELECT sku FROM api.order_items WHERE order_id = o.id ORDER BY id) i) AS order_items
                   FROM api.orders o WHERE o.store_id = s.id ORDER BY o.id) x) AS orders
           FROM api.stores s WHERE s.id = 'la-casita' ORDER BY s.id"""
    )
    assert got == want


def test_embedding_from_tasks() -> None:
    got = merchant_a().from_("tasks").select("id,orders(id,store_id)").order("id").execute().data
    want = sql_rows(
        f"""SELECT t.id, (SELECT row_to_json(x) FROM (SELECT id, store_id FROM api.orders
                                                      WHERE id = t.order_id AND store_id IN {A}) x) AS orders
            FROM api.tasks t
            WHERE t.store_id IN {A} OR t.order_id IN (SELECT id FROM api.orders WHERE store_id IN {A})
               OR t.call_sid IN (SELECT call_sid FROM api.calls WHERE store_id IN {A})
            ORDER BY t.id"""
    )
    assert got == want


def test_inner_on_other_merchants_rows() -> None:
    got = (
        merchant_b()
        .from_("order_items")
        .select("sku,orders!inner(store_id)")
        .eq("orders.store_id", "tonys-pizza")
        .execute()
        .data
    )
    assert got == []


def test_calls_embedding_only_its_own() -> None:
    got = merchant_a().from_("calls").select("call_sid,orders(id),call_events(seq)").order("call_sid").execute().data
    for c in got:
        c["call_events"].sort(key=lambda e: e["seq"])
    want = sql_rows(
        f"""SELECT c.call_sid,
                   (SELECT row_to_json(x) FROM (SELECT id FROM api.orders WHERE call_sid = c.call_sid) x) AS orders,
                   (SELECT coalesce(json_agg(e), '[]'::json) FROM (
                        SELECT seq FROM api.call_events WHERE call_sid = c.call_sid ORDER BY seq) e) AS call_events
            FROM api.calls c WHERE c.store_id IN {A} ORDER BY c.call_sid"""
    )
    assert got == want


def test_rpc_summary_own_and_other() -> None:
    assert_summary(merchant_a().rpc("order_summary", {"order_id": order(5)}).execute().data, expected_summary(order(5)))
    assert merchant_a().rpc("order_summary", {"order_id": order(8)}).execute().data is None
    assert last_status() == 200


def test_rpc_stats_other_store() -> None:
    assert merchant_b().rpc("store_order_stats", {"store_id": "tonys-pizza"}).execute().data == []
    own = merchant_b().rpc("store_order_stats", {"store_id": "la-casita"}).execute().data
    assert sum(r["orders"] for r in own) == sql_value("SELECT count(*) FROM orders WHERE store_id = 'la-casita'")


SCRATCH = f"{RUN} scratch"


@pytest.fixture
def scratch_orders():
    for store, n in [("tonys-pizza", 1), ("bean-there", 2), ("la-casita", 3), ("la-casita", 4)]:
        sql(
            """INSERT INTO orders (store_id, status, customer_name, fulfillment, subtotal_cents, tax_cents,
                                   total_cents)
               VALUES (%s, 'confirmed', %s, 'pickup', 100, 8, 108)""",
            [store, f"{SCRATCH} {n}"],
        )
    yield
    sql("DELETE FROM orders WHERE customer_name LIKE %s", [f"{SCRATCH}%"])


def test_broad_patch_without_filter() -> None:
    ready_at = "2030-01-01T12:00:00+00:00"
    try:
        got = merchant_a().from_("orders").update({"ready_at": ready_at}).select("id,store_id").execute().data
        assert last_status() == 200
        changed = sql_rows("SELECT id, store_id FROM api.orders WHERE ready_at = %s ORDER BY id", [ready_at])
        mine = sql_rows(f"SELECT id, store_id FROM api.orders WHERE store_id IN {A} ORDER BY id")
        assert changed == mine
        assert sorted(got, key=lambda r: r["id"]) == mine
        assert sql_value("SELECT count(*) FROM orders WHERE store_id = 'la-casita' AND ready_at IS NOT NULL") == 0
    finally:
        sql("UPDATE orders SET ready_at = NULL WHERE ready_at IS NOT NULL")


def test_broad_patch_matching_both_merchants(scratch_orders: None) -> None:
    got = (
        merchant_a()
        .from_("orders")
        .update({"status": "cancelled"})
        .like("customer_name", f"{SCRATCH}*")
        .select("customer_name,status")
        .execute()
        .data
    )
    mine = [{"customer_name": f"{SCRATCH} {n}", "status": "cancelled"} for n in (1, 2)]
    assert sorted(got, key=lambda r: r["customer_name"]) == mine
    now = sql_rows(
        "SELECT customer_name, status FROM orders WHERE customer_name LIKE %s ORDER BY customer_name",
        [f"{SCRATCH}%"],
    )
    assert now == mine + [{"customer_name": f"{SCRATCH} {n}", "status": "confirmed"} for n in (3, 4)]


def test_broad_delete_matching_both_merchants(scratch_orders: None) -> None:
    refused = False
    try:
        merchant_b().from_("orders").delete().like("customer_name", f"{SCRATCH}*").execute()
    except APIError as e:
        # Merchants may not delete orders at all (403), or may delete their own: A's stay either way.
        assert e.code == "42501" and last_status() == 403, repr(e)
        refused = True
    names = [
        r["customer_name"]
        for r in sql_rows("SELECT customer_name FROM orders WHERE customer_name LIKE %s ORDER BY customer_name", [f"{SCRATCH}%"])
    ]
    assert f"{SCRATCH} 1" in names and f"{SCRATCH} 2" in names
    if not refused:
        assert names == [f"{SCRATCH} 1", f"{SCRATCH} 2"]
    service().from_("orders").delete().like("customer_name", f"{SCRATCH}*").execute()
    assert sql_value("SELECT count(*) FROM orders WHERE customer_name LIKE %s", [f"{SCRATCH}%"]) == 0


def agent_orders_sql(worker: str) -> str:
    return f"""SELECT * FROM api.orders
               WHERE id IN (SELECT order_id FROM api.tasks WHERE worker_id = '{worker}')
                  OR call_sid IN (SELECT call_sid FROM api.tasks WHERE worker_id = '{worker}')
               ORDER BY id"""


@pytest.mark.parametrize("worker", [ANA, BEN, CY], ids=["Ana", "Ben", "Cy"])
def test_agent_sees_orders_behind_its_tasks(worker: str) -> None:
    got = agent(worker).from_("orders").select("*").order("id").execute().data
    assert got == sql_rows(agent_orders_sql(worker))


def test_agent_tasks_with_orders() -> None:
    got = agent(ANA).from_("tasks").select("id,status,orders(id,status)").order("id").execute().data
    want = sql_rows(
        f"""SELECT t.id, t.status,
                   (SELECT row_to_json(x) FROM (SELECT id, status FROM api.orders WHERE id = t.order_id) x) AS orders
            FROM api.tasks t WHERE t.worker_id = '{ANA}' ORDER BY t.id"""
    )
    assert got == want


def test_agent_order_items_only_its_orders() -> None:
    got = (
        agent(BEN)
        .from_("orders")
        .select("id,order_items(line_no)")
        .order("id")
        .order("line_no", foreign_table="order_items")
        .execute()
        .data
    )
    assert got == [{"id": order(4), "order_items": [{"line_no": 1}, {"line_no": 2}]}]
    assert agent(BEN).from_("order_items").select("order_id").neq("order_id", order(4)).execute().data == []
    assert agent(BEN).from_("orders").select("id").eq("id", order(1)).execute().data == []


def test_agent_own_worker_row() -> None:
    assert agent(CY).from_("workers").select("id").execute().data == [{"id": CY}]


def test_agent_rpc() -> None:
    assert_summary(agent(ANA).rpc("order_summary", {"order_id": order(9)}).execute().data, expected_summary(order(9)))
    assert agent(ANA).rpc("order_summary", {"order_id": order(4)}).execute().data is None


def test_agent_broad_patch() -> None:
    # Ana holds order 3's verify task (accepted); order 9's is only offered to her; 4 and 1 are
    # not hers. A broad PATCH decides only what she holds.
    ids = [order(3), order(4), order(1)]
    before = sql_rows("SELECT id, status FROM orders WHERE id = ANY(%s::uuid[]) ORDER BY id", [ids])
    try:
        got = agent(ANA).from_("orders").update({"status": "rejected"}).in_("id", ids).select("id,status").execute().data
        assert got == [{"id": order(3), "status": "rejected"}]
        after = sql_rows("SELECT id, status FROM orders WHERE id = ANY(%s::uuid[]) ORDER BY id", [ids])
        assert after == [{**r, "status": "rejected"} if r["id"] == order(3) else r for r in before]
    finally:
        for r in before:
            sql("UPDATE orders SET status = %s WHERE id = %s", [r["status"], r["id"]])
        sql("UPDATE tasks SET status = 'assigned', finished_at = NULL WHERE order_id = %s", [order(3)])


def test_agent_cannot_decide_an_order_only_offered() -> None:
    before = sql_rows("SELECT id, status FROM orders WHERE id = %s", [order(9)])
    with pytest.raises(APIError) as e:
        agent(ANA).from_("orders").update({"status": "rejected"}).eq("id", order(9)).execute()
    assert e.value.code == "42501" and "not this agent's to decide" in (e.value.message or ""), repr(e.value)
    assert sql_rows("SELECT id, status FROM orders WHERE id = %s", [order(9)]) == before

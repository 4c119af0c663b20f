"""Reads beyond filters: select lists (aliases, casts, JSON paths), embedding, ordering with nulls
placement, limit/offset/range, counts, single objects and CSV, each compared with direct SQL."""

from __future__ import annotations

import csv
import io

import pytest
from postgrest import APIError, CountMethod

from conftest import fails, last_status, order, service, sql, sql_rows, sql_value


def test_aliases_and_casts() -> None:
    got = (
        service()
        .from_("orders")
        .select("order_id:id,total:total_cents::text,customer_name,when:created_at::date,confidence::numeric")
        .order("id")
        .execute()
        .data
    )
    want = sql_rows(
        """SELECT id AS order_id, total_cents::text AS total, customer_name, created_at::date AS "when",
                  confidence::numeric AS confidence
           FROM api.orders ORDER BY id"""
    )
    assert got == want
    assert isinstance(got[0]["total"], str)


def test_json_paths() -> None:
    got = (
        service()
        .from_("call_events")
        .select("call_sid,seq,text:payload->>text,step:payload->seq")
        .order("call_sid")
        .order("seq")
        .execute()
        .data
    )
    want = sql_rows(
        """SELECT call_sid, seq, payload->>'text' AS text, payload->'seq' AS step
           FROM api.call_events ORDER BY call_sid, seq"""
    )
    assert got == want


def test_embed_orders_order_items() -> None:
    got = (
        service()
        .from_("orders")
        .select("id,status,order_items(line_no,sku,quantity,modifiers)")
        .order("id")
        .order("line_no", foreign_table="order_items")
        .execute()
        .data
    )
    want = sql_rows(
        """SELECT o.id, o.status,
                  (SELECT coalesce(json_agg(i), '[]'::json) FROM (
                       SELECT line_no, sku, quantity, modifiers FROM api.order_items
                       WHERE order_id = o.id ORDER BY line_no) i) AS order_items
           FROM api.orders o ORDER BY o.id"""
    )
    assert got == want


def test_embed_calls_orders_and_call_events() -> None:
    got = (
        service()
        .from_("calls")
        .select("call_sid,outcome,orders(id,total_cents),call_events(seq,kind)")
        .order("call_sid")
        .order("seq", desc=True, foreign_table="call_events")
        .execute()
        .data
    )
    want = sql_rows(
        """SELECT c.call_sid, c.outcome,
                  (SELECT row_to_json(x) FROM (SELECT id, total_cents FROM api.orders
                                               WHERE call_sid = c.call_sid) x) AS orders,
                  (SELECT coalesce(json_agg(e), '[]'::json) FROM (
                       SELECT seq, kind FROM api.call_events WHERE call_sid = c.call_sid
                       ORDER BY seq DESC) e) AS call_events
           FROM api.calls c ORDER BY c.call_sid"""
    )
    assert got == want


def test_embed_tasks_orders_with_alias() -> None:
    got = service().from_("tasks").select("id,kind,order:orders(id,status)").order("id").execute().data
    want = sql_rows(
        """SELECT t.id, t.kind,
                  (SELECT row_to_json(x) FROM (SELECT id, status FROM api.orders
                                               WHERE id = t.order_id) x) AS "order"
           FROM api.tasks t ORDER BY t.id"""
    )
    assert got == want


def test_embed_inner_with_filter() -> None:
    got = (
        service()
        .from_("orders")
        .select("id,order_items!inner(sku)")
        .eq("order_items.sku", "burrito")
        .order("id")
        .execute()
        .data
    )
    want = sql_rows(
        """SELECT o.id, (SELECT json_agg(i) FROM (SELECT sku FROM api.order_items
                                                 WHERE order_id = o.id AND sku = 'burrito') i) AS order_items
           FROM api.orders o
           WHERE EXISTS (SELECT 1 FROM api.order_items WHERE order_id = o.id AND sku = 'burrito')
           ORDER BY o.id"""
    )
    assert got == want
    assert len(want) == 2


def test_embed_filter_keeps_parents() -> None:
    got = (
        service()
        .from_("calls")
        .select("call_sid,call_events(seq)")
        .eq("call_events.kind", "twiml")
        .order("call_sid")
        .execute()
        .data
    )
    want = sql_rows(
        """SELECT c.call_sid, (SELECT coalesce(json_agg(e), '[]'::json) FROM (
                   SELECT seq FROM api.call_events WHERE call_sid = c.call_sid AND kind = 'twiml') e) AS call_events
           FROM api.calls c ORDER BY c.call_sid"""
    )
    assert got == want


@pytest.mark.parametrize(
    ("desc", "nullsfirst", "sql_order"),
    [
        (False, True, "ASC NULLS FIRST"),
        (False, False, "ASC NULLS LAST"),
        (True, True, "DESC NULLS FIRST"),
        (True, False, "DESC NULLS LAST"),
        (False, None, "ASC"),
    ],
)
def test_order_nulls(desc: bool, nullsfirst: bool | None, sql_order: str) -> None:
    got = (
        service()
        .from_("orders")
        .select("id,customer_name")
        .order("customer_name", desc=desc, nullsfirst=nullsfirst)
        .order("id")
        .execute()
        .data
    )
    assert got == sql_rows(f"SELECT id, customer_name FROM api.orders ORDER BY customer_name {sql_order}, id")


def test_limit() -> None:
    got = service().from_("orders").select("id").order("created_at", desc=True).limit(3).execute().data
    assert got == sql_rows("SELECT id FROM api.orders ORDER BY created_at DESC LIMIT 3")


def test_offset() -> None:
    got = service().from_("orders").select("id").order("id").limit(3).offset(4).execute().data
    assert got == sql_rows("SELECT id FROM api.orders ORDER BY id OFFSET 4 LIMIT 3")


def test_range_with_exact_count() -> None:
    res = service().from_("orders").select("id", count=CountMethod.exact).order("id").range(2, 5).execute()
    assert last_status() == 206
    assert res.data == sql_rows("SELECT id FROM api.orders ORDER BY id OFFSET 2 LIMIT 4")
    assert res.count == sql_value("SELECT count(*) FROM api.orders")


def test_exact_count_head() -> None:
    res = (
        service()
        .from_("orders")
        .select("*", count=CountMethod.exact, head=True)
        .eq("fulfillment", "delivery")
        .execute()
    )
    assert res.count == sql_value("SELECT count(*) FROM api.orders WHERE fulfillment = 'delivery'")


def test_estimated_count() -> None:
    res = service().from_("order_items").select("id", count=CountMethod.estimated).limit(2).execute()
    assert len(res.data) == 2
    assert res.count == sql_value("SELECT count(*) FROM api.order_items")


def test_planned_count() -> None:
    res = service().from_("order_items").select("id", count=CountMethod.planned).limit(2).execute()
    plan = sql_value("EXPLAIN (FORMAT JSON) SELECT 1 FROM api.order_items")
    assert res.count == plan[0]["Plan"]["Plan Rows"]


def test_range_past_the_total() -> None:
    fails(
        service().from_("orders").select("id", count=CountMethod.exact).order("id").range(100, 110),
        416,
        "PGRST103",
    )


def test_single() -> None:
    got = service().from_("orders").select("*").eq("id", order(1)).single().execute().data
    assert last_status() == 200
    assert [got] == sql_rows("SELECT * FROM api.orders WHERE id = %s", [order(1)])


def test_single_on_several_rows() -> None:
    fails(service().from_("orders").select("*").eq("status", "confirmed").single(), 406, "PGRST116")


def test_single_on_no_row() -> None:
    fails(service().from_("orders").select("*").eq("status", "nonesuch").single(), 406, "PGRST116")


def test_maybe_single() -> None:
    sid = "CA00000000000000000000000000000004"
    res = service().from_("calls").select("*").eq("call_sid", sid).maybe_single().execute()
    assert res is not None
    assert [res.data] == sql_rows("SELECT * FROM api.calls WHERE call_sid = %s", [sid])
    none = (
        service()
        .from_("calls")
        .select("*")
        .eq("call_sid", "CA99999999999999999999999999999999")
        .maybe_single()
        .execute()
    )
    assert none is None


def test_maybe_single_on_several_rows() -> None:
    with pytest.raises(APIError):
        service().from_("orders").select("id").eq("store_id", "tonys-pizza").maybe_single().execute()


def test_csv() -> None:
    res = (
        service()
        .from_("orders")
        .select("id,customer_name,delivery_address,total_cents,confidence")
        .order("id")
        .csv()
        .execute()
    )
    assert last_status() == 200
    assert isinstance(res.data, str)
    got = list(csv.reader(io.StringIO(res.data)))
    assert got[0] == ["id", "customer_name", "delivery_address", "total_cents", "confidence"]
    want = sql(
        """SELECT id::text, customer_name, delivery_address, total_cents::text, confidence::text
           FROM api.orders ORDER BY id"""
    )
    assert got[1:] == [["" if v is None else v for v in row] for row in want]

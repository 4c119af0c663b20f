"""RPC through the `postgrest` package: `order_summary(order_id uuid)` (one JSON object, or null)
and `store_order_stats(store_id text)` (rows), by POST and by GET, with filters on the set-returning
one, compared with the same facts read directly with SQL."""

from __future__ import annotations

import pytest
from postgrest import APIError

from conftest import assert_summary, client_with_token, expected_summary, fails, last_status, order, service, sql_rows

STATS_SQL = """SELECT status, count(*) AS orders, sum(total_cents)::bigint AS total_cents
               FROM api.orders WHERE store_id = %s GROUP BY status ORDER BY status"""


def test_order_summary_post() -> None:
    got = service().rpc("order_summary", {"order_id": order(1)}).execute().data
    assert last_status() == 200
    assert_summary(got, expected_summary(order(1)))


def test_order_summary_get() -> None:
    got = service().rpc("order_summary", {"order_id": order(7)}, get=True).execute().data
    assert last_status() == 200
    assert_summary(got, expected_summary(order(7)))


def test_order_summary_null_customer() -> None:
    got = service().rpc("order_summary", {"order_id": order(3)}).execute().data
    assert_summary(got, expected_summary(order(3)))


def test_order_summary_of_no_order_is_null() -> None:
    res = service().rpc("order_summary", {"order_id": "00000000-0000-4000-8000-0000000000ff"}).execute()
    assert last_status() == 200
    assert res.data is None


def test_store_order_stats_post() -> None:
    got = service().rpc("store_order_stats", {"store_id": "tonys-pizza"}).execute().data
    assert last_status() == 200
    assert got == sql_rows(STATS_SQL, ["tonys-pizza"])


def test_store_order_stats_get_filtered_ordered() -> None:
    got = (
        service()
        .rpc("store_order_stats", {"store_id": "la-casita"}, get=True)
        .neq("status", "rejected")
        .order("orders", desc=True)
        .order("status")
        .execute()
        .data
    )
    want = sql_rows(
        f"SELECT * FROM ({STATS_SQL}) s WHERE status <> 'rejected' ORDER BY orders DESC, status", ["la-casita"]
    )
    assert got == want


def test_store_order_stats_select() -> None:
    got = service().rpc("store_order_stats", {"store_id": "bean-there"}).select("status,orders").order("status").execute().data
    assert got == sql_rows(f"SELECT status, orders FROM ({STATS_SQL}) s ORDER BY status", ["bean-there"])


def test_unknown_function() -> None:
    fails(service().rpc("nonesuch", {}), 404, "PGRST202")


def test_anonymous_may_not_call() -> None:
    with pytest.raises(APIError):
        client_with_token(None).rpc("store_order_stats", {"store_id": "tonys-pizza"}).execute()
    assert last_status() == 401

"""Shared by the test modules: clients of the `postgrest` package (one per token), direct SQL as
the superuser, and the seed's fixed ids (tests/conformance/data-api/seed.sql).

Every comparison asks PostgreSQL for the expected rows as JSON (`json_agg` over the `api` view),
so values are formatted exactly as a PostgREST body formats them, and compares parsed documents.
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from postgrest import APIError, SyncPostgrestClient


def _need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set: run these tests through services/kea/tests/it/data_api_clients.rs"
        )
    return value


KEA_URL = _need("KEA_URL").rstrip("/")
REST_URL = f"{KEA_URL}/rest/v1"
JWT_SECRET = _need("KEA_JWT_SECRET")
DATABASE_URL = _need("DATABASE_URL")

MERCHANT_A = "00000000-0000-4000-8000-00000000000a"
MERCHANT_B = "00000000-0000-4000-8000-00000000000b"
ANA = "00000000-0000-4000-8000-0000000000c1"
BEN = "00000000-0000-4000-8000-0000000000c2"
CY = "00000000-0000-4000-8000-0000000000c3"
STORES_A = ["bean-there", "tonys-pizza"]
STORES_B = ["la-casita"]
A_STORES_SQL = f"(SELECT id FROM api.stores WHERE merchant_id = '{MERCHANT_A}')"
RUN = f"py{os.getpid()}"


def order(n: int | str) -> str:
    return f"00000000-0000-4000-8000-0000000000d{n}"


def token(claims: dict[str, Any], ttl: int = 600) -> str:
    """A signed token with `claims`, valid for `ttl` seconds (negative: already expired)."""
    return jwt.encode({**claims, "exp": int(time.time()) + ttl}, JWT_SECRET, algorithm="HS256")


# The status of the last response any client received (the `postgrest` package raises APIError
# with the body only); the tests run one at a time.
LAST: dict[str, int] = {}


def _remember(response: httpx.Response) -> None:
    LAST["status"] = response.status_code


def last_status() -> int:
    return LAST.get("status", 0)


_sessions: list[httpx.Client] = []


def client_with_token(bearer: str | None) -> SyncPostgrestClient:
    """A client for `/rest/v1` with the bearer token given (None: anonymous)."""
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    session = httpx.Client(base_url=REST_URL, event_hooks={"response": [_remember]}, timeout=30)
    _sessions.append(session)
    return SyncPostgrestClient(REST_URL, headers=headers, http_client=session, retry_enabled=False)


def client(claims: dict[str, Any]) -> SyncPostgrestClient:
    return client_with_token(token(claims))


def service() -> SyncPostgrestClient:
    return client({"role": "service"})


def merchant_a() -> SyncPostgrestClient:
    return client({"role": "merchant", "merchant_id": MERCHANT_A})


def merchant_b() -> SyncPostgrestClient:
    return client({"role": "merchant", "merchant_id": MERCHANT_B})


def agent(worker_id: str) -> SyncPostgrestClient:
    return client({"role": "agent", "worker_id": worker_id})


_conn: psycopg.Connection | None = None


def db() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        # As the server's connections: times in UTC, floats in their shortest exact form.
        _conn = psycopg.connect(
            DATABASE_URL, autocommit=True, options="-c TimeZone=UTC -c extra_float_digits=2"
        )
    return _conn


def sql_rows(query: str, params: Any = None) -> list[Any]:
    """The rows `query` returns, as the JSON document PostgreSQL builds for them."""
    with db().cursor() as cur:
        cur.execute(
            f"SELECT coalesce(json_agg(t), '[]'::json) FROM ({query}) AS t",  # type: ignore[arg-type]
            params,
        )
        row = cur.fetchone()
        assert row is not None
        return row[0]


def sql_value(query: str, params: Any = None) -> Any:
    with db().cursor() as cur:
        cur.execute(query, params)  # type: ignore[arg-type]
        row = cur.fetchone()
        return row[0] if row else None


def sql(query: str, params: Any = None) -> list[tuple[Any, ...]]:
    with db().cursor() as cur:
        cur.execute(query, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def fails(builder: Any, status: int, code: str | list[str]) -> APIError:
    """Executes `builder` and checks it failed with `status` and PostgREST error `code`."""
    codes = code if isinstance(code, list) else [code]
    with pytest.raises(APIError) as info:
        res = builder.execute()
        pytest.fail(f"expected an error {codes}, got {last_status()}: {getattr(res, 'data', res)!r}")
    err = info.value
    assert err.code in codes, f"error code {err.code} not in {codes}: {err!r}"
    assert last_status() == status, f"status {last_status()} for {err!r}"
    for key in ("message", "details", "hint"):
        assert key in err._raw_error, f"error body has no {key!r}: {err._raw_error}"
    return err


def expected_summary(order_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What `order_summary` should say about `order_id`, from the tables."""
    [head] = sql_rows(
        """SELECT o.id, o.status, o.store_id, s.name AS store_name, o.customer_name,
                  o.customer_phone, o.fulfillment, o.total_cents, o.created_at
           FROM api.orders o JOIN api.stores s ON s.id = o.store_id WHERE o.id = %s""",
        [order_id],
    )
    items = sql_rows(
        """SELECT sku, name, size, quantity, modifiers, unit_price_cents, line_total_cents, notes,
                  line_no
           FROM api.order_items WHERE order_id = %s ORDER BY line_no""",
        [order_id],
    )
    return head, items


def _instant(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def assert_summary(got: Any, expected: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    """Every documented key of the summary, and its items line by line on the keys they share
    with `order_items`."""
    head, items = expected
    assert isinstance(got, dict), f"not an object: {got!r}"
    for key, value in head.items():
        if key == "created_at":
            assert _instant(got[key]) == _instant(value), key
        else:
            assert got.get(key) == value, key
    assert isinstance(got["items"], list)
    assert len(got["items"]) == len(items)
    for i, item in enumerate(got["items"]):
        for key, value in item.items():
            if key in items[i]:
                assert value == items[i][key], f"items[{i}].{key}"
        assert item["sku"] == items[i]["sku"]


@pytest.fixture(scope="session", autouse=True)
def _close_everything():
    yield
    for s in _sessions:
        s.close()
    if _conn is not None:
        _conn.close()

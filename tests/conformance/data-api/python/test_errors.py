"""PostgREST's error codes and statuses as the `postgrest` package reports them (APIError), and
tokens: expired, tampered, signed with another secret, or none."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from postgrest import APIError

from conftest import ANA, client_with_token, fails, last_status, service, sql_value, token


def test_pgrst100_unknown_operator() -> None:
    fails(service().from_("orders").select("*").filter("status", "nope", "x"), 400, "PGRST100")


def test_pgrst100_malformed_or() -> None:
    fails(service().from_("orders").select("*").or_("status.eq"), 400, "PGRST100")


def test_pgrst100_malformed_select() -> None:
    fails(service().from_("orders").select("id,order_items(sku"), 400, "PGRST100")


def test_pgrst116_single_on_several_rows() -> None:
    fails(service().from_("orders").select("*").single(), 406, "PGRST116")


def test_pgrst200_no_relationship() -> None:
    fails(service().from_("orders").select("*,workers(*)"), 400, "PGRST200")


def test_unknown_column_in_select() -> None:
    fails(service().from_("orders").select("id,nonesuch"), 400, ["PGRST204", "42703"])


def test_unknown_column_in_filter() -> None:
    fails(service().from_("orders").select("id").eq("nonesuch", 1), 400, ["PGRST204", "42703"])


def test_pgrst205_unknown_table() -> None:
    fails(service().from_("nonesuch").select("*"), 404, "PGRST205")


def test_bad_value_for_type() -> None:
    fails(service().from_("orders").select("id").eq("total_cents", "many"), 400, "22P02")


def test_pgrst301_expired() -> None:
    expired = token({"role": "service"}, ttl=-3600)
    fails(client_with_token(expired).from_("orders").select("id"), 401, "PGRST301")


def test_pgrst301_tampered() -> None:
    header, _, signature = token({"role": "agent", "worker_id": ANA}).split(".")
    payload = json.dumps({"role": "service", "exp": int(time.time()) + 600}).encode()
    forged = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    fails(client_with_token(f"{header}.{forged}.{signature}").from_("orders").select("id"), 401, "PGRST301")


def test_pgrst301_other_secret() -> None:
    other = jwt.encode(
        {"role": "service", "exp": int(time.time()) + 600}, "not-the-secret-0123456789abcdef-0123456789", algorithm="HS256"
    )
    fails(client_with_token(other).from_("orders").select("id"), 401, "PGRST301")


def test_token_within_leeway() -> None:
    got = client_with_token(token({"role": "service"}, ttl=-5)).from_("stores").select("id").execute().data
    assert len(got) == sql_value("SELECT count(*) FROM api.stores")


def test_anonymous_is_refused() -> None:
    with pytest.raises(APIError):
        client_with_token(None).from_("orders").select("id").execute()
    assert last_status() == 401


def test_unknown_role_is_refused() -> None:
    with pytest.raises(APIError):
        client_with_token(token({"role": "postgres"})).from_("orders").select("id").execute()
    assert last_status() in (401, 403)

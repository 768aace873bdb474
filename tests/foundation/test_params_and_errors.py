"""Typed params against the contract, internal errors without leaks, datetimes on the wire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from appliance.app import Appliance
from rpc import contract
from rpc.client import RpcClient
from rpc.dispatcher import CallContext, Dispatcher
from rpc.errors import NotFound, RpcError
from rpc.wirejson import rfc3339


@pytest.mark.parametrize(
    "method,params,field,reason_part",
    [
        ("job.get", {"job_id": "seven"}, "job_id", "must be an integer"),
        ("job.get", {}, "job_id", "is required"),
        ("job.get", {"job_id": 1, "colour": "red"}, "colour", "not a known parameter"),
        ("print.submit", {"template": "text", "copies": 0}, "copies", "at least 1"),
        ("print.submit", {"template": "text", "copies": True}, "copies", "must be an integer"),
        ("print.submit", {"template": "Bad Name!"}, "template", "must match"),
        ("print.submit", {"template": "text", "fields": {"text": {"nested": 1}}}, "fields.text", "must be a string"),
        ("job.list", {"state": "lost"}, "state", "must be one of"),
        ("job.list", {"limit": 10_000}, "limit", "at most 500"),
    ],
)
async def test_wrong_param_names_field_and_reason(client: RpcClient, method: str, params: dict[str, Any],
                                                  field: str, reason_part: str) -> None:
    with pytest.raises(RpcError) as info:
        await client.call(method, params)
    assert info.value.code == -32602
    assert info.value.data["field"] == field
    assert reason_part in info.value.data["reason"]


def _dispatcher(handler: Any, seen: list[Any]) -> Dispatcher:
    return Dispatcher({"server.info": handler},
                      on_internal_error=lambda method, rid, exc: seen.append((method, rid, str(exc))))


async def test_internal_error_carries_request_id_and_no_exception_text() -> None:
    seen: list[Any] = []

    async def broken(ctx: CallContext) -> None:
        raise RuntimeError("secret path /var/lib/appliance/db exploded")

    answer = await _dispatcher(broken, seen).dispatch(
        '{"jsonrpc": "2.0", "method": "server.info", "id": 1}', CallContext("req-42"))
    assert answer is not None
    assert '"code":-32603' in answer and '"request_id":"req-42"' in answer
    assert "secret" not in answer and "/var/lib" not in answer
    assert seen == [("server.info", "req-42", "secret path /var/lib/appliance/db exploded")]


async def test_result_that_is_not_json_becomes_internal_error() -> None:
    seen: list[Any] = []

    async def weird(ctx: CallContext) -> Any:
        return {"thing": object()}

    answer = await _dispatcher(weird, seen).dispatch(
        '{"jsonrpc": "2.0", "method": "server.info", "id": 1}', CallContext("req-7"))
    assert answer is not None and '"code":-32603' in answer and "req-7" in answer
    assert len(seen) == 1


async def test_datetimes_go_out_as_rfc3339_utc_with_z() -> None:
    async def timed(ctx: CallContext) -> Any:
        return {"at": datetime(2026, 11, 22, 3, 4, 5, 678_000, tzinfo=UTC)}

    answer = await _dispatcher(timed, []).dispatch('{"jsonrpc": "2.0", "method": "server.info", "id": 1}',
                                                   CallContext("r"))
    assert answer == '{"jsonrpc":"2.0","result":{"at":"2026-11-22T03:04:05.678Z"},"id":1}'


def test_rfc3339_turns_every_datetime_into_utc_milliseconds() -> None:
    assert rfc3339(datetime(2026, 11, 22, 4, 4, 5, 678_999, tzinfo=timezone(timedelta(hours=1)))) == (
        "2026-11-22T03:04:05.678Z")
    assert rfc3339(datetime(2026, 11, 22, 3, 4, 5)) == "2026-11-22T03:04:05.000Z"  # naive is UTC
    assert rfc3339(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05.000Z"


async def test_domain_errors_keep_their_code_and_data() -> None:
    async def missing(ctx: CallContext) -> Any:
        raise NotFound("No job 9", {"field": "job_id", "reason": "no such job"})

    answer = await _dispatcher(missing, []).dispatch('{"jsonrpc": "2.0", "method": "server.info", "id": 1}',
                                                     CallContext("r"))
    assert answer == ('{"jsonrpc":"2.0","error":{"code":-32002,"message":"No job 9",'
                      '"data":{"field":"job_id","reason":"no such job"}},"id":1}')


async def test_read_scope_cannot_call_admin_methods() -> None:
    async def submit(ctx: CallContext, **params: Any) -> Any:
        return "printed"

    dispatcher = Dispatcher({"print.submit": submit})
    body = '{"jsonrpc": "2.0", "method": "print.submit", "params": {"template": "text"}, "id": 1}'
    denied = await dispatcher.dispatch(body, CallContext("r", scope="read", transport="tcp"))
    assert denied is not None and '"code":-32001' in denied
    allowed = await dispatcher.dispatch(body, CallContext("r", scope="admin", transport="tcp"))
    assert allowed == '{"jsonrpc":"2.0","result":"printed","id":1}'


async def test_discover_lists_every_method_with_a_params_schema(client: RpcClient) -> None:
    document = await client.call("rpc.discover")
    names = {m["name"] for m in document["methods"]}
    assert names == set(contract.CATALOGUE)
    submit = next(m for m in document["methods"] if m["name"] == "print.submit")
    assert submit["x-requires-scope"] == "admin"
    assert submit["x-params-schema"]["properties"]["copies"]["type"] == "integer"
    assert {p["name"] for p in submit["params"]} >= {"template", "fields", "copies", "idempotency_key"}


async def test_server_info(client: RpcClient, appliance: Appliance) -> None:
    info = await client.call("server.info")
    assert info["version"] and info["api_version"] == "1.0"
    assert info["uptime_s"] >= 0
    assert info["printers"] == len(appliance.printers)
    assert info["started_at"].endswith("Z")

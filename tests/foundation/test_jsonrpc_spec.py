"""Every example of the JSON-RPC 2.0 specification, adapted to real method names, over real HTTP.

The specification's `subtract`, `update`, `foobar`, `get_data`, `notify_hello`, `notify_sum`
become `server.info`, `rpc.discover`, `job.get` and friends; the shapes are the specification's.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from appliance.app import Appliance


async def post(appliance: Appliance, body: str | bytes) -> tuple[int, Any]:
    connector = aiohttp.UnixConnector(path=str(appliance.settings.socket_path))
    async with aiohttp.ClientSession(connector=connector) as session, session.post(
        "http://localhost/rpc", data=body, headers={"Content-Type": "application/json"}
    ) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None)


async def test_call_with_named_params(appliance: Appliance) -> None:
    status, answer = await post(appliance, '{"jsonrpc": "2.0", "method": "server.info", "params": {}, "id": 3}')
    assert status == 200
    assert answer["jsonrpc"] == "2.0" and answer["id"] == 3
    assert answer["result"]["name"] == "Label Appliance"


async def test_call_with_positional_params_maps_onto_declared_order(appliance: Appliance) -> None:
    _, answer = await post(appliance, '{"jsonrpc": "2.0", "method": "job.get", "params": [0], "id": 1}')
    # 0 is below the minimum of job_id: proves the positional value reached the job_id check
    assert answer["error"]["code"] == -32602
    assert answer["error"]["data"]["field"] == "job_id"


async def test_notification_gets_no_body(appliance: Appliance) -> None:
    status, answer = await post(appliance, '{"jsonrpc": "2.0", "method": "server.info", "params": {}}')
    assert status == 204 and answer is None
    status, answer = await post(appliance, '{"jsonrpc": "2.0", "method": "rpc.discover"}')
    assert status == 204 and answer is None


async def test_non_existent_method(appliance: Appliance) -> None:
    _, answer = await post(appliance, '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}')
    assert answer == {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found",
                                                  "data": {"method": "foobar"}}, "id": "1"}


async def test_invalid_json(appliance: Appliance) -> None:
    _, answer = await post(appliance, '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]')
    assert answer["error"]["code"] == -32700 and answer["error"]["message"] == "Parse error"
    assert answer["error"]["data"]["reason"].startswith("not JSON") and answer["id"] is None


async def test_invalid_request_object(appliance: Appliance) -> None:
    _, answer = await post(appliance, '{"jsonrpc": "2.0", "method": 1, "params": "bar"}')
    assert answer["error"]["code"] == -32600 and answer["error"]["message"] == "Invalid Request"
    assert answer["id"] is None


async def test_batch_invalid_json(appliance: Appliance) -> None:
    _, answer = await post(appliance, '[{"jsonrpc": "2.0", "method": "server.info", "params": [1,2,4], "id": "1"},'
                                      '{"jsonrpc": "2.0", "method"]')
    assert answer["error"]["code"] == -32700 and answer["id"] is None


async def test_empty_array(appliance: Appliance) -> None:
    _, answer = await post(appliance, "[]")
    assert answer["error"]["code"] == -32600 and answer["id"] is None
    assert not isinstance(answer, list)


@pytest.mark.parametrize("body,count", [("[1]", 1), ("[1,2,3]", 3)])
async def test_invalid_batch_members_each_get_an_error(appliance: Appliance, body: str, count: int) -> None:
    _, answer = await post(appliance, body)
    assert isinstance(answer, list) and len(answer) == count
    for item in answer:
        assert item["error"]["code"] == -32600 and item["id"] is None


async def test_mixed_batch(appliance: Appliance) -> None:
    body = json.dumps([
        {"jsonrpc": "2.0", "method": "server.info", "id": "1"},
        {"jsonrpc": "2.0", "method": "server.info"},  # notification: no answer
        {"jsonrpc": "2.0", "method": "job.get", "params": {"job_id": "x"}, "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "rpc.discover", "id": "9"},
    ])
    _, answer = await post(appliance, body)
    assert isinstance(answer, list) and len(answer) == 5
    by_id = {item["id"]: item for item in answer if item["id"] is not None}
    assert by_id["1"]["result"]["name"] == "Label Appliance"
    assert by_id["2"]["error"]["code"] == -32602 and by_id["2"]["error"]["data"]["field"] == "job_id"
    assert by_id["5"]["error"]["code"] == -32601
    assert by_id["9"]["result"]["openrpc"].startswith("1.")
    invalid = [item for item in answer if item["id"] is None]
    assert len(invalid) == 1 and invalid[0]["error"]["code"] == -32600


async def test_batch_of_notifications_gets_no_body(appliance: Appliance) -> None:
    status, answer = await post(appliance, '[{"jsonrpc": "2.0", "method": "server.info", "params": {}},'
                                           '{"jsonrpc": "2.0", "method": "rpc.discover"}]')
    assert status == 204 and answer is None


async def test_wrong_version_and_id_type_are_invalid(appliance: Appliance) -> None:
    _, answer = await post(appliance, '{"jsonrpc": "1.0", "method": "server.info", "id": 1}')
    assert answer["error"]["code"] == -32600
    _, answer = await post(appliance, '{"jsonrpc": "2.0", "method": "server.info", "id": {"a": 1}}')
    assert answer["error"]["code"] == -32600 and answer["id"] is None

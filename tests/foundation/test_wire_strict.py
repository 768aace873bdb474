"""Requests Python's json module would accept but the wire must refuse: they used to be stored or
dispatched and then broke the answer (HTTP 500 after a job was queued, a dropped WebSocket)."""

from __future__ import annotations

import json

import pytest

from appliance.app import Appliance
from rpc.wirejson import WireError, dumps, loads
from tests.access.helpers import unix_session
from tests.foundation.test_jsonrpc_spec import post

SUBMIT = '{"jsonrpc":"2.0","id":%s,"method":"print.submit","params":{"template":"text","fields":{"text":%s}}}'
REFUSED = {
    "lone surrogate in the id": SUBMIT % ('"\\ud800"', '"x"'),
    "lone surrogate in a field": SUBMIT % ("1", '"a\\udfffb"'),
    "lone surrogate in a key": '{"jsonrpc":"2.0","id":1,"method":"print.submit","params":{"template":"text",'
                               '"fields":{"text":"x","\\uDC00":"y"}}}',
    "NaN id": SUBMIT % ("NaN", '"x"'),
    "Infinity id": SUBMIT % ("-Infinity", '"x"'),
    "number out of float range": SUBMIT % ("1e400", '"x"'),
}


async def _job_count(appliance: Appliance) -> int:
    _, answer = await post(appliance, '{"jsonrpc":"2.0","id":1,"method":"job.list","params":{"limit":100}}')
    return len(answer["result"]["jobs"])


@pytest.mark.parametrize("body", REFUSED.values(), ids=REFUSED.keys())
async def test_refused_json_is_a_parse_error_and_stores_no_job(appliance: Appliance, body: str) -> None:
    status, answer = await post(appliance, body)
    assert status == 200
    assert answer["error"]["code"] == -32700 and answer["id"] is None
    assert answer["error"]["data"]["reason"]
    assert await _job_count(appliance) == 0


async def test_a_refused_member_refuses_the_whole_batch_before_anything_runs(appliance: Appliance) -> None:
    batch = "[" + SUBMIT % ("1", '"first"') + "," + SUBMIT % ("2", '"\\ud800"') + "]"
    _, answer = await post(appliance, batch)
    assert answer["error"]["code"] == -32700
    assert await _job_count(appliance) == 0


async def test_deep_nesting_is_a_parse_error(appliance: Appliance) -> None:
    status, answer = await post(appliance, "[" * 100_000 + "]" * 100_000)
    assert status == 200 and answer["error"]["code"] == -32700
    assert answer["error"]["data"]["reason"] == "nested too deeply"
    assert (await post(appliance, '{"jsonrpc":"2.0","id":1,"method":"server.info"}'))[1]["result"]


async def test_an_escaped_surrogate_pair_is_text(appliance: Appliance) -> None:
    status, answer = await post(appliance, SUBMIT % ('"\\ud83d\\ude00"', '"box \\ud83d\\udce6"'))
    assert status == 200 and answer["id"] == "\U0001f600"
    assert answer["result"]["id"] >= 1 and answer["result"]["fields"]["text"] == "box \U0001f4e6"


async def test_websocket_answers_refused_json_and_stays_open(appliance: Appliance) -> None:
    async with unix_session(appliance) as session, session.ws_connect("http://localhost/ws") as ws:
        for body in REFUSED.values():
            await ws.send_str(body)
            answer = json.loads(await ws.receive_str())
            assert answer["error"]["code"] == -32700
        await ws.send_str('{"jsonrpc":"2.0","id":7,"method":"server.info"}')
        assert json.loads(await ws.receive_str())["id"] == 7
    assert await _job_count(appliance) == 0


@pytest.mark.parametrize(("text", "reason"), [
    ('{"a": NaN}', "NaN is not a JSON number"),
    ("[1e999]", "the number 1e999 is too large"),
    (b'"\\ud800"', "lone UTF-16 surrogate"),
    ('"\ud800"', "lone UTF-16 surrogate"),  # already decoded (a str holding the surrogate itself)
    (b"\xff", "not UTF-8"),
    ("{", "not JSON"),
    ("[" + "9" * 5000 + "]", "a number has more than 4300 digits"),  # not Python's words, which name sys.*
])
def test_loads_reasons(text: str | bytes, reason: str) -> None:
    with pytest.raises(WireError) as caught:
        loads(text)
    assert reason in caught.value.reason


def test_loads_keeps_what_json_keeps() -> None:
    text = '{"id": 1.5e10, "s": "\\u00e9\\ud83d\\ude00", "n": [null, true, -0.0], "big": 12345678901234567890}'
    assert loads(text) == json.loads(text)
    assert loads(text.encode()) == json.loads(text)


def test_dumps_refuses_nan_rather_than_writing_invalid_json() -> None:
    with pytest.raises(ValueError):
        dumps({"x": float("nan")})

"""Inputs a careless script sends that used to end in -32603 or in the wrong answer, over the real
server: each now gets its result or an error that names the field."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from appliance.app import Appliance
from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.fast_fixtures import printed, wait_job


async def refused(rpc: RpcClient, method: str, params: dict) -> RpcError:
    with pytest.raises(RpcError) as info:
        await rpc.call(method, params)
    return info.value


async def test_windows_line_ends_print_two_lines(fast: Appliance, rpc: RpcClient) -> None:
    crlf = await rpc.call("label.preview", {"template": "text", "fields": {"text": "Shelf A\r\nBin 4"}})
    lf = await rpc.call("label.preview", {"template": "text", "fields": {"text": "Shelf A\nBin 4"}})
    assert crlf["png"] == lf["png"]
    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "Rack 1\rRow 2\u2029Slot 3"}})
    await wait_job(rpc, job["id"], ("completed",))
    assert len(printed(fast)) == 1


@pytest.mark.parametrize("method", ["job.get", "job.timeline", "job.cancel", "job.hold", "job.release",
                                    "job.reprint"])
async def test_job_ids_beyond_sqlite_are_invalid_params(rpc: RpcClient, method: str) -> None:
    err = await refused(rpc, method, {"job_id": 2**63})
    assert (err.code, err.data["field"]) == (-32602, "job_id")
    err = await refused(rpc, method, {"job_id": 2**63 - 1})
    assert (err.code, err.data["field"]) == (-32002, "job_id")


@pytest.mark.parametrize("cursor", ["²", "١٢", "9" * 64, "-1", " 1"])
async def test_a_cursor_that_is_not_one_is_invalid_params(rpc: RpcClient, cursor: str) -> None:
    err = await refused(rpc, "job.list", {"cursor": cursor})
    assert (err.code, err.data["field"]) == (-32602, "cursor")


async def test_since_with_a_utc_offset_means_that_moment(rpc: RpcClient) -> None:
    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "since"}, "hold": True})
    created = datetime.fromisoformat(job["created_at"].replace("Z", "+00:00"))
    plus_two = timezone(timedelta(hours=2))
    before = (created - timedelta(seconds=1)).astimezone(plus_two).isoformat()
    after = (created + timedelta(seconds=1)).astimezone(plus_two).isoformat()
    assert [j["id"] for j in (await rpc.call("job.list", {"since": before}))["jobs"]] == [job["id"]]
    assert (await rpc.call("job.list", {"since": after}))["jobs"] == []
    minus_five = (created - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=-5))).isoformat()
    assert len((await rpc.call("job.list", {"since": minus_five}))["jobs"]) == 1


async def test_an_idempotency_key_reused_for_another_request_is_refused(fast: Appliance, rpc: RpcClient) -> None:
    first = {"template": "text", "fields": {"text": "first"}, "idempotency_key": "k-1"}
    job = await rpc.call("print.submit", first)
    again = await rpc.call("print.submit", first)
    assert again["id"] == job["id"] and again["duplicate"] is True
    for changed in ({"fields": {"text": "SECOND"}}, {"hold": True}, {"fields": {"text": "first", "line2": "x"}}):
        err = await refused(rpc, "print.submit", {**first, **changed})
        assert (err.code, err.data["field"], err.data["job_id"]) == (-32003, "idempotency_key", job["id"])
    err = await refused(rpc, "print.submit", {**first, "printer_id": "nope"})
    assert (err.code, err.data["field"]) == (-32002, "printer_id")
    await wait_job(rpc, job["id"], ("completed",))
    assert len(printed(fast)) == 1 and len((await rpc.call("job.list"))["jobs"]) == 1


async def test_template_names_and_definitions_that_cannot_work_are_refused_at_put(fast: Appliance,
                                                                                 rpc: RpcClient) -> None:
    layout = [{"type": "text", "text": "{code}"}]
    err = await refused(rpc, "template.put", {"name": "abc\n", "definition": {"layout": layout}})
    assert (err.code, err.data["field"]) == (-32602, "name")
    slow = {"fields": {"code": {"pattern": r"(a+)\1"}}, "layout": layout}  # a back-reference: RE2 refuses it
    err = await refused(rpc, "template.put", {"name": "slow", "definition": slow})
    assert (err.code, err.data["field"]) == (-32602, "definition.fields.code.pattern")
    assert "RE2" in err.data["reason"] and "back-references" in err.data["reason"]
    assert not list((fast.settings.state_dir / "templates").glob("*.toml"))


async def test_a_format_spec_that_does_not_suit_the_value_names_the_element(rpc: RpcClient) -> None:
    definition = {"fields": {"code": {}}, "layout": [{"type": "text", "text": "{code:04d}"}]}
    await rpc.call("template.put", {"name": "spec", "definition": definition})
    err = await refused(rpc, "label.preview", {"template": "spec", "fields": {"code": "abc"}})
    assert (err.code, err.data["field"]) == (-32602, "definition.layout[0]")
    err = await refused(rpc, "label.preview", {"template": "nope", "fields": {}})
    assert (err.code, err.data["field"]) == (-32002, "template")


async def test_a_key_stored_before_the_request_digest_existed_compares_template_and_copies(
        fast: Appliance, rpc: RpcClient) -> None:
    import sqlite3

    first = {"template": "text", "fields": {"text": "old"}, "idempotency_key": "k-old", "hold": True}
    job = await rpc.call("print.submit", first)
    with sqlite3.connect(fast.settings.state_dir / "appliance.db") as db:  # as migration 0002 leaves old rows
        db.execute("UPDATE jobs SET request_digest = NULL WHERE id = ?", (job["id"],))
    assert (await rpc.call("print.submit", {**first, "fields": {"text": "other"}}))["id"] == job["id"]
    err = await refused(rpc, "print.submit", {**first, "copies": 2})
    assert (err.code, err.data["field"]) == (-32003, "idempotency_key")


async def test_get_on_rpc_is_a_json_rpc_error_saying_to_post(fast: Appliance) -> None:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(fast.settings.socket_path))) as session:
        for method in ("GET", "PUT"):
            async with session.request(method, "http://localhost/rpc") as response:
                assert response.status == 405 and response.headers["Allow"] == "POST"
                answer = await response.json()
            assert answer["error"]["code"] == -32600 and "POST" in answer["error"]["data"]["reason"]
        info = {"jsonrpc": "2.0", "method": "server.info", "id": 1}
        async with session.post("http://localhost/rpc", json=info) as ok:
            assert "result" in await ok.json()  # POST still reaches the dispatcher

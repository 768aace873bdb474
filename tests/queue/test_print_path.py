"""print.submit through to the virtual printer: one label each, a timeline, few transactions."""

from __future__ import annotations

import asyncio
import base64
import io

import pytest
from PIL import Image

from appliance.app import Appliance
from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.fast_fixtures import printed, wait_job


async def test_submit_prints_once_with_timeline(fast: Appliance, rpc: RpcClient) -> None:
    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "Shelf A-12"}, "copies": 2})
    assert job["state"] == "pending" and job["position"] == 1 and job["media"] == "12mm"
    done = await wait_job(rpc, job["id"], ("completed",))
    assert done["completed_at"] >= done["created_at"]
    assert len(printed(fast)) == 2
    events = [step["event"] for step in await rpc.call("job.timeline", {"job_id": job["id"]})]
    assert events[0] == "queued" and events[-1] == "completed"
    assert events.index("processing") < events.index("sent") < events.index("completed")


async def test_at_most_three_transactions_per_job(fast: Appliance, rpc: RpcClient) -> None:
    first = await rpc.call("print.submit", {"template": "text", "fields": {"text": "warm-up"}})
    await wait_job(rpc, first["id"], ("completed",))
    await asyncio.sleep(0.3)
    before = fast.db.transactions
    for n in range(10):
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": f"bin {n}"}})
        await wait_job(rpc, job["id"], ("completed",))
    per_job = (fast.db.transactions - before) / 10
    assert per_job <= 3.0, per_job


async def test_idempotency_key_returns_the_same_job_and_prints_once(fast: Appliance, rpc: RpcClient) -> None:
    params = {"template": "text", "fields": {"text": "once"}, "idempotency_key": "asset-0042"}
    first = await rpc.call("print.submit", params)
    again = await asyncio.gather(*(rpc.call("print.submit", params) for _ in range(5)))
    assert {j["id"] for j in again} == {first["id"]}
    await wait_job(rpc, first["id"], ("completed",))
    await asyncio.sleep(0.2)
    assert len(printed(fast)) == 1
    with pytest.raises(RpcError) as info:
        await rpc.call("print.submit", {**params, "copies": 3})
    assert info.value.code == -32003 and info.value.data["field"] == "idempotency_key"


async def test_hundred_concurrent_submits_print_a_hundred_labels(fast: Appliance, rpc: RpcClient) -> None:
    jobs = await asyncio.gather(*(rpc.call("print.submit", {"template": "text", "fields": {"text": f"#{n}"}})
                                  for n in range(100)))
    assert len({j["id"] for j in jobs}) == 100
    for job in jobs:
        await wait_job(rpc, job["id"], ("completed",), timeout=30)
    assert len(printed(fast)) == 100


async def test_errors_come_back_before_anything_is_stored(fast: Appliance, rpc: RpcClient) -> None:
    cases = [
        ({"template": "nope"}, -32002, "template"),
        ({"template": "text", "fields": {}}, -32602, "fields.text"),
        ({"template": "text", "fields": {"text": "x", "colour": "red"}}, -32602, "fields.colour"),
        ({"template": "text", "fields": {"text": "x"}, "printer_id": "missing"}, -32002, "printer_id"),
    ]
    for params, code, field in cases:
        with pytest.raises(RpcError) as info:
            await rpc.call("print.submit", params)
        assert info.value.code == code, (params, info.value)
        assert info.value.data["field"] == field, (params, info.value.data)
    assert (await rpc.call("job.list"))["jobs"] == []


async def test_preview_is_the_label_as_it_will_look(fast: Appliance, rpc: RpcClient) -> None:
    preview = await rpc.call("label.preview", {"template": "asset-tag",
                                               "fields": {"name": "Drill", "asset_id": "MS-0042"}})
    image = Image.open(io.BytesIO(base64.b64decode(preview["png"])))
    assert preview["tape"]["id"] == "12mm" and preview["height_px"] == 70
    assert image.size[1] >= 70 and preview["length_mm"] > 10
    wide = await rpc.call("label.preview", {"template": "text", "fields": {"text": "x"}, "tape": "24mm"})
    assert wide["tape"]["width_mm"] == 24 and wide["height_px"] == 128
    with pytest.raises(RpcError) as info:
        await rpc.call("label.preview", {"template": "text", "fields": {"text": "x"}, "tape": "99mm"})
    assert info.value.code == -32602 and info.value.data["field"] == "tape"

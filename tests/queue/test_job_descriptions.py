"""A job's reasons come with a sentence each (`descriptions`), worded as printer.status words the
printer's: in job.get, job.list and the job notifications alike."""

from __future__ import annotations

import asyncio

from appliance.app import Appliance
from rpc.client import RpcClient
from rpc.ws_client import Notification, WsClient
from tests.fast_fixtures import settle, wait_job


async def test_a_stopped_job_says_why_in_the_printers_words_wherever_it_is_read(fast: Appliance,
                                                                                 rpc: RpcClient) -> None:
    fast.simulator.printer.update(cover_open=True)
    await settle(fast)
    said: list[dict[str, object]] = []
    async with WsClient(socket_path=str(fast.settings.socket_path)) as ws:
        ws.add_listener(lambda e: said.append(e.params) if isinstance(e, Notification)
                        and e.method == "notify_job_updated" else None)
        await ws.connect(timeout=5)
        await ws.subscribe(["jobs"])
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "lid open"}})
        assert job["reasons"] == [] and job["descriptions"] == []
        stopped = await wait_job(rpc, job["id"], ("stopped",))
        printer = await rpc.call("printer.status")
        assert stopped["reasons"] == printer["reasons"] == ["cover-open"]
        assert stopped["descriptions"] == printer["descriptions"] == ["Cover open — close it to continue"]
        listed = {j["id"]: j for j in (await rpc.call("job.list"))["jobs"]}
        assert listed[job["id"]]["descriptions"] == stopped["descriptions"]
        fast.simulator.printer.update(cover_open=False)
        await wait_job(rpc, job["id"], ("completed",))
        deadline = asyncio.get_running_loop().time() + 5
        while not any(n["id"] == job["id"] and n["state"] == "completed" for n in said):
            assert asyncio.get_running_loop().time() < deadline, said
            await asyncio.sleep(0.02)
    ours = [n for n in said if n["id"] == job["id"]]
    assert any(n["state"] == "stopped" and n["descriptions"] == stopped["descriptions"] for n in ours), ours
    assert ours[-1]["state"] == "completed" and ours[-1]["descriptions"] == []


async def test_the_reasons_only_a_job_has_read_as_sentences_too(fast: Appliance, rpc: RpcClient) -> None:
    fast.simulator.printer.update(cover_open=True)
    await settle(fast)
    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "given up"}})
    await wait_job(rpc, job["id"], ("stopped",))
    canceled = await rpc.call("job.cancel", {"job_id": job["id"]})
    assert canceled["reasons"] == ["canceled-by-user"]
    assert canceled["descriptions"] == ["Canceled on request (job.cancel)"]

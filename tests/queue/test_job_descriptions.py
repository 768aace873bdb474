"""A job's reasons come with a sentence each (`descriptions`), worded as printer.status words the
printer's: in job.get, job.list and the job notifications alike."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from appliance.app import Appliance
from rpc.client import RpcClient
from rpc.ws_client import Notification, WsClient
from tests.fast_fixtures import settle, wait_job
from tests.support import make_settings, running


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


@pytest.mark.parametrize(("model", "tape", "empty", "no_media"), [
    ("PT-P750W", "12mm", "The tape ran out — put in a new tape cassette", "No tape cassette loaded"),
    ("QL-820NWB", "62mm", "The roll ran out (its continuous tape or its last die-cut label) — put in a new DK roll",
     "No DK roll loaded"),
])
async def test_what_a_person_reads_names_the_media_of_the_printer_in_front_of_them(
        state_dir: Path, model: str, tape: str, empty: str, no_media: str) -> None:
    """A PT's cassette runs out, a QL's roll: printer.status, job.get, job.list, the job notifications,
    the waiting of a job behind it and readiness all say it in the words of the printer's media; once
    a new cassette or roll is in, the printer finishes the job, as the sentence promises."""
    settings = make_settings(state_dir, simulator={"model": model, "tape": tape, "poll_interval_s": 0.2,
                                                   "busy_poll_interval_s": 0.05},
                             queue={"retry_base_s": 0.05, "retry_max_s": 0.2})
    async with running(settings) as app, RpcClient(socket_path=str(settings.socket_path)) as rpc, \
            WsClient(socket_path=str(settings.socket_path)) as ws:
        said: list[dict[str, Any]] = []
        ws.add_listener(lambda e: said.append(e.params) if isinstance(e, Notification)
                        and e.method in ("notify_job_updated", "notify_printer_status") else None)
        await ws.connect(timeout=5)
        await ws.subscribe(["jobs", "printers"])
        app.simulator.printer.update(tape_remaining_mm=5)  # runs out mid-label: the printer keeps the job
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "runs out"}})
        stopped = await wait_job(rpc, job["id"], ("stopped",))
        behind = await rpc.call("print.submit", {"template": "text", "fields": {"text": "waits"}})
        printer = await rpc.call("printer.status")
        assert stopped["reasons"] == printer["reasons"] == ["media-empty"]
        assert stopped["descriptions"] == printer["descriptions"]
        assert printer["descriptions"][0].startswith(empty)
        listed = {j["id"]: j for j in (await rpc.call("job.list"))["jobs"]}
        assert listed[job["id"]]["descriptions"] == stopped["descriptions"]
        assert behind["waiting"] == {"reason": "media-empty", "description": printer["descriptions"][0], "ahead": 1}
        readiness = await rpc.call("readiness.check")
        words = " ".join(c["output"] for checks in readiness["checks"].values() for c in checks if c.get("output"))
        assert f"needs attention: {printer['descriptions'][0]}" in words
        assert f"stopped: {printer['descriptions'][0]}" in words
        other = "roll" if model.startswith("PT") else "cassette"
        assert other not in json.dumps([stopped, printer, behind, readiness])
        app.simulator.printer.update(tape=tape, tape_remaining_mm=None)  # a new (full) cassette or roll
        await wait_job(rpc, job["id"], ("completed",))
        await wait_job(rpc, behind["id"], ("completed",))
        ours = [n for n in said if n.get("id") == job["id"] and n["state"] == "stopped"]
        assert ours and all(n["descriptions"] == stopped["descriptions"] for n in ours), said
        assert any(n.get("reasons") == ["media-empty"] and n["descriptions"] == printer["descriptions"]
                   for n in said if "printer_id" in n and "id" not in n), said
        app.simulator.printer.update(tape=None)  # and none at all
        await settle(app)
        assert (await rpc.call("printer.status"))["descriptions"][0].startswith(no_media)

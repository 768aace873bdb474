"""The server words a printer's media for a person, so every client shows the same words: printer.list and
printer.status say what the media is called (`media_noun`) and what is loaded (`media_description`); a job
says its media (`media_description`) wherever it goes out: print.submit, job.get, job.list, notify_job_updated."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from appliance.store import jobs
from rpc.client import RpcClient
from rpc.ws_client import Notification, WsClient
from tests.fast_fixtures import settle, wait_job
from tests.support import configured, make_settings, printer_table, running


@pytest.mark.parametrize(("model", "tape", "noun", "loaded", "stock"), [
    ("PT-P750W", "12mm", "tape", "12 mm laminated, black on white", "12mm tape"),
    ("QL-820NWB", "62mm", "roll", "62 mm continuous, black on white", "62mm roll"),
    ("QL-820NWB", "29x90", "roll", "29 × 90 mm die-cut labels, black on white", "29×90 mm labels"),
])
async def test_printers_and_jobs_name_their_media_in_the_servers_words(
        state_dir: Path, model: str, tape: str, noun: str, loaded: str, stock: str) -> None:
    settings = make_settings(state_dir, simulator={"model": model, "tape": tape})
    async with running(settings) as app, RpcClient(socket_path=str(settings.socket_path)) as rpc, \
            WsClient(socket_path=str(settings.socket_path)) as ws:
        said: list[dict[str, Any]] = []
        ws.add_listener(lambda e: said.append(e.params) if isinstance(e, Notification)
                        and e.method == "notify_job_updated" else None)
        await ws.connect(timeout=5)
        await ws.subscribe(["jobs"])
        await settle(app)
        status = await rpc.call("printer.status")
        assert (status["media"]["id"], status["media_noun"], status["media_description"]) == (tape, noun, loaded)
        (listed,) = await rpc.call("printer.list")
        assert (listed["media"], listed["media_noun"], listed["media_description"]) == (tape, noun, loaded)
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "named"}})
        assert job["media_description"] == stock
        done = await wait_job(rpc, job["id"], ("completed",))
        assert done["media_description"] == stock
        assert [j["media_description"] for j in (await rpc.call("job.list"))["jobs"]] == [stock]
        deadline = asyncio.get_running_loop().time() + 5
        while not any(n["id"] == job["id"] and n["state"] == "completed" for n in said):
            assert asyncio.get_running_loop().time() < deadline, said
            await asyncio.sleep(0.02)
        assert said and all(n["media_description"] == stock for n in said), said
        app.simulator.printer.update(tape=None)
        await settle(app)
        status = await rpc.call("printer.status")
        assert (status["media"], status["media_noun"], status["media_description"]) == (None, noun, f"no {noun}")


async def test_a_printer_without_status_names_its_configured_media_and_a_removed_printers_job_neutrally(
        tmp_path: Path) -> None:
    """A file:// printer cannot be asked: its configured media, without colours. Once the printer is gone
    from the configuration nobody knows what took the job's media: "12mm media", as its reasons read."""
    state = tmp_path / "state"
    shelf = configured(state, tmp_path, printer_table("shelf", "PT-P750W", f"file://{tmp_path}/shelf.prn", "12mm"))
    async with running(shelf) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        status = await rpc.call("printer.status")
        assert (status["media"]["source"], status["media_noun"], status["media_description"]) == (
            "config", "tape", "12 mm laminated")
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "orphan"}, "hold": True})
        assert job["media_description"] == "12mm tape"
        assert await jobs.transition(app.db, job["id"], allowed_from=("held",), to="aborted",
                                     reasons=["job-incomplete"], completed=True) is not None
    desk = configured(state, tmp_path, printer_table("desk", "QL-820NWB", f"file://{tmp_path}/desk.prn", "62mm"))
    async with running(desk) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        after = await rpc.call("job.get", {"job_id": job["id"]})
        assert (after["printer_name"], after["media"], after["media_description"]) == (None, "12mm", "12mm media")
        assert "tape or labels" in after["descriptions"][0]  # the same neutral words as its reasons
        listed = {j["id"]: j for j in (await rpc.call("job.list"))["jobs"]}
        assert listed[job["id"]]["media_description"] == "12mm media"
        assert (await rpc.call("printer.status"))["media_description"] == "62 mm continuous"


async def test_the_contract_names_the_new_fields(state_dir: Path) -> None:
    """rpc.discover tells a script's author what the fields are."""
    async with running(make_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        methods = {m["name"]: m for m in (await rpc.call("rpc.discover"))["methods"]}
    for name in ("printer.list", "printer.status"):
        assert "media_noun" in methods[name]["summary"] and "media_description" in methods[name]["summary"]
    for name in ("job.get", "print.submit"):
        assert "media_description" in methods[name]["result"]["schema"]["description"]

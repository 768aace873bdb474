"""The queue worker meets a damaged database page: it stops once and says so, and prints nothing twice.

Before, a worker that read a damaged page (the next job's raster, say) logged a traceback every second
for as long as the server ran, connected to the printer each time, /readiness kept passing and the jobs
said they were next. Now it stops sending, says so once, readiness fails with the storage-damaged entry
a call gets, printer.status and the jobs say why nothing goes out, and new labels are refused.

The damage is made for real: a server queues jobs and stops, the file grows past the size the start
checks whole, and a page of it is overwritten (tests.damaged).
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest

from appliance.store.db import DAMAGED_AT_WORK
from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.damaged import damage, damaged_settings, queued_on_a_paused_printer, until_stopped
from tests.ops.helpers import entries, get_unix
from tests.support import running


def _printed(state_dir: Path) -> int:
    return len(list((state_dir / "printed").glob("*.png")))


def _problems(captured: io.StringIO) -> list[str]:
    """The events of the warning and error lines logged so far."""
    lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.startswith("{")]
    return [line["event"] for line in lines if line.get("level") in ("warning", "error")]


async def _says_the_queue_stopped(app: Any, rpc: RpcClient, captured: io.StringIO) -> None:
    """What a person and a script see once the worker stopped: one journal line each, no repeats."""
    status = await until_stopped(rpc)
    assert status["queue_stopped"]["reason"] == "storage-damaged"
    assert "restores a backup made with `appliance backup`" in status["queue_stopped"]["description"]
    await asyncio.sleep(2.5)  # the old worker tried again every second, each time with a traceback
    problems = _problems(captured)
    assert problems.count("appliance.database_damaged") == problems.count("queue.halted") == 1, problems
    assert not [event for event in problems if event.startswith("queue.worker_error")], problems
    said = next(json.loads(line) for line in captured.getvalue().splitlines() if "appliance.database_damaged" in line)
    assert "the file is damaged; restore a backup made with `appliance backup`" in said["what"]
    assert said["found_by"] == "the queue worker of virtual"
    code, _, body = await get_unix(app.settings.socket_path, "/readiness")
    assert code == 503
    assert entries(body, "sqlite:responseTime")[0]["output"] == DAMAGED_AT_WORK
    assert "stopped" in entries(body, "queue:worker")[0]["output"]
    assert (await rpc.call("queue.status", {}))["printers"][0]["queue_stopped"]["reason"] == "storage-damaged"
    with pytest.raises(RpcError) as refused:  # a new label would wait for good: said now, nothing stored
        await rpc.call("print.submit", {"template": "text", "fields": {"text": "after"}})
    assert refused.value.code == -32003 and refused.value.data == {"reason": "storage-damaged"}
    assert refused.value.message == DAMAGED_AT_WORK


@pytest.mark.parametrize("page", ["job_artifacts", "job_events_by_job"])
async def test_a_worker_that_cannot_read_or_start_a_job_stops_once_and_every_job_waits_unsent(
    state_dir: Path, captured_logs: io.StringIO, page: str
) -> None:
    # job_artifacts: the next job's raster cannot be read; job_events_by_job: its `processing` step
    # cannot be stored, so it must not be sent
    queued = await queued_on_a_paused_printer(state_dir, 3)
    damage(state_dir, page)
    async with running(damaged_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        await rpc.call("printer.resume", {})  # the worker reads the queue
        await _says_the_queue_stopped(app, rpc, captured_logs)
        for job_id in queued:
            job = await rpc.call("job.get", {"job_id": job_id})
            assert (job["state"], job["attempts"], job["started_at"]) == ("pending", 0, None)
            assert job["waiting"]["reason"] == "storage-damaged", job["waiting"]
        assert _printed(state_dir) == 1  # the label printed before; none of the queued ones


async def test_a_label_whose_completion_cannot_be_stored_is_never_sent_again(
    state_dir: Path, captured_logs: io.StringIO
) -> None:
    # The first leaf of jobs_by_state holds the `completed` entries: the queued jobs are read, started
    # and sent, but the first one's `completed` cannot be stored once its label is out.
    first, *rest = await queued_on_a_paused_printer(state_dir, 3)
    damage(state_dir, "jobs_by_state", first_leaf=True)
    async with running(damaged_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        await rpc.call("printer.resume", {})
        await _says_the_queue_stopped(app, rpc, captured_logs)
        assert _printed(state_dir) == 2  # its label came out, once
        job = await rpc.call("job.get", {"job_id": first})
        assert (job["state"], job["attempts"]) == ("processing", 1)  # as its last stored step left it
        for job_id in rest:
            assert (await rpc.call("job.get", {"job_id": job_id}))["waiting"]["reason"] == "storage-damaged"
    # A restart (the file still damaged) follows the job by the printer's page counter, which says
    # the label is out: it is not sent again, and the worker stops where it did
    async with running(damaged_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        await until_stopped(rpc)
        await asyncio.sleep(1.0)
        assert _printed(state_dir) == 2
        assert (await rpc.call("job.get", {"job_id": first}))["state"] == "processing"


async def test_a_job_left_at_the_printer_says_why_it_does_not_move_and_is_not_written(state_dir: Path) -> None:
    # The first queued job is sent, but its `completed` cannot be stored (the first leaf of jobs_by_state):
    # it stays `processing`, as its last stored step left it, and job.get / job.list say why nothing
    # follows it, read from the worker, nothing written to the damaged file
    first, *_ = await queued_on_a_paused_printer(state_dir, 2)
    damage(state_dir, "jobs_by_state", first_leaf=True)
    async with running(damaged_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        await rpc.call("printer.resume", {})
        stopped = (await until_stopped(rpc))["queue_stopped"]
        job = await rpc.call("job.get", {"job_id": first})
        assert (job["state"], job["reasons"]) == ("processing", [])
        assert job["waiting"] == {**stopped, "ahead": 0}
        listed = next(j for j in (await rpc.call("job.list", {"limit": 500}))["jobs"] if j["id"] == first)
        assert listed["waiting"] == job["waiting"]
        assert (await rpc.call("job.get", {"job_id": first}))["updated_at"] == job["updated_at"]

"""print_timeout_s bounds how long a printer may show no progress, not how long a job may take to print."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from appliance.app import Appliance
from appliance.queue import worker
from rpc.client import RpcClient
from tests.fast_fixtures import wait_job
from tests.support import make_settings, running

TIMEOUT_S = 0.5


@pytest.fixture
async def short(state_dir: Path) -> AsyncIterator[Appliance]:
    """The fast appliance of tests.fast_fixtures, with a printer allowed only TIMEOUT_S without progress."""
    settings = make_settings(state_dir, simulator={"poll_interval_s": 0.2, "busy_poll_interval_s": 0.05},
                             queue={"retry_base_s": 0.05, "retry_max_s": 0.2, "print_timeout_s": TIMEOUT_S})
    async with running(settings) as app:
        yield app


@pytest.mark.parametrize("floor_mm_s", [None, 1000.0], ids=["brother-floor", "printer-slower-than-floor"])
async def test_a_job_that_prints_longer_than_the_timeout_but_keeps_going_completes_once(
    short: Appliance, monkeypatch: pytest.MonkeyPatch, floor_mm_s: float | None
) -> None:
    if floor_mm_s is not None:  # the worker expects it done at once: only its labels coming out keep it alive
        monkeypatch.setattr(worker, "PRINT_SPEED_MM_S", floor_mm_s)
    printer = short.simulator.printer
    async with RpcClient(socket_path=str(short.settings.socket_path)) as rpc:
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "bin"}, "copies": 6, "hold": True})
        printer.update(speed=job["length_mm"] * 6 / 1.0)  # six labels in 1 s: twice the timeout
        await rpc.call("job.release", {"job_id": job["id"]})
        # before: aborted/timed-out after 0.5 s with its labels still coming out ("reprint it": twice)
        done = await wait_job(rpc, job["id"], ("completed", "aborted"), timeout=10)
        assert (done["state"], done["reasons"]) == ("completed", []), done
        await short.simulator.wait_idle(5)
        assert len(printer.printed) == 6 and printer.jobs_received == 1
        timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
        assert timeline[-1]["detail"]["labels"] == 6


async def test_a_printer_that_makes_no_progress_still_times_out_and_is_not_sent_the_job_again(
    short: Appliance,
) -> None:
    printer = short.simulator.printer
    async with RpcClient(socket_path=str(short.settings.socket_path)) as rpc:
        printer.update(speed=0.5)  # stuck on the first label: "printing", the counter never moves
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "t"}})
        ended = await wait_job(rpc, job["id"], ("completed", "aborted"), timeout=10)
        assert (ended["state"], ended["reasons"]) == ("aborted", ["timed-out"]), ended
        failed = [s for s in await rpc.call("job.timeline", {"job_id": job["id"]}) if s["event"] == "failed"]
        assert failed[0]["detail"]["labels"] == 0 and "no label came out" in failed[0]["detail"]["error"]
        assert "how many of its labels came out" in ended["descriptions"][0]  # not "if no label came out"
        assert printer.jobs_received == 1 and not printer.printed

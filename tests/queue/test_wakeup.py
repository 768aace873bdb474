"""A job submitted at any moment is picked up at once: no wake of the worker is lost."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from rpc.client import RpcClient
from tests.fast_fixtures import wait_job
from tests.support import make_settings, running


async def test_a_job_submitted_while_the_worker_looks_for_one_is_not_left_waiting(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appliance.queue import worker as worker_module

    real_next_pending = worker_module.jobs.next_pending
    submitted: list[dict[str, Any]] = []

    async with running(make_settings(state_dir)) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:

        async def racing(db, printer_id):  # type: ignore[no-untyped-def]
            row = await real_next_pending(db, printer_id)
            if row is None and not submitted:  # a script submits just as the worker found nothing to do
                submitted.append(await rpc.call("print.submit", {"template": "text", "fields": {"text": "now"}}))
            return row

        monkeypatch.setattr(worker_module.jobs, "next_pending", racing)
        app.printers[0].worker.wake()  # look now (the idle worker looks every 5 s otherwise)
        while not submitted:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        done = await wait_job(rpc, submitted[0]["id"], ("completed",), timeout=10)
        assert time.monotonic() - started < 2.5, "the wake that came with the job was lost"
    assert done["attempts"] == 1

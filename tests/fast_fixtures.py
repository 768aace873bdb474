"""Fixtures: a real appliance with the embedded instant virtual printer, polled often so faults show quickly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from appliance.app import Appliance
from rpc.client import RpcClient
from tests.support import make_settings, running


@pytest.fixture
async def fast(state_dir: Path) -> AsyncIterator[Appliance]:
    settings = make_settings(state_dir, simulator={"poll_interval_s": 0.2, "busy_poll_interval_s": 0.05},
                             queue={"retry_base_s": 0.05, "retry_max_s": 0.2, "lost_after_idle_s": 0.5})
    async with running(settings) as app:
        yield app


@pytest.fixture
async def rpc(fast: Appliance) -> AsyncIterator[RpcClient]:
    async with RpcClient(socket_path=str(fast.settings.socket_path)) as client:
        yield client


async def wait_job(rpc: RpcClient, job_id: int, states: tuple[str, ...], timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = await rpc.call("job.get", {"job_id": job_id})
        if job["state"] in states:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is {job['state']} {job['reasons']}, not {states}")
        await asyncio.sleep(0.02)


def printed(app: Appliance) -> list[Path]:
    return sorted((app.settings.state_dir / "printed").glob("*.png"))


async def settle(app: Appliance) -> None:
    await app.printers[0].monitor.probe_now()

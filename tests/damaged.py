"""A server whose queue worker stopped at a damaged database page, made for real (shared by tests.ops and tests.tui).

A server queues jobs on a paused printer and stops, the file grows past the size the start checks whole
(tests.support.grow_history), and a page of it is overwritten (tests.support.damage_page); the next server
resumes the printer and its worker meets the page.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from appliance.config import Settings
from appliance.store.db import FULL_CHECK_MAX_BYTES
from rpc.client import RpcClient
from tests.fast_fixtures import wait_job
from tests.support import damage_page, grow_history, make_settings, running


def damaged_settings(state_dir: Path) -> Settings:
    # the history is kept (and the first pruning comes a minute after the start), so no pruning reads a
    # damaged page before the worker does
    return make_settings(state_dir, simulator={"poll_interval_s": 0.2, "busy_poll_interval_s": 0.05},
                         queue={"retry_base_s": 0.05, "retry_max_s": 0.2},
                         history={"keep_days": 3650, "artifact_days": 3650})


async def queued_on_a_paused_printer(state_dir: Path, count: int) -> list[int]:
    """One label printed, then `count` jobs queued on the paused printer; the server stops."""
    async with running(damaged_settings(state_dir)) as app, \
            RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        first = await rpc.call("print.submit", {"template": "text", "fields": {"text": "before"}})
        await wait_job(rpc, first["id"], ("completed",))
        await rpc.call("printer.pause", {})
        return [(await rpc.call("print.submit", {"template": "text", "fields": {"text": f"label {n}"}}))["id"]
                for n in range(count)]


def damage(state_dir: Path, page: str, *, first_leaf: bool = False) -> None:
    """The stopped server's file grown past the start's whole check, then `page` overwritten (damage_page)."""
    db = state_dir / "appliance.db"
    grow_history(db, FULL_CHECK_MAX_BYTES)
    damage_page(db, page, first_leaf=first_leaf)


async def until_stopped(rpc: RpcClient, timeout: float = 10.0) -> dict[str, Any]:
    """printer.status once the worker stopped (its `queue_stopped` set)."""
    deadline = time.monotonic() + timeout
    while (status := await rpc.call("printer.status", {}))["queue_stopped"] is None:
        assert time.monotonic() < deadline, "the worker never stopped at the damaged page"
        await asyncio.sleep(0.05)
    return status

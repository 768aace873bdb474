"""A print.batch whose printer is removed while its rows are drawn stores nothing and says so."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from appliance.simulator.runner import Simulator
from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.support import make_settings, running


async def test_a_batch_drawn_while_its_printer_is_removed_is_refused_whole(state_dir: Path, pt: Simulator) -> None:
    settings = make_settings(state_dir)
    async with running(settings) as app, RpcClient(socket_path=str(settings.socket_path)) as rpc:
        added = await rpc.call("printer.add", {"name": "shelf", "uri": pt.uri, "snmp": {"port": pt.snmp_port}})
        drawing, go_on = asyncio.Event(), asyncio.Event()
        draw = app.queue.drawer.run

        async def held_drawer(*args: Any, **kwargs: Any) -> Any:  # the rows wait until the printer is gone
            drawing.set()
            await go_on.wait()
            return await draw(*args, **kwargs)

        app.queue.drawer.run = held_drawer
        batch = asyncio.ensure_future(rpc.call("print.batch", {
            "template": "text", "rows": [{"text": f"r{n}"} for n in range(3)], "printer_id": "shelf"}))
        await asyncio.wait_for(drawing.wait(), 10)
        await rpc.call("printer.remove", {"printer_id": "shelf"})
        go_on.set()
        with pytest.raises(RpcError) as refused:
            await batch
        assert refused.value.code == -32002 and "removed or changed while the batch was drawn" in refused.value.message
        with sqlite3.connect(settings.db_path) as conn:
            assert conn.execute("SELECT COUNT(*) FROM jobs WHERE printer_id = ?", (added["id"],)).fetchone()[0] == 0
            assert conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 0

"""A label asked for before a printer's first status (just after a start) waits for it, not refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.simulator import Simulator
from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.support import configured, printer_table, running


async def _submit_right_after_start(state_dir: Path, tmp_path: Path, sim: Simulator) -> dict:
    host, port = sim.tcp_address
    _, snmp_port = sim.snmp_address
    settings = configured(state_dir, tmp_path, printer_table(
        "shelf", "PT-P750W", f"tcp://{host}:{port}", "", snmp={"port": snmp_port, "timeout": 2.0}))
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        assert app.queue.printers and next(iter(app.queue.printers.values())).monitor.snapshot.state == "unknown"
        return await rpc.call("print.submit", {"template": "text", "fields": {"text": "first"}})


async def test_a_submit_before_the_first_status_waits_for_the_loaded_media(state_dir: Path, tmp_path: Path) -> None:
    async with Simulator(out_dir=tmp_path / "out", speed=None, snmp=("127.0.0.1", 0)) as sim:
        sim.printer.update(snmp_delay_ms=700)  # the printer's first answer comes after the submit
        job = await _submit_right_after_start(state_dir, tmp_path, sim)
    assert job["media"] == "12mm"


async def test_a_printer_that_never_answers_is_still_refused_in_words(state_dir: Path, tmp_path: Path) -> None:
    async with Simulator(out_dir=tmp_path / "out", speed=None, snmp=("127.0.0.1", 0)) as sim:
        sim.printer.update(snmp_silent=True)
        with pytest.raises(RpcError) as caught:
            await _submit_right_after_start(state_dir, tmp_path, sim)
    assert caught.value.code == -32003 and "none is configured" in caught.value.message

"""The JSON-RPC control endpoint over real HTTP, and the standalone command."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import aiohttp
import pytest

from appliance.printer.status import parse_status
from appliance.simulator import Simulator

from .helpers import job, send


async def _call(sim: Simulator, method: str, params: Any = None, request_id: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        body["params"] = params
    assert sim.control_url
    async with aiohttp.ClientSession() as http, http.post(sim.control_url, json=body) as response:
        assert response.status == 200
        return await response.json()


async def test_state_reports_knobs_prints_and_files(sim: Simulator) -> None:
    await send(sim, job("STATE"))
    await sim.wait_idle(5)
    state = (await _call(sim, "sim.state"))["result"]
    assert state["model"] == "PT-P750W" and state["tape"] == "12mm"
    assert state["printed_count"] == 1 and state["last_error"] is None
    assert state["printed"][0]["file"].endswith(".png")
    assert parse_status(bytes.fromhex(state["status_block"])).media_width_mm == 12


async def test_set_changes_the_printer(sim: Simulator) -> None:
    reply = await _call(sim, "sim.set", {"cover_open": True, "snmp_delay_ms": 50, "speed": "instant"})
    assert reply["result"]["cover_open"] is True and reply["result"]["errors"] == ["cover-open"]
    assert sim.printer.cover_open and sim.printer.snmp_delay_ms == 50
    reply = await _call(sim, "sim.set", {"cover_open": False, "tape": None})
    assert reply["result"]["tape"] is None
    assert parse_status(sim.printer.status_block()).reasons == ["media-needed"]
    reply = await _call(sim, "sim.set", {"tape": "24mm", "tape_remaining_mm": 100, "drop_after_bytes": 10})
    assert reply["result"]["tape"] == "24mm" and reply["result"]["tape_remaining_mm"] == 100
    reply = await _call(sim, "sim.set", {"tape": "none"})  # as `appliance simulate --tape none` writes it
    assert reply["result"]["tape"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cover_open": "yes"}, "cover_open"),
        ({"tape": "13mm"}, "tape"),
        ({"tape": 12}, "tape"),
        ({"tape_remaining_mm": -1}, "tape_remaining_mm"),
        ({"drop_after_bytes": 1.5}, "drop_after_bytes"),
        ({"speed": "fast"}, "speed"),
        ({"colour": "red"}, "colour"),
        ([True], "params"),
        ({}, "params"),
    ],
)
async def test_bad_params_say_which_field_and_change_nothing(sim: Simulator, params: Any, field: str) -> None:
    before = sim.printer.to_json()
    reply = await _call(sim, "sim.set", {"offline": True, **params} if isinstance(params, dict) and params else params)
    assert reply["error"]["code"] == -32602
    assert reply["error"]["data"]["field"] == field
    assert reply["error"]["data"]["reason"]
    assert sim.printer.to_json() == before


async def test_protocol_errors(sim: Simulator) -> None:
    assert (await _call(sim, "sim.nope"))["error"]["code"] == -32601
    assert sim.control_url
    async with aiohttp.ClientSession() as http:
        async with http.post(sim.control_url, data=b"{not json") as response:
            assert (await response.json())["error"]["code"] == -32700
        async with http.post(sim.control_url, json={"id": 1, "method": "sim.state"}) as response:
            assert (await response.json())["error"]["code"] == -32600
        batch = [{"jsonrpc": "2.0", "id": 1, "method": "sim.state"}, {"jsonrpc": "2.0", "method": "sim.state"}]
        async with http.post(sim.control_url, json=batch) as response:
            replies = await response.json()
            assert [reply["id"] for reply in replies] == [1]  # the notification gets no reply


async def test_standalone_command_serves_until_sigterm(tmp_path) -> None:
    code = (
        "import sys; from appliance.simulator.cli import run; "
        "sys.exit(run(['--listen', '127.0.0.1:0', '--snmp', '127.0.0.1:0', '--control', '127.0.0.1:0', "
        f"'--out', {str(tmp_path)!r}, '--speed', 'instant']))"
    )
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    first = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
    assert first.startswith("virtual PT-P750W with 12mm: raster tcp://127.0.0.1:")
    port = int(first.rsplit(":", 1)[1])
    from appliance.printer.transport import TcpTransport

    await TcpTransport("127.0.0.1", port).send(job("CLI"))
    for _ in range(100):
        if list(tmp_path.glob("*.png")):
            break
        await asyncio.sleep(0.05)
    assert len(list(tmp_path.glob("*.png"))) == 1
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 10) == 0


async def test_the_standalone_printer_reports_the_serial_it_is_given(tmp_path) -> None:
    """`--serial` makes another printer at the same address (how a swapped printer is tried out)."""
    from appliance.printer import snmp
    from tests.support import start_simulator

    snmp.load()
    process, _raster, snmp_port = await asyncio.to_thread(start_simulator, tmp_path, "--serial", "E7Z424242")
    try:
        answer = await snmp.probe("127.0.0.1", port=snmp_port, fields=tuple(snmp.PROBE_OIDS))
        assert answer.serial == "E7Z424242"
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 10)


def test_bad_arguments_exit_with_usage_errors(capsys) -> None:
    from appliance.simulator.cli import run

    with pytest.raises(SystemExit) as info:
        run(["--listen", "nowhere"])
    assert info.value.code == 2
    assert run(["--model", "PT-X1", "--listen", "127.0.0.1:0"]) == 2
    assert "unknown printer model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(["--serial", "no spaces here"])
    assert "is not a serial number" in capsys.readouterr().err

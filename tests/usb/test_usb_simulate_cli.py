"""`appliance simulate --usb PATH`: a standalone virtual USB printer, driven through its control endpoint."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from appliance.printer.transport import open_transport
from tests.simulator.helpers import job
from tests.support import PYTHON, cli_env
from tests.usb.conftest import events_until, kinds


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([PYTHON, "-m", "appliance.cli", "simulate", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=cli_env())  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if found := re.search(r"control (http://\S+)", line):
            return process, found.group(1)
        if not line:
            break
    process.kill()
    raise AssertionError(f"simulator did not start: {process.communicate()[1][-2000:]}")


async def call(url: str, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, **({"params": params} if params else {})}
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        return await response.json()


def present(path: Path) -> bool:
    return os.path.lexists(path)


async def test_a_standalone_usb_printer_unplugs_and_comes_back(usb_roots) -> None:
    dev, sysfs = usb_roots
    path = dev / "usb" / "lp0"
    process, control = await asyncio.to_thread(
        start, "--usb", str(path), "--sysfs", str(sysfs), "--control", "127.0.0.1:0", "--speed", "instant",
        "--serial", "E7Z0000CC",
    )  # fmt: skip
    try:
        transport = open_transport("usb://Brother/PT-P750W?serial=E7Z0000CC")
        session = await transport.session()
        try:
            await session.send(job("standalone", copies=2), timeout=5)
            events = await events_until(session, lambda ev: kinds(ev)[-1:] == ["phase:idle"])
        finally:
            await transport.close()
        assert kinds(events) == ["phase:printing", "printed", "printed", "phase:idle"]

        bad = await call(control, "sim.set", {"unplugged": "yes"})
        assert bad["error"]["code"] == -32602 and bad["error"]["data"]["field"] == "unplugged"
        state = (await call(control, "sim.set", {"unplugged": True}))["result"]
        assert state["usb"]["unplugged"] is True and state["printed_count"] == 2
        assert not present(path) and not present(sysfs / "lp0")
        state = (await call(control, "sim.set", {"unplugged": False, "answers_status": False}))["result"]
        assert state["usb"] | {"pty": None} == {
            "path": str(path), "pty": None, "unplugged": False, "answers_status": False, "notifications": True,
            "device_id": "MFG:Brother;CMD:PT-CBP;MDL:PT-P750W;CLS:PRINTER;SN:E7Z0000CC;", "dropped_blocks": 0,
        }  # fmt: skip
        assert present(path) and present(sysfs / "lp0" / "device" / "ieee1284_id")
        quiet = open_transport("usb://Brother/PT-P750W?serial=E7Z0000CC", status_timeout=0.3)
        assert await quiet.request_status() is None
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.communicate, timeout=20)
    assert process.returncode == 0
    assert not present(path)  # it cleans up after itself


@pytest.mark.parametrize(("args", "said"), [
    (["--sysfs", "/tmp"], "--sysfs goes with --usb PATH"),
    (["--usb", "/etc/hostname"], "exists and is not a link this simulator made"),
])  # fmt: skip
def test_simulate_usb_mistakes_are_said(args: list[str], said: str) -> None:
    done = subprocess.run([PYTHON, "-m", "appliance.cli", "simulate", *args], capture_output=True, text=True,
                          env=cli_env(), timeout=30)  # fmt: skip
    assert done.returncode != 0 and said in done.stderr and "Traceback" not in done.stderr

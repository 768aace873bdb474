"""Printers added, renamed and removed at run time reach DNS-SD: the real server and roster, with zeroconf's
registration replaced by a recorder (the tests listen on loopback, where nothing may be multicast)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from appliance.simulator.runner import Simulator
from rpc.client import RpcClient
from tests.support import make_settings, running


class Recorder:
    """Stands in for AsyncZeroconf: what was registered and withdrawn, nothing sent."""

    def __init__(self) -> None:
        self.live: dict[str, Any] = {}
        self.log: list[tuple[str, str]] = []

    async def async_register_service(self, info: Any, allow_name_change: bool = False) -> None:
        self.live[info.name] = info
        self.log.append(("register", info.name))

    async def async_unregister_service(self, info: Any) -> None:
        self.live.pop(info.name)
        self.log.append(("unregister", info.name))

    async def async_close(self) -> None:
        self.log.append(("close", ""))


async def dnssd_output(app: Any) -> str:
    return (await app.readiness())["checks"]["ipp:dnssd"][0]["output"]


async def test_added_renamed_and_removed_printers_are_announced_and_withdrawn(state_dir: Path, pt: Simulator) -> None:
    settings = make_settings(state_dir)
    async with running(settings) as app, RpcClient(socket_path=str(settings.socket_path)) as rpc:
        while any(task.get_name() == "dnssd" for task in app._tasks):  # start() has run (and announced nothing)
            await asyncio.sleep(0.01)
        recorder = Recorder()
        app.dnssd._zeroconf, app.dnssd._hostname = recorder, "box"
        await app.dnssd.add(app.printers[0])  # what start() does for the printers there at READY
        assert sorted(recorder.live) == ["virtual @ box._ipp._tcp.local."]
        assert await dnssd_output(app) == "announced as _ipp._tcp: virtual @ box"

        await rpc.call("printer.add", {"name": "Front desk", "uri": pt.uri, "snmp": {"port": pt.snmp_port}})
        assert sorted(recorder.live) == ["Front desk @ box._ipp._tcp.local."]  # the virtual printer stepped aside
        info = recorder.live["Front desk @ box._ipp._tcp.local."]
        assert info.properties[b"rp"] == b"ipp/print/Front%20desk"
        assert await dnssd_output(app) == "announced as _ipp._tcp: Front desk @ box"

        await rpc.call("printer.update", {"printer_id": "Front desk", "name": "shelf"})
        assert sorted(recorder.live) == ["shelf @ box._ipp._tcp.local."]
        assert await dnssd_output(app) == "announced as _ipp._tcp: shelf @ box"

        await rpc.call("printer.remove", {"printer_id": "shelf"})
        assert sorted(recorder.live) == ["virtual @ box._ipp._tcp.local."]  # the virtual printer is back
        assert ("unregister", "shelf @ box._ipp._tcp.local.") in recorder.log
    assert recorder.log[-2:] == [("unregister", "virtual @ box._ipp._tcp.local."), ("close", "")]  # withdrawn at stop

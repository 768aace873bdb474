"""A printer added at run time with a space in its name is an IPP printer at its URL-encoded path, and /metrics
times its status probes as it does for the printers there at start."""

from __future__ import annotations

import asyncio
from pathlib import Path

from appliance.ipp import codes
from appliance.simulator.runner import Simulator
from rpc.client import RpcClient
from tests.access.helpers import unix_session
from tests.ipp.client import IppClient, attrs, status_name
from tests.metrics.test_metrics import samples
from tests.support import make_settings, running


async def test_front_desk_answers_at_its_encoded_uri_and_its_probes_are_timed(state_dir: Path,
                                                                               pt: Simulator) -> None:
    settings = make_settings(state_dir, ipp={"auth": "none"})
    async with running(settings) as app, RpcClient(socket_path=str(settings.socket_path)) as rpc:
        await rpc.call("printer.add", {"name": "Front desk", "uri": pt.uri, "snmp": {"port": pt.snmp_port}})

        client = IppClient(url=app.listeners.url, path="/ipp/print/Front%20desk")
        answer = await client.op(codes.GET_PRINTER_ATTRIBUTES)
        assert status_name(answer) == "successful-ok"
        uri = attrs(answer)["printer-uri-supported"][0]
        assert uri.endswith("/ipp/print/Front%20desk") and " " not in uri

        for _ in range(100):  # the new printer's monitor probes it every few tenths of a second
            async with unix_session(app) as session, session.get("http://localhost/metrics") as response:
                found = samples(await response.text())
            probes = sum(v for (name, labels), v in found.items()
                         if name == "appliance_printer_probe_duration_seconds_count"
                         and ("printer", "Front desk") in labels)
            if probes:
                break
            await asyncio.sleep(0.05)
        assert probes >= 1

"""printer.add of a USB printer (a pty stands in for /dev/usb/lp0; its other end is the virtual printer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.fast_fixtures import wait_job
from tests.queue.test_usb_and_file import PtyPrinter, usb
from tests.support import make_settings, running
from tests.usb.conftest import usb_printers, usb_roots

__all__ = ["usb", "usb_printers", "usb_roots"]


async def test_a_usb_printer_is_asked_its_model_added_and_printed_on(state_dir: Path, usb: PtyPrinter) -> None:
    settings = make_settings(state_dir)
    async with running(settings), RpcClient(socket_path=str(settings.socket_path)) as rpc:
        with pytest.raises(RpcError) as refused:
            await rpc.call("printer.add", {"name": "desk", "uri": "usb:///dev/usb/lp-not-there"})
        assert refused.value.code == -32004 and "lp-not-there" in refused.value.message
        added = await rpc.call("printer.add", {"name": "desk", "uri": f"usb://{usb.path}"})
        assert added["model"] == "PT-P750W" and usb.status_requests >= 1  # the model came from its status
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "usb"}})
        await wait_job(rpc, job["id"], ("completed",))
        assert [p["name"] for p in await rpc.call("printer.list")] == ["desk"]


async def test_a_usb_printer_named_by_model_and_serial_is_found_added_and_confirms_its_labels(
        state_dir: Path, usb_printers, usb_roots) -> None:
    from appliance.discovery import usb as usb_discovery

    sim = await usb_printers("PT-P750W", "12mm", serial="E7Z0000CC", speed=None)
    found = usb_discovery.scan()  # the real roots, moved by the resolver's hooks: one 1284 walker for both
    uri = "usb://Brother/PT-P750W?serial=E7Z0000CC"
    assert [(c.model, c.serial, c.uri) for c in found] == [("PT-P750W", "E7Z0000CC", uri)]
    assert found[0].other_uris == [f"usb://{usb_roots[0] / 'usb' / 'lp0'}"]
    settings = make_settings(state_dir)
    async with running(settings), RpcClient(socket_path=str(settings.socket_path)) as rpc:
        with pytest.raises(RpcError) as refused:
            await rpc.call("printer.add", {"name": "desk", "uri": "usb://Brother/PT-P750W?serial=NOPE"})
        assert "no such printer plugged in" in refused.value.message and "E7Z0000CC" in refused.value.message
        added = await rpc.call("printer.add", {"name": "desk", "uri": uri})
        assert added["model"] == "PT-P750W" and added["uri"] == uri
        job = await rpc.call("print.submit", {"template": "text", "copies": 2, "fields": {"text": "by serial"}})
        await wait_job(rpc, job["id"], ("completed",))
        timeline = await rpc.call("job.timeline", {"job_id": job["id"]})
    assert [s["detail"]["label"] for s in timeline if s["event"] == "label-out"] == [1, 2]
    assert len(sim.printer.printed) == 2

"""printer.add of a USB printer (a pty stands in for /dev/usb/lp0; its other end is the virtual printer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.fast_fixtures import wait_job
from tests.queue.test_usb_and_file import PtyPrinter, usb
from tests.support import make_settings, running

__all__ = ["usb"]


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

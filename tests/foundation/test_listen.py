"""Listening on IPv6 and IPv4; SIGINT stops as cleanly as SIGTERM; printer.list describes the printers."""

from __future__ import annotations

import json
import signal
import socket
import urllib.request
from pathlib import Path

import pytest

from appliance.app import Appliance
from rpc.client import RpcClient
from tests.support import make_settings, start_server, stop_server


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6(), reason="no IPv6 loopback here")
async def test_listens_on_ipv6(state_dir: Path) -> None:
    app = Appliance(make_settings(state_dir, server={"listen": "[::1]:0"}))
    await app.start()
    try:
        assert app.listeners.url.startswith("http://[::1]:")
        body = await __import__("asyncio").to_thread(
            lambda: urllib.request.urlopen(app.listeners.url + "/healthz", timeout=5).read())
        assert json.loads(body)["status"] == "pass"
    finally:
        await app.stop()


def test_sigint_exits_zero(state_dir: Path) -> None:
    process, url = start_server(state_dir)
    with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
        assert response.status == 200
    code, err = stop_server(process, signal.SIGINT)
    assert code == 0 and "Traceback" not in err


async def test_printer_list(appliance: Appliance, client: RpcClient) -> None:
    (printer,) = await client.call("printer.list")
    assert printer["id"] == appliance.printers[0].id and len(printer["id"]) == 36
    assert (printer["name"], printer["model"], printer["virtual"]) == ("virtual", "PT-P750W", True)
    assert printer["media"] == "12mm"
    caps = printer["capabilities"]
    assert caps["head_pins"] == 128 and caps["needs_compression"] is True and "24mm" in caps["media"]

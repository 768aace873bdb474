"""printer.update: a new name, a new address for the same model (jobs follow), another model (jobs end)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from appliance.simulator.runner import Simulator
from rpc.client import RpcClient
from rpc.errors import RpcError
from rpc.ws_client import Notification, WsClient
from tests.fast_fixtures import wait_job
from tests.support import make_settings, running


async def test_update_renames_moves_and_changes_model_by_the_configurations_rules(
        state_dir: Path, pt: Simulator, ql: Simulator) -> None:
    settings = make_settings(state_dir)
    async with running(settings), RpcClient(socket_path=str(settings.socket_path)) as rpc:
        virtual_job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "v"}, "hold": True})
        first = await rpc.call("printer.add", {"name": "shelf", "uri": pt.uri, "snmp": {"port": pt.snmp_port}})
        moved = await rpc.call("job.get", {"job_id": virtual_job["id"]})
        assert (moved["state"], moved["printer_id"]) == ("held", first["id"])  # the same model: it followed

        renamed = await rpc.call("printer.update", {"printer_id": "shelf", "name": "bench", "media": "12mm"})
        assert (renamed["id"], renamed["name"], renamed["configured_media"]) == (first["id"], "bench", "12mm")
        held = await rpc.call("print.submit", {"template": "text", "fields": {"text": "h"}, "hold": True})

        _, port = pt.tcp_address  # the same printer, named by another address: a new printer id
        readdressed = await rpc.call("printer.update", {"printer_id": "bench", "uri": f"tcp://localhost:{port}"})
        assert readdressed["id"] != first["id"] and readdressed["jobs_moved"] == [virtual_job["id"], held["id"]]
        job = await rpc.call("job.get", {"job_id": held["id"]})
        assert (job["state"], job["printer_id"]) == ("held", readdressed["id"])
        await rpc.call("job.release", {"job_id": held["id"]})
        await wait_job(rpc, held["id"], ("completed",))

        other = await rpc.call("print.submit", {"template": "text", "fields": {"text": "o"}, "hold": True})
        changed = await rpc.call("printer.update", {"printer_id": "bench", "uri": ql.uri,
                                                    "snmp": {"port": ql.snmp_port}})
        assert changed["model"] == "QL-820NWB" and changed["jobs_aborted"] == [virtual_job["id"], other["id"]]
        job = await rpc.call("job.get", {"job_id": other["id"]})
        assert (job["state"], job["reasons"]) == ("aborted", ["printer-removed"])
        assert [p["name"] for p in await rpc.call("printer.list")] == ["bench"]
        with pytest.raises(RpcError) as refused:
            await rpc.call("printer.update", {"printer_id": "bench", "media": "24mm"})  # a QL takes no 24mm tape
        assert refused.value.code == -32602 and refused.value.data["field"] == "media"

    async with running(settings), RpcClient(socket_path=str(settings.socket_path)) as rpc:
        listed = await rpc.call("printer.list")
        assert [(p["name"], p["model"], p["uri"]) for p in listed] == [("bench", "QL-820NWB", ql.uri)]


async def announced(seen: list[Notification], wanted: Callable[[dict[str, Any]], Any]) -> None:
    """Until a notify_printer_status that `wanted` accepts came (notifications may follow the call's answer)."""
    for _ in range(100):
        if any(wanted(n.params) for n in seen if n.method == "notify_printer_status"):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the status was not announced")


async def test_discovery_streams_each_printer_over_the_websocket_and_add_announces_it(
        state_dir: Path, pt: Simulator) -> None:
    settings = make_settings(state_dir)
    async with running(settings), WsClient(socket_path=str(settings.socket_path)) as ws:
        seen: list[Notification] = []
        ws.add_listener(lambda event: seen.append(event) if isinstance(event, Notification) else None)
        await ws.subscribe(["printers"])
        answer = await ws.call("printer.discover", {"network": "127.0.0.1/32", "snmp_port": pt.snmp_port,
                                                    "timeout_s": 1.0})
        streamed = [n.params for n in seen if n.method == "notify_discovery"]
        assert streamed == answer["printers"] and streamed[0]["serial"] == "E7Z100001"  # before the answer
        added = await ws.call("printer.add", {"name": "shelf", "uri": pt.uri, "snmp": {"port": pt.snmp_port}})
        await announced(seen, lambda s: s.get("removed") and s["name"] == "virtual")
        statuses = [n.params for n in seen if n.method == "notify_printer_status"]
        assert any(s["printer_id"] == added["id"] and s["name"] == "shelf" for s in statuses)
        assert any(s.get("removed") and s["name"] == "virtual" for s in statuses)  # it stepped aside
        await ws.call("printer.remove", {"printer_id": "shelf"})
        await announced(seen, lambda s: s["name"] == "virtual" and not s.get("removed"))
        statuses = [n.params for n in seen if n.method == "notify_printer_status"]
        gone = next(i for i, s in enumerate(statuses) if s["printer_id"] == added["id"] and s.get("removed"))
        assert statuses[gone] == {"printer_id": added["id"], "name": "shelf", "removed": True, "state": "removed",
                                  "reasons": []}
        assert statuses[-1]["name"] == "virtual" and not statuses[-1].get("removed")  # it stands in again
        assert [p["name"] for p in await ws.call("printer.list")] == ["virtual"]

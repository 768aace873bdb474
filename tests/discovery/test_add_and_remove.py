"""Two `appliance simulate` virtual printers found, added, printed on, kept across a restart, one removed."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from rpc.client import RpcClient
from tests.fast_fixtures import wait_job
from tests.support import make_settings, running, start_simulator, stop_server


def rows(db: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("SELECT name, added FROM printers").fetchall())


async def found_at(rpc: RpcClient, snmp_port: int) -> dict[str, Any]:
    answer = await rpc.call("printer.discover", {"network": "127.0.0.1/32", "snmp_port": snmp_port,
                                                 "timeout_s": 2.0})
    assert len(answer["printers"]) == 1, answer
    return answer["printers"][0]


async def test_two_virtual_printers_are_found_added_printed_on_kept_and_one_removed(tmp_path: Path,
                                                                                    state_dir: Path) -> None:
    pt, pt_raster, pt_snmp = start_simulator(tmp_path / "pt", "--model", "PT-P750W", "--tape", "12mm",
                                             "--serial", "E7Z100001", "--speed", "instant")
    ql, ql_raster, ql_snmp = start_simulator(tmp_path / "ql", "--model", "QL-820NWB", "--tape", "62mm",
                                             "--serial", "K8Q200002", "--speed", "instant")
    settings = make_settings(state_dir)
    try:
        async with running(settings) as app, RpcClient(socket_path=str(settings.socket_path)) as rpc:
            assert [p["name"] for p in await rpc.call("printer.list")] == ["virtual"]  # nothing set up yet
            found_pt = await found_at(rpc, pt_snmp)
            assert (found_pt["model"], found_pt["serial"], found_pt["media"]) == ("PT-P750W", "E7Z100001", "12mm")
            assert found_pt["media_description"] == "12mm tape" and found_pt["found_by"] == ["snmp"]
            assert found_pt["uri"] == "tcp://127.0.0.1:9100" and found_pt["configured_as"] is None
            assert found_pt["suggested_name"] == "pt-p750w"
            found_ql = await found_at(rpc, ql_snmp)
            assert (found_ql["model"], found_ql["serial"], found_ql["media"]) == ("QL-820NWB", "K8Q200002", "62mm")
            assert found_ql["media_description"] == "62mm roll"

            # the virtual printers take raster on ephemeral ports, not 9100: the URI is told that port
            added_pt = await rpc.call("printer.add", {"name": "shelf", "uri": f"tcp://127.0.0.1:{pt_raster}",
                                                      "snmp": {"port": pt_snmp}})
            assert (added_pt["model"], added_pt["serial"]) == ("PT-P750W", "E7Z100001")
            added_ql = await rpc.call("printer.add", {"name": "desk", "uri": f"tcp://127.0.0.1:{ql_raster}",
                                                      "model": "QL-820NWB", "snmp": {"port": ql_snmp}})
            listed = await rpc.call("printer.list")
            assert sorted(p["name"] for p in listed) == ["desk", "shelf"]  # the virtual printer stepped aside
            again = await found_at(rpc, pt_snmp)
            assert again["configured_as"] == "shelf" and again["suggested_name"] is None  # known by its serial

            for name in ("shelf", "desk"):
                job = await rpc.call("print.submit", {"template": "text", "fields": {"text": name},
                                                      "printer_id": name})
                await wait_job(rpc, job["id"], ("completed",))
            assert len(list((tmp_path / "pt").glob("*.png"))) == 1
            assert len(list((tmp_path / "ql").glob("*.png"))) == 1
            assert app.simulator is None  # the embedded virtual printer is stopped

        async with running(settings) as app, RpcClient(socket_path=str(settings.socket_path)) as rpc:
            listed = {p["name"]: p for p in await rpc.call("printer.list")}
            assert sorted(listed) == ["desk", "shelf"]  # still there after a restart, no virtual one
            assert (listed["shelf"]["id"], listed["desk"]["id"]) == (added_pt["id"], added_ql["id"])
            waiting = await rpc.call("print.submit", {"template": "text", "fields": {"text": "never"},
                                                      "printer_id": "desk", "hold": True})
            done = await rpc.call("job.list", {"printer_id": "desk"})
            removed = await rpc.call("printer.remove", {"printer_id": "desk"})
            assert removed["jobs_aborted"] == [waiting["id"]]
            job = await rpc.call("job.get", {"job_id": waiting["id"]})
            assert (job["state"], job["reasons"]) == ("aborted", ["printer-removed"])
            steps = await rpc.call("job.timeline", {"job_id": waiting["id"]})
            assert [s["event"] for s in steps][-1] == "failed" and "printer.remove" in steps[-1]["detail"]["why"]
            assert [p["name"] for p in await rpc.call("printer.list")] == ["shelf"]
            # its history stays: the completed job is still listed by the printer's id
            history = await rpc.call("job.list", {"printer_id": added_ql["id"]})
            assert {j["id"] for j in done["jobs"]} <= {j["id"] for j in history["jobs"]}

        async with running(settings) as app, RpcClient(socket_path=str(settings.socket_path)) as rpc:
            assert [p["name"] for p in await rpc.call("printer.list")] == ["shelf"]  # removed for good
            names = [name for name, _ in rows(settings.db_path)]
            assert "shelf" in names and any(n.startswith("desk (removed") for n in names), names
            # added again (the same model at the same address: the same printer), its history is its own again
            back = await rpc.call("printer.add", {"name": "label-desk", "uri": f"tcp://127.0.0.1:{ql_raster}",
                                                  "snmp": {"port": ql_snmp}})
            assert back["id"] == added_ql["id"]
            history = await rpc.call("job.list", {"printer_id": "label-desk"})
            assert {j["id"] for j in history["jobs"]} == {j["id"] for j in done["jobs"]}
    finally:
        for process in (pt, ql):
            stop_server(process)

"""A printer given a new address or another model under the same name, between two runs.

A printer's id is UUIDv5(model, uri), so either change makes a new printer. The server must still
start (it used to stop at every start on the printers' UNIQUE name), the old printer's waiting
jobs must go where they can print, and none may wait for ever on a printer nobody drives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from appliance.config import Settings
from appliance.simulator.runner import Simulator
from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.fast_fixtures import wait_job
from tests.support import configured, printer_table, running


@pytest.fixture
async def printer(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Simulator]:
    model = getattr(request, "param", "PT-P750W")
    sim = Simulator(model, "12mm", out_dir=tmp_path / "printed", speed=None)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


def settings_for(tmp_path: Path, sim: Simulator, *, host: str, model: str = "PT-P750W", media: str = "12mm",
                 name: str = "shelf") -> Settings:
    _, port = sim.tcp_address
    return configured(tmp_path / "state", tmp_path, printer_table(
        name, model, f"tcp://{host}:{port}", media, poll_interval_s=0.2, busy_poll_interval_s=0.05,
        snmp={"host": "127.0.0.1", "port": sim.snmp_port, "timeout": 0.5}))


def printed(sim: Simulator) -> int:
    assert sim.out_dir is not None
    return len(list(sim.out_dir.glob("*.png")))


async def test_a_printer_moved_to_a_new_address_keeps_its_name_and_its_jobs(printer: Simulator, tmp_path: Path) -> None:
    first = settings_for(tmp_path, printer, host="127.0.0.1")
    async with running(first) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        done = await rpc.call("print.submit", {"template": "text", "fields": {"text": "one"}})
        await wait_job(rpc, done["id"], ("completed",))
        held = await rpc.call("print.submit", {"template": "text", "fields": {"text": "two"}, "hold": True})
        old_id = app.printers[0].id

    moved = settings_for(tmp_path, printer, host="localhost")  # the same printer, named by another address
    async with running(moved) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        new_id = app.printers[0].id
        assert new_id != old_id
        listed = await rpc.call("printer.list")
        assert [(p["id"], p["name"]) for p in listed] == [(new_id, "shelf")]
        job = await rpc.call("job.get", {"job_id": held["id"]})
        assert (job["state"], job["printer_id"]) == ("held", new_id)  # it came along, still held
        steps = await rpc.call("job.timeline", {"job_id": held["id"]})
        assert [s["detail"]["from_printer_id"] for s in steps if s["event"] == "moved"] == [old_id]
        await rpc.call("job.release", {"job_id": held["id"]})
        await wait_job(rpc, held["id"], ("completed",))
        again = await rpc.call("job.reprint", {"job_id": done["id"]})  # a job of the old printer, printed here
        assert again["printer_id"] == new_id
        await wait_job(rpc, again["id"], ("completed",))
        left = await rpc.call("print.submit", {"template": "text", "fields": {"text": "three"}, "hold": True})
    assert printed(printer) == 3

    replaced = settings_for(tmp_path, printer, host="localhost", model="PT-P900W")  # another model, same name
    async with running(replaced) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        job = await rpc.call("job.get", {"job_id": left["id"]})
        assert (job["state"], job["reasons"]) == ("aborted", ["printer-removed"])  # its raster fits no other head
        why = [s["detail"]["why"] for s in await rpc.call("job.timeline", {"job_id": left["id"]})
               if s["event"] == "failed"]
        assert why and "PT-P900W" in why[0] and "rerender" in why[0]
        with pytest.raises(RpcError) as refused:
            await rpc.call("job.reprint", {"job_id": done["id"]})
        assert refused.value.code == -32003 and refused.value.data["field"] == "rerender"
        status = await rpc.call("queue.status")
        assert sum(status["totals"].values()) == 0  # nothing left waiting for a printer nobody drives
    assert printed(printer) == 3


async def test_a_printer_taken_out_of_the_configuration_ends_its_waiting_jobs(printer: Simulator,
                                                                              tmp_path: Path) -> None:
    async with running(settings_for(tmp_path, printer, host="127.0.0.1")) as app, \
            RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        held = await rpc.call("print.submit", {"template": "text", "fields": {"text": "kept"}, "hold": True})
    async with running(settings_for(tmp_path, printer, host="127.0.0.1", name="desk",
                                    model="QL-820NWB", media="62mm")) as app, \
            RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        job = await rpc.call("job.get", {"job_id": held["id"]})
        assert (job["state"], job["reasons"]) == ("aborted", ["printer-removed"])
        with pytest.raises(RpcError) as refused:
            await rpc.call("job.release", {"job_id": held["id"]})
        assert refused.value.code == -32003
    assert printed(printer) == 0


@pytest.mark.parametrize("printer", ["PT-P950NW"], indirect=True)
async def test_a_printer_of_another_head_than_configured_is_named_and_sent_nothing(printer: Simulator,
                                                                                   tmp_path: Path) -> None:
    # the configuration says PT-P750W (128 pins); a PT-P950NW (560 pins) answers at that address
    async with running(settings_for(tmp_path, printer, host="127.0.0.1")) as app, \
            RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        await app.printers[0].monitor.probe_now()
        status = await rpc.call("printer.status")
        assert status["reasons"] == ["model-mismatch"] and status["info"]["reported_model"] == "PT-P950NW", status
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "wrong head"}})
        stopped = await wait_job(rpc, job["id"], ("stopped", "aborted", "completed"))
        assert (stopped["state"], stopped["reasons"]) == ("stopped", ["model-mismatch"])  # for a person, at once
    assert printer.printer.jobs_received == 0  # not sent, refused and resent until the attempts ran out


async def test_a_reprint_on_a_successor_that_lacks_the_originals_cut_names_the_job(printer: Simulator,
                                                                                    tmp_path: Path) -> None:
    async with running(settings_for(tmp_path, printer, host="127.0.0.1")) as app, \
            RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        halved = await rpc.call("print.submit", {"template": "text", "fields": {"text": "x"}, "cut": "half"})
        await wait_job(rpc, halved["id"], ("completed",))
    ql = settings_for(tmp_path, printer, host="127.0.0.1", model="QL-820NWB", media="62mm")  # same name
    async with running(ql) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        with pytest.raises(RpcError) as refused:
            await rpc.call("job.reprint", {"job_id": halved["id"], "rerender": True})
    assert refused.value.code == -32003 and refused.value.data["field"] == "job_id"  # job.reprint has no "cut"
    assert "half-cutter" in refused.value.message

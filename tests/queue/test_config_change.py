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
from appliance.store import jobs
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


@pytest.mark.parametrize(("printer", "configured_as", "media", "noun", "holder", "words"), [
    ("QL-820NWB", "PT-P750W", "12mm", "roll", "DK roll",
     "No DK roll loaded — insert a roll of continuous tape or die-cut labels"),
    ("PT-P750W", "QL-820NWB", "62mm", "tape", "tape cassette", "No tape cassette loaded — insert one"),
], indirect=["printer"])
async def test_another_model_at_the_address_is_worded_for_the_media_of_the_model_that_answers(
        printer: Simulator, tmp_path: Path, configured_as: str, media: str, noun: str, holder: str,
        words: str) -> None:
    """The configuration names one model, another answers (model-mismatch): its other reasons are said in
    the words of the printer in front of the person (runtime.family follows the status block's family)."""
    printer.printer.update(tape=None)
    async with running(settings_for(tmp_path, printer, host="127.0.0.1", model=configured_as, media=media)) as app, \
            RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        await app.printers[0].monitor.probe_now()
        status = await rpc.call("printer.status")
        assert status["reasons"] == ["model-mismatch", "media-needed"], status
        assert status["descriptions"][1] == words
        (listed,) = await rpc.call("printer.list")  # the list names the media as printer.status does
        assert (listed["media_noun"], listed["media_description"]) == (noun, f"no {noun}") == (
            status["media_noun"], status["media_description"])
        assert f"shelf: stopped, no {noun}" in await app.status_text()
        with pytest.raises(RpcError) as refused:
            await rpc.call("print.submit", {"template": "text", "fields": {"text": "wrong model"}})
        assert refused.value.code == -32003 and refused.value.message == f"printer_id: shelf reports no {holder} " \
            "loaded; load one", refused.value
    assert printer.printer.jobs_received == 0


async def test_a_job_whose_printer_is_no_longer_configured_is_worded_neutrally(tmp_path: Path) -> None:
    """A PT's job that ended for its cassette (job-incomplete) says "tape cassette"; once that printer is gone
    from the configuration, after a restart, nobody knows what printed it: job.get and job.list say "tape or
    labels". (Its end is written with the store's own transition: reaching job-incomplete for real takes a
    power cut and the worker's 5 s of slack, see test_faults.)"""
    state = tmp_path / "state"
    shelf = configured(state, tmp_path, printer_table("shelf", "PT-P750W", f"file://{tmp_path}/shelf.prn", "12mm"))
    async with running(shelf) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "lost"}, "hold": True})
        assert await jobs.transition(app.db, job["id"], allowed_from=("held",), to="aborted",
                                     reasons=["job-incomplete"], completed=True) is not None
        ended = await rpc.call("job.get", {"job_id": job["id"]})
        assert "its tape cassette" in ended["descriptions"][0], ended
    desk = configured(state, tmp_path, printer_table("desk", "QL-820NWB", f"file://{tmp_path}/desk.prn", "62mm"))
    async with running(desk) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        after = await rpc.call("job.get", {"job_id": job["id"]})
        assert (after["state"], after["reasons"], after["printer_name"]) == ("aborted", ["job-incomplete"], None)
        assert after["descriptions"] == ["The printer never printed all of it, though it was sent again: check the "
                                         "printer and its tape or labels, then reprint the job"], after
        listed = {j["id"]: j for j in (await rpc.call("job.list"))["jobs"]}
        assert listed[job["id"]]["descriptions"] == after["descriptions"]

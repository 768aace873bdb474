"""job.move gives a job nothing was sent of to another printer; job.reprint can print a job on another one."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from appliance.config import Settings
from appliance.simulator.runner import Simulator
from appliance.store import jobs
from appliance.store.db import Database
from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.fast_fixtures import wait_job
from tests.support import configured, printer_table, running


def _text(text: str, printer: str, **more: object) -> dict[str, object]:
    return {"template": "text", "fields": {"text": text}, "printer_id": printer, **more}


async def _raster_sha(app: object, job_id: int) -> str:
    art = await jobs.artifact(app.db, job_id)  # type: ignore[attr-defined]
    return hashlib.sha256(art["raster"]).hexdigest()


async def test_jobs_move_off_a_paused_printer_redrawn_for_another_model_or_as_they_are(tmp_path: Path) -> None:
    settings = configured(tmp_path / "state", tmp_path,
                          printer_table("shelf", "PT-P750W", f"file://{tmp_path}/shelf.prn", "12mm"),
                          printer_table("spare", "PT-P750W", f"file://{tmp_path}/spare.prn", "12mm"),
                          printer_table("wide", "PT-P750W", f"file://{tmp_path}/wide.prn", "24mm"),
                          printer_table("ship", "QL-820NWB", f"file://{tmp_path}/ship.prn", "62mm"))
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        ids = {p["name"]: p["id"] for p in await rpc.call("printer.list")}
        await rpc.call("printer.pause", {"printer_id": "shelf"})
        await rpc.call("printer.pause", {"printer_id": "wide"})
        narrow = await rpc.call("print.submit", _text("to the 24 mm tape", "shelf"))
        drawn_for_12mm = await _raster_sha(app, narrow["id"])
        widened = await rpc.call("job.move", {"job_id": narrow["id"], "printer_id": "wide"})
        assert widened["media"] == "24mm"  # the same model with another tape: drawn again for it
        assert await _raster_sha(app, narrow["id"]) != drawn_for_12mm
        stuck = await rpc.call("print.submit", _text("to the QL", "shelf"))
        held = await rpc.call("print.submit", _text("to the spare", "shelf", hold=True))
        before = await _raster_sha(app, held["id"])

        moved = await rpc.call("job.move", {"job_id": stuck["id"], "printer_id": "ship"})
        assert moved["printer_id"] == ids["ship"] and moved["media"] == "62mm" and moved["printer_name"] == "ship"
        done = await wait_job(rpc, stuck["id"], ("completed",))
        assert done["printer_id"] == ids["ship"]
        step = next(s for s in await rpc.call("job.timeline", {"job_id": stuck["id"]}) if s["event"] == "moved")
        assert step["detail"]["from_printer_id"] == ids["shelf"] and step["detail"]["redrawn"] is True

        again = await rpc.call("job.move", {"job_id": held["id"], "printer_id": ids["spare"]})
        assert again["state"] == "held" and again["printer_id"] == ids["spare"]  # still held, where it went
        assert await _raster_sha(app, held["id"]) == before  # the same model: the stored label as it was
        assert await rpc.call("job.move", {"job_id": held["id"], "printer_id": "spare"}) == \
            await rpc.call("job.get", {"job_id": held["id"]})  # asked again: nothing changes
        await rpc.call("job.release", {"job_id": held["id"]})
        await wait_job(rpc, held["id"], ("completed",))

        assert not (tmp_path / "shelf.prn").exists()  # the paused printer was sent nothing
        assert (tmp_path / "ship.prn").stat().st_size > 0 and (tmp_path / "spare.prn").stat().st_size > 0

        with pytest.raises(RpcError) as printed:  # a completed job stays where it printed
            await rpc.call("job.move", {"job_id": stuck["id"], "printer_id": "shelf"})
        assert printed.value.code == -32003 and "job.reprint with printer_id" in printed.value.message
        with pytest.raises(RpcError) as unknown:
            await rpc.call("job.move", {"job_id": held["id"], "printer_id": "shelve"})
        assert "shelf" in unknown.value.message and "ship" in unknown.value.message


async def test_a_job_is_reprinted_on_another_printer_redrawn_when_its_model_differs(tmp_path: Path) -> None:
    settings = configured(tmp_path / "state", tmp_path,
                          printer_table("shelf", "PT-P750W", f"file://{tmp_path}/shelf.prn", "12mm"),
                          printer_table("wide", "PT-P750W", f"file://{tmp_path}/wide.prn", "24mm"),
                          printer_table("ship", "QL-820NWB", f"file://{tmp_path}/ship.prn", "62mm"))
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        ids = {p["name"]: p["id"] for p in await rpc.call("printer.list")}
        first = await rpc.call("print.submit", _text("asset 7", "shelf"))
        await wait_job(rpc, first["id"], ("completed",))
        with pytest.raises(RpcError) as other_tape:  # the same model, another tape: not byte for byte either
            await rpc.call("job.reprint", {"job_id": first["id"], "printer_id": "wide"})
        assert other_tape.value.code == -32003 and "24mm" in other_tape.value.message
        assert "rerender=true" in other_tape.value.message
        await wait_job(rpc, first["id"], ("completed",))
        with pytest.raises(RpcError) as bytes_only:  # a PT raster on a QL head: refused, with the fix
            await rpc.call("job.reprint", {"job_id": first["id"], "printer_id": "ship"})
        assert bytes_only.value.code == -32003 and "rerender=true" in bytes_only.value.message
        copy = await rpc.call("job.reprint", {"job_id": first["id"], "printer_id": "ship", "rerender": True})
        assert copy["printer_id"] == ids["ship"] and copy["origin_job_id"] == first["id"] and copy["media"] == "62mm"
        await wait_job(rpc, copy["id"], ("completed",))
        assert (tmp_path / "ship.prn").stat().st_size > 0


def _lab_and_spare(tmp_path: Path, lab: Simulator) -> Settings:
    """Two PT-P750W with 12 mm tape: "lab", a network printer with SNMP (the simulator), and "spare", a file."""
    _, port = lab.tcp_address
    return configured(tmp_path / "state", tmp_path, printer_table(
        "lab", "PT-P750W", f"tcp://127.0.0.1:{port}", "12mm", poll_interval_s=0.2, busy_poll_interval_s=0.05,
        snmp={"host": "127.0.0.1", "port": lab.snmp_port, "timeout": 0.5}),
        printer_table("spare", "PT-P750W", f"file://{tmp_path}/spare.prn", "12mm"))


async def test_a_job_stopped_for_its_printer_moves_to_another_and_prints_there(tmp_path: Path) -> None:
    async with (Simulator("PT-P750W", "12mm", out_dir=tmp_path / "lab", speed=None) as lab,
                running(_lab_and_spare(tmp_path, lab)) as app,
                RpcClient(socket_path=str(app.settings.socket_path)) as rpc):
        lab.printer.update(cover_open=True)
        await app.printers[0].monitor.probe_now()
        job = await rpc.call("print.submit", _text("lid open", "lab"))
        await wait_job(rpc, job["id"], ("stopped",))
        moved = await rpc.call("job.move", {"job_id": job["id"], "printer_id": "spare"})
        assert moved["state"] == "pending" and moved["reasons"] == []  # the cover was the lab's
        await wait_job(rpc, job["id"], ("completed",))
        lab.printer.update(cover_open=False)
        await app.printers[0].monitor.probe_now()
        later = await rpc.call("print.submit", _text("lid closed", "lab"))
        await wait_job(rpc, later["id"], ("completed",))  # the lab's worker let the moved job go
        assert lab.printer.jobs_received == 1  # only the later one: the moved job never reached it


@pytest.mark.parametrize("action", ["job.move", "job.cancel"])
async def test_a_job_stopped_before_sending_that_is_moved_or_canceled_lets_the_next_go_at_once(
        tmp_path: Path, action: str) -> None:
    async with (Simulator("PT-P750W", "12mm", out_dir=tmp_path / "lab", speed=None) as lab,
                running(_lab_and_spare(tmp_path, lab)) as app,
                RpcClient(socket_path=str(app.settings.socket_path)) as rpc):
        monitor = app.printers[0].monitor
        stuck = await rpc.call("print.submit", _text("drawn for 12 mm", "lab", hold=True))
        lab.printer.update(tape="24mm")
        await monitor.probe_now()
        await rpc.call("job.release", {"job_id": stuck["id"]})
        await wait_job(rpc, stuck["id"], ("stopped",))
        monitor.interval = 30.0  # nothing about the printer changes for a long while
        await asyncio.sleep(0.5)
        behind = await rpc.call("print.submit", _text("drawn for 24 mm", "lab"))
        assert behind["waiting"]["behind_job_id"] == stuck["id"]
        await rpc.call(action, {"job_id": stuck["id"], **({"printer_id": "spare"} if action == "job.move" else {})})
        # the lab's worker lets the stuck job go when told, not at the next status change (30 s away)
        await wait_job(rpc, behind["id"], ("completed",), timeout=5)
        assert lab.printer.jobs_received == 1


async def test_a_worker_cannot_take_a_job_that_was_moved_from_its_printer(db: Database) -> None:
    from appliance.store import printers as printer_store

    await printer_store.upsert(db, [{"id": p, "name": p, "model": "PT-P750W", "uri": f"virtual://{p}",
                                     "media": "12mm"} for p in ("p1", "p2")])
    new = jobs.NewJob(printer_id="p1", state="pending", template="text", template_version=1, fields={},
                      copies=1, media="12mm", length_mm=30.0, raster=b"raster", preview=b"png")
    row = await jobs.insert(db, new, [])
    moved = await jobs.move(db, row["id"], from_printer="p1", to_printer="p2", redrawn=None)
    assert moved is not None and moved["printer_id"] == "p2"
    # p1's worker read the job before the move and now tries to send it: refused, nothing written
    assert await jobs.transition(db, row["id"], allowed_from=("pending",), to="processing", printer_id="p1") is None
    assert await jobs.move(db, row["id"], from_printer="p1", to_printer="p2", redrawn=None) is None
    taken = await jobs.transition(db, row["id"], allowed_from=("pending",), to="processing", printer_id="p2")
    assert taken is not None and taken["state"] == "processing"


async def test_a_job_moved_while_its_old_printer_connects_is_not_sent_there(tmp_path: Path) -> None:
    import asyncio

    settings = configured(tmp_path / "state", tmp_path,
                          printer_table("shelf", "PT-P750W", f"file://{tmp_path}/shelf.prn", "12mm"),
                          printer_table("spare", "PT-P750W", f"file://{tmp_path}/spare.prn", "12mm"))
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        shelf = next(p for p in app.printers if p.name == "shelf")
        connecting, go_on = asyncio.Event(), asyncio.Event()
        real = shelf.transport

        def slow_to_connect():  # type: ignore[no-untyped-def]
            transport = real()
            connect = transport.connect

            async def gated() -> None:  # the worker has read the job and is opening the way to the printer
                connecting.set()
                await go_on.wait()
                await connect()

            transport.connect = gated  # type: ignore[method-assign]
            return transport

        shelf.transport = slow_to_connect  # type: ignore[method-assign]
        job = await rpc.call("print.submit", _text("moved mid-connect", "shelf"))
        await asyncio.wait_for(connecting.wait(), 10)
        await rpc.call("printer.pause", {"printer_id": "spare"})  # so the moved job is still pending there …
        moved = await rpc.call("job.move", {"job_id": job["id"], "printer_id": "spare"})
        assert moved["printer_name"] == "spare"
        go_on.set()  # … when shelf's worker connects, with the job it read before the move
        await asyncio.sleep(0.3)
        assert (await rpc.call("job.get", {"job_id": job["id"]}))["state"] == "pending"
        await rpc.call("printer.resume", {"printer_id": "spare"})
        done = await wait_job(rpc, job["id"], ("completed",))
        assert done["printer_id"] == moved["printer_id"] and done["attempts"] == 1
        await asyncio.sleep(0.3)
        shelf_file = tmp_path / "shelf.prn"
        assert not shelf_file.exists() or shelf_file.stat().st_size == 0  # nothing was sent to shelf
        assert (tmp_path / "spare.prn").stat().st_size > 0


async def test_a_job_whose_template_changed_since_cannot_be_drawn_again_and_says_what_to_do(tmp_path: Path) -> None:
    first = ('title = "Tag"\n[fields.code]\ntype = "string"\nrequired = true\n'
             '[[layout]]\ntype = "text"\ntext = "{code}"\n')
    later = first + '[fields.owner]\ntype = "string"\nrequired = true\n'  # a new required field
    settings = configured(tmp_path / "state", tmp_path,
                          printer_table("shelf", "PT-P750W", f"file://{tmp_path}/shelf.prn", "12mm"),
                          printer_table("ship", "QL-820NWB", f"file://{tmp_path}/ship.prn", "62mm"))
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        await rpc.call("template.put", {"name": "tag", "definition": first})
        job = await rpc.call("print.submit", {"template": "tag", "fields": {"code": "T-1"}, "printer_id": "shelf",
                                              "hold": True})
        await rpc.call("template.put", {"name": "tag", "definition": later})
        with pytest.raises(RpcError) as moving:  # to a QL it must be drawn again, and the template wants more
            await rpc.call("job.move", {"job_id": job["id"], "printer_id": "ship"})
        said = moving.value
        assert said.code == -32003 and said.data["field"] == "printer_id" and "fields.owner" in said.message
        assert "move it to a printer of the same model" in said.message
        assert (await rpc.call("job.get", {"job_id": job["id"]}))["printer_name"] == "shelf"  # left as it was
        with pytest.raises(RpcError) as reprinting:
            await rpc.call("job.reprint", {"job_id": job["id"], "rerender": True})
        assert reprinting.value.data["field"] == "rerender" and "byte for byte" in reprinting.value.message
